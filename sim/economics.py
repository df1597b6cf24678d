"""Unit economics: CAC, CRC, payback, LTV and time to profitability of one replication.

This module owns the money formulas of the KPIs (docs/reference/kpis.md#unit-economics); it is
called by :func:`sim.metrics.kpis` and, like it, is a pure function of one replication's records
(spec → runtime → records). Which roles' cost is acquisition and which is retention is the
scenario's answer (:func:`sim.scenario.economics.cost_shares`).

The formulas, with *h* the horizon in months and *g* the gross margin (``economics.gross_margin``):

* acquisition cost = Σ over roles of (acquisition share × the role's rep cost) + the leads' own
  cost (each source's cost per MQL or per prospect × its leads) + (``acquisition_overhead_usd_per_month``
  + ``marketing_programs_usd_per_month``) × *h*; a role's cost includes its tools, managers and
  recruiting (:func:`sim.metrics.people_cost`);
* retention cost = Σ over roles of (retention share × the role's rep cost) +
  ``retention_overhead_usd_per_month`` × *h*;
* account-months = Σ over accounts of the months each was a customer within the run (the
  installed base from day 0);
* ``cac_usd`` = acquisition cost ÷ deals won;
* ``crc_usd_per_account_month`` = retention cost ÷ account-months;
* ``churn_rate_monthly`` = accounts churned ÷ account-months (the simulated logo churn hazard);
* ARPA = new MRR ÷ deals won (the average new customer's MRR);
* ``cac_payback_months`` = CAC ÷ (*g* × ARPA);
* ``ltv_usd`` = *g* × ARPA ÷ ``churn_rate_monthly``; ``ltv_to_cac`` = LTV ÷ CAC;
* ``time_to_profitability_months`` = CAC ÷ (*g* × ARPA − CRC): the months after which a new
  customer's gross-margin MRR has repaid its acquisition and the retention cost of its months.

A ratio whose denominator is zero (no wins, no churn, no account-month) or, for time to
profitability, not positive (a customer that never repays), is NaN.

Per segment and per lead source (:func:`group_unit_economics`), the same formulas apply to the
group's own totals, with the org's costs split among the groups by what each role did for them
(:class:`GroupActivity`; docs/reference/kpis.md#unit-economics-per-group).

Quotas (``roles.<name>.quota``; docs/reference/kpis.md#quota): :func:`quota_periods` gives each
employee's quota, booking and attainment per period, and the variable pay that follows; the role's
cost series carries the difference from on-target pay (:func:`variable_pay_adjustment`).
"""

from __future__ import annotations

import math

import numpy as np

from sim.eventlog import AccountEvent, EventLog, LeadState, RepKind, Source, WorkforceEvent
from sim.scenario import Scenario
from sim.scenario.economics import ACQUISITION_DESKS, RETENTION_DESKS, cost_shares
from sim.scenario.jobs import Desk
from sim.workcalendar import DAYS_PER_MONTH

