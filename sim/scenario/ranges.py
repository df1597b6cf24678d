"""Inline uncertainty ranges: ``{value: 0.08, range: [0.02, 0.15]}`` on any numeric field.

A scenario may mark a number as uncertain where it is written::

    handoff:
      leakage_probability: {value: 0.08, range: [0.02, 0.15]}   # ASSUMPTION

Everything except sensitivity analysis sees only the value: the marker is replaced by its
``value`` before validation (:func:`split_ranges`, called by
:func:`sim.scenario.loading.scenario_from_document`), so the validated scenario — and its hash,
which identifies a results folder — is that of the same file with the plain number. Sensitivity
analysis (:mod:`sim.runs.sensitivity`) reads the ranges with :func:`load_ranges`.

A marker is a mapping with exactly the keys ``value`` and ``range``; distributions
(``{dist: constant, value: 5}``) have a ``dist`` key and are never markers.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sim.scenario.yamlio import Document, Problem, ScenarioError, apply_overrides, load_document, lookup_line

MARKER_KEYS = frozenset({"value", "range"})


@dataclass(frozen=True)
class MarkedRange:
    """One field marked uncertain in a scenario file.

    Attributes
    ----------
    path : tuple
        Field path (``("handoff", "leakage_probability")``; list items as integers).
    value : float
        The value used by every normal run.
    low, high : float
        The range sensitivity analysis explores.
    file, line
        Where the marker was written.
    """

    path: tuple[str | int, ...]
    value: float
    low: float
    high: float
    file: str
    line: int | None

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)


def is_marker(node: Any) -> bool:
    """Whether ``node`` is an inline range marker (a mapping of exactly ``value`` and ``range``)."""
    return isinstance(node, dict) and set(node) == MARKER_KEYS


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _find(node: Any, path: tuple[str | int, ...], found: list[tuple[tuple[str | int, ...], dict]]) -> None:
    if is_marker(node):
        found.append((path, node))
    elif isinstance(node, dict):
        for key, sub in node.items():
            _find(sub, (*path, key), found)
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            _find(sub, (*path, index), found)


def split_ranges(doc: Document) -> tuple[Document, list[MarkedRange], list[Problem]]:
    """Replace every marker in ``doc`` by its value.

    Returns the document (the same object when it has no marker), the ranges found, and the
    problems of malformed markers (a range that is not two numbers, low above high, a value
    outside its range), each with file and line.
    """
    found: list[tuple[tuple[str | int, ...], dict]] = []
    _find(doc.data, (), found)
    if not found:
        return doc, [], []
    data = copy.deepcopy(doc.data)
    ranges: list[MarkedRange] = []
    problems: list[Problem] = []
    for path, marker in found:
        holder: Any = data
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = marker["value"]
        file, line = lookup_line(doc.source_map, path, doc.file)
        dotted = ".".join(str(p) for p in path)
        value, bounds = marker["value"], marker["range"]
        if not _number(value):
            continue  # validation reports the value itself
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(_number(b) for b in bounds)):
            problems.append(Problem(file, line, f"{dotted}.range",
                                    f"range must be two numbers [low, high], got {bounds!r}"))
            continue
        low, high = float(bounds[0]), float(bounds[1])
        if not low < high:
            problems.append(Problem(file, line, f"{dotted}.range", f"range low {low:g} must be below high {high:g}"))
            continue
        if not low <= value <= high:
            problems.append(Problem(file, line, dotted,
                                    f"value {value:g} is outside its range [{low:g}, {high:g}]"))
            continue
        ranges.append(MarkedRange(path, float(value), low, high, file, line))
    return replace(doc, data=data), ranges, problems


def load_ranges(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> list[MarkedRange]:
    """The inline ranges of a scenario file (after ``extends:`` and ``overrides``).

    Raises
    ------
    ScenarioError
        When the file cannot be read or a marker is malformed.
    """
    doc = load_document(path)
    if overrides:
        doc = apply_overrides(doc, list(overrides))
    _, ranges, problems = split_ranges(doc)
    if problems:
        raise ScenarioError(problems)
    return ranges
