"""The event calendar of one replication: a clock and one queue for SimPy's events and for
plain calls.

This module owns how events are ordered and dispatched. Rep life cycles, hiring and the
month books are SimPy processes and events as usual. Lead-level steps — an MQL arriving, a
lead's cadence ending, an SQL reaching its closer, a deal closing — happen hundreds of
thousands of times per replication and need nothing of SimPy's event machinery (no value,
no failure, no process waiting on them): they are *calls* put on the same calendar with
:meth:`Timeline.call_at`.

A call is an entry ``(time, NORMAL, id, function, args)`` in the queue — or ``(time, NORMAL,
id, function, a, b[, c])`` from :meth:`Timeline.call2` and :meth:`Timeline.call3`, which the
desks use for their steps — next to the ``(time, priority, id, event)`` entries of ordinary
events, numbered from the same counter.
Ordering is therefore exactly SimPy's (time, then priority, then scheduling order) and a
model gives the same records whether a step is a call or a ``Timeout`` with a callback, at
about a third of the cost per step (no event object, no callback list, no closure).

A chain that always has exactly one call pending — the MQL arrivals, whose times are known
in advance — can keep it beside the heap instead of in it (:meth:`Timeline.call_next`):
the same entry, compared with the heap's first one at every step, which saves a push and a
pop per arrival without changing the order.

Two classes share the work. :class:`Timeline` holds the clock (``now``), the queue and the
loop that steps through it; it is a plain class of its own, so that the compiled build
(:mod:`sim.compiled`) makes it a native one: the lead-level code reads ``timeline.now`` as a C
double and calls :meth:`Timeline.call_at` directly. :class:`Environment` is the
:class:`simpy.Environment` that SimPy's processes and events see; it keeps no clock or queue of
its own but forwards ``now``, ``schedule``, ``step``, ``peek`` and ``run`` to its timeline.

The queue itself comes in two variants with the same order. :class:`Timeline` keeps the entries
as tuples on :mod:`heapq`, the fastest under CPython. Where this module is compiled,
:class:`Environment` uses :class:`NativeTimeline`, which keeps :class:`Entry` objects and sifts
them itself: C comparisons of doubles and integers instead of heapq's generic tuple comparison.
It also keeps later entries out of the heap, in a wheel of time slots sized to the org's lead rate
and, beyond the wheel, in day buckets, and reuses the entry of the call being made: what makes a
large org's calendar cost about as much per step as a small one's (see the class).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Final

import simpy
from mypy_extensions import i64, mypyc_attr
from simpy.core import NORMAL, URGENT, EmptySchedule, EventPriority, Infinity, StopSimulation

from sim.compiled import is_compiled

__all__ = ["Entry", "Environment", "NativeTimeline", "Timeline"]

_NORMAL: Final[int] = NORMAL
_INFINITY: Final[float] = Infinity
"""SimPy's ``NORMAL`` priority and ``Infinity``, as final names: C statics in the compiled build,
where an imported name is looked up in the module's dictionary at every use."""

_FAR_DAYS: Final = 2.0**40
"""Entries due this late (3 billion years) or later stay in a :class:`NativeTimeline`'s heap, like
infinite ones: day numbers and slot numbers below it are exact in doubles and in 64-bit integers."""
WHEEL_DAYS: Final = 64
"""Days ahead that a :class:`NativeTimeline` keeps in its wheel of time slots; entries due later
wait in day buckets until the wheel reaches their day."""
SLOT_ENTRIES: Final = 16
"""About how many entries a :class:`NativeTimeline` slot should hold (:func:`slots_per_day_for`)."""
MAX_SLOTS_PER_DAY: Final = 1024
"""The finest slots (about 84 s of simulated time each)."""


