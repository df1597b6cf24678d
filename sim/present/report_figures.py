"""The decision report's figures, drawn for a slide and inlined as SVG.

This module owns the pictures of :mod:`sim.present.report`: the MRR fan of every scenario, the
fan of the paired difference, the cumulative net gain with its break-even, the funnel, headcount
against capacity and demand per role, and — from :mod:`sim.present.sensitivity_plots`, restyled —
the tornado and the sweep with its break-even. Conventions (:mod:`sim.present.style`): one
Okabe–Ito colour per scenario in every figure, money in ``$k``/``$M``, months as dates when the
scenario has a ``start_date``, titles that say what is compared.

Figures are bare :class:`matplotlib.figure.Figure` objects (no pyplot state) drawn inside
:func:`report_style`; :func:`svg` turns one into an ``<svg>`` element that holds no link, no
script and no id shared with another figure of the page. Nothing here computes a result.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.present.style import DEMAND, GREY, SCENARIO_COLORS, money_formatter, month_axis

if TYPE_CHECKING:  # pragma: no cover - typing only
    import datetime as dt

    import pandas as pd
    from matplotlib.figure import Figure

    from sim.runs.folders import FolderComparison, RunFolder
    from sim.runs.sweep import BreakEven, SweepResult

FAN = (0.05, 0.25, 0.5, 0.75, 0.95)
WIDTH = 9.0
"""Figure width in inches: about a slide's width at 100 dpi, and the page's column."""

FUNNEL = (("MQLs (inbound)", "mqls"), ("Prospects (outbound)", "prospects"), ("Connects", "connects"),
          ("SQLs", "sqls"), ("Opportunities", "opportunities"), ("Wins", "wins"))


@contextlib.contextmanager
def report_style() -> Iterator[None]:
    """Matplotlib settings of the report's figures: text as text in SVG (small, selectable),
    sizes read on a slide, the Okabe–Ito colour cycle, light grids, no top or right spines, and a
    fixed SVG hash salt (the same figure, the same bytes)."""
    import matplotlib as mpl

    with mpl.rc_context({
        "svg.fonttype": "none", "svg.hashsalt": "salesim-report",
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans", "sans-serif"],
        "font.size": 10.5, "axes.titlesize": 12.5, "axes.titleweight": "bold", "axes.titlelocation": "left",
        "axes.labelsize": 10.5, "legend.fontsize": 9.5, "legend.frameon": False,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
        "axes.prop_cycle": mpl.cycler(color=list(SCENARIO_COLORS)), "figure.dpi": 100,
    }):
        yield


_REFERENCE = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def svg(fig: Figure, prefix: str, title: str = "") -> str:
    """``fig`` as an inline ``<svg>`` element: no XML prolog, doctype or metadata (no links), ids
    prefixed with ``prefix`` (unique on the page), sized by the page (its viewBox kept), with
    ``title`` for screen readers."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = _REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    head_end = text.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", text[:head_end])
    head += f' class="figure" role="img" aria-labelledby="{prefix}-title"'
    from html import escape

    return f'{head}><title id="{prefix}-title">{escape(title)}</title>{text[head_end + 1:]}'


def _figure(height: float, width: float = WIDTH) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _fan(ax: Any, table: pd.DataFrame, color: str, label: str) -> None:
    """Median line and 50% / 90% bands of a month × replication table."""
    q = table.quantile(list(FAN), axis=1).T
    months = q.index.to_numpy(float)
    ax.fill_between(months, q[FAN[0]], q[FAN[4]], color=color, alpha=0.12, lw=0)
    ax.fill_between(months, q[FAN[1]], q[FAN[3]], color=color, alpha=0.28, lw=0)
    ax.plot(months, q[FAN[2]], color=color, lw=2.2, label=label)


