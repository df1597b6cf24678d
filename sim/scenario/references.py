"""Cross-reference checks: problems that span fields of a scenario.

This module owns what field validation cannot see: names of roles, segments and PODs that do
not exist, roles lacking the capacity their job needs, ladders with cycles, PODs whose seats do
not add up. The checks work on raw data, so they run even when field validation failed and a
scenario's problems are reported all at once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from sim.scenario import limits as lim
from sim.scenario.economics import check_economics, check_quotas
from sim.scenario.jobs import JOBS, NO_ROLE, Job, assignments, desks_of, jobs_by_role, lead_source_specs

# --------------------------------------------------------------------------- cross-references


def check_references(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems that span fields: names of roles and segments that do not exist, roles
    lacking the capacity their job needs, flows that cannot work.

    Works on raw data so it can run even when field validation failed (all problems at once).
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    roles = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    segments = data.get("segments") if isinstance(data.get("segments"), dict) else {}

    def unknown(kind: str, name: Any, known: Iterable[str]) -> str:
        known = list(known)
        msg = f"{kind} {name!r} does not exist; defined {kind}s: {', '.join(known) or 'none'}"
        close = difflib.get_close_matches(str(name), known, n=1)
        return msg + (f"; did you mean {close[0]!r}?" if close else "")

    needs_reported: set[tuple[str, str]] = set()
    for a in assignments(data):
        if a.role not in roles:
            problems.append((a.path, unknown("role", a.role, roles)))
            continue
        field = JOBS[a.job].capacity_field
        if isinstance(roles[a.role], dict) and roles[a.role].get(field) is None \
                and (a.role, field) not in needs_reported:
            needs_reported.add((a.role, field))
            problems.append((("roles", a.role), f"role {a.role!r} {JOBS[a.job].doing} and needs {field}"))
    for path, spec in lead_source_specs(data):
        mix = spec.get("segment_mix")
        if isinstance(mix, dict):
            for seg in mix:
                if seg not in segments:
                    problems.append(((*path, "segment_mix", seg), unknown("segment", seg, segments)))
            problems.extend(_check_shares((*path, "segment_mix"), mix, "segment"))
    market = data.get("market") if isinstance(data.get("market"), dict) else {}
    for field, kind in (("regions", "region"), ("industries", "industry")):
        if isinstance(market.get(field), dict) and market[field]:
            problems.extend(_check_shares(("market", field), market[field], kind))
    problems.extend(_check_sources(data))
    problems.extend(_check_self_service(data, roles, segments))
    problems.extend(_check_time_splits(data, roles))
    if not lead_source_specs(data) and not data.get("lead_sources") and "name" in data:
        problems.append(((), "the scenario has no lead source (inbound, outbound or lead_sources): nothing would "
                             "happen"))
    problems.extend(_check_org(data, roles, segments, unknown))
    problems.extend(_check_reorgs(data, roles, segments, unknown))
    problems.extend(_check_workforce(data, roles, segments, unknown))
    problems.extend(_check_volumes(data, roles))
    problems.extend(check_economics(data))
    problems.extend(check_quotas(data))
    return problems


def _check_self_service(data: dict[str, Any], roles: dict, segments: dict) -> list[tuple[tuple, str]]:
    """Segments sold without a rep (``closed_by: none``) have a trial and no meetings; a trial is only
    for them; ``none`` is not a role's name."""
    problems: list[tuple[tuple, str]] = []
    if NO_ROLE in roles:
        problems.append((("roles", NO_ROLE), f"{NO_ROLE!r} cannot name a role: worked_by: none and closed_by: none "
                                             "mean no rep"))
    for name, seg in segments.items():
        if not isinstance(seg, dict):
            continue
        path = ("segments", name)
        if seg.get("closed_by") == NO_ROLE:
            if "opportunity" in seg:
                problems.append(((*path, "opportunity"), "a segment closed_by: none is sold without a rep: it has a "
                                                         "trial, not meetings (remove opportunity, or name the "
                                                         "closing role)"))
            if seg.get("trial") is None:
                problems.append(((*path, "closed_by"), "a segment closed_by: none needs a trial (days, "
                                                       "conversion_probability)"))
        elif seg.get("trial") is not None:
            problems.append(((*path, "trial"), f"a trial is for segments sold without a rep (closed_by: none); "
                                               f"segment {name!r} is closed by {seg.get('closed_by', 'ae')!r}"))
    warm = _dict(data.get("warm_start"))
    for i, item in enumerate(_list(warm.get("pipeline"))):
        item = _dict(item)
        seg = _dict(segments.get(item.get("segment"))) if isinstance(item.get("segment"), str) else {}
        if item.get("stage") == "opportunity" and seg.get("closed_by") == NO_ROLE:
            problems.append((("warm_start", "pipeline", i, "stage"), "a self-service segment (closed_by: none) has "
                                                                     "no opportunities; use stage mql or sql (a "
                                                                     "trial)"))
    return problems


