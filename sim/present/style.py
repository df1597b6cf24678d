"""How salesim's figures look on a slide: colours, money, months.

This module owns the visual conventions the report's figures share (and that
:mod:`sim.present.plots` uses where it is cheap):

* **colours** — the Okabe–Ito palette, which stays distinct for the common forms of colour
  blindness and in grey print; each scenario keeps its colour in every figure
  (:func:`scenario_colors`: the baseline first);
* **money** — axes in ``$k`` or ``$M`` chosen from the axis' range (:func:`money_formatter`), and
  the same wording in text (:func:`money`, :func:`money_range`);
* **months** — month numbers, or with a scenario's ``start_date`` the month each one ends in
  (``Jan 2027``): :func:`month_dates`, :func:`month_axis`.

Nothing here computes a result; matplotlib is imported only by the functions that draw.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from typing import Any

from sim.workcalendar import add_months

__all__ = [
    "DEMAND", "GREY", "OKABE_ITO", "SCENARIO_COLORS", "money", "money_formatter", "money_range", "month_axis",
    "month_dates", "month_label", "scenario_colors",
]

OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2", "orange": "#E69F00", "bluish_green": "#009E73", "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9", "vermillion": "#D55E00", "yellow": "#F0E442", "black": "#000000",
}
"""Okabe & Ito (2008), "Color Universal Design": eight colours told apart with any common colour
vision deficiency."""

SCENARIO_COLORS: tuple[str, ...] = (
    OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"], OKABE_ITO["black"], OKABE_ITO["yellow"],
)
"""Scenario colours in order: the baseline blue, the first alternative orange, … (vermillion is
kept for shortfalls and demand)."""

DEMAND = OKABE_ITO["vermillion"]
GREY = "#555555"


def scenario_colors(names: Sequence[str]) -> dict[str, str]:
    """Each scenario's colour, the same in every figure of a report (the baseline first)."""
    return {name: SCENARIO_COLORS[i % len(SCENARIO_COLORS)] for i, name in enumerate(names)}


# --------------------------------------------------------------------------- money


def _scale(magnitude: float) -> tuple[float, str]:
    if magnitude >= 999_500:
        return 1e6, "M"
    if magnitude >= 999.5:
        return 1e3, "k"
    return 1.0, ""


def _digits(value: float, significant: int = 3) -> int:
    """Decimals that show ``value`` (already scaled) with ``significant`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return 0
    return max(0, significant - 1 - math.floor(math.log10(abs(value))))


def money(value: float | None, signed: bool = False, significant: int = 3) -> str:
    """An amount of dollars as a person says it: ``$1.05M``, ``$243k``, ``$950``, ``−$12k``
    (``+$12k`` with ``signed``)."""
    if value is None or not math.isfinite(value):
        return "–"
    factor, unit = _scale(abs(value))
    scaled = abs(value) / factor
    digits = _digits(scaled, significant)
    text = f"{scaled:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "−" if value < 0 and text.strip("0.,") else ("+" if signed and value > 0 else "")
    return f"{sign}${text}{unit}"


def money_range(low: float | None, high: float | None, signed: bool = False) -> str:
    """Two amounts in one unit: ``$0.96M–$1.13M``; ``−$30k to +$54k`` (signs shown when an end is
    negative, or with ``signed``)."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    factor, unit = _scale(max(abs(low), abs(high)))
    digits = _digits(max(abs(low), abs(high)) / factor)
    texts = [f"{abs(v) / factor:,.{digits}f}" for v in (low, high)]
    while digits and all(t.endswith("0") for t in texts):  # 30.0 and 54.0 → 30 and 54
        digits -= 1
        texts = [t[:-1].rstrip(".") if digits == 0 else t[:-1] for t in texts]
    signs = signed or low < 0 or high < 0
    out = []
    for value, text in zip((low, high), texts, strict=True):
        zero = not text.strip("0.,")
        sign = "−" if value < 0 and not zero else ("+" if signs and value > 0 and not zero else "")
        out.append(f"{sign}${text}{unit}")
    return f"{out[0]} to {out[1]}" if signs else f"{out[0]}–{out[1]}"


def money_formatter(signed: bool = False) -> Any:
    """A matplotlib tick formatter for dollars — ``$0``, ``$500k``, ``$1.5M`` — in one unit per axis,
    chosen from its largest tick, with as many decimals as the tick step needs."""
    from matplotlib.ticker import Formatter

    class MoneyTicks(Formatter):
        ticks: Sequence[float] = ()

        def set_locs(self, locs: Sequence[float]) -> None:
            self.ticks = list(locs)  # the axis's ticks, read by __call__ (Formatter.locs is deprecated)

        def __call__(self, x: float, pos: Any = None) -> str:
            locs = sorted({float(v) for v in self.ticks if math.isfinite(v)})
            factor, unit = _scale(max((abs(v) for v in locs), default=abs(x)))
            step = min((b - a for a, b in itertools.pairwise(locs)), default=0.0)
            digits = max(0, -math.floor(math.log10(step / factor) + 1e-9)) if step > 0 else 0
            if abs(x) / factor < 0.5 * 10.0 ** -digits:
                return "$0"
            sign = "−" if x < 0 else ("+" if signed and x > 0 else "")
            return f"{sign}${abs(x) / factor:,.{digits}f}{unit}"

    return MoneyTicks()


# --------------------------------------------------------------------------- months


def month_dates(start_date: str | dt.date | None, horizon: int) -> list[dt.date] | None:
    """With a ``start_date``: the last day of each month 0 … horizon (month 0: the day before the
    start), the day whose end a month's stocks describe; None without one. Months are calendar
    months from the start date (as the simulation counts them)."""
    if not start_date:
        return None
    start = start_date if isinstance(start_date, dt.date) else dt.date.fromisoformat(str(start_date)[:10])
    return [add_months(start, m) - dt.timedelta(days=1) for m in range(horizon + 1)]


def month_label(month: int, dates: Sequence[dt.date] | None) -> str:
    """``month 7`` or, with dates, ``month 7 (Jul 2027)``."""
    if dates is None or not 0 <= month < len(dates):
        return f"month {month}"
    return f"month {month} ({dates[month]:%b %Y})"


def month_axis(ax: Any, dates: Sequence[dt.date] | None) -> None:
    """Months on an x axis: whole month numbers, or the months they end in (``Jan 2027``)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if dates is None:
        ax.set_xlabel("Month")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        return
    ax.set_xlabel(f"Month end (month 1 starts {dates[0] + dt.timedelta(days=1):%d %b %Y})")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: f"{dates[round(x)]:%b %Y}" if 0 <= round(x) < len(dates) and abs(x - round(x)) < 1e-9
        else ""))
