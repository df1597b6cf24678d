"""KPIs and monthly series: pure functions of one replication's event log.

This module owns every metric formula (docs/developer/architecture.md#spec-runtime-records); nothing here touches SimPy.
Conventions, documented where users look (docs/reference/kpis.md):

* Month m (1-based) spans ``[(m-1), m) × 365.25/12`` days — or, with a ``start_date``, the
  calendar month ``Scenario.month_start_days()[m-1 : m+1]``; stocks are read at its end.
* Revenue of month m is the MRR at the end of month m (a deal signed in a month bills that
  month in full), so constant new MRR *x* a month yields ``78 x`` in the first year.
* ``exit_arr_usd`` is 12 × the MRR at the end of the horizon.
* ``win_rate_opportunity`` = deals a rep won / (those + lost deals), over opportunities closed
  within the horizon; ``win_rate_sql`` = deals a rep won / SQLs that ended within the horizon (won,
  lost, or lost on the way: hand-off, stale, a rep's exit, no capacity). Self-service trials are
  neither (``trial_conversion_rate``), though a converted trial is one of the ``wins``.
* ``speed_to_lead_hours_median`` counts every inbound MQL of a source a rep works: one never touched
  that left the pipeline is infinitely late, one still waiting at the horizon has waited until then
  (a lower bound). Sign-ups of a source nobody works (``worked_by: none``) are not in it.
* ``cost_usd`` = rep cost (monthly cost prorated by days employed) + the leads' own cost (cost per
  MQL or per prospect of each source) + overhead (``economics``).
* Unit economics (``cac_usd`` = acquisition cost / wins, CRC, payback, LTV, time to profitability)
  are computed by :mod:`sim.economics` from the same records and series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.economics import (
    ECONOMICS_KPIS,
    QUOTA_KPIS,
    GroupActivity,
    group_unit_economics,
    quota_kpis,
    unit_economics,
    variable_pay_adjustment,
)
from sim.eventlog import AccountEvent, EventLog, LeadState, Source, WorkforceEvent
from sim.retention import RETENTION_KPIS, RETENTION_SERIES, retention_kpis, retention_series
from sim.scenario import Scenario
from sim.scenario.jobs import NO_ROLE
from sim.workcalendar import DAYS_PER_MONTH, HOURS_PER_DAY

KPI_NAMES: tuple[str, ...] = (
    "revenue_first_year_usd", "exit_arr_usd", "mrr_end_usd", "new_mrr_usd", "expansion_mrr_usd",
    "churned_mrr_usd", "mqls", "prospects", "dials", "connects", "sqls", "opportunities", "wins",
    "losses", "win_rate_sql", "win_rate_opportunity", "trials", "trial_conversion_rate", "customers_end",
    "sales_cycle_days_mean", "speed_to_lead_hours_median", "mqls_never_touched_share", *RETENTION_KPIS,
    "headcount_end", "cost_usd", *ECONOMICS_KPIS, *QUOTA_KPIS,
    *(f"leads_{state.name.lower()}" for state in LeadState),
)
"""Per-replication KPIs, in report order; the last ones (:data:`LEAD_STATE_KPIS`) count how the
run's leads ended."""

LEAD_STATE_KPIS: tuple[str, ...] = tuple(f"leads_{state.name.lower()}" for state in LeadState)
"""``leads_<state>``: how many leads ended in each :class:`LeadState` (``leads_unreachable``,
``leads_not_a_fit``, ``leads_stale``, ``leads_lost_in_handoff``, ``leads_lost_deal``,
``leads_won``, ``leads_open``, ``leads_no_capacity``, ``leads_lost_at_exit``). Every lead of the
run (inbound, outbound and warm-start pipeline) is in exactly one."""

ORG_SERIES: tuple[str, ...] = (
    "mrr_usd", "new_mrr_usd", "expansion_mrr_usd", "churned_mrr_usd", "customers", "mqls", "sqls",
    "wins", "cost_usd", *RETENTION_SERIES,
)
"""Org-level monthly series."""

ACCOUNT_MANAGER_SERIES: tuple[str, ...] = ("expansion_pipeline", "expansion_pipeline_usd")
"""Org-level series with an account-management role (``customers.expanded_by``): expansion
opportunities open (waiting for a manager or being worked) at each month's end, and their
potential MRR."""

ROLE_SERIES: tuple[str, ...] = (
    "headcount", "headcount_ramping", "headcount_productive", "headcount_interns", "headcount_outsourced",
    "open_requisitions", "capacity_fte", "demand_fte", "utilization", "backlog",
)
"""Per-role monthly series, named ``<series>.<role>`` (e.g. ``utilization.ae``)."""

TEAM_SERIES: tuple[str, ...] = ("mqls", "sqls", "opportunities", "wins", "new_mrr_usd", "stale", "no_capacity")
"""Per-team monthly flows, named ``<series>@<team>`` (only when the org has several teams)."""

SOURCE_SERIES: tuple[str, ...] = (
    "leads", "sqls", "wins", "new_mrr_usd", "expansion_mrr_usd", "churned_mrr_usd", "mrr_usd", "customers",
    "cost_usd",
)
"""Per-source monthly series, named ``<series>@source:<name>`` (only with several lead sources); the
leads are named ``mqls`` for an inbound source and ``prospects`` for an outbound one."""

GROUP_KPIS: tuple[str, ...] = tuple(k for k in KPI_NAMES if k not in ("headcount_end", *QUOTA_KPIS, *RETENTION_KPIS))
"""KPIs also given per lead source (``<kpi>@source:<name>``, with several sources) and per segment
(``<kpi>@segment:<name>``, with several segments). Headcount, quotas and retention rates are the
org's only. Per group, ``cost_usd`` is the leads' own cost, and the unit economics split the org's
rep and overhead cost by activity (:class:`sim.economics.GroupActivity`)."""

