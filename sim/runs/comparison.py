"""Comparing scenarios under common random numbers: which org chart wins, by how much, and
how sure we are.

This module owns :func:`compare`. Every scenario runs with the same seed, so replication r
of each sees the same market (the same leads with the same latent draws); differences are
taken replication by replication against the baseline (the first scenario), which removes
most of the noise. For each KPI and scenario the comparison table gives the means, the mean
paired difference with its 95% confidence interval, and ``p_better``: the share of paired
replications in which the scenario beats the baseline (ties count half), in the metric's own
direction (more revenue is better, more cost is worse; :func:`sim.runs.stats.better_direction`).
Volumes where more is neither better nor worse (dials, lost deals, churned MRR, lead-state
counts) get no ``p_better``; ``p_higher`` and the pair counts (``n_higher``, ``n_equal``,
``n_lower``) are there for every KPI, so a reader can tell ties and skew from a clear verdict.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics import KPI_NAMES
from sim.runs import stats
from sim.runs.monte_carlo import run
from sim.runs.replication import DEFAULT_SEED
from sim.runs.results import RunResult
from sim.runs.store import write_csv
from sim.scenario import Scenario, load_checked, load_scenario
from sim.scenario.annotations import read_source_notes
from sim.scenario.yamlio import Problem, ScenarioError, load_document, lookup_line

COMPARISON_COLUMNS = (
    "metric", "scenario", "baseline", "mean", "baseline_mean", "diff_mean", "diff_ci95_low",
    "diff_ci95_high", "p_better", "diff_pct", "diff_median", "better", "p_higher", "n_pairs", "n_higher",
    "n_equal", "n_lower",
)


TIE_RTOL = 1e-9
"""Paired values within this relative difference are equal (a tie): floating-point rounding, such
as the same costs summed in another order, is not a difference."""


SEGMENT_COMPARISON_KPIS: tuple[str, ...] = (
    "revenue_first_year_usd", "exit_arr_usd", "new_mrr_usd", "sqls", "wins", "win_rate_sql", "customers_end",
    "cac_usd", "cac_payback_months",
)
"""The KPIs :meth:`Comparison.by_segment` compares per segment by default."""


@dataclass
class Comparison:
    """Results of several scenarios run under common random numbers.

    Attributes
    ----------
    results : dict
        Scenario name → :class:`~sim.runs.results.RunResult`, in the order given.
    baseline : str
        The scenario the others are compared with.
    table : DataFrame
        ``COMPARISON_COLUMNS``, one row per (metric, non-baseline scenario).
    """

    results: dict[str, RunResult]
    baseline: str
    table: pd.DataFrame
    out: Path | None = None

    def difference(self, scenario: str, metric: str) -> stats.PairedDifference:
        """Paired difference ``scenario − baseline`` of one KPI."""
        a, b = _paired(self.results[self.baseline].kpis, self.results[scenario].kpis, metric)
        return stats.paired_difference(a, b)

    def by_segment(self, metrics: Sequence[str] = SEGMENT_COMPARISON_KPIS) -> pd.DataFrame | None:
        """Paired differences per segment (the book's first rule: never blend tiers).

        The :func:`comparison_table` of the per-segment KPIs (``<kpi>@segment:<name>``, computed
        when a scenario has several segments) that every scenario has, with a ``segment`` column
        and ``metric`` the plain KPI name. None when the scenarios share no per-segment KPI."""
        import pandas as pd

        columns = [set(r.kpis.columns) for r in self.results.values()]
        shared = set.intersection(*columns) if columns else set()
        segments = list(dict.fromkeys(c.split("@segment:", 1)[1] for c in self.results[self.baseline].kpis.columns
                                      if "@segment:" in c))
        wanted = [f"{m}@segment:{seg}" for seg in segments for m in metrics if f"{m}@segment:{seg}" in shared]
        if not wanted:
            return None
        table = comparison_table(self.results, self.baseline, wanted)
        parts = table["metric"].str.split("@segment:", n=1, expand=True)
        table = table.assign(metric=parts[0], segment=parts[1])
        return pd.DataFrame(table[["segment", *COMPARISON_COLUMNS]]).reset_index(drop=True)

    def series_difference(self, scenario: str, series: str = "mrr_usd") -> pd.DataFrame:
        """Month × rep table of ``scenario − baseline`` for a monthly series."""
        base = self.results[self.baseline].series(series)
        other = self.results[scenario].series(series)
        reps = base.columns.intersection(other.columns)
        return other[reps] - base[reps]


def _paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    joined = a[["rep", metric]].merge(b[["rep", metric]], on="rep", suffixes=("_a", "_b"))
    return joined[f"{metric}_a"].to_numpy(float), joined[f"{metric}_b"].to_numpy(float)


def comparison_table(results: Mapping[str, RunResult], baseline: str,
                     metrics: Sequence[str] = KPI_NAMES) -> pd.DataFrame:
    """The comparison rows (``COMPARISON_COLUMNS``) of ``results`` against ``baseline``."""
    rows: list[dict[str, Any]] = []
    base = results[baseline].kpis
    for metric in metrics:
        for name, result in results.items():
            if name == baseline:
                continue
            a, b = _paired(base, result.kpis, metric)
            # differences within floating-point rounding (the same costs summed in another order) are ties
            b = np.where(np.isclose(a, b, rtol=TIE_RTOL, atol=0.0), a, b)
            diff = stats.paired_difference(a, b)
            direction = stats.better_direction(metric)
            keep = np.isfinite(a) & np.isfinite(b)
            d = b[keep] - a[keep]
            rows.append({
                "metric": metric, "scenario": name, "baseline": baseline,
                "mean": diff.mean_b, "baseline_mean": diff.mean_a, "diff_mean": diff.diff_mean,
                "diff_ci95_low": diff.ci_low, "diff_ci95_high": diff.ci_high,
                "p_better": (float("nan") if direction is None
                             else stats.p_better(a, b, higher_is_better=direction == "higher")),
                "diff_pct": diff.diff_mean / diff.mean_a if diff.mean_a else float("nan"),
                "diff_median": float(np.median(d)) if d.size else float("nan"),
                "better": direction or "none", "p_higher": stats.p_better(a, b, higher_is_better=True),
                "n_pairs": int(d.size), "n_higher": int(np.sum(d > 0)), "n_equal": int(np.sum(d == 0)),
                "n_lower": int(np.sum(d < 0)),
            })
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


REORG_METRICS = ("reorg_cost_usd", "transition_mrr_loss_usd", "breakeven_month")
"""The rows a scenario with a reorg adds to a comparison (docs/reference/kpis.md#reorg)."""


def reorg_rows(results: Mapping[str, RunResult], scenarios: Mapping[str, Scenario], baseline: str
               ) -> list[dict[str, Any]]:
    """The reorg rows (``REORG_METRICS``) of each non-baseline scenario with a reorg inside the horizon,
    paired with the baseline — which should be the same org without the reorg.

    * ``reorg_cost_usd``: the reorgs' one-off costs (the difference: against none in the baseline);
    * ``transition_mrr_loss_usd``: MRR lost to the baseline, summed over the months from the first
      reorg to the end of its transition (at least its first month): baseline − scenario, per pair;
    * ``breakeven_month``: the first month after which the cumulative paired difference of MRR − cost
      since the reorg stays positive to the horizon, on the mean difference (NaN: not by the horizon);
      ``p_better`` is then the share of paired replications that break even by the horizon.
    """
    rows: list[dict[str, Any]] = []
    for name, scenario in scenarios.items():
        changes = [c for c in scenario.reorg if c.month < scenario.horizon_months]
        if name == baseline or not changes:
            continue
        first = changes[0]
        base, other = results[baseline], results[name]

        def paired(series: str, base=base, other=other) -> tuple[pd.DataFrame, pd.DataFrame]:
            a, b = base.series(series), other.series(series)
            reps = a.columns.intersection(b.columns)
            return a[reps], b[reps]
        mrr_a, mrr_b = paired("mrr_usd")
        cost_a, cost_b = paired("cost_usd")
        months = mrr_a.index.to_numpy()
        starts = scenario.month_start_days()
        end_t = starts[first.month] + first.transition_weeks * 7.0
        last = max(first.month + 1, int(np.searchsorted(starts, end_t, side="left")))
        window = (months > first.month) & (months <= last)
        loss = (mrr_a[window] - mrr_b[window]).sum(axis=0).to_numpy(float)
        after = months > first.month
        gain = ((mrr_b - cost_b.fillna(0.0)) - (mrr_a - cost_a.fillna(0.0)))[after].cumsum(axis=0)
        cost = float(sum(c.cost_usd for c in changes))
        mean_gain = gain.mean(axis=1).to_numpy(float)
        per_rep = [_breakeven(gain[c].to_numpy(float), months[after]) for c in gain.columns]
        loss_diff = stats.paired_difference(np.zeros_like(loss), loss)
        nan = float("nan")
        for metric, value, diff, p, better in (
                ("reorg_cost_usd", cost, None, nan, "none"),
                ("transition_mrr_loss_usd", loss_diff.mean_b, loss_diff,
                 stats.p_better(np.zeros_like(loss), loss, higher_is_better=False), "lower"),
                ("breakeven_month", _breakeven(mean_gain, months[after]), None,
                 float(np.mean([not np.isnan(m) for m in per_rep])) if per_rep else nan, "lower")):
            paired_loss = diff is not None
            rows.append({
                "metric": metric, "scenario": name, "baseline": baseline, "mean": value,
                "baseline_mean": 0.0 if metric != "breakeven_month" else nan,
                "diff_mean": value if diff is None else diff.diff_mean,
                "diff_ci95_low": diff.ci_low if paired_loss else nan,
                "diff_ci95_high": diff.ci_high if paired_loss else nan,
                "p_better": p, "diff_pct": nan,
                "diff_median": float(np.median(loss)) if paired_loss and loss.size else nan,
                "better": better, "p_higher": float(np.mean(loss > 0) + 0.5 * np.mean(loss == 0))
                if paired_loss and loss.size else nan,
                "n_pairs": int(loss.size) if paired_loss else 0,
                "n_higher": int(np.sum(loss > 0)) if paired_loss else 0,
                "n_equal": int(np.sum(loss == 0)) if paired_loss else 0,
                "n_lower": int(np.sum(loss < 0)) if paired_loss else 0,
            })
    return rows


def _breakeven(cumulative: np.ndarray, months: np.ndarray) -> float:
    """The first month from which ``cumulative`` stays positive to the end (NaN: none)."""
    if cumulative.size == 0 or not cumulative[-1] > 0:
        return float("nan")
    below = np.flatnonzero(~(cumulative > 0))
    return float(months[below[-1] + 1]) if below.size else float(months[0])


def check_comparable(scenarios: Mapping[str, Scenario], files: Mapping[str, str] | None = None) -> None:
    """Scenarios compared together must share a horizon; names must differ.

    Raises
    ------
    ScenarioError
        Naming the file, line and field of each scenario that does not match the first.
    """
    names = list(scenarios)
    first = scenarios[names[0]]
    problems: list[Problem] = []
    for name in names[1:]:
        scenario = scenarios[name]
        if scenario.horizon_months != first.horizon_months:
            file = (files or {}).get(name, f"<{name}>")
            line = None
            if files and name in files:
                try:
                    _, line = lookup_line(load_document(files[name]).source_map, ("horizon_months",), file)
                except ScenarioError:
                    line = None
            problems.append(Problem(file, line, "horizon_months",
                                    f"horizon_months is {scenario.horizon_months} but {names[0]!r} has "
                                    f"{first.horizon_months}: scenarios compared together need the same horizon"))
    if problems:
        raise ScenarioError(problems)


def load_many(paths: Sequence[str | os.PathLike[str]], overrides: Sequence[str] = (),
              warnings: list[Problem] | None = None) -> tuple[dict[str, Scenario], dict[str, str]]:
    """Load scenario files for a comparison: (name → scenario, name → file); every problem of
    every file is reported together. The files' warnings go to ``warnings`` (if given; else they
    are issued as :class:`~sim.scenario.ScenarioWarning`)."""
    scenarios: dict[str, Scenario] = {}
    files: dict[str, str] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            if warnings is None:
                scenario = load_scenario(path, overrides)
            else:
                scenario, found = load_checked(path, overrides)
                warnings.extend(found)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if scenario.name in scenarios:
            problems.append(Problem(os.fspath(path), None, "name",
                                    f"scenario name {scenario.name!r} is also used by {files[scenario.name]}; "
                                    "scenarios compared together need different names"))
            continue
        scenarios[scenario.name] = scenario
        files[scenario.name] = os.fspath(path)
    if problems:
        raise ScenarioError(problems)
    check_comparable(scenarios, files)
    return scenarios, files


def compare(
    scenarios: Mapping[str, Scenario | str | os.PathLike[str]] | Sequence[Scenario | str | os.PathLike[str]],
    reps: int = 100,
    seed: int = DEFAULT_SEED,
    baseline: str | None = None,
    out: str | os.PathLike[str] | None = None,
    sources: Mapping[str, dict[str, Any] | None] | None = None,
    **run_kwargs: Any,
) -> Comparison:
    """Run scenarios under common random numbers and compare them with a baseline.

    Parameters
    ----------
    scenarios : mapping or sequence
        ``{"silo": scenario_or_path, "pod": ...}``, or a list (named by ``scenario.name``).
    reps, seed : int
        Replications and the shared seed.
    baseline : str, optional
        Name of the baseline (default: the first scenario).
    out : path, optional
        Folder for ``comparison.csv`` and one results folder per scenario (resumable). Figures are
        drawn from the returned :class:`Comparison` (:func:`sim.present.plots.save_comparison_figures`).
    sources : mapping, optional
        Scenario name → where its values were written, with their comments
        (:func:`sim.scenario.annotations.read_source_notes`), kept in each results folder for the
        report's list of assumptions; scenarios given as files are read for it without asking.
    **run_kwargs
        Passed to :func:`sim.run` (``workers``, ``executor``, ``overwrite``, ``progress``).
    """
    items = scenarios.items() if isinstance(scenarios, Mapping) else [(None, s) for s in scenarios]
    loaded: dict[str, Scenario] = {}
    notes: dict[str, dict[str, Any] | None] = dict(sources or {})
    for key, value in items:
        scenario = value if isinstance(value, Scenario) else load_scenario(value)
        name = key or scenario.name
        if name in loaded:
            raise ValueError(f"two scenarios are named {name!r}; pass a dict with distinct names")
        loaded[name] = scenario
        if not isinstance(value, Scenario) and notes.get(name) is None:
            notes[name] = read_source_notes(value)
    if len(loaded) < 2:
        raise ValueError("compare needs at least two scenarios")
    check_comparable(loaded)
    baseline = baseline or next(iter(loaded))
    if baseline not in loaded:
        raise ValueError(f"baseline {baseline!r} is not one of {', '.join(loaded)}")
    out_path = Path(out) if out is not None else None
    results: dict[str, RunResult] = {}
    for name, scenario in loaded.items():
        folder = out_path / name if out_path is not None else None
        results[name] = run(scenario, reps=reps, seed=seed, out=folder, source=notes.get(name), **run_kwargs)
    table = comparison_table(results, baseline)
    extra = reorg_rows(results, loaded, baseline)
    if extra:
        table = pd.concat([table, pd.DataFrame(extra, columns=list(COMPARISON_COLUMNS))], ignore_index=True)
    comparison = Comparison(results, baseline, table, out_path)
    if out_path is not None:
        write_csv(out_path / "comparison.csv", table)
    return comparison
