"""Inbound queue order: oldest first (default) or newest first (a speed-to-lead policy)."""

from __future__ import annotations

import numpy as np

import sim
from sim.eventlog import Source
from sim.metrics import kpis
from sim.model.world import simulate

OVERLOADED = ["horizon_months=6", "roles.mdr.dials_per_day=30", "roles.mdr.tenure_months=null",
              "inbound.response_minutes=0"]


def _touch_order(order: str) -> tuple[np.ndarray, np.ndarray]:
    scenario = sim.load_scenario("scenarios/silo.yaml", overrides=[*OVERLOADED, f"inbound.queue_order={order}"])
    leads = simulate(scenario, 4, 0).lead_table()
    touched = (leads["source"] == Source.INBOUND) & ~np.isnan(leads["first_touch_t"])
    return leads["created_t"][touched], leads["first_touch_t"][touched]


def test_oldest_first_touches_leads_in_arrival_order():
    created, touched = _touch_order("oldest_first")
    order = np.argsort(created, kind="stable")
    assert np.all(np.diff(touched[order]) >= -1e-9)


def test_newest_first_serves_fresh_leads_first_and_cuts_the_wait():
    created_old, touched_old = _touch_order("oldest_first")
    created_new, touched_new = _touch_order("newest_first")
    order = np.argsort(created_new, kind="stable")
    assert np.any(np.diff(touched_new[order]) < 0)  # some later lead was called before an earlier one
    assert np.median(touched_new - created_new) < np.median(touched_old - created_old)


def test_newest_first_makes_more_sqls_when_speed_to_lead_decays():
    def sqls(order: str) -> float:
        s = sim.load_scenario("scenarios/silo.yaml", overrides=[*OVERLOADED, f"inbound.queue_order={order}"])
        return float(np.mean([kpis(simulate(s, 9, r), s)["sqls"] for r in range(3)]))

    assert sqls("newest_first") > sqls("oldest_first")
