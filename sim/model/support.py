"""Supporting reps (sales engineers): a pooled role whose time some opportunity meetings need.

This module owns the pool of a supporting role (the job ``support_meetings``). A segment's
``opportunity.support`` names the role and which meetings need it. When such a meeting is due,
the closing desk asks the role's :class:`SupportDesk` for a rep: the least-loaded rep of the role
with room (at most ``meetings_supported`` × productivity meetings at once; all teams' reps form one
pool) takes it at once, or the meeting waits, first come first served, until one frees up. The
rep is held for the segment's ``support.days`` from the meeting's start (drawn from the stream
``support.<role>.hold`` in start order: the meetings' outcomes are the deals' own latent draws,
exactly common across scenarios; the hold times are common only as far as the start order is). The closing desk learns
the start (:meth:`request`'s callback) and pushes the deal's later meetings back by the wait.

Facts for the metrics: the pool's ``capacity`` and ``busy`` levels (``utilization.<role>``), the
meetings waiting at a month's end (``backlog.<role>``), and, per month, the meetings started and
the days they waited (``support_meetings`` and ``support_wait_days`` levels of the role's first
pool, written by :meth:`close_month`).

The :class:`SupportDesk` is the desk of every pool of the role (the ``Desk`` protocol of
:mod:`sim.model.workforce`, from :class:`~sim.model.pooled_desk.PooledRoleDesk`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from sim.model.engine.calendar import Environment
from sim.model.engine.sampling import ScalarPpf
from sim.model.leads import Lead
from sim.model.pooled_desk import PooledRoleDesk
from sim.model.workforce import Rep
from sim.rng import Streams

Granted = Callable[[Lead, int, int], bool]
"""The closing desk's callback: (lead, meeting index, token) → whether the meeting still needs the
rep (False: the deal was lost or reassigned meanwhile, and the rep is not held)."""


class SupportDesk(PooledRoleDesk):
    """The supporting reps of one role, all teams together, and the meetings waiting for them."""

    capacity_field = "meetings_supported"

    def __init__(self, env: Environment, role: str, streams: Streams) -> None:
        super().__init__(env, role)
        self.rng = streams.generator(f"support.{role}.hold")
        """The hold times' uniforms, one per meeting started, in start order (stream
        ``support.<role>.hold``)."""
        self.waiting: deque[tuple[Lead, int, int, float, ScalarPpf, Granted]] = deque()
        """Meetings waiting for a rep: (lead, meeting index, token, due time, hold days, callback)."""
        self.started = 0
        """Meetings started this month (reset by :meth:`close_month`)."""
        self.waited_days = 0.0
        """Days those meetings waited for a rep, summed."""
        self._release_step: Callable[[Rep], None] = self._release

    # ------------------------------------------------------------------ flow

    def request(self, lead: Lead, meeting: int, token: int, hold_days: ScalarPpf, granted: Granted) -> None:
        """Meeting ``meeting`` of ``lead``'s deal is due now and needs a rep of the role: it starts
        now if one has room, else when one frees up (``granted`` is called at its start)."""
        if not self.waiting:
            rep = self.room.best()
            if rep is not None:
                self._start(rep, lead, meeting, token, self.timeline.now, hold_days, granted)
                return
        self.waiting.append((lead, meeting, token, self.timeline.now, hold_days, granted))

    def _start(self, rep: Rep, lead: Lead, meeting: int, token: int, due: float, hold_days: ScalarPpf,
               granted: Granted) -> bool:
        if not granted(lead, meeting, token):
            return False  # the deal no longer needs this meeting: the rep stays free
        now = self.timeline.now
        self.started += 1
        self.waited_days += now - due
        rep.load += 1
        rep.pool.busy.add(now, 1)
        self._touch(rep)
        u = float(self.rng.random())
        self.timeline.call_at(now + max(0.0, hold_days.ppf1(u)), self._release_step, rep)
        return True

    def _release(self, rep: Rep) -> None:
        if rep.id not in self.reps or rep.load <= 0:
            return  # the rep left meanwhile (its load went with it)
        rep.load -= 1
        rep.pool.busy.add(self.timeline.now, -1)
        self._touch(rep)
        self._serve()

    def _serve(self) -> None:
        """Start waiting meetings, oldest first, while a rep has room."""
        while self.waiting:
            rep = self.room.best()
            if rep is None:
                return
            lead, meeting, token, due, hold_days, granted = self.waiting.popleft()
            self._start(rep, lead, meeting, token, due, hold_days, granted)

    # ------------------------------------------------------------------ month end and end of run

    def close_month(self) -> tuple[int, float]:
        """(meetings started, days they waited) since the last call."""
        out = (self.started, self.waited_days)
        self.started, self.waited_days = 0, 0.0
        return out

    def backlog(self) -> int:
        return len(self.waiting)

    def finalize(self, t_end: float) -> None:
        """Waiting meetings belong to open deals, which their closing desk writes as open."""
        self.waiting.clear()
