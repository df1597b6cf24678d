"""Facts emitted by a running world: lead records, account events, workforce events and
time-weighted levels.

This module owns the *records* of one replication
(docs/developer/architecture.md#spec-runtime-records). Processes append plain tuples here
(lead records are packed straight into a binary buffer) — nothing is computed — and
:mod:`sim.metrics` turns them into KPIs and monthly series afterwards. To stay
fast, a lead writes **one** record when it leaves the pipeline, holding the timestamps of every
step it went through (created, first touch, connect, SQL, hand-off, opportunity, close) instead
of one event per step.

Lead end states (``LeadState``) are exhaustive: every lead created ends in exactly one.

**The lead record is declared once**, in :data:`LEAD_RECORD`: each column's name, storage type and
where its value comes from (an attribute of the ``Lead``, or an argument of
:meth:`~sim.model.leads.Lead.record_to`). ``LEAD_FIELDS``, ``LEAD_DTYPES``, ``LEAD_STRUCT`` and
``LEAD_RECORD_DTYPE`` derive from it at import. The code that the compiled build needs written
out — :class:`LeadRecords`' writers and :meth:`LeadRecords.add`, :meth:`Lead.record_to
<sim.model.leads.Lead.record_to>`, the ``Lead``'s times and their NaN start — is generated from it
into blocks marked ``# --- generated from sim.eventlog.LEAD_RECORD ... do not edit ---``.

To add a field: add one line to ``LEAD_RECORD`` (at the place of its column), run
``python -m sim.model.engine.codegen``, and use it — set the ``Lead`` attribute where the step
happens (a ``_lead_time`` is declared on the ``Lead`` and starts as NaN by itself; another
attribute is declared by hand, small integers among the ``Lead``'s small integers), or pass the
new argument to ``record_to``. ``tests/test_lead_record.py`` fails while a generated block is out
of date. The golden outputs (``tests/golden/``) hold a digest of each column they knew when
written: a new column joins them when the file is written again (``python -m tests.golden.cases
--write``), in a commit that says so.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final, NamedTuple

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
    TRIAL_LAPSED = 9
    """Its self-service trial ended without converting (a segment with ``closed_by: none``)."""


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
    RENEWAL = 4
    """A contract renewed at its term end (``segments.<name>.contract``); the MRR it renewed, before
    any downsell or price uplift (which are their own events at the same instant)."""
    RENEWAL_LOST = 5
    """A contract not renewed at its term end: a marker beside the account's CHURN event at the same
    instant, with the same MRR (the churn moves the MRR, not this)."""
    CONTRACTION = 6
    """A downsell at renewal: the MRR given up (subtracted from the account's MRR)."""


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
    MANAGER_REQUISITION = 6
    """A team of a role whose managers are hired (``manager.time_to_fill_days`` > 0) opens a manager
    requisition: its headcount needs more managers than are seated or being hired (``rep`` and
    ``seat`` are -1 for every manager event; ``monthly_cost_usd`` is one manager's cost)."""
    MANAGER_SEATED = 7
    """A manager starts: a manager requisition filled, or one of the team's managers at the start."""
    MANAGER_LEFT = 8
    """A seated manager leaves because the team's headcount fell below what its managers cover."""
    MANAGER_REQUISITION_CLOSED = 9
    """An open manager requisition is closed unfilled because the team's headcount fell."""


class RepKind(IntEnum):
    EMPLOYEE = 0
    INTERN = 1
    OUTSOURCED = 2


class RecordField(NamedTuple):
    """One column of the lead record (:data:`LEAD_RECORD`), and where its value comes from.

    ``name`` is the column's name; ``storage`` its type in the record and in its column, one of
    ``"i64"``, ``"i32"``, ``"i16"``, ``"i8"`` (whole numbers of that many bits) or ``"f64"`` (a
    double), little-endian. The value is either the ``Lead`` attribute ``from_lead`` or, with
    ``argument``, an argument of :meth:`~sim.model.leads.Lead.record_to` named like the column,
    required unless it has a ``default``. A ``lead_time`` is a time the lead carries until it is
    written: the ``Lead`` class declares the attribute (a float, among its other floats), and
    ``Lead()`` sets it to NaN ("not yet") where ``starts_nan`` says so (else its maker sets it).
    """

    name: str
    storage: str
    from_lead: str = ""
    argument: bool = False
    default: float | None = None
    lead_time: bool = False
    starts_nan: bool = False


def _lead_time(name: str, starts_nan: bool = True) -> RecordField:
    """A column holding the time of a step, carried by the lead as the attribute of the same name."""
    return RecordField(name, "f64", from_lead=name, lead_time=True, starts_nan=starts_nan)


LEAD_RECORD: Final[tuple[RecordField, ...]] = (
    RecordField("lead", "i64", from_lead="id"),
    RecordField("source", "i8", from_lead="source"),
    RecordField("source_index", "i16", from_lead="source_index"),
    RecordField("segment", "i16", from_lead="segment"),
    _lead_time("created_t", starts_nan=False),  # set by the lead's factory
    _lead_time("first_touch_t"),
    _lead_time("connect_t"),
    _lead_time("sql_t"),
    _lead_time("handoff_t"),
    _lead_time("opportunity_t"),
    _lead_time("trial_t"),
    RecordField("close_t", "f64", argument=True, default=NAN),
    RecordField("end_t", "f64", argument=True),
    RecordField("state", "i8", argument=True),
    RecordField("dials", "i32", from_lead="dials_done"),
    RecordField("mrr_usd", "f64", argument=True, default=0.0),
    RecordField("dev_rep", "i32", from_lead="dev_rep"),
    RecordField("closer_rep", "i32", from_lead="closer_rep"),
    RecordField("dev_team", "i16", from_lead="dev_team"),
    RecordField("closer_team", "i16", from_lead="closer_team"),
    RecordField("region", "i16", from_lead="region"),
    RecordField("industry", "i16", from_lead="industry"),
)
"""The lead record, column by column in record order: the one declaration of its fields. Everything
else about the record derives from it — the names, types and layouts below, and the code
generated from it (see the module docstring)."""

STORAGE_DTYPES: Final = {"i64": np.int64, "i32": np.int32, "i16": np.int16, "i8": np.int8, "f64": np.float64}
"""The NumPy type of each ``RecordField.storage``."""
_STRUCT_CODES = {"i64": "q", "i32": "i", "i16": "h", "i8": "b", "f64": "d"}

LEAD_FIELDS = tuple(f.name for f in LEAD_RECORD)
"""Columns of a lead record, in tuple order."""
LEAD_DTYPES = tuple(STORAGE_DTYPES[f.storage] for f in LEAD_RECORD)
"""Storage type of each lead column: times and amounts in float64, indices as small integers."""
_LEAD_FLOAT_COLUMNS = frozenset(k for k, dtype in enumerate(LEAD_DTYPES) if dtype is np.float64)

LEAD_STRUCT = struct.Struct("<" + "".join(_STRUCT_CODES[f.storage] for f in LEAD_RECORD))
"""The packed binary layout of one lead record: ``LEAD_DTYPES`` in ``LEAD_FIELDS`` order,
little-endian, no padding (114 bytes for the 22 columns of today)."""
LEAD_RECORD_DTYPE = np.dtype([(name, np.dtype(dtype).newbyteorder("<"))
                              for name, dtype in zip(LEAD_FIELDS, LEAD_DTYPES, strict=True)])
"""The same layout as a NumPy structured type, to read the records back without copying."""
LEAD_RECORD_BYTES: Final[int] = LEAD_STRUCT.size
assert LEAD_RECORD_DTYPE.itemsize == LEAD_RECORD_BYTES
LEAD_COLUMN_DTYPES = tuple(LEAD_RECORD_DTYPE[name] for name in LEAD_FIELDS)
"""The little-endian NumPy type of each stored lead column, in ``LEAD_FIELDS`` order."""
_FLUSH_RECORDS: Final = 8192
"""Records a :class:`LeadRecords` holds back (about 850 kB) before moving them into its columns."""


class LeadRecords:
    """The lead records of one replication, stored column by column as they are written.

    A lead writes its record once, when it leaves the pipeline, through :meth:`add`
    (:meth:`sim.model.leads.Lead.record_to`): its fields go straight into binary form, where a
    tuple of Python objects per lead and a NumPy conversion per field later cost more than the
    rest of the record's path. Each field has a column of its own, a ``bytearray`` of its
    little-endian type (``LEAD_COLUMN_DTYPES``), so :meth:`columns` hands :mod:`sim.metrics`
    contiguous arrays without copying. (Rows of 104 bytes read as strided columns made the
    metrics superlinear: at ref×16 the 80 MB of records fall out of the cache, and every column
    read went through all of them again — 36 of the metrics' 80 ms.)

    Records wait in a small staging area and move into the columns 8,192 at a time
    (:meth:`flush`; every method that reads the records flushes first). Where this module is
    compiled, the staging area is one ``librt.strings.BytesWriter`` per column and :meth:`add`
    writes each field to its own as a C number — ``struct`` would need each field as a Python
    object, made for the call and freed after it. In Python, :meth:`add` packs the row with
    ``struct`` (``LEAD_STRUCT``) and :meth:`flush` splits the rows into the columns with NumPy.
    The columns hold the same bytes either way. :meth:`append` writes a tuple in ``LEAD_FIELDS``
    order; iterating gives tuples (NaN as the shared ``NAN``, so equal records compare equal).

    The columns are allocated for the number of records announced with :meth:`reserve` and
    replaced by ones twice as large when full — never resized in place, so columns read earlier
    stay valid (they keep the records written up to then).
    """

    __slots__ = (  # noqa: RUF023 (the column writers in LEAD_RECORD's order)
        "capacity", "count", "data", "pack_into", "pending", "rows", "writers",
        # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (__slots__); do not edit ---
        "lead_w", "source_w", "source_index_w", "segment_w", "created_t_w", "first_touch_t_w", "connect_t_w", "sql_t_w",
        "handoff_t_w", "opportunity_t_w", "trial_t_w", "close_t_w", "end_t_w", "state_w", "dials_w", "mrr_usd_w",
        "dev_rep_w", "closer_rep_w", "dev_team_w", "closer_team_w", "region_w", "industry_w",
        # --- end generated ---
    )

    def __init__(self) -> None:
        self.data: list[bytearray] = [bytearray() for _ in LEAD_FIELDS]
        """The columns' bytes, in ``LEAD_FIELDS`` order: ``count`` records of ``capacity``."""
        self.capacity = 0
        self.count = 0
        self.pending = 0
        """Records added but not yet in the columns (:meth:`flush`)."""
        self.rows = bytearray()
        """Python build: the pending records, packed rows of ``LEAD_STRUCT``."""
        self.pack_into: Any = LEAD_STRUCT.pack_into
        """``LEAD_STRUCT.pack_into(buffer, offset, *fields)``."""
        self.writers: list[BytesWriter] = [BytesWriter() for _ in LEAD_FIELDS]
        """Compiled build: the pending records, a writer per column (the attributes ``<field>_w``)."""
        # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (writers); do not edit ---
        (self.lead_w, self.source_w, self.source_index_w, self.segment_w, self.created_t_w, self.first_touch_t_w,
         self.connect_t_w, self.sql_t_w, self.handoff_t_w, self.opportunity_t_w, self.trial_t_w, self.close_t_w,
         self.end_t_w, self.state_w, self.dials_w, self.mrr_usd_w, self.dev_rep_w, self.closer_rep_w, self.dev_team_w,
         self.closer_team_w, self.region_w, self.industry_w) = self.writers
        # --- end generated ---

    def __getstate__(self) -> tuple:
        self.flush()
        return self.count, tuple(bytes(column[:self.count * dtype.itemsize])
                                 for column, dtype in zip(self.data, LEAD_COLUMN_DTYPES, strict=True))

    def __setstate__(self, state: tuple) -> None:
        self.__init__()  # type: ignore[misc]
        self.count, columns = state
        self.capacity = self.count
        self.data = [bytearray(column) for column in columns]

    def __copy__(self) -> LeadRecords:
        """An independent copy (records are data: a copy never shares its columns)."""
        clone = LeadRecords.__new__(LeadRecords)
        clone.__setstate__(self.__getstate__())
        return clone

    def reserve(self, n_records: int) -> None:
        """Make room for ``n_records`` records in all (expected total; more still fit)."""
        if n_records > self.capacity:
            self._reallocate(n_records)

    def _make_room(self, n_more: int) -> None:
        """Make room for ``n_more`` records beyond ``count`` (twice the room, and at least 1,024
        records more)."""
        count = self.count
        if count + n_more > self.capacity:
            self._reallocate(max(2 * self.capacity, count + n_more, count + 1024))

    def _reallocate(self, n_records: int) -> None:
        for k, dtype in enumerate(LEAD_COLUMN_DTYPES):
            used = self.count * dtype.itemsize
            column = bytearray(n_records * dtype.itemsize)
            column[:used] = memoryview(self.data[k])[:used]
            self.data[k] = column
        self.capacity = n_records

    # --- generated from sim.eventlog.LEAD_RECORD by sim.model.engine.codegen (add); do not edit ---
    def add(self, lead: i64, source: int, source_index: i16, segment: i16, created_t: float, first_touch_t: float,
            connect_t: float, sql_t: float, handoff_t: float, opportunity_t: float, trial_t: float, close_t: float,
            end_t: float, state: int, dials: i32, mrr_usd: float, dev_rep: i32, closer_rep: i32, dev_team: i16,
            closer_team: i16, region: i16, industry: i16) -> None:
        """Write one record, its fields given one by one in ``LEAD_FIELDS`` order (a value that
        does not fit its column raises before anything is written)."""
        if _COMPILED:
            if not -128 <= source <= 127:
                raise OverflowError(f"lead record: source {source} does not fit its 8-bit column")
            if not -128 <= state <= 127:
                raise OverflowError(f"lead record: state {state} does not fit its 8-bit column")
            write_i64_le(self.lead_w, lead)
            self.source_w.append(source & 0xFF)
            write_i16_le(self.source_index_w, source_index)
            write_i16_le(self.segment_w, segment)
            write_f64_le(self.created_t_w, created_t)
            write_f64_le(self.first_touch_t_w, first_touch_t)
            write_f64_le(self.connect_t_w, connect_t)
            write_f64_le(self.sql_t_w, sql_t)
            write_f64_le(self.handoff_t_w, handoff_t)
            write_f64_le(self.opportunity_t_w, opportunity_t)
            write_f64_le(self.trial_t_w, trial_t)
            write_f64_le(self.close_t_w, close_t)
            write_f64_le(self.end_t_w, end_t)
            self.state_w.append(state & 0xFF)
            write_i32_le(self.dials_w, dials)
            write_f64_le(self.mrr_usd_w, mrr_usd)
            write_i32_le(self.dev_rep_w, dev_rep)
            write_i32_le(self.closer_rep_w, closer_rep)
            write_i16_le(self.dev_team_w, dev_team)
            write_i16_le(self.closer_team_w, closer_team)
            write_i16_le(self.region_w, region)
            write_i16_le(self.industry_w, industry)
        else:
            if not self.rows:
                self.rows = bytearray(_FLUSH_RECORDS * LEAD_RECORD_BYTES)
            self.pack_into(self.rows, self.pending * LEAD_RECORD_BYTES, lead, source, source_index, segment, created_t,
                           first_touch_t, connect_t, sql_t, handoff_t, opportunity_t, trial_t, close_t, end_t, state,
                           dials, mrr_usd, dev_rep, closer_rep, dev_team, closer_team, region, industry)
        self.pending += 1
        if self.pending >= _FLUSH_RECORDS:
            self.flush()
    # --- end generated ---

    def flush(self) -> None:
        """Move the pending records into the columns."""
        pending = self.pending
        if pending == 0:
            return
        self._make_room(pending)
        count = self.count
        if _COMPILED:
            for k, dtype in enumerate(LEAD_COLUMN_DTYPES):
                writer = self.writers[k]
                start = count * dtype.itemsize
                data = writer.getvalue()
                writer.truncate(0)
                self.data[k][start:start + len(data)] = data
        else:
            rows = np.frombuffer(self.rows, dtype=LEAD_RECORD_DTYPE, count=pending)
            for k, name in enumerate(LEAD_FIELDS):
                column = np.frombuffer(self.data[k], dtype=LEAD_COLUMN_DTYPES[k], count=count + pending)
                column[count:] = rows[name]
        self.count = count + pending
        self.pending = 0

    def append(self, record: tuple) -> None:
        """Write one record given as a tuple in ``LEAD_FIELDS`` order."""
        self.add(*record)

    def columns(self) -> dict[str, np.ndarray]:
        """All records as a dict of NumPy columns (``LEAD_FIELDS`` → array of ``LEAD_DTYPES``,
        little-endian), contiguous views of the stored columns."""
        self.flush()
        return {name: np.frombuffer(column, dtype=dtype, count=self.count)
                for name, column, dtype in zip(LEAD_FIELDS, self.data, LEAD_COLUMN_DTYPES, strict=True)}

    def __len__(self) -> int:
        return self.count + self.pending

    def __iter__(self) -> Iterator[tuple]:
        columns = self.columns()
        lists = [columns[name].tolist() for name in LEAD_FIELDS]
        for k in _LEAD_FLOAT_COLUMNS:
            lists[k] = [NAN if math.isnan(x) else x for x in lists[k]]
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
    reorgs: list[tuple] = field(default_factory=list)
    """(day, one-off cost in USD) of each reorg of the run (:mod:`sim.model.reorg`)."""

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
