"""Replications until a target precision: ``run_to_precision`` and ``salesim run --precision``.

Uses ``scenarios/silo.yaml`` scaled down (a quarter of its volume, 6 months, no attrition;
~0.035 s per replication). The coefficient of variation of its exit ARR is ~0.25, so ±15%
needs ~(2 × 0.25 / 0.15)² ≈ 11 replications (14 with this seed, where the first round of 5
reaches ±21%): more than the first round, far below the cap of 200. (A target of ±5% took
~90-110 replications per loop, a dozen seconds of the default test tier for the same checks;
±10% from a first round of 10 took 26, and each loop here runs four times.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pandas.testing
import pytest
from scenario_builders import small_silo_yaml

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.runs import monte_carlo, replication, results, stats
from sim.scenario import Scenario, load_scenario

SCENARIO = small_silo_yaml(horizon_months=6, no_attrition=True)
METRIC = "exit_arr_usd"
TARGET = 0.15
INITIAL = 5
SEED = 23


def assert_identical(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes, index and bit-identical values."""
    pandas.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "silo_small.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scenario(scenario_file: Path) -> Scenario:
    return load_scenario(scenario_file)


@pytest.fixture(scope="module")
def in_memory(scenario: Scenario) -> results.RunResult:
    return monte_carlo.run_to_precision(scenario, metric=METRIC, relative_half_width=TARGET, initial_reps=INITIAL,
                                       max_reps=200, workers=1, seed=SEED)


@pytest.fixture(scope="module")
def plain(scenario: Scenario, in_memory: results.RunResult) -> results.RunResult:
    """A plain run of as many replications as the precision loop took (on 2 processes)."""
    return monte_carlo.run(scenario, reps=in_memory.reps, seed=SEED, workers=2)


@pytest.fixture
def count_simulations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replications simulated in this process (``workers=1``) from now on."""
    real = replication.simulate_one
    attempted: list[int] = []

    def simulate_one(scenario, seed=replication.DEFAULT_SEED, replication=0):
        attempted.append(replication)
        return real(scenario, seed, replication)

    monkeypatch.setattr(replication, "simulate_one", simulate_one)
    return attempted


def test_reaches_the_target(in_memory):
    p = in_memory.precision
    n = in_memory.reps
    assert p["metric"] == METRIC and p["target"] == TARGET
    assert p["reached"] is True
    assert p["reps"] == n
    assert INITIAL < n < 200  # needed more than the first round, but far from the cap
    assert in_memory.kpis["rep"].tolist() == list(range(n))
    achieved = stats.relative_half_width(in_memory.kpis[METRIC])
    assert achieved <= TARGET
    assert p["relative_half_width"] == pytest.approx(achieved, rel=1e-12)
    # the first round alone was not precise enough (otherwise the loop was not exercised)
    assert stats.relative_half_width(in_memory.kpis[METRIC].iloc[:INITIAL]) > TARGET


def test_in_memory_result_equals_a_plain_run_of_as_many_reps(in_memory, plain):
    assert_identical(in_memory.kpis, plain.kpis)
    assert in_memory.seed == SEED
    assert in_memory.failures == []


def test_in_memory_timeseries_equals_a_plain_run(in_memory, plain):
    assert_identical(in_memory.timeseries, plain.timeseries)


def test_stops_at_the_cap(scenario):
    result = monte_carlo.run_to_precision(scenario, metric=METRIC, relative_half_width=0.001, initial_reps=3,
                                         max_reps=5, workers=1, seed=SEED)
    assert result.reps == 5
    assert result.precision["reps"] == 5
    assert result.precision["reached"] is False
    assert result.precision["relative_half_width"] > 0.001


def test_bad_metric_or_target_rejected(scenario):
    with pytest.raises(ValueError, match="nonsense"):
        monte_carlo.run_to_precision(scenario, metric="nonsense", workers=1)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError):
            monte_carlo.run_to_precision(scenario, relative_half_width=bad, workers=1)


def test_with_out_resumes_from_stored_chunks(scenario, in_memory, plain, tmp_path, count_simulations):
    out = tmp_path / "out"
    result = monte_carlo.run_to_precision(scenario, metric=METRIC, relative_half_width=TARGET, initial_reps=INITIAL,
                                         max_reps=200, workers=1, seed=SEED, out=out)
    # every round computed only its new replications: each was simulated exactly once
    assert sorted(count_simulations) == list(range(result.reps))
    assert result.precision == in_memory.precision
    assert_identical(result.kpis, in_memory.kpis)
    assert_identical(result.timeseries, plain.timeseries)
    assert_identical(pd.read_parquet(out / "replications.parquet"), in_memory.kpis)
    assert_identical(pd.read_parquet(out / "timeseries.parquet"), plain.timeseries)

    count_simulations.clear()  # the same call again: everything is already stored
    again = monte_carlo.run_to_precision(scenario, metric=METRIC, relative_half_width=TARGET, initial_reps=INITIAL,
                                        max_reps=200, workers=1, seed=SEED, out=out)
    assert count_simulations == []
    assert_identical(again.kpis, result.kpis)
    assert_identical(again.timeseries, result.timeseries)


def test_cli_reports_the_replications_it_took(scenario_file, in_memory, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(scenario_file), "--no-figures", "--precision", str(TARGET), "--metric", METRIC,
                 "--max-reps", "200", "--reps", str(INITIAL), "--seed", str(SEED), "--workers", "2", "--out", str(out),
                 "--no-progress"])
    stdout, stderr = capsys.readouterr()
    assert code == EXIT_OK, stderr
    match = re.search(rf"precision on {METRIC}: ±([\d.]+)% of the mean after (\d+) replications "
                      rf"\(target ±{re.escape(f'{100 * TARGET:.2f}')}%: reached\)", stdout)
    assert match, stdout
    n = int(match.group(2))
    assert n == in_memory.reps == len(pd.read_parquet(out / "replications.parquet"))
    assert float(match.group(1)) == pytest.approx(100 * in_memory.precision["relative_half_width"], abs=0.005)


def test_cli_unknown_metric_exits_2(scenario_file, tmp_path, capsys):
    code = main(["run", str(scenario_file), "--no-figures", "--precision", "0.05", "--metric", "nonsense",
                 "--workers", "1", "--out", str(tmp_path / "out"), "--no-progress"])
    _, stderr = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert "nonsense" in stderr and "exit_arr_usd" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()
