"""Calendar time and working time.

This module owns the clock conventions (docs/developer/architecture.md#time-and-units): simulation time is a float
in days, day 0 is a Monday starting at midnight, months are 365.25 / 12 days long, and reps
work Monday to Friday (or ``days_per_week`` days from Monday) from ``start_hour`` for ``hours_per_day`` hours.

With a scenario's ``start_date`` the calendar is a real one: day 0 is that date (its weekday),
months are calendar months (:func:`month_start_days`: 28 to 31 days), and public holidays are
closed days that count as no working time (``closed_days``). Without it, every result is what it
was (the same floats: the plain formulas run, and ``m × 365.25 / 12`` is exact).

*Working time* counts working days elapsed (a float): 1.0 is one full working day. Cadences
and rep capacity live in working time; :meth:`WorkCalendar.from_work` maps back to calendar
time. Mapping calendar → working time sends any instant outside working hours to the next
working instant, which is what "first touch" means for a lead arriving at night.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from calendar import monthrange
from collections.abc import Sequence
from datetime import date
from typing import Final

import numpy as np

DAYS_PER_MONTH = 365.25 / 12.0
"""Length of a reporting month in days."""
HOURS_PER_DAY: Final = 24.0
"""Hours in a calendar day: simulation time is in days, delays people speak of in hours."""
MINUTES_PER_HOUR: Final = 60.0
MINUTES_PER_DAY: Final = 1440.0
"""Minutes in a calendar day (``MINUTES_PER_HOUR * HOURS_PER_DAY``). These are ``Final`` literals:
the compiled build puts the number itself where one is used, in any compiled module."""

_LARGEST: Final = 1.7976931348623157e308
"""The largest finite double: a time above it is infinity ("never")."""

class WorkCalendar:
    """Conversions between calendar days and working days.

    Parameters
    ----------
    start_hour : float
        Hour of the day at which work starts (0–24).
    hours_per_day : float
        Working hours per working day (> 0, ``start_hour + hours_per_day <= 24``).
    days_per_week : int
        Working days per week, counted from Monday (5: Monday–Friday; 7 with
        ``start_hour=0, hours_per_day=24`` makes working time equal calendar time).
    first_weekday : int
        Weekday of day 0 (0: Monday, the default; a scenario's ``start_date`` sets it).
    closed_days : sequence of int
        Calendar days (day 0 = the start) on which nobody works: public holidays. Those that
        fall on a weekend change nothing.
    """

    __slots__ = ("_closed", "_h0", "_hd", "_off", "_plain", "_shifted", "_w_off", "closed_days",
                 "days_per_week", "first_weekday", "hours_per_day", "start_hour")

    def __init__(self, start_hour: float = 9.0, hours_per_day: float = 8.0, days_per_week: int = 5,
                 first_weekday: int = 0, closed_days: Sequence[int] = ()) -> None:
        if hours_per_day <= 0 or start_hour < 0 or start_hour + hours_per_day > HOURS_PER_DAY:
            raise ValueError("working hours must lie within one day")
        if not 1 <= days_per_week <= 7:
            raise ValueError("days_per_week must be between 1 and 7")
        if not 0 <= first_weekday <= 6:
            raise ValueError("first_weekday must be between 0 (Monday) and 6 (Sunday)")
        self.start_hour = start_hour
        self.hours_per_day = hours_per_day
        self.days_per_week = days_per_week
        self.first_weekday = first_weekday
        self._h0 = start_hour / HOURS_PER_DAY
        self._hd = hours_per_day / HOURS_PER_DAY
        self._off = float(first_weekday)
        self._w_off = float(min(first_weekday, days_per_week))
        """Working days from the Monday before day 0 to day 0 (day 0 is ``first_weekday``)."""
        closed: list[float] = []
        for day in sorted(set(closed_days)):
            weekday = (day + first_weekday) % 7
            if weekday < days_per_week:
                closed.append(float(self._raw_to_work(float(day + first_weekday)) - self._w_off))
        self.closed_days = [int(d) for d in sorted(set(closed_days))]
        self._closed = closed
        """Working-day index (without closures) of each closed working day, sorted."""
        self._shifted = [c - k for k, c in enumerate(closed)]
        """The index, in working time, at which each closed day is skipped."""
        self._plain = not closed and first_weekday == 0
        """No closures and day 0 a Monday: the plain formulas (and their exact results)."""

    # ------------------------------------------------------------------ calendar → working time

    def _raw_to_work(self, t: float) -> float:
        """:meth:`to_work` of the plain calendar (day 0 a Monday, nothing closed)."""
        day = math.floor(t)
        week = day // 7  # divmod(day, 7) without the tuple: the same integers, native in the compiled build
        weekday = day - 7 * week
        base = week * self.days_per_week
        if weekday >= self.days_per_week:
            return float(base + self.days_per_week)
        frac = (t - day - self._h0) / self._hd
        frac = 0.0 if frac < 0.0 else (1.0 if frac > 1.0 else frac)
        return base + weekday + frac

    def to_work(self, t: float) -> float:
        """Working days elapsed at calendar time ``t`` (days); never (infinity) maps to never."""
        if t > _LARGEST:
            return t
        if not self._plain:
            return self._to_work_dated(t)
        day = math.floor(t)
        week = day // 7  # divmod(day, 7) without the tuple: the same integers, native in the compiled build
        weekday = day - 7 * week
        base = week * self.days_per_week
        if weekday >= self.days_per_week:
            return float(base + self.days_per_week)
        frac = (t - day - self._h0) / self._hd
        frac = 0.0 if frac < 0.0 else (1.0 if frac > 1.0 else frac)
        return base + weekday + frac

    def _to_work_dated(self, t: float) -> float:
        """:meth:`to_work` where day 0 is not a Monday or days are closed."""
        w = self._raw_to_work(t + self._off) - self._w_off
        if not self._closed:
            return w
        day = math.floor(w)
        skipped = bisect_left(self._closed, float(day))
        if skipped < len(self._closed) and self._closed[skipped] == day:
            return float(day - skipped)  # a closed day: all of it is the start of the next open one
        return w - skipped

    # ------------------------------------------------------------------ working time → calendar

    def _raw_from_work(self, w: float) -> float:
        """:meth:`from_work` of the plain calendar (day 0 a Monday, nothing closed)."""
        if 0.0 <= w < 4503599627370496.0:
            whole = math.floor(w)
            per_week = self.days_per_week
            week = whole // per_week
            return week * 7.0 + (whole - week * per_week) + self._h0 + (w - whole) * self._hd
        if w > _LARGEST:  # never: a rep whose dials take forever (a budget of a few dials a millennium)
            return w
        per_week_f = float(self.days_per_week)
        week_f = w // per_week_f  # divmod(w, days_per_week) without the tuple: the same doubles
        rest = w % per_week_f
        weekday = math.floor(rest)
        frac = rest - weekday
        return week_f * 7.0 + weekday + self._h0 + frac * self._hd

    def from_work(self, w: float) -> float:
        """Calendar time (days) at which ``w`` working days have elapsed.

        Whole numbers map to the *start* of a working day, never to the end of the previous one.
        """
        if not self._plain:
            return self._from_work_dated(w)
        if 0.0 <= w < 4503599627370496.0:  # 2**52: every w of a simulation
            # The whole and fractional parts of w are exact, and so is the remainder of the whole
            # part: the same week, weekday and fraction as divmod(w, days_per_week) gives, without
            # its two calls of fmod (a third of this function's time where it is compiled).
            whole = math.floor(w)
            per_week = self.days_per_week
            week = whole // per_week
            return week * 7.0 + (whole - week * per_week) + self._h0 + (w - whole) * self._hd
        return self._raw_from_work(w)

    def _from_work_dated(self, w: float) -> float:
        """:meth:`from_work` where day 0 is not a Monday or days are closed."""
        if self._closed:
            w += bisect_right(self._shifted, float(math.floor(w)))
        return self._raw_from_work(w + self._w_off) - self._off

    def next_working_instant(self, t: float) -> float:
        """The first calendar instant at or after ``t`` inside working hours."""
        return self.from_work(self.to_work(t))

    # ------------------------------------------------------------------ vectorised

    def to_work_array(self, t: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`to_work`."""
        t = np.asarray(t, dtype=float)
        if not self._plain:
            t = t + self._off
        day = np.floor(t)
        week, weekday = np.divmod(day, 7)
        base = week * self.days_per_week
        frac = np.clip((t - day - self._h0) / self._hd, 0.0, 1.0)
        within = base + weekday + frac
        w = np.where(weekday >= self.days_per_week, base + self.days_per_week, within)
        if self._plain:
            return w
        w = w - self._w_off
        if not self._closed:
            return w
        closed = np.asarray(self._closed)
        whole = np.floor(w)
        skipped = np.searchsorted(closed, whole, side="left")
        is_closed = closed[np.minimum(skipped, len(closed) - 1)] == whole
        return np.where(is_closed, whole - skipped, w - skipped)

    def from_work_array(self, w: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`from_work`."""
        w = np.asarray(w, dtype=float)
        if not self._plain:
            if self._closed:
                w = w + np.searchsorted(np.asarray(self._shifted), np.floor(w), side="right")
            w = w + self._w_off
        week, rest = np.divmod(w, self.days_per_week)
        weekday = np.floor(rest)
        t = week * 7.0 + weekday + self._h0 + (rest - weekday) * self._hd
        return t if self._plain else t - self._off


def month_of(t: float) -> int:
    """0-based index of the reporting month containing calendar time ``t`` (without a start date)."""
    return int(t // DAYS_PER_MONTH)


def month_start_days(horizon_months: int, start: date | None = None) -> list[float]:
    """Day (from the start) on which each month 1 … horizon + 1 begins: ``horizon_months + 1`` values,
    the first 0 and the last the horizon.

    Without a start date a month is 365.25 / 12 days (``m × DAYS_PER_MONTH``, exactly). With one,
    months are calendar months: month m begins on the same day of the month as the start date, m
    months later (on the month's last day where it is shorter), so their lengths are 28 to 31 days.
    """
    if start is None:
        return [m * DAYS_PER_MONTH for m in range(horizon_months + 1)]
    return [float((add_months(start, m) - start).days) for m in range(horizon_months + 1)]


def add_months(start: date, months: int) -> date:
    """The date ``months`` calendar months after ``start`` (the month's last day where it is shorter)."""
    years, month0 = divmod(start.month - 1 + months, 12)
    year = start.year + years
    return date(year, month0 + 1, min(start.day, monthrange(year, month0 + 1)[1]))
