"""Matplotlib charts of a :class:`~sim.runs.results.RunResult`.

This module owns how results look as pictures: fan charts of monthly series across
replications, KPI histograms, the mean funnel and role utilization. Every function takes an
optional ``ax`` (a new figure is made when it is None), draws on it and returns it, so charts
can be combined into any figure layout. Nothing here computes a metric (that is
:mod:`sim.metrics`), calls ``plt.show()``, selects a backend or keeps state between calls;
matplotlib is imported lazily, so ``import sim.present.plots`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.present.style import money_formatter, scenario_colors

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.runs.comparison import Comparison
    from sim.runs.results import RunResult

__all__ = [
    "FAN_QUANTILES", "FUNNEL_STAGES", "capacity_vs_demand", "comparison_fans", "difference_fan", "fan_chart",
    "funnel_chart", "funnel_comparison", "funnel_means", "kpi_distributions", "kpi_histogram", "pretty_name",
    "role_utilization", "save_comparison_figures", "save_run_figures", "source_funnel_means", "source_funnels",
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
    "win_rate_sql": "Win rate of SQLs",
    "win_rate_opportunity": "Win rate of opportunities",
    "mqls_never_touched_share": "MQLs never touched",
    "trials": "Self-service trials",
    "trial_conversion_rate": "Trial conversion rate",
    "customers_end": "Customers at the horizon",
    "contraction_mrr_usd": "MRR given up in downsells",
    "renewals": "Contracts renewed",
    "renewal_rate": "Renewal rate",
    "nrr": "Net revenue retention (trailing 12 months)",
    "grr": "Gross revenue retention (trailing 12 months)",
    "bookings_usd": "Bookings (annual contract value)",
    "billings_usd": "Billings",
    "sales_cycle_days_mean": "Mean sales cycle",
    "speed_to_lead_hours_median": "Median speed to lead",
    "headcount_end": "Headcount at the horizon",
    "cac_usd": "CAC",
    "acquisition_cost_usd": "Acquisition cost",
    "retention_cost_usd": "Retention cost",
    "crc_usd_per_account_month": "CRC per account-month",
    "churn_rate_monthly": "Monthly churn rate",
    "cac_payback_months": "CAC payback",
    "ltv_usd": "LTV",
    "ltv_to_cac": "LTV to CAC",
    "time_to_profitability_months": "Time to profitability",
    "quota_attainment_mean": "Mean quota attainment",
    "reps_at_quota_share": "Reps at quota",
    "variable_pay_usd": "Variable pay",
}

_FLOW_SERIES = frozenset({"new_mrr_usd", "expansion_mrr_usd", "churned_mrr_usd", "mqls", "sqls", "wins", "cost_usd"})
"""Monthly series that are amounts *per month* (the others are levels at month end)."""

_RATE_NAMES = frozenset({"win_rate_sql", "win_rate_opportunity", "trial_conversion_rate", "utilization",
                         "renewal_rate", "nrr", "grr",
                         "churn_rate_monthly", "mqls_never_touched_share", "quota_attainment_mean",
                         "reps_at_quota_share"})


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
    """Dollars in one unit per axis for money (``$500k``, ``$1.5M``), thousands separators for
    ``name="count"``, percentages for rates."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    base, _ = _split(name)
    if base in _RATE_NAMES:
        axis.set_major_formatter(PercentFormatter(xmax=1.0))
    elif base.endswith("_usd"):
        axis.set_major_formatter(money_formatter(signed=False))
    elif base == "count":
        axis.set_major_formatter(FuncFormatter(_thousands))


def _integer_ticks(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _value_text(name: str, value: float) -> str:
    from sim.present.text import format_value

    return format_value(name, value)


# --------------------------------------------------------------------------- charts


def _month_axis(ax: Axes, scenario: Any) -> None:
    """Months on the x axis: their numbers, or — with the scenario's ``start_date`` — month labels
    ("Jan 2026", at each month's end: where its stocks are read)."""
    dates = scenario.month_dates()
    if dates is None:
        ax.set_xlabel("Month")
        _integer_ticks(ax.xaxis)
        return
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_xlabel(f"Month end (month 1 starts {scenario.start_date:%d %b %Y})")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: f"{dates[round(x)]:%b %Y}" if 0 <= round(x) < len(dates) and abs(x - round(x)) < 1e-9
        else ""))


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
    _month_axis(ax, result.scenario)
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


