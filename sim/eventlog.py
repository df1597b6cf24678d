"""Facts emitted by a running world: lead records, account events, workforce events and
time-weighted levels.

This module owns the *records* of one replication (DESIGN.md §2, rule 4). Processes append
plain tuples here — nothing is computed — and :mod:`sim.metrics` turns them into KPIs and
monthly series afterwards. To stay fast, a lead writes **one** record when it leaves the
pipeline, holding the timestamps of every step it went through (created, first touch,
connect, SQL, hand-off, opportunity, close) instead of one event per step.

Lead end states (``LeadState``) are exhaustive: every lead created ends in exactly one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import chain
from typing import Any

import numpy as np
from mypy_extensions import mypyc_attr

NAN: Any = float("nan")
"""The one NaN object of records read back (typed ``Any`` so that the compiled build keeps it one
Python object instead of a C double boxed anew at each use)."""


class LeadState(IntEnum):
    """Where a lead ended. Drops carry their reason; ``WON`` leads continue as customers."""

    UNREACHABLE = 0
    NOT_A_FIT = 1
    STALE = 2
    LOST_IN_HANDOFF = 3
    LOST_DEAL = 4
    WON = 5
    OPEN = 6
    """Still in the pipeline at the horizon (queued, being dialed, in hand-off, open deal)."""
    NO_CAPACITY = 7
    """Lost because the POD it was routed to had no free rep (``org.overflow: lose``)."""
    LOST_AT_EXIT = 8
    """Dropped when its rep left (``workforce.exit_policy: lose``)."""


class Source(IntEnum):
    INBOUND = 0
    OUTBOUND = 1
    WARM_START = 2
    """Pipeline already open when the simulation starts (``warm_start.pipeline``)."""


class AccountEvent(IntEnum):
    NEW = 0
    EXPANSION = 1
    CHURN = 2
    INSTALLED = 3
    """An account of the installed base at the start (``warm_start.customers``), at month 0."""


class WorkforceEvent(IntEnum):
    START = 0
    """A rep present at the start of the simulation (or an intern / outsourced rep starting)."""
    HIRE = 1
    """A requisition filled: a new rep starts."""
    EXIT = 2
    """A rep leaves (attrition, end of an intern's term or of an outsourcing contract)."""
    REQUISITION = 3
    """A requisition opens (backfill, hiring wave, headcount target, behind a promotion)."""
    PROMOTED_OUT = 4
    """A rep leaves the role for the next rung of the ladder."""
    PROMOTED_IN = 5
    """The promoted rep starts in the new role (a new rep record, ramping again)."""


class RepKind(IntEnum):
    EMPLOYEE = 0
    INTERN = 1
    OUTSOURCED = 2


LEAD_FIELDS = (
    "lead", "source", "segment", "created_t", "first_touch_t", "connect_t", "sql_t",
    "handoff_t", "opportunity_t", "close_t", "end_t", "state", "dials", "mrr_usd",
    "dev_rep", "closer_rep", "dev_team", "closer_team", "region", "industry",
)
"""Columns of a lead record, in tuple order."""
LEAD_DTYPES = (
    np.int64, np.int8, np.int16, *(np.float64,) * 8, np.int8, np.int32, np.float64,
    np.int32, np.int32, np.int16, np.int16, np.int16, np.int16,
)
"""Storage type of each lead column: times and amounts in float64, indices as small integers."""
_LEAD_FLOAT_COLUMNS = frozenset(k for k, dtype in enumerate(LEAD_DTYPES) if dtype is np.float64)


class LeadRecords:
    """The lead records of one replication: appended as tuples, stored as typed columns.

    Processes call ``append(record)`` with a tuple in ``LEAD_FIELDS`` order (the bound
    ``list.append`` of a pending buffer: as cheap as appending to a list). :meth:`flush` —
    called by the world at every month end — packs pending tuples into NumPy columns of
    ``LEAD_DTYPES`` (about 104 bytes a lead instead of ~350 as Python tuples). The columns
    are allocated once for the number of records announced with :meth:`reserve` (and grown by
    doubling past it), so the table is never copied or fragmented: :meth:`columns` returns
    views. Iterating gives the tuples back (NaN as the shared ``NAN``, so equal records
    compare equal).
    """

    __slots__ = ("_columns", "_flushed", "_pending", "append")

    def __init__(self) -> None:
        self._pending: list[tuple] = []
        self.append = self._pending.append
        self._columns: list[np.ndarray] = [np.empty(0, dtype=dtype) for dtype in LEAD_DTYPES]
        self._flushed = 0

    def __getstate__(self) -> tuple:
        return self._pending, self._columns, self._flushed

    def __setstate__(self, state: tuple) -> None:  # copies and pickles append to their own buffer
        self._pending, self._columns, self._flushed = state
        self.append = self._pending.append

    def __copy__(self) -> LeadRecords:
        """An independent copy (records are data: a copy never shares its buffer)."""
        clone = LeadRecords.__new__(LeadRecords)
        clone.__setstate__((list(self._pending), [column.copy() for column in self._columns], self._flushed))
        return clone

    def reserve(self, n_records: int) -> None:
        """Make room for ``n_records`` records in all (expected total; more still fit)."""
        if n_records > len(self._columns[0]):
            self._columns = [_grown(column, n_records, self._flushed) for column in self._columns]

    def flush(self) -> None:
        """Pack the pending tuples into the columns."""
        pending = self._pending
        if not pending:
            return
        lo, hi = self._flushed, self._flushed + len(pending)
        if hi > len(self._columns[0]):
            self.reserve(max(hi, 2 * len(self._columns[0])))
        width = len(self._columns)
        matrix = np.fromiter(chain.from_iterable(pending), dtype=np.float64, count=width * len(pending))
        matrix = matrix.reshape(len(pending), width)
        for k, column in enumerate(self._columns):
            column[lo:hi] = matrix[:, k]
        self._flushed = hi
        pending.clear()

    def columns(self) -> dict[str, np.ndarray]:
        """All records as a dict of NumPy columns (``LEAD_FIELDS`` → array of ``LEAD_DTYPES``)."""
        self.flush()
        n = self._flushed
        return {name: column[:n] for name, column in zip(LEAD_FIELDS, self._columns, strict=True)}

    def __len__(self) -> int:
        return self._flushed + len(self._pending)

    def __iter__(self) -> Iterator[tuple]:
        n = self._flushed
        lists = [column[:n].tolist() for column in self._columns]
        for k in _LEAD_FLOAT_COLUMNS:
            lists[k] = [NAN if x != x else x for x in lists[k]]
        yield from zip(*lists, strict=True)
        yield from list(self._pending)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LeadRecords | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"LeadRecords({list(self)!r})"

ACCOUNT_FIELDS = ("t", "kind", "lead", "segment", "mrr_usd")
WORKFORCE_FIELDS = ("t", "kind", "role", "rep", "seat", "monthly_cost_usd", "team", "rep_kind", "price_per_sql_usd")
LEVEL_FIELDS = ("month", "pool", "series", "value")
"""``pool`` indexes ``EventLog.pools`` (a role in a team)."""


def _grown(column: np.ndarray, size: int, used: int) -> np.ndarray:
    out = np.empty(size, dtype=column.dtype)
    out[:used] = column[:used]
    return out


@dataclass
class EventLog:
    """Append-only records of one replication.

    ``leads``: one record per lead (``LEAD_FIELDS``, a :class:`LeadRecords`), written when the
    lead leaves the pipeline or, for leads still open, at the horizon. ``accounts``: MRR movements
    (``ACCOUNT_FIELDS``). ``workforce``: starts, hires, exits, requisitions
    (``WORKFORCE_FIELDS``; ``role`` indexes ``roles``, ``team`` indexes ``teams``).
    ``levels``: per pool (a role in a team, ``pools``) and month: headcount, open
    requisitions and backlog at month end, and the month's integrals of ramped FTE
    (``fte_days``), capacity (``capacity_days``) and load (``busy_days``).
    """

    roles: list[str]
    segments: list[str]
    horizon_months: int
    teams: list[str] = field(default_factory=lambda: ["org"])
    pools: list[tuple[int, int]] = field(default_factory=list)
    """(role index, team index) of each pool."""
    leads: LeadRecords = field(default_factory=LeadRecords)
    accounts: list[tuple] = field(default_factory=list)
    workforce: list[tuple] = field(default_factory=list)
    levels: list[tuple] = field(default_factory=list)

    def lead_table(self) -> dict[str, np.ndarray]:
        """Lead records as a dict of NumPy columns (``LEAD_FIELDS``, typed as ``LEAD_DTYPES``)."""
        return self.leads.columns()

    def account_table(self) -> dict[str, np.ndarray]:
        return _columns(self.accounts, ACCOUNT_FIELDS)

    def workforce_table(self) -> dict[str, np.ndarray]:
        return _columns(self.workforce, WORKFORCE_FIELDS)


def _columns(rows: list[tuple], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not rows:
        return {name: np.empty(0) for name in names}
    return {name: np.fromiter(column, dtype=float, count=len(rows))
            for name, column in zip(names, zip(*rows, strict=True), strict=True)}


@mypyc_attr(allow_interpreted_subclasses=True)  # tests record every change with a subclass
class Level:
    """A piecewise-constant level (busy slots, capacity) integrated over time.

    ``add`` / ``set`` record changes at time ``t``; ``take_area`` returns the integral since
    the previous call, which gives time-weighted monthly averages without an event per change.
    """

    __slots__ = ("area", "last_t", "value")

    def __init__(self, t0: float = 0.0, value: float = 0.0) -> None:
        self.value = value
        self.last_t = t0
        self.area = 0.0

    def add(self, t: float, delta: float) -> None:
        self.area += self.value * (t - self.last_t)
        self.last_t = t
        self.value += delta

    def set(self, t: float, value: float) -> None:
        self.area += self.value * (t - self.last_t)
        self.last_t = t
        self.value = value

    def take_area(self, t: float) -> float:
        area = self.area + self.value * (t - self.last_t)
        self.area = 0.0
        self.last_t = t
        return area
