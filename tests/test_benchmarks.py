"""Smoke tests of the benchmark scripts' measuring parts (not of their timings).

The scripts live outside the package; a change to the calendar once made their event counters
silently read zero. These run their counting and baseline functions on one simulated month.
"""

from __future__ import annotations

import importlib.util
import sys
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


def test_bench_core_counts_steps_of_the_silo() -> None:
    bench_core = _load("bench_core")
    scenario = sim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml",
                                 overrides=["horizon_months=1"])
    counts = bench_core.count_replication(scenario, 3, 0)
    assert counts["leads"] > 0 and counts["events"] > counts["leads"]
