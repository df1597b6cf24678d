"""Which roles' cost is acquisition and which is retention: the scenario side of unit economics.

This module owns two questions about a scenario's ``economics`` block
(:class:`sim.scenario.schema.EconomicsSpec`): the share of each role's cost that counts as
acquisition cost (in CAC) and as retention cost (in CRC) — :func:`cost_shares` — and the checks
that span fields (:func:`check_economics`: the role lists name roles that exist, and no role is
named on both sides; :func:`check_quotas`: a quota counts what its role does). The formulas that
use the shares live in :mod:`sim.economics`.

Defaults (a list left null): roles whose jobs are done at the development or closing desk
(work inbound, prospect, close) are acquisition, roles that manage accounts are retention; a role
with jobs at desks of both kinds is split by its desks' shares of its reps' time
(:meth:`sim.scenario.Scenario.desk_shares`). A list that is given replaces the default of its side
only: a role it leaves out counts 0 on that side.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from sim.scenario.jobs import Desk, Job, jobs_by_role

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

ACQUISITION_DESKS: frozenset[Desk] = frozenset({Desk.DEVELOPMENT, Desk.CLOSING})
"""Desks whose work wins customers: their share of a rep's time is acquisition by default."""
RETENTION_DESKS: frozenset[Desk] = frozenset({Desk.ACCOUNTS})
"""Desks whose work keeps customers: their share of a rep's time is retention by default."""


def cost_shares(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Role → (acquisition share, retention share) of its cost, each in [0, 1], summing to at most 1.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.

    Returns
    -------
    dict[str, tuple[float, float]]
        One entry per role of ``scenario.roles``, in order; (0, 0) for a role counted in neither
        (its cost is in ``cost_usd`` only).
    """
    econ = scenario.economics
    out: dict[str, tuple[float, float]] = {}
    for role in scenario.roles:
        shares = scenario.desk_shares(role)
        acquisition = sum(share for desk, share in shares.items() if desk in ACQUISITION_DESKS)
        retention = sum(share for desk, share in shares.items() if desk in RETENTION_DESKS)
        if econ.acquisition_roles is not None:
            acquisition = 1.0 if role in econ.acquisition_roles else 0.0
            if acquisition:
                retention = 0.0
        if econ.retention_roles is not None:
            retention = 1.0 if role in econ.retention_roles else 0.0
            if retention:
                acquisition = 0.0
        out[role] = (float(acquisition), float(retention))
    return out


def check_economics(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of the ``economics`` block that span fields, on raw data: role lists naming roles
    that do not exist, and a role named in both lists (its cost would count twice)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    econ = data.get("economics")
    if not isinstance(econ, dict):
        return problems
    roles = list(data["roles"]) if isinstance(data.get("roles"), dict) else []
    named: dict[str, list[str]] = {}
    for side in ("acquisition_roles", "retention_roles"):
        names = econ.get(side)
        if not isinstance(names, list):
            continue
        for i, name in enumerate(names):
            if not isinstance(name, str):
                continue
            if name not in roles:
                close = difflib.get_close_matches(name, roles, n=1)
                problems.append((("economics", side, i),
                                 f"role {name!r} does not exist; defined roles: {', '.join(roles) or 'none'}"
                                 + (f"; did you mean {close[0]!r}?" if close else "")))
            named.setdefault(name, []).append(side)
    for i, name in enumerate(econ.get("retention_roles") or []):
        if isinstance(name, str) and len(named.get(name, ())) > 1:
            problems.append((("economics", "retention_roles", i),
                             f"role {name!r} is also in economics.acquisition_roles: a role's cost counts once, "
                             "as acquisition or as retention"))
    return problems


QUOTA_JOBS: dict[str, tuple[Job, ...]] = {
    "new_arr_usd": (Job.CLOSE,), "wins": (Job.CLOSE,), "opportunities": (Job.CLOSE,),
    "sqls": (Job.WORK_INBOUND, Job.PROSPECT),
}
"""The jobs that book each quota metric: a closer's deals, a development rep's SQLs."""


def check_quotas(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of ``roles.<name>.quota`` that span fields, on raw data: a quota on something the
    role does not do (an SQL quota for a closer, a new-ARR quota for an SDR) would never be met."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    roles = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    jobs = jobs_by_role(data)
    for name, spec in roles.items():
        quota = spec.get("quota") if isinstance(spec, dict) else None
        metric = quota.get("metric") if isinstance(quota, dict) else None
        if not isinstance(metric, str) or metric not in QUOTA_JOBS:
            continue
        if not set(QUOTA_JOBS[metric]) & set(jobs.get(name, ())):
            doing = "closes deals" if QUOTA_JOBS[metric] == (Job.CLOSE,) else "works leads into SQLs"
            problems.append((("roles", name, "quota", "metric"),
                             f"a {metric} quota needs a role that {doing}; role {name!r} does not"))
    return problems
