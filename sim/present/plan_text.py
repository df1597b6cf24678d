"""Plans as text: the analytic plan, the plan set against the simulation, and a solved headcount.

This module owns how :class:`~sim.planner.headcount.Plan`,
:class:`~sim.planner.simulation.PlanSimulation` and :class:`~sim.planner.simulation.Solution`
read in a terminal; the planner computes, this module only formats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.planner.simulation import METRIC_LABELS, pct_text
from sim.present.text import format_value, text_table, wrap

if TYPE_CHECKING:  # pragma: no cover
    from sim.planner.gap import GapBreakdown
    from sim.planner.headcount import Plan
    from sim.planner.simulation import PlanSimulation, Solution

_pc = pct_text


def plan_text(p: Plan, lag_aware_plan: Plan | None = None) -> str:
    """The plan as readable text: the target, what to read first (the pipeline lag), revenue,
    funnel with its SQL reconciliation, each stage per rep, roles (with the lag-aware headcount
    when given), the plan against the scenario's org, the hiring plan and warnings."""

    t = p.target
    lag = lag_aware_plan
    lines = [
        f"sales model: {p.model.name!r}; churn {100 * t.monthly_churn:.1f}%/month, invoice lag "
        f"{t.invoice_lag_months} month{'s' if t.invoice_lag_months != 1 else ''}, horizon {t.horizon_months} months",
        _target_line(p),
        f"new MRR ${format_value('x_usd', p.monthly_new_mrr_usd)} a month × {p.first_year_factor:.2f} = "
        f"${format_value('x_usd', p.first_year_revenue_usd)} first-year revenue; month-12 MRR "
        f"${format_value('x_usd', p.year_end_mrr_usd)}, exit ARR ${format_value('x_usd', p.exit_arr_usd)}"
        + (f" (+ ${format_value('x_usd', p.starting_arr_kept_usd)} left of today's ARR)" if t.starting_arr_usd else ""),
    ]
    note = _lag_note(p, lag)
    if note:
        lines += ["", wrap(note)]
    lines += ["", "funnel (per month)"]
    table = p.table()
    funnel = table[table["kind"] == "funnel"]
    rows = []
    for rec in funnel.to_dict("records"):
        metric = "x_usd" if rec["stage"].endswith("(USD)") else "count"
        rate = "" if rec["rate"] != rec["rate"] else f"{100 * rec['rate']:.1f}%"
        rows.append([rec["stage"], format_value(metric, rec["per_month"]), rate, rec["note"]])
    lines.append(_indent(text_table(rows, ["stage", "per month", "→ next", "note"], left=(3,))))
    lines.append(_indent(wrap(_sql_reconciliation(p), width=98, indent="  ")))
    lines += ["", "per rep a month (at the planned headcount: vacancy and ramp included)"]
    lines.append(_indent(_per_rep_table(p)))
    lines += ["", "headcount"]
    rows = []
    for r in p.roles.values():
        extra = [str(lag.roles[r.name].headcount) if lag is not None and r.name in lag.roles else "–"] \
            if lag is not None else []
        if not r.jobs:
            rows.append([r.name, "–", "–", "–", *extra, "no job in the sales model: not planned"])
            continue
        rows.append([r.name, f"{r.headcount_exact:.2f}", str(r.headcount),
                     format_value("cost_usd", r.cost_per_month_usd), *extra,
                     table.loc[table["stage"] == r.name, "note"].iloc[0]])
    extra = [str(sum(lag.headcount.values()))] if lag is not None else []
    rows.append(["total", f"{sum(r.headcount_exact for r in p.roles.values()):.2f}",
                 str(sum(p.headcount.values())), format_value("cost_usd", p.cost_per_month_usd), *extra,
                 "people cost a month" + (f"; lag-aware ${format_value('x_usd', lag.cost_per_month_usd)}"
                                          if lag is not None else "")])
    header = ["role", "exact", "reps", "cost/month", *(["lag-aware reps"] if lag is not None else []), "how"]
    lines.append(_indent(text_table(rows, header, left=(len(header) - 1,))))
    if p.marketing_cost_per_month_usd > 0:
        lines.append(f"  marketing: ${format_value('x_usd', p.marketing_cost_per_month_usd)} a month "
                     f"({format_value('count', p.mqls_per_month or 0.0)} MQLs)")
    changes = _org_changes_text(p, lag)
    if changes:
        lines += ["", "against the scenario's org (reps on staff at month 0)", _indent(changes)]
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


