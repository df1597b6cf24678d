"""Roles as jobs: what a role does is decided in one place, a role may hold several jobs, and the
full-cycle rep (inbound and prospecting and closing its own SQLs) runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scenario_builders import CALENDAR_24_7, HUGE, base_scenario, build, constant, inbound, merge, role, segment

import sim
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.eventlog import LeadState
from sim.metrics import kpis, monthly_series
from sim.model.jobs import DESK_BUILDERS
from sim.model.world import World, simulate
from sim.scenario.jobs import JOBS, Desk, Job, assignments

ROOT = Path(__file__).resolve().parents[1]
ISLAND = ROOT / "scenarios" / "island.yaml"


def full_cycle(*, n_reps: int = 2, share_close: float | None = None, max_open: float = HUGE,
               mqls_per_month: float = 60.0, pass_probability: float = 0.5, horizon_months: int = 3,
               dials_per_day: float = 3000.0) -> dict:
    """One role ``rep`` that works inbound leads and closes its own SQLs; 24/7 calendar, one dial
    reaches a lead, one meeting."""
    rep = role(n_reps, dials_per_day=dials_per_day, max_open_opportunities=max_open)
    if share_close is not None:
        rep["time_split"] = {"work_inbound": 1.0 - share_close, "close": share_close}
    data = base_scenario(
        name="full_cycle", horizon_months=horizon_months, calendar=dict(CALENDAR_24_7),
        seg=segment(meetings=1, pass_probability=pass_probability, gap_days=constant(2.0), closed_by="rep"),
        inbound_spec=merge(inbound(mqls_per_month=mqls_per_month, dials_to_connect=constant(1),
                                   qualify_probability=0.5), {"worked_by": "rep"}),
        handoff_delay_days=constant(1.5), leakage_probability=0.3,
    )
    data["roles"] = {"rep": rep}
    return data


# --------------------------------------------------------------------------- one place decides


def test_jobs_of_the_shipped_silo() -> None:
    silo = sim.load_scenario(ROOT / "scenarios" / "silo.yaml")
    assert silo.jobs_of("mdr") == (Job.WORK_INBOUND,)
    assert silo.jobs_of("sdr") == (Job.PROSPECT,)
    assert silo.jobs_of("ae") == (Job.CLOSE,)
    assert silo.jobs_of("csm") == (Job.MANAGE_ACCOUNTS,)
    assert silo.jobs_of("nobody") == ()
    assert silo.account_role == "csm"
    assert silo.roles_with(Job.CLOSE) == ["ae"]


def test_assignments_read_raw_data_and_validated_scenarios_alike() -> None:
    data = full_cycle()
    scenario = build(data)
    as_data = [(a.role, a.job, a.path) for a in assignments(data)]
    as_model = [(a.role, a.job, a.path) for a in assignments(scenario)]
    assert as_data == as_model == [("rep", Job.WORK_INBOUND, ("inbound", "worked_by")),
                                   ("rep", Job.CLOSE, ("segments", "s", "closed_by"))]


def test_every_job_has_a_desk_and_every_desk_a_builder() -> None:
    assert {JOBS[job].desk for job in Job} == set(Desk)
    assert set(DESK_BUILDERS) == set(Desk)


# --------------------------------------------------------------------------- the full-cycle rep


def test_the_full_cycle_rep_closes_its_own_sqls_without_a_hand_off() -> None:
    scenario = build(full_cycle())
    leads = simulate(scenario, seed=3, replication=0).lead_table()
    state = leads["state"]
    assert len(state) > 100
    opened = ~np.isnan(leads["opportunity_t"])
    assert opened.sum() > 20
    # each rep's own SQL, at once: no hand-off delay, no leakage (the scenario's 30% would show)
    assert np.array_equal(leads["closer_rep"][opened], leads["dev_rep"][opened])
    assert np.array_equal(leads["handoff_t"][opened], leads["sql_t"][opened])
    assert not np.any(state == LeadState.LOST_IN_HANDOFF)
    sqls = ~np.isnan(leads["sql_t"])
    assert np.all(opened[sqls & (state != LeadState.OPEN)])


def test_every_lead_ends_in_exactly_one_state() -> None:
    scenario = build(full_cycle(max_open=2.0, mqls_per_month=300.0))
    leads = simulate(scenario, seed=5, replication=1).lead_table()
    assert len(np.unique(leads["lead"])) == len(leads["lead"])
    assert set(np.unique(leads["state"])) <= {int(s) for s in LeadState}


def test_a_full_cycle_rep_with_unlimited_capacity_is_a_poisson_funnel() -> None:
    """Wins of the month-2 and month-3 cohorts ~ Poisson(λ × qualify × pass) per replication: the
    mean over replications within 4 standard errors of the analytic mean."""
    lam, qualify, win = 60.0, 0.5, 0.5
    scenario = build(full_cycle(mqls_per_month=lam, pass_probability=win))
    wins = []
    for rep in range(60):
        leads = simulate(scenario, seed=11, replication=rep).lead_table()
        created = leads["created_t"]
        in_window = (created >= 0) & (created < 2 * 365.25 / 12)
        wins.append(int(np.sum(in_window & (leads["state"] == LeadState.WON))))
    expected = 2 * lam * qualify * win
    se = math.sqrt(expected / len(wins))
    assert abs(np.mean(wins) - expected) < 4 * se, (np.mean(wins), expected)


def test_time_split_sets_the_dial_budget() -> None:
    """Every lead needs more dials than the cadence allows, so every slot is busy all the time:
    dials a day = reps × dials_per_day × the development desk's share."""
    data = full_cycle(n_reps=2, share_close=0.75, dials_per_day=40.0, mqls_per_month=20_000.0)
    data["inbound"]["dials_to_connect"] = constant(1000)
    data["contact"] = {"attempts_per_day": 1, "max_attempts": 100_000}
    scenario = build(data)
    log = simulate(scenario, seed=1, replication=0)
    days = scenario.horizon_months * 365.25 / 12
    dials_per_day = np.sum(log.lead_table()["dials"]) / days
    assert dials_per_day == pytest.approx(2 * 40.0 * 0.25, rel=0.02)


