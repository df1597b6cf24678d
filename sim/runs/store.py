"""The results folder: manifest, chunked Parquet tables, summary CSV; atomic and resumable.

This module owns everything written to disk by a run::

    DIR/manifest.json          resolved scenario, its sha256, seed, reps, versions, status, failures
    DIR/chunks/*.parquet       finished replications, one pair of files per chunk (kpis + series)
    DIR/replications.parquet   one row per replication: rep + KPIs
    DIR/timeseries.parquet     long table: rep, month, series, value (and date, with a start_date)
    DIR/summary.csv            metric, mean, sd, ci95_low, ci95_high, p10, p50, p90
    DIR/.salesim.lock          held by the run writing the folder (its PID inside)
    DIR/chunks/corrupt/        chunks that could not be read, moved aside

Every file is written to a temporary name and renamed, so a crash never leaves half a file, and
a Ctrl-C (or SIGTERM) that comes during a write is held until the file is in place (then raised
as usual). A chunk's KPI file is written after its series file and marks the chunk as finished;
a run that is interrupted and started again computes only the replications that are missing.
A chunk that cannot be read (truncated, overwritten, its series file missing, a symbolic link)
is reported by name and moved to ``chunks/corrupt/``: its replications are missing again, and
the run computes them. One run at a time writes a folder (:class:`FolderLock`); a folder
holding results of another scenario (different hash) or seed is never reused silently:
:class:`ResultsMismatchError` says so, and only ``overwrite=True`` replaces it. Symbolic links
inside a folder are never followed (docs/guides/results-folders.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import platform
import re
import shutil
import signal
import socket
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario import SalesimWarning, Scenario

MANIFEST = "manifest.json"
CHUNKS = "chunks"
CORRUPT = "corrupt"
LOCK = ".salesim.lock"
SUMMARY_CSV_COLUMNS = ("metric", "mean", "sd", "ci95_low", "ci95_high", "p10", "p50", "p90")
_PACKAGES = ("salesim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "PyYAML", "matplotlib")


class StoreError(Exception):
    """A results folder that cannot be used; the message is for people."""


class ResultsMismatchError(StoreError):
    """The folder holds results of a different scenario or seed."""


class FolderBusyError(StoreError):
    """Another run, still alive, holds the folder's lock."""


class ResultsFolderWarning(SalesimWarning):
    """Something found in a results folder and dealt with (a chunk moved aside, a stale lock
    taken over); the run goes on."""


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class FolderLock:
    """One run at a time per results folder: ``DIR/.salesim.lock``, locked with ``flock`` while
    the run lasts and holding its PID, host and start time (for the message a second run gets).

    The kernel releases the lock when its holder dies, however it dies, so a lock left by a
    killed run is taken over by the next one (which says so). The file stays, emptied, between
    runs: removing a locked file would let two runs each lock a different one. Where ``flock``
    does not exist (Windows), the PID in the file decides: a lock whose process is gone is taken
    over.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`FolderBusyError` naming the run that holds it."""
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            if self.path.is_symlink():
                raise StoreError(f"{self.path} is a symbolic link; a results folder holds no links: remove it") \
                    from None
            raise StoreError(f"cannot write results to {self.path.parent}: {exc.strerror or exc}") from None
        try:
            holder = self._read(fd)
            if not self._lock(fd, holder):
                raise FolderBusyError(
                    f"{self.path.parent} is being written by another salesim run ({_holder_text(holder)}). "
                    "Wait for it to finish (or stop it), or choose another --out folder: two runs into one "
                    "folder would compute the same replications twice.")
            if holder.get("pid") not in (None, os.getpid()):
                warnings.warn(ResultsFolderWarning(
                    f"{self.path.parent}: took over the lock of a run that ended without releasing it "
                    f"({_holder_text(holder)})"), stacklevel=3)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                      "started_utc": _now()}).encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    @staticmethod
    def _read(fd: int) -> dict[str, Any]:
        try:
            data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _lock(fd: int, holder: dict[str, Any]) -> bool:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: the PID decides
            pid = holder.get("pid")
            same_host = holder.get("host") in (None, socket.gethostname())
            return not (isinstance(pid, int) and pid != os.getpid() and same_host and _pid_alive(pid))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):  # the folder went away
            os.ftruncate(fd, 0)
        os.close(fd)  # closing releases the flock


