"""Matplotlib charts of a :class:`~sim.experiment.RunResult`.

This module owns how results look as pictures: fan charts of monthly series across
replications, KPI histograms, the mean funnel and role utilization. Every function takes an
optional ``ax`` (a new figure is made when it is None), draws on it and returns it, so charts
can be combined into any figure layout. Nothing here computes a metric (that is
:mod:`sim.metrics`), calls ``plt.show()``, selects a backend or keeps state between calls;
matplotlib is imported lazily, so ``import sim.plots`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

    from sim.experiment import RunResult

__all__ = [
    "FAN_QUANTILES", "FUNNEL_STAGES", "fan_chart", "funnel_chart", "funnel_means", "kpi_histogram", "pretty_name",
    "role_utilization",
]

FAN_QUANTILES: tuple[float, float, float, float, float] = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles drawn by :func:`fan_chart`: the 90% band, the 50% band and the median."""

FUNNEL_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MQLs + prospects", ("mqls", "prospects")),
    ("Connects", ("connects",)),
    ("SQLs", ("sqls",)),
    ("Opportunities", ("opportunities",)),
    ("Wins", ("wins",)),
)
"""Funnel stages of :func:`funnel_chart`: label and the KPI columns summed per replication."""

_NAMES: dict[str, str] = {
    "mrr_usd": "MRR",
    "new_mrr_usd": "New MRR",
    "expansion_mrr_usd": "Expansion MRR",
    "churned_mrr_usd": "Churned MRR",
    "customers": "Customers",
    "mqls": "MQLs",
    "sqls": "SQLs",
    "wins": "Wins",
    "cost_usd": "Cost",
    "headcount": "Headcount",
    "capacity_fte": "Capacity",
    "utilization": "Utilization",
    "backlog": "Backlog",
    "revenue_first_year_usd": "First-year revenue",
    "exit_arr_usd": "Exit ARR",
    "mrr_end_usd": "MRR at the horizon",
    "prospects": "Prospects",
    "dials": "Dials",
    "connects": "Connects",
    "opportunities": "Opportunities",
    "losses": "Lost deals",
    "win_rate": "Win rate",
    "customers_end": "Customers at the horizon",
    "sales_cycle_days_mean": "Mean sales cycle",
    "speed_to_lead_hours_median": "Median speed to lead",
    "headcount_end": "Headcount at the horizon",
    "cac_usd": "CAC",
}

_FLOW_SERIES = frozenset({"new_mrr_usd", "expansion_mrr_usd", "churned_mrr_usd", "mqls", "sqls", "wins", "cost_usd"})
"""Monthly series that are amounts *per month* (the others are levels at month end)."""

_RATE_NAMES = frozenset({"win_rate", "utilization"})


# --------------------------------------------------------------------------- helpers


def _new_axes(ax: Axes | None) -> Axes:
    """``ax`` itself, or the Axes of a new figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(8, 4.5), layout="constrained")
    return new


def _split(name: str) -> tuple[str, str | None]:
    """``"utilization.ae"`` -> ``("utilization", "ae")``; ``"mrr_usd"`` -> ``("mrr_usd", None)``."""
    base, _, role = name.partition(".")
    return base, role or None


def pretty_name(name: str) -> str:
    """A readable name for a KPI or series (``"utilization.ae"`` -> ``"Utilization — AE"``)."""
    base, role = _split(name)
    text = _NAMES.get(base) or base.removesuffix("_usd").replace("_", " ").capitalize()
    return f"{text} — {role.upper()}" if role else text


def _unit_label(name: str, *, per_month: bool) -> str:
    """Axis label with the unit of a KPI or series."""
    base, _ = _split(name)
    text = pretty_name(name)
    if base.endswith("_usd"):
        return f"{text} (USD per month)" if per_month and base != "mrr_usd" else f"{text} (USD)"
    if base in _RATE_NAMES:
        return f"{text} (%)"
    if base.endswith("_days_mean") or base.endswith("_days"):
        return f"{text} (days)"
    if base.endswith("_hours_median") or base.endswith("_hours"):
        return f"{text} (hours)"
    if base == "capacity_fte":
        return f"{text} (FTE)"
    return f"{text} per month" if per_month else text


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{value:,.0f}"


def _format_axis(axis: Any, name: str) -> None:
    """Thousands separators for money (and ``name="count"``), percentages for rates."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    base, _ = _split(name)
    if base in _RATE_NAMES:
        axis.set_major_formatter(PercentFormatter(xmax=1.0))
    elif base.endswith("_usd") or base == "count":
        axis.set_major_formatter(FuncFormatter(_thousands))


