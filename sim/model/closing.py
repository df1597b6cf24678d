"""Closing desks (AE, FAE): hand-off, the queue for a free closer, and opportunities.

This module owns what happens to an SQL. The hand-off takes a delay and loses a share of
SQLs (each SQL's latent uniforms decide, monotonically in the leakage probability). A closer
holds at most ``max_open_opportunities`` × ramp open opportunities; SQLs beyond that wait in
the role's queue (first come, first served) and go *stale* after ``stale_after_days``.

An opportunity is a chain of meetings: before each, a gap drawn at the lead's creation; at
each, the deal passes when the lead's latent uniform is below the meeting's pass
probability. The outcome and the close date are therefore known when the AE accepts the
SQL — one scheduled event per opportunity — and the sales cycle emerges from the gaps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Final

from sim.eventlog import EventLog, LeadState
from sim.model.engine.calendar import Environment, Timeline
from sim.model.engine.odds import scale_odds
from sim.model.engine.repheap import rep_heap
from sim.model.engine.sampling import ScalarPpf, scalar_ppf
from sim.model.leads import Lead, hold, release
from sim.model.workforce import Rep, RolePool
from sim.scenario import HandoffLegSpec, SegmentSpec

_WON: Final = int(LeadState.WON)
_LOST_DEAL: Final = int(LeadState.LOST_DEAL)
_LOST_IN_HANDOFF: Final = int(LeadState.LOST_IN_HANDOFF)
_STALE: Final = int(LeadState.STALE)
"""End states written once per opportunity, as plain module constants (a C static in the
compiled build, where ``LeadState.X`` is a lookup on the enum class every time)."""


class HandoffLeg:
    """What a hand-off leg's spec says, read once when the router is built (a pydantic model's
    attributes are dictionary lookups): its delay as a scalar inverse CDF, its leakage odds and its
    win-odds multiplier."""

    def __init__(self, spec: HandoffLegSpec) -> None:
        self.delay_days: ScalarPpf = scalar_ppf(spec.delay_days)
        self.leakage_probability: float = spec.leakage_probability
        self.win_odds_multiplier: float = spec.win_odds_multiplier


class ClosingDesk:
    """The opportunities of one closer role."""

    def __init__(
        self,
        env: Environment,
        log: EventLog,
        pool: RolePool,
        segments: list[SegmentSpec],
        stale_after_days: float,
        on_won: Callable[[Lead], None],
        reassign_win_odds_multiplier: float = 1.0,
    ) -> None:
        self.env = env
        self.timeline: Timeline = env.timeline
        self.log = log
        self.pool = pool
        self.stale_after_days = stale_after_days
        self.reassign_win_odds_multiplier = reassign_win_odds_multiplier
        self.on_won = on_won
        self.pass_probabilities = [seg.opportunity.pass_probabilities() for seg in segments]
        self.gap_days = [scalar_ppf(seg.opportunity.gap_days) for seg in segments]
        """Each segment's meeting gap distribution, as a scalar inverse CDF."""
        self.queue: deque[Lead] = deque()
        self.in_transit: list[Lead] = []
        """SQLs on their way to this desk (``hold``/``release``: constant time, any order)."""
        self.orphans: set[Lead] = set()
        """Open deals whose closer left with nobody to take them over."""
        self.closers: dict[int, Rep] = {}
        """The desk's closers by id, for ``Lead.closer_rep`` (a lead keeps no reference to a rep)."""
        self.room = rep_heap()
        """Closers who can open one more opportunity, least loaded first."""
        self.keeps_own_sqls = False
        """A full-cycle role (it also develops leads): an arriving SQL goes to the rep who made it
        when that rep has room, and waits in the queue for any rep otherwise."""
        self._arrive_step: Callable[[Lead, bool], None] = self._arrive
        self._close_step: Callable[[Lead, bool, int], None] = self._close
        """The steps bound once: the timeline gets the same objects for every SQL."""
        pool.desk = self

    # ------------------------------------------------------------------ capacity

    def _set_capacity(self, rep: Rep) -> None:
        new = (self.pool.spec.max_open_opportunities or 0.0) * rep.productivity
        self.pool.capacity.add(self.timeline.now, new - rep.capacity)
        rep.capacity = new
        self._touch(rep)

    def _touch(self, rep: Rep) -> None:
        """Re-rank a closer whose load or capacity changed."""
        if rep.active and rep.load + 1 <= rep.capacity + 1e-9:
            self.room.update(rep, rep.load / rep.capacity)
        else:
            self.room.remove(rep)

    def _least_loaded(self) -> Rep | None:
        """The closer with the lowest load relative to capacity, room or not (None without closers)."""
        return min(self.pool.reps, key=lambda r: (r.load / r.capacity if r.capacity else math.inf, r.id),
                   default=None)

    def rep_joined(self, rep: Rep) -> None:
        self.closers[rep.id] = rep
        self._set_capacity(rep)
        self.fill()

    def productivity_changed(self, rep: Rep) -> None:
        self._set_capacity(rep)
        self.fill()

    def rep_leaving(self, rep: Rep, lose: bool = False) -> None:
        """Open opportunities go to the least-loaded remaining closer (over capacity if need be),
        with the odds of their next meeting cut by ``reassign_win_odds_multiplier`` — or, with
        ``lose``, they are lost at the rep's exit."""
        now = self.timeline.now
        self.pool.capacity.add(now, -rep.capacity)
        rep.capacity = 0.0
        for lead in sorted(rep.leads, key=lambda x: x.id):
            rep.load -= 1
            if lose:
                lead.token += 1  # cancels the scheduled close
                self.pool.busy.add(now, -1)
                lead.record_to(self.log.leads, now, LeadState.LOST_AT_EXIT)
                continue
            self._reassigned(lead)
            target = self._least_loaded()
            if target is None:
                self.orphans.add(lead)
                self.pool.busy.add(now, -1)
                continue
            target.load += 1
            hold(target.leads, lead)
            self._touch(target)
            lead.closer_rep = target.id
        rep.leads.clear()
        self.room.remove(rep)
        self.fill()

    # ------------------------------------------------------------------ reorganization

    def hand_over(self, rep: Rep) -> list[Lead]:
        """A reorg moves ``rep`` out of this desk: its open deals leave with it, unchanged (by id)."""
        now = self.timeline.now
        self.pool.capacity.add(now, -rep.capacity)
        rep.capacity = 0.0
        deals = sorted(rep.leads, key=lambda x: x.id)
        self.pool.busy.add(now, -len(deals))
        rep.leads.clear()
        rep.load = 0
        self.room.remove(rep)
        return deals

    def join_with(self, rep: Rep, deals: list[Lead], odds_multiplier: float = 1.0) -> None:
        """A rep a reorg moved here, with the deals it keeps."""
        self.closers[rep.id] = rep
        for lead in deals:
            self.adopt(lead, rep, odds_multiplier)
        self._set_capacity(rep)

    def adopt(self, lead: Lead, rep: Rep | None, odds_multiplier: float) -> None:
        """An open deal moved here by a reorg, to ``rep`` (None: nobody yet); the odds of its next
        meeting are multiplied by ``odds_multiplier`` (monotone in its uniform, like a reassignment)."""
        now = self.timeline.now
        lead.closer_team = self.pool.team
        if rep is None:
            self.orphans.add(lead)
        else:
            lead.closer_rep = rep.id
            rep.load += 1
            hold(rep.leads, lead)
            self.pool.busy.add(now, 1)
            self._touch(rep)
        plan = lead.plan if lead.plan is not None else self._plan(lead, None, lead.opportunity_t)
        times, passes, u_pass = plan
        if odds_multiplier != 1.0:
            upcoming = next((i for i, ti in enumerate(times) if ti > now), None)
            if upcoming is not None:
                passes = list(passes)
                passes[upcoming] = scale_odds(passes[upcoming], odds_multiplier)
        self._schedule(lead, times, passes, u_pass)

    def requeue(self, lead: Lead) -> None:
        """An SQL that waited for a closer of a dissolved team waits here (its hand-off time kept)."""
        lead.closer_team = self.pool.team
        self.queue.append(lead)

    # ------------------------------------------------------------------ routing questions

    def has_room(self) -> bool:
        """Whether a closer could open one more opportunity now."""
        return not self.queue and self.room.best() is not None

    def free_share(self) -> float:
        """Free capacity as a share of capacity (0 with nobody staffed), minus the queue."""
        capacity = sum(rep.capacity for rep in self.pool.reps)
        if capacity <= 0:
            return -math.inf if self.queue else 0.0
        return (capacity - sum(rep.load for rep in self.pool.reps) - len(self.queue)) / capacity

    def hand_off(self, lead: Lead, leg: HandoffLeg) -> None:
        """An SQL leaves its development rep for this desk's queue, by hand-off ``leg``."""
        lead.closer_team = self.pool.team
        delay = max(0.0, leg.delay_days.ppf1(lead.u_handoff))
        leaks = lead.u_leak < leg.leakage_probability
        lead.win_odds = leg.win_odds_multiplier
        hold(self.in_transit, lead)
        timeline = self.timeline
        timeline.call2(timeline.now + delay, self._arrive_step, lead, leaks)

    def open_warm(self, lead: Lead, age_days: float) -> None:
        """A deal already open at the start (warm start), with the least-loaded closer."""
        rep = self._least_loaded()
        if rep is None:
            self.queue.append(lead)
            return
        lead.handoff_t = -age_days
        self._open(rep, lead, started_t=-age_days)

    def enqueue_warm(self, lead: Lead, age_days: float) -> None:
        """An SQL already waiting for a closer at the start (warm start)."""
        lead.handoff_t = -age_days
        self.queue.append(lead)

    def _arrive(self, lead: Lead, leaks: bool) -> None:
        release(self.in_transit, lead)
        if leaks:  # lost on the way, noticed when it should have arrived
            lead.record_to(self.log.leads, self.timeline.now, _LOST_IN_HANDOFF)
            return
        lead.handoff_t = self.timeline.now
        if self.keeps_own_sqls:
            own = self.closers.get(lead.dev_rep)
            if own is not None and own.active and own.load + 1 <= own.capacity + 1e-9 and not self.queue:
                self._open(own, lead)
                return
        self.queue.append(lead)
        self.fill()

    def _pop(self) -> Lead | None:
        now, stale = self.timeline.now, self.stale_after_days
        while self.queue:
            lead = self.queue.popleft()
            if now - lead.handoff_t > stale:
                lead.record_to(self.log.leads, lead.handoff_t + stale, _STALE)
                continue
            return lead
        return None

    def fill(self) -> None:
        """Assign waiting SQLs to the least-loaded closer with room."""
        while self.queue:
            best = self.room.best()
            if best is None:
                return
            lead = self._pop()
            if lead is None:
                return
            self._open(best, lead)

    def _open(self, rep: Rep, lead: Lead, started_t: float | None = None) -> None:
        """Open an opportunity with ``rep``. A warm-start deal opened at ``started_t`` < now has
        passed its meetings before now; only the later ones can still lose it."""
        now = self.timeline.now
        lead.opportunity_t = now if started_t is None else started_t
        lead.closer_rep = rep.id
        rep.load += 1
        hold(rep.leads, lead)
        self.pool.busy.add(now, 1)
        self._touch(rep)
        # context lost in the hand-off, intern yield, ramp: odds of the first meeting
        lead.win_odds *= rep.conversion_multiplier()
        times, passes, u_pass = self._plan(lead, started_t, now)
        # The plan is kept only where it cannot be made again from the lead (a warm start's): a
        # reassignment, the only reader, rebuilds it (_reassigned). Deals stay open for weeks, and
        # a kept plan (a tuple, three lists and their floats) would be a dozen more objects each
        # in memory until then.
        self._schedule(lead, times, passes, u_pass, keep=started_t is not None)

    def _plan(self, lead: Lead, started_t: float | None, now: float) -> tuple[list[float], list[float], list[float]]:
        """The deal's meeting chain as opened: (meeting times, pass probabilities, pass uniforms)."""
        passes = list(self.pass_probabilities[lead.segment])
        u_pass, u_gap = lead.meeting_draws()
        gap_days = self.gap_days[lead.segment]
        gaps = [gap_days.ppf1(u) for u in u_gap[: len(passes)]]
        multiplier = lead.win_odds
        if multiplier != 1.0:
            passes[0] = scale_odds(passes[0], multiplier)
        times, t = [], lead.opportunity_t
        for gap in gaps:
            t += max(0.0, gap)
            times.append(t)
        if started_t is not None:
            past = [i for i, ti in enumerate(times) if ti <= now]
            for i in past[:-1] if len(past) == len(times) else past:
                passes[i] = 1.0  # the deal is still open, so these meetings passed
            times = [max(ti, now) for ti in times]
        return times, passes, u_pass

    def _schedule(self, lead: Lead, times: list[float], passes: list[float], u_pass: list[float],
                  keep: bool = True) -> None:
        """Schedule the close: lost at the first meeting whose uniform is not below its pass
        probability, won after the last. ``keep``: keep the plan on the lead (``lead.plan``)."""
        close_t, won = times[-1], True
        for i, p in enumerate(passes):
            if u_pass[i] >= p:
                close_t, won = times[i], False
                break
        lead.plan = (times, passes, u_pass) if keep else None
        lead.token += 1
        token = lead.token
        self.timeline.call3(close_t, self._close_step, lead, won, token)

    def _reassigned(self, lead: Lead) -> None:
        """A deal changing hands: the odds of its next meeting are cut (monotone in its uniform)."""
        m = self.reassign_win_odds_multiplier
        if m == 1.0 or math.isnan(lead.opportunity_t):  # no multiplier, or no deal open
            return
        plan = lead.plan
        if plan is None:  # as _open made it: same inputs, same arithmetic
            plan = self._plan(lead, None, lead.opportunity_t)
        times, passes, u_pass = plan
        now = self.timeline.now
        upcoming = next((i for i, ti in enumerate(times) if ti > now), None)
        if upcoming is None:
            return
        passes = list(passes)
        passes[upcoming] = scale_odds(passes[upcoming], m)
        self._schedule(lead, times, passes, u_pass)

    def _close(self, lead: Lead, won: bool, token: int) -> None:
        if lead.token != token:
            return  # rescheduled after a reassignment, or lost at a rep's exit
        now = self.timeline.now
        rep: Rep | None = None
        if self.orphans and lead in self.orphans:
            self.orphans.discard(lead)
        else:
            rep = self.closers[lead.closer_rep]
            rep.load -= 1
            release(rep.leads, lead)
            self.pool.busy.add(now, -1)
            self._touch(rep)
        if won:
            lead.record_to(self.log.leads, now, _WON, close_t=now, mrr_usd=lead.mrr_usd)
            self.on_won(lead)
        else:
            lead.record_to(self.log.leads, now, _LOST_DEAL, close_t=now)
        if rep is not None and rep.active:
            self.fill()

    # ------------------------------------------------------------------ end of run

    def backlog(self) -> int:
        return len(self.queue)

    def finalize(self, t_end: float) -> None:
        stale = self.stale_after_days
        for lead in self.queue:
            if t_end - lead.handoff_t > stale:
                lead.record_to(self.log.leads, lead.handoff_t + stale, _STALE)
            else:
                lead.record_to(self.log.leads, t_end, LeadState.OPEN)
        self.queue.clear()
        in_flight = [*self.in_transit, *self.orphans]
        for rep in self.pool.reps:
            in_flight.extend(rep.leads)
            rep.leads.clear()
        for lead in sorted(in_flight, key=lambda x: x.id):
            lead.record_to(self.log.leads, t_end, LeadState.OPEN)
        self.in_transit.clear()
        self.orphans.clear()