def test_a_bigger_closing_share_gives_more_room_for_deals() -> None:
    """Deals held at once are capped by max_open_opportunities × the closing share."""
    for share in (0.2, 0.8):
        scenario = build(full_cycle(n_reps=1, share_close=share, max_open=10.0, mqls_per_month=3000.0))
        world = World(scenario, 1, 0)
        world.run()
        closing = world.teams[0].desks[Desk.CLOSING]["rep"]
        assert closing.pool.capacity.value == pytest.approx(10.0 * share)


def test_the_utilization_of_a_shared_role_is_the_share_of_its_time_in_use() -> None:
    scenario = build(full_cycle(max_open=4.0, mqls_per_month=400.0, share_close=0.5))
    log = simulate(scenario, seed=2, replication=0)
    series = monthly_series(log, scenario)
    utilization = series["utilization.rep"][1:]
    assert np.all((utilization >= 0) & (utilization <= 1.0 + 1e-9)), utilization
    assert utilization[-1] > 0.3  # busy: more SQLs than room for deals


def test_a_role_that_closes_and_manages_its_accounts() -> None:
    data = full_cycle()
    data["roles"]["rep"]["accounts_covered"] = 100.0
    data["customers"] = {"managed_by": "rep"}
    scenario = build(data)
    assert scenario.jobs_of("rep") == (Job.WORK_INBOUND, Job.CLOSE, Job.MANAGE_ACCOUNTS)
    world = World(scenario, 1, 0)
    world.run()
    accounts = world.accounts
    assert len(accounts.lead_ids) > 10
    assert all(slot >= 0 for slot in accounts.owner_slot[:len(accounts.lead_ids)][accounts.active[:len(
        accounts.lead_ids)]])


def test_the_shipped_island_scenario_runs() -> None:
    scenario = sim.load_scenario(ISLAND)
    assert scenario.jobs_of("ae") == (Job.WORK_INBOUND, Job.PROSPECT, Job.CLOSE)
    log = simulate(scenario, seed=1, replication=0)
    k = kpis(log, scenario)
    assert k["wins"] > 0 and k["sqls"] > 0


