"""A seeded mutator of scenario files and command lines, for the fuzz tests.

Case ``k`` of seed ``s`` is a pure function of ``(s, k)``: it takes one of the shipped scenarios
(``scenarios/*.yaml``, ``benchmarks/scenarios/ref.yaml``) and applies one to three mutations —
a key removed, a value of the wrong type, a non-finite or extreme number, a probability out of
range, a month outside the horizon, an unknown name, a duplicated or unknown key, broken YAML,
a truncated file — and may add ``--set`` overrides, well-formed or not. What the case should do
is not predicted: the tests assert that whatever happens is one of the two allowed outcomes (a
refusal naming a file or flag, or a run that completes).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "scenarios").glob("*.yaml")), ROOT / "benchmarks" / "scenarios" / "ref.yaml"]

WRONG_TYPES: list[Any] = ["abc", "", [], {}, None, True, False, [1, 2], {"dist": "nope"}, "12 months"]
NUMBERS: list[Any] = [float("inf"), float("-inf"), float("nan"), 1e308, -1e308, 1e15, -1e15, 2**63, -(2**63),
                      -1, 0, 0.0, -0.0, 1e-300, 5e-324, 1.5, -0.1, 2, 999, 10**6, 10**7, 1e30]
NAMES = ["nobody", "AE", "Ae", "smb ", "", "..", "a/b", "x" * 80, "mdr2", "mid-market"]
SET_TEXTS = [
    "roles.AE.headcount=8", "roles.vp.headcount=1", "+roles.vp.headcount=1", "roles.ae.headcont=3",
    "horizon_months=true", "horizon_months=0", "horizon_months=121", "horizon_months=1", "name=..",
    "inbound.mqls_per_month=.inf", "inbound.mqls_per_month=-5", "inbound.segment_mix={}",
    "segments.smb.mrr_usd=-800", "hiring.waves.0.count=1000000", "hiring.waves=[{month: 99, role: ae, count: 1}]",
    "roles.ae.ramp=[]", "inbound.dials_to_connect={dist: uniform_int, low: 0, high: 0}", "noequals",
    "=5", "roles..headcount=3", "roles.ae.headcount=[unclosed", "contact.max_attempts.3=1",
    "roles.ae.ramp.99=1", "roles.ae.ramp.x=1", "market.regions.nroth=1", "+market.regions.north=0.5",
    "segments.smb.opportunity.gap_days={dist: lognormal, median: 10, sigma: 1e15}",
    "roles.ae.initial_tenure_months=4000", "warm_start.customers=[{segment: smb, count: 5, mrr_usd: 900, "
    "age_months: 100000}]", "deterministic=1", "org.structure=pod",
]


@dataclass
class Case:
    """One fuzz case: the file's text, ``--set`` overrides, and what was done (for messages)."""

    seed: int
    index: int
    source: Path
    text: str
    overrides: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"case {self.seed}/{self.index} from {self.source.name}: " + "; ".join(self.done)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in ``node`` (maps and lists), the root excluded."""
    out: list[tuple] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(value, (*prefix, i)))
    return out


def _get(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _mutate(rng: random.Random, data: dict, case: Case) -> None:
    paths = _paths(data)
    path = rng.choice(paths)
    where = ".".join(str(p) for p in path)
    value = _get(data, path)
    kind = rng.choice(["delete", "wrong_type", "number", "number", "scale", "probability", "month", "name",
                       "rename_key", "unknown_key", "empty"])
    if kind == "delete":
        parent = _get(data, path[:-1])
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
        case.done.append(f"deleted {where}")
    elif kind == "wrong_type":
        new = rng.choice(WRONG_TYPES)
        _set(data, path, new)
        case.done.append(f"{where} = {new!r}")
    elif kind == "number" or (kind == "scale" and not isinstance(value, int | float)):
        new = rng.choice(NUMBERS)
        _set(data, path, new)
        case.done.append(f"{where} = {new!r}")
    elif kind == "scale":
        new = value * 10.0 ** rng.choice([-300, -12, -3, 3, 6, 12, 300]) * rng.choice([1, -1])
        _set(data, path, new)
        case.done.append(f"{where} scaled to {new!r}")
    elif kind == "probability":
        target = rng.choice([p for p in paths if "probability" in str(p[-1]) or "rate" in str(p[-1])] or [path])
        new = rng.choice([1.0001, -0.0001, 2, -1, 100])
        _set(data, target, new)
        case.done.append(f"{'.'.join(map(str, target))} = {new!r}")
    elif kind == "month":
        months = [p for p in paths if "month" in str(p[-1]) and isinstance(_get(data, p), int | float)]
        target = rng.choice(months or [("horizon_months",)])
        new = rng.choice([0, -1, 121, 999, 25, 13, 1.5])
        _set(data, target, new)
        case.done.append(f"{'.'.join(map(str, target))} = {new!r}")
    elif kind == "name":
        refs = [p for p in paths if str(p[-1]) in {"closed_by", "worked_by", "managed_by", "role", "segment", "to",
                                                    "team", "name"}]
        target = rng.choice(refs or [("name",)])
        new = rng.choice(NAMES)
        _set(data, target, new)
        case.done.append(f"{'.'.join(map(str, target))} = {new!r}")
    elif kind == "rename_key":
        maps = [p for p in paths if isinstance(_get(data, p), dict) and _get(data, p)]
        target = rng.choice(maps or [()])
        holder = _get(data, target)
        if isinstance(holder, dict) and holder:
            old = rng.choice(list(holder))
            holder[rng.choice(NAMES) or "x"] = holder.pop(old)
            case.done.append(f"renamed {'.'.join(map(str, (*target, old)))}")
    elif kind == "unknown_key":
        maps = [p for p in paths if isinstance(_get(data, p), dict)]
        target = rng.choice(maps or [()])
        _get(data, target)[rng.choice(["headcont", "sigm", "extra", "mqls_per_mont", "dist"])] = 1
        case.done.append(f"unknown key under {'.'.join(map(str, target)) or 'the top'}")
    else:
        containers = [p for p in paths if isinstance(_get(data, p), dict | list)]
        target = rng.choice(containers or [path])
        new = {} if isinstance(_get(data, target), dict) else []
        _set(data, target, new)
        case.done.append(f"{'.'.join(map(str, target))} emptied")


def _text_damage(rng: random.Random, text: str, case: Case) -> str:
    kind = rng.choice(["truncate", "bad_indent", "duplicate_key", "binary", "tab", "unclosed"])
    lines = text.splitlines()
    if kind == "truncate":
        case.done.append("file truncated")
        return text[: rng.randrange(0, max(1, len(text)))]
    if kind == "bad_indent":
        i = rng.randrange(len(lines))
        lines[i] = "   " + lines[i]
        case.done.append(f"line {i + 1} indented")
    elif kind == "duplicate_key":
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        case.done.append(f"line {i + 1} repeated")
    elif kind == "binary":
        case.done.append("random bytes inserted")
        i = rng.randrange(len(text) + 1)
        return text[:i] + "".join(chr(rng.randrange(0, 32)) for _ in range(5)) + text[i:]
    elif kind == "tab":
        i = rng.randrange(len(lines))
        lines[i] = "\t" + lines[i]
        case.done.append(f"tab on line {i + 1}")
    else:
        i = rng.randrange(len(lines))
        lines[i] = lines[i] + " [unclosed"
        case.done.append(f"unclosed bracket on line {i + 1}")
    return "\n".join(lines) + "\n"


def make_case(seed: int, index: int) -> Case:
    """Case ``index`` of ``seed``."""
    rng = random.Random(f"{seed}/{index}")
    source = rng.choice(SOURCES)
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    case = Case(seed, index, source, "")
    roll = rng.random()
    if roll < 0.75:
        for _ in range(rng.choice([1, 1, 2, 3])):
            _mutate(rng, data, case)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if 0.75 <= roll < 0.85:
        text = _text_damage(rng, text, case)
    if roll >= 0.85 or rng.random() < 0.2:
        case.overrides = rng.sample(SET_TEXTS, rng.choice([1, 1, 2]))
        case.done.append("--set " + " --set ".join(case.overrides))
    case.text = text
    return case
