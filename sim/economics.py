"""Unit economics: CAC, CRC, payback, LTV and time to profitability of one replication.

This module owns the money formulas of the KPIs (docs/reference/kpis.md#unit-economics); it is
called by :func:`sim.metrics.kpis` and, like it, is a pure function of one replication's records
(spec → runtime → records). Which roles' cost is acquisition and which is retention is the
scenario's answer (:func:`sim.scenario.economics.cost_shares`).

The formulas, with *h* the horizon in months and *g* the gross margin (``economics.gross_margin``):

* acquisition cost = Σ over roles of (acquisition share × the role's rep cost) + MQLs × cost per
  MQL + ``acquisition_overhead_usd_per_month`` × *h*;
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
"""

from __future__ import annotations

import math

import numpy as np

from sim.eventlog import AccountEvent, EventLog
from sim.scenario import Scenario
from sim.scenario.economics import cost_shares
from sim.workcalendar import DAYS_PER_MONTH

ECONOMICS_KPIS: tuple[str, ...] = (
    "acquisition_cost_usd", "retention_cost_usd", "cac_usd", "crc_usd_per_account_month", "churn_rate_monthly",
    "cac_payback_months", "ltv_usd", "ltv_to_cac", "time_to_profitability_months",
)
"""The KPIs this module computes, in report order."""


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 or NaN."""
    return numerator / denominator if denominator and not math.isnan(denominator) else float("nan")


def account_months(log: EventLog, horizon_days: float) -> float:
    """Σ over accounts of the months (of ``DAYS_PER_MONTH`` days) each was a customer within the run.

    Each new or installed account counts from its start (the installed base from day 0) to the
    horizon, and each churn takes back the time from the churn to the horizon, so no account id is
    needed.
    """
    acc = log.account_table()
    kind, t = acc["kind"], np.clip(acc["t"], 0.0, horizon_days)
    started = (kind == AccountEvent.NEW) | (kind == AccountEvent.INSTALLED)
    churned = kind == AccountEvent.CHURN
    days = float(np.sum(horizon_days - t[started])) - float(np.sum(horizon_days - t[churned]))
    return days / DAYS_PER_MONTH


def unit_economics(log: EventLog, scenario: Scenario, series: dict[str, np.ndarray], wins: int,
                   new_mrr_usd: float) -> dict[str, float]:
    """The :data:`ECONOMICS_KPIS` of one replication.

    Parameters
    ----------
    log : EventLog
        The replication's records.
    scenario : Scenario
        The scenario it ran (its ``economics`` block, roles and cost per MQL).
    series : dict[str, numpy.ndarray]
        Its monthly series (:func:`sim.metrics.monthly_series`): ``cost_usd.<role>`` and ``mqls``.
    wins : int
        Deals won during the run (new customers).
    new_mrr_usd : float
        MRR of those deals.

    Returns
    -------
    dict[str, float]
        Each KPI of :data:`ECONOMICS_KPIS`, NaN where undefined.
    """
    econ = scenario.economics
    h = log.horizon_months
    shares = cost_shares(scenario)
    acquisition = econ.acquisition_overhead_usd_per_month * h
    retention = econ.retention_overhead_usd_per_month * h
    for role in log.roles:
        acquisition_share, retention_share = shares.get(role, (0.0, 0.0))
        if acquisition_share or retention_share:
            cost = float(np.nansum(series[f"cost_usd.{role}"]))
            acquisition += acquisition_share * cost
            retention += retention_share * cost
    if scenario.inbound is not None:
        acquisition += float(np.nansum(series["mqls"])) * scenario.inbound.cost_per_mql_usd
    horizon_days = float(scenario.month_start_days()[h]) if scenario.start_date is not None else h * DAYS_PER_MONTH
    exposure = account_months(log, horizon_days)
    churns = int(np.sum(log.account_table()["kind"] == AccountEvent.CHURN))
    cac = _ratio(acquisition, wins)
    crc = _ratio(retention, exposure)
    churn_rate = _ratio(churns, exposure)
    margin_mrr = econ.gross_margin * _ratio(new_mrr_usd, wins)
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
