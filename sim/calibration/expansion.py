"""Fits of expansion: how often an account grows, and by how much.

This module owns ``segments.*.expansion``: the monthly probability that an account expands
(expansions per account-month alive inside the period, Wilson interval) and the expansion as a
fraction of the account's MRR just before it (from ``mrr_changes``: each positive change over
the starting MRR plus the changes before it), written in the base's family — uniform (by its mean
and spread) or constant.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.calibration import glm
from sim.calibration.estimates import Calibration, Fitted
from sim.calibration.handoff import _wilson
from sim.calibration.reader import CrmExport
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH

MIN_EXPANSIONS = 10


def expansion(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    accounts = export.table("accounts")
    changes = export.table("mrr_changes")
    if accounts.empty:
        return
    start = np.maximum(export.days(accounts["started_at"]), 0.0)
    end = export.days(accounts["ended_at"])
    end = np.minimum(np.where(np.isnan(end), export.period_days, end), export.period_days)
    exposure = np.maximum(end - start, 0.0) / DAYS_PER_MONTH
    t = export.days(changes["at"])
    delta = changes["mrr_delta_usd"].to_numpy(dtype=float)
    grown = changes.assign(t=t, delta=delta)
    grown = grown[(grown["t"] >= 0) & (grown["t"] < export.period_days)]
    before = grown.sort_values("t", kind="stable").groupby("account_id")["delta"].cumsum() - grown["delta"]
    mrr0 = pd.Series(accounts["mrr_usd"].to_numpy(dtype=float), index=accounts["account_id"])
    grown = grown.assign(prior=mrr0.reindex(grown["account_id"]).to_numpy() + before.reindex(grown.index).to_numpy())
    grown = grown.join(accounts.set_index("account_id")["segment"], on="account_id")
    for segment, rows in accounts.assign(exposure=exposure).groupby("segment"):
        seg = str(segment)
        if base is not None and seg not in base.segments:
            continue
        path = f"segments.{seg}.expansion"
        months = float(rows["exposure"].sum())
        mine = grown[(grown["segment"] == seg) & (grown["delta"] > 0)]
        k = len(mine)
        if months < 30:
            cal.keep(f"{path}.monthly_probability", f"{months:.0f} account-months of {seg} (fewer than 30)")
            continue
        n = max(round(months), k, 1)
        q = k / n
        lo, hi = _wilson(k, n)
        cal.fitted.append(Fitted(f"{path}.monthly_probability", round(q, 5), n, f"{seg} account-months", "", q,
                                 lo, hi, "expansions per account-month alive in the period"))
        if k < MIN_EXPANSIONS:
            cal.keep(f"{path}.mrr_fraction", f"{k} {seg} expansions (fewer than {MIN_EXPANSIONS})")
            continue
        fraction = (mine["delta"] / mine["prior"]).to_numpy(dtype=float)
        fraction = fraction[np.isfinite(fraction) & (fraction > 0)]
        mean, sd = float(fraction.mean()), float(fraction.std(ddof=1)) if fraction.size > 1 else 0.0
        half = glm.Z95 * sd / math.sqrt(fraction.size)
        family = base.segments[seg].expansion.mrr_fraction.dist if base is not None else "uniform"
        if family == "constant" or sd == 0.0:
            value: dict = {"dist": "constant", "value": round(mean, 4)}
        else:
            spread = math.sqrt(3.0) * sd
            value = {"dist": "uniform", "low": round(max(0.0, mean - spread), 4), "high": round(mean + spread, 4)}
        cal.fitted.append(Fitted(f"{path}.mrr_fraction", value, int(fraction.size), f"{seg} expansions",
                                 "mean fraction", mean, mean - half, mean + half,
                                 f"expansion ÷ MRR before it, as a {value['dist']} with that mean and spread"))
