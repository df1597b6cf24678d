"""Quota, attainment and pay by attainment (``roles.<name>.quota``; issue 24 point 4).

* a hand-built record set: quotas prorated by days employed, attainment, the variable pay with an
  accelerator above quota, paid in the period's last month;
* identical reps with Poisson deals: the share at quota and the mean attainment against the
  Poisson law (4 standard errors);
* a quota without a variable share leaves every cost as it was, bit for bit;
* a quota of zero and a quota on what the role does not do: file:line, exit 2, through the CLI.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scenario_builders import base_scenario, build, funnel_scenario, merge, role
from scipy import stats as sps

from sim.economics import quota_kpis, quota_periods, variable_pay_adjustment
from sim.eventlog import LEAD_FIELDS, EventLog, LeadState, RepKind, Source, WorkforceEvent
from sim.metrics import kpis, monthly_series
from sim.model.world import simulate
from sim.workcalendar import DAYS_PER_MONTH

D = DAYS_PER_MONTH
NAN = math.nan
MDR, AE = 0, 1


def won(lead_id: int, close_t: float, mrr: float, closer: int) -> tuple:
    """A won deal of closer ``closer`` (record in ``LEAD_FIELDS`` order)."""
    record = (lead_id, int(Source.INBOUND), 0, 0, close_t - 5, close_t - 4, close_t - 4, close_t - 4, close_t - 3,
              close_t - 3, math.nan, close_t, close_t, int(LeadState.WON), 1, mrr, 0, closer, 0, 0, 0, 0)
    assert len(record) == len(LEAD_FIELDS)
    return record


def worker(t: float, kind: WorkforceEvent, role: int, rep: int, cost: float = 0.0) -> tuple:
    return (t, int(kind), role, rep, 0, cost, 0, int(RepKind.EMPLOYEE), 0.0)


def hand_case():
    """Six months, quarterly new-ARR quota of $30,000, 50 % variable, accelerator 2. AE rep 1
    ($10,000 a month) is there throughout: 2 deals of $1,000 MRR in Q1 (attainment 0.8), 4 in Q2
    (1.6). AE rep 2 starts half-way through Q2 and wins one deal (quota $5,000 × ... prorated)."""
    data = base_scenario(horizon_months=6)
    data["roles"]["ae"]["quota"] = {"metric": "new_arr_usd", "amount": 30_000.0, "period_months": 3,
                                    "variable_share": 0.5, "accelerator": 2.0}
    scenario = build(data)
    log = EventLog(roles=["mdr", "ae"], segments=["s"], horizon_months=6, teams=["org"], pools=[])
    log.workforce.extend([worker(0.0, WorkforceEvent.START, AE, 1, 10_000.0),
                          worker(4.5 * D, WorkforceEvent.HIRE, AE, 2, 10_000.0)])
    deals = [(20.0, 1), (50.0, 1), (100.0, 1), (110.0, 1), (120.0, 1), (130.0, 1), (170.0, 2)]
    for i, (t, rep) in enumerate(deals):
        log.leads.append(won(i, t, 1000.0, rep))
    return scenario, log


def test_attainment_and_variable_pay_by_hand() -> None:
    scenario, log = hand_case()
    table = quota_periods(log, scenario, "ae")
    assert table["rep"].tolist() == [1, 1, 2]
    assert table["quota"] == pytest.approx([30_000.0, 30_000.0, 30_000.0 * 1.5 / 3])  # rep 2: 1.5 of 3 months
    assert table["booked"].tolist() == [24_000.0, 48_000.0, 12_000.0]
    assert table["attainment"] == pytest.approx([0.8, 1.6, 12_000.0 / 15_000.0])
    assert table["on_target_cost_usd"] == pytest.approx([30_000.0, 30_000.0, 15_000.0])
    assert table["full"].tolist() == [1.0, 1.0, 0.0]  # rep 2 joined during Q2
    extra = variable_pay_adjustment(log, scenario, "ae")
    q1 = 0.5 * 30_000.0 * (0.8 - 1.0)  # -3,000 in month 3
    q2 = 0.5 * 30_000.0 * (1.0 + 2.0 * 0.6 - 1.0) + 0.5 * 15_000.0 * (0.8 - 1.0)  # +18,000 - 1,500 in month 6
    assert extra == pytest.approx([0, 0, 0, q1, 0, 0, q2])
    got = quota_kpis(log, scenario)
    assert got["quota_attainment_mean"] == pytest.approx((0.8 + 1.6) / 2)  # full rep-periods only
    assert got["reps_at_quota_share"] == 0.5
    assert got["variable_pay_usd"] == pytest.approx(0.5 * 30_000 * 0.8 + 0.5 * 30_000 * 2.2 + 0.5 * 15_000 * 0.8)


def test_identical_reps_with_poisson_deals_follow_the_poisson_law() -> None:
    """One AE, MQLs a Poisson process of 10 a month, all qualify, half win, every lead on the same
    constant path: the AE's wins in each month after the first are Poisson with mean 5. With a
    quota of 6 wins a month, P(at quota) = P(X ≥ 6) and the mean attainment is 5/6."""
    data = funnel_scenario(mqls_per_month=10.0, horizon_months=13, qualify_probability=1.0,
                           leakage_probability=0.0, pass_probability=0.5, n_ae=1)
    data["roles"]["ae"]["quota"] = {"metric": "wins", "amount": 6, "period_months": 1}
    scenario = build(data)
    attainment = np.concatenate([
        (lambda t: t["attainment"][t["period"] >= 1])(quota_periods(simulate(scenario, 17, r), scenario, "ae"))
        for r in range(40)])
    n = attainment.size
    p = float(sps.poisson.sf(5, 5.0))
    assert abs(np.mean(attainment >= 1.0) - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert abs(np.mean(attainment) - 5.0 / 6.0) < 4 * math.sqrt(5.0) / 6.0 / math.sqrt(n)


def test_a_quota_without_variable_pay_leaves_costs_as_they_were() -> None:
    data = funnel_scenario(mqls_per_month=30.0, horizon_months=4, qualify_probability=0.5,
                           leakage_probability=0.0, pass_probability=0.5)
    data["roles"]["ae"]["monthly_cost_usd"] = 9000.0
    plain = build(data)
    quoted = build(merge(data, {"roles": {"ae": {"quota": {"metric": "wins", "amount": 3}}}}))
    log = simulate(plain, 3, 0)
    a, b = monthly_series(log, plain), monthly_series(log, quoted)
    np.testing.assert_array_equal(a["cost_usd"], b["cost_usd"])
    ka, kb = kpis(log, plain), kpis(log, quoted)
    same = [k for k in ka if not k.startswith(("quota", "reps_at", "variable"))]
    assert [repr(ka[k]) for k in same] == [repr(kb[k]) for k in same]  # NaN included
    assert math.isnan(ka["reps_at_quota_share"]) and kb["variable_pay_usd"] == 0.0


def test_an_sdr_quota_counts_sqls() -> None:
    data = funnel_scenario(mqls_per_month=30.0, horizon_months=3, qualify_probability=0.5,
                           leakage_probability=0.0, pass_probability=0.5)
    data["roles"]["mdr"] = role(1, dials_per_day=3000.0, quota={"metric": "sqls", "amount": 10, "period_months": 1})
    scenario = build(data)
    log = simulate(scenario, 3, 0)
    table = quota_periods(log, scenario, "mdr")
    assert table["booked"].sum() == kpis(log, scenario)["sqls"]


BAD = {
    "zero_quota": ("    max_open_opportunities: 10\n",
                   "    max_open_opportunities: 10\n    quota: {metric: new_arr_usd, amount: 0}\n",
                   "quota:", "roles.ae.quota.amount", "greater than 0"),
    "sql_quota_for_a_closer": ("    max_open_opportunities: 10\n",
                               "    max_open_opportunities: 10\n    quota: {metric: sqls, amount: 20}\n",
                               "quota:", "roles.ae.quota.metric", "a sqls quota needs a role that works leads"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_quotas_are_located_and_exit_2(case: str, tmp_path, minimal_text: str, capsys) -> None:
    from sim.cli import main
    from sim.cli.common import EXIT_BAD_INPUT

    old, new, needle, field_path, fragment = BAD[case]
    text = minimal_text.replace(old, new, 1)
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and out == "" and "Traceback" not in err
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if needle in row)
    found = [row for row in err.splitlines() if row.strip().startswith(f"{path}:{line}: {field_path}: ")]
    assert len(found) == 1 and fragment in found[0], err
