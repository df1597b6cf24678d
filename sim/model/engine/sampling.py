"""Scalar inverse CDFs of the scenario's distributions, for the lead-level hot path.

This module owns the one-uniform-at-a-time sampling that the desks do per lead (a meeting gap,
a hand-off delay). The distributions of :mod:`sim.scenario.dists` are pydantic models and stay plain
Python; calling their ``ppf1`` from the compiled core (:mod:`sim.compiled`) costs an interpreted
call and a dictionary lookup per attribute. :func:`scalar_ppf` wraps a distribution in a small
class of this module instead, which the compiled build makes native: the common shapes
(constant, exponential) are computed here with the *same* expression as their ``ppf1`` — the
same operations on the same doubles, so the same results to the last bit — and every other
shape is handed to its own ``ppf1``.
"""

from __future__ import annotations

import math
from typing import Any, Final

from sim.scenario.dists import Constant, Exponential

__all__ = ["ScalarPpf", "scalar_ppf"]

_log1p: Final = math.log1p
"""``math.log1p`` held in a final name: the compiled build has no C primitive for it, and reading
it from the module is a lookup by name at every call."""


class ScalarPpf:
    """The inverse CDF of ``dist`` at one uniform (any distribution: its own ``ppf1``)."""

    def __init__(self, dist: Any) -> None:
        self.dist = dist

    def ppf1(self, u: float) -> float:
        return float(self.dist.ppf1(u))


class ConstantPpf(ScalarPpf):
    """:meth:`sim.scenario.dists.Constant.ppf1`: always the value."""

    def __init__(self, dist: Constant) -> None:
        super().__init__(dist)
        self.value: float = dist.value

    def ppf1(self, u: float) -> float:
        return self.value


class ExponentialPpf(ScalarPpf):
    """:meth:`sim.scenario.dists.Exponential.ppf1`: ``-mean * log1p(-u)``."""

    def __init__(self, dist: Exponential) -> None:
        super().__init__(dist)
        self.mean: float = dist.mean_

    def ppf1(self, u: float) -> float:
        return -self.mean * _log1p(-u)


def scalar_ppf(dist: Any) -> ScalarPpf:
    """A :class:`ScalarPpf` for ``dist`` (a distribution of :mod:`sim.scenario.dists`)."""
    if type(dist) is Constant:
        return ConstantPpf(dist)
    if type(dist) is Exponential:
        return ExponentialPpf(dist)
    return ScalarPpf(dist)
