"""Calendar time and working time.

This module owns the clock conventions (docs/developer/architecture.md#time-and-units): simulation time is a float
in days, day 0 is a Monday starting at midnight, months are 365.25 / 12 days long, and reps
work Monday to Friday (or ``days_per_week`` days from Monday) from ``start_hour`` for ``hours_per_day`` hours.

*Working time* counts working days elapsed (a float): 1.0 is one full working day. Cadences
and rep capacity live in working time; :meth:`WorkCalendar.from_work` maps back to calendar
time. Mapping calendar → working time sends any instant outside working hours to the next
working instant, which is what "first touch" means for a lead arriving at night.
"""

from __future__ import annotations

import math
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
    """

    __slots__ = ("_h0", "_hd", "days_per_week", "hours_per_day", "start_hour")

    def __init__(self, start_hour: float = 9.0, hours_per_day: float = 8.0, days_per_week: int = 5) -> None:
        if hours_per_day <= 0 or start_hour < 0 or start_hour + hours_per_day > HOURS_PER_DAY:
            raise ValueError("working hours must lie within one day")
        if not 1 <= days_per_week <= 7:
            raise ValueError("days_per_week must be between 1 and 7")
        self.start_hour = start_hour
        self.hours_per_day = hours_per_day
        self.days_per_week = days_per_week
        self._h0 = start_hour / HOURS_PER_DAY
        self._hd = hours_per_day / HOURS_PER_DAY

    def to_work(self, t: float) -> float:
        """Working days elapsed at calendar time ``t`` (days); never (infinity) maps to never."""
        if t > _LARGEST:
            return t
        day = math.floor(t)
        week = day // 7  # divmod(day, 7) without the tuple: the same integers, native in the compiled build
        weekday = day - 7 * week
        base = week * self.days_per_week
        if weekday >= self.days_per_week:
            return float(base + self.days_per_week)
        frac = (t - day - self._h0) / self._hd
        frac = 0.0 if frac < 0.0 else (1.0 if frac > 1.0 else frac)
        return base + weekday + frac

    def from_work(self, w: float) -> float:
        """Calendar time (days) at which ``w`` working days have elapsed.

        Whole numbers map to the *start* of a working day, never to the end of the previous one.
        """
        if 0.0 <= w < 4503599627370496.0:  # 2**52: every w of a simulation
            # The whole and fractional parts of w are exact, and so is the remainder of the whole
            # part: the same week, weekday and fraction as divmod(w, days_per_week) gives, without
            # its two calls of fmod (a third of this function's time where it is compiled).
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

    def next_working_instant(self, t: float) -> float:
        """The first calendar instant at or after ``t`` inside working hours."""
        return self.from_work(self.to_work(t))

    def to_work_array(self, t: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`to_work`."""
        t = np.asarray(t, dtype=float)
        day = np.floor(t)
        week, weekday = np.divmod(day, 7)
        base = week * self.days_per_week
        frac = np.clip((t - day - self._h0) / self._hd, 0.0, 1.0)
        within = base + weekday + frac
        return np.where(weekday >= self.days_per_week, base + self.days_per_week, within)

    def from_work_array(self, w: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`from_work`."""
        w = np.asarray(w, dtype=float)
        week, rest = np.divmod(w, self.days_per_week)
        weekday = np.floor(rest)
        return week * 7.0 + weekday + self._h0 + (rest - weekday) * self._hd


def month_of(t: float) -> int:
    """0-based index of the reporting month containing calendar time ``t``."""
    return int(t // DAYS_PER_MONTH)
