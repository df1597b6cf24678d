"""The analytic planner (:mod:`sim.planner`) and ``salesim plan`` (:mod:`sim.cli.plan`).

The sales model derived from ``scenarios/silo.yaml`` is checked against hand arithmetic on
the file's own figures; the plan against its funnel identities, rounding, hiring-date rules
and monotonicity; bad inputs against :class:`PlanError` messages; the CLI in-process through
a small parser built here. The only random check (renewal–reward staffing shares) is seeded
and its tolerance is 4 standard errors.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim import Scenario, load_scenario, scenario_from_dict
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.cli.plan import add_parser, cmd_plan
from sim.planner.arithmetic import PlanError, monthly_new_mrr_for
from sim.planner.headcount import PlanTarget, plan
from sim.planner.model import RoleModel, SalesModel, SegmentModel, SourceModel
from sim.planner.staffing import dials_stats, ramp_to_full_months, staffing_shares
from sim.scenario.dists import Geometric, Lognormal, UniformInt, Weibull
from sim.scenario.yamlio import load_document
from sim.workcalendar import DAYS_PER_MONTH

ROOT = Path(__file__).resolve().parents[1]
SILO = ROOT / "scenarios" / "silo.yaml"
REL = 1e-9  # round-off in deterministic arithmetic
HAS_HIRING = "hiring" in Scenario.model_fields  # the scenario schema's hiring section (waves, recruiting load)


@pytest.fixture(scope="module")
def silo():
    return load_scenario(SILO)


@pytest.fixture(scope="module")
def silo_data():
    return load_document(SILO).data


@pytest.fixture(scope="module")
def model(silo):
    return SalesModel.from_scenario(silo)


def model_from(data: dict) -> SalesModel:
    return SalesModel.from_scenario(scenario_from_dict(data))


# --------------------------------------------------------------------------- the model from silo.yaml


def test_model_from_silo_matches_hand_arithmetic(silo, model):
    # geometric dials to connect, max_attempts 14: reached within n with 1 - q^n, dials E[min(G, n)] = (1 - q^n) / p
    q_in, q_out = 1 - 1 / 3, 1 - 1 / 12.5
    reach_in, reach = 1 - q_in**14, 1 - q_out**14
    dials_in, dials = reach_in * 3, reach * 12.5
    work_days = DAYS_PER_MONTH * 5 / 7
    assert model.inbound.sql_rate == pytest.approx(0.11 * reach_in, rel=REL)
    assert model.outbound.sql_rate == pytest.approx(reach * 0.55 * 0.12, rel=REL)
    assert model.inbound.dials_per_lead == pytest.approx(dials_in, rel=REL)
    assert model.outbound.dials_per_lead == pytest.approx(dials, rel=REL)
    assert model.roles["mdr"].mqls_per_month == pytest.approx(240 * work_days / dials_in, rel=REL)
    assert model.roles["sdr"].prospects_per_month == pytest.approx(min(480, 150 * work_days / dials), rel=REL)
    assert model.roles["ae"].max_open_opportunities == 30
    assert model.roles["csm"].accounts_covered == 150
    smb = model.segments["smb"]
    assert smb.mean_deal_mrr_usd == pytest.approx(800 * math.exp(0.6**2 / 2), rel=REL)
    assert smb.win_rate() == pytest.approx(0.7 * 0.6 * 0.8, rel=REL)
    odds = 0.7 / 0.3 * 0.9  # silo hand-off: win_odds_multiplier 0.9 on the first meeting
    p1 = odds / (1 + odds)
    assert smb.win_rate(0.9) == pytest.approx(p1 * 0.6 * 0.8, rel=REL)
    gap = 10 * math.exp(0.6**2 / 2)
    assert smb.opportunity_days(0.9) == pytest.approx(gap * (1 + p1 + p1 * 0.6), rel=REL)
    assert smb.won_cycle_days() == pytest.approx(3 * gap, rel=REL)
    # derived SQL split: the scenario's MQLs (within MDR capacity) vs its SDRs' prospects
    mql_to_sql = 0.11 * reach_in * 0.92
    prospect_to_sql = reach * 0.55 * 0.12 * 0.92
    sql_in = min(420, 2 * model.roles["mdr"].mqls_per_month) * mql_to_sql
    sql_out = 4 * model.roles["sdr"].prospects_per_month * prospect_to_sql
    assert model.sql_share() == pytest.approx(sql_in / (sql_in + sql_out), rel=REL)


def test_staffing_shares_closed_forms():
    assert staffing_shares([0.25, 0.5, 0.75, 1.0], None) == (0.0, 0.0)
    # fixed tenure T, fill F: vacancy F / (T + F), ramp loss Σ(1 - r) / (T + F)
    vacancy, ramp_loss = staffing_shares([0.25, 0.5, 0.75, 1.0], 14.0, 2.0)
    assert vacancy == pytest.approx(2 / 16, rel=1e-6)
    assert ramp_loss == pytest.approx(1.5 / 16, rel=1e-6)
    assert ramp_to_full_months([0.25, 0.5, 0.75, 1.0]) == 3
    assert ramp_to_full_months([1.0]) == 0


def test_staffing_shares_match_a_seeded_renewal_simulation():
    ramp = [0.1, 0.25, 0.45, 0.65, 0.8, 0.95, 1.0]
    tenure = Weibull(dist="weibull", scale=15.5, shape=1.5)
    fill = 2.0
    vacancy, ramp_loss = staffing_shares(ramp, tenure, fill)
    rng = np.random.default_rng(20240611)
    n = 200_000
    t = tenure.ppf(rng.random(n))
    full = np.floor(t).astype(int)
    r = np.asarray(ramp)
    # ∫_0^T ramp(s) ds for each tenure, exactly (piecewise constant by month)
    cum = np.concatenate([[0.0], np.cumsum(r)])
    k = np.minimum(full, len(r) - 1)
    productive = np.where(full < len(r), cum[k] + r[k] * (t - full), cum[-1] + r[-1] * (t - len(r)))
    cycle = t + fill
    for share, x in ((vacancy, np.full(n, fill)), (ramp_loss, t - productive)):
        est = x.sum() / cycle.sum()
        # ratio estimator: SE from the linearised residuals x - est × cycle
        se = np.std(x - est * cycle, ddof=1) / (np.sqrt(n) * cycle.mean())
        assert abs(share - est) <= 4 * se


def test_recruiting_load_takes_time_from_the_staffed_reps():
    role = RoleModel("sdr", prospects_per_month=400, vacancy_share=0.2, ramp_loss_share=0.1, recruiting_load_fte=0.25)
    # 0.2 of a requisition open per seat, shared by 0.8 staffed reps, each requisition taking 0.25 FTE
    assert role.recruiting_factor == pytest.approx(1 - 0.25 * 0.2 / 0.8, rel=REL)
    assert role.productive_share == pytest.approx(0.7 * (1 - 0.0625), rel=REL)
    assert role.vacancy_share + role.ramp_loss_share + role.recruiting_loss_share + role.productive_share == (
        pytest.approx(1.0, rel=REL))
    assert RoleModel("sdr", vacancy_share=0.2, ramp_loss_share=0.1).productive_share == pytest.approx(0.7)


@pytest.mark.skipif(not HAS_HIRING, reason="the scenario schema has no hiring section")
def test_recruiting_load_from_the_scenario(silo_data):
    heads = []
    for load in (0.0, 0.25, 0.5):
        data = copy.deepcopy(silo_data)
        data.setdefault("hiring", {})["recruiting_load_fte"] = load
        p = plan(PlanTarget(annual_new_revenue_usd=2_000_000), model_from(data))
        heads.append(p.roles["sdr"].headcount_exact)
        assert p.roles["sdr"].recruiting_loss_share == pytest.approx(
            (1 - p.roles["sdr"].vacancy_share - p.roles["sdr"].ramp_loss_share)
            * load * p.roles["sdr"].vacancy_share / (1 - p.roles["sdr"].vacancy_share), rel=REL)
    assert heads[0] < heads[1] < heads[2]


def test_dials_stats_exact_for_discrete_and_grid_for_continuous():
    reach, used = dials_stats(UniformInt(dist="uniform_int", low=10, high=15), 14)
    assert reach == pytest.approx(5 / 6, rel=REL) and used == pytest.approx(74 / 6, rel=REL)
    p = 1 / 12.5
    reach, used = dials_stats(Geometric(dist="geometric", mean=12.5), 14)
    assert reach == pytest.approx(1 - (1 - p) ** 14, rel=1e-9)
    assert used == pytest.approx((1 - (1 - p) ** 14) / p, rel=1e-9)  # E[min(X, M)] = Σ_{k<M} P(X > k)
    dist = Lognormal(dist="lognormal", median=12, sigma=0.4)
    reach, used = dials_stats(dist, 14)
    # the simulator rounds: reached iff rint(X) <= 14 iff X < 14.5
    assert reach == pytest.approx(float(dist.cdf(np.asarray([14.5]))[0]), abs=1e-4)


# --------------------------------------------------------------------------- the plan on silo.yaml


def test_silo_plan_staffs_every_role_and_rounds_up(silo, model):
    p = plan(PlanTarget(annual_new_revenue_usd=1_560_000), model)
    assert set(p.roles) == set(silo.roles)
    for name, r in p.roles.items():
        assert r.jobs, name
        assert r.fte_needed > 0
        assert r.headcount >= 1
        assert r.headcount_exact == pytest.approx(r.fte_needed / r.productive_share, rel=REL)
        assert r.headcount_exact > r.fte_needed  # attrition and ramp cost capacity
        assert r.headcount - 1 < r.headcount_exact <= r.headcount
        assert len(r.reps) == r.headcount
    assert p.cost_per_month_usd == sum(r.headcount * silo.roles[n].monthly_cost_usd for n, r in p.roles.items())


def test_silo_funnel_identities(model):
    p = plan(PlanTarget(annual_new_revenue_usd=2_500_000, monthly_churn=0.02, invoice_lag_months=1), model)
    assert p.monthly_new_mrr_usd == pytest.approx(monthly_new_mrr_for(2_500_000, monthly_churn=0.02,
                                                                      invoice_lag_months=1), rel=REL)
    assert p.deals_per_month * p.blended_deal_mrr_usd == pytest.approx(p.monthly_new_mrr_usd, rel=REL)
    assert p.sqls_per_month * p.win_rate == pytest.approx(p.deals_per_month, rel=REL)
    assert sum(p.deals_by_segment.values()) == pytest.approx(p.deals_per_month, rel=REL)
    assert sum(p.sqls_by_segment.values()) == pytest.approx(p.sqls_per_month, rel=REL)
    assert p.inbound_sqls_per_month + p.outbound_sqls_per_month == pytest.approx(p.sqls_per_month, rel=REL)
    assert p.inbound_sqls_per_month == pytest.approx(model.sql_share() * p.sqls_per_month, rel=REL)
    assert p.mqls_per_month * p.mql_to_sql_rate == pytest.approx(p.inbound_sqls_per_month, rel=REL)
    assert p.prospects_per_month * p.prospect_to_sql_rate == pytest.approx(p.outbound_sqls_per_month, rel=REL)
    assert p.dials_per_month == pytest.approx(
        p.mqls_per_month * model.inbound.dials_per_lead + p.prospects_per_month * model.outbound.dials_per_lead,
        rel=REL)
    assert p.roles["mdr"].workload["mqls"] == pytest.approx(p.mqls_per_month, rel=REL)
    assert p.roles["ae"].workload["sqls"] == pytest.approx(p.sqls_per_month, rel=REL)
    assert p.roles["csm"].workload["accounts"] == pytest.approx(
        p.deals_per_month * (1 - 0.98**12) / 0.02, rel=REL)


def test_silo_hiring_dates(model):
    for revenue in (1_560_000, 4_000_000):
        p = plan(PlanTarget(annual_new_revenue_usd=revenue), model)
        assert p.hires, "the customer role grows with the installed base: some CSMs are hired later"
        for r in p.roles.values():
            starts = [rep.start_month for rep in r.reps]
            assert starts == sorted(starts)
            assert [rep.number for rep in r.reps] == list(range(1, r.headcount + 1))
            for rep in r.reps:
                assert rep.requisition_month == rep.start_month - r.time_to_fill_months
                assert rep.requisition_month < rep.start_month  # every silo role takes time to fill
                assert rep.start_month == rep.need_month - r.ramp_to_full_months - r.lead_months
                assert 1 <= rep.need_month <= 12
            if r.jobs != ("manage_accounts",):
                assert all(rep.on_staff for rep in r.reps)  # needed from month 1: already on staff
        keys = [(h.requisition_month, h.start_month) for h in p.hires]
        assert keys == sorted(keys)
        for hire in p.hires:
            assert hire.start_month >= 1 and not hire.on_staff
        table = p.hiring_table()
        assert len(table) == sum(p.headcount.values())
        assert list(table.columns) == ["role", "rep", "need_month", "start_month", "requisition_month", "on_staff"]


def test_lead_months_follow_the_sales_cycle(model):
    p = plan(PlanTarget(annual_new_revenue_usd=1_560_000), model)
    ae = p.roles["ae"]
    assert ae.ramp_to_full_months == 6
    assert ae.lead_months == math.ceil(
        sum(p.deals_by_segment[s] * model.segments[s].won_cycle_days() for s in model.segments)
        / p.deals_per_month / DAYS_PER_MONTH)
    assert p.roles["mdr"].lead_months >= ae.lead_months  # working the lead and the hand-off come first
    assert p.roles["csm"].lead_months == 0


def test_table_has_a_row_per_stage_and_role(model):
    p = plan(PlanTarget(annual_new_revenue_usd=1_560_000), model)
    table = p.table()
    stages = list(table["stage"])
    for stage in ("prospects", "MQLs", "SQLs", "deals", "new MRR (USD)", "mdr", "sdr", "ae", "csm"):
        assert stage in stages
    roles = table[table["kind"] == "role"].set_index("stage")
    for name, r in p.roles.items():
        assert roles.loc[name, "headcount"] == r.headcount
        assert roles.loc[name, "headcount_exact"] == pytest.approx(r.headcount_exact)


def test_to_dict_is_json(model):
    p = plan(PlanTarget(annual_new_revenue_usd=1_560_000, mqls_per_month=200), model)
    data = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    assert data["revenue"]["monthly_new_mrr_usd"] == pytest.approx(20_000)
    assert data["funnel"]["mqls_per_month"] == 200
    assert {r: v["headcount"] for r, v in data["roles"].items()} == p.headcount
    assert len(data["hiring"]) == len(p.hires)


# --------------------------------------------------------------------------- monotonicity


def test_a_bigger_target_never_needs_fewer_reps(model):
    previous = None
    for revenue in np.linspace(200_000, 8_000_000, 40):
        p = plan(PlanTarget(annual_new_revenue_usd=float(revenue)), model)
        if previous is not None:
            for name, r in p.roles.items():
                assert r.headcount >= previous.roles[name].headcount
                assert r.headcount_exact > previous.roles[name].headcount_exact
            assert p.cost_per_month_usd >= previous.cost_per_month_usd
        previous = p


def test_higher_churn_needs_more_new_mrr_for_the_same_revenue(model):
    rates = [0.0, 0.005, 0.01, 0.03, 0.06, 0.12]
    plans = [plan(PlanTarget(annual_new_revenue_usd=2_000_000, monthly_churn=c), model) for c in rates]
    for a, b in itertools.pairwise(plans):
        assert b.monthly_new_mrr_usd > a.monthly_new_mrr_usd
        assert b.first_year_revenue_usd == pytest.approx(a.first_year_revenue_usd)
        for name in a.roles:
            assert b.roles[name].headcount >= a.roles[name].headcount
        for name in ("mdr", "sdr", "ae"):
            assert b.roles[name].headcount_exact > a.roles[name].headcount_exact


def test_a_slower_ramp_means_earlier_and_more_hires(silo_data):
    fast = model_from(silo_data)
    slow_data = copy.deepcopy(silo_data)
    slow_data["roles"]["ae"]["ramp"] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    slow_data["roles"]["csm"]["ramp"] = [0.25, 0.5, 0.75, 1.0]
    slow = model_from(slow_data)
    for revenue in (1_000_000, 3_000_000):
        a = plan(PlanTarget(annual_new_revenue_usd=revenue), fast)
        b = plan(PlanTarget(annual_new_revenue_usd=revenue), slow)
        for role in ("ae", "csm"):
            assert b.roles[role].headcount_exact > a.roles[role].headcount_exact
            assert b.roles[role].headcount >= a.roles[role].headcount
            for rep_a, rep_b in zip(a.roles[role].reps, b.roles[role].reps, strict=False):
                assert rep_b.start_month < rep_a.start_month
                assert rep_b.requisition_month < rep_a.requisition_month
        for role in ("mdr", "sdr"):  # untouched roles do not move
            assert b.roles[role].headcount_exact == pytest.approx(a.roles[role].headcount_exact, rel=REL)


def test_fixed_mql_volume_sets_the_required_rate(model):
    free = plan(PlanTarget(annual_new_revenue_usd=1_560_000), model)
    fixed = plan(PlanTarget(annual_new_revenue_usd=1_560_000, mqls_per_month=500), model)
    assert fixed.mqls_per_month == 500
    assert fixed.mql_to_sql_rate == pytest.approx(free.inbound_sqls_per_month / 500, rel=REL)
    assert fixed.roles["mdr"].headcount_exact > free.roles["mdr"].headcount_exact  # more MQLs to work
    assert not fixed.warnings
    tight = plan(PlanTarget(annual_new_revenue_usd=1_560_000, mqls_per_month=100), model)
    assert tight.warnings and "MQL→SQL" in tight.warnings[0]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"annual_new_revenue_usd": 0}, "positive"),
    ({"annual_new_revenue_usd": -1_000}, "positive"),
    ({"monthly_new_mrr_usd": float("nan")}, "finite"),
    ({}, "exactly one target"),
    ({"annual_new_revenue_usd": 1e6, "monthly_new_mrr_usd": 2e4}, "exactly one target"),
    ({"annual_new_revenue_usd": 1e6, "monthly_churn": -0.01}, "at least 0"),
    ({"annual_new_revenue_usd": 1e6, "monthly_churn": 1.0}, "below 1"),
    ({"annual_new_revenue_usd": 1e6, "monthly_churn": 3.0}, "fraction"),
    ({"annual_new_revenue_usd": 1e6, "invoice_lag_months": -1}, "cannot be negative"),
    ({"annual_new_revenue_usd": 1e6, "invoice_lag_months": 12}, "no revenue"),
    ({"annual_new_revenue_usd": 1e6, "invoice_lag_months": 1.5}, "whole number"),
    ({"annual_new_revenue_usd": 1e6, "horizon_months": 0}, "horizon"),
    ({"annual_new_revenue_usd": 1e6, "mqls_per_month": 0}, "MQL volume must be positive"),
])
def test_bad_targets_raise_plan_error(kwargs, message):
    with pytest.raises(PlanError, match=message) as info:
        PlanTarget(**kwargs)
    assert isinstance(info.value, ValueError)


def test_a_conversion_above_100_percent_is_refused(model):
    with pytest.raises(PlanError, match=r"above 100%.*Raise the MQL volume"):
        plan(PlanTarget(annual_new_revenue_usd=5_000_000, mqls_per_month=20), model)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("roles", "sdr", "dials_per_day"), 0, r"role 'sdr' must work .* prospects a month but one rep's capacity"),
    (("roles", "mdr", "dials_per_day"), 0, r"role 'mdr' must work .* MQLs a month .* dials_per_day"),
    (("roles", "ae", "max_open_opportunities"), 0, r"role 'ae' must take on .* SQLs .* max_open_opportunities"),
    (("roles", "csm", "accounts_covered"), 0, r"role 'csm' must cover .* accounts_covered"),
    (("inbound", "qualify_probability"), 0.0, r"inbound MQLs never become SQLs"),
])
def test_zero_capacity_or_conversion_with_work_is_refused(silo_data, path, value, message):
    data = copy.deepcopy(silo_data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    # a fixed split: derived from the scenario's volumes, a dead flow would get no SQLs to make
    bad = SalesModel.from_scenario(scenario_from_dict(data), inbound_sql_share=0.6)
    with pytest.raises(PlanError, match=message):
        plan(PlanTarget(annual_new_revenue_usd=1_000_000), bad)


def test_derived_split_follows_the_scenarios_volumes(silo_data):
    data = copy.deepcopy(silo_data)
    data["roles"]["sdr"]["headcount"] = 0
    data["roles"]["sdr"]["initial_tenure_months"] = 12
    assert model_from(data).sql_share() == 1.0  # no SDRs on staff: every SQL is inbound
    del data["outbound"]
    assert model_from(data).outbound is None and model_from(data).sql_share() == 1.0


def test_no_winnable_segment_is_refused(silo_data):
    data = copy.deepcopy(silo_data)
    for seg in data["segments"].values():
        seg["opportunity"]["pass_probability"] = [0.0] * seg["opportunity"]["meetings"]
    with pytest.raises(PlanError, match="no SQL can become revenue"):
        plan(PlanTarget(annual_new_revenue_usd=1_000_000), model_from(data))


def test_an_inconsistent_model_is_refused():
    seg = {"smb": SegmentModel.simple("smb", 1_000, 0.3)}
    with pytest.raises(PlanError, match="role 'mdr', which is not defined"):
        SalesModel(segments=seg, roles={"ae": RoleModel("ae", sqls_per_month=20)},
                   inbound=SourceModel("mdr", 0.1, {"smb": 1.0}))
    with pytest.raises(PlanError, match="needs a lead source"):
        SalesModel(segments=seg, roles={"ae": RoleModel("ae", sqls_per_month=20)})
    with pytest.raises(PlanError, match="no outbound source"):
        SalesModel(segments=seg, roles={"mdr": RoleModel("mdr", mqls_per_month=300),
                                        "ae": RoleModel("ae", sqls_per_month=20)},
                   inbound=SourceModel("mdr", 0.1, {"smb": 1.0}), inbound_sql_share=0.5)


# --------------------------------------------------------------------------- back to a scenario


@pytest.mark.parametrize("name", ["silo", "pod", "hybrid"])
def test_to_scenario_dict_without_hiring_validates(name):
    path = ROOT / "scenarios" / f"{name}.yaml"
    base = load_document(path).data
    p = plan(PlanTarget(annual_new_revenue_usd=3_000_000), SalesModel.from_scenario(load_scenario(path)))
    data = p.to_scenario_dict(base, include_hiring=False)
    scenario = scenario_from_dict(data)
    assert "hiring" not in data
    assert {r: spec.headcount for r, spec in scenario.roles.items()} == p.headcount
    assert scenario.inbound.mqls_per_month == pytest.approx(p.mqls_per_month, abs=1e-3)
    assert scenario.inbound.growth_per_month == 0.0
    for role, spec in scenario.roles.items():
        if spec.headcount:  # on staff fully ramped
            assert spec.productivity(spec.tenures()[0]) == p.model.roles[role].ramp[-1]
    assert base == load_document(path).data  # the base is not modified


def test_to_scenario_dict_with_hiring_waves(silo_data, model):
    p = plan(PlanTarget(annual_new_revenue_usd=4_000_000), model)
    data = p.to_scenario_dict(silo_data)
    waves = data["hiring"]["waves"]
    assert sum(w["count"] for w in waves) == len(p.hires) > 0
    for wave in waves:
        assert set(wave) == {"month", "role", "count"}
        assert isinstance(wave["month"], int) and wave["month"] >= 1
        assert wave["role"] in p.roles and wave["count"] >= 1
    assert [w["month"] for w in waves] == sorted(w["month"] for w in waves)
    for name, r in p.roles.items():
        hired = sum(w["count"] for w in waves if w["role"] == name)
        assert data["roles"][name]["headcount"] + hired == r.headcount
    if HAS_HIRING:
        scenario = scenario_from_dict(data)
        assert sum(w.count for w in scenario.hiring.waves) == len(p.hires)
    data.pop("hiring")
    scenario_from_dict(data)  # the rest is valid without a hiring section too


@pytest.mark.skipif(not HAS_HIRING, reason="the scenario schema has no ramp formulas")
def test_a_ramp_formula_is_read_as_its_vector(silo_data):
    data = copy.deepcopy(silo_data)
    data["roles"]["ae"]["ramp"] = {"form": "linear", "months": 7, "start": 0.1}
    ae = model_from(data).roles["ae"]
    assert ae.ramp == pytest.approx((0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0))
    assert ae.ramp_to_full_months == 6


# --------------------------------------------------------------------------- CLI


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="salesim")
    add_parser(parser.add_subparsers(dest="command", required=True))
    code = cmd_plan(parser.parse_args(["plan", *argv]))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_cli_prints_a_readable_plan(capsys):
    code, out, err = run_cli(capsys, "--scenario", str(SILO), "--annual-revenue", "1,560,000")
    assert code == EXIT_OK and not err
    assert "$20,000 a month × 78.00 = $1,560,000 first-year revenue" in out
    assert "exit ARR $2,880,000" in out
    for word in ("funnel", "headcount", "hiring plan", "mdr", "sdr", "ae", "csm"):
        assert word in out


def test_cli_json_is_valid(capsys):
    code, out, _ = run_cli(capsys, "--scenario", str(SILO), "--monthly-new-mrr", "20000", "--churn", "0.03",
                           "--invoice-lag", "1", "--json")
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["revenue"]["monthly_new_mrr_usd"] == 20_000
    assert data["revenue"]["first_year_factor"] == pytest.approx(
        0.97 * sum((1 - 0.97**k) / 0.03 for k in range(1, 12)))
    assert set(data["roles"]) == {"mdr", "sdr", "ae", "csm"}


def test_cli_write_scenario_validates(capsys, tmp_path):
    out_file = tmp_path / "planned.yaml"
    code, out, _ = run_cli(capsys, "--scenario", str(SILO), "--annual-revenue", "3e6", "--write-scenario",
                           str(out_file))
    assert code == EXIT_OK and f"wrote {out_file}" in out
    scenario = load_scenario(out_file)
    reference = plan(PlanTarget(annual_new_revenue_usd=3e6), SalesModel.from_scenario(load_scenario(SILO)))
    assert {r: spec.headcount for r, spec in scenario.roles.items()} == reference.headcount
    code, _, err = run_cli(capsys, "--scenario", str(SILO), "--annual-revenue", "3e6", "--write-scenario",
                           str(out_file))
    assert code == EXIT_BAD_INPUT and "--overwrite" in err
    code, _, _ = run_cli(capsys, "--scenario", str(SILO), "--annual-revenue", "3e6", "--write-scenario",
                         str(out_file), "--overwrite")
    assert code == EXIT_OK


@pytest.mark.parametrize(("argv", "message"), [
    (["--annual-revenue", "1e6", "--churn", "1"], "below 1"),
    (["--annual-revenue", "-5"], "positive"),
    (["--annual-revenue", "5e6", "--mqls-per-month", "10"], "above 100%"),
    (["--annual-revenue", "1e6", "--inbound-share", "1.5"], "between 0 and 1"),
    (["--annual-revenue", "1e6", "--inbound-share", "0.6", "--set", "roles.sdr.dials_per_day=0"], "role 'sdr'"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, "--scenario", str(SILO), *argv)
    assert code == EXIT_BAD_INPUT and not out
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("salesim: plan: ") and message in err


def test_cli_bad_scenario_lists_its_problems(capsys, variant):
    path, _ = variant("bad.yaml", ("qualify_probability: 0.3", "qualify_probability: 3"))
    code, out, err = run_cli(capsys, "--scenario", str(path), "--annual-revenue", "1e6")
    assert code == EXIT_BAD_INPUT and not out
    assert f"{path}: 1 problem" in err and "inbound.qualify_probability" in err


def test_cli_needs_one_target(capsys):
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, "--scenario", str(SILO))
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        run_cli(capsys, "--scenario", str(SILO), "--annual-revenue", "1e6", "--monthly-new-mrr", "2e4")
