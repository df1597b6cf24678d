"""Calendar dates: ``start_date``, calendar months, hiring dates, public holidays and absence.

Without a ``start_date`` nothing changes (the golden outputs hold every undated case to the bit);
with one, day 0 is that date, months are calendar months, holidays are closed days with no working
time, and PTO and sick days take capacity.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.eventlog import Source
from sim.model.world import World, simulate
from sim.scenario import ScenarioError, load_checked
from sim.scenario.dates import availability, closed_days, dates_to_months, month_of_date
from sim.workcalendar import DAYS_PER_MONTH, WorkCalendar, add_months, month_start_days

ROOT = Path(__file__).resolve().parents[1]
SILO = ROOT / "scenarios" / "silo.yaml"
PLAIN = WorkCalendar()
DATED = ["start_date=2026-01-01", "horizon_months=3", "warm_start={}"]


# --------------------------------------------------------------------------- the month table


def test_without_a_start_date_months_are_365_25_12_days_exactly() -> None:
    assert month_start_days(24) == [m * DAYS_PER_MONTH for m in range(25)]


def test_calendar_months_have_their_real_lengths() -> None:
    starts = month_start_days(14, dt.date(2026, 1, 1))
    assert np.diff(starts).tolist() == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28]
    assert month_start_days(2, dt.date(2028, 1, 31)) == [0.0, 29.0, 60.0]  # Feb 29 (leap year), Mar 31
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)


@pytest.mark.parametrize(("day", "month"), [
    (dt.date(2026, 1, 5), 1), (dt.date(2026, 2, 4), 1), (dt.date(2026, 2, 5), 2), (dt.date(2026, 12, 31), 12),
    (dt.date(2027, 1, 5), 13), (dt.date(2026, 1, 4), 0)])
def test_the_month_of_a_date(day: dt.date, month: int) -> None:
    assert month_of_date(dt.date(2026, 1, 5), day) == month


# --------------------------------------------------------------------------- the work calendar


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 6), st.floats(0.0, 400.0, allow_nan=False))
def test_a_start_on_another_weekday_shifts_the_week(first: int, t: float) -> None:
    dated = WorkCalendar(first_weekday=first)
    assert dated.to_work(t) == pytest.approx(PLAIN.to_work(t + first) - PLAIN.to_work(first), abs=1e-9)


CLOSED = WorkCalendar(first_weekday=3, closed_days=[0, 1, 2, 5, 6, 11, 12, 40, 41, 42, 97])
"""Day 0 a Thursday; closed: days 0 and 1 (Thursday, Friday), 2 (a Saturday: changes nothing), 5 and 6
(Tuesday, Wednesday), 11 and 12 (Monday, Tuesday), a run of three (40-42: Tuesday to Thursday) and 97."""


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 300.0, allow_nan=False))
def test_closed_days_have_no_working_time(w: float) -> None:
    t = CLOSED.from_work(w)
    assert CLOSED.to_work(t) == pytest.approx(w, abs=1e-9)
    day = int(np.floor(t + 1e-12))
    assert day not in CLOSED.closed_days, f"working time {w} lands on closed day {day}"
    assert (day + CLOSED.first_weekday) % 7 < CLOSED.days_per_week


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 300.0, allow_nan=False), st.floats(0.0, 5.0, allow_nan=False))
def test_the_dated_calendar_is_monotone(t: float, dt_: float) -> None:
    assert CLOSED.to_work(t) <= CLOSED.to_work(t + dt_) + 1e-12


def test_a_closed_weekday_adds_a_day_to_the_week() -> None:
    assert CLOSED.to_work(40.0) == CLOSED.to_work(43.0)  # days 40-42 closed: no working time passes
    week = WorkCalendar(closed_days=[2])  # Wednesday of week 1 (day 0 a Monday)
    assert week.to_work(7.0) == 4.0  # four working days in the first week
    assert week.from_work(2.0) == pytest.approx(3 + 9 / 24)  # the third working day is Thursday 9:00


def test_the_vectorised_maps_agree_with_the_scalar_ones() -> None:
    t = np.linspace(-3.0, 120.0, 4001)
    np.testing.assert_allclose(CLOSED.to_work_array(t), [CLOSED.to_work(x) for x in t], atol=1e-12)
    w = np.linspace(0.0, 80.0, 3001)
    np.testing.assert_allclose(CLOSED.from_work_array(w), [CLOSED.from_work(x) for x in w], atol=1e-12)


# --------------------------------------------------------------------------- scenarios


def test_an_undated_scenario_resolves_as_before() -> None:
    resolved = sim.load_scenario(SILO).resolved()
    assert "start_date" not in resolved
    assert set(resolved["calendar"]) == {"start_hour", "hours_per_day", "days_per_week"}


def test_hiring_waves_and_targets_may_be_dates() -> None:
    scenario = sim.load_scenario(SILO, overrides=[
        "start_date=2026-01-01",
        "hiring.waves=[{month: 2026-04-15, role: ae, count: 2}, {month: 3, role: sdr, count: 1}]",
        "hiring.targets={csm: {2026-07-01: 3}}"])
    assert [(w.month, w.role) for w in scenario.hiring.waves] == [(4, "ae"), (3, "sdr")]
    assert scenario.hiring.targets == {"csm": {7: 3}}
    _, problems = dates_to_months({"hiring": {"waves": [{"month": dt.date(2026, 1, 1)}]}})
    assert problems and "start_date" in problems[0][1]


@pytest.mark.parametrize(("overrides", "fragments"), [
    (["calendar.holidays=[2026-12-24]"], ["calendar.holidays", "give the scenario a start_date"]),
    (["calendar.holiday_country=US"], ["calendar.holiday_country", "needs the scenario's start_date"]),
    (["start_date=2026-01-01", "calendar.holiday_country=Atlantis"], ["knows no country 'Atlantis'"]),
    (["start_date=2026-03-01", "hiring.waves=[{month: 2026-01-15, role: ae, count: 1}]"],
     ["hiring.waves.0.month", "2026-01-15 is before the start_date (2026-03-01)"]),
    (["hiring.waves=[{month: 2026-01-15, role: ae, count: 1}]"],
     ["hiring.waves.0.month", "needs the scenario's start_date"]),
    (["start_date=2026-02-30"], ["start_date"]),
])
def test_dated_fields_are_validated(overrides: list[str], fragments: list[str], capsys) -> None:
    code = main(["validate", str(SILO), *[a for o in overrides for a in ("--set", o)]])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    lines = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("--set")
    for fragment in fragments:
        assert fragment in lines[0]


def test_holidays_of_a_country_are_closed_days() -> None:
    pytest.importorskip("holidays")
    scenario = sim.load_scenario(SILO, overrides=[*DATED, "calendar.holiday_country=US",
                                                  "calendar.holidays=[2026-02-02]"])
    days = closed_days(scenario)
    start = dt.date(2026, 1, 1)
    assert [start + dt.timedelta(days=d) for d in days if d < 59] == [
        dt.date(2026, 1, 1), dt.date(2026, 1, 19), dt.date(2026, 2, 2), dt.date(2026, 2, 16)]


def _on_closed_day(times: np.ndarray, days: list[int]) -> np.ndarray:
    return np.isin(np.floor(times[~np.isnan(times)]), days)


def test_nobody_works_on_a_holiday() -> None:
    scenario = sim.load_scenario(SILO, overrides=[*DATED, "calendar.holidays=[2026-01-14, 2026-01-15, 2026-02-10]"])
    world = World(scenario, seed=3, replication=0)
    assert world.calendar.first_weekday == dt.date(2026, 1, 1).weekday()  # a Thursday
    days = [13, 14, 40]
    assert world.calendar.closed_days == days
    arrivals = world.inbound_arrival_times()
    assert arrivals.size and not np.any(_on_closed_day(arrivals, days))  # MQLs arrive in working hours
    leads = world.run().lead_table()
    assert not np.any(_on_closed_day(leads["first_touch_t"], days))
    assert not np.any(_on_closed_day(leads["connect_t"][leads["source"] != Source.WARM_START], days))
    weekdays = (np.floor(arrivals) + world.calendar.first_weekday) % 7
    assert np.all(weekdays < 5)  # and on weekdays of the real calendar


def test_series_follow_calendar_months() -> None:
    scenario = sim.load_scenario(SILO, overrides=DATED)
    result = sim.run(scenario, reps=1, seed=5, workers=1)
    log = simulate(scenario, 5, 0)
    created = log.lead_table()["created_t"][log.lead_table()["source"] == Source.INBOUND]
    counts = [int(np.sum((created >= lo) & (created < hi))) for lo, hi in [(0, 31), (31, 59), (59, 90)]]
    assert result.series("mqls").loc[1:, 0].tolist() == counts
    dates = result.timeseries.sort_values("month").drop_duplicates("month").set_index("month")["date"]
    assert [d.date() for d in dates] == [dt.date(2025, 12, 31), dt.date(2026, 1, 31), dt.date(2026, 2, 28),
                                         dt.date(2026, 3, 31)]
    cost = result.series("cost_usd.ae").loc[1:, 0]
    headcount = result.series("headcount.ae").loc[:, 0]
    ae = scenario.roles["ae"]
    if headcount.nunique() == 1:  # a month fully staffed costs the monthly cost and tools, 28 days or 31
        assert cost.tolist() == pytest.approx([headcount.iloc[0] * (ae.monthly_cost_usd + ae.tools_usd_per_month)] * 3)


def test_time_off_takes_capacity() -> None:
    base = sim.load_scenario(SILO, overrides=DATED)
    away = sim.load_scenario(SILO, overrides=[*DATED, "calendar.pto_days_per_year=20", "calendar.sick_days_per_year=6"])
    share = availability(away)
    assert share == pytest.approx(1 - 26 / (5 * 365.25 / 7))
    a, b = sim.run(base, reps=1, seed=9, workers=1), sim.run(away, reps=1, seed=9, workers=1)
    for role in base.roles:
        np.testing.assert_allclose(b.series(f"capacity_fte.{role}").to_numpy(),
                                   share * a.series(f"capacity_fte.{role}").to_numpy(), rtol=1e-9)
    assert b.kpis["dials"].sum() < a.kpis["dials"].sum()


def test_the_cli_writes_dates_and_labels_months(tmp_path: Path, capsys, monkeypatch) -> None:
    from sim.present import plots

    drawn = []  # the MRR fan the command draws for mrr_fan.png (saving it draws its ticks)
    real = plots.fan_chart

    def fan_chart(*args, **kwargs):
        drawn.append(real(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(plots, "fan_chart", fan_chart)
    out = tmp_path / "res"
    code = main(["run", str(SILO), "--reps", "2", "--workers", "1", "--out", str(out),
                 *[a for o in DATED for a in ("--set", o)]])
    assert code == EXIT_OK, capsys.readouterr().err
    table = pd.read_parquet(out / "timeseries.parquet")
    assert str(table.loc[table["month"] == 2, "date"].iloc[0].date()) == "2026-02-28"
    (ax,) = drawn
    assert (out / "mrr_fan.png").stat().st_size > 0
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "Jan 2026" in labels and "Mar 2026" in labels


def test_a_dated_run_is_reproducible_and_paired_with_an_undated_one() -> None:
    dated = sim.load_scenario(SILO, overrides=DATED)
    first, again = simulate(dated, 4, 1), simulate(dated, 4, 1)
    assert sorted(first.leads) == sorted(again.leads)
    with pytest.raises(ScenarioError):
        load_checked(SILO, ["start_date=not-a-date"])
