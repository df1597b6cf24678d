"""The spreadsheet plan against the simulator: P(hit target), the gap, and the cheapest plan that is likely enough.

This module owns ``salesim plan --simulate`` and ``salesim plan --solve`` (the CLI is in
:mod:`sim.cli.plan`). The analytic planner (:mod:`sim.planner.headcount`) answers "what org do I need
for this number?" with expected values; here that org — its headcount and its dated hiring
waves — is written back as a scenario and run by Monte Carlo, to answer the questions a
spreadsheet cannot:

* **How likely is the plan to hit its target?** ``P(hit)`` is the share of replications
  whose first-year revenue reaches the target's first-year revenue (and, when the target was
  given as an exit ARR or a monthly new MRR, whose matching metric reaches it too), with a
  95% Wilson score interval.
* **How far is the spreadsheet answer from the simulated one?** The plan's expected
  first-year revenue, exit ARR and monthly new MRR against the simulated mean and median
  (gap = simulated − plan, in USD and % of the plan), P10/P50/P90, and the funnel volumes
  month by month. The gap has known causes the spreadsheet leaves out: the simulation starts
  with an empty pipeline (the planner's hiring dates assume it was built before month 1),
  queues and capacity limits, speed-to-lead decay, attrition and vacancies as they fall, and
  churn (the plan's ``monthly_churn`` is whatever the user gave, often 0).
* **What is the cheapest org that hits it with a given confidence?** :func:`solve_plan`
  searches headcounts per role (keeping the plan's hiring schedule shape) under common random
  numbers: every candidate runs with the same seed and replication count, so two candidates
  see the same market and their difference is not luck.

Definitions (per replication, months are 1-based; the simulated horizon is at least 12 months):

* first-year revenue — KPI ``revenue_first_year_usd`` (Σ of the MRR at the end of months 1–12);
* exit ARR — 12 × the MRR at the end of month 12 (the plan's exit ARR is at month 12 too;
  equal to the KPI ``exit_arr_usd`` when the horizon is 12 months);
* monthly new MRR — new MRR booked in months 1–12, divided by 12.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.planner.arithmetic import YEAR_MONTHS, PlanError
from sim.planner.headcount import PlanTarget, RepPlan, plain
from sim.runs import stats

if TYPE_CHECKING:  # pragma: no cover
    from sim.planner.headcount import Plan
    from sim.runs.results import RunResult
    from sim.scenario import Scenario

Z95 = 1.959963984540054
"""Two-sided 95% standard normal quantile (Wilson interval)."""

FIRST_YEAR = "revenue_first_year_usd"
EXIT_ARR = "exit_arr_month12_usd"
NEW_MRR = "new_mrr_per_month_usd"
METRIC_LABELS = {
    FIRST_YEAR: "first-year revenue",
    EXIT_ARR: "exit ARR (month 12)",
    NEW_MRR: "new MRR a month",
}
FUNNEL_LABELS = {
    "mqls_per_month": "MQLs a month",
    "sqls_per_month": "SQLs created a month",
    "deals_per_month": "deals a month",
}
TABLE_COLUMNS = (
    "metric", "label", "kind", "target", "plan", "mean", "ci95_low", "ci95_high", "p10", "p50", "p90",
    "gap_mean", "gap_mean_pct", "gap_median", "gap_median_pct", "p_hit", "p_hit_ci95_low", "p_hit_ci95_high",
)
"""Columns of :meth:`PlanSimulation.table`."""


# --------------------------------------------------------------------------- statistics


def wilson_interval(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% with the default ``z``).

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is sensible at 0 or n hits,
    which is where a plan's P(hit) often sits.

    Parameters
    ----------
    hits, n : int
        Successes and trials (``0 <= hits <= n``).
    z : float
        Standard normal quantile of the two-sided level.

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(nan, nan)`` when ``n == 0``.
    """
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= hits <= n:
        raise ValueError(f"hits must be between 0 and n (got {hits} of {n})")
    p = hits / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    if hits == 0:
        low = 0.0
    if hits == n:
        high = 1.0
    return low, high


# --------------------------------------------------------------------------- the target


