"""Distribution specifications: validated data that turn latent uniforms into values.

This module owns the distributions a scenario may name (``dist: lognormal`` ...). Each
spec is a frozen pydantic model with

* ``ppf(u)``   — inverse CDF, vectorised over a NumPy array of uniforms in (0, 1);
* ``ppf1(u)``  — the same for one Python float (pure Python, for inner loops);
* ``cdf(x)``   — used for conditional draws (the remaining tenure of a rep hired earlier);
* ``mean`` and ``var`` — analytic moments, used by tests, the planner and deterministic mode.

Sampling goes through inverse transforms of uniforms drawn when an entity is created, so a
value is a monotone function of that entity's latent uniform: the core of common random
numbers (docs/developer/architecture.md#common-random-numbers). A bare number in a scenario file means a constant.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.scenario.limits import MAX_DRAW, MAX_GAMMA_CV, MAX_LOGNORMAL_SIGMA, MIN_GAMMA_CV, MIN_WEIBULL_SHAPE
from sim.scenario.numbers import Float, Int

_STD_NORMAL = NormalDist()
_EPS = 1e-12
_U_MAX = 1.0 - 2.0**-53
"""The largest uniform ``Generator.random`` returns."""


def _special() -> Any:
    """``scipy.special``, imported on first use: only the lognormal, normal and gamma shapes need
    it, and importing it costs about 80 ms — in every pool worker and command-line run."""
    from scipy import special

    return special


class DistributionBase(BaseModel):
    """What every distribution of a scenario field offers: sampling, the inverse CDF (vectorised and
    scalar), the CDF, moments, survival and conditional draws (tenure given time already served)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    discrete: ClassVar[bool] = False
    """Whether the distribution draws whole numbers only (or a few values)."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values by inverse transform of uniforms from ``rng``."""
        return self.ppf(rng.random(size))

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw_range(self) -> tuple[float, float]:
        """The smallest and largest value the sampler can draw (at the extreme uniforms that
        ``Generator.random`` returns; the unbounded shapes clip their uniforms to (10⁻¹², 1 − 10⁻¹²))."""
        try:
            return float(self.ppf1(0.0)), float(self.ppf1(_U_MAX))
        except (OverflowError, ValueError, ZeroDivisionError):
            return -math.inf, math.inf

    @model_validator(mode="after")
    def _finite_draws(self) -> DistributionBase:
        try:
            low, high = self.draw_range()
        except Exception:  # parameters that do not fit together: their own check says so
            return self
        if not (math.isfinite(low) and math.isfinite(high)) or max(abs(low), abs(high)) > MAX_DRAW:
            hint = (f"; narrow it (e.g. a smaller sigma: at most {MAX_LOGNORMAL_SIGMA:g})"
                    if isinstance(self, Lognormal) else "; narrow it")
            raise ValueError(f"this distribution draws values from {low:.3g} to {high:.3g}, beyond what a run "
                             f"can use (at most {MAX_DRAW:.0e} in size){hint}")
        return self

    def ppf1(self, u: float) -> float:
        return float(self.ppf(np.asarray([u]))[0])

    def cdf(self, x: np.ndarray | float) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def var(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sf1(self, x: float) -> float:
        """Survival function P(X > x) (subclasses override it where 1 − cdf loses precision)."""
        return 1.0 - float(np.asarray(self.cdf(np.asarray([x])))[0])

    def isf1(self, s: float) -> float:
        """Inverse survival function: the x with P(X > x) = s."""
        return self.ppf1(min(1.0 - _EPS, max(0.0, 1.0 - s)))

    def conditional_ppf1(self, u: float, above: float) -> float:
        """Inverse CDF of the distribution conditioned on the value exceeding ``above``
        (computed in survival space, so it stays exact far in the tail); never below ``above``."""
        s0 = self.sf1(above)
        if s0 <= 0.0:
            return above
        return max(above, self.isf1(s0 * (1.0 - u)))


class Constant(DistributionBase):
    """Always ``value``."""

    dist: Literal["constant"] = "constant"
    value: Float
    discrete: ClassVar[bool] = True

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    def ppf1(self, u: float) -> float:
        return self.value

    def cdf(self, x):
        return (np.asarray(x, dtype=float) >= self.value).astype(float)

    def conditional_ppf1(self, u: float, above: float) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def var(self) -> float:
        return 0.0


class Uniform(DistributionBase):
    """Continuous uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Float
    high: Float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    def ppf1(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    def cdf(self, x):
        width = self.high - self.low
        x = np.asarray(x, dtype=float)
        if width == 0:
            return (x >= self.low).astype(float)
        return np.clip((x - self.low) / width, 0.0, 1.0)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def var(self) -> float:
        return (self.high - self.low) ** 2 / 12.0


class UniformInt(DistributionBase):
    """Discrete uniform on the integers low..high (both included)."""

    dist: Literal["uniform_int"]
    low: Int
    high: Int
    discrete: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check(self) -> UniformInt:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def ppf(self, u):
        n = self.high - self.low + 1
        k = np.floor(np.asarray(u, dtype=float) * n)
        return self.low + np.minimum(k, n - 1)

    def ppf1(self, u: float) -> float:
        n = self.high - self.low + 1
        return float(self.low + min(int(u * n), n - 1))

    def cdf(self, x):
        n = self.high - self.low + 1
        x = np.floor(np.asarray(x, dtype=float))
        return np.clip((x - self.low + 1) / n, 0.0, 1.0)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def var(self) -> float:
        n = self.high - self.low + 1
        return (n * n - 1) / 12.0


class Exponential(DistributionBase):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean_: Float = Field(alias="mean", gt=0)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    def ppf(self, u):
        return -self.mean_ * np.log1p(-np.asarray(u, dtype=float))

    def ppf1(self, u: float) -> float:
        return -self.mean_ * math.log1p(-u)

    def cdf(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return -np.expm1(-x / self.mean_)

    def sf1(self, x: float) -> float:
        return math.exp(-max(x, 0.0) / self.mean_)

    def isf1(self, s: float) -> float:
        return -self.mean_ * math.log(max(s, 1e-300))

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        return self.mean_**2


class Lognormal(DistributionBase):
    """Lognormal given by its median and the sd ``sigma`` of the underlying normal."""

    dist: Literal["lognormal"]
    median: Float = Field(gt=0)
    sigma: Float = Field(ge=0, le=MAX_LOGNORMAL_SIGMA,
                         description=f"at most {MAX_LOGNORMAL_SIGMA:g} (the P99 is then 1,000 times the median)")

    def ppf(self, u):
        u = np.clip(np.asarray(u, dtype=float), _EPS, 1 - _EPS)
        return self.median * np.exp(self.sigma * _special().ndtri(u))

    def ppf1(self, u: float) -> float:
        u = min(max(u, _EPS), 1 - _EPS)
        return self.median * math.exp(self.sigma * _STD_NORMAL.inv_cdf(u))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            z = np.where(x > 0, np.log(np.maximum(x, 1e-300) / self.median), -np.inf)
        if self.sigma == 0:
            return (x >= self.median).astype(float)
        return _special().ndtr(z / self.sigma)

    def sf1(self, x: float) -> float:
        if x <= 0:
            return 1.0
        if self.sigma == 0:
            return 1.0 if x < self.median else 0.0
        # floored as in cdf: x / median of a subnormal x (initial_tenure_months: 5e-324) is 0
        return float(_special().ndtr(-math.log(max(x, 1e-300) / self.median) / self.sigma))

    def isf1(self, s: float) -> float:
        s = min(max(s, 1e-300), 1.0 - _EPS)
        return self.median * math.exp(-self.sigma * float(_special().ndtri(s)))

    @property
    def mean(self) -> float:
        return self.median * math.exp(0.5 * self.sigma**2)

    @property
    def var(self) -> float:
        s2 = self.sigma**2
        return (math.exp(s2) - 1.0) * self.median**2 * math.exp(s2)


class Normal(DistributionBase):
    """Normal, truncated below at ``min`` by clipping (default: no clipping)."""

    dist: Literal["normal"]
    mean_: Float = Field(alias="mean")
    sd: Float = Field(ge=0)
    min: Float | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    def ppf(self, u):
        u = np.clip(np.asarray(u, dtype=float), _EPS, 1 - _EPS)
        x = self.mean_ + self.sd * _special().ndtri(u)
        return x if self.min is None else np.maximum(x, self.min)

    def ppf1(self, u: float) -> float:
        u = min(max(u, _EPS), 1 - _EPS)
        x = self.mean_ + self.sd * _STD_NORMAL.inv_cdf(u)
        return x if self.min is None else max(x, self.min)

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        if self.sd == 0:
            return (x >= self.mean_).astype(float)
        c = _special().ndtr((x - self.mean_) / self.sd)
        return c if self.min is None else np.where(x < self.min, 0.0, c)

    @property
    def mean(self) -> float:
        if self.min is None or self.sd == 0:
            return self.mean_ if self.min is None else max(self.mean_, self.min)
        a = (self.min - self.mean_) / self.sd
        phi, big_phi = math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi), _STD_NORMAL.cdf(a)
        return self.min * big_phi + self.mean_ * (1 - big_phi) + self.sd * phi

    @property
    def var(self) -> float:
        if self.min is None:
            return self.sd**2
        # second moment of the clipped normal, minus the squared mean
        a = (self.min - self.mean_) / self.sd
        phi, big_phi = math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi), _STD_NORMAL.cdf(a)
        m, s = self.mean_, self.sd
        second = self.min**2 * big_phi + (m * m + s * s) * (1 - big_phi) + s * (m + self.min) * phi
        return max(0.0, second - self.mean**2)


class Gamma(DistributionBase):
    """Gamma given by its mean and coefficient of variation ``cv`` (sd / mean)."""

    dist: Literal["gamma"]
    mean_: Float = Field(alias="mean", gt=0)
    cv: Float = Field(ge=MIN_GAMMA_CV, le=MAX_GAMMA_CV)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @property
    def _shape(self) -> float:
        return 1.0 / (self.cv * self.cv)

    def ppf(self, u):
        u = np.clip(np.asarray(u, dtype=float), _EPS, 1 - _EPS)
        k = self._shape
        return _special().gammaincinv(k, u) * (self.mean_ / k)

    def cdf(self, x):
        k = self._shape
        return _special().gammainc(k, np.maximum(np.asarray(x, dtype=float), 0.0) / (self.mean_ / k))

    def sf1(self, x: float) -> float:
        k = self._shape
        return float(_special().gammaincc(k, max(x, 0.0) / (self.mean_ / k)))

    def isf1(self, s: float) -> float:
        k = self._shape
        return float(_special().gammainccinv(k, min(max(s, 1e-300), 1.0))) * (self.mean_ / k)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        return (self.cv * self.mean_) ** 2


class Weibull(DistributionBase):
    """Weibull with ``scale`` and ``shape`` (shape < 1: early exits; > 1: wear-out)."""

    dist: Literal["weibull"]
    scale: Float = Field(gt=0)
    shape: Float = Field(ge=MIN_WEIBULL_SHAPE)

    def ppf(self, u):
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1 - _EPS)
        return self.scale * (-np.log1p(-u)) ** (1.0 / self.shape)

    def ppf1(self, u: float) -> float:
        u = min(max(u, 0.0), 1 - _EPS)
        return self.scale * (-math.log1p(-u)) ** (1.0 / self.shape)

    def cdf(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        return -np.expm1(-((x / self.scale) ** self.shape))

    def sf1(self, x: float) -> float:
        return math.exp(-((max(x, 0.0) / self.scale) ** self.shape))

    def isf1(self, s: float) -> float:
        return self.scale * (-math.log(max(s, 1e-300))) ** (1.0 / self.shape)

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape)

    @property
    def var(self) -> float:
        g1, g2 = math.gamma(1 + 1 / self.shape), math.gamma(1 + 2 / self.shape)
        return self.scale**2 * (g2 - g1 * g1)


class Triangular(DistributionBase):
    """Triangular on [low, high] with the given mode."""

    dist: Literal["triangular"]
    low: Float
    mode: Float
    high: Float

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        a, c, b = self.low, self.mode, self.high
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    def ppf1(self, u: float) -> float:
        a, c, b = self.low, self.mode, self.high
        if u < (c - a) / (b - a):
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1 - u) * (b - a) * (b - c))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        a, c, b = self.low, self.mode, self.high
        left = np.where(c > a, (x - a) ** 2 / ((b - a) * max(c - a, _EPS)), 1.0)
        right = 1 - (b - x) ** 2 / ((b - a) * max(b - c, _EPS))
        return np.where(x <= a, 0.0, np.where(x >= b, 1.0, np.where(x <= c, left, right)))

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    @property
    def var(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0


class Geometric(DistributionBase):
    """Number of trials up to and including the first success, with the given mean (>= 1).

    A natural model of dials per connect: each dial connects with probability 1 / mean.
    """

    dist: Literal["geometric"]
    mean_: Float = Field(alias="mean", ge=1)
    discrete: ClassVar[bool] = True

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    def ppf(self, u):
        p = 1.0 / self.mean_
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1 - _EPS)
        if p >= 1.0:
            return np.ones_like(u)
        return np.maximum(1.0, np.ceil(np.log1p(-u) / math.log1p(-p)))

    def ppf1(self, u: float) -> float:
        p = 1.0 / self.mean_
        if p >= 1.0:
            return 1.0
        u = min(max(u, 0.0), 1 - _EPS)
        return float(max(1.0, math.ceil(math.log1p(-u) / math.log1p(-p))))

    def cdf(self, x):
        p = 1.0 / self.mean_
        k = np.floor(np.asarray(x, dtype=float))
        return np.where(k < 1, 0.0, 1.0 - (1.0 - p) ** np.maximum(k, 0))

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        p = 1.0 / self.mean_
        return (1 - p) / (p * p)


class Empirical(DistributionBase):
    """A discrete distribution over ``values`` with optional ``weights``."""

    dist: Literal["empirical"]
    values: list[Float] = Field(min_length=1)
    weights: list[Float] | None = None
    discrete: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have as many entries as values")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative and not all zero")
        return self

    def draw_range(self) -> tuple[float, float]:
        return float(min(self.values)), float(max(self.values))

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.values, kind="stable")
        vals = np.asarray(self.values, dtype=float)[order]
        w = np.ones(len(vals)) if self.weights is None else np.asarray(self.weights)[order]
        return vals, np.cumsum(w) / np.sum(w)

    def ppf(self, u):
        vals, cum = self.table()
        idx = np.searchsorted(cum, np.asarray(u, dtype=float), side="right")
        return vals[np.minimum(idx, len(vals) - 1)]

    def cdf(self, x):
        vals, cum = self.table()
        idx = np.searchsorted(vals, np.asarray(x, dtype=float), side="right") - 1
        return np.where(idx < 0, 0.0, cum[np.maximum(idx, 0)])

    @property
    def mean(self) -> float:
        vals, cum = self.table()
        p = np.diff(np.concatenate([[0.0], cum]))
        return float(np.sum(vals * p))

    @property
    def var(self) -> float:
        vals, cum = self.table()
        p = np.diff(np.concatenate([[0.0], cum]))
        m = float(np.sum(vals * p))
        return float(np.sum(p * (vals - m) ** 2))


DIST_NAMES = (
    "constant", "uniform", "uniform_int", "exponential", "lognormal", "normal",
    "gamma", "weibull", "triangular", "geometric", "empirical",
)


def _coerce(value: Any) -> Any:
    """A bare number means a constant; a mapping without ``dist`` gets a clear error."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number or a distribution, got {'true' if value else 'false'} (a boolean)")
    if isinstance(value, int | float):
        return {"dist": "constant", "value": value}
    if isinstance(value, dict) and "dist" not in value:
        raise ValueError(
            "a distribution needs a 'dist' field, one of: " + ", ".join(DIST_NAMES)
        )
    return value  # an unknown ``dist`` is reported by the tagged union, at the ``dist`` line


