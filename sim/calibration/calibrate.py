"""``calibrate()``: a validated export and a base scenario in, a :class:`Calibration` out.

This module owns the order of the fits and the one entry point the CLI and notebooks call. Each
fit reads the export and the base scenario and records what it could fit and what it kept
(:mod:`.fits` for the funnel, :mod:`.survival` for durations).
"""

from __future__ import annotations

from sim.calibration import expansion, fits, handoff, survival
from sim.calibration.estimates import Calibration
from sim.calibration.reader import CrmExport
from sim.scenario import Scenario

FITS = (fits.arrivals, fits.dials_to_connect, fits.qualification, handoff.handoff, fits.opportunities,
        fits.deal_size, survival.churn, expansion.expansion, survival.tenure, survival.time_to_fill)
"""The fits, in the order their values appear in the report."""

NOT_FITTED = {
    "roles.*.ramp": "productivity by tenure month needs per-rep activity volumes against capacity, "
                    "which this version does not fit",
    "handoff.win_odds_multiplier": "context lost in a hand-off is not separable from the win rate",
}


def calibrate(export: CrmExport, base: Scenario | None) -> Calibration:
    """Fit every parameter the export supports; list the others as kept."""
    from lifelines.exceptions import ConvergenceError

    cal = Calibration()
    for fit in FITS:
        try:
            fit(export, base, cal)
        except (ValueError, ArithmeticError, ConvergenceError) as exc:  # a fit the data cannot carry
            cal.keep(f"({fit.__name__})", f"the fit failed on this export: {exc}")
    for path, reason in NOT_FITTED.items():
        cal.keep(path, reason)
    return cal
