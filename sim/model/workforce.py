"""Reps and their lifecycle: start, requisitions and hiring, ramp, coaching, recruiting load,
promotion, attrition and backfill; interns and outsourced capacity.

This module owns the people. Every rep is an individual with a seat, a hire date, a ramp
(productivity by tenure month) and a tenure drawn when the rep is created, from a stream
keyed by (role, seat, generation) — so adding an AE never shifts another rep's draws. A rep
present at the start with tenure t0 draws its remaining tenure from the distribution
conditioned on exceeding t0.

Hiring: a requisition (a backfill, a dated wave, a headcount target, or the seat behind a
promotion) is filled after a random time to fill, and, with a recruiting capacity, no sooner
than a month with a free hiring slot — unless the role is the next step of a promotion ladder:
then a rep of the role below who has served its minimum time (``promotion.after_months``) takes
the open seat at once, or as soon as one has, with ramp credit (``promotion.ramp_credit_months``),
and a requisition opens behind them. A promotion never adds a seat, so no headcount grows without
one. While it is open it takes ``recruiting_load_fte`` of
one rep's time from its role's team (the team interviews), lowering everyone's productivity.
A rep's productivity is ramp × recruiting factor; when more reps ramp than their managers can
coach, the next ramp step comes later. Managers appear with the headcount (⌈headcount ÷ span⌉ per
team) or, with ``manager.time_to_fill_days``, are hired: a manager requisition opens when a team's
headcount needs more managers than are seated or being hired, and the manager is seated that many
days later; managers beyond the need leave at once (:meth:`Workforce.staff_managers`). With a
role's ``skill``, each employee's lognormal skill multiplier — drawn from the stream
``workforce.skill`` keyed by (role, seat, generation), so the same seat's same person has the same
skill in every scenario — multiplies the odds of its conversions or its ramp (capacity).

Desks (development, closing, accounts) own what a rep *does*; they are told when a rep
joins, leaves or changes productivity through the :class:`Desk` protocol.
"""

from __future__ import annotations

import math
import zlib
from bisect import bisect_right
from collections.abc import Generator
from statistics import NormalDist
from typing import Any, Protocol

import simpy

from sim.eventlog import EventLog, Level, RepKind, WorkforceEvent
from sim.rng import Streams
from sim.scenario import HiringSpec, RoleSpec, Scenario
from sim.workcalendar import DAYS_PER_MONTH

INTERN_SEATS = 100_000
"""Seat numbers of interns start here, those of outsourced reps at twice this."""


class Rep:
    """One rep. ``capacity`` and ``load`` are in the unit of the rep's desk (dial slots,
    open opportunities or accounts)."""

    __slots__ = (
        "active", "capacity", "conversion", "dial_days", "exit_t", "generation", "heap_entry", "hire_t", "id",
        "items", "kind", "leads", "load", "pool", "price_per_sql", "productivity", "prospects", "ramp",
        "ramp_level", "seat", "tenure0_months",
    )

    def __init__(self, rep_id: int, pool: RolePool, seat: int, hire_t: float, tenure0_months: float,
                 ramp: list[float], kind: RepKind = RepKind.EMPLOYEE) -> None:
        self.id = rep_id
        self.pool = pool
        self.seat = seat
        self.generation = 0
        """How many reps held the seat before this one (keys the seat's random draws)."""
        self.hire_t = hire_t
        self.tenure0_months = tenure0_months
        self.kind = kind
        self.ramp = ramp
        k = int(tenure0_months)
        self.ramp_level = ramp[k] if k < len(ramp) else ramp[-1]
        self.productivity = self.ramp_level * pool.factor_for(self)
        self.conversion = 1.0
        self.price_per_sql = 0.0
        self.active = True
        self.exit_t = math.inf
        self.capacity = 0.0
        self.load = 0
        self.items: set = set()
        """The accounts of a CSM (their indices)."""
        self.leads: list = []
        """The leads a development rep is working or the opportunities a closer holds, in no
        particular order (:func:`~sim.model.leads.hold` and :func:`~sim.model.leads.release`)."""
        self.dial_days = 0.0
        self.prospects: list[float] = []
        """A development rep's prospects left this month, one entry per outbound source of its desk."""
        self.heap_entry: Any = None
        """This rep's live entry in its desk's :class:`~sim.model.engine.repheap.RepHeap` (None: not in it)."""

    def is_ramping(self) -> bool:
        """Still below its ramp's final level."""
        return self.ramp_level < self.ramp[-1]

    def conversion_multiplier(self) -> float:
        """Odds multiplier on the rep's conversions: intern yield, outsourcing, and (when the
        role says so) the ramp."""
        ramp = self.ramp_level if self.pool.ramp_applies_to_conversion else 1.0
        return self.conversion * ramp


