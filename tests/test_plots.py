"""Tests of sim.present.plots: each chart returns its Axes and draws what the numbers say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

import sim
from sim.present import plots

ROOT = Path(__file__).resolve().parents[1]
SEED = 20_240_601


@pytest.fixture(scope="module")
def result():
    scenario = sim.load_scenario(ROOT / "scenarios" / "silo.yaml", overrides=["horizon_months=4"])
    return sim.run(scenario, reps=4, seed=SEED, workers=1)


@pytest.fixture
def ax():
    fig, axes = plt.subplots()
    yield axes
    plt.close(fig)


def _band_extent(collection) -> tuple[float, float]:
    """Lowest and highest y of a filled band."""
    ys = np.concatenate([path.vertices[:, 1] for path in collection.get_paths()])
    return float(np.min(ys)), float(np.max(ys))


def test_fan_chart_median_line_is_the_per_month_median(result, ax):
    out = plots.fan_chart(result, "mrr_usd", ax=ax)
    assert out is ax
    assert len(ax.lines) == 1
    assert len(ax.collections) == 2
    table = result.series("mrr_usd")
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(np.asarray(x, dtype=float), table.index.to_numpy(dtype=float))
    np.testing.assert_allclose(np.asarray(y, dtype=float), table.median(axis=1).to_numpy(), rtol=1e-12)


def test_fan_chart_bands_span_the_quantiles(result, ax):
    plots.fan_chart(result, "mrr_usd", ax=ax)
    table = result.series("mrr_usd")
    band90, band50 = ax.collections
    lo90, hi90 = _band_extent(band90)
    lo50, hi50 = _band_extent(band50)
    np.testing.assert_allclose([lo90, hi90], [table.quantile(0.05, axis=1).min(), table.quantile(0.95, axis=1).max()])
    np.testing.assert_allclose([lo50, hi50], [table.quantile(0.25, axis=1).min(), table.quantile(0.75, axis=1).max()])
    assert lo90 <= lo50 <= hi50 <= hi90


def test_fan_chart_labels_units_and_dollars(result, ax):
    plots.fan_chart(result, "mrr_usd", ax=ax)
    assert "USD" in ax.get_ylabel()
    assert ax.get_xlabel() == "Month"
    assert "4 replications" in ax.get_title()
    formatter = ax.yaxis.get_major_formatter()
    formatter.set_locs([0, 500_000, 1_000_000, 1_500_000])
    assert [formatter(v, i) for i, v in enumerate([0, 500_000, 1_500_000])] == ["$0", "$0.5M", "$1.5M"]


def test_fan_chart_overlays_two_runs_with_labels_and_colors(result, ax):
    plots.fan_chart(result, "mrr_usd", ax=ax, label="A", color="tab:blue")
    plots.fan_chart(result, "mrr_usd", ax=ax, label="B", color="tab:orange")
    assert len(ax.lines) == 2
    assert len(ax.collections) == 4
    assert [line.get_label() for line in ax.lines] == ["A", "B"]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "A" in texts and "B" in texts
    assert matplotlib.colors.same_color(ax.lines[1].get_color(), "tab:orange")


def test_fan_chart_makes_its_own_figure_and_rejects_unknown_series(result):
    out = plots.fan_chart(result, "customers")
    try:
        assert isinstance(out, Axes)
        assert len(out.lines) == 1
    finally:
        plt.close(out.figure)
    with pytest.raises(KeyError, match="no series"):
        plots.fan_chart(result, "no_such_series")


def test_kpi_histogram_counts_every_replication(result, ax):
    out = plots.kpi_histogram(result, "exit_arr_usd", ax=ax)
    assert out is ax
    assert len(ax.lines) == 3  # mean, P10, P90
    heights = [patch.get_height() for patch in ax.patches]
    assert sum(heights) == result.reps
    assert ax.lines[0].get_xdata()[0] == pytest.approx(result.kpis["exit_arr_usd"].mean())
    assert "USD" in ax.get_xlabel()
    assert ax.get_ylabel() == "Replications"


def test_kpi_histogram_rates_in_percent_and_unknown_metric(result, ax):
    plots.kpi_histogram(result, "win_rate_opportunity", ax=ax)
    assert float(ax.xaxis.get_major_formatter()(0.25, 0).rstrip("%")) == 25.0
    with pytest.raises(KeyError, match="no KPI"):
        plots.kpi_histogram(result, "nope", ax=ax)


def test_funnel_chart_bars_are_mean_counts_with_conversions(result, ax):
    out = plots.funnel_chart(result, ax=ax)
    assert out is ax
    k = result.kpis
    expected = [
        (k["mqls"] + k["prospects"]).mean(), k["connects"].mean(), k["sqls"].mean(),
        k["opportunities"].mean(), k["wins"].mean(),
    ]
    assert len(ax.patches) == 5
    np.testing.assert_allclose([p.get_width() for p in ax.patches], expected)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 5
    assert "%" not in texts[0]
    for i in range(1, 5):
        assert f"{expected[i] / expected[i - 1]:.1%}" in texts[i]
    assert ax.get_yticklabels()[0].get_text() == "MQLs + prospects"


def test_role_utilization_is_a_fan_with_full_capacity_marked(result, ax):
    out = plots.role_utilization(result, "ae", ax=ax)
    assert out is ax
    assert len(ax.lines) == 2  # median + 100% reference
    assert len(ax.collections) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), result.series("utilization.ae").median(axis=1).to_numpy())
    assert ax.lines[1].get_ydata()[0] == 1.0
    assert ax.get_ylim()[0] == 0.0 and ax.get_ylim()[1] >= 1.0
    assert float(ax.yaxis.get_major_formatter()(0.5, 0).rstrip("%")) == 50.0
    with pytest.raises(KeyError, match="no role"):
        plots.role_utilization(result, "vp", ax=ax)


def test_charts_compose_into_one_figure_and_save(result, tmp_path):
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), layout="constrained")
    try:
        plots.fan_chart(result, "mrr_usd", ax=axes[0, 0])
        plots.kpi_histogram(result, "exit_arr_usd", ax=axes[0, 1])
        plots.funnel_chart(result, ax=axes[1, 0])
        plots.role_utilization(result, "ae", ax=axes[1, 1])
        path = tmp_path / "charts.png"
        fig.savefig(path, dpi=80)
    finally:
        plt.close(fig)
    assert path.stat().st_size > 10_000


@pytest.mark.integration
def test_import_sets_no_backend_and_does_not_load_pyplot():
    code = "import sys, sim.present.plots; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
