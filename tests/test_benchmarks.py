"""Smoke tests of the benchmark scripts' measuring parts (not of their timings).

The scripts live outside the package; a change to the calendar once made their event counters
silently read zero. These run their counting and baseline functions (at ref and at ref×4) on one
simulated month.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from argparse import Namespace
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

import sim

pytestmark = pytest.mark.integration  # the benchmark scripts: integration tier (-m integration)

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


def test_the_world_sizes_its_calendar_slots_from_its_lead_rate(bench_perf: ModuleType) -> None:
    """ref: about 66 MQLs a day → 16 slots; ref×16 → 256 (the calendar's heap then holds about
    as many entries at both sizes)."""
    from sim.model.engine.calendar import NativeTimeline, slots_per_day_for
    from sim.model.world import CALENDAR_ENTRIES_PER_LEAD, World, expected_leads_per_day

    ref, ref16 = bench_perf.salesim_scenario(1, months=1), bench_perf.salesim_scenario(16, months=1)
    assert expected_leads_per_day(ref) == pytest.approx(2000 / 30.4375, rel=1e-6)
    assert expected_leads_per_day(ref16) == pytest.approx(16 * expected_leads_per_day(ref))
    assert slots_per_day_for(CALENDAR_ENTRIES_PER_LEAD * expected_leads_per_day(ref)) == 16
    assert slots_per_day_for(CALENDAR_ENTRIES_PER_LEAD * expected_leads_per_day(ref16)) == 256
    timeline = World(ref16, 1, 0).timeline
    if isinstance(timeline, NativeTimeline):
        assert timeline.slots_per_day == 256


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


def test_split_replications_gives_each_round_consecutive_distinct_reps(bench_perf: ModuleType) -> None:
    split = bench_perf.split_replications
    assert split(5, 3) == [[0, 1], [2, 3], [4]]
    assert split(3, 3) == [[0], [1], [2]]
    assert split(2, 3) == [[0], [1], []]
    assert split(1, 3) == [[0], [], []]  # a single repeat (b16) runs in the first round only
    assert split(4, 1) == [[0, 1, 2, 3]]  # one round: as without rounds
    for repeats in range(1, 13):
        for rounds in range(1, 7):
            blocks = split(repeats, rounds)
            flat = [rep for block in blocks for rep in block]
            assert len(blocks) == rounds
            assert flat == list(range(repeats)), (repeats, rounds)  # the union is 0..repeats-1, each once
            sizes = [len(block) for block in blocks]
            assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    for bad in ((0, 3), (3, 0)):
        with pytest.raises(ValueError):
            split(*bad)


def test_schedule_is_round_robin_and_counts_each_model_once(bench_perf: ModuleType) -> None:
    repeats = {"a": 3, "b": 3, "ref": 5, "ref4": 2, "b16": 1}
    plan = bench_perf.schedule(repeats, 3)
    assert [[task.model for task in tasks] for tasks in plan] == [
        ["a", "b", "ref", "ref4", "b16"], ["a", "b", "ref", "ref4"], ["a", "b", "ref"]]
    assert [task.reps for task in plan[0]] == [(0,), (0,), (0, 1), (0,), (0,)]
    assert [task.reps for task in plan[2]] == [(2,), (2,), (4,)]
    for model, n in repeats.items():
        tasks = [task for tasks in plan for task in tasks if task.model == model]
        assert sorted(rep for task in tasks for rep in task.reps) == list(range(n))
        assert [task.count for task in tasks] == [True] + [False] * (len(tasks) - 1)  # counted in its first round
    assert [[task.model for task in tasks] for tasks in bench_perf.schedule(repeats, 1)] == [list(repeats)]


def test_rounds_merge_into_one_model_result(bench_perf: ModuleType) -> None:
    def part(reps: list[int], walls: list[float], events: float | None, rss: float) -> dict:
        return {"reps": reps, "wall": walls, "cpu": [w / 2 for w in walls], "events": events, "peak_rss_mb": rss,
                "outcomes": [{"mqls": 10.0 * (rep + 1)} for rep in reps]}

    merged = bench_perf.merge_model_rounds([part([0, 1], [1.0, 3.0], 7.0, 50.0), None,
                                            part([2], [2.0], None, 60.0)])
    assert merged["wall"] == [1.0, 3.0, 2.0] and merged["cpu"] == [0.5, 1.5, 1.0]
    assert merged["wall_by_round"] == [[1.0, 3.0], [], [2.0]]
    assert (merged["repeats"], merged["rounds"], merged["events"], merged["peak_rss_mb"]) == (3, 2, 7.0, 60.0)
    assert merged["outcome"] == {"mqls": 20.0}
    # a round's ratio uses the rounds in which both sides ran, each side's median within the round
    other = [[2.0], [5.0], [4.0, 4.0]]
    assert bench_perf.ratios_by_round(merged["wall_by_round"], other) == [1.0, 0.5]
    assert bench_perf.spread([0.5, 1.0], "{:.2f}".format) == "0.50–1.00 in 2 rounds"
    assert bench_perf.spread([0.5], "{:.2f}".format) == "–"


def test_run_rounds_sum_and_keep_the_largest_memory(bench_perf: ModuleType) -> None:
    def part(reps: int, wall: float, fork: float, marks: dict[str, float], workers: dict[str, float]) -> dict:
        return {"reps": reps, "wall": wall, "forkserver_s": fork, "rss_after": marks,
                "peak_rss_mb": max(marks.values()), "worker_rss_after": workers,
                "worker_peak_rss_mb": max(workers.values(), default=0.0)}

    merged = bench_perf.merge_run_rounds([part(14, 7.0, 0.5, {"3": 100.0, "14": 110.0}, {"3": 60.0, "14": 61.0}),
                                          part(13, 6.5, 0.9, {"3": 104.0, "13": 108.0}, {"3": 59.0, "13": 64.0}),
                                          part(13, 6.5, 0.6, {"3": 99.0, "13": 107.0}, {})])
    assert (merged["reps"], merged["wall"], merged["forkserver_s"]) == (40, 20.0, 0.6)
    assert merged["rss_after"] == [(3, 104.0), (14, 110.0)]
    assert merged["worker_rss_after"] == [(3, 60.0), (14, 64.0)]
    assert bench_perf.round_rates(merged) == [2.0, 2.0, 2.0]
    assert bench_perf.largest_marks([{"1": 5.0}, {}]) == [(1, 5.0)]
    assert bench_perf.largest_marks([{}]) == []


def test_the_thousand_replication_target_is_projected_or_measured(bench_perf: ModuleType) -> None:
    def part(reps: int, wall: float) -> dict:
        return {"reps": reps, "wall": wall, "forkserver_s": 0.5, "rss_after": {str(reps): 100.0},
                "peak_rss_mb": 100.0, "worker_rss_after": {str(reps): 60.0}, "worker_peak_rss_mb": 60.0}

    runs = {1: bench_perf.merge_run_rounds([part(100, 40.0)]), 2: bench_perf.merge_run_rounds([part(100, 21.0)])}

    def thousand_row(thousand: dict | None) -> list[str]:
        rows, _ = bench_perf.target_rows(bench_perf.Measurements({}, runs, [], thousand), rounds=1)
        (row,) = [r for r in rows if r[0].startswith("1,000 reps")]
        return row

    projected = thousand_row(None)  # 0.5 s + 1,000 ÷ (100 / 21) reps/s = 210.5 s
    assert (projected[1], projected[-1]) == ("210", "MISS") and projected[2].startswith("projected")
    measured = thousand_row({**part(1000, 110.0), "worker_rss_after": {"250": 61.0, "1000": 62.0}})
    assert (measured[1], measured[-1]) == ("110", "PASS") and measured[2].startswith("measured")
    assert "61 MiB after 250, 62 MiB after 1000" in measured[2]
    assert bench_perf.parse_args(["--thousand"]).thousand and not bench_perf.parse_args([]).thousand


def test_rounds_option_defaults_and_quick(bench_perf: ModuleType) -> None:
    parse = bench_perf.parse_args
    assert parse([]).rounds == 3
    quick = parse(["--quick"])
    assert (quick.rounds, quick.reps, quick.repeats, quick.repeats_baseline) == (2, 40, 2, 1)
    assert parse(["--quick", "--rounds", "1"]).rounds == 1
    with pytest.raises(SystemExit):
        parse(["--rounds", "0"])


def test_a_child_times_the_reps_it_is_given_and_counts_only_when_asked(bench_perf: ModuleType) -> None:
    args = bench_perf.parse_args(["--one", "ref", "--timed-reps", "3", "--no-count", "--seed", "3"])
    out = bench_perf.run_child(args)
    assert out["reps"] == [3] and len(out["wall"]) == len(out["cpu"]) == len(out["outcomes"]) == 1
    assert out["events"] is None and out["wall"][0] > 0 and out["outcomes"][0]["mqls"] > 40_000
    assert out["sim_digest"] == bench_perf.sim_digest()


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


# --------------------------------------------------------------------------- bench_instructions


@pytest.fixture(scope="module")
def bench_instructions() -> ModuleType:
    return _load("bench_instructions")


def test_instruction_counts_are_read_and_differenced(bench_instructions: ModuleType) -> None:
    stderr = "==12== Events    : Ir\n==12== Collected : 2,811,308,956\n==12==\n==12== I   refs:      2,811,308,956\n"
    long = bench_instructions.parse_count(stderr, "leads 6043\n")
    short = bench_instructions.parse_count("==9== Collected : 2446857134\n", "leads 2039\n")
    assert (long.instructions, long.leads) == (2_811_308_956, 6043)
    measure = bench_instructions.difference(short, long, "here")
    assert (measure.instructions, measure.leads) == (364_451_822, 4004)
    assert measure.per_lead == pytest.approx(364_451_822 / 4004)
    table = bench_instructions.report([measure, bench_instructions.Measure("there", 182_225_911, 4004)], 3, 1)
    assert table.splitlines()[-1].endswith("0.500")


def test_a_failed_child_is_reported_not_misread(bench_instructions: ModuleType) -> None:
    with pytest.raises(ValueError, match="no instruction count"):
        bench_instructions.parse_count("valgrind: command not found", "")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_instructions_per_lead_of_this_checkout(bench_instructions: ModuleType, capsys: pytest.CaptureFixture) -> None:
    assert bench_instructions.main(["--months", "2"]) == 0
    row = capsys.readouterr().out.splitlines()[-1].split()
    per_lead = float(row[-2].replace(",", ""))
    assert 20_000 < per_lead < 400_000  # ~90,000 instructions per lead at ref in 2026


@pytest.mark.integration
def test_the_sweep_benchmark_runs_at_a_tiny_size() -> None:
    """bench_sweep.py end to end: plain run, same-work grid sweep and Morris screening, one worker."""
    figures = _load("bench_sweep").main(["--inputs", "3", "--trajectories", "2", "--reps", "2", "--plain-reps", "4",
                                         "--grid-points", "3", "--workers", "1", "--morris-workers", "1",
                                         "--set", "horizon_months=1"])
    assert figures["grid_ratio_1"] > 0 and figures["morris_wall_1"] > 0 and figures["grid_cpu_ratio_1"] > 0