@dataclass(frozen=True)
class HitTarget:
    """What "hitting the target" means for one replication.

    Attributes
    ----------
    first_year_revenue_usd : float
        Always checked: first-year revenue ≥ this.
    exit_arr_usd : float, optional
        When the target was given as an exit ARR: 12 × MRR at month 12 ≥ this.
    monthly_new_mrr_usd : float, optional
        When the target was given as a monthly new MRR: new MRR of months 1–12 ÷ 12 ≥ this.

    A replication hits the target when it meets *every* criterion given.
    """

    first_year_revenue_usd: float
    exit_arr_usd: float | None = None
    monthly_new_mrr_usd: float | None = None
    exit_arr_from_new_business: bool = False
    """Whether ``exit_arr_usd`` is the new-business part of a growth target (exit ARR less what is
    left of the starting ARR): the simulated exit ARR counts only the scenario's customers."""

    def __post_init__(self) -> None:
        for name in ("first_year_revenue_usd", "exit_arr_usd", "monthly_new_mrr_usd"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                    or value <= 0:
                raise PlanError(f"the target's {name} must be a positive number of dollars (got {value!r})")

    @classmethod
    def from_plan(cls, plan: Plan, exit_arr_usd: float | None = None) -> HitTarget:
        """The target a plan was made for: its first-year revenue, plus the monthly new MRR when
        the plan's target was given that way, or the exit ARR when it came from one (for a growth
        target, the new-business part: the exit ARR less what is left of the starting ARR; or
        ``exit_arr_usd`` when given)."""
        t = plan.target
        growth = False
        if exit_arr_usd is None and t.exit_arr_usd is not None:
            exit_arr_usd = float(t.exit_arr_usd) - plan.starting_arr_kept_usd
            growth = bool(t.starting_arr_usd)
        monthly = t.monthly_new_mrr_usd if exit_arr_usd is None else None
        return cls(first_year_revenue_usd=float(plan.first_year_revenue_usd), exit_arr_usd=exit_arr_usd,
                   monthly_new_mrr_usd=None if monthly is None else float(monthly), exit_arr_from_new_business=growth)

    def criteria(self) -> list[tuple[str, float]]:
        """``(metric, threshold)`` pairs, first-year revenue first."""
        out = [(FIRST_YEAR, float(self.first_year_revenue_usd))]
        if self.exit_arr_usd is not None:
            out.append((EXIT_ARR, float(self.exit_arr_usd)))
        if self.monthly_new_mrr_usd is not None:
            out.append((NEW_MRR, float(self.monthly_new_mrr_usd)))
        return out

    def describe(self) -> str:
        parts = [f"${self.first_year_revenue_usd:,.0f} first-year revenue"]
        if self.exit_arr_usd is not None:
            what = "new-business exit ARR" if self.exit_arr_from_new_business else "exit ARR"
            parts.append(f"${self.exit_arr_usd:,.0f} {what}")
        if self.monthly_new_mrr_usd is not None:
            parts.append(f"${self.monthly_new_mrr_usd:,.0f} new MRR a month")
        return " and ".join(parts)


def as_hit_target(target: HitTarget | PlanTarget | float | None, plan: Plan) -> HitTarget:
    """A :class:`HitTarget` from what the caller gave (None: the plan's own target)."""
    if target is None:
        return HitTarget.from_plan(plan)
    if isinstance(target, HitTarget):
        return target
    if isinstance(target, PlanTarget):
        from sim.planner.headcount import plan as make_plan

        if target == plan.target:
            return HitTarget.from_plan(plan)
        fyr = (float(target.annual_new_revenue_usd) if target.annual_new_revenue_usd is not None
               else float(make_plan(target, plan.model).first_year_revenue_usd))
        return HitTarget(fyr, monthly_new_mrr_usd=target.monthly_new_mrr_usd)
    if isinstance(target, int | float) and not isinstance(target, bool):
        return HitTarget(float(target))
    raise TypeError(f"target must be a HitTarget, a PlanTarget, a first-year revenue in USD or None "
                    f"(got {type(target).__name__})")


# --------------------------------------------------------------------------- the plan as a scenario


def _base_data(base_scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    from sim.scenario import Scenario
    from sim.scenario.yamlio import load_document

    if isinstance(base_scenario, Scenario):
        return base_scenario.resolved()
    if isinstance(base_scenario, Mapping):
        return copy.deepcopy(dict(base_scenario))
    if isinstance(base_scenario, str | os.PathLike):
        return load_document(base_scenario).data
    raise TypeError(f"base_scenario must be a Scenario, scenario data or a path (got {type(base_scenario).__name__})")


def plan_scenario_data(plan: Plan, base_scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
                       horizon_months: int | None = None, name: str | None = None) -> dict[str, Any]:
    """The plan as scenario data, with its hiring waves, ready to simulate.

    ``plan.to_scenario_dict(base, include_hiring=True)`` (which keeps the base's other hiring
    settings and drops its own waves and targets for the planned roles), then:

    * ``horizon_months`` is ``max(12, plan horizon)`` unless given (the first-year figures
      need 12 months; a longer base horizon only costs time);
    * the scenario is renamed ``<base>-plan`` (or ``name``).
    """
    base = _base_data(base_scenario)
    data = plan.to_scenario_dict(base, include_hiring=True)
    horizon = horizon_months if horizon_months is not None else max(YEAR_MONTHS, plan.target.horizon_months)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < YEAR_MONTHS:
        raise PlanError(f"the simulated horizon must be a whole number of months, at least {YEAR_MONTHS} "
                        f"(first-year revenue needs 12 months; got {horizon!r})")
    data["horizon_months"] = horizon
    base_name = str(base.get("name") or plan.model.name or "plan")
    data["name"] = name or _safe_name(f"{base_name}-plan")
    data["description"] = (f"salesim plan: {plan.model.name!r} staffed for "
                           f"${plan.first_year_revenue_usd:,.0f} first-year revenue "
                           f"(${plan.monthly_new_mrr_usd:,.0f} new MRR a month)")
    return data


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text) or "plan"


def with_headcount(plan: Plan, headcount: Mapping[str, int]) -> Plan:
    """The plan with other headcounts per role, keeping its hiring schedule shape.

    For each role the planned reps are kept in order of need (earliest first) up to the new
    count; extra reps copy the timing of the role's last planned rep (for development reps
    and closers every rep is needed from month 1, so that is the role's own rule; for the
    customer role it is the latest-needed seat). A role the plan did not staff gets reps on
    the planner's rule for month 1. Roles not in ``headcount`` keep their count. The funnel,
    ``fte_needed`` and ``headcount_exact`` stay the analytic plan's.
    """
    roles = dict(plan.roles)
    for name, count in headcount.items():
        if name not in roles:
            raise PlanError(f"the plan has no role {name!r} (roles: {', '.join(roles)})")
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise PlanError(f"the headcount of {name!r} must be a whole number ≥ 0 (got {count!r})")
        r = roles[name]
        ordered = sorted(r.reps, key=lambda rep: (rep.need_month, rep.start_month, rep.number))
        kept = ordered[: int(count)]
        if len(ordered) >= int(count):
            reps = kept
        else:
            if ordered:
                last = ordered[-1]
                need, start, req = last.need_month, last.start_month, last.requisition_month
            else:
                need = 1
                start = need - r.ramp_to_full_months - r.lead_months
                req = start - r.time_to_fill_months
            reps = kept + [RepPlan(name, 0, need, start, req) for _ in range(int(count) - len(ordered))]
        reps = [replace(rep, number=i + 1) for i, rep in enumerate(reps)]
        roles[name] = replace(r, headcount=int(count), reps=tuple(reps))
    return replace(plan, roles=roles)


# --------------------------------------------------------------------------- per-replication outcomes


def outcomes(result: RunResult) -> pd.DataFrame:
    """One row per replication: the hit metrics and the first-year funnel per month.

    Columns: ``rep``, ``revenue_first_year_usd``, ``exit_arr_month12_usd``,
    ``new_mrr_per_month_usd``, ``mqls_per_month``, ``sqls_per_month``, ``deals_per_month``
    (flows are averaged over months 1–12).
    """
    kpis = result.kpis[["rep", FIRST_YEAR]].copy()
    ts = result.timeseries
    year = ts[(ts["month"] >= 1) & (ts["month"] <= YEAR_MONTHS)]
    flows = year[year["series"].isin(["new_mrr_usd", "mqls", "sqls", "wins"])]
    per = flows.pivot_table(index="rep", columns="series", values="value", aggfunc="sum") / YEAR_MONTHS
    mrr12 = ts[(ts["series"] == "mrr_usd") & (ts["month"] == YEAR_MONTHS)].set_index("rep")["value"]
    out = kpis.set_index("rep")
    out[EXIT_ARR] = 12.0 * mrr12.reindex(out.index)
    for src, dst in (("new_mrr_usd", NEW_MRR), ("mqls", "mqls_per_month"), ("sqls", "sqls_per_month"),
                     ("wins", "deals_per_month")):
        out[dst] = per[src].reindex(out.index) if src in per else 0.0
    return out.reset_index()


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class HitRate:
    """How many replications met a criterion, with its 95% Wilson interval."""

    metric: str
    threshold: float
    hits: int
    n: int

    @property
    def p(self) -> float:
        return self.hits / self.n if self.n else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.hits, self.n)