WARM_START_GROUP = "warm_start"
"""The per-source breakdown's name for the warm start's pipeline and installed base (leads and
accounts that came from no lead source of the run)."""


Starts = np.ndarray | None
"""The day each month 1 … horizon + 1 begins (calendar months of a dated scenario), or None: months of
``DAYS_PER_MONTH`` days (the plain formulas, whose results are unchanged)."""


def month_starts(scenario: Scenario) -> Starts:
    """The month table metrics use for ``scenario``: None without a ``start_date``."""
    return np.asarray(scenario.month_start_days()) if scenario.start_date is not None else None


def _month_lengths(horizon_months: int, starts: Starts) -> np.ndarray | float:
    """Days in each month 1 … horizon (an array indexed 0 … horizon − 1), or ``DAYS_PER_MONTH``."""
    return DAYS_PER_MONTH if starts is None else np.diff(starts[: horizon_months + 1])


def _month_index(t: np.ndarray, horizon_months: int, starts: Starts = None) -> np.ndarray:
    """1-based month of each time, clipped into 1..horizon."""
    if starts is None:
        return np.clip(np.floor(t / DAYS_PER_MONTH).astype(int) + 1, 1, horizon_months)
    return np.clip(np.searchsorted(starts, t, side="right"), 1, horizon_months)


def _per_month(t: np.ndarray, weights: np.ndarray | None, horizon_months: int, starts: Starts = None) -> np.ndarray:
    """Sum of ``weights`` (or counts) per month; index 0 is month 0 (always 0)."""
    out = np.zeros(horizon_months + 1)
    if t.size:
        np.add.at(out, _month_index(t, horizon_months, starts), 1.0 if weights is None else weights)
    return out


_JOINING = frozenset(int(k) for k in (WorkforceEvent.START, WorkforceEvent.HIRE, WorkforceEvent.PROMOTED_IN))
_LEAVING = frozenset(int(k) for k in (WorkforceEvent.EXIT, WorkforceEvent.PROMOTED_OUT))


def rep_intervals(log: EventLog, horizon_days: float) -> list[tuple[int, float, float, float]]:
    """(role index, start day, end day, monthly cost) of every rep employed during the run."""
    wf = log.workforce_table()
    starts: dict[int, tuple[int, float, float]] = {}
    ends: dict[int, float] = {}
    # plain ints and floats: comparing NumPy scalars with the IntEnum members costs ~100 times more
    for t, kind, role, rep, cost in zip(wf["t"].tolist(), wf["kind"].astype(np.int64).tolist(),
                                        wf["role"].astype(np.int64).tolist(), wf["rep"].astype(np.int64).tolist(),
                                        wf["monthly_cost_usd"].tolist(), strict=True):
        if kind in _JOINING:
            starts[rep] = (role, t, cost)
        elif kind in _LEAVING:
            ends[rep] = t
    return [(role, t0, ends.get(rep, horizon_days), cost) for rep, (role, t0, cost) in sorted(starts.items())]


def monthly_rep_cost(log: EventLog, horizon_months: int, role: int | None = None,
                     starts: Starts = None) -> np.ndarray:
    """Rep cost per month (index 0 unused), prorated by days employed (one role, or all),
    plus per-SQL fees of outsourced reps. A rep employed a whole month costs its monthly cost,
    whatever the month's length."""
    horizon_days = horizon_months * DAYS_PER_MONTH if starts is None else float(starts[horizon_months])
    out = np.zeros(horizon_months + 1)
    edges = np.arange(horizon_months + 1) * DAYS_PER_MONTH if starts is None else starts[: horizon_months + 1]
    lengths = _month_lengths(horizon_months, starts)
    for rep_role, t0, t1, cost in rep_intervals(log, horizon_days):
        if role is not None and rep_role != role:
            continue
        overlap = np.clip(np.minimum(edges[1:], t1) - np.maximum(edges[:-1], t0), 0.0, None)
        out[1:] += overlap / lengths * cost
    wf = log.workforce_table()
    fees = (wf["price_per_sql_usd"] > 0) & (wf["rep"] >= 0)
    if np.any(fees):
        if role is not None:
            fees &= wf["role"] == role
        price = dict(zip(wf["rep"][fees].astype(int).tolist(), wf["price_per_sql_usd"][fees].tolist(), strict=True))
        leads = log.lead_table()
        has_sql = ~np.isnan(leads["sql_t"])
        charged = has_sql & np.isin(leads["dev_rep"], list(price))
        amounts = np.array([price[int(r)] for r in leads["dev_rep"][charged]])
        out += _per_month(leads["sql_t"][charged], amounts, horizon_months, starts)
    return out


def mean_headcount(log: EventLog, horizon_months: int, role: int, starts: Starts = None) -> np.ndarray:
    """Mean headcount of a role in each month (index 0 unused): rep-days on staff ÷ the month's days,
    interns and outsourced reps included."""
    horizon_days = horizon_months * DAYS_PER_MONTH if starts is None else float(starts[horizon_months])
    out = np.zeros(horizon_months + 1)
    edges = np.arange(horizon_months + 1) * DAYS_PER_MONTH if starts is None else starts[: horizon_months + 1]
    lengths = _month_lengths(horizon_months, starts)
    for rep_role, t0, t1, _ in rep_intervals(log, horizon_days):
        if rep_role == role:
            out[1:] += np.clip(np.minimum(edges[1:], t1) - np.maximum(edges[:-1], t0), 0.0, None) / lengths
    return out