def _holder_text(holder: dict[str, Any]) -> str:
    parts = [f"PID {holder['pid']}" if "pid" in holder else "PID unknown"]
    if holder.get("host") and holder["host"] != socket.gethostname():
        parts.append(f"on {holder['host']}")
    if holder.get("started_utc"):
        parts.append(f"started {holder['started_utc']}")
    return ", ".join(parts)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that determine results, and the build of salesim's
    simulation core (``salesim_core``: compiled or pure Python — the same records either way)."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    """Looked up once per process (~40 ms: a sweep opens a results folder per point)."""
    from sim.compiled import describe

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["salesim_core"] = describe()
    return out


def temporary_path(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place: beside it, hidden, named after
    this process (so that two processes never share one)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that comes during the block, and deliver it once the block is over.

    Python raises ``KeyboardInterrupt`` between any two calls, including inside the standard
    library's locks (pyarrow converts columns on a thread pool, and an interrupt there surfaced as
    ``RuntimeError: release unlocked lock`` instead) and between making a temporary file and
    noting its name. So the main thread's SIGINT handler is swapped for one that only notes the
    signal; at the end the usual handler is put back and the signal raised again, which it then
    handles as it would have (``KeyboardInterrupt`` by default). A SIGTERM is held the same way
    while a run turns it into an interruption (:func:`sim.runs.monte_carlo.run`: its handler is
    a Python function then). Elsewhere than in the main thread, where handlers cannot be changed,
    or under a handler that was not set from Python (which could not be put back), the block runs
    as it is.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    held = [signal.SIGINT]
    if callable(signal.getsignal(signal.SIGTERM)):
        held.append(signal.SIGTERM)
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` whole or not at all: to :func:`temporary_path` first, then renamed; a
    Ctrl-C meanwhile is held until the file is in place (:func:`ctrl_c_held`).

    The temporary name is known before the file exists, so that any exception removes what was
    made. Only a kill leaves a temporary file, which :meth:`ResultsStore.open` removes."""
    tmp_path = temporary_path(path)
    with ctrl_c_held():
        try:
            tmp_path.unlink(missing_ok=True)  # a link left under this name is replaced, never followed
            write(tmp_path)
            os.replace(tmp_path, path)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise


def write_json(path: Path, data: Any) -> None:
    _atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    _atomic_write(path, lambda p: frame.to_parquet(p, index=False))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    _atomic_write(path, lambda p: frame.to_csv(p, index=False))


def write_text(path: Path, text: str) -> None:
    """Write a text file (UTF-8) whole or not at all."""
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


_TMP_NAME = re.compile(r"^\..+\.(\d+)\.tmp$")


def _stale_temporary(path: Path) -> bool:
    """Whether a temporary file (``.NAME.PID.tmp``) was left by a writer that is gone: only those
    are removed, never one a live process is writing."""
    match = _TMP_NAME.match(path.name)
    if match is None:
        return True
    pid = int(match.group(1))
    return pid != os.getpid() and not _pid_alive(pid)