def _integer_ticks(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _value_text(name: str, value: float) -> str:
    from sim.report import format_value

    return format_value(name, value)


# --------------------------------------------------------------------------- charts


def fan_chart(result: RunResult, series: str = "mrr_usd", ax: Axes | None = None,
              label: str | None = None, color: Any = None) -> Axes:
    """Median of a monthly series with its 50% and 90% bands across replications.

    Parameters
    ----------
    result : RunResult
        From :func:`sim.run`.
    series : str
        A monthly series, e.g. ``"mrr_usd"``, ``"customers"``, ``"utilization.ae"``.
    ax : matplotlib Axes, optional
        Draw here (a new figure is made when None). Calling again on the same Axes with
        another ``label`` overlays a second scenario.
    label : str, optional
        Legend name of this run (default: "Median"); the bands are labelled after it.
    color : matplotlib color, optional
        Color of the line and bands (default: the next color of the Axes' cycle).

    Returns
    -------
    matplotlib Axes
        With one line (the median) and two filled bands (50% = P25–P75, 90% = P5–P95).

    Raises
    ------
    KeyError
        If ``result`` has no such series.
    """
    ax = _new_axes(ax)
    table = result.series(series)
    fan = table.quantile(list(FAN_QUANTILES), axis=1).T
    months = fan.index.to_numpy(dtype=float)
    q05, q25, q50, q75, q95 = (fan[q].to_numpy(dtype=float) for q in FAN_QUANTILES)
    (line,) = ax.plot(months, q50, color=color, lw=2.0, label=label or "Median", zorder=3)
    shade = line.get_color()
    prefix = f"{label}: " if label else ""
    ax.fill_between(months, q05, q95, color=shade, alpha=0.15, lw=0, label=f"{prefix}90% of replications")
    ax.fill_between(months, q25, q75, color=shade, alpha=0.30, lw=0, label=f"{prefix}50% of replications")
    ax.set_xlabel("Month")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel(_unit_label(series, per_month=series in _FLOW_SERIES))
    _format_axis(ax.yaxis, series)
    ax.set_xlim(months.min(), months.max())
    ax.margins(x=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{pretty_name(series)} ({result.scenario.name}, {table.shape[1]} replications)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def kpi_histogram(result: RunResult, metric: str, ax: Axes | None = None) -> Axes:
    """Histogram of one KPI across replications, with its mean and P10/P90 marked.

    Parameters
    ----------
    result : RunResult
        From :func:`sim.run`.
    metric : str
        A column of ``result.kpis`` (see :data:`sim.metrics.KPI_NAMES`).
    ax : matplotlib Axes, optional
        Draw here (a new figure is made when None).

    Returns
    -------
    matplotlib Axes
        With the histogram bars and three vertical lines: mean (solid), P10 and P90 (dashed).
        Non-finite values (e.g. CAC of a replication without wins) are left out.

    Raises
    ------
    KeyError
        If ``metric`` is not a KPI column.
    """
    if metric not in result.kpis.columns or metric == "rep":
        known = ", ".join(c for c in result.kpis.columns if c != "rep")
        raise KeyError(f"no KPI {metric!r}; known KPIs: {known}")
    ax = _new_axes(ax)
    values = result.kpis[metric].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if values.size:
        ax.hist(values, bins=min(30, max(5, int(np.ceil(np.sqrt(values.size))))), color="C0", alpha=0.75,
                edgecolor="white")
        mean = float(np.mean(values))
        p10, p90 = (float(v) for v in np.quantile(values, [0.1, 0.9]))
        ax.axvline(mean, color="C3", lw=2.0, label=f"mean {_value_text(metric, mean)}")
        ax.axvline(p10, color="0.3", lw=1.2, ls="--", label=f"P10 {_value_text(metric, p10)}")
        ax.axvline(p90, color="0.3", lw=1.2, ls=":", label=f"P90 {_value_text(metric, p90)}")
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel(_unit_label(metric, per_month=False))
    ax.set_ylabel("Replications")
    _integer_ticks(ax.yaxis)
    _format_axis(ax.xaxis, metric)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title(f"{pretty_name(metric)} ({result.scenario.name}, {values.size} replications)")
    return ax


def funnel_means(result: RunResult) -> pd.Series:
    """Mean count per replication of each :data:`FUNNEL_STAGES` stage over the horizon."""
    k = result.kpis
    return pd.Series({stage: float(k[list(cols)].sum(axis=1).mean()) for stage, cols in FUNNEL_STAGES})


def funnel_chart(result: RunResult, ax: Axes | None = None) -> Axes:
    """The mean funnel over the horizon as horizontal bars, annotated with conversion rates.

    Stages are MQLs + prospects, connects, SQLs, opportunities and wins (mean count per
    replication). Each bar after the first is labelled with its conversion from the stage
    above (ratio of the means).

    Parameters
    ----------
    result : RunResult
        From :func:`sim.run`.
    ax : matplotlib Axes, optional
        Draw here (a new figure is made when None).

    Returns
    -------
    matplotlib Axes
        With one bar and one text annotation per stage, top stage first.
    """
    ax = _new_axes(ax)
    means = funnel_means(result)
    y = np.arange(len(means))
    ax.barh(y, means.to_numpy(), color=[f"C{i}" for i in range(len(means))], alpha=0.85)
    ax.set_yticks(y, list(means.index))
    ax.invert_yaxis()
    top = float(means.max()) if len(means) else 0.0
    previous = None
    for i, value in enumerate(means.to_numpy()):
        text = f"{value:,.0f}"
        if previous is not None:
            rate = value / previous if previous > 0 else float("nan")
            text += f"  ({rate:.1%} of above)" if np.isfinite(rate) else "  (–)"
        ax.annotate(text, xy=(value, i), xytext=(4, 0), textcoords="offset points", va="center", fontsize="small")
        previous = value
    ax.set_xlim(0, top * 1.45 if top > 0 else 1.0)
    _format_axis(ax.xaxis, "count")
    ax.set_xlabel(f"Mean count per replication over {result.scenario.horizon_months} months")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(f"Funnel ({result.scenario.name}, {result.reps} replications)")
    return ax


def role_utilization(result: RunResult, role: str, ax: Axes | None = None) -> Axes:
    """Fan chart of a role's monthly utilization (busy time / capacity), with 100% marked.

    Parameters
    ----------
    result : RunResult
        From :func:`sim.run`.
    role : str
        A role of the scenario, e.g. ``"ae"``.
    ax : matplotlib Axes, optional
        Draw here (a new figure is made when None).

    Returns
    -------
    matplotlib Axes
        The fan of ``utilization.<role>`` (median line, 50% and 90% bands) plus a dashed
        reference line at full capacity.

    Raises
    ------
    KeyError
        If the scenario has no such role.
    """
    roles = list(result.scenario.roles)
    if role not in roles:
        raise KeyError(f"no role {role!r}; the scenario's roles are: {', '.join(roles)}")
    ax = fan_chart(result, f"utilization.{role}", ax=ax)
    ax.axhline(1.0, color="0.4", lw=1.0, ls="--", label="full capacity")
    _, high = ax.get_ylim()
    ax.set_ylim(0.0, max(1.05, high))
    ax.legend(loc="lower right", fontsize="small")
    return ax
