"""The scalar inverse CDFs of the hot path (:mod:`sim.model.engine.sampling`) give exactly what the
distributions' own ``ppf1`` gives — the records must not depend on which one a desk calls."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dists import CASES

from sim.model.engine.sampling import ConstantPpf, ExponentialPpf, ScalarPpf, scalar_ppf

UNIFORMS = st.floats(min_value=0.0, max_value=1.0, exclude_max=True, allow_nan=False)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@settings(deadline=None, max_examples=200)
@given(u=UNIFORMS)
def test_scalar_ppf_is_bit_for_bit_the_distributions_ppf1(case, u: float) -> None:
    dist = case.dist
    expected = float(dist.ppf1(u))
    got = scalar_ppf(dist).ppf1(u)
    assert type(got) is float
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_the_common_shapes_have_their_own_class_and_the_rest_fall_back() -> None:
    by_id = {case.id: type(scalar_ppf(case.dist)) for case in CASES}
    assert by_id["constant"] is ConstantPpf
    assert by_id["exponential"] is ExponentialPpf
    assert by_id["lognormal"] is ScalarPpf
    assert by_id["empirical"] is ScalarPpf
