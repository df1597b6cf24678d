"""Replications: run a scenario many times, on any executor, into a resumable results folder.

This module owns the Monte Carlo loop (DESIGN.md §2, rules 2 and 5). Replication ``r`` of
seed ``s`` is a pure function of (scenario, s, r): its random streams are derived from
``SeedSequence(s, spawn_key=(r, stream))``. Work is shipped to executors as chunks of
replication indices together with the scenario as plain data — never generator objects —
so the numbers are identical for any number of workers and any executor (a local process
pool, a Dask cluster through ``Client.get_executor()``, or anything implementing
``concurrent.futures.Executor``).

Finished chunks are written to the results folder as they arrive (:mod:`sim.store`); an
interrupted run keeps them, and running the same command again computes only what is
missing. An exception inside one replication is recorded with its traceback and the other
replications go on.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.metrics import KPI_NAMES, kpis, monthly_series
from sim.model.world import simulate
from sim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

# pandas, scipy.stats (sim.stats) and the results store are imported inside the functions that
# build tables: pool workers import this module to run replications, and those imports would
# add ~110 MiB to every worker's memory for nothing.

DEFAULT_SEED = 20_261_126
"""Seed used when none is given (recorded in every manifest)."""


class RunInterrupted(Exception):  # noqa: N818 - an outcome, not an error
    """Raised when a run is stopped by Ctrl-C; finished replications are kept."""

    def __init__(self, done: int, total: int, out: Path | None) -> None:
        self.done, self.total, self.out = done, total, out
        where = f" in {out}" if out is not None else ""
        super().__init__(f"interrupted: {done} of {total} replications are saved{where}")


class ExecutorError(Exception):
    """An executor could not be created or reached; the message is for people."""


# --------------------------------------------------------------------------- one replication


def simulate_one(scenario: Scenario, seed: int = DEFAULT_SEED, replication: int = 0
                 ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Run one replication; return its KPIs and monthly series (month 0..horizon)."""
    from sim.model.world import _collector_paused

    with _collector_paused():  # see World.run: the cyclic collector makes big runs superlinear
        log = simulate(scenario, seed, replication)
        series = monthly_series(log, scenario)
        return kpis(log, scenario, series), series


@dataclass
class ChunkResult:
    """What a worker sends back for a chunk of replications (plain arrays, cheap to pickle)."""

    reps: list[int]
    kpis: np.ndarray
    series_names: list[str]
    series: np.ndarray
    failures: list[dict[str, Any]] = field(default_factory=list)


def run_chunk(scenario_data: dict[str, Any], seed: int, reps: Sequence[int]) -> ChunkResult:
    """Run replications ``reps`` of a scenario given as plain data (the executor task)."""
    return run_reps(Scenario.model_validate(scenario_data), seed, reps)


def run_reps(scenario: Scenario, seed: int, reps: Sequence[int]) -> ChunkResult:
    """Run replications ``reps`` of a validated scenario in this process."""
    done, kpi_rows, cubes, failures = [], [], [], []
    names: list[str] = []
    for rep in reps:
        try:
            k, series = simulate_one(scenario, seed, rep)
        except Exception as exc:  # recorded, reported; the other replications go on
            failures.append({
                "rep": int(rep), "seed": int(seed), "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
            })
            continue
        names = list(series)
        done.append(int(rep))
        kpi_rows.append([k[name] for name in KPI_NAMES])
        cubes.append(np.stack([series[name] for name in names]))
    h = scenario.horizon_months
    return ChunkResult(
        reps=done,
        kpis=np.asarray(kpi_rows, dtype=float).reshape(len(done), len(KPI_NAMES)),
        series_names=names,
        series=np.asarray(cubes, dtype=float).reshape(len(done), len(names), h + 1),
        failures=failures,
    )


