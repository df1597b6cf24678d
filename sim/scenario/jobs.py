"""Roles are bundles of jobs: what each role of a scenario does, decided in one place.

A role (any name: ``mdr``, ``ae``, ``island_rep``) does the jobs the scenario's flows give it:

========================  ===============================  =========================
job                       given by                         needs on the role
========================  ===============================  =========================
``work_inbound``          ``lead_sources.<name>.worked_by``  ``dials_per_day``
                          (``kind: inbound``; ``inbound:``)
``prospect``              ``lead_sources.<name>.worked_by``  ``dials_per_day``
                          (``kind: outbound``; ``outbound:``)
``close``                 ``segments.<name>.closed_by``    ``max_open_opportunities``
``manage_accounts``       ``customers.managed_by``         ``accounts_covered``
``expand_and_renew``      ``customers.expanded_by``        ``open_expansions``
========================  ===============================  =========================

:func:`assignments` is the one function that reads those fields. Validation
(:mod:`sim.scenario.references`), the world's desk registry (:mod:`sim.model.jobs`), the router and
the planner all ask it — through :meth:`sim.scenario.Scenario.jobs_of` once a scenario is valid —
so a new job is a line in :data:`JOBS`, its desk module and a line in the desk registry.

A role may hold several jobs. Jobs that share a desk (``work_inbound`` and ``prospect``: one
development desk serves the inbound queue first, then the prospect list) share its reps' time as
they always have; jobs on different desks (a *full-cycle* rep who prospects and closes its own
SQLs) split each rep's time by the role's ``time_split`` (equal shares by default): a rep's
dial budget is ``dials_per_day × productivity × share`` and its room for deals
``max_open_opportunities × productivity × share``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

NO_ROLE = "none"
"""``worked_by: none`` (a lead source nobody works: self-service sign-ups) and ``closed_by: none``
(a segment sold without a rep): not a role name."""


class Job(StrEnum):
    """What a role can do in the flow."""

    WORK_INBOUND = "work_inbound"
    PROSPECT = "prospect"
    CLOSE = "close"
    MANAGE_ACCOUNTS = "manage_accounts"
    EXPAND_AND_RENEW = "expand_and_renew"
    ASSIST_TRIALS = "assist_trials"
    SUPPORT_MEETINGS = "support_meetings"


class Desk(StrEnum):
    """Where a job is done: jobs on one desk share its queue and its reps' time."""

    DEVELOPMENT = "development"
    CLOSING = "closing"
    ACCOUNTS = "accounts"
    ACCOUNT_MANAGEMENT = "account_management"
    SELF_SERVICE = "self_service"
    SUPPORT = "support"


@dataclass(frozen=True)
class JobNeeds:
    """What a job asks of the role that holds it."""

    desk: Desk
    capacity_field: str
    """The role field that sizes one fully ramped rep's capacity for the job."""
    doing: str
    """The job in words, for messages ("works inbound leads")."""


JOBS: dict[Job, JobNeeds] = {
    Job.WORK_INBOUND: JobNeeds(Desk.DEVELOPMENT, "dials_per_day", "works inbound leads"),
    Job.PROSPECT: JobNeeds(Desk.DEVELOPMENT, "dials_per_day", "works outbound leads"),
    Job.CLOSE: JobNeeds(Desk.CLOSING, "max_open_opportunities", "closes deals"),
    Job.MANAGE_ACCOUNTS: JobNeeds(Desk.ACCOUNTS, "accounts_covered", "looks after customers"),
    Job.EXPAND_AND_RENEW: JobNeeds(Desk.ACCOUNT_MANAGEMENT, "open_expansions",
                                   "works expansion opportunities and renewals"),
    Job.ASSIST_TRIALS: JobNeeds(Desk.SELF_SERVICE, "trials_assisted", "touches self-service trials"),
    Job.SUPPORT_MEETINGS: JobNeeds(Desk.SUPPORT, "meetings_supported", "supports opportunity meetings"),
}
"""Every job, the desk it is done at and the capacity field it needs."""

DEFAULT_ROLE = {Job.WORK_INBOUND: "mdr", Job.PROSPECT: "sdr", Job.CLOSE: "ae", Job.MANAGE_ACCOUNTS: "csm"}
"""The role a job goes to when the scenario does not name one (the schema's defaults)."""


@dataclass(frozen=True)
class Assignment:
    """One job given to one role, and where in the scenario it is given."""

    role: str
    job: Job
    path: tuple[str | int, ...]


def _field(container: Any, name: str, default: Any = None) -> Any:
    """A field of a validated model or of raw data (a dict), or ``default``."""
    if isinstance(container, Mapping):
        return container.get(name, default)
    return getattr(container, name, default)


