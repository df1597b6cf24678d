"""Calibration figures: what the fits look like against the data.

This module owns the pictures of ``calibration_report.md``: Kaplan–Meier curves (censored and
left-truncated, as the fits see the data) against the fitted survival curves of churn and rep
tenure, and empirical against fitted CDFs of deal sizes and dials to connect. Each chart takes an
optional ``ax`` and returns it; :func:`save_calibration_figures` writes the lot. Matplotlib and
lifelines are imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.calibration.estimates import Calibration
from sim.calibration.reader import CrmExport
from sim.workcalendar import DAYS_PER_MONTH

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes


def _axes(ax: Axes | None) -> Axes:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    return ax


def churn_chart(export: CrmExport, cal: Calibration, ax: Axes | None = None) -> Axes:
    """Kaplan–Meier of account survival per segment, and the fitted piecewise-exponential curve."""
    from lifelines import KaplanMeierFitter

    from sim.calibration.survival import durations

    ax = _axes(ax)
    accounts = export.table("accounts")
    for f in (f for f in cal.fitted if f.path.endswith(".churn.monthly_rate")):
        segment = f.path.split(".")[1]
        rows = accounts[accounts["segment"] == segment]
        d, observed, entry = durations(export, rows["started_at"], rows["ended_at"], DAYS_PER_MONTH)
        keep = d > entry
        line = KaplanMeierFitter(label=f"{segment}: Kaplan–Meier").fit(
            d[keep], observed[keep], entry=entry[keep]).plot(ax=ax, ci_show=False)
        color = line.get_lines()[-1].get_color()
        t = np.linspace(0, float(d[keep].max()), 200)
        onboarding = f.extra.get("onboarding_months", 0.0)
        h1, h2 = f.extra.get("onboarding_rate", f.value), f.value
        hazard = -np.log1p(-min(h1, 0.999)) * np.minimum(t, onboarding) - np.log1p(-h2) * np.maximum(t - onboarding, 0)
        ax.plot(t, np.exp(-hazard), "--", color=color, label=f"{segment}: fitted ({h2:.3f} a month)")
    ax.set_xlabel("months since the subscription started")
    ax.set_ylabel("share still a customer")
    ax.set_title("Churn: Kaplan–Meier against the fit", fontsize=10)
    ax.legend(fontsize=7)
    return ax


def tenure_chart(export: CrmExport, cal: Calibration, ax: Axes | None = None) -> Axes:
    """Kaplan–Meier of rep tenure per role, and the fitted Weibull curve."""
    from lifelines import KaplanMeierFitter

    from sim.calibration.survival import durations

    ax = _axes(ax)
    people = export.table("people")
    for f in (f for f in cal.fitted if f.path.endswith(".tenure_months")):
        role = f.path.split(".")[1]
        rows = people[people["role"] == role]
        d, observed, entry = durations(export, rows["started_at"], rows["ended_at"], DAYS_PER_MONTH)
        keep = d > entry
        line = KaplanMeierFitter(label=f"{role}: Kaplan–Meier").fit(
            d[keep], observed[keep], entry=entry[keep]).plot(ax=ax, ci_show=False)
        color = line.get_lines()[-1].get_color()
        t = np.linspace(0, float(d[keep].max()), 200)
        scale, shape = f.value["scale"], f.value["shape"]
        ax.plot(t, np.exp(-((t / scale) ** shape)), "--", color=color,
                label=f"{role}: Weibull (scale {scale:.1f}, shape {shape:.2f})")
    ax.set_xlabel("months since the start")
    ax.set_ylabel("share still employed")
    ax.set_title("Tenure: Kaplan–Meier against the fit", fontsize=10)
    ax.legend(fontsize=7)
    return ax


def deal_size_chart(export: CrmExport, cal: Calibration, ax: Axes | None = None) -> Axes:
    """Empirical CDF of won deals' MRR per segment, and the fitted lognormal."""
    from scipy.stats import norm

    ax = _axes(ax)
    opps = export.table("opportunities")
    created = export.days(opps["created_at"])
    for f in (f for f in cal.fitted if f.path.endswith(".mrr_usd") and f.path.startswith("segments.")):
        segment = f.path.split(".")[1]
        won = opps[(opps["segment"] == segment) & (opps["won"] == True) & (opps["mrr_usd"] > 0)  # noqa: E712
                   & (created >= 0)]
        x = np.sort(won["mrr_usd"].to_numpy(dtype=float))
        (line,) = ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", label=f"{segment}: won deals")
        grid = np.geomspace(max(x.min(), 1e-6), x.max(), 200)
        median, sigma = f.value["median"], f.value["sigma"]
        ax.plot(grid, norm.cdf(np.log(grid / median) / sigma), "--", color=line.get_color(),
                label=f"{segment}: lognormal (median {median:,.0f}, σ {sigma:.2f})")
    ax.set_xscale("log")
    ax.set_xlabel("MRR of a won deal (USD)")
    ax.set_ylabel("cumulative share")
    ax.set_title("Deal size: empirical against fitted CDF", fontsize=10)
    ax.legend(fontsize=7)
    return ax


def dials_chart(export: CrmExport, cal: Calibration, ax: Axes | None = None) -> Axes:
    """Calls to the first connect of reached leads per source, against the fitted geometric
    (conditioned on connecting within the most calls observed)."""
    from sim.calibration.fits import calls_per_lead

    ax = _axes(ax)
    per = calls_per_lead(export)
    leads = export.table("leads").set_index("lead_id")
    per = per.join(leads[["source"]])
    for f in (f for f in cal.fitted if f.path.endswith(".dials_to_connect")):
        source = f.path.split(".")[0]
        calls = per.loc[(per["source"] == source) & (per["connects"] > 0), "calls"].to_numpy()
        if calls.size == 0:
            continue
        top = int(calls.max())
        k = np.arange(1, top + 1)
        empirical = np.searchsorted(np.sort(calls), k, side="right") / calls.size
        p = f.extra["p"]
        fitted = (1 - (1 - p) ** k) / (1 - (1 - p) ** top)
        (line,) = ax.step(k, empirical, where="post", label=f"{source}: reached leads")
        verdict = "written" if f.value["dist"] == "geometric" else "rejected: empirical written"
        ax.plot(k, fitted, "--", color=line.get_color(), label=f"{source}: geometric, mean {1 / p:.1f} ({verdict})")
    ax.set_xlabel("calls to the first connect")
    ax.set_ylabel("cumulative share")
    ax.set_title("Dials to connect: empirical against fitted CDF", fontsize=10)
    ax.legend(fontsize=7)
    return ax


CHARTS = {"churn": churn_chart, "tenure": tenure_chart, "deal_size": deal_size_chart, "dials": dials_chart}
"""Figure name → chart, and the fitted paths each needs (a chart with nothing fitted is skipped)."""
_NEEDS = {"churn": ".churn.monthly_rate", "tenure": ".tenure_months", "deal_size": ".mrr_usd",
          "dials": ".dials_to_connect"}


def save_calibration_figures(export: CrmExport, cal: Calibration, folder: Path) -> list[Path]:
    """Write ``calibration_<name>.png`` for each chart with something fitted; returns the files."""
    from matplotlib.figure import Figure  # bare Figures: no pyplot state, the caller's backend untouched

    files = []
    for name, chart in CHARTS.items():
        if not any(f.path.endswith(_NEEDS[name]) for f in cal.fitted):
            continue
        fig = Figure(figsize=(6.5, 3.8), layout="constrained")
        chart(export, cal, fig.subplots())
        path = folder / f"calibration_{name}.png"
        fig.savefig(path, dpi=100)
        files.append(path)
    return files


