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

from sim.scenario.dates import check_calendar, dates_to_months
from sim.scenario.dists import DIST_NAMES, DistributionBase
from sim.scenario.ranges import split_ranges
from sim.scenario.references import check_dates, check_references, check_warnings
from sim.scenario.schema import NAMED_MAPS, RampFormSpec, Scenario
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


def _models_at(path: tuple) -> tuple[list[type[BaseModel]], bool]:
    """The pydantic models a value at ``path`` may be, and whether it is a name-keyed map of them."""
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
            return [], False
    return models, keyed


def _field_at(path: tuple) -> Any:
    """The pydantic field that holds the value at ``path`` (None if no field does)."""
    if not path or not isinstance(path[-1], str):
        return None
    models, keyed = _models_at(path[:-1])
    if keyed:
        return None
    for model in models:
        field = model.model_fields.get(path[-1])
        if field is not None:
            return field
    return None


def _allowed(path: tuple) -> list[str]:
    """Field names allowed under ``path`` (for "did you mean" suggestions on unknown keys)."""
    models, keyed = _models_at(path)
    if keyed or not models:
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
    (``{value: 0.08, range: [0.02, 0.15]}``) are replaced by their value (:mod:`sim.scenario.ranges`);
    dates (``start_date``, hiring dates) become month numbers (:mod:`sim.scenario.dates`)."""
    doc, _ranges, range_problems = split_ranges(doc)
    problems = [*problems, *range_problems]
    data, dated = dates_to_months(doc.data)
    for path, message in [*dated, *check_calendar(doc.data)]:
        file, line = lookup_line(doc.source_map, path, doc.file)
        problems.append(Problem(file, line, ".".join(str(p) for p in path), message))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        scenario = None
        found = [_plain_dist_message(p) for p in problems_from_validation_error(exc, doc, allowed_keys=_allowed)]
        found = [_blamed(_plain_union_message(p, doc), doc) for p in _without_union_noise(found)]
        said = {".".join(str(p) for p in path) for path, _ in dated}  # a date already explained
        problems.extend(p for p in _unique(found) if p.path not in said)
    refused = check_references(doc.data) + ([] if _horizon_overridden(doc) else check_dates(data))
    for path, message in refused:
        file, line = lookup_line(doc.source_map, path, doc.file)
        problems.append(Problem(file, line, ".".join(str(p) for p in path), message))
    if problems:
        raise ScenarioError(problems)
    assert scenario is not None
    return scenario


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _path_of(doc: Document, dotted: str) -> tuple[str | int, ...] | None:
    """The path tuple of a problem's dotted path in ``doc`` (None where the data has no such value)."""
    path: list[str | int] = []
    node: Any = doc.data
    for part in dotted.split(".") if dotted else []:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            path.append(int(part))
            node = node[int(part)]
        else:
            return None
    return tuple(path)


def _blamed(problem: Problem, doc: Document) -> Problem:
    """A problem about a whole section (``roles.ae``: its tenures and headcount disagree) is located
    where the section was last changed: at the ``--set`` that changed it, else in the most derived
    file that did (the one that says ``extends:``), not at the base file's line."""
    path = _path_of(doc, problem.path)
    if path is None or not isinstance(_value_at(doc.data, path), dict):
        return problem
    under = [(p, where) for p, where in doc.source_map.items() if p[: len(path)] == path and len(p) > len(path)]
    if not under:
        return problem

    def rank(where: tuple[str, int | None]) -> int:
        if where[0].startswith("--set"):
            return -1
        return doc.files.index(where[0]) if where[0] in doc.files else len(doc.files)

    best = min(rank(where) for _, where in under)
    if best >= rank((problem.file, problem.line)):
        return problem
    chosen = [(p, where) for p, where in under if rank(where) == best]
    file, line = chosen[-1][1] if best < 0 else max(chosen, key=lambda item: len(item[0]))[1]
    return Problem(file, line, problem.path, problem.message)


