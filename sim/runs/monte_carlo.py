"""The Monte Carlo loop: run a scenario many times, on any executor, into a resumable results folder.

This module owns :func:`run` and :func:`run_to_precision` (rules: named random streams,
determinism across workers). Replications go to an executor in chunks
(:mod:`sim.runs.executors`, :mod:`sim.runs.replication`); finished chunks are written to the
results folder as they arrive (:mod:`sim.runs.store`), so an interrupted run keeps them and
running the same command again computes only what is missing.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.metrics import KPI_NAMES
from sim.runs.executors import (
    ExecutorError,
    auto_chunk_size,
    check_workers,
    chunks_of,
    default_workers,
    lost_worker,
    pool_chunks,
    process_pool,
    stop_now,
)
from sim.runs.replication import DEFAULT_SEED, ChunkResult, chunk_tables, run_chunk, run_reps
from sim.runs.results import RunResult, combined_tables
from sim.runs.signals import Terminated, sigterm_interrupts
from sim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

# pandas, scipy.stats (sim.runs.stats) and the results store are imported inside the functions
# that build tables (see sim.runs.replication).


class RunInterrupted(Exception):  # noqa: N818 - an outcome, not an error
    """Raised when a run is stopped by Ctrl-C (SIGINT) or SIGTERM; finished replications are kept.
    ``signal`` says which (``signal.SIGINT`` or ``signal.SIGTERM``)."""

    def __init__(self, done: int, total: int, out: Path | None, signum: int = signal.SIGINT) -> None:
        self.done, self.total, self.out, self.signal = done, total, out, signum
        where = f" in {out}" if out is not None else ""
        by = " by SIGTERM" if signum == signal.SIGTERM else ""
        super().__init__(f"interrupted{by}: {done} of {total} replications are saved{where}")


MAX_REPS = 100_000
"""Most replications of one run (``--reps``, ``--max-reps``): the run's tables stay in memory."""

_TABLE_BYTES_PER_VALUE = 96
"""Memory per monthly value of a run's tables in the process that assembles them: the long series
table (rep, month, series, value) takes about 48 bytes a value with pandas' overheads (66 KB a
replication of the 24-month benchmark org, 57 series), and assembling it from chunks holds about
two copies at once."""


class TooManyReps(ValueError):  # noqa: N818 - reads as what it says
    """More replications than a run can hold; the message is for people."""


def check_reps(reps: int, scenario: Scenario) -> None:
    """``reps`` replications fit this machine: at most :data:`MAX_REPS`, and tables that take at
    most half of its memory. Else :class:`TooManyReps` (a ``ValueError``) with a message for people."""
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
        raise ValueError(f"reps must be a whole number of at least 1 (got {reps!r})")
    if reps > MAX_REPS:
        raise TooManyReps(f"--reps {reps:,} is more than a run holds: at most {MAX_REPS:,}. Split the work into "
                         "runs with different seeds, or ask for a precision instead (--precision)")
    need = reps * (40 + 8) * (scenario.horizon_months + 1) * _TABLE_BYTES_PER_VALUE
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return
    if need > memory / 2:
        raise TooManyReps(f"--reps {reps:,} of a {scenario.horizon_months}-month scenario needs about "
                         f"{need / 2**30:,.1f} GiB for its tables; this machine has {memory / 2**30:,.1f} GiB. "
                         f"Use at most {int(memory / 2 / (need / reps)):,} replications")



# --------------------------------------------------------------------------- the loop


def _submit_all(executor: Executor, scenario: Scenario, seed: int,
                chunks: Iterable[list[int]]) -> dict[Future, list[int]]:
    data = scenario.resolved()
    return {executor.submit(run_chunk, data, seed, chunk): chunk for chunk in chunks}


class _NoBar:
    """Stands in for a progress bar that is off (tqdm is not even imported)."""

    def update(self, _n: int = 1) -> None: ...
    def close(self) -> None: ...


