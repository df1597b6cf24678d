"""KPIs and monthly series of :mod:`sim.metrics`, from records written by hand.

No simulation runs here: a three-month :class:`~sim.eventlog.EventLog` is filled with eight lead
records (``LeadRecords.append``, tuples in ``LEAD_FIELDS`` order), account events, workforce events
and levels chosen so that every KPI of ``KPI_NAMES`` and the main monthly series can be worked out
by hand — the arithmetic is spelled out next to each expected value.

Months are ``[(m-1)·D, m·D)`` with ``D = DAYS_PER_MONTH`` (30.4375 days): month 1 ends at day
30.44, month 2 at 60.88, month 3 (the horizon) at 91.31.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_builders import base_scenario, build

from sim.eventlog import (
    LEAD_FIELDS,
    AccountEvent,
    EventLog,
    LeadState,
    RepKind,
    Source,
    WorkforceEvent,
)
from sim.metrics import KPI_NAMES, LEAD_STATE_KPIS, ORG_SERIES, ROLE_SERIES, kpis, lead_states, monthly_series
from sim.scenario import Scenario
from sim.workcalendar import DAYS_PER_MONTH

D = DAYS_PER_MONTH
NAN = math.nan
H = 3
"""Horizon in months."""
COST_PER_MQL = 50.0
MDR, AE = 0, 1
"""Role indices (``EventLog.roles``); with one team, also the pool indices."""


def lead(lead_id: int, source: Source, created: float, first_touch: float, connect: float, sql: float,
         handoff: float, opportunity: float, close: float, end: float, state: LeadState, dials: int,
         mrr: float = 0.0, dev_rep: int = 0, closer_rep: int = -1, trial: float = NAN) -> tuple:
    """A lead record in ``LEAD_FIELDS`` order (segment, teams, region and industry 0)."""
    source_index = {Source.INBOUND: 0, Source.OUTBOUND: 1}.get(source, -1)
    record = (lead_id, int(source), source_index, 0, created, first_touch, connect, sql, handoff, opportunity, trial,
              close, end, int(state), dials, mrr, dev_rep, closer_rep, 0, 0 if closer_rep >= 0 else -1, 0, 0)
    assert len(record) == len(LEAD_FIELDS)
    return record


IN, OUT = Source.INBOUND, Source.OUTBOUND
LEADS = [
    # id source created touch  connect sql   handoff opp   close end   state                 dials mrr   dev closer
    lead(0, IN, 1.0, 1.5, 3.0, 3.0, 4.0, 4.0, 20.0, 20.0, LeadState.WON, 3, 1000.0, 0, 1),
    lead(1, IN, 2.0, 2.25, 5.0, 5.0, 6.0, 6.0, 40.0, 40.0, LeadState.WON, 5, 2000.0, 0, 1),
    lead(2, IN, 10.0, 11.0, 12.0, 12.0, 13.0, 13.0, 50.0, 50.0, LeadState.LOST_DEAL, 2, 0.0, 0, 1),
    lead(3, IN, 35.0, 36.5, NAN, NAN, NAN, NAN, NAN, 40.0, LeadState.UNREACHABLE, 10),
    lead(4, IN, 70.0, NAN, NAN, NAN, NAN, NAN, NAN, 80.0, LeadState.STALE, 0),
    # prospects of the outsourced MDR (rep 3: a fee per SQL); their slow first touches are not inbound
    lead(5, OUT, 15.0, 18.0, 19.0, 19.0, 20.0, 20.0, 70.0, 70.0, LeadState.WON, 4, 500.0, 3, 2),
    lead(6, OUT, 20.0, 22.0, 23.0, NAN, NAN, NAN, NAN, 23.0, LeadState.NOT_A_FIT, 6, 0.0, 3),
    lead(7, IN, 80.0, 80.5, NAN, NAN, NAN, NAN, NAN, H * D, LeadState.OPEN, 1),
    # a self-service sign-up of the warm start, never touched: its trial (day 0 to 14) lapses
    lead(8, Source.WARM_START, -3.0, NAN, NAN, NAN, NAN, NAN, 14.0, 14.0, LeadState.TRIAL_LAPSED, 0, dev_rep=-1,
         trial=0.0),
]
"""Speed to lead of the inbound leads touched: 12 h, 6 h, 24 h, 36 h and 12 h (lead 4 never
touched); the prospects' 72 h and 48 h must not count."""

