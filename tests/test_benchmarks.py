"""Smoke tests of the benchmark scripts' measuring parts (not of their timings).

The scripts live outside the package; a change to the calendar once made their event counters
silently read zero. These run their counting and baseline functions (at ref and at ref×4) on one
simulated month.
"""

from __future__ import annotations

import importlib.util
import sys
from argparse import Namespace
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

import sim

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench_perf() -> ModuleType:
    return _load("bench_perf")


def test_salesim_steps_are_counted_and_the_count_is_reproducible(bench_perf: ModuleType) -> None:
    scenario = bench_perf.salesim_scenario(1, months=1)
    first = bench_perf.salesim_counted(scenario, 3, 0)
    again = bench_perf.salesim_counted(scenario, 3, 0)
    # about 2.45 calendar steps per MQL: arrivals, cadence ends, hand-offs, closes, hiring, books
    assert 1.5 * first["mqls"] < first["events"] < 4 * first["mqls"]
    assert first == again


def test_plain_simpy_baselines_do_the_same_work(bench_perf: ModuleType) -> None:
    per_dial = bench_perf.baseline(3, 0, per_dial=True, months=1, env_class=bench_perf.CountingEnvironment)
    per_lead = bench_perf.baseline(3, 0, per_dial=False, months=1, env_class=bench_perf.CountingEnvironment)
    assert per_dial["mqls"] == per_lead["mqls"] > 1000
    assert per_dial["events"] > per_lead["events"] > per_lead["mqls"]
    assert per_dial["dials"] > 5 * per_dial["mqls"]


def test_scaled_workload_multiplies_headcounts_and_lead_rate_only(bench_perf: ModuleType) -> None:
    ref = bench_perf.REF
    x4 = bench_perf.scaled_workload(4)
    assert (x4.sdrs, x4.aes, x4.mqls_per_month) == (4 * ref.sdrs, 4 * ref.aes, 4 * ref.mqls_per_month)
    assert replace(x4, sdrs=ref.sdrs, aes=ref.aes, mqls_per_month=ref.mqls_per_month) == ref
    assert ref == bench_perf.Workload() and bench_perf.scaled_workload(1) == ref  # no global was touched
    with pytest.raises(ValueError):
        bench_perf.scaled_workload(0)


def test_scaled_baseline_does_scaled_work(bench_perf: ModuleType) -> None:
    counting = bench_perf.CountingEnvironment
    ref = bench_perf.baseline(3, 0, per_dial=False, months=1, env_class=counting)
    x4 = bench_perf.baseline(3, 0, per_dial=False, months=1, env_class=counting,
                             workload=bench_perf.scaled_workload(4))
    # Poisson arrivals: 4 × 2,000 ± 1.5% against 2,000 ± 3%; every lead costs about the same events
    for key in ("mqls", "dials", "events"):
        assert 3.6 * ref[key] < x4[key] < 4.4 * ref[key], key
    assert x4["events"] > x4["mqls"] > 7000


def test_scaled_baselines_are_optional_models_with_their_own_repeats(bench_perf: ModuleType) -> None:
    assert set(bench_perf.SCALE) == set(bench_perf.MODELS)
    scaled = {m for m in bench_perf.BASELINES if bench_perf.SCALE[m] > 1}
    assert scaled == {"b4", "b16"} and not scaled & set(bench_perf.DEFAULT_MODELS)
    assert all(bench_perf.SCALE[bench_perf.BASELINES[m]] == 1 for m in bench_perf.BASELINES)
    args = Namespace(repeats=5, repeats_scaled=3, repeats_baseline=4, repeats_scaled_baseline=1)
    assert [bench_perf.repeats_of(m, args) for m in ("a", "b", "b4", "b16", "ref", "ref16")] == [4, 4, 1, 1, 5, 3]


def test_bench_core_counts_steps_of_the_silo() -> None:
    bench_core = _load("bench_core")
    scenario = sim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml",
                                 overrides=["horizon_months=1"])
    counts = bench_core.count_replication(scenario, 3, 0)
    assert counts["leads"] > 0 and counts["events"] > counts["leads"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_childs_peak_memory_is_its_own_not_its_parents() -> None:
    """Linux carries ``ru_maxrss`` over through fork and exec: each configuration's child process
    would report at least its parent's size. The benchmark reads the child's own ``VmHWM``."""
    import subprocess

    ballast = b"x" * (300 * 2**20)  # this process now holds 300 MiB more
    code = f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import bench_perf; print(bench_perf.peak_rss_mb())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(ballast) == 300 * 2**20
    assert float(out.stdout) < 250.0  # numpy and simpy: ~35 MiB; the parent's figure would be > 300
