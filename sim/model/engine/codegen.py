"""The code mypyc needs written out about the lead record, generated from its one declaration.

:data:`sim.eventlog.LEAD_RECORD` declares the lead record's columns: name, storage type, and where
the value comes from. Most of what depends on it is derived at import (``LEAD_FIELDS``,
``LEAD_STRUCT``, …), but not the code that makes writing a record cheap in the compiled build,
which mypyc must see spelled out: a writer attribute per column, :meth:`LeadRecords.add
<sim.eventlog.LeadRecords.add>` with one typed parameter per column and one write each,
:meth:`Lead.record_to <sim.model.leads.Lead.record_to>` passing each value, and the lead's times
as fields of its C layout. This module writes that code into the source files, each piece
between two comments::

    # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (BLOCK); do not edit ---
    ...
    # --- end generated ---

Run it from the repository's root::

    python -m sim.model.engine.codegen            # rewrite the blocks
    python -m sim.model.engine.codegen --check    # exit 1, naming each block that is out of date

It is a developer's tool: nothing in the simulation imports it (``tests/test_lead_record.py``
checks that, and that every block is current).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sim.eventlog import LEAD_RECORD, STORAGE_DTYPES, RecordField

WIDTH = 120
"""The project's line length (``[tool.ruff] line-length``)."""

MARKER = "# --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen ({block}); do not edit ---"
END_MARKER = "# --- end generated ---"
_BEGIN = re.compile(r"^(?P<indent>[ ]*)" + re.escape(MARKER).replace(re.escape("{block}"), r"(?P<block>[^()]+)") + "$")
_END = re.compile(r"^[ ]*" + re.escape(END_MARKER) + "$")

PARAMETER_TYPES = {"i64": "i64", "i32": "i32", "i16": "i16", "i8": "int", "f64": "float"}
"""The annotation of a parameter holding a column of each storage type. There is no 8-bit type in
``mypy_extensions``: an ``i8`` is an ``int``, range-checked before it is written."""


class CodegenError(Exception):
    """The declaration or a source file is not as the generator needs it."""


# --------------------------------------------------------------------------- the declaration


def validate(record: Sequence[RecordField]) -> None:
    """Refuse a declaration the generated code could not follow, naming the field."""
    seen: set[str] = set()
    for f in record:
        where = f"LEAD_RECORD field {f.name!r}"
        if not f.name.isidentifier() or f.name in seen:
            raise CodegenError(f"{where}: a column's name must be an identifier used once")
        seen.add(f.name)
        if f.storage not in STORAGE_DTYPES:
            raise CodegenError(f"{where}: storage must be one of {', '.join(STORAGE_DTYPES)}")
        if bool(f.from_lead) == f.argument:
            raise CodegenError(f"{where}: give either from_lead (a Lead attribute) or argument=True")
        if f.from_lead and not f.from_lead.isidentifier():
            raise CodegenError(f"{where}: from_lead must be an attribute name")
        if f.default is not None and not f.argument:
            raise CodegenError(f"{where}: only an argument of record_to has a default")
        if f.lead_time and (f.storage != "f64" or not f.from_lead):
            raise CodegenError(f"{where}: a lead_time is an f64 read from the Lead (from_lead)")
        if f.starts_nan and not f.lead_time:
            raise CodegenError(f"{where}: starts_nan is for a lead_time")
    arguments = [f.name for f in record if f.argument]
    if "records" in arguments or "self" in arguments:
        raise CodegenError("LEAD_RECORD: an argument of record_to may not be called 'records' or 'self'")


def _literal(value: float) -> str:
    """A default as source text in ``sim/model/leads.py`` (NaN is its ``Final`` ``_NAN``)."""
    if isinstance(value, float) and math.isnan(value):
        return "_NAN"
    return repr(value)


def _wrap(head: str, items: Sequence[str], tail: str, indent: str, hang: str) -> list[str]:
    """``head``, the ``items`` separated by commas and ``tail`` as lines of at most ``WIDTH``
    characters: the first starts with ``indent``, the next ones with ``hang``."""
    tokens = [f"{item}," for item in items[:-1]] + [f"{items[-1]}{tail}"]
    lines: list[str] = []
    line, empty = indent + head, True
    for token in tokens:
        candidate = line + token if empty else f"{line} {token}"
        if not empty and len(candidate) > WIDTH:
            lines.append(line)
            candidate = hang + token
        line, empty = candidate, False
    lines.append(line)
    return lines


