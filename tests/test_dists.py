"""Tests for :mod:`sim.scenario.dists`: inverse CDFs, CDFs and analytic moments against scipy.stats.

Tolerances: closed forms are compared at 1e-9 relative; sample moments of ``ppf(uniforms)``
are compared with the analytic moments within 4 standard errors (the SE of a sample variance
uses the sample's fourth central moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from scipy import stats as sps

from sim import ScenarioError, scenario_from_dict
from sim.scenario.dists import DIST_NAMES, Constant, Dist

ADAPTER: TypeAdapter = TypeAdapter(Dist)
N_SAMPLE = 400_000
SEED = 20240601


def make(spec: Any):
    """A distribution from its scenario spec (a mapping or a bare number)."""
    return ADAPTER.validate_python(spec)


@dataclass(frozen=True)
class Case:
    """One distribution under test and its scipy counterpart."""

    id: str
    spec: Any
    ref: Any  # frozen scipy distribution, or None (no exact scipy equivalent)
    continuous: bool

    @property
    def dist(self):
        return make(self.spec)


_CLIPPED_NORMAL = sps.norm(1.0, 2.0)

CASES = [
    Case("constant", {"dist": "constant", "value": 3.5}, None, False),
    Case("uniform", {"dist": "uniform", "low": 2.0, "high": 5.0}, sps.uniform(2.0, 3.0), True),
    Case("uniform_int", {"dist": "uniform_int", "low": 10, "high": 15}, sps.randint(10, 16), False),
    Case("exponential", {"dist": "exponential", "mean": 4.0}, sps.expon(scale=4.0), True),
    Case("lognormal", {"dist": "lognormal", "median": 10.0, "sigma": 0.6}, sps.lognorm(s=0.6, scale=10.0), True),
    Case("normal", {"dist": "normal", "mean": 5.0, "sd": 2.0}, sps.norm(5.0, 2.0), True),
    Case("normal_clipped", {"dist": "normal", "mean": 1.0, "sd": 2.0, "min": 0.0}, None, False),
    Case("gamma", {"dist": "gamma", "mean": 3.0, "cv": 0.5}, sps.gamma(a=4.0, scale=0.75), True),
    Case("gamma_skewed", {"dist": "gamma", "mean": 2.0, "cv": 1.5}, sps.gamma(a=1 / 2.25, scale=2.0 * 2.25), True),
    Case("weibull", {"dist": "weibull", "scale": 15.5, "shape": 1.5}, sps.weibull_min(1.5, scale=15.5), True),
    Case("weibull_early", {"dist": "weibull", "scale": 3.0, "shape": 0.8}, sps.weibull_min(0.8, scale=3.0), True),
    Case("triangular", {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 6.0},
         sps.triang(0.2, loc=1.0, scale=5.0), True),
    Case("triangular_left", {"dist": "triangular", "low": 0.0, "mode": 0.0, "high": 1.0},
         sps.triang(0.0, loc=0.0, scale=1.0), True),
    Case("geometric", {"dist": "geometric", "mean": 12.5}, sps.geom(1 / 12.5), False),
    Case("geometric_one", {"dist": "geometric", "mean": 1.0}, None, False),  # scipy's geom(1) divides by 0
    Case("empirical", {"dist": "empirical", "values": [3.0, 1.0, 2.0], "weights": [1.0, 2.0, 1.0]},
         sps.rv_discrete(values=([1.0, 2.0, 3.0], [0.5, 0.25, 0.25])), False),
    Case("empirical_unweighted", {"dist": "empirical", "values": [7.0, 4.0]},
         sps.rv_discrete(values=([4.0, 7.0], [0.5, 0.5])), False),
]
CASE_IDS = [c.id for c in CASES]


def test_every_distribution_is_covered() -> None:
    assert {c.spec["dist"] for c in CASES} == set(DIST_NAMES)


def _uniforms(n: int, seed: int = SEED) -> np.ndarray:
    # keep away from 0 and 1, where lognormal/normal/gamma clip to 1e-12
    return np.random.default_rng(seed).uniform(1e-9, 1 - 1e-9, n)


# --------------------------------------------------------------------------- ppf, cdf


@pytest.mark.parametrize("case", [c for c in CASES if c.ref is not None], ids=lambda c: c.id)
def test_ppf_matches_scipy(case: Case) -> None:
    u = _uniforms(5000)
    np.testing.assert_allclose(case.dist.ppf(u), case.ref.ppf(u), rtol=1e-9, atol=1e-12)


def test_geometric_with_mean_one_always_connects_at_once() -> None:
    d = make({"dist": "geometric", "mean": 1.0})
    np.testing.assert_array_equal(d.ppf(_uniforms(100)), 1.0)
    np.testing.assert_array_equal(d.cdf(np.array([0.5, 1.0, 2.0])), [0.0, 1.0, 1.0])


def test_constant_ppf_and_cdf() -> None:
    d = make({"dist": "constant", "value": 3.5})
    np.testing.assert_array_equal(d.ppf(_uniforms(10)), np.full(10, 3.5))
    np.testing.assert_array_equal(d.cdf(np.array([3.4, 3.5, 3.6])), [0.0, 1.0, 1.0])


def test_clipped_normal_ppf_is_max_of_normal_and_min() -> None:
    d = make({"dist": "normal", "mean": 1.0, "sd": 2.0, "min": 0.0})
    u = _uniforms(5000)
    np.testing.assert_allclose(d.ppf(u), np.maximum(_CLIPPED_NORMAL.ppf(u), 0.0), rtol=1e-9, atol=1e-12)
    x = np.linspace(-3.0, 6.0, 91)
    expected = np.where(x < 0.0, 0.0, _CLIPPED_NORMAL.cdf(x))
    np.testing.assert_allclose(d.cdf(x), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.ref is not None], ids=lambda c: c.id)
def test_cdf_matches_scipy(case: Case) -> None:
    ref = case.ref
    lo, hi = ref.ppf(1e-6), ref.ppf(1 - 1e-6)
    x = np.linspace(lo - 1.0, hi + 1.0, 401)
    np.testing.assert_allclose(case.dist.cdf(x), ref.cdf(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.continuous], ids=lambda c: c.id)
def test_cdf_inverts_ppf_for_continuous(case: Case) -> None:
    u = _uniforms(5000)
    np.testing.assert_allclose(case.dist.cdf(case.dist.ppf(u)), u, rtol=1e-8, atol=1e-10)


def test_cdf_inverts_ppf_for_clipped_normal_above_the_atom() -> None:
    d = make({"dist": "normal", "mean": 1.0, "sd": 2.0, "min": 0.0})
    atom = float(_CLIPPED_NORMAL.cdf(0.0))  # P(X = min)
    u = _uniforms(5000)
    above = u > atom
    np.testing.assert_allclose(d.cdf(d.ppf(u[above])), u[above], rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(d.ppf(u[~above]), 0.0)


@pytest.mark.parametrize("case", [c for c in CASES if not c.continuous and c.ref is not None], ids=lambda c: c.id)
def test_ppf_is_the_generalised_inverse_for_discrete(case: Case) -> None:
    """ppf(u) is the smallest support point x with cdf(x) >= u."""
    d = case.dist
    u = _uniforms(5000)
    x = d.ppf(u)
    assert np.all(d.cdf(x) >= u)
    support = np.unique(d.ppf(np.linspace(1e-9, 1 - 1e-9, 100_001)))
    below = np.searchsorted(support, x) - 1  # index of the support point just below x
    has_below = below >= 0
    assert np.all(d.cdf(support[below[has_below]]) < u[has_below])


# --------------------------------------------------------------------------- moments


def _reference_moments(case: Case) -> tuple[float, float]:
    if case.ref is not None:
        return float(case.ref.mean()), float(case.ref.var())
    if case.id == "constant":
        return 3.5, 0.0
    if case.id == "geometric_one":
        return 1.0, 0.0  # every trial succeeds
    assert case.id == "normal_clipped"
    m1 = _CLIPPED_NORMAL.expect(lambda x: np.maximum(x, 0.0))
    m2 = _CLIPPED_NORMAL.expect(lambda x: np.maximum(x, 0.0) ** 2)
    return float(m1), float(m2 - m1 * m1)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_analytic_moments_match_reference(case: Case) -> None:
    mean, var = _reference_moments(case)
    assert case.dist.mean == pytest.approx(mean, rel=1e-9, abs=1e-12)
    # scipy's expect() integrates numerically: 1e-7 is its accuracy, not ours
    rel = 1e-7 if case.ref is None else 1e-9
    assert case.dist.var == pytest.approx(var, rel=rel, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_sample_moments_of_ppf_within_4_se(case: Case) -> None:
    d = case.dist
    x = d.ppf(_uniforms(N_SAMPLE, seed=SEED + 1))
    n = x.size
    mean, var = d.mean, d.var
    if var == 0.0:
        np.testing.assert_array_equal(x, mean)
        return
    se_mean = np.sqrt(var / n)
    assert abs(x.mean() - mean) < 4 * se_mean
    centred = x - x.mean()
    m4 = np.mean(centred**4)
    se_var = np.sqrt(max(m4 - var * var, 0.0) / n)
    assert abs(x.var(ddof=1) - var) < 4 * se_var


# --------------------------------------------------------------------------- scalar paths


@settings(deadline=None, max_examples=200, derandomize=True)
@given(u=st.floats(min_value=1e-9, max_value=1 - 1e-9), index=st.integers(0, len(CASES) - 1))
def test_ppf1_equals_ppf(u: float, index: int) -> None:
    d = CASES[index].dist
    scalar = d.ppf1(u)
    assert scalar == pytest.approx(float(d.ppf(np.asarray([u]))[0]), rel=1e-12, abs=1e-12)


def _tail_bound(case: Case) -> float:
    """A conditioning value with cdf comfortably below 1 (see the far-tail test below)."""
    d = case.dist
    grid = d.ppf(np.asarray([1e-6, 1 - 1e-6]))
    return float(grid[1])


@settings(deadline=None, max_examples=300, derandomize=True)
@given(u=st.floats(min_value=1e-6, max_value=1 - 1e-6), index=st.integers(1, len(CASES) - 1),
       where=st.floats(min_value=-0.5, max_value=1.0))
def test_conditional_ppf1_exceeds_the_conditioning_value(u: float, index: int, where: float) -> None:
    """A draw conditioned on X > a is above a (remaining tenure of a rep hired earlier)."""
    case = CASES[index]
    d = case.dist
    lo = float(d.ppf(np.asarray([1e-6]))[0])
    hi = _tail_bound(case)
    above = lo + where * (hi - lo)
    if d.cdf(np.asarray([above]))[0] >= 1.0:
        return  # nothing lies above: the conditional law does not exist
    assert d.conditional_ppf1(u, above) > above


def test_conditional_ppf1_of_a_constant_is_the_constant() -> None:
    assert make(2.0).conditional_ppf1(0.3, 5.0) == 2.0


def test_conditional_ppf1_of_exponential_is_memoryless() -> None:
    d = make({"dist": "exponential", "mean": 4.0})
    for u in (0.1, 0.5, 0.9):
        assert d.conditional_ppf1(u, 7.0) == pytest.approx(7.0 + d.ppf1(u), rel=1e-9)


def test_conditional_ppf1_in_the_far_tail_stays_above() -> None:
    d = make({"dist": "exponential", "mean": 1.0})
    assert d.conditional_ppf1(0.5, 40.0) > 40.0


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("x", [5e-324, 1e-310])
def test_survival_at_a_subnormal_value_is_defined(case: Case, x: float) -> None:
    """A subnormal conditioning value (validation accepts initial_tenure_months: 5e-324) is about 0:
    the lognormal's x / median underflowed to 0 and math.log raised (found by the fuzz test)."""
    d = case.dist
    s = d.sf1(x)
    assert 0.0 <= s <= 1.0
    assert np.isfinite(d.conditional_ppf1(0.5, x))


