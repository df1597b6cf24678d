"""Parameter sweeps under common random numbers: many points, every scenario, one pool.

This module owns :func:`sweep` and the machinery that sensitivity analysis
(:mod:`sim.runs.sensitivity`) shares with it:

* **parameters** — a field path, optionally of one scenario only (``pod:org.pod_handoff.
  leakage_probability``), checked against the scenario before anything runs (unknown field with
  "did you mean", a number field, values the schema allows);
* **designs** — a full grid (``--vary PATH=LOW:HIGH:STEP``, several ``--vary`` multiply) or a Latin
  hypercube of ``points`` points (:func:`grid_design`, :func:`lhs_design`);
* **evaluation** — :func:`evaluate` runs ``reps`` replications of every scenario at every point
  with the same seed, so replication ``r`` sees the same market everywhere and every difference
  (between points, between scenarios) is paired. A point's scenario is the file with the point's
  values applied as ``--set`` overrides, exactly as ``salesim run --set`` would build it, so a
  point's numbers equal those of a separate run. The work goes to ONE executor for the whole
  sweep as chunks of replications (:func:`sim.runs.replication.run_chunk`), tapered at the end
  so that the workers finish together. With ``out``, each (point, scenario) is a resumable
  results folder ``out/points/<k>/<scenario>/`` (:class:`~sim.runs.store.ResultsStore`): a
  killed sweep run again computes only what is missing.
* **break-even** — :meth:`SweepResult.break_even`: where the mean paired difference of two
  scenarios crosses zero along one parameter, interpolated between grid points (optionally
  refined by extra points), with a bootstrap confidence interval over replications.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import json
import math
import os
import shutil
import signal
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.metrics import KPI_NAMES
from sim.runs.executors import ExecutorError, default_workers, lost_worker, process_pool, stop_now
from sim.runs.monte_carlo import RunInterrupted, _progress_bar
from sim.runs.replication import DEFAULT_SEED, ChunkResult, chunk_tables, run_chunk, run_reps
from sim.runs.signals import Terminated, sigterm_interrupts
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_document
from sim.scenario.yamlio import Document, apply_overrides, load_document

if TYPE_CHECKING:
    import pandas as pd

SWEEP_FILE = "sweep.json"
POINTS_DIR = "points"
MAX_POINTS = 20_000
SUMMARY_COLUMNS = (
    "point", "scenario", "metric", "n", "mean", "ci95_low", "ci95_high", "baseline", "diff_mean",
    "diff_ci95_low", "diff_ci95_high", "p_better",
)
"""Columns of :meth:`SweepResult.summary` after the point's parameter columns (which follow ``point``)."""