# --------------------------------------------------------------------------- the blocks


def _slots(record: Sequence[RecordField], indent: str) -> list[str]:
    """``LeadRecords.__slots__``: the column writers' names (``<column>_w``)."""
    return _wrap("", [f'"{f.name}_w"' for f in record], ",", indent, indent)


def _writers(record: Sequence[RecordField], indent: str) -> list[str]:
    """``LeadRecords.__init__``: one attribute per column writer, from ``self.writers``."""
    return _wrap("(", [f"self.{f.name}_w" for f in record], ") = self.writers", indent, indent + " ")


def _add(record: Sequence[RecordField], indent: str) -> list[str]:
    """``LeadRecords.add``: a parameter per column; compiled, a write per column to its writer, in
    Python one ``struct`` packing of the row."""
    body = indent + " " * 4
    parameters = [f"{f.name}: {PARAMETER_TYPES[f.storage]}" for f in record]
    lines = _wrap("def add(self, ", parameters, ") -> None:", indent, indent + " " * 8)
    lines += [
        f'{body}"""Write one record, its fields given one by one in ``LEAD_FIELDS`` order (a value that',
        f'{body}does not fit its column raises before anything is written)."""',
        f"{body}if _COMPILED:",
    ]
    for f in record:
        if f.storage == "i8":
            lines += [f"{body}    if not -128 <= {f.name} <= 127:",
                      f'{body}        raise OverflowError(f"lead record: {f.name} {{{f.name}}} does not fit its 8-bit '
                      f'column")']
    for f in record:
        if f.storage == "i8":
            lines.append(f"{body}    self.{f.name}_w.append({f.name} & 0xFF)")
        else:
            lines.append(f"{body}    write_{f.storage}_le(self.{f.name}_w, {f.name})")
    lines += [
        f"{body}else:",
        f"{body}    if not self.rows:",
        f"{body}        self.rows = bytearray(_FLUSH_RECORDS * LEAD_RECORD_BYTES)",
    ]
    head = "self.pack_into("
    lines += _wrap(head, ["self.rows", "self.pending * LEAD_RECORD_BYTES", *(f.name for f in record)], ")",
                   body + " " * 4, body + " " * (4 + len(head)))
    lines += [
        f"{body}self.pending += 1",
        f"{body}if self.pending >= _FLUSH_RECORDS:",
        f"{body}    self.flush()",
    ]
    return lines


def _lead_times(record: Sequence[RecordField], indent: str) -> list[str]:
    """The ``Lead`` class body: the times it carries for its record, as floats (among its floats)."""
    return [f"{indent}{f.from_lead}: float" for f in record if f.lead_time]


def _lead_init(record: Sequence[RecordField], indent: str) -> list[str]:
    """``Lead.__init__``: the times that start as NaN ("not yet")."""
    return [f"{indent}self.{f.from_lead} = _NAN" for f in record if f.starts_nan]


def _record_to(record: Sequence[RecordField], indent: str) -> list[str]:
    """``Lead.record_to``: the arguments (required ones first), and the call of ``records.add``
    with each column's value."""
    arguments = [f for f in record if f.argument]
    parameters = ["records: LeadRecords"]
    parameters += [f"{f.name}: {PARAMETER_TYPES[f.storage]}" for f in arguments if f.default is None]
    parameters += [f"{f.name}: {PARAMETER_TYPES[f.storage]} = {_literal(f.default)}"
                   for f in arguments if f.default is not None]
    head = "def record_to(self, "
    lines = _wrap(head, parameters, ") -> None:", indent, indent + " " * len("def record_to("))
    body = indent + " " * 4
    lines += [
        f'{body}"""Write the lead\'s record (``sim.eventlog.LEAD_RECORD``) to ``records``, field by field',
        f"{body}(:meth:`~sim.eventlog.LeadRecords.add`: no tuple in between, and in the compiled build no",
        f'{body}Python object either)."""',
        f"{body}records.add(",
    ]
    values = [f"self.{f.from_lead}" if f.from_lead else f.name for f in record]
    lines += _wrap("", values, ",", body + " " * 4, body + " " * 4)
    lines.append(f"{body})")
    return lines


