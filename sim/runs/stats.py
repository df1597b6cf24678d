"""Output analysis for Monte Carlo replications.

This module owns the statistics applied to replication KPI tables: t-based
confidence intervals for a mean, per-metric summaries of a replication table,
and paired comparisons of two scenarios run under common random numbers
(replication ``r`` of scenario A and replication ``r`` of scenario B see the
same market, so differences are taken pair by pair).

All functions are pure. Every input is converted to a 1-D float array and
non-finite values (NaN, +inf, -inf) are dropped before any statistic is
computed; for paired functions a pair is kept only if both members are finite.
Sample standard deviations use ``ddof=1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

__all__ = [
    "FRACTIONS",
    "LOWER_IS_BETTER",
    "NO_VERDICT",
    "SUMMARY_COLUMNS",
    "PairedDifference",
    "better_direction",
    "bootstrap_mean_ci",
    "half_width",
    "higher_is_better",
    "kpi_range",
    "mean_ci",
    "p_better",
    "paired_difference",
    "relative_half_width",
    "summarize",
    "variance_reduction",
]

LOWER_IS_BETTER: frozenset[str] = frozenset(
    {
        "cost_usd",
        "acquisition_cost_usd",
        "retention_cost_usd",
        "cac_usd",
        "crc_usd_per_account_month",
        "churn_rate_monthly",
        "cac_payback_months",
        "time_to_profitability_months",
        "churned_mrr_usd",
        "contraction_mrr_usd",
        "sales_cycle_days_mean",
        "speed_to_lead_hours_median",
        "mqls_never_touched_share",
        "losses",
    }
)
"""KPI names for which a smaller value is the better outcome (or, for those also in
:data:`NO_VERDICT`, the less bad one)."""

NO_VERDICT: frozenset[str] = frozenset(
    {
        "mqls",
        "prospects",
        "dials",
        "connects",
        "losses",
        "churned_mrr_usd",
        "headcount_end",
        "trials",
        "variable_pay_usd",
    }
)
"""KPI names that are volumes, where "more" is neither better nor worse: the market's input (MQLs,
prospects), activity (dials, connects), and counts that grow with success itself (lost deals grow
with opportunities, churned MRR with customers, headcount with hiring; self-service trials are
sign-ups). A comparison shows their
difference without a verdict (no P(better)). The lead-state counts ``leads_<state>`` are volumes
too (:func:`better_direction`)."""

FRACTIONS: frozenset[str] = frozenset(
    {"win_rate_sql", "win_rate_opportunity", "churn_rate_monthly", "mqls_never_touched_share",
     "reps_at_quota_share"}
)
"""KPIs that are shares, between 0 and 1."""

BOOTSTRAP_RESAMPLES = 4000
"""Resamples of the bootstrap interval :func:`summarize` falls back on."""
BOOTSTRAP_SEED = 20_261_207
"""Seed of the bootstrap's own generator (a local one: the same table gives the same interval)."""


def kpi_range(metric: str) -> tuple[float, float] | None:
    """The values a KPI can take: [0, 1] for :data:`FRACTIONS`, [0, ∞) for every other KPI of
    :data:`sim.metrics.KPI_NAMES` (counts, amounts, durations), None for any other column."""
    from sim.metrics import KPI_NAMES

    if metric in FRACTIONS:
        return (0.0, 1.0)
    return (0.0, float("inf")) if metric in KPI_NAMES else None


