"""Unit economics per segment and per lead source (:class:`sim.economics.GroupActivity`,
docs/reference/kpis.md#unit-economics-per-group).

* a hand-built two-segment record set: the MDR's cost splits by dials, the AE's by the days it held
  each deal, the CSM's by account-months, each lead's cost goes to its own segment — CAC, CRC,
  payback and LTV per segment by hand;
* a full-cycle rep's cost splits by its time at each desk, then by each desk's activity;
* one group reproduces the org's economics exactly;
* a closer dedicated to one segment puts all its cost there (a simulated run);
* with several segments and sources (``three_tiers.yaml``), the groups' costs add up to the org's
  (also in ``test_sources``), and every group ratio follows the org's formula from its totals;
* a scenario without any rep (nothing to split) still gets its group economics.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scenario_builders import HUGE, base_scenario, build, inbound, role, segment

from sim.economics import ECONOMICS_KPIS, GroupActivity, group_unit_economics, unit_economics
from sim.eventlog import LEAD_FIELDS, AccountEvent, EventLog, LeadState, RepKind, Source, WorkforceEvent
from sim.metrics import group_kpis, kpis
from sim.model.world import simulate
from sim.scenario import load_scenario
from sim.scenario.economics import ACQUISITION_DESKS
from sim.workcalendar import DAYS_PER_MONTH

D = DAYS_PER_MONTH
THREE_TIERS = Path(__file__).resolve().parent.parent / "scenarios" / "three_tiers.yaml"
H = 3
NAN = float("nan")
MDR, AE, CSM = 0, 1, 2
S, T = 0, 1


def worker(kind: WorkforceEvent, role_index: int, rep: int, cost: float) -> tuple:
    """A workforce record at day 0 (seat and team 0, an employee)."""
    return (0.0, int(kind), role_index, rep, 0, cost, 0, int(RepKind.EMPLOYEE), 0.0)


def lead(lead_id: int, seg: int, dials: int, handoff: float, close: float, end: float, state: LeadState,
         mrr: float = 0.0, dev_rep: int = 0, closer_rep: int = -1) -> tuple:
    """An inbound lead record in ``LEAD_FIELDS`` order, created on day 1."""
    record = (lead_id, int(Source.INBOUND), 0, seg, 1.0, 1.5, 2.0 if handoff == handoff else NAN, handoff,
              handoff, handoff, NAN, close, end, int(state), dials, mrr, dev_rep, closer_rep, 0,
              0 if closer_rep >= 0 else -1, 0, 0)
    assert len(record) == len(LEAD_FIELDS)
    return record


def hand_log(dev_rep: int = 0) -> EventLog:
    """Three months, segments ``s`` and ``t``: an MDR (rep 0), an AE (rep 1) and a CSM (rep 2)
    employed throughout.

    * lead 0 (``s``): 3 dials, handed off on day 4, won on day 20 for $1,000 — 16 days with the AE;
    * lead 1 (``t``): 1 dial, handed off on day 6, won on day 46 for $2,000 — 40 days;
    * lead 2 (``s``): 4 dials, never reached;
    * accounts: one installed in ``s`` (churns on day 75), the two new ones.
    """
    log = EventLog(roles=["mdr", "ae", "csm"], segments=["s", "t"], horizon_months=H, teams=["org"], pools=[])
    log.workforce.extend([worker(WorkforceEvent.START, MDR, 0, 6000.0), worker(WorkforceEvent.START, AE, 1, 10000.0),
                          worker(WorkforceEvent.START, CSM, 2, 9000.0)])
    log.leads.append(lead(0, S, 3, 4.0, 20.0, 20.0, LeadState.WON, 1000.0, dev_rep, 1))
    log.leads.append(lead(1, T, 1, 6.0, 46.0, 46.0, LeadState.WON, 2000.0, dev_rep, 1))
    log.leads.append(lead(2, S, 4, NAN, NAN, 10.0, LeadState.UNREACHABLE, 0.0, dev_rep))
    log.accounts.extend([(0.0, int(AccountEvent.INSTALLED), 900, S, 500.0),
                         (20.0, int(AccountEvent.NEW), 0, S, 1000.0),
                         (46.0, int(AccountEvent.NEW), 1, T, 2000.0),
                         (75.0, int(AccountEvent.CHURN), 900, S, 500.0)])
    return log


COSTS = {"mdr": 6000.0, "ae": 10000.0, "csm": 9000.0}
ACCOUNT_MONTHS_S = (3 * D + (3 * D - 20) - (3 * D - 75)) / D
ACCOUNT_MONTHS_T = (3 * D - 46) / D
COST_PER_MQL = 50.0


def hand_series() -> dict[str, np.ndarray]:
    return {f"cost_usd.{r}": np.array([NAN, c, c, c]) for r, c in COSTS.items()}


def hand_scenario(ae: dict | None = None, worked_by: str = "mdr", **economics):
    data = base_scenario(horizon_months=H, ae=ae)
    data["segments"] = {"s": segment(), "t": segment()}
    data["inbound"] = {**inbound(), "segment_mix": {"s": 0.5, "t": 0.5}, "worked_by": worked_by,
                       "cost_per_mql_usd": COST_PER_MQL}
    data["roles"]["csm"] = role(1, accounts_covered=50.0)
    data["customers"] = {"managed_by": "csm"}
    data["economics"] = {"gross_margin": 0.75, **economics}
    return build(data)


def test_costs_split_by_dials_deal_days_and_account_months_by_hand() -> None:
    scenario = hand_scenario(acquisition_overhead_usd_per_month=300.0, retention_overhead_usd_per_month=200.0)
    got = group_kpis(hand_log(), scenario, "segment", hand_series())
    mdr, ae, csm = (3 * c for c in COSTS.values())
    overhead_acq, overhead_ret = 3 * 300.0, 3 * 200.0
    months = ACCOUNT_MONTHS_S + ACCOUNT_MONTHS_T
    expected = {
        # MDR by dials (7 of 8 on s), AE by deal-days (16 of 56), leads at $50 each, overhead by leads (2 of 3)
        "s": (mdr * 7 / 8 + ae * 16 / 56 + 2 * COST_PER_MQL + overhead_acq * 2 / 3,
              (csm + overhead_ret) * ACCOUNT_MONTHS_S / months, 1, 1000.0, ACCOUNT_MONTHS_S, 1),
        "t": (mdr * 1 / 8 + ae * 40 / 56 + 1 * COST_PER_MQL + overhead_acq * 1 / 3,
              (csm + overhead_ret) * ACCOUNT_MONTHS_T / months, 1, 2000.0, ACCOUNT_MONTHS_T, 0),
    }
    for name, (acquisition, retention, wins, mrr, exposure, churns) in expected.items():
        k = {m: got[f"{m}@segment:{name}"] for m in ECONOMICS_KPIS}
        assert k["acquisition_cost_usd"] == pytest.approx(acquisition, rel=1e-12)
        assert k["retention_cost_usd"] == pytest.approx(retention, rel=1e-12)
        cac, crc = acquisition / wins, retention / exposure
        assert k["cac_usd"] == pytest.approx(cac, rel=1e-12)
        assert k["crc_usd_per_account_month"] == pytest.approx(crc, rel=1e-12)
        assert k["cac_payback_months"] == pytest.approx(cac / (0.75 * mrr), rel=1e-12)
        if churns:
            assert k["churn_rate_monthly"] == pytest.approx(churns / exposure, rel=1e-12)
            assert k["ltv_usd"] == pytest.approx(0.75 * mrr * exposure / churns, rel=1e-12)
        else:
            assert k["churn_rate_monthly"] == 0.0 and math.isnan(k["ltv_usd"])
    org = unit_economics(hand_log(), scenario, hand_series(), wins=2, new_mrr_usd=3000.0,
                         lead_cost_usd=3 * COST_PER_MQL)
    for name in ("acquisition_cost_usd", "retention_cost_usd"):
        assert got[f"{name}@segment:s"] + got[f"{name}@segment:t"] == pytest.approx(org[name], rel=1e-12)


def test_a_full_cycle_reps_cost_splits_by_its_time_then_by_each_desks_work() -> None:
    """The AE works the inbound leads (dials: 7 of 8 on ``s``) and closes them (deal-days: 16 of
    56 on ``s``), 60 % of its time prospecting: 0.6 × 7/8 + 0.4 × 16/56 of its cost goes to ``s``."""
    ae = role(1, dials_per_day=3000.0, max_open_opportunities=HUGE, time_split={"work_inbound": 0.6, "close": 0.4})
    scenario = hand_scenario(ae=ae, worked_by="ae")
    log = hand_log(dev_rep=1)
    activity = GroupActivity(log, scenario, log.lead_table()["segment"].astype(np.int64),
                             log.account_table()["segment"].astype(np.int64), 2)
    shares = activity.role_shares(scenario, "ae", AE, ACQUISITION_DESKS)
    assert shares == pytest.approx([0.6 * 7 / 8 + 0.4 * 16 / 56, 0.6 * 1 / 8 + 0.4 * 40 / 56], rel=1e-12)
    assert activity.role_shares(scenario, "mdr", MDR, ACQUISITION_DESKS) == pytest.approx([0.5, 0.5]), \
        "a role with no job falls back to the groups' shares of wins"


def test_one_group_is_the_org() -> None:
    log = hand_log()
    scenario = hand_scenario(acquisition_overhead_usd_per_month=300.0, marketing_programs_usd_per_month=100.0,
                             retention_overhead_usd_per_month=200.0)
    activity = GroupActivity(log, scenario, np.zeros(3, dtype=np.int64), np.zeros(4, dtype=np.int64), 1)
    lead_cost = 3 * COST_PER_MQL
    assert activity.wins.tolist() == [2.0]
    (group,) = group_unit_economics(log, scenario, hand_series(), activity, np.array([3000.0]),
                                    np.array([lead_cost]))
    org = unit_economics(log, scenario, hand_series(), wins=2, new_mrr_usd=3000.0, lead_cost_usd=lead_cost)
    for name in ECONOMICS_KPIS:
        assert group[name] == pytest.approx(org[name], rel=1e-12, nan_ok=True), name


def dedicated_closers() -> dict:
    """Segment ``s`` closed by ``ae`` ($10,000), ``t`` by ``fae`` ($20,000); MQLs and MDR free."""
    data = base_scenario(horizon_months=4, ae=role(1, max_open_opportunities=HUGE, monthly_cost_usd=10000.0),
                         mdr=role(1, dials_per_day=3000.0, monthly_cost_usd=0.0))
    data["roles"]["fae"] = role(1, max_open_opportunities=HUGE, monthly_cost_usd=20000.0)
    data["segments"] = {"s": segment(pass_probability=0.5), "t": segment(mrr_usd=5000.0, pass_probability=0.5,
                                                                         closed_by="fae")}
    data["inbound"] = {**inbound(mqls_per_month=40.0), "segment_mix": {"s": 0.7, "t": 0.3}}
    return data


def test_a_closer_dedicated_to_a_segment_puts_all_its_cost_there() -> None:
    scenario = build(dedicated_closers())
    k = kpis(simulate(scenario, 5, 0), scenario)
    assert k["wins@segment:s"] > 0 and k["wins@segment:t"] > 0
    assert k["acquisition_cost_usd@segment:s"] == pytest.approx(4 * 10000.0, rel=1e-12)
    assert k["acquisition_cost_usd@segment:t"] == pytest.approx(4 * 20000.0, rel=1e-12)
    assert k["cac_usd@segment:t"] == pytest.approx(80000.0 / k["wins@segment:t"], rel=1e-12)
    assert k["cac_usd"] == pytest.approx(120000.0 / k["wins"], rel=1e-12)


@pytest.mark.parametrize("by", ["segment", "source"])
def test_every_group_ratio_follows_the_orgs_formula_from_the_groups_totals(by: str) -> None:
    scenario = load_scenario(THREE_TIERS, ["horizon_months=6"])
    k = kpis(simulate(scenario, 3, 0), scenario)
    groups = {c.split(f"@{by}:", 1)[1] for c in k if f"@{by}:" in c}
    assert len(groups) >= 2
    for g in groups:
        def v(name: str, g: str = g) -> float:
            return k[f"{name}@{by}:{g}"]

        wins = v("wins")
        if wins:
            assert v("cac_usd") == pytest.approx(v("acquisition_cost_usd") / wins, rel=1e-12)
        else:
            assert math.isnan(v("cac_usd"))
    for name in ("acquisition_cost_usd", "retention_cost_usd"):
        assert sum(k[f"{name}@{by}:{g}"] for g in groups) == pytest.approx(k[name], rel=1e-12)


def test_an_org_without_reps_still_splits_its_lead_cost() -> None:
    data = dedicated_closers()
    for name in data["roles"]:
        data["roles"][name]["headcount"] = 0
    data["inbound"]["cost_per_mql_usd"] = 10.0
    scenario = build(data)
    log = simulate(scenario, 5, 0)
    k = kpis(log, scenario)
    leads = log.lead_table()
    for seg, index in (("s", S), ("t", T)):
        assert k[f"acquisition_cost_usd@segment:{seg}"] == pytest.approx(10.0 * np.sum(leads["segment"] == index))
        assert math.isnan(k[f"cac_usd@segment:{seg}"])
