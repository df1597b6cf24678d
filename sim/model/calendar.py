"""The event calendar of one replication: SimPy's environment with a fast lane for plain calls.

This module owns how events are ordered and dispatched. Rep life cycles, hiring and the
month books are SimPy processes and events as usual. Lead-level steps — an MQL arriving, a
lead's cadence ending, an SQL reaching its closer, a deal closing — happen hundreds of
thousands of times per replication and need nothing of SimPy's event machinery (no value,
no failure, no process waiting on them): they are *calls* put on the same calendar with
:meth:`Environment.call_at`.

A call is an entry ``(time, NORMAL, id, function, args)`` in SimPy's own heap, next to the
``(time, priority, id, event)`` entries of ordinary events, numbered from the same counter.
Ordering is therefore exactly SimPy's (time, then priority, then scheduling order) and a
model gives the same records whether a step is a call or a ``Timeout`` with a callback, at
about a third of the cost per step (no event object, no callback list, no closure).

A chain that always has exactly one call pending — the MQL arrivals, whose times are known
in advance — can keep it beside the heap instead of in it (:meth:`Environment.call_next`):
the same entry, compared with the heap's first one at every step, which saves a push and a
pop per arrival without changing the order.

The desks read the clock as ``env._now`` (SimPy's own attribute, which this class's ``step``
sets) rather than through the ``now`` property, which costs a Python call each time: lead-level
code reads the clock a few times per lead.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import NORMAL, EmptySchedule, EventPriority, Infinity, StopSimulation

__all__ = ["Environment"]


class Environment(simpy.Environment):
    """A :class:`simpy.Environment` that also runs plain calls (:meth:`call_at`, :meth:`call_next`)."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self._next_call: Any = None
        """The pending call of :meth:`call_next`, kept out of the heap."""

    def call_at(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` at time ``t`` (at least now), after what is already due then."""
        now = self._now
        heappush(self._queue, (t if t > now else now, NORMAL, next(self._eid), fn, args))  # type: ignore[misc]

    def call_next(self, t: float, fn: Callable[..., Any], *args: Any) -> None:
        """As :meth:`call_at`, for a chain that keeps one call pending at a time (each call
        schedules the next). The call waits beside the heap; a second one goes into the heap."""
        now = self._now
        entry = (t if t > now else now, NORMAL, next(self._eid), fn, args)
        if self._next_call is None:
            self._next_call = entry
        else:
            heappush(self._queue, entry)  # type: ignore[misc]

    def peek(self) -> float:
        """Time of the next scheduled event or call (``Infinity`` if there is none)."""
        queue: Any = self._queue  # holds calls (5-tuples) beside SimPy's 4-tuples: not the type SimPy declares
        t = queue[0][0] if queue else Infinity
        return min(t, self._next_call[0]) if self._next_call is not None else t

    def step(self) -> None:
        """Process the next entry of the calendar: a call, or an event with its callbacks."""
        queue: Any = self._queue  # as in peek
        entry: Any = self._next_call
        if entry is not None and (not queue or entry < queue[0]):  # ids are unique: decided by (t, prio, id)
            self._next_call = None
        else:
            try:
                entry = heappop(queue)
            except IndexError:
                raise EmptySchedule from None
        self._now = entry[0]
        if len(entry) == 5:  # a plain call
            entry[3](*entry[4])
        else:
            self._trigger(entry[3])

    def _trigger(self, event: simpy.Event) -> None:
        # As simpy.Environment.step (SimPy 4.1): callbacks, then a failed, undefused event crashes the run.
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1:]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc
