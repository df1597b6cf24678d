"""Results folders read back, whole or not: one run, a comparison, a sweep, a sensitivity analysis.

This module owns reading what :mod:`sim.runs.store`, :func:`sim.runs.comparison.compare`,
:func:`sim.runs.sweep.sweep` and :func:`sim.runs.sensitivity.sensitivity` wrote, for a report
made afterwards — perhaps while a run is still writing, perhaps of a run that was killed. It
never writes, moves or locks anything in a folder:

* a **run folder** (``manifest.json``) gives its tables: the final ones of a complete run, or —
  for a run that did not finish — the replications its chunks hold (a chunk that cannot be read
  is skipped and named), with the replications still missing;
* a **comparison** is a ``compare --out`` folder (``comparison.csv`` and one run folder per
  scenario), or several run folders named together: they are paired replication by replication
  (common random numbers) only when their seeds and horizons match — otherwise
  :class:`FolderError` says which differ;
* a **sweep** folder (``sweep.json``, ``sweep.parquet``) gives back its
  :class:`~sim.runs.sweep.SweepResult`, and a **sensitivity** folder (``sensitivity.csv``)
  its tornado, Morris and Sobol tables, with the scenarios as written when a tornado holds them
  (its first point).

Every problem is a :class:`FolderError` with a message for people (the command line exits 2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.runs import stats

if TYPE_CHECKING:
    import pandas as pd

    from sim.runs.sweep import SweepResult

MANIFEST = "manifest.json"
COMPARISON_CSV = "comparison.csv"
SWEEP_FILE = "sweep.json"
SENSITIVITY_CSV = "sensitivity.csv"
SENSITIVITY_FILE = "sensitivity.json"
SENSITIVITY_METHODS = ("tornado", "morris", "sobol")


class FolderError(Exception):
    """A folder that cannot be reported on, or folders that cannot be compared; for people."""


# --------------------------------------------------------------------------- one run


@dataclass
class RunFolder:
    """The replications a results folder holds, with what its manifest says about them.

    Attributes
    ----------
    kpis : DataFrame
        One row per replication found: ``rep`` and the KPIs.
    timeseries : DataFrame
        Long table ``rep, month, series, value`` of those replications.
    reps_requested : int or None
        What the run asked for (None when a run that was killed at once did not record it).
    skipped : list of str
        Chunk files that could not be read, left out (the run heals them when run again).
    """

    path: Path
    manifest: dict[str, Any]
    kpis: pd.DataFrame
    timeseries: pd.DataFrame
    reps_requested: int | None
    skipped: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The scenario's name (from the resolved scenario in the manifest)."""
        return str(self.manifest.get("scenario_name") or self.scenario.get("name") or self.path.name)

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario (every default filled in), as the run used it."""
        data = self.manifest.get("scenario")
        return data if isinstance(data, dict) else {}

    @property
    def seed(self) -> int | None:
        """The root seed the run used."""
        return self.manifest.get("seed")

    @property
    def horizon(self) -> int | None:
        """The scenario's ``horizon_months``."""
        return self.scenario.get("horizon_months")

    @property
    def start_date(self) -> str | None:
        """The scenario's ``start_date`` (``YYYY-MM-DD``), when it has one: months are calendar months."""
        value = self.scenario.get("start_date")
        return str(value) if value else None

    @property
    def sha256(self) -> str:
        """The resolved scenario's hash (what identifies the folder)."""
        return str(self.manifest.get("scenario_sha256", ""))

    @property
    def status(self) -> str:
        """The manifest's status: ``complete``, ``running``, ``interrupted`` or ``failed``."""
        return str(self.manifest.get("status", "unknown"))

    @property
    def source(self) -> dict[str, Any] | None:
        """Where the scenario's values were written, with their comments (None: not recorded)."""
        source = self.manifest.get("source")
        return source if isinstance(source, dict) else None

    @property
    def versions(self) -> dict[str, str]:
        """Package versions the run recorded (salesim, its core, Python, NumPy, ...)."""
        versions = self.manifest.get("versions")
        return versions if isinstance(versions, dict) else {}

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Replications that failed, with their errors."""
        return list(self.manifest.get("failures") or [])

    @property
    def reps(self) -> list[int]:
        """The replication numbers the folder holds, in order."""
        return [int(r) for r in self.kpis["rep"]]

    @property
    def missing(self) -> list[int]:
        """Replications asked for and not in the tables (not yet run, failed, or in a chunk skipped)."""
        if self.reps_requested is None:
            return []
        return sorted(set(range(self.reps_requested)) - set(self.reps))

    @property
    def complete(self) -> bool:
        """Every replication asked for is here and the run finished."""
        return self.status == "complete" and not self.missing and not self.skipped

    @property
    def roles(self) -> list[str]:
        """The scenario's roles, in its order."""
        roles = self.scenario.get("roles")
        return list(roles) if isinstance(roles, dict) else []

    def series(self, name: str) -> pd.DataFrame:
        """One monthly series as a month × replication table (empty when the run has no such series)."""
        ts = self.timeseries
        sub = ts[ts["series"] == name]
        return sub.pivot(index="month", columns="rep", values="value")

    def has_series(self, name: str) -> bool:
        """Whether the monthly series ``name`` was recorded."""
        return bool((self.timeseries["series"] == name).any()) if not self.timeseries.empty else False


