"""Self-service: segments sold without a rep, through a trial (``closed_by: none``).

This module owns the trials. A lead of a self-service segment starts a trial when it signs up (a
lead source ``worked_by: none``: no development rep ever touches it) or, worked by a development
rep, when it becomes an SQL (no hand-off, no closer). The trial lasts ``trial.days`` and then
converts — the lead is won and becomes a customer with its MRR, as a deal closed by a rep would —
or lapses (:attr:`~sim.eventlog.LeadState.TRIAL_LAPSED`). Its record shows it: ``trial_t`` is the
trial's start, ``close_t`` its end, and, unless a rep assisted, no rep (``closer_rep`` -1).

What decides the trial is drawn with the lead (common random numbers): its length is the trial's
``days`` at the lead's first meeting-gap uniform, and it converts when the lead's first
meeting-pass uniform is below ``conversion_probability`` — draws a self-service lead has no other
use for, since it never has a meeting. A touch-assist role (``trial.assisted_by``, the job
``assist_trials``) multiplies the odds of converting by ``assisted_odds_multiplier`` for the
trials its reps touch: a trial is assisted when, at its start, a rep of the role has room (at most
``trials_assisted`` × productivity trials at once, least loaded rep first); the rep's id is the
record's ``closer_rep``. More assisting reps never turn a conversion into a lapse.

The :class:`SelfService` object is the replication's (like :class:`~sim.model.accounts.Accounts`)
and the desk of every pool of a touch-assist role (the ``Desk`` protocol of
:mod:`sim.model.workforce`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sim.eventlog import EventLog, LeadState
from sim.model.engine.calendar import Environment, Timeline
from sim.model.engine.odds import scale_odds
from sim.model.engine.repheap import RepHeap, rep_heap
from sim.model.engine.sampling import ScalarPpf, scalar_ppf
from sim.model.leads import Lead, hold, release
from sim.model.workforce import Rep, RolePool
from sim.scenario import SegmentSpec

_WON: Final = int(LeadState.WON)
_LAPSED: Final = int(LeadState.TRIAL_LAPSED)


class SelfService:
    """The self-service trials of one replication, and the reps who touch them.

    Parameters
    ----------
    segments : list of SegmentSpec
        The scenario's segments, in order (a lead's ``segment`` indexes them).
    on_won : callable
        Called with a lead whose trial converted (it becomes a customer).
    """

    def __init__(self, env: Environment, log: EventLog, segments: list[SegmentSpec],
                 on_won: Callable[[Lead], None]) -> None:
        self.env = env
        self.timeline: Timeline = env.timeline
        self.log = log
        self.on_won = on_won
        self.self_serve: list[bool] = [seg.trial is not None for seg in segments]
        """Per segment: sold through a trial (``closed_by: none``)."""
        self.days: list[ScalarPpf | None] = [scalar_ppf(seg.trial.days) if seg.trial is not None else None
                                             for seg in segments]
        self.conversion: list[float] = [seg.trial.conversion_probability if seg.trial is not None else 0.0
                                        for seg in segments]
        self.assisted_by: list[str] = [seg.trial.assisted_by or "" if seg.trial is not None else ""
                                       for seg in segments]
        self.assisted_odds: list[float] = [seg.trial.assisted_odds_multiplier if seg.trial is not None else 1.0
                                           for seg in segments]
        self.in_trial: list[Lead] = []
        """Leads whose trial is running (``hold``/``release``)."""
        self.assistants: dict[str, list[RolePool]] = {}
        """Touch-assist role → its pools (one per team that has the role)."""
        self.room: dict[int, RepHeap] = {}
        """Pool index → its assisting reps with room, least loaded first (a rep heap)."""
        self.reps: dict[int, Rep] = {}
        """Assisting reps by id (a lead keeps its assistant's id, not a reference)."""
        self._end_step: Callable[[Lead, bool], None] = self._end
        """``_end`` bound once: the timeline gets the same object for every trial."""

    # ------------------------------------------------------------------ desk protocol (assisting reps)

    def attach(self, pool: RolePool) -> None:
        """Touch trials with the reps of ``pool`` (a role with the job ``assist_trials``, in one team)."""
        pool.desk = self
        self.assistants.setdefault(pool.name, []).append(pool)
        self.room[pool.pool_index] = rep_heap()

    def _capacity(self, rep: Rep) -> float:
        return (rep.pool.spec.trials_assisted or 0.0) * rep.productivity

    def _touch(self, rep: Rep) -> None:
        heap = self.room[rep.pool.pool_index]
        if rep.active and rep.load + 1 <= rep.capacity + 1e-9:
            heap.update(rep, rep.load / rep.capacity)
        else:
            heap.remove(rep)

    def rep_joined(self, rep: Rep) -> None:
        self.reps[rep.id] = rep
        rep.capacity = self._capacity(rep)
        rep.pool.capacity.add(self.timeline.now, rep.capacity)
        self._touch(rep)

    def productivity_changed(self, rep: Rep) -> None:
        new = self._capacity(rep)
        rep.pool.capacity.add(self.timeline.now, new - rep.capacity)
        rep.capacity = new
        self._touch(rep)

    def rep_leaving(self, rep: Rep, lose: bool = False) -> None:
        """The trials the rep touched run on without it (their outcome was set when they started)."""
        now = self.timeline.now
        rep.pool.capacity.add(now, -rep.capacity)
        rep.pool.busy.add(now, -rep.load)
        rep.capacity = 0.0
        rep.load = 0
        self._touch(rep)
        del self.reps[rep.id]

    # ------------------------------------------------------------------ flow

    def start(self, lead: Lead) -> None:
        """``lead`` signs up now: its trial starts; its end (conversion or lapse) is scheduled."""
        now = self.timeline.now
        seg = lead.segment
        lead.trial_t = now
        u_pass, u_gap = lead.meeting_draws()
        days = self.days[seg]
        assert days is not None
        end = now + max(0.0, days.ppf1(u_gap[0]))
        p = self.conversion[seg]
        role = self.assisted_by[seg]
        if role:
            rep = self._assistant(role)
            if rep is not None:
                rep.load += 1
                rep.pool.busy.add(now, 1)
                self._touch(rep)
                lead.closer_rep = rep.id
                lead.closer_team = rep.pool.team
                p = scale_odds(p, self.assisted_odds[seg] * rep.conversion_multiplier())
        hold(self.in_trial, lead)
        self.timeline.call2(end, self._end_step, lead, u_pass[0] < p)

    def _assistant(self, role: str) -> Rep | None:
        """The least-loaded rep of ``role`` with room for one more trial, over its pools (None: none)."""
        best: Rep | None = None
        for pool in self.assistants.get(role, ()):
            rep = self.room[pool.pool_index].best()
            if rep is not None and (best is None or rep.load / rep.capacity < best.load / best.capacity):
                best = rep
        return best

    def _end(self, lead: Lead, converts: bool) -> None:
        now = self.timeline.now
        release(self.in_trial, lead)
        rep = self.reps.get(lead.closer_rep) if lead.closer_rep >= 0 else None
        if rep is not None:
            rep.load -= 1
            rep.pool.busy.add(now, -1)
            self._touch(rep)
        if converts:
            lead.record_to(self.log.leads, now, _WON, close_t=now, mrr_usd=lead.mrr_usd)
            self.on_won(lead)
        else:
            lead.record_to(self.log.leads, now, _LAPSED, close_t=now)

    # ------------------------------------------------------------------ end of run

    def backlog(self) -> int:
        return 0

    def finalize(self, t_end: float) -> None:
        """Trials still running at the horizon are written as open."""
        for lead in sorted(self.in_trial, key=lambda x: x.id):
            lead.record_to(self.log.leads, t_end, int(LeadState.OPEN))
        self.in_trial.clear()
