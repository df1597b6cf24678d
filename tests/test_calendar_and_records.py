"""The calendar's fast lane and the compact lead records (the performance machinery).

Both must be invisible to the model: a call on the calendar is ordered exactly like a SimPy
``Timeout`` scheduled at the same moment, and lead records read back exactly as appended.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.eventlog import LEAD_DTYPES, LEAD_FIELDS, LEAD_RECORD_DTYPE, LEAD_STRUCT, NAN, LeadRecords, LeadState
from sim.model.engine.calendar import (
    MAX_SLOTS_PER_DAY,
    WHEEL_DAYS,
    Environment,
    NativeTimeline,
    Timeline,
    slots_per_day_for,
)
from sim.scenario.jobs import Desk

# --------------------------------------------------------------------------- calendar

TIMELINES = pytest.mark.parametrize("native", [False, True], ids=["tuple-heap", "native-entries"])
"""Every calendar test runs on both queues: tuples on heapq (:class:`Timeline`, the pure-Python
build's) and :class:`NativeTimeline` (the compiled build's)."""


@TIMELINES
def test_calls_and_events_run_in_time_then_scheduling_order(native: bool) -> None:
    env = Environment(native=native)
    seen: list[tuple[float, str]] = []

    def note(name: str) -> None:
        seen.append((env.now, name))

    env.call_at(2.0, note, "call@2 first")
    env.timeout(2.0).callbacks.append(lambda _e: note("timeout@2 second"))
    env.call_at(2.0, note, "call@2 third")
    env.call_at(1.0, note, "call@1")

    def process():
        yield env.timeout(1.5)
        note("process@1.5")

    env.process(process())
    env.run(until=5)
    assert seen == [(1.0, "call@1"), (1.5, "process@1.5"), (2.0, "call@2 first"),
                    (2.0, "timeout@2 second"), (2.0, "call@2 third")]
    assert env.now == 5


@TIMELINES
def test_a_call_in_the_past_runs_now_and_urgent_events_still_come_first(native: bool) -> None:
    env = Environment(native=native)
    seen: list[tuple[float, str]] = []
    env.timeout(3.0).callbacks.append(lambda _e: env.call_at(1.0, lambda: seen.append((env.now, "late call"))))
    urgent = simpy.Event(env)
    urgent._ok, urgent._value = True, None
    env.call_at(4.0, lambda: seen.append((env.now, "call@4")))
    env.schedule(urgent, simpy.core.URGENT, 4.0)
    urgent.callbacks.append(lambda _e: seen.append((env.now, "urgent@4")))
    env.run(until=10)
    assert seen == [(3.0, "late call"), (4.0, "urgent@4"), (4.0, "call@4")]


@TIMELINES
def test_same_order_as_plain_simpy_timeouts(native: bool) -> None:
    """A random mix of calls scheduled from calls gives the order plain SimPy timeouts give."""
    rng = np.random.default_rng(5)
    delays = np.round(rng.exponential(1.0, 400), 1).tolist()  # rounded: many ties

    def trace(use_calls: bool) -> list[tuple[float, int]]:
        env = Environment(native=native) if use_calls else simpy.Environment()
        out: list[tuple[float, int]] = []
        pending = iter(range(len(delays)))

        def fire(k: int) -> None:
            out.append((env.now, k))
            for _ in range(2):
                j = next(pending, None)
                if j is None:
                    return
                if use_calls:
                    env.call_at(env.now + delays[j], fire, j)
                else:
                    env.timeout(delays[j]).callbacks.append(lambda _e, j=j: fire(j))

        fire(-1)
        env.run()
        return out

    calls, timeouts = trace(True), trace(False)
    assert len(calls) == len(delays) + 1
    assert calls == timeouts


@TIMELINES
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_chain_kept_beside_the_heap_runs_in_the_same_order(native: bool, seed: int) -> None:
    """``call_next`` (one pending call kept out of the heap) orders exactly like ``call_at``."""
    rng = np.random.default_rng(seed)
    arrivals = np.sort(np.round(rng.uniform(0, 50, 300), 1)).tolist()  # rounded: ties with other entries
    delays = np.round(rng.exponential(2.0, 300), 1).tolist()

    def trace(beside: bool) -> list[tuple[float, str, int]]:
        env = Environment(native=native)
        out: list[tuple[float, str, int]] = []
        state = {"i": 0}

        def finish(k: int) -> None:
            out.append((env.now, "finish", k))

        def arrive() -> None:
            i = state["i"]
            out.append((env.now, "arrive", i))
            env.call_at(env.now + delays[i], finish, i)
            if i % 7 == 0:
                env.timeout(delays[i]).callbacks.append(lambda _e, i=i: out.append((env.now, "event", i)))
            state["i"] = i + 1
            if i + 1 < len(arrivals):
                (env.call_next if beside else env.call_at)(arrivals[i + 1], arrive)

        (env.call_next if beside else env.call_at)(arrivals[0], arrive)
        assert env.peek() == arrivals[0]
        env.run(until=100)
        return out

    assert trace(True) == trace(False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 7.25, math.inf]),
                          st.sampled_from([0, 1]), st.booleans()), min_size=1, max_size=60))
def test_both_timelines_step_in_the_order_of_sorted_keys(plan: list[tuple[float, int, bool]]) -> None:
    """Whatever is scheduled — times with ties, urgent and normal priorities, calls and events —
    both timelines step through it in the order of (time, priority, scheduling order)."""

    def trace(native: bool) -> list[int]:
        env = Environment(native=native)
        timeline = env.timeline
        out: list[int] = []
        for k, (t, priority, is_call) in enumerate(plan):
            if is_call and priority == 1:
                timeline.call_at(t, out.append, k)
            else:
                event = simpy.Event(env)
                event._ok, event._value = True, None
                event.callbacks.append(lambda _e, k=k: out.append(k))
                timeline.schedule(event, priority, t)
        assert timeline.processed == 0
        env.run()
        assert timeline.processed == len(plan)
        return out

    expected = [k for _t, _p, k in sorted((t, p, k) for k, (t, p, _c) in enumerate(plan))]
    assert trace(False) == expected
    assert trace(True) == expected


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.25, 0.999, 1.0, 1.5, 2.0, 3.75, 7.25, 30.0, 63.999, 64.0,
                                           100.125, 200.5, 2.0**40 - 1.0, 1e300, math.inf]),
                          st.sampled_from(["call_at", "call2", "call3", "event", "urgent"]),
                          st.sampled_from([None, 0.0, 0.01, 0.5, 1.0, 2.25, 40.0, 90.0])),
                min_size=1, max_size=50),
       st.sampled_from([1, 2, 8, MAX_SLOTS_PER_DAY]))
def test_both_timelines_agree_when_steps_schedule_more_steps(
        plan: list[tuple[float, str, float | None]], slots_per_day: int) -> None:
    """Entries scheduled while the clock runs — the same instant, later the same slot, later the
    same day, days later, beyond the wheel's days — through every kind of call, step in the same
    order on both timelines, whatever the native one's slots a day (it keeps later entries in
    its wheel and in day buckets, and reuses the entry of the call being made)."""

    def trace(native: bool) -> list[tuple[float, int, str]]:
        env = Environment(native=native, slots_per_day=slots_per_day)
        timeline = env.timeline
        out: list[tuple[float, int, str]] = []

        def follow(k: int, delay: float | None) -> None:
            if delay is not None:  # schedule a follow-up from inside the step, as the desks do
                timeline.call3(env.now + delay, lambda a, b, c: out.append((env.now, a, b + c)), k, "follow", "-up")

        def add(k: int, t: float, kind: str, delay: float | None) -> None:
            if kind == "call_at":
                timeline.call_at(t, lambda k=k: (out.append((env.now, k, kind)), follow(k, delay)))
            elif kind == "call2":
                timeline.call2(t, lambda a, b: (out.append((env.now, a, b)), follow(a, delay)), k, kind)
            elif kind == "call3":
                timeline.call3(t, lambda a, b, c: (out.append((env.now, a, b + c)), follow(a, delay)), k, "call", "3")
            else:
                event = simpy.Event(env)
                event._ok, event._value = True, None
                event.callbacks.append(lambda _e, k=k: (out.append((env.now, k, kind)), follow(k, delay)))
                timeline.schedule(event, simpy.core.URGENT if kind == "urgent" else simpy.core.NORMAL, t)

        for k, (t, kind, delay) in enumerate(plan):
            add(k, t, kind, delay)
        env.run()
        assert timeline.processed == len(out)
        return out

    assert trace(True) == trace(False)


def test_native_buckets_hold_later_days_and_give_them_back_in_order() -> None:
    """Entries due from the end of the current bucket on wait outside the heap; the clock still
    meets them in (time, priority, scheduling order), bucket bounds included, and ``peek`` and
    ``processed`` see them."""
    env = Environment(native=True)
    timeline = env.timeline
    assert isinstance(timeline, NativeTimeline)
    out: list[tuple[float, str]] = []
    for t, name in [(2.0, "b"), (0.999, "a"), (2.0, "c"), (1.0, "boundary"), (45.5, "late"), (1.999, "z")]:
        timeline.call2(t, lambda t_, n: out.append((env.now, n)), t, name)
    assert len(timeline.queue) == 1 and timeline.bucketed == 5  # only 0.999 is due in the first day
    assert timeline.processed == 0
    env.run(until=1.5)
    assert out == [(0.999, "a"), (1.0, "boundary")]
    env.run()
    assert [n for _, n in out] == ["a", "boundary", "z", "b", "c", "late"]
    assert timeline.bucketed == 0 and timeline.processed == 6 + 2  # and the until event, twice (as SimPy)

    later = Environment(native=True)
    later.call_at(5.0, lambda: None)
    later.call_at(3.5, lambda: None)
    assert later.timeline.queue == [] and later.peek() == 3.5  # every entry in a bucket


@pytest.mark.parametrize("slots_per_day", [1, 4, 256])
def test_native_slots_give_entries_back_in_order_at_their_exact_bounds(slots_per_day: int) -> None:
    """An entry due exactly at a slot's start belongs to that slot, one a hair earlier to the one
    before; entries beyond the wheel's days wait in day buckets and join it in time; with nothing
    left in the wheel the clock jumps to the next day that holds something."""
    env = Environment(native=True, slots_per_day=slots_per_day)
    timeline = env.timeline
    assert isinstance(timeline, NativeTimeline) and timeline.slots_per_day == slots_per_day
    width = 1.0 / slots_per_day
    times = [3 * width, math.nextafter(3 * width, 0.0), 5.0, math.nextafter(5.0, 0.0), 2 * WHEEL_DAYS + 0.5,
             WHEEL_DAYS - width, float(WHEEL_DAYS), WHEEL_DAYS + 0.75, 10 * WHEEL_DAYS + width, 0.0]
    out: list[float] = []
    for t in times:
        timeline.call2(t, lambda t_, _b: out.append(env.now), t, None)
    assert timeline.processed == 0 and timeline.bucketed == len(times) - len(timeline.queue)
    assert len(timeline.buckets) >= 2 and min(timeline.buckets) >= timeline.wheel_end  # days beyond the wheel
    env.run()
    assert out == sorted(times)
    assert timeline.bucketed == 0 and timeline.wheeled == 0 and timeline.processed == len(times)


def test_native_timeline_arguments_are_checked() -> None:
    for bad in (0, 3, 2 * MAX_SLOTS_PER_DAY):
        with pytest.raises(ValueError, match="power of two"):
            NativeTimeline(0.0, bad)
    with pytest.raises(ValueError, match="time 0 or later"):
        NativeTimeline(-1.0)


def test_slots_a_day_keep_about_the_same_entries_per_slot_at_any_rate() -> None:
    assert [slots_per_day_for(x) for x in (0.0, 16.0, 17.0, 164.0, 2624.0, 1e9)] == [1, 1, 2, 16, 256,
                                                                                    MAX_SLOTS_PER_DAY]


def test_a_native_call_reuses_its_entry_for_the_next_call_it_makes() -> None:
    """The lead-level steps allocate nothing on the calendar: the entry of the call being made is
    the one the next :meth:`~NativeTimeline.call3` fills, and it holds no reference once used."""
    env = Environment(native=True)
    timeline = env.timeline
    assert isinstance(timeline, NativeTimeline)
    lead = object()
    seen: list[int] = []

    def step(lead_: object, n: int, _unused: None) -> None:
        seen.append(id(timeline.spares[-1]))
        if n < 3:
            timeline.call3(env.now + 0.1, step, lead_, n + 1, None)

    timeline.call3(0.5, step, lead, 0, None)
    env.run()
    assert len(seen) == 4 and len(set(seen)) == 1  # one entry, reused by each step for the next
    assert len(timeline.spares) == 1
    spare = timeline.spares[-1]
    assert spare.a is None and spare.b is None and spare.fn is None


@TIMELINES
def test_processed_counts_events_and_calls_but_not_what_is_pending(native: bool) -> None:
    env = Environment(native=native)
    for t in (1.0, 2.0, 3.0, 30.0):
        env.call_at(t, lambda: None)
    env.call_next(2.5, lambda: None)
    env.timeout(4.0)
    env.run(until=10)  # the until event is processed too
    assert env.timeline.processed == 3 + 1 + 1 + 1
    assert env.peek() == 10.0  # as in SimPy, the until event goes back on the queue, before the rest
    env.run(until=40)
    assert env.timeline.processed == 6 + 1 + 1 + 1  # the old until event, the call at 30, the new until


@TIMELINES
def test_a_failed_event_still_crashes_the_run(native: bool) -> None:
    env = Environment(native=native)
    event = env.event()
    event.fail(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        env.run()


@TIMELINES
def test_run_until_an_event_returns_its_value_and_an_empty_queue_is_an_error(native: bool) -> None:
    env = Environment(native=native)
    done = env.timeout(2.0, value="done")
    assert env.run(until=done) == "done"
    assert env.now == 2.0
    assert env.run(until=done) == "done"  # already processed
    with pytest.raises(RuntimeError, match="not triggered"):
        env.run(until=env.event())
    with pytest.raises(ValueError, match="must be greater"):
        env.run(until=1.0)


def test_the_environment_uses_the_native_timeline_exactly_where_the_calendar_is_compiled() -> None:
    from sim.compiled import is_compiled
    from sim.model.engine import calendar

    expected = NativeTimeline if is_compiled(calendar.__file__) else Timeline
    assert type(Environment().timeline) is expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 15)), max_size=120))
def test_held_leads_are_exactly_those_held_and_not_yet_released(ops: list[tuple[bool, int]]) -> None:
    """``hold``/``release`` (a rep's open leads, without a set): after any sequence the list holds
    the held leads, each at the slot it remembers."""
    from sim.model.leads import Lead, hold, release

    leads = [Lead() for _ in range(16)]
    held: list[Lead] = []
    expected: set[int] = set()
    for take, k in ops:
        if take and k not in expected:
            hold(held, leads[k])
            expected.add(k)
        elif not take and k in expected:
            release(held, leads[k])
            expected.discard(k)
        assert {id(lead) for lead in held} == {id(leads[i]) for i in expected}
        assert len(held) == len(expected)
        assert all(lead.slot == i for i, lead in enumerate(held))


# --------------------------------------------------------------------------- lead records


def _record(i: int, t: float) -> tuple:
    nan = float("nan")
    return (i, i % 2, i % 2 - 1, i % 3, t, t + 0.5, nan, nan, nan, nan, nan, nan, t + 1.0, 5, 7, 2000.0 * (i % 2),
            i % 11, -1, 0, -1, i % 4, i % 5)


def _stored_bytes(records: LeadRecords) -> list[bytes]:
    """The bytes of each stored column."""
    return [column.tobytes() for column in records.columns().values()]


def test_records_read_back_as_appended_across_growth() -> None:
    records = LeadRecords()
    records.reserve(3)  # fewer than we write: the columns must grow
    rows = [_record(i, 0.25 * i) for i in range(10)]
    for row in rows:
        records.append(row)
    assert len(records) == 10
    back = list(records)
    assert len(back) == 10
    for got, want in zip(back, rows, strict=True):
        for a, b in zip(got, want, strict=True):
            assert a == b or (math.isnan(a) and math.isnan(b))
    # NaN comes back as the shared constant, so equal records compare equal as tuples
    assert back[0][6] is NAN and back == list(records) and records == back
    table = records.columns()
    assert list(table) == list(LEAD_FIELDS)
    assert all(table[name].dtype == dtype for name, dtype in zip(LEAD_FIELDS, LEAD_DTYPES, strict=True))
    np.testing.assert_array_equal(table["created_t"], [0.25 * i for i in range(10)])
    np.testing.assert_array_equal(table["mrr_usd"], [2000.0 * (i % 2) for i in range(10)])


def test_a_lead_writes_the_record_its_fields_make() -> None:
    """:meth:`Lead.record_to` packs the same record as the tuple of its fields would."""
    from sim.model.leads import Lead

    lead = Lead()
    lead.id, lead.source, lead.source_index, lead.segment, lead.region, lead.industry = 41, 1, 1, 2, 3, 4
    lead.created_t, lead.connect_t, lead.sql_t, lead.dials_done, lead.dev_rep = 1.5, 2.5, 2.5, 9, 17
    by_lead, by_tuple = LeadRecords(), LeadRecords()
    lead.record_to(by_lead, 30.0, int(LeadState.WON), close_t=30.0, mrr_usd=2500.0)
    nan = float("nan")
    by_tuple.append((41, 1, 1, 2, 1.5, nan, 2.5, 2.5, nan, nan, nan, 30.0, 30.0, int(LeadState.WON), 9, 2500.0,
                     17, -1, -1, -1, 3, 4))
    assert list(by_lead) == list(by_tuple)
    assert _stored_bytes(by_lead) == _stored_bytes(by_tuple)


def test_columns_read_earlier_survive_growth() -> None:
    """The columns are replaced, never resized in place: columns already read stay valid (NumPy
    views of a bytearray would otherwise forbid the resize)."""
    records = LeadRecords()
    records.append(_record(0, 0.0))
    early = records.columns()
    for i in range(1, 5000):  # several reallocations
        records.append(_record(i, float(i)))
    np.testing.assert_array_equal(early["lead"], [0])
    np.testing.assert_array_equal(records.columns()["lead"], np.arange(5000))


def test_a_value_out_of_its_column_type_is_an_error_not_a_wrap() -> None:
    records = LeadRecords()
    row = list(_record(0, 0.0))
    row[LEAD_FIELDS.index("state")] = 300  # int8
    with pytest.raises((struct.error, OverflowError)):
        records.append(tuple(row))
    assert len(records) == 0


def test_records_added_field_by_field_are_the_packed_tuples() -> None:
    """:meth:`LeadRecords.add` — a ``BytesWriter`` per column where the module is compiled,
    ``struct`` rows split by NumPy in Python — stores, column by column, the bytes of the records
    packed as rows of ``LEAD_STRUCT``, across several moves of 8,192 pending records into the
    columns; and columns read in between stay valid."""
    records = LeadRecords()
    rows = [_record(i, 0.5 * i) for i in range(25_000)]  # the pending records move over three times
    early = None
    for i, row in enumerate(rows):
        records.add(*row)
        if i == 3:
            early = records.columns()
    assert early is not None
    np.testing.assert_array_equal(early["lead"], np.arange(4))
    assert len(records) == 25_000
    packed = np.frombuffer(b"".join(LEAD_STRUCT.pack(*row) for row in rows), dtype=LEAD_RECORD_DTYPE)
    assert _stored_bytes(records) == [packed[name].tobytes() for name in LEAD_FIELDS]
    np.testing.assert_array_equal(records.columns()["created_t"], 0.5 * np.arange(25_000))
    assert all(column.flags.c_contiguous for column in records.columns().values())


def test_a_record_added_out_of_its_column_type_is_an_error_and_not_written() -> None:
    records = LeadRecords()
    records.add(*_record(0, 0.0))
    row = list(_record(1, 1.0))
    row[LEAD_FIELDS.index("state")] = 300  # int8
    with pytest.raises((struct.error, OverflowError)):
        records.add(*row)
    assert len(records) == 1 and [r[0] for r in records] == [0]


def test_copies_and_pickles_are_independent() -> None:
    import copy
    import pickle

    records = LeadRecords()
    records.append(_record(0, 0.0))
    records.append(_record(1, 1.0))
    for clone in (copy.deepcopy(records), pickle.loads(pickle.dumps(records)), copy.copy(records)):
        clone.append(_record(2, 2.0))
        assert len(clone) == 3 and len(records) == 2
        assert [row[0] for row in clone] == [0, 1, 2]
    assert [row[0] for row in records] == [0, 1]


def test_empty_records() -> None:
    records = LeadRecords()
    assert len(records) == 0 and list(records) == [] and records == []
    assert all(len(column) == 0 for column in records.columns().values())


@settings(deadline=None, max_examples=30)
@given(n=st.integers(0, 300), reserve=st.integers(0, 400))
def test_columns_hold_every_record_whatever_the_reservation(n: int, reserve: int) -> None:
    records = LeadRecords()
    records.reserve(reserve)
    for i in range(n):
        records.append(_record(i, float(i)))
    table = records.columns()
    assert len(records) == n
    np.testing.assert_array_equal(table["lead"], np.arange(n))
    np.testing.assert_array_equal(table["end_t"], np.arange(n) + 1.0)


# --------------------------------------------------------------------------- running totals


@pytest.mark.parametrize("name", ["pod", "hiring_front_loaded"])
def test_routing_shares_from_running_totals_equal_sums_over_reps(name: str) -> None:
    """A desk's free share (read by least-loaded routing) comes from the pool's running totals;
    at every month end of a run with hires, exits and ramp they equal the sums over its reps."""
    from pathlib import Path

    import sim
    from sim.model.world import World
    from sim.workcalendar import DAYS_PER_MONTH

    root = Path(__file__).resolve().parents[1]
    scenario = sim.load_scenario(root / "scenarios" / f"{name}.yaml", overrides=["horizon_months=9"])
    world = World(scenario, 11, 0)
    world.workforce.start()
    world.arrive_mqls()
    checked = 0
    for month in range(1, 9):
        world.env.run(until=month * DAYS_PER_MONTH)
        for team in world.teams:
            for desk in team.desks[Desk.DEVELOPMENT].values():
                reps = desk.pool.reps
                capacity = sum(rep.capacity for rep in reps)
                assert desk.pool.capacity.value == capacity
                assert desk.pool.busy.value == sum(rep.load for rep in reps)
                if capacity > 0:
                    want = (capacity - sum(rep.load for rep in reps) - len(desk.queue)) / capacity
                    assert desk.free_share() == want
                    checked += 1
    assert checked > 0