def slots_per_day_for(entries_per_day: float) -> int:
    """Slots a day for a :class:`NativeTimeline` that expects ``entries_per_day`` calendar entries:
    the power of two (1 to ``MAX_SLOTS_PER_DAY``) that gives a slot about ``SLOT_ENTRIES`` of them,
    so that the heap holds about as many entries in a large org as in a small one."""
    slots = 1
    while slots * SLOT_ENTRIES < entries_per_day and slots < MAX_SLOTS_PER_DAY:
        slots *= 2
    return slots

_COMPILED = is_compiled(__file__)
"""Whether this module runs compiled: then :class:`Environment` uses :class:`NativeTimeline`."""


class Timeline:
    """The clock and the queue of what happens next, of one replication (see the module docstring).

    Parameters
    ----------
    initial_time : float
        The clock at the start (days).
    """

    def __init__(self, initial_time: float = 0.0) -> None:
        self.now: float = initial_time
        """The current simulated time (days)."""
        self.queue: list[Any] = []
        """The pending entries, a heap: calls ``(t, NORMAL, id, fn, args)`` and SimPy's
        events ``(t, priority, id, event)``."""
        self.next_id: int = 0
        """The id of the next entry: scheduling order breaks ties of time and priority."""
        self.next_call: Any = None
        """The pending call of :meth:`call_next`, kept out of the heap."""

    def call_at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at time ``t`` (at least now), after what is already due then."""
        now = self.now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        heappush(self.queue, (t if t > now else now, NORMAL, entry_id, fn, args))

    def call2(self, t: float, fn: Callable[[Any, Any], Any], a: Any, b: Any) -> None:
        """:meth:`call_at` of a function of two arguments, kept in the entry itself (no tuple of
        arguments): the lead-level steps, hundreds of thousands per replication."""
        now = self.now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        heappush(self.queue, (t if t > now else now, NORMAL, entry_id, fn, a, b))

    def call3(self, t: float, fn: Callable[[Any, Any, Any], Any], a: Any, b: Any, c: Any) -> None:
        """:meth:`call_at` of a function of three arguments (see :meth:`call2`)."""
        now = self.now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        heappush(self.queue, (t if t > now else now, NORMAL, entry_id, fn, a, b, c))

    def call_next(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """As :meth:`call_at`, for a chain that keeps one call pending at a time (each call
        schedules the next). The call waits beside the heap; a second one goes into the heap."""
        now = self.now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        entry = (t if t > now else now, NORMAL, entry_id, fn, args)
        if self.next_call is None:
            self.next_call = entry
        else:
            heappush(self.queue, entry)

    def schedule(self, event: simpy.Event, priority: int, delay: float) -> None:
        """Put a SimPy event on the queue, ``delay`` days from now (SimPy's ``schedule``)."""
        entry_id = self.next_id
        self.next_id = entry_id + 1
        heappush(self.queue, (self.now + delay, priority, entry_id, event))

    @property
    def processed(self) -> int:
        """Entries processed so far (events and calls, including calls that found nothing left
        to do): every id handed out, less what is still pending."""
        return self.next_id - len(self.queue) - (self.next_call is not None)

    def peek(self) -> float:
        """Time of the next scheduled event or call (``Infinity`` if there is none)."""
        queue = self.queue
        t = queue[0][0] if queue else Infinity
        return min(t, self.next_call[0]) if self.next_call is not None else t

    def step(self) -> None:
        """Process the next entry: a call, or an event with its callbacks."""
        queue = self.queue
        entry: Any = self.next_call
        if entry is not None and (not queue or entry < queue[0]):  # ids are unique: decided by (t, prio, id)
            self.next_call = None
        else:
            if not queue:
                raise EmptySchedule
            entry = heappop(queue)
        self.now = entry[0]
        size = len(entry)
        if size == 7:  # call3
            entry[3](entry[4], entry[5], entry[6])
        elif size == 6:  # call2
            entry[3](entry[4], entry[5])
        elif size == 5:  # call_at
            entry[3](*entry[4])
        else:
            self._trigger(entry[3])

    def run(self) -> Any:
        """Step until the queue is empty (returns None) or an event stops the run (returns
        its value)."""
        try:
            while True:
                self.step()
        except StopSimulation as stop:
            return stop.args[0]

    def _trigger(self, event: simpy.Event) -> None:
        # As simpy.Environment.step (SimPy 4.1): callbacks, then a failed, undefused event crashes the run.
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, EventPriority(-1), 0.0)
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


