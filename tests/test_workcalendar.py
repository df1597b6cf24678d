"""Tests for :mod:`sim.workcalendar`: calendar days ↔ working days.

Day 0 is Monday 00:00; the default calendar works Monday–Friday from 9:00 for 8 hours, so a
working day is 1/3 of a calendar day and a week holds 5 working days.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.workcalendar import DAYS_PER_MONTH, WorkCalendar, month_of

HOUR = 1.0 / 24.0
DEFAULT = WorkCalendar()
CALENDARS = [
    WorkCalendar(),
    WorkCalendar(start_hour=8.0, hours_per_day=10.0, days_per_week=6),
    WorkCalendar(start_hour=0.0, hours_per_day=24.0, days_per_week=5),
    WorkCalendar(start_hour=13.5, hours_per_day=4.0, days_per_week=1),
    WorkCalendar(start_hour=0.0, hours_per_day=24.0, days_per_week=7),
]
cal_index = st.integers(0, len(CALENDARS) - 1)
times = st.floats(min_value=0.0, max_value=3650.0, allow_nan=False)
work_times = st.floats(min_value=0.0, max_value=2600.0, allow_nan=False)


def _is_working(cal: WorkCalendar, t: float) -> bool:
    """Whether ``t`` lies in working hours (both ends included, up to float noise)."""
    day = np.floor(t)
    weekday = int(day % 7)
    hour = (t - day) * 24.0
    eps = 1e-7  # hours: float noise of day fractions
    return weekday < cal.days_per_week and cal.start_hour - eps <= hour <= cal.start_hour + cal.hours_per_day + eps


# --------------------------------------------------------------------------- fixed points


@pytest.mark.parametrize(("t", "w"), [
    (0.0, 0.0),                  # Monday 00:00 -> start of Monday's work
    (9 * HOUR, 0.0),             # Monday 09:00
    (13 * HOUR, 0.5),            # Monday 13:00: half a working day
    (17 * HOUR, 1.0),            # Monday 17:00: end of Monday = start of Tuesday
    (20 * HOUR, 1.0),            # Monday evening
    (4 + 16 * HOUR, 4.875),      # Friday 16:00
    (5.5, 5.0),                  # Saturday noon -> Monday 09:00 of week 2
    (6.99, 5.0),                 # Sunday night
    (7 + 9 * HOUR, 5.0),         # Monday 09:00, week 2
    (14 + 12 * HOUR, 10.375),    # Monday 12:00, week 3
])
def test_to_work_fixed_points(t: float, w: float) -> None:
    assert DEFAULT.to_work(t) == pytest.approx(w, abs=1e-12)


@pytest.mark.parametrize(("w", "t"), [
    (0.0, 9 * HOUR),
    (0.375, 12 * HOUR),
    (1.0, 1 + 9 * HOUR),         # whole numbers are starts of days, never ends
    (4.875, 4 + 16 * HOUR),
    (5.0, 7 + 9 * HOUR),         # the 5th working day ends Friday 17:00 = Monday 09:00
    (5.875, 7 + 16 * HOUR),
])
def test_from_work_fixed_points(w: float, t: float) -> None:
    assert DEFAULT.from_work(w) == pytest.approx(t, abs=1e-12)


def test_weekends_are_skipped() -> None:
    friday_1600 = 4 + 16 * HOUR
    # one working hour after Friday 16:00 is Monday 09:00; two are Monday 10:00
    assert DEFAULT.from_work(DEFAULT.to_work(friday_1600) + 1 / 8) == pytest.approx(7 + 9 * HOUR, abs=1e-12)
    assert DEFAULT.from_work(DEFAULT.to_work(friday_1600) + 2 / 8) == pytest.approx(7 + 10 * HOUR, abs=1e-12)
    # the whole weekend is one instant of working time
    weekend = np.linspace(4 + 17 * HOUR, 7 + 9 * HOUR, 50)
    np.testing.assert_allclose(DEFAULT.to_work_array(weekend), 5.0, rtol=0, atol=1e-12)


def test_next_working_instant() -> None:
    nwi = DEFAULT.next_working_instant
    assert nwi(0.0) == pytest.approx(9 * HOUR)                # Monday night -> 09:00
    assert nwi(12 * HOUR) == pytest.approx(12 * HOUR)         # inside hours: unchanged
    assert nwi(18 * HOUR) == pytest.approx(1 + 9 * HOUR)      # after hours -> next morning
    assert nwi(4 + 18 * HOUR) == pytest.approx(7 + 9 * HOUR)  # Friday evening -> Monday
    assert nwi(5.2) == pytest.approx(7 + 9 * HOUR)            # Saturday -> Monday
    assert nwi(6.9) == pytest.approx(7 + 9 * HOUR)            # Sunday -> Monday


def test_invalid_calendars_are_rejected() -> None:
    with pytest.raises(ValueError, match="within one day"):
        WorkCalendar(start_hour=20.0, hours_per_day=8.0)
    with pytest.raises(ValueError, match="within one day"):
        WorkCalendar(hours_per_day=0.0)
    with pytest.raises(ValueError, match="days_per_week"):
        WorkCalendar(days_per_week=0)
    with pytest.raises(ValueError, match="days_per_week"):
        WorkCalendar(days_per_week=8)


def test_month_of() -> None:
    assert DAYS_PER_MONTH == 365.25 / 12
    assert month_of(0.0) == 0
    assert month_of(DAYS_PER_MONTH - 1e-9) == 0
    assert month_of(DAYS_PER_MONTH) == 1
    assert month_of(12 * DAYS_PER_MONTH + 0.5) == 12


# --------------------------------------------------------------------------- properties


@settings(deadline=None, max_examples=300, derandomize=True)
@given(w=work_times, k=cal_index)
def test_to_work_inverts_from_work(w: float, k: int) -> None:
    cal = CALENDARS[k]
    t = cal.from_work(w)
    assert _is_working(cal, t) or cal.hours_per_day == 24.0
    assert cal.to_work(t) == pytest.approx(w, abs=1e-9)


@settings(deadline=None, max_examples=300, derandomize=True)
@given(t=times, k=cal_index)
def test_from_work_of_to_work_is_the_next_working_instant(t: float, k: int) -> None:
    cal = CALENDARS[k]
    back = cal.from_work(cal.to_work(t))
    assert back == pytest.approx(cal.next_working_instant(t), abs=1e-12)
    assert back >= t - 1e-9
    # the end of a working day and the start of the next are one working time, which the calendar
    # maps to the next start (hypothesis tries day 0.75, 18:00, when a literal 0.75 is in the code)
    hour = (t - np.floor(t)) * 24.0
    at_day_end = abs(hour - (cal.start_hour + cal.hours_per_day)) < 1e-7 and cal.hours_per_day < 24.0
    if _is_working(cal, t) and not at_day_end:
        assert back == pytest.approx(t, abs=1e-9)
    else:
        # nothing between t and back is working time
        assert cal.to_work(t) == pytest.approx(cal.to_work(0.5 * (t + back)), abs=1e-9)
    assert cal.next_working_instant(back) == pytest.approx(back, abs=1e-9)  # idempotent


@settings(deadline=None, max_examples=200, derandomize=True)
@given(a=times, b=times, k=cal_index)
def test_to_work_is_monotone(a: float, b: float, k: int) -> None:
    cal = CALENDARS[k]
    lo, hi = min(a, b), max(a, b)
    assert cal.to_work(lo) <= cal.to_work(hi) + 1e-12
    # working time never runs faster than calendar time scaled to the working share of a day
    assert cal.to_work(hi) - cal.to_work(lo) <= (hi - lo) * 24.0 / cal.hours_per_day + 1.0 + 1e-9


@settings(deadline=None, max_examples=100, derandomize=True)
@given(t=st.lists(times, min_size=1, max_size=50), w=st.lists(work_times, min_size=1, max_size=50), k=cal_index)
def test_vectorised_equals_scalar(t: list[float], w: list[float], k: int) -> None:
    cal = CALENDARS[k]
    np.testing.assert_allclose(cal.to_work_array(np.asarray(t)), [cal.to_work(x) for x in t], rtol=0, atol=1e-12)
    np.testing.assert_allclose(cal.from_work_array(np.asarray(w)), [cal.from_work(x) for x in w], rtol=0,
                               atol=1e-12)


def test_a_working_week_is_days_per_week_working_days() -> None:
    for cal in CALENDARS:
        for week in range(4):
            assert cal.to_work(7.0 * (week + 1)) == pytest.approx(cal.days_per_week * (week + 1))


@settings(deadline=None, max_examples=200, derandomize=True)
@given(t=times)
def test_seven_day_24_hour_calendar_is_the_identity(t: float) -> None:
    cal = WorkCalendar(start_hour=0.0, hours_per_day=24.0, days_per_week=7)
    assert cal.to_work(t) == pytest.approx(t, abs=1e-9)
    assert cal.from_work(t) == pytest.approx(t, abs=1e-9)
    assert cal.next_working_instant(t) == pytest.approx(t, abs=1e-9)


def _from_work_by_divmod(cal: WorkCalendar, w: float) -> float:
    """``from_work`` as first written, with ``divmod``: the reference for the exact test below."""
    week, rest = divmod(w, cal.days_per_week)
    weekday = np.floor(rest)
    return week * 7.0 + weekday + cal.start_hour / 24.0 + (rest - weekday) * (cal.hours_per_day / 24.0)


@settings(deadline=None, max_examples=300, derandomize=True)
@given(w=st.one_of(work_times, st.floats(min_value=-1e6, max_value=1e9, allow_nan=False),
                   st.floats(min_value=0.0, max_value=2.0**54, allow_nan=False),
                   st.integers(-100, 10_000).map(float),
                   st.sampled_from([0.0, -0.0, 5.0, 4.999999999999999, 2.0**52 - 0.5, 2.0**52, 2.0**52 + 2.0])),
       k=cal_index)
def test_from_work_equals_the_divmod_formula_to_the_last_bit(w: float, k: int) -> None:
    """``from_work`` splits ``w`` into whole and fractional parts, or with ``//`` and ``%`` beyond
    2**52 and below 0 (native arithmetic where the module is compiled); the result must be the
    very double that ``divmod`` gives — records depend on it."""
    cal = CALENDARS[k]
    assert cal.from_work(w) == _from_work_by_divmod(cal, w)
