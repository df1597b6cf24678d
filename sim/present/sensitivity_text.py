"""Sweeps, break-evens and sensitivity analyses in words and text tables.

This module owns how a sweep's summary, a break-even and a sensitivity ranking read to a person
("POD beats silo on exit ARR while the POD's hand-off leakage stays below 5.5% (95% CI
4.8–6.1%)"). It formats results computed by :mod:`sim.runs.sweep` and
:mod:`sim.runs.sensitivity` and computes nothing itself.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from sim.present.text import format_value, text_table

if TYPE_CHECKING:  # pragma: no cover - typing only
    from sim.runs.sensitivity import SensitivityResult
    from sim.runs.sweep import BreakEven

_PERCENT_WORDS = ("probability", "rate", "fraction", "share")


def parameter_words(label: str) -> str:
    """``pod:org.pod_handoff.leakage_probability`` → ``pod's org.pod_handoff.leakage_probability``."""
    scenario, sep, path = label.partition(":")
    return f"{scenario}'s {path}" if sep else label


def parameter_value(label: str, value: float) -> str:
    """A parameter value as a person reads it: probabilities and rates as percentages."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    last = label.rsplit(".", 1)[-1]
    if any(word in last for word in _PERCENT_WORDS) and -1 <= value <= 1:
        return f"{100 * value:.1f}%".replace(".0%", "%")
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.4g}"


def metric_words(metric: str) -> str:
    from sim.present.plots import pretty_name

    name = pretty_name(metric)
    return name[0].lower() + name[1:] if not name[:2].isupper() else name


def break_even_text(be: BreakEven) -> str:
    """The break-even in one or two sentences."""
    what = parameter_words(be.parameter)
    metric = metric_words(be.metric)
    lo, hi = parameter_value(be.parameter, be.low), parameter_value(be.parameter, be.high)
    if be.value is None:
        if be.sign_low == 0 and be.sign_high == 0:
            return f"{be.scenario} and {be.baseline} tie on {metric} over the whole range of {what} ({lo}–{hi})."
        winner = be.better_below
        loser = be.better_above
        text = (f"{winner} beats {loser} on {metric} over the whole range of {what} ({lo}–{hi}): "
                "no break-even in the range.")
        if be.undecided:
            text += (" (At " + ", ".join(parameter_value(be.parameter, v) for v in be.undecided)
                     + " the 95% CI of the difference contains zero: more replications would tell.)")
        return text
    if len(be.crossings) > 1:
        points = ", ".join(parameter_value(be.parameter, c) for c in be.crossings)
        return (f"The difference {be.scenario} − {be.baseline} in {metric} crosses zero more than once along "
                f"{what}, near {points}: it is not monotone there (or too noisy: add replications).")
    level = f"{100 * be.confidence:.0f}% CI"
    low_text = f"below {lo}" if be.ci_low is None or math.isinf(be.ci_low) else parameter_value(be.parameter, be.ci_low)
    high_text = (f"beyond {hi}" if be.ci_high is None or math.isinf(be.ci_high)
                 else parameter_value(be.parameter, be.ci_high))
    value = parameter_value(be.parameter, be.value)
    return (f"{be.better_below} beats {be.better_above} on {metric} while {what} stays below {value} "
            f"({level} {low_text}–{high_text}); above it, {be.better_above} does.")


def sweep_summary_text(summary: pd.DataFrame, parameters: list[str]) -> str:
    """The sweep's summary as a text table (with a difference column when there are two or more scenarios)."""
    metric = str(summary["metric"].iloc[0]) if not summary.empty else ""
    paired = summary["diff_mean"].notna().any()
    rows = []
    for _, row in summary.sort_values([*parameters, "point"], kind="stable").iterrows():
        cells = [str(row["point"]), *(parameter_value(p, row[p]) for p in parameters), str(row["scenario"]),
                 format_value(metric, row["mean"]),
                 f"{format_value(metric, row['ci95_low'])} … {format_value(metric, row['ci95_high'])}"]
        if paired:
            if pd.isna(row["diff_mean"]):
                cells += ["", "", ""]
            else:
                cells += [_signed(metric, row["diff_mean"]),
                          f"{_signed(metric, row['diff_ci95_low'])} … {_signed(metric, row['diff_ci95_high'])}",
                          f"{100 * row['p_better']:.0f}%"]
        rows.append(cells)
    header = ["point", *parameters, "scenario", f"{metric} mean", "95% CI"]
    if paired:
        header += ["difference", "95% CI of the difference", "P(better)"]
    return text_table(rows, header)


