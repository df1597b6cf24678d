"""Sweeps across processes: a killed ``salesim sweep`` resumes to identical tables; 1 and 2 workers
and a Dask cluster give identical tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.runs.sweep import sweep

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["horizon_months=2"]
VARY = "pod:org.pod_handoff.leakage_probability=0:0.1:0.05"
FILES = [ROOT / "scenarios" / "silo.yaml", ROOT / "scenarios" / "pod.yaml"]


def test_one_and_two_workers_and_dask_give_identical_tables(tmp_path: Path) -> None:
    one = sweep(FILES, [VARY], reps=3, seed=7, overrides=SHORT, workers=1)
    two = sweep(FILES, [VARY], reps=3, seed=7, overrides=SHORT, workers=2, out=tmp_path / "two")
    pd.testing.assert_frame_equal(one.kpis, two.kpis)
    pd.testing.assert_frame_equal(one.summary(), two.summary())
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        on_dask = sweep(FILES, [VARY], reps=3, seed=7, overrides=SHORT, executor=client.get_executor())
    pd.testing.assert_frame_equal(one.kpis, on_dask.kpis)


def test_a_killed_sweep_resumes_to_identical_tables(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "sim.cli", "sweep", *map(str, FILES), "--vary", VARY, "--reps", "6",
               "--seed", "3", "--set", SHORT[0], "--out", str(out), "--workers", "2", "--no-progress",
               "--no-figures"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
                            start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if len(list(out.glob("points/*/*/chunks/*.kpis.parquet"))) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (out / "sweep.parquet").exists()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    resumed = pd.read_parquet(out / "sweep.parquet")
    whole = sweep(FILES, [VARY], reps=6, seed=3, overrides=SHORT, workers=2)
    pd.testing.assert_frame_equal(resumed, whole.kpis)
    summary = pd.read_csv(out / "sweep_summary.csv")
    assert len(summary) == 3 * 2