def source_funnel_means(result: RunResult, source: str) -> pd.Series:
    """Mean count per replication of each stage of one lead source's funnel: its own top (MQLs of
    an inbound source, prospects of an outbound one), then — for a source a rep works — connects,
    SQLs, opportunities and wins, or — for sign-ups nobody works (``worked_by: none``) — trials
    and wins (per-source KPIs ``<kpi>@source:<name>``)."""
    spec = result.scenario.sources.get(source)
    if spec is None:
        raise ValueError(f"no lead source {source!r} (sources: {', '.join(result.scenario.sources)})")
    k = result.kpis
    if f"wins@source:{source}" not in k:  # one source: the org's KPIs are its own
        def column(name: str) -> pd.Series:
            return k[name]
    else:
        def column(name: str) -> pd.Series:
            return k[f"{name}@source:{source}"]
    top = ("MQLs", "mqls") if spec.kind == "inbound" else ("Prospects", "prospects")
    if spec.worked_by == "none":
        stages = (top, ("Trials", "trials"), ("Wins", "wins"))
    else:
        stages = (top, ("Connects", "connects"), ("SQLs", "sqls"), ("Opportunities", "opportunities"),
                  ("Wins", "wins"))
    return pd.Series({label: float(column(name).mean()) for label, name in stages})


def funnel_chart(result: RunResult, ax: Axes | None = None, source: str | None = None) -> Axes:
    """The mean funnel over the horizon as horizontal bars, annotated with conversion rates.

    Stages are MQLs + prospects, connects, SQLs, opportunities and wins (mean count per
    replication). Each bar after the first is labelled with its conversion from the stage
    above (ratio of the means). With ``source``, the funnel of that lead source alone
    (:func:`source_funnel_means`): inbound MQLs and outbound prospects are different tops of a
    funnel, so a scenario with several sources is best read one source at a time
    (:func:`source_funnels`).

    Parameters
    ----------
    result : RunResult
        From :func:`sim.run`.
    ax : matplotlib Axes, optional
        Draw here (a new figure is made when None).
    source : str, optional
        A lead source's name (``scenario.sources``).

    Returns
    -------
    matplotlib Axes
        With one bar and one text annotation per stage, top stage first.
    """
    ax = _new_axes(ax)
    means = funnel_means(result) if source is None else source_funnel_means(result, source)
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
    where = result.scenario.name if source is None else f"{result.scenario.name}, source {source}"
    ax.set_title(f"Funnel ({where}, {result.reps} replications)")
    return ax


def source_funnels(result: RunResult) -> Figure:
    """One :func:`funnel_chart` per lead source, stacked (a bare Figure)."""
    from matplotlib.figure import Figure

    sources = list(result.scenario.sources)
    fig = Figure(figsize=(9, 3.6 * len(sources)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(sources), 1, squeeze=False)[:, 0])
    for ax, source in zip(axes, sources, strict=True):
        funnel_chart(result, ax=ax, source=source)
    return fig


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


# --------------------------------------------------------------------------- workforce


