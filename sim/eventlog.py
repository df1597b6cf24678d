"""Facts emitted by a running world: lead records, account events, workforce events and
time-weighted levels.

This module owns the *records* of one replication (DESIGN.md §2, rule 4). Processes append
plain tuples here (lead records are packed straight into a binary buffer) — nothing is
computed — and :mod:`sim.metrics` turns them into KPIs and monthly series afterwards. To stay
fast, a lead writes **one** record when it leaves the pipeline, holding the timestamps of every
step it went through (created, first touch, connect, SQL, hand-off, opportunity, close) instead
of one event per step.

Lead end states (``LeadState``) are exhaustive: every lead created ends in exactly one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

import numpy as np
from librt.strings import BytesWriter, write_f64_le, write_i16_le, write_i32_le, write_i64_le
from mypy_extensions import i16, i32, i64, mypyc_attr

from sim.compiled import is_compiled

_COMPILED: Final = is_compiled(__file__)
"""Whether this module runs compiled: then :meth:`LeadRecords.add` writes through a ``BytesWriter``."""

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


_STRUCT_CODES = {np.int64: "q", np.int32: "i", np.int16: "h", np.int8: "b", np.float64: "d"}
LEAD_STRUCT = struct.Struct("<" + "".join(_STRUCT_CODES[dtype] for dtype in LEAD_DTYPES))
"""The packed binary layout of one lead record: ``LEAD_DTYPES`` in ``LEAD_FIELDS`` order,
little-endian, no padding (104 bytes)."""
LEAD_RECORD_DTYPE = np.dtype([(name, np.dtype(dtype).newbyteorder("<"))
                              for name, dtype in zip(LEAD_FIELDS, LEAD_DTYPES, strict=True)])
"""The same layout as a NumPy structured type, to read the records back without copying."""
LEAD_RECORD_BYTES: Final[int] = LEAD_STRUCT.size
assert LEAD_RECORD_DTYPE.itemsize == LEAD_RECORD_BYTES
_FLUSH_BYTES: Final = 1 << 20
"""Bytes of records a :class:`LeadRecords` writer holds before moving them into the buffer."""


class LeadRecords:
    """The lead records of one replication, packed as they are written.

    A lead writes its record once, when it leaves the pipeline, through :meth:`add`
    (:meth:`sim.model.leads.Lead.record_to`): its fields go straight into binary form
    (``LEAD_STRUCT``: 104 bytes a record, little-endian), where a tuple of Python objects per lead
    and a NumPy conversion per field later cost more than the rest of the record's path. In
    Python, :meth:`add` packs them into :attr:`buffer` with ``struct``. Where this module is
    compiled it appends them to a ``librt.strings.BytesWriter`` instead, field by field, as C
    numbers — ``struct`` would need each of the 20 as a Python object, made for the call and freed
    after it, which was a fifth of a lead's machine instructions — and moves the writer's bytes
    into :attr:`buffer` a megabyte at a time (:meth:`flush`; every method that reads the records
    flushes first). The bytes are the same either way. :meth:`append` writes a tuple in
    ``LEAD_FIELDS`` order. :meth:`columns` reads the buffer back as NumPy
    columns of ``LEAD_DTYPES`` without copying (views into one structured array); iterating gives
    tuples (NaN as the shared ``NAN``, so equal records compare equal).

    The buffer is allocated for the number of records announced with :meth:`reserve` and replaced
    by one twice as large when full — never resized in place, so columns read earlier stay valid
    (they keep the records written up to then).
    """

    __slots__ = ("buffer", "capacity", "end", "pack_into", "writer")

    def __init__(self) -> None:
        self.buffer = bytearray()
        """The packed records, ``end`` bytes of them; ``capacity`` bytes in all (after :meth:`flush`)."""
        self.capacity = 0
        self.end = 0
        self.pack_into: Any = LEAD_STRUCT.pack_into
        """``LEAD_STRUCT.pack_into(buffer, offset, *fields)``."""
        self.writer = BytesWriter()
        """Records written by :meth:`add` in the compiled build and not yet in :attr:`buffer`."""

    def __getstate__(self) -> tuple:
        self.flush()
        return bytes(self.buffer[:self.end]), self.end

    def __setstate__(self, state: tuple) -> None:
        data, self.end = state
        self.buffer = bytearray(data)
        self.capacity = len(self.buffer)
        self.pack_into = LEAD_STRUCT.pack_into
        self.writer = BytesWriter()

    def __copy__(self) -> LeadRecords:
        """An independent copy (records are data: a copy never shares its buffer)."""
        clone = LeadRecords.__new__(LeadRecords)
        clone.__setstate__(self.__getstate__())
        return clone

    def reserve(self, n_records: int) -> None:
        """Make room for ``n_records`` records in all (expected total; more still fit)."""
        if n_records * LEAD_RECORD_BYTES > self.capacity:
            self._reallocate(n_records * LEAD_RECORD_BYTES)

    def grow(self, size: int = LEAD_RECORD_BYTES) -> None:
        """Make room for ``size`` more bytes, one record by default (twice the room, and at least
        1,024 records more)."""
        end = self.end
        self._reallocate(max(2 * self.capacity, end + size, end + 1024 * LEAD_RECORD_BYTES))

    def _reallocate(self, size: int) -> None:
        buffer = bytearray(size)
        buffer[:self.end] = memoryview(self.buffer)[:self.end]
        self.buffer = buffer
        self.capacity = size

    def next_offset(self) -> int:
        """Where the next record goes (bytes into :attr:`buffer`), with room made for it. A writer
        packs the record there, then sets :attr:`end` past it — so a record that fails to pack
        is not counted."""
        self.flush()
        offset = self.end
        if offset + LEAD_RECORD_BYTES > self.capacity:
            self.grow()
        return offset

    def add(self, lead_id: i64, source: int, segment: i16, created_t: float, first_touch_t: float,
            connect_t: float, sql_t: float, handoff_t: float, opportunity_t: float, close_t: float,
            end_t: float, state: int, dials: i32, mrr_usd: float, dev_rep: i32, closer_rep: i32,
            dev_team: i16, closer_team: i16, region: i16, industry: i16) -> None:
        """Write one record, its fields given one by one in ``LEAD_FIELDS`` order (a value that
        does not fit its column raises before anything is written)."""
        if _COMPILED:
            if not (-128 <= source <= 127 and -128 <= state <= 127):
                raise OverflowError(f"lead record: source {source} or state {state} does not fit its 8-bit column")
            w = self.writer
            write_i64_le(w, lead_id)
            w.append(source & 0xFF)
            write_i16_le(w, segment)
            write_f64_le(w, created_t)
            write_f64_le(w, first_touch_t)
            write_f64_le(w, connect_t)
            write_f64_le(w, sql_t)
            write_f64_le(w, handoff_t)
            write_f64_le(w, opportunity_t)
            write_f64_le(w, close_t)
            write_f64_le(w, end_t)
            w.append(state & 0xFF)
            write_i32_le(w, dials)
            write_f64_le(w, mrr_usd)
            write_i32_le(w, dev_rep)
            write_i32_le(w, closer_rep)
            write_i16_le(w, dev_team)
            write_i16_le(w, closer_team)
            write_i16_le(w, region)
            write_i16_le(w, industry)
            if len(w) >= _FLUSH_BYTES:
                self.flush()
            return
        offset = self.next_offset()
        self.pack_into(self.buffer, offset, lead_id, source, segment, created_t, first_touch_t, connect_t,
                       sql_t, handoff_t, opportunity_t, close_t, end_t, state, dials, mrr_usd, dev_rep,
                       closer_rep, dev_team, closer_team, region, industry)
        self.end = offset + LEAD_RECORD_BYTES

    def flush(self) -> None:
        """Move the records held by the writer (compiled build) into :attr:`buffer`."""
        writer = self.writer
        size = len(writer)
        if size == 0:
            return
        data = writer.getvalue()
        writer.truncate(0)
        end = self.end
        if end + size > self.capacity:
            self.grow(size)
        self.buffer[end:end + size] = data
        self.end = end + size

    def append(self, record: tuple) -> None:
        """Write one record given as a tuple in ``LEAD_FIELDS`` order."""
        offset = self.next_offset()
        self.pack_into(self.buffer, offset, *record)
        self.end = offset + LEAD_RECORD_BYTES

    def columns(self) -> dict[str, np.ndarray]:
        """All records as a dict of NumPy columns (``LEAD_FIELDS`` → array of ``LEAD_DTYPES``),
        views into the buffer."""
        self.flush()
        table = np.frombuffer(self.buffer, dtype=LEAD_RECORD_DTYPE, count=self.end // LEAD_RECORD_BYTES)
        return {name: table[name] for name in LEAD_FIELDS}

    def __len__(self) -> int:
        self.flush()
        return self.end // LEAD_RECORD_BYTES

    def __iter__(self) -> Iterator[tuple]:
        columns = self.columns()
        lists = [columns[name].tolist() for name in LEAD_FIELDS]
        for k in _LEAD_FLOAT_COLUMNS:
            lists[k] = [NAN if x != x else x for x in lists[k]]
        yield from zip(*lists, strict=True)

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