ECONOMICS_KPIS: tuple[str, ...] = (
    "acquisition_cost_usd", "retention_cost_usd", "cac_usd", "crc_usd_per_account_month", "churn_rate_monthly",
    "cac_payback_months", "ltv_usd", "ltv_to_cac", "time_to_profitability_months",
)
"""The KPIs this module computes, in report order."""


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 or NaN."""
    return numerator / denominator if denominator and not math.isnan(denominator) else float("nan")


def account_months(log: EventLog, horizon_days: float, events: np.ndarray | None = None) -> float:
    """Σ over accounts of the months (of ``DAYS_PER_MONTH`` days) each was a customer within the run
    (only the account events of the mask ``events``, when given: one group's accounts).

    Each new or installed account counts from its start (the installed base from day 0) to the
    horizon, and each churn takes back the time from the churn to the horizon, so no account id is
    needed.
    """
    return _account_months_of(log.account_table(), horizon_days, events)


def _account_months_of(acc: dict[str, np.ndarray], horizon_days: float, events: np.ndarray | None) -> float:
    """:func:`account_months` from an account table (``EventLog.account_table``)."""
    kind, t = acc["kind"], np.clip(acc["t"], 0.0, horizon_days)
    started = (kind == AccountEvent.NEW) | (kind == AccountEvent.INSTALLED)
    churned = kind == AccountEvent.CHURN
    if events is not None:
        started, churned = started & events, churned & events
    days = float(np.sum(horizon_days - t[started])) - float(np.sum(horizon_days - t[churned]))
    return days / DAYS_PER_MONTH


def _horizon_days(log: EventLog, scenario: Scenario) -> float:
    h = log.horizon_months
    return float(scenario.month_start_days()[h]) if scenario.start_date is not None else h * DAYS_PER_MONTH


def _role_costs(log: EventLog, scenario: Scenario,
                series: dict[str, np.ndarray]) -> list[tuple[str, float, float, float]]:
    """(role, cost over the run, acquisition share, retention share) of each role counted in either."""
    shares = cost_shares(scenario)
    out = []
    for role in log.roles:
        acquisition_share, retention_share = shares.get(role, (0.0, 0.0))
        if acquisition_share or retention_share:
            out.append((role, float(np.nansum(series[f"cost_usd.{role}"])), acquisition_share, retention_share))
    return out


def _ratios(acquisition: float, retention: float, exposure: float, churns: float, wins: float,
            new_mrr_usd: float, gross_margin: float) -> dict[str, float]:
    """The :data:`ECONOMICS_KPIS` from their totals: one set of formulas for the org and each group."""
    cac = _ratio(acquisition, wins)
    crc = _ratio(retention, exposure)
    churn_rate = _ratio(churns, exposure)
    margin_mrr = gross_margin * _ratio(new_mrr_usd, wins)
    ltv = _ratio(margin_mrr, churn_rate)
    net = margin_mrr - crc
    return {
        "acquisition_cost_usd": acquisition,
        "retention_cost_usd": retention,
        "cac_usd": cac,
        "crc_usd_per_account_month": crc,
        "churn_rate_monthly": churn_rate,
        "cac_payback_months": _ratio(cac, margin_mrr),
        "ltv_usd": ltv,
        "ltv_to_cac": _ratio(ltv, cac),
        "time_to_profitability_months": cac / net if net > 0 else float("nan"),
    }


def unit_economics(log: EventLog, scenario: Scenario, series: dict[str, np.ndarray], wins: int,
                   new_mrr_usd: float, lead_cost_usd: float) -> dict[str, float]:
    """The :data:`ECONOMICS_KPIS` of one replication.

    Parameters
    ----------
    log : EventLog
        The replication's records.
    scenario : Scenario
        The scenario it ran (its ``economics`` block and roles).
    series : dict[str, numpy.ndarray]
        Its monthly series (:func:`sim.metrics.monthly_series`): ``cost_usd.<role>``.
    wins : int
        Deals won during the run (new customers).
    new_mrr_usd : float
        MRR of those deals.
    lead_cost_usd : float
        The leads' own cost over the run: each source's cost per MQL or per prospect × its leads
        (:func:`sim.metrics.lead_cost_per_month`).

    Returns
    -------
    dict[str, float]
        Each KPI of :data:`ECONOMICS_KPIS`, NaN where undefined.
    """
    econ = scenario.economics
    h = log.horizon_months
    acquisition = (econ.acquisition_overhead_usd_per_month + econ.marketing_programs_usd_per_month) * h
    retention = econ.retention_overhead_usd_per_month * h
    for _, cost, acquisition_share, retention_share in _role_costs(log, scenario, series):
        acquisition += acquisition_share * cost
        retention += retention_share * cost
    acquisition += lead_cost_usd
    exposure = account_months(log, _horizon_days(log, scenario))
    churns = int(np.sum(log.account_table()["kind"] == AccountEvent.CHURN))
    return _ratios(acquisition, retention, exposure, churns, wins, new_mrr_usd, econ.gross_margin)


# --------------------------------------------------------------------------- per segment and source


def _normalized(weights: np.ndarray) -> np.ndarray | None:
    total = float(np.sum(weights))
    return weights / total if total > 0 else None


def _first_and_last_role(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Each rep id's first and last role index (-1: no such rep): the role a rep did development
    work in, and the one it closed in (a promotion moves a rep up, SDR → AE)."""
    wf = log.workforce_table()
    joining = np.isin(wf["kind"], (WorkforceEvent.START, WorkforceEvent.HIRE, WorkforceEvent.PROMOTED_IN))
    joining &= wf["rep"] >= 0
    reps, roles = wf["rep"][joining].astype(np.int64), wf["role"][joining].astype(np.int64)
    size = int(reps.max()) + 1 if reps.size else 0
    first, last = np.full(size, -1, dtype=np.int64), np.full(size, -1, dtype=np.int64)
    ids, at = np.unique(reps, return_index=True)
    first[ids] = roles[at]
    ids, at = np.unique(reps[::-1], return_index=True)
    last[ids] = roles[::-1][at]
    return first, last


def _role_of(rep: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The role in ``table`` of each rep id (-1 for none or an id outside it)."""
    rep = rep.astype(np.int64)
    if table.size == 0:
        return np.full(rep.shape, -1, dtype=np.int64)
    inside = (rep >= 0) & (rep < table.size)
    return np.where(inside, table[np.where(inside, rep, 0)], -1)


class GroupActivity:
    """What each role did for each group (segment or lead source) of a replication: the measures
    its cost is split by (docs/reference/kpis.md#unit-economics-per-group).

    * development (``work_inbound``, ``prospect``): the dials its reps made on the group's leads
      (the leads they worked, if none was dialled);
    * closing (``close``) and sales engineering (``support_meetings``): opportunity-days, the days
      each of the group's deals was held from its hand-off (or opportunity, or SQL) to its close or
      the horizon — by the role's own reps for closing, by every closer for support;
    * account management and customer success (``manage_accounts``, ``expand_and_renew``): the
      group's account-months;
    * self-service (``assist_trials``): the group's trials.

    A desk without any such activity falls back to the group's share of wins, then of leads.
    """

    def __init__(self, log: EventLog, scenario: Scenario, lead_group: np.ndarray, account_group: np.ndarray,
                 groups: int) -> None:
        self.groups = groups
        leads = log.lead_table()
        acc = log.account_table()
        horizon_days = _horizon_days(log, scenario)
        self.lead_group = lead_group
        fresh = leads["source"] != Source.WARM_START
        self.leads = self.count(fresh)
        self.wins = self.count(leads["state"] == LeadState.WON)
        self.account_months = np.array([_account_months_of(acc, horizon_days, account_group == g)
                                         for g in range(groups)])
        churned = (acc["kind"] == AccountEvent.CHURN) & (account_group >= 0)
        self.churns = np.bincount(account_group[churned], minlength=groups).astype(float)
        first_role, last_role = _first_and_last_role(log)
        start = leads["handoff_t"]
        for later in (leads["opportunity_t"], leads["sql_t"]):
            start = np.where(np.isnan(start), later, start)
        end = np.where(np.isnan(leads["close_t"]), leads["end_t"], leads["close_t"])
        end = np.minimum(np.where(np.isnan(end), horizon_days, end), horizon_days)
        held = np.where(np.isnan(start), 0.0, np.clip(end - start, 0.0, None))
        roles = len(log.roles)
        dev_role = _role_of(leads["dev_rep"], first_role)
        closer_role = _role_of(leads["closer_rep"], last_role)
        self.dials_by_role = self._by_role(dev_role, leads["dials"].astype(float), roles)
        """Dials per (role, group) by the role's reps: development work."""
        self.worked_by_role = self._by_role(dev_role, None, roles)
        self.deal_days_by_role = self._by_role(closer_role, held, roles)
        """Deal-days per (role, group) held by the role's reps: closing work."""
        self.deals_by_role = self._by_role(closer_role, None, roles)
        self.deal_days = self.deal_days_by_role.sum(axis=0)
        self.trials = self.count(~np.isnan(leads["trial_t"]))

    def _by_role(self, role_of: np.ndarray, weights: np.ndarray | None, roles: int) -> np.ndarray:
        """Σ of ``weights`` (or a count) per (role, group) over the leads of a known role and group."""
        keep = (role_of >= 0) & (self.lead_group >= 0)
        flat = role_of[keep] * self.groups + self.lead_group[keep]
        totals = np.bincount(flat, weights=None if weights is None else weights[keep], minlength=roles * self.groups)
        return totals.astype(float).reshape(roles, self.groups)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """How many leads of the mask ``mask`` each group has (leads of no group left out)."""
        keep = mask & (self.lead_group >= 0)
        return np.bincount(self.lead_group[keep], minlength=self.groups).astype(float)

    def fallback(self) -> np.ndarray:
        """The groups' shares of wins, else of leads, else equal shares."""
        for weights in (self.wins, self.leads):
            shares = _normalized(weights)
            if shares is not None:
                return shares
        return np.full(self.groups, 1.0 / self.groups)

    def desk_shares(self, desk: Desk, role_index: int) -> np.ndarray:
        """How the work of ``role_index`` at ``desk`` splits among the groups (summing to 1)."""
        if desk == Desk.DEVELOPMENT:
            measures = (self.dials_by_role[role_index], self.worked_by_role[role_index])
        elif desk == Desk.CLOSING:
            measures = (self.deal_days_by_role[role_index], self.deals_by_role[role_index])
        elif desk == Desk.SUPPORT:
            measures = (self.deal_days,)
        elif desk == Desk.SELF_SERVICE:
            measures = (self.trials,)
        else:  # accounts, account management
            measures = (self.account_months,)
        for weights in measures:
            shares = _normalized(weights)
            if shares is not None:
                return shares
        return self.fallback()

    def role_shares(self, scenario: Scenario, role: str, role_index: int, desks: frozenset[Desk]) -> np.ndarray:
        """How a role's cost of the kind ``desks`` splits among the groups: its desks of that kind
        weighted by its time at each (all its desks when it has none of that kind)."""
        time_at = scenario.desk_shares(role)
        chosen = {desk: share for desk, share in time_at.items() if desk in desks and share > 0} or {
            desk: share for desk, share in time_at.items() if share > 0}
        if not chosen:
            return self.fallback()
        total = sum(chosen.values())
        return sum(share / total * self.desk_shares(desk, role_index) for desk, share in chosen.items())


def group_unit_economics(log: EventLog, scenario: Scenario, series: dict[str, np.ndarray],
                         activity: GroupActivity, new_mrr_usd: np.ndarray,
                         lead_cost_usd: np.ndarray) -> list[dict[str, float]]:
    """The :data:`ECONOMICS_KPIS` of each group (segment or lead source) of a replication.

    The org's acquisition and retention costs are split among the groups by activity
    (:class:`GroupActivity`): each role's acquisition (retention) cost by its work at its acquisition
    (retention) desks; each lead's own cost to its group; the acquisition overhead and marketing
    programmes by the groups' shares of the run's leads; the retention overhead by their shares of
    account-months. The KPIs then follow the org's formulas with the group's wins, new MRR,
    account-months and churns. Where every lead and account has a group, the groups' costs sum to
    the org's.

    Parameters
    ----------
    log, scenario, series
        As for :func:`unit_economics`.
    activity : GroupActivity
        The groups, what each role did for them, and their wins, account-months and churns.
    new_mrr_usd, lead_cost_usd : numpy.ndarray
        Per group: the MRR of the deals won, and the leads' own cost.

    Returns
    -------
    list[dict[str, float]]
        One dict of :data:`ECONOMICS_KPIS` per group.
    """
    econ = scenario.economics
    h = log.horizon_months
    lead_share = _normalized(activity.leads)
    exposure_share = _normalized(activity.account_months)
    acquisition = lead_cost_usd.astype(float).copy()
    retention = np.zeros(activity.groups)
    acquisition += ((econ.acquisition_overhead_usd_per_month + econ.marketing_programs_usd_per_month) * h
                    * (lead_share if lead_share is not None else activity.fallback()))
    retention += (econ.retention_overhead_usd_per_month * h
                  * (exposure_share if exposure_share is not None else activity.fallback()))
    for role, cost, acquisition_share, retention_share in _role_costs(log, scenario, series):
        index = log.roles.index(role)
        if acquisition_share:
            acquisition += acquisition_share * cost * activity.role_shares(scenario, role, index, ACQUISITION_DESKS)
        if retention_share:
            retention += retention_share * cost * activity.role_shares(scenario, role, index, RETENTION_DESKS)
    return [_ratios(float(acquisition[g]), float(retention[g]), float(activity.account_months[g]),
                    float(activity.churns[g]), float(activity.wins[g]), float(new_mrr_usd[g]), econ.gross_margin)
            for g in range(activity.groups)]


QUOTA_KPIS: tuple[str, ...] = ("quota_attainment_mean", "reps_at_quota_share", "variable_pay_usd")
"""Quota KPIs over every role with a quota (NaN without one)."""


def payout(attainment: np.ndarray, accelerator: float) -> np.ndarray:
    """Variable pay as a share of on-target variable pay: the attainment up to 1, then
    ``accelerator`` × each unit above."""
    return np.where(attainment <= 1.0, attainment, 1.0 + accelerator * (attainment - 1.0))


def _employees(log: EventLog, role: int, horizon_days: float) -> list[tuple[int, float, float, float]]:
    """(rep id, start day, end day, monthly cost) of every employee of ``role`` during the run."""
    wf = log.workforce_table()
    starts: dict[int, tuple[float, float]] = {}
    ends: dict[int, float] = {}
    for t, kind, rep_role, rep, cost, rep_kind in zip(wf["t"], wf["kind"], wf["role"], wf["rep"],
                                                     wf["monthly_cost_usd"], wf["rep_kind"], strict=True):
        if int(rep_role) != role or int(rep_kind) != int(RepKind.EMPLOYEE) or rep < 0:
            continue
        if kind in (WorkforceEvent.START, WorkforceEvent.HIRE, WorkforceEvent.PROMOTED_IN):
            starts[int(rep)] = (float(t), float(cost))
        elif kind in (WorkforceEvent.EXIT, WorkforceEvent.PROMOTED_OUT):
            ends[int(rep)] = float(t)
    return [(rep, t0, ends.get(rep, horizon_days), cost) for rep, (t0, cost) in sorted(starts.items())]


def _bookings(log: EventLog, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rep id, day, amount) of every booking that counts toward a ``metric`` quota."""
    leads = log.lead_table()
    if metric == "sqls":
        mask = ~np.isnan(leads["sql_t"]) & (leads["dev_rep"] >= 0)
        return leads["dev_rep"][mask], leads["sql_t"][mask], np.ones(int(np.sum(mask)))
    if metric == "opportunities":
        mask = ~np.isnan(leads["opportunity_t"]) & (leads["closer_rep"] >= 0)
        return leads["closer_rep"][mask], leads["opportunity_t"][mask], np.ones(int(np.sum(mask)))
    won = (leads["state"] == LeadState.WON) & (leads["closer_rep"] >= 0)
    amount = 12.0 * leads["mrr_usd"][won] if metric == "new_arr_usd" else np.ones(int(np.sum(won)))
    return leads["closer_rep"][won], leads["close_t"][won], amount


def quota_periods(log: EventLog, scenario: Scenario, role: str) -> dict[str, np.ndarray]:
    """Each employee's quota periods for ``role`` (which must have a quota).

    Periods are ``period_months`` months from the start (the last one cut by the horizon). A rep's
    quota in a period is ``amount`` × the days it was employed in it ÷ (``period_months`` × 365.25/12);
    its booking, the metric it booked then; its attainment, booking ÷ quota; its pay, the on-target
    cost of its days (``monthly_cost_usd`` prorated as in ``cost_usd``). ``full`` marks rep-periods
    employed throughout a period that ends within the run: the ones attainment statistics use.

    Returns
    -------
    dict[str, numpy.ndarray]
        Columns ``rep``, ``period``, ``end_month`` (the period's last month), ``quota``,
        ``booked``, ``attainment``, ``on_target_cost_usd``, ``full``; one row per rep and period
        it was employed in.
    """
    spec = scenario.roles[role].quota
    assert spec is not None
    h = log.horizon_months
    edges = np.asarray(scenario.month_start_days()[: h + 1], dtype=float)
    lengths = np.diff(edges)
    role_index = log.roles.index(role)
    p = spec.period_months
    n_periods = -(-h // p)
    reps, t_booked, amounts = _bookings(log, spec.metric)
    rows: dict[str, list[float]] = {name: [] for name in ("rep", "period", "end_month", "quota", "booked",
                                                          "attainment", "on_target_cost_usd", "full")}
    for rep, t0, t1, cost in _employees(log, role_index, float(edges[h])):
        overlap = np.clip(np.minimum(edges[1:], t1) - np.maximum(edges[:-1], t0), 0.0, None)
        mine = reps == rep
        for k in range(n_periods):
            first, last = k * p, min((k + 1) * p, h)
            days = float(np.sum(overlap[first:last]))
            if days <= 0.0:
                continue
            quota = spec.amount * days / (p * DAYS_PER_MONTH)
            in_period = mine & (t_booked >= edges[first]) & (t_booked < edges[last])
            booked = float(np.sum(amounts[in_period]))
            rows["rep"].append(rep)
            rows["period"].append(k)
            rows["end_month"].append(last)
            rows["quota"].append(quota)
            rows["booked"].append(booked)
            rows["attainment"].append(booked / quota)
            rows["on_target_cost_usd"].append(float(np.sum(overlap[first:last] / lengths[first:last])) * cost)
            rows["full"].append(float(last - first == p and days >= float(edges[last] - edges[first]) - 1e-9))
    return {name: np.asarray(values, dtype=float) for name, values in rows.items()}


def variable_pay_adjustment(log: EventLog, scenario: Scenario, role: str) -> np.ndarray:
    """What a role's pay differs from on-target pay, per month (index 0 unused): for each rep and
    period, ``variable_share`` × on-target cost × (payout(attainment) − 1), paid in the period's
    last month. Zero without a quota or a variable share."""
    out = np.zeros(log.horizon_months + 1)
    spec = scenario.roles[role].quota
    if spec is None or spec.variable_share == 0.0:
        return out
    table = quota_periods(log, scenario, role)
    if table["rep"].size:
        extra = spec.variable_share * table["on_target_cost_usd"] * (payout(table["attainment"], spec.accelerator)
                                                                      - 1.0)
        np.add.at(out, table["end_month"].astype(int), extra)
    return out


def quota_kpis(log: EventLog, scenario: Scenario) -> dict[str, float]:
    """:data:`QUOTA_KPIS` over every role with a quota: the mean attainment and the share at or above
    quota of the full rep-periods, and the variable pay paid (NaN without a quota)."""
    attainment: list[np.ndarray] = []
    variable = 0.0
    quoted = [role for role in log.roles if scenario.roles[role].quota is not None]
    for role in quoted:
        spec = scenario.roles[role].quota
        assert spec is not None
        table = quota_periods(log, scenario, role)
        attainment.append(table["attainment"][table["full"] > 0])
        variable += float(np.sum(spec.variable_share * table["on_target_cost_usd"]
                                 * payout(table["attainment"], spec.accelerator)))
    if not quoted:
        return dict.fromkeys(QUOTA_KPIS, float("nan"))
    full = np.concatenate(attainment) if attainment else np.empty(0)
    return {
        "quota_attainment_mean": float(np.mean(full)) if full.size else float("nan"),
        "reps_at_quota_share": float(np.mean(full >= 1.0)) if full.size else float("nan"),
        "variable_pay_usd": variable,
    }
