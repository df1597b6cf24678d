"""Managers who take time to hire (``roles.<role>.manager.time_to_fill_days``, issue 24 point 3).

With 0 days (the default) a team has ⌈headcount ÷ span⌉ managers at every instant, as before the
field existed. Above 0, per team: ⌈initial headcount ÷ span⌉ managers are seated at the start; when
the headcount needs more than are seated or being hired a manager requisition opens and the manager
is seated ``time_to_fill_days`` later; when it falls, the newest open requisitions close, then seated
managers beyond the need leave at once. The seated managers coach (ramps slow when too few) and cost
(``manager.monthly_cost_usd`` × the managers seated at each month's end).

Hand-worked timelines use working time = calendar time, ramped reps and constant times; D is a
month of 365.25 ÷ 12 days.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_builders import CALENDAR_24_7, HUGE, base_scenario, build, constant, inbound, role

from sim import load_scenario
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT
from sim.eventlog import EventLog, WorkforceEvent
from sim.metrics import monthly_series
from sim.model.world import simulate
from sim.scenario import ReorgSpec
from sim.workcalendar import DAYS_PER_MONTH as D

SEED = 2424
EXACT = 1e-9
COST = 10_000.0
"""One manager's monthly cost in the hand-worked cases."""
MANAGER_EVENTS = (WorkforceEvent.MANAGER_REQUISITION, WorkforceEvent.MANAGER_SEATED, WorkforceEvent.MANAGER_LEFT,
                  WorkforceEvent.MANAGER_REQUISITION_CLOSED)


def team(ttf: float | None, *, headcount: int = 8, coached: float = 0.5, cost: float = COST,
         wave_month: int | None = 2, horizon: int = 6, **ae: Any) -> dict[str, Any]:
    """``headcount`` ramped AEs at span 8 (a 9th, ramping 0.2 → 0.5 → 1.0, starts the day its wave
    opens: time to fill 0), one manager coaching ``coached`` ramping reps at full speed, half speed
    when overloaded; ``ttf`` None: no ``time_to_fill_days`` in the file."""
    manager: dict[str, Any] = {"span": 8, "coached_per_manager": coached, "ramp_slowdown": 0.5,
                               "monthly_cost_usd": cost}
    if ttf is not None:
        manager["time_to_fill_days"] = ttf
    fields: dict[str, Any] = {"max_open_opportunities": HUGE, "ramp": [0.2, 0.5, 1.0], "initial_tenure_months": 12.0,
                              "time_to_fill_days": constant(0.0), "manager": manager, **ae}
    data = base_scenario(horizon_months=horizon, calendar=dict(CALENDAR_24_7), ae=role(headcount, **fields))
    data["hiring"] = {"waves": [{"month": wave_month, "role": "ae", "count": 1}] if wave_month else [],
                      "recruiting_load_fte": 0.0}
    return data


def manager_events(log: EventLog) -> list[tuple[float, WorkforceEvent]]:
    return [(row[0], WorkforceEvent(row[1])) for row in log.workforce if row[1] in MANAGER_EVENTS]


def run(data: dict[str, Any], replication: int = 0) -> tuple[EventLog, dict[str, np.ndarray]]:
    scenario = build(data)
    log = simulate(scenario, SEED, replication)
    return log, monthly_series(log, scenario)


# --------------------------------------------------------------------------- 0 days: today's rule


def test_zero_days_gives_the_records_of_a_scenario_without_the_field() -> None:
    """Attrition with backfill, a wave and MQLs: ``time_to_fill_days: 0`` and no field give the same
    records to the bit, with no manager event or level (the feature costs nothing unused), and the
    managers are ⌈headcount ÷ span⌉ at each month's end."""
    extra = {"tenure_months": {"dist": "exponential", "mean": 4.0}, "time_to_fill_days": constant(20.0)}
    logs = []
    for ttf in (None, 0.0):
        data = team(ttf, **extra)
        data["inbound"] = inbound(mqls_per_month=60.0)
        logs.append(run(data, replication=1))
    (a, sa), (b, sb) = logs
    assert a.workforce == b.workforce and a.levels == b.levels and a.accounts == b.accounts and a.leads == b.leads
    assert sa.keys() == sb.keys()
    for name in sa:
        np.testing.assert_array_equal(sa[name], sb[name], err_msg=name)
    assert not manager_events(b) and all(name != "managers" for _m, _p, name, _v in b.levels)
    assert np.all(sb["managers.ae"] == np.ceil(sb["headcount.ae"] / 8))


