"""Matplotlib charts of sweeps and sensitivity analyses.

This module owns how a sweep (:class:`~sim.runs.sweep.SweepResult`) and a sensitivity analysis
(:class:`~sim.runs.sensitivity.SensitivityResult`) look as pictures: the KPI — or the paired
difference of two scenarios — against a swept parameter with its 95% band, a heat map over two
parameters, a tornado, Morris's μ*–σ plane and Sobol indices. As in :mod:`sim.present.plots`,
every chart takes an optional ``ax`` and returns it; the ``save_*`` functions draw on bare
``Figure`` objects (no pyplot state) and return the paths they wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.present.plots import _format_axis, _new_axes, pretty_name
from sim.present.sensitivity_text import parameter_value, parameter_words

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pathlib import Path

    from matplotlib.axes import Axes

    from sim.runs.sensitivity import SensitivityResult
    from sim.runs.sweep import BreakEven, SweepResult

__all__ = [
    "morris_chart", "save_sensitivity_figures", "save_sweep_figures", "sobol_chart", "sweep_chart",
    "sweep_heatmap", "tornado_chart",
]


def _x_axis(ax: Axes, label: str) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: parameter_value(label, v)))
    ax.set_xlabel(parameter_words(label))


def sweep_chart(result: SweepResult, parameter: str | None = None, metric: str | None = None,
                ax: Axes | None = None, break_even: BreakEven | None = None) -> Axes:
    """The metric of each scenario (one scenario) or the paired difference of each scenario to the
    baseline (two or more) against ``parameter``: mean and 95% band. With other parameters varying,
    one line per combination of their values (up to six; beyond, points with error bars)."""
    ax = _new_axes(ax)
    metric = metric or result.metric
    parameter = parameter or result.parameters[0]
    summary = result.summary(metric)
    others = [p for p in result.parameters if p != parameter]
    paired = len(result.scenarios) > 1
    names = result.scenarios[1:] if paired else result.scenarios
    groups = list(summary.groupby(others, sort=True)) if others else [((), summary)]
    as_lines = len(groups) <= 6
    colors = iter(f"C{i}" for i in range(20))
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        suffix = ", ".join(f"{parameter_words(p)} = {parameter_value(p, v)}" for p, v in zip(others, key, strict=True))
        for name in names:
            rows = group[group["scenario"] == name].sort_values(parameter)
            x = rows[parameter].to_numpy(float)
            mean, low, high = (rows[c].to_numpy(float) for c in (
                ("diff_mean", "diff_ci95_low", "diff_ci95_high") if paired else ("mean", "ci95_low", "ci95_high")))
            label = f"{name} − {result.baseline}" if paired else name
            label = f"{label} ({suffix})" if suffix else label
            color = next(colors)
            if as_lines:
                ax.plot(x, mean, marker="o", ms=3, color=color, label=label)
                ax.fill_between(x, low, high, color=color, alpha=0.2, lw=0)
            else:
                ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", ms=3, color="C0", alpha=0.6)
    if paired:
        ax.axhline(0.0, color="black", lw=0.8, ls="--")
    if break_even is not None and break_even.value is not None:
        be = break_even
        ax.axvline(be.value, color="C3", lw=1.2, label=f"break-even {parameter_value(parameter, be.value)}")
        lo = be.ci_low if be.ci_low is not None and np.isfinite(be.ci_low) else be.low
        hi = be.ci_high if be.ci_high is not None and np.isfinite(be.ci_high) else be.high
        ax.axvspan(lo, hi, color="C3", alpha=0.1, lw=0)
    _x_axis(ax, parameter)
    what = pretty_name(metric)
    ax.set_ylabel(f"{what}, paired difference" if paired else what)
    _format_axis(ax.yaxis, metric)
    ax.set_title(f"{what} against {parameter_words(parameter)} (mean, 95% CI; {result.reps} replications a point)")
    ax.grid(True, alpha=0.3)
    if as_lines:
        ax.legend(fontsize="small")
    return ax


def sweep_heatmap(result: SweepResult, metric: str | None = None, ax: Axes | None = None,
                  scenario: str | None = None) -> Axes:
    """A heat map over the first two parameters of a grid: the mean paired difference of
    ``scenario`` to the baseline (two or more scenarios; zero contour drawn) or the mean metric."""
    ax = _new_axes(ax)
    metric = metric or result.metric
    px, py = result.parameters[:2]
    summary = result.summary(metric)
    paired = len(result.scenarios) > 1
    name = scenario or (result.scenarios[1] if paired else result.scenarios[0])
    rows = summary[summary["scenario"] == name]
    value = "diff_mean" if paired else "mean"
    grid = rows.pivot_table(index=py, columns=px, values=value, aggfunc="mean")
    x, y, z = grid.columns.to_numpy(float), grid.index.to_numpy(float), grid.to_numpy(float)
    if paired:
        bound = float(np.nanmax(np.abs(z))) or 1.0
        mesh = ax.pcolormesh(x, y, z, cmap="RdBu", vmin=-bound, vmax=bound, shading="nearest")
        if z.shape[0] > 1 and z.shape[1] > 1 and np.nanmin(z) < 0 < np.nanmax(z):
            ax.contour(x, y, z, levels=[0.0], colors="black", linewidths=1.2)
    else:
        mesh = ax.pcolormesh(x, y, z, cmap="viridis", shading="nearest")
    bar = ax.figure.colorbar(mesh, ax=ax)
    bar.set_label(f"{pretty_name(metric)}" + (f", {name} − {result.baseline}" if paired else f", {name}"))
    _format_axis(bar.ax.yaxis, metric)
    _x_axis(ax, px)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: parameter_value(py, v)))
    ax.set_ylabel(parameter_words(py))
    ax.set_title(f"{pretty_name(metric)}: mean over {result.reps} replications" + (" (black: zero)" if paired else ""))
    return ax


def save_sweep_figures(result: SweepResult, folder: Path, break_even: BreakEven | None = None) -> list[Path]:
    """``sweep_<parameter>.png`` for each parameter, and ``sweep_heatmap.png`` for two parameters on a grid."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, parameter in enumerate(result.parameters):
        fig = Figure(figsize=(9, 5), layout="constrained")
        sweep_chart(result, parameter, ax=fig.subplots(), break_even=break_even if n == 0 else None)
        path = folder / f"sweep_{_file_name(parameter)}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    if len(result.parameters) == 2 and result.design == "grid":
        fig = Figure(figsize=(8, 6), layout="constrained")
        sweep_heatmap(result, ax=fig.subplots())
        path = folder / "sweep_heatmap.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths


