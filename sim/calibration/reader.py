"""Reading and validating a CRM export: CSV files + mapping → typed tables, or every problem.

This module owns :func:`read_export`. It reads each table with pandas (all cells as text),
renames columns and maps values through the :mod:`~sim.calibration.mapping`, then checks
everything at once, vectorised: required files, tables and columns; dates, numbers and booleans
that do not parse; values outside a column's choices (a stage the mapping does not know);
duplicate ids; references to unknown leads or opportunities; an opportunity closing before it
opened, a person leaving before starting, an account ending before it started. Problems carry
the file, the row (the CSV line, header = 1) and the column as the file names it; up to
:data:`MAX_PROBLEMS` are listed. Nothing is returned unless the export is clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.crmformat import EXPORT_META, MAPPING_FILE, REQUIRED_TABLES, TABLES, Column
from sim.calibration.mapping import Mapping, TableMapping, load_mapping

MAX_PROBLEMS = 50
"""Problems listed before the rest are only counted."""

_TRUE = frozenset({"true", "yes", "y", "1", "t", "won"})
_FALSE = frozenset({"false", "no", "n", "0", "f", "lost"})


@dataclass(frozen=True)
class ExportProblem:
    """One problem in an export: where (file, CSV line, column as the file names it) and what."""

    file: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.row}" if self.row is not None else "")
        return f"{where}: {self.column + ': ' if self.column else ''}{self.message}"


class ExportError(Exception):
    """An export that cannot be used: every problem found (up to :data:`MAX_PROBLEMS`), and how many."""

    def __init__(self, problems: list[ExportProblem], total: int | None = None) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        self.total = len(problems) if total is None else total
        more = self.total - len(self.problems)
        lines = [str(p) for p in self.problems] + ([f"… and {more} more"] if more > 0 else [])
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CrmExport:
    """A validated export: typed tables (canonical columns; times as ``datetime64``, empty → NaT)
    and the observed period."""

    tables: dict[str, pd.DataFrame]
    observed_from: pd.Timestamp
    observed_to: pd.Timestamp
    folder: str = ""

    def table(self, name: str) -> pd.DataFrame:
        """A table (an empty one with the canonical columns when the export lacks it)."""
        if name in self.tables:
            return self.tables[name]
        return pd.DataFrame({c.name: pd.Series(dtype=object) for c in TABLES[name]})

    def days(self, times: pd.Series) -> np.ndarray:
        """Times → days since ``observed_from`` (NaN for NaT)."""
        delta = (pd.to_datetime(times) - self.observed_from) / pd.Timedelta(days=1)
        return delta.to_numpy(dtype=float, na_value=np.nan)

    @property
    def period_days(self) -> float:
        return (self.observed_to - self.observed_from) / pd.Timedelta(days=1)


class _Collector:
    """Problems, counted in full but kept only up to the limit."""

    def __init__(self) -> None:
        self.problems: list[ExportProblem] = []
        self.total = 0

    def add(self, file: str, row: int | None, column: str, message: str) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(ExportProblem(file, row, column, message))

    def rows(self, file: str, frame: pd.DataFrame, bad: np.ndarray, column: str, message) -> None:
        """A problem per row of ``frame`` where ``bad``; ``message(i)`` words it for row position i."""
        positions = np.flatnonzero(bad)
        room = max(0, MAX_PROBLEMS - len(self.problems))
        for i in positions[:room]:
            self.problems.append(ExportProblem(file, int(frame.index[i]) + 2, column, message(i)))
        self.total += len(positions)


def _parse_times(text: pd.Series, time_format: str | None) -> pd.Series:
    empty = text.str.strip() == ""
    parsed = pd.to_datetime(text.where(~empty), format=time_format or "ISO8601", errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


def _read_table(folder: Path, name: str, spec: TableMapping, mapping: Mapping,
                found: _Collector) -> pd.DataFrame | None:
    path = folder / spec.file
    file = spec.file
    if not path.exists():
        if name in REQUIRED_TABLES:
            found.add(file, None, "", f"missing: the {name} table is required (see docs/guides/calibration.md#format)")
        return None
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        found.add(file, None, "", f"not a readable CSV file: {str(exc).strip()}")
        return None
    if raw.empty and name in REQUIRED_TABLES:
        found.add(file, None, "", f"empty: the {name} table has no rows")
        return None
    out: dict[str, pd.Series] = {}
    for column in TABLES[name]:
        theirs = spec.file_column(column.name)
        if theirs not in raw.columns:
            if column.required:
                found.add(file, 1, theirs, f"missing column (the {name} table needs {column.name!r}"
                          + (f", named {theirs!r} by the mapping)" if theirs != column.name else ")"))
            continue
        out[column.name] = _typed(raw[theirs].str.strip(), column, theirs, file, spec, mapping, raw, found)
    return pd.DataFrame(out, index=raw.index)


def _typed(text: pd.Series, column: Column, theirs: str, file: str, spec: TableMapping, mapping: Mapping,
           raw: pd.DataFrame, found: _Collector) -> pd.Series:
    """A column as its kind, with a problem for each cell that is not one."""
    empty = (text == "").to_numpy()
    if not column.nullable and column.kind != "choice":
        found.rows(file, raw, empty, theirs, lambda i: "empty (a value is required)")
    values = spec.values.get(column.name)
    if values is not None:
        known = text.isin(list(values)) | text.isin(list(values.values())) | (text == "")
        found.rows(file, raw, ~known.to_numpy(), theirs,
                   lambda i: f"{text.iloc[i]!r} is not in the mapping's values for {column.name} "
                             f"(known: {', '.join(sorted(values))})")
        text = text.map(lambda v: values.get(v, v))
    if column.kind == "time":
        parsed = _parse_times(text, mapping.time_format)
        bad = parsed.isna().to_numpy() & ~empty
        found.rows(file, raw, bad, theirs, lambda i: f"{text.iloc[i]!r} is not a date"
                   + (f" (expected {mapping.time_format})" if mapping.time_format else " (expected ISO 8601, "
                      "e.g. 2024-03-05 or 2024-03-05T14:30:00; or set time_format in mapping.yaml)"))
        return parsed
    if column.kind == "number":
        parsed = pd.to_numeric(text.where(~empty), errors="coerce")
        bad = (parsed.isna().to_numpy() & ~empty) | ~np.isfinite(parsed.fillna(0).to_numpy())
        found.rows(file, raw, bad, theirs, lambda i: f"{text.iloc[i]!r} is not a number")
        return parsed.astype(float)
    if column.kind == "bool":
        low = text.str.lower()
        bad = ~(low.isin(_TRUE) | low.isin(_FALSE) | (low == "")).to_numpy()
        found.rows(file, raw, bad, theirs, lambda i: f"{text.iloc[i]!r} is not true or false")
        return low.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None)).astype(object)
    if column.kind == "choice":
        allowed = set(column.choices) | ({""} if column.nullable else set())
        bad = ~text.isin(list(allowed)).to_numpy()
        hint = "" if values is not None else " (map your values in mapping.yaml)"
        found.rows(file, raw, bad, theirs, lambda i: f"{text.iloc[i]!r} is not one of "
                   f"{', '.join(c for c in column.choices if c)}{hint}")
        return text
    if column.unique:
        dup = text.duplicated(keep="first").to_numpy() & ~empty
        found.rows(file, raw, dup, theirs, lambda i: f"duplicate id {text.iloc[i]!r}")
    return text


def _check_order(found: _Collector, spec: TableMapping, table: pd.DataFrame, first: str, last: str,
                 what: str) -> None:
    if first not in table or last not in table:
        return
    bad = (table[last] < table[first]).to_numpy()
    found.rows(spec.file, table, bad, spec.file_column(last),
               lambda i: f"{what} ({table[last].iloc[i]}) before {table[first].iloc[i]}")


def _check_refs(found: _Collector, spec: TableMapping, table: pd.DataFrame, column: str,
                ids: pd.Series | None, target: str) -> None:
    if column not in table or ids is None:
        return
    refs = table[column]
    bad = (~refs.isin(ids) & (refs != "")).to_numpy()
    found.rows(spec.file, table, bad, spec.file_column(column),
               lambda i: f"{refs.iloc[i]!r} is not a {target} of the export")


def _period(folder: Path, tables: dict[str, pd.DataFrame], found: _Collector) -> tuple[pd.Timestamp, pd.Timestamp]:
    import yaml

    meta_path = folder / EXPORT_META
    meta: dict = {}
    if meta_path.exists():
        try:
            meta = yaml.safe_load(meta_path.read_text()) or {}
        except yaml.YAMLError as exc:
            found.add(EXPORT_META, None, "", f"not valid YAML: {exc}")
    times = [t[c] for t in tables.values() for c in t.columns if pd.api.types.is_datetime64_any_dtype(t[c])]
    every = pd.concat(times) if times else pd.Series(dtype="datetime64[ns]")
    leads = tables.get("leads")
    start = leads["created_at"].min() if leads is not None and "created_at" in leads else every.min()
    end = every.max()
    for key in ("observed_from", "observed_to"):
        if key in meta:
            value = pd.to_datetime(str(meta[key]), errors="coerce")
            if pd.isna(value):
                found.add(EXPORT_META, None, key, f"{meta[key]!r} is not a date")
            elif key == "observed_from":
                start = value
            else:
                end = value
    if pd.notna(start) and pd.notna(end) and end <= start:
        found.add(EXPORT_META, None, "observed_to", f"the period ends ({end}) before it starts ({start})")
    return start, end


def read_export(folder: str | Path, mapping_file: str | Path | None = None) -> CrmExport:
    """Read and validate the export in ``folder``.

    Parameters
    ----------
    folder : str or Path
        The folder of CSV files (and optionally ``mapping.yaml`` and ``export.yaml``).
    mapping_file : str or Path, optional
        A mapping elsewhere than ``folder/mapping.yaml``.

    Raises
    ------
    ExportError
        With every problem found (file, row, column), when the export cannot be used.
    """
    folder = Path(folder)
    found = _Collector()
    if not folder.is_dir():
        raise ExportError([ExportProblem(str(folder), None, "", "not a folder (expected a folder of CSV files)")])
    mapping, mapping_problems = load_mapping(Path(mapping_file) if mapping_file else folder / MAPPING_FILE)
    for message in mapping_problems:
        found.add(MAPPING_FILE if mapping_file is None else str(mapping_file), None, "", message)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        table = _read_table(folder, name, mapping.tables[name], mapping, found)
        if table is not None:
            tables[name] = table
    specs = mapping.tables
    for name, first, last, what in (("opportunities", "created_at", "closed_at", "closes"),
                                    ("people", "started_at", "ended_at", "leaves"),
                                    ("accounts", "started_at", "ended_at", "ends")):
        if name in tables:
            _check_order(found, specs[name], tables[name], first, last, what)
    lead_ids = tables["leads"]["lead_id"] if "leads" in tables and "lead_id" in tables["leads"] else None
    opp_ids = (tables["opportunities"]["opportunity_id"]
               if "opportunities" in tables and "opportunity_id" in tables["opportunities"] else None)
    if "activities" in tables:
        _check_refs(found, specs["activities"], tables["activities"], "lead_id", lead_ids, "lead")
    if "opportunity_stages" in tables:
        _check_refs(found, specs["opportunity_stages"], tables["opportunity_stages"], "opportunity_id", opp_ids,
                    "opportunity")
    start, end = _period(folder, tables, found)
    if found.total:
        raise ExportError(found.problems, found.total)
    return CrmExport(tables, start, end, str(folder))
