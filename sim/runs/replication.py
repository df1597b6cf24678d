"""One replication, and a chunk of them: the task an executor runs.

Replication ``r`` of seed ``s`` is a pure function of (scenario, s, r): its random streams are
derived from ``SeedSequence(s, spawn_key=(r, stream))``. Work is shipped to executors as chunks
of replication indices together with the scenario as plain data — never generator objects — so
the numbers are identical for any number of workers and any executor. An exception inside one
replication is recorded with its traceback and the other replications go on.

Pool workers import this module to run replications: it keeps pandas, SciPy and the results
store out of its imports (they would add ~110 MiB to every worker's memory for nothing).
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.metrics import KPI_NAMES, kpis, monthly_series
from sim.model.world import collector_paused, simulate
from sim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_SEED = 20_261_126
"""Seed used when none is given (recorded in every manifest)."""


def simulate_one(scenario: Scenario, seed: int = DEFAULT_SEED, replication: int = 0
                 ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Run one replication; return its KPIs and monthly series (month 0..horizon)."""
    with collector_paused():  # see World.run: the cyclic collector makes big runs superlinear
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
    kpi_names: list[str] = field(default_factory=lambda: list(KPI_NAMES))
    """The columns of ``kpis``: :data:`~sim.metrics.KPI_NAMES`, then the per-source and per-segment
    KPIs of scenarios with several (``wins@source:demo_request``)."""


def run_chunk(scenario_data: dict[str, Any], seed: int, reps: Sequence[int]) -> ChunkResult:
    """Run replications ``reps`` of a scenario given as plain data (the executor task)."""
    return run_reps(Scenario.model_validate(scenario_data), seed, reps)


def run_reps(scenario: Scenario, seed: int, reps: Sequence[int]) -> ChunkResult:
    """Run replications ``reps`` of a validated scenario in this process."""
    done, kpi_rows, cubes, failures = [], [], [], []
    names: list[str] = []
    kpi_names: list[str] = list(KPI_NAMES)
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
        kpi_names = list(k)
        done.append(int(rep))
        kpi_rows.append([k[name] for name in kpi_names])
        cubes.append(np.stack([series[name] for name in names]))
    h = scenario.horizon_months
    return ChunkResult(
        reps=done,
        kpis=np.asarray(kpi_rows, dtype=float).reshape(len(done), len(kpi_names)),
        series_names=names,
        series=np.asarray(cubes, dtype=float).reshape(len(done), len(names), h + 1),
        failures=failures,
        kpi_names=kpi_names,
    )


def chunk_tables(chunk: ChunkResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI table (rep + KPIs) and the long series table (rep, month, series, value)."""
    import pandas as pd

    kpi_table = pd.DataFrame(chunk.kpis, columns=list(chunk.kpi_names))
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
