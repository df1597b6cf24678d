"""The world of one replication: built from a scenario, run on SimPy, returning its records.

This module owns the wiring (docs/developer/architecture.md#data-flow): scenario (inert data) → teams, pools, desks and
processes in a ``simpy.Environment`` → an :class:`~sim.eventlog.EventLog`. It holds no
metric formulas. Everything the replication needs hangs off the :class:`World`; there is no
global state.
"""

from __future__ import annotations

import gc
import itertools
import math
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import numpy as np
import simpy
from librt.strings import read_f64_le
from mypy_extensions import i64

from sim.eventlog import EventLog, LeadState, RepKind, Source
from sim.model.account_management import AccountManagerDesk
from sim.model.accounts import Accounts
from sim.model.engine.calendar import Environment, Timeline, slots_per_day_for
from sim.model.jobs import build_desks
from sim.model.leads import Lead, LeadFactory, poisson_arrival_times
from sim.model.reorg import Reorganization, after_reorg
from sim.model.routing import Router, Team, team_layout
from sim.model.self_service import SelfService
from sim.model.support import SupportDesk
from sim.model.workforce import RolePool, Workforce
from sim.rng import Streams
from sim.scenario import InboundSpec, OutboundSpec, Scenario
from sim.scenario.dates import availability, closed_days
from sim.scenario.jobs import NO_ROLE, Job
from sim.scenario.schema import QuotaSpec
from sim.workcalendar import DAYS_PER_MONTH, WorkCalendar

OUTBOUND_ID_OFFSET = 1_000_000_000
"""Outbound prospects are numbered from here, inbound MQLs from zero."""
WARM_ID_OFFSET = 2_000_000_000
"""Pipeline and customers of a warm start are numbered from here."""
ID_BLOCK = 1_000_000_000
"""Lead sources other than the ``inbound`` and ``outbound`` shorthands number their leads from
(3 + their place among them) × this."""

WARM_ACCOUNT_KEY = int(Source.WARM_START)
"""The warm start's key in the account streams (``accounts.expansion``, ...)."""


def source_identity(name: str, others_before: int) -> tuple[str, int, int]:
    """(stream prefix, first lead id, account-stream key) of the lead source ``name``.

    Its random streams are named after it (``<name>.segment``, ``<name>.arrivals``, ...), so adding a
    source never shifts another's draws. The sources named ``inbound`` and ``outbound`` — what the
    top-level ``inbound:`` and ``outbound:`` blocks are shorthand for — keep the lead ids and
    account-stream keys they have always had (inbound MQLs from 0, outbound prospects from 10⁹; keys
    0 and 1), so a scenario written with the shorthand and the same one written as a map give the same
    results to the bit. Other sources number their leads in blocks of 10⁹ from 3 × 10⁹, and key
    their accounts' streams by a hash of their name."""
    from sim.rng import stream_id

    if name == "inbound":
        return name, 0, int(Source.INBOUND)
    if name == "outbound":
        return name, OUTBOUND_ID_OFFSET, int(Source.OUTBOUND)
    return name, (3 + others_before) * ID_BLOCK, stream_id(f"source.{name}")


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
    for inbound in scenario.inbound_sources().values():
        if inbound.arrival_times_days is not None:
            leads += len(inbound.arrival_times_days)
        else:
            leads += inbound.mqls_per_month * sum((1.0 + inbound.growth_per_month) ** m for m in range(months))
    return (leads + expected_prospects(scenario)) / scenario.month_start_days()[-1]