ACCOUNTS = [
    (0.0, int(AccountEvent.INSTALLED), 900, 0, 300.0),  # installed base: MRR at month 0
    (20.0, int(AccountEvent.NEW), 0, 0, 1000.0),
    (40.0, int(AccountEvent.NEW), 1, 0, 2000.0),
    (60.0, int(AccountEvent.EXPANSION), 0, 0, 200.0),  # day 60.0 < 60.88: month 2
    (70.0, int(AccountEvent.NEW), 5, 0, 500.0),
    (75.0, int(AccountEvent.CHURN), 1, 0, 2000.0),
]


def workforce_event(t: float, kind: WorkforceEvent, role: int, rep: int, cost: float = 0.0,
                    rep_kind: RepKind = RepKind.EMPLOYEE, price_per_sql: float = 0.0) -> tuple:
    """A workforce record in ``WORKFORCE_FIELDS`` order (seat and team 0)."""
    return (t, int(kind), role, rep, 0, cost, 0, int(rep_kind), price_per_sql)


WORKFORCE = [
    workforce_event(0.0, WorkforceEvent.START, MDR, 0, 6000.0),
    workforce_event(0.0, WorkforceEvent.START, MDR, 3, 0.0, RepKind.OUTSOURCED, price_per_sql=100.0),
    workforce_event(0.0, WorkforceEvent.START, AE, 1, 10000.0),
    workforce_event(1.5 * D, WorkforceEvent.EXIT, AE, 1),  # mid-month 2
    workforce_event(1.5 * D, WorkforceEvent.REQUISITION, AE, -1),
    workforce_event(2.5 * D, WorkforceEvent.HIRE, AE, 2, 12000.0),  # mid-month 3
]

# Levels per pool: month 0 is the start snapshot (with "fte"), months 1..3 the month ends (with the
# month's integrals fte_days, capacity_days and busy_days, and the backlog).
LEVELS = {
    MDR: {
        "headcount": [2, 2, 2, 2], "ramping": [0, 0, 0, 0], "interns": [0, 0, 0, 0], "outsourced": [1, 1, 1, 1],
        "open_requisitions": [0, 0, 0, 0], "fte": [2.0],
        "fte_days": [2 * D, 2 * D, 2 * D], "capacity_days": [10 * D, 10 * D, 10 * D],
        "busy_days": [5 * D, 2.5 * D, 10 * D], "backlog": [0, 0, 4],
    },
    AE: {
        "headcount": [1, 1, 0, 1], "ramping": [0, 0, 0, 1], "interns": [0, 0, 0, 0], "outsourced": [0, 0, 0, 0],
        "open_requisitions": [0, 0, 1, 0], "fte": [1.0],
        "fte_days": [D, 0.5 * D, 0.25 * D], "capacity_days": [20 * D, 10 * D, 5 * D],
        "busy_days": [10 * D, 10 * D, 5 * D], "backlog": [0, 3, 1],
    },
}
MONTH_END_ONLY = ("fte_days", "capacity_days", "busy_days", "backlog")


def hand_log() -> EventLog:
    log = EventLog(roles=["mdr", "ae"], segments=["s"], horizon_months=H, teams=["org"], pools=[(MDR, 0), (AE, 0)])
    for record in LEADS:
        log.leads.append(record)
    log.accounts.extend(ACCOUNTS)
    log.workforce.extend(WORKFORCE)
    for pool, levels in LEVELS.items():
        for name, values in levels.items():
            first_month = 1 if name in MONTH_END_ONLY else 0
            for month, value in enumerate(values, start=first_month):
                log.levels.append((month, pool, name, float(value)))
    return log


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    data = base_scenario(horizon_months=H)
    data["inbound"]["cost_per_mql_usd"] = COST_PER_MQL
    return build(data)