def capacity_vs_demand(result: RunResult, role: str, ax: Axes | None = None) -> Axes:
    """A role's median headcount, ramped capacity (FTE) and demand (FTE) by month, with the
    months where demand exceeds capacity shaded as the shortfall.

    Demand is the month's average load plus its end-of-month queue, in FTE of a fully ramped
    rep (``demand_fte.<role>``); capacity is the time-averaged ramped FTE
    (``capacity_fte.<role>``). Medians across replications.
    """
    roles = list(result.scenario.roles)
    if role not in roles:
        raise KeyError(f"no role {role!r}; the scenario's roles are: {', '.join(roles)}")
    ax = _new_axes(ax)
    headcount = result.series(f"headcount.{role}").median(axis=1)
    capacity = result.series(f"capacity_fte.{role}").median(axis=1)
    demand = result.series(f"demand_fte.{role}").median(axis=1).reindex(capacity.index)
    months = capacity.index.to_numpy(dtype=float)
    ax.step(headcount.index, headcount.to_numpy(), where="post", color="0.35", lw=1.5, label="Headcount")
    ax.plot(months, capacity.to_numpy(), color="C0", lw=2.0, label="Ramped capacity (FTE)")
    ax.plot(months, demand.to_numpy(), color="C3", lw=2.0, label="Demand (FTE)")
    short = (demand.to_numpy() > capacity.to_numpy())
    ax.fill_between(months, capacity.to_numpy(), demand.to_numpy(), where=short, color="C3", alpha=0.25,
                    interpolate=True, label="Shortfall")
    _month_axis(ax, result.scenario)
    ax.set_ylabel(f"{role.upper()} (people / FTE)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{role.upper()}: headcount, ramped capacity and demand ({result.scenario.name}, medians)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


# --------------------------------------------------------------------------- comparisons


def comparison_fans(comparison: Comparison, series: str = "mrr_usd", ax: Axes | None = None) -> Axes:
    """One fan (median, 50% and 90% bands) per scenario of a comparison, on the same Axes."""
    ax = _new_axes(ax)
    colors = scenario_colors(list(comparison.results))
    for name, result in comparison.results.items():
        fan_chart(result, series, ax=ax, label=name, color=colors[name])
    ax.set_title(f"{pretty_name(series)}: {' vs '.join(comparison.results)} (the same markets)")
    return ax


def difference_fan(comparison: Comparison, scenario: str, series: str = "mrr_usd", ax: Axes | None = None) -> Axes:
    """Fan of the paired difference ``scenario − baseline`` of a monthly series, replication by
    replication, with zero marked: where the bands clear zero, the difference is not luck."""
    ax = _new_axes(ax)
    diff = comparison.series_difference(scenario, series)
    fan = diff.quantile(list(FAN_QUANTILES), axis=1).T
    months = fan.index.to_numpy(dtype=float)
    q05, q25, q50, q75, q95 = (fan[q].to_numpy(dtype=float) for q in FAN_QUANTILES)
    color = scenario_colors(list(comparison.results))[scenario]
    (line,) = ax.plot(months, q50, lw=2.0, color=color, label="Median difference")
    ax.fill_between(months, q05, q95, color=line.get_color(), alpha=0.15, lw=0, label="90% of replications")
    ax.fill_between(months, q25, q75, color=line.get_color(), alpha=0.30, lw=0, label="50% of replications")
    ax.axhline(0.0, color="0.3", lw=1.0, ls="--")
    _month_axis(ax, comparison.results[scenario].scenario)
    ax.set_ylabel(f"Difference in {_unit_label(series, per_month=series in _FLOW_SERIES)}")
    _format_axis(ax.yaxis, series)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{pretty_name(series)}: {scenario} − {comparison.baseline} (paired by replication)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def funnel_comparison(comparison: Comparison, ax: Axes | None = None) -> Axes:
    """Mean funnel by stage for every scenario, as grouped horizontal bars on a linear scale,
    each bar labelled with its mean count and its conversion from the stage above."""
    ax = _new_axes(ax)
    names = list(comparison.results)
    colors = scenario_colors(names)
    means = {name: funnel_means(result) for name, result in comparison.results.items()}
    stages = list(next(iter(means.values())).index)
    height = 0.8 / len(names)
    y = np.arange(len(stages))
    top = 0.0
    for i, name in enumerate(names):
        values = means[name].to_numpy()
        top = max(top, float(np.nanmax(values)) if values.size else 0.0)
        ax.barh(y + i * height, values, height=height, color=colors[name], alpha=0.85, label=name)
        for j, value in enumerate(values):
            ax.annotate(_funnel_label(value, values[j - 1] if j else None), xy=(value, j + i * height),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize="x-small")
    ax.set_yticks(y + height * (len(names) - 1) / 2, stages)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.5 if top > 0 else 1.0)
    _format_axis(ax.xaxis, "count")
    horizon = next(iter(comparison.results.values())).scenario.horizon_months
    ax.set_xlabel(f"Mean count per replication over {horizon} months")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"Funnel by stage: {' vs '.join(names)} (conversion from the stage above in brackets)")
    return ax


def _funnel_label(value: float, previous: float | None) -> str:
    text = f"{value:,.0f}"
    if previous is not None:
        rate = value / previous if previous > 0 else float("nan")
        text += f"  ({rate:.1%})" if np.isfinite(rate) else "  (–)"
    return text


