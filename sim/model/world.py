"""The world of one replication: built from a scenario, run on SimPy, returning its records.

This module owns the wiring (docs/developer/architecture.md#data-flow): scenario (inert data) → teams, pools, desks and
processes in a ``simpy.Environment`` → an :class:`~sim.eventlog.EventLog`. It holds no
metric formulas. Everything the replication needs hangs off the :class:`World`; there is no
global state.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import numpy as np
import simpy
from librt.strings import read_f64_le
from mypy_extensions import i64

from sim.eventlog import EventLog, LeadState, RepKind, Source
from sim.model.accounts import Accounts
from sim.model.engine.calendar import Environment, Timeline, slots_per_day_for
from sim.model.jobs import build_desks
from sim.model.leads import Lead, LeadFactory, poisson_arrival_times
from sim.model.reorg import Reorganization, after_reorg
from sim.model.routing import Router, Team, team_layout
from sim.model.workforce import RolePool, Workforce
from sim.rng import Streams
from sim.scenario import Scenario
from sim.scenario.dates import availability, closed_days
from sim.scenario.jobs import Job
from sim.workcalendar import DAYS_PER_MONTH, WorkCalendar

OUTBOUND_ID_OFFSET = 1_000_000_000
"""Outbound prospects are numbered from here, inbound MQLs from zero."""
WARM_ID_OFFSET = 2_000_000_000
"""Pipeline and customers of a warm start are numbered from here."""


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


CALENDAR_ENTRIES_PER_LEAD = 2.5
"""Calendar entries (events and calls) per lead, about: 2.45 at the reference workload
(``benchmarks/bench_perf.py``). Only sizes the calendar's time slots (:func:`expected_leads_per_day`)."""


def expected_leads_per_day(scenario: Scenario) -> float:
    """New leads a day over the horizon, on average (MQLs at their mean rate with its growth, plus
    :func:`expected_prospects`): sizes the calendar's time slots, nothing else."""
    months = scenario.horizon_months
    leads = 0.0
    inbound = scenario.inbound
    if inbound is not None:
        if inbound.arrival_times_days is not None:
            leads += len(inbound.arrival_times_days)
        else:
            leads += inbound.mqls_per_month * sum((1.0 + inbound.growth_per_month) ** m for m in range(months))
    return (leads + expected_prospects(scenario)) / scenario.month_start_days()[-1]


def expected_prospects(scenario: Scenario) -> float:
    """Prospects the outbound reps would work over the horizon at full productivity."""
    spec = scenario.outbound
    if spec is None:
        return 0.0
    return spec.prospects_per_rep_month * scenario.roles[spec.worked_by].headcount * scenario.horizon_months


def apply_pod_effects(scenario: Scenario, pool: RolePool, seats: list[int]) -> None:
    """Give a POD's pool the POD's effects (``org.pod_effects``; all 1.0: nothing changes)."""
    effects = scenario.org.pod_effects
    pool.ramp_speed = effects.ramp_speed_multiplier
    pool.tenure_speed = effects.attrition_hazard_multiplier
    pool.churn_multiplier = effects.churn_hazard_multiplier
    if Job.CLOSE in scenario.jobs_of(pool.name):
        pool.win_odds = effects.win_odds_multiplier
    lead = effects.pod_lead
    if lead is not None and lead.role == pool.name and seats:
        pool.lead_seat = seats[0]
        pool.lead_share = lead.selling_share


def _index_set(names: list[str] | None, all_names: list[str]) -> frozenset[int] | None:
    return None if names is None else frozenset(all_names.index(n) for n in names if n in all_names)


