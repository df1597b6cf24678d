"""Attrition that follows attainment (``roles.<name>.quota.attrition``).

* a rep below quota for ``periods_below`` full periods has the rest of its tenure divided by
  ``hazard_multiplier`` at that period's end, once per streak — checked by hand on constant tenures;
* a rep that makes its quota keeps its tenure;
* ``hazard_multiplier: 1`` gives the records of a quota without attrition, to the bit;
* an ``opportunities`` quota cannot drive attrition (refused with its field).
"""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builders import base_scenario, build, constant, inbound, role

from sim.eventlog import WorkforceEvent
from sim.model.world import simulate
from sim.scenario.loading import scenario_from_dict
from sim.scenario.yamlio import ScenarioError
from sim.workcalendar import DAYS_PER_MONTH

TENURE_MONTHS = 24.0


def closers(amount: float, *, multiplier: float = 2.0, periods_below: int = 2, metric: str = "wins",
            attrition: bool = True) -> dict:
    """Three AEs on a constant 24-month tenure, all starting today; a monthly quota of ``amount``
    wins; inbound leads that all win."""
    quota = {"metric": metric, "amount": amount, "period_months": 1}
    if attrition:
        quota["attrition"] = {"periods_below": periods_below, "hazard_multiplier": multiplier}
    ae = role(3, max_open_opportunities=1e9, tenure_months=constant(TENURE_MONTHS), initial_tenure_months=[0, 0, 0],
              time_to_fill_days=constant(5.0), quota=quota)
    return base_scenario(horizon_months=18, ae=ae, inbound_spec=inbound(mqls_per_month=60.0,
                                                                        dials_to_connect=constant(1)))


def exits(scenario_data: dict, seed: int = 1) -> np.ndarray:
    log = simulate(build(scenario_data), seed, 0)
    wf = log.workforce_table()
    return np.sort(wf["t"][(wf["kind"] == WorkforceEvent.EXIT) & (wf["role"] == 1)])


def test_a_streak_below_quota_divides_the_rest_of_the_tenure() -> None:
    """A quota nobody can reach: at the end of month 2 (two periods below) each AE's remaining 22
    months become 11, so they leave at month 13 instead of 24."""
    got = exits(closers(1e9))
    month_2 = 2 * DAYS_PER_MONTH
    expected = month_2 + (TENURE_MONTHS * DAYS_PER_MONTH - month_2) / 2.0
    assert got[:3] == pytest.approx([expected] * 3)


def test_reps_at_quota_keep_their_tenure() -> None:
    """A quota of one win a month, which every AE makes (20 wins each a month): nobody leaves
    within the 18 months."""
    assert exits(closers(1.0)).size == 0


def test_multiplier_one_changes_nothing_to_the_bit() -> None:
    a = simulate(build(closers(1e9, multiplier=1.0)), 3, 0)
    b = simulate(build(closers(1e9, attrition=False)), 3, 0)
    assert a.leads == b.leads and a.accounts == b.accounts and a.workforce == b.workforce


def test_an_opportunities_quota_cannot_drive_attrition() -> None:
    with pytest.raises(ScenarioError, match="attrition by attainment follows new_arr_usd, wins or sqls"):
        scenario_from_dict(closers(10.0, metric="opportunities"))
