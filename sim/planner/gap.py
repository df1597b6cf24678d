"""Why the simulation falls short of the spreadsheet: the gap broken into its causes.

This module owns the waterfall of ``salesim plan --simulate``. The analytic plan leaves out
what the simulator plays out; each such cause is measured by switching it off in the plan's
scenario and running it again with the same seed and replications (common random numbers:
replication *r* sees the same leads with the same latent draws), so its effect on first-year
revenue is a paired difference, precise with a few dozen replications:

* **cycle lag** — meeting gaps and hand-off delays at 0 (the first deals are booked at once
  instead of a sales cycle after the start, with an empty pipeline);
* **ramp** — every rep fully productive from day 1 (``ramp: [1.0]``);
* **attrition and vacancy** — nobody leaves (``tenure_months: null``), so no seat waits to be filled;
* **hand-off loss** — no SQL lost between development and closer (``leakage_probability: 0``);
* **capacity** — ten times the capacity of every rep (dials a day, open opportunities,
  accounts covered): no queue, nothing stale;
* **speed to lead** — no decay of the odds of qualifying with the delay to first touch;
* **churn** — no churn, when the plan assumed none (``--churn 0``).

The cost of a cause is (full simulation − simulation without it): negative when the cause
costs revenue. Some causes are not in the plan at all (the cycle lag of an empty pipeline,
speed-to-lead decay, churn when planned without), others are budgeted for on average (ramp and
vacancy in the headcount, hand-off loss in the lead volumes, capacity at 100% utilization): the
cost of those in the simulation is partly paid for by the plan. One at a time, the costs do not
add up to the gap — causes overlap (without a cycle lag, closers also hold fewer open deals)
and the plan's budget for some of them is not a cost — so the rest is shown as "other":
what the plan budgets for, overlaps, expansion revenue the plan leaves out, and luck.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.planner.headcount import plain
from sim.planner.simulation import FIRST_YEAR, PlanSimulation, outcomes
from sim.runs import stats

CAPACITY_FACTOR = 10.0
"""How much capacity "unlimited" means in the capacity switch: ten times every rep's."""

DEFAULT_GAP_REPS = 30
"""Replications per switched-off run (the first replications of the full simulation)."""


def _roles(data: dict[str, Any]) -> dict[str, Any]:
    roles = data.get("roles")
    return roles if isinstance(roles, dict) else {}


def _segments(data: dict[str, Any]) -> dict[str, Any]:
    segments = data.get("segments")
    return segments if isinstance(segments, dict) else {}


def _handoff_legs(data: dict[str, Any]) -> list[dict[str, Any]]:
    legs = [data.setdefault("handoff", {})]
    org = data.get("org")
    if isinstance(org, dict) and isinstance(org.get("pod_handoff"), dict):
        legs.append(org["pod_handoff"])
    return legs


def _no_cycle_lag(data: dict[str, Any]) -> None:
    for seg in _segments(data).values():
        if isinstance(seg, dict):
            seg.setdefault("opportunity", {})["gap_days"] = 0.0
    for leg in _handoff_legs(data):
        leg["delay_days"] = 0.0


def _no_ramp(data: dict[str, Any]) -> None:
    for role in _roles(data).values():
        if isinstance(role, dict):
            role["ramp"] = [1.0]


def _no_attrition(data: dict[str, Any]) -> None:
    for role in _roles(data).values():
        if isinstance(role, dict):
            role["tenure_months"] = None


def _no_handoff_loss(data: dict[str, Any]) -> None:
    for leg in _handoff_legs(data):
        leg["leakage_probability"] = 0.0


def _more_capacity(data: dict[str, Any]) -> None:
    from sim.planner.model import SalesModel
    from sim.scenario import scenario_from_dict

    outbound = data.get("outbound")
    if isinstance(outbound, dict):
        # an SDR's monthly list stays what its dials could work (the plan's prospects per rep):
        # more dials must not mean more prospects, only no queue
        model = SalesModel.from_scenario(scenario_from_dict(data))
        if model.outbound is not None:
            per_rep = model.roles[model.outbound.role].prospects_per_month
            if per_rep is not None:
                outbound["prospects_per_rep_month"] = float(per_rep)
    for role in _roles(data).values():
        if not isinstance(role, dict):
            continue
        for name in ("dials_per_day", "max_open_opportunities", "accounts_covered"):
            if isinstance(role.get(name), int | float) and not isinstance(role.get(name), bool):
                role[name] = float(role[name]) * CAPACITY_FACTOR


def _no_speed_to_lead(data: dict[str, Any]) -> None:
    inbound = data.get("inbound")
    if isinstance(inbound, dict):
        inbound["speed_to_lead"] = {"profile": "none"}


