"""The desk registry: which desk does which job, and how the world builds one for a role in a team.

What a role does is decided by :meth:`sim.scenario.Scenario.jobs_of` (:mod:`sim.scenario.jobs`);
this module maps each :class:`~sim.scenario.jobs.Desk` to the function that builds it on a pool
of reps:

* ``development`` (jobs ``work_inbound``, ``prospect``) — :class:`~sim.model.development.DevelopmentDesk`;
* ``closing`` (``close``) — :class:`~sim.model.closing.ClosingDesk`;
* ``accounts`` (``manage_accounts``) — the replication's :class:`~sim.model.accounts.Accounts`;
* ``account_management`` (``expand_and_renew``) — the replication's
  :class:`~sim.model.account_management.AccountManagerDesk`;
* ``self_service`` (``assist_trials``) — the replication's :class:`~sim.model.self_service.SelfService`;
* ``support`` (``support_meetings``) — the role's :class:`~sim.model.support.SupportDesk`.

A role with jobs at one desk gets that desk on its pool. A role with jobs at several desks gets one
*facet pool* per desk and a :class:`~sim.model.time_split.SharedTimeDesk` on its pool that splits
each rep's time between them (:mod:`sim.model.time_split`). A new job is its line in
:data:`sim.scenario.jobs.JOBS`, its desk module, and one line in :data:`DESK_BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.model.closing import ClosingDesk
from sim.model.development import DevelopmentDesk
from sim.model.time_split import Facet, SharedTimeDesk
from sim.model.workforce import RolePool
from sim.scenario import InboundSpec
from sim.scenario.jobs import Desk, Job

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.routing import Team
    from sim.model.world import World


def build_development(world: World, pool: RolePool, team: Team, jobs: tuple[Job, ...]) -> DevelopmentDesk:
    """MDR/SDR work: the inbound queues (``work_inbound``) and/or the prospect lists (``prospect``) of
    every lead source the role works, in the order of the scenario's sources (their priority)."""
    scenario = world.scenario
    closes_own = Job.CLOSE in scenario.jobs_of(pool.name)
    desk = DevelopmentDesk(world.env, world.calendar, world.log, pool, scenario.contact,
                           world.own_sql_step(pool.name) if closes_own else world.sql_step)
    if scenario.start_date is not None:
        desk.month_starts = world.month_starts
    pod = scenario.org.pods.get(team.name) if team.is_pod else None
    for index, (_, spec) in enumerate(world.sources):
        if spec.worked_by != pool.name:
            continue
        if isinstance(spec, InboundSpec):
            desk.serve_inbound(spec, index)
        else:
            factory = world.factories[index]
            view = factory.slice_view(pod.segments, pod.regions, pod.industries) if pod else None
            desk.serve_outbound(spec, factory, view, index)
    return desk


def build_closing(world: World, pool: RolePool, team: Team, jobs: tuple[Job, ...]) -> ClosingDesk:
    """AE/FAE work: hand-offs, the queue for a free closer, opportunities. A role that also
    develops leads keeps its own SQLs where it has room (a full-cycle rep)."""
    scenario = world.scenario
    desk = ClosingDesk(world.env, world.log, pool, world.segment_specs, scenario.handoff.stale_after_days,
                       world.won_step, reassign_win_odds_multiplier=scenario.workforce.reassign_win_odds_multiplier,
                       support_desks=world.support_desks)
    desk.keeps_own_sqls = Job.WORK_INBOUND in scenario.jobs_of(pool.name) or Job.PROSPECT in scenario.jobs_of(
        pool.name)
    return desk


def build_accounts(world: World, pool: RolePool, team: Team, jobs: tuple[Job, ...]) -> Any:
    """CSM work: the replication's accounts, looked after by this pool's reps."""
    world.accounts.attach(pool)
    team.account_pools[pool.name] = pool
    return world.accounts


