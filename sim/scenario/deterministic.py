"""Deterministic mode: the scenario's expected behaviour, without luck.

This module owns what "all variance off" means (``deterministic: true`` in a scenario, or
``--deterministic`` on the command line), so that the simulator's funnel volumes can be set
against the analytic planner (:mod:`sim.planner`):

* **durations at their means** — meeting gaps, hand-off delays, response times, time to fill
  and tenures become constants (``dist: constant`` at the distribution's mean);
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

from typing import Any

from pydantic import BaseModel

from sim.scenario.dists import Constant, DistributionBase

DURATION_FIELDS = frozenset({"gap_days", "delay_days", "response_minutes", "time_to_fill_days", "tenure_months"})
"""Distribution fields that are durations (held at their mean in deterministic mode)."""


def _at_means(model: BaseModel) -> BaseModel:
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, DistributionBase):
            if name in DURATION_FIELDS and not isinstance(value, Constant):
                updates[name] = Constant(value=value.mean)
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
    """The scenario with every duration distribution replaced by a constant at its mean."""
    return _at_means(scenario)