def assignments(scenario: Any) -> list[Assignment]:
    """Every (role, job) pair the scenario's flows make, in scenario order.

    Works on a validated :class:`~sim.scenario.Scenario` and on raw scenario data alike (so that
    validation can report problems even when fields failed to validate). Names that are not
    strings are skipped (validation reports them). The role managing accounts defaults to ``csm``
    only when such a role exists; named explicitly, it is always assigned (and checked).
    """
    out: list[Assignment] = []
    for path, spec in lead_source_specs(scenario):
        kind = _field(spec, "kind", path[0])
        job = {"inbound": Job.WORK_INBOUND, "outbound": Job.PROSPECT}.get(kind) if isinstance(kind, str) else None
        if job is None:
            continue  # validation reports the kind
        role = _field(spec, "worked_by", DEFAULT_ROLE[job])
        if isinstance(role, str) and role != NO_ROLE:
            out.append(Assignment(role, job, (*path, "worked_by")))
    segments = _field(scenario, "segments")
    if isinstance(segments, Mapping):
        for name, segment in segments.items():
            if isinstance(scenario, Mapping) and not isinstance(segment, Mapping):
                continue
            role = _field(segment, "closed_by", DEFAULT_ROLE[Job.CLOSE])
            if isinstance(role, str) and role != NO_ROLE:
                out.append(Assignment(role, Job.CLOSE, ("segments", name, "closed_by")))
            trial = _field(segment, "trial")
            assist = _field(trial, "assisted_by") if trial is not None and not isinstance(trial, str | int) else None
            if isinstance(assist, str):
                out.append(Assignment(assist, Job.ASSIST_TRIALS, ("segments", name, "trial", "assisted_by")))
            opportunity = _field(segment, "opportunity")
            support = _field(opportunity, "support") if opportunity is not None else None
            helper = _field(support, "role") if support is not None and not isinstance(support, str | int) else None
            if isinstance(helper, str):
                out.append(Assignment(helper, Job.SUPPORT_MEETINGS,
                                      ("segments", name, "opportunity", "support", "role")))
    roles = _field(scenario, "roles")
    roles = roles if isinstance(roles, Mapping) else {}
    customers = _field(scenario, "customers")
    if isinstance(scenario, Mapping):
        explicit = isinstance(customers, Mapping) and "managed_by" in customers
        role = customers.get("managed_by") if explicit else DEFAULT_ROLE[Job.MANAGE_ACCOUNTS]
    else:  # a validated scenario always has customers.managed_by (default "csm")
        role = customers.managed_by if customers is not None else None
        explicit = "managed_by" in getattr(customers, "model_fields_set", ())
    if isinstance(role, str) and (explicit or role in roles):
        out.append(Assignment(role, Job.MANAGE_ACCOUNTS, ("customers", "managed_by")))
    expander = _field(customers, "expanded_by") if customers is not None and not isinstance(customers, str | int) \
        else None
    if isinstance(expander, str):
        out.append(Assignment(expander, Job.EXPAND_AND_RENEW, ("customers", "expanded_by")))
    return out


def lead_source_specs(scenario: Any) -> list[tuple[tuple[str, ...], Any]]:
    """(path, spec) of every lead source: the ``inbound:`` and ``outbound:`` shorthands, then
    ``lead_sources`` in order. On raw data, specs that are not mappings are skipped."""
    raw = isinstance(scenario, Mapping)
    out: list[tuple[tuple[str, ...], Any]] = []
    for flow in ("inbound", "outbound"):
        spec = _field(scenario, flow)
        if spec is not None and (not raw or isinstance(spec, Mapping)):
            out.append(((flow,), spec))
    sources = _field(scenario, "lead_sources")
    if isinstance(sources, Mapping):
        for name, spec in sources.items():
            if not raw or isinstance(spec, Mapping):
                out.append((("lead_sources", name), spec))
    return out


def jobs_by_role(scenario: Any) -> dict[str, tuple[Job, ...]]:
    """Role → its jobs (each once, in :class:`Job` order), for every role that has one."""
    found: dict[str, set[Job]] = {}
    for a in assignments(scenario):
        found.setdefault(a.role, set()).add(a.job)
    return {role: tuple(job for job in Job if job in jobs) for role, jobs in found.items()}


def desks_of(jobs: tuple[Job, ...]) -> tuple[Desk, ...]:
    """The desks a role with ``jobs`` works at (each once, in :class:`Desk` order)."""
    used = {JOBS[job].desk for job in jobs}
    return tuple(desk for desk in Desk if desk in used)


def desk_shares(jobs: tuple[Job, ...], time_split: Mapping[str, float] | None) -> dict[Desk, float]:
    """Share of a rep's time at each of its desks: equal shares by default; with a ``time_split``
    (job → share), a desk's share is the sum of its jobs' shares."""
    desks = desks_of(jobs)
    if not time_split:
        return {desk: 1.0 / len(desks) for desk in desks} if desks else {}
    shares = dict.fromkeys(desks, 0.0)
    for job_name, share in time_split.items():
        shares[JOBS[Job(job_name)].desk] += float(share)
    return shares
