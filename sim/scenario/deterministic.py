"""Deterministic mode: the scenario's expected behaviour, without luck.

This module owns what "all variance off" means (``deterministic: true`` in a scenario, or
``--deterministic`` on the command line), so that the simulator's funnel volumes can be set
against the analytic planner (:mod:`sim.planner`):

* **durations at their means** — meeting gaps, hand-off delays, response times and time to
  fill become constants (``dist: constant`` at the distribution's mean);
* **tenures at their conditional means** — a rep on staff at the start with *t0* months of
  tenure stays the mean remaining tenure of a rep who has already stayed *t0* months,
  E[T − t0 | T > t0]; a new hire stays E[T] (:class:`ResidualMean`). A plain constant at the
  mean would send every starting rep whose tenure so far exceeds the mean out in month 1
  (in ``scenarios/silo.yaml``: 2 AEs and 1 MDR), which is not the spreadsheet's world;
* **arrivals evenly spaced** — month m gets round(cumulative expected count) minus the
  previous month's, spread evenly over the month's working time;
* **evenly spread latent draws** — every random stream is a Kronecker sequence
  (:class:`sim.rng.QuasiGenerator`), so a share p of leads is below any probability p up to
  rounding (one lead), deal sizes and dials average to their means, and churn budgets make
  a share c of accounts churn a month. The documented rounding: counts are whole leads.

Queues, capacity limits and ramp still act — deterministic mode removes luck, not dynamics —
and every replication gives the same numbers.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from sim.scenario.dists import Constant, DistributionBase

DURATION_FIELDS = frozenset({"gap_days", "delay_days", "response_minutes", "time_to_fill_days"})
"""Distribution fields that are durations (held at their mean in deterministic mode)."""

TENURE_FIELDS = frozenset({"tenure_months"})
"""Distribution fields that are tenures (held at their conditional mean: :class:`ResidualMean`)."""

_GRID = 4096  # midpoint rule over the conditional quantiles


class ResidualMean(DistributionBase):
    """A tenure distribution held at its (conditional) mean: deterministic mode's tenure.

    ``conditional_ppf1(u, t0)`` — the total tenure of a rep who has already stayed ``t0``
    months — is ``t0 + E[T − t0 | T > t0]`` whatever ``u``: the mean residual life of the
    wrapped distribution ``base``. A new hire (``t0 = 0``) stays ``E[T]``. Computed as
    ``∫_0^1 Q(F(t0) + S(t0) v) dv`` (the conditional quantile function, midpoint rule on
    4,096 points). Where ``t0`` lies beyond the whole distribution (``S(t0) = 0``), the rep
    stays ``t0`` (leaves at once), as in a random run.

    Only deterministic mode builds it (:func:`durations_at_means`); it is not a scenario
    field value.
    """

    dist: Literal["residual_mean"] = "residual_mean"
    base: Any

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.mean, dtype=float)

    def ppf1(self, u: float) -> float:
        return self.mean

    def cdf(self, x):
        return (np.asarray(x, dtype=float) >= self.mean).astype(float)

    def conditional_ppf1(self, u: float, above: float) -> float:
        return above + mean_residual(self.base, above)

    @property
    def mean(self) -> float:
        return float(self.base.mean)

    @property
    def var(self) -> float:
        return 0.0


def mean_residual(dist: DistributionBase, above: float) -> float:
    """``E[X − above | X > above]``: the mean of what is left of ``X`` once it exceeded ``above``
    (``E[X]`` at ``above = 0`` for a non-negative ``X``); 0 when ``P(X > above) = 0``."""
    if above <= 0.0:
        return float(dist.mean) - above
    s0 = dist.sf1(above)
    if s0 <= 0.0:
        return 0.0
    v = (np.arange(_GRID) + 0.5) / _GRID
    values = np.asarray(dist.ppf(1.0 - s0 * (1.0 - v)), dtype=float)
    return float(np.mean(np.maximum(values, above))) - above


def _at_means(model: BaseModel) -> BaseModel:
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, DistributionBase):
            if name in DURATION_FIELDS and not isinstance(value, Constant):
                updates[name] = Constant(value=value.mean)
            elif name in TENURE_FIELDS and not isinstance(value, Constant | ResidualMean):
                updates[name] = ResidualMean(base=value)
        elif isinstance(value, BaseModel):
            new = _at_means(value)
            if new is not value:
                updates[name] = new
        elif isinstance(value, dict) and any(isinstance(v, BaseModel) for v in value.values()):
            new_map = {k: _at_means(v) if isinstance(v, BaseModel) else v for k, v in value.items()}
            if any(new_map[k] is not value[k] for k in value):
                updates[name] = new_map
        elif isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
            new_list = [_at_means(v) if isinstance(v, BaseModel) else v for v in value]
            if any(new is not old for new, old in zip(new_list, value, strict=True)):
                updates[name] = new_list  # e.g. a reorg's target org and its hand-offs
    return model.model_copy(update=updates) if updates else model


def durations_at_means(scenario):
    """The scenario with every duration distribution replaced by a constant at its mean, and
    every tenure distribution by its conditional mean (:class:`ResidualMean`)."""
    return _at_means(scenario)
