"""Reps and their lifecycle: start, ramp, attrition, backfill.

This module owns the people. Every rep is an individual with a seat, a hire date, a ramp
(productivity by tenure month) and a tenure drawn from the role's distribution when the rep
is created, from a stream keyed by (role, seat, generation) — so adding an AE never shifts
another rep's draws. A rep present at the start with tenure t0 draws its remaining tenure
from the distribution conditioned on exceeding t0. A leaving rep opens a requisition that is
filled after a random time to fill (when the role backfills).

Desks (development, closing, accounts) own what a rep *does*; they are told when a rep
joins, leaves or changes productivity through the :class:`Desk` protocol.
"""

from __future__ import annotations

import zlib
from collections.abc import Generator
from typing import Protocol

import simpy

from sim.eventlog import EventLog, Level, WorkforceEvent
from sim.rng import Streams
from sim.scenario import RoleSpec
from sim.workcalendar import DAYS_PER_MONTH


class Rep:
    """One rep. ``capacity`` and ``load`` are in the unit of the rep's desk (dial slots,
    open opportunities or accounts)."""

    __slots__ = (
        "active", "capacity", "dial_days", "exit_t", "hire_t", "id", "items", "load",
        "pool", "productivity", "prospects_left", "seat", "tenure0_months",
    )

    def __init__(self, rep_id: int, pool: RolePool, seat: int, hire_t: float, tenure0_months: float) -> None:
        self.id = rep_id
        self.pool = pool
        self.seat = seat
        self.hire_t = hire_t
        self.tenure0_months = tenure0_months
        self.productivity = pool.spec.productivity(tenure0_months)
        self.active = True
        self.exit_t = float("inf")
        self.capacity = 0.0
        self.load = 0
        self.items: set = set()
        self.dial_days = 0.0
        self.prospects_left = 0.0

    def tenure_months(self, t: float) -> float:
        return self.tenure0_months + (t - self.hire_t) / DAYS_PER_MONTH


class Desk(Protocol):
    """What a role's work desk must handle when its people change."""

    def rep_joined(self, rep: Rep) -> None: ...
    def rep_leaving(self, rep: Rep) -> None: ...
    def productivity_changed(self, rep: Rep) -> None: ...


class RolePool:
    """The reps of one role in one team (the whole org in a silo, or one POD), with their
    time-weighted levels.

    ``seats`` are the role's seat numbers held by this team (seat numbers are global to the
    role, so a rep's random draws do not depend on the team it sits in). ``fte`` integrates
    the sum of productivities (ramped capacity in FTE); ``capacity`` and ``busy`` integrate the
    desk's capacity and load, for utilization.
    """

    def __init__(self, name: str, index: int, spec: RoleSpec, team: int = 0,
                 seats: list[int] | None = None, pool_index: int = 0) -> None:
        self.name = name
        self.index = index
        self.spec = spec
        self.team = team
        self.seats = list(range(spec.headcount)) if seats is None else list(seats)
        self.pool_index = pool_index
        self.reps: list[Rep] = []
        self.desk: Desk | None = None
        self.fte = Level()
        self.capacity = Level()
        self.busy = Level()
        self.open_requisitions = 0

    def headcount(self) -> int:
        return len(self.reps)


class Workforce:
    """Creates reps and runs their ramp, attrition and backfill processes."""

    def __init__(self, env: simpy.Environment, streams: Streams, log: EventLog,
                 pools: list[RolePool], horizon_days: float) -> None:
        self.env = env
        self.streams = streams
        self.log = log
        self.pools = pools
        self.horizon_days = horizon_days
        self._next_id = 0

    # ------------------------------------------------------------------ creation

    def start(self) -> None:
        """Create the starting reps of every role (their desks must be attached)."""
        for pool in self.pools:
            tenures = pool.spec.tenures()
            for seat in pool.seats:
                self._add_rep(pool, seat, generation=0, tenure0_months=tenures[seat], kind=WorkforceEvent.START)

    def _draws(self, pool: RolePool, seat: int, generation: int) -> tuple[float, float]:
        """(tenure uniform, time-to-fill uniform) of a seat's generation."""
        role_key = zlib.crc32(pool.name.encode())
        rng = self.streams.fresh("workforce.seat", role_key, seat, generation)
        u = rng.random(2)
        return float(u[0]), float(u[1])

    def _add_rep(self, pool: RolePool, seat: int, generation: int, tenure0_months: float,
                 kind: WorkforceEvent) -> Rep:
        now = self.env.now
        rep = Rep(self._next_id, pool, seat, now, tenure0_months)
        self._next_id += 1
        u_tenure, _ = self._draws(pool, seat, generation)
        spec = pool.spec
        if spec.tenure_months is not None:
            total = spec.tenure_months.conditional_ppf1(u_tenure, tenure0_months)
            rep.exit_t = now + max(0.0, total - tenure0_months) * DAYS_PER_MONTH
        pool.reps.append(rep)
        pool.fte.add(now, rep.productivity)
        self.log.workforce.append((now, int(kind), pool.index, rep.id, seat, spec.monthly_cost_usd, pool.team))
        assert pool.desk is not None
        pool.desk.rep_joined(rep)
        self.env.process(self.live(rep, generation))
        return rep

    # ------------------------------------------------------------------ processes

    def live(self, rep: Rep, generation: int) -> Generator[simpy.Event, None, None]:
        """A rep's life: ramp steps at each tenure month until fully ramped, then exit."""
        env, spec = self.env, rep.pool.spec
        ramp_end_months = len(spec.ramp)
        month = int(rep.tenure0_months) + 1
        while month < ramp_end_months:
            t_next = rep.hire_t + (month - rep.tenure0_months) * DAYS_PER_MONTH
            if t_next >= min(rep.exit_t, self.horizon_days):
                break
            yield env.timeout(t_next - env.now)
            self._set_productivity(rep, spec.productivity(month))
            month += 1
        if rep.exit_t < self.horizon_days:
            yield env.timeout(rep.exit_t - env.now)
            self._exit(rep, generation)

    def _set_productivity(self, rep: Rep, productivity: float) -> None:
        if productivity == rep.productivity:
            return
        rep.pool.fte.add(self.env.now, productivity - rep.productivity)
        rep.productivity = productivity
        assert rep.pool.desk is not None
        rep.pool.desk.productivity_changed(rep)

    def _exit(self, rep: Rep, generation: int) -> None:
        pool, now = rep.pool, self.env.now
        rep.active = False
        pool.reps.remove(rep)
        pool.fte.add(now, -rep.productivity)
        assert pool.desk is not None
        pool.desk.rep_leaving(rep)
        self.log.workforce.append((now, int(WorkforceEvent.EXIT), pool.index, rep.id, rep.seat, 0.0, pool.team))
        if pool.spec.backfill:
            self.env.process(self.backfill(pool, rep.seat, generation + 1))

    def backfill(self, pool: RolePool, seat: int, generation: int) -> Generator[simpy.Event, None, None]:
        """Open a requisition for ``seat`` and hire after the time to fill."""
        now = self.env.now
        _, u_fill = self._draws(pool, seat, generation)
        delay = max(0.0, pool.spec.time_to_fill_days.ppf1(u_fill))
        self.log.workforce.append((now, int(WorkforceEvent.REQUISITION), pool.index, -1, seat, 0.0, pool.team))
        pool.open_requisitions += 1
        if now + delay >= self.horizon_days:
            return
        yield self.env.timeout(delay)
        pool.open_requisitions -= 1
        self._add_rep(pool, seat, generation, 0.0, WorkforceEvent.HIRE)
