"""Performance benchmark: salesim against two plain-SimPy models of the same work, on the reference workload.

The reference workload is ``benchmarks/scenarios/ref.yaml``: 20 SDRs working 2,000 inbound
leads a month (geometric dials-to-connect with mean 12, at most 30 attempts, 3 attempts a
working day), 25% of connects become opportunities, 4 AE meetings passing 0.7/0.6/0.6/0.8
after exponential gaps (mean 7 days), 10 AEs with at most 40 open opportunities each,
$2,000 MRR customers churning 2% a month, 5 CSMs, 24 months, working hours 9–17 Monday–Friday.

Measured, in one run:

* seconds per replication (median of repeats), SimPy events per replication and peak
  memory of three models of that workload — (a) a plain SimPy model that makes every dial
  an event, (b) the same with each lead's dials in one timeout (both written here, the
  yardsticks), and salesim (:func:`sim.experiment.simulate_one`) — and of salesim on
  ``ref×4`` and ``ref×16`` (every headcount and the lead rate multiplied); on request, of (b)
  on the same scaled workloads, to show how plain SimPy itself scales;
* replications per second through :func:`sim.run` with 1 and 2 workers, the parallel
  efficiency, the projected wall time of 1,000 replications, and the peak memory of a
  1-worker run after a quarter of its replications and at the end;
* the performance targets, each marked PASS or MISS.

Every configuration runs in a fresh process (this script with ``--one CONFIG``), so each
peak RSS belongs to one configuration. Run from the repository root::

    python benchmarks/bench_perf.py            # full run: a few minutes on 2 cores
    python benchmarks/bench_perf.py --quick    # fewer repeats and replications

See ``benchmarks/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
REF_PATH = ROOT / "benchmarks" / "scenarios" / "ref.yaml"
DEFAULT_SEED = 20_261_126  # sim.experiment.DEFAULT_SEED (not imported: the baselines' processes stay free of sim)
MONTH = 365.25 / 12.0
"""Days in a reporting month (as in sim.workcalendar)."""

MODELS = {
    "a": "(a) SimPy, one event per dial",
    "b": "(b) SimPy, one timeout per lead's dials",
    "b4": "(b) SimPy on ref×4",
    "b16": "(b) SimPy on ref×16",
    "ref": "salesim ref",
    "ref2": "salesim ref×2",
    "ref4": "salesim ref×4",
    "ref8": "salesim ref×8",
    "ref16": "salesim ref×16",
}
SCALE = {"a": 1, "b": 1, "b4": 4, "b16": 16, "ref": 1, "ref2": 2, "ref4": 4, "ref8": 8, "ref16": 16}
BASELINES = {"a": "a", "b": "b", "b4": "b", "b16": "b"}
"""The plain-SimPy models and the kind each is: (a) makes every dial an event, (b) does not."""
DEFAULT_MODELS = ["a", "b", "ref", "ref4", "ref16"]
"""Timed by default; ``--models`` adds ref×2 and ref×8 to see where the cost per lead bends, and
(b) on ref×4 and ref×16 to see how plain SimPy itself scales (b16 adds about a minute and a half)."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, which starts afresh at ``exec``. Not
    ``ru_maxrss``: Linux carries it over from the parent through fork and exec, so each
    configuration's child would report at least the parent's size (~125 MiB with pandas
    loaded). Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    own = _peak_rss_of(os.getpid()) if sys.platform.startswith("linux") else None
    if own is not None:
        return own
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# =========================================================================== the plain-SimPy baselines
#
# The yardsticks: the reference workload written the obvious way on SimPy, with no help from
# salesim. Behaviour as in salesim (DESIGN.md §1): a lead holds one of its SDR's cadence slots
# from first touch for min(dials, 30) dials spaced 1/3 of a working day, is reached iff its
# dials-to-connect <= 30, qualifies with probability 0.25, is handed off after 1 day, waits
# for a free AE slot (stale after 60 days), then meets 4 times; won deals become customers
# that a monthly check-in churns with probability 2% a month (pro rata in the first month).


