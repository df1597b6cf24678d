"""Writing a calibration: the fitted scenario (values with their evidence as comments) and
``calibration_report.md``.

This module owns the output side of ``salesim calibrate``. The fitted scenario is the base
scenario's data (``extends`` resolved) with each fitted value put in place, written as plain YAML
by a small emitter that keeps a comment beside every fitted value — its 95% interval, sample
size and method — and a header listing what was fitted and what was kept. The text is validated
as a scenario before anything is written, and files are replaced atomically.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from sim.calibration.estimates import Calibration, Fitted

_FLOW_MAX = 100
"""Longest line of a mapping or list written inline."""


def fitted_data(base: dict[str, Any] | None, cal: Calibration) -> dict[str, Any]:
    """The base scenario's data with every fitted value in place (a fragment without a base)."""
    data = copy.deepcopy(base) if base is not None else {}
    for f in cal.fitted:
        keys = f.path.split(".")
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = f.value
    return data


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
        return repr(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return json.dumps(str(value), ensure_ascii=False)


def _key(key: Any) -> str:
    text = str(key)
    return text if text.replace("_", "").isalnum() and not text[0].isdigit() else json.dumps(text)


def _flow(value: Any) -> str | None:
    """``value`` on one line, when it is flat enough."""
    if isinstance(value, dict):
        if any(isinstance(v, dict) for v in value.values()):
            return None
        parts = []
        for k, v in value.items():
            inner = _flow(v) if isinstance(v, list) else _scalar(v)
            if inner is None:
                return None
            parts.append(f"{_key(k)}: {inner}")
        text = "{" + ", ".join(parts) + "}"
    elif isinstance(value, list):
        items = [(_flow(v) if isinstance(v, list | dict) else _scalar(v)) for v in value]
        if any(i is None for i in items):
            return None
        text = "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    else:
        return _scalar(value)
    return text if len(text) <= _FLOW_MAX else None


def emit(data: Any, comments: dict[str, str], path: str = "", indent: int = 0) -> list[str]:
    """YAML lines of ``data``; ``comments`` maps dotted paths to a comment for that value's line."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            here = f"{path}.{k}" if path else str(k)
            note = f"  # {comments[here]}" if here in comments else ""
            flat = _flow(v) if not isinstance(v, dict) or "dist" in v or "profile" in v or here in comments else None
            if flat is not None and (not isinstance(v, dict | list) or v):
                lines.append(f"{pad}{_key(k)}: {flat}{note}")
            elif isinstance(v, dict | list) and not v:
                lines.append(f"{pad}{_key(k)}: {'{}' if isinstance(v, dict) else '[]'}{note}")
            else:
                lines.append(f"{pad}{_key(k)}:{note}")
                lines += emit(v, comments, here, indent + 2)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            flat = _flow(v)
            if flat is not None:
                lines.append(f"{pad}- {flat}")
            else:
                inner = emit(v, comments, f"{path}.{i}", indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
    else:
        lines.append(f"{pad}{_scalar(data)}")
    return lines


def scenario_text(base: dict[str, Any] | None, base_file: str | None, data_folder: str, cal: Calibration) -> str:
    """The fitted scenario as YAML text, with its header and a comment beside each fitted value."""
    header = [f"# Fitted by `salesim calibrate` from {data_folder}"
              + (f", over the base scenario {base_file}." if base_file else "."),
              "# Each fitted value carries its estimate, 95% interval, sample size and method.",
              "# Values the data could not support keep the base's:"]
    header += [f"#   {k.path}: {k.reason}" for k in cal.kept] or ["#   (none)"]
    if base is None:
        header.append("# Without a base scenario this file holds the fitted values only: merge them into a scenario.")
    data = fitted_data(base, cal)
    if base is not None:
        data["name"] = f"{data.get('name', 'scenario')}_fitted"
        data.pop("description", None)
    return "\n".join([*header, *emit(data, {f.path: f.comment() for f in cal.fitted})]) + "\n"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a scenario is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _row(f: Fitted) -> str:
    value = json.dumps(f.value) if isinstance(f.value, dict | list) else f"{f.value}"
    return (f"| `{f.path}` | {value} | {f.quantity or 'value'} {f.estimate:.4g} "
            f"[{f.low:.4g}, {f.high:.4g}] | {f.n} {f.unit} | {f.method} |")


def report_text(cal: Calibration, data_folder: str, base_file: str | None, out_file: str, seconds: float,
                figures: list[str] | None = None) -> str:
    """``calibration_report.md``: what was fitted, from how much data, what was kept, the tables, and
    ``figures`` (file names beside the report)."""
    lines = [f"# Calibration report: {out_file}", "",
             f"Export: `{data_folder}`; base scenario: `{base_file or '(none)'}`; fitted in {seconds:.1f} s.", "",
             "## Fitted values", "", "| path | value | estimate [95% CI] | sample | method |", "|---|---|---|---|---|"]
    lines += [_row(f) for f in cal.fitted]
    lines += ["", "## Kept from the base scenario", ""]
    lines += [f"- `{k.path}`: {k.reason}" for k in cal.kept] or ["(none)"]
    for name, rows in cal.tables.items():
        if not rows:
            continue
        columns = list(rows[0])
        lines += ["", f"## {name.replace('_', ' ').capitalize()}", "", "| " + " | ".join(columns) + " |",
                  "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in columns) + " |" for r in rows]
    lines += ["", "Tenure: a naive mean of the tenures that ended is biased low (people still employed are left "
              "out); the survival fit counts them as censored.", ""]
    extra = [f"- `{f.path}`: Weibull mean {f.extra['mean']:.1f} months; naive mean of ended tenures "
             f"{f.extra['naive_mean']:.1f}" for f in cal.fitted if "naive_mean" in f.extra]
    pictures = ["", "## Figures", ""] + [f"![{name}]({name})" for name in figures] if figures else []
    return "\n".join(lines + extra + pictures) + "\n"
