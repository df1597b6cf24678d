"""Benchmark of the simulator core: cost of one replication and throughput through ``sim.run``.

Measures, for one scenario:

* seconds per replication (median of several in-process single-replication timings, split
  into the SimPy world and the metric computation);
* SimPy events processed per replication (the entries the world's timeline processed, SimPy
  events and plain calls alike, read from its counter in a separate, untimed run), lead
  records and account events;
* peak resident memory of this process;
* replications per second through :func:`sim.run` for each ``--workers`` value, the
  parallel efficiency against one worker, and the overhead over the ideal wall time.

Run from the repository root::

    python benchmarks/bench_core.py                       # silo, 40 reps, workers 1 and 2
    python benchmarks/bench_core.py --reps 100 --workers 1 2 4
    python benchmarks/bench_core.py --scenario scenarios/silo.yaml --timings 9

See ``benchmarks/README.md`` for what each column means.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import simpy

import sim
from sim.metrics import kpis, monthly_series
from sim.model.world import World
from sim.present.text import text_table
from sim.runs.executors import auto_chunk_size, default_workers, process_pool
from sim.runs.replication import DEFAULT_SEED

ROOT = Path(__file__).resolve().parents[1]


def _resolve(path: str) -> Path:
    """A scenario path as given, or relative to the repository root."""
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    return ROOT / p


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def time_replication(scenario: sim.Scenario, seed: int, rep: int) -> tuple[float, float, float]:
    """Wall seconds of (world simulation, metric computation) of one replication, and its CPU seconds."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    world = World(scenario, seed, rep)
    log = world.run()
    t1 = time.perf_counter()
    series = monthly_series(log, scenario)
    kpis(log, scenario, series)
    return t1 - t0, time.perf_counter() - t1, time.process_time() - c0


def count_replication(scenario: sim.Scenario, seed: int, rep: int) -> dict[str, int]:
    """SimPy events processed and records written by one replication (not timed).

    Events are the entries the world's timeline processed — SimPy events and plain calls alike
    (:attr:`sim.model.engine.calendar.Timeline.processed`)."""
    world = World(scenario, seed, rep)
    log = world.run()
    return {
        "events": world.timeline.processed,
        "leads": len(log.leads),
        "accounts": len(log.accounts),
        "workforce": len(log.workforce),
    }


def pool_startup_seconds(workers: int) -> float:
    """Seconds to start a worker pool of ``workers`` processes, run a trivial task on each, and stop it."""
    t0 = time.perf_counter()
    pool = process_pool(workers)
    try:
        futures = [pool.submit(os.getpid) for _ in range(workers)]
        for f in futures:
            f.result()
    finally:
        pool.shutdown(wait=True)
    return time.perf_counter() - t0


