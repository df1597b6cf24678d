"""``salesim plan``: a revenue target worked back to a funnel, a headcount and a hiring plan.

This module owns the ``plan`` subcommand: its arguments, what it prints and its exit codes
(those of :mod:`sim.cli`: 0 ok, 2 bad input). The arithmetic lives in :mod:`sim.planning`; this
is a thin front end over it. The sales model comes from a scenario file::

    salesim plan --scenario scenarios/silo.yaml --annual-revenue 1560000
    salesim plan --scenario scenarios/silo.yaml --monthly-new-mrr 20000 --churn 0.03 --json
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 3e6 --write-scenario planned.yaml

Extension points: :func:`add_parser` returns the subparser (add ``--simulate`` / ``--solve``
there) and :func:`cmd_plan` runs :data:`AFTER_PLAN` hooks once the plan is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from sim.planning import Plan
    from sim.scenario import Scenario


@dataclass
class PlanContext:
    """What a ``plan`` run produced, for hooks: the scenario, its merged data, the plan."""

    scenario: Scenario
    base_data: dict[str, Any]
    plan: Plan


AFTER_PLAN: list[Callable[[argparse.Namespace, PlanContext], int | None]] = []
"""Hooks run after the plan is printed (e.g. ``--simulate``, ``--solve``); a non-None return
value is the command's exit code."""


def _usd(text: str) -> float:
    try:
        value = float(text.replace(",", "").replace("_", "").lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in dollars, got {text!r}") from None
    return value


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``plan`` to ``subparsers`` (of the ``salesim`` parser) and return its parser."""
    p = subparsers.add_parser(
        "plan",
        help="work a revenue target back to a funnel, a headcount and a dated hiring plan (analytic)",
        description="The book's sales model: revenue target → new MRR (78 rule) → deals → SQLs → MQLs and "
                    "prospects → reps per role → when to hire them. Deterministic; no simulation.",
    )
    p.add_argument("--scenario", required=True, metavar="FILE", help="scenario YAML file: the sales model")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--annual-revenue", type=_usd, metavar="USD",
                      help="first-year revenue from new business, e.g. 1560000")
    goal.add_argument("--monthly-new-mrr", type=_usd, metavar="USD", help="new MRR to book each month, e.g. 20000")
    p.add_argument("--churn", type=_number, default=0.0, metavar="RATE",
                   help="monthly MRR churn as a fraction, e.g. 0.03 (default 0)")
    p.add_argument("--invoice-lag", type=_whole, default=0, metavar="MONTHS",
                   help="months from signing to the first invoice (default 0; 1 turns the 78 rule into 66)")
    p.add_argument("--mqls-per-month", type=_number, metavar="N",
                   help="fixed inbound MQL volume; the plan reports the MQL→SQL rate the target then needs")
    p.add_argument("--inbound-share", type=_number, metavar="SHARE",
                   help="share of SQLs from inbound, 0–1 (default: derived from the scenario's volumes)")
    p.add_argument("--horizon", type=_whole, default=12, metavar="MONTHS",
                   help="months the plan covers: customer accounts and hiring (default 12)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a scenario field, e.g. --set roles.ae.max_open_opportunities=25 (repeatable)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--write-scenario", type=Path, metavar="OUT.yaml",
                   help="write the scenario with the planned headcount (every rep on staff from month 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --write-scenario file")
    # Extension point: the lead adds --simulate / --solve here and registers an AFTER_PLAN hook.
    return p


def _err(message: str) -> None:
    print(f"salesim: {message}", file=sys.stderr)


def _report_problems(file: str, problems: list) -> None:
    n = len(problems)
    print(f"{file}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def build_plan(args: argparse.Namespace) -> PlanContext:
    """Load the scenario and plan the target of ``args``.

    Raises
    ------
    ScenarioError, PlanError
    """
    from sim.planning import PlanTarget, SalesModel, plan
    from sim.scenario import load_scenario
    from sim.yamlio import apply_overrides, load_document

    scenario = load_scenario(args.scenario, args.overrides)
    doc = load_document(args.scenario)
    if args.overrides:
        doc = apply_overrides(doc, list(args.overrides))
    target = PlanTarget(
        annual_new_revenue_usd=args.annual_revenue, monthly_new_mrr_usd=args.monthly_new_mrr,
        monthly_churn=args.churn, invoice_lag_months=args.invoice_lag, horizon_months=args.horizon,
        mqls_per_month=args.mqls_per_month,
    )
    model = SalesModel.from_scenario(scenario, inbound_sql_share=args.inbound_share, horizon_months=args.horizon)
    return PlanContext(scenario=scenario, base_data=doc.data, plan=plan(target, model))


def plan_text(p: Plan) -> str:
    """The plan as readable text: revenue, funnel, roles, hiring plan, warnings."""
    from sim.report import format_value, text_table

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


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def cmd_plan(args: argparse.Namespace) -> int:
    """Run ``salesim plan``; return the exit code."""
    from sim.cli import EXIT_BAD_INPUT, EXIT_OK
    from sim.planning import PlanError
    from sim.yamlio import ScenarioError, yaml_dump

    try:
        ctx = build_plan(args)
    except ScenarioError as exc:
        _report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    except PlanError as exc:
        _err(f"plan: {exc}")
        return EXIT_BAD_INPUT
    out = args.write_scenario
    if out is not None:
        if out.exists() and not args.overwrite:
            _err(f"plan: {out} exists; use --overwrite to replace it")
            return EXIT_BAD_INPUT
        try:
            data = ctx.plan.to_scenario_dict(ctx.base_data, include_hiring=False)
        except PlanError as exc:
            _err(f"plan: {exc}")
            return EXIT_BAD_INPUT
        header = (f"# written by salesim plan from {args.scenario}: every planned rep on staff from month 0\n"
                  f"# target: ${ctx.plan.first_year_revenue_usd:,.0f} first-year revenue "
                  f"(${ctx.plan.monthly_new_mrr_usd:,.0f} new MRR a month)\n")
        try:
            out.write_text(header + yaml_dump(data), encoding="utf-8")
        except OSError as exc:
            _err(f"plan: cannot write {out}: {exc.strerror or exc}")
            return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(ctx.plan.to_dict(), indent=2))
    else:
        print(plan_text(ctx.plan))
        if out is not None:
            print(f"\nwrote {out}")
    for hook in AFTER_PLAN:
        code = hook(args, ctx)
        if code is not None:
            return code
    return EXIT_OK
