"""A role whose reps work at several desks: one person, a *facet* per desk, the time split between them.

This module owns how a rep's time is shared when the role holds jobs at several desks (a full-cycle
rep who prospects and closes its own SQLs; an AE who also looks after its accounts). The rule
(:mod:`sim.scenario.jobs`): each desk gets a fixed share of each rep's time — the role's
``time_split``, equal shares by default — so a rep's dial budget is ``dials_per_day ×
productivity × share`` and its room for deals ``max_open_opportunities × productivity × share``.

The desks themselves are unchanged: each works on its own *facet pool* holding one facet
(:class:`~sim.model.workforce.Rep`) per person, with the person's id, seat, ramp and conversion,
and productivity × the desk's share. :class:`SharedTimeDesk` is the desk of the person's pool: the
workforce tells it when people join, leave or change productivity, and it tells each facet desk.
The person pool's capacity and load levels add the facet pools' levels in full-time equivalents
(a dial slot, an open deal, an account as the share of a rep's day it takes), so the role's
utilization is the share of its reps' time in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.eventlog import Level
from sim.model.workforce import Rep, RolePool


class WeightedLevelSum(Level):
    """A level that is the weighted sum of other levels (read with :meth:`take_area` only)."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[tuple[Level, float]]) -> None:
        super().__init__()
        self.parts = parts

    def take_area(self, t: float) -> float:
        return sum(weight * level.take_area(t) for level, weight in self.parts)

    def add(self, t: float, delta: float) -> None:  # pragma: no cover - a programming error
        raise TypeError("a shared-time pool's levels are the sum of its desks' levels")

    set = add


@dataclass
class Facet:
    """One desk of a shared-time role: its pool, its desk, its share of time, and the weight that
    turns one unit of the desk's capacity (a dial slot, a deal, an account) into FTE."""

    pool: RolePool
    desk: Any
    share: float
    fte_per_unit: float


class SharedTimeDesk:
    """The desk of a role that works at several desks: forwards the workforce's news to each."""

    def __init__(self, pool: RolePool, facets: list[Facet]) -> None:
        self.pool = pool
        self.facets = facets
        self.facet_of: dict[int, list[Rep]] = {}
        """Person id → its facet reps, in the order of ``facets``."""
        pool.desk = self
        pool.capacity = WeightedLevelSum([(f.pool.capacity, f.fte_per_unit) for f in facets])
        pool.busy = WeightedLevelSum([(f.pool.busy, f.fte_per_unit) for f in facets])

    def _facet_rep(self, person: Rep, facet: Facet) -> Rep:
        rep = Rep(person.id, facet.pool, person.seat, person.hire_t, person.tenure0_months, person.ramp,
                  person.kind)
        rep.ramp_level = person.ramp_level
        rep.productivity = person.productivity * facet.share
        rep.conversion = person.conversion
        rep.price_per_sql = person.price_per_sql
        rep.exit_t = person.exit_t
        return rep

    def rep_joined(self, person: Rep) -> None:
        reps = []
        for facet in self.facets:
            rep = self._facet_rep(person, facet)
            facet.pool.reps.append(rep)
            reps.append(rep)
        self.facet_of[person.id] = reps
        for facet, rep in zip(self.facets, reps, strict=True):
            facet.desk.rep_joined(rep)

    def rep_leaving(self, person: Rep, lose: bool = False) -> None:
        for facet, rep in zip(self.facets, self.facet_of.pop(person.id), strict=True):
            rep.active = False
            facet.pool.reps.remove(rep)
            facet.desk.rep_leaving(rep, lose)

    def productivity_changed(self, person: Rep) -> None:
        for facet, rep in zip(self.facets, self.facet_of[person.id], strict=True):
            rep.ramp_level = person.ramp_level
            new = person.productivity * facet.share
            if new != rep.productivity:
                rep.productivity = new
                facet.desk.productivity_changed(rep)

    def backlog(self) -> float:
        """Work waiting at the role's desks, in FTE of a fully ramped rep's capacity."""
        total = 0.0
        for facet in self.facets:
            backlog_of = getattr(facet.desk, "backlog", None)
            if backlog_of is not None:
                total += facet.fte_per_unit * backlog_of()
        return total
