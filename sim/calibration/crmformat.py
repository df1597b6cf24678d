"""The CRM export format: which tables, which columns, which values.

This module owns the *canonical* shape of a CRM/HR export that :mod:`sim.calibration` reads and
:mod:`sim.calibration.synth` writes (docs/guides/calibration.md#format). An export is a folder of
CSV files, one per table below, with a header row; timestamps are ISO dates or date-times
(``2024-03-05`` or ``2024-03-05T14:30:00``), empty cells mean "none" (an account still active,
a person still employed, a lead never touched). A ``mapping.yaml`` beside the files (or given
with ``--mapping``) renames columns and maps values of other CRMs onto these names
(:mod:`sim.calibration.mapping`); an optional ``export.yaml`` says the observed period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Column:
    """One column of a table: its canonical name, its kind and whether it must be present.

    ``kind`` is one of ``id`` (text, unique in the table when ``unique``), ``ref`` (text naming a
    row of another table, may be empty), ``text``, ``time`` (a date or date-time), ``number``,
    ``bool`` (true/false, yes/no, 1/0) or ``choice`` (one of ``choices``).
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    unique: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


LEAD_STATUSES: Final = ("open", "unreachable", "disqualified", "qualified", "stale", "lost")
"""Where a lead stands: still being worked (``open``), never reached, reached and not a fit,
qualified (an SQL, whatever happened next), dropped untouched (``stale``), lost otherwise."""
LEAD_SOURCES: Final = ("inbound", "outbound")
ACTIVITY_TYPES: Final = ("call", "email", "meeting", "other")
CALL_OUTCOMES: Final = ("connected", "not_connected")
CLOSED_WON: Final = "closed_won"
CLOSED_LOST: Final = "closed_lost"

TABLES: Final[dict[str, tuple[Column, ...]]] = {
    "leads": (
        Column("lead_id", "id", unique=True),
        Column("created_at", "time", description="when the lead (MQL or prospect) was created"),
        Column("source", "choice", choices=LEAD_SOURCES),
        Column("segment", "text"),
        Column("owner_id", "ref", nullable=True, required=False, description="development rep (people.person_id)"),
        Column("first_touch_at", "time", nullable=True, description="first call or e-mail; empty: never touched"),
        Column("status", "choice", choices=LEAD_STATUSES),
        Column("qualified_at", "time", nullable=True, required=False, description="became an SQL"),
        Column("opportunity_id", "ref", nullable=True, required=False, description="converted to this opportunity"),
    ),
    "activities": (
        Column("activity_id", "id", unique=True),
        Column("lead_id", "ref"),
        Column("rep_id", "ref", nullable=True, required=False),
        Column("at", "time"),
        Column("type", "choice", choices=ACTIVITY_TYPES),
        Column("outcome", "choice", choices=(*CALL_OUTCOMES, ""), nullable=True,
               description="calls: connected or not_connected"),
    ),
    "opportunities": (
        Column("opportunity_id", "id", unique=True),
        Column("lead_id", "ref", nullable=True, required=False),
        Column("owner_id", "ref", nullable=True, required=False),
        Column("segment", "text"),
        Column("created_at", "time"),
        Column("closed_at", "time", nullable=True, description="empty: still open"),
        Column("won", "bool", nullable=True, description="empty while open"),
        Column("mrr_usd", "number", nullable=True, description="monthly recurring revenue of the deal"),
    ),
    "opportunity_stages": (
        Column("opportunity_id", "ref"),
        Column("stage", "text", description="a stage name (the mapping maps yours onto these)"),
        Column("entered_at", "time"),
    ),
    "accounts": (
        Column("account_id", "id", unique=True),
        Column("opportunity_id", "ref", nullable=True, required=False),
        Column("segment", "text"),
        Column("started_at", "time", description="subscription start"),
        Column("ended_at", "time", nullable=True, description="churned at; empty: still a customer"),
        Column("mrr_usd", "number", description="MRR at the start"),
    ),
    "mrr_changes": (
        Column("account_id", "ref"),
        Column("at", "time"),
        Column("mrr_delta_usd", "number", description="expansion (positive) or contraction (negative)"),
    ),
    "people": (
        Column("person_id", "id", unique=True),
        Column("role", "text", description="the role as the scenario names it (mdr, sdr, ae, csm, …)"),
        Column("team", "text", nullable=True, required=False),
        Column("started_at", "time"),
        Column("ended_at", "time", nullable=True, description="left at; empty: still employed"),
    ),
}
"""Every table of an export, its columns in file order."""

REQUIRED_TABLES: Final = ("leads", "opportunities", "people")
"""Tables an export must have; the others are read when present (and fit what they support)."""

OPTIONAL_TABLES: Final = tuple(t for t in TABLES if t not in REQUIRED_TABLES)
EXPORT_META: Final = "export.yaml"
"""Optional: ``observed_from`` and ``observed_to`` (dates), the period the export covers."""
MAPPING_FILE: Final = "mapping.yaml"
