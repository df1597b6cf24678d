"""Backtest figures: a series' history against its simulated 50% and 90% bands.

This module owns how a :class:`~sim.calibration.backtest.Backtest` looks: one chart per series,
taking an optional ``ax`` and returning it, like :mod:`sim.present.plots`; and the report text.
Matplotlib is imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes

    from sim.calibration.backtest import Backtest


def backtest_chart(backtest: Backtest, series: str, ax: Axes | None = None) -> Axes:
    """The history of ``series`` (points) over the simulated median and 50%/90% bands."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    part = backtest.table[backtest.table["series"] == series]
    months = part["month"]
    ax.fill_between(months, part["q05"], part["q95"], alpha=0.2, color="tab:blue", label="simulated 90%")
    ax.fill_between(months, part["q25"], part["q75"], alpha=0.35, color="tab:blue", label="simulated 50%")
    ax.plot(months, part["q50"], color="tab:blue", linewidth=1, label="simulated median")
    ax.plot(months, part["actual"], "o-", color="black", markersize=3, label="history")
    row = backtest.coverage.loc[series]
    ax.set_title(f"{series}: {row['inside_50']}/{row['months']} months in the 50% band, "
                 f"{row['inside_90']}/{row['months']} in the 90%", fontsize=9)
    ax.set_xlabel("month")
    ax.legend(fontsize=7)
    return ax


def save_backtest_figures(backtest: Backtest, folder: Path) -> list[Path]:
    """One PNG per series in ``folder``; returns the files."""
    from matplotlib.figure import Figure  # bare Figures: no pyplot state, the caller's backend untouched

    files = []
    for series in backtest.coverage.index:
        fig = Figure(figsize=(7, 3.6), layout="constrained")
        backtest_chart(backtest, str(series), fig.subplots())
        path = folder / f"backtest_{series}.png"
        fig.savefig(path, dpi=110)
        files.append(path)
    return files


def backtest_report(backtest: Backtest, fitted_file: str, data_folder: str) -> str:
    """``backtest_report.md``: the verdict, the coverage table and the figures."""
    lines = [f"# Backtest of {fitted_file}", "",
             f"History: `{data_folder}`, {backtest.months} months; {backtest.reps} replications.", "",
             f"**Verdict: {backtest.verdict}.**", "",
             "| series | months | in 50% band | in 90% band | consistent |", "|---|---|---|---|---|"]
    for name, row in backtest.coverage.iterrows():
        consistent: Any = row["consistent"]
        mark = "not tested (a running sum)" if consistent is None else ("yes" if consistent else "**no**")
        lines.append(f"| {name} | {row['months']} | {row['inside_50']} ({row['share_50']:.0%}) | "
                     f"{row['inside_90']} ({row['share_90']:.0%}) | {mark} |")
    lines += ["", "A flow is consistent unless the history is outside its bands more often than they allow "
              "(one-sided binomial tests at 1%).", ""]
    lines += [f"![{name}](backtest_{name}.png)" for name in backtest.coverage.index]
    return "\n".join(lines) + "\n"
