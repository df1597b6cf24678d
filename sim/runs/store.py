"""The results folder: manifest, chunked Parquet tables, summary CSV; atomic and resumable.

This module owns everything written to disk by a run::

    DIR/manifest.json          resolved scenario, its sha256, seed, reps, versions, status, failures
    DIR/chunks/*.parquet       finished replications, one pair of files per chunk (kpis + series)
    DIR/replications.parquet   one row per replication: rep + KPIs
    DIR/timeseries.parquet     long table: rep, month, series, value (and date, with a start_date)
    DIR/summary.csv            metric, mean, sd, ci95_low, ci95_high, p10, p50, p90

Every file is written to a temporary name and renamed, so a crash never leaves half a file, and
a Ctrl-C that comes during a write is held until the file is in place (then raised as usual).
A chunk's KPI file is written after its series file and marks the chunk as finished; a run
that is interrupted and started again computes only the replications that are missing. A
folder holding results of another scenario (different hash) or seed is never reused
silently: :class:`ResultsMismatchError` says so, and only ``overwrite=True`` replaces it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario import Scenario

MANIFEST = "manifest.json"
CHUNKS = "chunks"
SUMMARY_CSV_COLUMNS = ("metric", "mean", "sd", "ci95_low", "ci95_high", "p10", "p50", "p90")
_PACKAGES = ("salesim", "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "PyYAML", "matplotlib")


class StoreError(Exception):
    """A results folder that cannot be used; the message is for people."""


class ResultsMismatchError(StoreError):
    """The folder holds results of a different scenario or seed."""


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that determine results, and the build of salesim's
    simulation core (``salesim_core``: compiled or pure Python — the same records either way)."""
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
    handles as it would have (``KeyboardInterrupt`` by default). Elsewhere than in the main
    thread, where handlers cannot be changed, or under a handler that was not set from Python
    (which could not be put back), the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` whole or not at all: to :func:`temporary_path` first, then renamed; a
    Ctrl-C meanwhile is held until the file is in place (:func:`ctrl_c_held`).

    The temporary name is known before the file exists, so that any exception removes what was
    made. Only a kill leaves a temporary file, which :meth:`ResultsStore.open` removes."""
    tmp_path = temporary_path(path)
    with ctrl_c_held():
        try:
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


class ResultsStore:
    """One results folder.

    Parameters
    ----------
    folder : path
        Created if missing.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.chunks = self.folder / CHUNKS
        self.manifest_path = self.folder / MANIFEST

    # ------------------------------------------------------------------ opening

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{self.manifest_path}: unreadable manifest ({exc})") from None

    def open(self, scenario: Scenario, seed: int, overwrite: bool = False) -> dict[str, Any]:
        """Check the folder can hold results of ``scenario`` and ``seed``; return the manifest.

        Raises
        ------
        ResultsMismatchError
            The folder holds results of another scenario or seed (and ``overwrite`` is false).
        StoreError
            The folder cannot be created or written, or is not a results folder.
        """
        sha = scenario.sha256()
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"cannot write results to {self.folder}: it is a file, not a folder")
        for parent in self.folder.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise StoreError(f"cannot write results to {self.folder}: {parent} is a file, not a folder")
                break
        try:
            existing = self.read_manifest()
        except StoreError:
            if not overwrite:
                raise
            existing = None
        if overwrite and self.folder.exists():
            self._clear()
            existing = None
        elif existing is not None:
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
        elif self.folder.exists() and any(self.folder.iterdir()):
            raise StoreError(
                f"{self.folder} is not empty and is not a salesim results folder (no {MANIFEST}); "
                "choose another --out folder."
            )
        try:
            self.chunks.mkdir(parents=True, exist_ok=True)
            for stale in (*self.folder.glob(".*.tmp"), *self.chunks.glob(".*.tmp")):
                stale.unlink(missing_ok=True)  # half-written files of a killed run
            probe = self.folder / ".write-test"
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
        manifest["status"] = "running"
        manifest["updated_utc"] = _now()
        write_json(self.manifest_path, manifest)
        return manifest

    def _clear(self) -> None:
        if not self.manifest_path.exists() and any(self.folder.iterdir()):
            raise StoreError(
                f"refusing to overwrite {self.folder}: it is not a salesim results folder (no {MANIFEST})"
            )
        shutil.rmtree(self.folder)

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
        if not self.chunks.exists():
            return []
        return sorted(self.chunks.glob("chunk-*.kpis.parquet"))

    def completed_reps(self) -> set[int]:
        """Replications already stored."""
        done: set[int] = set()
        for path in self._kpi_files():
            done.update(int(r) for r in pd.read_parquet(path, columns=["rep"])["rep"])
        return done

    def load_tables(self, reps: Iterable[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """KPI and series tables of the stored replications in ``reps``, sorted by rep."""
        wanted = set(reps)
        kpi_parts, series_parts = [], []
        for path in self._kpi_files():
            k = pd.read_parquet(path)
            k = k[k["rep"].isin(wanted)]
            if k.empty:
                continue
            kpi_parts.append(k)
            s = pd.read_parquet(path.with_name(path.name.replace(".kpis.", ".series.")))
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
