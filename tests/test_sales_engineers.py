"""Sales engineers: a pooled supporting role whose time some opportunity meetings need.

* with Poisson meeting arrivals, exponential hold times and c engineers, the mean wait for an
  engineer is Erlang C's W_q = C(c, a) / (c μ − λ) (4 standard errors over replications), and
  the engineers' utilization is a / c;
* common random numbers: more engineers change when deals close, never how (a deal closed in
  both runs has the same outcome), and the mean wait falls;
* a scenario whose meetings need no support closes each deal with one scheduled event, as before;
* bad support input is reported with file, line and field (exit 2).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scenario_builders import HUGE, assert_problems_reported, build, constant, line_of, mmc_scenario, role

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT
from sim.eventlog import LeadState
from sim.metrics import monthly_series
from sim.model.world import World, simulate

LAMBDA, MU = 2.0, 1.0  # meetings a day; 1 / mean hold days


def se_scenario(engineers: int, *, meetings: int = 1, pass_probability: float = 1.0, horizon_months: int = 12,
                hold: dict | None = None) -> dict:
    """SQLs as a Poisson process of rate λ (24/7, no hand-off delay), closers without limit; each
    meeting, half a day after the previous step, needs one of ``engineers`` SEs for an exponential
    time of mean 1/μ."""
    data = mmc_scenario(sqls_per_day=LAMBDA, mean_service_days=0.5, n_ae=1, max_open_per_ae=HUGE,
                        horizon_months=horizon_months)
    data["segments"]["s"]["opportunity"] = {
        "meetings": meetings, "pass_probability": pass_probability, "gap_days": constant(0.5),
        "support": {"role": "se", "days": hold or {"dist": "exponential", "mean": 1 / MU}}}
    data["roles"]["se"] = role(engineers, meetings_supported=1.0)
    return data


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    a = lam / mu
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def mean_wait(log, scenario) -> tuple[float, float]:
    series = monthly_series(log, scenario)
    n = series["meetings_supported.se"][1:]
    wait = series["meeting_wait_days_mean.se"][1:]
    return float(np.nansum(n * wait) / np.sum(n)), float(np.nanmean(series["utilization.se"][1:]))


def test_the_pool_is_an_erlang_c_queue() -> None:
    scenario = build(se_scenario(3))
    runs = [mean_wait(simulate(scenario, 5, r), scenario) for r in range(10)]
    waits, utilization = np.array([w for w, _ in runs]), np.array([u for _, u in runs])
    expected = erlang_c_wait(LAMBDA, MU, 3)  # 0.444 days at a = 2, c = 3
    se = waits.std(ddof=1) / math.sqrt(len(waits))
    assert abs(waits.mean() - expected) < 4 * se, (waits.mean(), se, expected)
    se_u = utilization.std(ddof=1) / math.sqrt(len(utilization))
    assert abs(utilization.mean() - LAMBDA / MU / 3) < 4 * se_u + 0.01


def test_more_engineers_change_when_deals_close_not_how() -> None:
    outcome, waits = [], []
    for engineers in (4, 5, 8):  # 3.2 meetings a day, 1 day each
        scenario = build(se_scenario(engineers, meetings=2, pass_probability=0.6, horizon_months=4))
        log = simulate(scenario, 3, 0)
        leads = log.lead_table()
        outcome.append(dict(zip(leads["lead"].tolist(), leads["state"].tolist(), strict=True)))
        waits.append(mean_wait(log, scenario)[0])
    closed = {LeadState.WON, LeadState.LOST_DEAL}
    for a, b in ((outcome[0], outcome[1]), (outcome[1], outcome[2])):
        both = [k for k in a if a[k] in closed and b.get(k) in closed]
        assert len(both) > 200  # of ~240 SQLs
        assert all(a[k] == b[k] for k in both)
    assert waits[0] > waits[1] > waits[2]


def test_without_support_a_deal_closes_with_one_event() -> None:
    data = mmc_scenario(sqls_per_day=1.0, mean_service_days=1.0, n_ae=1, max_open_per_ae=HUGE, horizon_months=1)
    world = World(build(data), 1, 0)
    desk = world.teams[0].closing["ae"]
    assert not desk.any_support and world.support_desks == {}


def test_a_wait_pushes_the_later_meetings_back() -> None:
    """One SE held 10 days per meeting; two deals (A opened at o, B at o + 0.1), two meetings each,
    0.5 days apart. First come, first served: A1 at o + 0.5 (SE until o + 10.5); B1 (due o + 0.6)
    and A2 (due o + 1.0) wait: B1 at o + 10.5, A2 at o + 20.5 — A closes then; B2 (due o + 11.0)
    waits for A2's SE: B closes at o + 30.5."""
    data = se_scenario(1, meetings=2, horizon_months=2, hold=constant(10.0))
    data["inbound"].update(mqls_per_month=0.0, arrival_times_days=[0.0, 0.1])
    leads = simulate(build(data), 1, 0).lead_table()
    order = np.argsort(leads["created_t"])
    opened, close = leads["opportunity_t"][order], leads["close_t"][order]
    np.testing.assert_allclose(opened[1] - opened[0], 0.1)
    np.testing.assert_allclose(close - opened[0], [20.5, 30.5])
    assert np.all(leads["state"] == LeadState.WON)