class SweepInputError(Exception):
    """Bad sweep input (a path, a range, a step, a metric), found before any replication runs.
    One message per problem, for people."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """A scenario field a sweep or a sensitivity analysis varies.

    ``scenario`` None: the field of every scenario (like ``--set``); a name: of that scenario only.
    """

    path: str
    scenario: str | None = None

    @property
    def label(self) -> str:
        return f"{self.scenario}:{self.path}" if self.scenario else self.path

    @classmethod
    def parse(cls, text: str) -> Parameter:
        """``PATH`` or ``SCENARIO:PATH``."""
        name, sep, path = text.partition(":")
        if sep:
            return cls(path.strip(), name.strip())
        return cls(text.strip())

    def applies_to(self, scenario: str) -> bool:
        return self.scenario is None or self.scenario == scenario


@dataclass(frozen=True)
class Vary:
    """One ``--vary``: a parameter and its range (``LOW:HIGH:STEP``, ``LOW:HIGH`` for a Latin
    hypercube, or a list of values ``A,B,C``)."""

    parameter: Parameter
    low: float
    high: float
    step: float | None = None
    values: tuple[float, ...] | None = None
    text: str = ""

    @property
    def label(self) -> str:
        return self.parameter.label

    @classmethod
    def parse(cls, text: str) -> Vary:
        """Parse ``[SCENARIO:]PATH=LOW:HIGH[:STEP]`` or ``[SCENARIO:]PATH=A,B,C``.

        Raises
        ------
        SweepInputError
            Naming the ``--vary`` and what is wrong (no ``=``, not numbers, a step of zero or
            below, LOW above HIGH).
        """
        where = f"--vary {text}"
        raw_path, sep, spec = text.partition("=")
        if not sep or not raw_path.strip() or not spec.strip():
            raise SweepInputError([f"{where}: expected PATH=LOW:HIGH:STEP (e.g. handoff.leakage_probability="
                                   "0.02:0.14:0.02), PATH=LOW:HIGH with --design lhs, or PATH=A,B,C"])
        parameter = Parameter.parse(raw_path)
        if not parameter.path or (parameter.scenario is not None and not parameter.scenario):
            raise SweepInputError([f"{where}: empty field path"])
        try:
            if "," in spec:
                values = tuple(float(v) for v in spec.split(",") if v.strip())
                if not values:
                    raise ValueError
                return cls(parameter, min(values), max(values), None, tuple(sorted(set(values))), text)
            parts = [float(p) for p in spec.split(":")]
        except ValueError:
            raise SweepInputError([f"{where}: LOW, HIGH and STEP must be numbers, got {spec!r}"]) from None
        if len(parts) not in (2, 3):
            raise SweepInputError([f"{where}: expected LOW:HIGH:STEP or LOW:HIGH, got {spec!r}"])
        if not all(math.isfinite(p) for p in parts):
            raise SweepInputError([f"{where}: LOW, HIGH and STEP must be finite numbers"])
        low, high = parts[0], parts[1]
        step = parts[2] if len(parts) == 3 else None
        if low > high:
            raise SweepInputError([f"{where}: LOW ({low:g}) is above HIGH ({high:g})"])
        if step is not None and step <= 0:
            raise SweepInputError([f"{where}: STEP must be above zero (got {step:g})"])
        return cls(parameter, low, high, step, None, text)

    def grid_values(self) -> list[float]:
        """The grid: LOW, LOW + STEP, … up to HIGH (HIGH included when the steps reach it)."""
        if self.values is not None:
            return list(self.values)
        if self.step is None:
            raise SweepInputError([f"--vary {self.text}: a grid needs a STEP (PATH=LOW:HIGH:STEP), or use "
                                   "--design lhs --points N"])
        n = math.floor((self.high - self.low) / self.step + 1e-9)
        if n + 1 > MAX_POINTS:
            raise SweepInputError([f"--vary {self.text}: {n + 1:,} values; at most {MAX_POINTS:,}"])
        return [_tidy(self.low + i * self.step) for i in range(n + 1)]


def _tidy(value: float) -> float:
    """A grid value without binary noise (0.1 + 2 × 0.1 → 0.3), as a person would type it."""
    return float(f"{value:.12g}")


def yaml_number(value: float, integer: bool = False) -> str:
    """A number as ``--set`` text that YAML reads back as the same number (``1e-05`` is a
    string to YAML; ``1.0e-05`` a float)."""
    if integer:
        return str(round(value))
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    return text


# --------------------------------------------------------------------------- scenarios


@dataclass
class ScenarioSource:
    """A scenario file (or a Scenario), loaded once; :meth:`build` makes a point's scenario from
    it as ``load_scenario(file, overrides + point)`` would, without reading the file again."""

    name: str
    file: str
    base: Scenario
    document: Document

    @classmethod
    def load(cls, source: Scenario | str | os.PathLike[str], overrides: Sequence[str] = (),
             name: str | None = None) -> ScenarioSource:
        """Raises :class:`ScenarioError` with every problem of the file."""
        if isinstance(source, Scenario):
            data = source.resolved()
            doc = Document(data=data, source_map={}, file=f"<{source.name}>", files=[])
            if overrides:
                doc = apply_overrides(doc, list(overrides))
            base = scenario_from_document(doc)
            return cls(name or base.name, doc.file, base, doc)
        file = os.fspath(source)
        base = load_scenario(file, list(overrides))  # reports every problem of the file
        doc = load_document(file)
        if overrides:
            doc = apply_overrides(doc, list(overrides))
        return cls(name or base.name, file, base, doc)

    def build(self, assignments: Sequence[tuple[str, str]]) -> Scenario:
        """The scenario with ``(path, yaml text)`` assignments applied (``--set`` semantics)."""
        if not assignments:
            return self.base
        doc = apply_overrides(self.document, [f"{path}={text}" for path, text in assignments])
        return scenario_from_document(doc)


def load_sources(scenarios: Any, overrides: Sequence[str] = ()) -> dict[str, ScenarioSource]:
    """Scenarios as a mapping name → file/Scenario/ScenarioSource, or a sequence; every problem of every file
    reported together (:class:`ScenarioError`); names must differ; horizons must match."""
    from sim.runs.comparison import check_comparable
    from sim.scenario.yamlio import Problem

    items = scenarios.items() if isinstance(scenarios, Mapping) else [(None, s) for s in (
        [scenarios] if isinstance(scenarios, str | os.PathLike | Scenario) else scenarios)]
    sources: dict[str, ScenarioSource] = {}
    problems: list[Problem] = []
    for key, value in items:
        if isinstance(value, ScenarioSource):  # loaded already (its overrides applied)
            sources[key or value.name] = value
            continue
        try:
            source = ScenarioSource.load(value, overrides, name=key)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if source.name in sources:
            problems.append(Problem(source.file, None, "name",
                                    f"scenario name {source.name!r} is also used by {sources[source.name].file}; "
                                    "scenarios swept together need different names"))
            continue
        sources[source.name] = source
    if problems:
        raise ScenarioError(problems)
    if not sources:
        raise SweepInputError(["no scenario given"])
    check_comparable({n: s.base for n, s in sources.items()}, {n: s.file for n, s in sources.items()})
    return sources


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a distribution" if "dist" in value else "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a yes/no field ({str(value).lower()})"
    if isinstance(value, str):
        return f"a text field ({value!r})"
    return type(value).__name__


def check_parameter(source: ScenarioSource, parameter: Parameter) -> tuple[bool | None, str | None]:
    """Check that ``parameter`` names a number field of ``source``.

    Returns ``(integer, problem)``: whether the field holds whole numbers (None when the path
    lies under a block the scenario leaves unset, e.g. ``org.pod_handoff`` in a silo: then the
    schema decides when a value is applied), and a message for people or None.
    """
    node: Any = source.base.resolved()
    walked: list[str] = []
    where = f"{source.file}: {parameter.path}"
    for component in parameter.path.split("."):
        if node is None:
            return None, None
        if isinstance(node, dict):
            if component not in node:
                inside = ".".join(walked) or "the scenario"
                hint = difflib.get_close_matches(component, [str(k) for k in node], n=1)
                suggestion = f"; did you mean '{'.'.join([*walked, hint[0]])}'?" if hint else (
                    f"; it has: {', '.join(map(str, node))}" if node else "")
                return None, f"{where}: no field '{component}' in {inside}{suggestion}"
            node = node[component]
        elif isinstance(node, list):
            if not component.isdigit() or int(component) >= len(node):
                return None, (f"{where}: '{'.'.join(walked)}' is a list of {len(node)}; use an index from 0 to "
                              f"{len(node) - 1} instead of '{component}'")
            node = node[int(component)]
        else:
            return None, f"{where}: '{'.'.join(walked)}' is a number, it has no field '{component}'"
        walked.append(component)
    if node is None:
        return None, None
    if isinstance(node, bool) or not isinstance(node, int | float):
        hint = ""
        if isinstance(node, dict) and "dist" in node:
            numbers = [k for k, v in node.items() if isinstance(v, int | float) and not isinstance(v, bool)]
            hint = f"; vary one of its numbers, e.g. {parameter.path}.{numbers[0]}" if numbers else ""
        elif isinstance(node, dict):
            hint = f"; choose one of its fields: {', '.join(node)}"
        elif isinstance(node, list) and node:
            hint = f"; vary one item, e.g. {parameter.path}.0"
        return None, f"{where}: not a number field (it is {_describe(node)}){hint}"
    return isinstance(node, int), None


def _value_at(data: Any, path: str) -> Any:
    for component in path.split("."):
        if isinstance(data, list):
            data = data[int(component)]
        elif isinstance(data, dict):
            data = data.get(component)
        else:
            return None
    return data


@dataclass(frozen=True)
class Design:
    """Points to evaluate: ``points[k]`` maps each parameter's label to its value at point ``k``
    (a parameter missing from a point keeps the scenario's own value there)."""

    parameters: tuple[Parameter, ...]
    points: tuple[dict[str, float], ...]
    integer: dict[str, bool] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.parameters]

    def assignments(self, k: int, scenario: str) -> list[tuple[str, str]]:
        """``(path, yaml text)`` of point ``k`` for ``scenario``."""
        point = self.points[k]
        return [(p.path, yaml_number(point[p.label], self.integer.get(p.label, False)))
                for p in self.parameters if p.applies_to(scenario) and point.get(p.label) is not None]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(list(self.points), columns=self.labels)
        frame.insert(0, "point", np.arange(len(self.points), dtype=np.int64))
        return frame


