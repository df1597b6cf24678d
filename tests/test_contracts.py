"""Contracts, renewals and account managers (``segments.<name>.contract``, ``customers.expanded_by``).

* a contracted account never churns inside its term; at each term end it renews or churns;
* renewal probability 1 keeps every account; 0 loses each at its first term end;
* renewals are Bernoulli with the covered probability (a binomial anchor, 4 standard errors);
  an account no one covers renews at the uncovered probability;
* NRR and GRR (trailing twelve months) against a cohort worked by hand; bookings and billings by
  hand, monthly and annual upfront;
* more account managers never lower expansion or renewals (common random numbers), and with no
  manager a renewal is decided by coverage alone;
* month-to-month segments without an account manager keep the monthly hazard, bit for bit;
* bad input (annual billing on a monthly term; a manager role without capacity) is refused.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scenario_builders import HUGE, SILO_PATH, base_scenario, build, role

from sim import PlanTarget
from sim import plan as sim_plan
from sim.eventlog import AccountEvent, EventLog
from sim.metrics import kpis, monthly_series
from sim.model.world import simulate
from sim.planner.model import SalesModel
from sim.retention import trailing_retention
from sim.scenario import load_scenario
from sim.scenario.jobs import Job
from sim.scenario.loading import scenario_from_dict
from sim.scenario.yamlio import ScenarioError
from sim.workcalendar import DAYS_PER_MONTH

INSTALLED = 2000
MRR = 1000.0


def contracted(*, horizon_months: int = 24, p_renew: float = 0.8, p_uncovered: float = 0.5,
               term_months: int = 12, csm: int | None = 1, coverage: float = HUGE, am: int | None = None,
               am_room: float = 5.0, expansion_p: float = 0.0, downsell_p: float = 0.0, uplift: float = 0.0,
               billing: str = "monthly") -> dict:
    """An installed base of 2,000 accounts of $1,000 in a contracted segment ``s`` (no new
    business: the inbound flow is empty), covered by ``csm`` CSMs; optionally ``am`` account
    managers with room for ``am_room`` items each."""
    data = base_scenario(horizon_months=horizon_months)
    data["segments"]["s"]["contract"] = {
        "term_months": term_months, "billing": billing, "renewal_probability": p_renew,
        "uncovered_renewal_probability": p_uncovered, "downsell_probability": downsell_p,
        "downsell_fraction": 0.25, "price_uplift": uplift, "renewal_lead_days": 60.0}
    data["segments"]["s"]["expansion"] = {"monthly_probability": expansion_p, "mrr_fraction": 0.2,
                                          "pass_probability": 0.5, "cycle_days": 10.0, "stale_after_days": 20.0}
    data["warm_start"] = {"customers": [{"segment": "s", "count": INSTALLED, "mrr_usd": MRR, "age_months": 6}]}
    if csm is not None:
        data["roles"]["csm"] = role(csm, accounts_covered=coverage)
        data["customers"] = {"managed_by": "csm"}
    if am is not None:
        data["roles"]["am"] = role(am, open_expansions=am_room)
        data["customers"] = {**data.get("customers", {}), "expanded_by": "am"}
    return data


class _Events(dict):
    def __len__(self) -> int:
        return len(self["t"])


def account_events(log: EventLog, kind: AccountEvent) -> _Events:
    """The account records of one kind, column by column."""
    acc = log.account_table()
    mask = acc["kind"] == kind
    return _Events({name: column[mask] for name, column in acc.items()})


def test_renewal_probability_one_keeps_every_account_and_renews_each_term() -> None:
    scenario = build(contracted(p_renew=1.0, p_uncovered=1.0))
    log = simulate(scenario, 1, 0)
    k = kpis(log, scenario)
    assert len(account_events(log, AccountEvent.CHURN)) == 0
    # each installed account's term ends once in months 1-12 and again 12 months later (within 24)
    assert k["renewals"] == 2 * INSTALLED and k["renewal_rate"] == 1.0
    assert k["customers_end"] == INSTALLED and k["exit_arr_usd"] == pytest.approx(12 * INSTALLED * MRR)
    assert k["nrr"] == pytest.approx(1.0) and k["grr"] == pytest.approx(1.0)


def test_renewal_probability_zero_loses_each_account_at_its_first_term_end_not_before() -> None:
    scenario = build(contracted(p_renew=0.0, p_uncovered=0.0))
    log = simulate(scenario, 1, 0)
    churn = account_events(log, AccountEvent.CHURN)
    lost = account_events(log, AccountEvent.RENEWAL_LOST)
    assert len(churn) == len(lost) == INSTALLED
    assert np.array_equal(np.sort(churn["t"]), np.sort(lost["t"]))  # a churn only where a term ended
    # the installed base's current terms end uniformly over the coming year
    assert churn["t"].max() <= 12 * DAYS_PER_MONTH and churn["t"].min() >= 0
    months = np.floor(churn["t"] / DAYS_PER_MONTH).astype(int)
    counts = np.bincount(months, minlength=12)
    expected = INSTALLED / 12
    assert np.all(np.abs(counts - expected) < 5 * math.sqrt(expected))


def test_renewals_are_bernoulli_with_the_covered_probability() -> None:
    """Covered accounts (a CSM with room for all) renew with p = 0.8: the renewals of the first
    year's term ends are Binomial(2,000, 0.8); 4 standard errors."""
    p = 0.8
    scenario = build(contracted(p_renew=p, horizon_months=12))
    k = kpis(simulate(scenario, 3, 0), scenario)
    n = INSTALLED
    assert abs(k["renewals"] - n * p) < 4 * math.sqrt(n * p * (1 - p))