RESERVED_SOURCE_NAMES = frozenset({"warm", "warm_start", "accounts", "workforce"})
"""Names a lead source cannot take: their streams (``<name>.<attribute>``) or their place in the
per-source breakdown (``warm_start``: the warm start's pipeline) belong to something else."""

SOURCE_NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"


def _check_sources(data: dict[str, Any]) -> list[tuple[tuple, str]]:
    """Names of ``lead_sources`` (safe, not reserved, not also given by a shorthand block), how many,
    and who may work them."""
    import re

    problems: list[tuple[tuple, str]] = []
    sources = data.get("lead_sources")
    if not isinstance(sources, dict):
        return problems
    if len(sources) + sum(1 for f in ("inbound", "outbound") if data.get(f) is not None) > lim.MAX_LEAD_SOURCES:
        problems.append((("lead_sources",), f"at most {lim.MAX_LEAD_SOURCES} lead sources"))
    for name, spec in sources.items():
        path = ("lead_sources", name)
        if not isinstance(name, str) or not re.fullmatch(SOURCE_NAME_PATTERN, name):
            problems.append((path, f"a lead source's name names its series and random streams: use letters, digits, "
                                   f"'_' and '-' (got {name!r})"))
        elif name in RESERVED_SOURCE_NAMES:
            problems.append((path, f"{name!r} cannot name a lead source (reserved: "
                                   f"{', '.join(sorted(RESERVED_SOURCE_NAMES))})"))
        elif data.get(name) is not None and name in ("inbound", "outbound"):
            problems.append((path, f"the top-level {name}: block already defines the lead source {name!r}; "
                                   f"move it into lead_sources or rename this one"))
        if isinstance(spec, dict) and spec.get("kind") == "outbound" and spec.get("worked_by") == NO_ROLE:
            problems.append(((*path, "worked_by"), "outbound prospects need a rep to dial them: worked_by must name "
                                                   "a role (worked_by: none is for inbound sign-ups)"))
    return problems


# --------------------------------------------------------------------------- limits across fields

_DAYS_PER_MONTH = 365.25 / 12.0


def _number(value: Any) -> float | None:
    """A finite number of raw data, or None (field validation reports the rest)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _horizon(data: dict[str, Any]) -> int | None:
    h = data.get("horizon_months", 24)
    return h if isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= lim.MAX_HORIZON_MONTHS else None


def check_dates(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Dated things after the horizon: hiring waves and targets, interns, outsourced reps, scripted
    arrivals (they would silently never happen).

    Problems when the horizon is the scenario's own; where ``--set horizon_months=...`` shortens it
    for a quick run, the loader reports them as warnings (:mod:`sim.scenario.loading`).
    """
    roles = _dict(data.get("roles"))
    horizon = _horizon(data)
    if horizon is None:
        return []
    problems: list[tuple[tuple, str]] = []

    def late(path: tuple, month: Any, what: str) -> None:
        if isinstance(month, int) and not isinstance(month, bool) and month > horizon:
            problems.append((path, f"{what} month {month} is after the horizon ({horizon} months): it would never "
                                   f"happen; use a month from 1 to {horizon}"))

    hiring = _dict(data.get("hiring"))
    for i, wave in enumerate(_list(hiring.get("waves"))):
        if isinstance(wave, dict):
            late(("hiring", "waves", i, "month"), wave.get("month"), "the wave's")
    for role, plan in _dict(hiring.get("targets")).items():
        for month in _dict(plan):
            late(("hiring", "targets", role, month), month, "the target's")
    for name, spec in roles.items():
        spec = _dict(spec)
        interns, outsourced = _dict(spec.get("interns")), _dict(spec.get("outsourced"))
        late(("roles", name, "interns", "start_month"), interns.get("start_month"), "the interns' start")
        late(("roles", name, "outsourced", "start_month"), outsourced.get("start_month"), "the outsourced reps' start")
    seen_months: set[int] = set()
    for i, change in enumerate(_list(data.get("reorg"))):
        month = _dict(change).get("month")
        if not isinstance(month, int) or isinstance(month, bool):
            continue
        if month >= horizon:
            problems.append((("reorg", i, "month"),
                             f"the reorg's month {month} is not inside the horizon ({horizon} months): it would "
                             f"never happen; use a month from 0 to {horizon - 1}"))
            continue
        if month in seen_months:
            problems.append((("reorg", i, "month"), f"two reorgs in month {month}: merge them into one change"))
        seen_months.add(month)
        weeks = _number(_dict(change).get("transition_weeks"))
        left_days = (horizon - month) * _DAYS_PER_MONTH
        if weeks is not None and weeks * 7 > left_days:
            problems.append((("reorg", i, "transition_weeks"),
                             f"a transition of {weeks:g} weeks outlasts the run: month {month} leaves "
                             f"{left_days / 7:.1f} weeks to the horizon"))
    horizon_days = horizon * _DAYS_PER_MONTH
    for path, spec in lead_source_specs(data):
        for i, t in enumerate(_list(spec.get("arrival_times_days"))):
            value = _number(t)
            if value is not None and value >= horizon_days:
                problems.append(((*path, "arrival_times_days", i),
                                 f"arrival at day {value:g} is after the horizon (day {horizon_days:g}): it would "
                                 "never happen"))
                break
    return problems


