"""Calendar dates in a scenario: ``start_date``, hiring dates, public holidays and absence.

This module owns what a date means to a run. With ``start_date`` (YYYY-MM-DD) day 0 of the run is
that date, months are calendar months (month m begins m − 1 months after the start, on the same
day of the month: :func:`sim.workcalendar.month_start_days`), and:

* hiring waves and targets may be given a date instead of a month number: the month that
  contains the date (requisitions open at that month's start) — :func:`dates_to_months`;
* public holidays (``calendar.holidays``, a list of dates, and/or ``calendar.holiday_country``, a
  country's holidays from the ``holidays`` package) are closed days: nobody works, no working
  time passes (:func:`closed_days`);
* paid time off and sick days (``calendar.pto_days_per_year``, ``sick_days_per_year``; these need
  no start date) take capacity: each employee's productivity is multiplied by the share of
  working days they are present (:func:`availability`).

Without ``start_date`` months are 365.25 / 12 days and day 0 is a Monday, as always.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sim.workcalendar import add_months, month_start_days

HOLIDAYS_EXTRA = "pip install holidays (or salesim[holidays])"


def as_date(value: Any) -> dt.date | None:
    """A date from YAML data (a date, or text YYYY-MM-DD); None if it is not one."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def month_of_date(start: dt.date, day: dt.date) -> int:
    """The 1-based month of a run starting on ``start`` that contains ``day`` (0 or less: before it)."""
    months = (day.year - start.year) * 12 + day.month - start.month
    if add_months(start, months) > day:
        months -= 1
    return months + 1


def dates_to_months(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[tuple[str | int, ...], str]]]:
    """Hiring waves' ``month`` and targets' month keys given as dates, turned into month numbers.

    Returns the data (a copy where something changed) and the problems: a date without a
    ``start_date``, or before it.
    """
    hiring = data.get("hiring") if isinstance(data.get("hiring"), dict) else None
    if hiring is None:
        return data, []
    problems: list[tuple[tuple[str | int, ...], str]] = []
    start = as_date(data.get("start_date"))
    waves = hiring.get("waves") if isinstance(hiring.get("waves"), list) else []
    targets = hiring.get("targets") if isinstance(hiring.get("targets"), dict) else {}
    dated = [i for i, w in enumerate(waves) if isinstance(w, dict) and as_date(w.get("month")) is not None]
    dated_targets = {role: [k for k in plan if as_date(k) is not None]
                     for role, plan in targets.items() if isinstance(plan, dict)}
    if not dated and not any(dated_targets.values()):
        return data, []

    def month(path: tuple[str | int, ...], value: Any) -> Any:
        day = as_date(value)
        if start is None:
            problems.append((path, f"a date ({day}) needs the scenario's start_date (YYYY-MM-DD); or give a "
                                   f"month number (1 = the first month)"))
            return value
        number = month_of_date(start, day)
        if number < 1:
            problems.append((path, f"{day} is before the start_date ({start})"))
            return value
        return number

    data = {**data, "hiring": {**hiring}}
    if dated:
        data["hiring"]["waves"] = [
            {**w, "month": month(("hiring", "waves", i, "month"), w["month"])} if i in dated else w
            for i, w in enumerate(waves)]
    if any(dated_targets.values()):
        data["hiring"]["targets"] = {
            role: ({(month(("hiring", "targets", role, k), k) if k in dated_targets.get(role, []) else k): v
                    for k, v in plan.items()} if isinstance(plan, dict) else plan)
            for role, plan in targets.items()}
    return data, problems


def check_calendar(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Holidays are dates: they need the scenario's ``start_date``."""
    calendar = data.get("calendar") if isinstance(data.get("calendar"), dict) else {}
    if data.get("start_date") is not None:
        return []
    return [(("calendar", field), f"{field} are dates of a calendar: give the scenario a start_date (YYYY-MM-DD)"
                                  if field == "holidays" else
                                  f"{field} needs the scenario's start_date (YYYY-MM-DD)")
            for field in ("holidays", "holiday_country") if calendar.get(field)]


def holiday_country_problem(country: str) -> str | None:
    """Why ``country`` cannot give holidays (the package is missing, or it knows no such country)."""
    try:
        import holidays
    except ImportError:
        return f"holiday_country needs the holidays package: {HOLIDAYS_EXTRA}"
    known = holidays.list_supported_countries()
    if country in known:
        return None
    import difflib

    close = difflib.get_close_matches(country.upper(), list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else " (an ISO 3166 code such as US, GB, DE, FR)"
    return f"the holidays package knows no country {country!r}{hint}"


def holiday_dates(scenario: Any, until: dt.date) -> list[dt.date]:
    """The scenario's public holidays from its start date up to ``until`` (sorted, without repeats)."""
    start, calendar = scenario.start_date, scenario.calendar
    if start is None:
        return []
    days = set(calendar.holidays)
    if calendar.holiday_country:
        import holidays

        days.update(holidays.country_holidays(calendar.holiday_country, years=range(start.year, until.year + 1)))
    return sorted(d for d in days if start <= d <= until)


CLOSED_DAYS_MARGIN = 92
"""Days past the horizon whose holidays are also closed (cadences scheduled beyond the horizon)."""


def closed_days(scenario: Any) -> list[int]:
    """Days of the run (0 = ``start_date``) that are public holidays (empty without a start date)."""
    start = scenario.start_date
    if start is None:
        return []
    horizon = month_start_days(scenario.horizon_months, start)[-1]
    until = start + dt.timedelta(days=int(horizon) + CLOSED_DAYS_MARGIN)
    return [(d - start).days for d in holiday_dates(scenario, until)]


def availability(scenario: Any) -> float:
    """Share of working days an employee is at work: 1 − (PTO + sick days) ÷ working days a year
    (``days_per_week`` × 52.18, less the public holidays that close working days, a year on average)."""
    cal = scenario.calendar
    absent = cal.pto_days_per_year + cal.sick_days_per_year
    if absent <= 0:
        return 1.0
    working = cal.days_per_week * 365.25 / 7.0
    start = scenario.start_date
    if start is not None:
        horizon = month_start_days(scenario.horizon_months, start)[-1]
        closed = [d for d in closed_days(scenario) if d < horizon
                  and (start + dt.timedelta(days=d)).weekday() < cal.days_per_week]
        working -= len(closed) * 365.25 / horizon
    return max(0.0, 1.0 - absent / working)