@dataclass
class PlanSimulation:
    """A plan simulated by Monte Carlo.

    Attributes
    ----------
    plan : Plan
        The (spreadsheet) plan that was simulated.
    target : HitTarget
    reps, seed : int
        Replications that finished, and the root seed.
    scenario_data : dict
        The plan as scenario data (what ``plan_scenario.yaml`` holds).
    result : RunResult
        The replications (``result.kpis``: the KPI table).
    outcomes : DataFrame
        Per replication: the hit metrics and the funnel (:func:`outcomes`).
    hit : HitRate
        P(hit): every criterion of the target met.
    criteria : list of HitRate
        Each criterion on its own (first-year revenue first).
    scenario_file, runs : Path, optional
        Where the scenario and the results folder were written.
    """

    plan: Plan
    target: HitTarget
    reps: int
    seed: int
    scenario_data: dict[str, Any]
    result: RunResult
    outcomes: pd.DataFrame
    hit: HitRate
    criteria: list[HitRate]
    scenario_file: Path | None = None
    runs: Path | None = None

    # ------------------------------------------------------------------ the numbers

    @property
    def p_hit(self) -> float:
        """Share of replications that hit the target."""
        return self.hit.p

    @property
    def p_hit_ci95(self) -> tuple[float, float]:
        """95% Wilson interval of :attr:`p_hit`."""
        return self.hit.ci95

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.result.failures

    def plan_values(self) -> dict[str, float]:
        """The spreadsheet's answer for each compared quantity (per month for flows)."""
        p = self.plan
        created_sqls = 0.0
        if p.mqls_per_month is not None and p.model.inbound is not None:
            created_sqls += p.mqls_per_month * p.model.inbound.sql_rate
        if p.prospects_per_month is not None and p.model.outbound is not None:
            created_sqls += p.prospects_per_month * p.model.outbound.sql_rate
        return {
            FIRST_YEAR: float(p.first_year_revenue_usd),
            EXIT_ARR: float(p.exit_arr_usd),
            NEW_MRR: float(p.monthly_new_mrr_usd),
            "mqls_per_month": float(p.mqls_per_month or 0.0),
            "sqls_per_month": created_sqls,
            "deals_per_month": float(p.deals_per_month),
        }

    def table(self) -> pd.DataFrame:
        """Plan against simulation, one row per quantity (:data:`TABLE_COLUMNS`).

        ``kind`` is ``revenue`` (first-year revenue, exit ARR, monthly new MRR) or ``funnel``
        (MQLs, SQLs — created, before hand-off losses, on both sides — and deals, per month
        over months 1–12). ``gap_*`` = simulated − plan (``_pct``: as a fraction of the plan).
        ``p_hit*`` is filled on the rows that are criteria of the target.
        """
        plan_values = self.plan_values()
        summary = stats.summarize(self.outcomes, [*METRIC_LABELS, *FUNNEL_LABELS]).set_index("metric")
        thresholds = {c.metric: c for c in self.criteria}
        rows = []
        for metric, label in (*METRIC_LABELS.items(), *FUNNEL_LABELS.items()):
            s = summary.loc[metric]
            planned = plan_values[metric]
            crit = thresholds.get(metric)
            low, high = crit.ci95 if crit is not None else (float("nan"), float("nan"))
            rows.append({
                "metric": metric, "label": label, "kind": "revenue" if metric in METRIC_LABELS else "funnel",
                "target": crit.threshold if crit is not None else float("nan"), "plan": planned,
                "mean": s["mean"], "ci95_low": s["ci95_low"], "ci95_high": s["ci95_high"],
                "p10": s["p10"], "p50": s["p50"], "p90": s["p90"],
                "gap_mean": s["mean"] - planned, "gap_mean_pct": _pct(s["mean"] - planned, planned),
                "gap_median": s["p50"] - planned, "gap_median_pct": _pct(s["p50"] - planned, planned),
                "p_hit": crit.p if crit is not None else float("nan"),
                "p_hit_ci95_low": low, "p_hit_ci95_high": high,
            })
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """The numbers as JSON-serialisable data (``salesim plan --simulate --json``)."""
        table = self.table()
        low, high = self.p_hit_ci95
        metrics = {}
        for rec in table.to_dict("records"):
            metrics[rec["metric"]] = {k: rec[k] for k in TABLE_COLUMNS if k not in ("metric",)}
        return plain({
            "target": {"first_year_revenue_usd": self.target.first_year_revenue_usd,
                       "exit_arr_usd": self.target.exit_arr_usd,
                       "monthly_new_mrr_usd": self.target.monthly_new_mrr_usd},
            "reps": self.reps, "seed": self.seed, "failures": len(self.failures),
            "p_hit": {"estimate": self.p_hit, "ci95_low": low, "ci95_high": high, "hits": self.hit.hits,
                      "n": self.hit.n, "interval": "wilson"},
            "criteria": [{"metric": c.metric, "threshold": c.threshold, "hits": c.hits, "n": c.n, "p": c.p,
                          "ci95_low": c.ci95[0], "ci95_high": c.ci95[1]} for c in self.criteria],
            "metrics": metrics,
            "headcount": self.plan.headcount,
            "cost_per_month_usd": self.plan.cost_per_month_usd,
            "hiring_waves": (self.scenario_data.get("hiring") or {}).get("waves", []),
            "scenario_file": None if self.scenario_file is None else str(self.scenario_file),
            "runs": None if self.runs is None else str(self.runs),
        })

