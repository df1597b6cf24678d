"""Readable text tables for the terminal.

This module owns how numbers look to a person: thousands separators, money without cents,
rates as percentages, and aligned columns. It formats DataFrames produced elsewhere and
computes nothing.
"""

from __future__ import annotations

import math

import pandas as pd


def format_value(metric: str, value: float) -> str:
    """A number formatted for ``metric`` (money, counts, rates, durations)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric.endswith("_usd"):
        return f"{value:,.0f}"
    if metric in {"win_rate", "p_better"} or metric.startswith("utilization"):
        return f"{100 * value:.1f}%"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def text_table(rows: list[list[str]], header: list[str], align_right_from: int = 1) -> str:
    """Align a list of string rows under ``header``."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(cell).rjust(w) if j >= align_right_from else str(cell).ljust(w)
            for j, (cell, w) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_table(summary: pd.DataFrame) -> str:
    """The KPI summary (``metric, mean, ci95_low, ci95_high, p10, p50, p90``) as text."""
    rows = []
    for rec in summary.to_dict("records"):
        m = rec["metric"]
        ci = f"{format_value(m, rec['ci95_low'])} … {format_value(m, rec['ci95_high'])}"
        rows.append([m, format_value(m, rec["mean"]), ci, format_value(m, rec["p10"]),
                     format_value(m, rec["p50"]), format_value(m, rec["p90"])])
    return text_table(rows, ["metric", "mean", "95% CI of mean", "P10", "P50", "P90"])


def comparison_text(table: pd.DataFrame) -> str:
    """The comparison table (``sim.runs.comparison.COMPARISON_COLUMNS``) as text."""
    rows = []
    for rec in table.to_dict("records"):
        m = rec["metric"]
        low, high = _signed(m, rec["diff_ci95_low"]), _signed(m, rec["diff_ci95_high"])
        diff = f"{_signed(m, rec['diff_mean'])} ({low} … {high})"
        rows.append([m, rec["scenario"], format_value(m, rec["baseline_mean"]), format_value(m, rec["mean"]),
                     diff, f"{100 * rec['p_better']:.0f}%" if rec["p_better"] == rec["p_better"] else "–"])
    return text_table(rows, ["metric", "scenario", "baseline", "scenario mean", "difference (95% CI)", "P(better)"],
                      align_right_from=2)


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
    text = format_value(metric, value)
    return text if text.startswith("-") or text == "–" else "+" + text
