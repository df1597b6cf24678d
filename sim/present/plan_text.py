"""Plans as text: the analytic plan, the plan set against the simulation, and a solved headcount.

This module owns how :class:`~sim.planner.headcount.Plan`,
:class:`~sim.planner.simulation.PlanSimulation` and :class:`~sim.planner.simulation.Solution`
read in a terminal; the planner computes, this module only formats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sim.planner.simulation import METRIC_LABELS, pct_text
from sim.present.text import format_value, text_table

if TYPE_CHECKING:  # pragma: no cover
    from sim.planner.headcount import Plan
    from sim.planner.simulation import PlanSimulation, Solution

_pc = pct_text


def plan_text(p: Plan) -> str:
    """The plan as readable text: revenue, funnel, roles, hiring plan, warnings."""

    t = p.target
    lines = [
        f"sales model: {p.model.name!r}; churn {100 * t.monthly_churn:.1f}%/month, invoice lag "
        f"{t.invoice_lag_months} month{'s' if t.invoice_lag_months != 1 else ''}, horizon {t.horizon_months} months",
        f"new MRR ${format_value('x_usd', p.monthly_new_mrr_usd)} a month × {p.first_year_factor:.2f} = "
        f"${format_value('x_usd', p.first_year_revenue_usd)} first-year revenue; month-12 MRR "
        f"${format_value('x_usd', p.year_end_mrr_usd)}, exit ARR ${format_value('x_usd', p.exit_arr_usd)}",
        "",
        "funnel (per month)",
    ]
    table = p.table()
    funnel = table[table["kind"] == "funnel"]
    rows = []
    for rec in funnel.to_dict("records"):
        metric = "x_usd" if rec["stage"].endswith("(USD)") else "count"
        rate = "" if rec["rate"] != rec["rate"] else f"{100 * rec['rate']:.1f}%"
        rows.append([rec["stage"], format_value(metric, rec["per_month"]), rate, rec["note"]])
    lines.append(_indent(text_table(rows, ["stage", "per month", "→ next", "note"])))
    lines += ["", "headcount"]
    rows = []
    for r in p.roles.values():
        if not r.jobs:
            rows.append([r.name, "–", "–", "–", "no job in the sales model: not planned"])
            continue
        rows.append([r.name, f"{r.headcount_exact:.2f}", str(r.headcount),
                     format_value("cost_usd", r.cost_per_month_usd),
                     table.loc[table["stage"] == r.name, "note"].iloc[0]])
    rows.append(["total", f"{sum(r.headcount_exact for r in p.roles.values()):.2f}",
                 str(sum(p.headcount.values())), format_value("cost_usd", p.cost_per_month_usd), "people cost a month"])
    lines.append(_indent(text_table(rows, ["role", "exact", "reps", "cost/month", "how"])))
    if p.marketing_cost_per_month_usd > 0:
        lines.append(f"  marketing: ${format_value('x_usd', p.marketing_cost_per_month_usd)} a month "
                     f"({format_value('count', p.mqls_per_month or 0.0)} MQLs)")
    lines += ["", "hiring plan (months are 1-based; ≤ 0 means before month 1)"]
    rows = []
    for r in p.roles.values():
        if not r.reps:
            continue
        first = min(rep.start_month for rep in r.reps)
        rows.append([r.name, str(r.on_staff), str(first),
                     f"ramp {r.ramp_to_full_months} + lead {r.lead_months} months; fill {r.time_to_fill_months}"])
    lines.append(_indent(text_table(rows, ["role", "on staff at month 0", "earliest start", "rule"])))
    hires = p.hires
    if hires:
        rows = [[rep.role, str(rep.number), _month(rep.requisition_month), _month(rep.start_month),
                 str(rep.need_month)] for rep in hires]
        lines += ["", _indent(text_table(rows, ["hire", "rep", "open requisition", "start", "needed from"]))]
    else:
        lines.append("  no hires after month 0: every planned rep must already be on staff")
    for warning in p.warnings:
        lines.append(f"\nwarning: {warning}")
    return "\n".join(lines)


def _month(m: int) -> str:
    return f"month {m}" if m >= 1 else f"before month 1 ({m})"


def simulation_text(simulation: PlanSimulation) -> str:
    """A readable report: P(hit), plan against simulation, and what the gap means."""

    low, high = simulation.p_hit_ci95
    where = f" → {simulation.runs}" if simulation.runs is not None else ""
    lines = [
        f"simulation of the plan: {simulation.reps} replications, seed {simulation.seed}{where}",
        f"  P(hit target) = {_pc(simulation.p_hit)} (95% CI {_pc(low)}–{_pc(high)}, Wilson): "
        f"{simulation.hit.hits} of {simulation.hit.n} replications reach {simulation.target.describe()}",
    ]
    if len(simulation.criteria) > 1:
        for c in simulation.criteria:
            lo, hi = c.ci95
            lines.append(f"    {METRIC_LABELS[c.metric]} ≥ ${c.threshold:,.0f}: {_pc(c.p)} "
                         f"({_pc(lo)}–{_pc(hi)})")
    rows = []
    for rec in simulation.table().to_dict("records"):
        money = rec["kind"] == "revenue"
        fmt = (lambda v: format_value("x_usd", v)) if money else (lambda v: format_value("count", v))
        rows.append([
            rec["label"], fmt(rec["plan"]), fmt(rec["mean"]), f"{fmt(rec['ci95_low'])} … {fmt(rec['ci95_high'])}",
            fmt(rec["p10"]), fmt(rec["p50"]), fmt(rec["p90"]),
            f"{_signed(fmt, rec['gap_mean'])} ({_signed_pct(rec['gap_mean_pct'])})",
            f"{_signed(fmt, rec['gap_median'])} ({_signed_pct(rec['gap_median_pct'])})",
        ])
    lines += ["", _indent(text_table(rows, ["", "plan (spreadsheet)", "simulated mean", "95% CI of mean",
                                            "P10", "P50", "P90", "gap of mean", "gap of median"]))]
    lines.append("  (revenue in USD; funnel per month over months 1–12; gap = simulated − plan; SQLs are "
                 "created SQLs, before hand-off losses)")
    if simulation.scenario_file is not None:
        lines.append(f"  plan scenario: {simulation.scenario_file}")
    if simulation.failures:
        lines.append(f"  warning: {len(simulation.failures)} replication(s) failed and are left out")
    return "\n".join(lines)



def solution_text(solution: Solution) -> str:
    """The ``--solve`` report: the verdict on the 95% lower bound, why the search stopped, and the
    analytic plan beside the org found."""
    from sim.runs.monte_carlo import duration_text

    low, high = solution.p_hit_ci95
    roles = [name for name, _ in solution.best.headcount]
    verdict = (f"P(hit) ≥ {_pc(solution.confidence)} reached" if solution.reached
               else f"P(hit) ≥ {_pc(solution.confidence)} NOT reached")
    budget = ("" if solution.time_budget_seconds is None
              else f", time budget {duration_text(solution.time_budget_seconds)}")
    lines = [
        f"solve (cheapest headcount with P(hit) ≥ {_pc(solution.confidence)}): {verdict} after "
        f"{solution.evaluations} of {solution.max_evaluations} evaluations in {duration_text(solution.seconds)}"
        f"{budget} ({solution.reps} replications each, seed {solution.seed}, common random numbers)",
        f"  {solution.reason}",
        f"  (a candidate counts only when the lower bound of its 95% interval reaches {_pc(solution.confidence)}: "
        "picking the best of many noisy candidates by their point estimate favours lucky ones)",
        "",
    ]
    rows = [["analytic plan", *(str(solution.start.counts[r]) for r in roles),
             f"{solution.start.cost_per_month_usd:,.0f}", _pc(solution.start.p_hit),
             f"{_pc(solution.start.ci95[0])}–{_pc(solution.start.ci95[1])}"],
            ["solved" if solution.reached else "best found", *(str(solution.best.counts[r]) for r in roles),
             f"{solution.cost_per_month_usd:,.0f}", _pc(solution.p_hit), f"{_pc(low)}–{_pc(high)}"]]
    lines.append(_indent(text_table(rows, ["", *roles, "people cost/month", "P(hit)", "95% CI"])))
    if solution.scenario_file is not None:
        lines.append(f"\n  solved scenario: {solution.scenario_file}")
    return "\n".join(lines)


def _signed(fmt: Callable[[float], str], value: float) -> str:
    text = fmt(value)
    return text if text.startswith("-") or text == "–" else "+" + text


def _signed_pct(value: float) -> str:
    return "–" if value != value else f"{100 * value:+.1f}%"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


