"""The numbers do not depend on where replications run: in-process, a local process pool, a
thread pool or a Dask cluster, in chunks of any size.

Uses ``scenarios/silo.yaml`` scaled down to a quarter of its volume over 3 months
(~0.03 s per replication; the results must be equal bit for bit, which needs no long horizon:
6 months made every run of 12 replications 2.7 times as long, 0.86 s of CPU instead of 0.32).
Six replications (twelve until the default tier was trimmed) still split into several chunks of
every size tried, uneven ones included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pandas.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_builders import SMALL_SILO

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT
from sim.runs import executors, monte_carlo, results
from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SILO = ROOT / "scenarios" / "silo.yaml"
MONTHS = 3
SMALL = [*SMALL_SILO, f"horizon_months={MONTHS}"]
REPS = 6
SEED = 99


def assert_identical(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, dtypes, index and bit-identical values."""
    pandas.testing.assert_frame_equal(left, right, check_exact=True)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SILO, SMALL)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same small scenario as a file (``extends:`` the shipped silo)."""
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    lines = [f"extends: {SILO}"]
    lines += ["inbound: {mqls_per_month: 100}", "outbound: {prospects_per_rep_month: 120}", f"horizon_months: {MONTHS}"]
    lines += ["roles: {mdr: {dials_per_day: 60}, sdr: {dials_per_day: 40}, ae: {max_open_opportunities: 7}}"]
    lines += ["warm_start: {customers: [], pipeline: []}"]  # SMALL_SILO's warm_start={}: a cold start
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline(scenario: Scenario) -> results.RunResult:
    """In this process, one replication at a time."""
    result = monte_carlo.run(scenario, reps=REPS, seed=SEED, workers=1)
    assert not result.failures
    assert result.reps == REPS
    return result


def assert_same_results(got: results.RunResult, want: results.RunResult) -> None:
    assert not got.failures
    assert_identical(got.kpis, want.kpis)
    assert_identical(got.timeseries, want.timeseries)


def test_file_and_overrides_give_the_same_scenario(scenario, scenario_file):
    assert load_scenario(scenario_file).sha256() == scenario.sha256()


def test_baseline_tables_are_ordered(baseline):
    assert baseline.kpis["rep"].tolist() == list(range(REPS))
    ts = baseline.timeseries
    assert ts.equals(ts.sort_values(["rep", "series", "month"], kind="stable").reset_index(drop=True))


def test_own_process_pool_matches_in_process(scenario, baseline):
    assert_same_results(monte_carlo.run(scenario, reps=REPS, seed=SEED, workers=2), baseline)


def test_thread_pool_matches_in_process(scenario, baseline):
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = monte_carlo.run(scenario, reps=REPS, seed=SEED, executor=pool, chunk_size=2)
    assert_same_results(got, baseline)


@pytest.mark.parametrize("chunk_size", [1, 4])
def test_chunk_size_does_not_change_results(scenario, baseline, chunk_size):
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = monte_carlo.run(scenario, reps=REPS, seed=SEED, executor=pool, chunk_size=chunk_size)
    assert_same_results(got, baseline)


@pytest.mark.parametrize(("chunk_size", "files"), [(1, REPS), (4, 2)])
def test_results_folder_matches_in_memory_for_any_chunk_size(scenario, baseline, tmp_path, chunk_size, files):
    """A run saved to a folder reads back equal to the in-memory run, whatever its chunking."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = monte_carlo.run(scenario, reps=REPS, seed=SEED, executor=pool, chunk_size=chunk_size,
                             out=tmp_path)
    assert_same_results(got, baseline)
    assert len(list((tmp_path / "chunks").glob("*.kpis.parquet"))) == files
    assert_identical(pd.read_parquet(tmp_path / "replications.parquet"), baseline.kpis)
    assert_identical(pd.read_parquet(tmp_path / "timeseries.parquet"), baseline.timeseries)


def test_other_seed_differs(scenario, baseline):
    """The control: equality above is not because results ignore the seed."""
    other = monte_carlo.run(scenario, reps=2, seed=SEED + 1, workers=1)
    assert not other.kpis["exit_arr_usd"].equals(baseline.kpis["exit_arr_usd"].iloc[:2])


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.integration
def test_dask_cluster_matches_in_process(scenario, baseline, dask_client):
    got = monte_carlo.run(scenario, reps=REPS, seed=SEED, executor=dask_client.get_executor())
    assert_same_results(got, baseline)
    # the work really ran on the cluster's worker processes
    assert len(dask_client.scheduler_info()["workers"]) == 2


# --------------------------------------------------------------------------- bad executors (CLI)