def _employee_seats(spec: dict, hiring: dict, role: str) -> int:
    """The employee seats ``role`` may ever have: its headcount plus its hiring waves, or its largest
    target if that is more (the seats a promotion can fill)."""
    def count(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    seats = count(spec.get("headcount"))
    seats += sum(count(_dict(w).get("count")) for w in _list(hiring.get("waves")) if _dict(w).get("role") == role)
    return max([seats, *(count(v) for v in _dict(_dict(hiring.get("targets")).get(role)).values())])


def _seats(spec: dict, hiring: dict, role: str) -> int:
    """The most reps ``role`` may ever have: its headcount, interns and outsourced reps, plus its
    hiring waves, or its largest target if that is more."""
    def count(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    seats = count(spec.get("headcount"))
    seats += sum(count(_dict(w).get("count")) for w in _list(hiring.get("waves")) if _dict(w).get("role") == role)
    targets = [count(v) for v in _dict(_dict(hiring.get("targets")).get(role)).values()]
    seats = max([seats, *targets])
    return seats + count(_dict(spec.get("interns")).get("count")) + count(_dict(spec.get("outsourced")).get("reps"))


def _check_volumes(data: dict[str, Any], roles: dict) -> list[tuple[tuple, str]]:
    """What bounds a run's time and memory: the reps a role (and the org) may ever have, the leads
    of a month and of a whole replication, the items of a warm start."""
    problems: list[tuple[tuple, str]] = []
    hiring = _dict(data.get("hiring"))
    seats = {name: _seats(_dict(spec), hiring, name) for name, spec in roles.items()}
    for name, n in seats.items():
        if n > lim.MAX_SEATS_PER_ROLE:
            problems.append((("roles", name), f"role {name!r} would have up to {n:,} reps (headcount, hiring waves "
                                              f"and targets, interns, outsourced reps); at most "
                                              f"{lim.MAX_SEATS_PER_ROLE:,}"))
    if sum(seats.values()) > lim.MAX_TOTAL_SEATS:
        problems.append((("roles",), f"the org would have up to {sum(seats.values()):,} reps; at most "
                                     f"{lim.MAX_TOTAL_SEATS:,}"))
    horizon = _horizon(data)
    if horizon is None:
        return problems
    total = 0.0
    for path, spec in lead_source_specs(data):
        kind = spec.get("kind", path[0])
        if kind == "inbound":
            if isinstance(spec.get("arrival_times_days"), list):
                total += len(spec["arrival_times_days"])
                continue
            rate, growth = _number(spec.get("mqls_per_month")), _number(spec.get("growth_per_month", 0.0))
            season = [_number(x) for x in _list(spec.get("seasonality"))] or [1.0]
            if rate is not None and growth is not None and growth > -1 and all(x is not None for x in season):
                monthly = [rate * math.exp(min(700.0, m * math.log1p(growth))) * season[m % len(season)]
                           for m in range(horizon)]
                peak = max(monthly)
                if peak > lim.MAX_LEADS_PER_MONTH:
                    month = monthly.index(peak) + 1
                    problems.append(((*path, "mqls_per_month"),
                                     f"the MQL rate reaches {peak:,.3g} a month (month {month}, with growth_per_month "
                                     f"and seasonality); at most {lim.MAX_LEADS_PER_MONTH:,}"))
                    return problems
                total += sum(monthly)
        elif kind == "outbound":
            per_rep = _number(spec.get("prospects_per_rep_month", 480.0))
            if per_rep is None:
                continue
            role = spec.get("worked_by", "sdr")
            monthly = per_rep * seats.get(role, 0) if isinstance(role, str) else 0.0
            if monthly > lim.MAX_LEADS_PER_MONTH:
                problems.append(((*path, "prospects_per_rep_month"),
                                 f"up to {monthly:,.3g} prospects a month ({per_rep:g} for each of up to "
                                 f"{seats[role]:,} {role} reps); at most {lim.MAX_LEADS_PER_MONTH:,}"))
                return problems
            total += monthly * horizon
    if total > lim.MAX_LEADS_PER_REPLICATION:
        problems.append(((), f"a replication would have about {total:,.0f} leads over {horizon} months; at most "
                             f"{lim.MAX_LEADS_PER_REPLICATION:,} (lower the volumes or the horizon)"))
    warm = _dict(data.get("warm_start"))
    items = sum(_dict(item).get("count", 0) for section in ("pipeline", "customers")
                for item in _list(warm.get(section))
                if isinstance(_dict(item).get("count", 0), int))
    if items > lim.MAX_WARM_ITEMS:
        problems.append((("warm_start",), f"the warm start places {items:,} leads and customers; at most "
                                          f"{lim.MAX_WARM_ITEMS:,}"))
    return problems


# --------------------------------------------------------------------------- warnings


def check_warnings(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What a scenario may do but probably does not mean: printed, never refused.

    * a role with a job in the flow (leads, SQLs or customers are routed to it) that has no rep at
      the start and none coming (no hiring wave, target, interns or outsourced reps; a promotion
      only fills seats these make): its work waits, goes stale or is lost;
    * the set-up warnings of :func:`_setup_warnings` (new hires beyond a tenure list, unreachable
      segments).
    """
    warnings: list[tuple[tuple[str | int, ...], str]] = _setup_warnings(data)
    roles = _dict(data.get("roles"))
    hiring = _dict(data.get("hiring"))
    seen: set[str] = set()
    for a in assignments(data):
        spec = roles.get(a.role)
        if not isinstance(spec, dict) or a.role in seen or spec.get("headcount") != 0:
            continue
        if _seats(spec, hiring, a.role) > 0:
            continue
        seen.add(a.role)
        doing = " and ".join(JOBS[j].doing for j in jobs_by_role(data).get(a.role, (a.job,)))
        warnings.append((("roles", a.role, "headcount"),
                         f"role {a.role!r} {doing} but has headcount 0 and no hiring: its work will wait, go stale "
                         "or be lost (give it a headcount, a hiring wave or a target)"))
    return warnings


SHARE_TOLERANCE = 1e-6
"""How far the weights of a mix (segments, regions, industries) may be from summing to 1."""


def _check_shares(path: tuple[str | int, ...], mix: dict, kind: str) -> list[tuple[tuple, str]]:
    """The weights of a mix are shares of the leads: they must sum to 1 (``0.6`` for 60%). Weights
    that do not are refused rather than normalised, so that ``{smb: 0.7, mid_market: 0.4}`` is not
    read silently as 64% and 36%."""
    weights = [w for w in mix.values() if isinstance(w, int | float) and not isinstance(w, bool)]
    if len(weights) != len(mix) or any(w < 0 for w in weights):
        return []  # field validation reports the bad weight
    total = sum(weights)
    if abs(total - 1.0) <= SHARE_TOLERANCE:
        return []
    start = f"the {kind} weights are shares of the leads and must sum to 1"
    if total <= 0:
        return [(path, f"{start}; they are all zero")]
    if total > 1.5 and abs(total - 100.0) <= 100 * SHARE_TOLERANCE:
        fix = "as fractions: " + ", ".join(f"{k}: {w / 100:g}" for k, w in mix.items())
    else:
        fix = "with the same proportions: " + ", ".join(f"{k}: {w / total:.3g}" for k, w in mix.items())
    return [(path, f"{start} (write 0.6 for 60%), but they sum to {total:g}; {fix}")]


def _check_time_splits(data: dict[str, Any], roles: dict) -> list[tuple[tuple, str]]:
    """``time_split`` only on roles with jobs at several desks, naming their jobs, summing to 1."""
    problems: list[tuple[tuple, str]] = []
    jobs = jobs_by_role(data)
    for name, spec in roles.items():
        split = spec.get("time_split") if isinstance(spec, dict) else None
        if not isinstance(split, dict) or not split:
            continue
        path = ("roles", name, "time_split")
        held = jobs.get(name, ())
        desks = desks_of(held)
        if len(desks) < 2:
            doing = " and ".join(JOBS[j].doing for j in held) or "has no job in the flow"
            problems.append((path, f"time_split is for a role with jobs at several desks (e.g. prospect and "
                                   f"close); role {name!r} {doing}"))
            continue
        for job in split:
            if job in {j.value for j in held} or job not in {j.value for j in Job}:
                continue  # an unknown job name is reported by field validation
            problems.append(((*path, job), f"role {name!r} does not {job.replace('_', ' ')}; its jobs: "
                                           f"{', '.join(j.value for j in held)}"))
        shares = [v for v in split.values() if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(shares) == len(split) and abs(sum(shares) - 1.0) > 1e-6:
            total = sum(shares)
            hint = f"; write {', '.join(f'{v / total:.2f}' for v in shares)}" if total > 1.5 else ""
            problems.append((path, f"the shares of a rep's time must sum to 1 (they sum to {total:g}){hint}"))
    return problems


def _check_workforce(data: dict[str, Any], roles: dict, segments: dict, unknown) -> list[tuple[tuple, str]]:
    """Hiring waves and targets, promotions, warm start: names that must exist, ladders without cycles."""
    problems: list[tuple[tuple, str]] = []
    org = data.get("org") if isinstance(data.get("org"), dict) else {}
    pods = org.get("pods") if isinstance(org.get("pods"), dict) else {}
    hiring = data.get("hiring") if isinstance(data.get("hiring"), dict) else {}
    waves = hiring.get("waves") if isinstance(hiring.get("waves"), list) else []
    for i, wave in enumerate(waves):
        if not isinstance(wave, dict):
            continue
        role = wave.get("role")
        if isinstance(role, str) and role not in roles:
            problems.append((("hiring", "waves", i, "role"), unknown("role", role, roles)))
        team = wave.get("team")
        if isinstance(team, str):
            if team not in pods:
                problems.append((("hiring", "waves", i, "team"), unknown("POD", team, pods)))
            elif role in (org.get("pooled_roles") or []):
                problems.append((("hiring", "waves", i, "team"), f"role {role!r} is pooled: its hires join the pool"))
    targets = hiring.get("targets") if isinstance(hiring.get("targets"), dict) else {}
    for role in targets:
        if role not in roles:
            problems.append((("hiring", "targets", role), unknown("role", role, roles)))
    cycles: set[frozenset[str]] = set()
    for name, spec in roles.items():
        if not isinstance(spec, dict):
            continue
        promotion = spec.get("promotion")
        if isinstance(promotion, dict) and isinstance(promotion.get("to"), str):
            target = promotion["to"]
            if target not in roles:
                problems.append((("roles", name, "promotion", "to"), unknown("role", target, roles)))
            elif isinstance(roles[target], dict) and _employee_seats(roles[target], hiring, target) == 0:
                problems.append((("roles", name, "promotion", "to"),
                                 f"role {target!r} never has a seat (headcount 0, no hiring wave or target): a "
                                 "promotion fills an open seat of the role above, so none could happen; give "
                                 f"{target!r} a headcount, a hiring wave or a target"))
            else:
                chain, current = [name], target
                while current is not None and current not in chain:
                    chain.append(current)
                    nxt = roles.get(current, {}).get("promotion") if isinstance(roles.get(current), dict) else None
                    current = nxt.get("to") if isinstance(nxt, dict) else None
                if current is not None and current == name and frozenset(chain) not in cycles:
                    cycles.add(frozenset(chain))
                    problems.append((("roles", name, "promotion", "to"),
                                     "promotion cycle: " + " → ".join([*chain, name])))
        if isinstance(spec.get("outsourced"), dict) and spec.get("dials_per_day") is None:
            problems.append((("roles", name, "outsourced"),
                             "outsourced capacity is for development roles (MDR/SDR): the role needs dials_per_day"))
    warm = data.get("warm_start") if isinstance(data.get("warm_start"), dict) else {}
    inbound_sources = [p[-1] for p, spec in lead_source_specs(data) if spec.get("kind", p[0]) == "inbound"]
    for i, item in enumerate(_list(warm.get("pipeline"))):
        source = _dict(item).get("source")
        if isinstance(source, str) and source not in inbound_sources:
            problems.append((("warm_start", "pipeline", i, "source"), unknown("inbound lead source", source,
                                                                               inbound_sources)))
    for section in ("pipeline", "customers"):
        items = warm.get(section) if isinstance(warm.get(section), list) else []
        for i, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get("segment"), str) and item["segment"] not in segments:
                problems.append((("warm_start", section, i, "segment"), unknown("segment", item["segment"], segments)))
    return problems


def _positive_names(*weights: Any) -> set[str]:
    """Names with a positive weight in any of the given maps."""
    out: set[str] = set()
    for mapping in weights:
        if isinstance(mapping, dict):
            out.update(k for k, w in mapping.items() if isinstance(w, int | float) and w > 0)
    return out


def _check_org(data: dict[str, Any], roles: dict, segments: dict, unknown) -> list[tuple[tuple, str]]:
    """PODs, pooled roles and market slices against roles, headcounts and the market."""
    problems: list[tuple[tuple, str]] = []
    org = data.get("org") if isinstance(data.get("org"), dict) else {}
    structure = org.get("structure", "silo")
    pods = org.get("pods") if isinstance(org.get("pods"), dict) else {}
    pooled = org.get("pooled_roles") if isinstance(org.get("pooled_roles"), list) else []
    effects = _dict(org.get("pod_effects"))
    if structure == "silo":
        if pods:
            problems.append((("org", "pods"), "pods are only used with structure: pod or hybrid"))
        if effects:
            problems.append((("org", "pod_effects"), "pod_effects are only used with structure: pod or hybrid"))
        if pooled:
            problems.append((("org", "pooled_roles"), "pooled_roles are only used with structure: hybrid"))
        return problems
    if structure not in ("pod", "hybrid"):
        return problems
    if not pods:
        problems.append((("org", "structure"), f"structure {structure!r} needs at least one POD under org.pods"))
        return problems
    if structure == "pod" and pooled:
        problems.append((("org", "pooled_roles"), "pooled roles make a hybrid: use structure: hybrid"))
    if structure == "hybrid" and not pooled:
        problems.append((("org", "pooled_roles"), "structure 'hybrid' needs pooled_roles (e.g. [mdr] or [csm])"))
    for i, role in enumerate(pooled):
        if role not in roles:
            problems.append((("org", "pooled_roles", i), unknown("role", role, roles)))

    market = data.get("market") if isinstance(data.get("market"), dict) else {}
    live_segments = _positive_names(*(spec.get("segment_mix") for _, spec in lead_source_specs(data)))
    slices = {
        "segments": (segments, live_segments, "segment"),
        "regions": (market.get("regions") or {}, _positive_names(market.get("regions")), "region"),
        "industries": (market.get("industries") or {}, _positive_names(market.get("industries")), "industry"),
    }
    seats: dict[str, int] = {}
    for pod_name, pod in pods.items():
        if not isinstance(pod, dict):
            continue
        composition = pod.get("composition") if isinstance(pod.get("composition"), dict) else {}
        for role, count in composition.items():
            path = ("org", "pods", pod_name, "composition", role)
            if role not in roles:
                problems.append((path, unknown("role", role, roles)))
            elif role in pooled:
                problems.append((path, f"role {role!r} is pooled (org.pooled_roles) and cannot also sit in a POD"))
            elif isinstance(count, int):
                seats[role] = seats.get(role, 0) + count
        for field, (defined, live, kind) in slices.items():
            chosen = pod.get(field)
            if not isinstance(chosen, list):
                continue
            for j, name in enumerate(chosen):
                if name not in defined:
                    problems.append((("org", "pods", pod_name, field, j), unknown(kind, name, defined)))
            if chosen and all(name in defined for name in chosen) and not any(n in live for n in chosen):
                problems.append((("org", "pods", pod_name, field),
                                 f"no lead can have these {field} (their weights are zero or they are in no mix): "
                                 f"this POD's market slice is empty"))
    lead = _dict(effects.get("pod_lead"))
    if "role" in lead and lead["role"] not in {r for p in pods.values() for r in _dict(_dict(p).get("composition"))}:
        problems.append((("org", "pod_effects", "pod_lead", "role"),
                         f"the POD lead's role {lead['role']!r} has no seat in any POD's composition"))
    for role, spec in roles.items():
        if not isinstance(spec, dict) or role in pooled or not isinstance(spec.get("headcount"), int):
            continue
        have = seats.get(role, 0)
        if have != spec["headcount"]:
            problems.append((("roles", role, "headcount"),
                             f"headcount is {spec['headcount']} but the PODs' compositions hold {have} {role} "
                             f"seat(s); make them match{' or pool the role' if structure == 'hybrid' else ''}"))
    return problems



def _check_reorgs(data: dict[str, Any], roles: dict, segments: dict, unknown) -> list[tuple[tuple, str]]:
    """Each reorg's target org against the roles and their headcounts after it (the same checks as
    ``org``, reported under ``reorg[i]``); roles whose reps share their time between desks cannot be
    reorganized yet."""
    problems: list[tuple[tuple, str]] = []
    for i, change in enumerate(_list(data.get("reorg"))):
        if not isinstance(change, dict):
            continue
        headcount = _dict(change.get("headcount"))
        for role in headcount:
            if role not in roles:
                problems.append((("reorg", i, "headcount", role), unknown("role", role, roles)))
        after = {role: ({**spec, "headcount": headcount[role]} if isinstance(spec, dict) and role in headcount
                        else spec) for role, spec in roles.items()}
        org = change.get("org")
        if not isinstance(org, dict):
            continue
        for path, message in _check_org({**data, "org": org, "roles": after}, after, segments, unknown):
            if path[:1] == ("roles",) and path[-1:] == ("headcount",):
                role = path[1]
                path = ("reorg", i, "headcount", role) if role in headcount else ("reorg", i, "org", "pods")
                message += " (after the reorg)"
            else:
                path = ("reorg", i, *path)
            problems.append((path, message))
        for role in roles:
            if len(desks_of(jobs_by_role(data).get(role, ()))) > 1:
                problems.append((("reorg", i), f"role {role!r} shares its reps' time between desks (time_split): "
                                               "a reorg cannot move it yet"))
    return problems


# --------------------------------------------------------------------------- warnings


def _setup_warnings(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What a valid scenario does that its author may not expect in its set-up (part of
    :func:`check_warnings`):

    * reps beyond a role's list of ``initial_tenure_months`` start as new hires (tenure 0);
    * a segment that no lead can reach: no positive weight in any source's ``segment_mix`` and
      no warm-start pipeline (its deal size, cycle and churn are never used).
    """
    warnings: list[tuple[tuple[str | int, ...], str]] = []
    roles = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    for name, spec in roles.items():
        if not isinstance(spec, dict):
            continue
        tenures, headcount = spec.get("initial_tenure_months"), spec.get("headcount")
        if isinstance(tenures, list) and isinstance(headcount, int) and len(tenures) < headcount:
            extra = headcount - len(tenures)
            warnings.append((("roles", name, "headcount"),
                             f"{extra} of the {headcount} {name} reps have no initial_tenure_months listed: they "
                             f"start as new hires today (tenure 0, ramping from zero); list their tenures to "
                             f"start them experienced"))
    segments = data.get("segments") if isinstance(data.get("segments"), dict) else {}
    mixes = [(".".join(str(p) for p in path), spec.get("segment_mix")) for path, spec in lead_source_specs(data)]
    live = _positive_names(*(mix for _, mix in mixes))
    warm = data.get("warm_start") if isinstance(data.get("warm_start"), dict) else {}
    pipeline = warm.get("pipeline") if isinstance(warm.get("pipeline"), list) else []
    live |= {item.get("segment") for item in pipeline if isinstance(item, dict) and item.get("count")}
    sources = " or ".join(f"{flow}.segment_mix" for flow, _ in mixes) or "any segment_mix"
    for name in segments:
        if name not in live and mixes:
            warnings.append((("segments", name),
                             f"no lead can reach segment {name!r}: it has no positive weight in {sources}"))
    return warnings