def mrr_fan(runs: Sequence[RunFolder], colors: Mapping[str, str], dates: Sequence[dt.date] | None,
            title: str) -> Figure:
    """MRR by month of each scenario: median, middle 50% and 90% of replications."""
    fig = _figure(4.6)
    ax = fig.subplots()
    for run in runs:
        table = run.series("mrr_usd")
        if not table.empty:
            _fan(ax, table, colors[run.name], f"{run.name} (median)")
    month_axis(ax, dates)
    ax.yaxis.set_major_formatter(money_formatter())
    ax.set_ylabel("MRR at month end")
    ax.set_xlim(left=0)
    ax.margins(x=0)
    ax.set_title(title)
    ax.legend(loc="upper left", title="shaded: middle 50% and 90% of replications", title_fontsize=9)
    return fig


def difference_fan(comparison: FolderComparison, scenario: str, color: str, dates: Sequence[dt.date] | None,
                   series: str = "mrr_usd") -> Figure:
    """The paired difference ``scenario − baseline`` of a monthly series, replication by replication."""
    fig = _figure(4.0)
    ax = fig.subplots()
    diff = comparison.series_difference(scenario, series)
    _fan(ax, diff, color, f"median difference, {scenario} − {comparison.baseline.name}")
    ax.axhline(0.0, color=GREY, lw=1.0, ls="--")
    month_axis(ax, dates)
    ax.yaxis.set_major_formatter(money_formatter(signed=True))
    ax.set_ylabel("MRR difference at month end")
    ax.set_xlim(left=0)
    ax.margins(x=0)
    ax.set_title(f"MRR: {scenario} minus {comparison.baseline.name}, market by market (above the dashed line: "
                 f"{scenario} ahead)")
    ax.legend(loc="upper left", title="shaded: middle 50% and 90% of paired replications", title_fontsize=9)
    return fig


def net_gain(curve: pd.DataFrame, month: int | None, scenario: str, baseline: str, color: str,
             dates: Sequence[dt.date] | None) -> Figure:
    """The cumulative paired difference of revenue minus cost, with its 95% CI and the break-even."""
    fig = _figure(3.8)
    ax = fig.subplots()
    x = curve["month"].to_numpy(float)
    ax.fill_between(x, curve["ci95_low"], curve["ci95_high"], color=color, alpha=0.25, lw=0,
                    label="95% confidence interval of the average")
    ax.plot(x, curve["mean"], color=color, lw=2.2, label="average over paired replications")
    ax.axhline(0.0, color=GREY, lw=1.0, ls="--")
    if month:
        ax.axvline(month, color=GREY, lw=1.0)
        ax.annotate(f"breaks even: month {month}", (month, 0), xytext=(6, 10), textcoords="offset points",
                    fontsize=9.5, color=GREY)
    month_axis(ax, dates)
    ax.yaxis.set_major_formatter(money_formatter(signed=True))
    ax.set_ylabel("cumulative revenue − cost")
    ax.set_xlim(0, float(x.max()) if len(x) else 1.0)
    ax.set_title(f"Cumulative net gain of {scenario} over {baseline} (revenue minus cost)")
    ax.legend(loc="upper left")
    return fig


def funnel(means: pd.DataFrame, colors: Mapping[str, str], horizon: int | None) -> Figure:
    """Mean count per replication of each funnel stage (rows) for each scenario (columns)."""
    fig = _figure(0.55 * len(means.index) * max(1, len(means.columns)) ** 0.5 + 1.6)
    ax = fig.subplots()
    names = list(means.columns)
    height = 0.8 / max(1, len(names))
    y = np.arange(len(means.index))
    top = float(np.nanmax(means.to_numpy(float))) if means.size else 1.0
    for i, name in enumerate(names):
        values = means[name].to_numpy(float)
        ax.barh(y + i * height, values, height=height, color=colors[name], label=name)
        for j, v in enumerate(values):
            if np.isfinite(v):
                ax.annotate(f"{v:,.0f}", (v, j + i * height), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=8.5)
    ax.set_yticks(y + height * (len(names) - 1) / 2, list(means.index))
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.15 if top > 0 else 1.0)
    ax.grid(True, axis="x")
    ax.grid(False, axis="y")
    over = f" over {horizon} months" if horizon else ""
    ax.set_xlabel(f"mean count per replication{over}")
    ax.set_title("Funnel by stage" + (": " + " vs ".join(names) if len(names) > 1 else f": {names[0]}"))
    ax.legend(loc="lower right")
    return fig