def expected_prospects(scenario: Scenario) -> float:
    """Prospects the outbound reps would work over the horizon at full productivity."""
    return sum(spec.prospects_per_rep_month * scenario.roles[spec.worked_by].headcount * scenario.horizon_months
               for spec in scenario.outbound_sources().values())


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
        self.sources: list[tuple[str, InboundSpec | OutboundSpec]] = list(scenario.sources.items())
        """The lead sources (name, spec), in the order of :attr:`Scenario.sources`: a lead's ``source_index``."""
        self.factories: list[LeadFactory] = []
        """The lead factory of each source."""
        account_keys: list[int] = []
        others = 0
        for index, (source_name, spec) in enumerate(self.sources):
            prefix, id_offset, account_key = source_identity(source_name, others)
            others += source_name not in ("inbound", "outbound")
            account_keys.append(account_key)
            if isinstance(spec, InboundSpec):
                factory = LeadFactory(scenario, self.streams, Source.INBOUND, spec.segment_mix, spec.dials_to_connect,
                                      id_offset=id_offset, response_minutes=spec.response_minutes,
                                      source_index=index, prefix=prefix)
            else:
                factory = LeadFactory(scenario, self.streams, Source.OUTBOUND, spec.segment_mix, spec.dials_to_connect,
                                      id_offset=id_offset, source_index=index, prefix=prefix)
            self.factories.append(factory)
        self.accounts = Accounts(self.env, self.log, self.streams, segments, account_keys)
        self.arrivals: list[ArrivalChain] = []
        """The arrival chain of each inbound source worked by a role (:meth:`arrive_mqls`)."""
        self._self_serve: list[bool] = [spec.trial is not None for spec in segments]
        """Per segment: sold without a rep, through a trial (``closed_by: none``)."""
        self.sql_step: Callable[[Lead], None] = self._sql_or_trial if any(self._self_serve) else self._sql
        self.won_step: Callable[[Lead], None] = self._won
        self.quota_watch: list[tuple[str, QuotaSpec]] = [
            (name, spec.quota) for name, spec in scenario.roles.items()
            if spec.quota is not None and spec.quota.attrition is not None]
        """Roles whose attrition follows attainment (``quota.attrition``): their bookings are counted
        as the run goes (:meth:`_book`), and checked at each quota period's end."""
        self.booked: dict[int, float] = {}
        """Rep id → what it booked of its role's quota metric in the current period."""
        self.below_streak: dict[int, int] = {}
        """Rep id → full periods in a row below the threshold."""
        if self.quota_watch:
            self._plain_sql_step, self._plain_won_step = self.sql_step, self.won_step
            self.sql_step, self.won_step = self._sql_booked, self._won_booked
        self.unworked_step: Callable[[Lead], None] = self._unworked
        """The hand-offs between desks, bound once (desks call them for every SQL and every win); a
        scenario without self-service never tests a lead's segment for a trial."""
        self.self_service = SelfService(self.env, self.log, segments, self.won_step)
        """The trials of the segments sold without a rep (``closed_by: none``)."""
        self._source_qualify: list[float] = [spec.qualify_probability if isinstance(spec, InboundSpec) else 0.0
                                             for _, spec in self.sources]
        """Per source: the qualify probability of an inbound lead nobody works (``worked_by: none``)."""
        self.support_desks: dict[str, SupportDesk] = {
            role: SupportDesk(self.env, role, self.streams)
            for role in dict.fromkeys(seg.opportunity.support.role for seg in segments
                                      if seg.opportunity.support is not None)}
        """The pooled supporting roles (sales engineers) some segments' meetings need, by role."""
        expander = scenario.customers.expanded_by
        self.account_managers: AccountManagerDesk | None = (
            AccountManagerDesk(self.env, expander) if expander is not None else None)
        """The account managers (``customers.expanded_by``): expansion opportunities and renewals."""
        self.accounts.manager = self.account_managers

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

    def _sql_or_trial(self, lead: Lead) -> None:
        """An SQL of a scenario with self-service: one of a segment sold without a rep starts its
        trial (no closer), any other is routed to the closers (:meth:`_sql`)."""
        if self._self_serve[lead.segment]:
            self.self_service.start(lead)
        else:
            self._sql(lead)

    def _sql(self, lead: Lead) -> None:
        routed = self.router.route_sql(lead)
        if routed is None:
            lead.record_to(self.log.leads, self.timeline.now, LeadState.NO_CAPACITY)
            return
        desk, leg = routed
        desk.hand_off(lead, leg)

    def _sql_booked(self, lead: Lead) -> None:
        """An SQL, counted for its development rep's ``sqls`` quota, then handed on."""
        self._book(lead.dev_rep, "sqls", 1.0)
        self._plain_sql_step(lead)

    def _won_booked(self, lead: Lead) -> None:
        """A win, counted for its closer's ``wins`` or ``new_arr_usd`` quota, then a customer."""
        if lead.closer_rep >= 0:
            self._book(lead.closer_rep, "wins", 1.0)
            self._book(lead.closer_rep, "new_arr_usd", 12.0 * lead.mrr_usd)
        self._plain_won_step(lead)

    def _book(self, rep_id: int, metric: str, amount: float) -> None:
        rep = self.workforce.reps_by_id.get(rep_id) if rep_id >= 0 else None
        if rep is None:
            return
        for role, quota in self.quota_watch:
            if rep.pool.name == role and quota.metric == metric:
                self.booked[rep_id] = self.booked.get(rep_id, 0.0) + amount

    def _check_attainment(self, month: int) -> None:
        """At a quota period's end, each watched role's reps on staff the whole period: a streak
        below the threshold that reaches ``periods_below`` brings the rep's exit forward."""
        now = self.timeline.now
        for role, quota in self.quota_watch:
            attrition = quota.attrition
            if attrition is None or month % quota.period_months != 0:
                continue
            period_start = self.month_starts[month - quota.period_months]
            for pool in self.pools:
                if pool.name != role:
                    continue
                for rep in list(pool.reps):
                    booked = self.booked.pop(rep.id, 0.0)
                    if rep.kind != RepKind.EMPLOYEE or rep.hire_t > period_start:
                        continue
                    if booked / quota.amount >= attrition.below:
                        self.below_streak.pop(rep.id, None)
                        continue
                    streak = self.below_streak.get(rep.id, 0) + 1
                    self.below_streak[rep.id] = streak
                    if streak == attrition.periods_below and math.isfinite(rep.exit_t) and rep.exit_t > now:
                        hastened = now + (rep.exit_t - now) / attrition.hazard_multiplier
                        self.env.process(self.workforce.exit_early(rep, hastened))

    def own_sql_step(self, role: str) -> Callable[[Lead], None]:
        """The hand-off of an SQL made by a rep of ``role``, which also closes: an SQL of a segment
        ``role`` closes stays with its team's closing desk of ``role`` (no hand-off: no delay, no
        leakage, no lost context), where its own rep takes it if it has room; any other SQL is routed
        as usual."""
        def hand_off(lead: Lead) -> None:
            if self.router.closer_of_segment[lead.segment] == role:
                if self.quota_watch:
                    self._book(lead.dev_rep, "sqls", 1.0)
                self.teams[lead.dev_team].closing[role].hand_off(lead, self.router.own)
            else:
                self.sql_step(lead)
        return hand_off

    def _unworked(self, lead: Lead) -> None:
        """A lead of a source nobody works (``worked_by: none``): a self-service sign-up starts its trial;
        a lead of a segment sold by a rep goes straight to the closers as an SQL when it qualifies
        (against its source's ``qualify_probability``), without a development rep."""
        if self._self_serve[lead.segment]:
            self.self_service.start(lead)
            return
        if lead.u_qualify < self._source_qualify[lead.source_index]:
            lead.sql_t = self.timeline.now
            self.sql_step(lead)
        else:
            lead.record_to(self.log.leads, self.timeline.now, LeadState.NOT_A_FIT)

    def _won(self, lead: Lead) -> None:
        team = lead.closer_team
        if team < 0 and self.account_role is not None:  # a self-service customer: its market's team
            home = self.router.home_team(lead, self.account_role)
            team = home.index if home is not None else -1
        self.accounts.add_customer(lead, self.timeline.now, self.router.account_pool(self.account_role, team))

    # ------------------------------------------------------------------ processes

    def inbound_arrival_times(self, index: int | None = None) -> np.ndarray:
        """Arrival times (days) over the horizon of the inbound source ``index`` (default: the first),
        from its stream ``<name>.arrivals``."""
        if index is None:
            index = next(i for i, (_, spec) in enumerate(self.sources) if isinstance(spec, InboundSpec))
        spec = self.sources[index][1]
        assert isinstance(spec, InboundSpec)
        if spec.arrival_times_days is not None:
            times = np.sort(np.asarray(spec.arrival_times_days, dtype=float))
            return times[times < self.horizon_days]
        months = np.arange(self.scenario.horizon_months)
        rates = spec.mqls_per_month * (1.0 + spec.growth_per_month) ** months
        if spec.seasonality is not None:
            rates = rates * np.asarray(spec.seasonality)[months % 12]
        if self.scenario.deterministic:
            return self._even_arrivals(rates, spec.business_hours_only)
        rng = self.streams.generator(f"{self.factories[index].prefix}.arrivals")
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

    def arrive_mqls(self) -> int:
        """Start the MQL arrivals of every inbound source (an :class:`ArrivalChain` each); return how
        many MQLs will arrive over the horizon."""
        self.arrivals.clear()
        for index, (_, spec) in enumerate(self.sources):
            if isinstance(spec, InboundSpec):
                chain = ArrivalChain(self, index, spec.worked_by, self.inbound_arrival_times(index))
                self.arrivals.append(chain)
                chain.step()
        return sum(chain.count for chain in self.arrivals)

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
        """The desks that hold leads (development and closing, every team's; the trials)."""
        return [*(d for t in self.teams for d in (*t.development.values(), *t.closing.values())), self.self_service]

    def warm_start(self) -> None:
        """Open pipeline and installed customers at time 0 (``warm_start``), with latent draws
        from their own ``warm.*`` streams."""
        spec, scenario = self.scenario.warm_start, self.scenario
        if not spec.pipeline and not spec.customers:
            return
        factory = LeadFactory(scenario, self.streams, Source.WARM_START, dict.fromkeys(scenario.segments, 1.0),
                              scenario.contact_default(), id_offset=WARM_ID_OFFSET)
        inbound = [i for i, (_, s) in enumerate(self.sources) if isinstance(s, InboundSpec)]
        for item in spec.pipeline:
            view = factory.slice_view([item.segment], None, None)
            queue_of = (inbound[0] if inbound else -1) if item.source is None else \
                next(i for i, (n, _) in enumerate(self.sources) if n == item.source)
            for _ in range(item.count):
                lead = factory.create(-item.age_days, view)
                if item.stage == "mql":
                    if queue_of < 0:
                        continue
                    lead.source_index = queue_of  # waits in that source's queue, worked by its rules
                    worker = self.sources[queue_of][1].worked_by
                    if worker == NO_ROLE:
                        self._unworked(lead)
                        continue
                    mql_desk = self.router.route_mql(worker, lead)
                    if mql_desk is not None:
                        mql_desk.arrive(lead)
                    continue
                lead.connect_t = lead.sql_t = -item.age_days
                if self._self_serve[lead.segment]:  # an SQL of a self-service segment: its trial starts now
                    self.self_service.start(lead)
                    continue
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
                if desk is not self.self_service:
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
        if pool.manager_fill_days > 0.0:  # managers are hired: the seated ones (else ⌈headcount ÷ span⌉)
            levels.append((month, i, "managers", float(pool.managers)))

    def zero_levels(self, month: int, pool: RolePool) -> None:
        """The levels of a pool that did not exist yet (a team a reorg built later): all zero."""
        levels, i = self.log.levels, pool.pool_index
        for name in ("headcount", "ramping", "interns", "outsourced", "open_requisitions"):
            levels.append((month, i, name, 0.0))
        if pool.manager_fill_days > 0.0:
            levels.append((month, i, "managers", 0.0))
        if month == 0:
            levels.append((0, i, "fte", 0.0))
        else:
            for name in ("fte_days", "capacity_days", "busy_days", "backlog"):
                levels.append((month, i, name, 0.0))

    def _close_month(self, month: int) -> None:
        t_end = self.month_starts[month]
        self.accounts.month_step(month, self.month_starts[month - 1], t_end)
        if self.quota_watch:
            self._check_attainment(month)
        levels = self.log.levels
        for support in self.support_desks.values():  # meetings started and their waits, on the role's first pool
            if support.pools:
                started, waited = support.close_month()
                levels.append((month, support.pools[0].pool_index, "support_meetings", float(started)))
                levels.append((month, support.pools[0].pool_index, "support_wait_days", waited))
        managers = self.account_managers
        if managers is not None and managers.pools:  # on the role's first pool, like the supporting roles
            started, unworked, pipeline, pipeline_usd = managers.close_month()
            first = managers.pools[0].pool_index
            levels.append((month, first, "am_started", float(started)))
            levels.append((month, first, "am_unworked", float(unworked)))
            levels.append((month, first, "expansion_pipeline", float(pipeline)))
            levels.append((month, first, "expansion_pipeline_usd", pipeline_usd))
        for pool in self.pools:
            backlog_of = getattr(pool.desk, "backlog", None)  # a desk that holds work (not the accounts)
            backlog = backlog_of() if backlog_of is not None else 0
            if isinstance(pool.desk, (SupportDesk, AccountManagerDesk)) and pool is not pool.desk.pools[0]:
                backlog = 0  # one queue for the role's pools: counted once
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
        inbound = self.arrive_mqls()
        self.log.leads.reserve(len(self.log.leads) + inbound + int(expected_prospects(self.scenario)))
        self.env.process(self.close_months())
        self.env.run(until=self.horizon_days)
        self._close_month(self.scenario.horizon_months)
        for desk in self._desks():
            desk.finalize(self.horizon_days)
        return self.log