def _read_json(path: Path) -> dict[str, Any]:
    if path.is_symlink():
        raise FolderError(f"{path} is a symbolic link; a results folder holds no links")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FolderError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise FolderError(f"{path}: not a salesim file")
    return data


def _chunk_tables(folder: Path) -> tuple[list[pd.DataFrame], list[pd.DataFrame], list[str]]:
    """The tables of every chunk that can be read (read-only: nothing is moved), and the names of
    those that cannot."""
    import pandas as pd

    from sim.metrics import KPI_NAMES

    chunks = folder / "chunks"
    kpi_parts, series_parts, skipped = [], [], []
    if not chunks.is_dir() or chunks.is_symlink():
        return kpi_parts, series_parts, skipped
    for kpi_file in sorted(chunks.glob("chunk-*.kpis.parquet")):
        series_file = kpi_file.with_name(kpi_file.name.replace(".kpis.", ".series."))
        try:
            if kpi_file.is_symlink() or series_file.is_symlink():
                raise ValueError("a symbolic link")
            kpis = pd.read_parquet(kpi_file)
            series = pd.read_parquet(series_file)
            if list(kpis.columns[:1]) != ["rep"] or not set(KPI_NAMES) <= set(kpis.columns):
                raise ValueError("not a table of replications")
        except Exception:  # truncated, not Parquet, missing: any reader error
            skipped.append(kpi_file.name)
            continue
        kpi_parts.append(kpis)
        series_parts.append(series)
    return kpi_parts, series_parts, skipped


def read_run(path: str | os.PathLike[str]) -> RunFolder:
    """The replications of a results folder — its final tables when the run completed, else what
    its chunks hold — restricted to the replications the run asked for.

    Raises
    ------
    FolderError
        No folder, no manifest, or a manifest that cannot be read.
    """
    import pandas as pd

    from sim.metrics import KPI_NAMES

    folder = Path(path)
    if not folder.is_dir():
        raise FolderError(f"{folder}: no such folder")
    if not (folder / MANIFEST).exists():
        raise FolderError(f"{folder} is not a salesim results folder (no {MANIFEST})")
    manifest = _read_json(folder / MANIFEST)
    if "scenario" not in manifest or "seed" not in manifest:
        raise FolderError(f"{folder / MANIFEST}: not the manifest of a salesim run")
    requested = manifest.get("reps_requested")
    requested = int(requested) if isinstance(requested, int) and not isinstance(requested, bool) else None
    final_k, final_s = folder / "replications.parquet", folder / "timeseries.parquet"
    kpis = series = None
    skipped: list[str] = []
    if manifest.get("status") == "complete" and final_k.is_file() and final_s.is_file():
        try:
            kpis, series = pd.read_parquet(final_k), pd.read_parquet(final_s)
        except Exception:
            kpis = series = None
    if kpis is None:
        kpi_parts, series_parts, skipped = _chunk_tables(folder)
        if kpi_parts:
            kpis = pd.concat(kpi_parts, ignore_index=True).drop_duplicates("rep")
            series = pd.concat(series_parts, ignore_index=True).drop_duplicates(["rep", "month", "series"])
        elif final_k.is_file() and final_s.is_file():
            try:
                kpis, series = pd.read_parquet(final_k), pd.read_parquet(final_s)
            except Exception as exc:
                raise FolderError(f"{folder}: its tables cannot be read ({type(exc).__name__}): the folder is "
                                  "damaged; run the command again with --overwrite") from None
        else:
            kpis = pd.DataFrame(columns=["rep", *KPI_NAMES])
            series = pd.DataFrame(columns=["rep", "month", "series", "value"])
    if requested is not None:
        kpis = kpis[kpis["rep"] < requested]
        series = series[series["rep"] < requested]
    kpis = kpis.sort_values("rep").reset_index(drop=True)
    series = series.sort_values(["rep", "series", "month"], kind="stable").reset_index(drop=True)
    return RunFolder(folder, manifest, with_breakdowns(kpis, series), series, requested, skipped)


