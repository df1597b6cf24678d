"""Performance benchmark: salesim against two plain-SimPy models of the same work, on the reference workload.

The reference workload is ``benchmarks/scenarios/ref.yaml``: 20 SDRs working 2,000 inbound
leads a month (geometric dials-to-connect with mean 12, at most 30 attempts, 3 attempts a
working day), 25% of connects become opportunities, 4 AE meetings passing 0.7/0.6/0.6/0.8
after exponential gaps (mean 7 days), 10 AEs with at most 40 open opportunities each,
$2,000 MRR customers churning 2% a month, 5 CSMs, 24 months, working hours 9–17 Monday–Friday.

Measured, in one run:

* seconds per replication (median of the timed replications), SimPy events per replication
  and peak memory of three models of that workload — (a) a plain SimPy model that makes every dial
  an event, (b) the same with each lead's dials in one timeout (both written here, the
  yardsticks), and salesim (:func:`sim.runs.replication.simulate_one`) — and of salesim on
  ``ref×4`` and ``ref×16`` (every headcount and the lead rate multiplied); on request, of (b)
  on the same scaled workloads, to show how plain SimPy itself scales;
* replications per second through :func:`sim.run` with 1 and 2 workers, the parallel
  efficiency, the projected wall time of 1,000 replications, and the peak memory of a
  1-worker run after a quarter of its replications and at the end (the largest over rounds);
* the performance targets, each marked PASS or MISS.

Every configuration runs in a fresh process (this script with ``--one CONFIG``), so each
peak RSS belongs to one configuration. The measurements are interleaved in ``--rounds K``
rounds (default 3): each model's timed replications ``0..repeats-1`` are split into K
consecutive blocks (:func:`split_replications`), and round r runs, each in its own process,
every model on its r-th block (in the order of ``--models``; a model whose block is empty, e.g.
one with a single repeat, sits the round out), then ``sim.run`` with 1 worker and with 2 workers
on the r-th share of ``--reps``. The CPU speed of the machine this was written on drifts by
20–30% over minutes; interleaving makes a slow drift fall on both sides of every ratio about
alike, where timing one configuration after the other would put it into the ratio. Each ratio is
also computed within each round, and the report gives its range across the rounds. The
untimed counted replication runs in a model's first round only. Run from the repository root::

    python benchmarks/bench_perf.py            # full run: a few minutes on 2 cores
    python benchmarks/bench_perf.py --quick    # fewer repeats and replications, 2 rounds

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
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
REF_PATH = ROOT / "benchmarks" / "scenarios" / "ref.yaml"
DEFAULT_SEED = 20_261_126  # sim.runs.replication.DEFAULT_SEED (not imported: the baselines' processes stay free of sim)
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
# salesim. Behaviour as in salesim (docs/background/domain-model.md#contact): a lead holds one of
# its SDR's cadence slots from first touch for min(dials, 30) dials spaced 1/3 of a working day,
# is reached iff its dials-to-connect <= 30, qualifies with probability 0.25, is handed off after 1 day, waits
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
    """One replication through :func:`sim.runs.replication.simulate_one` (world + metrics); its outcome KPIs."""
    from sim.runs.replication import simulate_one

    k, _series = simulate_one(scenario, seed, rep)
    return {"mqls": k["mqls"], "dials": k["dials"], "wins": k["wins"], "mrr_end_usd": k["mrr_end_usd"]}


def salesim_counted(scenario: Scenario, seed: int, rep: int) -> dict[str, float]:
    """One untimed replication (world + metrics, as :func:`salesim_once`) and the entries its
    timeline processed — SimPy events and the plain calls of
    :meth:`sim.model.engine.calendar.Timeline.call_at` alike (:attr:`~sim.model.engine.calendar.Timeline.processed`)."""
    from sim.metrics import kpis, monthly_series
    from sim.model.world import World

    world = World(scenario, seed, rep)
    log = world.run()
    k = kpis(log, scenario, monthly_series(log, scenario))
    return {"mqls": k["mqls"], "dials": k["dials"], "wins": k["wins"], "mrr_end_usd": k["mrr_end_usd"],
            "events": float(world.timeline.processed)}


# =========================================================================== one configuration (child process)


def measure_model(model: str, reps: Sequence[int], seed: int, count: bool = True) -> dict[str, Any]:
    """Time replications ``reps`` of ``model`` after a 1-month warm-up; optionally count one more.

    Parameters
    ----------
    model : str
        A key of :data:`MODELS`.
    reps : sequence of int
        The replication numbers to time, in this order (a round's share of ``0..repeats-1``).
    seed : int
        Root seed.
    count : bool
        Also run one untimed replication (rep 0) that counts the SimPy events (in a model's
        first round only: the count does not depend on the round).

    Returns
    -------
    dict of str to Any
        ``reps``, per-replication ``wall``, ``cpu`` and ``outcomes``, ``events`` (None
        without ``count``) and this process's ``peak_rss_mb``.
    """
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
    for rep in reps:
        c0, t0 = time.process_time(), time.perf_counter()
        outcomes.append(run(rep))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    events = counted()["events"] if count else None
    return {"model": model, "reps": list(reps), "wall": walls, "cpu": cpus, "outcomes": outcomes,
            "events": events, "peak_rss_mb": peak_rss_mb()}


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
    """Wall time of ``sim.run(ref, reps, workers=workers)`` (one round's share: replications ``0..reps-1``).

    A one-month, one-replication ``sim.run`` in this process comes first, untimed (imports that a
    process makes once). With 1 worker the replications run in this process, and its peak RSS is
    noted after a quarter of them and at the end. With more, the forkserver (a one-time cost per process)
    is started first and timed separately; the pool start stays in the measured wall time,
    and the largest peak RSS of a pool worker is noted after a quarter of the replications
    and at the end.
    """
    import sim
    from sim.runs import executors
    from sim.runs import monte_carlo as ex

    scenario = salesim_scenario(1)
    rss: dict[int, float] = {}
    forkserver = 0.0
    # What a process pays once, at its first sim.run — importing pandas and pyarrow for the result
    # tables, the first replication's lazy imports — is paid here, before the clock, as the
    # forkserver start is: the run that is timed is the same with 1 worker and with 2, and a
    # one-time cost counted on both sides would weigh twice on the 2-worker side of the efficiency.
    sim.run(salesim_scenario(1, months=1), reps=1, seed=seed, workers=1, progress=False)
    if workers == 1:
        # noted at the first chunk boundary at or past each mark, keyed by the replications done then
        # (chunks of ceil(reps / 8) replications seldom end exactly on a quarter)
        original, done, pending = ex.run_chunk, 0, {max(1, reps // 4), reps}

        def noting_chunk(data: dict[str, Any], seed_: int, chunk: list[int]) -> Any:
            nonlocal done
            result = original(data, seed_, chunk)
            done += len(chunk)
            reached = {m for m in pending if done >= m}
            if reached:
                pending.difference_update(reached)
                rss[done] = peak_rss_mb()
            return result

        ex.run_chunk = noting_chunk  # sim.run looks run_chunk up at call time; this process only
    else:
        t0 = time.perf_counter()
        pool = executors.process_pool(workers)
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


# =========================================================================== rounds (what runs when; merging)


@dataclass(frozen=True)
class Task:
    """One child process of a round: ``model`` timing replications ``reps``, and counting events if ``count``."""

    model: str
    reps: tuple[int, ...]
    count: bool


def split_replications(repeats: int, rounds: int) -> list[list[int]]:
    """Split replications ``0..repeats-1`` over ``rounds`` rounds.

    Consecutive blocks whose sizes differ by at most one, the larger ones first; a round
    gets an empty block when there are fewer replications than rounds (a single replication
    runs in the first round only).

    Parameters
    ----------
    repeats : int
        Replications to split, at least 1.
    rounds : int
        Number of rounds, at least 1.

    Returns
    -------
    list of list of int
        One list per round, ``rounds`` in all; together exactly ``0..repeats-1``, each once.

    Examples
    --------
    >>> split_replications(5, 3)
    [[0, 1], [2, 3], [4]]
    >>> split_replications(1, 3)
    [[0], [], []]
    """
    if repeats < 1 or rounds < 1:
        raise ValueError(f"repeats and rounds must be at least 1, not {repeats} and {rounds}")
    size, extra = divmod(repeats, rounds)
    blocks, start = [], 0
    for r in range(rounds):
        stop = start + size + (r < extra)
        blocks.append(list(range(start, stop)))
        start = stop
    return blocks


def schedule(repeats: dict[str, int], rounds: int) -> list[list[Task]]:
    """The child processes of each round, round-robin over the models in the order given.

    Parameters
    ----------
    repeats : dict of str to int
        Timed replications of each model (see :func:`repeats_of`).
    rounds : int
        Number of rounds.

    Returns
    -------
    list of list of Task
        One list per round. A model appears in every round whose share of its replications
        (:func:`split_replications`) is not empty, and counts its events in the first of them.
    """
    plan: list[list[Task]] = [[] for _ in range(rounds)]
    for model, n in repeats.items():
        first = True
        for r, reps in enumerate(split_replications(n, rounds)):
            if reps:
                plan[r].append(Task(model, tuple(reps), count=first))
                first = False
    return plan


def merge_model_rounds(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """Combine a model's child results, one per round (None where it did not run).

    Returns
    -------
    dict of str to Any
        ``wall``, ``cpu`` (all timed replications, in round order), ``wall_by_round`` (a list
        per round, empty where the model did not run), ``repeats``, ``rounds`` (children run),
        ``events`` (from the counting child; NaN if none counted), ``outcome`` (means over all
        timed replications) and ``peak_rss_mb`` (the largest over the children).
    """
    ran = [p for p in parts if p is not None]
    if not ran:
        raise ValueError("the model ran in no round")
    outcomes = [o for p in ran for o in p["outcomes"]]
    return {
        "wall": [w for p in ran for w in p["wall"]],
        "cpu": [c for p in ran for c in p["cpu"]],
        "wall_by_round": [list(p["wall"]) if p is not None else [] for p in parts],
        "repeats": len(outcomes),
        "rounds": len(ran),
        "events": next((p["events"] for p in ran if p.get("events") is not None), math.nan),
        "outcome": {key: statistics.fmean(o[key] for o in outcomes) for key in outcomes[0]},
        "peak_rss_mb": max(p["peak_rss_mb"] for p in ran),
    }


def largest_marks(marks_by_round: Sequence[dict[str, float]]) -> list[tuple[int, float]]:
    """The memory marks of several runs as one: the largest RSS over the rounds at each mark.

    Parameters
    ----------
    marks_by_round : sequence of dict of str to float
        Each run's peak RSS (MiB) by the number of replications done when it was noted
        (a quarter of the run's replications and all of them).

    Returns
    -------
    list of tuple of (int, float)
        ``(replications, MiB)`` at the first mark and at the last (one pair when every run
        had a single mark, none when there were no marks); the replications are those of the
        largest round, the MiB the largest seen at that mark in any round.
    """
    marks = [sorted((int(k), v) for k, v in m.items()) for m in marks_by_round if m]
    if not marks:
        return []
    first = (max(m[0][0] for m in marks), max(m[0][1] for m in marks))
    last = (max(m[-1][0] for m in marks), max(m[-1][1] for m in marks))
    return [first] if first[0] == last[0] else [first, last]


def merge_run_rounds(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """Combine the ``sim.run`` measurements of one worker count, one per round (None where it did not run).

    Returns
    -------
    dict of str to Any
        ``wall`` and ``reps`` summed over the rounds; ``by_round``, each round's
        ``(reps, wall, forkserver_s)`` or None; ``forkserver_s``, the median over the rounds;
        ``rss_after`` and ``worker_rss_after`` as :func:`largest_marks`; ``peak_rss_mb`` and
        ``worker_peak_rss_mb``, the largest over the rounds.
    """
    ran = [p for p in parts if p is not None]
    if not ran:
        raise ValueError("the run ran in no round")
    return {
        "wall": sum(p["wall"] for p in ran),
        "reps": sum(p["reps"] for p in ran),
        "by_round": [(p["reps"], p["wall"], p["forkserver_s"]) if p is not None else None for p in parts],
        "forkserver_s": statistics.median(p["forkserver_s"] for p in ran),
        "rss_after": largest_marks([p["rss_after"] for p in ran]),
        "worker_rss_after": largest_marks([p.get("worker_rss_after") or {} for p in ran]),
        "peak_rss_mb": max(p["peak_rss_mb"] for p in ran),
        "worker_peak_rss_mb": max(p["worker_peak_rss_mb"] for p in ran),
    }


def ratios_by_round(numerator: Sequence[Sequence[float]], denominator: Sequence[Sequence[float]]) -> list[float]:
    """Median of ``numerator`` ÷ median of ``denominator`` in each round in which both ran.

    Parameters
    ----------
    numerator, denominator : sequence of sequence of float
        Wall times by round (``wall_by_round`` of :func:`merge_model_rounds`).

    Returns
    -------
    list of float
        One ratio per round with times of both; rounds where either did not run are skipped.
    """
    return [statistics.median(n) / statistics.median(d)
            for n, d in zip(numerator, denominator, strict=True) if n and d]


def spread(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    """``"low–high in N rounds"``, or ``"–"`` for fewer than two values."""
    if len(values) < 2:
        return "–"
    return f"{fmt(min(values))}–{fmt(max(values))} in {len(values)} rounds"


# =========================================================================== child processes (parent process)


def child(args: list[str]) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh Python process; return the JSON it prints last."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sim_digest() -> str:
    """Digest of the sources of the ``sim`` this process imports (this checkout's, or an installed
    copy's, the sources a compiled build was made from), to notice if they change during the run."""
    import sim

    package = Path(sim.__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def sim_location() -> str:
    """Where the timed ``sim`` package is loaded from (this checkout, or an installed copy)."""
    import sim

    package = Path(sim.__file__).resolve().parent
    return "this checkout" if package == ROOT / "sim" else str(package)


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


def reps_text(reps: Sequence[int]) -> str:
    """``"rep 3"`` or ``"reps 3–5"`` (consecutive replications)."""
    return f"rep {reps[0]}" if len(reps) == 1 else f"reps {reps[0]}–{reps[-1]}"


@dataclass
class Measurements:
    """Everything the children measured, merged over the rounds."""

    results: dict[str, dict[str, Any]]
    """Per model: :func:`merge_model_rounds`."""
    runs: dict[int, dict[str, Any]]
    """Per worker count (1, 2): :func:`merge_run_rounds`; empty with ``--no-throughput``."""
    digests: list[tuple[str, str]]
    """Each child (``model#round`` or ``runW#round``) and the digest of the ``sim/`` sources it loaded."""
    thousand: dict[str, Any] | None = None
    """With ``--thousand``: :func:`measure_run` of 1,000 replications at 2 workers."""


def run_rounds(args: argparse.Namespace) -> Measurements:
    """Run every configuration's children, round after round, and merge what they measured.

    Round r runs, each in a fresh process: every model with a share of its timed replications
    in round r (in the order of ``--models``), then ``sim.run`` with 1 worker and with 2 workers
    on round r's share of ``--reps`` (replications ``0..share-1``: ``sim.run`` always starts at 0),
    1 worker first in odd rounds and 2 workers first in even ones.
    """
    rounds, seed = args.rounds, ["--seed", str(args.seed)]
    plan = schedule({m: repeats_of(m, args) for m in args.models}, rounds)
    shares = [] if args.no_throughput else [len(s) for s in split_replications(args.reps, rounds)]
    model_parts: dict[str, list[dict[str, Any] | None]] = {m: [None] * rounds for m in args.models}
    run_parts: dict[int, list[dict[str, Any] | None]] = {w: [None] * rounds for w in ((1, 2) if shares else ())}
    digests: list[tuple[str, str]] = []
    for r in range(rounds):
        for task in plan[r]:
            note(f"round {r + 1}/{rounds}: timing {MODELS[task.model]}, {reps_text(task.reps)}"
                 f"{' (+ counted rep 0)' if task.count else ''}, in a fresh process …")
            out = child(["--one", task.model, "--timed-reps", *map(str, task.reps),
                         *([] if task.count else ["--no-count"]), *seed])
            model_parts[task.model][r] = out
            digests.append((f"{task.model}#{r + 1}", out["sim_digest"]))
        order = sorted(run_parts, reverse=r % 2 == 1)  # 1 then 2 workers, then 2 then 1: drift falls on both
        for workers in order if shares and shares[r] else ():
            note(f"round {r + 1}/{rounds}: sim.run of ref, {shares[r]} replications, {workers} worker(s), "
                 f"in a fresh process …")
            out = child(["--one", f"run{workers}", "--reps", str(shares[r]), *seed])
            run_parts[workers][r] = out
            digests.append((f"run{workers}#{r + 1}", out["sim_digest"]))
    thousand = None
    if args.thousand:
        note("after the rounds: sim.run of ref, 1,000 replications, 2 worker(s), in a fresh process …")
        thousand = child(["--one", "run2", "--reps", "1000", *seed])
        digests.append(("run2x1000", thousand["sim_digest"]))
    return Measurements({m: merge_model_rounds(p) for m, p in model_parts.items()},
                        {w: merge_run_rounds(p) for w, p in run_parts.items()}, digests, thousand)


# =========================================================================== the report (parent process)


def print_header(args: argparse.Namespace, digest: str) -> None:
    """The workload, the code, the machine and the load, and how the rounds go."""
    print(f"salesim performance benchmark: {REF_PATH.relative_to(ROOT)} (24 months; 20 SDRs, 10 AEs, 5 CSMs; "
          f"2,000 MQLs/month), seed {args.seed}")
    from sim.compiled import describe

    print(f"git: {git_state()}; sim/ sources {digest}; salesim build: {describe()} ({sim_location()})")
    print(f"Python {platform.python_version()}, SimPy {simpy.__version__}, NumPy {np.__version__}, "
          f"{len(os.sched_getaffinity(0))} usable cores, {platform.machine()} {platform.system()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.rounds > 1:
        print(f"{args.rounds} rounds: each round runs every configuration once, in turn, each in a fresh process, "
              f"with its share of the timed replications, so that a slow drift of the CPU speed falls on all of them "
              f"about alike")
    else:
        print("1 round: each configuration runs once, in turn, each in a fresh process")
    if os.getloadavg()[0] > len(os.sched_getaffinity(0)):
        print("WARNING: the load average exceeds the usable cores: other processes compete for the CPU and inflate "
              "every wall time (compare the CPU s/rep column)")
    print()


def print_models(results: dict[str, dict[str, Any]]) -> None:
    """The one-replication table: a row per model."""
    from sim.present.text import text_table

    rows = []
    for model, r in results.items():
        t, cpu = statistics.median(r["wall"]), statistics.median(r["cpu"])
        o = r["outcome"]
        rows.append([
            MODELS[model], f"{t:.3f}", f"{cpu:.3f}", str(r["repeats"]), str(r["rounds"]), f"{r['events']:,.0f}",
            f"{r['events'] / o['mqls']:.2f}", f"{r['events'] / t / 1000:,.0f}", f"{r['peak_rss_mb']:,.0f}",
            f"{o['mqls']:,.0f}", f"{o['dials']:,.0f}", f"{o['wins']:,.0f}", f"{o['mrr_end_usd']:,.0f}",
        ])
    print("One replication (each model in a fresh process per round; s/rep and CPU s/rep are medians over all its "
          "timed replications, outcome columns means; peak RSS the largest of its processes)")
    print(text_table(rows, ["model", "s/rep", "CPU s/rep", "repeats", "rounds", "SimPy events/rep", "events/MQL",
                            "k events/s", "peak RSS MiB", "MQLs", "dials", "wins", "MRR end $"]))
    print()


def round_rates(run: dict[str, Any]) -> list[float]:
    """Replications per second in each round of a merged run (:func:`merge_run_rounds`) that ran."""
    return [reps / wall for reps, wall, _ in (b for b in run["by_round"] if b is not None)]


def print_throughput(runs: dict[int, dict[str, Any]], rounds: int) -> None:
    """The ``sim.run`` table and its memory lines."""
    from sim.present.text import text_table

    rate1 = runs[1]["reps"] / runs[1]["wall"]
    shares = [b[0] for b in runs[1]["by_round"] if b is not None]
    rows = []
    for workers, r in runs.items():
        rate = r["reps"] / r["wall"]
        by_round = round_rates(r)
        rows.append([str(workers), str(r["reps"]), f"{r['wall']:.2f}", f"{rate:.2f}",
                     f"{rate / (workers * rate1):.0%}", *([spread(by_round, "{:.2f}".format)] if rounds > 1 else []),
                     "in process" if workers == 1 else
                     f"pool start included (once per round); forkserver start {r['forkserver_s']:.2f} s "
                     f"(median over rounds) not"])
    split = "" if len(shares) == 1 else f" in {len(shares)} rounds of {'/'.join(map(str, shares))}, the same " \
        f"replications 0, 1, … in every round (sim.run always starts at 0)"
    print(f"Throughput through sim.run (ref, {runs[1]['reps']} replications per worker count{split}; "
          f"each run in a fresh process; wall s and reps summed over the rounds)")
    print(text_table(rows, ["workers", "reps", "wall s", "reps/s", "efficiency",
                            *(["reps/s by round"] if rounds > 1 else []), "note"]))
    over = "" if len(shares) == 1 else ", the largest over rounds"
    marks = runs[1]["rss_after"]
    if marks:
        (first, rss_first), (last, rss_last) = marks[0], marks[-1]
        print(f"peak RSS of the 1-worker run{'s' if over else ''} (simulating every replication of the run and "
              f"keeping the result tables{over}): {rss_first:,.0f} MiB after {first} replications, "
              f"{rss_last:,.0f} MiB after {last} ({rss_last - rss_first:+,.1f} MiB)")
    worker_marks = runs[2]["worker_rss_after"]
    if len(worker_marks) == 2:
        (first, w_first), (last, w_last) = worker_marks
        print(f"largest peak RSS of a pool worker in the 2-worker run{'s' if over else ''} (sampled from /proc"
              f"{over}): {w_first:,.0f} MiB after {first} replications, {w_last:,.0f} MiB after {last} "
              f"({w_last - w_first:+,.1f} MiB)")
    print()


def target_rows(m: Measurements, rounds: int) -> tuple[list[list[str]], dict[int, list[str]]]:
    """The rows of the targets table (the across-rounds column last when ``rounds`` > 1), and the
    per-unit costs by scale for the line under it."""
    results, runs = m.results, m.runs
    rows: list[list[str]] = []

    def add(row: list[str], by_round: Sequence[float], fmt: Callable[[float], str]) -> None:
        rows.append(row[:3] + ([spread(by_round, fmt)] if rounds > 1 else []) + row[3:])

    def t_of(model: str) -> float:
        return statistics.median(results[model]["wall"]) if model in results else math.nan

    def cpu_of(model: str) -> float:
        return statistics.median(results[model]["cpu"]) if model in results else math.nan

    def ratios(num: str, den: str) -> list[float]:
        return ratios_by_round(results[num]["wall_by_round"], results[den]["wall_by_round"])

    t_ref = t_of("ref")
    for model in ("a", "b"):
        ratio = t_ref / t_of(model)
        if math.isnan(ratio):
            continue
        speed = (f"salesim {1 / ratio:.1f}× faster" if ratio <= 1 else f"salesim {ratio:.1f}× slower") + \
            f"; by CPU time {cpu_of('ref') / cpu_of(model):.3f}"
        if model == "a":
            add(["time salesim ref ÷ (a)", f"{ratio:.3f}", speed, "–", "–"], ratios("ref", model), "{:.3f}".format)
        else:
            add(["time salesim ref ÷ (b)", f"{ratio:.3f}", speed, "≥ 5× faster (aim 10×)",
                 status(1 / ratio >= 5) + ("" if 1 / ratio < 5 else " (aim met)" if 1 / ratio >= 10 else
                                           " (aim not yet)")], ratios("ref", model), "{:.3f}".format)
    per_unit: dict[int, list[str]] = {}  # scale -> each model's cost per unit of work against itself on ref
    for model in ("ref2", "ref4", "ref8", "ref16"):
        target = 18.0 if model == "ref16" else None
        ratio = t_of(model) / t_ref
        if math.isnan(ratio):
            continue
        add([f"time {MODELS[model].split()[-1]} ÷ ref", f"{ratio:.2f}",
             f"{SCALE[model]}× the work, {ratio / SCALE[model]:.2f}× per unit; "
             f"by CPU time {cpu_of(model) / cpu_of('ref'):.2f}",
             f"≤ {target:g}" if target else "–", status(ratio <= target) if target else "–"],
            ratios(model, "ref"), "{:.2f}".format)
        per_unit.setdefault(SCALE[model], []).append(f"salesim {ratio / SCALE[model]:.2f}×")
    for model in (m for m in MODELS if m in BASELINES and SCALE[m] > 1):
        base = BASELINES[model]
        ratio = t_of(model) / t_of(base)
        if math.isnan(ratio):
            continue
        add([f"time ({base}) on ref×{SCALE[model]} ÷ ({base})", f"{ratio:.2f}",
             f"{SCALE[model]}× the work, {ratio / SCALE[model]:.2f}× per unit; "
             f"by CPU time {cpu_of(model) / cpu_of(base):.2f}", "–", "–"], ratios(model, base), "{:.2f}".format)
        per_unit.setdefault(SCALE[model], []).append(f"plain SimPy ({base}) {ratio / SCALE[model]:.2f}×")
    if runs:
        rate1, rate2 = runs[1]["reps"] / runs[1]["wall"], runs[2]["reps"] / runs[2]["wall"]
        efficiency = rate2 / (2 * rate1)
        projected = runs[2]["forkserver_s"] + 1000 / rate2
        pairs = [(one, two) for one, two in zip(runs[1]["by_round"], runs[2]["by_round"], strict=True)
                 if one is not None and two is not None]
        add(["parallel efficiency at 2 workers", f"{efficiency:.0%}", f"{rate1:.2f} → {rate2:.2f} reps/s",
             "≥ 90%", status(efficiency >= 0.9)],
            [(two[0] / two[1]) / (2 * one[0] / one[1]) for one, two in pairs], "{:.0%}".format)
        if m.thousand is None:
            add(["1,000 reps of ref at 2 workers (s)", f"{projected:.0f}",
                 "projected: forkserver start + 1,000 ÷ reps/s (pessimistic: each round's pool start and "
                 "worker warm-up weigh on few replications; --thousand measures it)", "< 120 s",
                 status(projected < 120)],
                [two[2] + 1000 * two[1] / two[0] for _, two in pairs], "{:.0f}".format)
    if m.thousand is not None:
        run = m.thousand
        measured = run["forkserver_s"] + run["wall"]
        memory = ", ".join(f"{v:.0f} MiB after {k}" for k, v in run["worker_rss_after"].items())
        add(["1,000 reps of ref at 2 workers (s)", f"{measured:.0f}",
             f"measured: one sim.run of 1,000 replications, forkserver and pool start included; "
             f"{1000 / run['wall']:.2f} reps/s; worker peak RSS {memory}", "< 120 s", status(measured < 120)],
            [], str)
    if "ref16" in results:
        rss = results["ref16"]["peak_rss_mb"]
        add(["peak RSS per worker at ref×16 (MiB)", f"{rss:,.0f}", "the ref×16 processes (largest), one "
             "replication at a time", "< 300 MiB", status(rss < 300)], [], str)
    return rows, per_unit


def print_targets(m: Measurements, rounds: int) -> None:
    """The targets table, with the spread of each ratio across rounds when there are several."""
    from sim.present.text import text_table

    rows, per_unit = target_rows(m, rounds)
    if not rows:
        return
    print("Targets" + (" (across rounds: the same ratio computed within each round that ran both sides)"
                       if rounds > 1 else ""))
    print(text_table(rows, ["measure", "value", "note", *(["across rounds"] if rounds > 1 else []),
                            "target", "status"]))
    if any(model in BASELINES and SCALE[model] > 1 for model in m.results):
        print("cost per unit of work, each model against itself on ref (time ratio ÷ scale; 1.00 is linear): "
              + "; ".join(f"×{scale}: {', '.join(costs)}" for scale, costs in sorted(per_unit.items())))
    print()


def print_footer(m: Measurements, digest: str, started: float) -> None:
    """Total time, the load, and whether the children all ran the same ``sim/`` sources."""
    print(f"total {time.perf_counter() - started:.0f} s; load average at the end "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if any(d != digest for _, d in m.digests):
        print("WARNING: sim/ sources changed during the run, configurations ran different code; sim/ digest per "
              "child process (configuration#round): " + ", ".join(f"{name} {d}" for name, d in m.digests))
    elif sim_digest() != digest:
        print(f"note: sim/ sources changed after the last child process started (now {sim_digest()}); "
              f"every child ran {digest}")


def build_parser() -> argparse.ArgumentParser:
    """The command line (``--one``, ``--timed-reps`` and ``--no-count`` are the child mode's, hidden)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=200,
                        help="replications of ref per worker count in the sim.run throughput measurement, split over "
                             "the rounds (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed replications of salesim ref (median reported; default: %(default)s)")
    parser.add_argument("--repeats-scaled", type=int, default=3,
                        help="timed replications of salesim ref×4 and ref×16 (default: %(default)s)")
    parser.add_argument("--repeats-baseline", type=int, default=3,
                        help="timed replications of each SimPy baseline on ref (default: %(default)s)")
    parser.add_argument("--repeats-scaled-baseline", type=int, default=1,
                        help="timed replications of (b) on ref×4 and ref×16, models b4 and b16 (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="split each model's timed replications and the sim.run replications over K rounds; "
                             "each round runs every configuration once, in turn, so that a drift of the CPU speed "
                             "falls on all alike (default: 3; 2 with --quick)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=DEFAULT_MODELS,
                        help=f"models to time (default: {' '.join(DEFAULT_MODELS)})")
    parser.add_argument("--no-throughput", action="store_true", help="skip the sim.run measurements")
    parser.add_argument("--thousand", action="store_true",
                        help="also time one sim.run of 1,000 replications of ref at 2 workers, after the rounds, "
                             "and judge that target on it instead of projecting from --reps (a few minutes)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="root seed (default: %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast look: 2/1/1/1 repeats, 40 replications per sim.run, 2 rounds")
    parser.add_argument("--one", metavar="CONFIG", help=argparse.SUPPRESS)  # child mode: a model, run1 or run2
    parser.add_argument("--timed-reps", type=int, nargs="+", help=argparse.SUPPRESS)  # child: which reps to time
    parser.add_argument("--no-count", action="store_true", help=argparse.SUPPRESS)  # child: skip the counted rep
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse and check the command line; apply ``--quick`` and the default number of rounds."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.repeats_scaled, args.repeats_baseline, args.repeats_scaled_baseline = 2, 1, 1, 1
        args.reps = 40
    if args.rounds is None:
        args.rounds = 2 if args.quick else 3
    if min(args.reps, args.repeats, args.repeats_scaled, args.repeats_baseline, args.repeats_scaled_baseline,
           args.rounds) < 1:
        parser.error("--reps, --rounds and the repeat counts must be at least 1")
    if args.timed_reps is not None and min(args.timed_reps) < 0:
        parser.error("--timed-reps must not be negative")
    if args.one is not None and args.one not in MODELS and args.one not in ("run1", "run2"):
        parser.error(f"unknown configuration {args.one!r}")
    return args


def run_child(args: argparse.Namespace) -> dict[str, Any]:
    """Child mode: measure the one configuration ``args.one``; the JSON-ready result."""
    digest = sim_digest()  # the code this child imports
    if args.one in MODELS:
        reps = args.timed_reps if args.timed_reps is not None else range(repeats_of(args.one, args))
        out = measure_model(args.one, reps, args.seed, count=not args.no_count)
    else:
        out = measure_run(int(args.one[-1]), args.reps, args.seed)
    return {**out, "sim_digest": digest}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one is not None:  # child: measure one configuration, print JSON
        print(json.dumps(run_child(args)))
        return 0
    digest = sim_digest()
    started = time.perf_counter()
    print_header(args, digest)
    measured = run_rounds(args)
    print_models(measured.results)
    if measured.runs:
        print_throughput(measured.runs, args.rounds)
    print_targets(measured, args.rounds)
    print_footer(measured, digest, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
