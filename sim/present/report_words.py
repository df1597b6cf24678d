"""The decision report's words: KPI names, numbers as people read them, and the verdict.

Everything the report *says* about a number is decided here, for readers who are not
statisticians: "$1.15M", "+1.2 pts", "better in 20 of 20 paired replications", "not
distinguishable from zero". :func:`verdict_sentences` states, per scenario compared with the
baseline, how much the chosen KPI moves with its paired 95% CI, what it costs, and when it
breaks even; :func:`run_sentences` does the same for one run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.present.style import money, money_range, month_label
from sim.runs import folder_kpis as fk

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sim.runs.folders import FolderComparison, RunFolder

__all__ = ["DESCRIPTIONS", "count_or_none", "metric_name", "range_text", "reps_text", "run_sentences",
           "title_case", "value_text", "verdict_sentences"]

DESCRIPTIONS: dict[str, str] = {
    "exit_arr_usd": "12 × MRR at the end of the horizon",
    "revenue_first_year_usd": "MRR billed over months 1–12",
    "new_mrr_usd": "MRR of the deals won",
    "wins": "deals won",
    "win_rate_opportunity": "wins ÷ (wins + lost deals)",
    "win_rate_sql": "wins ÷ SQLs that ended",
    "sqls": "sales-qualified leads made",
    "cost_usd": "reps, fees and marketing over the horizon",
    "cac_usd": "acquisition cost (development and closing roles, MQLs) ÷ wins",
    "cac_payback_months": "months of gross-margin MRR that repay CAC",
    "sales_cycle_days_mean": "SQL to signature, won deals",
    "speed_to_lead_hours_median": "MQL arrival to first touch (never touched: infinitely late)",
    "customers_end": "accounts at the end",
    "reorg_cost_usd": "one-off cost of the reorganization",
    "transition_mrr_loss_usd": "MRR lost during the transition",
    "breakeven_month": "month the reorganization pays back",
}

_NAMES: dict[str, str] = {
    "exit_arr_usd": "exit ARR", "revenue_first_year_usd": "first-year revenue", "mrr_end_usd": "MRR at the horizon",
    "new_mrr_usd": "new MRR", "expansion_mrr_usd": "expansion MRR", "churned_mrr_usd": "churned MRR",
    "mqls": "MQLs", "prospects": "prospects", "dials": "dials", "connects": "connects", "sqls": "SQLs",
    "opportunities": "opportunities", "wins": "wins", "losses": "lost deals",
    "win_rate_sql": "win rate of SQLs", "win_rate_opportunity": "win rate of opportunities",
    "customers_end": "customers at the horizon", "sales_cycle_days_mean": "mean sales cycle",
    "contraction_mrr_usd": "MRR given up in downsells", "renewals": "contracts renewed",
    "renewal_rate": "renewal rate", "nrr": "net revenue retention", "grr": "gross revenue retention",
    "bookings_usd": "bookings", "billings_usd": "billings",
    "speed_to_lead_hours_median": "median speed to lead", "headcount_end": "headcount at the horizon",
    "cost_usd": "cost", "cac_usd": "CAC", "cac_payback_months": "CAC payback", "ltv_usd": "LTV",
    "ltv_to_cac": "LTV to CAC", "mqls_never_touched_share": "MQLs never touched",
    "reorg_cost_usd": "reorganization cost",
    "transition_mrr_loss_usd": "MRR lost in the transition", "breakeven_month": "break-even month",
    "stale": "stale leads", "no_capacity": "lost for capacity",
}


# --------------------------------------------------------------------------- words for numbers


def metric_name(metric: str) -> str:
    """``exit ARR``; ``wins (source inbound)`` for a qualified KPI."""
    base, _, qualifier = metric.partition("@")
    name = _NAMES.get(base) or base.removesuffix("_usd").replace("_", " ")
    if qualifier:
        kind, sep, key = qualifier.partition(":")
        name += f" ({kind} {key})" if sep else f" (team {kind})"
    return name


def title_case(text: str) -> str:
    """The text with its first letter capitalized (acronyms such as MQLs, SQLs, CAC kept)."""
    return text[:1].upper() + text[1:] if text[:2] not in ("MQ", "SQ", "CA") else text


def _kind(metric: str) -> str:
    base = metric.split("@", 1)[0]
    if base.endswith("_usd"):
        return "money"
    if base in ("p_better", "mqls_never_touched_share", "reps_at_quota_share", "quota_attainment_mean",
                "churn_rate_monthly", "nrr", "grr") \
            or base.startswith(("utilization", "win_rate")) or base.endswith("_rate"):
        return "rate"
    if base.endswith("_days_mean") or base.endswith("_days"):
        return "days"
    if base.endswith("_hours_median") or base.endswith("_hours"):
        return "hours"
    if base == "breakeven_month":
        return "month"
    return "count"


def value_text(metric: str, value: float | None, signed: bool = False) -> str:
    """A KPI's value (or, ``signed``, a difference of it) as a person reads it."""
    if value is None or not math.isfinite(value):
        return "–"
    kind = _kind(metric)
    sign = "+" if signed and value > 0 else ""
    minus = "−" if value < 0 else ""
    if kind == "money":
        return money(value, signed=signed)
    if kind == "rate":
        if signed:
            return f"{sign}{minus}{abs(100 * value):.1f} pts"
        return f"{100 * value:.1f}%"
    if kind in ("days", "hours"):
        return f"{sign}{minus}{abs(value):,.1f} {kind}"
    if kind == "month":
        return f"{sign}{minus}{abs(value):.1f} months" if signed else f"month {value:.1f}"
    text = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):,.1f}"
    return f"{sign}{minus}{text}"