@dataclass(frozen=True)
class Workload:
    """benchmarks/scenarios/ref.yaml as plain numbers, for the baselines."""

    months: int = 24
    mqls_per_month: float = 2000.0
    sdrs: int = 20
    dials_per_day: float = 60.0
    attempts_per_day: float = 3.0
    max_attempts: int = 30
    dials_to_connect_mean: float = 12.0
    max_wait_days: float = 30.0
    qualify_probability: float = 0.25
    handoff_days: float = 1.0
    aes: int = 10
    max_open_opportunities: int = 40
    stale_after_days: float = 60.0
    pass_probability: tuple[float, ...] = (0.7, 0.6, 0.6, 0.8)
    gap_mean_days: float = 7.0
    mrr_usd: float = 2000.0
    monthly_churn: float = 0.02


REF = Workload()


def scaled_workload(scale: int) -> Workload:
    """The reference workload with every headcount and the lead rate multiplied by ``scale``.

    The baselines' counterpart of :func:`salesim_scenario`: SDRs, AEs and MQLs a month grow,
    each rep's cadence and each AE's cap on open opportunities do not (CSMs are no resource
    in the baselines).

    Parameters
    ----------
    scale : int
        The multiplier, at least 1.

    Returns
    -------
    Workload
        A new workload; :data:`REF` itself is left unchanged.
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    return replace(REF, sdrs=REF.sdrs * scale, aes=REF.aes * scale, mqls_per_month=REF.mqls_per_month * scale)


START_HOUR, WORK_HOURS, WORK_DAYS = 9.0, 8.0, 5  # 9–17, Monday–Friday; day 0 is a Monday, 00:00


def to_work(t: float) -> float:
    """Working days elapsed at calendar day ``t`` (an instant off hours counts as the next working one)."""
    day = math.floor(t)
    week, weekday = divmod(day, 7)
    if weekday >= WORK_DAYS:
        return week * WORK_DAYS + WORK_DAYS
    hours = (t - day) * 24.0 - START_HOUR
    return week * WORK_DAYS + weekday + min(max(hours / WORK_HOURS, 0.0), 1.0)


def from_work(w: float) -> float:
    """Calendar day at which ``w`` working days have elapsed (whole numbers: start of a working day)."""
    week, rest = divmod(w, WORK_DAYS)
    weekday = math.floor(rest)
    return week * 7.0 + weekday + (START_HOUR + (rest - weekday) * WORK_HOURS) / 24.0


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes (used only in untimed runs)."""

    steps = 0

    def step(self) -> None:
        self.steps += 1
        super().step()