def _usd(value: float) -> str:
    return f"${format_value('x_usd', value)}"


def _target_line(p: Plan) -> str:
    """What the plan was asked for, and for a growth target the arithmetic from it to new MRR."""
    t = p.target
    if t.headcount is not None:
        limits = p.headcount_limits or {}
        given = ", ".join(f"{role} {n}" for role, n in t.headcount)
        each = "; ".join(f"{role}: {_usd(limits[role])}" for role, _ in t.headcount if role in limits)
        return (f"target: the most new MRR the reps you have can handle ({given}) — new MRR a month each role "
                f"allows: {each}; {p.binding_role} is the limit")
    if t.exit_arr_usd is not None:
        c = t.monthly_churn
        if not t.starting_arr_usd:
            return f"target: exit ARR {_usd(t.exit_arr_usd)} at month 12 (12 × MRR), from new business"
        kept = p.starting_arr_kept_usd
        divisor = "144" if c == 0 and not t.cycle_lag_months else f"{p.exit_arr_usd / p.monthly_new_mrr_usd:.2f}"
        return (f"target: exit ARR {_usd(t.exit_arr_usd)} from {_usd(t.starting_arr_usd)} today; after 12 months of "
                f"{100 * c:.1f}% churn today's customers keep {_usd(kept)}, so new business must add "
                f"{_usd(t.exit_arr_usd - kept)} of ARR by month 12: ÷ {divisor} (12 × the MRR a month's bookings "
                f"leave at month 12) = {_usd(p.monthly_new_mrr_usd)} new MRR a month")
    if t.monthly_new_mrr_usd is not None:
        return f"target: {_usd(t.monthly_new_mrr_usd)} new MRR a month"
    rule = "the book's 78 rule" if p.first_year_factor == 78 else f"factor {p.first_year_factor:.2f}"
    return f"target: {_usd(float(t.annual_new_revenue_usd or 0))} first-year revenue ({rule})"


def _lag_note(p: Plan, lag: Plan | None) -> str:
    """What to read first: the revenue an empty pipeline books in year one, and the lag-aware plan."""
    months = p.pipeline_lag_months
    if months < 0.05 or p.target.cycle_lag_months:
        return ""
    booked = p.booked_first_year_revenue_usd
    text = (f"READ FIRST: the {p.first_year_factor:.0f} factor above books the full new MRR from month 1. In this "
            f"sales model a lead takes {months:.1f} months from arrival to a won deal (working it, the hand-off, the "
            f"meetings), so a team that starts with an empty pipeline books its first deals about {months:.1f} "
            f"months late: at {_usd(p.monthly_new_mrr_usd)} a month it books about {_usd(booked)} in the first year "
            f"(factor {p.booked_first_year_factor:.1f}, {100 * (booked / p.first_year_revenue_usd - 1):+.0f}%)"
            + ("." if p.target.headcount is not None else
               ", and a simulation of this plan will mostly fall short of the target."))
    if lag is not None and lag is not p:
        extra = lag.cost_per_month_usd - p.cost_per_month_usd
        moves = ", ".join(f"{role} {n} → {lag.headcount[role]}" for role, n in p.headcount.items()
                          if lag.headcount.get(role, n) != n)
        cost = (f"; {_usd(lag.cost_per_month_usd)} people cost a month, {'+' if extra >= 0 else '-'}{_usd(abs(extra))}"
                if lag.cost_per_month_usd or p.cost_per_month_usd else "")
        text += (f" The lag-aware plan is sized for the revenue actually booked: {_usd(lag.monthly_new_mrr_usd)} new "
                 f"MRR a month ({moves or 'the same headcount'}{cost}); see the 'lag-aware reps' column, and "
                 "--lag-aware to simulate or write it.")
    return text


