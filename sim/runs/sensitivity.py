"""Global sensitivity of a KPI — or of the paired difference of two scenarios — to uncertain inputs.

This module owns :func:`sensitivity` and its inputs:

* **inputs** — a field path (of every scenario, or of one: ``pod:org.pod_handoff.
  leakage_probability``) with a range: from a small YAML file (:func:`read_inputs`:
  ``PATH: [low, high]`` or ``PATH: {dist: triangular, low: .., mode: .., high: ..}``), from
  ranges marked inline in the scenario files (:func:`marked_inputs`; see
  :mod:`sim.scenario.ranges`), or from the fields a scenario marks ``# ASSUMPTION``
  (:func:`assumption_inputs`, ± a relative spread);
* **methods** — one-at-a-time **tornado** (each input at its low and its high end, the others as
  written, with confidence intervals), **Morris** elementary effects (screening many inputs:
  ``r`` trajectories of ``k + 1`` points), **Sobol** first- and total-order indices with
  bootstrap confidence intervals (``N (k + 2)`` points). The Morris and Sobol designs and
  estimators are SALib's (the optional ``sensitivity`` extra): the designs are drawn on the unit
  cube and mapped through each input's distribution.

Every point is evaluated with :func:`sim.runs.sweep.evaluate` — the same seed everywhere (common
random numbers), one executor for everything, resumable folders ``out/<method>/points/<k>/``.
The response at a point is the mean of the KPI over the replications, or with two scenarios the
mean paired difference ``second − first``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.metrics import KPI_NAMES
from sim.runs.replication import DEFAULT_SEED
from sim.runs.sweep import (
    Parameter,
    Runner,
    ScenarioSource,
    SweepInputError,
    check_inputs,
    evaluate,
    load_sources,
    make_design,
)
from sim.scenario.annotations import assumption_paths

if TYPE_CHECKING:
    import pandas as pd

METHODS = ("tornado", "morris", "sobol")
SENSITIVITY_FILE = "sensitivity.json"
"""What a sensitivity folder holds: metric, scenarios (baseline first), seed, replications, methods, inputs."""
DISTRIBUTIONS = ("uniform", "triangular")


@dataclass(frozen=True)
class Input:
    """An uncertain input: a parameter and its distribution over ``[low, high]``."""

    parameter: Parameter
    low: float
    high: float
    dist: str = "uniform"
    mode: float | None = None
    origin: str = ""

    @property
    def label(self) -> str:
        return self.parameter.label

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at quantiles ``u`` (0..1)."""
        u = np.asarray(u, float)
        if self.dist == "triangular":
            from scipy.stats import triang

            width = self.high - self.low
            return triang.ppf(u, (float(self.mode) - self.low) / width, loc=self.low, scale=width)
        return self.low + u * (self.high - self.low)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_input(label: str, spec: Any, origin: str = "") -> Input:
    """One input from ``[low, high]``, ``{range: [low, high]}``, ``{dist: uniform, low, high}`` or
    ``{dist: triangular, low, mode, high}``. Raises :class:`SweepInputError`."""
    where = f"{origin}: {label}" if origin else label
    parameter = Parameter.parse(label)
    if isinstance(spec, dict) and "range" in spec and "dist" not in spec:
        spec = spec["range"]
    if isinstance(spec, list):
        if len(spec) != 2 or not all(_number(v) for v in spec):
            raise SweepInputError([f"{where}: expected [low, high], got {spec!r}"])
        low, high = float(spec[0]), float(spec[1])
        dist, mode = "uniform", None
    elif isinstance(spec, dict):
        dist = spec.get("dist", "uniform")
        if dist not in DISTRIBUTIONS:
            raise SweepInputError([f"{where}: distribution {dist!r} is not one of {', '.join(DISTRIBUTIONS)} "
                                   "(bounded: a sensitivity input needs a range)"])
        needed = ["low", "high", *(["mode"] if dist == "triangular" else [])]
        missing = [k for k in needed if not _number(spec.get(k))]
        extra = sorted(set(spec) - {"dist", *needed})
        if missing or extra:
            raise SweepInputError([f"{where}: {dist} needs numbers {', '.join(needed)}"
                                   + (f"; unknown: {', '.join(extra)}" if extra else "")])
        low, high = float(spec["low"]), float(spec["high"])
        mode = float(spec["mode"]) if dist == "triangular" else None
    else:
        raise SweepInputError([f"{where}: expected [low, high] or {{dist: uniform|triangular, ...}}, got {spec!r}"])
    if not low < high:
        raise SweepInputError([f"{where}: low ({low:g}) must be below high ({high:g})"])
    if mode is not None and not low <= mode <= high:
        raise SweepInputError([f"{where}: mode {mode:g} is outside [{low:g}, {high:g}]"])
    return Input(parameter, low, high, dist, mode, origin)