def with_breakdowns(kpis: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """``kpis`` with a column per source and segment flow (``wins@segment:smb``): the
    replication's total of the monthly series of that name (:func:`sim.metrics.breakdown_series`).
    Only flows every replication has: none for results made before those series existed, nor
    for a run resumed across that change (an average of some replications would mislead)."""
    if series.empty or kpis.empty:
        return kpis
    names = series["series"].astype(str)
    chosen = series[names.str.contains("@source:|@segment:", regex=True) & (series["month"] > 0)]
    if chosen.empty:
        return kpis
    totals = chosen.pivot_table(index="rep", columns="series", values="value", aggfunc="sum")
    totals.columns = [str(c) for c in totals.columns]
    totals = totals.reindex(kpis["rep"].to_numpy())
    return kpis.merge(totals.dropna(axis=1, how="any"), left_on="rep", right_index=True, how="left")


# --------------------------------------------------------------------------- comparisons


@dataclass
class FolderComparison:
    """Run folders compared with the first (the baseline), paired replication by replication on the
    replications every one of them holds."""

    runs: list[RunFolder]
    path: Path | None = None

    @property
    def baseline(self) -> RunFolder:
        """The run every other is compared with."""
        return self.runs[0]

    @property
    def others(self) -> list[RunFolder]:
        """The runs compared with the baseline."""
        return self.runs[1:]

    @property
    def names(self) -> list[str]:
        """Scenario names, the baseline first."""
        return [r.name for r in self.runs]

    @property
    def common_reps(self) -> list[int]:
        """The replications every run holds: the pairs compared."""
        reps = set(self.runs[0].reps)
        for run in self.runs[1:]:
            reps &= set(run.reps)
        return sorted(reps)

    def run(self, name: str) -> RunFolder:
        """The run of scenario ``name`` (KeyError when none)."""
        for run in self.runs:
            if run.name == name:
                return run
        raise KeyError(name)

    def paired(self, scenario: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """Baseline and scenario values of ``metric`` on the replications both hold, in replication order."""
        reps = self.common_reps
        a = self.baseline.kpis.set_index("rep").reindex(reps)
        b = self.run(scenario).kpis.set_index("rep").reindex(reps)
        if metric not in a.columns or metric not in b.columns:
            return np.array([]), np.array([])
        return a[metric].to_numpy(float), b[metric].to_numpy(float)

    def difference(self, scenario: str, metric: str) -> stats.PairedDifference:
        """The paired difference ``scenario − baseline`` of ``metric`` on the common replications."""
        return stats.paired_difference(*self.paired(scenario, metric))

    def series_difference(self, scenario: str, series: str = "mrr_usd") -> pd.DataFrame:
        """Month × replication table of ``scenario − baseline`` for a monthly series."""
        reps = self.common_reps
        base = self.baseline.series(series).reindex(columns=reps)
        other = self.run(scenario).series(series).reindex(columns=reps)
        return other - base


def check_pairable(runs: Sequence[RunFolder]) -> None:
    """Run folders compared together: different scenarios, the same seed (the same markets) and the
    same horizon. Else :class:`FolderError` naming what differs."""
    problems = []
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append("two folders hold the same scenario name " + ", ".join(repr(d) for d in dupes)
                        + ": compare folders of different scenarios")
    first = runs[0]
    for run in runs[1:]:
        if run.seed != first.seed:
            problems.append(f"{run.path} was run with seed {run.seed}, {first.path} with seed {first.seed}: "
                            "replications are paired only under the same seed (the same markets). Run both "
                            "with the same --seed, or use `salesim compare`")
        if run.horizon != first.horizon:
            problems.append(f"{run.path} covers {run.horizon} months, {first.path} {first.horizon}: "
                            "scenarios compared together need the same horizon_months")
    if problems:
        raise FolderError("; ".join(problems) if len(problems) == 1 else "\n".join(problems))


def _comparison_order(folder: Path, runs: list[RunFolder]) -> list[RunFolder]:
    """The baseline first, then the others as ``comparison.csv`` lists them (else in the order
    they were created: ``compare`` runs the baseline first)."""
    csv = folder / COMPARISON_CSV
    order: list[str] = []
    if csv.is_file():
        import pandas as pd

        try:
            table = pd.read_csv(csv)
            order = [str(table["baseline"].iloc[0]), *dict.fromkeys(str(s) for s in table["scenario"])]
        except Exception:
            order = []
    by_name = {r.name: r for r in runs}
    if order and all(n in by_name for n in order):
        return [by_name[n] for n in order] + [r for r in runs if r.name not in order]
    return sorted(runs, key=lambda r: (str(r.manifest.get("created_utc", "")), r.name))


def read_comparison(path: str | os.PathLike[str]) -> FolderComparison:
    """A ``compare --out`` folder: its run folders, the baseline first."""
    folder = Path(path)
    subs = [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.is_symlink() and (p / MANIFEST).exists()]
    if len(subs) < 2:
        raise FolderError(f"{folder}: a comparison folder holds a results folder per scenario; found {len(subs)}")
    runs = _comparison_order(folder, [read_run(p) for p in subs])
    check_pairable(runs)
    return FolderComparison(runs, folder)


def compare_runs(runs: Sequence[RunFolder]) -> FolderComparison:
    """Run folders named together, the first as the baseline (checked with :func:`check_pairable`)."""
    check_pairable(runs)
    return FolderComparison(list(runs))


# --------------------------------------------------------------------------- sweeps and sensitivity


@dataclass
class SweepFolder:
    """A sweep read back: the result, and the first point's run folder of each scenario (its
    scenario, source notes and provenance)."""

    path: Path
    spec: dict[str, Any]
    result: SweepResult
    runs: list[RunFolder]
    missing_points: int = 0


def _point_runs(folder: Path, names: Sequence[str], point: int = 0) -> list[RunFolder]:
    runs = []
    for name in names:
        sub = folder / "points" / f"{point:05d}" / name
        if (sub / MANIFEST).exists():
            runs.append(read_run(sub))
    return runs


def read_sweep(path: str | os.PathLike[str]) -> SweepFolder:
    """A sweep folder: ``sweep.parquet`` (or, for a sweep that did not finish, what its point
    folders hold) as a :class:`~sim.runs.sweep.SweepResult`."""
    import pandas as pd

    from sim.metrics import KPI_NAMES
    from sim.runs.sweep import SweepResult

    folder = Path(path)
    spec = _read_json(folder / SWEEP_FILE)
    names = list(spec.get("scenarios") or {})
    parameters = list(spec.get("parameters") or [])
    points = pd.DataFrame([{"point": k, **p} for k, p in enumerate(spec.get("points") or [])])
    if not names or not parameters or points.empty:
        raise FolderError(f"{folder / SWEEP_FILE}: not a salesim sweep")
    table = folder / "sweep.parquet"
    missing = 0
    if table.is_file():
        kpis = pd.read_parquet(table)
    else:
        parts = []
        for k in points["point"]:
            for name in names:
                sub = folder / "points" / f"{int(k):05d}" / name
                if not (sub / MANIFEST).exists():
                    missing += 1
                    continue
                run = read_run(sub)
                if run.missing or run.kpis.empty:
                    missing += 1
                parts.append(run.kpis.assign(point=int(k), scenario=name))
        if not parts:
            raise FolderError(f"{folder}: the sweep has no finished replication yet")
        kpis = points.merge(pd.concat(parts, ignore_index=True), on="point")
        kpis = kpis[["point", *parameters, "scenario", "rep", *KPI_NAMES]]
    reps = int(kpis.groupby(["point", "scenario"])["rep"].count().max()) if not kpis.empty else 0
    metric = str(spec.get("metric", "exit_arr_usd"))
    result = SweepResult(kpis, points[["point", *parameters]], parameters, names, metric, reps,
                         int(spec.get("seed", 0)), str(spec.get("design", "grid")), [], folder)
    return SweepFolder(folder, spec, result, _point_runs(folder, names), missing)


@dataclass
class SensitivityFolder:
    """A sensitivity analysis read back (the tables of :class:`~sim.runs.sensitivity.SensitivityResult`)."""

    path: Path
    metric: str
    scenarios: list[str]
    reps: int | None
    seed: int | None
    tornado: pd.DataFrame | None
    morris: pd.DataFrame | None
    sobol: pd.DataFrame | None
    inputs: list[dict[str, Any]]
    base: FolderComparison | RunFolder | None
    """The scenarios as written, from the tornado's first point (every input as written)."""

    @property
    def target(self) -> str:
        """What the analysis is about: the metric, or the paired difference of two scenarios."""
        if len(self.scenarios) >= 2:
            return f"{self.metric}, {self.scenarios[1]} − {self.scenarios[0]}"
        return self.metric


def _wide(table: pd.DataFrame, method: str) -> pd.DataFrame | None:
    part = table[table["method"] == method]
    if part.empty:
        return None
    wide = part.pivot_table(index=["rank", "input"], columns="statistic", values="value", aggfunc="first")
    wide = wide.reset_index().sort_values("rank").drop(columns="rank").reset_index(drop=True)
    wide.columns.name = None
    return wide


def read_sensitivity(path: str | os.PathLike[str]) -> SensitivityFolder:
    """A sensitivity folder: its tables (``sensitivity.csv``) and what they are about
    (``sensitivity.json``; for folders written before it, the tornado's ``sweep.json`` and
    ``drivers.txt``)."""
    import pandas as pd

    folder = Path(path)
    csv = folder / SENSITIVITY_CSV
    if not csv.is_file():
        raise FolderError(f"{folder}: the sensitivity analysis has not finished (no {SENSITIVITY_CSV}); run the "
                          "same command again to complete it")
    table = pd.read_csv(csv)
    info = _read_json(folder / SENSITIVITY_FILE) if (folder / SENSITIVITY_FILE).exists() else {}
    scenarios = list(info.get("scenarios") or [])
    seed = info.get("seed")
    if not scenarios:
        for method in SENSITIVITY_METHODS:
            spec_file = folder / method / SWEEP_FILE
            if spec_file.exists():
                spec = _read_json(spec_file)
                scenarios, seed = list(spec.get("scenarios") or {}), spec.get("seed")
                break
    metric = info.get("metric")
    if metric is None:
        drivers = folder / "drivers.txt"
        first = drivers.read_text(encoding="utf-8").splitlines()[0] if drivers.is_file() else ""
        metric = first.removeprefix("What drives ").split(",")[0].rstrip(":").strip() or "exit_arr_usd"
    base: FolderComparison | RunFolder | None = None
    runs = _point_runs(folder / "tornado", scenarios) if scenarios else []
    if runs and len(runs) == len(scenarios):
        base = compare_runs(runs) if len(runs) >= 2 else runs[0]
    reps = info.get("reps")
    if reps is None and runs:
        reps = runs[0].reps_requested or len(runs[0].reps)
    return SensitivityFolder(folder, str(metric), scenarios, reps, seed, _wide(table, "tornado"),
                             _wide(table, "morris"), _wide(table, "sobol"), list(info.get("inputs") or []), base)


# --------------------------------------------------------------------------- what a folder is


def folder_kind(path: str | os.PathLike[str]) -> str:
    """``run``, ``comparison``, ``sweep``, ``sensitivity`` or ``plan`` (a ``plan --simulate`` folder,
    whose run is in ``runs/``). Raises :class:`FolderError` for anything else."""
    folder = Path(path)
    if not folder.exists():
        raise FolderError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise FolderError(f"{folder} is a file; give a results folder (what `salesim run`, `compare`, `sweep`, "
                          "`sensitivity` or `plan --simulate` wrote)")
    if (folder / MANIFEST).exists():
        return "run"
    if (folder / SWEEP_FILE).exists():
        return "sweep"
    if (folder / SENSITIVITY_CSV).exists() or (folder / SENSITIVITY_FILE).exists() or any(
            (folder / m / SWEEP_FILE).exists() for m in SENSITIVITY_METHODS):
        return "sensitivity"
    if (folder / "runs" / MANIFEST).exists():
        return "plan"
    subs = [p for p in folder.iterdir() if p.is_dir() and (p / MANIFEST).exists()]
    if (folder / COMPARISON_CSV).exists() or len(subs) >= 2:
        return "comparison"
    raise FolderError(f"{folder} is not a salesim results folder (no {MANIFEST}, {COMPARISON_CSV}, {SWEEP_FILE} or "
                      f"{SENSITIVITY_CSV})")
