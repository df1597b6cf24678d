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

import simpy

from sim.eventlog import EventLog, LeadState
from sim.model.leads import Lead
from sim.model.workforce import Rep, RolePool
from sim.scenario import HandoffLegSpec, SegmentSpec


class ClosingDesk:
    """The opportunities of one closer role."""

    def __init__(
        self,
        env: simpy.Environment,
        log: EventLog,
        pool: RolePool,
        segments: list[SegmentSpec],
        stale_after_days: float,
        on_won: Callable[[Lead], None],
    ) -> None:
        self.env = env
        self.log = log
        self.pool = pool
        self.stale_after_days = stale_after_days
        self.on_won = on_won
        self.pass_probabilities = [seg.opportunity.pass_probabilities() for seg in segments]
        self.gap_days = [seg.opportunity.gap_days for seg in segments]
        self.queue: deque[Lead] = deque()
        self.in_transit: set[Lead] = set()
        self.orphans: set[Lead] = set()
        pool.desk = self

    # ------------------------------------------------------------------ capacity

    def _set_capacity(self, rep: Rep) -> None:
        new = (self.pool.spec.max_open_opportunities or 0.0) * rep.productivity
        self.pool.capacity.add(self.env.now, new - rep.capacity)
        rep.capacity = new

    def rep_joined(self, rep: Rep) -> None:
        self._set_capacity(rep)
        self.fill()

    def productivity_changed(self, rep: Rep) -> None:
        self._set_capacity(rep)
        self.fill()

    def rep_leaving(self, rep: Rep) -> None:
        """Open opportunities go to the least-loaded remaining closer (over capacity if need be)."""
        now = self.env.now
        self.pool.capacity.add(now, -rep.capacity)
        rep.capacity = 0.0
        for lead in sorted(rep.items, key=lambda x: x.id):
            target = min(self.pool.reps, key=lambda r: (r.load / r.capacity if r.capacity else math.inf, r.id),
                         default=None)
            rep.load -= 1
            if target is None:
                lead.closer = None
                self.orphans.add(lead)
                self.pool.busy.add(now, -1)
                continue
            target.load += 1
            target.items.add(lead)
            lead.closer = target
            lead.closer_rep = target.id
        rep.items.clear()
        self.fill()

    # ------------------------------------------------------------------ flow

    # ------------------------------------------------------------------ routing questions

    def has_room(self) -> bool:
        """Whether a closer could open one more opportunity now."""
        return not self.queue and any(rep.load + 1 <= rep.capacity + 1e-9 for rep in self.pool.reps)

    def free_share(self) -> float:
        """Free capacity as a share of capacity (0 with nobody staffed), minus the queue."""
        capacity = sum(rep.capacity for rep in self.pool.reps)
        if capacity <= 0:
            return -math.inf if self.queue else 0.0
        return (capacity - sum(rep.load for rep in self.pool.reps) - len(self.queue)) / capacity

    def hand_off(self, lead: Lead, leg: HandoffLegSpec) -> None:
        """An SQL leaves its development rep for this desk's queue, by hand-off ``leg``."""
        lead.closer_team = self.pool.team
        delay = max(0.0, leg.delay_days.ppf1(lead.u_handoff))
        leaks = lead.u_leak < leg.leakage_probability
        lead.win_odds = leg.win_odds_multiplier
        self.in_transit.add(lead)
        event = self.env.timeout(delay)
        event.callbacks.append(lambda _e, lead=lead, leaks=leaks: self._arrive(lead, leaks))

    def _arrive(self, lead: Lead, leaks: bool) -> None:
        self.in_transit.discard(lead)
        if leaks:  # lost on the way, noticed when it should have arrived
            self.log.leads.append(lead.record(self.env.now, LeadState.LOST_IN_HANDOFF))
            return
        lead.handoff_t = self.env.now
        self.queue.append(lead)
        self.fill()

    def _pop(self) -> Lead | None:
        now, stale = self.env.now, self.stale_after_days
        while self.queue:
            lead = self.queue.popleft()
            if now - lead.handoff_t > stale:
                self.log.leads.append(lead.record(lead.handoff_t + stale, LeadState.STALE))
                continue
            return lead
        return None

    def fill(self) -> None:
        """Assign waiting SQLs to the least-loaded closer with room."""
        while self.queue:
            best, best_ratio = None, math.inf
            for rep in self.pool.reps:
                if rep.load + 1 <= rep.capacity + 1e-9:
                    ratio = rep.load / rep.capacity
                    if ratio < best_ratio:
                        best, best_ratio = rep, ratio
            if best is None:
                return
            lead = self._pop()
            if lead is None:
                return
            self._open(best, lead)

    def _open(self, rep: Rep, lead: Lead) -> None:
        now = self.env.now
        lead.opportunity_t = now
        lead.closer = rep
        lead.closer_rep = rep.id
        rep.load += 1
        rep.items.add(lead)
        self.pool.busy.add(now, 1)
        passes = self.pass_probabilities[lead.segment]
        u_pass, u_gap = lead.meeting_draws()
        gaps = self.gap_days[lead.segment].ppf(u_gap[: len(passes)]).tolist()
        if lead.win_odds != 1.0:  # context lost in the hand-off: odds of the first meeting
            p = passes[0]
            odds = p / (1.0 - p) * lead.win_odds if p < 1.0 else math.inf
            passes = [odds / (1.0 + odds) if math.isfinite(odds) else 1.0, *passes[1:]]
        t, won = now, True
        for i, p in enumerate(passes):
            t += max(0.0, gaps[i])
            if u_pass[i] >= p:
                won = False
                break
        event = self.env.timeout(t - now)
        event.callbacks.append(lambda _e, lead=lead, won=won: self._close(lead, won))

    def _close(self, lead: Lead, won: bool) -> None:
        now = self.env.now
        rep = lead.closer
        if rep is None:
            self.orphans.discard(lead)
        else:
            rep.load -= 1
            rep.items.discard(lead)
            self.pool.busy.add(now, -1)
        if won:
            self.log.leads.append(lead.record(now, LeadState.WON, close_t=now, mrr_usd=lead.mrr_usd))
            self.on_won(lead)
        else:
            self.log.leads.append(lead.record(now, LeadState.LOST_DEAL, close_t=now))
        if rep is not None and rep.active:
            self.fill()

    # ------------------------------------------------------------------ end of run

    def backlog(self) -> int:
        return len(self.queue)

    def finalize(self, t_end: float) -> None:
        stale = self.stale_after_days
        for lead in self.queue:
            if t_end - lead.handoff_t > stale:
                self.log.leads.append(lead.record(lead.handoff_t + stale, LeadState.STALE))
            else:
                self.log.leads.append(lead.record(t_end, LeadState.OPEN))
        self.queue.clear()
        in_flight = [*self.in_transit, *self.orphans]
        for rep in self.pool.reps:
            in_flight.extend(rep.items)
            rep.items.clear()
        for lead in sorted(in_flight, key=lambda x: x.id):
            self.log.leads.append(lead.record(t_end, LeadState.OPEN))
        self.in_transit.clear()
        self.orphans.clear()