def range_text(metric: str, low: float | None, high: float | None, signed: bool = False) -> str:
    """An interval of a KPI (or of a difference, ``signed``) as a person reads it."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    if _kind(metric) == "money":
        return money_range(low, high, signed=signed)
    a, b = value_text(metric, low, signed), value_text(metric, high, signed)
    return f"{a} to {b}" if signed or low < 0 else f"{a}–{b}"


def count_or_none(value: Any) -> int | None:
    """A count from a table cell: None where there is none (NaN)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def _counted(n_better: int, n_equal: int, n: int) -> str:
    same = f", the same in {n_equal}," if n_equal else ""
    return f"better in {n_better}{same} of {n} paired replications"


def _counted_row(row: Any) -> str:
    """How many paired replications went which way, for a row of :func:`sim.runs.folder_kpis.kpi_comparison`."""
    n, n_better = int(row["n_pairs"]), count_or_none(row["n_better"])
    if n_better is None:
        return f"{n} paired replications"
    return _counted(n_better, int(row["n_equal"]), n)


def reps_text(reps: Sequence[int]) -> str:
    """``63–99`` or ``5, 9, 12–20``: replication numbers as ranges."""
    reps = sorted(reps)
    parts: list[str] = []
    start = prev = None
    for r in [*reps, None]:
        if r is not None and prev is not None and r == prev + 1:
            prev = r
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}–{prev}")
        start = prev = r
    text = ", ".join(parts[:6])
    return text + (f" and {len(parts) - 6} more ranges" if len(parts) > 6 else "")



# --------------------------------------------------------------------------- the verdict


def _payback_clause(comparison: FolderComparison, scenario: str, pay: dict[str, Any] | None,
                    dates: Sequence[dt.date] | None) -> str:
    run = comparison.run(scenario)
    if "breakeven_month" in run.kpis.columns:
        values = run.kpis["breakeven_month"].to_numpy(float)
        found = values[np.isfinite(values)]
        if found.size:
            never = values.size - found.size
            text = f"it breaks even in {month_label(round(float(np.median(found))), dates)} (median)"
            return text + (f"; in {never} of {values.size} replications it had not by the horizon" if never else "")
    if pay is None or not pay["cost_differs"]:
        return ""
    horizon = int(pay["curve"]["month"].max())
    if pay["month"] is None:
        return f"counting its cost, it has not broken even by month {horizon}"
    if pay["month"] == 0:
        return "counting its cost, it is ahead from the first month"
    return f"it breaks even in {month_label(pay['month'], dates)}"


