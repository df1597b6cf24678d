"""Retention and contract money: renewals, net and gross revenue retention, bookings, billings.

This module owns the formulas of the KPIs and series that read accounts as contracts
(docs/reference/kpis.md#retention-and-contracts); like :mod:`sim.metrics`, which calls it, it is a
pure function of one replication's records. With *M*\\ :sub:`a`\\ (m) the MRR of account *a* at the
end of month *m* (its NEW or INSTALLED MRR, plus its expansions, minus its contractions, 0 once
churned):

* ``nrr`` at month *m* ≥ 12 (trailing twelve months) = Σ *M*\\ :sub:`a`\\ (m) ÷ Σ *M*\\ :sub:`a`\\ (m − 12)
  over the accounts that were customers at the end of month *m* − 12 (the cohort: whatever was
  won since does not count); ``grr`` = Σ min(*M*\\ :sub:`a`\\ (m), *M*\\ :sub:`a`\\ (m − 12)) ÷ the same
  denominator: what the cohort kept, expansion left out. The KPIs are the values at the horizon
  (NaN before month 12 or without a cohort).
* ``renewals`` = contracts renewed; ``renewal_rate`` = renewed ÷ (renewed + not renewed), over the
  term ends within the run (NaN without one).
* ``bookings_usd`` = annual contract value signed: 12 × (new MRR + expansion MRR + MRR renewed −
  MRR given up in downsells).
* ``billings_usd`` = what was invoiced: a segment billed ``monthly`` invoices each month's MRR (its
  revenue); one billed ``annual_upfront`` invoices 12 × an account's MRR at signing and at each
  anniversary of the signing, and an expansion between anniversaries for the rest of that
  contract year (prorated by days). An installed account's current contract year was invoiced
  before the run; its anniversaries are read from its first term end in the run (an installed
  account whose term outlasts the run, or that churns before its term ends, invoices nothing in
  it: the records do not say when its years start).
"""

from __future__ import annotations

import numpy as np

from sim.eventlog import AccountEvent, EventLog
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH

RETENTION_KPIS: tuple[str, ...] = (
    "contraction_mrr_usd", "renewals", "renewal_rate", "nrr", "grr", "bookings_usd", "billings_usd",
)
"""The KPIs this module computes, in report order."""

RETENTION_SERIES: tuple[str, ...] = (
    "contraction_mrr_usd", "renewals", "nrr", "grr", "bookings_usd", "billings_usd",
)
"""Org-level monthly series this module computes (``nrr`` and ``grr`` trailing twelve months)."""

YEAR_MONTHS = 12
YEAR_DAYS = YEAR_MONTHS * DAYS_PER_MONTH

_SIGN = {int(AccountEvent.NEW): 1.0, int(AccountEvent.INSTALLED): 1.0, int(AccountEvent.EXPANSION): 1.0,
         int(AccountEvent.CONTRACTION): -1.0, int(AccountEvent.CHURN): -1.0}
"""How each account event moves its account's MRR (renewal markers move nothing)."""


def account_mrr_by_month(log: EventLog, month_index) -> tuple[np.ndarray, np.ndarray]:
    """(account lead ids, *M*: accounts × months 0..h) — each account's MRR at each month's end.

    ``month_index`` maps event times to 1-based months (:func:`sim.metrics._month_index`); an
    installed account counts from month 0."""
    h = log.horizon_months
    acc = log.account_table()
    ids, row = np.unique(acc["lead"], return_inverse=True)
    sign = np.array([_SIGN.get(int(k), 0.0) for k in acc["kind"]])
    month = month_index(acc["t"])
    month = np.where(acc["kind"] == AccountEvent.INSTALLED, 0, month)
    flows = np.zeros((ids.size, h + 1))
    np.add.at(flows, (row, month), sign * acc["mrr_usd"])
    return ids, np.cumsum(flows, axis=1)