class ArrivalChain:
    """The MQL arrivals of one inbound source, each routed to a team's desk of the role that works
    the source at its time.

    A chain of calls on the calendar (:meth:`~sim.model.engine.calendar.Timeline.call_next`), one
    per arrival instant: the cheapest way to put the arrivals in time order with everything
    else. The arrival times are kept as little-endian doubles and read one at a time
    (``librt.strings.read_f64_le``: a C number where compiled, no Python float per arrival)."""

    def __init__(self, world: World, index: int, role: str, times: np.ndarray) -> None:
        self.world = world
        self.timeline: Timeline = world.timeline
        self.factory = world.factories[index]
        self.role = role
        self.times = np.ascontiguousarray(times, dtype="<f8").tobytes()
        self.count: i64 = len(self.times) // 8
        self.next: i64 = 0
        self.unworked = role == NO_ROLE
        """A source nobody works (``worked_by: none``): its leads go to :meth:`World._unworked`."""
        self.desk = None if self.unworked else world.router.fixed_mql_desk(role)
        """The one desk every MQL goes to (a silo or a pooled role), or None: each is routed."""
        self.step: Callable[[], None] = self.due_unworked if self.unworked else self.due
        """``due`` bound once: the calendar gets the same object at every arrival."""

    def due(self) -> None:
        """The MQLs arriving now enter their desks; the chain moves on to the next arrival."""
        times, now = self.times, self.timeline.now
        i: i64 = self.next
        arrivals: i64 = self.count
        factory = self.factory
        fixed = self.desk
        world = self.world
        while i < arrivals:
            t = read_f64_le(times, 8 * i)
            if t > now:
                break
            i += 1
            lead = factory.create(t)
            desk = fixed if fixed is not None else world.router.route_mql(self.role, lead)
            if desk is None:
                lead.record_to(world.log.leads, t, LeadState.NO_CAPACITY)
            else:
                desk.arrive(lead)
        self.next = i
        if i < arrivals:
            self.timeline.call_next(read_f64_le(times, 8 * i), self.step)

    def due_unworked(self) -> None:
        """:meth:`due` for a source nobody works: the sign-ups arriving now go to
        :meth:`World._unworked` (kept out of ``due``, the per-lead path of every other source)."""
        times, now = self.times, self.timeline.now
        i: i64 = self.next
        arrivals: i64 = self.count
        factory = self.factory
        unworked = self.world.unworked_step
        while i < arrivals:
            t = read_f64_le(times, 8 * i)
            if t > now:
                break
            i += 1
            unworked(factory.create(t))
        self.next = i
        if i < arrivals:
            self.timeline.call_next(read_f64_le(times, 8 * i), self.step)


def simulate(scenario: Scenario, seed: int, replication: int) -> EventLog:
    """Build and run one replication; return its event log."""
    return World(scenario, seed, replication).run()