Dist = Annotated[
    Constant | Uniform | UniformInt | Exponential | Lognormal | Normal | Gamma | Weibull
    | Triangular | Geometric | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_coerce),
]
"""A distribution field in a scenario: a mapping with ``dist: <name>`` or a bare number."""


def _draws_within(low: float, high: float, unit: str, least: str) -> Any:
    """An after-validator: every draw of the distribution lies in [low, high] (``unit`` names the
    field's unit; ``least`` says what the lower bound means, for the message)."""

    def check(dist: DistributionBase) -> DistributionBase:
        lo, hi = dist.draw_range()
        # a continuous shape's rare draws below one whole unit count as one (the model rounds them)
        lo_ok = lo >= 0 and dist.mean >= low if low >= 1 and not dist.discrete else lo >= low
        if not lo_ok:
            if isinstance(dist, Constant):
                raise ValueError(f"{least} (got {dist.value:g})")
            tip = " (give it min: 0)" if isinstance(dist, Normal) and low == 0 else ""
            found = (f"has a mean of {dist.mean:.3g}" if low >= 1 and not dist.discrete and lo >= 0
                     else f"draws values down to {lo:.3g}")
            raise ValueError(f"{least}: this {dist.dist} distribution {found}{tip}")
        if hi > high:
            raise ValueError(f"at most {high:,.6g}{' ' + unit if unit else ''}: this {dist.dist} distribution "
                             f"draws up to {hi:.3g}")
        return dist

    return AfterValidator(check)


def dist_within(low: float = 0.0, high: float = MAX_DRAW, unit: str = "", least: str = "") -> Any:
    """A distribution field whose draws lie in [low, high] (e.g. a duration: never negative)."""
    least = least or (f"values must be at least {low:g}{' ' + unit if unit else ''}")
    return Annotated[Dist, _draws_within(low, high, unit, least)]