def managers_seated(log: EventLog, scenario: Scenario, role: int, levels: dict[str, np.ndarray] | None = None,
                    pools: list[int] | None = None) -> np.ndarray | None:
    """Managers of a role at each month's end (month 0: the start), Σ over its teams (or over the
    pools ``pools`` of the role): ⌈headcount ÷ ``manager.span``⌉ per team, or with
    ``manager.time_to_fill_days`` > 0 the managers seated (the ``managers`` level). None when the
    role has no ``manager`` block."""
    spec = scenario.roles[log.roles[role]].manager
    if spec is None:
        return None
    levels = _level_arrays(log) if levels is None else levels
    if pools is None:
        pools = [i for i, (pool_role, _) in enumerate(log.pools) if pool_role == role]
    if spec.time_to_fill_days > 0.0:
        return np.nan_to_num(levels["managers"][pools]).sum(axis=0)
    return np.ceil(np.nan_to_num(levels["headcount"][pools]) / spec.span).sum(axis=0)


def people_cost(log: EventLog, scenario: Scenario, role: int, starts: Starts = None) -> np.ndarray | None:
    """The cost around a role's reps, per month (index 0 unused): tools (``tools_usd_per_month`` ×
    mean headcount), managers (``manager.monthly_cost_usd`` × Σ over the role's teams of the managers
    at the month's end — ⌈headcount ÷ ``manager.span``⌉, or the managers seated when they are hired
    (``manager.time_to_fill_days`` > 0): the managers whose coaching capacity the workforce model
    counts, team by team) and recruiting (``recruiting_cost_usd`` × the month's hires). None when the
    role has none."""
    spec = scenario.roles[log.roles[role]]
    manager_cost = spec.manager.monthly_cost_usd if spec.manager is not None else 0.0
    if not (spec.tools_usd_per_month or manager_cost or spec.recruiting_cost_usd):
        return None
    h = log.horizon_months
    out = np.zeros(h + 1)
    if spec.tools_usd_per_month:
        out += spec.tools_usd_per_month * mean_headcount(log, h, role, starts)
    if manager_cost:
        managers = managers_seated(log, scenario, role)
        assert managers is not None
        out[1:] += manager_cost * managers[1:]
    if spec.recruiting_cost_usd:
        wf = log.workforce_table()
        hired = (wf["role"] == role) & (wf["kind"] == WorkforceEvent.HIRE)
        out += spec.recruiting_cost_usd * _per_month(wf["t"][hired], None, h, starts)
    out[0] = 0.0
    return out


def workforce_flows(log: EventLog, role: int, starts: Starts = None) -> dict[str, np.ndarray]:
    """Hires, exits and promotions (in and out) of a role per month."""
    h = log.horizon_months
    wf = log.workforce_table()
    mine = wf["role"] == role
    flows = {}
    for name, kinds in (("hires", (WorkforceEvent.HIRE,)), ("exits", (WorkforceEvent.EXIT,)),
                        ("promotions_in", (WorkforceEvent.PROMOTED_IN,)),
                        ("promotions_out", (WorkforceEvent.PROMOTED_OUT,)),
                        ("requisitions", (WorkforceEvent.REQUISITION,))):
        values = _per_month(wf["t"][mine & np.isin(wf["kind"], kinds)], None, h, starts)
        values[0] = np.nan
        flows[name] = values
    return flows


def monthly_series(log: EventLog, scenario: Scenario) -> dict[str, np.ndarray]:
    """Every monthly series as an array indexed by month 0..horizon (NaN where undefined)."""
    h = log.horizon_months
    starts = month_starts(scenario)
    leads = log.lead_table()
    acc = log.account_table()
    kind = acc["kind"]
    series: dict[str, np.ndarray] = {}
    new = _per_month(acc["t"][kind == AccountEvent.NEW], acc["mrr_usd"][kind == AccountEvent.NEW], h, starts)
    expanded = kind == AccountEvent.EXPANSION
    exp = _per_month(acc["t"][expanded], acc["mrr_usd"][expanded], h, starts)
    churn = _per_month(acc["t"][kind == AccountEvent.CHURN], acc["mrr_usd"][kind == AccountEvent.CHURN], h, starts)
    installed = np.zeros(h + 1)
    installed[0] = float(np.sum(acc["mrr_usd"][kind == AccountEvent.INSTALLED]))
    contracted = kind == AccountEvent.CONTRACTION
    contraction = _per_month(acc["t"][contracted], acc["mrr_usd"][contracted], h, starts)
    series["mrr_usd"] = np.cumsum(installed + new + exp - churn - contraction)
    series["new_mrr_usd"] = new
    series["expansion_mrr_usd"] = exp
    series["churned_mrr_usd"] = churn
    installed_count = np.zeros(h + 1)
    installed_count[0] = float(np.sum(kind == AccountEvent.INSTALLED))
    series["customers"] = np.cumsum(
        installed_count + _per_month(acc["t"][kind == AccountEvent.NEW], None, h, starts)
        - _per_month(acc["t"][kind == AccountEvent.CHURN], None, h, starts)
    )
    inbound = leads["source"] == Source.INBOUND
    series["mqls"] = _per_month(leads["created_t"][inbound], None, h, starts)
    sql_t = leads["sql_t"][~np.isnan(leads["sql_t"])]
    series["sqls"] = _per_month(sql_t, None, h, starts)
    series["wins"] = _per_month(leads["close_t"][leads["state"] == LeadState.WON], None, h, starts)
    overhead = (scenario.economics.acquisition_overhead_usd_per_month
                + scenario.economics.marketing_programs_usd_per_month
                + scenario.economics.retention_overhead_usd_per_month)
    series["cost_usd"] = monthly_rep_cost(log, h, starts=starts) + lead_cost_per_month(log, scenario, starts) + overhead
    if log.reorgs:
        series["cost_usd"] += _per_month(np.array([t for t, _ in log.reorgs]),
                                         np.array([cost for _, cost in log.reorgs]), h, starts)
    for name in ("new_mrr_usd", "expansion_mrr_usd", "churned_mrr_usd", "mqls", "sqls", "wins", "cost_usd"):
        series[name][0] = np.nan
    series.update(retention_series(log, scenario, _horizon_days(scenario, h),
                                   lambda t: _month_index(t, h, starts), series))
    if scenario.customers.expanded_by is not None:
        levels = _level_arrays(log)
        for name in ACCOUNT_MANAGER_SERIES:  # recorded on the role's first pool; NaN elsewhere
            values = np.nansum(levels[name], axis=0)
            values[0] = np.nan
            series[name] = values

    series.update(role_series(log, starts))
    for role in log.roles:  # pay by attainment (roles.<name>.quota): the difference from on-target pay
        if scenario.roles[role].quota is not None:
            extra = variable_pay_adjustment(log, scenario, role)
            series[f"cost_usd.{role}"][1:] += extra[1:]
            series["cost_usd"][1:] += extra[1:]
    levels = _level_arrays(log)
    for index, role in enumerate(log.roles):  # the people and tools around the reps
        extra = people_cost(log, scenario, index, starts)
        if extra is not None:
            series[f"cost_usd.{role}"][1:] += extra[1:]
            series["cost_usd"][1:] += extra[1:]
        managers = managers_seated(log, scenario, index, levels)
        if managers is not None:
            series[f"managers.{role}"] = managers
            if len(log.teams) > 1:  # per team, as the team series (a team a reorg rebuilt is one series)
                for team, pools in _pools_by_team(log, index).items():
                    series[f"managers.{role}@{team}"] = managers_seated(log, scenario, index, levels, pools)
    if len(log.teams) > 1:
        series.update(team_series(log, starts))
    series.update(breakdown_series(log, starts, scenario))
    if len(scenario.sources) > 1:
        series.update(source_series(log, scenario, starts))
    return series