def _file_name(label: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in label)


def tornado_chart(table: pd.DataFrame, metric: str, target: str | None = None, ax: Axes | None = None) -> Axes:
    """One bar per input from its value at the low end to its value at the high end (95% CIs as
    whiskers), largest swing on top; the vertical line is the response with every input as written."""
    ax = _new_axes(ax)
    rows = table.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(rows))
    base = float(table["base"].iloc[0]) if len(table) else 0.0
    for i, row in rows.iterrows():
        lo, hi = row["value_low"], row["value_high"]
        ax.barh(i, lo - base, left=base, color="C0", alpha=0.8, label="at low" if i == 0 else None)
        ax.barh(i, hi - base, left=base, color="C1", alpha=0.8, label="at high" if i == 0 else None)
        ax.errorbar([lo], [i], xerr=[[lo - row["value_low_ci95_low"]], [row["value_low_ci95_high"] - lo]],
                    color="black", lw=0.8, capsize=2)
        ax.errorbar([hi], [i], xerr=[[hi - row["value_high_ci95_low"]], [row["value_high_ci95_high"] - hi]],
                    color="black", lw=0.8, capsize=2)
    ax.axvline(base, color="black", lw=1)
    if target and "−" in target:
        ax.axvline(0.0, color="C3", lw=1, ls="--")
    labels = [f"{r['input']}\n{parameter_value(r['input'], r['low'])} … {parameter_value(r['input'], r['high'])}"
              for _, r in rows.iterrows()]
    ax.set_yticks(y, labels, fontsize="small")
    _format_axis(ax.xaxis, metric)
    ax.set_xlabel(target or pretty_name(metric))
    ax.set_title("Tornado: each input at its low and high end, the others as written (95% CI)")
    ax.legend(fontsize="small", loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    return ax


def morris_chart(table: pd.DataFrame, metric: str, ax: Axes | None = None) -> Axes:
    """Morris screening: μ* (mean absolute effect across an input's range) against σ (how much the
    effect depends on the other inputs: interactions or non-linearity)."""
    ax = _new_axes(ax)
    ax.errorbar(table["mu_star"], table["sigma"], xerr=table["mu_star_conf"], fmt="o", color="C0", capsize=2)
    top = float(np.nanmax([table["mu_star"].max(), table["sigma"].max(), 0.0])) or 1.0
    named = table[(table["mu_star"] > 0.02 * top) | (table["sigma"] > 0.02 * top)].head(12)
    for _, row in named.iterrows():  # the inputs that matter; the rest sit unnamed near the origin
        ax.annotate(row["input"], (row["mu_star"], row["sigma"]), fontsize="small", xytext=(4, 4),
                    textcoords="offset points")
    ax.axline((0.0, 0.0), slope=1.0, color="grey", lw=0.8, ls=":")
    _format_axis(ax.xaxis, metric)
    _format_axis(ax.yaxis, metric)
    ax.set_xlabel(f"μ*: mean absolute effect on {pretty_name(metric)} across the range")
    ax.set_ylabel("σ: spread of the effects")
    ax.set_title("Morris screening (right: matters; up: interacts or bends)")
    ax.grid(True, alpha=0.3)
    return ax


def sobol_chart(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Sobol indices: first order (alone) and total (with interactions), with bootstrap 95% CIs."""
    ax = _new_axes(ax)
    y = np.arange(len(table))[::-1]
    ax.barh(y + 0.2, table["S1"], height=0.4, xerr=table["S1_conf"], color="C0", label="first order S1", capsize=2)
    ax.barh(y - 0.2, table["ST"], height=0.4, xerr=table["ST_conf"], color="C1", label="total ST", capsize=2)
    ax.set_yticks(y, list(table["input"]), fontsize="small")
    ax.set_xlim(min(0.0, float(np.nanmin(table["S1"] - table["S1_conf"])) if len(table) else 0.0), 1.05)
    ax.set_xlabel("share of the variance")
    ax.set_title("Sobol indices (95% bootstrap CI)")
    ax.legend(fontsize="small")
    ax.grid(True, axis="x", alpha=0.3)
    return ax


def save_sensitivity_figures(result: SensitivityResult, folder: Path) -> list[Path]:
    """``tornado.png``, ``morris.png``, ``sobol.png`` for the methods that ran."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in (("tornado", result.tornado), ("morris", result.morris), ("sobol", result.sobol)):
        if table is None:
            continue
        tall = name != "morris"
        fig = Figure(figsize=(10, max(3.0, 0.55 * len(table) + 1.5) if tall else 6.5), layout="constrained")
        ax = fig.subplots()
        if name == "tornado":
            tornado_chart(table, result.metric, result.target, ax=ax)
        elif name == "morris":
            morris_chart(table, result.metric, ax=ax)
        else:
            sobol_chart(table, ax=ax)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths
