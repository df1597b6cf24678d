"""`sim.compare` and `salesim compare`: paired differences under common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import sim
from sim.cli import main
from sim.economics import QUOTA_KPIS
from sim.metrics import KPI_NAMES
from sim.runs.comparison import COMPARISON_COLUMNS, comparison_table

SHORT = ["horizon_months=3"]
REPS = 4
MORE_AES = ["roles.ae.headcount=8", "roles.ae.initial_tenure_months=[6, 12, 18, 24, 30, 40, 12, 12]"]


@pytest.fixture(scope="module")
def comparison():
    base = sim.load_scenario("scenarios/silo.yaml", overrides=SHORT)
    bigger = sim.load_scenario("scenarios/silo.yaml", overrides=[*SHORT, *MORE_AES])
    return sim.compare({"base": base, "more_aes": bigger, "same": base}, reps=REPS, seed=5, workers=1)


def test_columns_and_rows(comparison):
    table = comparison.table
    assert tuple(table.columns) == COMPARISON_COLUMNS
    assert len(table) == len(KPI_NAMES) * 2
    assert set(table["scenario"]) == {"more_aes", "same"}
    assert set(table["baseline"]) == {"base"}


def test_paired_difference_matches_scipy(comparison):
    a = comparison.results["base"].kpis["exit_arr_usd"].to_numpy()
    b = comparison.results["more_aes"].kpis["exit_arr_usd"].to_numpy()
    row = comparison.table.query("metric == 'exit_arr_usd' and scenario == 'more_aes'").iloc[0]
    ci = sps.ttest_rel(b, a).confidence_interval(0.95)
    assert row["diff_mean"] == pytest.approx(np.mean(b - a))
    assert row["diff_ci95_low"] == pytest.approx(ci.low)
    assert row["diff_ci95_high"] == pytest.approx(ci.high)
    assert row["mean"] == pytest.approx(b.mean()) and row["baseline_mean"] == pytest.approx(a.mean())


def test_same_scenario_same_seed_has_zero_difference(comparison):
    same = comparison.table[comparison.table["scenario"] == "same"]
    finite = same.dropna(subset=["diff_mean"])
    assert np.all(finite["diff_mean"] == 0)
    assert np.all(same["p_better"].dropna() == 0.5)  # every pair ties
    assert np.all(same["n_equal"] == same["n_pairs"])


def test_volumes_get_no_verdict_and_every_row_counts_its_pairs(comparison):
    table = comparison.table.set_index(["metric", "scenario"])
    for metric in ("mqls", "dials", "losses", "churned_mrr_usd", "headcount_end", "leads_won"):
        row = table.loc[(metric, "more_aes")]
        assert row["better"] == "none" and np.isnan(row["p_better"]), metric
    assert table.loc[("exit_arr_usd", "more_aes"), "better"] == "higher"
    assert table.loc[("cac_usd", "more_aes"), "better"] == "lower"
    counts = table[["n_higher", "n_equal", "n_lower"]].sum(axis=1)
    assert (counts == table["n_pairs"]).all()
    # NaN in every run: no role has a quota; no self-service segment, so no trial ends; no
    # contract, so no term ends; a horizon under 12 months, so no trailing-year retention
    horizon = comparison.results["base"].scenario.horizon_months
    undefined_names = [*QUOTA_KPIS, "trial_conversion_rate", "renewal_rate", *(("nrr", "grr") if horizon < 12 else ())]
    undefined = table.index.get_level_values("metric").isin(undefined_names)
    assert (table["n_pairs"][~undefined] == REPS).all() and (table["n_pairs"][undefined] == 0).all()
    row = table.loc[("exit_arr_usd", "more_aes")]
    assert row["diff_pct"] == pytest.approx(row["diff_mean"] / row["baseline_mean"])
    assert row["p_higher"] == pytest.approx((row["n_higher"] + 0.5 * row["n_equal"]) / REPS)


def test_p_better_is_direction_aware(comparison):
    # two more AEs cost more in every replication: for cost (lower is better) they never win
    table = comparison.table.set_index(["metric", "scenario"])
    assert table.loc[("cost_usd", "more_aes"), "p_better"] == 0.0
    assert table.loc[("headcount_end", "more_aes"), "p_higher"] >= 0.5
    # the market is the same: MQLs tie in every replication
    assert table.loc[("mqls", "more_aes"), "p_higher"] == 0.5


def test_p_better_counts_pairs_not_means():
    base = pd.DataFrame({"rep": [0, 1, 2, 3], "wins": [10, 10, 10, 10], "cost_usd": [5, 5, 5, 5]})
    other = pd.DataFrame({"rep": [0, 1, 2, 3], "wins": [11, 9, 12, 10], "cost_usd": [4, 6, 6, 6]})

    class R:
        def __init__(self, kpis):
            self.kpis = kpis

    table = comparison_table({"a": R(base), "b": R(other)}, "a", metrics=("wins", "cost_usd")).set_index("metric")
    assert table.loc["wins", "p_better"] == pytest.approx((2 + 0.5) / 4)
    assert table.loc["cost_usd", "p_better"] == pytest.approx(1 / 4)


def test_series_difference_is_paired(comparison):
    diff = comparison.series_difference("same", "mrr_usd")
    assert np.all(diff.to_numpy() == 0)


def test_compare_rejects_one_scenario():
    base = sim.load_scenario("scenarios/silo.yaml", overrides=SHORT)
    with pytest.raises(ValueError, match="at least two"):
        sim.compare([base], reps=2)


@pytest.mark.integration  # the whole command, figures included
def test_cli_compare_writes_table_and_figures(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "scenarios/silo.yaml", "scenarios/pod.yaml", "--reps", "3", "--workers", "1",
                 "--set", "horizon_months=3", "--out", str(out), "--no-progress"])
    text = capsys.readouterr().out
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    assert tuple(table.columns) == COMPARISON_COLUMNS
    assert set(table["scenario"]) == {"pod"} and set(table["baseline"]) == {"silo"}
    for name in ("mrr_fan.png", "mrr_difference_fan.png", "funnel.png", "kpi_distributions.png",
                 "capacity_demand.png"):
        assert (out / name).stat().st_size > 10_000
    for scenario in ("silo", "pod"):
        assert (out / scenario / "replications.parquet").exists()
    assert "P(better)" in text and "exit ARR (USD)" in text and "change" in text
    assert "MQLs (count)" in text and "same in every replication" in text  # the same market in both
    assert "teams of 'pod'" in text  # per-team reporting for the POD org


def test_rounding_differences_are_ties():
    """The same cost summed in another order differs in its last bits: that is a tie, not a difference."""
    base = pd.DataFrame({"rep": [0, 1, 2], "cost_usd": [4_098_059.1, 4_000_000.0, 3_900_000.0]})
    other = pd.DataFrame({"rep": [0, 1, 2], "cost_usd": [4_098_059.1 + 4.7e-10, 4_000_000.0, 3_900_000.0]})

    class R:
        def __init__(self, kpis):
            self.kpis = kpis

    row = comparison_table({"a": R(base), "b": R(other)}, "a", metrics=("cost_usd",)).iloc[0]
    assert row["n_equal"] == 3 and row["diff_mean"] == 0 and row["p_better"] == 0.5


def test_by_segment_pairs_each_tier_and_its_additive_kpis_sum_to_the_blended(comparison):
    """The silo has two segments: each gets its own paired rows, and for additive KPIs (wins, new
    MRR) the per-segment mean differences add up to the blended one (the same pairs)."""
    table = comparison.by_segment()
    assert set(table["segment"]) == {"smb", "mid_market"}
    assert set(table["scenario"]) == {"more_aes", "same"}
    blended = comparison.table.set_index(["metric", "scenario"])
    for metric in ("wins", "new_mrr_usd", "sqls"):
        rows = table[(table["metric"] == metric) & (table["scenario"] == "more_aes")]
        assert len(rows) == 2
        assert rows["diff_mean"].sum() == pytest.approx(blended.loc[(metric, "more_aes"), "diff_mean"], rel=1e-9)
    same = table[table["scenario"] == "same"]
    assert (same["n_equal"] == same["n_pairs"]).all()  # a scenario against itself: every pair tied
    # each tier's KPI goes the way of the org's: a lower CAC is better, SQLs are higher-better
    directions = dict(zip(table["metric"], table["better"], strict=False))
    assert directions["cac_usd"] == "lower" and directions["cac_payback_months"] == "lower"
    assert directions["wins"] == "higher"
    for _, row in table[(table["metric"] == "cac_usd") & (table["scenario"] == "more_aes")].iterrows():
        better = row["n_lower"] + 0.5 * row["n_equal"]  # ties count half
        assert row["p_better"] == pytest.approx(better / row["n_pairs"])
    from sim.present.text import segment_comparison_text

    text = segment_comparison_text(table)
    assert "mid_market" in text and "deals won (count)" in text and "same in every replication" in text
