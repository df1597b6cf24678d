"""Tests for :mod:`sim.runs.stats`, checked against scipy and numpy references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from sim.runs import stats
from sim.runs.stats import (
    LOWER_IS_BETTER,
    SUMMARY_COLUMNS,
    PairedDifference,
    half_width,
    higher_is_better,
    mean_ci,
    p_better,
    paired_difference,
    relative_half_width,
    summarize,
    variance_reduction,
)

NAN = float("nan")


def _scipy_interval(x: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = sps.t.interval(confidence, x.size - 1, loc=np.mean(x), scale=sps.sem(x))
    return float(low), float(high)


# --------------------------------------------------------------------------- mean_ci


@pytest.mark.parametrize("n", [2, 3, 10, 57, 1000])
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95, 0.99])
def test_mean_ci_matches_scipy(n: int, confidence: float) -> None:
    rng = np.random.default_rng(1234 + n)
    x = rng.normal(loc=50.0, scale=7.0, size=n)
    m, low, high = mean_ci(x, confidence)
    exp_low, exp_high = _scipy_interval(x, confidence)
    assert m == pytest.approx(np.mean(x), rel=1e-12)
    assert low == pytest.approx(exp_low, rel=1e-10)
    assert high == pytest.approx(exp_high, rel=1e-10)
    assert half_width(x, confidence) == pytest.approx((exp_high - exp_low) / 2, rel=1e-10)


def test_mean_ci_default_confidence_is_95() -> None:
    x = np.random.default_rng(7).exponential(scale=3.0, size=40)
    assert mean_ci(x) == pytest.approx(mean_ci(x, 0.95))
    _, low, high = mean_ci(x)
    assert (low, high) == pytest.approx(_scipy_interval(x, 0.95), rel=1e-10)


def test_mean_ci_ignores_non_finite() -> None:
    rng = np.random.default_rng(3)
    clean = rng.normal(size=25)
    dirty = np.concatenate([clean[:10], [np.nan, np.inf], clean[10:], [-np.inf, np.nan]])
    assert mean_ci(dirty) == pytest.approx(mean_ci(clean), rel=1e-12)
    assert half_width(dirty) == pytest.approx(half_width(clean), rel=1e-12)


def test_mean_ci_accepts_lists_and_series() -> None:
    values = [1.0, 2.0, 4.0, 8.0]
    expected = mean_ci(np.array(values))
    assert mean_ci(values) == pytest.approx(expected)
    assert mean_ci(pd.Series(values)) == pytest.approx(expected)
    nullable = pd.Series([1.0, None, 2.0, 4.0, 8.0], dtype="Float64")
    assert mean_ci(nullable) == pytest.approx(expected)


def test_mean_ci_empty_and_all_nan() -> None:
    for values in ([], [np.nan, np.nan], [np.inf, -np.inf]):
        result = mean_ci(values)
        assert all(math.isnan(v) for v in result)


def test_mean_ci_single_value() -> None:
    m, low, high = mean_ci([4.2, np.nan])
    assert m == 4.2
    assert math.isnan(low) and math.isnan(high)
    assert math.isnan(half_width([4.2]))


def test_mean_ci_constant_sample_is_degenerate() -> None:
    # 0.1 is not exactly representable, so a naive variance can leave a rounding residue.
    m, low, high = mean_ci([0.1] * 7)
    assert m == low == high
    assert m == pytest.approx(0.1)
    assert half_width([0.1] * 7) == 0.0


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5, 95.0])
def test_invalid_confidence_raises(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1.0, 2.0, 3.0], confidence)
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([1.0, 2.0], [2.0, 3.0], confidence)


def test_two_dimensional_input_raises() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        mean_ci(np.ones((3, 2)))


def test_wider_confidence_gives_wider_interval() -> None:
    x = np.random.default_rng(11).normal(size=30)
    widths = [half_width(x, c) for c in (0.5, 0.8, 0.9, 0.95, 0.99)]
    assert widths == sorted(widths)
    assert all(w > 0 for w in widths)


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
        min_size=2,
        max_size=60,
    ),
    st.floats(min_value=0.01, max_value=0.999),
)
def test_property_ci_contains_mean(values: list[float], confidence: float) -> None:
    m, low, high = mean_ci(values, confidence)
    assert math.isfinite(m)
    assert low <= m <= high
    assert low <= high
    assert half_width(values, confidence) >= 0.0


# ------------------------------------------------------------------ relative_half_width


def test_relative_half_width_basic() -> None:
    x = np.random.default_rng(5).normal(loc=-20.0, scale=4.0, size=50)
    # [1, 3]: mean 2, sd sqrt(2), n 2 -> half-width t_{0.975, 1} * sqrt(2) / sqrt(2)
    assert relative_half_width([1.0, 3.0]) == pytest.approx(sps.t.ppf(0.975, 1) / 2.0)
    assert relative_half_width([-1.0, -3.0]) == pytest.approx(relative_half_width([1.0, 3.0]))
    assert relative_half_width(x) == pytest.approx(half_width(x) / abs(np.mean(x)), rel=1e-12)
    assert relative_half_width(x) > 0


def test_relative_half_width_edge_cases() -> None:
    assert relative_half_width([-1.0, 1.0]) == math.inf
    assert relative_half_width([0.0, 0.0, 0.0]) == 0.0
    assert relative_half_width([3.0, 3.0]) == 0.0
    assert math.isnan(relative_half_width([1.0]))
    assert math.isnan(relative_half_width([]))


# ------------------------------------------------------------------------- summarize


def _replication_table() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    n = 200
    wins = rng.poisson(3.0, size=n).astype(float)
    cost = rng.normal(100_000.0, 8_000.0, size=n)
    cac = np.where(wins > 0, cost / np.where(wins > 0, wins, 1.0), np.nan)
    return pd.DataFrame(
        {
            "rep": np.arange(n),
            "scenario": ["base"] * n,
            "exit_arr_usd": rng.lognormal(13.0, 0.3, size=n),
            "wins": wins,
            "cac_usd": cac,
            "converged": rng.random(n) > 0.5,
        }
    )


def test_summarize_default_metrics_and_columns() -> None:
    table = _replication_table()
    out = summarize(table)
    assert list(out.columns) == list(SUMMARY_COLUMNS)
    assert list(out.columns) == [
        "metric", "n", "mean", "sd", "ci95_low", "ci95_high", "p10", "p50", "p90",
    ]  # fmt: skip
    # numeric columns only, in table order, without 'rep' (and without bool / str columns)
    assert out["metric"].tolist() == ["exit_arr_usd", "wins", "cac_usd"]
    assert out["n"].dtype == np.int64


def test_summarize_values_match_numpy_and_scipy() -> None:
    table = _replication_table()
    out = summarize(table).set_index("metric")
    for metric in ["exit_arr_usd", "wins", "cac_usd"]:
        x = table[metric].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        row = out.loc[metric]
        assert row["n"] == x.size
        assert row["mean"] == pytest.approx(np.mean(x), rel=1e-12)
        assert row["sd"] == pytest.approx(np.std(x, ddof=1), rel=1e-12)
        low, high = _scipy_interval(x, 0.95)
        assert row["ci95_low"] == pytest.approx(low, rel=1e-10)
        assert row["ci95_high"] == pytest.approx(high, rel=1e-10)
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        assert row["p10"] == pytest.approx(p10, rel=1e-12)
        assert row["p50"] == pytest.approx(p50, rel=1e-12)
        assert row["p90"] == pytest.approx(p90, rel=1e-12)
    # cac_usd has NaNs (no-win replications), and they are excluded from n
    assert out.loc["cac_usd", "n"] < len(table)


def test_summarize_explicit_metrics_order_and_confidence() -> None:
    table = _replication_table()
    out = summarize(table, metrics=["cac_usd", "exit_arr_usd"], confidence=0.9)
    assert out["metric"].tolist() == ["cac_usd", "exit_arr_usd"]
    x = table["exit_arr_usd"].to_numpy()
    low, high = _scipy_interval(x, 0.9)
    row = out.iloc[1]
    assert row["ci95_low"] == pytest.approx(low, rel=1e-10)
    assert row["ci95_high"] == pytest.approx(high, rel=1e-10)


def test_summarize_sparse_columns() -> None:
    table = pd.DataFrame(
        {
            "rep": [0, 1, 2],
            "empty": [np.nan, np.nan, np.nan],
            "single": [np.nan, 5.0, np.inf],
            "constant": [2.0, 2.0, 2.0],
        }
    )
    out = summarize(table).set_index("metric")
    assert out.index.tolist() == ["empty", "single", "constant"]

    empty = out.loc["empty"]
    assert empty["n"] == 0
    assert empty.drop("n").isna().all()

    single = out.loc["single"]
    assert single["n"] == 1
    assert single["mean"] == 5.0
    assert math.isnan(single["sd"])
    assert math.isnan(single["ci95_low"]) and math.isnan(single["ci95_high"])
    assert single["p10"] == single["p50"] == single["p90"] == 5.0

    const = out.loc["constant"]
    assert const["n"] == 3
    assert const["sd"] == 0.0
    assert const["ci95_low"] == const["mean"] == const["ci95_high"] == 2.0


def test_summarize_empty_metric_list_and_missing_metric() -> None:
    table = _replication_table()
    out = summarize(table, metrics=[])
    assert out.empty
    assert list(out.columns) == list(SUMMARY_COLUMNS)
    with pytest.raises(KeyError, match="not_a_kpi"):
        summarize(table, metrics=["wins", "not_a_kpi"])


def test_summarize_does_not_mutate_input() -> None:
    table = _replication_table()
    before = table.copy()
    summarize(table)
    pd.testing.assert_frame_equal(table, before)


# ------------------------------------------------------------------ paired_difference


def _crn_pair(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scenario outputs sharing a common market draw plus small scenario-specific noise."""
    rng = np.random.default_rng(seed)
    market = rng.normal(1_000.0, 200.0, size=n)
    a = market + rng.normal(0.0, 10.0, size=n)
    b = market + 15.0 + rng.normal(0.0, 10.0, size=n)
    return a, b


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_paired_difference_matches_ttest_rel(confidence: float) -> None:
    a, b = _crn_pair(80, seed=42)
    res = paired_difference(a, b, confidence)
    assert isinstance(res, PairedDifference)
    # ttest_rel(x, y) works on x - y, so ttest_rel(b, a) is the b - a convention.
    ci = sps.ttest_rel(b, a).confidence_interval(confidence)
    assert res.ci_low == pytest.approx(ci.low, rel=1e-10)
    assert res.ci_high == pytest.approx(ci.high, rel=1e-10)
    # ... and the reversed call gives the negated interval.
    rev = sps.ttest_rel(a, b).confidence_interval(confidence)
    assert res.ci_low == pytest.approx(-rev.high, rel=1e-10)
    assert res.ci_high == pytest.approx(-rev.low, rel=1e-10)

    assert res.n == 80
    assert res.mean_a == pytest.approx(np.mean(a), rel=1e-12)
    assert res.mean_b == pytest.approx(np.mean(b), rel=1e-12)
    assert res.diff_mean == pytest.approx(np.mean(b - a), rel=1e-10)
    assert res.diff_mean == pytest.approx(res.mean_b - res.mean_a, rel=1e-9)
    assert res.diff_sd == pytest.approx(np.std(b - a, ddof=1), rel=1e-12)
    assert res.ci_low < 15.0 < res.ci_high
    assert res.ci_low > 0  # B is detectably better despite the large market variance