class World:
    """One replication's SimPy world.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    seed : int
        Root seed of the experiment.
    replication : int
        Replication index; with ``seed`` it names every random stream.
    """

    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        if scenario.deterministic:
            from sim.scenario.deterministic import durations_at_means

            scenario = durations_at_means(scenario)
        original = scenario
        if scenario.reorg and scenario.reorg[0].month == 0:  # reorganized before day one: the target org
            scenario = after_reorg(scenario, scenario.reorg[0])
        self.scenario = scenario
        entries_per_day = CALENDAR_ENTRIES_PER_LEAD * expected_leads_per_day(scenario)
        self.env = Environment(slots_per_day=slots_per_day_for(entries_per_day))
        self.timeline: Timeline = self.env.timeline
        self.streams = Streams(seed, replication, deterministic=scenario.deterministic)
        cal = scenario.calendar
        start = scenario.start_date
        self.calendar = WorkCalendar(cal.start_hour, cal.hours_per_day, cal.days_per_week,
                                     first_weekday=start.weekday() if start is not None else 0,
                                     closed_days=closed_days(scenario))
        self.month_starts: list[float] = scenario.month_start_days()
        """Day on which each month 1 … horizon + 1 begins (:meth:`Scenario.month_start_days`): calendar
        months with a start date, ``m × DAYS_PER_MONTH`` (exactly) without."""
        self.horizon_days = self.month_starts[-1]
        role_names = list(scenario.roles)
        segment_names = list(scenario.segments)
        segments = [scenario.segments[n] for n in segment_names]
        layout = team_layout(scenario)
        self.log = EventLog(roles=role_names, segments=segment_names, horizon_months=scenario.horizon_months,
                            teams=[name for name, _, _ in layout])
        self.segment_specs = segments
        self.accounts = Accounts(self.env, self.log, self.streams, segments)
        self.mqls: LeadFactory | None = None
        self.prospects: LeadFactory | None = None
        """The lead factories of the inbound and outbound sources (None: the scenario has none)."""
        if scenario.inbound is not None:
            self.mqls = LeadFactory(scenario, self.streams, Source.INBOUND, scenario.inbound.segment_mix,
                                    scenario.inbound.dials_to_connect, id_offset=0,
                                    response_minutes=scenario.inbound.response_minutes)
        if scenario.outbound is not None:
            self.prospects = LeadFactory(scenario, self.streams, Source.OUTBOUND, scenario.outbound.segment_mix,
                                         scenario.outbound.dials_to_connect, id_offset=OUTBOUND_ID_OFFSET)
        self.sql_step: Callable[[Lead], None] = self._sql
        self.won_step: Callable[[Lead], None] = self._won
        """The hand-offs between desks, bound once (desks call them for every SQL and every win)."""

        self.pools: list[RolePool] = []
        self.teams: list[Team] = []
        self._facet_pools = itertools.count(-1, -1)  # facet pools of shared-time roles: not in the event log
        self.build_teams(layout)
        self.log.pools = [(pool.index, pool.team) for pool in self.pools]
        self.router = Router(scenario, self.teams)
        self.account_role = scenario.account_role
        self.workforce = Workforce(self.env, self.streams, self.log, self.pools, self.horizon_days, scenario,
                                   month_starts=self.month_starts if start is not None else None)
        self.reorgs = [Reorganization(self, change) for change in original.reorg
                       if 0 < change.month < scenario.horizon_months]
        """The changes of structure during the run (a reorg at month 0 is the starting org)."""

    def build_teams(self, layout: list[tuple[str, bool, dict[str, list[int]]]]) -> list[Team]:
        """Build the teams of ``layout`` under the current ``scenario.org`` (after the teams already
        built): a pool per role and team, the desks of its jobs. Returns the new teams."""
        scenario = self.scenario
        role_names, segment_names = list(scenario.roles), list(scenario.segments)
        market = scenario.market
        built = []
        for name, is_pod, seats in layout:
            t_index = len(self.teams)
            pod = scenario.org.pods.get(name) if is_pod else None
            team = Team(
                name, t_index, is_pod,
                segments=_index_set(pod.segments, segment_names) if pod else None,
                regions=_index_set(pod.regions, list(market.regions)) if pod else None,
                industries=_index_set(pod.industries, list(market.industries)) if pod else None,
                staffed=frozenset(role for role, s in seats.items() if s),
            )
            for role, role_seats in seats.items():
                pool = RolePool(role, role_names.index(role), scenario.roles[role], team=t_index,
                                seats=role_seats, pool_index=len(self.pools),
                                recruiting_load_fte=scenario.hiring.recruiting_load_fte,
                                availability=availability(scenario))
                if is_pod:
                    apply_pod_effects(scenario, pool, role_seats)
                self.pools.append(pool)
                team.pools[role] = pool
                build_desks(self, pool, team, self._facet_pools.__next__)
            self.teams.append(team)
            built.append(team)
        return built

    # ------------------------------------------------------------------ hand-offs between desks

    def _sql(self, lead: Lead) -> None:
        routed = self.router.route_sql(lead)
        if routed is None:
            lead.record_to(self.log.leads, self.timeline.now, LeadState.NO_CAPACITY)
            return
        desk, leg = routed
        desk.hand_off(lead, leg)

    def own_sql_step(self, role: str) -> Callable[[Lead], None]:
        """The hand-off of an SQL made by a rep of ``role``, which also closes: an SQL of a segment
        ``role`` closes stays with its team's closing desk of ``role`` (no hand-off: no delay, no
        leakage, no lost context), where its own rep takes it if it has room; any other SQL is routed
        as usual."""
        def hand_off(lead: Lead) -> None:
            if self.router.closer_of_segment[lead.segment] == role:
                self.teams[lead.dev_team].closing[role].hand_off(lead, self.router.own)
            else:
                self._sql(lead)
        return hand_off

    def _won(self, lead: Lead) -> None:
        self.accounts.add_customer(lead, self.timeline.now,
                                   self.router.account_pool(self.account_role, lead.closer_team))

    # ------------------------------------------------------------------ processes

    def inbound_arrival_times(self) -> np.ndarray:
        """Arrival times of MQLs over the horizon (days)."""
        spec = self.scenario.inbound
        assert spec is not None
        if spec.arrival_times_days is not None:
            times = np.sort(np.asarray(spec.arrival_times_days, dtype=float))
            return times[times < self.horizon_days]
        months = np.arange(self.scenario.horizon_months)
        rates = spec.mqls_per_month * (1.0 + spec.growth_per_month) ** months
        if spec.seasonality is not None:
            rates = rates * np.asarray(spec.seasonality)[months % 12]
        if self.scenario.deterministic:
            return self._even_arrivals(rates, spec.business_hours_only)
        rng = self.streams.generator("inbound.arrivals")
        if spec.business_hours_only:
            return poisson_arrival_times(rng, rates, DAYS_PER_MONTH,
                                         self.calendar.to_work_array, self.calendar.from_work_array,
                                         month_starts=self.month_starts)
        return poisson_arrival_times(rng, rates, DAYS_PER_MONTH, month_starts=self.month_starts)

    def _even_arrivals(self, rates: np.ndarray, business_hours_only: bool) -> np.ndarray:
        """Deterministic mode: each month's rounded expected count, evenly spread."""
        cumulative = np.rint(np.cumsum(rates)).astype(int)
        counts = np.diff(np.concatenate([[0], cumulative]))
        out = []
        for m, count in enumerate(counts.tolist()):
            lo, hi = self.month_starts[m], self.month_starts[m + 1]
            position = (np.arange(count) + 0.5) / max(count, 1)
            if business_hours_only:
                w_lo, w_hi = self.calendar.to_work(lo), self.calendar.to_work(hi)
                out.append(self.calendar.from_work_array(w_lo + (w_hi - w_lo) * position))
            else:
                out.append(lo + (hi - lo) * position)
        return np.concatenate(out) if out else np.empty(0)

    def arrive_mqls(self) -> None:
        """Start the inbound MQL arrivals: each is routed to a team's inbound desk at its time.

        A chain of calls on the calendar (:meth:`~sim.model.engine.calendar.Timeline.call_next`), one
        per arrival instant: the cheapest way to put the arrivals in time order with everything
        else. The arrival times are kept as little-endian doubles and read one at a time
        (``librt.strings.read_f64_le``: a C number where compiled, no Python float per arrival)."""
        assert self.scenario.inbound is not None and self.mqls is not None
        self._arrival_times = np.ascontiguousarray(self.inbound_arrival_times(), dtype="<f8").tobytes()
        self._arrivals = len(self._arrival_times) // 8
        self._next_arrival = 0
        self._arrive_step = self._arrive_due
        """``_arrive_due`` bound once: the calendar gets the same object at every arrival."""
        self._mql_role = self.scenario.inbound.worked_by
        self._mql_desk = self.router.fixed_mql_desk(self._mql_role)
        self._arrive_due()

    def _arrive_due(self) -> None:
        """The MQLs arriving now enter their desks; the chain moves on to the next arrival."""
        times, now = self._arrival_times, self.timeline.now
        i: i64 = self._next_arrival
        arrivals: i64 = self._arrivals
        factory = self.mqls
        assert factory is not None
        fixed = self._mql_desk
        while i < arrivals:
            t = read_f64_le(times, 8 * i)
            if t > now:
                break
            i += 1
            lead = factory.create(t)
            desk = fixed if fixed is not None else self.router.route_mql(self._mql_role, lead)
            if desk is None:
                lead.record_to(self.log.leads, t, LeadState.NO_CAPACITY)
            else:
                desk.arrive(lead)
        self._next_arrival = i
        if i < arrivals:
            self.timeline.call_next(read_f64_le(times, 8 * i), self._arrive_step)

    def close_months(self) -> Generator[simpy.Event, None, None]:
        """At each month end: churn and expansion, level snapshots, new prospect lists.

        The month's books close before anything else happening at the same instant (a hiring
        wave or an intern cohort starting "in month m+1" belongs to month m+1)."""
        for month in range(1, self.scenario.horizon_months):
            boundary = simpy.Event(self.env)
            boundary._ok = True
            boundary._value = None
            self.env.schedule(boundary, simpy.core.URGENT, self.month_starts[month] - self.env.now)
            yield boundary
            self._close_month(month)

    def _desks(self) -> list:
        """The desks that hold leads (development and closing), every team's."""
        return [d for t in self.teams for d in (*t.development.values(), *t.closing.values())]

    def warm_start(self) -> None:
        """Open pipeline and installed customers at time 0 (``warm_start``), with latent draws
        from their own ``warm.*`` streams."""
        spec, scenario = self.scenario.warm_start, self.scenario
        if not spec.pipeline and not spec.customers:
            return
        factory = LeadFactory(scenario, self.streams, Source.WARM_START, dict.fromkeys(scenario.segments, 1.0),
                              scenario.inbound.dials_to_connect if scenario.inbound else scenario.contact_default(),
                              id_offset=WARM_ID_OFFSET)
        for item in spec.pipeline:
            view = factory.slice_view([item.segment], None, None)
            for _ in range(item.count):
                lead = factory.create(-item.age_days, view)
                if item.stage == "mql":
                    if scenario.inbound is None:
                        continue
                    mql_desk = self.router.route_mql(scenario.inbound.worked_by, lead)
                    if mql_desk is not None:
                        mql_desk.arrive(lead)
                    continue
                lead.connect_t = lead.sql_t = -item.age_days
                routed = self.router.route_sql(lead)
                if routed is None:
                    lead.record_to(self.log.leads, 0.0, LeadState.NO_CAPACITY)
                    continue
                closing_desk, _leg = routed
                lead.closer_team = closing_desk.pool.team
                if item.stage == "sql":
                    closing_desk.enqueue_warm(lead, item.age_days)
                else:
                    closing_desk.open_warm(lead, item.age_days)
        account_role = self.account_role
        for i, installed in enumerate(spec.customers):
            view = factory.slice_view([installed.segment], None, None)
            mrr = installed.mrr_usd.sample(self.streams.generator("warm.customers_mrr", i), installed.count)
            for k in range(installed.count):
                lead = factory.create(-installed.age_months * DAYS_PER_MONTH, view)
                lead.mrr_usd = max(0.0, float(mrr[k]))
                team = self.router.home_team(lead, account_role) if account_role else None
                pool = team.account_pools.get(account_role) if team is not None and account_role else None
                lead.closer_team = team.index if team is not None else -1
                # an account, not a lead of this run: no lead record, no win
                self.accounts.add_customer(lead, 0.0, pool, signed_t=lead.created_t, installed=True)
        if spec.pipeline:
            for desk in self._desks():
                desk.fill()

    def _headcount_levels(self, month: int, pool: RolePool) -> None:
        reps = pool.reps
        i, levels = pool.pool_index, self.log.levels
        levels.append((month, i, "headcount", float(len(reps))))
        ramping = sum(1 for r in reps if r.kind == RepKind.EMPLOYEE and r.is_ramping())
        levels.append((month, i, "ramping", float(ramping)))
        levels.append((month, i, "interns", float(sum(1 for r in reps if r.kind == RepKind.INTERN))))
        levels.append((month, i, "outsourced", float(sum(1 for r in reps if r.kind == RepKind.OUTSOURCED))))
        levels.append((month, i, "open_requisitions", float(pool.open_requisitions)))

    def zero_levels(self, month: int, pool: RolePool) -> None:
        """The levels of a pool that did not exist yet (a team a reorg built later): all zero."""
        levels, i = self.log.levels, pool.pool_index
        for name in ("headcount", "ramping", "interns", "outsourced", "open_requisitions"):
            levels.append((month, i, name, 0.0))
        if month == 0:
            levels.append((0, i, "fte", 0.0))
        else:
            for name in ("fte_days", "capacity_days", "busy_days", "backlog"):
                levels.append((month, i, name, 0.0))

    def _close_month(self, month: int) -> None:
        t_end = self.month_starts[month]
        self.accounts.month_step(month, self.month_starts[month - 1], t_end)
        levels = self.log.levels
        for pool in self.pools:
            backlog_of = getattr(pool.desk, "backlog", None)  # a desk that holds work (not the accounts)
            backlog = backlog_of() if backlog_of is not None else 0
            i = pool.pool_index
            self._headcount_levels(month, pool)
            levels.append((month, i, "fte_days", pool.fte.take_area(t_end)))
            levels.append((month, i, "capacity_days", pool.capacity.take_area(t_end)))
            levels.append((month, i, "busy_days", pool.busy.take_area(t_end)))
            levels.append((month, i, "backlog", float(backlog)))
        if month < self.scenario.horizon_months:
            for team in self.teams:
                for desk in team.development.values():
                    desk.new_month()

    def _snapshot_start(self) -> None:
        for pool in self.pools:
            self._headcount_levels(0, pool)
            self.log.levels.append((0, pool.pool_index, "fte", pool.fte.value))

    def run(self) -> EventLog:
        """Run the replication to the horizon and return its records.

        Python's cyclic garbage collector is paused while the world runs (and restored after):
        the world allocates hundreds of thousands of short-lived objects without cycles, and
        the collector's repeated scans of the growing record lists made run time superlinear
        in org size (a third of the time at 4× the reference workload)."""
        with collector_paused():
            return self._run()

    def _run(self) -> EventLog:
        self.workforce.start()
        self.warm_start()
        for change in self.scenario.reorg:
            if change.month == 0:
                self.env.process(Reorganization(self, change).transition())
        for reorg in self.reorgs:
            self.env.process(reorg.run())
        self._snapshot_start()
        if self.scenario.inbound is not None:
            self.arrive_mqls()
        inbound = self._arrivals if self.scenario.inbound is not None else 0
        self.log.leads.reserve(len(self.log.leads) + inbound + int(expected_prospects(self.scenario)))
        self.env.process(self.close_months())
        self.env.run(until=self.horizon_days)
        self._close_month(self.scenario.horizon_months)
        for desk in self._desks():
            desk.finalize(self.horizon_days)
        return self.log


def simulate(scenario: Scenario, seed: int, replication: int) -> EventLog:
    """Build and run one replication; return its event log."""
    return World(scenario, seed, replication).run()