BAD = """\
name: bad_support
roles:
  mdr: {headcount: 1, dials_per_day: 100}
  ae: {headcount: 1, max_open_opportunities: 10}
  se: {headcount: 1}
segments:
  s:
    mrr_usd: 1000
    opportunity:
      meetings: 2
      support: {role: se, meetings: [3]}
inbound:
  mqls_per_month: 10
  segment_mix: {s: 1}
  qualify_probability: 0.2
"""


def test_bad_support_is_located_and_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")

    def line(needle: str, after: int = 0) -> int:
        return line_of(BAD, needle, after)

    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    expected = [
        (line("  se: {headcount: 1}"), "roles.se", "needs meetings_supported"),
        (line("    opportunity:"), "segments.s.opportunity", "support.meetings names meeting(s) [3]"),
    ]
    assert_problems_reported(err, "bad.yaml", expected)


def test_the_planner_sizes_the_engineers_by_littles_law() -> None:
    """Meetings held at once = Σ over segments of SQLs a month × supported meetings reached per
    deal × hold days ÷ days a month; reps = that ÷ ``meetings_supported`` (÷ productive share)."""
    import sim
    from sim.planner.headcount import PlanTarget, plan
    from sim.planner.model import SalesModel
    from sim.workcalendar import DAYS_PER_MONTH

    scenario = sim.load_scenario(
        Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml",
        overrides=["+roles.se={headcount: 1, meetings_supported: 4, ramp: [1.0], tenure_months: null}",
                   "segments.mid_market.opportunity.support={role: se, meetings: [2, 4], "
                   "days: {dist: constant, value: 3}}"])
    model = SalesModel.from_scenario(scenario)
    mid = model.segments["mid_market"]
    odds = 0.7 / 0.3 * 0.9  # the silo's hand-off cuts the first meeting's odds
    p1 = odds / (1 + odds)
    assert mid.supported_meetings(0.9) == pytest.approx(p1 + p1 * 0.6 * 0.6)
    result = plan(PlanTarget(monthly_new_mrr_usd=30_000), model)
    held = result.sqls_by_segment["mid_market"] * mid.supported_meetings(0.9) * 3 / DAYS_PER_MONTH
    se = result.roles["se"]
    assert se.workload["supported_meetings"] == pytest.approx(held)
    assert se.fte_needed == pytest.approx(held / 4)


def test_the_shipped_three_tiers_scenario_uses_every_motion() -> None:
    """scenarios/three_tiers.yaml: sign-ups never touch a rep, trials convert, enterprise meetings
    book the SEs, and the inside and field AEs close their own segments."""
    import sim

    scenario = sim.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "three_tiers.yaml",
                                 overrides=["horizon_months=6"])
    log = simulate(scenario, 2, 0)
    leads = log.lead_table()
    names = list(scenario.sources)
    signup = (leads["source_index"] == names.index("web_signup")) & ~np.isnan(leads["trial_t"])
    assert np.sum(signup) > 1000 and np.all(leads["dev_rep"][signup] == -1)
    assert np.sum(signup & (leads["state"] == LeadState.WON)) > 50
    series = monthly_series(log, scenario)
    assert np.nansum(series["meetings_supported.se"]) > 10
    enterprise = list(scenario.segments).index("enterprise")
    assert np.sum(~np.isnan(leads["opportunity_t"]) & (leads["segment"] == enterprise)) > 20
    assert np.sum((leads["state"] == LeadState.WON) & ~np.isnan(leads["opportunity_t"])) > 20
