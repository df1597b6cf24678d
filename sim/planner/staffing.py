"""Distributions and seat shares for the planner: dials per lead, means, and how much of a seat's
time is staffed and productive (attrition vacancies, ramp of the replacements).

Renewal–reward over one seat cycling through a rep's tenure and the vacancy while its
requisition is filled; the formulas are in :mod:`sim.planner.headcount`'s docstring.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.planner.arithmetic import YEAR_MONTHS, PlanError

if TYPE_CHECKING:  # pragma: no cover
    from sim.scenario.dists import DistributionBase

DEFAULT_INITIAL_TENURE_MONTHS = 12.0
"""Tenure given to reps put on staff at month 0 by :meth:`~sim.planner.headcount.Plan.to_scenario_dict`."""
_TOL = 1e-9
_GRID = 20_000  # quantile grid for continuous distributions
_STEPS_PER_MONTH = 400  # survival-function integration


# --------------------------------------------------------------------------- distributions


def _discrete_support(dist: DistributionBase, cap: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, probabilities) of a discrete distribution, or None for a continuous one.

    A geometric's infinite tail is lumped at ``cap + 1`` (enough for capped means and P(X ≤ cap)).
    """
    from sim.scenario.dists import Constant, Empirical, Geometric, UniformInt

    if isinstance(dist, Constant):
        return np.array([dist.value], dtype=float), np.array([1.0])
    if isinstance(dist, UniformInt):
        values = np.arange(dist.low, dist.high + 1, dtype=float)
        return values, np.full(len(values), 1.0 / len(values))
    if isinstance(dist, Empirical):
        vals, cum = dist.table()
        return vals, np.diff(np.concatenate([[0.0], cum]))
    if isinstance(dist, Geometric):
        p = 1.0 / dist.mean
        top = max(1, int(cap) if cap is not None else math.ceil(50 * dist.mean))
        k = np.arange(1, top + 1, dtype=float)
        probs = (1.0 - p) ** (k - 1) * p
        tail = max(0.0, 1.0 - float(probs.sum()))
        return np.append(k, top + 1.0), np.append(probs, tail)
    return None


def _quantile_grid(dist: DistributionBase) -> np.ndarray:
    u = (np.arange(_GRID) + 0.5) / _GRID
    return np.asarray(dist.ppf(u), dtype=float)


def dials_stats(dist: DistributionBase, max_attempts: int) -> tuple[float, float]:
    """(P(reached), mean dials used per lead) of a ``dials_to_connect`` distribution.

    The simulator draws ``d = max(1, round(X))`` dials per lead; the lead is reached iff
    ``d <= max_attempts`` and holds a cadence slot for ``min(d, max_attempts)`` dials. Discrete
    distributions are summed over their support; others are evaluated on a fine quantile grid.
    """
    support = _discrete_support(dist, cap=max_attempts)
    if support is not None:
        values, probs = support
    else:
        values = _quantile_grid(dist)
        probs = np.full(len(values), 1.0 / len(values))
    dials = np.maximum(1.0, np.rint(values))
    reach = float(np.sum(probs[dials <= max_attempts]))
    used = float(np.sum(probs * np.minimum(dials, max_attempts)))
    return reach, used


def mean_nonnegative(dist: DistributionBase) -> float:
    """``E[max(0, X)]`` — the mean of a duration or amount the simulator clips at zero."""
    support = _discrete_support(dist)
    if support is not None:
        values, probs = support
        return float(np.sum(probs * np.maximum(values, 0.0)))
    if float(np.asarray(dist.cdf(np.asarray([-1e-9])))[0]) == 0.0:
        return float(dist.mean)
    return float(np.mean(np.maximum(_quantile_grid(dist), 0.0)))


def _survival(tenure: DistributionBase | float, t: np.ndarray) -> np.ndarray:
    if isinstance(tenure, int | float):
        return (t < tenure).astype(float)
    return 1.0 - np.asarray(tenure.cdf(t), dtype=float)