def baseline(seed: int, rep: int, per_dial: bool, months: int | None = None,
             env_class: type[simpy.Environment] = simpy.Environment, workload: Workload = REF) -> dict[str, float]:
    """One replication of the plain-SimPy model: (a) with ``per_dial``, else (b).

    Parameters
    ----------
    seed, rep : int
        Root seed and replication number; the random stream is ``SeedSequence(seed, spawn_key=(rep,))``.
    per_dial : bool
        One timeout per dial (a), or one per lead's dials (b).
    months : int, optional
        Horizon in months; the workload's when None.
    env_class : type of simpy.Environment
        :class:`CountingEnvironment` to count the events processed.
    workload : Workload
        What to simulate: :data:`REF`, or :func:`scaled_workload` of it.

    Returns
    -------
    dict of str to float
        MQLs, dials, wins and end-of-horizon MRR (and ``events`` with a :class:`CountingEnvironment`).
    """
    w = workload
    months = months or w.months
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rep,)))
    # The market, drawn up front: Poisson arrivals each month, uniform in working time.
    arrivals: list[float] = []
    for m in range(months):
        lo, hi = to_work(m * MONTH), to_work((m + 1) * MONTH)
        arrivals.extend(from_work(x) for x in np.sort(rng.uniform(lo, hi, rng.poisson(w.mqls_per_month))).tolist())
    n, meetings = len(arrivals), len(w.pass_probability)
    dials = rng.geometric(1.0 / w.dials_to_connect_mean, n).tolist()
    u_qualify = rng.random(n).tolist()
    u_pass = rng.random((n, meetings)).tolist()
    gaps = rng.exponential(w.gap_mean_days, (n, meetings)).tolist()

    env = env_class()
    slots_per_rep = math.ceil(w.dials_per_day / w.attempts_per_day)
    spacing = slots_per_rep / w.dials_per_day  # working days between two dials of one slot (1/3)
    sdr = simpy.Resource(env, capacity=w.sdrs * slots_per_rep)
    ae = simpy.Resource(env, capacity=w.aes * w.max_open_opportunities)
    customers: list[float] = []  # signing times of active customers
    out = {"mqls": float(n), "dials": 0.0, "wins": 0.0}

    def lead(i: int) -> Generator[simpy.Event, Any, None]:
        created = env.now
        with sdr.request() as slot:
            yield slot
            if env.now - created > w.max_wait_days:
                return  # stale: nobody touched it in time
            start = to_work(env.now)
            attempts = min(dials[i], w.max_attempts)
            if per_dial:
                for k in range(1, attempts + 1):
                    out["dials"] += 1
                    yield env.timeout(from_work(start + k * spacing) - env.now)
            else:
                out["dials"] += attempts
                yield env.timeout(from_work(start + attempts * spacing) - env.now)
        if dials[i] > w.max_attempts or u_qualify[i] >= w.qualify_probability:
            return  # unreachable, or not a fit
        yield env.timeout(w.handoff_days)
        handed_off = env.now
        with ae.request() as seat:
            yield seat
            if env.now - handed_off > w.stale_after_days:
                return
            for gap, u, p in zip(gaps[i], u_pass[i], w.pass_probability, strict=True):
                yield env.timeout(gap)
                if u >= p:
                    return  # lost at this meeting
        out["wins"] += 1
        customers.append(env.now)

    def market() -> Generator[simpy.Event, Any, None]:
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            env.process(lead(i))

    def check_in(now: float) -> None:
        """The monthly CSM check-in: each customer churns with the month's probability."""
        kept = []
        for signed, u in zip(customers, rng.random(len(customers)).tolist(), strict=True):
            exposure = min(1.0, (now - signed) / MONTH)
            if u >= 1.0 - (1.0 - w.monthly_churn) ** exposure:
                kept.append(signed)
        customers[:] = kept

    def csm() -> Generator[simpy.Event, Any, None]:
        for m in range(1, months):
            yield env.timeout(m * MONTH - env.now)
            check_in(env.now)

    env.process(market())
    env.process(csm())
    env.run(until=months * MONTH)
    check_in(months * MONTH)
    out["mrr_end_usd"] = len(customers) * w.mrr_usd
    if isinstance(env, CountingEnvironment):
        out["events"] = float(env.steps)
    return out


# =========================================================================== salesim


def salesim_scenario(scale: int, months: int | None = None) -> Scenario:
    """The reference scenario with every headcount and the lead rate multiplied by ``scale``."""
    import sim

    base = sim.load_scenario(REF_PATH)
    overrides = []
    if scale != 1:
        overrides = [f"roles.{name}.headcount={role.headcount * scale}" for name, role in base.roles.items()]
        overrides.append(f"inbound.mqls_per_month={base.inbound.mqls_per_month * scale:g}")
    if months is not None:
        overrides.append(f"horizon_months={months}")
    return sim.load_scenario(REF_PATH, overrides=overrides) if overrides else base


def salesim_once(scenario: Scenario, seed: int, rep: int) -> dict[str, float]:
    """One replication through :func:`sim.experiment.simulate_one` (world + metrics); its outcome KPIs."""
    from sim.experiment import simulate_one

    k, _series = simulate_one(scenario, seed, rep)
    return {"mqls": k["mqls"], "dials": k["dials"], "wins": k["wins"], "mrr_end_usd": k["mrr_end_usd"]}


def salesim_counted(scenario: Scenario, seed: int, rep: int) -> dict[str, float]:
    """One untimed replication with the calendar's ``step`` wrapped to count what it processes — SimPy
    events and the plain calls of :meth:`sim.model.calendar.Environment.call_at` alike (this process only)."""
    from sim.model.calendar import Environment

    original = Environment.step
    events = 0

    def counting_step(env: simpy.Environment) -> None:
        nonlocal events
        events += 1
        original(env)

    Environment.step = counting_step
    try:
        out = salesim_once(scenario, seed, rep)
    finally:
        Environment.step = original
    return {**out, "events": float(events)}