PROGRESS_INTERVAL_SECONDS = 5.0
"""Least time between two progress lines when the error stream is not a terminal."""


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``1 h 05 min``: a duration for people."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class ProgressLines:
    """Progress for logs and pipes: a line on stderr, at most every ``interval`` seconds, as
    replications finish — ``salesim: silo: 120/400 replications, 35 s elapsed, ~80 s left``.

    Used instead of a progress bar when the error stream is not a terminal, so that a long run
    in CI, ``nohup`` or a pipe does not stay silent for minutes. The estimate is the elapsed
    time per finished replication × the replications left.
    """

    def __init__(self, total: int, desc: str, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.desc, self.done = total, desc, 0
        self.interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self.clock = clock
        self.start = self.last = clock()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.last < self.interval or self.done >= self.total:
            return
        self.last = now
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        estimate = f", ~{duration_text(left)} left" if left == left else ""
        print(f"salesim: {self.desc}: {self.done}/{self.total} replications, {duration_text(elapsed)} elapsed"
              f"{estimate}", file=sys.stderr, flush=True)

    def close(self) -> None: ...


def _progress_bar(total: int, enabled: bool | None, desc: str):
    """A tqdm bar (``enabled`` True, or None on a terminal), progress lines (None elsewhere), or nothing."""
    if enabled is None:
        if not sys.stderr.isatty():
            return ProgressLines(total, desc)
        enabled = True
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="rep", leave=False)


def run(
    scenario: Scenario,
    reps: int = 100,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    executor: Executor | None = None,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: bool | None = False,
    chunk_size: int | None = None,
    source: dict[str, Any] | None = None,
) -> RunResult:
    """Run ``reps`` replications of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        From :func:`sim.load_scenario` or :func:`sim.scenario_from_dict`.
    reps : int
        Number of replications (indices ``0 .. reps-1``).
    seed : int
        Root seed; the same seed gives the same numbers for any ``workers`` or executor.
    workers : int, optional
        Size of the local process pool (default: all cores; 1 runs in this process).
    executor : concurrent.futures.Executor, optional
        Run on this executor instead (e.g. ``distributed.Client(...).get_executor()``).
    out : path, optional
        Results folder. Finished chunks are saved as they arrive; replications already
        there (same scenario and seed) are reused, so an interrupted run resumes.
    overwrite : bool
        Replace a folder that holds results of another scenario or seed.
    progress : bool or None
        Show a progress bar (True); None: a bar when stderr is a terminal, else a progress line
        every few seconds (:class:`ProgressLines`); False: nothing.
    chunk_size : int, optional
        Replications per task. By default about eight tasks per worker, at most 25 replications
        each, and on a pool the last tasks smaller, down to one replication, so that the workers
        finish together. The numbers do not depend on the chunking.
    source : dict, optional
        Where the scenario's values were written, with their comments
        (:func:`sim.scenario.annotations.read_source_notes`): kept in the results folder's
        manifest, for the report's list of assumptions.

    Returns
    -------
    RunResult

    Raises
    ------
    RunInterrupted
        On Ctrl-C, after cancelling pending work; everything finished is saved in ``out``.
    """
    from sim.runs.store import ResultsStore

    check_reps(reps, scenario)
    if executor is None:
        check_workers(workers)
    store = ResultsStore(out) if out is not None else None
    with sigterm_interrupts(), store if store is not None else contextlib.nullcontext():
        if store is not None:
            store.open(scenario, seed, overwrite=overwrite, reps=reps, source=source)
        return _run(scenario, reps, seed, workers, executor, store, progress, chunk_size)


_HEALING_ROUNDS = 3
"""How many times a run recomputes replications whose chunks it found unreadable at the end."""


