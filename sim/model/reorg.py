"""Reorganizing during the run: a dated change of structure (``reorg:``) and its transition.

This module owns what happens at a reorg's instant and during its transition; nothing here runs
per lead. At the start of the reorg's month (after that instant's books are closed) the world
builds the teams of the target org after the teams it already has (their indices, pools and
event-log rows are new; the old teams stay, empty, so per-team series switch at the reorg), and:

* **reps move** with their seats: a role's employees fill the target org's seats in seat order
  (a rep keeps its seat, hence its random draws), reps beyond the new headcount and interns or
  outsourced reps join the new team with the fewest reps; open requisitions move with their seats;
  a larger headcount opens requisitions for new seats, a smaller one closes seats by attrition
  (the next exits are not backfilled); managers that are hired (``manager.time_to_fill_days``) and
  their open requisitions move to the new teams that need them, the rest leave or close
  (:meth:`~sim.model.workforce.Workforce.move_managers`);
* **leads move**: MQLs waiting and leads in a development rep's cadence go to the team that owns
  them in the new org (a lead in its cadence keeps its dials, first in line); SQLs waiting for a
  closer move to the owning team's queue, SQLs in a hand-off land where they were sent and are
  moved from there once a day; open opportunities stay with their closer (``pipeline: keep``) or
  go to the least-loaded closer of the owning team with ``context_loss_odds_multiplier`` on the
  odds of their next meeting (``reassign``);
* **accounts** stay with their owner (``accounts: follow_owner``) or are spread over the owner's
  new team, least loaded first (``rebalance``); accounts waiting for an owner move with their pool;
* **the transition**: every rep's productivity × ``productivity_multiplier`` for
  ``transition_weeks``; the tenure clock of every employee present runs
  ``attrition_hazard_multiplier`` times faster for ``attrition_months`` (exits only come earlier:
  monotone in the rep's tenure draw); ``cost_usd`` is recorded in the event log.

A reorg at month 0 is the target org from day one (:func:`after_reorg`), with the transition.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

from sim.eventlog import RepKind
from sim.model.closing import ClosingDesk
from sim.model.development import DevelopmentDesk
from sim.model.leads import Lead
from sim.model.routing import Router, Team, team_layout
from sim.model.workforce import Rep, RolePool
from sim.scenario import ReorgSpec, Scenario
from sim.scenario.jobs import Desk
from sim.workcalendar import DAYS_PER_MONTH

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.world import World

DRAIN_EVERY_DAYS = 1.0
"""How often SQLs that were in a hand-off to a dissolved team are moved on."""


def after_reorg(scenario: Scenario, change: ReorgSpec) -> Scenario:
    """The scenario with ``change``'s org and headcounts (everything else unchanged)."""
    roles = {name: (spec.model_copy(update={"headcount": change.headcount[name]}) if name in change.headcount
                    else spec) for name, spec in scenario.roles.items()}
    return scenario.model_copy(update={"org": change.org, "roles": roles})


