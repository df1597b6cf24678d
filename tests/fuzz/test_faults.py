"""Faults against real processes: SIGTERM, kill -9, a damaged chunk, two runs into one folder.

Each test starts ``python -m sim.cli run`` on a scaled-down 12-month silo with 2 workers (in its
own process group), does something bad to it, and then checks that (a) no process of the group is
left, (b) the folder says what happened, and (c) running the same command again ends with tables
identical to an uninterrupted run's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from scenario_builders import small_silo_yaml

from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_TERMINATED

pytestmark = pytest.mark.integration

REPS, SEED, TIMEOUT = 96, 41, 300
TABLES = ("replications.parquet", "timeseries.parquet", "summary.csv")


def command(scenario: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "sim.cli", "run", str(scenario), "--reps", str(REPS), "--seed", str(SEED),
            "--workers", "2", "--out", str(out), "--no-progress"]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def gone(pgid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not group_alive(pgid)


def chunks(out: Path) -> list[Path]:
    return sorted((out / "chunks").glob("chunk-*.kpis.parquet")) if (out / "chunks").is_dir() else []


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=log.parent)


def wait_for_chunks(proc: subprocess.Popen, out: Path, at_least: int = 2, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(chunks(out)) < at_least:
        assert proc.poll() is None, "the run ended before it could be stopped; raise REPS"
        assert time.monotonic() < deadline, "no chunk saved in time"
        time.sleep(0.02)


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def assert_same_tables(out: Path, reference: Path) -> None:
    for table in TABLES[:2]:
        assert_frame_equal(pd.read_parquet(out / table), pd.read_parquet(reference / table), check_exact=True)
    assert (out / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()
    assert manifest(out)["status"] == "complete"


def rerun(scenario: Path, out: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(command(scenario, out), capture_output=True, text=True, timeout=TIMEOUT, cwd=out.parent)
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "silo_small.yaml"
    path.write_text(small_silo_yaml(horizon_months=12), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(scenario: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    rerun(scenario, out)
    return out


@pytest.fixture
def groups():
    started: list[int] = []
    yield started
    for pgid in started:
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


@pytest.mark.parametrize("to", ["main", "group"])
def test_sigterm_stops_like_ctrl_c_and_resumes(scenario, reference, tmp_path, groups, to) -> None:
    """``kill PID`` (the main process) or a job scheduler's SIGTERM to every process of the run."""
    out = tmp_path / "out"
    proc = start(command(scenario, out), tmp_path / "log.txt")
    groups.append(proc.pid)
    wait_for_chunks(proc, out)
    if to == "main":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    log = (tmp_path / "log.txt").read_text()
    assert proc.returncode == EXIT_TERMINATED, log
    assert "interrupted by SIGTERM" in log and "Run the same command again to resume" in log
    assert "Traceback" not in log
    assert manifest(out)["status"] == "interrupted"
    assert gone(proc.pid), "pool workers outlived a SIGTERM of the run"
    rerun(scenario, out)
    assert_same_tables(out, reference)


def test_kill_9_leaves_no_process_and_the_next_run_takes_the_lock_over(scenario, reference, tmp_path,
                                                                        groups) -> None:
    out = tmp_path / "out"
    proc = start(command(scenario, out), tmp_path / "log.txt")
    groups.append(proc.pid)
    wait_for_chunks(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert gone(proc.pid), "the fork server or pool workers outlived a kill -9 of the run"
    assert manifest(out)["status"] == "running"  # nobody could record it
    done = rerun(scenario, out)
    assert f"took over the lock of a run that ended without releasing it (PID {proc.pid}" in done.stderr
    assert_same_tables(out, reference)


def test_a_damaged_chunk_is_recomputed(scenario, reference, tmp_path) -> None:
    out = tmp_path / "out"
    rerun(scenario, out)
    damaged = chunks(out)[3]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 3])
    series = chunks(out)[5].with_name(chunks(out)[5].name.replace(".kpis.", ".series."))
    series.write_bytes(os.urandom(series.stat().st_size))
    for table in TABLES:
        (out / table).unlink()
    done = rerun(scenario, out)
    assert done.stderr.count("cannot be read") == 2, done.stderr
    assert damaged.name in done.stderr
    assert_same_tables(out, reference)


def test_two_runs_into_one_folder_the_second_is_refused(scenario, reference, tmp_path, groups) -> None:
    out = tmp_path / "out"
    first = start(command(scenario, out), tmp_path / "first.txt")
    groups.append(first.pid)
    wait_for_chunks(first, out, at_least=1)
    second = subprocess.run(command(scenario, out), capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert second.returncode == EXIT_BAD_INPUT
    assert f"is being written by another salesim run (PID {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.wait(timeout=TIMEOUT) == EXIT_OK, (tmp_path / "first.txt").read_text()
    assert gone(first.pid)
    assert_same_tables(out, reference)
    assert not [p for p in out.rglob("*.tmp")]
