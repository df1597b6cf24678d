"""Sweeps and break-evens (sim.runs.sweep, ``salesim sweep``): bad input is refused before anything
runs; a point's numbers are those of a separate run; a break-even is found where it is; a sweep
resumes to identical tables."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli.main import main
from sim.runs.sweep import SweepInputError, Vary, sweep, yaml_number

ONE_MONTH = ["horizon_months=1"]


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(("text", "message"), [
    ("handoff.leakage_probability=0.1:0.2:0", "STEP must be above zero"),
    ("handoff.leakage_probability=0.3:0.2:0.1", "LOW (0.3) is above HIGH (0.2)"),
    ("handoff.leakage_probability", "expected PATH=LOW:HIGH:STEP"),
    ("handoff.leakage_probability=a:b:c", "must be numbers"),
    ("handoff.leakage_probability=1:2:3:4", "expected LOW:HIGH:STEP"),
])
def test_a_malformed_vary_is_refused(text: str, message: str) -> None:
    with pytest.raises(SweepInputError) as caught:
        Vary.parse(text)
    assert message in str(caught.value) and text in str(caught.value)


def test_grid_values_are_tidy_and_include_high() -> None:
    assert Vary.parse("x=0.1:0.3:0.1").grid_values() == [0.1, 0.2, 0.3]
    assert Vary.parse("x=0:1:0.4").grid_values() == [0.0, 0.4, 0.8]
    assert Vary.parse("x=3,1,2").grid_values() == [1.0, 2.0, 3.0]
    assert Vary.parse("pod:a.b=1:2:1").label == "pod:a.b"


def test_numbers_are_written_so_yaml_reads_them_back() -> None:
    import yaml

    for value in (1e-05, 0.1, 2.5e20, 7.0, 0.30000000000000004):
        assert yaml.safe_load(yaml_number(value)) == value
    assert yaml_number(7.0, integer=True) == "7"


# --------------------------------------------------------------------------- bad input, before any run


@pytest.mark.parametrize(("vary", "message"), [
    ("handoff.leakge_probability=0.1:0.2:0.1", "did you mean 'handoff.leakage_probability'?"),
    ("handoff.leakage_probability=0.5:1.3:0.4", "at 1.3"),
    ("inbound.business_hours_only=0:1:1", "not a number field"),
    ("segments.smb.mrr_usd=1:2:1", "vary one of its numbers, e.g. segments.smb.mrr_usd.median"),
    ("roles.ae.headcount=1:2:0.5", "holds whole numbers"),
    ("nobody:handoff.leakage_probability=0.1:0.2:0.1", "no scenario named 'nobody'"),
])
def test_bad_sweep_input_is_refused_before_any_replication(minimal_path: Path, tmp_path: Path, vary: str,
                                                           message: str) -> None:
    with pytest.raises(SweepInputError) as caught:
        sweep(minimal_path, [vary], reps=1, workers=1, out=tmp_path / "out")
    assert message in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_the_cli_exits_2_with_the_message(minimal_path: Path, tmp_path: Path, capsys) -> None:
    code = main(["sweep", str(minimal_path), "--vary", "handoff.leakage_probability=0.5:1.3:0.4", "--reps", "1",
                 "--out", str(tmp_path / "out"), "--workers", "1"])
    assert code == 2
    text = capsys.readouterr().err
    assert "handoff.leakage_probability" in text and "less than or equal to 1" in text
    assert not (tmp_path / "out").exists()
    assert main(["sweep", str(minimal_path), "--vary", "x=1:0:1", "--out", str(tmp_path / "o2")]) == 2
    assert main(["sweep", str(minimal_path), "--vary", "inbound.qualify_probability=0.1:0.2:0.1",
                 "--metric", "exit_ar", "--out", str(tmp_path / "o3")]) == 2
    assert "did you mean 'exit_arr_usd'" in capsys.readouterr().err


# --------------------------------------------------------------------------- numbers


def test_a_point_equals_a_separate_run_bit_for_bit(minimal_path: Path) -> None:
    result = sweep(minimal_path, ["inbound.qualify_probability=0.2,0.45"], reps=3, seed=5, workers=1,
                   overrides=ONE_MONTH)
    for value in (0.2, 0.45):
        alone = sim.run(sim.load_scenario(minimal_path, [*ONE_MONTH, f"inbound.qualify_probability={value}"]),
                        reps=3, seed=5, workers=1)
        got = result.kpis[result.kpis["inbound.qualify_probability"] == value]
        pd.testing.assert_frame_equal(got[["rep", *alone.kpis.columns[1:]]].reset_index(drop=True), alone.kpis)


def test_break_even_of_a_win_probability_against_a_fixed_one(minimal_path: Path, tmp_path: Path) -> None:
    """Scenario 'alt' differs from 'base' only in its meeting pass probability, varied around base's
    0.6. Under common random numbers the two are the same world at 0.6, so the paired difference in
    wins crosses zero there: the hand-computed break-even is 0.6, and it must lie in the CI."""
    result = sweep({"base": minimal_path, "alt": minimal_path},
                   ["alt:segments.smb.opportunity.pass_probability=0.45:0.75:0.1"], reps=6, seed=3, workers=1,
                   metric="wins", out=tmp_path / "be")
    found = result.break_even()
    assert found.value is not None and len(found.crossings) == 1
    assert found.ci_low <= 0.6 <= found.ci_high
    assert found.better_below == "base" and found.better_above == "alt"
    from sim.present.sensitivity_text import break_even_text

    text = break_even_text(found)
    assert text.startswith("base beats alt on wins while alt's segments.smb.opportunity.pass_probability stays below")
    # the baseline does not depend on alt's field: it ran once, and every point holds the same numbers
    base = result.kpis[result.kpis["scenario"] == "base"]
    assert base.groupby("rep")["wins"].nunique().max() == 1
    summary = pd.read_csv(tmp_path / "be" / "sweep_summary.csv")
    assert len(summary) == 2 * 4 and set(summary["scenario"]) == {"base", "alt"}
    table = pd.read_parquet(tmp_path / "be" / "sweep.parquet")
    pd.testing.assert_frame_equal(table, result.kpis)


def test_break_even_with_no_crossing_says_so() -> None:
    from sim.present.sensitivity_text import break_even_text
    from sim.runs.sweep import break_even

    diffs = np.array([[3.0, 4.0, 5.0], [2.0, 2.5, 3.0], [1.0, 1.5, 2.0]])
    found = break_even(diffs, np.array([0.1, 0.2, 0.3]), parameter="x.leakage_probability", scenario="pod",
                       baseline="silo", metric="exit_arr_usd")
    assert found.value is None
    assert "pod beats silo on exit ARR over the whole range" in break_even_text(found)
    assert "no break-even in the range" in break_even_text(found)
    crossing = break_even(diffs - 2.0, np.array([0.1, 0.2, 0.3]), parameter="x.leakage_probability",
                          scenario="pod", baseline="silo", metric="exit_arr_usd")
    assert crossing.value == pytest.approx(0.2 + 0.1 * 0.5 / 1.0)  # means 2, 0.5, -0.5
    assert "pod beats silo on exit ARR while x.leakage_probability stays below 25%" in break_even_text(crossing)


def test_a_sweep_with_missing_chunks_resumes_to_identical_tables(minimal_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = dict(reps=3, seed=2, workers=1, overrides=ONE_MONTH, out=out)
    first = sweep(minimal_path, ["inbound.qualify_probability=0.2:0.4:0.2"], **args)
    # as if killed: one point's folder lost a chunk, another never started
    chunks = sorted((out / "points" / "00000" / "minimal" / "chunks").glob("*.kpis.parquet"))
    chunks[0].unlink()
    import shutil

    shutil.rmtree(out / "points" / "00001")
    again = sweep(minimal_path, ["inbound.qualify_probability=0.2:0.4:0.2"], **args)
    pd.testing.assert_frame_equal(first.kpis, again.kpis)
    with pytest.raises(Exception, match="another sweep"):
        sweep(minimal_path, ["inbound.qualify_probability=0.2:0.4:0.1"], **args)


def test_lhs_points_lie_in_their_ranges_and_whole_number_fields_are_rounded(minimal_path: Path) -> None:
    from sim.runs.sweep import Parameter, ScenarioSource, check_inputs, lhs_design

    varies = [Vary.parse("roles.mdr.dials_per_day=20:80"), Vary.parse("inbound.max_wait_days=1:5")]
    source = ScenarioSource.load(minimal_path)
    integer = check_inputs({"minimal": source}, [Parameter("roles.ae.headcount")], {"roles.ae.headcount": [1, 2]},
                           {"roles.ae.headcount": "--vary"})
    assert integer == {"roles.ae.headcount": True}
    points = lhs_design(varies, 8, seed=1)
    values = np.array([[p[v.label] for v in varies] for p in points])
    assert values.shape == (8, 2)
    assert (values[:, 0] >= 20).all() and (values[:, 0] <= 80).all()
    # a Latin hypercube: one point in each of the 8 strata of each input
    strata = np.floor((values[:, 1] - 1) / 4 * 8)
    assert sorted(strata) == list(range(8))
    assert not math.isnan(values.sum())


def test_the_cli_writes_tables_and_figures_and_says_the_break_even(minimal_path: Path, variant, tmp_path: Path,
                                                                   capsys) -> None:
    alt, _ = variant("alt.yaml", ("name: minimal", "name: alt"))
    out = tmp_path / "cli"
    code = main(["sweep", str(minimal_path), str(alt), "--vary", "alt:segments.smb.opportunity.pass_probability="
                 "0.45:0.75:0.1", "--reps", "3", "--seed", "3", "--metric", "wins", "--set", "horizon_months=1",
                 "--workers", "1", "--out", str(out), "--break-even", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "break-even: " in printed and "alt's segments.smb.opportunity.pass_probability" in printed
    assert (out / "sweep_alt_segments.smb.opportunity.pass_probability.png").stat().st_size > 10_000
    expected = sweep({"minimal": minimal_path, "alt": alt}, ["alt:segments.smb.opportunity.pass_probability="
                     "0.45:0.75:0.1"], reps=3, seed=3, metric="wins", overrides=ONE_MONTH, workers=1)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), expected.kpis)  # --set applied


def test_two_parameters_on_a_grid_make_a_heat_map(minimal_path: Path, variant, tmp_path: Path) -> None:
    from sim.present.sensitivity_plots import save_sweep_figures

    alt, _ = variant("alt.yaml", ("name: minimal", "name: alt"))
    result = sweep([minimal_path, alt], ["alt:inbound.qualify_probability=0.2,0.4", "inbound.max_wait_days=2,8"],
                   reps=2, seed=1, workers=1, overrides=ONE_MONTH)
    assert len(result.points) == 4 and result.summary()["diff_mean"].notna().sum() == 4
    paths = save_sweep_figures(result, tmp_path / "figures")
    assert [p.name for p in paths] == ["sweep_alt_inbound.qualify_probability.png",
                                       "sweep_inbound.max_wait_days.png", "sweep_heatmap.png"]