@pytest.fixture(scope="module")
def series(scenario: Scenario) -> dict[str, np.ndarray]:
    return monthly_series(hand_log(), scenario)


def assert_series(got: np.ndarray, expected: list[float]) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9, equal_nan=True)


# --------------------------------------------------------------------------- monthly series

def test_mrr_flows_per_month(series: dict[str, np.ndarray]) -> None:
    assert_series(series["new_mrr_usd"], [NAN, 1000.0, 2000.0, 500.0])
    assert_series(series["expansion_mrr_usd"], [NAN, 0.0, 200.0, 0.0])
    assert_series(series["churned_mrr_usd"], [NAN, 0.0, 0.0, 2000.0])


def test_mrr_is_the_installed_base_plus_the_months_flows(series: dict[str, np.ndarray]) -> None:
    mrr = series["mrr_usd"]
    assert_series(mrr, [300.0, 1300.0, 3500.0, 2000.0])
    for m in range(1, H + 1):  # MRR(t) = MRR(t-1) + new + expansion - churned
        assert mrr[m] == pytest.approx(mrr[m - 1] + series["new_mrr_usd"][m] + series["expansion_mrr_usd"][m]
                                       - series["churned_mrr_usd"][m])


def test_customers_mqls_sqls_and_wins_per_month(series: dict[str, np.ndarray]) -> None:
    assert_series(series["customers"], [1, 2, 3, 3])  # installed 1; +1; +1; +1 -1
    assert_series(series["mqls"], [NAN, 3, 1, 2])  # inbound created at days 1, 2, 10 | 35 | 70, 80
    assert_series(series["sqls"], [NAN, 4, 0, 0])  # days 3, 5, 12 and 19 (outbound counts too)
    assert_series(series["wins"], [NAN, 1, 1, 1])  # closed won at days 20, 40, 70


def test_cost_is_prorated_pay_plus_sql_fees_plus_marketing(series: dict[str, np.ndarray]) -> None:
    # MDR: 6,000 a month, and the outsourced rep's 100 for lead 5's SQL (day 19, month 1).
    assert_series(series["cost_usd.mdr"], [NAN, 6100.0, 6000.0, 6000.0])
    # AE: 10,000 a month until day 1.5·D (half of month 2); the hire at 12,000 from 2.5·D (half of month 3).
    assert_series(series["cost_usd.ae"], [NAN, 10000.0, 5000.0, 6000.0])
    # plus 50 per MQL: 3, 1 and 2 MQLs
    assert_series(series["cost_usd"], [NAN, 16100.0 + 150.0, 11000.0 + 50.0, 12000.0 + 100.0])


def test_workforce_flows(series: dict[str, np.ndarray]) -> None:
    assert_series(series["hires.ae"], [NAN, 0, 0, 1])
    assert_series(series["exits.ae"], [NAN, 0, 1, 0])
    assert_series(series["requisitions.ae"], [NAN, 0, 1, 0])
    assert_series(series["promotions_in.ae"], [NAN, 0, 0, 0])
    assert_series(series["exits.mdr"], [NAN, 0, 0, 0])


def test_headcounts_and_capacity(series: dict[str, np.ndarray]) -> None:
    assert_series(series["headcount.mdr"], [2, 2, 2, 2])
    assert_series(series["headcount_outsourced.mdr"], [1, 1, 1, 1])
    assert_series(series["headcount_productive.mdr"], [1, 1, 1, 1])  # 2 - 0 ramping - 0 interns - 1 outsourced
    assert_series(series["headcount.ae"], [1, 1, 0, 1])
    assert_series(series["headcount_ramping.ae"], [0, 0, 0, 1])
    assert_series(series["headcount_productive.ae"], [1, 1, 0, 0])
    assert_series(series["open_requisitions.ae"], [0, 0, 1, 0])
    # ramped FTE: the month's fte_days / D; month 0 is the starting FTE
    assert_series(series["capacity_fte.mdr"], [2, 2, 2, 2])
    assert_series(series["capacity_fte.ae"], [1, 1, 0.5, 0.25])
    assert_series(series["backlog.ae"], [NAN, 0, 3, 1])