# --------------------------------------------------------------------------- a hand-worked case


@pytest.mark.parametrize(("ttf", "seated_by_month"), [(0.0, [1, 1, 2, 2, 2, 2, 2]), (45.0, [1, 1, 1, 2, 2, 2, 2])])
def test_a_ninth_rep_opens_a_requisition_and_its_manager_is_seated_later(ttf: float, seated_by_month: list[int]
                                                                         ) -> None:
    """8 AEs at span 8 have 1 manager; the 9th starts on day D (month 2): with 45 days a manager
    requisition opens that day and the second manager is seated on day D + 45 (in month 3), so
    months 1–6 pay 1, 1, 2, 2, 2, 2 managers × $10,000 (0 days: 1, 2, 2, 2, 2, 2)."""
    log, series = run(team(ttf))
    hires = [row[0] for row in log.workforce if row[1] == WorkforceEvent.HIRE]
    assert hires == pytest.approx([D], abs=EXACT)
    if ttf:
        assert manager_events(log) == [(0.0, WorkforceEvent.MANAGER_SEATED), (D, WorkforceEvent.MANAGER_REQUISITION),
                                       (pytest.approx(D + 45.0, abs=EXACT), WorkforceEvent.MANAGER_SEATED)]
    assert series["managers.ae"].tolist() == seated_by_month
    _, unpaid = run(team(ttf, cost=0.0))
    managers_cost = series["cost_usd.ae"][1:] - unpaid["cost_usd.ae"][1:]
    assert managers_cost.tolist() == pytest.approx([COST * n for n in seated_by_month[1:]], abs=EXACT)
    assert series["cost_usd"][1:] - unpaid["cost_usd"][1:] == pytest.approx(managers_cost, abs=EXACT)


def test_during_the_gap_coaching_is_overloaded_and_the_ramp_completes_later() -> None:
    """A manager coaches 0.5 ramping reps at full speed, so the 9th rep (hired on day D) needs the
    second manager. 0 days: its steps come at 2D and 3D. 45 days: at 2D one manager is seated, the
    step waits a month (slowdown 0.5) to 3D, and the next, due a month later, comes at 4D with two
    managers. 20 days (seated at D + 20 < 2D), or one manager coaching a whole ramping rep: no delay."""
    plain = [8.0, 8.2, 8.5, 9.0, 9.0, 9.0]
    _, instant = run(team(0.0))
    _, slow = run(team(45.0))
    _, quick = run(team(20.0))
    _, enough = run(team(45.0, coached=1.0))
    assert instant["capacity_fte.ae"][1:].tolist() == pytest.approx(plain, abs=EXACT)
    assert slow["capacity_fte.ae"][1:].tolist() == pytest.approx([8.0, 8.2, 8.2, 8.5, 9.0, 9.0], abs=EXACT)
    # a step due at a month's end comes after the month's books close
    assert instant["headcount_ramping.ae"][1:].tolist() == [0, 1, 1, 0, 0, 0]
    assert slow["headcount_ramping.ae"][1:].tolist() == [0, 1, 1, 1, 0, 0]
    for series in (quick, enough):
        assert series["capacity_fte.ae"][1:].tolist() == pytest.approx(plain, abs=EXACT)
        assert series["headcount_ramping.ae"][1:].tolist() == [0, 1, 1, 0, 0, 0]


# --------------------------------------------------------------------------- headcount falls