def bootstrap_mean_ci(x: NDArray[np.float64], confidence: float = 0.95,
                      resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of finite ``x`` (NaN with fewer than 2 values).

    It lies within ``[min(x), max(x)]``, so within any range the values respect; a fixed-seed local
    generator makes it reproducible.
    """
    if x.size < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // x.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        means[start:stop] = x[rng.integers(0, x.size, size=(stop - start, x.size))].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return (float(low), float(high))


SUMMARY_COLUMNS: tuple[str, ...] = (
    "metric",
    "n",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "p10",
    "p50",
    "p90",
)
"""Column names, in order, of the table returned by :func:`summarize`."""


@dataclass(frozen=True, slots=True)
class PairedDifference:
    """Paired comparison of scenario B against scenario A (difference ``b - a``).

    Attributes
    ----------
    n : int
        Number of pairs in which both values are finite.
    mean_a, mean_b : float
        Means of A and B over those pairs.
    diff_mean : float
        Mean of ``b - a`` over those pairs.
    diff_sd : float
        Sample standard deviation (``ddof=1``) of ``b - a``; NaN if ``n < 2``.
    ci_low, ci_high : float
        t-based confidence interval for ``diff_mean``; NaN if ``n < 2``.
    """

    n: int
    mean_a: float
    mean_b: float
    diff_mean: float
    diff_sd: float
    ci_low: float
    ci_high: float


def higher_is_better(metric: str) -> bool:
    """Return whether a larger value of ``metric`` is the better outcome.

    Parameters
    ----------
    metric : str
        KPI column name.

    Returns
    -------
    bool
        ``False`` for names in :data:`LOWER_IS_BETTER`, ``True`` otherwise; a KPI of a source,
        segment or team (``cac_usd@segment:smb``) goes the way of its base KPI.
    """
    return metric.split("@", 1)[0] not in LOWER_IS_BETTER


def better_direction(metric: str) -> str | None:
    """Which way ``metric`` is better: ``"higher"``, ``"lower"``, or None for a volume.

    None for :data:`NO_VERDICT` and the lead-state counts (``leads_<state>``), ``"lower"`` for
    the rest of :data:`LOWER_IS_BETTER` (costs, durations), ``"higher"`` otherwise. A KPI of a
    source, segment or team (``cac_usd@segment:smb``, ``wins@east``) goes the way of its base KPI.
    """
    base = metric.split("@", 1)[0]
    if base in NO_VERDICT or base.startswith("leads_"):
        return None
    return "lower" if base in LOWER_IS_BETTER else "higher"


def _as_1d(values: ArrayLike, name: str = "values") -> NDArray[np.float64]:
    """Convert ``values`` to a 1-D float array (scalars become length 1)."""
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _finite(values: ArrayLike) -> NDArray[np.float64]:
    """Return the finite entries of ``values`` as a 1-D float array."""
    arr = _as_1d(values)
    return arr[np.isfinite(arr)]


def _finite_pairs(a: ArrayLike, b: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(a, b)`` restricted to positions where both are finite."""
    x = _as_1d(a, "a")
    y = _as_1d(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same length, got {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _var(x: NDArray[np.float64]) -> float:
    """Sample variance (``ddof=1``) of finite ``x``; NaN if fewer than 2 values.

    A constant sample gives exactly 0 (``np.var`` can return a tiny positive
    rounding residue when the mean is not exactly representable).
    """
    if x.size < 2:
        return float("nan")
    if np.ptp(x) == 0.0:
        return 0.0
    return float(np.var(x, ddof=1))


def _sd(x: NDArray[np.float64]) -> float:
    """Sample standard deviation (``ddof=1``); NaN if fewer than 2 values."""
    return float(np.sqrt(_var(x)))


def _half_width_finite(x: NDArray[np.float64], confidence: float) -> float:
    """t-based CI half-width for an already-filtered finite sample."""
    n = x.size
    if n < 2:
        return float("nan")
    sd = _sd(x)
    if sd == 0.0:
        return 0.0
    t_crit = float(sps.t.ppf(0.5 + confidence / 2.0, n - 1))
    return t_crit * sd / float(np.sqrt(n))


def mean_ci(values: ArrayLike, confidence: float = 0.95) -> tuple[float, float, float]:
    """Sample mean with a two-sided Student-t confidence interval.

    Parameters
    ----------
    values : array_like
        One-dimensional sample; non-finite entries are ignored.
    confidence : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple of float
        ``(mean, low, high)``. With no finite values all three are NaN; with one
        value the bounds are NaN; with zero variance ``low == high == mean``.

    Raises
    ------
    ValueError
        If ``confidence`` is not in ``(0, 1)`` or ``values`` is not 1-D.
    """
    _check_confidence(confidence)
    x = _finite(values)
    if x.size == 0:
        return (float("nan"), float("nan"), float("nan"))
    m = float(np.mean(x))
    hw = _half_width_finite(x, confidence)
    if np.isnan(hw):
        return (m, float("nan"), float("nan"))
    return (m, m - hw, m + hw)


def half_width(values: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width of the t-based confidence interval for the mean.

    Parameters
    ----------
    values : array_like
        One-dimensional sample; non-finite entries are ignored.
    confidence : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    float
        ``t_{(1+confidence)/2, n-1} * sd / sqrt(n)``; NaN if fewer than two
        finite values, 0 for a constant sample.
    """
    _check_confidence(confidence)
    return _half_width_finite(_finite(values), confidence)


def relative_half_width(values: ArrayLike, confidence: float = 0.95) -> float:
    """Half-width of the confidence interval relative to the absolute mean.

    Parameters
    ----------
    values : array_like
        One-dimensional sample; non-finite entries are ignored.
    confidence : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    float
        ``half_width / |mean|``. NaN if fewer than two finite values; when the
        mean is 0 the result is ``inf`` if the half-width is positive and 0 if
        it is also 0.
    """
    _check_confidence(confidence)
    x = _finite(values)
    hw = _half_width_finite(x, confidence)
    if np.isnan(hw):
        return float("nan")
    m = abs(float(np.mean(x)))
    if m == 0.0:
        return float("inf") if hw > 0.0 else 0.0
    return hw / m


def summarize(
    table: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Summarize replication KPIs, one row per metric.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per replication, one column per KPI.
    metrics : sequence of str, optional
        Columns to summarize, in output order. Default: every numeric
        (non-boolean) column except ``"rep"``, in table order.
    confidence : float, default 0.95
        Confidence level of the interval reported in ``ci95_low`` /
        ``ci95_high`` (the column names are fixed whatever the level).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`: ``metric``, ``n`` (count of finite
        values), ``mean``, ``sd`` (``ddof=1``), ``ci95_low``, ``ci95_high``
        (Student's t; for a KPI whose t interval leaves the values it can take
        — :func:`kpi_range`: below 0, or above 1 for a share — the percentile
        bootstrap interval of :func:`bootstrap_mean_ci` instead),
        ``p10``, ``p50``, ``p90`` (numpy's default linear percentiles). Each
        metric ignores its own non-finite values; statistics that need more
        values than are available are NaN.

    Raises
    ------
    KeyError
        If a requested metric is not a column of ``table``.
    ValueError
        If ``confidence`` is not in ``(0, 1)``.
    """
    _check_confidence(confidence)
    if metrics is None:
        names = [str(c) for c in table.select_dtypes(include="number").columns if c != "rep"]
    else:
        names = list(metrics)
        missing = [m for m in names if m not in table.columns]
        if missing:
            raise KeyError(f"metrics not in table: {missing}")

    rows: list[dict[str, object]] = []
    for name in names:
        x = _finite(table[name].to_numpy(dtype=float, na_value=np.nan))
        mean, low, high = mean_ci(x, confidence)
        bounds = kpi_range(name)
        if bounds is not None and (low < bounds[0] or high > bounds[1]):
            low, high = bootstrap_mean_ci(x, confidence)  # a t interval here would hold impossible values
        if x.size:
            p10, p50, p90 = (float(v) for v in np.percentile(x, [10.0, 50.0, 90.0]))
        else:
            p10 = p50 = p90 = float("nan")
        rows.append(
            {
                "metric": name,
                "n": int(x.size),
                "mean": mean,
                "sd": _sd(x),
                "ci95_low": low,
                "ci95_high": high,
                "p10": p10,
                "p50": p50,
                "p90": p90,
            }
        )
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    out["n"] = out["n"].astype(np.int64)
    float_cols = [c for c in SUMMARY_COLUMNS if c not in ("metric", "n")]
    out[float_cols] = out[float_cols].astype(np.float64)
    return out


def paired_difference(a: ArrayLike, b: ArrayLike, confidence: float = 0.95) -> PairedDifference:
    """Paired comparison ``b - a`` of two scenarios run under common random numbers.

    Parameters
    ----------
    a, b : array_like
        Same-length 1-D samples; element ``r`` of each comes from replication
        ``r``. Pairs in which either value is non-finite are dropped.
    confidence : float, default 0.95
        Confidence level of the interval for the mean difference.

    Returns
    -------
    PairedDifference
        Means, mean and SD of ``b - a``, and its t-based confidence interval.
        Fields that cannot be computed (no pairs, or one pair for SD and CI)
        are NaN.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` differ in length or ``confidence`` is not in ``(0, 1)``.
    """
    _check_confidence(confidence)
    x, y = _finite_pairs(a, b)
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return PairedDifference(0, nan, nan, nan, nan, nan, nan)
    d = y - x
    diff_mean, low, high = mean_ci(d, confidence)
    return PairedDifference(
        n=n,
        mean_a=float(np.mean(x)),
        mean_b=float(np.mean(y)),
        diff_mean=diff_mean,
        diff_sd=_sd(d),
        ci_low=low,
        ci_high=high,
    )


def p_better(a: ArrayLike, b: ArrayLike, higher_is_better: bool = True) -> float:
    """Share of paired replications in which B strictly beats A.

    Parameters
    ----------
    a, b : array_like
        Same-length 1-D samples paired by replication; pairs with a
        non-finite member are dropped.
    higher_is_better : bool, default True
        Whether a larger value is better (see :func:`higher_is_better`).

    Returns
    -------
    float
        ``(wins + 0.5 * ties) / n`` over the finite pairs; NaN if there are none.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` differ in length.
    """
    x, y = _finite_pairs(a, b)
    if x.size == 0:
        return float("nan")
    wins = np.count_nonzero(y > x) if higher_is_better else np.count_nonzero(y < x)
    ties = np.count_nonzero(y == x)
    return (wins + 0.5 * ties) / x.size


def variance_reduction(a: ArrayLike, b: ArrayLike) -> float:
    """Variance-reduction factor achieved by pairing (common random numbers).

    Parameters
    ----------
    a, b : array_like
        Same-length 1-D samples paired by replication; pairs with a
        non-finite member are dropped.

    Returns
    -------
    float
        ``(var(a) + var(b)) / var(b - a)`` with ``ddof=1``: the variance of the
        difference had the scenarios been run independently, divided by the
        variance of the paired difference. Values above 1 mean pairing helped;
        about 1 for independent samples. ``inf`` if the paired difference has
        zero variance; NaN with fewer than two pairs.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` differ in length.
    """
    x, y = _finite_pairs(a, b)
    if x.size < 2:
        return float("nan")
    paired = _var(y - x)
    if paired == 0.0:
        return float("inf")
    return (_var(x) + _var(y)) / paired