def kpi_distributions(comparison: Comparison, metrics: tuple[str, ...] = (
        "revenue_first_year_usd", "exit_arr_usd", "wins", "cac_usd"), axes: Any = None) -> Any:
    """Box plots of KPIs across replications, one panel per KPI, one box per scenario."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 4), layout="constrained")
    axes = np.atleast_1d(axes)
    names = list(comparison.results)
    for ax, metric in zip(axes, metrics, strict=False):
        data = [r.kpis[metric].to_numpy(float)[np.isfinite(r.kpis[metric].to_numpy(float))]
                for r in comparison.results.values()]
        ax.boxplot(data, tick_labels=names, showmeans=True)
        ax.set_title(pretty_name(metric), fontsize="medium")
        _format_axis(ax.yaxis, metric)
        ax.grid(True, axis="y", alpha=0.3)
    return axes


def save_comparison_figures(comparison: Comparison, folder: Path) -> list[Path]:
    """Write the comparison's figures as PNG files in ``folder``; return their paths.

    Uses bare :class:`matplotlib.figure.Figure` objects (no pyplot, no backend, no global
    state), so it is safe in workers, scripts and notebooks alike."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        path = folder / name
        fig.savefig(path, dpi=110)
        paths.append(path)

    fig = Figure(figsize=(9, 5), layout="constrained")
    comparison_fans(comparison, "mrr_usd", ax=fig.subplots())
    save(fig, "mrr_fan.png")
    others = [n for n in comparison.results if n != comparison.baseline]
    fig = Figure(figsize=(9, 4 * len(others)), layout="constrained")
    for ax, name in zip(np.atleast_1d(fig.subplots(len(others), 1)), others, strict=True):
        difference_fan(comparison, name, "mrr_usd", ax=ax)
    save(fig, "mrr_difference_fan.png")
    fig = Figure(figsize=(9, 5), layout="constrained")
    funnel_comparison(comparison, ax=fig.subplots())
    save(fig, "funnel.png")
    fig = Figure(figsize=(14, 4.5), layout="constrained")
    kpi_distributions(comparison, axes=fig.subplots(1, 4))
    save(fig, "kpi_distributions.png")
    results = list(comparison.results.values())
    roles = list(results[0].scenario.roles)
    fig = Figure(figsize=(6 * len(results), 3.6 * len(roles)), layout="constrained")
    grid = np.atleast_2d(fig.subplots(len(roles), len(results), squeeze=False))
    for row, role in enumerate(roles):
        for col, result in enumerate(results):
            if role in result.scenario.roles:
                capacity_vs_demand(result, role, ax=grid[row, col])
            else:
                grid[row, col].set_axis_off()
    save(fig, "capacity_demand.png")
    return paths


def save_run_figures(result: RunResult, folder: Path) -> list[Path]:
    """Write a run's figures as PNG files in ``folder``; return their paths: ``mrr_fan.png`` (MRR
    by month, median with 50% and 90% bands), ``funnel.png`` (mean funnel with counts and
    conversion rates, linear scale), ``funnel_by_source.png`` (one funnel per lead source, when
    there are several) and ``capacity_demand.png`` (per role: headcount, ramped
    capacity and demand by month). Bare Figures, as :func:`save_comparison_figures`."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        path = folder / name
        fig.savefig(path, dpi=110)
        paths.append(path)

    fig = Figure(figsize=(9, 5), layout="constrained")
    fan_chart(result, "mrr_usd", ax=fig.subplots())
    save(fig, "mrr_fan.png")
    fig = Figure(figsize=(9, 5), layout="constrained")
    funnel_chart(result, ax=fig.subplots())
    save(fig, "funnel.png")
    if len(result.scenario.sources) > 1:
        save(source_funnels(result), "funnel_by_source.png")
    roles = list(result.scenario.roles)
    fig = Figure(figsize=(9, 3.6 * len(roles)), layout="constrained")
    for ax, role in zip(np.atleast_1d(fig.subplots(len(roles), 1, squeeze=False)[:, 0]), roles, strict=True):
        capacity_vs_demand(result, role, ax=ax)
    save(fig, "capacity_demand.png")
    return paths