def _no_churn(data: dict[str, Any]) -> None:
    for seg in _segments(data).values():
        if isinstance(seg, dict):
            churn = seg.get("churn")
            seg["churn"] = {**(churn if isinstance(churn, dict) else {}), "monthly_rate": 0.0}


@dataclass(frozen=True)
class Switch:
    """One cause of the gap, how to switch it off in scenario data, and what the plan does about it."""

    name: str
    label: str
    how: str
    apply: Callable[[dict[str, Any]], None]
    in_plan: str


SWITCHES: tuple[Switch, ...] = (
    Switch("cycle_lag", "cycle lag (empty pipeline)", "meeting gaps, hand-off delays 0", _no_cycle_lag,
           "not in the 78 rule: it books full new MRR from month 1 (see the lag-aware plan)"),
    Switch("ramp", "ramp", "fully productive from day 1", _no_ramp,
           "budgeted: the headcount covers ramp losses on average"),
    Switch("attrition", "attrition and vacancies", "nobody leaves", _no_attrition,
           "budgeted: the headcount covers vacancies on average"),
    Switch("handoff_loss", "hand-off loss", "no SQL lost in hand-off", _no_handoff_loss,
           "budgeted: the MQL and prospect volumes cover it"),
    Switch("capacity", "capacity limits (queues, stale)", f"{CAPACITY_FACTOR:g}× capacity, same volumes",
           _more_capacity, "sized for 100% utilization: no slack for bursts"),
    Switch("speed_to_lead", "speed-to-lead decay", "no decay", _no_speed_to_lead,
           "not in the plan: MQLs convert at the no-delay rate"),
    Switch("churn", "churn", "no churn", _no_churn, "not in the plan (--churn 0)"),
)
"""The causes measured, in the order they are run."""