def chunk_tables(chunk: ChunkResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI table (rep + KPIs) and the long series table (rep, month, series, value)."""
    import pandas as pd

    kpi_table = pd.DataFrame(chunk.kpis, columns=list(KPI_NAMES))
    kpi_table.insert(0, "rep", np.asarray(chunk.reps, dtype=np.int64))
    n, s, m = chunk.series.shape
    reps = np.repeat(np.asarray(chunk.reps, dtype=np.int64), s * m)
    names = np.tile(np.repeat(np.asarray(chunk.series_names, dtype=object), m), n)
    months = np.tile(np.arange(m, dtype=np.int64), n * s)
    values = chunk.series.reshape(-1)
    keep = ~((months == 0) & np.isnan(values))  # flows have no month 0
    series_table = pd.DataFrame({
        "rep": reps[keep], "month": months[keep], "series": names[keep], "value": values[keep],
    })
    return kpi_table, series_table


# --------------------------------------------------------------------------- executors


def _lost_worker(exc: BaseException) -> bool:
    """Whether an exception from a future means a worker process (not a replication) failed:
    a broken local pool, or a Dask worker killed or cut off."""
    from concurrent.futures import BrokenExecutor

    return isinstance(exc, BrokenExecutor) or type(exc).__name__ in {"KilledWorker", "CommClosedError"}


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which cancels work and keeps what finished; on
    Linux they also end when the parent dies (even by SIGKILL) instead of lingering."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        except OSError:  # pragma: no cover - no libc: workers then end when their queue closes
            pass


FORKSERVER_PRELOAD: tuple[str, ...] = ("numpy", "numpy.random", "numpy.ma", "simpy", "sim.experiment")
"""What the fork server imports before it forks any worker: a replication's imports (this module
pulls in the model, pydantic and PyYAML). A worker forked from it starts with them made — about
0.1 s of imports each, a twentieth of a 2-second run on two workers."""


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local process pool whose workers ignore Ctrl-C (the parent handles it).

    Where the platform has a fork server (Linux, macOS), the workers are forked from one that
    has already imported what a replication needs (:data:`FORKSERVER_PRELOAD`; started once per
    process, :func:`start_forkserver`). Elsewhere they are spawned and import ``sim`` themselves.
    Either way they get the parent's working directory and ``sys.path``, and run the parent's build.
    """
    if workers < 1:
        raise ExecutorError(f"--workers must be at least 1 (got {workers})")
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    if method == "forkserver":
        start_forkserver(ctx)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)


def start_forkserver(ctx: Any) -> None:
    """Start this process's fork server, if it is not running, with :data:`FORKSERVER_PRELOAD` imported.

    Python 3.11's fork server puts the working directory first on its path and ignores the
    parent's ``sys.path`` (3.12 applies it), so from a folder holding another ``sim`` — a checkout
    beside an installed compiled build — it would preload *that* one. So it is started from the
    folder that holds the parent's ``sim`` package: its working directory is then where the parent's
    ``sim`` comes from. The parent's working directory is changed only for the instant of starting
    it, and workers forked from the server move to the parent's directory and path before they run
    anything (``multiprocessing`` does that), so nothing else sees the server's folder. Where
    ``sim`` is not in a folder (imported from a zip file), the server preloads only the libraries.
    """
    import contextlib
    from multiprocessing import forkserver

    root = Path(__file__).resolve().parent.parent
    in_folder = root.is_dir()
    ctx.set_forkserver_preload([name for name in FORKSERVER_PRELOAD if in_folder or name.split(".")[0] != "sim"])
    with contextlib.chdir(root) if in_folder else contextlib.nullcontext():
        forkserver.ensure_running()


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Cancel pending chunks and stop running ones at once (their results would be discarded)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API for this
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def dask_executor(address: str) -> tuple[Executor, Any]:
    """A ``concurrent.futures`` executor on the Dask scheduler at ``address`` (and its client).

    Needs the optional extra: ``pip install "salesim[dask]"``.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ExecutorError('Dask is not installed; install it with: pip install "salesim[dask]"') from None
    _check_reachable(address)
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    return client.get_executor(), client


def _check_reachable(address: str) -> None:
    """Fail at once (not after a long timeout) when nothing listens at a tcp:// address."""
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "") or parsed.hostname is None or parsed.port is None:
        return
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=3):
            pass
    except OSError as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None


def _chunks(reps: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(reps), size):
        yield list(reps[i : i + size])


