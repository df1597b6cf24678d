"""Speed to lead: how the odds of qualifying an inbound lead fall with the first-touch delay.

This module owns the decay profiles. A profile is a list of (delay_hours, odds_multiplier)
points; between points the multiplier is interpolated linearly in log(delay) and
log(multiplier), and it is flat before the first point and after the last. The odds of the
lead's base qualify probability are multiplied, so a later touch maps the same latent
uniform to a "no" monotonically (common random numbers across orgs that respond faster or
slower).

Published calibrations (see docs/background/default-figures.md#speed-to-lead):

* ``mit_2007`` — Oldroyd, MIT Lead Response Management study: odds of qualifying 21× higher
  when called within 5 minutes than at 30 minutes.
* ``hbr_2011`` — Oldroyd, McElheran & Elkington, HBR 2011: ~7× within one hour vs. the next
  hour, ~60× vs. 24 hours or later.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from sim.model.engine.odds import scale_odds
from sim.workcalendar import MINUTES_PER_HOUR

PROFILES: dict[str, tuple[tuple[float, float], ...]] = {
    "none": (),
    "mit_2007": ((5.0 / MINUTES_PER_HOUR, 1.0), (0.5, 1.0 / 21.0)),
    "hbr_2011": ((1.0, 1.0), (2.0, 1.0 / 7.0), (24.0, 1.0 / 60.0)),
}


class SpeedToLead:
    """A decay profile, callable on a delay in hours."""

    __slots__ = ("_log_d", "_log_m", "points")

    def __init__(self, points: tuple[tuple[float, float], ...] | list) -> None:
        self.points = tuple((float(d), float(m)) for d, m in points)
        self._log_d = [math.log(d) for d, _ in self.points]
        self._log_m = [math.log(m) for _, m in self.points]

    @classmethod
    def from_spec(cls, profile: str, points: list | None) -> SpeedToLead:
        return cls(points if profile == "custom" else PROFILES[profile])  # type: ignore[arg-type]

    def odds_multiplier(self, delay_hours: float) -> float:
        """Multiplier of the qualify odds after ``delay_hours`` hours."""
        pts = self.points
        if not pts:
            return 1.0
        if delay_hours <= pts[0][0]:
            return pts[0][1]
        if delay_hours >= pts[-1][0]:
            return pts[-1][1]
        x = math.log(delay_hours)
        i = bisect_right(self._log_d, x)
        x0, x1 = self._log_d[i - 1], self._log_d[i]
        y0, y1 = self._log_m[i - 1], self._log_m[i]
        return math.exp(y0 + (y1 - y0) * (x - x0) / (x1 - x0))

    def qualify_probability(self, base: float, delay_hours: float) -> float:
        """The qualify probability after a delay, for a lead whose immediate probability is ``base``."""
        return scale_odds(base, self.odds_multiplier(delay_hours))