def switched_off(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A copy of scenario ``data`` with cause ``name`` (a :data:`SWITCHES` name) switched off."""
    switch = next((s for s in SWITCHES if s.name == name), None)
    if switch is None:
        raise KeyError(f"no cause {name!r}; causes: {', '.join(s.name for s in SWITCHES)}")
    out = copy.deepcopy(dict(data))
    switch.apply(out)
    out["name"] = re.sub(r"[^A-Za-z0-9_.\-]", "_", f"{out.get('name', 'plan')}-no-{name}")
    return out


@dataclass(frozen=True)
class GapCause:
    """The effect of one cause on first-year revenue: (full simulation − simulation without it),
    paired by replication (``effect``: its mean, 95% CI and pairs)."""

    name: str
    label: str
    how: str
    effect: stats.PairedDifference
    in_plan: str = ""

    @property
    def cost_usd(self) -> float:
        """Full − without the cause: negative when the cause costs revenue."""
        return -self.effect.diff_mean

    @property
    def ci95(self) -> tuple[float, float]:
        return -self.effect.ci_high, -self.effect.ci_low


@dataclass
class GapBreakdown:
    """The gap between the plan's first-year revenue and the simulated mean, cause by cause.

    Attributes
    ----------
    plan_usd : float
        The spreadsheet's first-year revenue.
    simulated_usd : float
        Mean first-year revenue of the full simulation over the same replications.
    causes : list of GapCause
        One per cause measured, the costliest first.
    reps, seed : int
        Replications (0 … reps − 1 of the full simulation) and the shared seed.
    skipped : dict
        Causes not measured, and why.
    """

    plan_usd: float
    simulated_usd: float
    causes: list[GapCause]
    reps: int
    seed: int
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def gap_usd(self) -> float:
        return self.simulated_usd - self.plan_usd

    @property
    def unplanned_usd(self) -> float:
        """The summed costs of the causes the plan leaves out altogether (not budgeted for)."""
        return sum(c.cost_usd for c in self.causes if c.in_plan.startswith("not"))

    @property
    def other_usd(self) -> float:
        """What the causes, one at a time, leave unexplained (interactions, expansion, queues, luck)."""
        return self.gap_usd - sum(c.cost_usd for c in self.causes)

    def table(self) -> pd.DataFrame:
        """The waterfall: ``step`` (plan, a cause, other, simulated), ``label``, ``usd`` (the level
        for plan and simulated, the cost for the others), ``ci95_low``, ``ci95_high``, ``how``."""
        nan = float("nan")
        rows = [{"step": "plan", "label": "spreadsheet plan", "usd": self.plan_usd, "ci95_low": nan,
                 "ci95_high": nan, "how": "", "in_plan": ""}]
        for c in self.causes:
            low, high = c.ci95
            rows.append({"step": c.name, "label": c.label, "usd": c.cost_usd, "ci95_low": low, "ci95_high": high,
                         "how": c.how, "in_plan": c.in_plan})
        rows.append({"step": "other", "label": "other", "usd": self.other_usd, "ci95_low": nan, "ci95_high": nan,
                     "how": "the rest of the gap",
                     "in_plan": "what the plan budgets for these causes, their overlaps, expansion, luck"})
        rows.append({"step": "simulated", "label": "simulated mean", "usd": self.simulated_usd, "ci95_low": nan,
                     "ci95_high": nan, "how": f"{self.reps} replications", "in_plan": ""})
        return pd.DataFrame(rows, columns=["step", "label", "usd", "ci95_low", "ci95_high", "how", "in_plan"])

    def to_dict(self) -> dict[str, Any]:
        return plain({
            "metric": FIRST_YEAR, "plan_usd": self.plan_usd, "simulated_usd": self.simulated_usd,
            "gap_usd": self.gap_usd, "other_usd": self.other_usd, "unplanned_usd": self.unplanned_usd,
            "reps": self.reps, "seed": self.seed,
            "common_random_numbers": True, "skipped": dict(self.skipped),
            "causes": [{"name": c.name, "label": c.label, "how": c.how, "in_plan": c.in_plan, "cost_usd": c.cost_usd,
                        "ci95_low": c.ci95[0], "ci95_high": c.ci95[1], "pairs": c.effect.n} for c in self.causes],
        })


def gap_breakdown(simulation: PlanSimulation, reps: int | None = None, *,
                  out: str | os.PathLike[str] | None = None, causes: tuple[str, ...] | None = None,
                  **run_kwargs: Any) -> GapBreakdown:
    """Break the gap between a plan and its simulation into causes (see the module docstring).

    Parameters
    ----------
    simulation : PlanSimulation
        From :func:`~sim.planner.simulation.simulate_plan`; its scenario data and seed are reused.
    reps : int, optional
        Replications per switched-off run: replications 0 … reps − 1, compared pair by pair with
        the same replications of ``simulation`` (default :data:`DEFAULT_GAP_REPS`, at most the
        simulation's).
    out : path, optional
        Folder for one results folder per cause (``out/<cause>``, resumable).
    causes : tuple of str, optional
        Names of :data:`SWITCHES` to measure (default: all; churn only when the plan assumed none).
    **run_kwargs
        Passed to :func:`sim.run` (``workers``, ``executor``, ``overwrite``, ``progress``).
    """
    from sim.runs import executors, monte_carlo
    from sim.scenario import scenario_from_dict

    n = min(simulation.reps, reps if reps is not None else DEFAULT_GAP_REPS)
    full = simulation.outcomes[simulation.outcomes["rep"] < n][["rep", FIRST_YEAR]]
    wanted = causes if causes is not None else tuple(s.name for s in SWITCHES)
    skipped: dict[str, str] = {}
    if "churn" in wanted and causes is None and simulation.plan.target.monthly_churn > 0:
        wanted = tuple(w for w in wanted if w != "churn")
        skipped["churn"] = "the plan assumes churn (--churn)"
    folder = Path(out) if out is not None else None
    pool = None
    if run_kwargs.get("executor") is None:
        workers = run_kwargs.get("workers") or executors.default_workers()
        if workers > 1:  # one pool for every cause
            pool = executors.process_pool(workers)
            run_kwargs = {**run_kwargs, "executor": pool}
    found: list[GapCause] = []
    base = scenario_from_dict(simulation.scenario_data).resolved()
    try:
        for switch in SWITCHES:
            if switch.name not in wanted:
                continue
            data = switched_off(simulation.scenario_data, switch.name)
            scenario = scenario_from_dict(data)
            if _same(scenario.resolved(), base):
                skipped[switch.name] = "not in this scenario"
                continue
            result = monte_carlo.run(scenario, reps=n, seed=simulation.seed,
                                     out=folder / switch.name if folder is not None else None, **run_kwargs)
            off = outcomes(result)[["rep", FIRST_YEAR]]
            joined = full.merge(off, on="rep", suffixes=("_full", "_off"))
            effect = stats.paired_difference(joined[f"{FIRST_YEAR}_full"].to_numpy(float),
                                             joined[f"{FIRST_YEAR}_off"].to_numpy(float))
            found.append(GapCause(switch.name, switch.label, switch.how, effect, switch.in_plan))
    except BaseException:
        if pool is not None:
            executors.stop_now(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    found.sort(key=lambda c: c.cost_usd)
    return GapBreakdown(plan_usd=float(simulation.plan.first_year_revenue_usd),
                        simulated_usd=float(np.mean(full[FIRST_YEAR].to_numpy(float))), causes=found, reps=n,
                        seed=simulation.seed, skipped=skipped)


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Scenario data equal apart from the name."""
    return {k: v for k, v in a.items() if k != "name"} == {k: v for k, v in b.items() if k != "name"}


__all__ = ["CAPACITY_FACTOR", "DEFAULT_GAP_REPS", "SWITCHES", "GapBreakdown", "GapCause", "gap_breakdown",
           "switched_off"]