def _pct(gap: float, base: float) -> float:
    return gap / base if base else float("nan")


def pct_text(p: float) -> str:
    return "–" if p != p else f"{100 * p:.0f}%"




# --------------------------------------------------------------------------- simulate


def simulate_plan(
    plan: Plan,
    base_scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
    target: HitTarget | PlanTarget | float | None = None,
    reps: int = 100,
    seed: int | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    horizon_months: int | None = None,
    **run_kwargs: Any,
) -> PlanSimulation:
    """Write the plan as a scenario (with its hiring waves) and run it by Monte Carlo.

    Parameters
    ----------
    plan : Plan
        From :func:`sim.plan`.
    base_scenario : Scenario, mapping or path
        The scenario the plan's sales model came from (its data is the base of the plan's
        scenario: :func:`plan_scenario_data`).
    target : HitTarget, PlanTarget, float or None
        What counts as a hit (a float: a first-year revenue in USD; None: the plan's target).
    reps, seed : int
        Replications and root seed (``None``: :data:`sim.runs.replication.DEFAULT_SEED`).
    out : path, optional
        Folder: ``plan_scenario.yaml`` and the results folder ``runs/`` (resumable).
    horizon_months : int, optional
        Simulated months (default ``max(12, plan horizon)``).
    **run_kwargs
        Passed to :func:`sim.run` (``workers``, ``executor``, ``overwrite``, ``progress``).

    Returns
    -------
    PlanSimulation

    Raises
    ------
    PlanError
        The plan cannot be written into the base scenario, or no replication finished.
    ScenarioError
        The plan's scenario is not valid.
    """
    from sim.runs import monte_carlo, replication
    from sim.scenario import scenario_from_dict
    from sim.scenario.yamlio import yaml_dump

    hit_target = as_hit_target(target, plan)
    seed = replication.DEFAULT_SEED if seed is None else int(seed)
    data = plan_scenario_data(plan, base_scenario, horizon_months)
    scenario = scenario_from_dict(data)
    folder = Path(out) if out is not None else None
    scenario_file = runs = None
    if folder is not None:
        scenario_file = folder / "plan_scenario.yaml"
        text = scenario_header(plan, hit_target) + yaml_dump(data)
        if (scenario_file.exists() and not run_kwargs.get("overwrite", False)
                and scenario_file.read_text(encoding="utf-8") != text):
            raise PlanError(f"{scenario_file} holds another plan; use --overwrite (overwrite=True) to replace "
                                "it and its results, or choose another output folder")
        folder.mkdir(parents=True, exist_ok=True)
        scenario_file.write_text(text, encoding="utf-8")
        runs = folder / "runs"
    result = monte_carlo.run(scenario, reps=reps, seed=seed, out=runs, **run_kwargs)
    return summarize_run(plan, hit_target, data, result, seed, scenario_file=scenario_file, runs=runs)