class Requisition:
    """An open seat of a role: filled by a hire after its time to fill, or by a promotion."""

    __slots__ = ("filled", "generation", "pool", "seat", "start_t")

    def __init__(self, pool: RolePool, seat: int, generation: int) -> None:
        self.pool = pool
        self.seat = seat
        self.generation = generation
        self.filled = False
        self.start_t = math.inf
        """When its outside hire would start (a recruiting slot is booked for it then)."""


class ManagerRequisition:
    """An open manager requisition of a team (``manager.time_to_fill_days`` > 0): the manager is
    seated when it fills, unless the team's headcount fell and closed it meanwhile."""

    __slots__ = ("open", "opened_t", "pool")

    def __init__(self, pool: RolePool, opened_t: float) -> None:
        self.pool = pool
        """The team it hires for (a reorg may move it to a team of the new org)."""
        self.opened_t = opened_t
        self.open = True


def _opened_at(requisition: ManagerRequisition) -> float:
    return requisition.opened_t


class Desk(Protocol):
    """What a role's work desk must handle when its people change."""

    def rep_joined(self, rep: Rep) -> None: ...
    def rep_leaving(self, rep: Rep, lose: bool = False) -> None: ...
    def productivity_changed(self, rep: Rep) -> None: ...


class RolePool:
    """The reps of one role in one team (the whole org in a silo, or one POD), with their
    time-weighted levels.

    ``seats`` are the role's seat numbers held by this team at the start (seat numbers are
    global to the role, so a rep's random draws do not depend on the team it sits in).
    ``fte`` integrates the sum of productivities (ramped capacity in FTE); ``capacity`` and
    ``busy`` integrate the desk's capacity and load, for utilization.
    """

    def __init__(self, name: str, index: int, spec: RoleSpec, team: int = 0,
                 seats: list[int] | None = None, pool_index: int = 0, recruiting_load_fte: float = 0.0,
                 availability: float = 1.0) -> None:
        self.name = name
        self.index = index
        self.spec = spec
        self.ramp_applies_to_conversion: bool = spec.ramp_applies_to_conversion
        """The spec's flag, read once: a connect asks for it, and a pydantic model's attribute is a
        lookup by name (:meth:`Rep.conversion_multiplier`)."""
        self.team = team
        self.seats = list(range(spec.headcount)) if seats is None else list(seats)
        self.pool_index = pool_index
        self.recruiting_load_fte = recruiting_load_fte
        self.availability = availability
        """Share of working days an employee or intern is present (PTO and sick days: 1 − absent ÷
        working days; :func:`sim.scenario.dates.availability`); 1.0 without absence."""
        self.reps: list[Rep] = []
        self.desk: Desk | None = None
        self.fte = Level()
        self.capacity = Level()
        self.busy = Level()
        self.open_requisitions = 0
        self.requisition_seats: set[int] = set()
        """Seats of the open requisitions (a reorg moves them to the new teams)."""
        self.disruption = 1.0
        """Productivity multiplier of a reorg's transition (1.0 outside one)."""
        self.retired = False
        self.ramp_speed = 1.0
        self.tenure_speed = 1.0
        self.win_odds = 1.0
        self.churn_multiplier = 1.0
        """A POD's effects on its reps and customers (``org.pod_effects``; 1.0: none)."""
        self.lead_seat = -1
        self.lead_share = 1.0
        """The seat of a POD lead (-1: none) and the share of its time spent selling."""
        """The team was dissolved by a reorg: its reps and requisitions moved (:mod:`sim.model.reorg`)."""
        manager = spec.manager
        self.manager_span: int = manager.span if manager is not None else 1
        self.manager_fill_days: float = manager.time_to_fill_days if manager is not None else 0.0
        """``manager.time_to_fill_days``, read once; 0.0: no managers are tracked (the team has
        ⌈headcount ÷ span⌉ at every instant)."""
        self.managers = 0
        """Managers seated (tracked only when ``manager_fill_days`` > 0)."""
        self.manager_openings: list[ManagerRequisition] = []
        """The team's open manager requisitions, oldest first."""

    def headcount(self) -> int:
        return len(self.reps)

    def factor_for(self, rep: Rep) -> float:
        """The recruiting factor of one rep (only employees interview), times its availability
        (employees and interns take time off; an agency's outsourced reps do not)."""
        factor = self.recruiting_factor() if rep.kind == RepKind.EMPLOYEE else 1.0
        if self.availability != 1.0 and rep.kind != RepKind.OUTSOURCED:
            factor *= self.availability
        if self.disruption != 1.0:
            factor *= self.disruption
        if rep.seat == self.lead_seat:
            factor *= self.lead_share
        return factor

    def recruiting_factor(self) -> float:
        """Share of the team's time left after interviewing for its open requisitions."""
        employees = sum(1 for r in self.reps if r.kind == RepKind.EMPLOYEE)
        if not self.open_requisitions or not self.recruiting_load_fte or not employees:
            return 1.0
        return max(0.0, 1.0 - self.recruiting_load_fte * self.open_requisitions / employees)


