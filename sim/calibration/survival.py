"""Fits of durations with censoring: churn, rep tenure and time to fill (lifelines).

This module owns the survival fits. Durations are right-censored where the story has not ended
(an active account, a rep still employed, a requisition still open at the end of the period)
and left-truncated where it began before the period (an account or a rep already there when the
export starts is only seen because it lasted until then): each subject enters the risk set at its
age on the first day of the period. Ignoring either biases the fit; a naive mean of observed
tenures is low (:func:`naive_mean`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from sim.calibration.estimates import Calibration, Fitted
from sim.calibration.reader import CrmExport
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH

MIN_EVENTS = 5
"""Fewest events (churns, exits, fills) behind a fitted duration; fewer keep the base value."""


def durations(export: CrmExport, start: pd.Series, end: pd.Series, unit_days: float) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """(duration, observed, entry) in ``unit_days``: censored at the end of the period, entering
    at the age reached on its first day. Subjects that ended before the period are dropped
    (duration 0 marks them; callers filter ``duration > entry``)."""
    t0 = export.days(start)
    t1 = export.days(end)
    observed = np.isfinite(t1) & (t1 <= export.period_days)
    stop = np.where(observed, t1, export.period_days)
    duration = (stop - t0) / unit_days
    entry = np.maximum(0.0, -t0) / unit_days
    return duration, observed, entry


def naive_mean(duration: np.ndarray, observed: np.ndarray) -> float:
    """The mean of the durations that ended: what a spreadsheet computes, biased low."""
    return float(np.mean(duration[observed])) if observed.any() else math.nan


def _fit(fitter, duration: np.ndarray, observed: np.ndarray, entry: np.ndarray):
    keep = duration > entry
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fitter.fit(np.maximum(duration[keep], 1e-6), observed[keep], entry=entry[keep])


def _positive_interval(row: pd.Series) -> tuple[float, float, float]:
    """A positive parameter (a mean time, a scale) and its 95% interval on the log scale (delta
    method): lifelines' symmetric interval can go below zero on small samples."""
    value, se = float(row["coef"]), float(row["se(coef)"])
    half = 1.959963984540054 * se / value
    return value, value * math.exp(-half), value * math.exp(half)


