"""``salesim plan --simulate / --solve`` (:mod:`sim.planner.simulation`, hooked in :mod:`sim.cli.plan`).

A small org (1 MDR, 1 SDR, 1 AE; about 1,000 leads a year, 0.05 s a replication) keeps the
Monte Carlo runs fast; the checks are about bookkeeping, which holds exactly whatever the
number of replications: P(hit) is the share of the KPI table's rows at or above the target,
gaps are simulated − plan, the written scenarios are valid and carry the plan's org, and the
solver evaluates every candidate with the same seed and replications (common random numbers).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim import load_scenario, scenario_from_dict
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_NOT_REACHED, EXIT_OK
from sim.planner.arithmetic import PlanError
from sim.planner.headcount import PlanTarget, plan
from sim.planner.model import SalesModel
from sim.planner.simulation import (
    EXIT_ARR,
    FIRST_YEAR,
    TABLE_COLUMNS,
    HitTarget,
    plan_scenario_data,
    simulate_plan,
    solve_plan,
    wilson_interval,
    with_headcount,
)
from sim.runs import monte_carlo, replication
from sim.scenario.yamlio import load_document, yaml_dump

ROOT = Path(__file__).resolve().parents[1]
SILO = ROOT / "scenarios" / "silo.yaml"
TARGET = 725_000.0  # needs 0.95 SDRs: the analytic plan (1 SDR) is borderline
SEED = 11
REPS = 4
"""Replications of the end-to-end runs (10 until the default tier was trimmed): the bookkeeping is exact
at any number; with these 4 the target is hit in 2 (hits and misses both occur)."""


def small_org() -> dict:
    """1 MDR (30 MQLs a month), 1 SDR (60 prospects), 1 AE; one SMB segment, no churn, 24/7."""
    fixed = {"ramp": [1.0], "tenure_months": None}
    return {
        "name": "small",
        "horizon_months": 12,
        "calendar": {"start_hour": 0, "hours_per_day": 24, "days_per_week": 7},
        "roles": {
            "mdr": {"headcount": 1, "dials_per_day": 12.0, "monthly_cost_usd": 5000.0, **fixed},
            "sdr": {"headcount": 1, "dials_per_day": 12.0, "monthly_cost_usd": 6000.0, **fixed},
            "ae": {"headcount": 1, "max_open_opportunities": 8.0, "monthly_cost_usd": 10000.0, **fixed},
        },
        "segments": {"smb": {
            "mrr_usd": {"dist": "lognormal", "median": 900.0, "sigma": 0.5}, "closed_by": "ae",
            "opportunity": {"meetings": 1, "pass_probability": 0.4,
                            "gap_days": {"dist": "lognormal", "median": 6.0, "sigma": 0.4}},
            "churn": {"monthly_rate": 0.0, "onboarding_months": 0},
        }},
        "inbound": {
            "mqls_per_month": 30.0, "business_hours_only": False, "segment_mix": {"smb": 1.0}, "worked_by": "mdr",
            "dials_to_connect": {"dist": "uniform_int", "low": 1, "high": 3}, "qualify_probability": 0.4,
            "speed_to_lead": {"profile": "none"}, "response_minutes": 0.0,
        },
        "outbound": {
            "worked_by": "sdr", "prospects_per_rep_month": 60.0, "segment_mix": {"smb": 1.0},
            "dials_to_connect": {"dist": "uniform_int", "low": 1, "high": 3}, "lead_probability": 0.5,
            "sql_probability": 0.4,
        },
        "contact": {"attempts_per_day": 3, "max_attempts": 3},
        "handoff": {"delay_days": 0.5, "leakage_probability": 0.0, "win_odds_multiplier": 1.0,
                    "stale_after_days": 20.0},
        "customers": {"managed_by": None},
    }


@pytest.fixture(scope="module")
def small_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    path.write_text(yaml_dump(small_org()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_plan():
    return plan(PlanTarget(annual_new_revenue_usd=TARGET), SalesModel.from_scenario(scenario_from_dict(small_org())))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --------------------------------------------------------------------------- pieces


@pytest.mark.parametrize(("hits", "n"), [(0, 10), (3, 10), (5, 10), (10, 10), (17, 40), (1, 1)])
def test_wilson_interval_matches_scipy(hits, n):
    low, high = wilson_interval(hits, n)
    ref = sps.binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-9) and high == pytest.approx(ref.high, abs=1e-9)
    assert 0.0 <= low <= hits / n <= high <= 1.0


def test_wilson_interval_edges():
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_plan_scenario_keeps_base_hiring_settings_and_drops_the_base_orgs_waves():
    data = load_document(SILO).data
    data["hiring"] = {"recruiting_load_fte": 0.4, "hires_per_month": 2,
                      "waves": [{"month": 2, "role": "ae", "count": 3}], "targets": {"ae": {6: 9}}}
    p = plan(PlanTarget(annual_new_revenue_usd=2_000_000), SalesModel.from_scenario(scenario_from_dict(data)))
    out = plan_scenario_data(p, data)
    scenario = scenario_from_dict(out)
    assert scenario.horizon_months == 12 and scenario.name == "silo-plan"
    assert scenario.hiring.recruiting_load_fte == 0.4 and scenario.hiring.hires_per_month == 2
    assert scenario.hiring.targets == {}  # the base org's targets are not the plan's
    assert sum(w.count for w in scenario.hiring.waves) == len(p.hires)
    assert all(w.role != "ae" or w.month != 2 for w in scenario.hiring.waves)
    for role, r in p.roles.items():
        assert scenario.roles[role].headcount == r.on_staff
    assert data["hiring"]["waves"] == [{"month": 2, "role": "ae", "count": 3}]  # base untouched
    assert plan_scenario_data(p, data, horizon_months=18)["horizon_months"] == 18
    with pytest.raises(PlanError, match="at least 12"):
        plan_scenario_data(p, data, horizon_months=6)


def test_with_headcount_keeps_the_schedule_shape():
    p = plan(PlanTarget(annual_new_revenue_usd=2_000_000), SalesModel.from_scenario(load_scenario(SILO)))
    csm = sorted(p.roles["csm"].reps, key=lambda r: r.need_month)
    assert len(csm) == 2 and not csm[-1].on_staff  # silo: one CSM on staff, one hired later
    more = with_headcount(p, {"csm": 3, "ae": p.headcount["ae"] + 2})
    extra = more.roles["csm"].reps[-1]
    assert (extra.need_month, extra.start_month, extra.requisition_month) == (
        csm[-1].need_month, csm[-1].start_month, csm[-1].requisition_month)
    assert more.roles["ae"].on_staff == p.roles["ae"].on_staff + 2  # closers are all needed from month 1
    assert more.cost_per_month_usd == pytest.approx(
        p.cost_per_month_usd + p.roles["csm"].monthly_cost_usd + 2 * p.roles["ae"].monthly_cost_usd)
    fewer = with_headcount(p, {"csm": 1})
    assert fewer.roles["csm"].reps == (csm[0],) and not fewer.hires
    assert fewer.sqls_per_month == p.sqls_per_month  # the funnel is the analytic plan's
    with pytest.raises(PlanError, match="no role"):
        with_headcount(p, {"bdr": 1})
    with pytest.raises(PlanError, match="whole number"):
        with_headcount(p, {"ae": -1})


# --------------------------------------------------------------------------- --simulate


@pytest.mark.parametrize("horizon", [6, 12])
def test_cli_simulate_end_to_end(capsys, tmp_path, small_path, small_plan, horizon):
    out = tmp_path / "plan"
    code, stdout, err = cli(capsys, "--scenario", str(small_path), "--annual-revenue", f"{TARGET:.0f}",
                            "--horizon", str(horizon), "--simulate", "--reps", str(REPS), "--seed", str(SEED),
                            "--workers", "1", "--out", str(out), "--json")
    assert code == EXIT_OK, err
    doc = json.loads(stdout)
    assert set(doc) == {"plan", "simulation", "gap"}
    sim_doc = doc["simulation"]
    # the scenario file: valid, the plan's org, a first year to measure
    scenario_file = out / "plan_scenario.yaml"
    assert sim_doc["scenario_file"] == str(scenario_file)
    scenario = load_scenario(scenario_file)
    assert scenario.horizon_months == 12
    assert {r: s.headcount for r, s in scenario.roles.items()} == {
        r: small_plan.roles[r].on_staff for r in small_plan.roles}
    assert scenario.inbound.mqls_per_month == pytest.approx(small_plan.mqls_per_month, abs=1e-3)
    # P(hit) is the share of the KPI table at or above the target
    kpis = pd.read_parquet(out / "runs" / "replications.parquet")
    assert len(kpis) == REPS == sim_doc["reps"]
    p_hit = sim_doc["p_hit"]
    assert 0.0 <= p_hit["ci95_low"] <= p_hit["estimate"] <= p_hit["ci95_high"] <= 1.0
    assert p_hit["hits"] == int(np.sum(kpis[FIRST_YEAR] >= TARGET))
    assert p_hit["estimate"] == pytest.approx(np.mean(kpis[FIRST_YEAR] >= TARGET))
    # gaps: simulated − plan, and % of the plan
    fy = sim_doc["metrics"][FIRST_YEAR]
    assert fy["plan"] == pytest.approx(TARGET) and fy["target"] == pytest.approx(TARGET)
    assert fy["mean"] == pytest.approx(kpis[FIRST_YEAR].mean())
    assert fy["p50"] == pytest.approx(kpis[FIRST_YEAR].median())
    assert fy["p10"] <= fy["p50"] <= fy["p90"]
    for metric in sim_doc["metrics"].values():
        assert metric["gap_mean"] == pytest.approx(metric["mean"] - metric["plan"])
        assert metric["gap_median"] == pytest.approx(metric["p50"] - metric["plan"])
        assert metric["gap_mean_pct"] == pytest.approx(metric["gap_mean"] / metric["plan"])
    assert sim_doc["metrics"][EXIT_ARR]["plan"] == pytest.approx(small_plan.exit_arr_usd)
    assert sim_doc["metrics"][EXIT_ARR]["mean"] == pytest.approx(kpis["exit_arr_usd"].mean())  # 12-month run
    # the gap breakdown: the same replications, and plan + Σ causes + other = simulated
    gap = doc["gap"]
    assert gap["reps"] == REPS and gap["simulated_usd"] == pytest.approx(kpis[FIRST_YEAR].mean())
    assert gap["plan_usd"] + sum(c["cost_usd"] for c in gap["causes"]) + gap["other_usd"] == \
        pytest.approx(gap["simulated_usd"])
    # no ramp, attrition, leakage, speed-to-lead decay or churn in the small org: nothing to switch off
    assert {c["name"] for c in gap["causes"]} == {"cycle_lag", "capacity"}
    assert set(gap["skipped"]) == {"ramp", "attrition", "handoff_loss", "speed_to_lead", "churn"}


def test_cli_simulate_text_report_and_resume(capsys, tmp_path, small_path):
    argv = ["--scenario", str(small_path), "--annual-revenue", f"{TARGET:.0f}", "--simulate", "--reps", "2",
            "--seed", str(SEED), "--workers", "1", "--out", str(tmp_path / "plan")]
    code, out, err = cli(capsys, *argv)
    assert code == EXIT_OK, err
    for words in ("P(hit target) =", "Wilson", "first-year revenue", "exit ARR (month 12)", "gap of mean",
                  "plan (spreadsheet)", "plan_scenario.yaml"):
        assert words in out
    code, again, _ = cli(capsys, *argv)  # same plan and seed: the results folder is reused
    assert code == EXIT_OK and again.split("simulation of the plan")[1] == out.split("simulation of the plan")[1]
    code, _, err = cli(capsys, *argv[:3], "950000", *argv[4:])  # another plan, same folder
    assert code == EXIT_BAD_INPUT and "--overwrite" in err


def test_simulate_plan_api_with_an_exit_arr_target(small_plan, small_path):
    exit_arr = 0.95 * small_plan.exit_arr_usd
    result = simulate_plan(small_plan, small_path, HitTarget(TARGET, exit_arr_usd=exit_arr), reps=6, seed=SEED,
                           workers=1)
    table = result.table()
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert [c.metric for c in result.criteria] == [FIRST_YEAR, EXIT_ARR]
    both = (result.outcomes[FIRST_YEAR] >= TARGET) & (result.outcomes[EXIT_ARR] >= exit_arr)
    assert result.hit.hits == int(both.sum()) and result.p_hit <= min(c.p for c in result.criteria)
    row = table.set_index("metric").loc[EXIT_ARR]
    assert row["target"] == exit_arr and row["p_hit"] == result.criteria[1].p
    json.dumps(result.to_dict())
    assert result.scenario_file is None and result.runs is None  # nothing written without out


def test_cli_exit_arr_target(capsys, tmp_path, small_path):
    code, out, err = cli(capsys, "--scenario", str(small_path), "--exit-arr", "1300000", "--simulate",
                         "--reps", "3", "--workers", "1", "--out", str(tmp_path / "p"), "--json")
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert doc["plan"]["revenue"]["exit_arr_usd"] == pytest.approx(1_300_000)
    metrics = [c["metric"] for c in doc["simulation"]["criteria"]]
    assert metrics == [FIRST_YEAR, EXIT_ARR]
    assert doc["simulation"]["target"]["exit_arr_usd"] == pytest.approx(1_300_000)


# --------------------------------------------------------------------------- --solve


@pytest.mark.slow  # many solver evaluations: the statistical tier
def test_solve_uses_common_random_numbers_and_beats_the_naive_plan(monkeypatch, tmp_path, small_plan, small_path):
    calls = []
    real_run = monte_carlo.run

    def spy(scenario, reps=100, seed=replication.DEFAULT_SEED, **kwargs):
        calls.append((seed, reps))
        return real_run(scenario, reps=reps, seed=seed, **kwargs)

    monkeypatch.setattr(monte_carlo, "run", spy)
    solution = solve_plan(small_plan, small_path, None, confidence=0.7, reps=12, seed=SEED, max_evaluations=6,
                          out=tmp_path / "solve", workers=1)
    assert len(calls) == solution.evaluations >= 2
    assert set(calls) == {(SEED, 12)}  # every candidate: the same seed and replications
    # reached means the 95% lower bound reaches the confidence: 12 of 12 (Wilson low 0.757 ≥ 0.7)
    assert solution.reached and solution.p_hit_ci95[0] >= 0.7 and solution.best.hits == 12
    assert solution.evaluations <= 6
    naive = {role: math.ceil(1.5 * n) for role, n in small_plan.headcount.items()}
    naive_cost = with_headcount(small_plan, naive).cost_per_month_usd
    assert solution.cost_per_month_usd <= naive_cost
    # the written solution is valid and is the solved org
    scenario = load_scenario(tmp_path / "solve" / "solved_scenario.yaml")
    waves = {}
    for w in scenario.hiring.waves:
        waves[w.role] = waves.get(w.role, 0) + w.count
    assert {r: s.headcount + waves.get(r, 0) for r, s in scenario.roles.items()} == solution.headcount
    table = solution.table()
    assert table["evaluation"].tolist() == list(range(1, solution.evaluations + 1))
    assert table.loc[0, "step"] == "analytic plan"
    json.dumps(solution.to_dict())


@pytest.mark.slow  # many solver evaluations: the statistical tier
def test_solve_prunes_an_over_staffed_plan(small_plan, small_path):
    heavy = with_headcount(small_plan, {"sdr": 3, "ae": 2})
    solution = solve_plan(heavy, small_path, None, confidence=0.7, reps=12, seed=SEED, max_evaluations=8, workers=1)
    steps = solution.table()["step"].tolist()
    assert steps[0] == "analytic plan" and all(s.startswith("-1 ") for s in steps[1:])
    assert steps[1] == "-1 ae"  # the most expensive role is tried first
    assert solution.reached and solution.p_hit_ci95[0] >= 0.7 and solution.stop == "reached"
    assert solution.cost_per_month_usd < heavy.cost_per_month_usd
    # pruning stops where one rep fewer in any role would drop the lower bound below the confidence
    for role, n in solution.headcount.items():
        if n > 1:
            fewer = dict(solution.headcount, **{role: n - 1})
            tried = [c for c in solution.history if c.counts == fewer]
            assert tried and tried[0].ci95[0] < 0.7


def no_outbound_huge_capacity() -> dict:
    data = copy.deepcopy(small_org())
    data.pop("outbound")
    data["roles"].pop("sdr")
    data["roles"]["mdr"]["dials_per_day"] = 500.0
    data["roles"]["ae"]["max_open_opportunities"] = 1e6
    return data


def test_solve_says_when_headcount_cannot_reach_the_target(tmp_path):
    data = no_outbound_huge_capacity()
    p = plan(PlanTarget(annual_new_revenue_usd=300_000), SalesModel.from_scenario(scenario_from_dict(data)))
    solution = solve_plan(p, data, None, confidence=0.99, reps=8, seed=SEED, max_evaluations=5, workers=1)
    # with common random numbers one more MDR or AE changes nothing when capacity never binds
    assert not solution.reached
    assert solution.evaluations == 3 and "out of reach by headcount" in solution.reason
    assert solution.stop == "unreachable"
    assert len({c.hits for c in solution.history}) == 1


def test_solve_stops_at_the_budget(capsys, tmp_path, small_path):
    code, out, err = cli(capsys, "--scenario", str(small_path), "--annual-revenue", "2000000", "--solve",
                         "--confidence", "0.9", "--reps", "3", "--workers", "1", "--max-evaluations", "2",
                         "--out", str(tmp_path / "s"), "--json")
    assert code == EXIT_NOT_REACHED, err  # 3: finished, confidence not reached
    solution = json.loads(out)["solution"]
    assert solution["reached"] is False and solution["evaluations"] == 2
    assert "budget of 2 evaluations" in solution["reason"] and solution["stop"] == "evaluations"
    assert "did not reach" in err and "exit code 3" in err
    assert (tmp_path / "s" / "solved_scenario.yaml").exists()


def test_a_point_estimate_at_the_confidence_is_not_enough():
    """3 hits of 3 is P(hit) 100%, but its 95% Wilson lower bound is 44%: not ≥ 50%."""
    from sim.planner.simulation import Candidate

    lucky = Candidate((("ae", 1),), 1.0, hits=3, n=3, mean_first_year_revenue_usd=0.0, evaluation=1, step="x")
    assert lucky.p_hit == 1.0 and not lucky.reaches(0.5) and lucky.reaches(0.4)
    sure = Candidate((("ae", 1),), 1.0, hits=88, n=100, mean_first_year_revenue_usd=0.0, evaluation=1, step="x")
    assert sure.reaches(0.8) and not sure.reaches(0.81)
    assert not Candidate((("ae", 1),), 1.0, 87, 100, 0.0, 1, "x").reaches(0.8)


def test_solve_stops_at_the_time_budget_and_says_so(capsys, tmp_path, small_path):
    """A budget shorter than one evaluation: the analytic plan is evaluated, then the search stops."""
    code, out, err = cli(capsys, "--scenario", str(small_path), "--annual-revenue", "2000000", "--solve",
                         "--confidence", "0.9", "--reps", "3", "--workers", "1", "--time-budget", "0.0001",
                         "--out", str(tmp_path / "t"))
    assert code == EXIT_NOT_REACHED, err
    assert "time budget of 0.0001 minutes ran out after 1 evaluations" in out
    assert "NOT reached" in out
    # the progress line of each evaluation says how long it took and the most time left
    line = next(line for line in err.splitlines() if "evaluation 1 of at most 30" in line)
    assert "took" in line and "elapsed" in line and "left" in line


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("extra", "message"), [
    (["--solve", "--confidence", "1.5"], "--confidence must be a probability strictly between 0 and 1"),
    (["--solve", "--confidence", "0"], "strictly between 0 and 1"),
    (["--simulate", "--confidence", "0.8"], "--confidence only applies with --solve"),
    (["--simulate", "--reps", "0"], "--reps must be at least 1"),
    (["--solve", "--max-evaluations", "0"], "--max-evaluations must be at least 1"),
    (["--solve", "--time-budget", "0"], "--time-budget must be a positive number of minutes"),
    (["--simulate", "--time-budget", "5"], "--time-budget only applies with --solve"),
    (["--reps", "10"], "only apply with --simulate or --solve"),
    (["--simulate", "--workers", "0"], "--workers must be at least 1"),
])
def test_bad_simulation_options_exit_2(capsys, small_path, extra, message):
    code, out, err = cli(capsys, "--scenario", str(small_path), "--annual-revenue", "1e6", *extra)
    assert code == EXIT_BAD_INPUT and not out
    assert err.startswith("salesim: plan: ") and message in err


def test_solve_without_a_target_exits_2(capsys, small_path):
    with pytest.raises(SystemExit) as info:
        main(["plan", "--scenario", str(small_path), "--solve"])
    assert info.value.code == EXIT_BAD_INPUT
    assert "--annual-revenue" in capsys.readouterr().err


def test_solve_api_rejects_a_bad_confidence(small_plan, small_path):
    for bad in (1.5, 0.0, 1.0, True):
        with pytest.raises(PlanError, match="confidence"):
            solve_plan(small_plan, small_path, confidence=bad, reps=2, max_evaluations=1, workers=1)
