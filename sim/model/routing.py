"""Teams and routing: which desk a lead or an SQL goes to, under silo, POD and hybrid orgs.

This module owns the org structure at run time. A *team* is the whole org (silo), one POD,
or the pool of shared roles (hybrid). A lead picks a team for each role it meets by the
scenario's routing policy:

* ``territory``    — a POD whose market slice (segments, regions, industries) holds the lead;
  among several, the least loaded; when none does, any POD;
* ``round_robin``  — PODs in turn, per role;
* ``least_loaded`` — the POD with the largest share of free capacity.

When the chosen POD has no free rep (vacancy or overload) the overflow rule decides: ``wait``
in its queue, ``spill`` to the least-loaded POD that has room (waiting if none has), or
``lose`` the lead. An SQL stays in its POD when the POD has closers (hand-off ``pod_handoff``);
crossing between a pool and a POD, or spilling to another POD, uses the across-functions
``handoff``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.model.closing import ClosingDesk, HandoffLeg
from sim.model.development import DevelopmentDesk
from sim.model.leads import Lead
from sim.model.workforce import RolePool
from sim.scenario import HandoffLegSpec, OrgSpec, Scenario
from sim.scenario.dists import Constant
from sim.scenario.jobs import Desk


@dataclass
class Team:
    """A team of the org: its pools, desks and (for a POD) its market slice."""

    name: str
    index: int
    is_pod: bool
    segments: frozenset[int] | None = None
    regions: frozenset[int] | None = None
    industries: frozenset[int] | None = None
    pools: dict[str, RolePool] = field(default_factory=dict)
    """Role → the pool of this team's reps of the role."""
    development: dict[str, DevelopmentDesk] = field(default_factory=dict)
    closing: dict[str, ClosingDesk] = field(default_factory=dict)
    accounts: dict[str, Any] = field(default_factory=dict)
    """Role → the desk of that role in this team, one map per desk (:mod:`sim.model.jobs`);
    :attr:`desks` holds the same maps by :class:`~sim.scenario.jobs.Desk` (the routing reads
    these ones: an enum key costs a Python-level hash per lookup)."""
    desks: dict[Desk, dict[str, Any]] = field(default_factory=dict)
    account_pools: dict[str, RolePool] = field(default_factory=dict)
    """Role → the pool whose reps look after this team's accounts (the role's pool, or its
    accounts facet when the role also works at another desk)."""
    staffed: frozenset[str] = frozenset()
    """Roles with at least one seat in this team."""

    def __post_init__(self) -> None:
        self.desks = {Desk.DEVELOPMENT: self.development, Desk.CLOSING: self.closing, Desk.ACCOUNTS: self.accounts}

    def owns(self, lead: Lead) -> bool:
        """Whether the lead is in this team's market slice."""
        return (
            (self.segments is None or lead.segment in self.segments)
            and (self.regions is None or lead.region in self.regions)
            and (self.industries is None or lead.industry in self.industries)
        )


def team_layout(scenario: Scenario) -> list[tuple[str, bool, dict[str, list[int]]]]:
    """(team name, is a POD, role → seat numbers) of every team; seats are numbered per role
    in POD order, so a rep's seat (and its random draws) is the same in any structure."""
    org = scenario.org
    if org.structure == "silo":
        return [("org", False, {role: list(range(spec.headcount)) for role, spec in scenario.roles.items()})]
    next_seat = dict.fromkeys(scenario.roles, 0)
    teams: list[tuple[str, bool, dict[str, list[int]]]] = []
    for name, pod in org.pods.items():
        seats: dict[str, list[int]] = {}
        for role in scenario.roles:
            if role in org.pooled_roles:
                continue
            count = pod.composition.get(role, 0)
            seats[role] = list(range(next_seat[role], next_seat[role] + count))
            next_seat[role] += count
        teams.append((name, True, seats))
    if org.pooled_roles:
        teams.append(("pool", False, {
            role: list(range(scenario.roles[role].headcount)) for role in org.pooled_roles
        }))
    return teams


OWN_SQL = HandoffLegSpec(delay_days=Constant(value=0.0), leakage_probability=0.0, win_odds_multiplier=1.0)
"""The "hand-off" of a full-cycle rep's own SQL: none."""