def throughput(scenario: sim.Scenario, reps: int, seed: int, workers: int) -> float:
    """Wall seconds of ``sim.run(scenario, reps, workers=workers)`` (pool start and stop included)."""
    t0 = time.perf_counter()
    result = sim.run(scenario, reps=reps, seed=seed, workers=workers, progress=False)
    wall = time.perf_counter() - t0
    if result.failures:
        first = result.failures[0]
        raise SystemExit(f"{len(result.failures)} replications failed; first:\n{first['traceback']}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="scenarios/silo.yaml", help="scenario YAML (default: %(default)s)")
    parser.add_argument("--reps", type=int, default=40,
                        help="replications per sim.run throughput measurement (default: %(default)s)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to measure sim.run with (default: 1 2)")
    parser.add_argument("--timings", type=int, default=5,
                        help="single-replication timings whose median is reported (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="root seed (default: %(default)s)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="scenario override, as in `salesim run --set` (repeatable)")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.timings < 1 or min(args.workers) < 1:
        parser.error("--reps, --timings and --workers must be at least 1")

    path = _resolve(args.scenario)
    scenario = sim.load_scenario(path, overrides=args.overrides)
    cores = default_workers()
    print(f"salesim benchmark: {path.name} ({scenario.horizon_months} months, "
          f"{sum(r.headcount for r in scenario.roles.values())} reps at start), seed {args.seed}")
    print(f"Python {platform.python_version()}, SimPy {simpy.__version__}, {cores} usable cores, "
          f"{platform.machine()} {platform.system()}, load average {os.getloadavg()[0]:.2f}")
    print()

    # ------------------------------------------------------------------ one replication, in process
    time_replication(scenario, args.seed, 0)  # warm-up: imports, caches
    sims, mets, cpus = [], [], []
    for rep in range(args.timings):
        t_sim, t_met, t_cpu = time_replication(scenario, args.seed, rep)
        sims.append(t_sim)
        mets.append(t_met)
        cpus.append(t_cpu)
    totals = [a + b for a, b in zip(sims, mets, strict=True)]
    t_rep = statistics.median(totals)
    counts = [count_replication(scenario, args.seed, rep) for rep in range(args.timings)]
    events = statistics.median(c["events"] for c in counts)
    leads = statistics.median(c["leads"] for c in counts)
    accounts = statistics.median(c["accounts"] for c in counts)

    rows = [
        ["seconds per replication (median)", f"{t_rep:.3f}",
         f"min {min(totals):.3f}, max {max(totals):.3f} over {args.timings}"],
        ["  of which SimPy world", f"{statistics.median(sims):.3f}", "build + run to the horizon"],
        ["  of which metrics", f"{statistics.median(mets):.3f}", "monthly series + KPIs from the event log"],
        ["CPU seconds per replication (median)", f"{statistics.median(cpus):.3f}",
         "< 90% of wall: other processes took the CPU" if statistics.median(cpus) < 0.9 * t_rep
         else "about the wall time: the CPU was ours"],
        ["SimPy events per replication", f"{events:,.0f}", f"{events / statistics.median(sims):,.0f} events/s"],
        ["lead records per replication", f"{leads:,.0f}", f"{events / leads:.2f} events per lead"],
        ["account events per replication", f"{accounts:,.0f}", "new, expansion, churn"],
        ["peak RSS of this process (MiB)", f"{peak_rss_mb():,.0f}", "after the in-process replications"],
    ]
    print("One replication (in process)")
    print(text_table(rows, ["measure", "value", "note"], align_right_from=1))
    print()

    # ------------------------------------------------------------------ throughput through sim.run
    # The first pool of a process also starts the forkserver (which imports sim): a one-time cost,
    # measured here so that every pool run below starts from the same warm state.
    cold = pool_startup_seconds(1) if max(args.workers) > 1 else float("nan")
    rows = []
    base_rate: float | None = None
    for w in args.workers:
        startup = pool_startup_seconds(w) if w > 1 else 0.0
        wall = throughput(scenario, args.reps, args.seed, w)
        rate = args.reps / wall
        if w == 1:
            base_rate = rate
        ideal = args.reps * t_rep / w
        tasks = args.reps if w == 1 else math.ceil(args.reps / auto_chunk_size(args.reps, w))
        overhead = wall - ideal
        efficiency = rate / (w * base_rate) if base_rate else ideal / wall
        rows.append([
            str(w), f"{wall:.2f}", f"{rate:.2f}", f"{efficiency:.0%}", f"{ideal:.2f}", f"{overhead:+.2f}",
            f"{startup:.2f}" if w > 1 else "–", str(tasks), f"{1000 * overhead / tasks:+.0f}",
        ])
        if w > cores:
            rows[-1][0] += " (> cores)"
    print(f"Throughput through sim.run ({args.reps} replications)")
    print(text_table(rows, ["workers", "wall s", "reps/s", "efficiency", "ideal s", "overhead s",
                            "pool start s", "tasks", "ms/task"]))
    print()
    if math.isfinite(cold):
        print(f"one-time forkserver start (first pool in a process, not in the rows above): {cold:.2f} s")
    print(f"peak RSS of this process (MiB): {peak_rss_mb():,.0f}; load average at the end: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