def test_headcount_falling_releases_managers_at_once() -> None:
    """9 AEs at span 8 start with 2 managers; one AE (tenure 12.5 of a constant 14 months, no
    backfill) leaves on day 1.5 D, and a manager with them: months 1–4 pay 2, 1, 1, 1 managers."""
    data = team(30.0, headcount=9, wave_month=None, horizon=4, backfill=False, tenure_months=constant(14.0),
                initial_tenure_months=[12.5] + [0.0] * 8, ramp=[1.0])
    log, series = run(data)
    assert manager_events(log) == [(0.0, WorkforceEvent.MANAGER_SEATED), (0.0, WorkforceEvent.MANAGER_SEATED),
                                   (pytest.approx(1.5 * D, abs=EXACT), WorkforceEvent.MANAGER_LEFT)]
    assert series["managers.ae"].tolist() == [2, 2, 1, 1, 1]
    _, unpaid = run({**data, "roles": {**data["roles"], "ae": {**data["roles"]["ae"],
                                                                "manager": {**data["roles"]["ae"]["manager"],
                                                                            "monthly_cost_usd": 0.0}}}})
    assert (series["cost_usd.ae"][1:] - unpaid["cost_usd.ae"][1:]).tolist() == pytest.approx(
        [2 * COST, COST, COST, COST], abs=EXACT)


def test_a_requisition_no_longer_needed_closes_unfilled() -> None:
    """8 AEs, the 9th hired on day D opens a manager requisition (45 days); an AE leaves on day 1.5 D
    (no backfill), so 8 reps need 1 manager again: the requisition closes and nobody is seated."""
    data = team(45.0, backfill=False, tenure_months=constant(14.0), initial_tenure_months=[12.5] + [0.0] * 7,
                ramp=[1.0])
    log, series = run(data)
    assert manager_events(log) == [(0.0, WorkforceEvent.MANAGER_SEATED), (D, WorkforceEvent.MANAGER_REQUISITION),
                                   (pytest.approx(1.5 * D, abs=EXACT), WorkforceEvent.MANAGER_REQUISITION_CLOSED)]
    assert series["managers.ae"].tolist() == [1] * 7


# --------------------------------------------------------------------------- a reorg


def test_a_reorg_moves_seated_managers_to_the_teams_that_need_them() -> None:
    """A silo of 6 AEs (span 2: 3 managers) becomes 2 PODs of 3 AEs at month 3: each POD needs 2
    managers; the 3 seated move, the fourth is hired (one requisition at the reorg, seated 30 days
    later). The managers at each month's end never exceed ⌈headcount ÷ span⌉ per team."""
    repo = Path(__file__).resolve().parents[1]
    short = ["horizon_months=5", "inbound.mqls_per_month=150", "outbound.prospects_per_rep_month=160",
             "roles.ae.tenure_months=null", "roles.ae.manager={span: 2, time_to_fill_days: 30, monthly_cost_usd: 1000}"]
    silo = load_scenario(repo / "scenarios/silo.yaml", short)
    pods = load_scenario(repo / "scenarios/pod.yaml", short).org
    scenario = silo.model_copy(update={"reorg": [ReorgSpec(month=3, org=pods)]})
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    ae = log.roles.index("ae")
    mine = [row for row in log.workforce if row[2] == ae and row[1] in MANAGER_EVENTS]
    assert [WorkforceEvent(row[1]) for row in mine] == [WorkforceEvent.MANAGER_SEATED] * 3 + [
        WorkforceEvent.MANAGER_REQUISITION, WorkforceEvent.MANAGER_SEATED]
    assert mine[3][0] == pytest.approx(3 * D, abs=EXACT) and mine[4][0] == pytest.approx(3 * D + 30.0, abs=EXACT)
    assert series["managers.ae"].tolist() == [3, 3, 3, 3, 4, 4]
    teams = sorted(name.split("@", 1)[1] for name in series if name.startswith("managers.ae@"))
    assert teams == ["east", "org", "west"]
    np.testing.assert_array_equal(sum(series[f"managers.ae@{team}"] for team in teams), series["managers.ae"])
    # the end of month 3 is the reorg's instant, recorded before it: the silo's team still holds them
    assert series["managers.ae@org"].tolist() == [3, 3, 3, 3, 0, 0]
    assert series["managers.ae@east"][5] == 2 and series["managers.ae@west"][5] == 2  # 3 AEs each: 2 managers
    check_managers_within_need(log, span=2, ttf=30.0)


# --------------------------------------------------------------------------- the invariant