class Reorganization:
    """One dated change of structure in one replication's world."""

    def __init__(self, world: World, change: ReorgSpec) -> None:
        self.world = world
        self.change = change
        self.new_pools: list[RolePool] = []
        self.kept_deals: dict[int, list[Lead]] = {}
        """Closer id → the open deals it keeps through the move (``pipeline: keep``)."""
        self.loose_deals: list[tuple[str, Lead]] = []
        """(closer role, deal) of the open deals to be given to the owning team (``reassign``, orphans)."""
        self.loose_accounts: list[tuple[int, RolePool]] = []
        self._detached: dict[int, RolePool] = {}
        """Rep id → the pool it was taken out of."""

    # ------------------------------------------------------------------ processes

    def run(self) -> Generator[simpy.Event, None, None]:
        """Wait for the reorg's month, reorganize, then run the transition."""
        world = self.world
        t = world.month_starts[self.change.month]
        yield world.env.timeout(t - world.env.now)
        self.apply()
        yield from self.transition()

    def transition(self) -> Generator[simpy.Event, None, None]:
        """The transition's cost, productivity dip and attrition (from now)."""
        world, change = self.world, self.change
        env = world.env
        if change.cost_usd:
            world.log.reorgs.append((env.now, change.cost_usd))
        pools = self.new_pools or list(world.pools)
        if change.attrition_hazard_multiplier != 1.0 and change.attrition_months > 0:
            self._hasten_exits(pools)
        if change.productivity_multiplier == 1.0 or change.transition_weeks <= 0:
            return
        self._set_disruption(pools, change.productivity_multiplier)
        yield env.timeout(min(change.transition_weeks * 7.0, world.horizon_days - env.now))
        self._set_disruption(pools, 1.0)

    def drain(self, desks: list[ClosingDesk]) -> Generator[simpy.Event, None, None]:
        """Move SQLs that landed at a dissolved team's closing desk to the new org, once a day,
        until none is on its way there."""
        world = self.world
        while any(d.in_transit or d.queue for d in desks):
            yield world.env.timeout(DRAIN_EVERY_DAYS)
            if world.env.now >= world.horizon_days:
                return
            self._requeue_sqls(desks)

    # ------------------------------------------------------------------ the change

    def _set_disruption(self, pools: list[RolePool], factor: float) -> None:
        workforce = self.world.workforce
        for pool in pools:
            pool.disruption = factor
            workforce._refresh(pool)

    def _hasten_exits(self, pools: list[RolePool]) -> None:
        """Every employee's tenure clock runs ``k`` times faster for the window (exits only earlier)."""
        world, change = self.world, self.change
        now, k = world.env.now, change.attrition_hazard_multiplier
        window = change.attrition_months * DAYS_PER_MONTH
        for pool in pools:
            for rep in list(pool.reps):
                if rep.kind != RepKind.EMPLOYEE or not math.isfinite(rep.exit_t) or rep.exit_t <= now:
                    continue
                left = rep.exit_t - now
                hastened = now + left / k if left / k <= window else rep.exit_t - (k - 1.0) * window
                if hastened < rep.exit_t:
                    world.env.process(world.workforce.exit_early(rep, hastened))

    def apply(self) -> None:
        """Reorganize now: build the target org's teams and move reps, leads and accounts there."""
        world, change = self.world, self.change
        old_teams = [t for t in world.router.active]
        first = len(world.teams)
        world.scenario = after_reorg(world.scenario, change)
        layout = team_layout(world.scenario)
        month = change.month
        new_teams = world.build_teams(layout)
        for team in new_teams:
            world.log.teams.append(team.name)
        start = len(world.log.pools)
        for pool in world.pools[start:]:
            world.log.pools.append((pool.index, pool.team))
            self.new_pools.append(pool)
            for m in range(month + 1):  # the new teams were empty before the reorg
                world.zero_levels(m, pool)
        world.router = Router(world.scenario, world.teams, first_team=first)
        for chain in world.arrivals:  # each inbound source's one desk (silo, pooled role) is the new org's
            chain.desk = None if chain.unworked else world.router.fixed_mql_desk(chain.role)
        self._move_people(old_teams, new_teams)
        old_closing = [d for t in old_teams for d in t.closing.values()]
        self._move_leads(old_teams, new_teams)
        for team in new_teams:
            for desk in (*team.development.values(), *team.closing.values()):
                desk.fill()
        if any(d.in_transit for d in old_closing):
            world.env.process(self.drain(old_closing))

    def _move_people(self, old_teams: list[Team], new_teams: list[Team]) -> None:
        world = self.world
        workforce = world.workforce
        scenario = world.scenario
        for role in scenario.roles:
            olds = [t.pools[role] for t in old_teams if role in t.pools]
            news = [t.pools[role] for t in new_teams if role in t.pools]
            workforce.pools_of_role[role] = news
            if not news:
                continue
            reps = sorted((r for p in olds for r in p.reps), key=lambda r: (r.kind, r.seat, r.id))
            slots = [p for p in news for _ in p.seats]
            employees = [r for r in reps if r.kind == RepKind.EMPLOYEE]
            requisitions = sorted((seat, p) for p in olds for seat in p.requisition_seats)
            for pool in olds:
                self._detach_all(pool)
            placed: dict[int, RolePool] = {}
            for i, rep in enumerate(employees):
                placed[rep.id] = slots[i] if i < len(slots) else min(news, key=lambda p: (len(p.reps), p.team))
                self._attach(rep, placed[rep.id])
            for rep in reps:
                if rep.kind != RepKind.EMPLOYEE:
                    self._attach(rep, min(news, key=lambda p: (len(p.reps), p.team)))
            for seat, old in requisitions:  # open requisitions fill seats of the new teams
                target = self._most_vacant(news, slots)
                old.open_requisitions -= 1
                old.requisition_seats.discard(seat)
                target.open_requisitions += 1
                target.requisition_seats.add(seat)
                workforce.redirect[(old.pool_index, seat)] = target
            for old in olds:
                old.retired = True
                old.open_requisitions = 0
                workforce._refresh(old)
            workforce.move_managers(olds, news)  # managers hired (manager.time_to_fill_days) move with the reps
            have = len(employees) + len(requisitions)
            headcount = scenario.roles[role].headcount
            if have > headcount:
                workforce.surplus[role] = workforce.surplus.get(role, 0) + have - headcount
            for _ in range(headcount - have):
                workforce.open_requisition(self._most_vacant(news, slots), workforce._new_seat(role), 0)
            for pool in news:
                workforce._refresh(pool)

    def _most_vacant(self, news: list[RolePool], slots: list[RolePool]) -> RolePool:
        def vacancy(p: RolePool) -> tuple[int, int]:
            return (slots.count(p) - len(p.reps) - p.open_requisitions, -p.team)
        return max(news, key=vacancy)

    def _detach_all(self, pool: RolePool) -> None:
        """Take every rep out of ``pool`` and its desk, keeping what moves with them."""
        now = self.world.env.now
        desk = pool.desk
        reps = list(pool.reps)
        pool.reps.clear()
        for rep in reps:
            pool.fte.add(now, -rep.productivity)
        if isinstance(desk, DevelopmentDesk):
            for rep in reps:
                desk.free.remove(rep)
            for rep in reps:
                desk.rep_leaving(rep)  # its leads go back to the desk, in their cadence; moved below
        elif isinstance(desk, ClosingDesk):
            for rep in reps:
                deals = desk.hand_over(rep)
                if self.change.pipeline == "keep":
                    self.kept_deals[rep.id] = deals
                else:
                    self.loose_deals.extend((pool.name, lead) for lead in deals)
            self.loose_deals.extend((pool.name, lead) for lead in sorted(desk.orphans, key=lambda x: x.id))
            desk.orphans.clear()
        for rep in reps:
            self._detached[rep.id] = pool

    def _attach(self, rep: Rep, pool: RolePool) -> None:
        world = self.world
        now = world.env.now
        old = self._detached.pop(rep.id)
        if old.win_odds != pool.win_odds:  # a POD's win odds belong to the team, not to the rep
            rep.conversion = rep.conversion / old.win_odds * pool.win_odds
        rep.pool = pool
        pool.reps.append(rep)
        pool.fte.add(now, rep.productivity)
        desk = pool.desk
        if isinstance(desk, ClosingDesk):
            desk.join_with(rep, self.kept_deals.pop(rep.id, []))
        elif isinstance(desk, DevelopmentDesk):
            prospects = rep.prospects
            desk.rep_joined(rep)
            rep.prospects = prospects  # the month's lists are not renewed by a move
        elif desk is world.accounts:
            keep = self.change.accounts == "follow_owner"
            for account in world.accounts.move_owner(rep, old, keep):
                self.loose_accounts.append((account, pool))
        elif desk is not None:
            desk.rep_joined(rep)

    def _owner_team(self, role: str, desk: Desk, lead: Lead) -> Team | None:
        router = self.world.router
        candidates = router._candidates(role, desk)
        if not candidates:
            return None
        owners = [t for t in candidates if t.owns(lead)] or candidates
        if len(owners) == 1:
            return owners[0]
        if desk is Desk.DEVELOPMENT:
            return max(owners, key=lambda t: t.development[role].free_share())
        return max(owners, key=lambda t: t.closing[role].free_share())

    def _move_leads(self, old_teams: list[Team], new_teams: list[Team]) -> None:
        world = self.world
        in_cadence: dict[str, list[Lead]] = {}
        waiting: dict[str, list[Lead]] = {}
        for team in old_teams:
            for role, desk in team.development.items():
                in_cadence.setdefault(role, []).extend(desk.orphans)
                waiting.setdefault(role, []).extend(desk.take_queued())
                desk.orphans.clear()
        for role, leads in in_cadence.items():
            for lead in leads:  # already touched: first in line at the owning team
                target = self._owner_team(role, Desk.DEVELOPMENT, lead)
                if target is not None:
                    lead.dev_team = target.index
                    target.development[role].orphans.append(lead)
        for role, leads in waiting.items():
            for lead in sorted(leads, key=lambda x: (x.created_t, x.id)):  # queues stay oldest first
                target = self._owner_team(role, Desk.DEVELOPMENT, lead)
                if target is not None:
                    lead.dev_team = target.index
                    target.development[role].enqueue(lead)
        for role, lead in self.loose_deals:
            target = self._owner_team(role, Desk.CLOSING, lead)
            if target is None:
                continue  # pragma: no cover - validation keeps a closer role in the new org
            desk = target.closing[role]
            desk.adopt(lead, desk._least_loaded(), self.change.context_loss_odds_multiplier)
        self._requeue_sqls([d for t in old_teams for d in t.closing.values()])
        accounts = world.accounts
        for account, pool in sorted(self.loose_accounts):
            accounts.place(account, pool)
        for team in old_teams:
            for role, pool in team.account_pools.items():
                waiting = accounts.orphans.pop(pool.pool_index, set())
                news = [t.account_pools[role] for t in new_teams if role in t.account_pools]
                for account in sorted(waiting):
                    accounts.place(account, min(news, key=lambda p: (p.busy.value, p.team)))

    def _requeue_sqls(self, desks: list[ClosingDesk]) -> None:
        moving = []
        for desk in desks:
            moving.extend((desk.pool.name, lead) for lead in desk.queue)
            desk.queue.clear()
        moving.sort(key=lambda x: (x[1].handoff_t, x[1].id))
        touched = []
        for role, lead in moving:
            target = self._owner_team(role, Desk.CLOSING, lead)
            if target is None:
                continue
            target.closing[role].requeue(lead)
            touched.append(target.closing[role])
        for desk in touched:
            desk.fill()