def lead_costs(scenario: Scenario) -> np.ndarray:
    """Cost of one lead of each source, by source index (an MQL's or a prospect's)."""
    return np.array([getattr(spec, "cost_per_mql_usd", 0.0) if spec.kind == "inbound"
                     else getattr(spec, "cost_per_prospect_usd", 0.0) for spec in scenario.sources.values()] or [0.0])


def lead_cost_per_month(log: EventLog, scenario: Scenario, starts: Starts = None) -> np.ndarray:
    """Σ over the leads created in each month (warm start excluded) of their source's cost per lead."""
    h = log.horizon_months
    leads = log.lead_table()
    costs = lead_costs(scenario)
    if not np.any(costs):
        return np.zeros(h + 1)
    index = leads["source_index"]
    fresh = (leads["source"] != Source.WARM_START) & (index >= 0) & (index < len(costs))
    return _per_month(leads["created_t"][fresh], costs[index[fresh]], h, starts)


def _level_arrays(log: EventLog) -> dict[str, np.ndarray]:
    """Levels as arrays indexed [pool, month] (NaN where a level was not recorded)."""
    h = log.horizon_months
    names = ("headcount", "ramping", "interns", "outsourced", "fte", "fte_days", "capacity_days", "busy_days",
             "backlog", "open_requisitions", "support_meetings", "support_wait_days", "am_started", "am_unworked",
             "expansion_pipeline", "expansion_pipeline_usd", "managers")
    out = {name: np.full((len(log.pools), h + 1), np.nan) for name in names}
    for month, pool, name, value in log.levels:
        out[name][pool, month] = value
    return out


def _pool_group_series(levels: dict[str, np.ndarray], pools: list[int], suffix: str,
                       starts: Starts = None) -> dict[str, np.ndarray]:
    """Role series (``ROLE_SERIES``) of a group of pools, named ``<series>.<suffix>``."""
    def total(name: str) -> np.ndarray:
        return np.sum(levels[name][pools], axis=0)

    headcount = total("headcount")
    days = DAYS_PER_MONTH if starts is None else np.concatenate([[DAYS_PER_MONTH], np.diff(starts)])
    capacity_fte = total("fte_days") / days
    capacity_fte[0] = total("fte")[0]
    capacity, busy = total("capacity_days"), total("busy_days")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        utilization = np.where(capacity > 0, busy / capacity, np.nan)
    utilization[0] = np.nan
    backlog = total("backlog")
    backlog[0] = np.nan
    requisitions = total("open_requisitions")
    ramping, interns, outsourced = total("ramping"), total("interns"), total("outsourced")
    # demand in FTE: the month's average load plus the queue at its end, over capacity per FTE
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        per_fte = np.where(total("fte_days") > 0, capacity / total("fte_days"), np.nan)
        demand = (busy / days + np.nan_to_num(backlog)) / per_fte
    demand[0] = np.nan
    return {
        f"headcount.{suffix}": headcount,
        f"headcount_ramping.{suffix}": ramping,
        f"headcount_productive.{suffix}": headcount - ramping - interns - outsourced,
        f"headcount_interns.{suffix}": interns,
        f"headcount_outsourced.{suffix}": outsourced,
        f"open_requisitions.{suffix}": requisitions,
        f"capacity_fte.{suffix}": capacity_fte,
        f"demand_fte.{suffix}": demand,
        f"utilization.{suffix}": utilization,
        f"backlog.{suffix}": backlog,
    }


def _pools_by_team(log: EventLog, role: int) -> dict[str, list[int]]:
    """The pools of ``role`` by team name (a team a reorg rebuilt under its old name is one team)."""
    by_team: dict[str, list[int]] = {}
    for i, (role_index, team) in enumerate(log.pools):
        if role_index == role:
            by_team.setdefault(log.teams[team], []).append(i)
    return by_team