def check_managers_within_need(log: EventLog, span: int, ttf: float) -> int:
    """At each month's end, per team: seated managers ≤ ⌈headcount ÷ span⌉, and equal to it when no
    manager requisition of the team opened within the last ``ttf`` days (one opened earlier has
    been seated or closed). Returns how many month-ends had one open."""
    levels: dict[tuple[int, int, str], float] = {(m, p, n): v for m, p, n, v in log.levels}
    opened: dict[tuple[int, int], list[float]] = {}
    for row in log.workforce:
        if row[1] == WorkforceEvent.MANAGER_REQUISITION:
            opened.setdefault((int(row[2]), int(row[6])), []).append(row[0])
    waiting = 0
    for month in range(log.horizon_months + 1):
        t_end = month * D
        for pool, key in enumerate(log.pools):
            if (month, pool, "managers") not in levels:
                continue
            need = math.ceil(levels[(month, pool, "headcount")] / span)
            seated = levels[(month, pool, "managers")]
            assert seated <= need, f"month {month}, pool {pool}: {seated} managers for {need} needed"
            recent = [t for t in opened.get(key, []) if t_end - ttf - EXACT <= t <= t_end + EXACT]
            if recent:
                waiting += 1
            else:
                assert seated == need, f"month {month}, pool {pool}: {seated} managers, {need} needed, none being hired"
    return waiting


@st.composite
def teams_over_time(draw) -> dict[str, Any]:
    """A silo role with random headcount, span, attrition, backfill, waves and managers' time to fill."""
    span = draw(st.integers(1, 5))
    ttf = draw(st.floats(0.5, 80.0))
    fields: dict[str, Any] = {
        "max_open_opportunities": HUGE, "ramp": draw(st.sampled_from([[1.0], [0.3, 1.0], [0.2, 0.5, 1.0]])),
        "backfill": draw(st.booleans()),
        "tenure_months": draw(st.one_of(st.none(), st.builds(lambda m: {"dist": "exponential", "mean": m},
                                                             st.floats(1.0, 8.0)))),
        "time_to_fill_days": constant(draw(st.floats(0.0, 60.0))),
        "manager": {"span": span, "coached_per_manager": draw(st.floats(0.5, 2.0)), "time_to_fill_days": ttf},
    }
    data = base_scenario(horizon_months=6, calendar=dict(CALENDAR_24_7),
                         ae=role(draw(st.integers(0, 12)), **fields))
    waves = draw(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 4)), max_size=3))
    data["hiring"] = {"waves": [{"month": m, "role": "ae", "count": n} for m, n in waves]}
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=teams_over_time(), replication=st.integers(0, 3))
def test_seated_managers_never_exceed_the_need_and_meet_it_once_hired(data: dict[str, Any], replication: int
                                                                      ) -> None:
    log, series = run(data, replication)
    manager = data["roles"]["ae"]["manager"]
    check_managers_within_need(log, manager["span"], manager["time_to_fill_days"])
    # every manager requisition ends seated exactly its time to fill later, closed, or open at the horizon
    horizon = log.horizon_months * D
    opened = [row[0] for row in log.workforce if row[1] == WorkforceEvent.MANAGER_REQUISITION]
    seated = [row[0] for row in log.workforce if row[1] == WorkforceEvent.MANAGER_SEATED and row[0] > 0.0]
    closed = [row for row in log.workforce if row[1] == WorkforceEvent.MANAGER_REQUISITION_CLOSED]
    late = [t for t in opened if t + manager["time_to_fill_days"] >= horizon]
    assert len(seated) + len(closed) <= len(opened) <= len(seated) + len(closed) + len(late)
    for t in seated:
        assert any(abs(t - manager["time_to_fill_days"] - o) < EXACT for o in opened)
    assert np.all(series["managers.ae"] <= np.ceil(series["headcount.ae"] / manager["span"]))


# --------------------------------------------------------------------------- bad input


def test_a_negative_time_to_fill_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parent / "data" / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("    max_open_opportunities: 10\n",
                        "    max_open_opportunities: 10\n    manager:\n      span: 8\n      time_to_fill_days: -5\n")
    path = tmp_path / "bad_manager.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, x in enumerate(text.splitlines(), start=1) if "time_to_fill_days: -5" in x)
    code = main(["validate", str(path)])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert "Traceback" not in err
    assert f"{path}:{line}: roles.ae.manager.time_to_fill_days: " in err, err