@mypyc_attr(free_list_len=1)
class Entry:
    """One pending step of a :class:`NativeTimeline`: a call ``fn(*args)``, ``fn(a, b)`` or
    ``fn(a, b, c)`` (``nargs`` -1, 2 or 3), or, with ``fn`` None, the SimPy event ``args``.

    The compiled class keeps the last freed entry for the next one made (``free_list_len``): the
    MQL arrivals, SimPy's events and :meth:`Timeline.call_at` make one and free it once done."""

    def __init__(self, t: float, priority: int, entry_id: int, fn: Any, args: Any, nargs: int = -1,
                 a: Any = None, b: Any = None, c: Any = None) -> None:
        self.t = t
        self.priority = priority
        self.entry_id = entry_id
        self.fn = fn
        self.args = args
        self.nargs = nargs
        self.a = a
        self.b = b
        self.c = c


def _before(a: Entry, b: Entry) -> bool:
    """Whether ``a`` comes before ``b``: by time, then priority, then id — the order of the
    tuples of :class:`Timeline` (a NaN time comes before nothing and after nothing, as there)."""
    if a.t != b.t:
        return a.t < b.t
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.entry_id < b.entry_id


class NativeTimeline(Timeline):
    """A :class:`Timeline` whose queue holds :class:`Entry` objects, sifted by this class, and
    keeps later entries in a wheel of time slots.

    The order is the same (:func:`_before`); only the representation differs. heapq compares
    tuples through Python's generic rich comparison, field by field; here the comparison is
    typed, and the compiled build turns it into C comparisons of doubles and integers. In pure
    Python the hand-written sifting is slower than heapq's C code, so :class:`Environment` uses
    this class only where this module is compiled.

    Two more things keep a large org's calendar cheap:

    - **A wheel of time slots.** Only the entries due before ``horizon`` (the end of the current
      slot) are in the heap. A later entry — a cadence ending this afternoon or next week — is
      appended to the list of its slot in a wheel that covers ``WHEEL_DAYS`` days ahead, and joins
      the heap, all at once with the rest of its slot, when the clock gets there; an entry due
      later still (a deal closing in three months) waits in the bucket of its day until the wheel
      reaches that day. Every heap entry comes before every waiting one, so the order is exactly
      that of one heap. A day has ``slots_per_day`` slots, a power of two chosen for the expected
      number of entries (:func:`slots_per_day_for`, from the org's lead rate in
      :class:`~sim.model.world.World`), so that a slot holds about ``SLOT_ENTRIES`` of them at any
      org size: the heap a pop sifts through stays as shallow in a large org as in a small one
      (one heap of a day's entries, as this class kept before, was four levels deeper at ref×16
      than at ref, a tenth of the ratio of their costs), and it holds entries just put there,
      still in cache. Slot bounds are exact (``t * slots_per_day`` is exact for a power of two),
      so an entry's slot and the heap's horizon always agree. In a run's first month the heap
      holds more: the first fill comes while only the MQL arrivals (:meth:`call_next`) are
      pending and moves on to the first slot that holds something, the month's end, so the
      month's steps go straight to the heap.
    - **Calls without a tuple.** :meth:`call2` and :meth:`call3` keep their arguments in the
      entry, and the entry of the call being made is reused by the next call it schedules
      (``spares``): after the first days, no entry is made or freed for the lead-level steps.
    """

    def __init__(self, initial_time: float = 0.0, slots_per_day: int = 1) -> None:
        if not initial_time >= 0.0:
            raise ValueError(f"a NativeTimeline starts at time 0 or later (got {initial_time})")
        if slots_per_day < 1 or slots_per_day & (slots_per_day - 1) or slots_per_day > MAX_SLOTS_PER_DAY:
            raise ValueError(f"slots_per_day must be a power of two from 1 to {MAX_SLOTS_PER_DAY} "
                             f"(got {slots_per_day})")
        super().__init__(initial_time)
        self.spares: list[Entry] = []
        """Entries of calls already made, free for the next :meth:`call2` or :meth:`call3`; the
        last is the call being made (still in cache)."""
        self.slots_per_day: i64 = slots_per_day
        self.slot_scale: float = float(slots_per_day)
        """``slots_per_day`` as a float: ``int(t * slot_scale)`` is the number of the slot holding ``t``."""
        self.wheel: list[list[Entry] | None] = [None] * (WHEEL_DAYS * slots_per_day)
        """The entries of each slot of the next ``WHEEL_DAYS`` days (slot number modulo the wheel's
        size; None: nothing there)."""
        self.wheel_mask: i64 = WHEEL_DAYS * slots_per_day - 1
        self.cursor: i64 = int(initial_time * self.slot_scale) + 1
        """The number of the next slot to join the heap."""
        self.horizon: float = float(self.cursor) / self.slot_scale
        """Entries due before this time (the start of slot ``cursor``) are in the heap."""
        self.wheel_end: float = float(self.cursor // slots_per_day + WHEEL_DAYS)
        """Entries due from ``horizon`` to this time wait in the wheel, later ones in ``buckets``:
        the wheel holds the ``WHEEL_DAYS`` days from the one of slot ``cursor`` on (whose slots do
        not share a place in the wheel with any slot not yet in the heap)."""
        self.wheeled: i64 = 0
        """Entries waiting in the wheel."""
        self.buckets: dict[int, list[Entry]] = {}
        """Day number (time // 1) → its entries due beyond the wheel, in the order they were scheduled."""
        self.bucket_numbers: list[int] = []
        """The numbers of the buckets, a heap."""
        self.bucketed: int = 0
        """Entries waiting outside the heap (in the wheel or in buckets)."""

    @property
    def processed(self) -> int:
        return self.next_id - len(self.queue) - self.bucketed - (self.next_call is not None)

    def call_at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        now = self.now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        self._push(Entry(t if t > now else now, _NORMAL, entry_id, fn, args))

    def call2(self, t: float, fn: Callable[[Any, Any], Any], a: Any, b: Any) -> None:
        self._push_call(t, fn, 2, a, b, None)

    def call3(self, t: float, fn: Callable[[Any, Any, Any], Any], a: Any, b: Any, c: Any) -> None:
        self._push_call(t, fn, 3, a, b, c)

    def _push_call(self, t: float, fn: Any, nargs: int, a: Any, b: Any, c: Any) -> None:
        now = self.now
        if not t > now:  # as call_at: at least now (a NaN time too)
            t = now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        spares = self.spares
        if not spares:
            entry = Entry(t, _NORMAL, entry_id, fn, None, nargs, a, b, c)
        else:
            entry = spares.pop()
            entry.t = t
            entry.entry_id = entry_id
            entry.fn = fn
            entry.nargs = nargs
            entry.a = a
            entry.b = b
            entry.c = c
        self._push(entry)

    def call_next(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        now = self.now
        entry_id = self.next_id
        self.next_id = entry_id + 1
        entry = Entry(t if t > now else now, _NORMAL, entry_id, fn, args)
        if self.next_call is None:
            self.next_call = entry
        else:
            self._push(entry)

    def schedule(self, event: simpy.Event, priority: int, delay: float) -> None:
        entry_id = self.next_id
        self.next_id = entry_id + 1
        self._push(Entry(self.now + delay, priority, entry_id, None, event))

    def peek(self) -> float:
        self._fill()
        queue: list[Entry] = self.queue
        t = queue[0].t if queue else _INFINITY
        nxt: Entry | None = self.next_call
        return min(t, nxt.t) if nxt is not None else t

    def step(self) -> None:
        queue: list[Entry] = self.queue
        if self.bucketed and (not queue or not queue[0].t < self.horizon):
            self._fill()
        entry: Entry | None = self.next_call
        if entry is not None and (not queue or _before(entry, queue[0])):
            self.next_call = None
        else:
            if not queue:
                raise EmptySchedule
            entry = self._pop()
        self.now = entry.t
        fn = entry.fn
        if fn is not None:
            nargs = entry.nargs
            if nargs < 0:
                fn(*entry.args)
                return
            a, b, c = entry.a, entry.b, entry.c
            entry.a = entry.b = entry.c = entry.fn = None
            self.spares.append(entry)  # the call's own entry, still in cache, for the next call it makes
            if nargs == 3:
                fn(a, b, c)
            else:
                fn(a, b)
        else:
            self._trigger(entry.args)

    def _push(self, entry: Entry) -> None:
        """Add ``entry`` to the heap if it is due before ``horizon``, else to its slot or its day."""
        t = entry.t
        if t < self.horizon or not t < _FAR_DAYS:  # an infinite, NaN or absurdly late time stays in the heap
            queue: list[Entry] = self.queue
            queue.append(entry)
            self._sift_up(len(queue) - 1, entry)
            return
        self.bucketed += 1
        if t < self.wheel_end:
            self.wheeled += 1
            k: i64 = int(t * self.slot_scale) & self.wheel_mask
            slot = self.wheel[k]
            if slot is None:
                self.wheel[k] = [entry]
            else:
                slot.append(entry)
            return
        number = int(t // 1.0)
        bucket = self.buckets.get(number)
        if bucket is None:
            self.buckets[number] = [entry]
            heappush(self.bucket_numbers, number)
        else:
            bucket.append(entry)

    def _fill(self) -> None:
        """Move the next slots into the heap until it holds the first entry due."""
        queue: list[Entry] = self.queue
        slots_per_day = self.slots_per_day
        while not queue or not queue[0].t < self.horizon:
            if self.wheeled == 0:  # nothing in the wheel: on to the next day that holds something
                if not self.bucket_numbers:
                    return
                day: i64 = self.bucket_numbers[0]
                self.cursor = day * slots_per_day
                self.horizon = float(day)
                self.wheel_end = float(day + WHEEL_DAYS)
                while self.bucket_numbers and self.bucket_numbers[0] < day + WHEEL_DAYS:
                    self._to_wheel(heappop(self.bucket_numbers))
                continue
            number = self.cursor
            self.cursor = number + 1
            self.horizon = float(number + 1) / self.slot_scale
            k = number & self.wheel_mask
            part = self.wheel[k]
            if part is not None:
                self.wheel[k] = None
                size = len(part)
                self.wheeled -= size
                self.bucketed -= size
                queue.extend(part)
                for pos in range(len(queue) // 2 - 1, -1, -1):  # heapify
                    self._sift_down(pos, queue[pos])
            if (number + 1) % slots_per_day == 0:  # a new day: the wheel reaches one day further
                last_day = (number + 1) // slots_per_day + WHEEL_DAYS - 1
                self.wheel_end = float(last_day + 1)
                if self.bucket_numbers and self.bucket_numbers[0] == last_day:
                    self._to_wheel(heappop(self.bucket_numbers))

    def _to_wheel(self, day: int) -> None:
        """Move the bucket of ``day`` into the wheel's slots: push its entries again, now that
        ``wheel_end`` lies beyond their day."""
        bucket = self.buckets.pop(day)
        self.bucketed -= len(bucket)
        for entry in bucket:
            self._push(entry)

    def _pop(self) -> Entry:
        """Remove and return the first entry of the heap (heapq's ``heappop``: the hole goes down
        to a leaf, the last entry comes up from there)."""
        queue: list[Entry] = self.queue
        last = queue.pop()
        if not queue:
            return last
        first = queue[0]
        end: i64 = len(queue)  # i64 (a plain int in Python): C arithmetic and list indexing where compiled
        pos: i64 = 0
        child: i64 = 1
        while child < end:
            smaller = queue[child]  # each child read once: a list read is a call in the compiled build
            right = child + 1
            if right < end:
                other = queue[right]
                if not _before(smaller, other):
                    child = right
                    smaller = other
            queue[pos] = smaller
            pos = child
            child = 2 * pos + 1
        self._sift_up(pos, last)
        return first

    def _sift_up(self, pos: i64, entry: Entry) -> None:
        """Put ``entry`` at ``pos`` or above it, moving down the parents it comes before."""
        queue: list[Entry] = self.queue
        while pos > 0:
            parent_pos = (pos - 1) >> 1
            parent = queue[parent_pos]
            if not _before(entry, parent):
                break
            queue[pos] = parent
            pos = parent_pos
        queue[pos] = entry

    def _sift_down(self, pos: i64, entry: Entry) -> None:
        """Put ``entry`` at ``pos`` or below it, moving up the children that come before it."""
        queue: list[Entry] = self.queue
        end: i64 = len(queue)
        child: i64 = 2 * pos + 1
        while child < end:
            smaller = queue[child]
            right = child + 1
            if right < end:
                other = queue[right]
                if _before(other, smaller):
                    child = right
                    smaller = other
            if not _before(smaller, entry):
                break
            queue[pos] = smaller
            pos = child
            child = 2 * pos + 1
        queue[pos] = entry


class Environment(simpy.Environment):
    """The :class:`simpy.Environment` of a replication, on a :class:`Timeline`.

    SimPy's processes and events use it as usual; its clock and queue are the timeline's
    (``env.timeline``), which the lead-level code uses directly.
    """

    def __init__(self, initial_time: float = 0, native: bool | None = None, slots_per_day: int = 1) -> None:
        use_native = _COMPILED if native is None else native
        self.timeline: Timeline = (NativeTimeline(float(initial_time), slots_per_day) if use_native
                                   else Timeline(float(initial_time)))
        super().__init__(initial_time)

    @property
    def now(self) -> float:  # type: ignore[override]
        """The current simulated time (days)."""
        return self.timeline.now

    @property
    def _now(self) -> float:  # type: ignore[override]  # SimPy's own attribute, for code that reads it
        return self.timeline.now

    @_now.setter
    def _now(self, t: float) -> None:
        self.timeline.now = float(t)

    def call_at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """:meth:`Timeline.call_at`."""
        self.timeline.call_at(t, fn, *args)

    def call_next(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """:meth:`Timeline.call_next`."""
        self.timeline.call_next(t, fn, *args)

    def schedule(self, event: simpy.Event, priority: EventPriority = NORMAL, delay: float = 0) -> None:
        """Schedule an *event* with a given *priority* and a *delay* (as SimPy's)."""
        self.timeline.schedule(event, priority, delay)

    def peek(self) -> float:
        """Time of the next scheduled event or call (``Infinity`` if there is none)."""
        return self.timeline.peek()

    def step(self) -> None:
        """Process the next event or call."""
        self.timeline.step()

    def run(self, until: float | simpy.Event | None = None) -> Any:
        """As :meth:`simpy.Environment.run`: to time ``until``, until an event, or until the
        queue is empty; the steps run in :meth:`Timeline.run`."""
        if until is not None:
            if not isinstance(until, simpy.Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = simpy.Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self.now)
            elif until.callbacks is None:
                return until.value  # already processed
            until.callbacks.append(StopSimulation.callback)
        try:
            return self.timeline.run()
        except EmptySchedule:
            pass
        if until is not None:
            assert not until.triggered
            raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {until}')
        return None