def _integral(f, a: float, b: float) -> float:
    """Midpoint rule of a vectorised function on [a, b] (``_STEPS_PER_MONTH`` points a month)."""
    if b <= a:
        return 0.0
    n = max(50, math.ceil((b - a) * _STEPS_PER_MONTH))
    t = a + (np.arange(n) + 0.5) * (b - a) / n
    return float(np.sum(f(t)) * (b - a) / n)


def _ramp_at(ramp: tuple[float, ...] | list[float], t: np.ndarray) -> np.ndarray:
    idx = np.minimum(np.maximum(np.floor(t), 0).astype(int), len(ramp) - 1)
    return np.asarray(ramp, dtype=float)[idx]


def staffing_shares(
    ramp: tuple[float, ...] | list[float],
    tenure_months: DistributionBase | float | None,
    time_to_fill_months: float = 0.0,
    *,
    backfill: bool = True,
    horizon_months: int = YEAR_MONTHS,
    initial_tenure_months: float = DEFAULT_INITIAL_TENURE_MONTHS,
) -> tuple[float, float]:
    """(vacancy share, ramp-loss share) of one seat of a role, as fractions of the seat's time.

    Parameters
    ----------
    ramp : sequence of float
        Productivity by tenure month (the last value holds after).
    tenure_months : Dist, float or None
        A rep's total tenure: a distribution, a fixed number of months, or None (nobody leaves).
    time_to_fill_months : float
        Mean months from a rep's exit to the replacement's start.
    backfill : bool
        Whether leavers are replaced.
    horizon_months, initial_tenure_months : int, float
        Only without backfill: the shares are averages over the horizon for a seat whose rep
        is on staff at ``initial_tenure_months``.

    Returns
    -------
    tuple of float
        With backfill, renewal–reward: ``E[F] / (E[T] + E[F])`` and
        ``E[∫_0^T (1 - ramp(t)) dt] / (E[T] + E[F])``. Without attrition: ``(0, 1 - ramp[-1])``.
    """
    ramp = tuple(float(r) for r in ramp)
    if not ramp:
        raise PlanError("a ramp needs at least one productivity value")
    if tenure_months is None:
        return 0.0, 1.0 - ramp[-1]
    from sim.scenario.dists import Constant

    if isinstance(tenure_months, Constant):
        tenure_months = tenure_months.value
    fill = max(0.0, float(time_to_fill_months))
    if not backfill:
        t0 = float(initial_tenure_months)
        s0 = float(_survival(tenure_months, np.asarray([t0]))[0])
        if s0 <= 0.0:
            return 1.0, 0.0
        staffed = _integral(lambda t: _survival(tenure_months, t0 + t) / s0, 0.0, horizon_months) / horizon_months
        productive = _integral(
            lambda t: _survival(tenure_months, t0 + t) / s0 * _ramp_at(ramp, t0 + t), 0.0, horizon_months
        ) / horizon_months
        return 1.0 - staffed, staffed - productive
    mean_tenure = (max(0.0, float(tenure_months)) if isinstance(tenure_months, int | float)
                   else mean_nonnegative(tenure_months))
    if mean_tenure <= 0.0:
        return 1.0, 0.0
    last = len(ramp) - 1
    productive = 0.0
    for k in range(last):
        productive += ramp[k] * _integral(lambda t: _survival(tenure_months, t), k, k + 1)
    head = _integral(lambda t: _survival(tenure_months, t), 0.0, last)
    productive += ramp[-1] * max(0.0, mean_tenure - head)
    cycle = mean_tenure + fill
    return fill / cycle, (mean_tenure - productive) / cycle


def ramp_to_full_months(ramp: tuple[float, ...] | list[float]) -> int:
    """Whole months before a new rep reaches the ramp's plateau (0 for ``[1.0]``; 3 for 25/50/75/100%)."""
    top = ramp[-1]
    for k, r in enumerate(ramp):
        if r >= top - _TOL:
            return k
    return len(ramp) - 1  # pragma: no cover - the last value always qualifies


