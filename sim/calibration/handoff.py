"""Fits of the hand-off from development to closing: leakage and delay.

This module owns two estimates from the leads table: the share of SQLs that never became an
opportunity (``handoff.leakage_probability``) and the days from qualification to the opportunity
(``handoff.delay_days``, lognormal). Both read what a CRM records, so they include any wait for a
free closer: they are the hand-off's when closers were not the bottleneck, which the report says.
SQLs still open at the end of the period, or made too late to have been handed off, are left out.
"""

from __future__ import annotations

import math

import numpy as np

from sim.calibration import glm
from sim.calibration.estimates import Calibration, Fitted
from sim.calibration.reader import CrmExport
from sim.scenario import Scenario

MIN_SQLS = 30


def handoff(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """``handoff.leakage_probability`` and ``handoff.delay_days`` from qualified leads."""
    leads = export.table("leads")
    if "qualified_at" not in leads:
        cal.keep("handoff", "the leads table has no qualified_at column")
        return
    sql_t = export.days(leads["qualified_at"])
    opps = export.table("opportunities").set_index("opportunity_id")
    opp_ids = leads.get("opportunity_id")
    if opp_ids is None:
        cal.keep("handoff", "the leads table has no opportunity_id column")
        return
    opp_t = export.days(opps["created_at"].reindex(opp_ids.to_numpy()))
    gap = opp_t - sql_t
    done = np.isfinite(gap)
    cutoff = export.period_days - (float(np.percentile(gap[done], 99)) if done.any() else 0.0)
    eligible = (sql_t >= 0) & (sql_t < cutoff) & (leads["status"] != "open").to_numpy()
    n = int(eligible.sum())
    if n < MIN_SQLS:
        cal.keep("handoff", f"{n} SQLs made early enough in the period to have been handed off (fewer than {MIN_SQLS})")
        return
    leaked = int(np.sum(eligible & ~done))
    share = leaked / n
    lo, hi = _wilson(leaked, n)
    note = " (includes SQLs gone stale waiting for a closer)"
    cal.fitted.append(Fitted("handoff.leakage_probability", round(share, 4), n, "SQLs", "", share, lo, hi,
                             "share of SQLs that never became an opportunity" + note))
    gaps = gap[eligible & done]
    gaps = gaps[gaps > 0]
    if gaps.size < MIN_SQLS:
        cal.keep("handoff.delay_days", f"{gaps.size} hand-offs with a positive delay (fewer than {MIN_SQLS})")
        return
    logs = np.log(gaps)
    mu, sd = float(logs.mean()), float(logs.std(ddof=1))
    half = glm.Z95 * sd / math.sqrt(gaps.size)
    cal.fitted.append(Fitted(
        "handoff.delay_days", {"dist": "lognormal", "median": round(math.exp(mu), 3), "sigma": round(sd, 4)},
        int(gaps.size), "hand-offs", "median", math.exp(mu), math.exp(mu - half), math.exp(mu + half),
        "lognormal of days from SQL to opportunity (includes any wait for a free closer)"))


def _wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson 95% interval of a proportion (sensible at 0 and 1, unlike the normal one)."""
    z = glm.Z95
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