def _value_at(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


_NOT_A_MODEL = ("Input should be a valid dictionary", "Input should be a valid list",
                "expected a number or a distribution")


def _unit_of(name: str) -> str:
    """What a bare number means in a distribution field, from the field's name."""
    for suffix, unit in (("_days", "a number of days"), ("_minutes", "a number of minutes"),
                         ("_months", "a number of months"), ("_usd", "an amount in USD"),
                         ("dials_to_connect", "a number of dials"), ("_fraction", "a fraction (0.2 for 20%)")):
        if name.endswith(suffix):
            return unit
    return "a number"


def _plain_union_message(problem: Problem, doc: Document) -> Problem:
    """Say what a field allows where pydantic speaks of its union's members ("Input should be a
    valid dictionary or object to extract fields from" for ``delay_days: 1.5 days``)."""
    if not problem.message.startswith(_NOT_A_MODEL):
        return problem
    path = _path_of(doc, problem.path)
    field = _field_at(path) if path else None
    if field is None:
        return problem
    models, _ = _models_in(field.annotation)
    message = problem.message
    got = message[message.rfind("got "):] if "got " in message else ""
    name = str(path[-1]) if path else ""
    if any(issubclass(m, DistributionBase) for m in models):
        message = (f"expected {_unit_of(name)} (e.g. 2), or a distribution {{dist: NAME, ...}} with NAME one of: "
                   f"{', '.join(DIST_NAMES)} (see docs/guides/scenario-files.md#distributions)")
    elif RampFormSpec in models:
        message = ("expected a list of productivities by month (e.g. [0.25, 0.5, 0.75, 1.0]) or a formula "
                   "{form: linear, months: N} or {form: step, months: N, before: P}")
    else:
        return problem
    return Problem(problem.file, problem.line, problem.path, f"{message}; {got}" if got else message)


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
    """Something a scenario may do but probably does not mean, or should know (``salesim validate``
    prints it and exits 0); :func:`load_scenario` issues one per warning."""


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
    data, _ = dates_to_months(doc.data)
    late = [(path, message + " (the horizon comes from --set)") for path, message in check_dates(data)] \
        if _horizon_overridden(doc) else []
    for path, message in [*check_warnings(doc.data), *late]:
        file, line = lookup_line(doc.source_map, path, doc.file)
        found.append(Problem(file, line, ".".join(str(p) for p in path), message))
    return found


def _spread_pod_seats(doc: Document) -> tuple[Document, list[Problem]]:
    """``--set roles.ae.headcount=8`` on a POD org: the role's seats are spread over the PODs that
    hold it (a seat added goes to the POD with fewest, a seat removed leaves the POD with most; ties
    in the order of the PODs), unless ``--set`` also gives their compositions. The same holds for the
    target org of each ``reorg`` that does not give the role's headcount after it. Returns the new
    document and a note per role and org spread. A headcount written in a file must match the
    compositions."""
    orgs: list[tuple[tuple, dict]] = []
    if isinstance(doc.data.get("org"), dict):
        orgs.append((("org",), doc.data["org"]))
    for i, change in enumerate(doc.data.get("reorg") if isinstance(doc.data.get("reorg"), list) else []):
        if isinstance(change, dict) and isinstance(change.get("org"), dict):
            fixed = change.get("headcount") if isinstance(change.get("headcount"), dict) else {}
            orgs.append((("reorg", i, "org", tuple(fixed)), change["org"]))
    notes: list[Problem] = []
    for key, org in orgs:
        prefix, fixed = (key, ()) if key == ("org",) else (key[:3], key[3])
        notes.extend(_spread_over(doc, org, prefix, fixed))
    return doc, notes


def _spread_over(doc: Document, org: dict, prefix: tuple, fixed: tuple) -> list[Problem]:
    pods = org.get("pods") if isinstance(org.get("pods"), dict) else {}
    roles = doc.data.get("roles") if isinstance(doc.data.get("roles"), dict) else {}
    if org.get("structure") not in ("pod", "hybrid") or not pods:
        return []
    notes: list[Problem] = []
    for role, spec in roles.items():
        where = doc.source_map.get(("roles", role, "headcount"), ("", None))
        headcount = spec.get("headcount") if isinstance(spec, dict) else None
        if role in fixed or not where[0].startswith("--set") or not isinstance(headcount, int) or headcount < 0:
            continue
        holding = [name for name, pod in pods.items() if isinstance(pod, dict)
                   and isinstance(pod.get("composition"), dict) and isinstance(pod["composition"].get(role), int)]
        if not holding or any(doc.source_map.get((*prefix, "pods", name, "composition", role), ("",))[0]
                              .startswith("--set") for name in holding):
            continue
        seats = {name: pods[name]["composition"][role] for name in holding}
        if sum(seats.values()) == headcount:
            continue
        while sum(seats.values()) < headcount:
            seats[min(holding, key=lambda n: seats[n])] += 1
        while sum(seats.values()) > headcount:
            seats[max(reversed(holding), key=lambda n: seats[n])] -= 1
        for name in holding:
            pods[name]["composition"][role] = seats[name]
            doc.source_map[(*prefix, "pods", name, "composition", role)] = where
        spread = ", ".join(f"{name} {seats[name]}" for name in holding)
        path = ".".join(str(p) for p in prefix)
        of = "" if prefix == ("org",) else f" of {path}"
        notes.append(Problem(where[0], None, f"roles.{role}.headcount",
                             f"the {headcount} {role} seats are spread over the PODs{of}: {spread} (set "
                             f"{path}.pods.NAME.composition.{role} to choose)"))
    return notes


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
    notes: list[Problem] = []
    if overrides:
        doc, notes = _spread_pod_seats(apply_overrides(doc, list(overrides), NAMED_MAPS))
    scenario = scenario_from_document(doc, early)
    return Checked(scenario, notes + scenario_warnings(doc))


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
        For what the scenario does that its author may not expect (:func:`load_checked` returns
        them instead): a role that leads are routed to with no rep and no hiring, reps without a
        listed tenure start as new hires, a segment no lead reaches, a headcount from ``--set``
        spread over the PODs, dated plans after a horizon shortened by ``--set``.
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