# =========================================================================== one configuration (child process)


def measure_model(model: str, repeats: int, seed: int) -> dict[str, Any]:
    """Timed replications 0..repeats-1 after a 1-month warm-up, then one counted (untimed) replication."""
    run: Callable[[int], dict[str, float]]
    if model in BASELINES:
        per_dial, workload = BASELINES[model] == "a", scaled_workload(SCALE[model])
        baseline(seed, 0, per_dial, months=1, workload=workload)  # warm-up

        def run(rep: int) -> dict[str, float]:
            return baseline(seed, rep, per_dial, workload=workload)

        def counted() -> dict[str, float]:
            return baseline(seed, 0, per_dial, env_class=CountingEnvironment, workload=workload)
    else:
        scenario = salesim_scenario(SCALE[model])
        salesim_once(salesim_scenario(SCALE[model], months=1), seed, 0)  # warm-up

        def run(rep: int) -> dict[str, float]:
            return salesim_once(scenario, seed, rep)

        def counted() -> dict[str, float]:
            return salesim_counted(scenario, seed, 0)

    walls, cpus, outcomes = [], [], []
    for rep in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        outcomes.append(run(rep))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    events = counted()["events"]
    return {
        "model": model, "repeats": repeats, "wall": walls, "cpu": cpus, "events": events,
        "outcome": {key: statistics.fmean(o[key] for o in outcomes) for key in outcomes[0]},
        "peak_rss_mb": peak_rss_mb(),
    }