def role_series(log: EventLog, starts: Starts = None) -> dict[str, np.ndarray]:
    """Per-role series over all teams (``utilization.ae``), and per team when there are several
    (``utilization.ae@east``). Utilization is the month's integral of load over capacity."""
    levels = _level_arrays(log)
    out: dict[str, np.ndarray] = {}
    for r, role in enumerate(log.roles):
        pools = [i for i, (role_index, _team) in enumerate(log.pools) if role_index == r]
        if pools:
            out.update(_pool_group_series(levels, pools, role, starts))
            started = levels["support_meetings"][pools]
            if np.any(~np.isnan(started)):  # a supporting role (sales engineers): its meetings and their waits
                n = np.nansum(started, axis=0)
                waited = np.nansum(levels["support_wait_days"][pools], axis=0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    mean_wait = np.where(n > 0, waited / n, np.nan)
                n[0] = mean_wait[0] = np.nan
                out[f"meetings_supported.{role}"] = n
                out[f"meeting_wait_days_mean.{role}"] = mean_wait
        else:
            for name in ROLE_SERIES:
                out[f"{name}.{role}"] = np.full(log.horizon_months + 1, np.nan)
        for name, values in workforce_flows(log, r, starts).items():
            out[f"{name}.{role}"] = values
        cost = monthly_rep_cost(log, log.horizon_months, role=r, starts=starts)
        cost[0] = np.nan
        out[f"cost_usd.{role}"] = cost
        if len(log.teams) > 1:
            for team, group in _pools_by_team(log, r).items():
                out.update(_pool_group_series(levels, group, f"{role}@{team}", starts))
    return out


BREAKDOWN_SOURCES = {Source.INBOUND: ("inbound", "mqls"), Source.OUTBOUND: ("outbound", "prospects"),
                     Source.WARM_START: ("warm_start", None)}
"""Lead sources broken down by :func:`breakdown_series`: name, and the name of the leads they create
(none for the pipeline open at the start)."""


def breakdown_series(log: EventLog, starts: Starts = None, scenario: Scenario | None = None) -> dict[str, np.ndarray]:
    """Flows per lead source and per segment, for funnels and tables by source and segment.

    Per source, when leads come from more than one (``name@source:inbound``): the leads created
    (``mqls`` inbound, ``prospects`` outbound), ``connects``, ``sqls``, ``opportunities``,
    ``wins`` and their ``new_mrr_usd`` (the pipeline open at the start, ``warm_start``: from
    ``sqls`` on, with ``losses``). Per segment, when there are several
    (``name@segment:smb``): ``sqls``, ``opportunities``, ``wins``, ``losses`` and ``new_mrr_usd``.
    Each event is counted in the month it happened; month 0 is NaN.

    Parameters
    ----------
    log : EventLog
        One replication's records.
    starts : month starts, optional
        Calendar months (:func:`month_starts`); months of 365.25/12 days without.

    Returns
    -------
    dict
        Series name → array over months 0..horizon.
    """
    h = log.horizon_months
    leads = log.lead_table()
    state = leads["state"]
    won = state == LeadState.WON
    lost = state == LeadState.LOST_DEAL

    def flows(chosen: np.ndarray, created: str | None) -> dict[str, np.ndarray]:
        """The flows of the leads ``chosen``; ``created`` names the count of leads made (none: from SQLs on)."""
        out = {created: _per_month(leads["created_t"][chosen], None, h, starts)} if created else {}
        for name, column in (("connects", "connect_t"), ("sqls", "sql_t"), ("opportunities", "opportunity_t")):
            if created or name != "connects":
                times = leads[column][chosen]
                out[name] = _per_month(times[~np.isnan(times)], None, h, starts)
        out["wins"] = _per_month(leads["close_t"][chosen & won], None, h, starts)
        if not created:
            out["losses"] = _per_month(leads["close_t"][chosen & lost], None, h, starts)
        out["new_mrr_usd"] = _per_month(leads["close_t"][chosen & won], leads["mrr_usd"][chosen & won], h, starts)
        return out

    out: dict[str, np.ndarray] = {}
    fresh = leads["source"] != Source.WARM_START
    if scenario is not None:  # by lead source (its name: lead_sources.<name>, or the inbound:/outbound: shorthand)
        groups = [(name, fresh & (leads["source_index"] == i), "mqls" if spec.kind == "inbound" else "prospects")
                  for i, (name, spec) in enumerate(scenario.sources.items())]
        groups.append(("warm_start", ~fresh, None))
    else:
        groups = [(name, leads["source"] == source, created) for source, (name, created) in BREAKDOWN_SOURCES.items()]
    groups = [g for g in groups if np.any(g[1])]
    if len(groups) > 1:
        for name, chosen, created in groups:
            for flow, values in flows(chosen, created).items():
                out[f"{flow}@source:{name}"] = values
    if len(log.segments) > 1:
        for s, segment in enumerate(log.segments):
            for flow, values in flows(leads["segment"] == s, None).items():
                out[f"{flow}@segment:{segment}"] = values
    for values in out.values():
        values[0] = np.nan
    return out


def team_series(log: EventLog, starts: Starts = None) -> dict[str, np.ndarray]:
    """Per-team flows: ``mqls@T`` routed to T's inbound desk, ``sqls@T`` made by T's development
    reps, ``opportunities@T``, ``wins@T`` and ``new_mrr_usd@T`` of T's closers, ``stale@T``
    dropped while waiting in T's queues, ``no_capacity@T`` lost by the overflow rule."""
    h = log.horizon_months
    leads = log.lead_table()
    state = leads["state"]
    has_sql = ~np.isnan(leads["sql_t"])
    out: dict[str, np.ndarray] = {}
    indices: dict[str, list[int]] = {}  # a team a reorg rebuilt under its old name is one series
    for t, team in enumerate(log.teams):
        indices.setdefault(team, []).append(t)
    for team, ts in indices.items():
        dev = np.isin(leads["dev_team"], ts)
        closer = np.isin(leads["closer_team"], ts)
        won = closer & (state == LeadState.WON)
        stale = (state == LeadState.STALE) & np.where(has_sql, closer, dev)
        flows = {
            "mqls": _per_month(leads["created_t"][dev & (leads["source"] == Source.INBOUND)], None, h, starts),
            "sqls": _per_month(leads["sql_t"][dev & has_sql], None, h, starts),
            "opportunities": _per_month(leads["opportunity_t"][closer & ~np.isnan(leads["opportunity_t"])], None, h,
                                        starts),
            "wins": _per_month(leads["close_t"][won], None, h, starts),
            "new_mrr_usd": _per_month(leads["close_t"][won], leads["mrr_usd"][won], h, starts),
            "stale": _per_month(leads["end_t"][stale], None, h, starts),
            "no_capacity": _per_month(leads["end_t"][(state == LeadState.NO_CAPACITY)
                                                    & np.where(has_sql, closer | dev, dev)], None, h, starts),
        }
        for name, values in flows.items():
            values[0] = np.nan
            out[f"{name}@{team}"] = values
    return out


def kpis(log: EventLog, scenario: Scenario, series: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """The per-replication KPIs (``KPI_NAMES``) of one event log."""
    if series is None:
        series = monthly_series(log, scenario)
    h = log.horizon_months
    leads = log.lead_table()
    acc = log.account_table()
    state = leads["state"]
    wins = int(np.sum(state == LeadState.WON))
    losses = int(np.sum(state == LeadState.LOST_DEAL))
    won = state == LeadState.WON
    sales_won = won & ~np.isnan(leads["opportunity_t"])  # closed by a rep (not a self-service trial)
    sales_wins = int(np.sum(sales_won))
    cycle = leads["close_t"][sales_won] - leads["sql_t"][sales_won]
    trialled = ~np.isnan(leads["trial_t"])
    converted = int(np.sum(trialled & won))
    lapsed = int(np.sum(state == LeadState.TRIAL_LAPSED))
    inbound = leads["source"] == Source.INBOUND
    worked = worked_inbound(leads, scenario)
    speed_h = speed_to_lead_hours(leads, worked, _horizon_days(scenario, h))
    sqls_ended = int(np.sum(~np.isnan(leads["sql_t"]) & ~trialled & (state != LeadState.OPEN)))
    mrr = series["mrr_usd"]
    cost = float(np.nansum(series["cost_usd"]))
    kind = acc["kind"]
    headcount_end = sum(
        float(series[f"headcount.{role}"][h]) for role in log.roles if not np.isnan(series[f"headcount.{role}"][h])
    )
    out: dict[str, Any] = {
        "revenue_first_year_usd": float(np.sum(mrr[1 : min(12, h) + 1])),
        "exit_arr_usd": 12.0 * float(mrr[h]),
        "mrr_end_usd": float(mrr[h]),
        "new_mrr_usd": float(np.sum(acc["mrr_usd"][kind == AccountEvent.NEW])),
        "expansion_mrr_usd": float(np.sum(acc["mrr_usd"][kind == AccountEvent.EXPANSION])),
        "churned_mrr_usd": float(np.sum(acc["mrr_usd"][kind == AccountEvent.CHURN])),
        "mqls": int(np.sum(inbound)),
        "prospects": int(np.sum(leads["source"] == Source.OUTBOUND)),
        "dials": int(np.sum(leads["dials"])),
        "connects": int(np.sum(~np.isnan(leads["connect_t"]))),
        "sqls": int(np.sum(~np.isnan(leads["sql_t"]))),
        "opportunities": int(np.sum(~np.isnan(leads["opportunity_t"]))),
        "wins": wins,
        "losses": losses,
        "win_rate_sql": sales_wins / sqls_ended if sqls_ended else float("nan"),
        "win_rate_opportunity": sales_wins / (sales_wins + losses) if sales_wins + losses else float("nan"),
        "trials": int(np.sum(trialled)),
        "trial_conversion_rate": converted / (converted + lapsed) if converted + lapsed else float("nan"),
        "customers_end": int(np.sum(kind == AccountEvent.NEW) + np.sum(kind == AccountEvent.INSTALLED)
                             - np.sum(kind == AccountEvent.CHURN)),
        "sales_cycle_days_mean": float(np.mean(cycle)) if cycle.size else float("nan"),
        "speed_to_lead_hours_median": float(np.median(speed_h)) if speed_h.size else float("nan"),
        "mqls_never_touched_share": float(np.mean(np.isnan(leads["first_touch_t"][worked])))
        if np.any(worked) else float("nan"),
        "headcount_end": int(headcount_end),
        "cost_usd": cost,
    }
    lead_cost = float(np.sum(lead_cost_per_month(log, scenario, month_starts(scenario))))
    out.update(unit_economics(log, scenario, series, wins, out["new_mrr_usd"], lead_cost))
    out.update(quota_kpis(log, scenario))
    out.update(retention_kpis(log, series))
    for name, count in lead_states(log).items():
        out[f"leads_{name}"] = count
    values = {name: float(out[name]) for name in KPI_NAMES}
    if len(scenario.sources) > 1:
        values.update(group_kpis(log, scenario, "source", series))
    if len(scenario.segments) > 1:
        values.update(group_kpis(log, scenario, "segment", series))
    return values


def _horizon_days(scenario: Scenario, horizon_months: int) -> float:
    """The run's length in days (calendar months with a ``start_date``)."""
    if scenario.start_date is None:
        return horizon_months * DAYS_PER_MONTH
    return float(scenario.month_start_days()[horizon_months])


def worked_inbound(leads: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Mask of the inbound MQLs of a source some role works (not ``worked_by: none``): the MQLs a
    speed to lead is owed to."""
    inbound = leads["source"] == Source.INBOUND
    unworked = [i for i, spec in enumerate(scenario.sources.values()) if spec.worked_by == NO_ROLE]
    if not unworked:
        return inbound
    return inbound & ~np.isin(leads["source_index"], unworked)


def speed_to_lead_hours(leads: np.ndarray, mqls: np.ndarray, horizon_days: float) -> np.ndarray:
    """Calendar hours from arrival to first touch of each MQL of the mask ``mqls``: one still
    waiting at the horizon has waited until then (a lower bound); one that left the pipeline
    untouched is infinitely late (``inf``)."""
    touched = mqls & ~np.isnan(leads["first_touch_t"])
    waiting = mqls & ~touched & (leads["state"] == LeadState.OPEN)
    never = int(np.sum(mqls & ~touched & ~waiting))
    return np.concatenate([
        (leads["first_touch_t"][touched] - leads["created_t"][touched]) * HOURS_PER_DAY,
        (horizon_days - leads["created_t"][waiting]) * HOURS_PER_DAY,
        np.full(never, np.inf),
    ])


def lead_states(log: EventLog) -> dict[str, int]:
    """How many leads ended in each :class:`LeadState` (for funnels and conservation checks)."""
    state = log.lead_table()["state"]
    return {s.name.lower(): int(np.sum(state == s)) for s in LeadState}


# --------------------------------------------------------------------------- breakdowns


class Breakdown:
    """How a replication's leads and accounts split into groups: its lead sources (``source``), or
    its segments (``segment``).

    ``names`` are the groups; ``lead_group`` gives each lead record's group and ``account_group``
    each account event's (-1: none). By source, a lead's group is its ``source_index`` (the warm
    start's pipeline, and accounts of its installed base, form the group ``warm_start`` when the
    scenario has a warm start); an account's is that of the lead it was won from."""

    def __init__(self, log: EventLog, scenario: Scenario, by: str) -> None:
        leads = log.lead_table()
        acc = log.account_table()
        self.by = by
        if by == "segment":
            self.names = list(log.segments)
            self.lead_group = leads["segment"].astype(np.int64)
            self.account_group = acc["segment"].astype(np.int64)
            self.kinds = [""] * len(self.names)
            return
        if by != "source":
            raise ValueError(f"a breakdown is by 'source' or 'segment', not {by!r}")
        self.names = list(scenario.sources)
        self.kinds = [spec.kind for spec in scenario.sources.values()]
        warm = scenario.warm_start.pipeline or scenario.warm_start.customers
        if warm:
            self.names.append(WARM_START_GROUP)
            self.kinds.append("")
        index = leads["source_index"].astype(np.int64)
        self.lead_group = np.where(index < 0, len(self.names) - 1 if warm else -1, index)
        # an account's source is its lead's: the won lead's record (installed accounts have none)
        won = leads["state"] == LeadState.WON
        ids, groups = leads["lead"][won], self.lead_group[won]
        order = np.argsort(ids, kind="stable")
        ids, groups = ids[order], groups[order]
        lead_of = acc["lead"].astype(np.int64)
        pos = np.clip(np.searchsorted(ids, lead_of), 0, max(len(ids) - 1, 0))
        found = (pos < len(ids)) & (ids[pos] == lead_of) if len(ids) else np.zeros(len(lead_of), dtype=bool)
        fallback = len(self.names) - 1 if warm else -1
        self.account_group = np.where(found, groups[pos] if len(ids) else fallback, fallback).astype(np.int64)

    def suffix(self, g: int) -> str:
        return f"@{self.by}:{self.names[g]}"


def _by_group_month(group: np.ndarray, t: np.ndarray, weights: np.ndarray | None, groups: int,
                    horizon_months: int, starts: Starts = None) -> np.ndarray:
    """Sum of ``weights`` (or counts) per (group, month); month 0 stays 0. Items of group -1 are left out."""
    out = np.zeros((groups, horizon_months + 1))
    keep = group >= 0
    if np.any(keep):
        np.add.at(out, (group[keep], _month_index(t[keep], horizon_months, starts)),
                  1.0 if weights is None else weights[keep])
    return out


def _group_mrr_flows(log: EventLog, b: Breakdown, starts: Starts = None) -> dict[str, np.ndarray]:
    """Per group and month: installed, new, expansion and churned MRR, and account counts."""
    h, g = log.horizon_months, len(b.names)
    acc = log.account_table()
    kind, group, t, mrr = acc["kind"], b.account_group, acc["t"], acc["mrr_usd"]

    def flow(k: AccountEvent, count: bool = False) -> np.ndarray:
        mask = kind == k
        return _by_group_month(group[mask], t[mask], None if count else mrr[mask], g, h, starts)

    installed = np.zeros((g, h + 1))
    installed_count = np.zeros((g, h + 1))
    mask = (kind == AccountEvent.INSTALLED) & (group >= 0)
    np.add.at(installed[:, 0], group[mask], mrr[mask])
    np.add.at(installed_count[:, 0], group[mask], 1.0)
    return {"installed": installed, "installed_count": installed_count, "new": flow(AccountEvent.NEW),
            "expansion": flow(AccountEvent.EXPANSION), "churn": flow(AccountEvent.CHURN),
            "contraction": flow(AccountEvent.CONTRACTION),
            "new_count": flow(AccountEvent.NEW, count=True), "churn_count": flow(AccountEvent.CHURN, count=True)}


def source_series(log: EventLog, scenario: Scenario, starts: Starts = None) -> dict[str, np.ndarray]:
    """The monthly series of :data:`SOURCE_SERIES` for each lead source (``<series>@source:<name>``)."""
    b = Breakdown(log, scenario, "source")
    h, g = log.horizon_months, len(b.names)
    leads = log.lead_table()
    group = b.lead_group
    fresh = leads["source"] != Source.WARM_START
    has_sql = ~np.isnan(leads["sql_t"])
    won = leads["state"] == LeadState.WON
    created = _by_group_month(group[fresh], leads["created_t"][fresh], None, g, h, starts)
    costs = np.append(lead_costs(scenario), 0.0)[:g] if g else np.zeros(0)
    money = _group_mrr_flows(log, b, starts)
    flows = {
        "leads": created,
        "sqls": _by_group_month(group[has_sql], leads["sql_t"][has_sql], None, g, h, starts),
        "wins": _by_group_month(group[won], leads["close_t"][won], None, g, h, starts),
        "new_mrr_usd": money["new"],
        "expansion_mrr_usd": money["expansion"],
        "churned_mrr_usd": money["churn"],
        "cost_usd": created * np.pad(costs, (0, max(0, g - len(costs))))[:, None],
    }
    stocks = {
        "mrr_usd": np.cumsum(money["installed"] + money["new"] + money["expansion"] - money["churn"]
                             - money["contraction"], axis=1),
        "customers": np.cumsum(money["installed_count"] + money["new_count"] - money["churn_count"], axis=1),
    }
    out: dict[str, np.ndarray] = {}
    for k in range(g):
        suffix = b.suffix(k)
        for name in SOURCE_SERIES:
            values = (flows[name] if name in flows else stocks[name])[k].copy()
            if name in flows:
                values[0] = np.nan
            shown = name if name != "leads" else {"inbound": "mqls", "outbound": "prospects"}.get(b.kinds[k], "leads")
            out[f"{shown}{suffix}"] = values
    return out


def group_kpis(log: EventLog, scenario: Scenario, by: str,
               series: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """The KPIs of :data:`GROUP_KPIS` for each group of a :class:`Breakdown` (``by``: ``source`` or
    ``segment``), named ``<kpi>@<by>:<name>``; each is the org KPI's formula applied to the group's
    leads and accounts only. The unit economics split the org's costs among the groups by what each
    role did for them (:func:`sim.economics.group_unit_economics`); ``series`` are the replication's
    monthly series (computed when not given)."""
    if series is None:
        series = monthly_series(log, scenario)
    b = Breakdown(log, scenario, by)
    h, g = log.horizon_months, len(b.names)
    if g == 0:
        return {}
    leads = log.lead_table()
    group = b.lead_group
    state = leads["state"]

    activity = GroupActivity(log, scenario, group, b.account_group, g)
    count = activity.count

    def total(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        keep = mask & (group >= 0)
        return np.bincount(group[keep], weights=values[keep], minlength=g)

    won = state == LeadState.WON
    sales_won = won & ~np.isnan(leads["opportunity_t"])
    trialled = ~np.isnan(leads["trial_t"])
    inbound = leads["source"] == Source.INBOUND
    outbound = leads["source"] == Source.OUTBOUND
    fresh = leads["source"] != Source.WARM_START
    wins, losses = activity.wins, count(state == LeadState.LOST_DEAL)
    sales_wins = count(sales_won)
    converted, lapsed = count(trialled & won), count(state == LeadState.TRIAL_LAPSED)
    sqls_ended = count(~np.isnan(leads["sql_t"]) & ~trialled & (state != LeadState.OPEN))
    cycle = np.where(sales_won, leads["close_t"] - leads["sql_t"], 0.0)
    worked = worked_inbound(leads, scenario)
    horizon_days = _horizon_days(scenario, h)
    money = _group_mrr_flows(log, b, month_starts(scenario))
    mrr = np.cumsum(money["installed"] + money["new"] + money["expansion"] - money["churn"] - money["contraction"],
                    axis=1)
    if by == "source":
        costs = np.pad(lead_costs(scenario), (0, g))[:g]
        lead_cost = count(fresh) * costs
    else:
        per_lead = lead_costs(scenario)[np.clip(leads["source_index"], 0, None)]
        lead_cost = total(fresh & (leads["source_index"] >= 0), per_lead)
    customers = (money["installed_count"][:, 0] + money["new_count"].sum(axis=1) - money["churn_count"].sum(axis=1))
    columns = {
        "revenue_first_year_usd": mrr[:, 1:min(12, h) + 1].sum(axis=1),
        "exit_arr_usd": 12.0 * mrr[:, h],
        "mrr_end_usd": mrr[:, h],
        "new_mrr_usd": money["new"].sum(axis=1),
        "expansion_mrr_usd": money["expansion"].sum(axis=1),
        "churned_mrr_usd": money["churn"].sum(axis=1),
        "mqls": count(inbound),
        "prospects": count(outbound),
        "dials": total(np.ones(len(state), dtype=bool), leads["dials"].astype(float)),
        "connects": count(~np.isnan(leads["connect_t"])),
        "sqls": count(~np.isnan(leads["sql_t"])),
        "opportunities": count(~np.isnan(leads["opportunity_t"])),
        "wins": wins,
        "losses": losses,
        "trials": activity.trials,
        "customers_end": customers,
        **{f"leads_{s.name.lower()}": count(state == s) for s in LeadState},
        "cost_usd": lead_cost,
    }
    economics = group_unit_economics(log, scenario, series, activity, columns["new_mrr_usd"], lead_cost)
    out: dict[str, float] = {}
    for k in range(g):
        suffix = b.suffix(k)
        mine = group == k
        cycles = cycle[mine & sales_won]
        speeds = speed_to_lead_hours(leads, mine & worked, horizon_days)
        values = {name: float(column[k]) for name, column in columns.items()}
        closed = sales_wins[k] + losses[k]
        values["win_rate_opportunity"] = sales_wins[k] / closed if closed else float("nan")
        values["win_rate_sql"] = sales_wins[k] / sqls_ended[k] if sqls_ended[k] else float("nan")
        values["mqls_never_touched_share"] = (float(np.mean(np.isnan(leads["first_touch_t"][mine & worked])))
                                              if np.any(mine & worked) else float("nan"))
        ended = converted[k] + lapsed[k]
        values["trial_conversion_rate"] = converted[k] / ended if ended else float("nan")
        values["sales_cycle_days_mean"] = float(np.mean(cycles)) if cycles.size else float("nan")
        values["speed_to_lead_hours_median"] = float(np.median(speeds)) if speeds.size else float("nan")
        values.update(economics[k])
        for name in GROUP_KPIS:
            out[f"{name}{suffix}"] = values[name]
    return out
