"""A replication that raises is recorded and reported; the others are saved; rerunning fixes it.

The failure is injected by patching :func:`replication.simulate_one`, which
:func:`monte_carlo.run_chunk` calls for every replication; ``workers=1`` (or a thread
pool) runs the chunks in this process, so the patch applies.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pandas.testing
import pytest
from scenario_builders import small_silo_yaml

from sim.cli import main
from sim.cli.common import EXIT_FAILED, EXIT_OK
from sim.runs import monte_carlo, replication
from sim.scenario import Scenario, load_scenario

SCENARIO = small_silo_yaml(horizon_months=3)
REPS = 4
SEED = 17
BAD_REP = 2  # not the last: the replication after it still runs
MESSAGE = "injected failure in the model"


def assert_identical(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes, index and bit-identical values."""
    pandas.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "silo_small.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def scenario(scenario_file: Path) -> Scenario:
    return load_scenario(scenario_file)


@pytest.fixture
def patch_model(monkeypatch: pytest.MonkeyPatch):
    """``patch_model(bad)``: replications in ``bad`` (all if None) raise; returns those attempted."""
    real = replication.simulate_one

    def patch(bad: set[int] | None) -> list[int]:
        attempted: list[int] = []

        def simulate_one(scenario, seed=replication.DEFAULT_SEED, replication=0):
            attempted.append(replication)
            if bad is None or replication in bad:
                raise RuntimeError(MESSAGE)
            return real(scenario, seed, replication)

        monkeypatch.setattr(replication, "simulate_one", simulate_one)
        return attempted

    return patch


@pytest.fixture
def failing(patch_model) -> list[int]:
    """Replication BAD_REP raises."""
    return patch_model({BAD_REP})


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def kpi_files(out: Path) -> set[str]:
    return {p.name for p in (out / "chunks").glob("*.kpis.parquet")}


def check_failure_record(record: dict) -> None:
    assert record["rep"] == BAD_REP
    assert record["seed"] == SEED
    assert record["error"] == f"RuntimeError: {MESSAGE}"
    assert record["traceback"].startswith("Traceback (most recent call last)")
    assert MESSAGE in record["traceback"] and "simulate_one" in record["traceback"]


def test_failure_is_recorded_and_the_rest_saved(scenario, failing, tmp_path):
    out = tmp_path / "out"
    result = monte_carlo.run(scenario, reps=REPS, seed=SEED, workers=1, out=out)
    assert sorted(failing) == list(range(REPS))  # every replication was attempted
    assert len(result.failures) == 1
    check_failure_record(result.failures[0])
    good = [r for r in range(REPS) if r != BAD_REP]
    assert result.kpis["rep"].tolist() == good
    assert sorted(result.timeseries["rep"].unique().tolist()) == good
    assert pd.read_parquet(out / "replications.parquet")["rep"].tolist() == good
    m = manifest(out)
    assert m["status"] == "failed"
    assert m["reps_requested"] == REPS and m["reps_completed"] == REPS - 1
    assert len(m["failures"]) == 1
    check_failure_record(m["failures"][0])


def test_failure_in_memory_and_on_a_thread_pool(scenario, failing):
    with ThreadPoolExecutor(max_workers=2) as pool:
        result = monte_carlo.run(scenario, reps=REPS, seed=SEED, executor=pool, chunk_size=2)
    assert [f["rep"] for f in result.failures] == [BAD_REP]
    check_failure_record(result.failures[0])
    assert result.kpis["rep"].tolist() == [r for r in range(REPS) if r != BAD_REP]
    # the failed replication's chunk-mate (rep 3: chunks of two) was still computed and kept
    assert 3 in result.kpis["rep"].tolist()


def test_cli_exits_1_with_a_short_summary(scenario_file, failing, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(scenario_file), "--no-figures", "--reps", str(REPS), "--seed", str(SEED), "--workers", "1",
                 "--out", str(out), "--no-progress"])
    stdout, stderr = capsys.readouterr()
    assert code == EXIT_FAILED
    assert "Traceback (most recent call last)" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert f"1 replication(s) failed (reps {BAD_REP})" in lines[0]
    assert MESSAGE in lines[0] and "manifest.json" in lines[0]
    assert f"{REPS - 1} replications" in stdout  # the summary of the others is still printed


def test_rerun_computes_only_the_failed_replication(scenario, scenario_file, tmp_path, patch_model, capsys):
    out = tmp_path / "out"
    args = ["run", str(scenario_file), "--no-figures", "--reps", str(REPS), "--seed", str(SEED), "--workers", "1",
            "--out", str(out), "--no-progress"]
    patch_model({BAD_REP})
    assert main(args) == EXIT_FAILED
    before = kpi_files(out)

    attempted = patch_model(set())  # the bug is fixed: run the same command again
    capsys.readouterr()
    assert main(args) == EXIT_OK
    _, stderr = capsys.readouterr()
    assert stderr == ""
    assert attempted == [BAD_REP]
    assert kpi_files(out) - before == {f"chunk-{BAD_REP:07d}-{BAD_REP:07d}-1.kpis.parquet"}
    m = manifest(out)
    assert m["status"] == "complete" and m["failures"] == []
    assert m["reps_completed"] == REPS
    clean = monte_carlo.run(scenario, reps=REPS, seed=SEED, workers=1)
    assert_identical(pd.read_parquet(out / "replications.parquet"), clean.kpis)
    assert_identical(pd.read_parquet(out / "timeseries.parquet"), clean.timeseries)


def test_every_replication_failing_is_reported_not_a_crash(scenario_file, tmp_path, patch_model, capsys):
    patch_model(None)
    out = tmp_path / "out"
    code = main(["run", str(scenario_file), "--no-figures", "--reps", "2", "--seed", str(SEED), "--workers", "1",
                 "--out", str(out), "--no-progress"])
    _, stderr = capsys.readouterr()
    assert code == EXIT_FAILED
    assert "Traceback (most recent call last)" not in stderr
    assert "2 replication(s) failed (reps 0, 1)" in stderr
    assert manifest(out)["status"] == "failed"
