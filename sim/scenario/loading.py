"""Loading scenarios: YAML → merged (``extends:``) → overridden (``--set``) → validated.

This module owns :func:`load_scenario` and the wording of problems: every problem in a file is
reported at once with ``file:line``, the dotted field path and what was expected
(:class:`~sim.scenario.yamlio.ScenarioError`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from sim.scenario.ranges import split_ranges
from sim.scenario.references import check_dates, check_references, check_warnings
from sim.scenario.schema import NAMED_MAPS, Scenario
from sim.scenario.yamlio import (
    Document,
    Problem,
    ScenarioError,
    apply_overrides,
    load_document,
    lookup_line,
    problems_from_validation_error,
)


def _models_in(annotation: Any) -> tuple[list[type[BaseModel]], bool]:
    """(pydantic models inside ``annotation``, whether they are values of a name-keyed map)."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation], False
    origin = typing.get_origin(annotation)
    if origin is dict:
        models, _ = _models_in(typing.get_args(annotation)[-1])
        return models, True
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        models, _ = _models_in(arg)
        found.extend(m for m in models if m not in found)
    return found, False


def _allowed(path: tuple) -> list[str]:
    """Field names allowed under ``path`` (for "did you mean" suggestions on unknown keys)."""
    models: list[type[BaseModel]] = [Scenario]
    keyed = False
    for key in path:
        if keyed:  # a user-chosen name in a map (roles.ae): its value has the same models
            keyed = False
            continue
        if isinstance(key, int):
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(key)
            if field is not None:
                found, keyed = _models_in(field.annotation)
                nxt.extend(m for m in found if m not in nxt)
        models = nxt
        if not models:
            return []
    if keyed:
        return []
    names: list[str] = []
    for model in models:
        for name, field in model.model_fields.items():
            shown = field.alias or name
            if shown not in names:
                names.append(shown)
    return names


# --------------------------------------------------------------------------- loading


def scenario_from_document(doc: Document, problems: Sequence[Problem] = ()) -> Scenario:
    """Validate a loaded document; raise :class:`ScenarioError` with every problem found
    (``problems`` already found while loading are reported with them). Inline uncertainty ranges
    (``{value: 0.08, range: [0.02, 0.15]}``) are replaced by their value (:mod:`sim.scenario.ranges`)."""
    doc, _ranges, range_problems = split_ranges(doc)
    problems = [*problems, *range_problems]
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        scenario = None
        found = [_plain_dist_message(p) for p in problems_from_validation_error(exc, doc, allowed_keys=_allowed)]
        problems.extend(_without_union_noise(found))
    refused = check_references(doc.data) + ([] if _horizon_overridden(doc) else check_dates(doc.data))
    for path, message in refused:
        file, line = lookup_line(doc.source_map, path, doc.file)
        problems.append(Problem(file, line, ".".join(str(p) for p in path), message))
    if problems:
        raise ScenarioError(problems)
    assert scenario is not None
    return scenario


def _without_union_noise(problems: list[Problem]) -> list[Problem]:
    """Drop "should be a valid dictionary" from a union (``ramp: [..] | {form: ..}``) when a
    problem inside the value already says what is wrong."""
    paths = [p.path for p in problems]
    union_noise = ("Input should be a valid dictionary", "Input should be a valid list")
    return [
        p for p in problems
        if not (p.message.startswith(union_noise) and any(other.startswith(p.path + ".") for other in paths))
    ]


def _plain_dist_message(problem: Problem) -> Problem:
    """Say "unknown distribution" for a bad ``dist:`` tag rather than pydantic's wording."""
    if problem.path.split(".")[-1] == "dist" and problem.message.startswith("Input should be"):
        import re

        from sim.scenario.dists import DIST_NAMES

        got = re.search(r"got ('[^']*'|\S+)", problem.message)
        hint = re.search(r"did you mean '[^']*'\?", problem.message)
        message = f"unknown distribution {got.group(1) if got else '?'}"
        message += f"; {hint.group(0)}" if hint else f"; expected one of: {', '.join(DIST_NAMES)}"
        return Problem(problem.file, problem.line, problem.path, message)
    return problem


class SalesimWarning(UserWarning):
    """Base of salesim's warnings: the command line prints them as ``salesim: warning: ...``."""


class ScenarioWarning(SalesimWarning):
    """Something a scenario may do but probably does not mean (``salesim validate`` prints it and
    exits 0); :func:`load_scenario` issues one per warning."""


class Checked(NamedTuple):
    """A validated scenario and the warnings about it (file, line, field path, message)."""

    scenario: Scenario
    warnings: list[Problem]


def _horizon_overridden(doc: Document) -> bool:
    """Whether ``--set`` gave the horizon (a quick, shorter run of a scenario with dated plans)."""
    file, _ = doc.source_map.get(("horizon_months",), (doc.file, None))
    return file.startswith("--set")


def scenario_warnings(doc: Document) -> list[Problem]:
    """Warnings about a valid document (:func:`sim.scenario.references.check_warnings`), located;
    with a horizon shortened by ``--set``, the dated things after it too."""
    found = []
    late = [(path, message + " (the horizon comes from --set)") for path, message in check_dates(doc.data)] \
        if _horizon_overridden(doc) else []
    for path, message in [*check_warnings(doc.data), *late]:
        file, line = lookup_line(doc.source_map, path, doc.file)
        found.append(Problem(file, line, ".".join(str(p) for p in path), message))
    return found


def load_checked(path: str | os.PathLike[str], overrides: Sequence[str] | None = None) -> Checked:
    """As :func:`load_scenario`, and return the warnings instead of issuing them."""
    try:
        doc = load_document(path)
    except ScenarioError as exc:
        if exc.document is None:
            raise
        # e.g. duplicate keys: still validate what was read, to report everything at once —
        # unless a base file could not be used: then every inherited field would look missing
        if any(p.path == "extends" for p in exc.problems):
            raise
        doc, early = exc.document, exc.problems
    else:
        early = []
    if overrides:
        doc = apply_overrides(doc, list(overrides), NAMED_MAPS)
    scenario = scenario_from_document(doc, early)
    return Checked(scenario, scenario_warnings(doc))


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] | None = None) -> Scenario:
    """Load, merge (``extends:``), override (``--set``) and validate a scenario file.

    Parameters
    ----------
    path : str or PathLike
        The YAML scenario file.
    overrides : sequence of str, optional
        ``"dotted.path=value"`` strings, values parsed as YAML (``roles.ae.headcount=8``). A name
        that the scenario does not define (a role, segment, POD, region or industry) is refused
        unless the override starts with ``+`` (``+roles.vp.headcount=1``).

    Raises
    ------
    ScenarioError
        With every problem found, each with file, line, field path and what was expected.

    Warns
    -----
    ScenarioWarning
        For what the scenario may do but probably does not mean (e.g. a role that leads are
        routed to, with no rep and no hiring).
    """
    scenario, found = load_checked(path, overrides)
    for problem in found:
        warnings.warn(ScenarioWarning(str(problem)), stacklevel=2)
    return scenario


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Validate a scenario given as plain Python data (notebooks, tests, manifests)."""
    return scenario_from_document(Document(data=data, source_map={}, file="<dict>", files=[]))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (for editor completion)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "salesim scenario"
    schema.setdefault("properties", {})["extends"] = {
        "type": "string",
        "description": "a base scenario file whose fields this one overrides (maps merge; lists and scalars replace)",
    }
    return schema