def scenario_header(plan: Plan, target: HitTarget, what: str = "the plan") -> str:
    """Comment lines on top of a written plan scenario."""
    heads = ", ".join(f"{role} {n}" for role, n in plan.headcount.items() if plan.roles[role].jobs)
    return (f"# written by salesim plan: {what} ({heads}; ${plan.cost_per_month_usd:,.0f} people cost a month)\n"
            f"# target: {target.describe()}; reps on staff at month 0 are in roles.*.headcount, later hires "
            f"in hiring.waves\n")


def summarize_run(plan: Plan, target: HitTarget, data: dict[str, Any], result: RunResult, seed: int, *,
                  scenario_file: Path | None = None, runs: Path | None = None) -> PlanSimulation:
    """A :class:`PlanSimulation` from a finished run of the plan's scenario."""
    if result.kpis.empty:
        first = result.failures[0]["error"] if result.failures else "no replication ran"
        raise PlanError(f"no replication of the plan finished ({first})")
    table = outcomes(result)
    criteria = [HitRate(metric, threshold, int(np.sum(table[metric].to_numpy(float) >= threshold)), len(table))
                for metric, threshold in target.criteria()]
    met = np.ones(len(table), dtype=bool)
    for metric, threshold in target.criteria():
        met &= table[metric].to_numpy(float) >= threshold
    hit = HitRate("all", float("nan"), int(met.sum()), len(table))
    return PlanSimulation(plan=plan, target=target, reps=len(table), seed=seed, scenario_data=data,
                          result=result, outcomes=table, hit=hit, criteria=criteria,
                          scenario_file=scenario_file, runs=runs)


# --------------------------------------------------------------------------- solve


@dataclass(frozen=True)
class Candidate:
    """One evaluated org: headcount per role, its cost, and how often it hits the target."""

    headcount: tuple[tuple[str, int], ...]
    cost_per_month_usd: float
    hits: int
    n: int
    mean_first_year_revenue_usd: float
    evaluation: int
    step: str
    seconds: float = 0.0
    """Wall-clock seconds its simulation took (0 when it was reused)."""

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.headcount)

    @property
    def p_hit(self) -> float:
        return self.hits / self.n if self.n else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson_interval(self.hits, self.n)

    def reaches(self, confidence: float) -> bool:
        """Whether the lower bound of its 95% Wilson interval of P(hit) is at least ``confidence``."""
        return self.ci95[0] >= confidence - 1e-12