def _sql_reconciliation(p: Plan) -> str:
    """SQL counts in one place: created, lost in hand-off, reaching a closer, won."""
    m = p.model
    parts = []
    if p.mqls_per_month and m.inbound is not None:
        parts.append(f"{format_value('count', p.mqls_per_month)} MQLs × {100 * m.inbound.sql_rate:.1f}%")
    if p.prospects_per_month and m.outbound is not None:
        parts.append(f"{format_value('count', p.prospects_per_month)} prospects × {100 * m.outbound.sql_rate:.1f}%")
    how = f" ({' + '.join(parts)})" if parts and not p.target.mqls_per_month else ""
    return (f"SQLs a month, reconciled: {p.created_sqls_per_month:,.1f} created by the development reps{how} − "
            f"{p.handoff_lost_sqls_per_month:,.1f} lost in hand-off = {p.sqls_per_month:,.1f} reaching a closer "
            f"(each an opportunity) × {100 * p.win_rate:.1f}% win rate = {p.deals_per_month:,.1f} deals. The "
            "simulator's `sqls` (and the SQLs row of --simulate) count created SQLs.")


def _per_rep_table(p: Plan) -> str:
    per = p.per_rep()

    def num(value: float, money: bool = False) -> str:
        if value != value:
            return "–"
        return _usd(value) if money else (f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}")

    rows = []
    for rec in per.to_dict("records"):
        worked = " + ".join(f"{num(rec[k])} {label}" for k, label in (("mqls", "MQLs"), ("prospects", "prospects"))
                            if rec[k] == rec[k]) or "–"
        rows.append([rec["role"], str(rec["reps"]), worked, num(rec["sqls_created"]), num(rec["sqls"]),
                     num(rec["deals"]), num(rec["new_mrr_usd"], money=True), num(rec["open_opportunities"]),
                     num(rec["accounts"])])
    return text_table(rows, ["role", "reps", "leads worked", "SQLs created", "opportunities", "deals", "new MRR",
                             "open opps", "accounts"], align_right_from=1)


def _org_changes_text(p: Plan, lag: Plan | None) -> str:
    changes = p.org_changes()
    if changes["on_staff"].isna().all():
        return ""
    lag_changes = lag.org_changes().set_index("role") if lag is not None else None
    rows = []
    for rec in changes.to_dict("records"):
        if rec["needed"] is None or rec["needed"] != rec["needed"]:
            rows.append([rec["role"], _count(rec["on_staff"]), "–", rec["action"], *(["–"] if lag is not None else [])])
            continue
        action = rec["action"]
        if rec["change"] is not None and rec["change"] == rec["change"] and rec["change"] > 0:
            req = rec["first_requisition_month"]
            when = "now (before month 1)" if req <= 0 else f"in month {int(req)}"
            action += f": open the first requisition {when}, needed from month {int(rec['first_need_month'])}"
        extra = []
        if lag_changes is not None:
            other = lag_changes.loc[rec["role"]]
            extra = [f"{_count(other['needed'])} ({other['action']})"]
        rows.append([rec["role"], _count(rec["on_staff"]), _count(rec["needed"]), action, *extra])
    header = ["role", "on staff", "plan needs", "so", *(["lag-aware plan needs"] if lag is not None else [])]
    return text_table(rows, header, left=(3, 4))