def test_an_account_nobody_covers_renews_at_the_uncovered_probability() -> None:
    p_uncovered = 0.5
    scenario = build(contracted(p_renew=0.9, p_uncovered=p_uncovered, csm=None, horizon_months=12))
    k = kpis(simulate(scenario, 4, 0), scenario)
    n = INSTALLED
    assert abs(k["renewals"] - n * p_uncovered) < 4 * math.sqrt(n * p_uncovered * (1 - p_uncovered))


def test_a_starved_csm_team_lowers_renewals_a_covered_one_never_does() -> None:
    """Same seed, same accounts: one CSM covering 200 of 2,000 accounts (90 % uncovered) renews
    fewer than one covering every account — never more, account by account (CRN)."""
    starved = build(contracted(coverage=200.0, horizon_months=12))
    covered = build(contracted(horizon_months=12))
    lost_starved = set(account_events(simulate(starved, 5, 0), AccountEvent.RENEWAL_LOST)["lead"])
    lost_covered = set(account_events(simulate(covered, 5, 0), AccountEvent.RENEWAL_LOST)["lead"])
    assert lost_covered <= lost_starved and len(lost_starved) > len(lost_covered) + 200


def test_downsell_and_uplift_move_the_mrr_at_renewal() -> None:
    """Every account renews; a quarter of each downsell; 5 % uplift: MRR after a renewal is
    MRR × (1 − 0.25 D) × 1.05 with D the downsell indicator."""
    scenario = build(contracted(p_renew=1.0, p_uncovered=1.0, downsell_p=0.3, uplift=0.05, horizon_months=12))
    log = simulate(scenario, 6, 0)
    down = account_events(log, AccountEvent.CONTRACTION)
    up = account_events(log, AccountEvent.EXPANSION)
    assert abs(len(down) - 0.3 * INSTALLED) < 4 * math.sqrt(INSTALLED * 0.3 * 0.7)
    assert np.allclose(down["mrr_usd"], 0.25 * MRR)
    assert len(up) == INSTALLED
    k = kpis(log, scenario)
    expected_mrr = INSTALLED * MRR * 1.05 - len(down) * 0.25 * MRR * 1.05
    assert k["mrr_end_usd"] == pytest.approx(expected_mrr, rel=1e-9)
    assert k["contraction_mrr_usd"] == pytest.approx(len(down) * 0.25 * MRR)