def _grandchildren(pid: int) -> list[int]:
    """Process ids two or more levels below ``pid`` (Linux ``/proc``): the pool workers, which the
    forkserver (a child, like the resource tracker) forks."""
    found, todo = [], [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as fh:
                    kids = [int(x) for x in fh.read().split()]
            except OSError:
                continue
            if depth >= 1:
                found.extend(kids)
            todo.extend((kid, depth + 1) for kid in kids)
    return found


def _peak_rss_of(pid: int) -> float | None:
    """Peak RSS (``VmHWM``) of process ``pid`` in MiB, or None when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class WorkerMemory:
    """Samples the peak RSS (``VmHWM``) of the pool workers while a run goes on (Linux only;
    nothing is seen elsewhere)."""

    def __init__(self) -> None:
        import threading

        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            for pid in _grandchildren(me):
                peak = _peak_rss_of(pid)
                if peak is not None:
                    self.peaks[pid] = max(peak, self.peaks.get(pid, 0.0))

    def largest(self) -> float:
        """The largest peak RSS of a worker seen so far (MiB; 0 when none was seen)."""
        return max(self.peaks.values(), default=0.0)

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure_run(workers: int, reps: int, seed: int) -> dict[str, Any]:
    """Wall time of ``sim.run(ref, reps, workers=workers)``.

    With 1 worker the replications run in this process, and its peak RSS is noted after a
    quarter of them and at the end. With more, the forkserver (a one-time cost per process)
    is started first and timed separately; the pool start stays in the measured wall time.
    """
    import sim
    import sim.experiment as ex

    scenario = salesim_scenario(1)
    rss: dict[int, float] = {}
    forkserver = 0.0
    if workers == 1:
        original, done, marks = ex.run_chunk, 0, {max(1, reps // 4), reps}

        def noting_chunk(data: dict[str, Any], seed_: int, chunk: list[int]) -> Any:
            nonlocal done
            result = original(data, seed_, chunk)
            done += len(chunk)
            if done in marks:
                rss[done] = peak_rss_mb()
            return result

        ex.run_chunk = noting_chunk  # sim.run looks run_chunk up at call time; this process only
    else:
        t0 = time.perf_counter()
        pool = ex.process_pool(workers)
        try:
            for future in [pool.submit(os.getpid) for _ in range(workers)]:
                future.result()
        finally:
            pool.shutdown(wait=True)
        forkserver = time.perf_counter() - t0
    worker_rss: dict[str, float] = {}
    with WorkerMemory() as memory:
        if workers > 1:
            # the largest worker peak after a quarter of the replications and at the end
            original, done, marks = ex.chunk_tables, 0, {max(1, reps // 4), reps}

            def noting_tables(chunk: Any) -> Any:
                nonlocal done
                done += len(chunk.reps)
                for m in marks:
                    if done >= m and str(m) not in worker_rss:
                        worker_rss[str(m)] = memory.largest()
                return original(chunk)

            ex.chunk_tables = noting_tables  # called in this process as each chunk comes back
        t0 = time.perf_counter()
        result = sim.run(scenario, reps=reps, seed=seed, workers=workers, progress=False)
        wall = time.perf_counter() - t0
    if result.failures:
        raise SystemExit(f"{len(result.failures)} replications failed; first:\n{result.failures[0]['traceback']}")
    return {"workers": workers, "reps": reps, "wall": wall, "forkserver_s": forkserver,
            "rss_after": {str(k): v for k, v in sorted(rss.items())}, "peak_rss_mb": peak_rss_mb(),
            "worker_rss_after": worker_rss, "worker_peak_rss_mb": memory.largest()}


# =========================================================================== the report (parent process)


def child(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh Python process; return the JSON it prints last."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sim_digest() -> str:
    """Digest of the simulator's sources, to notice if they change during the run."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def git_state() -> str:
    """The checked-out commit, and whether ``sim/`` has uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--oneline"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "sim"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in sim/" if dirty else "")


def status(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def note(message: str) -> None:
    """Progress, on stderr (the report goes to stdout)."""
    print(message, file=sys.stderr, flush=True)


def repeats_of(model: str, args: argparse.Namespace) -> int:
    """How many timed replications ``model`` gets under the command-line options ``args``."""
    if model in BASELINES:
        return args.repeats_baseline if SCALE[model] == 1 else args.repeats_scaled_baseline
    return args.repeats if SCALE[model] == 1 else args.repeats_scaled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=200,
                        help="replications of ref per sim.run throughput measurement (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed replications of salesim ref (median reported; default: %(default)s)")
    parser.add_argument("--repeats-scaled", type=int, default=3,
                        help="timed replications of salesim ref×4 and ref×16 (default: %(default)s)")
    parser.add_argument("--repeats-baseline", type=int, default=3,
                        help="timed replications of each SimPy baseline on ref (default: %(default)s)")
    parser.add_argument("--repeats-scaled-baseline", type=int, default=1,
                        help="timed replications of (b) on ref×4 and ref×16, models b4 and b16 (default: %(default)s)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=DEFAULT_MODELS,
                        help=f"models to time (default: {' '.join(DEFAULT_MODELS)})")
    parser.add_argument("--no-throughput", action="store_true", help="skip the sim.run measurements")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="root seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast look: 2/1/1/1 repeats and 40 replications per sim.run")
    parser.add_argument("--one", metavar="CONFIG", help=argparse.SUPPRESS)  # child mode: a model, run1 or run2
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.repeats_scaled, args.repeats_baseline, args.repeats_scaled_baseline = 2, 1, 1, 1
        args.reps = 40
    if min(args.reps, args.repeats, args.repeats_scaled, args.repeats_baseline, args.repeats_scaled_baseline) < 1:
        parser.error("--reps and the repeat counts must be at least 1")

    if args.one is not None:  # child: measure one configuration, print JSON
        digest = sim_digest()  # the code this child imports
        if args.one in MODELS:
            out = measure_model(args.one, repeats_of(args.one, args), args.seed)
        elif args.one in ("run1", "run2"):
            out = measure_run(int(args.one[-1]), args.reps, args.seed)
        else:
            parser.error(f"unknown configuration {args.one!r}")
        print(json.dumps({**out, "sim_digest": digest}))
        return 0

    from sim.report import text_table

    passthrough = ["--seed", str(args.seed), "--reps", str(args.reps), "--repeats", str(args.repeats),
                   "--repeats-scaled", str(args.repeats_scaled), "--repeats-baseline", str(args.repeats_baseline),
                   "--repeats-scaled-baseline", str(args.repeats_scaled_baseline)]
    digest = sim_digest()
    started = time.perf_counter()
    print(f"salesim performance benchmark: {REF_PATH.relative_to(ROOT)} (24 months; 20 SDRs, 10 AEs, 5 CSMs; "
          f"2,000 MQLs/month), seed {args.seed}")
    print(f"git: {git_state()}; sim/ sources {digest}")
    print(f"Python {platform.python_version()}, SimPy {simpy.__version__}, NumPy {np.__version__}, "
          f"{len(os.sched_getaffinity(0))} usable cores, {platform.machine()} {platform.system()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    if os.getloadavg()[0] > len(os.sched_getaffinity(0)):
        print("WARNING: the load average exceeds the usable cores: other processes compete for the CPU and inflate "
              "every wall time (compare the CPU s/rep column)")
    print()

    # ------------------------------------------------------------------ one replication per model
    results: dict[str, dict[str, Any]] = {}
    for model in args.models:
        note(f"timing {MODELS[model]} in a fresh process …")
        results[model] = child(["--one", model, *passthrough])
    rows = []
    for model, r in results.items():
        t, cpu = statistics.median(r["wall"]), statistics.median(r["cpu"])
        o = r["outcome"]
        rows.append([
            MODELS[model], f"{t:.3f}", f"{cpu:.3f}", str(r["repeats"]), f"{r['events']:,.0f}",
            f"{r['events'] / o['mqls']:.2f}", f"{r['events'] / t / 1000:,.0f}", f"{r['peak_rss_mb']:,.0f}",
            f"{o['mqls']:,.0f}", f"{o['dials']:,.0f}", f"{o['wins']:,.0f}", f"{o['mrr_end_usd']:,.0f}",
        ])
    print("One replication (each model in a fresh process; outcome columns are means over the timed replications)")
    print(text_table(rows, ["model", "s/rep", "CPU s/rep", "repeats", "SimPy events/rep", "events/MQL",
                            "k events/s", "peak RSS MiB", "MQLs", "dials", "wins", "MRR end $"]))
    print()

    # ------------------------------------------------------------------ throughput through sim.run
    runs: dict[int, dict[str, Any]] = {}
    if not args.no_throughput:
        for workers in (1, 2):
            note(f"sim.run of ref, {args.reps} replications, {workers} worker(s), in a fresh process …")
            runs[workers] = child(["--one", f"run{workers}", *passthrough])
        rate1 = args.reps / runs[1]["wall"]
        rows = []
        for workers, r in runs.items():
            rate = args.reps / r["wall"]
            rows.append([str(workers), f"{r['wall']:.2f}", f"{rate:.2f}", f"{rate / (workers * rate1):.0%}",
                         "in process" if workers == 1 else
                         f"pool start included; one-time forkserver start {r['forkserver_s']:.2f} s not"])
        print(f"Throughput through sim.run (ref, {args.reps} replications, each run in a fresh process)")
        print(text_table(rows, ["workers", "wall s", "reps/s", "efficiency", "note"]))
        marks = runs[1]["rss_after"]
        (first, rss_first), (last, rss_last) = next(iter(marks.items())), list(marks.items())[-1]
        print(f"peak RSS of the 1-worker run (it simulates every replication and keeps the result tables): "
              f"{rss_first:,.0f} MiB after {first} replications, {rss_last:,.0f} MiB after {last} "
              f"({rss_last - rss_first:+,.1f} MiB)")
        worker_marks = runs[2].get("worker_rss_after") or {}
        if len(worker_marks) == 2:
            (first, w_first), (last, w_last) = sorted(worker_marks.items(), key=lambda kv: int(kv[0]))
            print(f"largest peak RSS of a pool worker in the 2-worker run (sampled from /proc): {w_first:,.0f} MiB "
                  f"after {first} replications, {w_last:,.0f} MiB after {last} ({w_last - w_first:+,.1f} MiB)")
        print()

    # ------------------------------------------------------------------ targets
    rows = []

    def t_of(model: str) -> float:
        return statistics.median(results[model]["wall"]) if model in results else math.nan

    def cpu_of(model: str) -> float:
        return statistics.median(results[model]["cpu"]) if model in results else math.nan

    t_ref = t_of("ref")
    for model in ("a", "b"):
        ratio = t_ref / t_of(model)
        if math.isnan(ratio):
            continue
        speed = (f"salesim {1 / ratio:.1f}× faster" if ratio <= 1 else f"salesim {ratio:.1f}× slower") + \
            f"; by CPU time {cpu_of('ref') / cpu_of(model):.3f}"
        if model == "a":
            rows.append(["time salesim ref ÷ (a)", f"{ratio:.3f}", speed, "–", "–"])
        else:
            rows.append(["time salesim ref ÷ (b)", f"{ratio:.3f}", speed, "≥ 5× faster (aim 10×)",
                         status(1 / ratio >= 5) + ("" if 1 / ratio < 5 else
                                                   " (aim met)" if 1 / ratio >= 10 else " (aim not yet)")])
    per_unit: dict[int, list[str]] = {}  # scale -> each model's cost per unit of work against itself on ref
    for model in ("ref2", "ref4", "ref8", "ref16"):
        target = 18.0 if model == "ref16" else None
        ratio = t_of(model) / t_ref
        if math.isnan(ratio):
            continue
        rows.append([f"time {MODELS[model].split()[-1]} ÷ ref", f"{ratio:.2f}",
                     f"{SCALE[model]}× the work, {ratio / SCALE[model]:.2f}× per unit; "
                     f"by CPU time {cpu_of(model) / cpu_of('ref'):.2f}",
                     f"≤ {target:g}" if target else "–", status(ratio <= target) if target else "–"])
        per_unit.setdefault(SCALE[model], []).append(f"salesim {ratio / SCALE[model]:.2f}×")
    scaled_baselines = False
    for model in (m for m in MODELS if m in BASELINES and SCALE[m] > 1):
        base = BASELINES[model]
        ratio = t_of(model) / t_of(base)
        if math.isnan(ratio):
            continue
        scaled_baselines = True
        rows.append([f"time ({base}) on ref×{SCALE[model]} ÷ ({base})", f"{ratio:.2f}",
                     f"{SCALE[model]}× the work, {ratio / SCALE[model]:.2f}× per unit; "
                     f"by CPU time {cpu_of(model) / cpu_of(base):.2f}", "–", "–"])
        per_unit.setdefault(SCALE[model], []).append(f"plain SimPy ({base}) {ratio / SCALE[model]:.2f}×")
    if runs:
        rate1, rate2 = args.reps / runs[1]["wall"], args.reps / runs[2]["wall"]
        efficiency = rate2 / (2 * rate1)
        projected = runs[2]["forkserver_s"] + 1000 / rate2
        rows.append(["parallel efficiency at 2 workers", f"{efficiency:.0%}",
                     f"{rate1:.2f} → {rate2:.2f} reps/s", "≥ 90%", status(efficiency >= 0.9)])
        rows.append(["1,000 reps of ref at 2 workers (s)", f"{projected:.0f}",
                     "projected: forkserver start + 1,000 ÷ reps/s", "< 120 s", status(projected < 120)])
    if "ref16" in results:
        rss = results["ref16"]["peak_rss_mb"]
        rows.append(["peak RSS per worker at ref×16 (MiB)", f"{rss:,.0f}", "the ref×16 process, one replication "
                     "at a time", "< 300 MiB", status(rss < 300)])
    if rows:
        print("Targets")
        print(text_table(rows, ["measure", "value", "note", "target", "status"]))
        if scaled_baselines:
            print("cost per unit of work, each model against itself on ref (time ratio ÷ scale; 1.00 is linear): "
                  + "; ".join(f"×{scale}: {', '.join(costs)}" for scale, costs in sorted(per_unit.items())))
        print()
    print(f"total {time.perf_counter() - started:.0f} s; load average at the end "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    seen = {name: r["sim_digest"] for name, r in [*results.items(), *((f"run{w}", r) for w, r in runs.items())]}
    if any(d != digest for d in seen.values()):
        print("WARNING: sim/ sources changed during the run, configurations ran different code; sim/ digest per "
              "configuration: " + ", ".join(f"{name} {d}" for name, d in seen.items()))
    elif sim_digest() != digest:
        print(f"note: sim/ sources changed after the last configuration started (now {sim_digest()}); "
              f"every configuration ran {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
