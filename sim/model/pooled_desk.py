"""One pool of reps for a whole role, across teams: the desk protocol the supporting roles share.

This module owns :class:`PooledRoleDesk`, the part of a desk that keeps a role's reps (every
team's) in one least-loaded-first heap of reps with room: each rep holds at most its role's
capacity field (``meetings_supported`` for sales engineers, ``open_expansions`` for account
managers) × its productivity items at once. It implements the ``Desk`` protocol of
:mod:`sim.model.workforce` (reps joining, ramping, leaving); a subclass decides what the items
are and, in :meth:`PooledRoleDesk._serve`, starts the waiting ones when a rep gains room. Items a
rep had started go on without it when it leaves (their outcomes are the leads' and accounts'
latent draws).
"""

from __future__ import annotations

from sim.model.engine.calendar import Environment, Timeline
from sim.model.engine.repheap import RepHeap, rep_heap
from sim.model.workforce import Rep, RolePool


class PooledRoleDesk:
    """The reps of one role, all teams together, least loaded first among those with room."""

    capacity_field: str = ""
    """The role field that sizes one fully ramped rep's capacity (items held at once)."""

    def __init__(self, env: Environment, role: str) -> None:
        self.env = env
        self.timeline: Timeline = env.timeline
        self.role = role
        self.pools: list[RolePool] = []
        self.room: RepHeap = rep_heap()
        """Reps with room for one more item, least loaded first."""
        self.reps: dict[int, Rep] = {}

    def attach(self, pool: RolePool) -> None:
        pool.desk = self
        self.pools.append(pool)

    def _capacity(self, rep: Rep) -> float:
        return (getattr(rep.pool.spec, self.capacity_field) or 0.0) * rep.productivity

    def _touch(self, rep: Rep) -> None:
        if rep.active and rep.load + 1 <= rep.capacity + 1e-9:
            self.room.update(rep, rep.load / rep.capacity)
        else:
            self.room.remove(rep)

    def rep_joined(self, rep: Rep) -> None:
        self.reps[rep.id] = rep
        rep.capacity = self._capacity(rep)
        rep.pool.capacity.add(self.timeline.now, rep.capacity)
        self._touch(rep)
        self._serve()

    def productivity_changed(self, rep: Rep) -> None:
        new = self._capacity(rep)
        rep.pool.capacity.add(self.timeline.now, new - rep.capacity)
        rep.capacity = new
        self._touch(rep)
        self._serve()

    def rep_leaving(self, rep: Rep, lose: bool = False) -> None:
        """The items the rep had started go on without it."""
        now = self.timeline.now
        rep.pool.capacity.add(now, -rep.capacity)
        rep.pool.busy.add(now, -rep.load)
        rep.capacity = 0.0
        rep.load = 0
        self.room.remove(rep)
        del self.reps[rep.id]

    def _serve(self) -> None:
        """Start waiting items while a rep has room (the subclass's queue)."""
        raise NotImplementedError