def check_inputs(sources: Mapping[str, ScenarioSource], parameters: Sequence[Parameter],
                 extremes: Mapping[str, Sequence[float]], texts: Mapping[str, str]) -> dict[str, bool]:
    """Check every parameter against every scenario it applies to, at its extreme values;
    return label → integer field. Raises :class:`SweepInputError` with every problem."""
    problems: list[str] = []
    integer: dict[str, bool] = {}
    labels = [p.label for p in parameters]
    for label in {x for x in labels if labels.count(x) > 1}:
        problems.append(f"{texts[label]}: {label} is given twice")
    for parameter in parameters:
        where = texts[parameter.label]
        if parameter.scenario is not None and parameter.scenario not in sources:
            hint = difflib.get_close_matches(parameter.scenario, list(sources), n=1)
            problems.append(f"{where}: no scenario named {parameter.scenario!r} (scenarios: {', '.join(sources)})"
                            + (f"; did you mean '{hint[0]}'?" if hint else ""))
            continue
        kinds: set[bool] = set()
        path_problem = False
        for name, source in sources.items():
            if not parameter.applies_to(name):
                continue
            kind, problem = check_parameter(source, parameter)
            if problem:
                problems.append(f"{where}: {problem}")
                path_problem = True
            elif kind is not None:
                kinds.add(kind)
        if path_problem:
            continue
        is_int = True in kinds
        if is_int:
            off = [v for v in extremes[parameter.label] if v != round(v)]
            if off:
                problems.append(f"{where}: {parameter.path} holds whole numbers; got {off[0]:g}")
                continue
        integer[parameter.label] = is_int
        for name, source in sources.items():
            if not parameter.applies_to(name):
                continue
            for value in extremes[parameter.label]:
                text = yaml_number(value, is_int)
                try:
                    built = source.build([(parameter.path, text)])
                except ScenarioError as exc:
                    first = exc.problems[0]
                    problems.append(f"{where}: at {text}, {source.file}: {first.path or parameter.path}: "
                                    f"{first.message}")
                    break
                if not kinds:  # the path lay under an unset block: now it is set, check its kind
                    held = _value_at(built.resolved(), parameter.path)
                    if isinstance(held, bool) or not isinstance(held, int | float):
                        problems.append(f"{where}: {source.file}: {parameter.path}: not a number field "
                                        f"(it is {_describe(held)})")
                        break
    if problems:
        raise SweepInputError(problems)
    return integer


def grid_design(varies: Sequence[Vary]) -> list[dict[str, float]]:
    """Every combination of the varies' grid values (the first varies slowest)."""
    grids = [v.grid_values() for v in varies]
    total = math.prod(len(g) for g in grids)
    if total > MAX_POINTS:
        raise SweepInputError([f"the grid has {total:,} points; at most {MAX_POINTS:,} (use --design lhs --points N)"])
    return [dict(zip([v.label for v in varies], combo, strict=True)) for combo in itertools.product(*grids)]


def lhs_design(varies: Sequence[Vary], points: int, seed: int, integer: Mapping[str, bool] | None = None
               ) -> list[dict[str, float]]:
    """A Latin hypercube of ``points`` points over the varies' [LOW, HIGH] (seeded; whole-number
    fields rounded)."""
    from scipy.stats import qmc

    if points < 1:
        raise SweepInputError(["--points must be at least 1"])
    unit = qmc.LatinHypercube(d=len(varies), seed=np.random.default_rng([seed, 0x5EE9])).random(points)
    out = []
    for row in unit:
        point = {}
        for v, u in zip(varies, row, strict=True):
            value = v.low + float(u) * (v.high - v.low)
            point[v.label] = float(round(value)) if (integer or {}).get(v.label) else _tidy(value)
        out.append(point)
    return out