@dataclass
class Solution:
    """The cheapest org found whose P(hit) reaches the confidence.

    Attributes
    ----------
    reached : bool
        Whether a candidate whose P(hit) reaches the confidence — the lower bound of its 95%
        Wilson interval at or above it — was found within the budgets.
    confidence : float
    plan : Plan
        The solved plan (the best candidate when not reached): the analytic funnel with the
        solved headcount and the analytic plan's schedule shape.
    best : Candidate
        Its evaluation.
    start : Candidate
        The analytic plan's evaluation.
    history : list of Candidate
        Every evaluation, in order (``step`` says why it was tried).
    evaluations, max_evaluations : int
        Simulations used (each ``reps`` replications with the same ``seed``) and the budget.
    reason : str
        Why the search stopped.
    stop : str
        The same, as a word: ``reached`` (and no single rep can be removed), ``pruning_cut``
        (reached; a budget ran out while removing reps), ``evaluations`` or ``time`` (a budget
        ran out before reaching), ``unreachable`` (no extra rep helps).
    seconds : float
        Wall-clock seconds of the search.
    time_budget_seconds : float, optional
        The time budget, if one was given.
    simulation : PlanSimulation
        The solved plan's simulation (the same common-random-numbers run as in the search).
    scenario_file : Path, optional
        ``solved_scenario.yaml`` when written.
    """

    reached: bool
    confidence: float
    plan: Plan
    best: Candidate
    start: Candidate
    history: list[Candidate]
    evaluations: int
    max_evaluations: int
    reps: int
    seed: int
    reason: str
    simulation: PlanSimulation
    scenario_file: Path | None = None
    stop: str = ""
    seconds: float = 0.0
    time_budget_seconds: float | None = None

    @property
    def headcount(self) -> dict[str, int]:
        return self.best.counts

    @property
    def cost_per_month_usd(self) -> float:
        return self.best.cost_per_month_usd

    @property
    def p_hit(self) -> float:
        return self.best.p_hit

    @property
    def p_hit_ci95(self) -> tuple[float, float]:
        return self.best.ci95

    def table(self) -> pd.DataFrame:
        """Every evaluation: ``evaluation``, ``step``, one column per role, ``cost_per_month_usd``,
        ``p_hit``, ``p_hit_ci95_low``, ``p_hit_ci95_high``, ``mean_first_year_revenue_usd``."""
        rows = []
        for c in self.history:
            low, high = c.ci95
            rows.append({"evaluation": c.evaluation, "step": c.step, **c.counts,
                         "cost_per_month_usd": c.cost_per_month_usd, "p_hit": c.p_hit, "p_hit_ci95_low": low,
                         "p_hit_ci95_high": high, "mean_first_year_revenue_usd": c.mean_first_year_revenue_usd})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.p_hit_ci95
        slow, shigh = self.start.ci95
        return plain({
            "reached": self.reached, "confidence": self.confidence, "reason": self.reason, "stop": self.stop,
            "criterion": "wilson_lower_bound", "seconds": self.seconds,
            "time_budget_seconds": self.time_budget_seconds,
            "headcount": self.headcount, "cost_per_month_usd": self.cost_per_month_usd,
            "p_hit": {"estimate": self.p_hit, "ci95_low": low, "ci95_high": high, "hits": self.best.hits,
                      "n": self.best.n, "interval": "wilson"},
            "start": {"headcount": self.start.counts, "cost_per_month_usd": self.start.cost_per_month_usd,
                      "p_hit": self.start.p_hit, "ci95_low": slow, "ci95_high": shigh},
            "evaluations": self.evaluations, "max_evaluations": self.max_evaluations,
            "reps": self.reps, "seed": self.seed, "common_random_numbers": True,
            "hiring_waves": (self.simulation.scenario_data.get("hiring") or {}).get("waves", []),
            "history": [{"evaluation": c.evaluation, "step": c.step, "headcount": c.counts,
                         "cost_per_month_usd": c.cost_per_month_usd, "p_hit": c.p_hit,
                         "p_hit_ci95_low": c.ci95[0], "p_hit_ci95_high": c.ci95[1], "seconds": c.seconds,
                         "mean_first_year_revenue_usd": c.mean_first_year_revenue_usd} for c in self.history],
            "scenario_file": None if self.scenario_file is None else str(self.scenario_file),
        })

