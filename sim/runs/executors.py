"""Executors: where replications run — this process, a local process pool, or a Dask cluster.

This module owns the machinery of parallel runs: a process pool whose workers are forked from a
server that has already imported what a replication needs, a ``concurrent.futures`` executor on a
Dask scheduler (the optional ``dask`` extra), and how replications are cut into chunks. Results do
not depend on any of it (:mod:`sim.runs.replication`).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any


class ExecutorError(Exception):
    """An executor could not be created or reached; the message is for people."""


# --------------------------------------------------------------------------- executors


def lost_worker(exc: BaseException) -> bool:
    """Whether an exception from a future means a worker process (not a replication) failed:
    a broken local pool, or a Dask worker killed or cut off."""
    from concurrent.futures import BrokenExecutor

    return isinstance(exc, BrokenExecutor) or type(exc).__name__ in {"KilledWorker", "CommClosedError"}


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C and SIGTERM to the parent, which cancels work, keeps what finished and
    stops them (:func:`stop_now`) — a SIGTERM sent to the whole process group, as a job scheduler
    does, must not break the pool before the parent can say the run was interrupted. On Linux they
    also end when their parent dies (even by SIGKILL) instead of lingering — their parent is the
    fork server, which itself ends with the run's process (:mod:`sim.runs.lifeline`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        except OSError:  # pragma: no cover - no libc: workers then end when their queue closes
            pass


FORKSERVER_PRELOAD: tuple[str, ...] = ("sim.runs.lifeline", "numpy", "numpy.random", "numpy.ma", "simpy",
                                       "sim.runs.replication")
"""What the fork server imports before it forks any worker: a replication's imports (this module
pulls in the model, pydantic and PyYAML). A worker forked from it starts with them made — about
0.1 s of imports each, a twentieth of a 2-second run on two workers. First, :mod:`sim.runs.lifeline`
ties the server's life to the run's process."""


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A local process pool whose workers ignore Ctrl-C (the parent handles it).

    Where the platform has a fork server (Linux, macOS), the workers are forked from one that
    has already imported what a replication needs (:data:`FORKSERVER_PRELOAD`; started once per
    process, :func:`start_forkserver`). Elsewhere they are spawned and import ``sim`` themselves.
    Either way they get the parent's working directory and ``sys.path``, and run the parent's build.
    """
    check_workers(workers)
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

    root = Path(__file__).resolve().parents[2]
    in_folder = root.is_dir()
    ctx.set_forkserver_preload([name for name in FORKSERVER_PRELOAD if in_folder or name.split(".")[0] != "sim"])
    with contextlib.chdir(root) if in_folder else contextlib.nullcontext():
        forkserver.ensure_running()


def stop_now(pool: ProcessPoolExecutor) -> None:
    """Cancel pending chunks and stop running ones at once (their results would be discarded)."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API for this
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()  # workers ignore SIGTERM (see _ignore_sigint)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def max_workers() -> int:
    """The most local workers a run may ask for: one per core this process may use (two on a
    one-core machine, so that a pool can still be tried). More processes than cores only share
    them, each with its own memory (~60 MiB); more machines are a Dask cluster's job."""
    return max(2, default_workers())


def check_workers(workers: int | None) -> None:
    """``workers`` is a usable size for a local pool (None: the default); else :class:`ExecutorError`."""
    if workers is None:
        return
    if workers < 1:
        raise ExecutorError(f"--workers must be at least 1 (got {workers})")
    if workers > max_workers():
        raise ExecutorError(
            f"--workers {workers} is more than this machine can use: it gives salesim {default_workers()} "
            f"core(s), so at most {max_workers()} local workers. For more, run on a Dask cluster "
            "(--scheduler ADDRESS; docs/guides/monte-carlo.md#workers).")


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


def chunks_of(reps: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(reps), size):
        yield list(reps[i : i + size])


def pool_chunks(reps: Sequence[int], workers: int) -> Iterator[list[int]]:
    """The default chunks of a pool run: :func:`auto_chunk_size`, tapered at the end."""
    return tapered_chunks(reps, auto_chunk_size(len(reps), workers), workers)


def tapered_chunks(reps: Sequence[int], size: int, workers: int) -> Iterator[list[int]]:
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