def make_design(sources: Mapping[str, ScenarioSource], parameters: Sequence[Parameter],
                points: Sequence[Mapping[str, float]], texts: Mapping[str, str] | None = None,
                integer: Mapping[str, bool] | None = None) -> tuple[Design, dict[tuple[int, str], Scenario]]:
    """Check ``parameters`` and build every point's scenarios, before anything runs.

    Returns the design and (point, scenario) → Scenario. Raises :class:`SweepInputError` with
    every problem (unknown path, non-number field, a value the schema refuses).
    """
    texts = dict(texts or {p.label: p.label for p in parameters})
    if integer is None:
        extremes = {p.label: sorted({v for v in (pt.get(p.label) for pt in points) if v is not None})
                    for p in parameters}
        extremes = {label: values[:1] + values[-1:] for label, values in extremes.items()}
        integer = check_inputs(sources, parameters, extremes, texts)
    design = Design(tuple(parameters), tuple(dict(p) for p in points), dict(integer))
    built: dict[tuple[int, str], Scenario] = {}
    problems: list[str] = []
    cache: dict[tuple, Scenario] = {}
    for k in range(len(design.points)):
        for name, source in sources.items():
            assignments = design.assignments(k, name)
            key = (name, tuple(assignments))
            if key not in cache:
                try:
                    cache[key] = source.build(assignments)
                except ScenarioError as exc:
                    if len(problems) < 5:
                        values = ", ".join(f"{p}={t}" for p, t in assignments)
                        problems.append(f"point {k} ({values}): " + "; ".join(
                            f"{source.file}: {p.path}: {p.message}" for p in exc.problems[:3]))
                    continue
            built[(k, name)] = cache[key]
    if problems:
        raise SweepInputError(problems)
    return design, built


# --------------------------------------------------------------------------- evaluation


class Runner:
    """One executor for a whole sweep or sensitivity analysis: the caller's, a local process pool
    made on first use and kept until :meth:`close`, or this process (``workers=1``)."""

    def __init__(self, workers: int | None = None, executor: Executor | None = None) -> None:
        if workers is not None and workers < 1:
            raise ExecutorError(f"--workers must be at least 1 (got {workers})")
        self.workers = workers or default_workers()
        self.executor = executor
        self._own: Executor | None = None

    @property
    def in_process(self) -> bool:
        return self.executor is None and self.workers == 1

    def pool(self) -> Executor:
        if self.executor is not None:
            return self.executor
        if self._own is None:
            self._own = process_pool(self.workers)
        return self._own

    def stop(self) -> None:
        """Stop an own pool at once (Ctrl-C, a lost worker)."""
        if self._own is not None:
            stop_now(self._own)  # type: ignore[arg-type]
            self._own = None

    def close(self) -> None:
        if self._own is not None:
            self._own.shutdown(wait=True, cancel_futures=True)
            self._own = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _tasks(todo: Sequence[tuple[Any, list[int]]], workers: int, size: int | None) -> Iterator[tuple[Any, list[int]]]:
    """Chunks of each job's missing replications, at most ``size`` each, tapering at the end
    over the whole sweep (each at most 1 / (2 × workers) of what remains), so that the workers
    finish together."""
    total = sum(len(reps) for _, reps in todo)
    size = size or max(1, min(25, math.ceil(total / max(1, workers * 8))))
    remaining = total
    for job, reps in todo:
        i = 0
        while i < len(reps):
            k = min(size, max(1, math.ceil(remaining / (2 * workers))), len(reps) - i)
            yield job, reps[i:i + k]
            i += k
            remaining -= k


@dataclass
class Evaluation:
    """KPIs of every (point, scenario, replication) of a design."""

    kpis: pd.DataFrame
    failures: list[dict[str, Any]]


def _check_folder(out: Path, spec: dict[str, Any], overwrite: bool) -> None:
    """The sweep folder holds this sweep (same scenarios, seed, parameters, and points where both
    have them), is new, or is replaced with ``overwrite``."""
    from sim.runs.store import StoreError, write_json

    path = out / SWEEP_FILE
    existing = None
    if out.exists() and not out.is_dir():
        raise StoreError(f"cannot write the sweep to {out}: it is a file, not a folder")
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            if not overwrite:
                raise StoreError(f"{path}: unreadable ({exc}); pass --overwrite to replace the folder") from None
    elif out.exists() and any(out.iterdir()):
        raise StoreError(f"{out} is not empty and is not a salesim sweep folder (no {SWEEP_FILE}); "
                         "choose another --out folder.")
    if overwrite and path.exists():
        shutil.rmtree(out)
        existing = None
    if existing is not None:
        same = {key: existing.get(key) == spec[key] for key in ("kind", "seed", "scenarios", "parameters")}
        old, new = existing.get("points", []), spec["points"]
        n = min(len(old), len(new))
        if not all(same.values()) or old[:n] != new[:n]:
            differs = [k for k, ok in same.items() if not ok] or ["points"]
            raise StoreError(f"{out} holds another sweep (different {', '.join(differs)}). Choose another --out "
                             "folder, or pass --overwrite to replace it.")
        if len(old) > len(new):
            spec = {**spec, "points": old}
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_json(path, spec)
    except OSError as exc:
        raise StoreError(f"cannot write the sweep to {out}: {exc.strerror or exc}") from None