def test_nrr_and_grr_of_a_hand_cohort() -> None:
    """Three accounts of $100 at month 0; by month 12 one expanded by $50, one contracted by $20,
    one churned; a fourth won in month 6 is not in the cohort. NRR = (150 + 80 + 0) ÷ 300, GRR =
    (100 + 80 + 0) ÷ 300."""
    log = EventLog(roles=["ae"], segments=["s"], horizon_months=12, teams=["org"], pools=[])
    d = DAYS_PER_MONTH
    log.accounts.extend([
        (0.0, int(AccountEvent.INSTALLED), 1, 0, 100.0), (0.0, int(AccountEvent.INSTALLED), 2, 0, 100.0),
        (0.0, int(AccountEvent.INSTALLED), 3, 0, 100.0),
        (3 * d, int(AccountEvent.EXPANSION), 1, 0, 50.0), (5 * d, int(AccountEvent.CONTRACTION), 2, 0, 20.0),
        (7 * d, int(AccountEvent.CHURN), 3, 0, 100.0), (6 * d, int(AccountEvent.NEW), 4, 0, 500.0),
    ])
    scenario = build(base_scenario(horizon_months=12))
    series = monthly_series(log, scenario)
    assert series["nrr"][12] == pytest.approx(230 / 300)
    assert series["grr"][12] == pytest.approx(180 / 300)
    assert np.all(np.isnan(series["nrr"][:12]))
    assert series["mrr_usd"][12] == pytest.approx(150 + 80 + 500)
    nrr, grr = trailing_retention(np.array([[100.0] * 13, [0.0] * 13]))
    assert nrr[12] == 1.0 and grr[12] == 1.0


def test_bookings_and_billings_by_hand() -> None:
    """One account won at day 10 for $1,000, annual upfront, 12-month term, renewing at day
    375.25 and expanding by $100 half a year after signing: billings = 12,000 at signing + 100 ×
    12 × ½ for the expansion + 12 × 1,100 at the renewal; bookings = 12 × (1,000 + 100 + 1,100).
    The same account billed monthly is billed its month-end MRR (its revenue)."""
    d = DAYS_PER_MONTH
    renew_t = 10.0 + 12 * d
    events = [(10.0, int(AccountEvent.NEW), 1, 0, 1000.0), (10.0 + 6 * d, int(AccountEvent.EXPANSION), 1, 0, 100.0),
              (renew_t, int(AccountEvent.RENEWAL), 1, 0, 1100.0)]
    for billing, term in (("annual_upfront", 12), ("monthly", 12)):
        log = EventLog(roles=["ae"], segments=["s"], horizon_months=18, teams=["org"], pools=[])
        log.accounts.extend(events)
        data = base_scenario(horizon_months=18)
        data["segments"]["s"]["contract"] = {"term_months": term, "billing": billing}
        scenario = build(data)
        series = monthly_series(log, scenario)
        k = kpis(log, scenario, series)
        assert k["bookings_usd"] == pytest.approx(12 * (1000 + 100 + 1100))
        if billing == "annual_upfront":
            assert series["billings_usd"][1] == pytest.approx(12_000)
            assert series["billings_usd"][7] == pytest.approx(100 * 12 * 0.5, rel=1e-9)
            assert series["billings_usd"][13] == pytest.approx(12 * 1100)
            assert k["billings_usd"] == pytest.approx(12_000 + 600 + 13_200, rel=1e-9)
        else:
            assert k["billings_usd"] == pytest.approx(float(np.nansum(series["mrr_usd"][1:])))


def test_more_account_managers_never_lower_expansion_or_renewals() -> None:
    """Same seed, same accounts, same signals: 1, 3 and 12 account managers. A manager with room
    only starts work sooner; what a signal or a renewal would bring is its own latent draw."""
    for seed in (7, 11, 12):
        results = []
        for managers in (1, 3, 12):
            scenario = build(contracted(am=managers, am_room=60.0, expansion_p=0.05, p_renew=0.9, p_uncovered=0.5,
                                        horizon_months=12))
            results.append(kpis(simulate(scenario, seed, 0), scenario))
        for fewer, more in itertools.pairwise(results):
            assert more["expansion_mrr_usd"] >= fewer["expansion_mrr_usd"] - 1e-6, seed
            assert more["renewals"] >= fewer["renewals"], seed
        assert results[-1]["expansion_mrr_usd"] > results[0]["expansion_mrr_usd"]
        assert results[-1]["renewals"] > results[0]["renewals"]


def test_account_managers_report_pipeline_and_utilization() -> None:
    scenario = build(contracted(am=2, am_room=4.0, expansion_p=0.05, horizon_months=6))
    series = monthly_series(simulate(scenario, 8, 0), scenario)
    assert np.all(series["expansion_pipeline"][1:] >= 0) and np.nanmax(series["expansion_pipeline"]) > 0
    assert np.all(np.isnan(series["expansion_pipeline"][:1]))
    assert np.nanmax(series["utilization.am"]) <= 1.0 + 1e-9 and np.nanmax(series["utilization.am"]) > 0.5


