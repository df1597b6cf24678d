"""Unit economics (:mod:`sim.economics`, docs/reference/kpis.md#unit-economics).

* CAC, CRC and the acquisition/retention split from a hand-built record set (a CSM's cost is
  retention, never acquisition), with the role lists and overhead of the ``economics`` block;
* payback, LTV and time to profitability against hand arithmetic on a constant-rate case;
* the simulated churn rate against the scenario's monthly rate (4 standard errors);
* more CSMs never raise CAC (common random numbers: the same leads, the same wins);
* bad ``economics`` blocks: file:line, field path, exit 2, through the CLI.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scenario_builders import HUGE, base_scenario, build, inbound, merge, role, segment

from sim.economics import ECONOMICS_KPIS, account_months, unit_economics
from sim.eventlog import AccountEvent, EventLog, RepKind, WorkforceEvent
from sim.metrics import KPI_NAMES, kpis, monthly_series
from sim.model.world import simulate
from sim.scenario.economics import cost_shares
from sim.workcalendar import DAYS_PER_MONTH

D = DAYS_PER_MONTH
H = 3
MDR, AE, CSM = 0, 1, 2


def with_csm(data: dict, csm_headcount: int = 1, csm_cost: float = 9000.0) -> dict:
    """``data`` with a CSM role managing the accounts."""
    out = merge(data, {"roles": {"csm": role(csm_headcount, accounts_covered=50.0, monthly_cost_usd=csm_cost)}})
    out["customers"] = {"managed_by": "csm"}
    return out


def worker(t: float, kind: WorkforceEvent, role_index: int, rep: int, cost: float = 0.0) -> tuple:
    """A workforce record (seat and team 0, an employee)."""
    return (t, int(kind), role_index, rep, 0, cost, 0, int(RepKind.EMPLOYEE), 0.0)


def hand_log() -> EventLog:
    """Three months: an MDR at $6,000, an AE at $10,000 and a CSM at $9,000 employed throughout;
    an installed account from day 0, two wins (days 20 and 40) and one churn (day 75)."""
    log = EventLog(roles=["mdr", "ae", "csm"], segments=["s"], horizon_months=H, teams=["org"], pools=[])
    log.workforce.extend([worker(0.0, WorkforceEvent.START, MDR, 0, 6000.0),
                          worker(0.0, WorkforceEvent.START, AE, 1, 10000.0),
                          worker(0.0, WorkforceEvent.START, CSM, 2, 9000.0)])
    log.accounts.extend([(0.0, int(AccountEvent.INSTALLED), 900, 0, 500.0),
                         (20.0, int(AccountEvent.NEW), 0, 0, 1000.0),
                         (40.0, int(AccountEvent.NEW), 1, 0, 2000.0),
                         (75.0, int(AccountEvent.CHURN), 900, 0, 500.0)])
    return log


ACCOUNT_MONTHS = (3 * D + (3 * D - 20) + (3 * D - 40) - (3 * D - 75)) / D
MQLS = 10
COST_PER_MQL = 50.0


def hand_scenario(**economics):
    data = with_csm(base_scenario(horizon_months=H))
    data["inbound"]["cost_per_mql_usd"] = COST_PER_MQL
    data["economics"] = {"gross_margin": 0.75, **economics}
    return build(data)


def hand_series(log: EventLog) -> dict[str, np.ndarray]:
    series = {f"cost_usd.{r}": np.array([np.nan, c, c, c]) for r, c in (("mdr", 6000.0), ("ae", 10000.0),
                                                                          ("csm", 9000.0))}
    return series


def test_cac_counts_acquisition_roles_and_lead_cost_only() -> None:
    log = hand_log()
    got = unit_economics(log, hand_scenario(), hand_series(log), wins=2, new_mrr_usd=3000.0,
                         lead_cost_usd=MQLS * COST_PER_MQL)
    acquisition = 3 * (6000 + 10000) + MQLS * COST_PER_MQL  # 48,500: MDR, AE and the MQLs; not the CSM
    retention = 3 * 9000
    assert got["acquisition_cost_usd"] == pytest.approx(acquisition, rel=1e-12)
    assert got["retention_cost_usd"] == pytest.approx(retention, rel=1e-12)
    assert got["cac_usd"] == pytest.approx(acquisition / 2, rel=1e-12)
    assert got["crc_usd_per_account_month"] == pytest.approx(retention / ACCOUNT_MONTHS, rel=1e-12)
    assert got["churn_rate_monthly"] == pytest.approx(1 / ACCOUNT_MONTHS, rel=1e-12)
    arpa = 3000.0 / 2
    assert got["cac_payback_months"] == pytest.approx(acquisition / 2 / (0.75 * arpa), rel=1e-12)
    assert got["ltv_usd"] == pytest.approx(0.75 * arpa * ACCOUNT_MONTHS, rel=1e-12)
    assert got["ltv_to_cac"] == pytest.approx(0.75 * arpa * ACCOUNT_MONTHS / (acquisition / 2), rel=1e-12)
    # CRC ~ $3,750 an account-month exceeds the $1,125 of gross-margin MRR: this customer never repays
    assert math.isnan(got["time_to_profitability_months"])


def test_account_months_count_each_customer_from_its_start_to_its_churn_or_the_horizon() -> None:
    assert account_months(hand_log(), H * D) == pytest.approx(ACCOUNT_MONTHS, rel=1e-12)


def test_role_lists_and_overhead_replace_the_defaults() -> None:
    log = hand_log()
    scenario = hand_scenario(acquisition_roles=["ae", "csm"], acquisition_overhead_usd_per_month=1000.0,
                             retention_overhead_usd_per_month=500.0)
    assert cost_shares(scenario) == {"mdr": (0.0, 0.0), "ae": (1.0, 0.0), "csm": (1.0, 0.0)}
    got = unit_economics(log, scenario, hand_series(log), wins=2, new_mrr_usd=3000.0,
                         lead_cost_usd=MQLS * COST_PER_MQL)
    assert got["acquisition_cost_usd"] == pytest.approx(3 * (10000 + 9000 + 1000) + MQLS * COST_PER_MQL)
    assert got["retention_cost_usd"] == pytest.approx(3 * 500.0)
    scenario = hand_scenario(retention_roles=["mdr"])
    assert cost_shares(scenario) == {"mdr": (0.0, 1.0), "ae": (1.0, 0.0), "csm": (0.0, 0.0)}


def test_a_role_with_jobs_of_both_kinds_is_split_by_its_time() -> None:
    data = base_scenario(ae=role(1, max_open_opportunities=HUGE, accounts_covered=50.0,
                                 time_split={"close": 0.7, "manage_accounts": 0.3}))
    data["customers"] = {"managed_by": "ae"}
    shares = cost_shares(build(data))
    assert shares["mdr"] == (1.0, 0.0)
    assert shares["ae"] == pytest.approx((0.7, 0.3))


def test_no_wins_no_churn_leave_the_ratios_undefined() -> None:
    log = hand_log()
    log.accounts[:] = log.accounts[:1]  # the installed account only, never churning
    got = unit_economics(log, hand_scenario(), hand_series(log), wins=0, new_mrr_usd=0.0, lead_cost_usd=0.0)
    for name in ("cac_usd", "cac_payback_months", "ltv_usd", "ltv_to_cac", "time_to_profitability_months"):
        assert math.isnan(got[name]), name
    assert got["churn_rate_monthly"] == 0.0
    assert got["crc_usd_per_account_month"] == pytest.approx(3 * 9000 / 3)


def constant_rate_scenario(csm_headcount: int = 1, *, horizon_months: int = 6, seg: dict | None = None,
                           **overrides) -> dict:
    """A 24/7 org with no luck in the funnel: 20 MQLs at days 1 … 20 all win $1,000 MRR, and an
    installed base of 100 accounts at $1,000; MDR $5,000, AE $10,000, CSM $3,000 a month."""
    data = base_scenario(
        horizon_months=horizon_months, calendar={"start_hour": 0, "hours_per_day": 24, "days_per_week": 7},
        mdr=role(1, dials_per_day=3000.0, monthly_cost_usd=5000.0),
        ae=role(1, max_open_opportunities=HUGE, monthly_cost_usd=10000.0),
        seg=seg if seg is not None else segment(mrr_usd=1000.0, churn_rate=0.0),
        inbound_spec=inbound(arrival_times_days=[float(d) for d in range(1, 21)]),
    )
    data["inbound"]["cost_per_mql_usd"] = 100.0
    data = with_csm(data, csm_headcount, csm_cost=3000.0)
    data["roles"]["csm"]["accounts_covered"] = HUGE
    data["warm_start"] = {"customers": [{"segment": "s", "count": 100, "mrr_usd": 1000.0, "age_months": 12}]}
    data["economics"] = {"gross_margin": 0.75}
    return merge(data, overrides)


def test_payback_and_time_to_profitability_on_a_constant_rate_case_by_hand() -> None:
    scenario = build(constant_rate_scenario())
    log = simulate(scenario, 1, 0)
    got = kpis(log, scenario)
    assert got["wins"] == 20 and got["new_mrr_usd"] == 20 * 1000.0
    cac = (6 * (5000 + 10000) + 20 * 100.0) / 20  # 4,600
    assert got["cac_usd"] == pytest.approx(cac, rel=1e-12)
    assert got["cac_payback_months"] == pytest.approx(cac / (0.75 * 1000.0), rel=1e-12)  # 6.13 months
    wins = log.account_table()["t"][log.account_table()["kind"] == AccountEvent.NEW]
    exposure = 100 * 6 + float(np.sum(6 * D - wins)) / D  # no churn: every account to the horizon
    crc = 6 * 3000.0 / exposure
    assert got["crc_usd_per_account_month"] == pytest.approx(crc, rel=1e-12)
    assert got["time_to_profitability_months"] == pytest.approx(cac / (0.75 * 1000.0 - crc), rel=1e-12)
    assert got["churn_rate_monthly"] == 0.0 and math.isnan(got["ltv_usd"])


def test_ltv_on_a_constant_churn_by_hand() -> None:
    """100 customers of $1,000 from day 0; 2 churn at the end of each of 12 months: 1,068
    account-months (100 + 98 + … + 78), churn 24 / 1,068, LTV = 0.75 × 1,000 × 1,068 / 24."""
    log = EventLog(roles=["mdr", "ae", "csm"], segments=["s"], horizon_months=12, teams=["org"], pools=[])
    log.accounts.extend((0.0, int(AccountEvent.NEW), i, 0, 1000.0) for i in range(100))
    log.accounts.extend((m * D, int(AccountEvent.CHURN), 2 * (m - 1) + k, 0, 1000.0)
                        for m in range(1, 13) for k in range(2))
    series = {f"cost_usd.{r}": np.full(13, 1000.0) for r in ("mdr", "ae", "csm")}
    scenario = build(merge(with_csm(base_scenario(horizon_months=12)), {"economics": {"gross_margin": 0.75}}))
    got = unit_economics(log, scenario, series, wins=100, new_mrr_usd=100_000.0, lead_cost_usd=0.0)
    assert got["churn_rate_monthly"] == pytest.approx(24 / 1068, rel=1e-12)
    assert got["ltv_usd"] == pytest.approx(0.75 * 1000 * 1068 / 24, rel=1e-12)  # $33,375


def test_the_simulated_churn_rate_is_the_scenarios_monthly_rate() -> None:
    """2,000 installed accounts churning 2 % a month for 12 months: churns ÷ account-months
    estimates 0.02 within 4 standard errors (sqrt(churns) ÷ account-months)."""
    data = constant_rate_scenario(horizon_months=12, seg=segment(mrr_usd=1000.0, churn_rate=0.02))
    data["warm_start"]["customers"][0]["count"] = 2000
    scenario = build(data)
    got = kpis(simulate(scenario, 7, 0), scenario)
    exposure = got["churned_mrr_usd"] / 1000.0 / got["churn_rate_monthly"]
    se = math.sqrt(0.02 * exposure) / exposure
    assert abs(got["churn_rate_monthly"] - 0.02) < 4 * se


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_more_csms_never_raise_cac(replication: int) -> None:
    """CSMs keep customers; they win none. With common random numbers the same leads win, so CAC is
    unchanged to the bit while the cost and the retention cost grow (the old definition, all cost ÷
    wins, rose by $800 a deal in the shipped silo with two more CSMs)."""
    results = []
    for csms in (1, 3):
        data = constant_rate_scenario(csms, seg=segment(mrr_usd={"dist": "lognormal", "median": 900, "sigma": 0.5},
                                                        churn_rate=0.03, pass_probability=0.4))
        data["roles"]["csm"]["accounts_covered"] = 40.0
        data["segments"]["s"]["churn"]["uncovered_multiplier"] = 2.0
        data["inbound"].pop("arrival_times_days")
        data["inbound"]["mqls_per_month"] = 60.0
        scenario = build(data)
        results.append(kpis(simulate(scenario, 11, replication), scenario))
    few, many = results
    assert many["cac_usd"] <= few["cac_usd"]
    assert many["cac_usd"] == few["cac_usd"] and many["wins"] == few["wins"]
    assert many["retention_cost_usd"] > few["retention_cost_usd"] and many["cost_usd"] > few["cost_usd"]
    assert many["churn_rate_monthly"] <= few["churn_rate_monthly"]


def test_every_economics_kpi_is_a_kpi() -> None:
    assert set(ECONOMICS_KPIS) <= set(KPI_NAMES)
    assert "cac_usd" in ECONOMICS_KPIS


def test_zero_overhead_leaves_the_cost_series_as_it_was() -> None:
    scenario = build(constant_rate_scenario())
    log = simulate(scenario, 1, 0)
    plain = monthly_series(log, scenario)["cost_usd"]
    charged = build(merge(constant_rate_scenario(), {"economics": {"acquisition_overhead_usd_per_month": 700.0,
                                                                   "retention_overhead_usd_per_month": 300.0}}))
    assert np.allclose(monthly_series(log, charged)["cost_usd"][1:], plain[1:] + 1000.0, rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- bad input, through the CLI

BAD = {
    "unknown_acquisition_role": ("economics:\n  acquisition_roles: [ae, sdr]\n", "acquisition_roles",
                                 "economics.acquisition_roles.1", ["'sdr' does not exist", "mdr, ae, csm"]),
    "misspelt_retention_role": ("economics:\n  retention_roles: [cms]\n", "retention_roles",
                                "economics.retention_roles.0", ["'cms' does not exist", "did you mean 'csm'"]),
    "role_on_both_sides": ("economics:\n  acquisition_roles: [ae, csm]\n  retention_roles: [csm]\n",
                           "retention_roles", "economics.retention_roles.0", ["also in economics.acquisition_roles"]),
    "margin_above_one": ("economics:\n  gross_margin: 1.2\n", "gross_margin", "economics.gross_margin",
                         ["less than or equal to 1"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_economics_is_located_and_exits_2(case: str, tmp_path, minimal_text: str, capsys) -> None:
    from sim.cli import main
    from sim.cli.common import EXIT_BAD_INPUT

    block, needle, field_path, fragments = BAD[case]
    text = minimal_text + block
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and out == "" and "Traceback" not in err
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if needle in row)
    found = [row.strip() for row in err.splitlines() if row.strip().startswith(f"{path}:{line}: {field_path}: ")]
    assert len(found) == 1, err
    for fragment in fragments:
        assert fragment in found[0]
