"""Development desks (MDR, SDR/BDR): contact cadence, speed to lead and qualification.

This module owns how development reps turn MQLs and prospects into SQLs. It is built for
speed (docs/developer/performance.md#fewer-events): there is no event per dial. A rep's daily dial budget
(``dials_per_day`` × ramp) is split into *cadence slots* of at most ``attempts_per_day``
dials a day each; a lead holds one slot from its first touch until it is reached or its
attempts run out. Because each lead's dials-to-connect was drawn at creation, the moment it
is reached is known as soon as it gets a slot: one scheduled event per lead.

Inbound MQLs wait in the role's queue — oldest first, or newest first (``queue_order``: a
speed-to-lead policy that serves fresh leads while they are still worth calling) — and are
dropped as *stale* when untouched after ``max_wait_days``. Outbound reps fill free slots from their monthly
prospect list. Reached leads qualify against their latent uniforms: inbound odds fall with
the first-touch delay (:mod:`sim.model.speed_to_lead`).

A desk may serve several lead sources (``lead_sources.<name>.worked_by`` naming the same role):
each inbound source has its own queue, and each outbound source its own list per rep. A free slot
takes, in this order: a lead handed back by a leaving rep; the inbound queues in the order the
sources are listed in the scenario (the first non-empty one; strict priority — a queue waits while
an earlier one has leads); then the reps' prospect lists in the same order. Each source keeps its
own conversions, speed-to-lead profile, waiting limit and cadence (``max_attempts``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from typing import Final

from mypy_extensions import i16

from sim.eventlog import EventLog, LeadState, Source
from sim.model.engine.calendar import Environment, Timeline
from sim.model.engine.odds import scale_odds
from sim.model.engine.repheap import rep_heap
from sim.model.leads import Lead, LeadFactory, MarketView, hold, release
from sim.model.speed_to_lead import SpeedToLead
from sim.model.workforce import Rep, RolePool
from sim.scenario import CadenceSpec, InboundSpec, OutboundSpec
from sim.scenario.dists import Constant
from sim.workcalendar import DAYS_PER_MONTH, HOURS_PER_DAY, WorkCalendar

_UNREACHABLE: Final = int(LeadState.UNREACHABLE)
_NOT_A_FIT: Final = int(LeadState.NOT_A_FIT)
_STALE: Final = int(LeadState.STALE)
"""End states written once per lead, as plain module constants (a C static in the compiled build,
where ``LeadState.X`` is a lookup on the enum class every time)."""
_INBOUND: Final[i16] = int(Source.INBOUND)
_OUTBOUND: Final[i16] = int(Source.OUTBOUND)
"""Sources a lead's ``source`` is compared with: constants of this module, like the end states, and
16-bit like ``Lead.source`` (compiled, a C comparison of two 16-bit numbers; a plain ``int`` here
would be converted at every comparison)."""


class SourceWork:
    """What a development desk knows of one lead source it serves: read from the source's spec once
    (a pydantic model's attributes are dictionary lookups), and the source's queue (inbound) or its
    place in each rep's prospect lists (outbound)."""

    def __init__(self, index: int, inbound: bool, max_attempts: int) -> None:
        self.index = index
        self.inbound = inbound
        self.max_attempts = max_attempts
        self.queue: deque[Lead] = deque()
        self.qualify_probability = 0.0
        self.max_wait_days = math.inf
        self.newest_first = False
        self.speed: SpeedToLead | None = None
        self.instant_response = True
        """Inbound leads are ready for a first touch as soon as they arrive (``response_minutes`` 0)."""
        self.lead_probability = 0.0
        self.sql_probability = 0.0
        self.prospects_per_rep_month = 0.0
        self.factory: LeadFactory | None = None
        self.view: MarketView | None = None
        self.list_slot = -1
        """Outbound: this source's place in each rep's ``prospects`` (prospects left this month)."""


class DevelopmentDesk:
    """The work of one development role: inbound queues and/or outbound lists.

    Parameters
    ----------
    on_sql : callable
        Called with a lead that became an SQL (the hand-off to closers).
    """

    def __init__(
        self,
        env: Environment,
        calendar: WorkCalendar,
        log: EventLog,
        pool: RolePool,
        cadence: CadenceSpec,
        on_sql: Callable[[Lead], None],
    ) -> None:
        self.env = env
        self.timeline: Timeline = env.timeline
        self.calendar = calendar
        self.log = log
        self.pool = pool
        self.cadence = cadence
        self.max_attempts = cadence.max_attempts
        self.on_sql = on_sql
        self.sources: list[SourceWork | None] = []
        """The sources this desk serves, by source index (None: a source it does not serve)."""
        self.inbound_works: list[SourceWork] = []
        """The inbound sources served, in priority order (their queues)."""
        self.outbound_works: list[SourceWork] = []
        """The outbound sources served, in priority order (the reps' prospect lists)."""
        self.prospecting = False
        """Whether the desk has any prospect list (then a free slot can always look for work)."""
        self.waiting = 0
        """MQLs waiting in all the inbound queues together."""
        self.orphans: deque[Lead] = deque()
        self.free = rep_heap()
        """Reps with a free slot, most free share first."""
        self._finish_step: Callable[[Lead, Rep, int], None] = self._finish
        """``_finish`` bound once: the timeline gets the same object for every lead."""
        self.month_starts: list[float] | None = None
        """Calendar months of a dated scenario (the day each begins): a rep who joins mid-month gets
        the share of the month's prospect list left; None: months of DAYS_PER_MONTH."""
        pool.desk = self

    def _work(self, index: int, inbound: bool, max_attempts: int | None) -> SourceWork:
        while len(self.sources) <= index:
            self.sources.append(None)
        work = SourceWork(index, inbound, self.max_attempts if max_attempts is None else max_attempts)
        self.sources[index] = work
        return work

    def serve_inbound(self, spec: InboundSpec, index: int = 0) -> None:
        """Work the inbound source ``index`` (its MQLs arrive with :meth:`arrive`)."""
        work = self._work(index, True, spec.max_attempts)
        work.qualify_probability = spec.qualify_probability
        work.max_wait_days = spec.max_wait_days
        work.newest_first = spec.queue_order == "newest_first"
        work.speed = SpeedToLead.from_spec(spec.speed_to_lead.profile, spec.speed_to_lead.points)
        response = spec.response_minutes
        work.instant_response = isinstance(response, Constant) and response.value <= 0.0
        self.inbound_works.append(work)

    def serve_outbound(self, spec: OutboundSpec, factory: LeadFactory, view: MarketView | None = None,
                       index: int = 1) -> None:
        """Prospect from ``factory``'s lists (source ``index``), within ``view``'s market slice (default: all)."""
        work = self._work(index, False, spec.max_attempts)
        work.lead_probability = spec.lead_probability
        work.sql_probability = spec.sql_probability
        work.prospects_per_rep_month = spec.prospects_per_rep_month
        work.factory = factory
        work.view = view
        work.list_slot = len(self.outbound_works)
        self.outbound_works.append(work)
        self.prospecting = True

    @property
    def queue(self) -> list[Lead]:
        """Every waiting MQL, queue by queue in priority order (for tests and reports)."""
        return [lead for work in self.inbound_works for lead in work.queue]

    def take_queued(self) -> list[Lead]:
        """Empty every source's queue and return the MQLs that waited there (a reorg moves them)."""
        out = self.queue
        for work in self.inbound_works:
            work.queue.clear()
        self.waiting = 0
        return out

    def enqueue(self, lead: Lead) -> None:
        """Put a waiting MQL at the back of its source's queue, without starting it (a reorg's move;
        the desk is filled afterwards)."""
        work = self.sources[lead.source_index] if lead.source_index < len(self.sources) else None
        if work is None or not work.inbound:
            work = self.inbound_works[0]
        work.queue.append(lead)
        self.waiting += 1

    # ------------------------------------------------------------------ routing questions

    def has_free_slot(self) -> bool:
        """Whether a rep could start on a new lead now."""
        return self.waiting == 0 and self.free.best() is not None

    def free_share(self) -> float:
        """Free slots as a share of all slots (0 with nobody staffed), minus the queue.

        Read from the pool's running totals of slots and busy slots (whole numbers, so exact):
        constant time, where summing over the reps made routing cost grow with the org."""
        capacity = self.pool.capacity.value
        if capacity <= 0:
            return -math.inf if self.waiting else 0.0
        return (capacity - self.pool.busy.value - self.waiting) / capacity

    # ------------------------------------------------------------------ capacity

    def _set_slots(self, rep: Rep) -> None:
        budget = (self.pool.spec.dials_per_day or 0.0) * rep.productivity
        now = self.timeline.now
        old = rep.capacity
        if budget <= 0:
            rep.capacity, rep.dial_days = 0.0, 0.0
        else:
            slots = max(1, math.ceil(budget / self.cadence.attempts_per_day - 1e-9))
            rep.capacity = float(slots)
            rep.dial_days = slots / budget  # working days of one slot per dial
        self.pool.capacity.add(now, rep.capacity - old)
        self._touch(rep)

    def _touch(self, rep: Rep) -> None:
        """Re-rank a rep whose load or capacity changed."""
        free = rep.capacity - rep.load
        if free >= 1 and rep.active:
            self.free.update(rep, -free / rep.capacity)
        else:
            self.free.remove(rep)

    def rep_joined(self, rep: Rep) -> None:
        self._set_slots(rep)
        if self.prospecting:
            now, table = self.timeline.now, self.month_starts
            if table is None:
                month_left = 1.0 - (now / DAYS_PER_MONTH) % 1.0
            else:
                i = bisect_right(table, now) - 1
                month_left = (table[i + 1] - now) / (table[i + 1] - table[i]) if 0 <= i < len(table) - 1 else 1.0
            rep.prospects = [work.prospects_per_rep_month * rep.productivity * month_left
                             for work in self.outbound_works]
        self.fill()

    def productivity_changed(self, rep: Rep) -> None:
        self._set_slots(rep)
        self.fill()

    def rep_leaving(self, rep: Rep, lose: bool = False) -> None:
        """Hand the rep's leads back — first in line for the next free slot, already in their
        cadence — or drop them as lost at exit (``workforce.exit_policy: lose``)."""
        now = self.timeline.now
        w_now = self.calendar.to_work(now)
        for lead in sorted(rep.leads, key=lambda x: x.id, reverse=True):
            self._count_dials(lead, w_now)
            if lead.first_touch_t > now:  # never actually touched
                lead.first_touch_t = math.nan
            lead.token += 1
            if lose:
                lead.record_to(self.log.leads, now, LeadState.LOST_AT_EXIT)
            else:
                self.orphans.appendleft(lead)
        self.pool.busy.add(now, -rep.load)
        self.pool.capacity.add(now, -rep.capacity)
        rep.leads.clear()
        rep.load = 0
        rep.capacity = 0.0
        self.free.remove(rep)
        self.fill()  # the rep is already out of the pool

    def new_month(self) -> None:
        """Refresh every rep's prospect list and put idle slots back to work."""
        if self.prospecting:
            for rep in self.pool.reps:
                rep.prospects = [work.prospects_per_rep_month * rep.productivity for work in self.outbound_works]
        self.fill()

    # ------------------------------------------------------------------ flow

    def arrive(self, lead: Lead) -> None:
        """An inbound MQL enters its source's queue (and is started at once if a slot is free)."""
        lead.dev_team = self.pool.team
        if self.waiting == 0 and not self.orphans and not self.prospecting:
            # The usual case, as fill() would do it: the lead goes straight to the best free slot.
            rep = self.free.best()
            if rep is not None:
                self._start(rep, lead)
                return
        work = self.sources[lead.source_index]
        assert work is not None
        work.queue.append(lead)
        self.waiting += 1
        if self.waiting == 1:  # more waiting means every slot is busy: nothing to start
            self.fill()

    def _drop_stale(self, work: SourceWork, now: float) -> None:
        """Drop untouched MQLs older than the source's ``max_wait_days`` from the old end of its queue."""
        queue = work.queue
        max_wait = work.max_wait_days
        while queue and math.isnan(queue[0].first_touch_t) and now - queue[0].created_t > max_wait:
            lead = queue.popleft()
            self.waiting -= 1
            lead.record_to(self.log.leads, lead.created_t + max_wait, _STALE)

    def _next_item(self, rep: Rep) -> Lead | None:
        """The next lead for a free slot: leads handed back by a leaving rep first (already in
        their cadence), then the MQL queues in priority order (each oldest or newest first), then a
        new prospect from the rep's lists in priority order."""
        now = self.timeline.now
        if self.orphans:
            return self.orphans.popleft()
        if self.waiting:
            for work in self.inbound_works:
                queue = work.queue
                if queue:
                    self._drop_stale(work, now)
                    if queue:
                        self.waiting -= 1
                        return queue.pop() if work.newest_first else queue.popleft()
        if self.prospecting:
            lists = rep.prospects
            for work in self.outbound_works:
                slot = work.list_slot
                if lists[slot] >= 1.0:
                    lists[slot] -= 1.0
                    factory = work.factory
                    assert factory is not None
                    lead = factory.create(now, work.view)
                    lead.dev_team = self.pool.team
                    return lead
        return None

    def fill(self) -> None:
        """Give free slots work, least-loaded rep first, until no slot or no work is left."""
        while True:
            best = self.free.best()
            if best is None:
                return
            lead = self._next_item(best)
            if lead is None:
                return
            self._start(best, lead)
            if self.waiting == 0 and not self.orphans and not self.prospecting:
                return  # nothing left to hand out

    def _start(self, rep: Rep, lead: Lead) -> None:
        """Give ``lead`` one of ``rep``'s free slots now; schedule the end of its cadence."""
        timeline, cal = self.timeline, self.calendar
        now = timeline.now
        work = self.sources[lead.source_index]
        assert work is not None
        if math.isnan(lead.first_touch_t):  # not touched yet: this is its first touch
            touch_t = now
            if lead.source == _INBOUND and not work.instant_response:
                ready = lead.created_t + lead.response_days  # drawn with the lead (inbound.response_minutes)
                if ready > now:
                    touch_t = ready
            w_now = cal.to_work(touch_t)
            lead.first_touch_t = cal.from_work(w_now)
        else:
            w_now = cal.to_work(now)
        lead.dev_rep = rep.id
        lead.w_start = w_now
        dial_days = lead.dial_days = rep.dial_days
        attempts: int = lead.dials_needed
        if attempts > work.max_attempts:
            attempts = work.max_attempts
        remaining: int = attempts - lead.dials_done
        t_end = cal.from_work(w_now + (remaining if remaining > 1 else 1) * dial_days)
        rep.load += 1
        hold(rep.leads, lead)
        self.pool.busy.add(now, 1)
        self._touch(rep)
        timeline.call3(t_end, self._finish_step, lead, rep, lead.token)

    def _finish(self, lead: Lead, rep: Rep, token: int) -> None:
        """The end of a lead's cadence: reached (then qualified or not) or out of attempts."""
        if lead.token != token:
            return  # the rep left and the lead was handed to someone else
        now = self.timeline.now
        rep.load -= 1
        release(rep.leads, lead)
        self.pool.busy.add(now, -1)
        self._touch(rep)
        work = self.sources[lead.source_index]
        assert work is not None
        max_attempts = work.max_attempts
        if lead.dials_needed > max_attempts:
            lead.dials_done = max_attempts
            lead.record_to(self.log.leads, now, _UNREACHABLE)
        else:
            lead.dials_done = lead.dials_needed
            lead.connect_t = now
            if self._qualifies(lead, rep, work):
                lead.sql_t = now
                self.on_sql(lead)
            else:
                lead.record_to(self.log.leads, now, _NOT_A_FIT)
        # After fill(), either no rep has a free slot or there is no work: only this rep's
        # freed slot can take the next item.
        if self.waiting or self.orphans or self.prospecting:
            nxt = self._next_item(rep) if rep.capacity - rep.load >= 1 else None
            if nxt is not None:
                self._start(rep, nxt)

    def _count_dials(self, lead: Lead, w_now: float) -> None:
        """Add the dials a lead has had since its slot started (for leads cut short)."""
        if lead.dial_days <= 0:
            return
        done = math.floor((w_now - lead.w_start) / lead.dial_days + 1e-9) + 1  # first dial at the first touch
        if w_now <= lead.w_start:
            done = 0
        work = self.sources[lead.source_index]
        max_attempts = work.max_attempts if work is not None else self.max_attempts
        cap = min(lead.dials_needed, max_attempts) - lead.dials_done
        lead.dials_done += max(0, min(done, cap))

    def _qualifies(self, lead: Lead, rep: Rep, work: SourceWork) -> bool:
        """Whether a reached lead becomes an SQL, against its latent uniforms and its source's odds:
        inbound odds fall with the first-touch delay; the rep's conversion multiplier (intern yield,
        outsourcing, ramp) scales the odds of the final step."""
        m = rep.conversion_multiplier()
        if lead.source != _OUTBOUND:  # inbound (and warm-start) leads
            speed = work.speed
            assert speed is not None
            p = work.qualify_probability
            if speed.points:  # a decay profile: the odds fall with the first-touch delay
                p = speed.qualify_probability(p, (lead.first_touch_t - lead.created_t) * HOURS_PER_DAY)
            return lead.u_qualify < (p if m == 1.0 else scale_odds(p, m))
        p_sql = work.sql_probability
        return lead.u_qualify < work.lead_probability and lead.u_sql < (
            p_sql if m == 1.0 else scale_odds(p_sql, m))

    # ------------------------------------------------------------------ end of run

    def backlog(self) -> int:
        return self.waiting + len(self.orphans)

    def finalize(self, t_end: float) -> None:
        """Write records of leads still in this desk at the horizon."""
        w_end = self.calendar.to_work(t_end)
        for rep in self.pool.reps:
            for lead in sorted(rep.leads, key=lambda x: x.id):
                self._count_dials(lead, w_end)
                if lead.first_touch_t > t_end:  # its first touch was still ahead
                    lead.first_touch_t = math.nan
                lead.record_to(self.log.leads, t_end, LeadState.OPEN)
            rep.leads.clear()
        for lead in (*self.queue, *self.orphans):
            work = self.sources[lead.source_index]
            max_wait = work.max_wait_days if work is not None else math.inf
            if math.isnan(lead.first_touch_t) and t_end - lead.created_t > max_wait:
                lead.record_to(self.log.leads, lead.created_t + max_wait, LeadState.STALE)
            else:
                lead.record_to(self.log.leads, t_end, LeadState.OPEN)
        for work in self.inbound_works:
            work.queue.clear()
        self.waiting = 0
        self.orphans.clear()
