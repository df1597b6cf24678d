"""Self-service: segments sold without a rep, through a trial (``closed_by: none``).

* sign-ups of a source nobody works (``worked_by: none``) never touch a rep: no dial, no hand-off,
  no closer; their record shows the trial (``trial_t``) and its end (``close_t``);
* conversions are a thinned Poisson process (an analytic anchor), and, given the trials that
  ended, binomial with the trial's conversion probability;
* a rep working a source whose SQLs are of a self-service segment starts their trial (no closer);
* touch-assist: with room for every trial the conversion odds are multiplied by
  ``assisted_odds_multiplier``; more assisting reps never turn a conversion into a lapse (CRN);
* the converted become customers (the CSMs' accounts, MRR, churn as any customer);
* bad self-service input is reported with file, line and field (exit 2).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scenario_builders import (
    CALENDAR_24_7,
    HUGE,
    assert_problems_reported,
    base_scenario,
    build,
    constant,
    inbound,
    line_of,
    merge,
    role,
)

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT
from sim.eventlog import AccountEvent, LeadState
from sim.metrics import kpis
from sim.model.engine.odds import scale_odds
from sim.model.world import simulate
from sim.workcalendar import DAYS_PER_MONTH

SIGNUPS_PER_MONTH = 400.0
TRIAL_DAYS = 14.0
P_CONVERT = 0.2


def self_serve(*, horizon_months: int = 6, assist_headcount: int | None = None, trials_assisted: float = HUGE,
               odds_multiplier: float = 1.5, demo_mqls: float = 0.0) -> dict:
    """Web sign-ups (``worked_by: none``) into a self-service segment ``web`` with a 14-day trial;
    optionally a touch-assist role ``cs`` and a demo-request source worked by the MDR whose leads are
    half ``web``, half the rep-sold ``s``. 24/7 calendar, no churn."""
    data = base_scenario(name="self_serve", horizon_months=horizon_months, calendar=dict(CALENDAR_24_7))
    trial: dict = {"days": constant(TRIAL_DAYS), "conversion_probability": P_CONVERT}
    if assist_headcount is not None:
        data["roles"]["cs"] = role(assist_headcount, trials_assisted=trials_assisted)
        trial |= {"assisted_by": "cs", "assisted_odds_multiplier": odds_multiplier}
    data["segments"]["web"] = {"mrr_usd": 100.0, "closed_by": "none", "trial": trial,
                               "churn": {"monthly_rate": 0.0}}
    data.pop("inbound")
    data["lead_sources"] = {
        "signup": {"kind": "inbound", "worked_by": "none", "mqls_per_month": SIGNUPS_PER_MONTH,
                   "qualify_probability": 1.0, "segment_mix": {"web": 1.0}},
    }
    if demo_mqls:
        data["lead_sources"]["demo"] = merge(
            inbound(mqls_per_month=demo_mqls, dials_to_connect=constant(2), qualify_probability=0.5),
            {"kind": "inbound", "segment_mix": {"s": 0.5, "web": 0.5}})
    return data


def test_sign_ups_never_touch_a_rep() -> None:
    scenario = build(self_serve(demo_mqls=60.0))
    leads = simulate(scenario, 3, 0).lead_table()
    signup = leads["source_index"] == list(scenario.sources).index("signup")
    assert np.sum(signup) > 1000
    assert np.all(leads["dev_rep"][signup] == -1) and np.all(leads["closer_rep"][signup] == -1)
    assert np.all(leads["dials"][signup] == 0) and np.all(np.isnan(leads["first_touch_t"][signup]))
    assert np.all(np.isnan(leads["opportunity_t"][signup])) and np.all(np.isnan(leads["handoff_t"][signup]))
    assert set(np.unique(leads["state"][signup])) <= {LeadState.WON, LeadState.TRIAL_LAPSED, LeadState.OPEN}
    np.testing.assert_array_equal(leads["trial_t"][signup], leads["created_t"][signup])
    ended = signup & (leads["state"] != LeadState.OPEN)
    np.testing.assert_allclose(leads["close_t"][ended] - leads["trial_t"][ended], TRIAL_DAYS)
    # the demo requests of the self-service segment: an MDR qualifies them, then their trial starts
    # at the SQL (no hand-off, no closer); those of segment s go to the AE as usual
    web = list(scenario.segments).index("web")
    demo = ~signup
    demo_web_sql = demo & (leads["segment"] == web) & ~np.isnan(leads["sql_t"])
    assert np.sum(demo_web_sql) > 10
    np.testing.assert_array_equal(leads["trial_t"][demo_web_sql], leads["sql_t"][demo_web_sql])
    assert np.all(leads["dev_rep"][demo_web_sql] >= 0) and np.all(leads["closer_rep"][demo_web_sql] == -1)
    assert np.all(np.isnan(leads["opportunity_t"][demo_web_sql]))
    demo_s_won = demo & (leads["segment"] != web) & (leads["state"] == LeadState.WON)
    assert np.sum(demo_s_won) > 10 and np.all(np.isnan(leads["trial_t"][demo_s_won]))


def test_conversions_are_a_thinned_poisson_process() -> None:
    """Sign-ups arrive as a Poisson process of rate λ; those arriving before T − d end their trial in
    the horizon and convert independently with p: wins ~ Poisson(λ (T − d) p); given the n trials
    that ended, conversions ~ Binomial(n, p). Tolerances: 4 standard errors."""
    horizon = 12
    scenario = build(self_serve(horizon_months=horizon))
    log = simulate(scenario, 11, 0)
    k = kpis(log, scenario)
    mean = SIGNUPS_PER_MONTH / DAYS_PER_MONTH * (horizon * DAYS_PER_MONTH - TRIAL_DAYS) * P_CONVERT
    assert abs(k["wins"] - mean) < 4 * math.sqrt(mean), (k["wins"], mean)
    ended = k["wins"] / k["trial_conversion_rate"]
    assert abs(k["wins"] - ended * P_CONVERT) < 4 * math.sqrt(ended * P_CONVERT * (1 - P_CONVERT))
    assert k["trials"] == k["mqls"] and k["sqls"] == 0 and k["opportunities"] == 0
    for name in ("win_rate_opportunity", "win_rate_sql", "sales_cycle_days_mean"):  # no rep closed a deal
        assert math.isnan(k[name]), name
    assert k["new_mrr_usd"] == pytest.approx(100.0 * k["wins"])


def test_the_converted_become_customers() -> None:
    data = self_serve(horizon_months=3)
    data["roles"]["csm"] = role(1, accounts_covered=HUGE)
    data["customers"] = {"managed_by": "csm"}
    scenario = build(data)
    log = simulate(scenario, 5, 0)
    won = int(np.sum(log.lead_table()["state"] == LeadState.WON))
    accounts = log.account_table()
    assert won > 100
    assert int(np.sum(accounts["kind"] == AccountEvent.NEW)) == won == kpis(log, scenario)["customers_end"]


def test_touch_assist_with_room_for_all_multiplies_the_odds() -> None:
    horizon = 12
    scenario = build(self_serve(horizon_months=horizon, assist_headcount=1, odds_multiplier=2.0))
    leads = simulate(scenario, 11, 0).lead_table()
    ended = leads["state"] != LeadState.OPEN
    assert np.all(leads["closer_rep"][ended] >= 0)  # every trial touched
    n, won = int(np.sum(ended)), int(np.sum(leads["state"] == LeadState.WON))
    p = scale_odds(P_CONVERT, 2.0)  # odds 0.25 × 2 = 0.5: p = 1/3
    assert abs(won - n * p) < 4 * math.sqrt(n * p * (1 - p)), (won, n * p)


def test_more_assisting_reps_never_turn_a_conversion_into_a_lapse() -> None:
    """Common random numbers: the same sign-ups with 0, 1 and 3 reps touching at most 10 trials
    each; a trial that converts with fewer assistants converts with more."""
    converted = []
    for headcount in (0, 1, 3):
        data = self_serve(horizon_months=4, assist_headcount=headcount, trials_assisted=10.0)
        leads = simulate(build(data), 9, 0).lead_table()
        converted.append(set(leads["lead"][leads["state"] == LeadState.WON].tolist()))
        assert int(np.sum(leads["closer_rep"] >= 0)) > 0 or headcount == 0
    assert converted[0] <= converted[1] <= converted[2]
    assert len(converted[0]) < len(converted[1]) < len(converted[2])


def test_a_scenario_without_self_service_binds_no_trial_step() -> None:
    """The per-SQL path of a scenario without self-service does not test for trials."""
    from sim.model.world import World

    plain = World(build(base_scenario(inbound_spec=inbound(mqls_per_month=10.0))), 1, 0)
    assert plain.sql_step.__name__ == "_sql"
    assert World(build(self_serve()), 1, 0).sql_step.__name__ == "_sql_or_trial"


BAD = """\
name: bad_self_service
roles:
  mdr: {headcount: 1, dials_per_day: 100}
  ae: {headcount: 1, max_open_opportunities: 10}
  cs: {headcount: 1}
