"""Revenue arithmetic of the planner: the "78" rule and its relatives, and checked inputs.

New MRR booked evenly, month by month, is counted as salesim counts it: the revenue of month *m*
is the MRR at the end of month *m*, and a deal signed in month *k* bills from month *k*. A
constant monthly new MRR of $1 therefore yields ``12 + 11 + … + 1 = 78`` dollars of first-year
revenue (:func:`first_year_factor`) and ``12 × 12 = 144`` dollars of exit ARR
(:func:`exit_arr_factor`); churn and an invoice lag shrink the first-year factor. The formulas
are in :mod:`sim.planner.headcount`'s docstring.

Bad input raises :class:`PlanError` (a ``ValueError``) with a message for a person.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

YEAR_MONTHS = 12
"""Months of the "first year" in the revenue arithmetic."""
_TOL = 1e-9


class PlanError(ValueError):
    """A target or sales model the planner cannot work with; the message says why and what to change."""


# --------------------------------------------------------------------------- small helpers


def ceil_clean(x: float) -> int:
    """Round up, ignoring floating-point noise (60.000000000001 → 60)."""
    return math.ceil(x - _TOL * max(1.0, abs(x)))


def money(x: float) -> str:
    return f"${x:,.0f}"


def check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(f"{name} must be a finite number (got {value!r})")
    return float(value)


def check_churn(monthly_churn: Any) -> float:
    c = check_number("monthly churn", monthly_churn)
    if c < 0:
        raise PlanError(f"monthly churn must be at least 0 (got {c:g}); e.g. 0.03 for 3% of MRR a month")
    if c >= 1:
        raise PlanError(
            f"monthly churn must be below 1 (got {c:g}): at 100% every customer leaves within the month; "
            "give it as a fraction, e.g. 0.03 for 3%"
        )
    return c


def check_lag(invoice_lag_months: Any, months: int) -> int:
    if isinstance(invoice_lag_months, bool) or not isinstance(invoice_lag_months, int | np.integer):
        raise PlanError(f"the invoice lag must be a whole number of months (got {invoice_lag_months!r})")
    lag = int(invoice_lag_months)
    if lag < 0:
        raise PlanError(f"the invoice lag cannot be negative (got {lag} months)")
    if lag >= months:
        raise PlanError(
            f"an invoice lag of {lag} months leaves no revenue in the first {months} months; use 0–{months - 1}"
        )
    return lag


def check_probability(name: str, value: Any) -> float:
    p = check_number(name, value)
    if not 0.0 <= p <= 1.0:
        raise PlanError(f"{name} must be a probability between 0 and 1 (got {p:g})")
    return p


# --------------------------------------------------------------------------- revenue arithmetic


def retention_sum(months: int, monthly_churn: float = 0.0) -> float:
    """``R(n; c) = Σ_{i=0..n-1} (1-c)^i``: MRR at the end of month ``n`` per $1 of monthly new MRR.

    Parameters
    ----------
    months : int
        Months of constant bookings (``n >= 0``).
    monthly_churn : float
        Monthly churn ``c`` in [0, 1).

    Returns
    -------
    float
        ``n`` without churn; ``(1 - (1-c)^n) / c`` otherwise (summed term by term, exact at c = 0).
    """
    c = check_churn(monthly_churn)
    total, survive = 0.0, 1.0
    for _ in range(max(0, int(months))):
        total += survive
        survive *= 1.0 - c
    return total


def first_year_factor(monthly_churn: float = 0.0, invoice_lag_months: int = 0, *, months: int = YEAR_MONTHS) -> float:
    """First-year revenue per $1 of constant monthly new MRR booked evenly (the "78 rule").

    A deal signed in month *k* bills from month *k + L*; the revenue of month *m* is the billed
    MRR at the end of month *m*; churn runs from signing. Then

    ``F(c, L) = (1-c)^L × Σ_{k=1..12-L} R(k; c)``,  ``R(k; c) = Σ_{i=0..k-1} (1-c)^i``.

    No churn: 78 (= 12+11+…+1); a one-month invoice lag: 66 (= 11+…+1); lag *L*:
    ``Σ_{k=1..12-L} k``; monthly churn *c*: ``Σ_{k=1..12} (1-(1-c)^k)/c`` (→ 78 as c → 0).

    Parameters
    ----------
    monthly_churn : float
        Monthly churn of MRR, in [0, 1).
    invoice_lag_months : int
        Whole months between signing and the first invoice (0 ≤ L < ``months``).
    months : int
        Length of the "year" (12).

    Returns
    -------
    float
    """
    c = check_churn(monthly_churn)
    lag = check_lag(invoice_lag_months, months)
    total = sum(retention_sum(k, c) for k in range(1, months - lag + 1))
    return (1.0 - c) ** lag * total


def exit_arr_factor(monthly_churn: float = 0.0, *, months: int = YEAR_MONTHS) -> float:
    """Exit ARR per $1 of constant monthly new MRR: ``12 × R(12; c)`` (144 without churn).

    Parameters
    ----------
    monthly_churn : float
        Monthly churn of MRR, in [0, 1).
    months : int
        Months of bookings before the exit (12).
    """
    return 12.0 * retention_sum(months, monthly_churn)


def _interpolated(f, lag: float, top: int) -> float:
    """``f`` at a whole number of months, linearly interpolated between them for a fractional ``lag``."""
    lag = max(0.0, float(lag))
    if lag >= top:
        return 0.0
    low = math.floor(lag)
    high = min(low + 1, top)
    w = lag - low
    return (1.0 - w) * f(low) + (w * f(high) if w > 0 else 0.0)


def lagged_first_year_factor(monthly_churn: float = 0.0, invoice_lag_months: int = 0,
                             cycle_lag_months: float = 0.0, *, months: int = YEAR_MONTHS) -> float:
    """First-year revenue per $1 of monthly new MRR when bookings start ``cycle_lag_months`` late.

    A team that starts with an empty pipeline books nothing until its first leads have gone
    through the sales cycle: bookings begin ``L`` = ``cycle_lag_months`` after the start of
    month 1 and then run at the steady rate. Without churn the MRR at the end of month *j* is
    ``max(0, j − L)`` per $1, so the factor is ``Σ_{j=1..12} max(0, j − L − invoice lag)`` —
    78 at L = 0, 66 at L = 1, 68.4 at L = 0.8. It is piecewise linear in L, so a fractional lag
    is the linear interpolation of :func:`first_year_factor` at the whole lags around it (exact
    without churn; with churn, the same interpolation).

    Parameters
    ----------
    monthly_churn : float
    invoice_lag_months : int
        Whole months from signing to the first invoice.
    cycle_lag_months : float
        Months before the first deals are booked (≥ 0; e.g. the mean lead-to-win time).
    """
    c = check_churn(monthly_churn)
    base = check_lag(invoice_lag_months, months)
    lag = check_number("the cycle lag", cycle_lag_months)
    if lag < 0:
        raise PlanError(f"the cycle lag cannot be negative (got {lag:g} months)")
    return _interpolated(lambda k: first_year_factor(c, base + k, months=months) if base + k < months else 0.0,
                         lag, months - base)


def lagged_exit_arr_factor(monthly_churn: float = 0.0, cycle_lag_months: float = 0.0, *,
                           months: int = YEAR_MONTHS) -> float:
    """Exit ARR per $1 of monthly new MRR when bookings start ``cycle_lag_months`` late:
    ``12 × R(12 − L; c)`` (144 at L = 0, 132 at L = 1), interpolated for a fractional L."""
    c = check_churn(monthly_churn)
    lag = check_number("the cycle lag", cycle_lag_months)
    if lag < 0:
        raise PlanError(f"the cycle lag cannot be negative (got {lag:g} months)")
    return _interpolated(lambda k: 12.0 * retention_sum(months - k, c), lag, months)


def arr_growth_new_mrr(exit_arr_usd: float, starting_arr_usd: float, monthly_churn: float = 0.0,
                       cycle_lag_months: float = 0.0) -> float:
    """Monthly new MRR that grows ARR from ``starting_arr_usd`` today to ``exit_arr_usd`` at month 12.

    The starting base churns like everything else: ``A0 (1 − c)^12`` of it is left at month 12.
    New business must make up the rest, ``ΔARR = E − A0 (1 − c)^12``, and constant new MRR *m*
    gives ``12 × R(12; c) × m`` of ARR at month 12 (:func:`exit_arr_factor`), so

    ``m = (E − A0 (1 − c)^12) / (12 × R(12; c))`` — without churn ``(E − A0) / 144``: the ARR
    delta ÷ 12 (to MRR) ÷ 12 (months). Book-style check: from $610,000 to $1,000,000 without
    churn, $390,000 / 144 = $2,708 a month. With a cycle lag L (bookings start L months late)
    the divisor is :func:`lagged_exit_arr_factor`.

    Raises
    ------
    PlanError
        When the target does not exceed what is left of the starting ARR.
    """
    exit_arr = check_number("the exit ARR target", exit_arr_usd)
    start = check_number("the starting ARR", starting_arr_usd)
    if start < 0:
        raise PlanError(f"the starting ARR cannot be negative (got {start:g})")
    c = check_churn(monthly_churn)
    kept = start * (1.0 - c) ** YEAR_MONTHS
    delta = exit_arr - kept
    if delta <= 0:
        raise PlanError(f"an exit ARR of {money(exit_arr)} needs no new business: the starting ARR "
                        f"{money(start)} keeps {money(kept)} after 12 months of {c:.1%} monthly churn")
    return delta / lagged_exit_arr_factor(c, cycle_lag_months)


def monthly_new_mrr_for(
    first_year_revenue_usd: float | None = None,
    exit_arr_usd: float | None = None,
    monthly_churn: float = 0.0,
    invoice_lag_months: int = 0,
) -> float:
    """The constant monthly new MRR that yields a first-year revenue *or* an exit ARR.

    Parameters
    ----------
    first_year_revenue_usd : float, optional
        First-year revenue from new business (÷ :func:`first_year_factor`).
    exit_arr_usd : float, optional
        ARR at the end of month 12 (÷ :func:`exit_arr_factor`; the invoice lag does not matter).
    monthly_churn, invoice_lag_months
        As for :func:`first_year_factor`.

    Returns
    -------
    float
        Monthly new MRR in USD. Book anchor: $1,560,000 first-year revenue → $20,000.
    """
    if (first_year_revenue_usd is None) == (exit_arr_usd is None):
        raise PlanError("give exactly one target: first_year_revenue_usd or exit_arr_usd")
    if first_year_revenue_usd is not None:
        value = check_number("the first-year revenue target", first_year_revenue_usd)
        if value <= 0:
            raise PlanError(f"the first-year revenue target must be a positive number of dollars (got {value:g})")
        return value / first_year_factor(monthly_churn, invoice_lag_months)
    value = check_number("the exit ARR target", exit_arr_usd)
    if value <= 0:
        raise PlanError(f"the exit ARR target must be a positive number of dollars (got {value:g})")
    return value / exit_arr_factor(monthly_churn)




# --------------------------------------------------------------------------- quota-based headcount


class QuotaPlan:
    """The traditional quota plan: a new-ARR target, a quota per rep and an over-assignment.

    ``total_quota_usd`` = target × over-assignment is handed out in quotas of ``quota_usd``, so
    ``reps`` = ⌈total quota ÷ quota⌉; ``reps_at_full_attainment`` = ⌈target ÷ quota⌉ would do if every
    rep made 100 % of quota; ``expected_attainment`` = 1 ÷ over-assignment is the attainment the
    plan assumes (the book: $8M at $2M a rep with 125 % over-assignment is $10M of quota, 5 reps,
    4 strictly needed, 80 % attainment).
    """

    __slots__ = ("expected_attainment", "over_assignment", "quota_usd", "reps", "reps_at_full_attainment",
                 "target_new_arr_usd", "total_quota_usd")

    def __init__(self, target_new_arr_usd: float, quota_usd: float, over_assignment: float) -> None:
        self.target_new_arr_usd = target_new_arr_usd
        self.quota_usd = quota_usd
        self.over_assignment = over_assignment
        self.total_quota_usd = target_new_arr_usd * over_assignment
        self.reps = ceil_clean(self.total_quota_usd / quota_usd)
        self.reps_at_full_attainment = ceil_clean(target_new_arr_usd / quota_usd)
        self.expected_attainment = 1.0 / over_assignment

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__slots__}


def quota_plan(target_new_arr_usd: float, quota_usd: float, over_assignment: float = 1.0) -> QuotaPlan:
    """Reps needed to carry a new-ARR target in quotas (:class:`QuotaPlan`).

    Parameters
    ----------
    target_new_arr_usd : float
        New ARR to book in the quota period (a year's bookings for a yearly quota), ≥ 0.
    quota_usd : float
        One rep's quota over the same period, > 0.
    over_assignment : float, default 1.0
        Total quota ÷ target, ≥ 1 (1.25: quota 25 % above the target, for 80 % attainment).

    Raises
    ------
    PlanError
        A negative target, a quota that is not positive, or an over-assignment below 1.
    """
    target = check_number("the new-ARR target", target_new_arr_usd)
    quota = check_number("the quota per rep", quota_usd)
    over = check_number("the over-assignment", over_assignment)
    if target < 0:
        raise PlanError(f"the new-ARR target cannot be negative (got {target:g})")
    if quota <= 0:
        raise PlanError(f"a quota per rep must be positive (got {quota:g}): a rep with no quota carries no target")
    if over < 1:
        raise PlanError(f"the over-assignment is total quota ÷ target and cannot be below 1 (got {over:g})")
    return QuotaPlan(target, quota, over)
