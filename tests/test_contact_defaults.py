"""Dials to connect are a rate, not a minimum (issue 23, point 7).

* the schema's defaults are geometric: mean 12.5 for outbound prospects (the book's 10–15 dials
  per connect as an average), mean 3 for inbound hand-raisers;
* a cadence shorter than the mean still reaches leads: the reached share of prospects within
  ``max_attempts`` = n is 1 − (1 − 1/12.5)^n (binomial, 4 SE) — the old uniform 10–15 default
  reached none at n = 8;
* the shipped silo's CSMs keep up with its customer base (no longer ~1.5 × coverage at month 24).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scenario_builders import CALENDAR_24_7, HUGE, base_scenario, build, role

import sim
from sim.eventlog import Source
from sim.metrics import monthly_series
from sim.model.world import simulate
from sim.scenario.dists import Geometric

ROOT = Path(__file__).resolve().parents[1]


def test_the_defaults_are_geometric() -> None:
    data = base_scenario()
    data["roles"]["sdr"] = role(1, dials_per_day=90.0)
    data["outbound"] = {"segment_mix": {"s": 1.0}, "lead_probability": 1.0, "sql_probability": 1.0}
    data["inbound"].pop("dials_to_connect")
    scenario = build(data)
    assert scenario.inbound.dials_to_connect == Geometric(dist="geometric", mean=3.0)
    assert scenario.outbound.dials_to_connect == Geometric(dist="geometric", mean=12.5)


def test_a_cadence_shorter_than_the_mean_reaches_the_geometric_share() -> None:
    """SDRs with room for every prospect, 8 attempts: reached share 1 − 0.92^8 = 0.487."""
    attempts = 8
    data = base_scenario(name="cadence", horizon_months=4, calendar=dict(CALENDAR_24_7), max_attempts=attempts)
    data.pop("inbound")
    data["roles"]["sdr"] = role(4, dials_per_day=HUGE)
    data["outbound"] = {"worked_by": "sdr", "prospects_per_rep_month": 300.0, "segment_mix": {"s": 1.0},
                        "lead_probability": 1.0, "sql_probability": 1.0}
    leads = simulate(build(data), 2, 0).lead_table()
    ended = (leads["source"] == Source.OUTBOUND) & ((~np.isnan(leads["connect_t"])) | (leads["dials"] == attempts))
    n = int(np.sum(ended))
    reached = int(np.sum(ended & ~np.isnan(leads["connect_t"])))
    p = 1.0 - (1.0 - 1.0 / 12.5) ** attempts
    assert n > 2000
    assert abs(reached - n * p) < 4 * math.sqrt(n * p * (1 - p)), (reached, n * p)


def test_the_shipped_silo_makes_sqls_with_a_short_cadence() -> None:
    silo = sim.load_scenario(ROOT / "scenarios" / "silo.yaml",
                             overrides=["contact.max_attempts=8", "horizon_months=2"])
    leads = simulate(silo, 1, 0).lead_table()
    outbound_sqls = np.sum((leads["source"] == Source.OUTBOUND) & ~np.isnan(leads["sql_t"]))
    assert outbound_sqls > 20  # the old uniform 10–15 default gave none


def test_the_shipped_silo_keeps_its_csms_within_coverage() -> None:
    silo = sim.load_scenario(ROOT / "scenarios" / "silo.yaml")
    at_24 = [monthly_series(simulate(silo, 1, r), silo)["utilization.csm"][24] for r in range(3)]
    assert np.mean(at_24) < 1.0, at_24  # ~0.7 with six CSMs; ~2 with the two of before