Generator = Callable[[Sequence[RecordField], str], list[str]]

BLOCKS: dict[str, dict[str, tuple[str, Generator]]] = {
    "sim/eventlog.py": {
        "__slots__": ("LeadRecords.__slots__", _slots),
        "writers": ("LeadRecords.__init__", _writers),
        "add": ("LeadRecords.add", _add),
    },
    "sim/model/leads.py": {
        "times": ("the Lead class body", _lead_times),
        "__init__": ("Lead.__init__", _lead_init),
        "record_to": ("Lead.record_to", _record_to),
    },
}
"""The generated blocks: source file (from the repository's root) → block name (as its marker
says it) → (where it is, its generator)."""


# --------------------------------------------------------------------------- the files


def regenerate(text: str, blocks: dict[str, tuple[str, Generator]], record: Sequence[RecordField] = LEAD_RECORD,
               path: str = "<text>") -> tuple[str, list[tuple[int, str]]]:
    """``text`` with every generated block written anew from ``record``, and the blocks whose
    content changed (the line of their marker, their name).

    Raises
    ------
    CodegenError
        For a block without its end marker, a block name the generator does not know, or one it
        does not find.
    """
    lines = text.split("\n")
    out: list[str] = []
    changed: list[tuple[int, str]] = []
    found: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        begin = _BEGIN.match(line)
        if begin is None:
            continue
        name = begin["block"]
        if name not in blocks:
            raise CodegenError(f"{path}:{i}: unknown generated block ({name}); this file has {', '.join(blocks)}")
        if name in found:
            raise CodegenError(f"{path}:{i}: generated block ({name}) appears twice")
        found.add(name)
        end = next((j for j in range(i, len(lines)) if _END.match(lines[j]) or _BEGIN.match(lines[j])), None)
        if end is None or not _END.match(lines[end]):
            raise CodegenError(f"{path}:{i}: generated block ({name}) has no {END_MARKER!r} line after it")
        new = blocks[name][1](record, begin["indent"])
        if lines[i:end] != new:
            changed.append((i, name))
        out.extend(new)
        i = end
    missing = [f"({name}) in {where}" for name, (where, _) in blocks.items() if name not in found]
    if missing:
        raise CodegenError(f"{path}: no generated block {', '.join(missing)}: its marker comments are missing")
    return "\n".join(out), changed


def default_root() -> Path:
    """The folder holding the ``sim`` package this module belongs to (the repository's root in a
    checkout)."""
    return Path(__file__).resolve().parents[3]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.model.engine.codegen", description=(
        "Write the code generated from sim.eventlog.LEAD_RECORD into its blocks in the sources."))
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 naming each block that is out of date")
    parser.add_argument("--root", type=Path, default=None,
                        help="the folder holding the sim package (default: this module's)")
    args = parser.parse_args(argv)
    root: Path = args.root or default_root()
    try:
        validate(LEAD_RECORD)
        results = []
        for relative, blocks in BLOCKS.items():
            path = root / relative
            text = path.read_text(encoding="utf-8")
            new, changed = regenerate(text, blocks, LEAD_RECORD, relative)
            results.append((path, relative, text, new, changed))
    except (CodegenError, OSError) as error:
        print(f"codegen: {error}", file=sys.stderr)
        return 1 if args.check else 2
    stale = [(relative, line, name) for _, relative, _, _, changed in results for line, name in changed]
    if args.check:
        for relative, line, name in stale:
            where = BLOCKS[relative][name][0]
            print(f"{relative}:{line}: generated block ({name}), {where}, is out of date with "
                  f"sim.eventlog.LEAD_RECORD: run python -m sim.model.engine.codegen", file=sys.stderr)
        return 1 if stale else 0
    for path, relative, text, new, changed in results:
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"codegen: rewrote {relative} ({', '.join(name for _, name in changed)})")
    if not stale:
        print("codegen: every generated block is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