def read_inputs(path: str | os.PathLike[str]) -> list[Input]:
    """Inputs from a YAML file: ``PATH: [low, high]`` lines (optionally under ``inputs:``).

    Raises :class:`SweepInputError` with every problem."""
    import yaml

    file = os.fspath(path)
    try:
        data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepInputError([f"{file}: cannot read the inputs file: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise SweepInputError([f"{file}: not valid YAML: {exc}"]) from None
    if isinstance(data, dict) and set(data) == {"inputs"}:
        data = data["inputs"]
    if not isinstance(data, dict) or not data:
        raise SweepInputError([f"{file}: expected a mapping of PATH: [low, high]"])
    inputs, problems = [], []
    for label, spec in data.items():
        try:
            inputs.append(parse_input(str(label), spec, file))
        except SweepInputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SweepInputError(problems)
    return inputs


def _combine(found: Mapping[str, Mapping[str, tuple[float, float, str]]], names: Sequence[str]) -> list[Input]:
    """Per scenario ``path → (low, high, origin)`` → inputs: a path with the same range in every
    scenario is one input of all of them; otherwise one input per scenario that has it."""
    paths: list[str] = []
    for name in names:
        paths.extend(p for p in found.get(name, {}) if p not in paths)
    inputs = []
    for path in paths:
        ranges = {name: found[name][path] for name in names if path in found.get(name, {})}
        values = {(low, high) for low, high, _ in ranges.values()}
        if len(ranges) == len(names) and len(values) == 1:
            low, high, origin = next(iter(ranges.values()))
            inputs.append(Input(Parameter(path), low, high, origin=origin))
        else:
            for name, (low, high, origin) in ranges.items():
                inputs.append(Input(Parameter(path, name if len(names) > 1 else None), low, high, origin=origin))
    return inputs


def marked_inputs(sources: Mapping[str, ScenarioSource], overrides: Sequence[str] = ()) -> list[Input]:
    """Inputs from ranges marked inline in the scenario files (``{value: V, range: [L, H]}``)."""
    from sim.scenario.ranges import load_ranges

    found: dict[str, dict[str, tuple[float, float, str]]] = {}
    for name, source in sources.items():
        if source.file.startswith("<"):
            continue
        found[name] = {r.dotted: (r.low, r.high, f"{r.file}:{r.line}") for r in load_ranges(source.file, overrides)}
    return _combine(found, list(sources))


def assumption_inputs(sources: Mapping[str, ScenarioSource], spread: float = 0.5) -> list[Input]:
    """Inputs from every number a scenario file marks ``# ASSUMPTION`` (on its line, or in a comment
    line just above a block), each ranging over ± ``spread`` of its value (probabilities and rates
    kept within 0..1; list items and zeros left out). Headcounts are left out too: they are the
    decision being compared (``salesim compare``), not an uncertain input, and a role's list of
    ``initial_tenure_months`` fixes how few reps it may have.

    The file's source map says where each value was written, so a scenario that ``extends:``
    another inherits its base's marks (:func:`sim.scenario.annotations.assumption_paths`)."""
    found: dict[str, dict[str, tuple[float, float, str]]] = {}
    for name, source in sources.items():
        if source.file.startswith("<"):
            continue
        marked = assumption_paths(source.document)
        resolved = source.base.resolved()
        found[name] = {}
        for path in marked:
            file, line = source.document.source_map[path]
            if any(isinstance(p, int) for p in path) or path[-1] == "headcount":
                continue
            value = _value(resolved, path)
            if not _number(value) or value == 0:
                continue
            low, high = sorted((value * (1 - spread), value * (1 + spread)))
            last = str(path[-1])
            if ("probability" in last or "rate" in last) and 0 <= value <= 1:
                low, high = max(0.0, low), min(1.0, high)
            if isinstance(value, int):
                low, high = float(math.floor(low)), float(math.ceil(high))
            low, high = float(f"{low:.12g}"), float(f"{high:.12g}")
            if low < high:
                found[name][".".join(map(str, path))] = (low, high, f"{file}:{line}")
    return _combine(found, list(sources))


def _value(data: Any, path: Sequence[str | int]) -> Any:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        else:
            return None
    return data


# --------------------------------------------------------------------------- results


@dataclass
class SensitivityResult:
    """What drives a KPI (or a paired difference).

    Attributes
    ----------
    tornado : DataFrame or None
        One row per input, sorted by |swing|: ``input, low, high, value_low, value_low_ci95_low,
        value_low_ci95_high, value_high, …, swing, swing_ci95_low, swing_ci95_high`` and ``base``
        (the response with every input as written).
    morris : DataFrame or None
        ``input, mu, mu_star, mu_star_conf, sigma`` (SALib), sorted by ``mu_star``; effects are
        per full range of the input.
    sobol : DataFrame or None
        ``input, S1, S1_conf, ST, ST_conf`` (SALib; ``_conf``: half-width of the bootstrap CI).
    evaluations : dict
        Method → KPI table of every point, scenario and replication.
    """

    metric: str
    scenarios: list[str]
    inputs: list[Input]
    reps: int
    seed: int
    tornado: pd.DataFrame | None = None
    morris: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    evaluations: dict[str, pd.DataFrame] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    out: Path | None = None

    @property
    def target(self) -> str:
        """What the analysis is about, in words: ``exit_arr_usd`` or ``exit_arr_usd, pod − silo``."""
        if len(self.scenarios) >= 2:
            return f"{self.metric}, {self.scenarios[1]} − {self.scenarios[0]}"
        return self.metric

    def table(self) -> pd.DataFrame:
        """Every method's figures in one long table: ``method, input, statistic, value``."""
        import pandas as pd

        parts = []
        for method, frame in (("tornado", self.tornado), ("morris", self.morris), ("sobol", self.sobol)):
            if frame is None:
                continue
            long = frame.melt(id_vars=["input"], var_name="statistic", value_name="value")
            long.insert(0, "method", method)
            rank = {name: i + 1 for i, name in enumerate(frame["input"])}
            long.insert(2, "rank", long["input"].map(rank))
            parts.append(long)
        if not parts:
            return pd.DataFrame(columns=["method", "input", "rank", "statistic", "value"])
        return pd.concat(parts, ignore_index=True)


def _responses(kpis: pd.DataFrame, scenarios: Sequence[str], metric: str, n_points: int) -> np.ndarray:
    """Points × replications of the response: the KPI, or the paired difference second − first."""
    first = kpis[kpis["scenario"] == scenarios[0]].pivot(index="point", columns="rep", values=metric)
    if len(scenarios) >= 2:
        second = kpis[kpis["scenario"] == scenarios[1]].pivot(index="point", columns="rep", values=metric)
        reps = first.columns.intersection(second.columns)
        table = second[reps] - first[reps]
    else:
        table = first
    return table.reindex(range(n_points)).to_numpy(float)


def _run_points(sources, inputs, points, reps, seed, runner, out, overwrite, progress, chunk_size, kind, integer
                ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    parameters = [i.parameter for i in inputs]
    texts = {i.label: f"{i.origin}: {i.label}" if i.origin else i.label for i in inputs}
    design, built = make_design(sources, parameters, points, texts, integer)
    folder = out / kind if out is not None else None
    evaluation = evaluate(sources, design, built, reps, seed, runner, folder, overwrite, progress, chunk_size,
                          kind=kind)
    return evaluation.kpis, evaluation.failures


def _round(inputs: Sequence[Input], integer: Mapping[str, bool], values: np.ndarray) -> list[dict[str, float]]:
    points = []
    for row in np.atleast_2d(values):
        points.append({i.label: float(round(v)) if integer.get(i.label) else float(f"{v:.12g}")
                       for i, v in zip(inputs, row, strict=True)})
    return points


def _salib_problem(inputs: Sequence[Input]) -> dict[str, Any]:
    return {"num_vars": len(inputs), "names": [i.label for i in inputs], "bounds": [[0.0, 1.0]] * len(inputs)}


def _salib():
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise SweepInputError(['Morris and Sobol need SALib: pip install "salesim[sensitivity]"']) from None


def sensitivity(
    scenarios: Any,
    inputs: Sequence[Input] | None = None,
    *,
    methods: Sequence[str] = ("tornado",),
    metric: str = "exit_arr_usd",
    reps: int = 20,
    seed: int = DEFAULT_SEED,
    overrides: Sequence[str] = (),
    trajectories: int = 10,
    levels: int = 4,
    sobol_n: int = 64,
    sobol_inputs: int | Sequence[str] | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: bool | None = False,
    chunk_size: int | None = None,
) -> SensitivityResult:
    """Sensitivity of ``metric`` (or, with two scenarios, of their paired difference) to ``inputs``.

    Parameters
    ----------
    scenarios : path, Scenario, sequence or mapping
        One scenario, or two (the response is then second − first, paired by replication).
    inputs : sequence of Input, optional
        Default: the ranges marked inline in the scenario files.
    methods : subset of ("tornado", "morris", "sobol")
    trajectories, levels : int
        Morris: ``r`` trajectories (``r (k + 1)`` points) on a ``levels``-level grid.
    sobol_n : int
        Sobol: base sample size ``N`` (``N (k + 2)`` points; a power of two).
    sobol_inputs : int or list of labels, optional
        Sobol only over these inputs (or the ``n`` first by Morris μ*, else by tornado swing);
        the others stay as written. Default: every input.
    reps, seed, overrides, workers, executor, out, overwrite, progress, chunk_size
        As for :func:`sim.runs.sweep.sweep`; one executor serves every method.
    """
    if metric not in KPI_NAMES:
        raise SweepInputError([f"--metric {metric!r} is not a KPI (KPIs: {', '.join(KPI_NAMES)})"])
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise SweepInputError([f"--method: {', '.join(unknown) or 'none'}; choose from {', '.join(METHODS)}"])
    if reps < 1:
        raise SweepInputError([f"--reps must be at least 1 (got {reps})"])
    sources = load_sources(scenarios, overrides)
    if len(sources) > 2:
        raise SweepInputError(["sensitivity takes one scenario, or two (their paired difference)"])
    if inputs is None:
        inputs = marked_inputs(sources, overrides)
    inputs = list(inputs)
    if not inputs:
        raise SweepInputError(["no uncertain inputs: pass --inputs FILE (PATH: [low, high] lines), mark fields "
                               "in the scenario ({value: V, range: [LOW, HIGH]}), or use --assumptions"])
    if ("morris" in methods or "sobol" in methods):
        _salib()
    names = list(sources)
    # check every input at its ends before anything runs
    ends = [{i.label: i.low} for i in inputs] + [{i.label: i.high} for i in inputs]
    texts = {i.label: f"{i.origin}: {i.label}" if i.origin else i.label for i in inputs}
    integer = check_inputs(sources, [i.parameter for i in inputs],
                                {i.label: [i.low, i.high] for i in inputs}, texts)
    make_design(sources, [i.parameter for i in inputs], ends, texts, integer)
    out_path = Path(out) if out is not None else None
    result = SensitivityResult(metric, names, inputs, reps, seed, out=out_path)
    common = dict(runner=None, out=out_path, overwrite=overwrite, progress=progress, chunk_size=chunk_size)
    with Runner(workers, executor) as runner:
        common["runner"] = runner
        if "tornado" in methods:
            result.tornado, kpis = _tornado(sources, inputs, reps, seed, metric, integer, common)
            result.evaluations["tornado"] = kpis
        if "morris" in methods:
            result.morris, kpis = _morris(sources, inputs, reps, seed, metric, integer, trajectories, levels, common)
            result.evaluations["morris"] = kpis
        if "sobol" in methods:
            chosen = _sobol_inputs(inputs, sobol_inputs, result)
            result.sobol, kpis = _sobol(sources, chosen, reps, seed, metric, integer, sobol_n, common)
            result.evaluations["sobol"] = kpis
    if out_path is not None:
        from sim.runs.store import write_csv, write_json

        write_csv(out_path / "sensitivity.csv", result.table())
        write_json(out_path / SENSITIVITY_FILE, {
            "salesim_sensitivity": 1, "metric": metric, "scenarios": names, "seed": seed, "reps": reps,
            "methods": [m for m in METHODS if m in methods],
            "inputs": [{"input": i.label, "low": i.low, "high": i.high, "dist": i.dist, "mode": i.mode,
                        "origin": i.origin} for i in inputs],
        })
    return result


def _execute(sources, inputs, points, reps, seed, integer, common, kind):
    kpis, failures = _run_points(sources, inputs, points, reps, seed, common["runner"], common["out"],
                                 common["overwrite"], common["progress"], common["chunk_size"], kind, integer)
    return kpis, failures


def _tornado(sources, inputs, reps, seed, metric, integer, common):
    import pandas as pd

    from sim.runs import stats

    points: list[dict[str, float]] = [{}]
    for i in inputs:
        points.append({i.label: i.low})
        points.append({i.label: i.high})
    kpis, _ = _execute(sources, inputs, points, reps, seed, integer, common, "tornado")
    y = _responses(kpis, list(sources), metric, len(points))
    base = stats.mean_ci(y[0])
    rows = []
    for n, i in enumerate(inputs):
        lo, hi = y[1 + 2 * n], y[2 + 2 * n]
        m_lo, m_hi = stats.mean_ci(lo), stats.mean_ci(hi)
        swing = stats.mean_ci(hi - lo)
        rows.append({
            "input": i.label, "low": i.low, "high": i.high, "base": base[0],
            "value_low": m_lo[0], "value_low_ci95_low": m_lo[1], "value_low_ci95_high": m_lo[2],
            "value_high": m_hi[0], "value_high_ci95_low": m_hi[1], "value_high_ci95_high": m_hi[2],
            "swing": swing[0], "swing_ci95_low": swing[1], "swing_ci95_high": swing[2],
        })
    table = pd.DataFrame(rows)
    order = table["swing"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True), kpis


def _morris(sources, inputs, reps, seed, metric, integer, trajectories, levels, common):
    import pandas as pd
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = _salib_problem(inputs)
    unit = morris_sample.sample(problem, N=trajectories, num_levels=levels, seed=seed % (2**32))
    values = np.column_stack([i.ppf(unit[:, n]) for n, i in enumerate(inputs)])
    points = _round(inputs, integer, values)
    kpis, _ = _execute(sources, inputs, points, reps, seed, integer, common, "morris")
    y = np.nanmean(_responses(kpis, list(sources), metric, len(points)), axis=1)
    found = morris_analyze.analyze(problem, unit, y, num_levels=levels, conf_level=0.95, num_resamples=1000,
                                   seed=seed % (2**32))
    table = pd.DataFrame({"input": [i.label for i in inputs], "mu": found["mu"], "mu_star": found["mu_star"],
                          "mu_star_conf": found["mu_star_conf"], "sigma": found["sigma"]})
    return table.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True), kpis


def _sobol_inputs(inputs, chosen, result) -> list[Input]:
    if chosen is None:
        return list(inputs)
    if isinstance(chosen, int):
        ranking = result.morris if result.morris is not None else result.tornado
        if ranking is None:
            return list(inputs)[:chosen]
        order = list(ranking["input"])
        return sorted(inputs, key=lambda i: order.index(i.label))[:chosen]
    by_label = {i.label: i for i in inputs}
    missing = [c for c in chosen if c not in by_label]
    if missing:
        raise SweepInputError([f"--sobol-inputs: {', '.join(missing)} is not an input"])
    return [by_label[c] for c in chosen]


def _sobol(sources, inputs, reps, seed, metric, integer, n, common):
    import pandas as pd
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    problem = _salib_problem(inputs)
    unit = sobol_sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed % (2**32))
    values = np.column_stack([i.ppf(unit[:, k]) for k, i in enumerate(inputs)])
    points = _round(inputs, integer, values)
    kpis, _ = _execute(sources, inputs, points, reps, seed, integer, common, "sobol")
    y = np.nanmean(_responses(kpis, list(sources), metric, len(points)), axis=1)
    found = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=0.95, num_resamples=1000,
                                  seed=seed % (2**32))
    table = pd.DataFrame({"input": [i.label for i in inputs], "S1": found["S1"], "S1_conf": found["S1_conf"],
                          "ST": found["ST"], "ST_conf": found["ST_conf"]})
    return table.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True), kpis
