"""The numbers a report states about results folders read back (:mod:`sim.runs.folders`).

Paired KPI comparisons with their 95% CIs and how many replications went each way
(:func:`kpi_comparison`), one run's KPI summary, when a reorganization pays back what it costs
more (:func:`payback`), funnel means, and the team and role tables (headcount, ramped capacity,
demand). Pure functions of the folders: nothing is read from disk here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.runs import results, stats
from sim.runs.comparison import TIE_RTOL

if TYPE_CHECKING:
    import pandas as pd

    from sim.runs.folders import FolderComparison, RunFolder

def payback(comparison: FolderComparison, scenario: str) -> dict[str, Any] | None:
    """When ``scenario`` has paid back what it costs more than the baseline: the cumulative paired
    difference of revenue (each month's MRR, as in ``revenue_first_year_usd``) minus cost, month by
    month.

    Returns
    -------
    dict or None
        ``curve`` (month, mean, ci95_low, ci95_high of the cumulative net difference), ``month``
        (the first month from which the mean stays at or above zero, after being below; 0 when it
        never was below; None when it is below at the horizon), ``share_paid_back`` (replications
        whose own cumulative net difference is at or above zero at the horizon) and
        ``cost_differs``. None without the monthly series.
    """
    import pandas as pd

    needed = ("mrr_usd", "cost_usd")
    runs = (comparison.baseline, comparison.run(scenario))
    if not all(r.has_series(s) for r in runs for s in needed):
        return None
    revenue = comparison.series_difference(scenario, "mrr_usd")
    cost = comparison.series_difference(scenario, "cost_usd")
    months = [m for m in revenue.index if m >= 1 and m in cost.index]
    if not months:
        return None
    net = (revenue.loc[months] - cost.loc[months]).cumsum()
    cis = [stats.mean_ci(net.loc[m].to_numpy(float)) for m in months]
    curve = pd.DataFrame({"month": months, "mean": [c[0] for c in cis], "ci95_low": [c[1] for c in cis],
                          "ci95_high": [c[2] for c in cis]})
    mean = curve["mean"].to_numpy(float)
    below = np.flatnonzero(~(mean >= 0))
    if below.size == 0:
        month: int | None = 0
    elif below[-1] == len(mean) - 1:
        month = None
    else:
        month = int(months[below[-1] + 1])
    last = net.loc[months[-1]].to_numpy(float)
    last = last[np.isfinite(last)]
    extra = cost.loc[months].sum().to_numpy(float)  # per replication: the scenario's cost − the baseline's
    scale = float(np.nanmean(np.abs(comparison.baseline.series("cost_usd").loc[months].sum().to_numpy(float))))
    return {"curve": curve, "month": month,
            "share_paid_back": float(np.mean(last >= 0)) if last.size else math.nan,
            "cost_differs": bool(np.nanmax(np.abs(extra), initial=0.0) > TIE_RTOL * max(scale, 1.0))}


LOWER_IS_BETTER_TOO: frozenset[str] = frozenset({"reorg_cost_usd", "transition_mrr_loss_usd", "breakeven_month"})
"""A reorganization's KPIs, where less is better, besides :data:`sim.runs.stats.LOWER_IS_BETTER`."""

def direction(metric: str) -> str | None:
    """Which way ``metric`` is better: ``"higher"``, ``"lower"``, or None for a volume — as
    ``salesim compare`` says (:func:`sim.runs.stats.better_direction`). A KPI of a source,
    segment or team (``wins@segment:smb``) goes the way of its base KPI."""
    base = metric.split("@", 1)[0]
    return "lower" if base in LOWER_IS_BETTER_TOO else stats.better_direction(base)


def kpi_comparison(comparison: FolderComparison, scenario: str, metrics: Sequence[str]) -> pd.DataFrame:
    """Per KPI, ``scenario`` against the baseline on their paired replications: the means, the mean
    difference with its 95% CI, and how many pairs went each way.

    Columns: ``metric, baseline_mean, mean, diff_mean, diff_ci95_low, diff_ci95_high, n_pairs,
    n_higher, n_equal, n_lower, direction, n_better, verdict`` — ``verdict`` is ``better``,
    ``worse``, ``unclear`` (the CI contains zero), ``same`` (every pair equal), ``volume`` (no
    direction) or ``none`` (no pair with both values)."""
    import pandas as pd

    rows = []
    for metric in metrics:
        a, b = comparison.paired(scenario, metric)
        keep = np.isfinite(a) & np.isfinite(b)
        a, b = a[keep], b[keep]
        b = np.where(np.isclose(a, b, rtol=TIE_RTOL, atol=0.0), a, b)
        diff = stats.paired_difference(a, b)
        d = b - a
        way = direction(metric)
        higher, equal, lower = int(np.sum(d > 0)), int(np.sum(d == 0)), int(np.sum(d < 0))
        better = higher if way == "higher" else lower if way == "lower" else None
        if d.size == 0:
            verdict = "none"
        elif equal == d.size:
            verdict = "same"
        elif way is None:
            verdict = "volume"
        elif d.size >= 2 and (diff.ci_low > 0 or diff.ci_high < 0):
            verdict = "better" if (diff.diff_mean > 0) == (way == "higher") else "worse"
        else:
            verdict = "unclear"
        rows.append({"metric": metric, "baseline_mean": diff.mean_a, "mean": diff.mean_b,
                     "diff_mean": diff.diff_mean, "diff_ci95_low": diff.ci_low, "diff_ci95_high": diff.ci_high,
                     "n_pairs": int(d.size), "n_higher": higher, "n_equal": equal, "n_lower": lower,
                     "direction": way, "n_better": better, "verdict": verdict})
    return pd.DataFrame(rows)


def kpi_summary(run: RunFolder, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean, its 95% CI, and P10/P50/P90 of each KPI of one run (:func:`sim.runs.stats.summarize`)."""
    present = [m for m in metrics if m in run.kpis.columns]
    return stats.summarize(run.kpis, present)


def qualified_kpis(kpis: pd.DataFrame) -> dict[str, dict[str, list[str]]]:
    """KPIs of a source, segment or team — ``name@source:inbound``, ``name@segment:smb``,
    ``name@east`` — grouped: kind (``source``, ``segment``; ``team`` when unnamed) → key → columns."""
    groups: dict[str, dict[str, list[str]]] = {}
    for column in kpis.columns:
        if "@" not in str(column):
            continue
        _, qualifier = str(column).split("@", 1)
        kind, sep, key = qualifier.partition(":")
        kind, key = (kind, key) if sep else ("team", kind)
        groups.setdefault(kind, {}).setdefault(key, []).append(str(column))
    return groups


def funnel_means(run: RunFolder, stages: Sequence[tuple[str, str]], qualifier: str = "") -> dict[str, float]:
    """Mean per replication of each stage's KPI (``name`` or ``name@qualifier``); NaN when absent."""
    out = {}
    for label, name in stages:
        column = f"{name}@{qualifier}" if qualifier else name
        values = run.kpis[column].to_numpy(float) if column in run.kpis.columns else np.array([])
        values = values[np.isfinite(values)]
        out[label] = float(values.mean()) if values.size else math.nan
    return out


def team_table(run: RunFolder) -> pd.DataFrame | None:
    """Per team (the PODs; ``pool`` in a hybrid): each team flow summed over the run and averaged
    over replications, and each role's mean monthly utilization (None for a single-team org).
    Series of sources or segments (``…@source:inbound``) are not teams."""
    return results.team_table(run.timeseries)


def role_table(run: RunFolder) -> pd.DataFrame:
    """Per role, means over months 1 … horizon and replications: ``headcount``, ``capacity_fte``
    (ramped), ``demand_fte`` (work asked for, in fully ramped reps), ``utilization``, and
    ``months_short`` (the share of months in which demand exceeded capacity)."""
    import pandas as pd

    ts = run.timeseries
    rows = []
    for role in run.roles:
        row: dict[str, Any] = {"role": role}
        for name in ("headcount", "capacity_fte", "demand_fte", "utilization"):
            sub = ts[(ts["series"] == f"{name}.{role}") & (ts["month"] > 0)]
            row[name] = float(sub["value"].mean()) if len(sub) else math.nan
        cap = ts[(ts["series"] == f"capacity_fte.{role}") & (ts["month"] > 0)]
        dem = ts[(ts["series"] == f"demand_fte.{role}") & (ts["month"] > 0)]
        both = cap.merge(dem, on=["rep", "month"], suffixes=("_c", "_d")) if len(cap) and len(dem) else None
        row["months_short"] = (float((both["value_d"] > both["value_c"] + 1e-9).mean())
                               if both is not None and len(both) else math.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=["role", "headcount", "capacity_fte", "demand_fte", "utilization",
                                       "months_short"]).set_index("role")