def _pool_chunks(reps: Sequence[int], workers: int) -> Iterator[list[int]]:
    """The default chunks of a pool run: :func:`auto_chunk_size`, tapered at the end."""
    return _tapered_chunks(reps, auto_chunk_size(len(reps), workers), workers)


def _tapered_chunks(reps: Sequence[int], size: int, workers: int) -> Iterator[list[int]]:
    """Chunks of at most ``size`` replications for a pool of ``workers``, tapering at the end
    (guided self-scheduling): each chunk is at most a ``1 / (2 × workers)`` share of what remains,
    down to single replications, so that the workers finish together instead of one waiting on
    another's last large chunk. Results do not depend on the chunking."""
    i, n = 0, len(reps)
    while i < n:
        k = min(size, max(1, math.ceil((n - i) / (2 * workers))))
        yield list(reps[i : i + k])
        i += k


def auto_chunk_size(n_reps: int, workers: int) -> int:
    """About eight tasks per worker, at most 25 replications each (resume granularity)."""
    return max(1, min(25, math.ceil(n_reps / max(1, workers * 8))))


# --------------------------------------------------------------------------- results


@dataclass
class RunResult:
    """The replications of one scenario.

    Attributes
    ----------
    kpis : DataFrame
        One row per replication: ``rep`` and the KPIs of :data:`sim.metrics.KPI_NAMES`.
    timeseries : DataFrame
        Long table ``rep, month, series, value`` (month 0 is the start; flows begin at 1).
    failures : list of dict
        Replications that raised: ``rep``, ``seed``, ``error``, ``traceback``.
    """

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    timeseries: pd.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    out: Path | None = None
    precision: dict[str, Any] | None = None

    @property
    def reps(self) -> int:
        return len(self.kpis)

    def summary(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Mean, sd, 95% CI and P10/P50/P90 of each KPI (one row per metric)."""
        from sim import stats

        return stats.summarize(self.kpis, list(metrics or KPI_NAMES))

    def series(self, name: str) -> pd.DataFrame:
        """One monthly series as a month × rep table (e.g. ``"mrr_usd"``, ``"utilization.ae"``)."""
        ts = self.timeseries
        sub = ts[ts["series"] == name]
        if sub.empty:
            known = ", ".join(sorted(ts["series"].unique())) if not ts.empty else "none"
            raise KeyError(f"no series {name!r}; known series: {known}")
        return sub.pivot(index="month", columns="rep", values="value")

    def teams(self) -> pd.DataFrame | None:
        """Per-team means per replication (None for a single-team org): leads routed, SQLs made,
        opportunities, wins and new MRR of the team's closers, leads gone stale in its queues,
        and the mean monthly utilization of each of its roles — where PODs starve or overload."""
        import pandas as pd

        ts = self.timeseries
        if ts.empty:
            return None
        team_rows = ts[ts["series"].str.contains("@", regex=False)]
        if team_rows.empty:
            return None
        parts = team_rows["series"].str.split("@", n=1, expand=True)
        frame = team_rows.assign(name=parts[0], team=parts[1])
        flow_names = ["mqls", "sqls", "opportunities", "wins", "new_mrr_usd", "stale", "no_capacity"]
        flows = frame[frame["name"].isin(flow_names)]
        totals = flows.groupby(["team", "name", "rep"])["value"].sum().groupby(["team", "name"]).mean().unstack()
        util = frame[frame["name"].str.startswith("utilization.") & (frame["month"] > 0)]
        util_mean = util.groupby(["team", "name"])["value"].mean().unstack()
        table = pd.concat([totals, util_mean], axis=1)
        order = [c for c in flow_names if c in table]
        return table[order + sorted(c for c in table.columns if c not in order)]

    def fan(self, name: str, quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
        """Quantiles of a monthly series across replications (month × quantile)."""
        return self.series(name).quantile(list(quantiles), axis=1).T


# --------------------------------------------------------------------------- the loop


def _submit_all(executor: Executor, scenario: Scenario, seed: int,
                chunks: Iterable[list[int]]) -> dict[Future, list[int]]:
    data = scenario.resolved()
    return {executor.submit(run_chunk, data, seed, chunk): chunk for chunk in chunks}


class _NoBar:
    """Stands in for a progress bar that is off (tqdm is not even imported)."""

    def update(self, _n: int = 1) -> None: ...
    def close(self) -> None: ...


def _progress_bar(total: int, enabled: bool | None, desc: str):
    if enabled is None:
        enabled = sys.stderr.isatty()
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
        Show a progress bar (None: only when stderr is a terminal).
    chunk_size : int, optional
        Replications per task. By default about eight tasks per worker, at most 25 replications
        each, and on a pool the last tasks smaller, down to one replication, so that the workers
        finish together. The numbers do not depend on the chunking.

    Returns
    -------
    RunResult

    Raises
    ------
    RunInterrupted
        On Ctrl-C, after cancelling pending work; everything finished is saved in ``out``.
    """
    from sim.store import ResultsStore

    if reps < 1:
        raise ValueError(f"reps must be at least 1 (got {reps})")
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers must be at least 1 (got {workers})")
    store = ResultsStore(out) if out is not None else None
    done: set[int] = set()
    if store is not None:
        store.open(scenario, seed, overwrite=overwrite)
        done = store.completed_reps() & set(range(reps))
    todo = [r for r in range(reps) if r not in done]
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
    finished = len(done)

    def stop_and_save() -> int:
        """Stop the pool at once and mark the manifest interrupted; the replications saved."""
        if pool is not None and own_pool:
            _stop_now(pool)
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
                for chunk in _chunks(todo, chunk_size or auto_chunk_size(len(todo), 1)):
                    collect(run_chunk(data, seed, chunk))
                    finished += len(chunk)
                    bar.update(len(chunk))
            else:
                chunks = _chunks(todo, chunk_size) if chunk_size else _pool_chunks(todo, n_workers)
                futures = _submit_all(pool, scenario, seed, chunks)
                for future in as_completed(futures):
                    chunk = future.result()
                    collect(chunk)
                    finished += len(futures[future])
                    bar.update(len(futures[future]))
        except KeyboardInterrupt:
            raise RunInterrupted(stop_and_save(), reps, store.folder if store else None) from None
        except Exception as exc:
            if not _lost_worker(exc):
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
        kpi_table, series_table = store.load_tables(range(reps))
    else:
        kpi_table, series_table = _combined(kpi_parts, series_parts)
    result = RunResult(scenario, seed, kpi_table, series_table, sorted(failures, key=lambda f: f["rep"]),
                       store.folder if store else None)
    if store is not None:
        manifest = store.read_manifest() or {}
        recomputed = {f["rep"] for f in failures} | set(todo)
        old = [f for f in manifest.get("failures", []) if f["rep"] not in recomputed and f["rep"] < reps]
        result.failures = sorted(old + failures, key=lambda f: f["rep"])
        if not kpi_table.empty:
            store.write_tables(kpi_table, series_table, result.summary())
        store.update_manifest(
            status="failed" if result.failures else "complete",
            reps_requested=reps,
            reps_completed=len(kpi_table),
            failures=result.failures,
        )
    return result


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

    from sim import stats

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


def _combined(kpi_parts: list[pd.DataFrame], series_parts: list[pd.DataFrame]
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chunks' tables as one KPI table (by rep) and one series table (by rep, series, month)."""
    import pandas as pd

    kpi_table = pd.concat(kpi_parts, ignore_index=True).sort_values("rep").reset_index(drop=True) \
        if kpi_parts else pd.DataFrame(columns=["rep", *KPI_NAMES])
    series_table = pd.concat(series_parts, ignore_index=True).sort_values(
        ["rep", "series", "month"], kind="stable").reset_index(drop=True) \
        if series_parts else pd.DataFrame(columns=["rep", "month", "series", "value"])
    return kpi_table, series_table


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
            futures = _submit_all(pool, scenario, seed, _pool_chunks(todo, workers))
            chunks = [f.result() for f in as_completed(futures)]
    finally:
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    tables = [chunk_tables(c) for c in chunks]
    kpi_table, series_table = _combined([k for k, _ in tables], [s for _, s in tables])
    failures = [f for c in chunks for f in c.failures]
    return RunResult(scenario, seed, kpi_table, series_table, failures)