def _signed(metric: str, value: float) -> str:
    text = format_value(metric, value)
    return text if text.startswith("-") or text == "–" else "+" + text


def tornado_text(table: pd.DataFrame, target: str, metric: str) -> str:
    rows = [[row["input"], parameter_value(row["input"], row["low"]), parameter_value(row["input"], row["high"]),
             format_value(metric, row["value_low"]), format_value(metric, row["value_high"]),
             f"{_signed(metric, row['swing'])} ({_signed(metric, row['swing_ci95_low'])} … "
             f"{_signed(metric, row['swing_ci95_high'])})"]
            for _, row in table.iterrows()]
    return text_table(rows, ["input", "low", "high", f"{target} at low", "at high", "swing high − low (95% CI)"])


def morris_text(table: pd.DataFrame, metric: str) -> str:
    rows = [[row["input"], format_value(metric, row["mu_star"]), format_value(metric, row["mu_star_conf"]),
             format_value(metric, row["mu"]), format_value(metric, row["sigma"])] for _, row in table.iterrows()]
    return text_table(rows, ["input", "μ*", "± (95%)", "μ", "σ"])


def sobol_text(table: pd.DataFrame) -> str:
    rows = [[row["input"], f"{row['S1']:.2f} ± {row['S1_conf']:.2f}", f"{row['ST']:.2f} ± {row['ST_conf']:.2f}"]
            for _, row in table.iterrows()]
    return text_table(rows, ["input", "first order S1 (95%)", "total ST (95%)"])


def drivers_text(result: SensitivityResult, top: int = 5) -> str:
    """A short ranked statement of what drives the result."""
    target = result.target
    lines: list[str] = []
    metric = result.metric
    if result.sobol is not None:
        ranked = result.sobol
        share = [f"{r['input']} (total {100 * r['ST']:.0f}%, alone {100 * r['S1']:.0f}%)"
                 for _, r in ranked.head(top).iterrows() if r["ST"] - r["ST_conf"] > 0.01]
        if share:
            lines.append(f"Share of the variance of {target} (Sobol): " + "; ".join(share) + ".")
    if result.morris is not None:
        ranked = result.morris
        strong = [f"{r['input']} (μ* {format_value(metric, r['mu_star'])})" for _, r in ranked.head(top).iterrows()
                  if r["mu_star"] - r["mu_star_conf"] > 0]
        weak = [r["input"] for _, r in ranked.iterrows() if r["mu_star"] - r["mu_star_conf"] <= 0]
        if strong:
            lines.append(f"Screening (Morris), by effect on {target} across each range: " + "; ".join(strong) + ".")
        if weak:
            lines.append("No effect distinguishable from noise: " + _some(weak) + ".")
    if result.tornado is not None:
        t = result.tornado
        base = t["base"].iloc[0] if len(t) else math.nan
        lines.append(f"With every input as written, {target} is {format_value(metric, base)}.")
        for rank, (_, r) in enumerate(t.head(top).iterrows(), start=1):
            if r["swing_ci95_low"] <= 0 <= r["swing_ci95_high"]:
                continue
            flips = (r["value_low"] > 0) != (r["value_high"] > 0) and len(result.scenarios) >= 2
            lines.append(
                f"{rank}. {r['input']}: from {format_value(metric, r['value_low'])} at "
                f"{parameter_value(r['input'], r['low'])} to {format_value(metric, r['value_high'])} at "
                f"{parameter_value(r['input'], r['high'])}" + (" — the sign flips: the decision hangs on it" if flips
                                                                else "") + ".")
        flat = [r["input"] for _, r in t.iterrows() if r["swing_ci95_low"] <= 0 <= r["swing_ci95_high"]]
        if flat:
            lines.append("No measurable effect over its range: " + _some(flat) + ".")
    return "\n".join(lines)


def _some(names: list[str], most: int = 8) -> str:
    """At most ``most`` names, then how many more."""
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f" and {len(names) - most} more"