def verdict_sentences(comparison: FolderComparison, metric: str = "exit_arr_usd",
                      dates: Sequence[dt.date] | None = None) -> list[str]:
    """The answer in words, one sentence per scenario compared with the baseline: how much
    ``metric`` moves (with its 95% CI and the paired replications that went each way), what it
    costs, and when it breaks even."""
    sentences = []
    base = comparison.baseline.name
    horizon = comparison.baseline.horizon
    for run in comparison.others:
        name = run.name
        row = fk.kpi_comparison(comparison, name, [metric]).iloc[0]
        what = metric_name(metric)
        n = int(row["n_pairs"])
        if row["verdict"] == "none":
            sentences.append(f"{name} and {base} have no paired replication with a value of {what}.")
            continue
        if row["verdict"] == "same":
            head = f"Moving from {base} to {name} leaves {what} unchanged in every one of {n} paired replications"
        elif row["verdict"] in ("better", "worse"):
            up = row["diff_mean"] > 0
            verb = "raises" if up else "lowers"
            low, high = (row["diff_ci95_low"], row["diff_ci95_high"]) if up else (
                -row["diff_ci95_high"], -row["diff_ci95_low"])
            counted = _counted_row(row)
            head = (f"Moving from {base} to {name} {verb} {what} by {value_text(metric, abs(row['diff_mean']))} "
                    f"(95% CI {range_text(metric, low, high)}; {counted})")
        else:
            counted = _counted_row(row)
            head = (f"Moving from {base} to {name} changes {what} by {value_text(metric, row['diff_mean'], True)} "
                    f"on average, which is not distinguishable from zero with {n} paired replications "
                    f"(95% CI {range_text(metric, row['diff_ci95_low'], row['diff_ci95_high'], True)}; {counted})")
        clauses = []
        if metric != "cost_usd" and "cost_usd" in run.kpis.columns:
            cost = fk.kpi_comparison(comparison, name, ["cost_usd"]).iloc[0]
            over = f" over the {horizon} months" if horizon else ""
            if cost["verdict"] == "same":
                clauses.append("at the same cost")
            elif cost["verdict"] in ("better", "worse"):
                more = "more" if cost["diff_mean"] > 0 else "less"
                clauses.append(f"costs {money(abs(cost['diff_mean']))} {more}{over}")
            elif cost["verdict"] == "unclear":
                clauses.append(f"its cost is not distinguishable from {base}'s "
                               f"({money(cost['diff_mean'], signed=True)} on average)")
        pay = fk.payback(comparison, name)
        clause = _payback_clause(comparison, name, pay, dates)
        text = head
        if clauses:
            text += (" " if clauses[0].startswith("at ") else " and ") + clauses[0]
        if clause:
            text += "; " + clause
        sentences.append(text + ".")
    return sentences


def run_sentences(run: RunFolder, metric: str) -> list[str]:
    """One run in words: the metric's average with its CI and its P10–P90 range, and the cost."""
    summary = fk.kpi_summary(run, [metric, "cost_usd"]).set_index("metric")
    if metric not in summary.index or not summary.loc[metric, "n"]:
        return [f"{run.name} has no replication with a value of {metric_name(metric)}."]
    s = summary.loc[metric]
    text = (f"{run.name}: {metric_name(metric)} of {value_text(metric, s['mean'])} on average over {int(s['n'])} "
            f"replications (95% CI of the average {range_text(metric, s['ci95_low'], s['ci95_high'])}); in 8 of 10 "
            f"replications between {value_text(metric, s['p10'])} and {value_text(metric, s['p90'])}.")
    out = [text]
    if "cost_usd" in summary.index and metric != "cost_usd" and summary.loc["cost_usd", "n"]:
        out.append(f"It costs {money(summary.loc['cost_usd', 'mean'])} over the {run.horizon} months.")
    return out
