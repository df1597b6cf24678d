"""Readable text tables for the terminal.

This module owns how numbers look to a person: thousands separators, money without cents,
rates as percentages, and aligned columns. It formats DataFrames produced elsewhere and
computes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

RATES: frozenset[str] = frozenset({"win_rate_sql", "win_rate_opportunity", "p_better", "churn_rate_monthly",
                                   "mqls_never_touched_share", "quota_attainment_mean", "reps_at_quota_share",
                                   "trial_conversion_rate", "renewal_rate", "nrr", "grr"})
"""Fractions printed as percentages (besides ``utilization*``)."""


def format_value(metric: str, value: float) -> str:
    """A number formatted for ``metric`` (money, counts, rates, durations)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if metric.endswith("_usd"):
        return f"{value:,.0f}"
    if _is_rate(metric):
        return f"{100 * value:.1f}%"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def text_table(rows: list[list[str]], header: list[str], align_right_from: int = 1,
               left: Sequence[int] = ()) -> str:
    """Align a list of string rows under ``header``: columns before ``align_right_from`` and those
    in ``left`` to the left, the others to the right."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(cell).rjust(w) if j >= align_right_from and j not in left else str(cell).ljust(w)
            for j, (cell, w) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


KPI_LABELS: dict[str, str] = {
    "revenue_first_year_usd": "first-year revenue (USD)",
    "exit_arr_usd": "exit ARR (USD)",
    "mrr_end_usd": "MRR at the end (USD)",
    "new_mrr_usd": "new MRR booked (USD)",
    "expansion_mrr_usd": "expansion MRR (USD)",
    "churned_mrr_usd": "churned MRR (USD)",
    "mqls": "MQLs (count)",
    "prospects": "prospects (count)",
    "dials": "dials (count)",
    "connects": "connects (count)",
    "sqls": "SQLs (count)",
    "opportunities": "opportunities (count)",
    "wins": "deals won (count)",
    "losses": "deals lost (count)",
    "win_rate_sql": "win rate of SQLs (%)",
    "win_rate_opportunity": "win rate of opportunities (%)",
    "trials": "self-service trials (count)",
    "trial_conversion_rate": "trial conversion (%)",
    "customers_end": "customers at the end (count)",
    "contraction_mrr_usd": "MRR given up in downsells (USD)",
    "renewals": "contracts renewed (count)",
    "renewal_rate": "renewal rate (%)",
    "nrr": "net revenue retention, trailing 12 months (%)",
    "grr": "gross revenue retention, trailing 12 months (%)",
    "bookings_usd": "bookings, annual contract value (USD)",
    "billings_usd": "billings, invoiced (USD)",
    "sales_cycle_days_mean": "sales cycle, mean (days)",
    "speed_to_lead_hours_median": "speed to lead, median (hours)",
    "mqls_never_touched_share": "MQLs never touched (%)",
    "headcount_end": "headcount at the end (reps)",
    "cost_usd": "cost (USD)",
    "acquisition_cost_usd": "acquisition cost (USD)",
    "retention_cost_usd": "retention cost (USD)",
    "cac_usd": "CAC (USD per deal won)",
    "crc_usd_per_account_month": "CRC (USD per account-month)",
    "churn_rate_monthly": "churn rate, monthly (%)",
    "cac_payback_months": "CAC payback (months)",
    "ltv_usd": "LTV (USD)",
    "ltv_to_cac": "LTV ÷ CAC (ratio)",
    "time_to_profitability_months": "time to profitability (months)",
    "quota_attainment_mean": "quota attainment, mean (%)",
    "reps_at_quota_share": "reps at quota (%)",
    "variable_pay_usd": "variable pay (USD)",
}
"""How each KPI of :data:`sim.metrics.KPI_NAMES` is labelled in text tables: a plain name and its
unit (docs/reference/kpis.md gives the definitions under the KPI names)."""

COMPARISON_LABELS: dict[str, str] = {
    "reorg_cost_usd": "reorg one-off cost (USD)",
    "transition_mrr_loss_usd": "MRR lost over the transition (USD)",
    "breakeven_month": "break-even month (P: by the horizon)",
}
"""Labels of the rows a comparison adds for a reorg (``sim.runs.comparison.REORG_METRICS``)."""

LEAD_STATE_TEXT: dict[str, tuple[str, str]] = {
    "unreachable": ("unreachable", "never reached within the cadence's dials"),
    "not_a_fit": ("not a fit", "reached, but did not qualify (MQL) or become an SQL (prospect)"),
    "stale": ("stale", "waited too long in a queue, for a development rep or a closer"),
    "lost_in_handoff": ("lost in hand-off", "an SQL lost between its development rep and a closer"),
    "lost_deal": ("lost deal", "an opportunity lost at a meeting"),
    "won": ("won", "a deal won (then a customer)"),
    "open": ("open", "still in the pipeline at the end of the run"),
    "no_capacity": ("no capacity", "lost by the overflow rule `lose`: no free rep in its POD"),
    "lost_at_exit": ("lost at a rep's exit", "dropped when its rep left (exit_policy: lose)"),
    "trial_lapsed": ("trial lapsed", "a self-service trial that ended without converting"),
}
"""Plain name and meaning of each lead end state (``leads_<state>`` KPIs)."""


def kpi_label(metric: str) -> str:
    """The printed label of a KPI, with its unit (``"exit_arr_usd"`` → ``"exit ARR (USD)"``)."""
    if metric in KPI_LABELS:
        return KPI_LABELS[metric]
    if metric in COMPARISON_LABELS:
        return COMPARISON_LABELS[metric]
    if metric.startswith("leads_"):
        state = metric.removeprefix("leads_")
        return f"leads {LEAD_STATE_TEXT.get(state, (state.replace('_', ' '), ''))[0]} (count)"
    base = metric.replace("_", " ")
    for suffix, unit in ((" usd", "USD"), (" days", "days"), (" hours", "hours")):
        if base.endswith(suffix):
            return f"{base.removesuffix(suffix)} ({unit})"
    return base


def _is_rate(metric: str) -> bool:
    return metric.split("@")[0] in RATES or metric.startswith("utilization")


def summary_table(summary: pd.DataFrame, metrics: Sequence[str] | None = None) -> str:
    """The KPI summary (``metric, mean, ci95_low, ci95_high, p10, p50, p90``) as text, one row per
    KPI with its label and unit. ``metrics``: the rows to show (default: every row except the
    lead-state counts ``leads_<state>``, which :func:`lead_states_text` shows). A KPI undefined in
    every replication (quotas when no role has one, trial conversion without self-service) is
    named on a line below the table instead of a row of dashes."""
    rows, undefined = [], []
    for rec in summary.to_dict("records"):
        m = rec["metric"]
        if (metrics is not None and m not in metrics) or (metrics is None and m.startswith("leads_")):
            continue
        if _undefined(rec["mean"]) and _undefined(rec["p50"]):
            undefined.append(kpi_label(m))
            continue
        ci = f"{format_value(m, rec['ci95_low'])} … {format_value(m, rec['ci95_high'])}"
        rows.append([kpi_label(m), format_value(m, rec["mean"]), ci, format_value(m, rec["p10"]),
                     format_value(m, rec["p50"]), format_value(m, rec["p90"])])
    text = text_table(rows, ["metric", "mean", "95% CI of mean", "P10", "P50", "P90"])
    if undefined:
        text += "\n" + wrap("(undefined in every replication, nothing to measure: " + "; ".join(undefined) + ")")
    return text


def lead_states_text(states: pd.DataFrame, horizon_months: int | None = None) -> str:
    """How the leads ended (:meth:`sim.runs.results.RunResult.lead_states`) as text: leads per
    replication, share of all leads, P10–P90 and what each state means. States that no
    replication reached are listed on one line below the table."""
    rows, never = [], []
    total = 0.0
    for state, rec in states.iterrows():
        name, meaning = LEAD_STATE_TEXT.get(str(state), (str(state).replace("_", " "), ""))
        if not rec["mean"] > 0 and not rec["p90"] > 0:
            never.append(name)
            continue
        total += rec["mean"]
        rows.append([name, _leads(rec["mean"]), f"{100 * rec['share']:.1f}%",
                     f"{_leads(rec['p10'])}–{_leads(rec['p90'])}", meaning])
    rows.append(["all leads", _leads(total), "100.0%", "", ""])
    over = f" over {horizon_months} months" if horizon_months else ""
    lines = [f"how the leads ended (leads per replication{over}; every lead ends in exactly one state):",
             text_table(rows, ["end state", "leads", "share", "P10–P90", "meaning"], left=(4,))]
    if never:
        lines.append(f"(no lead ended as: {', '.join(never)})")
    return "\n".join(lines)


def _leads(value: float) -> str:
    """A mean number of leads: whole leads from 100 up, one decimal below."""
    if value != value:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def roles_text(roles: pd.DataFrame, horizon_months: int | None = None) -> str:
    """Per-role capacity and utilization (:meth:`sim.runs.results.RunResult.roles`) as text."""
    rows = []
    for role, rec in roles.iterrows():
        rows.append([str(role), f"{rec['headcount']:.2f}", f"{rec['capacity_fte']:.2f}", f"{rec['demand_fte']:.2f}",
                     format_value("utilization", rec["utilization"]),
                     "–" if rec["months_short"] != rec["months_short"] else f"{100 * rec['months_short']:.0f}%"])
    over = f"months 1–{horizon_months}" if horizon_months else "every month"
    return "\n".join([
        f"roles (means over {over} and replications; FTE = fully ramped reps):",
        text_table(rows, ["role", "headcount", "ramped capacity (FTE)", "demand (FTE)", "utilization",
                          "months short"]),
        "(utilization = time in use ÷ capacity; for the role that manages accounts, accounts held ÷ the\n"
        " accounts its books are sized for, above 100 % when the books are over-full; months short = share\n"
        " of months whose demand exceeded capacity)",
    ])


def comparison_text(table: pd.DataFrame, metrics: Sequence[str] | None = None) -> str:
    """The comparison table (``sim.runs.comparison.COMPARISON_COLUMNS``) as text, with notes.

    Each KPI has its label and unit; ``change`` is the mean difference as a share of the
    baseline mean. A KPI equal in every pair reads "same in every replication". P(better) is
    shown only for KPIs with a better direction (``better`` = higher / lower), with the number
    of tied pairs; a volume (``better`` = none) shows its difference without a verdict. Where
    the interval of the mean includes 0 but P(better) is at least 95% (or at most 5%), a note
    says why: most pairs go one way, a few large ones the other (skew), and gives the median
    difference. ``metrics``: the rows to show (default: all but the lead-state counts). A KPI
    undefined in every replication of both scenarios (quotas when no role has one, trial
    conversion without self-service) is not a row; a line after the legend names it.
    """
    rows, notes, undefined = [], [], []
    for rec in table.to_dict("records"):
        m = rec["metric"]
        if (metrics is not None and m not in metrics) or (metrics is None and m.startswith("leads_")):
            continue
        if _undefined(rec["baseline_mean"]) and _undefined(rec["mean"]):
            if kpi_label(m) not in undefined:
                undefined.append(kpi_label(m))
            continue
        n, n_equal = int(rec.get("n_pairs", 0) or 0), int(rec.get("n_equal", 0) or 0)
        direction = rec.get("better", "higher")
        same = n > 0 and n_equal == n
        if same:
            diff, change = "same in every replication", "0%"
        else:
            low, high = _signed(m, rec["diff_ci95_low"]), _signed(m, rec["diff_ci95_high"])
            diff = f"{_signed(m, rec['diff_mean'])} ({low} … {high})"
            change = _pct_change(rec.get("diff_pct", float("nan")))
        p = rec["p_better"]
        if direction == "none" or p != p or same:
            verdict = "–"
        else:
            verdict = f"{100 * p:.0f}%" + (f" ({n_equal} tied)" if n_equal else "")
            low, high = rec["diff_ci95_low"], rec["diff_ci95_high"]
            if low == low and high == high and low <= 0 <= high and (p >= 0.95 or p <= 0.05):
                mark = "*" * (len(notes) + 1)
                verdict += f" {mark}"
                better = rec["n_higher"] if direction == "higher" else rec["n_lower"]
                worse = rec["n_lower"] if direction == "higher" else rec["n_higher"]
                side, count, other = ("better", better, worse) if p >= 0.95 else ("worse", worse, better)
                notes.append(
                    f"{mark} {rec['scenario']}, {kpi_label(m)}: {side} in {count} of {n} replications, yet the "
                    f"interval of the mean difference includes 0: {other} large difference(s) the other way "
                    f"(skew) widen it. The median difference is {_signed(m, rec['diff_median'])}.")
        rows.append([kpi_label(m), rec["scenario"], format_value(m, rec["baseline_mean"]), format_value(m, rec["mean"]),
                     diff, change, verdict])
    text = text_table(rows, ["metric", "scenario", "baseline", "scenario mean", "difference (95% CI)", "change",
                             "P(better)"], align_right_from=2)
    legend = ("change = mean difference ÷ baseline mean (rates: the difference is in percentage points). "
              "P(better) = share of replications in which the scenario beats the baseline in the KPI's own "
              "direction, ties counting half; – = no verdict: a volume (MQLs, dials, lost deals, churned MRR, "
              "headcount), where more is neither better nor worse, or the same in every replication.")
    lines = [text, "", wrap(legend), *(wrap(note, indent="  ") for note in notes)]
    if undefined:
        lines.append(wrap("Not shown, undefined in every replication of both scenarios (nothing to measure in "
                          "these orgs): " + "; ".join(undefined) + "."))
    return "\n".join(lines)


def segment_comparison_text(table: pd.DataFrame) -> str:
    """The per-segment paired differences (:meth:`sim.runs.comparison.Comparison.by_segment`) as
    a table: segment, scenario, KPI, baseline and scenario means, the difference with its 95% CI,
    and P(better). KPIs undefined in both scenarios are left out."""
    rows = []
    for rec in table.to_dict("records"):
        m = rec["metric"]
        if _undefined(rec["baseline_mean"]) and _undefined(rec["mean"]):
            continue
        n, n_equal = int(rec.get("n_pairs", 0) or 0), int(rec.get("n_equal", 0) or 0)
        if n > 0 and n_equal == n:
            diff = "same in every replication"
        else:
            diff = (f"{_signed(m, rec['diff_mean'])} ({_signed(m, rec['diff_ci95_low'])} … "
                    f"{_signed(m, rec['diff_ci95_high'])})")
        p = rec["p_better"]
        verdict = "–" if rec.get("better", "higher") == "none" or p != p or (n > 0 and n_equal == n) \
            else f"{100 * p:.0f}%"
        rows.append([rec["segment"], rec["scenario"], kpi_label(m), format_value(m, rec["baseline_mean"]),
                     format_value(m, rec["mean"]), diff, verdict])
    return text_table(rows, ["segment", "scenario", "metric", "baseline", "scenario mean", "difference (95% CI)",
                             "P(better)"], align_right_from=3)


def _undefined(value: float | None) -> bool:
    """True for a mean that is NaN or missing (the KPI had no value in any replication)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pct_change(value: float) -> str:
    if value != value or value is None:
        return "–"
    return f"{100 * value:+.1f}%"


DETERMINISTIC_NOTE = (
    "deterministic mode, the spreadsheet's world: every rate at its mean, arrivals evenly spaced, durations "
    "at their means, each rep's tenure at its conditional mean (a rep on staff stays the mean remaining "
    "tenure given its tenure so far). Queues, capacity limits, ramp, attrition and the start from an empty "
    "pipeline still act, so it differs from `salesim plan` (a steady state from month 1) and from the "
    "simulated mean (luck is not symmetric: queues and vacancies cost more than they give back). Every "
    "replication is the same: --reps 1 is enough."
)
"""What ``salesim run --deterministic`` prints above its tables."""


def wrap(text: str, width: int = 100, indent: str = "") -> str:
    """``text`` wrapped to ``width`` columns (continuation lines indented by ``indent``)."""
    import textwrap

    return textwrap.fill(text, width=width, subsequent_indent=indent, break_on_hyphens=False)


def _signed(metric: str, value: float) -> str:
    if _is_rate(metric) and value == value and value is not None:
        return f"{100 * value:+.1f} pts"
    text = format_value(metric, value)
    return text if text.startswith("-") or text == "–" else "+" + text