class Recruiting:
    """An optional cap on starts per month: requisitions ready to start queue for a slot.

    ``month_starts`` (calendar months of a dated scenario): the day each month begins; without
    them a month is ``DAYS_PER_MONTH`` days."""

    def __init__(self, hires_per_month: int | None, month_starts: list[float] | None = None) -> None:
        self.cap = hires_per_month
        self.starts: dict[int, int] = {}
        self.month_starts = month_starts

    def release(self, start_t: float) -> None:
        """Give back the slot booked for a start at ``start_t`` (a promotion filled the seat)."""
        if self.cap is None or start_t == math.inf:
            return
        table = self.month_starts
        month = int(start_t // DAYS_PER_MONTH) if table is None else bisect_right(table, start_t) - 1
        if self.starts.get(month, 0) > 0:
            self.starts[month] -= 1

    def start_time(self, ready_t: float) -> float:
        """When a hire ready at ``ready_t`` can start."""
        if self.cap is None:
            return ready_t
        table = self.month_starts
        month = int(ready_t // DAYS_PER_MONTH) if table is None else bisect_right(table, ready_t) - 1
        while self.starts.get(month, 0) >= self.cap:
            month += 1
        self.starts[month] = self.starts.get(month, 0) + 1
        if table is None:
            return max(ready_t, month * DAYS_PER_MONTH)
        return max(ready_t, table[month]) if month < len(table) else math.inf  # beyond the horizon: never


class Workforce:
    """Creates reps and runs their hiring, ramp, promotion, attrition and backfill processes.

    Parameters
    ----------
    pools : list of RolePool
        Every (role, team) pool; desks must be attached before :meth:`start`.
    scenario : Scenario, optional
        Hiring plans, interns, outsourcing and the exit policy (none of them without it).
    """

    def __init__(self, env: simpy.Environment, streams: Streams, log: EventLog,
                 pools: list[RolePool], horizon_days: float, scenario: Scenario | None = None,
                 month_starts: list[float] | None = None) -> None:
        self.env = env
        self.streams = streams
        self.log = log
        self.pools = pools
        self.horizon_days = horizon_days
        self.scenario = scenario
        self.hiring: HiringSpec = scenario.hiring if scenario is not None else HiringSpec()  # type: ignore[call-arg]
        self.lose_work = (scenario.workforce.exit_policy == "lose") if scenario is not None else False
        self.month_starts = month_starts
        """Calendar months of a dated scenario (the day each begins); None: months of DAYS_PER_MONTH."""
        self.recruiting = Recruiting(self.hiring.hires_per_month, month_starts)
        self._next_id = 0
        self._next_seat: dict[str, int] = {}
        self.generation_of: dict[int, int] = {}
        """Rep id → the generation of its seat (an exit brought forward by a reorg backfills the next)."""
        self.reps_by_id: dict[int, Rep] = {}
        """Rep id → the rep (every rep of the run, gone or not)."""
        self.surplus: dict[str, int] = {}
        """Role → seats a reorg closed: the next exits of the role are not backfilled."""
        self.redirect: dict[tuple[int, int], RolePool] = {}
        """(pool index, seat) → where an open requisition of a dissolved team now fills."""
        self.pools_of_role: dict[str, list[RolePool]] = {}
        self.started = False
        """The starting reps are in place: from now on a team's headcount changes staff its managers."""
        self.waiting: dict[str, list[Requisition]] = {}
        """Open requisitions of each role a promotion leads to, oldest first (a promotion may fill them)."""
        self.ladder_from: dict[str, list[str]] = {}
        """Role → the roles whose reps are promoted into it (their pools: ``pools_of_role``, which a
        reorg updates)."""
        for pool in pools:
            self.pools_of_role.setdefault(pool.name, []).append(pool)
            top = max(pool.seats, default=-1) + 1
            self._next_seat[pool.name] = max(self._next_seat.get(pool.name, 0), top, pool.spec.headcount)
        for pool in pools:
            if pool.spec.promotion is not None:
                below = self.ladder_from.setdefault(pool.spec.promotion.to, [])
                if pool.name not in below:
                    below.append(pool.name)
                self.waiting.setdefault(pool.spec.promotion.to, [])

    # ------------------------------------------------------------------ creation

    def start(self) -> None:
        """Create the starting reps of every role and schedule hiring, interns and outsourcing."""
        for pool in self.pools:
            tenures = pool.spec.tenures()
            for seat in pool.seats:
                self._add_rep(pool, seat, 0, tenures[seat], WorkforceEvent.START)
            if pool.manager_fill_days > 0.0:  # the team starts with the managers its headcount needs
                for _ in range(self.managers_needed(pool)):
                    pool.managers += 1
                    self._record_manager(WorkforceEvent.MANAGER_SEATED, pool)
        self.started = True
        for i, wave in enumerate(self.hiring.waves):
            if wave.count:
                self.env.process(self.open_wave(i, wave.month, wave.role, wave.count, wave.team))
        for role, targets in self.hiring.targets.items():
            self.env.process(self.hire_to_plan(role, dict(targets)))
        if self.scenario is not None:
            for role, spec in self.scenario.roles.items():
                if spec.interns is not None and spec.interns.count:
                    self.env.process(self.run_interns(role))
                if spec.outsourced is not None and spec.outsourced.reps:
                    self.env.process(self.run_outsourcing(role))

    def _draws(self, pool: RolePool, seat: int, generation: int) -> tuple[float, float]:
        """(tenure uniform, time-to-fill uniform) of a seat's generation."""
        role_key = zlib.crc32(pool.name.encode())
        rng = self.streams.fresh("workforce.seat", role_key, seat, generation)
        u = rng.random(2)
        return float(u[0]), float(u[1])

    def _skill(self, pool: RolePool, seat: int, generation: int) -> float:
        """The skill multiplier of a seat's generation: 1 without a ``skill`` block, the median with
        ``sigma: 0`` (no draw), else ``median × exp(sigma × z)`` with z standard normal."""
        spec = pool.spec.skill
        if spec is None:
            return 1.0
        if spec.sigma == 0.0:
            return spec.median
        rng = self.streams.fresh("workforce.skill", zlib.crc32(pool.name.encode()), seat, generation)
        u = min(max(float(rng.random()), 1e-12), 1.0 - 1e-12)
        return spec.median * math.exp(spec.sigma * NormalDist().inv_cdf(u))

    def _record(self, kind: WorkforceEvent, pool: RolePool, rep: Rep | None, seat: int, cost: float = 0.0) -> None:
        self.log.workforce.append((
            self.env.now, int(kind), pool.index, -1 if rep is None else rep.id, seat, cost, pool.team,
            int(rep.kind) if rep is not None else 0, rep.price_per_sql if rep is not None else 0.0,
        ))

    def _record_manager(self, kind: WorkforceEvent, pool: RolePool) -> None:
        manager = pool.spec.manager
        cost = manager.monthly_cost_usd if manager is not None else 0.0
        self.log.workforce.append((self.env.now, int(kind), pool.index, -1, -1, cost, pool.team, 0, 0.0))

    def _add_rep(self, pool: RolePool, seat: int, generation: int, tenure0_months: float,
                 event: WorkforceEvent, kind: RepKind = RepKind.EMPLOYEE, ramp: list[float] | None = None,
                 exit_t: float | None = None, cost: float | None = None) -> Rep:
        now = self.env.now
        spec = pool.spec
        ramp_vector = ramp or spec.ramp_vector()
        skill = self._skill(pool, seat, generation) if kind == RepKind.EMPLOYEE else 1.0
        if skill != 1.0 and spec.skill is not None and spec.skill.applies_to == "capacity":
            ramp_vector = [level * skill for level in ramp_vector]
        rep = Rep(self._next_id, pool, seat, now, tenure0_months, ramp_vector, kind)
        if skill != 1.0 and spec.skill is not None and spec.skill.applies_to == "conversion":
            rep.conversion = skill
        rep.generation = generation
        self._next_id += 1
        self.generation_of[rep.id] = generation
        self.reps_by_id[rep.id] = rep
        if exit_t is not None:
            rep.exit_t = exit_t
        elif spec.tenure_months is not None:
            u_tenure, _ = self._draws(pool, seat, generation)
            total = spec.tenure_months.conditional_ppf1(u_tenure, tenure0_months)
            rep.exit_t = now + max(0.0, total - tenure0_months) * DAYS_PER_MONTH
            if pool.tenure_speed != 1.0:  # a POD's retention: the tenure clock runs slower or faster
                rep.exit_t = now + (rep.exit_t - now) / pool.tenure_speed
        if kind == RepKind.INTERN and spec.interns is not None:
            rep.conversion = spec.interns.yield_multiplier
        elif kind == RepKind.OUTSOURCED and spec.outsourced is not None:
            rep.conversion = spec.outsourced.conversion_multiplier
            rep.price_per_sql = spec.outsourced.price_per_sql_usd
        if pool.win_odds != 1.0:
            rep.conversion *= pool.win_odds
        pool.reps.append(rep)
        self._record(event, pool, rep, seat, spec.monthly_cost_usd if cost is None else cost)
        if pool.manager_fill_days > 0.0 and self.started:
            self.staff_managers(pool)
        assert pool.desk is not None
        pool.desk.rep_joined(rep)
        pool.fte.add(now, rep.productivity)
        self._refresh(pool, skip=rep)
        self.env.process(self.live(rep, generation))
        if spec.promotion is not None and kind == RepKind.EMPLOYEE:
            self.env.process(self.ready_for_promotion(rep))
        return rep

    # ------------------------------------------------------------------ productivity

    def _set_productivity(self, rep: Rep, productivity: float) -> None:
        if productivity == rep.productivity or not rep.active:
            return
        rep.pool.fte.add(self.env.now, productivity - rep.productivity)
        rep.productivity = productivity
        assert rep.pool.desk is not None
        rep.pool.desk.productivity_changed(rep)

    def _refresh(self, pool: RolePool, skip: Rep | None = None) -> None:
        """Re-apply the recruiting factor (open requisitions or team size changed)."""
        factor = pool.recruiting_factor()
        available, disruption, lead_seat = pool.availability, pool.disruption, pool.lead_seat
        for rep in pool.reps:
            if rep is not skip:
                f = factor if rep.kind == RepKind.EMPLOYEE else 1.0
                if available != 1.0 and rep.kind != RepKind.OUTSOURCED:
                    f *= available
                if disruption != 1.0:
                    f *= disruption
                if rep.seat == lead_seat:
                    f *= pool.lead_share
                self._set_productivity(rep, rep.ramp_level * f)
        if skip is not None:
            self._set_productivity(skip, skip.ramp_level * pool.factor_for(skip))

    def _coaching_overloaded(self, pool: RolePool) -> bool:
        manager = pool.spec.manager
        if manager is None or not pool.reps:
            return False
        managers = pool.managers if pool.manager_fill_days > 0.0 else self.managers_needed(pool)
        ramping = sum(1 for r in pool.reps if r.kind != RepKind.OUTSOURCED and r.is_ramping())
        return ramping > managers * manager.coached_per_manager

    # ------------------------------------------------------------------ processes

    def live(self, rep: Rep, generation: int) -> Generator[simpy.Event, None, None]:
        """A rep's life: ramp steps (slower when coaching is overloaded), then exit (unless promoted
        before: :meth:`ready_for_promotion`)."""
        env, pool = self.env, rep.pool
        leave_t = rep.exit_t
        month = int(rep.tenure0_months) + 1
        slowed_days = 0.0  # ramp steps postponed by overloaded coaching
        step_days = DAYS_PER_MONTH if pool.ramp_speed == 1.0 else DAYS_PER_MONTH / pool.ramp_speed
        while month < len(rep.ramp):
            t_next = rep.hire_t + (month - rep.tenure0_months) * step_days + slowed_days
            if t_next >= min(leave_t, self.horizon_days):
                break
            yield env.timeout(t_next - env.now)
            pool = rep.pool  # a reorg may have moved the rep to another team
            manager = pool.spec.manager
            if manager is not None and self._coaching_overloaded(pool):
                delay = (1.0 / manager.ramp_slowdown - 1.0) * DAYS_PER_MONTH
                slowed_days += delay
                if env.now + delay >= min(leave_t, self.horizon_days):
                    break
                yield env.timeout(delay)
            rep.ramp_level = rep.ramp[month]
            self._set_productivity(rep, rep.ramp_level * rep.pool.factor_for(rep))
            month += 1
        if leave_t >= self.horizon_days:
            return
        yield env.timeout(max(0.0, leave_t - env.now))
        if not rep.active:
            return
        self._exit(rep, generation)

    def _leave(self, rep: Rep, kind: WorkforceEvent, lose: bool) -> None:
        pool, now = rep.pool, self.env.now
        rep.active = False
        pool.reps.remove(rep)
        pool.fte.add(now, -rep.productivity)
        self._record(kind, pool, rep, rep.seat)
        if pool.manager_fill_days > 0.0:
            self.staff_managers(pool)
        assert pool.desk is not None
        pool.desk.rep_leaving(rep, lose)
        self._refresh(pool)

    def _exit(self, rep: Rep, generation: int) -> None:
        pool = rep.pool
        self._leave(rep, WorkforceEvent.EXIT, self.lose_work)
        if rep.kind == RepKind.EMPLOYEE and pool.spec.backfill:
            if self.surplus and self.surplus.get(pool.name, 0) > 0:
                self.surplus[pool.name] -= 1  # a seat a reorg closed
                return
            self.open_requisition(pool, rep.seat, generation + 1)

    def exit_early(self, rep: Rep, exit_t: float) -> Generator[simpy.Event, None, None]:
        """A rep's exit brought forward to ``exit_t`` (a reorg's attrition hazard); the life process
        finds the rep gone at the original time."""
        rep.exit_t = exit_t
        yield self.env.timeout(max(0.0, exit_t - self.env.now))
        if rep.active and rep.exit_t == exit_t:
            self._exit(rep, self.generation_of[rep.id])

    # ------------------------------------------------------------------ managers

    def managers_needed(self, pool: RolePool) -> int:
        """⌈headcount ÷ span⌉: the managers a team needs for its reps now."""
        return (len(pool.reps) + pool.manager_span - 1) // pool.manager_span

    def staff_managers(self, pool: RolePool) -> None:
        """Bring a team's managers in line with its headcount (``manager.time_to_fill_days`` > 0):
        seated managers plus open manager requisitions always equal ⌈headcount ÷ span⌉. Above it,
        the newest open requisitions close first, then seated managers leave at once; below it,
        requisitions open, each seated ``time_to_fill_days`` later."""
        need = self.managers_needed(pool)
        openings = pool.manager_openings
        while openings and pool.managers + len(openings) > need:
            openings.pop().open = False
            self._record_manager(WorkforceEvent.MANAGER_REQUISITION_CLOSED, pool)
        while pool.managers > need:
            pool.managers -= 1
            self._record_manager(WorkforceEvent.MANAGER_LEFT, pool)
        while pool.managers + len(openings) < need:
            requisition = ManagerRequisition(pool, self.env.now)
            openings.append(requisition)
            self._record_manager(WorkforceEvent.MANAGER_REQUISITION, pool)
            self.env.process(self.fill_manager(requisition))

    def fill_manager(self, requisition: ManagerRequisition) -> Generator[simpy.Event, None, None]:
        """Seat the manager of an open requisition after the time to fill (still open at the horizon
        if that comes first), unless it was closed meanwhile."""
        ready = requisition.opened_t + requisition.pool.manager_fill_days
        if ready >= self.horizon_days:
            return
        yield self.env.timeout(ready - self.env.now)
        if not requisition.open:
            return
        requisition.open = False
        pool = requisition.pool
        pool.manager_openings.remove(requisition)
        pool.managers += 1
        self._record_manager(WorkforceEvent.MANAGER_SEATED, pool)

    def move_managers(self, olds: list[RolePool], news: list[RolePool]) -> None:
        """A reorg moved a role's reps from the teams ``olds`` to ``news``: the seated managers and
        open manager requisitions move with them, each to the first new team (in order) that needs
        one; managers no new team needs leave, requisitions none needs close, and a new team still
        short opens requisitions (:meth:`staff_managers`). No event records a move."""
        if not news or news[0].manager_fill_days <= 0.0:
            return
        movers = [old for old in olds for _ in range(old.managers)]
        openings = sorted((r for old in olds for r in old.manager_openings), key=_opened_at)
        for old in olds:
            old.managers = 0
            old.manager_openings = []
        for pool in news:
            need = self.managers_needed(pool)
            while movers and pool.managers < need:
                movers.pop(0)
                pool.managers += 1
        for pool in news:
            need = self.managers_needed(pool)
            while openings and pool.managers + len(pool.manager_openings) < need:
                requisition = openings.pop(0)
                requisition.pool = pool
                pool.manager_openings.append(requisition)
        for old in movers:
            self._record_manager(WorkforceEvent.MANAGER_LEFT, old)
        for requisition in openings:
            requisition.open = False
            self._record_manager(WorkforceEvent.MANAGER_REQUISITION_CLOSED, requisition.pool)
        for pool in news:
            self.staff_managers(pool)

    # ------------------------------------------------------------------ the promotion ladder

    def _eligible_t(self, rep: Rep) -> float:
        """When ``rep`` has served the minimum time in its role for a promotion."""
        promotion = rep.pool.spec.promotion
        assert promotion is not None
        return rep.hire_t + max(0.0, promotion.after_months - rep.tenure0_months) * DAYS_PER_MONTH

    def _may_fill(self, rep: Rep, seat_pool: RolePool) -> bool:
        """A rep may take a seat of its team, or of another team when its own has no such role (a
        pooled role feeding PODs)."""
        return rep.pool.team == seat_pool.team or not any(
            p.team == rep.pool.team for p in self.pools_of_role[seat_pool.name])

    def _candidate(self, seat_pool: RolePool) -> Rep | None:
        """The rep promoted into an open seat of ``seat_pool`` now: an employee of a role below who has
        served the minimum time, of the seat's team first, then the longest in role (then the first
        hired); None if nobody qualifies."""
        now = self.env.now
        best: Rep | None = None
        best_key = (2, 0.0, 0)
        for pool in [p for role in self.ladder_from.get(seat_pool.name, []) for p in self.pools_of_role[role]]:
            for rep in pool.reps:
                if rep.kind != RepKind.EMPLOYEE or self._eligible_t(rep) > now or not self._may_fill(rep, seat_pool):
                    continue
                in_role_months = rep.tenure0_months + (now - rep.hire_t) / DAYS_PER_MONTH
                key = (0 if pool.team == seat_pool.team else 1, -in_role_months, rep.id)
                if key < best_key:
                    best, best_key = rep, key
        return best

    def ready_for_promotion(self, rep: Rep) -> Generator[simpy.Event, None, None]:
        """Once ``rep`` has served the minimum time, take the oldest open seat of the role above that
        it may fill, if there is one (later seats find it through :meth:`open_requisition`)."""
        t = self._eligible_t(rep)
        if t >= min(rep.exit_t, self.horizon_days):
            return
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)
        if not rep.active:
            return
        promotion = rep.pool.spec.promotion
        assert promotion is not None
        for requisition in self.waiting[promotion.to]:
            seat_pool = self._open_seat_pool(requisition)
            if not requisition.filled and self._may_fill(rep, seat_pool):
                requisition.filled = True
                self.waiting[promotion.to].remove(requisition)
                seat_pool.open_requisitions -= 1
                seat_pool.requisition_seats.discard(requisition.seat)
                self.recruiting.release(requisition.start_t)
                self._promote(rep, seat_pool, requisition.seat, requisition.generation)
                return

    def _open_seat_pool(self, requisition: Requisition) -> RolePool:
        """The pool an open requisition now fills: its own, or where a reorg moved it."""
        pool = requisition.pool
        while pool.retired:
            pool = self.redirect[(pool.pool_index, requisition.seat)]
        return pool

    def _promote(self, rep: Rep, seat_pool: RolePool, seat: int, generation: int) -> None:
        """Move ``rep`` up the ladder into an open ``seat`` of ``seat_pool`` (its ``generation``),
        with the ramp credit of its promotion, and open a requisition behind them."""
        pool = rep.pool
        promotion = pool.spec.promotion
        assert promotion is not None
        self._leave(rep, WorkforceEvent.PROMOTED_OUT, lose=False)
        ramp = seat_pool.spec.ramp_vector()
        credited = ramp[min(promotion.ramp_credit_months, len(ramp) - 1):]  # months of the ramp skipped
        self._add_rep(seat_pool, seat, generation, 0.0, WorkforceEvent.PROMOTED_IN, ramp=credited)
        self.open_requisition(pool, rep.seat, rep.generation + 1)

    def _new_seat(self, role: str) -> int:
        seat = self._next_seat.get(role, 0)
        self._next_seat[role] = seat + 1
        return seat

    def _pool_for(self, role: str, team: int | None = None, team_name: str | None = None) -> RolePool:
        """The pool a new rep of ``role`` joins: the given team's, else the one with fewest reps."""
        pools = self.pools_of_role[role]
        for pool in pools:
            if (team is not None and pool.team == team) or (
                    team_name is not None and self.log.teams[pool.team] == team_name):
                return pool
        return min(pools, key=lambda p: (p.headcount() + p.open_requisitions, p.team))

    def open_requisition(self, pool: RolePool, seat: int, generation: int) -> None:
        """Open a requisition for ``seat`` now (counted at once, so the next one of the same
        wave sees it) and hire after the time to fill (and a recruiting slot). A role that a
        promotion leads to takes a qualified rep from below at once instead, or the first who
        qualifies before the hire starts."""
        self._record(WorkforceEvent.REQUISITION, pool, None, seat)
        ladder = pool.name in self.ladder_from
        if ladder:
            candidate = self._candidate(pool)
            if candidate is not None:
                self._promote(candidate, pool, seat, generation)
                return
        pool.open_requisitions += 1
        pool.requisition_seats.add(seat)
        self._refresh(pool)
        requisition = Requisition(pool, seat, generation)
        if ladder:
            self.waiting[pool.name].append(requisition)
        self.env.process(self.fill(requisition))

    def fill(self, requisition: Requisition) -> Generator[simpy.Event, None, None]:
        """Wait for an open requisition's time to fill (and recruiting slot); start the rep, unless a
        promotion filled the seat meanwhile."""
        pool, seat, generation = requisition.pool, requisition.seat, requisition.generation
        _, u_fill = self._draws(pool, seat, generation)
        ready = self.env.now + max(0.0, pool.spec.time_to_fill_days.ppf1(u_fill))
        start = self.recruiting.start_time(ready) if ready < self.horizon_days else ready
        requisition.start_t = start if ready < self.horizon_days else math.inf
        if start >= self.horizon_days:
            return  # still open at the horizon
        yield self.env.timeout(start - self.env.now)
        if requisition.filled:
            return
        requisition.filled = True
        if pool.name in self.waiting:
            self.waiting[pool.name].remove(requisition)
        while pool.retired:  # the team was dissolved by a reorg while the requisition was open
            pool = self.redirect[(pool.pool_index, seat)]
        pool.open_requisitions -= 1
        pool.requisition_seats.discard(seat)
        self._add_rep(pool, seat, generation, 0.0, WorkforceEvent.HIRE)

    def _until_month_start(self, month: int) -> Generator[simpy.Event, None, bool]:
        """Wait for the start of (1-based) ``month``; False when it lies beyond the horizon."""
        t = self._month_start(month)
        if t >= self.horizon_days:
            return False
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)
        return True

    def _month_start(self, month: int) -> float:
        """Day on which (1-based) ``month`` begins; beyond the horizon with calendar months: never."""
        table = self.month_starts
        if table is None:
            return (month - 1) * DAYS_PER_MONTH
        return table[month - 1] if month - 1 < len(table) else math.inf

    def open_wave(self, index: int, month: int, role: str, count: int, team: str | None
                  ) -> Generator[simpy.Event, None, None]:
        """A dated hiring wave: ``count`` requisitions open at the start of ``month``."""
        if not (yield from self._until_month_start(month)):
            return
        for _ in range(count):
            pool = self._pool_for(role, team_name=team)
            self.open_requisition(pool, self._new_seat(role), 0)

    def hire_to_plan(self, role: str, targets: dict[int, int]) -> Generator[simpy.Event, None, None]:
        """At the start of each target month, open requisitions to reach the target headcount
        (reps on staff plus requisitions already open; no layoffs)."""
        for month in sorted(targets):
            if not (yield from self._until_month_start(month)):
                return
            pools = self.pools_of_role[role]
            have = sum(sum(1 for r in p.reps if r.kind == RepKind.EMPLOYEE) + p.open_requisitions for p in pools)
            for _ in range(max(0, targets[month] - have)):
                pool = self._pool_for(role)
                self.open_requisition(pool, self._new_seat(role), 0)

    def run_interns(self, role: str) -> Generator[simpy.Event, None, None]:
        """A fixed-term intern cohort: starts at once (no requisition), leaves at the term's end."""
        spec = self.pools_of_role[role][0].spec.interns
        assert spec is not None
        if not (yield from self._until_month_start(spec.start_month)):
            return
        for k in range(spec.count):
            pool = self._pool_for(role)
            self._add_rep(pool, INTERN_SEATS + k, 0, 0.0, WorkforceEvent.START, kind=RepKind.INTERN,
                          ramp=list(spec.ramp), exit_t=self.env.now + spec.term_months * DAYS_PER_MONTH,
                          cost=spec.monthly_cost_usd)

    def run_outsourcing(self, role: str) -> Generator[simpy.Event, None, None]:
        """Outsourced reps: start at full speed, leave when the contract ends."""
        spec = self.pools_of_role[role][0].spec.outsourced
        assert spec is not None
        if not (yield from self._until_month_start(spec.start_month)):
            return
        end = math.inf if spec.end_month is None else self._month_start(spec.end_month + 1)
        for k in range(spec.reps):
            pool = self._pool_for(role)
            self._add_rep(pool, 2 * INTERN_SEATS + k, 0, 0.0, WorkforceEvent.START, kind=RepKind.OUTSOURCED,
                          ramp=[1.0], exit_t=end, cost=spec.price_per_month_usd)
