"""Sweeps and sensitivity runs: what a replication costs inside a sweep, against a plain run.

Three workloads of ``scenarios/silo.yaml`` (with any ``--set``), each with a results folder as the
commands write it:

* **plain** — ``sim.run`` of ``--plain-reps`` replications (what ``salesim run`` runs);
* **grid** — ``sim.sweep`` over ``--grid-points`` values of ``inbound.cost_per_mql_usd`` ×
  ``--reps`` replications: every point is a different scenario (nothing is reused between points)
  but simulates exactly the base's work, so its cost per replication against the plain run's is
  the sweep machinery's overhead (target: within 10 %);
* **morris** — the target workload: a Morris screening of the first ``--inputs`` numbers marked
  ``# ASSUMPTION`` in the file (each ± 50 %; 20 by default), ``--trajectories`` trajectories
  (r = 10: r (k + 1) = 210 points) × ``--reps`` replications (10) under common random numbers, as
  ``salesim sensitivity --method morris`` runs it (target: under 5 minutes on 2 cores, compiled).
  Its points change the work of a replication (more leads, more capacity), so its cost per
  replication is not the plain run's.

Plain and grid run at every ``--workers`` size, Morris at ``--morris-workers``; rounds alternate the
workloads so that drift of the machine's speed hits them alike. Printed: wall times, seconds per
replication, grid ÷ plain, and parallel efficiency (time per replication at 1 worker ÷ (W × at W)),
medians over rounds; and the CPU time of this process per replication — at 1 worker, where the
replications run in this process, a measure of cost that other processes on the machine do not
inflate (at W workers, the parent's own overhead: collecting, saving, scheduling).

Usage::

    python benchmarks/bench_sweep.py                               # workers 1 and 2, Morris at 2
    python benchmarks/bench_sweep.py --rounds 3 --morris-workers   # no Morris
    python benchmarks/bench_sweep.py --inputs 3 --trajectories 2 --reps 2 --plain-reps 8 --grid-points 4 \\
        --set horizon_months=2
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import sim
from sim.compiled import describe
from sim.runs.sensitivity import Input, assumption_inputs, sensitivity
from sim.runs.sweep import load_sources

SILO = Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml"


def inputs_of(n: int, overrides: list[str]) -> list[Input]:
    found = assumption_inputs(load_sources([SILO], overrides), spread=0.5)
    if len(found) < n:
        raise SystemExit(f"silo.yaml marks {len(found)} numbers ASSUMPTION; asked for {n}")
    return found[:n]


def timed_morris(inputs: list[Input], args: argparse.Namespace, workers: int) -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        started, cpu = time.perf_counter(), time.process_time()
        result = sensitivity(SILO, inputs, methods=["morris"], reps=args.reps, seed=args.seed,
                             overrides=args.overrides, trajectories=args.trajectories, levels=4,
                             workers=workers, out=Path(folder) / "morris")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, len(result.evaluations["morris"]), cpu


def timed_plain(args: argparse.Namespace, workers: int) -> tuple[float, int, float]:
    scenario = sim.load_scenario(SILO, args.overrides)
    with tempfile.TemporaryDirectory() as folder:
        started, cpu = time.perf_counter(), time.process_time()
        result = sim.run(scenario, reps=args.plain_reps, seed=args.seed, workers=workers, out=Path(folder) / "run")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, result.reps, cpu


def timed_grid(args: argparse.Namespace, workers: int) -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory() as folder:
        started, cpu = time.perf_counter(), time.process_time()
        result = sim.sweep(SILO, [f"inbound.cost_per_mql_usd=100:{100 + args.grid_points - 1}:1"], reps=args.reps,
                           seed=args.seed, overrides=args.overrides, workers=workers, out=Path(folder) / "grid")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, len(result.kpis), cpu


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=20, help="Morris: inputs screened (default 20)")
    parser.add_argument("--trajectories", type=int, default=10, help="Morris trajectories r (default 10)")
    parser.add_argument("--reps", type=int, default=10, help="grid and Morris: replications per point (default 10)")
    parser.add_argument("--grid-points", type=int, default=60, help="grid: points (default 60)")
    parser.add_argument("--plain-reps", type=int, default=200, help="replications of the plain run (default 200)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="plain and grid pool sizes (1 2)")
    parser.add_argument("--morris-workers", type=int, nargs="*", default=[2], help="Morris pool sizes (2)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds (default 1); medians are printed")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")
    args = parser.parse_args(argv)

    inputs = inputs_of(args.inputs, args.overrides)
    points = args.trajectories * (len(inputs) + 1)
    print(f"salesim core: {describe()}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"silo.yaml {' '.join(args.overrides)}: plain {args.plain_reps} replications; grid {args.grid_points} "
          f"points × {args.reps}; Morris {len(inputs)} inputs, r = {args.trajectories} ({points} points) × "
          f"{args.reps}")
    walls: dict[tuple[str, int], list[float]] = {}
    cpus: dict[tuple[str, int], list[float]] = {}
    reps: dict[tuple[str, int], int] = {}
    plan = [(name, w) for w in args.workers for name in ("plain", "grid")]
    plan += [("morris", w) for w in args.morris_workers]
    measures = {"plain": lambda w: timed_plain(args, w), "grid": lambda w: timed_grid(args, w),
                "morris": lambda w: timed_morris(inputs, args, w)}
    for round_ in range(args.rounds):
        for name, workers in plan:
            wall, n, cpu = measures[name](workers)
            walls.setdefault((name, workers), []).append(wall)
            cpus.setdefault((name, workers), []).append(cpu)
            reps[(name, workers)] = n
            print(f"round {round_ + 1}: {name:6s} workers {workers}: {wall:7.1f} s, {n} replications, "
                  f"{wall / n * 1000:6.1f} ms each; this process's CPU {cpu / n * 1000:6.1f} ms each "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)
    per = {key: statistics.median(v) / reps[key] for key, v in walls.items()}
    figures: dict[str, float] = {}
    print(f"\nmedians over {args.rounds} round(s)")
    print(f"{'workload':>8}  {'workers':>7}  {'wall s':>7}  {'s/rep':>7}  {'÷ plain':>7}  {'efficiency':>10}  "
          f"{'CPU s/rep':>9}  {'CPU ÷ plain':>11}")
    for (name, workers), value in sorted(per.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        wall = statistics.median(walls[(name, workers)])
        ratio = value / per[("plain", workers)] if ("plain", workers) in per else float("nan")
        eff = per[(name, 1)] / (workers * value) if (name, 1) in per and workers != 1 else float("nan")
        cpu = statistics.median(cpus[(name, workers)]) / reps[(name, workers)]
        cpu_ratio = cpu / (statistics.median(cpus[("plain", workers)]) / reps[("plain", workers)]) \
            if ("plain", workers) in per else float("nan")
        figures[f"{name}_cpu_per_rep_{workers}"] = cpu
        figures[f"{name}_cpu_ratio_{workers}"] = cpu_ratio
        figures[f"{name}_wall_{workers}"] = wall
        figures[f"{name}_per_rep_{workers}"] = value
        figures[f"{name}_ratio_{workers}"] = ratio
        if eff == eff:
            figures[f"{name}_efficiency_{workers}"] = eff
        print(f"{name:>8}  {workers:>7}  {wall:>7.1f}  {value:>7.4f}  {ratio:>7.3f}  "
              f"{(f'{100 * eff:.0f}%' if eff == eff else '–'):>10}  {cpu:>9.4f}  {cpu_ratio:>11.3f}")
    return figures


if __name__ == "__main__":
    main()