def evaluate(
    sources: Mapping[str, ScenarioSource],
    design: Design,
    scenarios: Mapping[tuple[int, str], Scenario],
    reps: int,
    seed: int,
    runner: Runner,
    out: Path | None = None,
    overwrite: bool = False,
    progress: bool | None = False,
    chunk_size: int | None = None,
    kind: str = "sweep",
    extra: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Run ``reps`` replications of every scenario at every point of ``design`` (seed ``seed``:
    common random numbers) on ``runner``; resumable in ``out``.

    Raises
    ------
    RunInterrupted
        On Ctrl-C, after stopping the pool; what finished is saved.
    ExecutorError, StoreError
        A worker died; a folder cannot be used.
    """
    import pandas as pd

    from sim.runs.store import ResultsStore

    if reps < 1:
        raise SweepInputError([f"--reps must be at least 1 (got {reps})"])
    jobs = [(k, name) for k in range(len(design.points)) for name in sources]
    stores: dict[tuple[int, str], ResultsStore] = {}
    opened: set[tuple[int, str]] = set()
    done_parts: list[pd.DataFrame] = []
    have_of: dict[tuple[int, str], set[int]] = {}
    if out is not None:
        spec = {
            "salesim_sweep": 1, "kind": kind, "seed": seed,
            "scenarios": {name: s.base.sha256() for name, s in sources.items()},
            "parameters": design.labels, "points": [dict(p) for p in design.points], **(extra or {}),
        }
        _check_folder(out, spec, overwrite)
    groups: dict[str, list[tuple[int, str]]] = {}  # identical scenarios (a field of another scenario varies) run once
    for job in jobs:
        k, name = job
        groups.setdefault(scenarios[job].sha256(), []).append(job)
        have: set[int] = set()
        if out is not None:
            store = ResultsStore(out / POINTS_DIR / f"{k:05d}" / name)
            stores[job] = store
            if store.folder.exists():
                store.open(scenarios[job], seed)  # checks it holds this scenario and seed; takes its lock
                try:
                    have = store.completed_reps() & set(range(reps))
                    if have:
                        kpis, _ = store.load_tables(sorted(have))
                        done_parts.append(kpis.assign(point=k, scenario=name))
                finally:
                    store.close()  # one folder open at a time per job still running, not hundreds
        have_of[job] = have
    remaining = {job: set(range(reps)) - have_of[job] for job in jobs}
    job_failures: dict[tuple[int, str], list[dict[str, Any]]] = {}
    todo: list[tuple[tuple[tuple[int, str], ...], list[int]]] = []
    for members in groups.values():
        missing = sorted(set().union(*(set(range(reps)) - have_of[j] for j in members)))
        if missing:
            todo.append((tuple(members), missing))
    total = reps * len(groups)
    finished = total - sum(len(r) for _, r in todo)
    new_parts: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []

    notes: dict[str, dict[str, Any] | None] = {}  # where each scenario's values were written (for reports)
    if out is not None:
        from sim.scenario.annotations import source_notes

        notes = {name: None if s.file.startswith("<") else source_notes(s.document) for name, s in sources.items()}

    def open_store(job: tuple[int, str]) -> Any:
        if job not in opened:
            stores[job].open(scenarios[job], seed, reps=reps, source=notes.get(job[1]))
            opened.add(job)
        return stores[job]

    def finish(job: tuple[int, str]) -> None:
        """Every replication of ``job`` is in: its manifest says so, and its folder is released."""
        store = open_store(job)
        failed = job_failures.get(job, [])
        store.update_manifest(status="failed" if failed else "complete", reps_requested=reps,
                              reps_completed=reps - len(failed), failures=failed)
        store.close()
        opened.discard(job)

    def collect(members: tuple[tuple[int, str], ...], chunk: ChunkResult) -> None:
        kpis, series = chunk_tables(chunk)
        covered = {int(r) for r in chunk.reps} | {int(f["rep"]) for f in chunk.failures}
        for job in members:
            k, name = job
            have = have_of[job]
            mine_k = kpis[~kpis["rep"].isin(have)] if have else kpis
            for failure in chunk.failures:
                if failure["rep"] not in have:
                    failures.append({"point": k, "scenario": name, **failure})
                    job_failures.setdefault(job, []).append(failure)
            if job in stores and not mine_k.empty:
                open_store(job).write_chunk(mine_k, series[~series["rep"].isin(have)] if have else series)
            new_parts.append(mine_k.assign(point=k, scenario=name))
            left = remaining[job]
            if left:
                left -= covered
                if not left and job in stores:
                    finish(job)

    if todo:
        bar = _progress_bar(sum(len(r) for _, r in todo), progress, kind)
        tasks = list(_tasks(todo, 1 if runner.in_process else runner.workers, chunk_size))
        signals = contextlib.ExitStack()
        signals.enter_context(sigterm_interrupts())  # SIGTERM stops a sweep as Ctrl-C does
        try:
            if runner.in_process:
                for members, chunk_reps in tasks:
                    collect(members, run_reps(scenarios[members[0]], seed, chunk_reps))
                    finished += len(chunk_reps)
                    bar.update(len(chunk_reps))
            else:
                pool = runner.pool()
                futures: dict[Future, tuple[tuple[tuple[int, str], ...], list[int]]] = {}
                data_of: dict[tuple[tuple[int, str], ...], dict[str, Any]] = {}
                for members, chunk_reps in tasks:
                    if members not in data_of:
                        data_of[members] = scenarios[members[0]].resolved()
                    futures[pool.submit(run_chunk, data_of[members], seed, chunk_reps)] = (members, chunk_reps)
                for future in as_completed(futures):
                    members, chunk_reps = futures[future]
                    collect(members, future.result())
                    finished += len(chunk_reps)
                    bar.update(len(chunk_reps))
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
            runner.stop()
            _mark(stores, opened, "interrupted", reps)
            signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
            raise RunInterrupted(finished, total, out, signum) from None
        except Exception as exc:
            if not lost_worker(exc):
                raise
            runner.stop()
            _mark(stores, opened, "interrupted", reps)
            where = f" in {out}" if out is not None else ""
            raise ExecutorError(
                f"a worker died ({type(exc).__name__}: {exc}); {finished} of {total} replications are saved{where}. "
                "Run the same command again to resume."
            ) from None
        finally:
            signals.close()
            bar.close()
            for job in list(opened):  # an exception left these open
                with contextlib.suppress(Exception):
                    stores[job].close()
                opened.discard(job)
    parts = [p for p in (*done_parts, *new_parts) if not p.empty]
    if parts:
        table = pd.concat(parts, ignore_index=True)
    else:
        table = pd.DataFrame(columns=["rep", *KPI_NAMES, "point", "scenario"])
    order = {name: i for i, name in enumerate(sources)}
    table = table.assign(_s=table["scenario"].map(order)).sort_values(["point", "_s", "rep"], kind="stable")
    table = table.drop(columns="_s")[["point", "scenario", "rep", *KPI_NAMES]].reset_index(drop=True)
    table["point"] = table["point"].astype(np.int64)
    table["rep"] = table["rep"].astype(np.int64)
    return Evaluation(table, sorted(failures, key=lambda f: (f["point"], order[f["scenario"]], f["rep"])))


def _mark(stores: Mapping[tuple[int, str], Any], opened: set[tuple[int, str]], status: str, reps: int) -> None:
    for job in list(opened):
        with contextlib.suppress(Exception):  # a folder that cannot be marked must not hide the interruption
            stores[job].update_manifest(status=status, reps_requested=reps)
        with contextlib.suppress(Exception):
            stores[job].close()
        opened.discard(job)


# --------------------------------------------------------------------------- results


def point_statistics(kpis: pd.DataFrame, scenarios: Sequence[str], metric: str, keys: Sequence[str] = ("point",)
                     ) -> pd.DataFrame:
    """Per point and scenario: n, mean, 95% CI; and for scenarios after the first the paired
    difference to the first (mean, 95% CI) and P(better)."""
    import pandas as pd

    from sim.runs import stats

    baseline = scenarios[0]
    rows = []
    higher = stats.higher_is_better(metric)
    for key, group in kpis.groupby(list(keys), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        base = group[group["scenario"] == baseline].set_index("rep")[metric]
        for name in scenarios:
            values = group[group["scenario"] == name].set_index("rep")[metric]
            mean, low, high = stats.mean_ci(values.to_numpy(float))
            row = {**dict(zip(keys, key, strict=True)), "scenario": name, "metric": metric,
                   "n": int(np.isfinite(values.to_numpy(float)).sum()), "mean": mean, "ci95_low": low,
                   "ci95_high": high, "baseline": baseline if len(scenarios) > 1 else None,
                   "diff_mean": math.nan, "diff_ci95_low": math.nan, "diff_ci95_high": math.nan,
                   "p_better": math.nan}
            if name != baseline:
                reps = base.index.intersection(values.index)
                a, b = base.loc[reps].to_numpy(float), values.loc[reps].to_numpy(float)
                diff = stats.paired_difference(a, b)
                row.update(diff_mean=diff.diff_mean, diff_ci95_low=diff.ci_low, diff_ci95_high=diff.ci_high,
                           p_better=stats.p_better(a, b, higher_is_better=higher))
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class BreakEven:
    """Where the paired difference ``scenario − baseline`` of ``metric`` crosses zero along
    ``parameter``.

    Attributes
    ----------
    value : float or None
        The crossing of the mean difference (linear interpolation between the two points that
        bracket it); None when the mean difference keeps one sign over the range.
    ci_low, ci_high : float or None
        Bootstrap confidence interval of the crossing (replications resampled together at every
        point, as they are paired); ``-inf``/``inf`` where the bootstrap crossing leaves the range
        in more than the tail share of resamples.
    crossings : list of float
        Every crossing of the mean difference (more than one: the difference is not monotone).
    sign_low : int
        Sign of the mean difference at the low end of the range (+1: the scenario is ahead in the
        metric's own terms there).
    undecided : list of float
        Parameter values at which the 95% CI of the difference contains zero.
    """

    parameter: str
    scenario: str
    baseline: str
    metric: str
    low: float
    high: float
    value: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    crossings: list[float]
    sign_low: int
    sign_high: int
    higher_is_better: bool
    undecided: list[float]
    curve: pd.DataFrame

    @property
    def better_below(self) -> str:
        """The scenario that does better (in the metric's own direction) below the crossing."""
        ahead = self.sign_low > 0 if self.higher_is_better else self.sign_low < 0
        return self.scenario if ahead else self.baseline

    @property
    def better_above(self) -> str:
        return self.baseline if self.better_below == self.scenario else self.scenario


def _crossings(x: np.ndarray, m: np.ndarray) -> list[float]:
    out: list[float] = []
    for i in range(len(x) - 1):
        a, b = m[i], m[i + 1]
        if a == 0.0 and (not out or out[-1] != x[i]):
            out.append(float(x[i]))
        elif a * b < 0:
            out.append(float(x[i] + (x[i + 1] - x[i]) * a / (a - b)))
    if len(m) and m[-1] == 0.0 and (not out or out[-1] != x[-1]):
        out.append(float(x[-1]))
    return out


def break_even(diffs: np.ndarray, x: np.ndarray, *, parameter: str, scenario: str, baseline: str, metric: str,
               confidence: float = 0.95, boot: int = 2000, seed: int = 0) -> BreakEven:
    """The break-even of a points × replications matrix of paired differences along ``x``."""
    import pandas as pd

    from sim.runs import stats

    order = np.argsort(x, kind="stable")
    x, diffs = np.asarray(x, float)[order], np.asarray(diffs, float)[order]
    keep = np.isfinite(diffs).all(axis=0)
    diffs = diffs[:, keep]
    m = diffs.mean(axis=1)
    cis = [stats.mean_ci(row, confidence) for row in diffs]
    crossings = _crossings(x, m)
    value = crossings[0] if len(crossings) == 1 else (float(np.median(crossings)) if crossings else None)
    sign_low, sign_high = int(np.sign(m[0])), int(np.sign(m[-1]))
    ci_low = ci_high = None
    if value is not None and diffs.shape[1] >= 2:
        rng = np.random.default_rng(seed)
        n = diffs.shape[1]
        samples = np.empty(boot)
        for b in range(boot):
            mb = diffs[:, rng.integers(0, n, n)].mean(axis=1)
            found = _crossings(x, mb)
            if found:
                samples[b] = min(found, key=lambda c: abs(c - value))
            else:  # one sign throughout: the crossing lies beyond the end whose sign it kept
                samples[b] = math.inf if np.sign(mb[0]) == sign_low else -math.inf
        tail = (1 - confidence) / 2
        ci_low = float(np.quantile(samples, tail, method="lower"))
        ci_high = float(np.quantile(samples, 1 - tail, method="higher"))
    curve = pd.DataFrame({parameter: x, "diff_mean": m, "diff_ci95_low": [c[1] for c in cis],
                          "diff_ci95_high": [c[2] for c in cis]})
    undecided = [float(v) for v, c in zip(x, cis, strict=True) if c[1] <= 0 <= c[2]]
    return BreakEven(parameter, scenario, baseline, metric, float(x[0]), float(x[-1]), value, ci_low, ci_high,
                     confidence, crossings, sign_low, sign_high, stats.higher_is_better(metric), undecided, curve)


@dataclass
class SweepResult:
    """A sweep: KPIs of every scenario at every point, paired across points and scenarios.

    Attributes
    ----------
    kpis : DataFrame
        ``point``, one column per parameter, ``scenario``, ``rep`` and every KPI.
    points : DataFrame
        ``point`` and the parameters' values.
    """

    kpis: pd.DataFrame
    points: pd.DataFrame
    parameters: list[str]
    scenarios: list[str]
    metric: str
    reps: int
    seed: int
    design: str
    failures: list[dict[str, Any]] = field(default_factory=list)
    out: Path | None = None
    refined: list[int] = field(default_factory=list)

    @property
    def baseline(self) -> str:
        return self.scenarios[0]

    def summary(self, metric: str | None = None) -> pd.DataFrame:
        """Per point and scenario: mean and 95% CI of ``metric``; with two or more scenarios the
        paired difference to the first (mean, 95% CI) and P(better)."""
        metric = metric or self.metric
        table = point_statistics(self.kpis, self.scenarios, metric)
        table = self.points.merge(table, on="point")
        return table[["point", *self.parameters, *SUMMARY_COLUMNS[1:]]]

    def differences(self, metric: str | None = None, scenario: str | None = None) -> pd.DataFrame:
        """Point × replication table of the paired difference ``scenario − baseline``."""
        metric = metric or self.metric
        scenario = scenario or self._other()
        k = self.kpis
        base = k[k["scenario"] == self.baseline].pivot(index="point", columns="rep", values=metric)
        other = k[k["scenario"] == scenario].pivot(index="point", columns="rep", values=metric)
        reps = base.columns.intersection(other.columns)
        return other[reps] - base[reps]

    def _other(self) -> str:
        if len(self.scenarios) < 2:
            raise ValueError("a break-even needs two scenarios (the difference of the second to the first)")
        return self.scenarios[1]

    def break_even(self, metric: str | None = None, scenario: str | None = None, parameter: str | None = None,
                   confidence: float = 0.95, boot: int = 2000) -> BreakEven:
        """Where ``scenario − baseline`` of ``metric`` crosses zero along ``parameter`` (default:
        the only parameter), with a bootstrap confidence interval over replications."""
        metric = metric or self.metric
        scenario = scenario or self._other()
        if parameter is None:
            if len(self.parameters) != 1:
                raise ValueError("a break-even needs one varied parameter; name it with parameter=")
            parameter = self.parameters[0]
        others = [p for p in self.parameters if p != parameter]
        if any(self.points[p].nunique() > 1 for p in others):
            raise ValueError(f"a break-even along {parameter} needs the other parameters fixed")
        diffs = self.differences(metric, scenario)
        x = self.points.set_index("point").loc[diffs.index, parameter].to_numpy(float)
        return break_even(diffs.to_numpy(float), x, parameter=parameter, scenario=scenario, baseline=self.baseline,
                          metric=metric, confidence=confidence, boot=boot, seed=self.seed)


# --------------------------------------------------------------------------- the sweep


def sweep(
    scenarios: Any,
    vary: Sequence[str | Vary],
    *,
    reps: int = 30,
    seed: int = DEFAULT_SEED,
    metric: str = "exit_arr_usd",
    design: str = "grid",
    points: int | None = None,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    executor: Executor | None = None,
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    progress: bool | None = False,
    chunk_size: int | None = None,
    refine: int = 0,
) -> SweepResult:
    """Run every scenario at every point of a design under common random numbers.

    Parameters
    ----------
    scenarios : path, Scenario, sequence or mapping
        One or more scenarios (files or :class:`Scenario`); the first is the baseline of the
        paired differences. A mapping gives them names.
    vary : sequence of str or Vary
        ``"PATH=LOW:HIGH:STEP"`` (grid), ``"PATH=LOW:HIGH"`` (with ``design="lhs"``) or
        ``"PATH=A,B,C"``; ``"NAME:PATH=..."`` varies the field of scenario NAME only.
    reps, seed : int
        Replications per point and scenario; the seed they share (common random numbers).
    metric : str
        The KPI the summary and the break-even are about.
    design : "grid" or "lhs"
        Full grid of the varies' values, or a Latin hypercube of ``points`` points.
    overrides : sequence of str
        ``--set`` overrides applied to every scenario before the sweep's values.
    workers, executor, out, overwrite, progress, chunk_size
        As for :func:`sim.run`; ONE executor serves the whole sweep. With ``out`` the sweep is
        resumable: ``out/points/<k>/<scenario>/`` are results folders.
    refine : int
        With two scenarios and one parameter: extra points placed by regula falsi between the
        grid points that bracket the break-even (each under the same replications).

    Raises
    ------
    SweepInputError, ScenarioError
        Bad input, before any replication runs.
    """
    if metric not in KPI_NAMES:
        hint = difflib.get_close_matches(metric, KPI_NAMES, n=1)
        raise SweepInputError([f"--metric {metric!r} is not a KPI" + (f"; did you mean '{hint[0]}'?" if hint else "")
                               + f" (KPIs: {', '.join(KPI_NAMES)})"])
    varies = [v if isinstance(v, Vary) else Vary.parse(v) for v in vary]
    if not varies:
        raise SweepInputError(["a sweep needs at least one --vary PATH=LOW:HIGH:STEP"])
    if design not in ("grid", "lhs"):
        raise SweepInputError([f"--design must be grid or lhs (got {design!r})"])
    if reps < 1:
        raise SweepInputError([f"--reps must be at least 1 (got {reps})"])
    if refine and (len(varies) != 1 or design != "grid"):
        raise SweepInputError(["refining a break-even needs one --vary on a grid"])
    sources = load_sources(scenarios, overrides)
    if refine and len(sources) != 2:
        raise SweepInputError(["a break-even needs two scenarios"])
    parameters = [v.parameter for v in varies]
    texts = {v.label: f"--vary {v.text or v.label}" for v in varies}
    if design == "grid":
        grid = grid_design(varies)
        extremes = {v.label: sorted({min(p[v.label] for p in grid), max(p[v.label] for p in grid)}) for v in varies}
        integer = check_inputs(sources, parameters, extremes, texts)
        off = [f"{texts[v.label]}: {v.parameter.path} holds whole numbers; got {x:g}" for v in varies
               if integer[v.label] for x in v.grid_values() if x != round(x)][:1]
        if off:
            raise SweepInputError(off)
        point_list = grid
    else:
        if points is None:
            raise SweepInputError(["--design lhs needs --points N"])
        extremes = {v.label: [v.low, v.high] for v in varies}
        integer = check_inputs(sources, parameters, extremes, texts)
        point_list = lhs_design(varies, points, seed, integer)
    the_design, built = make_design(sources, parameters, point_list, texts, integer)
    out_path = Path(out) if out is not None else None
    with Runner(workers, executor) as runner:
        evaluation = evaluate(sources, the_design, built, reps, seed, runner, out_path, overwrite, progress,
                              chunk_size, extra={"design": design, "metric": metric})
        refined: list[int] = []
        for _ in range(refine):
            result = _result(evaluation, the_design, sources, metric, reps, seed, design, out_path)
            found = result.break_even()
            if found.value is None or len(found.crossings) != 1:
                break
            label = parameters[0].label
            x = found.value if not integer[label] else float(round(found.value))
            xs = sorted(p[label] for p in the_design.points)
            if any(abs(x - v) <= 1e-9 * max(1.0, abs(v)) for v in xs):
                break
            new_points = [*the_design.points, {label: _tidy(x)}]
            the_design, built = make_design(sources, parameters, new_points, texts, integer)
            evaluation = evaluate(sources, the_design, built, reps, seed, runner, out_path, False, progress,
                                  chunk_size, extra={"design": design, "metric": metric})
            refined.append(len(new_points) - 1)
    result = _result(evaluation, the_design, sources, metric, reps, seed, design, out_path)
    result.refined = refined
    if out_path is not None:
        from sim.runs.store import write_csv, write_parquet

        write_parquet(out_path / "sweep.parquet", result.kpis)
        write_csv(out_path / "sweep_summary.csv", result.summary())
    return result


def _result(evaluation: Evaluation, design: Design, sources: Mapping[str, ScenarioSource], metric: str, reps: int,
            seed: int, kind: str, out: Path | None) -> SweepResult:
    points = design.frame()
    kpis = points.merge(evaluation.kpis, on="point")
    kpis = kpis[["point", *design.labels, "scenario", "rep", *KPI_NAMES]]
    return SweepResult(kpis, points, design.labels, list(sources), metric, reps, seed, kind,
                       evaluation.failures, out)
