"""The world of one replication: built from a scenario, run on SimPy, returning its records.

This module owns the wiring (DESIGN.md §2): scenario (inert data) → runtime objects in a
``simpy.Environment`` → an :class:`~sim.eventlog.EventLog`. It holds no metric formulas.
Everything the replication needs hangs off the :class:`World`; there is no global state.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from sim.eventlog import EventLog, Source
from sim.model.accounts import Accounts
from sim.model.closing import ClosingDesk
from sim.model.development import DevelopmentDesk
from sim.model.leads import Lead, LeadFactory, poisson_arrival_times
from sim.model.workforce import RolePool, Workforce
from sim.rng import Streams
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH, WorkCalendar

OUTBOUND_ID_OFFSET = 1_000_000_000
"""Outbound prospects are numbered from here, inbound MQLs from zero."""


class _NoDesk:
    """Desk of a role that has no job in the flow (its reps still cost and count)."""

    def rep_joined(self, rep) -> None: ...
    def rep_leaving(self, rep) -> None: ...
    def productivity_changed(self, rep) -> None: ...


class World:
    """One replication's SimPy world.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    seed : int
        Root seed of the experiment.
    replication : int
        Replication index; with ``seed`` it names every random stream.
    """

    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        self.scenario = scenario
        self.env = simpy.Environment()
        self.streams = Streams(seed, replication)
        cal = scenario.calendar
        self.calendar = WorkCalendar(cal.start_hour, cal.hours_per_day, cal.days_per_week)
        self.horizon_days = scenario.horizon_months * DAYS_PER_MONTH
        self.segment_names = list(scenario.segments)
        segments = [scenario.segments[n] for n in self.segment_names]
        self.log = EventLog(roles=list(scenario.roles), segments=self.segment_names,
                            horizon_months=scenario.horizon_months)
        self.pools = {name: RolePool(name, i, spec) for i, (name, spec) in enumerate(scenario.roles.items())}

        managed_by = scenario.customers.managed_by
        self.accounts = Accounts(self.log, self.streams, segments,
                                 self.pools.get(managed_by) if managed_by else None)
        self.closing: dict[str, ClosingDesk] = {
            role: ClosingDesk(self.env, self.log, self.pools[role], segments, scenario.handoff, self._won)
            for role in scenario.closer_roles()
        }
        self._closer_of_segment = [self.closing[seg.closed_by] for seg in segments]
        self.development: dict[str, DevelopmentDesk] = {
            role: DevelopmentDesk(self.env, self.calendar, self.log, self.pools[role], scenario.contact, self._sql)
            for role in scenario.development_roles()
        }
        if scenario.inbound is not None:
            self.development[scenario.inbound.worked_by].serve_inbound(scenario.inbound)
            self.mqls = LeadFactory(scenario, self.streams, Source.INBOUND, scenario.inbound.segment_mix,
                                    scenario.inbound.dials_to_connect, id_offset=0)
        if scenario.outbound is not None:
            prospects = LeadFactory(scenario, self.streams, Source.OUTBOUND, scenario.outbound.segment_mix,
                                    scenario.outbound.dials_to_connect, id_offset=OUTBOUND_ID_OFFSET)
            self.development[scenario.outbound.worked_by].serve_outbound(scenario.outbound, prospects)
        for pool in self.pools.values():
            if pool.desk is None:
                pool.desk = _NoDesk()
        self.workforce = Workforce(self.env, self.streams, self.log, self.pools, self.horizon_days)

    # ------------------------------------------------------------------ hand-offs between desks

    def _sql(self, lead: Lead) -> None:
        self._closer_of_segment[lead.segment].hand_off(lead)

    def _won(self, lead: Lead) -> None:
        self.accounts.add_customer(lead, self.env.now)

    # ------------------------------------------------------------------ processes

    def inbound_arrival_times(self) -> np.ndarray:
        """Arrival times of MQLs over the horizon (days)."""
        spec = self.scenario.inbound
        assert spec is not None
        if spec.arrival_times_days is not None:
            times = np.sort(np.asarray(spec.arrival_times_days, dtype=float))
            return times[times < self.horizon_days]
        months = np.arange(self.scenario.horizon_months)
        rates = spec.mqls_per_month * (1.0 + spec.growth_per_month) ** months
        if spec.seasonality is not None:
            rates = rates * np.asarray(spec.seasonality)[months % 12]
        rng = self.streams.generator("inbound.arrivals")
        if spec.business_hours_only:
            return poisson_arrival_times(rng, rates, DAYS_PER_MONTH,
                                         self.calendar.to_work_array, self.calendar.from_work_array)
        return poisson_arrival_times(rng, rates, DAYS_PER_MONTH)

    def arrive_mqls(self) -> Generator[simpy.Event, None, None]:
        """Inbound MQLs arrive and join the inbound role's queue."""
        assert self.scenario.inbound is not None
        desk = self.development[self.scenario.inbound.worked_by]
        env = self.env
        for t in self.inbound_arrival_times().tolist():
            if t > env.now:
                yield env.timeout(t - env.now)
            desk.arrive(self.mqls.create(t))

    def close_months(self) -> Generator[simpy.Event, None, None]:
        """At each month end: churn and expansion, level snapshots, new prospect lists."""
        for month in range(1, self.scenario.horizon_months):
            yield self.env.timeout(month * DAYS_PER_MONTH - self.env.now)
            self._close_month(month)

    def _close_month(self, month: int) -> None:
        t_end = month * DAYS_PER_MONTH
        self.accounts.month_step(month, t_end - DAYS_PER_MONTH, t_end)
        levels = self.log.levels
        for pool in self.pools.values():
            fte = pool.fte.take_area(t_end) / DAYS_PER_MONTH
            capacity = pool.capacity.take_area(t_end)
            busy = pool.busy.take_area(t_end)
            backlog = pool.desk.backlog() if hasattr(pool.desk, "backlog") else 0
            levels.append((month, pool.index, "headcount", float(pool.headcount())))
            levels.append((month, pool.index, "capacity_fte", fte))
            levels.append((month, pool.index, "utilization", busy / capacity if capacity > 0 else float("nan")))
            levels.append((month, pool.index, "backlog", float(backlog)))
            levels.append((month, pool.index, "open_requisitions", float(pool.open_requisitions)))
        if month < self.scenario.horizon_months:
            for desk in self.development.values():
                desk.new_month()

    def _snapshot_start(self) -> None:
        for pool in self.pools.values():
            self.log.levels.append((0, pool.index, "headcount", float(pool.headcount())))
            self.log.levels.append((0, pool.index, "capacity_fte", pool.fte.value))

    def run(self) -> EventLog:
        """Run the replication to the horizon and return its records."""
        self.workforce.start()
        self._snapshot_start()
        if self.scenario.inbound is not None:
            self.env.process(self.arrive_mqls())
        self.env.process(self.close_months())
        self.env.run(until=self.horizon_days)
        self._close_month(self.scenario.horizon_months)
        for desk in self.development.values():
            desk.finalize(self.horizon_days)
        for closing in self.closing.values():
            closing.finalize(self.horizon_days)
        return self.log


def simulate(scenario: Scenario, seed: int, replication: int) -> EventLog:
    """Build and run one replication; return its event log."""
    return World(scenario, seed, replication).run()