# --------------------------------------------------------------------------- specs


@pytest.mark.parametrize("value", [0, 3, 2.5, -1.0])
def test_bare_number_is_a_constant(value: float) -> None:
    d = make(value)
    assert isinstance(d, Constant)
    assert d.value == float(value)
    assert d.mean == float(value) and d.var == 0.0
    assert d.ppf1(0.7) == float(value)


def test_bool_is_not_a_distribution() -> None:
    with pytest.raises(ValidationError):
        make(True)


def test_unknown_distribution_names_the_choices() -> None:
    with pytest.raises(ValidationError) as info:
        make({"dist": "poisson", "mean": 3})
    text = str(info.value)
    assert "'poisson'" in text
    assert all(f"'{name}'" in text for name in DIST_NAMES)


def test_missing_dist_field_is_explained() -> None:
    with pytest.raises(ValidationError) as info:
        make({"mean": 3})
    assert "a distribution needs a 'dist' field" in str(info.value)


def test_unknown_distribution_in_a_scenario_reports_the_field_path() -> None:
    data = {
        "name": "bad", "roles": {"mdr": {"headcount": 1, "dials_per_day": 10},
                                 "ae": {"headcount": 1, "max_open_opportunities": 5}},
        "segments": {"s": {"mrr_usd": 100}},
        "inbound": {"mqls_per_month": 1, "segment_mix": {"s": 1}, "qualify_probability": 0.5,
                    "dials_to_connect": {"dist": "poisson", "mean": 3}},
        "customers": {"managed_by": None},
    }
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    problems = info.value.problems
    assert [p.path for p in problems] == ["inbound.dials_to_connect.dist"]
    assert problems[0].message.startswith("unknown distribution 'poisson'; expected one of: constant")


@pytest.mark.parametrize("spec", [
    {"dist": "uniform", "low": 3, "high": 1},
    {"dist": "uniform_int", "low": 3, "high": 1},
    {"dist": "triangular", "low": 0, "mode": 2, "high": 1},
    {"dist": "exponential", "mean": 0},
    {"dist": "lognormal", "median": -1, "sigma": 1},
    {"dist": "geometric", "mean": 0.5},
    {"dist": "empirical", "values": [1, 2], "weights": [1]},
    {"dist": "empirical", "values": [1, 2], "weights": [0, 0]},
    {"dist": "normal", "mean": 0, "sd": 1, "scale": 2},
])
def test_invalid_parameters_are_rejected(spec: dict) -> None:
    with pytest.raises(ValidationError):
        make(spec)