def trailing_retention(mrr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nrr, grr) per month 0..h from the accounts × months MRR table (NaN before month 12 or
    without a cohort)."""
    h = mrr.shape[1] - 1
    nrr, grr = np.full(h + 1, np.nan), np.full(h + 1, np.nan)
    for m in range(YEAR_MONTHS, h + 1):
        before, now = mrr[:, m - YEAR_MONTHS], mrr[:, m]
        cohort = before > 1e-9
        base = float(np.sum(before[cohort]))
        if base > 0:
            nrr[m] = float(np.sum(np.maximum(now[cohort], 0.0))) / base
            grr[m] = float(np.sum(np.minimum(np.maximum(now[cohort], 0.0), before[cohort]))) / base
    return nrr, grr


def annual_billings(log: EventLog, scenario: Scenario, horizon_days: float, month_index) -> np.ndarray:
    """Per month, the invoices of the accounts of segments billed ``annual_upfront``."""
    h = log.horizon_months
    out = np.zeros(h + 1)
    annual = {i for i, seg in enumerate(scenario.segments.values()) if seg.contract.billing == "annual_upfront"}
    if not annual:
        return out
    acc = log.account_table()
    order = np.argsort(acc["t"], kind="stable")
    events: dict[int, list[tuple[float, int, float]]] = {}
    for j in order:
        if int(acc["segment"][j]) in annual:
            events.setdefault(int(acc["lead"][j]), []).append(
                (float(acc["t"][j]), int(acc["kind"][j]), float(acc["mrr_usd"][j])))
    times: list[float] = []
    amounts: list[float] = []
    for history in events.values():
        signed_t, kind0, _ = history[0]
        if kind0 not in (AccountEvent.NEW, AccountEvent.INSTALLED):
            continue
        mrr = 0.0
        if kind0 == AccountEvent.NEW:
            anniversary = signed_t
        else:  # installed: signed before the run, its anniversaries read from its first term end in the run
            term_end = next((t for t, k, _ in history if k in (AccountEvent.RENEWAL, AccountEvent.RENEWAL_LOST)),
                            None)
            if term_end is None:
                continue  # no term end in the run: when its years start is not in the records
            anniversary = term_end
            while anniversary - YEAR_DAYS > 1e-6:
                anniversary -= YEAR_DAYS  # its first anniversary in the run (the current year was invoiced)
        churned = False
        for t, kind, amount in history:
            while anniversary < t - 1e-6 and anniversary < horizon_days and not churned:
                times.append(anniversary)  # the anniversary's invoice, at the MRR before this event
                amounts.append(YEAR_MONTHS * mrr)
                anniversary += YEAR_DAYS
            if kind == AccountEvent.CHURN:
                churned = True
                break
            if kind in (AccountEvent.RENEWAL, AccountEvent.RENEWAL_LOST):
                continue
            change = _SIGN.get(kind, 0.0) * amount
            mrr += change
            if kind == AccountEvent.NEW:
                continue  # billed at the anniversary it opens (its signing)
            if kind == AccountEvent.INSTALLED:
                continue
            if abs(anniversary - t) <= 1e-6:
                continue  # a change at an anniversary (a renewal's downsell or uplift): in that invoice
            rest_of_year = max(0.0, min(anniversary, horizon_days) - t) if anniversary > t else 0.0
            if t > 0 and rest_of_year > 0:
                times.append(t)
                amounts.append(YEAR_MONTHS * change * rest_of_year / YEAR_DAYS)
        while not churned and anniversary < horizon_days:
            times.append(anniversary)
            amounts.append(YEAR_MONTHS * mrr)
            anniversary += YEAR_DAYS
    if times:
        np.add.at(out, month_index(np.array(times)), np.array(amounts))
    return out


def retention_series(log: EventLog, scenario: Scenario, horizon_days: float, month_index,
                     series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The :data:`RETENTION_SERIES` of one replication (``series``: the org series so far, for
    the monthly billings' MRR)."""
    h = log.horizon_months
    acc = log.account_table()
    kind = acc["kind"]

    def per_month(mask: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        out = np.zeros(h + 1)
        if np.any(mask):
            np.add.at(out, month_index(acc["t"][mask]), 1.0 if weights is None else weights[mask])
        out[0] = np.nan
        return out

    mrr = acc["mrr_usd"]
    contraction = per_month(kind == AccountEvent.CONTRACTION, mrr)
    renewal_mrr = per_month(kind == AccountEvent.RENEWAL, mrr)
    out = {
        "contraction_mrr_usd": contraction,
        "renewals": per_month(kind == AccountEvent.RENEWAL, None),
        "bookings_usd": YEAR_MONTHS * (series["new_mrr_usd"] + series["expansion_mrr_usd"] + renewal_mrr
                                       - contraction),
    }
    ids, by_month = account_mrr_by_month(log, month_index)
    out["nrr"], out["grr"] = trailing_retention(by_month)
    monthly_billed = [i for i, seg in enumerate(scenario.segments.values()) if seg.contract.billing == "monthly"]
    billings = annual_billings(log, scenario, horizon_days, month_index)
    if monthly_billed and ids.size:
        first_segment = {}
        for lead, seg in zip(acc["lead"], acc["segment"], strict=True):
            first_segment.setdefault(int(lead), int(seg))
        monthly = np.isin(np.array([first_segment[int(i)] for i in ids]), monthly_billed)
        billings = billings + by_month[monthly].sum(axis=0)
    billings[0] = np.nan
    out["billings_usd"] = billings
    return out


def retention_kpis(log: EventLog, series: dict[str, np.ndarray]) -> dict[str, float]:
    """The :data:`RETENTION_KPIS` of one replication, from its account records and series."""
    h = log.horizon_months
    kind = log.account_table()["kind"]
    renewed = int(np.sum(kind == AccountEvent.RENEWAL))
    lost = int(np.sum(kind == AccountEvent.RENEWAL_LOST))
    return {
        "contraction_mrr_usd": float(np.nansum(series["contraction_mrr_usd"])),
        "renewals": renewed,
        "renewal_rate": renewed / (renewed + lost) if renewed + lost else float("nan"),
        "nrr": float(series["nrr"][h]),
        "grr": float(series["grr"][h]),
        "bookings_usd": float(np.nansum(series["bookings_usd"])),
        "billings_usd": float(np.nansum(series["billings_usd"])),
    }