def churn(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Per segment: the monthly churn rate after onboarding and the onboarding multiplier
    (piecewise-exponential hazard, break at the base's ``onboarding_months``)."""
    from lifelines import PiecewiseExponentialFitter

    accounts = export.table("accounts")
    for segment, rows in accounts.groupby("segment"):
        seg = str(segment)
        if base is not None and seg not in base.segments:
            continue
        path = f"segments.{seg}.churn"
        onboarding = base.segments[seg].churn.onboarding_months if base is not None else 3
        d, obs, entry = durations(export, rows["started_at"], rows["ended_at"], DAYS_PER_MONTH)
        live = d > entry
        events = int(obs[live].sum())
        if events < MIN_EVENTS:
            cal.keep(f"{path}.monthly_rate", f"{events} churned {seg} accounts (fewer than {MIN_EVENTS})")
            continue
        breaks = [float(onboarding)] if onboarding > 0 and (d[live] < onboarding).any() else []
        if breaks and (entry[live] < onboarding).sum() < 20:
            breaks = []
        fit = _fit(PiecewiseExponentialFitter(breakpoints=breaks) if breaks else _exponential(), d, obs, entry)
        summary = fit.summary
        last = summary.iloc[-1]
        rate = lambda mean_months: -math.expm1(-1.0 / mean_months)  # noqa: E731
        mean, mean_lo, mean_hi = _positive_interval(last)
        h, h_lo, h_hi = rate(mean), rate(mean_hi), rate(mean_lo)
        cal.fitted.append(Fitted(f"{path}.monthly_rate", round(h, 5), int(live.sum()), f"{seg} accounts "
                                 f"({events} churned)", "", h, h_lo, h_hi,
                                 "survival fit (lifelines), active accounts right-censored, "
                                 "accounts older than the period left-truncated",
                                 extra={"onboarding_months": float(breaks[0]) if breaks else 0.0,
                                        "onboarding_rate": rate(float(summary.iloc[0]["coef"])) if breaks else h}))
        if breaks:
            first, first_lo, first_hi = _positive_interval(summary.iloc[0])
            m = rate(first) / h
            cal.fitted.append(Fitted(
                f"{path}.onboarding_multiplier", round(m, 4), int((entry[live] < onboarding).sum()),
                f"{seg} accounts in onboarding", "", m, rate(first_hi) / h, rate(first_lo) / h,
                f"hazard in the first {onboarding} months ÷ hazard after (interval: onboarding hazard's only)"))
        cal.tables.setdefault("churn", []).append({
            "segment": seg, "accounts": int(live.sum()), "churned": events,
            "churns_per_account_month": round(events / max(float(np.sum((d - entry)[live])), 1e-9), 5),
            "fitted_monthly_rate": round(h, 5)})
    cal.keep("segments.*.churn.uncovered_multiplier", "CSM coverage is not in a CRM export")


def _exponential():
    from lifelines import ExponentialFitter

    return ExponentialFitter()


def tenure(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Per role: total tenure in months as a Weibull (scale, shape), current staff censored, staff
    hired before the period left-truncated."""
    from lifelines import WeibullFitter

    people = export.table("people")
    for role, rows in people.groupby("role"):
        role = str(role)
        if base is not None and role not in base.roles:
            cal.keep(f"roles.{role}", "a role of the people table that the base scenario does not have")
            continue
        path = f"roles.{role}.tenure_months"
        d, obs, entry = durations(export, rows["started_at"], rows["ended_at"], DAYS_PER_MONTH)
        live = d > entry
        exits = int(obs[live].sum())
        if exits < MIN_EVENTS:
            cal.keep(path, f"{exits} {role} exits in the period (fewer than {MIN_EVENTS})")
            continue
        fit = _fit(WeibullFitter(), d, obs, entry)
        s = fit.summary
        scale, scale_lo, scale_hi = _positive_interval(s.loc["lambda_"])
        shape = float(s.loc["rho_", "coef"])
        shape = max(shape, 0.2)
        mean = scale * math.gamma(1.0 + 1.0 / shape)
        cal.fitted.append(Fitted(
            path, {"dist": "weibull", "scale": round(scale, 3), "shape": round(shape, 3)}, int(live.sum()),
            f"{role} reps ({exits} left)", "scale", scale, scale_lo, scale_hi,
            "Weibull survival fit (lifelines), censored and truncated",
            extra={"shape_low": float(s.loc["rho_", "coef lower 95%"]),
                   "shape_high": float(s.loc["rho_", "coef upper 95%"]), "mean": mean,
                   "naive_mean": naive_mean(d[live], obs[live])}))


def time_to_fill(export: CrmExport, base: Scenario | None, cal: Calibration) -> None:
    """Per role: days from an exit to the next start in the role (and team), as a lognormal;
    exits not yet followed by a start are censored at the end of the period."""
    from lifelines import LogNormalFitter

    people = export.table("people")
    team = people["team"] if "team" in people else pd.Series("", index=people.index)
    for role, rows in people.assign(team=team.fillna("")).groupby("role"):
        role = str(role)
        if base is not None and role not in base.roles:
            continue
        path = f"roles.{role}.time_to_fill_days"
        gaps, observed = _fill_gaps(export, rows)
        fills = int(observed.sum())
        if fills < MIN_EVENTS:
            cal.keep(path, f"{fills} {role} seats refilled in the period (fewer than {MIN_EVENTS})")
            continue
        fit = _fit(LogNormalFitter(), gaps, observed, np.zeros(len(gaps)))
        s = fit.summary
        mu, sigma = float(s.loc["mu_", "coef"]), float(s.loc["sigma_", "coef"])
        cal.fitted.append(Fitted(
            path, {"dist": "lognormal", "median": round(math.exp(mu), 2), "sigma": round(sigma, 4)}, len(gaps),
            f"{role} exits ({fills} refilled)", "median", math.exp(mu), math.exp(float(s.loc["mu_", "coef lower 95%"])),
            math.exp(float(s.loc["mu_", "coef upper 95%"])),
            "lognormal survival fit (lifelines): exit → next start in the role, open seats censored"))


def _fill_gaps(export: CrmExport, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Exits in the period paired in order with the starts that follow them in the same team
    (first exit, first later start): the sum of the gaps is exact whatever the true pairing."""
    start = export.days(rows["started_at"])
    end = export.days(rows["ended_at"])
    gaps, observed = [], []
    for team in rows["team"].unique():  # a few teams: the pairing itself is vectorised
        in_team = (rows["team"] == team).to_numpy()
        exits = np.sort(end[in_team & np.isfinite(end) & (end >= 0) & (end <= export.period_days)])
        starts = np.sort(start[in_team & (start > 0)])
        if exits.size == 0:
            continue
        pos = np.searchsorted(starts, exits, side="left")
        idx = _in_order(pos)
        has = idx < starts.size
        gaps.append(np.where(has, starts[np.minimum(idx, starts.size - 1)] - exits, export.period_days - exits))
        observed.append(has)
    if not gaps:
        return np.empty(0), np.empty(0, dtype=bool)
    return np.maximum(np.concatenate(gaps), 1e-3), np.concatenate(observed)


def _in_order(pos: np.ndarray) -> np.ndarray:
    """For sorted exits whose first eligible start is ``pos``, the start each takes when starts are
    handed out in order: ``idx[i] = max(pos[i], idx[i-1] + 1)``, vectorised as a running maximum."""
    k = np.arange(pos.size)
    return np.maximum.accumulate(pos - k) + k
