"""What the scenario files say about their values: where each was written, its comment, and
whether it is marked ``# ASSUMPTION``.

A scenario's numbers are only as good as their sources. The shipped files cite a source in a
comment beside a figure (``# see docs/background/default-figures.md#churn``) or mark it
``# ASSUMPTION`` — on its line, or in a comment line just above a block, which then marks every
value of the block. This module reads those comments back from a loaded
:class:`~sim.scenario.yamlio.Document` (its source map says where every value was written, so a
scenario that ``extends:`` another gets its base's comments):

* :func:`assumption_paths` — the values marked ``# ASSUMPTION`` (what ``salesim sensitivity
  --assumptions`` varies);
* :func:`source_notes` — for every value, its file and line, its comment, and the mark, as plain
  JSON-ready data that a results folder keeps beside the resolved scenario (the report lists
  the assumptions a result rests on from it, after the files may have changed or gone).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.scenario.yamlio import Document, PathTuple, ScenarioError, apply_overrides, load_document

__all__ = ["ASSUMPTION", "SOURCE_NOTES_VERSION", "assumption_paths", "read_source_notes", "source_notes"]

ASSUMPTION = re.compile(r"#.*\bASSUMPTION\b")
"""A comment that marks a value (on its line) or a block (a comment line above it) as an assumption."""

SOURCE_NOTES_VERSION = 1

_MAX_NOTE = 400
"""Longest comment kept for a value (characters); longer ones are cut with an ellipsis."""


def _lines_of(files: Sequence[str]) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for file in files:
        try:
            texts[file] = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def _header_end(lines: list[str]) -> int:
    """How many lines the file's header takes: the comment lines (and blank lines) it starts with."""
    n = 0
    while n < len(lines) and (not lines[n].strip() or lines[n].strip().startswith("#")):
        n += 1
    return n


def _marks(lines: list[str]) -> set[int]:
    """Lines marked ``# ASSUMPTION``: a value's own line (positive), or — for a comment line — the
    first line of the block that follows it (negative: everything under that key is marked). The
    file's header (the comments it starts with) marks nothing: it speaks of the whole file."""
    marked: set[int] = set()
    header = _header_end(lines)
    for i, line in enumerate(lines, start=1):
        if i <= header or not ASSUMPTION.search(line):
            continue
        if line.strip().startswith("#"):  # a comment line: the block that follows
            j = i
            while j < len(lines) and (not lines[j].strip() or lines[j].strip().startswith("#")):
                j += 1
            marked.add(-(j + 1))
        else:
            marked.add(i)
    return marked


def assumption_paths(document: Document, texts: dict[str, list[str]] | None = None) -> list[PathTuple]:
    """Paths of the document's values marked ``# ASSUMPTION`` — on their own line, or inside a block
    whose key follows a comment line that says ASSUMPTION — in source-map order. List items are
    included (with their integer index); values set by ``--set`` are not (they have no line)."""
    texts = _lines_of(document.files) if texts is None else texts
    marked_lines = {file: _marks(lines) for file, lines in texts.items()}
    block_roots = [path for path, (file, line) in document.source_map.items()
                   if line is not None and -line in marked_lines.get(file, set())]
    found = []
    for path, (file, line) in document.source_map.items():
        inside = any(path[:len(root)] == root for root in block_roots)
        if inside or (line is not None and line in marked_lines.get(file, set())):
            found.append(path)
    return found


def _inline_comment(line: str) -> str:
    """The comment at the end of a YAML line (``#`` after a blank, outside quotes), or ``""``."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[i + 1:].strip()
    return ""


def _comment_above(lines: list[str], line: int) -> str:
    """The comment lines directly above ``line`` (1-based), joined; none for a file's header (a
    comment block that starts on the first line)."""
    i = line - 2
    found: list[str] = []
    while i >= 0 and lines[i].strip().startswith("#"):
        found.append(lines[i].strip().lstrip("#").strip())
        i -= 1
    if not found or i < 0:
        return ""
    return " ".join(reversed(found))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_NOTE else text[:_MAX_NOTE - 1].rstrip() + "…"


def _sha256(file: str) -> str | None:
    try:
        return hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError:
        return None


def source_notes(document: Document, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Where each value of ``document`` was written, with its comment and assumption mark.

    Returns
    -------
    dict
        JSON-ready: ``file`` (the top file as named), ``files`` (each file read, with its SHA-256),
        ``overrides`` (the ``--set`` texts), and ``values``: dotted path → ``{"file", "line",
        "note", "assumption"}`` for every value that is not a list item. ``note`` is the value's
        comment — on its line, else the comment lines just above it, else its block's (the comment
        above the nearest enclosing key that has one); ``line`` is None and ``file`` ``"--set"``
        for a value given on the command line.
    """
    texts = _lines_of(document.files)
    marked = set(assumption_paths(document, texts))
    own: dict[PathTuple, str] = {}
    above: dict[PathTuple, str] = {}
    for path, (file, line) in document.source_map.items():
        lines = texts.get(file)
        if line is None or lines is None or not 0 < line <= len(lines):
            continue
        own[path] = _inline_comment(lines[line - 1])
        above[path] = _comment_above(lines, line)
    values: dict[str, dict[str, Any]] = {}
    for path, (file, line) in document.source_map.items():
        if any(isinstance(p, int) for p in path):
            continue
        note = own.get(path) or above.get(path, "")
        for k in range(len(path) - 1, 0, -1):
            if note:
                break
            note = above.get(path[:k], "")
        values[".".join(map(str, path))] = {"file": file, "line": line, "note": _short(note),
                                            "assumption": path in marked}
    return {
        "salesim_source_notes": SOURCE_NOTES_VERSION,
        "file": document.file,
        "files": [{"path": f, "absolute": os.path.abspath(f), "sha256": _sha256(f)} for f in document.files],
        "overrides": list(overrides) or list(dict.fromkeys(
            file.removeprefix("--set ") for file, _ in document.source_map.values() if file.startswith("--set "))),
        "values": values,
    }


def read_source_notes(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> dict[str, Any] | None:
    """:func:`source_notes` of a scenario file with its ``--set`` overrides; None when the file
    cannot be read as a scenario document (the caller has reported that already)."""
    try:
        document = load_document(path)
        if overrides:
            document = apply_overrides(document, list(overrides))
    except ScenarioError:
        return None
    return source_notes(document, overrides)