def test_utilization_is_load_over_capacity(series: dict[str, np.ndarray]) -> None:
    assert_series(series["utilization.mdr"], [NAN, 5 / 10, 2.5 / 10, 10 / 10])
    assert_series(series["utilization.ae"], [NAN, 10 / 20, 10 / 10, 5 / 5])


def test_demand_is_load_plus_backlog_in_fte(series: dict[str, np.ndarray]) -> None:
    # (busy_days / D + backlog) / (capacity_days / fte_days): capacity per FTE is 5 slots (MDR),
    # 20 opportunities (AE)
    assert_series(series["demand_fte.mdr"], [NAN, (5 + 0) / 5, (2.5 + 0) / 5, (10 + 4) / 5])
    assert_series(series["demand_fte.ae"], [NAN, (10 + 0) / 20, (10 + 3) / 20, (5 + 1) / 20])


def test_every_series_has_a_value_per_month(series: dict[str, np.ndarray]) -> None:
    names = [*ORG_SERIES, *(f"{name}.{role}" for name in ROLE_SERIES for role in ("mdr", "ae"))]
    for name in names:
        assert series[name].shape == (H + 1,), name
    # one team: no team series (name@team); flows per source or segment are name@kind:key
    assert not any("@" in name and ":" not in name.split("@", 1)[1] for name in series)


account_events = st.lists(st.tuples(
    st.floats(0.0, H * D, exclude_max=True),
    st.sampled_from([AccountEvent.NEW, AccountEvent.EXPANSION, AccountEvent.CHURN]),
    st.floats(0.0, 1e5),
), max_size=30)