def _count(value: Any) -> str:
    return "–" if value is None or value != value else str(int(value))


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
                 "created SQLs, before hand-off losses, as in the plan's reconciliation)")
    if simulation.scenario_file is not None:
        lines.append(f"  plan scenario: {simulation.scenario_file}")
    if simulation.failures:
        lines.append(f"  warning: {len(simulation.failures)} replication(s) failed and are left out")
    return "\n".join(lines)



def gap_text(gap: GapBreakdown) -> str:
    """The waterfall from the spreadsheet's first-year revenue to the simulated mean, cause by cause."""
    rows = []
    for rec in gap.table().to_dict("records"):
        level = rec["step"] in ("plan", "simulated")
        amount = format_value("x_usd", rec["usd"]) if level else _signed(lambda v: format_value("x_usd", v), rec["usd"])
        ci = ("" if rec["ci95_low"] != rec["ci95_low"] else
              f"{_signed(lambda v: format_value('x_usd', v), rec['ci95_low'])} … "
              f"{_signed(lambda v: format_value('x_usd', v), rec['ci95_high'])}")
        label = rec["label"] if level else f"  {rec['label']}"
        rows.append([label, amount, ci, rec["how"], rec["in_plan"]])
    lines = [
        wrap(f"why the simulation falls short of the plan: first-year revenue, USD, replications 0–{gap.reps - 1} "
             f"(seed {gap.seed}); each cause switched off on its own under common random numbers, its cost = "
             "full simulation − simulation without it", indent="  "),
        _indent(text_table(rows, ["", "USD", "95% CI", "switched off as", "in the plan?"], left=(3, 4))),
    ]
    if gap.skipped:
        lines.append("  not measured: " + "; ".join(f"{name} ({why})" for name, why in gap.skipped.items()))
    unplanned = [c.label for c in gap.causes if c.in_plan.startswith("not")]
    if unplanned:
        lines.append(wrap(f"  The causes the plan leaves out ({', '.join(unplanned)}) cost "
                          f"{_signed(lambda v: format_value('x_usd', v), gap.unplanned_usd)} together, against a gap "
                          f"of {_signed(lambda v: format_value('x_usd', v), gap.gap_usd)}.", indent="  "))
    lines.append(wrap("  (one at a time the costs do not add up to the gap: causes overlap, and the plan already "
                      "budgets for some of them; 'other' is the rest)", indent="   "))
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


def quota_plan_text(quota: dict) -> str:
    """The traditional quota plan beside the pipeline plan (:meth:`sim.planner.headcount.Plan.quota_headcount`)."""
    q = quota["quota"]
    closers = quota["pipeline_headcount"]
    per_rep = quota["new_arr_per_pipeline_rep_usd"]
    sized = ", ".join(f"{n} {role}" for role, n in closers.items()) or "no closer"
    lines = [
        "quota plan beside it (the traditional plan: quota × expected attainment):",
        f"  ${q['target_new_arr_usd']:,.0f} of new ARR a year in ${q['quota_usd']:,.0f} quotas, "
        f"{100 * q['over_assignment']:.0f}% over-assigned: ${q['total_quota_usd']:,.0f} of quota = "
        f"{q['reps']} closers ({q['reps_at_full_attainment']} if every one made 100%; expected attainment "
        f"{100 * q['expected_attainment']:.0f}%)",
        f"  the pipeline plan sizes {sized}: ${per_rep:,.0f} of new ARR per closer a year",
    ]
    if per_rep == per_rep and q["quota_usd"] > 0:
        ratio = per_rep / q["quota_usd"]
        if ratio > 1.2:
            lines.append(f"  that is {ratio:.1f} × the quota: the pipeline plan's closers carry more than a quota plan "
                         "would ask; check their capacity (max_open_opportunities) and win rates")
        elif ratio < 0.8:
            lines.append(f"  that is {ratio:.1f} × the quota: the quota plan would ask more of a closer than the "
                         "pipeline gives one; the quota may be out of reach")
    import textwrap

    return "\n".join(textwrap.fill(line, width=100, subsequent_indent="    ") for line in lines)