# --------------------------------------------------------------------------- validation


def _validate(tmp_path: Path, text: str, capsys) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


ISLAND_TEXT = """\
name: s
horizon_months: 3
roles:
  rep:
    headcount: 2
    dials_per_day: 100
    max_open_opportunities: 10
segments:
  smb: {mrr_usd: 1000, closed_by: rep}
inbound: {mqls_per_month: 50, segment_mix: {smb: 1}, worked_by: rep, qualify_probability: 0.2}
customers: {managed_by: null}
"""


def test_the_full_cycle_scenario_validates(tmp_path, capsys) -> None:
    code, err = _validate(tmp_path, ISLAND_TEXT, capsys)
    assert code == EXIT_OK, err


@pytest.mark.parametrize(("change", "line", "message"), [
    (("    max_open_opportunities: 10\n", ""), 4, "role 'rep' closes deals and needs max_open_opportunities"),
    (("    max_open_opportunities: 10\n", "    max_open_opportunities: 10\n    time_split: {close: 0.7}\n"), 8,
     "shares of a rep's time must sum to 1 (they sum to 0.7)"),
    (("    max_open_opportunities: 10\n",
      "    max_open_opportunities: 10\n    time_split: {close: 60, work_inbound: 40}\n"), 8,
     "write 0.60, 0.40"),
    (("    max_open_opportunities: 10\n",
      "    max_open_opportunities: 10\n    time_split: {close: 0.5, prospect: 0.5}\n"), 8,
     "role 'rep' does not prospect; its jobs: work_inbound, close"),
    (("    max_open_opportunities: 10\n",
      "    max_open_opportunities: 10\n    time_split: {close: 0.5, calling: 0.5}\n"), 8, "calling"),
    (("closed_by: rep", "closed_by: ae"), 9, "role 'ae' does not exist"),
])
def test_jobs_problems_name_the_line(tmp_path, capsys, change, line, message) -> None:
    old, new = change
    assert ISLAND_TEXT.count(old) == 1
    code, err = _validate(tmp_path, ISLAND_TEXT.replace(old, new), capsys)
    assert code == EXIT_BAD_INPUT
    assert f"s.yaml:{line}:" in err and message in err, err


def test_time_split_on_a_role_with_one_desk_is_refused(tmp_path, capsys) -> None:
    text = ISLAND_TEXT.replace("closed_by: rep", "closed_by: ae").replace(
        "roles:\n", "roles:\n  ae: {headcount: 1, max_open_opportunities: 5}\n").replace(
        "    max_open_opportunities: 10\n", "    time_split: {work_inbound: 1.0}\n")
    code, err = _validate(tmp_path, text, capsys)
    assert code == EXIT_BAD_INPUT
    assert "time_split is for a role with jobs at several desks" in err and "works inbound leads" in err, err


# --------------------------------------------------------------------------- the planner


def test_the_planner_sizes_a_full_cycle_role_by_its_time_split() -> None:
    """Each desk must get the reps it needs from its share of the reps' time: the role needs
    max over desks of (reps the desk needs full-time ÷ its share)."""
    scenario = sim.load_scenario(ISLAND)
    model = sim.SalesModel.from_scenario(scenario)
    assert model.jobs("ae") == (Job.WORK_INBOUND, Job.PROSPECT, Job.CLOSE)
    assert model.roles["ae"].desk_shares == {"development": pytest.approx(0.4), "closing": pytest.approx(0.6)}
    plan = sim.plan(sim.PlanTarget(annual_new_revenue_usd=1_000_000), model)
    ae = plan.roles["ae"]
    development = ae.workload["mqls"] / ae.capacity_per_rep["mqls"] \
        + ae.workload["prospects"] / ae.capacity_per_rep["prospects"]
    closing = ae.workload["open_opportunities"] / ae.capacity_per_rep["open_opportunities"]
    assert ae.fte_needed == pytest.approx(max(development / 0.4, closing / 0.6))
    assert [job.value for job in ae.jobs] == ["work_inbound", "prospect", "close"]
    assert plan.to_dict()["roles"]["ae"]["jobs"] == ["work_inbound", "prospect", "close"]