class ResultsStore:
    """One results folder.

    Parameters
    ----------
    folder : path
        Created if missing.

    :meth:`open` takes the folder's lock; :meth:`close` (or leaving a ``with`` block) releases it.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.chunks = self.folder / CHUNKS
        self.manifest_path = self.folder / MANIFEST
        self.lock = FolderLock(self.folder)
        self.moved_aside: list[str] = []
        """Chunk files found unreadable and moved to ``chunks/corrupt/`` (their replications run again)."""

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the folder's lock."""
        self.lock.release()

    # ------------------------------------------------------------------ opening

    def read_manifest(self) -> dict[str, Any] | None:
        if self.manifest_path.is_symlink():
            raise StoreError(f"{self.manifest_path} is a symbolic link; a results folder holds no links: remove it")
        if not self.manifest_path.exists():
            return None
        try:
            data = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.manifest_path}: unreadable manifest ({exc}); move it aside to start the folder "
                             "again, or pass --overwrite to replace the folder") from None
        if not isinstance(data, dict):
            raise StoreError(f"{self.manifest_path}: not a salesim manifest; move it aside, or pass --overwrite")
        return data

    def _check_place(self, overwrite: bool) -> None:
        """The folder can be a results folder: not a file, no file on its path, no links inside it."""
        if self.folder.is_symlink() and overwrite:
            raise StoreError(f"refusing to overwrite {self.folder}: it is a symbolic link (to "
                             f"{os.readlink(self.folder)}); remove the link or --overwrite the folder it points to")
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"cannot write results to {self.folder}: it is a file, not a folder")
        for parent in self.folder.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise StoreError(f"cannot write results to {self.folder}: {parent} is a file, not a folder")
                break
        if self.chunks.is_symlink() and not overwrite:  # --overwrite removes the link (never what it points to)
            raise StoreError(f"{self.chunks} is a symbolic link; a results folder holds no links (they are not "
                             "followed): remove it, or choose another --out folder")

    def open(self, scenario: Scenario, seed: int, overwrite: bool = False, *, reps: int | None = None,
             source: dict[str, Any] | None = None) -> dict[str, Any]:
        """Check the folder can hold results of ``scenario`` and ``seed``, take its lock, and
        return the manifest.

        ``reps`` (the replications this run asks for) goes into the manifest at once, so that a
        run killed before its end still says how many were meant; ``source`` (where the scenario's
        values were written, with their comments: :func:`sim.scenario.annotations.source_notes`)
        is kept as the manifest's ``source``.

        Raises
        ------
        ResultsMismatchError
            The folder holds results of another scenario or seed (and ``overwrite`` is false).
        FolderBusyError
            Another run holds the folder's lock.
        StoreError
            The folder cannot be created or written, is not a results folder, or holds links.
        """
        sha = scenario.sha256()
        self._check_place(overwrite)
        if self.folder.is_dir() and not overwrite and not (self.manifest_path.exists()
                                                           or self.manifest_path.is_symlink()) \
                and not self._only_a_start():
            raise StoreError(
                f"{self.folder} is not empty and is not a salesim results folder (no {MANIFEST}); "
                "choose another --out folder."
            )
        if not overwrite:  # refuse other results before touching anything (checked again under the lock)
            existing = self.read_manifest()
            if existing is not None:
                self._check_same(existing, scenario, sha, seed)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot write results to {self.folder}: {exc.strerror or exc}") from None
        self.lock.acquire()
        try:
            return self._open_locked(scenario, seed, sha, overwrite, reps, source)
        except BaseException:
            self.lock.release()
            raise

    def _open_locked(self, scenario: Scenario, seed: int, sha: str, overwrite: bool, reps: int | None = None,
                     source: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            existing = self.read_manifest()
        except StoreError:
            if not overwrite:
                raise
            existing = None
        if overwrite and any(p.name != LOCK for p in self.folder.iterdir()):
            self._clear()
            existing = None
        elif existing is not None:
            self._check_same(existing, scenario, sha, seed)
        try:
            self.chunks.mkdir(parents=True, exist_ok=True)
            for stale in (*self.folder.glob(".*.tmp"), *self.chunks.glob(".*.tmp")):
                if _stale_temporary(stale):
                    stale.unlink(missing_ok=True)  # half-written files of a killed run
            probe = temporary_path(self.folder / ".write-test")
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"cannot write results to {self.folder}: {exc.strerror or exc}") from None
        manifest = existing or {
            "salesim_results": 1,
            "scenario_name": scenario.name,
            "scenario_sha256": sha,
            "seed": seed,
            "scenario": scenario.resolved(),
            "created_utc": _now(),
            "failures": [],
        }
        manifest["versions"] = package_versions()
        if reps is not None:
            manifest["reps_requested"] = reps
        if source is not None:
            manifest["source"] = source
        manifest["status"] = "running"
        manifest["pid"] = os.getpid()
        manifest["updated_utc"] = _now()
        write_json(self.manifest_path, manifest)
        return manifest

    def _check_same(self, existing: dict[str, Any], scenario: Scenario, sha: str, seed: int) -> None:
        if existing.get("scenario_sha256") != sha:
            raise ResultsMismatchError(
                f"{self.folder} holds results of a different scenario "
                f"({existing.get('scenario_name')!r}, sha256 {str(existing.get('scenario_sha256'))[:12]}…; "
                f"this one is {scenario.name!r}, {sha[:12]}…). Choose another --out folder, "
                "or pass --overwrite to replace them."
            )
        if existing.get("seed") != seed:
            raise ResultsMismatchError(
                f"{self.folder} holds results of seed {existing.get('seed')}, not {seed}. "
                "Choose another --out folder, use the same --seed, or pass --overwrite to replace them."
            )

    def _only_a_start(self) -> bool:
        """Whether the folder (without a manifest) holds nothing but what a run killed while opening
        it leaves: the lock, an empty ``chunks/`` and half-written temporary files (``.*.tmp``)."""
        def temporary(name: str) -> bool:  # the names ``glob(".*.tmp")`` finds when a run reopens
            return name.startswith(".") and name.endswith(".tmp")

        for entry in self.folder.iterdir():
            if entry.name == LOCK or (temporary(entry.name) and entry.is_file() and not entry.is_symlink()):
                continue
            if entry == self.chunks and entry.is_dir() and not entry.is_symlink() \
                    and all(temporary(c.name) for c in entry.iterdir()):
                continue
            return False
        return True

    def _clear(self) -> None:
        """Empty the folder for ``--overwrite`` (not the lock, which this run holds); links
        inside it are removed, never followed."""
        if not (self.manifest_path.exists() or self.manifest_path.is_symlink()) and not self._only_a_start():
            raise StoreError(
                f"refusing to overwrite {self.folder}: it is not a salesim results folder (no {MANIFEST})"
            )
        for entry in self.folder.iterdir():
            if entry.name == LOCK:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    # ------------------------------------------------------------------ chunks

    def _chunk_name(self, reps: list[int]) -> str:
        return f"chunk-{min(reps):07d}-{max(reps):07d}-{len(reps)}"

    def write_chunk(self, kpis: pd.DataFrame, series: pd.DataFrame) -> None:
        """Persist a finished chunk (series first; the KPI file marks it complete)."""
        reps = sorted(int(r) for r in kpis["rep"])
        if not reps:
            return
        name = self._chunk_name(reps)
        write_parquet(self.chunks / f"{name}.series.parquet", series)
        write_parquet(self.chunks / f"{name}.kpis.parquet", kpis)

    def _kpi_files(self) -> list[Path]:
        if not self.chunks.is_dir() or self.chunks.is_symlink():
            return []
        return sorted(self.chunks.glob("chunk-*.kpis.parquet"))

    @staticmethod
    def _series_of(kpi_file: Path) -> Path:
        return kpi_file.with_name(kpi_file.name.replace(".kpis.", ".series."))

    def _move_aside(self, kpi_file: Path, why: str) -> None:
        """Move a chunk that cannot be read (both its files) to ``chunks/corrupt/`` and say so:
        its replications are then missing, and the run computes them again."""
        corrupt = self.chunks / CORRUPT
        if corrupt.is_symlink() or (corrupt.exists() and not corrupt.is_dir()):
            raise StoreError(f"{corrupt} is not a folder; remove it (chunks that cannot be read are moved there)")
        corrupt.mkdir(exist_ok=True)
        for path in (kpi_file, self._series_of(kpi_file)):
            if not (path.exists() or path.is_symlink()):
                continue
            target = corrupt / path.name
            k = 1
            while target.exists() or target.is_symlink():
                target = corrupt / f"{path.name}.{k}"
                k += 1
            os.replace(path, target)
        message = (f"{kpi_file} cannot be read ({why}): moved to {corrupt}{os.sep}; its replications will be "
                   "computed again")
        self.moved_aside.append(message)
        warnings.warn(ResultsFolderWarning(message), stacklevel=3)

    def _check_chunk(self, kpi_file: Path) -> tuple[pd.DataFrame | None, str]:
        """The chunk's KPI table if both its files can be read; else None and why not."""
        from sim.metrics import KPI_NAMES

        series_file = self._series_of(kpi_file)
        if kpi_file.is_symlink() or series_file.is_symlink():
            return None, "a symbolic link (not followed)"
        if not series_file.exists():
            return None, f"its series file {series_file.name} is missing"
        try:
            import pyarrow.parquet as pq

            kpis = pd.read_parquet(kpi_file)
            pq.read_metadata(series_file)
        except Exception as exc:  # truncated, random bytes, not Parquet: any reader error
            return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unreadable'}"
        if list(kpis.columns[:1]) != ["rep"] or not set(KPI_NAMES) <= set(kpis.columns):
            return None, "not a table of replications"
        return kpis, ""

    def completed_reps(self) -> set[int]:
        """Replications already stored (chunks that cannot be read are moved aside first)."""
        done: set[int] = set()
        for path in self._kpi_files():
            kpis, why = self._check_chunk(path)
            if kpis is None:
                self._move_aside(path, why)
                continue
            done.update(int(r) for r in kpis["rep"])
        return done

    def load_tables(self, reps: Iterable[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """KPI and series tables of the stored replications in ``reps``, sorted by rep. A chunk that
        cannot be read is moved aside (:meth:`completed_reps` then no longer counts it)."""
        wanted = set(reps)
        kpi_parts, series_parts = [], []
        for path in self._kpi_files():
            k, why = self._check_chunk(path)
            if k is None:
                self._move_aside(path, why)
                continue
            k = k[k["rep"].isin(wanted)]
            if k.empty:
                continue
            try:
                s = pd.read_parquet(self._series_of(path))
            except Exception as exc:
                self._move_aside(path, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                continue
            if list(s.columns) != ["rep", "month", "series", "value"]:
                self._move_aside(path, "its series file is not a table of monthly series")
                continue
            kpi_parts.append(k)
            series_parts.append(s[s["rep"].isin(wanted)])
        if not kpi_parts:
            from sim.metrics import KPI_NAMES

            return (pd.DataFrame(columns=["rep", *KPI_NAMES]),
                    pd.DataFrame(columns=["rep", "month", "series", "value"]))
        kpis = pd.concat(kpi_parts, ignore_index=True).drop_duplicates("rep").sort_values("rep")
        series = pd.concat(series_parts, ignore_index=True).drop_duplicates(["rep", "month", "series"])
        series = series.sort_values(["rep", "series", "month"], kind="stable")
        return kpis.reset_index(drop=True), series.reset_index(drop=True)

    # ------------------------------------------------------------------ final tables

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        manifest = self.read_manifest() or {}
        manifest.update(fields)
        manifest["updated_utc"] = _now()
        write_json(self.manifest_path, manifest)
        return manifest

    def write_tables(self, kpis: pd.DataFrame, series: pd.DataFrame, summary: pd.DataFrame) -> None:
        write_parquet(self.folder / "replications.parquet", kpis)
        write_parquet(self.folder / "timeseries.parquet", series)
        write_csv(self.folder / "summary.csv", summary.loc[:, list(SUMMARY_CSV_COLUMNS)])


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