segments:
  s: {mrr_usd: 1000}
  web:
    mrr_usd: 50
    closed_by: none
    opportunity: {meetings: 1}
    trial: {days: {dist: constant, value: 14}, conversion_probability: 0.2, assisted_by: cs}
  app:
    mrr_usd: 50
    closed_by: none
  mid:
    mrr_usd: 3000
    trial: {conversion_probability: 1.5}
lead_sources:
  signup:
    kind: inbound
    worked_by: none
    mqls_per_month: 100
    qualify_probability: 1.0
    segment_mix: {web: 0.5, app: 0.5}
inbound:
  mqls_per_month: 10
  segment_mix: {s: 1}
  qualify_probability: 0.2
"""


def test_bad_self_service_is_located_and_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")

    def line(needle: str, after: int = 0) -> int:
        return line_of(BAD, needle, after)

    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    expected = [
        (line("  cs: {headcount: 1}"), "roles.cs", "needs trials_assisted"),
        (line("opportunity: {meetings: 1}"), "segments.web.opportunity", "not meetings"),
        (line("closed_by: none", line("  app:")), "segments.app.closed_by", "needs a trial"),
        (line("conversion_probability: 1.5"), "segments.mid.trial.conversion_probability", ""),
    ]
    assert_problems_reported(err, "bad.yaml", expected)


def test_the_planner_plans_a_self_service_tier() -> None:
    """A third of the silo's inbound SQLs belong to a self-serve segment: they start trials (no
    hand-off, no AE), convert at the assisted odds (0.2 × 1.5 in odds: 3/11), and the CSMs who
    touch them hold trials/month × 14 days ÷ 30.44 at once, by Little's law."""
    from scenario_builders import SILO_PATH

    from sim import PlanTarget, SalesModel
    from sim import plan as make_plan
    from sim.scenario import load_scenario
    from sim.scenario.jobs import Job
    from sim.workcalendar import DAYS_PER_MONTH

    web = ("+segments.web={mrr_usd: 150, closed_by: none, trial: {days: 14, conversion_probability: 0.2, "
           "assisted_by: csm, assisted_odds_multiplier: 1.5}}")
    scenario = load_scenario(SILO_PATH, overrides=[
        web, "inbound.segment_mix={smb: 0.5, mid_market: 0.2, web: 0.3}", "roles.csm.trials_assisted=40",
        "roles.csm.time_split={manage_accounts: 0.8, assist_trials: 0.2}"])
    model = SalesModel.from_scenario(scenario)
    assert model.jobs("csm") == (Job.MANAGE_ACCOUNTS, Job.ASSIST_TRIALS)
    assert model.segments["web"].pass_probabilities == pytest.approx((3 / 11,))
    plan = make_plan(PlanTarget(monthly_new_mrr_usd=33000.0), model)
    web_sqls = plan.sqls_by_segment["web"]
    assert plan.deals_by_segment["web"] == pytest.approx(web_sqls * 3 / 11, rel=1e-9)
    assert plan.roles["csm"].workload["assisted_trials"] == pytest.approx(web_sqls * 14 / DAYS_PER_MONTH, rel=1e-9)
    assert plan.roles["ae"].workload["sqls"] == pytest.approx(plan.sqls_per_month - web_sqls, rel=1e-9)
