"""``mapping.yaml``: how another CRM's export maps onto the canonical tables.

This module owns the mapping file: per table, the file it is read from, which of the file's
columns holds each canonical column, and how values of choice columns (lead status, lead
source, call outcome, activity type) and of opportunity stages map onto the canonical words of
:mod:`sim.calibration.crmformat`. Example (a HubSpot export)::

    tables:
      leads:
        file: contacts.csv
        columns: {lead_id: Record ID, created_at: Create Date, status: Lead Status}
        values:
          status: {NEW: open, UNQUALIFIED: disqualified, SALES_QUALIFIED: qualified}
      opportunity_stages:
        file: deal_stage_history.csv
        values:
          stage: {appointmentscheduled: discovery, closedwon: closed_won, closedlost: closed_lost}
    time_format: "%m/%d/%Y %H:%M"     # optional; default: ISO 8601

A table without an entry is read from ``<table>.csv`` with the canonical column names. A value
map, where given, must name every value the column holds: a value it does not know is a problem
reported with its file, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.calibration.crmformat import TABLES


@dataclass(frozen=True)
class TableMapping:
    """Where a canonical table comes from: its file, canonical → file column names, value maps."""

    file: str
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def file_column(self, canonical: str) -> str:
        """The file's name for a canonical column."""
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Mapping:
    """A whole mapping: one :class:`TableMapping` per canonical table, and the time format."""

    tables: dict[str, TableMapping]
    time_format: str | None = None


def default_mapping() -> Mapping:
    """The identity mapping: ``<table>.csv`` with canonical columns and values."""
    return Mapping({name: TableMapping(f"{name}.csv") for name in TABLES})


def parse_mapping(data: Any) -> tuple[Mapping, list[str]]:
    """A mapping from the plain data of ``mapping.yaml``, and its problems as messages (each led
    by the key it is about)."""
    problems: list[str] = []
    if data is None:
        return default_mapping(), problems
    if not isinstance(data, dict):
        return default_mapping(), [f"expected a mapping with 'tables:' (got {type(data).__name__})"]
    unknown = set(data) - {"tables", "time_format"}
    problems += [f"{key}: unknown key (expected tables, time_format)" for key in sorted(unknown)]
    tables = dict(default_mapping().tables)
    for name, spec in (data.get("tables") or {}).items():
        where = f"tables.{name}"
        if name not in TABLES:
            problems.append(f"{where}: unknown table (expected one of {', '.join(TABLES)})")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where}: expected file, columns and values")
            continue
        known = {c.name for c in TABLES[name]}
        columns = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
        problems += [f"{where}.columns.{k}: not a column of {name} (expected one of {', '.join(sorted(known))})"
                     for k in columns if k not in known]
        values = {str(k): {str(a): str(b) for a, b in (v or {}).items()} for k, v in (spec.get("values") or {}).items()}
        problems += [f"{where}.values.{k}: not a column of {name}" for k in values if k not in known]
        tables[name] = TableMapping(str(spec.get("file") or f"{name}.csv"), columns, values)
    time_format = data.get("time_format")
    return Mapping(tables, None if time_format is None else str(time_format)), problems


def load_mapping(path: Path) -> tuple[Mapping, list[str]]:
    """Read ``mapping.yaml`` (the identity mapping when the file does not exist)."""
    import yaml

    if not path.exists():
        return default_mapping(), []
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return default_mapping(), [f"not valid YAML: {exc}"]
    return parse_mapping(data)