@settings(deadline=None, max_examples=50, derandomize=True)
@given(events=account_events, installed=st.floats(0.0, 1e5))
def test_mrr_identity_for_any_account_events(events: list[tuple[float, AccountEvent, float]], installed: float,
                                             scenario: Scenario) -> None:
    """For any account events, each lands in the month holding its time, and MRR(t) = MRR(t-1) +
    new + expansion - churned from the installed base; the MRR KPIs read that series."""
    log = EventLog(roles=["mdr", "ae"], segments=["s"], horizon_months=H, pools=[])
    log.accounts.append((0.0, int(AccountEvent.INSTALLED), 0, 0, installed))
    log.accounts.extend((t, int(kind), i + 1, 0, mrr) for i, (t, kind, mrr) in enumerate(events))
    series = monthly_series(log, scenario)
    flows = {kind: [0.0] * (H + 1) for kind in (AccountEvent.NEW, AccountEvent.EXPANSION, AccountEvent.CHURN)}
    for t, kind, mrr in events:
        flows[kind][min(int(t // D) + 1, H)] += mrr
    mrr = [installed]
    for m in range(1, H + 1):
        mrr.append(mrr[-1] + flows[AccountEvent.NEW][m] + flows[AccountEvent.EXPANSION][m]
                   - flows[AccountEvent.CHURN][m])
    np.testing.assert_allclose(series["mrr_usd"], mrr, rtol=1e-9, atol=1e-6)
    for name, kind in (("new_mrr_usd", AccountEvent.NEW), ("expansion_mrr_usd", AccountEvent.EXPANSION),
                       ("churned_mrr_usd", AccountEvent.CHURN)):
        np.testing.assert_allclose(series[name][1:], flows[kind][1:], rtol=1e-9, atol=1e-6)
    got = kpis(log, scenario, series)
    assert got["mrr_end_usd"] == pytest.approx(mrr[H], rel=1e-9, abs=1e-6)
    assert got["exit_arr_usd"] == pytest.approx(12 * mrr[H], rel=1e-9, abs=1e-5)
    assert got["revenue_first_year_usd"] == pytest.approx(sum(mrr[1:]), rel=1e-9, abs=1e-5)
    assert got["new_mrr_usd"] == pytest.approx(sum(flows[AccountEvent.NEW]), rel=1e-9, abs=1e-6)


# --------------------------------------------------------------------------- KPIs

ACQUISITION_USD = (16100 + 150) + (11000 + 50) + (12000 + 100)
"""Every rep cost and MQL cost of the hand log: MDR and AE both win customers."""
ACCOUNT_MONTHS = (3 * D + (3 * D - 20) + (3 * D - 40) + (3 * D - 70) - (3 * D - 75)) / D
"""Installed base from day 0, wins from days 20, 40, 70 to the horizon, less the churn at day 75 onwards."""


EXPECTED_KPIS = {
    "revenue_first_year_usd": 1300.0 + 3500.0 + 2000.0,  # MRR at the end of months 1..3 (< 12)
    "exit_arr_usd": 12 * 2000.0,
    "mrr_end_usd": 2000.0,
    "new_mrr_usd": 1000.0 + 2000.0 + 500.0,
    "expansion_mrr_usd": 200.0,
    "churned_mrr_usd": 2000.0,
    "mqls": 6,  # inbound leads 0, 1, 2, 3, 4, 7
    "prospects": 2,  # outbound leads 5, 6
    "dials": 3 + 5 + 2 + 10 + 0 + 4 + 6 + 1,
    "connects": 5,  # leads 0, 1, 2, 5, 6
    "sqls": 4,  # leads 0, 1, 2, 5
    "opportunities": 4,
    "wins": 3,
    "losses": 1,
    "win_rate_sql": 3 / 4,  # SQLs 0, 1, 2, 5 all ended: 3 won
    "win_rate_opportunity": 3 / (3 + 1),
    "trials": 1,  # lead 8
    "trial_conversion_rate": 0 / 1,
    "customers_end": 3 + 1 - 1,  # new + installed - churned
    "sales_cycle_days_mean": ((20 - 3) + (40 - 5) + (70 - 19)) / 3,  # SQL to close, won deals
    "speed_to_lead_hours_median": (12.0 + 24.0) / 2,  # median of 6, 12, 12, 24, 36 and ∞ (lead 4, stale untouched)
    "mqls_never_touched_share": 1 / 6,  # lead 4 of the six inbound leads
    # retention and contracts (tests/test_contracts.py): month to month, billed monthly, 3 months
    "contraction_mrr_usd": 0.0,
    "renewals": 0,
    "renewal_rate": NAN,  # no term ended
    "nrr": NAN, "grr": NAN,  # a 3-month run has no trailing year
    "bookings_usd": 12 * (3500.0 + 200.0),  # annual value of the new and expansion MRR
    "billings_usd": 1300.0 + 3500.0 + 2000.0,  # billed monthly: each month's MRR
    "headcount_end": 2 + 1,
    "cost_usd": (16100 + 150) + (11000 + 50) + (12000 + 100),
    # unit economics (tests/test_economics.py splits the cost; here MDR and AE are both acquisition)
    "acquisition_cost_usd": ACQUISITION_USD,
    "retention_cost_usd": 0.0,
    "cac_usd": ACQUISITION_USD / 3,
    "crc_usd_per_account_month": 0.0,
    "churn_rate_monthly": 1 / ACCOUNT_MONTHS,
    "cac_payback_months": (ACQUISITION_USD / 3) / (0.8 * 3500 / 3),  # gross margin 0.8 (default), ARPA 3500/3
    "ltv_usd": 0.8 * 3500 / 3 * ACCOUNT_MONTHS,  # one churn
    "ltv_to_cac": (0.8 * 3500 / 3 * ACCOUNT_MONTHS) / (ACQUISITION_USD / 3),
    "time_to_profitability_months": (ACQUISITION_USD / 3) / (0.8 * 3500 / 3 - 0.0),
    # no role has a quota (tests/test_quota.py)
    "quota_attainment_mean": NAN, "reps_at_quota_share": NAN, "variable_pay_usd": NAN,
    # how the 9 leads ended (see test_lead_states_count_every_record_once)
    "leads_unreachable": 1, "leads_not_a_fit": 1, "leads_stale": 1, "leads_lost_in_handoff": 0,
    "leads_lost_deal": 1, "leads_won": 3, "leads_open": 1, "leads_no_capacity": 0, "leads_lost_at_exit": 0,
    "leads_trial_lapsed": 1,
}


def test_every_kpi_is_checked() -> None:
    assert list(EXPECTED_KPIS) == list(KPI_NAMES)


@pytest.mark.parametrize("name", KPI_NAMES)
def test_kpi_by_hand(name: str, scenario: Scenario, series: dict[str, np.ndarray]) -> None:
    got = kpis(hand_log(), scenario, series)
    assert list(got) == list(KPI_NAMES)
    assert got[name] == pytest.approx(EXPECTED_KPIS[name], rel=1e-12, nan_ok=True)


def test_lead_state_kpis_add_up_to_every_lead_and_match_wins_and_losses(scenario: Scenario) -> None:
    got = kpis(hand_log(), scenario)
    assert sum(got[name] for name in LEAD_STATE_KPIS) == len(LEADS)
    assert got["leads_won"] == got["wins"] and got["leads_lost_deal"] == got["losses"]
    assert KPI_NAMES[-len(LEAD_STATE_KPIS):] == LEAD_STATE_KPIS


def test_kpis_compute_their_own_series_when_not_given(scenario: Scenario, series: dict[str, np.ndarray]) -> None:
    assert repr(kpis(hand_log(), scenario)) == repr(kpis(hand_log(), scenario, series))  # NaN included


def test_lead_states_count_every_record_once() -> None:
    states = lead_states(hand_log())
    assert states == {"unreachable": 1, "not_a_fit": 1, "stale": 1, "lost_in_handoff": 0, "lost_deal": 1,
                      "won": 3, "open": 1, "no_capacity": 0, "lost_at_exit": 0,
                      "trial_lapsed": 1}
    assert sum(states.values()) == len(LEADS)


def test_ratios_without_their_denominators_are_nan(scenario: Scenario) -> None:
    """No wins, no closed deals: CAC, win rates and sales cycle are undefined (NaN), not zero; the
    cost is still counted. The one MQL, untouched and still waiting, has waited to the horizon."""
    log = EventLog(roles=["mdr", "ae"], segments=["s"], horizon_months=H, pools=[])
    log.leads.append(lead(0, IN, 1.0, NAN, NAN, NAN, NAN, NAN, NAN, H * D, LeadState.OPEN, 0))
    log.workforce.append(workforce_event(0.0, WorkforceEvent.START, MDR, 0, 3000.0))
    got = kpis(log, scenario)
    for name in ("cac_usd", "win_rate_sql", "win_rate_opportunity", "sales_cycle_days_mean"):
        assert math.isnan(got[name]), name
    assert got["cost_usd"] == pytest.approx(3 * 3000.0 + COST_PER_MQL)
    assert got["wins"] == got["losses"] == got["customers_end"] == got["headcount_end"] == 0
    assert got["mqls"] == 1
    assert got["speed_to_lead_hours_median"] == pytest.approx((H * D - 1.0) * 24.0)
    assert got["mqls_never_touched_share"] == 1.0


def test_leads_left_to_rot_never_make_speed_to_lead_faster(scenario: Scenario) -> None:
    """The hand log plus three MQLs that went stale untouched: they count as infinitely late, so the
    median can only rise (it ignored them before), and the share never touched says how many."""
    base = kpis(hand_log(), scenario)
    log = hand_log()
    for i in range(3):
        log.leads.append(lead(10 + i, IN, 5.0 + i, NAN, NAN, NAN, NAN, NAN, NAN, 30.0, LeadState.STALE, 0))
    rotten = kpis(log, scenario)
    assert rotten["speed_to_lead_hours_median"] > base["speed_to_lead_hours_median"]
    assert rotten["speed_to_lead_hours_median"] == 36.0  # 6, 12, 12, 24, [36], ∞ × 4
    assert rotten["mqls_never_touched_share"] == pytest.approx(4 / 9)
