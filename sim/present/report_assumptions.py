"""The assumptions a result rests on: every scenario value that differs between the compared
scenarios, and every value the files mark ``# ASSUMPTION``, each with where it is written and
the comment the file gives it (kept in the results folder by
:func:`sim.scenario.annotations.source_notes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sim.runs.folders import RunFolder

__all__ = ["assumptions", "note_of", "note_text"]

# --------------------------------------------------------------------------- assumptions


_MISSING = object()
_SKIP = {"name", "description"}


def _show(value: Any, limit: int = 160) -> str:
    if value is _MISSING:
        return "—"
    if isinstance(value, dict) and "dist" in value:
        args = ", ".join(f"{k} {_show(v)}" for k, v in value.items() if k != "dist")
        text = f"{value['dist']} ({args})" if args else str(value["dist"])
    elif isinstance(value, dict):
        text = "none" if not value else "; ".join(f"{k}: {_show(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "none"
    elif isinstance(value, float):
        text = f"{value:.10g}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _is_branch(value: Any) -> bool:
    return isinstance(value, dict) and "dist" not in value


def _differences(values: list[Any], path: tuple[str, ...], out: list[tuple[str, list[Any]]]) -> None:
    if all(v == values[0] for v in values[1:]):
        return
    if all(_is_branch(v) and v for v in values):
        for key in dict.fromkeys(k for v in values for k in v):
            _differences([v.get(key, _MISSING) for v in values], (*path, str(key)), out)
        return
    out.append((".".join(path), values))


def _leaves(data: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    if _is_branch(data) and data:
        found: dict[str, Any] = {}
        for key, value in data.items():
            found.update(_leaves(value, (*path, str(key))))
        return found
    return {".".join(path): data} if path else {}


def note_of(source: dict[str, Any] | None, path: str) -> dict[str, Any] | None:
    """The source note (file, line, comment, mark) of a dotted ``path``, if recorded."""
    if source is None:
        return None
    values = source.get("values") or {}
    return values.get(path)


def _where(note: dict[str, Any] | None, marked_default: bool = False) -> str:
    if note is None:
        return "default (not in the file)" if not marked_default else ""
    file, line = note.get("file", ""), note.get("line")
    if str(file).startswith("--set"):
        return f"command line: {file}"
    return f"{Path(str(file)).name}:{line}" if line else str(file)


_ASSUMPTION_WORD = re.compile(r"^\s*ASSUMPTION\b[:.,;]?\s*")


def note_text(note: dict[str, Any] | None) -> str:
    """A note's comment without a leading ``ASSUMPTION:`` (the table marks assumptions itself)."""
    if not note:
        return ""
    return _ASSUMPTION_WORD.sub("", str(note.get("note") or "")).strip()


def _marked(source: dict[str, Any] | None, leaves: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Leaf paths marked ``# ASSUMPTION`` in ``source`` → their note (the first found)."""
    found: dict[str, dict[str, Any]] = {}
    if source is None:
        return found
    for path, note in (source.get("values") or {}).items():
        if not note.get("assumption"):
            continue
        leaf = path
        while leaf and leaf not in leaves:
            leaf = leaf.rpartition(".")[0]
        if leaf and leaf not in found:
            found[leaf] = note_of(source, leaf) or note
    return found


def assumptions(runs: Sequence[RunFolder]) -> dict[str, Any]:
    """The values a result rests on: those that differ between the scenarios, and those marked as assumptions."""
    data = [r.scenario for r in runs]
    diffs: list[tuple[str, list[Any]]] = []
    if len(runs) > 1:
        for key in dict.fromkeys(k for d in data for k in d):
            if key not in _SKIP:
                _differences([d.get(key, _MISSING) for d in data], (key,), diffs)
    leaves = [_leaves(d) for d in data]
    marked: dict[str, tuple[dict[str, Any], int]] = {}
    for i, run in enumerate(runs):
        for path, note in _marked(run.source, leaves[i]).items():
            marked.setdefault(path, (note, i))
    diff_paths = {p for p, _ in diffs}
    diff_rows = []
    for path, values in diffs:
        notes = [note_of(r.source, path) for r in runs]
        where = []
        for run, note in zip(runs, notes, strict=True):
            text = _where(note)
            comment = note_text(note)
            where.append({"scenario": run.name, "where": text, "note": comment})
        assumed = path in marked or any(n and n.get("assumption") for n in notes)
        diff_rows.append({"path": path, "values": [_show(v) for v in values], "where": where,
                          "assumption": bool(assumed)})
    order = []
    for path, (note, i) in marked.items():
        line = note.get("line") or 0
        files = [f["path"] for f in (runs[i].source or {}).get("files", [])]
        rank = files.index(note.get("file")) if note.get("file") in files else len(files)
        order.append(((-rank, line), path))  # the base file (read last) first: its lines come first
    marked_rows = []
    for _, path in sorted(order):
        note, i = marked[path]
        values = [_show(lv.get(path, _MISSING)) for lv in leaves]
        same = all(v == values[0] for v in values)
        marked_rows.append({"path": path, "values": values, "same": same, "where": _where(note),
                            "note": note_text(note), "differs": path in diff_paths})
    return {"differing": diff_rows, "marked": marked_rows,
            "recorded": [r.name for r in runs if r.source is not None],
            "unrecorded": [r.name for r in runs if r.source is None]}