def test_paired_difference_drops_incomplete_pairs() -> None:
    a, b = _crn_pair(30, seed=8)
    a_dirty = a.copy()
    b_dirty = b.copy()
    a_dirty[[2, 9]] = np.nan
    b_dirty[[9, 17]] = [np.inf, np.nan]
    keep = np.ones(30, dtype=bool)
    keep[[2, 9, 17]] = False
    res = paired_difference(a_dirty, b_dirty)
    ref = paired_difference(a[keep], b[keep])
    assert res.n == 27
    assert res == ref


def test_paired_difference_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        p_better([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        variance_reduction([1.0, 2.0], [1.0])


def test_paired_difference_edge_cases() -> None:
    empty = paired_difference([np.nan, 1.0], [2.0, np.nan])
    assert empty.n == 0
    assert all(math.isnan(getattr(empty, f)) for f in ("mean_a", "mean_b", "diff_mean"))
    assert math.isnan(empty.ci_low) and math.isnan(empty.ci_high)

    one = paired_difference([1.0], [3.5])
    assert one.n == 1
    assert one.diff_mean == 2.5
    assert math.isnan(one.diff_sd)
    assert math.isnan(one.ci_low) and math.isnan(one.ci_high)

    shifted = paired_difference([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    assert shifted.diff_sd == 0.0
    assert shifted.ci_low == shifted.diff_mean == shifted.ci_high == 1.0


def test_paired_difference_is_frozen() -> None:
    res = paired_difference([1.0, 2.0], [2.0, 4.0])
    with pytest.raises(AttributeError):
        res.n = 5  # type: ignore[misc]


# ------------------------------------------------------------------------- p_better


def test_p_better_with_ties() -> None:
    a = [1.0, 2.0, 3.0, 4.0]
    b = [2.0, 2.0, 1.0, 5.0]  # win, tie, loss, win
    assert p_better(a, b) == pytest.approx((2 + 0.5) / 4)
    assert p_better(a, b, higher_is_better=False) == pytest.approx((1 + 0.5) / 4)


def test_p_better_extremes_and_symmetry() -> None:
    a = np.arange(10.0)
    assert p_better(a, a + 1) == 1.0
    assert p_better(a, a - 1) == 0.0
    assert p_better(a, a) == 0.5
    rng = np.random.default_rng(99)
    x, y = rng.integers(0, 5, size=(2, 500)).astype(float)  # many ties
    assert p_better(x, y) + p_better(y, x) == pytest.approx(1.0)
    assert p_better(x, y, higher_is_better=False) == pytest.approx(p_better(y, x))


def test_p_better_drops_non_finite_pairs() -> None:
    a = [1.0, np.nan, 3.0, 5.0, np.inf]
    b = [2.0, 10.0, np.nan, 5.0, 1.0]
    # remaining pairs: (1, 2) win, (5, 5) tie
    assert p_better(a, b) == pytest.approx(0.75)
    assert math.isnan(p_better([np.nan], [1.0]))
    assert math.isnan(p_better([], []))


# ----------------------------------------------------------------- variance_reduction


def test_variance_reduction_large_under_crn() -> None:
    rng = np.random.default_rng(17)
    n = 5_000
    a = rng.normal(100.0, 20.0, size=n)
    b = a + rng.normal(0.0, 1.0, size=n)
    vr = variance_reduction(a, b)
    # Expected (400 + 401) / 1 ~ 800.
    assert vr == pytest.approx(801.0, rel=0.1)
    assert vr == pytest.approx(
        (np.var(a, ddof=1) + np.var(b, ddof=1)) / np.var(b - a, ddof=1), rel=1e-12
    )


def test_variance_reduction_about_one_when_independent() -> None:
    rng = np.random.default_rng(2718)
    n = 20_000
    a = rng.normal(0.0, 1.0, size=n)
    b = rng.normal(0.0, 1.0, size=n)
    vr = variance_reduction(a, b)
    # The ratio is 1 - r / (1 + ...) for sample correlation r, whose sd is 1/sqrt(n) ~ 0.007;
    # 0.1 is ~14 standard errors.
    assert abs(vr - 1.0) < 0.1
    assert abs(vr - 1.0) < 5.0 / math.sqrt(n)


def test_variance_reduction_below_one_when_anticorrelated() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=2_000)
    b = -a + rng.normal(scale=0.1, size=2_000)
    assert variance_reduction(a, b) < 0.6


def test_variance_reduction_edge_cases() -> None:
    assert variance_reduction([1.0, 2.0, 3.0], [1.5, 2.5, 3.5]) == math.inf
    assert math.isnan(variance_reduction([1.0], [2.0]))
    assert math.isnan(variance_reduction([1.0, np.nan], [np.nan, 2.0]))
    a = [1.0, 2.0, 4.0, np.nan]
    b = [2.0, 2.5, 3.0, 100.0]
    assert variance_reduction(a, b) == pytest.approx(variance_reduction(a[:3], b[:3]))


# ------------------------------------------------------------------- metric direction


def test_lower_is_better_constant() -> None:
    assert isinstance(LOWER_IS_BETTER, frozenset)
    expected = {
        "cost_usd",
        "acquisition_cost_usd",
        "retention_cost_usd",
        "cac_usd",
        "crc_usd_per_account_month",
        "churn_rate_monthly",
        "cac_payback_months",
        "time_to_profitability_months",
        "churned_mrr_usd",
        "contraction_mrr_usd",
        "sales_cycle_days_mean",
        "speed_to_lead_hours_median",
        "mqls_never_touched_share",
        "losses",
    }
    assert expected == LOWER_IS_BETTER
    assert stats.LOWER_IS_BETTER is LOWER_IS_BETTER


@pytest.mark.parametrize("metric", sorted(LOWER_IS_BETTER))
def test_higher_is_better_false_for_costs(metric: str) -> None:
    assert higher_is_better(metric) is False


@pytest.mark.parametrize("metric", ["exit_arr_usd", "wins", "mrr_usd", "unknown_metric"])
def test_higher_is_better_true_otherwise(metric: str) -> None:
    assert higher_is_better(metric) is True


@pytest.mark.parametrize(("metric", "direction"), [
    ("exit_arr_usd", "higher"), ("wins", "higher"), ("win_rate_sql", "higher"),
    ("win_rate_opportunity", "higher"), ("cost_usd", "lower"),
    ("cac_usd", "lower"), ("sales_cycle_days_mean", "lower"), ("losses", None), ("churned_mrr_usd", None),
    ("dials", None), ("mqls", None), ("headcount_end", None), ("leads_stale", None), ("leads_won", None),
])
def test_better_direction(metric: str, direction: str | None) -> None:
    assert stats.better_direction(metric) == direction


# --------------------------------------------------------------------------- intervals inside a KPI's range


def test_a_t_interval_below_zero_falls_back_on_the_bootstrap() -> None:
    """Speed to lead is skewed: one replication of 30 hours among fractions of an hour puts the t
    interval's lower bound at about -10 hours, an impossible value; the bootstrap interval stays
    within the observed values, and is the same on every call."""
    from sim.runs.stats import bootstrap_mean_ci, mean_ci

    x = [0.1, 0.2, 0.1, 30.0, 0.3]
    assert mean_ci(x)[1] < 0
    table = pd.DataFrame({"speed_to_lead_hours_median": x, "unknown_column": x})
    out = summarize(table).set_index("metric")
    low, high = out.loc["speed_to_lead_hours_median", ["ci95_low", "ci95_high"]]
    assert 0.1 <= low < out.loc["speed_to_lead_hours_median", "mean"] < high <= 30.0
    assert (low, high) == bootstrap_mean_ci(np.asarray(x))
    assert out.loc["unknown_column", "ci95_low"] == pytest.approx(mean_ci(x)[1])  # no known range: t


def test_a_share_keeps_its_interval_below_one_and_a_sound_t_interval_is_kept() -> None:
    from sim.runs.stats import kpi_range, mean_ci

    x = [1.0, 1.0, 1.0, 0.6]
    assert mean_ci(x)[2] > 1 and kpi_range("win_rate_sql") == (0.0, 1.0)
    out = summarize(pd.DataFrame({"win_rate_sql": x, "wins": [10.0, 12.0, 11.0, 13.0]})).set_index("metric")
    assert out.loc["win_rate_sql", "ci95_low"] >= 0.6 and out.loc["win_rate_sql", "ci95_high"] <= 1.0
    assert tuple(out.loc["wins", ["mean", "ci95_low", "ci95_high"]]) == pytest.approx(mean_ci([10, 12, 11, 13]))


@pytest.mark.parametrize(("metric", "expected"), [
    ("cac_usd", "lower"), ("cac_usd@segment:smb", "lower"), ("speed_to_lead_hours_median@source:demo", "lower"),
    ("wins@east", "higher"), ("exit_arr_usd@segment:enterprise", "higher"),
    ("mqls@source:demo", None), ("leads_stale@segment:smb", None),
])
def test_a_groups_kpi_goes_the_way_of_its_base_kpi(metric: str, expected: str | None) -> None:
    assert stats.better_direction(metric) == expected
    assert stats.higher_is_better(metric) == (expected != "lower")
