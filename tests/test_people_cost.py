"""The people and tools around the reps (``tools_usd_per_month``, ``recruiting_cost_usd``,
``manager.monthly_cost_usd``, ``economics.marketing_programs_usd_per_month``).

* tools cost the mean headcount × the monthly price, managers ⌈mean headcount ÷ span⌉ × their
  cost, recruiting each hire's cost in the month the rep starts — all in the role's cost;
* they land in CAC or CRC by the role's side: tools for CSMs raise CRC and leave CAC alone;
* marketing programmes are acquisition cost, in ``cost_usd`` every month;
* without any of them, the cost is today's to the bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builders import base_scenario, build, constant, inbound, merge, role

from sim.eventlog import WorkforceEvent
from sim.metrics import kpis, monthly_rep_cost, monthly_series
from sim.model.world import simulate

H = 6


def staffed(**mdr_fields) -> dict:
    """Three MDRs at $6,000, no attrition; one AE; a trickle of MQLs; a CSM role for CRC."""
    data = base_scenario(horizon_months=H, mdr=role(3, dials_per_day=300.0, monthly_cost_usd=6000.0, **mdr_fields),
                         inbound_spec=inbound(mqls_per_month=50.0, dials_to_connect=constant(1)))
    data["roles"]["ae"]["monthly_cost_usd"] = 10000.0
    data["roles"]["csm"] = role(1, accounts_covered=1000.0, monthly_cost_usd=8000.0)
    data["customers"] = {"managed_by": "csm"}
    return data


def test_tools_and_managers_cost_by_hand() -> None:
    """3 MDRs all run long: tools 3 × $150 and ⌈3 ÷ 2⌉ = 2 managers × $12,000 a month."""
    plain = build(staffed())
    costly = build(staffed(tools_usd_per_month=150.0, manager={"span": 2, "monthly_cost_usd": 12000.0}))
    a, b = monthly_series(simulate(plain, 1, 0), plain), monthly_series(simulate(costly, 1, 0), costly)
    extra = b["cost_usd.mdr"][1:] - a["cost_usd.mdr"][1:]
    assert extra == pytest.approx(np.full(H, 3 * 150.0 + 2 * 12000.0))
    assert b["cost_usd"][1:] - a["cost_usd"][1:] == pytest.approx(extra)


def test_recruiting_costs_each_hire_in_its_month() -> None:
    """Reps that leave after 2 months are backfilled: every HIRE record costs $5,000 in its month."""
    data = staffed(recruiting_cost_usd=5000.0)
    data["roles"]["mdr"] |= {"tenure_months": constant(2.0), "time_to_fill_days": constant(10.0),
                             "initial_tenure_months": [0, 0, 0]}
    scenario = build(data)
    log = simulate(scenario, 2, 0)
    series = monthly_series(log, scenario)
    wf = log.workforce_table()
    hires = wf["t"][(wf["kind"] == WorkforceEvent.HIRE) & (wf["role"] == 0)]
    assert hires.size >= 3
    months = np.floor(hires / (365.25 / 12)).astype(int) + 1
    expected = np.bincount(months, minlength=H + 1)[1:H + 1] * 5000.0
    base = monthly_rep_cost(log, H, role=0)
    assert series["cost_usd.mdr"][1:] - base[1:] == pytest.approx(expected)


def test_tools_for_csms_raise_crc_not_cac() -> None:
    plain = build(staffed())
    tooled = build(merge(staffed(), {"roles": {"csm": {"tools_usd_per_month": 500.0}}}))
    a, b = kpis(simulate(plain, 3, 0), plain), kpis(simulate(tooled, 3, 0), tooled)
    assert b["cac_usd"] == a["cac_usd"]
    assert b["retention_cost_usd"] == pytest.approx(a["retention_cost_usd"] + 500.0 * H)
    assert b["crc_usd_per_account_month"] > a["crc_usd_per_account_month"]


def test_marketing_programmes_are_acquisition_cost() -> None:
    plain = build(staffed())
    marketed = build(merge(staffed(), {"economics": {"marketing_programs_usd_per_month": 20000.0}}))
    a, b = kpis(simulate(plain, 4, 0), plain), kpis(simulate(marketed, 4, 0), marketed)
    assert b["acquisition_cost_usd"] == pytest.approx(a["acquisition_cost_usd"] + 20000.0 * H)
    assert b["cost_usd"] == pytest.approx(a["cost_usd"] + 20000.0 * H)
    assert b["retention_cost_usd"] == a["retention_cost_usd"]


def test_without_them_the_cost_is_unchanged_to_the_bit() -> None:
    plain = build(staffed())
    zero = build(staffed(tools_usd_per_month=0.0, recruiting_cost_usd=0.0, manager={"monthly_cost_usd": 0.0}))
    assert repr(kpis(simulate(plain, 5, 0), plain)) == repr(kpis(simulate(zero, 5, 0), zero))