def build_account_management(world: World, pool: RolePool, team: Team, jobs: tuple[Job, ...]) -> Any:
    """Account-manager work: the role's one pool of managers, shared by every team's accounts."""
    desk = world.account_managers
    assert desk is not None, "customers.expanded_by names this role"
    desk.attach(pool)
    return desk


def build_self_service(world: World, pool: RolePool, team: Team, jobs: tuple[Job, ...]) -> Any:
    """Touch-assist of self-service trials: the replication's trials, touched by this pool's reps."""
    world.self_service.attach(pool)
    return world.self_service


def build_support(world: World, pool: RolePool, team: Team, jobs: tuple[Job, ...]) -> Any:
    """Sales-engineer work: the role's one pool of supporting reps, shared by every closer."""
    desk = world.support_desks[pool.name]
    desk.attach(pool)
    return desk


DeskBuilder = Callable[["World", RolePool, "Team", tuple[Job, ...]], Any]

DESK_BUILDERS: dict[Desk, DeskBuilder] = {
    Desk.DEVELOPMENT: build_development,
    Desk.CLOSING: build_closing,
    Desk.ACCOUNTS: build_accounts,
    Desk.ACCOUNT_MANAGEMENT: build_account_management,
    Desk.SELF_SERVICE: build_self_service,
    Desk.SUPPORT: build_support,
}
"""Desk → the function that builds it on a pool (the registry)."""


def fte_per_unit(world: World, pool: RolePool, desk: Desk) -> float:
    """The share of a fully ramped rep's day one unit of a desk's capacity takes (a dial slot, an
    open deal, an account, ...): turns a shared-time role's levels into full-time equivalents."""
    from sim.scenario.jobs import JOBS

    field = next(needs.capacity_field for needs in JOBS.values() if needs.desk is desk)
    per_rep = getattr(pool.spec, field) or 0.0
    if desk is Desk.DEVELOPMENT:
        per_rep /= world.scenario.contact.attempts_per_day
    return 1.0 / per_rep if per_rep > 0 else 0.0


def build_desks(world: World, pool: RolePool, team: Team, next_facet_index: Callable[[], int]) -> None:
    """Give ``pool`` (a role in a team) the desks of its role's jobs and register them with the team.

    ``next_facet_index`` numbers the facet pools of a shared-time role (apart from the pools the
    event log records)."""
    scenario = world.scenario
    jobs = scenario.jobs_of(pool.name)
    by_desk: dict[Desk, tuple[Job, ...]] = {}
    for job in jobs:
        by_desk[_desk_of(job)] = (*by_desk.get(_desk_of(job), ()), job)
    if not by_desk:
        pool.desk = IdleDesk()
        return
    if len(by_desk) == 1:
        (desk_kind, desk_jobs), = by_desk.items()
        team.desks[desk_kind][pool.name] = DESK_BUILDERS[desk_kind](world, pool, team, desk_jobs)
        return
    shares = scenario.desk_shares(pool.name)
    facets = []
    for desk_kind, desk_jobs in by_desk.items():
        facet_pool = RolePool(pool.name, pool.index, pool.spec, team=pool.team, seats=[],
                              pool_index=next_facet_index(), recruiting_load_fte=0.0)
        desk = DESK_BUILDERS[desk_kind](world, facet_pool, team, desk_jobs)
        team.desks[desk_kind][pool.name] = desk
        facets.append(Facet(facet_pool, desk, shares[desk_kind], fte_per_unit(world, pool, desk_kind)))
    SharedTimeDesk(pool, facets)


def _desk_of(job: Job) -> Desk:
    from sim.scenario.jobs import JOBS

    return JOBS[job].desk


class IdleDesk:
    """Desk of a role that has no job in the flow (its reps still cost and count)."""

    def rep_joined(self, rep) -> None: ...
    def rep_leaving(self, rep, lose: bool = False) -> None: ...
    def productivity_changed(self, rep) -> None: ...