def test_won_expansion_needs_a_manager_and_passing_meetings() -> None:
    """With room for every signal, expansions won ≈ signals × pass probability (0.5)."""
    scenario = build(contracted(am=50, am_room=HUGE, expansion_p=0.05, p_renew=1.0, p_uncovered=1.0,
                                horizon_months=6))
    log = simulate(scenario, 9, 0)
    won = len(account_events(log, AccountEvent.EXPANSION))
    signals = INSTALLED * 0.05 * 5  # months 1-5 end in time for a 10-day cycle before month 6 ends
    assert abs(won - 0.5 * signals) < 4 * math.sqrt(signals * 0.25) + INSTALLED * 0.05 * 0.5


def test_month_to_month_without_a_manager_is_unchanged() -> None:
    """The default contract (month to month, monthly billing) leaves the account records exactly
    as the monthly hazard makes them: no renewal events, no contract streams."""
    data = contracted()
    data["segments"]["s"].pop("contract")
    data["segments"]["s"]["churn"]["monthly_rate"] = 0.02
    scenario = build(data)
    log = simulate(scenario, 10, 0)
    kinds = set(log.account_table()["kind"].tolist())
    assert kinds <= {int(AccountEvent.INSTALLED), int(AccountEvent.CHURN)}
    k = kpis(log, scenario)
    assert k["renewals"] == 0 and math.isnan(k["renewal_rate"])


def test_bad_contract_input_is_refused() -> None:
    data = contracted(billing="annual_upfront", term_months=1)
    with pytest.raises(ScenarioError, match="annual_upfront needs a term of 12 months"):
        scenario_from_dict(data)
    data = contracted(am=1)
    del data["roles"]["am"]["open_expansions"]
    with pytest.raises(ScenarioError, match="open_expansions"):
        scenario_from_dict(data)
    data = contracted(p_renew=0.5, p_uncovered=0.7)
    with pytest.raises(ScenarioError, match="uncovered_renewal_probability exceeds"):
        scenario_from_dict(data)


def test_the_planner_sizes_account_managers_by_littles_law() -> None:
    """One segment; signals 3 % a customer-month held 21 days (lognormal σ 0.5: mean 21 e^0.125),
    renewals every 12 months worked 90 days ahead: the AMs hold customers × (0.03 × 23.8 + 90 ÷ 12)
    ÷ 30.44 items at once at the horizon, and the plan sizes them ÷ open_expansions."""
    scenario = load_scenario(SILO_PATH, overrides=[
        "customers.expanded_by=am", "+roles.am={headcount: 2, open_expansions: 20, ramp: [1.0]}",
        "inbound.segment_mix={smb: 1}", "outbound.segment_mix={smb: 1}",
        "segments.smb.contract={term_months: 12}", "segments.smb.expansion.monthly_probability=0.03"])
    plan = sim_plan(PlanTarget(monthly_new_mrr_usd=40000.0), SalesModel.from_scenario(scenario))
    cycle = 21.0 * math.exp(0.5 ** 2 / 2)
    expected = plan.customers_at_horizon * (0.03 * cycle + 90.0 / 12) / DAYS_PER_MONTH
    am = plan.roles["am"]
    assert am.workload["managed_items"] == pytest.approx(expected, rel=1e-9)
    assert am.headcount >= expected / 20.0
    model = SalesModel.from_scenario(scenario)
    assert model.jobs("am") == (Job.EXPAND_AND_RENEW,)


BAD_CONTRACT = """\
name: bad_contract
horizon_months: 3
roles:
  mdr: {headcount: 1, dials_per_day: 100}
  ae: {headcount: 1, max_open_opportunities: 10}
segments:
  s:
    mrr_usd: 1000
    contract:
      term_months: 0
      renewal_probability: 1.5
inbound:
  mqls_per_month: 10
  segment_mix: {s: 1}
  qualify_probability: 0.2
"""


def test_bad_contracts_are_located_and_explained(tmp_path, capsys) -> None:
    """A term of 0 months and a renewal probability of 1.5: each reported at its line (exit 2)."""
    from scenario_builders import assert_problems_reported, line_of

    from sim.cli import main
    from sim.cli.common import EXIT_BAD_INPUT

    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONTRACT, encoding="utf-8")
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert_problems_reported(err, "bad.yaml", [
        (line_of(BAD_CONTRACT, "term_months: 0"), "segments.s.contract.term_months", "12"),
        (line_of(BAD_CONTRACT, "renewal_probability: 1.5"), "segments.s.contract.renewal_probability", ""),
    ])
    assert "Traceback" not in err