def _key(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple((name, int(n)) for name, n in counts.items())


def solve_plan(
    plan: Plan,
    base_scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
    target: HitTarget | PlanTarget | float | None = None,
    confidence: float = 0.8,
    reps: int = 100,
    seed: int | None = None,
    *,
    max_evaluations: int = 30,
    time_budget_seconds: float | None = None,
    roles: Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    horizon_months: int | None = None,
    initial: PlanSimulation | None = None,
    on_evaluation: Callable[[Candidate], None] | None = None,
    **run_kwargs: Any,
) -> Solution:
    """The cheapest headcount per role whose P(hit target) reaches ``confidence``.

    Every candidate is simulated with the same ``seed`` and ``reps`` (common random numbers:
    replication r of every candidate sees the same leads with the same latent draws), so
    candidates are compared on the same market, not on luck. The hiring schedule keeps the
    analytic plan's shape (:func:`with_headcount`).

    A candidate *reaches* the confidence when the lower bound of the 95% Wilson interval of
    its P(hit) does (:meth:`Candidate.reaches`), not its point estimate: the search tries
    many candidates on the same replications, and keeping the first whose estimate crosses
    the line would favour the lucky ones. With 100 replications, 88 hits are needed for 80%.

    Search (each simulated candidate counts as one evaluation; repeats are cached):

    1. evaluate the analytic plan;
    2. *greedy*: while the confidence is not reached, try one more rep in each role and keep
       the one with the largest gain in P(hit) per dollar of monthly cost — or, when P(hit)
       does not move for any role, the largest gain in mean first-year revenue per dollar;
       stop as unreachable when no extra rep raises either;
    3. *prune*: try one rep fewer in each role, the most expensive role first, and keep the
       removal while the confidence stays reached; repeat until no removal is kept.

    It stops when ``max_evaluations`` is used up, or before an evaluation that would end
    after ``time_budget_seconds`` (estimated from the slowest evaluation so far); the
    solution says why it stopped (``stop``, ``reason``) and whether the confidence was
    reached.

    Parameters
    ----------
    plan, base_scenario, target, reps, seed, out, horizon_months, run_kwargs
        As for :func:`simulate_plan` (``out``: candidates' results go to ``out/solve/<headcount>``
        and the solution to ``out/solved_scenario.yaml``).
    confidence : float
        Required P(hit), strictly between 0 and 1.
    max_evaluations : int
        Most candidates to simulate (including the analytic plan).
    time_budget_seconds : float, optional
        Wall-clock budget of the search: no evaluation starts that would, by the slowest one
        so far, end after it (the first always runs).
    roles : sequence of str, optional
        Roles whose headcount may change (default: every role with work in the plan).
    initial : PlanSimulation, optional
        An existing simulation of ``plan`` with the same target, reps and seed (saves one
        evaluation; e.g. from ``--simulate``).
    on_evaluation : callable, optional
        Called with each new :class:`Candidate` (progress reports).

    Returns
    -------
    Solution
    """
    from sim.runs import executors, replication

    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise PlanError(f"the confidence must be a probability strictly between 0 and 1, e.g. 0.8 (got {confidence!r})")
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int) or max_evaluations < 1:
        raise PlanError(f"max_evaluations must be a whole number ≥ 1 (got {max_evaluations!r})")
    if time_budget_seconds is not None and (isinstance(time_budget_seconds, bool)
                                            or not isinstance(time_budget_seconds, int | float)
                                            or not time_budget_seconds > 0):
        raise PlanError(f"the time budget must be a positive number of seconds (got {time_budget_seconds!r})")
    hit_target = as_hit_target(target, plan)
    seed = replication.DEFAULT_SEED if seed is None else int(seed)
    adjustable = [name for name, r in plan.roles.items() if r.jobs and r.headcount_exact > 0]
    if roles is not None:
        unknown = [r for r in roles if r not in adjustable]
        if unknown:
            raise PlanError(f"cannot solve for role(s) {', '.join(map(repr, unknown))}: the plan gives work to "
                            f"{', '.join(adjustable) or 'no role'}")
        adjustable = list(roles)
    if not adjustable:
        raise PlanError("the plan has no role with work to staff")
    folder = Path(out) if out is not None else None
    pool = None
    if run_kwargs.get("executor") is None:
        workers = run_kwargs.get("workers") or executors.default_workers()
        if workers > 1:  # one process pool for every candidate (a pool per run costs a second to start)
            pool = executors.process_pool(workers)
            run_kwargs = {**run_kwargs, "executor": pool}
    try:
        return _search(plan, base_scenario, hit_target, float(confidence), reps, seed, max_evaluations,
                       time_budget_seconds, adjustable, folder, horizon_months, initial, on_evaluation, run_kwargs)
    except BaseException:
        if pool is not None:
            executors.stop_now(pool)  # cancel queued chunks and stop running ones at once
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _search(plan: Plan, base_scenario: Any, hit_target: HitTarget, confidence: float, reps: int, seed: int,
            max_evaluations: int, time_budget: float | None, adjustable: list[str], folder: Path | None,
            horizon_months: int | None, initial: PlanSimulation | None,
            on_evaluation: Callable[[Candidate], None] | None, run_kwargs: dict[str, Any]) -> Solution:
    """The greedy-then-prune search of :func:`solve_plan` (arguments already checked)."""
    import time

    from sim.scenario.yamlio import yaml_dump

    started = time.monotonic()
    unit_cost = {name: float(plan.roles[name].monthly_cost_usd) for name in adjustable}
    cache: dict[tuple[tuple[str, int], ...], tuple[Candidate, PlanSimulation]] = {}
    history: list[Candidate] = []

    def evaluate(counts: dict[str, int], step: str) -> Candidate:
        key = _key(counts)
        if key in cache:
            return cache[key][0]
        candidate_plan = with_headcount(plan, counts)
        took = 0.0
        if (not history and initial is not None and _key(initial.plan.headcount) == key
                and initial.seed == seed and initial.target == hit_target
                and initial.reps + len(initial.failures) == reps):
            simulation = initial
        else:
            sub = None
            if folder is not None:
                sub = folder / "solve" / "-".join(f"{name}{n}" for name, n in key if name in adjustable)
            t0 = time.monotonic()
            simulation = simulate_plan(candidate_plan, base_scenario, hit_target, reps, seed, out=sub,
                                       horizon_months=horizon_months, **run_kwargs)
            took = time.monotonic() - t0
        candidate = Candidate(
            headcount=key, cost_per_month_usd=float(candidate_plan.cost_per_month_usd), hits=simulation.hit.hits,
            n=simulation.hit.n, mean_first_year_revenue_usd=float(simulation.outcomes[FIRST_YEAR].mean()),
            evaluation=len(history) + 1, step=step, seconds=took if simulation is not initial else 0.0)
        cache[key] = (candidate, simulation)
        history.append(candidate)
        if on_evaluation is not None:
            on_evaluation(candidate)
        return candidate

    out_of: list[str] = []  # which budget stopped an evaluation: "evaluations" or "time"

    def budget_left() -> int:
        """Evaluations that may still start: 0 when either budget is spent."""
        if len(history) >= max_evaluations:
            out_of[:] = ["evaluations"]
            return 0
        if time_budget is not None and history:
            slowest = max(c.seconds for c in history)
            if time.monotonic() - started + slowest > time_budget:
                out_of[:] = ["time"]
                return 0
        return max_evaluations - len(history)

    def ran_out() -> str:
        if out_of and out_of[0] == "time":
            assert time_budget is not None
            return f"the time budget of {_minutes(time_budget)} ran out after {len(history)} evaluations"
        return f"the budget of {max_evaluations} evaluations ran out"

    def ok(c: Candidate) -> bool:
        return c.reaches(confidence)

    current = evaluate(dict(plan.headcount), "analytic plan")
    start = current
    reason = stop = ""
    # greedy: add the rep that buys the most P(hit) (or revenue) per dollar
    while not ok(current):
        counts = current.counts
        moves = []
        for name in adjustable:
            trial = dict(counts)
            trial[name] += 1
            if _key(trial) not in cache and budget_left() <= 0:
                continue
            c = evaluate(trial, f"+1 {name}")
            per_dollar = max(unit_cost[name], 1.0)
            moves.append(((c.p_hit - current.p_hit) / per_dollar,
                          (c.mean_first_year_revenue_usd - current.mean_first_year_revenue_usd) / per_dollar,
                          -c.cost_per_month_usd, c))
        if not moves:
            reason = f"{ran_out()} before P(hit) reached {pct_text(confidence)}"
            stop = out_of[0] if out_of else "evaluations"
            break
        best = max(moves, key=lambda m: m[:3])
        if best[0] <= 0 and best[1] <= 0 and len(moves) < len(adjustable):
            reason = f"{ran_out()} before P(hit) reached {pct_text(confidence)}"
            stop = out_of[0] if out_of else "evaluations"
            break
        if best[0] <= 0 and best[1] <= 0:
            reason = ("one more rep in any role raises neither P(hit) nor the mean first-year revenue: the target "
                      "is out of reach by headcount (the funnel is limited elsewhere, e.g. the MQL volume, "
                      "conversion rates or the sales cycle)")
            stop = "unreachable"
            break
        current = best[3]
    reached = ok(current)
    if reached:
        # prune: drop reps, most expensive role first, while P(hit) stays ≥ confidence
        order = sorted(adjustable, key=lambda name: (-unit_cost[name], adjustable.index(name)))
        improved, cut_short = True, False
        while improved and not cut_short:
            improved = False
            for name in order:
                counts = current.counts
                if counts[name] <= 1:
                    continue
                trial = dict(counts)
                trial[name] -= 1
                if _key(trial) not in cache and budget_left() <= 0:
                    cut_short = True
                    break
                c = evaluate(trial, f"-1 {name}")
                if ok(c) and c.cost_per_month_usd <= current.cost_per_month_usd:
                    current = c
                    improved = True
        low = pct_text(current.ci95[0])
        reason = (f"P(hit) {pct_text(current.p_hit)}, at least {low} (95% lower bound) ≥ {pct_text(confidence)}: "
                  "no single rep can be removed without falling below it" if not cut_short else
                  f"P(hit) {pct_text(current.p_hit)}, at least {low} (95% lower bound) ≥ {pct_text(confidence)}; "
                  f"{ran_out()} while removing reps, so a cheaper headcount may exist")
        stop = "pruning_cut" if cut_short else "reached"
    elif not reason:
        reason = f"{ran_out()} before P(hit) reached {pct_text(confidence)}"
        stop = out_of[0] if out_of else "evaluations"
    best = current
    if not reached:
        # report the most likely candidate (then the cheapest)
        best = max(history, key=lambda c: (c.p_hit, c.mean_first_year_revenue_usd, -c.cost_per_month_usd))
        if best.p_hit >= confidence - 1e-12:
            reason += (f"; the best org found has P(hit) {pct_text(best.p_hit)}, but its 95% lower bound "
                       f"{pct_text(best.ci95[0])} is below {pct_text(confidence)}: more replications (--reps) or "
                       "one more rep would settle it")
    simulation = cache[best.headcount][1]
    scenario_file = None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        scenario_file = folder / "solved_scenario.yaml"
        what = (f"the solved plan, P(hit) {pct_text(best.p_hit)}, 95% lower bound {pct_text(best.ci95[0])} ≥ "
                f"{pct_text(confidence)}" if reached
                else f"the best plan found, P(hit) {pct_text(best.p_hit)}: {pct_text(confidence)} NOT reached")
        scenario_file.write_text(scenario_header(simulation.plan, hit_target, what)
                                 + yaml_dump(simulation.scenario_data), encoding="utf-8")
    return Solution(reached=reached, confidence=float(confidence), plan=simulation.plan, best=best, start=start,
                    history=history, evaluations=len(history), max_evaluations=max_evaluations, reps=simulation.reps,
                    seed=seed, reason=reason, simulation=simulation, scenario_file=scenario_file, stop=stop,
                    seconds=time.monotonic() - started, time_budget_seconds=time_budget)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} minute{'s' if seconds != 60 else ''}"


__all__ = [
    "Candidate", "HitRate", "HitTarget", "PlanSimulation", "Solution", "as_hit_target", "outcomes",
    "plan_scenario_data", "simulate_plan", "solve_plan", "wilson_interval", "with_headcount",
]