@pytest.mark.integration
def test_unreachable_scheduler_exits_2_quickly_without_traceback(scenario_file, tmp_path):
    pytest.importorskip("distributed")
    cmd = [sys.executable, "-m", "sim.cli", "run", str(scenario_file), "--reps", "2", "--no-progress",
           "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "out")]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert proc.returncode == EXIT_BAD_INPUT, proc.stderr
    assert elapsed < 30
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("salesim: ") and "tcp://127.0.0.1:1" in lines[0]
    assert proc.stdout == ""


def test_zero_workers_exits_2(scenario_file, tmp_path, capsys):
    code = main(["run", str(scenario_file), "--reps", "2", "--workers", "0", "--no-progress",
                 "--out", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert "--workers" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_zero_workers_rejected_by_the_api(scenario):
    with pytest.raises(executors.ExecutorError):
        monte_carlo.run(scenario, reps=2, workers=0)
    with pytest.raises(executors.ExecutorError):
        executors.process_pool(0)


class _DyingExecutor(ThreadPoolExecutor):
    """Runs the first task, then behaves like a pool whose worker process was killed."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.calls = 0

    def submit(self, fn, *args, **kwargs):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        self.calls += 1
        if self.calls == 1:
            return super().submit(fn, *args, **kwargs)
        future: Future = Future()
        future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
        return future


def test_a_dead_worker_is_reported_and_finished_work_is_kept(scenario, tmp_path):
    import json

    out = tmp_path / "dead"
    with _DyingExecutor() as executor, pytest.raises(executors.ExecutorError, match="a worker died"):
        monte_carlo.run(scenario, reps=4, seed=3, executor=executor, out=out, chunk_size=2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    # resuming with a healthy executor completes the run and matches an uninterrupted one
    resumed = monte_carlo.run(scenario, reps=4, seed=3, workers=1, out=out)
    fresh = monte_carlo.run(scenario, reps=4, seed=3, workers=1)
    assert_identical(resumed.kpis, fresh.kpis)


@pytest.mark.integration
def test_pool_workers_import_the_parents_sim_not_a_sim_folder_in_the_working_directory(tmp_path):
    """Started from a folder that holds another ``sim`` package (as a checkout does beside an
    installed compiled build), the workers still run the parent's ``sim``."""
    import sim

    decoy = tmp_path / "cwd" / "sim"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("")
    (decoy / "runs").mkdir()
    (decoy / "runs" / "__init__.py").write_text("")
    (decoy / "runs" / "executors.py").write_text("def _ignore_sigint():\n    pass\n")  # all a worker would need of it
    script = tmp_path / "scripts" / "run_pool.py"
    script.parent.mkdir()
    # Run as a script from another folder: sys.path[0] is the script's folder, not the working
    # directory (as for the salesim console script).
    script.write_text(
        "import os\n"
        "from sim.runs.executors import process_pool\n"
        "if __name__ == '__main__':\n"
        "    with process_pool(1) as pool:\n"
        "        print(pool.submit(eval, \"__import__('sim').__file__\").result())\n"
        "        print(pool.submit(os.getcwd).result())\n"
        "        print(os.getcwd())\n"
    )
    real_parent = str(Path(sim.__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, str(script)], cwd=decoy.parent, capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": real_parent})
    assert proc.returncode == 0, proc.stderr
    worker_sim, worker_cwd, parent_cwd = proc.stdout.strip().splitlines()
    assert Path(worker_sim).resolve() == Path(sim.__file__).resolve()
    # the fork server is started from the parent's sim's folder; nobody else stays there
    assert Path(worker_cwd) == Path(parent_cwd) == decoy.parent


@settings(deadline=None, max_examples=200)
@given(n=st.integers(0, 400), size=st.integers(1, 25), workers=st.integers(1, 8))
def test_tapered_chunks_cover_every_replication_once_and_end_small(n: int, size: int, workers: int) -> None:
    """The pool's default chunking: the replications in order, each once; no chunk above ``size``
    or above a 1/(2·workers) share of what remains; the last one a single replication."""
    chunks = list(executors.tapered_chunks(list(range(n)), size, workers))
    assert [rep for chunk in chunks for rep in chunk] == list(range(n))
    remaining = n
    for chunk in chunks:
        assert 1 <= len(chunk) <= min(size, max(1, -(-remaining // (2 * workers))))
        remaining -= len(chunk)
    if n:
        assert len(chunks[-1]) == 1


def test_a_pool_run_with_default_chunking_equals_the_in_process_run(scenario, baseline) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = monte_carlo.run(scenario, reps=REPS, seed=SEED, executor=pool, workers=2)
    assert_same_results(got, baseline)


class _RecordingContext:
    def __init__(self) -> None:
        self.preload: list[str] = []

    def set_forkserver_preload(self, names: list[str]) -> None:
        self.preload = list(names)


def test_the_fork_server_starts_in_the_folder_of_the_parents_sim_and_the_parent_stays_put(monkeypatch, tmp_path):
    from multiprocessing import forkserver

    import sim

    seen: list[str] = []
    monkeypatch.setattr(forkserver, "ensure_running", lambda: seen.append(os.getcwd()))
    monkeypatch.chdir(tmp_path)
    ctx = _RecordingContext()
    executors.start_forkserver(ctx)
    assert seen == [str(Path(sim.__file__).resolve().parents[1])]
    assert ctx.preload == list(executors.FORKSERVER_PRELOAD) and "sim.runs.replication" in ctx.preload
    assert os.getcwd() == str(tmp_path)


def test_a_sim_imported_from_a_zip_file_is_not_preloaded(monkeypatch, tmp_path):
    from multiprocessing import forkserver

    seen: list[str] = []
    monkeypatch.setattr(forkserver, "ensure_running", lambda: seen.append(os.getcwd()))
    monkeypatch.setattr(executors, "__file__", str(tmp_path / "app.zip" / "sim" / "runs" / "executors.py"))
    monkeypatch.chdir(tmp_path)
    ctx = _RecordingContext()
    executors.start_forkserver(ctx)
    assert seen == [str(tmp_path)]
    assert ctx.preload == ["numpy", "numpy.random", "numpy.ma", "simpy"]