def _run(scenario: Scenario, reps: int, seed: int, workers: int | None, executor: Executor | None,
         store: Any, progress: bool | None, chunk_size: int | None) -> RunResult:
    """:func:`run` with its folder open and locked: compute what is missing, then assemble the tables
    (and compute again the replications of chunks found unreadable meanwhile, a few rounds at most)."""
    wanted = set(range(reps))
    if store is None:
        part = _compute(scenario, reps, seed, workers, executor, None, progress, chunk_size, list(range(reps)), 0)
        part.failures = sorted(part.failures, key=lambda f: f["rep"])
        return part
    failures: dict[int, dict[str, Any]] = {}
    todo = sorted(wanted - store.completed_reps())
    computed = set(todo)
    for _ in range(_HEALING_ROUNDS):
        part = _compute(scenario, reps, seed, workers, executor, store, progress, chunk_size, todo, reps - len(todo))
        failures.update((f["rep"], f) for f in part.failures)
        moved = len(store.moved_aside)
        kpi_table, series_table = store.load_tables(wanted)
        if len(store.moved_aside) == moved:
            break
        todo = sorted(wanted - set(kpi_table["rep"]) - set(failures))  # the chunks just moved aside
        computed.update(todo)
    result = RunResult(scenario, seed, kpi_table, series_table, [], store.folder)
    manifest = store.read_manifest() or {}
    old = [f for f in manifest.get("failures", []) if f["rep"] not in computed and f["rep"] < reps]
    result.failures = sorted(old + list(failures.values()), key=lambda f: f["rep"])
    if not kpi_table.empty:
        store.write_tables(kpi_table, result.timeseries, result.summary())  # with its dates, if any
    store.update_manifest(
        status="failed" if result.failures else "complete",
        reps_requested=reps,
        reps_completed=len(kpi_table),
        failures=result.failures,
        pid=None,
    )
    return result


def _compute(scenario: Scenario, reps: int, seed: int, workers: int | None, executor: Executor | None,
             store: Any, progress: bool | None, chunk_size: int | None, todo: list[int],
             finished: int) -> RunResult:
    """Run replications ``todo``; into the store's chunks, or returned in memory without a store."""
    kpi_parts: list[pd.DataFrame] = []
    series_parts: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []

    def collect(chunk: ChunkResult) -> None:
        failures.extend(chunk.failures)
        k, s = chunk_tables(chunk)
        if store is not None:
            store.write_chunk(k, s)
        else:
            kpi_parts.append(k)
            series_parts.append(s)

    n_workers = workers or default_workers()

    def stop_and_save() -> int:
        """Stop the pool at once and mark the manifest interrupted; the replications saved."""
        if pool is not None and own_pool:
            stop_now(pool)
        saved = len(store.completed_reps() & set(range(reps))) if store else finished
        if store is not None:
            store.update_manifest(status="interrupted", reps_requested=reps, reps_completed=saved)
        return saved

    if todo:
        bar = _progress_bar(len(todo), progress, scenario.name)
        own_pool = executor is None and n_workers > 1
        pool = process_pool(n_workers) if own_pool else executor
        try:
            if pool is None:
                data = scenario.resolved()
                for chunk in chunks_of(todo, chunk_size or auto_chunk_size(len(todo), 1)):
                    collect(run_chunk(data, seed, chunk))
                    finished += len(chunk)
                    bar.update(len(chunk))
            else:
                chunks = chunks_of(todo, chunk_size) if chunk_size else pool_chunks(todo, n_workers)
                futures = _submit_all(pool, scenario, seed, chunks)
                for future in as_completed(futures):
                    chunk = future.result()
                    collect(chunk)
                    finished += len(futures[future])
                    bar.update(len(futures[future]))
        except KeyboardInterrupt as exc:
            signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
            raise RunInterrupted(stop_and_save(), reps, store.folder if store else None, signum) from None
        except Exception as exc:
            if not lost_worker(exc):
                raise
            saved = stop_and_save()
            where = f" in {store.folder}" if store is not None else ""
            raise ExecutorError(
                f"a worker died ({type(exc).__name__}: {exc}); {saved} of {reps} replications are saved{where}. "
                "Run the same command again to resume."
            ) from None
        finally:
            bar.close()
            if own_pool and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    if store is not None:
        return RunResult(scenario, seed, None, None, failures, store.folder)
    kpi_table, series_table = combined_tables(kpi_parts, series_parts)
    return RunResult(scenario, seed, kpi_table, series_table, failures, None)