def capacity(runs: Sequence[RunFolder], colors: Mapping[str, str], dates: Sequence[dt.date] | None) -> Figure | None:
    """Per role (rows) and scenario (columns): median headcount, ramped capacity and demand in FTE,
    the shortfall shaded where demand exceeds capacity."""
    roles = list(dict.fromkeys(r for run in runs for r in run.roles))
    roles = [r for r in roles if any(run.has_series(f"capacity_fte.{r}") for run in runs)]
    if not roles:
        return None
    fig = _figure(2.5 * len(roles) + 0.6, WIDTH if len(runs) > 1 else WIDTH * 0.75)
    grid = np.atleast_2d(fig.subplots(len(roles), len(runs), squeeze=False, sharex=True))
    for row, role in enumerate(roles):
        for col, run in enumerate(runs):
            ax = grid[row, col]
            if not run.has_series(f"capacity_fte.{role}"):
                ax.set_axis_off()
                continue
            cap = run.series(f"capacity_fte.{role}").median(axis=1)
            dem = run.series(f"demand_fte.{role}").median(axis=1).reindex(cap.index)
            head = run.series(f"headcount.{role}").median(axis=1)
            x = cap.index.to_numpy(float)
            ax.step(head.index, head.to_numpy(float), where="post", color=GREY, lw=1.3, label="headcount")
            ax.plot(x, cap.to_numpy(float), color=colors[run.name], lw=2.0, label="ramped capacity")
            ax.plot(x, dem.to_numpy(float), color=DEMAND, lw=1.6, ls="--", label="demand")
            short = dem.to_numpy(float) > cap.to_numpy(float)
            ax.fill_between(x, cap.to_numpy(float), dem.to_numpy(float), where=short, color=DEMAND, alpha=0.2,
                            lw=0, interpolate=True, label="shortfall")
            ax.set_ylim(bottom=0)
            ax.set_title(f"{role.upper()} — {run.name}", fontsize=11)
            if col == 0:
                ax.set_ylabel("people / FTE")
            month_axis(ax, dates)
            if row != len(roles) - 1:
                ax.set_xlabel("")
            if row == 0 and col == len(runs) - 1:
                ax.legend(loc="lower right", fontsize=8.5)
    fig.suptitle("Headcount, ramped capacity and demand per role (medians of the replications)",
                 x=0.01, ha="left", fontweight="bold", fontsize=12.5)
    return fig


def tornado(table: pd.DataFrame, metric: str, target: str, top: int = 12) -> Figure:
    """The tornado of a sensitivity analysis (its ``top`` inputs), money on the axis."""
    from sim.present.sensitivity_plots import tornado_chart

    rows = table.head(top)
    fig = _figure(max(3.0, 0.5 * len(rows) + 1.6))
    ax = fig.subplots()
    tornado_chart(rows, metric, target, ax=ax)
    if metric.endswith("_usd"):
        ax.xaxis.set_major_formatter(money_formatter(signed="−" in target))
    ax.set_title("What moves the answer: each assumption at its low and high end, the others as written")
    return fig


def sweep(result: SweepResult, break_even: BreakEven | None) -> Figure:
    """The swept KPI, or the paired difference, against the first parameter, with the break-even."""
    from sim.present.sensitivity_plots import sweep_chart

    fig = _figure(4.4)
    ax = fig.subplots()
    sweep_chart(result, result.parameters[0], ax=ax, break_even=break_even)
    if result.metric.endswith("_usd"):
        ax.yaxis.set_major_formatter(money_formatter(signed=len(result.scenarios) > 1))
    return fig
