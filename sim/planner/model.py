"""The sales model the planner works on: plain numbers per segment, lead source and role.

A :class:`SalesModel` is either built from a validated scenario
(:meth:`SalesModel.from_scenario`) or written directly (the book's POD example): segments with
their deal size, win rate and cycle, lead sources with their conversions and hand-offs, roles
with their capacity, ramp, tenure and time to fill.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sim.planner.arithmetic import YEAR_MONTHS, PlanError, check_number, check_probability
from sim.planner.staffing import dials_stats, mean_nonnegative, ramp_to_full_months, staffing_shares
from sim.scenario.jobs import NO_ROLE, Job
from sim.workcalendar import DAYS_PER_MONTH, MINUTES_PER_DAY

if TYPE_CHECKING:  # pragma: no cover
    from sim.scenario import HandoffLegSpec, Scenario

DEFAULT_INBOUND_SQL_SHARE = 0.6
"""Inbound share of SQLs when it cannot be derived (60 : 40, docs/background/default-figures.md#funnel-and-capacity)."""


# --------------------------------------------------------------------------- the sales model


@dataclass(frozen=True)
class Handoff:
    """A hand-off of SQLs from a development role to a closer role.

    Attributes
    ----------
    leakage_probability : float
        Share of SQLs lost in the hand-off.
    win_odds_multiplier : float
        Multiplies the odds of passing an opportunity's first meeting (context loss).
    delay_days : float
        Mean calendar days of the hand-off.
    """

    leakage_probability: float = 0.0
    win_odds_multiplier: float = 1.0
    delay_days: float = 0.0

    def __post_init__(self) -> None:
        check_probability("a hand-off's leakage_probability", self.leakage_probability)
        if check_number("win_odds_multiplier", self.win_odds_multiplier) <= 0:
            raise PlanError(f"win_odds_multiplier must be positive (got {self.win_odds_multiplier:g})")



NO_HANDOFF = Handoff()
"""The "hand-off" of an SQL of a self-service segment: none (its trial starts at once, nothing leaks)."""

@dataclass(frozen=True)
class SegmentModel:
    """A market tier: deal size and the meeting chain of its opportunities.

    Attributes
    ----------
    name : str
    mean_deal_mrr_usd : float
        Mean new MRR of a won deal.
    pass_probabilities : tuple of float
        Probability each meeting passes; the deal is won after the last one.
    mean_gap_days : float
        Mean calendar days before each meeting.
    closed_by : str
        The closer role.
    support_role : str, optional
        The supporting role (sales engineers) some meetings need; ``supported`` says which, and
        ``support_days`` how long one holds a rep.
    """

    name: str
    mean_deal_mrr_usd: float
    pass_probabilities: tuple[float, ...] = (1.0,)
    mean_gap_days: float = 0.0
    closed_by: str = "ae"
    support_role: str | None = None
    supported: tuple[bool, ...] = ()
    support_days: float = 0.0
    expansion_signals_per_month: float = 0.0
    """With account managers: expansion signals per customer a month (``expansion.monthly_probability``)."""
    expansion_days: float = 0.0
    """With account managers: mean days an expansion opportunity holds one (``expansion.cycle_days``)."""
    renewals_per_month: float = 0.0
    """With account managers: renewals per customer a month (1 ÷ the contract term; 0 month to month)."""
    renewal_days: float = 0.0
    """With account managers: days a renewal holds one (``contract.renewal_lead_days``)."""
    trial_assisted_by: str | None = None
    """Self-service (``closed_by: none``): the role that touches the trials, if any; the segment's
    one "meeting" is the trial (``pass_probabilities``: its conversion, ``mean_gap_days``: its days)."""

    def __post_init__(self) -> None:
        if check_number(f"segment {self.name!r}: mean_deal_mrr_usd", self.mean_deal_mrr_usd) < 0:
            raise PlanError(f"segment {self.name!r}: the mean deal size cannot be negative")
        if not self.pass_probabilities:
            raise PlanError(f"segment {self.name!r}: an opportunity needs at least one meeting")
        for p in self.pass_probabilities:
            check_probability(f"segment {self.name!r}: a meeting pass probability", p)
        if check_number(f"segment {self.name!r}: mean_gap_days", self.mean_gap_days) < 0:
            raise PlanError(f"segment {self.name!r}: mean_gap_days cannot be negative")

    @classmethod
    def simple(cls, name: str, mean_deal_mrr_usd: float, win_rate: float, cycle_days: float = 0.0,
               closed_by: str = "ae") -> SegmentModel:
        """A segment with one decisive meeting after ``cycle_days`` (the book's figures)."""
        return cls(name, mean_deal_mrr_usd, (win_rate,), cycle_days, closed_by)

    def passes(self, win_odds_multiplier: float = 1.0) -> tuple[float, ...]:
        """Pass probabilities with the first meeting's odds multiplied by ``win_odds_multiplier``."""
        p = self.pass_probabilities
        if win_odds_multiplier == 1.0 or p[0] >= 1.0:
            return p
        odds = p[0] / (1.0 - p[0]) * win_odds_multiplier
        return (odds / (1.0 + odds), *p[1:])

    def win_rate(self, win_odds_multiplier: float = 1.0) -> float:
        """P(won | opportunity opened)."""
        return math.prod(self.passes(win_odds_multiplier))

    def opportunity_days(self, win_odds_multiplier: float = 1.0) -> float:
        """Expected days an opportunity stays open, won or lost."""
        reach, total = 1.0, 0.0
        for p in self.passes(win_odds_multiplier):
            total += reach
            reach *= p
        return self.mean_gap_days * total

    def supported_meetings(self, win_odds_multiplier: float = 1.0) -> float:
        """Expected meetings per opportunity that need a supporting rep (those the deal reaches)."""
        reach, total = 1.0, 0.0
        for i, p in enumerate(self.passes(win_odds_multiplier)):
            if i < len(self.supported) and self.supported[i]:
                total += reach
            reach *= p
        return total

    def won_cycle_days(self) -> float:
        """Expected days from acceptance to a win (every gap is passed)."""
        return self.mean_gap_days * len(self.pass_probabilities)


@dataclass(frozen=True)
class SourceModel:
    """A lead source (inbound MQLs or outbound prospects) and its conversion to SQLs.

    Attributes
    ----------
    role : str
        The development role that works it.
    sql_rate : float
        P(a lead becomes an SQL) before the hand-off (inbound: qualify × reached; outbound:
        reached × lead × SQL). Hand-off leakage is applied per closer.
    segment_mix : mapping
        Relative weight of each segment among this source's leads.
    handoffs : mapping
        Hand-off to each closer role; closers not listed use ``default_handoff``.
    dials_per_lead : float, optional
        Mean dials a lead takes (for the dial count).
    work_days : float
        Mean calendar days from a lead's arrival to its SQL (for hiring lead times).
    """

    role: str
    sql_rate: float
    segment_mix: Mapping[str, float]
    handoffs: Mapping[str, Handoff] = field(default_factory=dict)
    default_handoff: Handoff = field(default_factory=Handoff)
    dials_per_lead: float | None = None
    work_days: float = 0.0

    def __post_init__(self) -> None:
        check_probability(f"the {self.role} source's sql_rate", self.sql_rate)
        if not self.segment_mix or any(check_number("a segment weight", w) < 0 for w in self.segment_mix.values()):
            raise PlanError(f"the source worked by {self.role!r} needs non-negative segment weights")
        if sum(self.segment_mix.values()) <= 0:
            raise PlanError(f"the segment weights of the source worked by {self.role!r} are all zero")

    def handoff(self, closer: str) -> Handoff:
        if closer == NO_ROLE:
            return NO_HANDOFF  # an SQL of a self-service segment starts its trial at once
        return self.handoffs.get(closer, self.default_handoff)

    def mix(self) -> dict[str, float]:
        total = sum(self.segment_mix.values())
        return {s: w / total for s, w in self.segment_mix.items()}


@dataclass(frozen=True)
class RoleModel:
    """One role's capacity, cost and staffing dynamics.

    Capacity is per fully ramped rep and month, in the units of the role's jobs: inbound MQLs
    worked, outbound prospects worked, SQLs taken on (``sqls_per_month``, or Little's law with
    ``max_open_opportunities`` and each segment's opportunity duration), accounts covered — each
    as if the rep spent all its time at that job's desk.

    Attributes
    ----------
    desk_shares : mapping of str to float, optional
        A role with jobs at several desks (a full-cycle rep): each desk's share of a rep's time
        (``development``, ``closing``, ``accounts``; :mod:`sim.scenario.jobs`). None: one desk.
    vacancy_share, ramp_loss_share : float
        Shares of a seat's time empty (attrition, time to fill) and lost to ramping
        (:func:`staffing_shares`).
    time_to_fill_months : float
        Mean months from an opened requisition to the rep's start.
    current_headcount : int, optional
        Reps on staff at month 0 in the scenario the model came from.
    """

    name: str
    mqls_per_month: float | None = None
    prospects_per_month: float | None = None
    sqls_per_month: float | None = None
    max_open_opportunities: float | None = None
    accounts_covered: float | None = None
    meetings_supported: float | None = None
    trials_assisted: float | None = None
    open_expansions: float | None = None
    monthly_cost_usd: float = 0.0
    ramp: tuple[float, ...] = (1.0,)
    vacancy_share: float = 0.0
    ramp_loss_share: float = 0.0
    time_to_fill_months: float = 0.0
    mean_tenure_months: float | None = None
    recruiting_load_fte: float = 0.0
    desk_shares: Mapping[str, float] | None = None
    current_headcount: int | None = None
    """Reps on staff today (the scenario's ``headcount``), to set the plan against; None: unknown."""

    def __post_init__(self) -> None:
        for attr in ("mqls_per_month", "prospects_per_month", "sqls_per_month", "max_open_opportunities",
                     "accounts_covered", "meetings_supported", "trials_assisted", "open_expansions"):
            value = getattr(self, attr)
            if value is not None and check_number(f"role {self.name!r}: {attr}", value) < 0:
                raise PlanError(f"role {self.name!r}: {attr} cannot be negative (got {value:g})")
        if check_number(f"role {self.name!r}: monthly_cost_usd", self.monthly_cost_usd) < 0:
            raise PlanError(f"role {self.name!r}: monthly_cost_usd cannot be negative")
        if not self.ramp:
            raise PlanError(f"role {self.name!r}: the ramp needs at least one productivity value")
        if check_number(f"role {self.name!r}: time_to_fill_months", self.time_to_fill_months) < 0:
            raise PlanError(f"role {self.name!r}: time_to_fill_months cannot be negative")

    @property
    def recruiting_factor(self) -> float:
        """Share of the staffed reps' time left after interviewing: ``1 - load × vacancy / (1 - vacancy)``
        (each seat has a requisition open ``vacancy`` of the time, shared by ``1 - vacancy`` staffed reps)."""
        v = self.vacancy_share
        if self.recruiting_load_fte <= 0 or v <= 0:
            return 1.0
        if v >= 1:
            return 0.0
        return max(0.0, 1.0 - self.recruiting_load_fte * v / (1.0 - v))

    @property
    def productive_share(self) -> float:
        """Share of a seat's time that is staffed and productive:
        ``(1 - vacancy - ramp loss) × recruiting factor``."""
        return (1.0 - self.vacancy_share - self.ramp_loss_share) * self.recruiting_factor

    @property
    def recruiting_loss_share(self) -> float:
        """Share of a seat's time spent interviewing for open requisitions."""
        return (1.0 - self.vacancy_share - self.ramp_loss_share) * (1.0 - self.recruiting_factor)

    @property
    def ramp_to_full_months(self) -> int:
        return ramp_to_full_months(self.ramp)

    @property
    def first_year_productivity(self) -> float:
        """Mean productivity over the first 12 months of a rep hired at month 0 (for reports)."""
        return sum(self.ramp[min(k, len(self.ramp) - 1)] for k in range(YEAR_MONTHS)) / YEAR_MONTHS


@dataclass(frozen=True)
class SalesModel:
    """The sales model the planner inverts: segments, lead sources, roles.

    Attributes
    ----------
    segments : mapping of str to SegmentModel
    roles : mapping of str to RoleModel
    inbound, outbound : SourceModel, optional
    inbound_sql_share : float, optional
        Share of SQLs from inbound; None: 60% with both sources, else 100% / 0%
        (docs/background/default-figures.md#funnel-and-capacity).
    customer_role : str, optional
        Role that covers customer accounts (CSM).
    cost_per_mql_usd : float
        Marketing cost of an MQL.
    name : str
    """

    segments: Mapping[str, SegmentModel]
    roles: Mapping[str, RoleModel]
    inbound: SourceModel | None = None
    outbound: SourceModel | None = None
    inbound_sql_share: float | None = None
    customer_role: str | None = None
    expander_role: str | None = None
    """Role that works expansion opportunities and renewals (account managers), if any."""
    cost_per_mql_usd: float = 0.0
    name: str = "model"

    def __post_init__(self) -> None:
        if not self.segments:
            raise PlanError("the sales model needs at least one segment")
        if self.inbound is None and self.outbound is None:
            raise PlanError("the sales model needs a lead source: inbound MQLs, outbound prospects or both")
        known = ", ".join(self.roles) or "none"
        for flow, source in (("inbound", self.inbound), ("outbound", self.outbound)):
            if source is None:
                continue
            if source.role not in self.roles:
                raise PlanError(f"{flow} leads are worked by role {source.role!r}, which is not defined "
                                f"(roles: {known})")
            for seg in source.segment_mix:
                if seg not in self.segments:
                    raise PlanError(f"the {flow} segment mix names segment {seg!r}, which is not defined "
                                    f"(segments: {', '.join(self.segments)})")
        for seg in self.segments.values():
            if seg.closed_by != NO_ROLE and seg.closed_by not in self.roles:
                raise PlanError(f"segment {seg.name!r} is closed by role {seg.closed_by!r}, which is not defined "
                                f"(roles: {known})")
        if self.customer_role is not None and self.customer_role not in self.roles:
            raise PlanError(f"customers are managed by role {self.customer_role!r}, which is not defined "
                            f"(roles: {known})")
        if self.inbound_sql_share is not None:
            share = check_probability("the inbound share of SQLs", self.inbound_sql_share)
            if share > 0 and self.inbound is None:
                raise PlanError(f"the inbound share of SQLs is {share:.0%} but the model has no inbound source")
            if share < 1 and self.outbound is None:
                raise PlanError(f"the outbound share of SQLs is {1 - share:.0%} but the model has no outbound source")

    def sql_share(self) -> float:
        """Share of SQLs that come from inbound."""
        if self.inbound_sql_share is not None:
            return float(self.inbound_sql_share)
        if self.inbound is not None and self.outbound is not None:
            return DEFAULT_INBOUND_SQL_SHARE
        return 1.0 if self.inbound is not None else 0.0

    def sources(self) -> dict[str, SourceModel]:
        return {k: s for k, s in (("inbound", self.inbound), ("outbound", self.outbound)) if s is not None}

    def jobs(self, role: str) -> tuple[Job, ...]:
        """What ``role`` does in the model (:class:`~sim.scenario.jobs.Job`), in job order."""
        out = []
        if self.inbound is not None and self.inbound.role == role:
            out.append(Job.WORK_INBOUND)
        if self.outbound is not None and self.outbound.role == role:
            out.append(Job.PROSPECT)
        if any(seg.closed_by == role for seg in self.segments.values()):
            out.append(Job.CLOSE)
        if self.customer_role == role:
            out.append(Job.MANAGE_ACCOUNTS)
        if self.expander_role == role:
            out.append(Job.EXPAND_AND_RENEW)
        if any(seg.trial_assisted_by == role for seg in self.segments.values()):
            out.append(Job.ASSIST_TRIALS)
        if any(seg.support_role == role for seg in self.segments.values()):
            out.append(Job.SUPPORT_MEETINGS)
        return tuple(out)

    # ------------------------------------------------------------------ from a scenario

    @classmethod
    def from_scenario(cls, scenario: Scenario, *, inbound_sql_share: float | None = None,
                      horizon_months: int = YEAR_MONTHS) -> SalesModel:
        """The sales model a scenario implies (see the module docstring for each formula).

        Parameters
        ----------
        scenario : Scenario
            A validated scenario.
        inbound_sql_share : float, optional
            Share of SQLs from inbound; by default derived from the scenario's volumes (its
            MQL rate of month 1 worked by its MDRs, its SDRs' prospects) — 60% when those give
            nothing with both flows defined.
        horizon_months : int
            Horizon of the plan (only used for roles that do not backfill).
        """
        extra = [name for name in scenario.sources if name not in ("inbound", "outbound")]
        if extra or len(scenario.inbound_sources()) > 1 or len(scenario.outbound_sources()) > 1:
            raise PlanError(f"the planner models one inbound and one outbound lead source (inbound:, outbound:); "
                            f"this scenario has {len(scenario.sources)} ({', '.join(scenario.sources)}). Plan a "
                            "scenario with the two shorthands (their volumes and rates summed), and simulate "
                            "the sources themselves (salesim run)")
        cal = scenario.calendar
        work_days_per_month = DAYS_PER_MONTH * cal.days_per_week / 7.0
        calendar_per_work_day = 7.0 / cal.days_per_week
        cadence = scenario.contact
        segments = {
            name: SegmentModel(
                name=name,
                mean_deal_mrr_usd=mean_nonnegative(seg.mrr_usd),
                pass_probabilities=(_trial_conversion(seg.trial),) if seg.trial is not None
                else tuple(seg.opportunity.pass_probabilities()),
                mean_gap_days=(mean_nonnegative(seg.trial.days) if seg.trial is not None
                               else mean_nonnegative(seg.opportunity.gap_days)),
                closed_by=seg.closed_by,
                trial_assisted_by=seg.trial.assisted_by if seg.trial is not None else None,
                support_role=seg.opportunity.support.role if seg.opportunity.support is not None else None,
                supported=tuple(seg.opportunity.supported_meetings()),
                support_days=(mean_nonnegative(seg.opportunity.support.days)
                              if seg.opportunity.support is not None else 0.0),
                **_account_management(scenario, seg),
            )
            for name, seg in scenario.segments.items()
        }
        closers = scenario.roles_with(Job.CLOSE)

        def slot_dials_per_day(role: str) -> float:
            budget = scenario.roles[role].dials_per_day or 0.0
            if budget <= 0:
                return float(cadence.attempts_per_day)
            return budget / max(1, math.ceil(budget / cadence.attempts_per_day - 1e-9))

        def handoffs(dev_role: str) -> dict[str, Handoff]:
            out = {}
            for closer in closers:
                leg = _handoff_leg(scenario, dev_role, closer)
                out[closer] = Handoff(leg.leakage_probability, leg.win_odds_multiplier,
                                      mean_nonnegative(leg.delay_days))
            return out

        inbound = outbound = None
        dials_in = dials_out = None
        if scenario.inbound is not None:
            spec = scenario.inbound
            reach, dials_in = dials_stats(spec.dials_to_connect, cadence.max_attempts)
            work = (dials_in / slot_dials_per_day(spec.worked_by) * calendar_per_work_day
                    + mean_nonnegative(spec.response_minutes) / MINUTES_PER_DAY)
            inbound = SourceModel(role=spec.worked_by, sql_rate=spec.qualify_probability * reach,
                                  segment_mix=dict(spec.segment_mix), handoffs=handoffs(spec.worked_by),
                                  dials_per_lead=dials_in, work_days=work)
        if scenario.outbound is not None:
            spec = scenario.outbound
            reach, dials_out = dials_stats(spec.dials_to_connect, cadence.max_attempts)
            work = dials_out / slot_dials_per_day(spec.worked_by) * calendar_per_work_day
            outbound = SourceModel(role=spec.worked_by,
                                   sql_rate=reach * spec.lead_probability * spec.sql_probability,
                                   segment_mix=dict(spec.segment_mix), handoffs=handoffs(spec.worked_by),
                                   dials_per_lead=dials_out, work_days=work)

        customer_role = scenario.account_role
        hiring = getattr(scenario, "hiring", None)  # schemas with a hiring section: interviewing takes time
        recruiting_load = float(getattr(hiring, "recruiting_load_fte", 0.0) or 0.0)
        roles = {}
        for name, spec in scenario.roles.items():
            dial_capacity = (spec.dials_per_day or 0.0) * work_days_per_month
            mqls = prospects = None
            if inbound is not None and inbound.role == name:
                mqls = dial_capacity / dials_in if dials_in else 0.0
            if outbound is not None and outbound.role == name:
                prospects = min(dial_capacity / dials_out if dials_out else 0.0,
                                scenario.outbound.prospects_per_rep_month)
            fill_months = mean_nonnegative(spec.time_to_fill_days) / DAYS_PER_MONTH
            ramp = _ramp_of(spec)
            vacancy, ramp_loss = staffing_shares(
                ramp, spec.tenure_months, fill_months, backfill=spec.backfill, horizon_months=horizon_months,
            )
            roles[name] = RoleModel(
                name=name,
                mqls_per_month=mqls,
                prospects_per_month=prospects,
                max_open_opportunities=spec.max_open_opportunities if name in closers else None,
                accounts_covered=spec.accounts_covered if name == customer_role else None,
                meetings_supported=spec.meetings_supported,
                trials_assisted=spec.trials_assisted,
                open_expansions=spec.open_expansions if name == scenario.customers.expanded_by else None,
                monthly_cost_usd=spec.monthly_cost_usd,
                ramp=tuple(ramp),
                vacancy_share=vacancy,
                ramp_loss_share=ramp_loss,
                time_to_fill_months=fill_months,
                mean_tenure_months=None if spec.tenure_months is None else mean_nonnegative(spec.tenure_months),
                recruiting_load_fte=recruiting_load if spec.backfill else 0.0,
                desk_shares=({desk.value: share for desk, share in scenario.desk_shares(name).items()}
                             if len(scenario.desk_shares(name)) > 1 else None),
                current_headcount=spec.headcount,
            )
        cost_per_mql = scenario.inbound.cost_per_mql_usd if scenario.inbound is not None else 0.0
        model = cls(segments=segments, roles=roles, inbound=inbound, outbound=outbound,
                    inbound_sql_share=inbound_sql_share, customer_role=customer_role,
                    expander_role=scenario.customers.expanded_by,
                    cost_per_mql_usd=cost_per_mql, name=scenario.name)
        if inbound_sql_share is None and inbound is not None and outbound is not None:
            derived = _derived_inbound_share(scenario, model)
            if derived is not None:
                model = replace(model, inbound_sql_share=derived)
        return model


def _ramp_of(spec: Any) -> list[float]:
    """A role's ramp as productivity by tenure month (a list, or a ramp formula's vector)."""
    vector = getattr(spec, "ramp_vector", None)
    return [float(x) for x in (vector() if callable(vector) else spec.ramp)]


def _handoff_leg(scenario: Scenario, dev_role: str, closer_role: str) -> HandoffLegSpec:
    """The hand-off an SQL from ``dev_role`` to ``closer_role`` takes (as routed by the simulator)."""
    org = scenario.org
    if org.structure == "silo":
        return scenario.handoff
    pooled = set(org.pooled_roles)
    if dev_role not in pooled and closer_role not in pooled:
        return org.pod_handoff or scenario.handoff  # an SQL stays in its POD
    return scenario.handoff


def _derived_inbound_share(scenario: Scenario, model: SalesModel) -> float | None:
    """Inbound share of the SQLs the scenario's own volumes and headcounts produce (None: none)."""
    assert model.inbound is not None and model.outbound is not None and scenario.inbound is not None
    rates = {k: source_rates(model, k)[0] for k in ("inbound", "outbound")}
    inbound_role = model.roles[model.inbound.role]
    outbound_role = model.roles[model.outbound.role]
    in_capacity = scenario.roles[model.inbound.role].headcount * (inbound_role.mqls_per_month or 0.0)
    mqls = min(scenario.inbound.mqls_per_month, in_capacity)
    out_heads = scenario.roles[model.outbound.role].headcount
    if model.outbound.role == model.inbound.role and in_capacity > 0:
        out_heads *= max(0.0, 1.0 - mqls / in_capacity)  # MDR desks serve the inbound queue first
    prospects = out_heads * (outbound_role.prospects_per_month or 0.0)
    sql_in, sql_out = mqls * rates["inbound"], prospects * rates["outbound"]
    if sql_in + sql_out <= 0:
        return None
    return sql_in / (sql_in + sql_out)


def source_rates(model: SalesModel, kind: str) -> tuple[float, dict[str, float], dict[str, float]]:
    """(SQLs reaching a closer per lead, segment shares of those SQLs, win rate per segment) of a source."""
    source = model.sources()[kind]
    mix = source.mix()
    delivered = {}
    wins = {}
    for seg_name, share in mix.items():
        seg = model.segments[seg_name]
        handoff = source.handoff(seg.closed_by)
        delivered[seg_name] = source.sql_rate * share * (1.0 - handoff.leakage_probability)
        wins[seg_name] = seg.win_rate(handoff.win_odds_multiplier)
    total = sum(delivered.values())
    if total > 0:
        composition = {s: v / total for s, v in delivered.items()}
    else:  # nothing converts: keep the mix (net of leakage) for the composition of a forced volume
        net = {s: mix[s] * (1.0 - source.handoff(model.segments[s].closed_by).leakage_probability) for s in mix}
        norm = sum(net.values()) or 1.0
        composition = {s: v / norm for s, v in net.items()}
    return total, composition, wins


def _account_management(scenario: Scenario, seg: Any) -> dict[str, float]:
    """A segment's account-manager work per customer (signals and renewals a month, days each holds
    a manager), when the scenario has account managers (``customers.expanded_by``)."""
    if scenario.customers.expanded_by is None:
        return {}
    contract = seg.contract
    return {
        "expansion_signals_per_month": seg.expansion.monthly_probability,
        "expansion_days": mean_nonnegative(seg.expansion.cycle_days),
        "renewals_per_month": 1.0 / contract.term_months if contract.contracted else 0.0,
        "renewal_days": contract.renewal_lead_days if contract.contracted else 0.0,
    }


def _trial_conversion(trial: Any) -> float:
    """P(a trial converts): with a touch-assist role, the assisted odds (the plan sizes the role to
    touch every trial); without, the trial's own probability."""
    p = float(trial.conversion_probability)
    if trial.assisted_by is None or p <= 0 or p >= 1:
        return p
    odds = p / (1.0 - p) * float(trial.assisted_odds_multiplier)
    return odds / (1.0 + odds)