def run_to_precision(
    scenario: Scenario,
    metric: str = "exit_arr_usd",
    relative_half_width: float = 0.02,
    initial_reps: int = 30,
    max_reps: int = 2000,
    **run_kwargs: Any,
) -> RunResult:
    """Add replications until the 95% CI half-width of ``metric`` is at most
    ``relative_half_width`` × |mean|, or ``max_reps`` is reached.

    Each round projects the replications needed from the current relative half-width
    (it shrinks as 1/√n) with a 10% margin, so a run takes a few rounds. The result's
    ``precision`` holds the metric, target, achieved relative half-width, replications
    and whether the target was reached. Other keyword arguments go to :func:`run`; with
    ``out`` every round resumes from the previous one.
    """
    import pandas as pd

    from sim.runs import stats

    if metric not in KPI_NAMES:
        raise ValueError(f"unknown metric {metric!r}; choose one of: {', '.join(KPI_NAMES)}")
    if not 0 < relative_half_width < 1:
        raise ValueError("relative_half_width must be between 0 and 1")
    reps = max(2, min(initial_reps, max_reps))
    kpi_parts: list[pd.DataFrame] = []
    series_parts: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    done = 0
    while True:
        if run_kwargs.get("out") is not None:
            result = run(scenario, reps=reps, **run_kwargs)
        else:  # in memory: run only the new replications, as a slice of indices
            part = _run_indices(scenario, range(done, reps), run_kwargs)
            kpi_parts.append(part.kpis)
            series_parts.append(part.timeseries)
            failures.extend(part.failures)
            result = RunResult(scenario, part.seed, pd.concat(kpi_parts, ignore_index=True),
                               pd.concat(series_parts, ignore_index=True), failures)
        done = reps
        rhw = stats.relative_half_width(result.kpis[metric])
        if rhw <= relative_half_width or reps >= max_reps:
            break
        if math.isfinite(rhw):
            # the half-width shrinks as t(n-1)/sqrt(n): project with the normal quantile
            from scipy.stats import norm, t

            z_over_t = norm.ppf(0.975) / t.ppf(0.975, max(1, result.reps - 1))
            needed = math.ceil(reps * (rhw * z_over_t / relative_half_width) ** 2 * 1.1)
        else:
            needed = 2 * reps
        reps = min(max_reps, max(needed, reps + 2))
    result.precision = {
        "metric": metric, "target": relative_half_width, "relative_half_width": rhw,
        "reps": result.reps, "reached": bool(rhw <= relative_half_width),
    }
    return result


def _run_indices(scenario: Scenario, indices: range, run_kwargs: dict[str, Any]) -> RunResult:
    """Run replications ``indices`` (not starting at 0) in memory."""
    seed = run_kwargs.get("seed", DEFAULT_SEED)
    executor = run_kwargs.get("executor")
    workers = run_kwargs.get("workers") or default_workers()
    todo = list(indices)
    chunks: list[ChunkResult] = []
    own_pool = executor is None and workers > 1
    pool = process_pool(workers) if own_pool else executor
    try:
        if pool is None:
            chunks = [run_reps(scenario, seed, todo)]
        else:
            futures = _submit_all(pool, scenario, seed, pool_chunks(todo, workers))
            chunks = [f.result() for f in as_completed(futures)]
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    tables = [chunk_tables(c) for c in chunks]
    kpi_table, series_table = combined_tables([k for k, _ in tables], [s for _, s in tables])
    failures = [f for c in chunks for f in c.failures]
    return RunResult(scenario, seed, kpi_table, series_table, failures)