class Router:
    """Routes MQLs to development desks and SQLs to closing desks."""

    def __init__(self, scenario: Scenario, teams: list[Team], first_team: int = 0) -> None:
        org: OrgSpec = scenario.org
        self.teams = teams
        """Every team the run has had, by index (a lead's ``dev_team`` may name one a reorg dissolved)."""
        self.active = teams[first_team:]
        """The teams of the current org: the only ones work is routed to."""
        self.routing = org.routing
        self.overflow = org.overflow
        self.across = HandoffLeg(scenario.handoff)
        self.within = self.across if org.pod_handoff is None else HandoffLeg(org.pod_handoff)
        self.own = HandoffLeg(OWN_SQL)
        """A full-cycle rep's own SQL: it stays with the rep (no delay, no leakage, no lost context)."""
        self.closer_of_segment = [seg.closed_by for seg in scenario.segments.values()]
        self._turn: dict[str, int] = {}
        self._development_teams: dict[str, list[Team]] = {}
        self._closing_teams: dict[str, list[Team]] = {}
        """Role → teams where it works at the desk (string keys: looked up per lead)."""

    def _candidates(self, role: str, desk: Desk) -> list[Team]:
        """Teams where ``role`` works at ``desk`` (those with seats for it first); fixed for the run."""
        cache = self._closing_teams if desk is Desk.CLOSING else self._development_teams
        found = cache.get(role)
        if found is None:
            having = [t for t in self.active if role in t.desks[desk]]
            found = [t for t in having if role in t.staffed] or having
            cache[role] = found
        return found

    def _closing_candidates(self, role: str) -> list[Team]:
        found = self._closing_teams.get(role)
        return found if found is not None else self._candidates(role, Desk.CLOSING)

    def _choose(self, role: str, candidates: list[Team], lead: Lead, share) -> Team:
        if len(candidates) == 1:
            return candidates[0]
        if self.routing == "round_robin":
            turn = self._turn.get(role, 0)
            self._turn[role] = turn + 1
            return candidates[turn % len(candidates)]
        if self.routing == "territory":
            candidates = [t for t in candidates if t.owns(lead)] or candidates
        return max(candidates, key=share)  # max keeps the first of equals: POD order breaks ties

    def _overflow(self, chosen: Team, candidates: list[Team], room, share) -> Team | None:
        if self.overflow == "wait" or room(chosen):
            return chosen
        if self.overflow == "lose":
            return None
        others = [t for t in candidates if t is not chosen and room(t)]
        return max(others, key=share) if others else chosen

    def fixed_mql_desk(self, role: str) -> DevelopmentDesk | None:
        """The one desk every inbound lead of ``role`` goes to — a silo, or a pooled role — or
        None when each lead is routed (:meth:`route_mql`)."""
        found = self._development_teams.get(role)
        candidates = found if found is not None else self._candidates(role, Desk.DEVELOPMENT)
        return candidates[0].development[role] if len(candidates) == 1 else None

    def route_mql(self, role: str, lead: Lead) -> DevelopmentDesk | None:
        """The development desk that works an inbound lead (None: lost, no capacity)."""
        fixed = self.fixed_mql_desk(role)
        if fixed is not None:  # a silo, or a pooled role: no choice to make
            return fixed
        candidates = self._development_teams[role]

        def share(t: Team) -> float:
            return t.development[role].free_share()
        def room(t: Team) -> bool:
            return t.development[role].has_free_slot()
        chosen = self._choose(role, candidates, lead, share)
        team = self._overflow(chosen, candidates, room, share)
        return None if team is None else team.development[role]

    def route_sql(self, lead: Lead) -> tuple[ClosingDesk, HandoffLeg] | None:
        """The closing desk and hand-off leg of an SQL (None: lost, no capacity)."""
        role = self.closer_of_segment[lead.segment]
        candidates = self._closing_candidates(role)
        home = self.teams[lead.dev_team] if lead.dev_team >= 0 else None
        team: Team | None
        if len(candidates) == 1:
            team = candidates[0]
            return team.closing[role], self._leg(home, team)

        def share(t: Team) -> float:
            return t.closing[role].free_share()
        def room(t: Team) -> bool:
            return t.closing[role].has_room()
        chosen: Team | None
        if home is not None and home.is_pod and home in candidates:
            chosen = home
        else:
            chosen = self._choose(role, candidates, lead, share)
        team = self._overflow(chosen, candidates, room, share)
        if team is None:
            return None
        return team.closing[role], self._leg(home, team)

    def _leg(self, home: Team | None, team: Team) -> HandoffLeg:
        """The hand-off within a POD (the SQL stays in its home POD) or across teams."""
        return self.within if (home is not None and team is home and team.is_pod) else self.across

    def home_team(self, lead: Lead, role: str) -> Team | None:
        """The team whose market slice holds the lead among those with ``role`` (warm start)."""
        candidates = [t for t in self.active if role in t.pools]
        staffed = [t for t in candidates if role in t.staffed] or candidates
        owners = [t for t in staffed if t.owns(lead)] or staffed
        return owners[0] if owners else None

    def account_pool(self, role: str | None, closer_team: int) -> RolePool | None:
        """The pool of the role that manages accounts (CSMs) that looks after an account won by
        ``closer_team``: that team's, else the shared pool (hybrid) or the silo's."""
        if role is None:
            return None
        team = self.teams[closer_team] if closer_team >= 0 else None
        if team is not None and role in team.account_pools:
            return team.account_pools[role]
        for t in self.active:  # a pooled role (hybrid) or the silo
            if role in t.account_pools and not t.is_pod:
                return t.account_pools[role]
        return None
