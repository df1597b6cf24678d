"""``salesim plan``: a revenue target worked back to a funnel, a headcount and a hiring plan.

This module owns the ``plan`` subcommand: its arguments, what it prints and its exit codes
(those of :mod:`sim.cli`: 0 ok, 2 bad input). The arithmetic lives in :mod:`sim.planner`; this
is a thin front end over it. The sales model comes from a scenario file::

    salesim plan --scenario scenarios/silo.yaml --annual-revenue 1560000
    salesim plan --scenario scenarios/silo.yaml --monthly-new-mrr 20000 --churn 0.03 --json
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 3e6 --write-scenario planned.yaml
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 2e6 --simulate --reps 200 --out results/plan
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 2e6 --solve --confidence 0.8 --reps 100

``--simulate`` writes the plan (with its hiring waves) as ``OUT/plan_scenario.yaml``, runs it
by Monte Carlo into ``OUT/runs`` and reports P(hit target) and the gap between the spreadsheet
and the simulation; ``--solve`` searches the cheapest headcount whose P(hit) reaches
``--confidence`` under common random numbers and writes ``OUT/solved_scenario.yaml`` (both in
:mod:`sim.planner.simulation`). Exit codes: 0 ok, 1 some replications failed, 2 bad input, 130
interrupted.

:func:`add_parser` adds the subcommand; :func:`cmd_plan` prints the plan, then runs
``--simulate`` / ``--solve`` when asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    add_report_option,
    err,
    interrupted_code,
    report_after,
    report_problems,
    report_warnings,
)

if TYPE_CHECKING:  # pragma: no cover
    from sim.planner.headcount import Plan
    from sim.scenario import Scenario


@dataclass
class PlanContext:
    """What a ``plan`` run produced, for hooks: the scenario, its merged data, the plan."""

    scenario: Scenario
    base_data: dict[str, Any]
    plan: Plan




DEFAULT_REPS = 100
DEFAULT_CONFIDENCE = 0.8
DEFAULT_MAX_EVALUATIONS = 30
_SIM_OPTIONS = ("confidence", "max_evaluations", "reps", "seed", "workers", "out", "report")


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
    goal.add_argument("--exit-arr", type=_usd, metavar="USD",
                      help="ARR at the end of month 12 (12 × MRR), e.g. 2880000; planned as a constant monthly new MRR")
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
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --write-scenario file, or results of another plan or seed in --out")
    mc = p.add_argument_group("simulation (Monte Carlo check of the plan)")
    mc.add_argument("--simulate", action="store_true",
                    help="run the plan (headcount and hiring waves) by Monte Carlo: P(hit target), P10/P50/P90, "
                         "gap between the spreadsheet and the simulation")
    mc.add_argument("--solve", action="store_true",
                    help="search the cheapest headcount per role whose P(hit target) reaches --confidence "
                         "(common random numbers)")
    mc.add_argument("--confidence", type=_number, metavar="P",
                    help=f"--solve: required P(hit target), between 0 and 1 (default {DEFAULT_CONFIDENCE})")
    mc.add_argument("--max-evaluations", type=_whole, metavar="K",
                    help=f"--solve: most candidate orgs to simulate (default {DEFAULT_MAX_EVALUATIONS})")
    mc.add_argument("--reps", type=_whole, metavar="N",
                    help=f"replications per simulation (default {DEFAULT_REPS})")
    mc.add_argument("--seed", type=_whole, metavar="S", help="root seed (default: salesim's)")
    mc.add_argument("--workers", type=_whole, metavar="W", help="local worker processes (default: all cores)")
    mc.add_argument("--out", type=Path, metavar="DIR",
                    help="folder for plan_scenario.yaml, runs/, solve/ and solved_scenario.yaml "
                         "(default results/plan_<scenario name>)")
    add_report_option(mc)
    return p


def build_plan(args: argparse.Namespace) -> PlanContext:
    """Load the scenario and plan the target of ``args``.

    Raises
    ------
    ScenarioError, PlanError
    """
    from sim.planner.headcount import PlanTarget, plan
    from sim.planner.model import SalesModel
    from sim.scenario import load_checked
    from sim.scenario.yamlio import apply_overrides, load_document

    scenario, warnings = load_checked(args.scenario, args.overrides)
    report_warnings(warnings)
    doc = load_document(args.scenario)
    if args.overrides:
        doc = apply_overrides(doc, list(args.overrides))
    monthly = args.monthly_new_mrr
    if getattr(args, "exit_arr", None) is not None:
        from sim.planner.arithmetic import monthly_new_mrr_for

        monthly = monthly_new_mrr_for(exit_arr_usd=args.exit_arr, monthly_churn=args.churn)
    target = PlanTarget(
        annual_new_revenue_usd=args.annual_revenue, monthly_new_mrr_usd=monthly,
        monthly_churn=args.churn, invoice_lag_months=args.invoice_lag, horizon_months=args.horizon,
        mqls_per_month=args.mqls_per_month,
    )
    model = SalesModel.from_scenario(scenario, inbound_sql_share=args.inbound_share, horizon_months=args.horizon)
    return PlanContext(scenario=scenario, base_data=doc.data, plan=plan(target, model))




def cmd_plan(args: argparse.Namespace) -> int:
    """Run ``salesim plan``; return the exit code."""
    from sim.planner.arithmetic import PlanError
    from sim.scenario.yamlio import ScenarioError, yaml_dump

    problem = check_simulation_args(args)
    if problem is not None:
        err(f"plan: {problem}")
        return EXIT_BAD_INPUT
    try:
        ctx = build_plan(args)
    except ScenarioError as exc:
        report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    except PlanError as exc:
        err(f"plan: {exc}")
        return EXIT_BAD_INPUT
    out = args.write_scenario
    if out is not None:
        if out.exists() and not args.overwrite:
            err(f"plan: {out} exists; use --overwrite to replace it")
            return EXIT_BAD_INPUT
        try:
            data = ctx.plan.to_scenario_dict(ctx.base_data, include_hiring=False)
        except PlanError as exc:
            err(f"plan: {exc}")
            return EXIT_BAD_INPUT
        header = (f"# written by salesim plan from {args.scenario}: every planned rep on staff from month 0\n"
                  f"# target: ${ctx.plan.first_year_revenue_usd:,.0f} first-year revenue "
                  f"(${ctx.plan.monthly_new_mrr_usd:,.0f} new MRR a month)\n")
        try:
            out.write_text(header + yaml_dump(data), encoding="utf-8")
        except OSError as exc:
            err(f"plan: cannot write {out}: {exc.strerror or exc}")
            return EXIT_BAD_INPUT
    if args.json and _simulating(args):
        pass  # one JSON document, printed by the simulation hook with the plan in it
    elif args.json:
        print(json.dumps(ctx.plan.to_dict(), indent=2))
    else:
        from sim.present.plan_text import plan_text

        print(plan_text(ctx.plan))
        if out is not None:
            print(f"\nwrote {out}")
    code = simulate_hook(args, ctx)
    return EXIT_OK if code is None else code


# --------------------------------------------------------------------------- --simulate / --solve


def _simulating(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "simulate", False) or getattr(args, "solve", False))


def check_simulation_args(args: argparse.Namespace) -> str | None:
    """The problem with the ``--simulate`` / ``--solve`` options of ``args``, or None."""
    if not _simulating(args):
        given = [f"--{name.replace('_', '-')}" for name in _SIM_OPTIONS if getattr(args, name, None) is not None]
        if given:
            return f"{', '.join(given)} only apply with --simulate or --solve"
        return None
    if args.annual_revenue is None and args.monthly_new_mrr is None and getattr(args, "exit_arr", None) is None:
        return "--simulate and --solve need a target: --annual-revenue, --monthly-new-mrr or --exit-arr"
    if args.confidence is not None:
        if not args.solve:
            return "--confidence only applies with --solve"
        if not 0 < args.confidence < 1:
            return (f"--confidence must be a probability strictly between 0 and 1, e.g. 0.8 "
                    f"(got {args.confidence:g})")
    if args.max_evaluations is not None:
        if not args.solve:
            return "--max-evaluations only applies with --solve"
        if args.max_evaluations < 1:
            return f"--max-evaluations must be at least 1 (got {args.max_evaluations})"
    from sim.runs.executors import ExecutorError, check_workers
    from sim.runs.monte_carlo import MAX_REPS

    if args.reps is not None and args.reps < 1:
        return f"--reps must be at least 1 (got {args.reps})"
    if args.reps is not None and args.reps > MAX_REPS:
        return f"--reps must be at most {MAX_REPS:,} (got {args.reps:,})"
    if args.seed is not None and args.seed < 0:
        return f"--seed must be >= 0 (got {args.seed})"
    try:
        check_workers(args.workers)
    except ExecutorError as exc:
        return str(exc)
    return None


def _progress(candidate: Any) -> None:
    counts = ", ".join(f"{role} {n}" for role, n in candidate.headcount)
    print(f"salesim: solve: evaluation {candidate.evaluation} ({candidate.step}): {counts} → "
          f"P(hit) {100 * candidate.p_hit:.0f}%, ${candidate.cost_per_month_usd:,.0f} a month", file=sys.stderr)


def simulate_hook(args: argparse.Namespace, ctx: PlanContext) -> int | None:
    """``--simulate`` / ``--solve``: run the plan by Monte Carlo and report (None: neither asked)."""
    if not _simulating(args):
        return None
    from sim.planner.arithmetic import PlanError
    from sim.planner.simulation import HitTarget, simulate_plan, solve_plan
    from sim.present.plan_text import simulation_text, solution_text
    from sim.runs.executors import ExecutorError
    from sim.runs.monte_carlo import RunInterrupted, TooManyReps
    from sim.runs.replication import DEFAULT_SEED
    from sim.runs.store import StoreError
    from sim.scenario.yamlio import ScenarioError

    plan = ctx.plan
    target = HitTarget.from_plan(plan, exit_arr_usd=getattr(args, "exit_arr", None))
    out = args.out or Path("results") / f"plan_{ctx.scenario.name}"
    reps = args.reps or DEFAULT_REPS
    seed = args.seed if args.seed is not None else DEFAULT_SEED
    horizon = max(12, args.horizon)
    kwargs: dict[str, Any] = dict(workers=args.workers, overwrite=args.overwrite,
                                  progress=None if not args.json else False, horizon_months=horizon)
    document: dict[str, Any] = {"plan": plan.to_dict()}
    simulation = solution = None
    try:
        if args.simulate:
            simulation = simulate_plan(plan, ctx.base_data, target, reps, seed, out=out, **kwargs)
            document["simulation"] = simulation.to_dict()
            if not args.json:
                print("\n" + simulation_text(simulation))
        if args.solve:
            confidence = args.confidence if args.confidence is not None else DEFAULT_CONFIDENCE
            solution = solve_plan(
                plan, ctx.base_data, target, confidence, reps, seed,
                max_evaluations=args.max_evaluations or DEFAULT_MAX_EVALUATIONS, out=out, initial=simulation,
                on_evaluation=None if args.json else _progress, **kwargs)
            document["solution"] = solution.to_dict()
            if not args.json:
                print("\n" + solution_text(solution))
    except ScenarioError as exc:
        report_problems("the plan's scenario", exc.problems)
        return EXIT_BAD_INPUT
    except (PlanError, StoreError, ExecutorError, TooManyReps) as exc:
        err(f"plan: {exc}")
        return EXIT_BAD_INPUT
    except RunInterrupted as exc:
        err(f"plan: {exc}. Run the same command again to resume; only the missing replications will run.")
        return interrupted_code(exc)
    except OSError as exc:
        err(f"plan: cannot write to {out}: {exc.strerror or exc}")
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(document, indent=2))
    failures = (simulation.failures if simulation else []) + (solution.simulation.failures if solution else [])
    if failures:
        err(f"plan: {len(failures)} replication(s) failed and were left out; first error: {failures[0]['error']}")
    code = EXIT_OK
    if simulation is not None and simulation.runs is not None:
        low, high = simulation.p_hit_ci95
        headline = [f"The plan reaches {simulation.target.describe()} in {simulation.hit.hits} of "
                    f"{simulation.hit.n} simulated replications ({100 * simulation.p_hit:.0f}%; 95% CI "
                    f"{100 * low:.0f}–{100 * high:.0f}%)."]
        code = report_after(args, [simulation.runs], out, headline)
    return EXIT_FAILED if failures else code


