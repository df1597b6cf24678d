"""``salesim plan``: a revenue target worked back to a funnel, a headcount and a hiring plan.

This module owns the ``plan`` subcommand: its arguments, what it prints and its exit codes
(those of :mod:`sim.cli`: 0 ok, 2 bad input). The arithmetic lives in :mod:`sim.planner`; this
is a thin front end over it. The sales model comes from a scenario file::

    salesim plan --scenario scenarios/silo.yaml --annual-revenue 1560000
    salesim plan --scenario scenarios/silo.yaml --monthly-new-mrr 20000 --churn 0.03 --json
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 3e6 --write-scenario planned.yaml
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 2e6 --simulate --reps 200 --out results/plan
    salesim plan --scenario scenarios/silo.yaml --annual-revenue 2e6 --solve --confidence 0.8 --reps 100
    salesim plan --scenario scenarios/silo.yaml --from-arr 610000 --exit-arr 1000000
    salesim plan --scenario scenarios/silo.yaml --headcount ae=10

``--simulate`` writes the plan (with its hiring waves) as ``OUT/plan_scenario.yaml``, runs it
by Monte Carlo into ``OUT/runs`` and reports P(hit target) and the gap between the spreadsheet
and the simulation; ``--solve`` searches the cheapest headcount whose P(hit) reaches
``--confidence`` under common random numbers and writes ``OUT/solved_scenario.yaml`` (both in
:mod:`sim.planner.simulation`); ``--max-evaluations`` and ``--time-budget`` bound it, and it
prints an estimate of the time left after each evaluation. Exit codes: 0 ok, 1 some
replications failed, 2 bad input, 3 ``--solve`` did not reach ``--confidence`` (the best org
found is reported and written), 130 interrupted.

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
    EXIT_NOT_REACHED,
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
    """What a ``plan`` run produced, for hooks: the scenario, its merged data, the plan (the
    book's), and the lag-aware plan beside it (:func:`sim.planner.headcount.lag_aware`)."""

    scenario: Scenario
    base_data: dict[str, Any]
    plan: Plan
    lag_plan: Plan | None = None

    def chosen(self, args: argparse.Namespace) -> Plan:
        """The plan to write and simulate: the lag-aware one with ``--lag-aware``."""
        if getattr(args, "lag_aware", False) and self.lag_plan is not None:
            return self.lag_plan
        return self.plan




DEFAULT_REPS = 100
DEFAULT_CONFIDENCE = 0.8
DEFAULT_MAX_EVALUATIONS = 30
DEFAULT_GAP_REPS = 30  # sim.planner.gap.DEFAULT_GAP_REPS (not imported: `plan` must start fast)
_SIM_OPTIONS = ("confidence", "max_evaluations", "time_budget", "gap_reps", "reps", "seed", "workers", "out", "report")


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


def _headcount(text: str) -> list[tuple[str, int]]:
    pairs = []
    for part in text.split(","):
        role, sep, count = part.partition("=")
        if not sep or not role.strip():
            raise argparse.ArgumentTypeError(f"expected ROLE=N, e.g. ae=10 (got {part!r})")
        try:
            n = int(count)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of reps for {role.strip()!r}, "
                                             f"got {count!r}") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"the headcount of {role.strip()!r} must be at least 1 (got {n})")
        pairs.append((role.strip(), n))
    return pairs


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
                      help="ARR at the end of month 12 (12 × MRR), e.g. 2880000; planned as a constant monthly new MRR "
                           "(with --from-arr: grown from today's ARR)")
    goal.add_argument("--headcount", type=_headcount, action="append", metavar="ROLE=N",
                      help="back-solve from the reps you have, e.g. ae=10: the new MRR they can handle, and the "
                           "other roles, MQLs and revenue it needs (repeatable, or ae=10,sdr=4)")
    p.add_argument("--from-arr", type=_usd, metavar="USD",
                   help="with --exit-arr: today's ARR; new business makes up the exit ARR less what is left of it "
                        "after churn: monthly new MRR = (exit ARR − from ARR × (1 − churn)^12) ÷ (12 × R(12))")
    p.add_argument("--quota", type=_usd, metavar="USD",
                   help="a closer's yearly quota of new ARR: prints the traditional quota plan (the plan's new ARR "
                        "of a year in quotas) beside the pipeline plan's closers, e.g. 700000")
    p.add_argument("--over-assignment", type=_number, default=None, metavar="X",
                   help="with --quota: total quota ÷ target, ≥ 1 (default 1.25, the book's: 80%% attainment)")
    p.add_argument("--lag-aware", action="store_true",
                   help="write and simulate the lag-aware plan: sized for the revenue booked from an empty "
                        "pipeline, the sales cycle delaying the first deals (the plan shows both)")
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
    mc.add_argument("--time-budget", type=_number, metavar="MINUTES",
                    help="--solve: stop before an evaluation that would end after this many minutes (default: none)")
    mc.add_argument("--gap-reps", type=_whole, metavar="N",
                    help="--simulate: replications per cause in the gap breakdown (default "
                         f"{DEFAULT_GAP_REPS}, at most --reps; 0 skips it)")
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
    from sim.planner.headcount import lag_aware

    headcount = None
    if getattr(args, "headcount", None):
        merged: dict[str, int] = {}
        for pairs in args.headcount:
            merged.update(dict(pairs))
        headcount = tuple(merged.items())
    target = PlanTarget(
        annual_new_revenue_usd=args.annual_revenue, monthly_new_mrr_usd=args.monthly_new_mrr,
        exit_arr_usd=getattr(args, "exit_arr", None), starting_arr_usd=getattr(args, "from_arr", None) or 0.0,
        headcount=headcount, monthly_churn=args.churn, invoice_lag_months=args.invoice_lag,
        horizon_months=args.horizon, mqls_per_month=args.mqls_per_month,
    )
    model = SalesModel.from_scenario(scenario, inbound_sql_share=args.inbound_share, horizon_months=args.horizon)
    book = plan(target, model)
    return PlanContext(scenario=scenario, base_data=doc.data, plan=book, lag_plan=lag_aware(book))




DEFAULT_OVER_ASSIGNMENT = 1.25
"""``--over-assignment`` when ``--quota`` is given alone: the book's traditional plan (80 % attainment)."""


def cmd_plan(args: argparse.Namespace) -> int:
    """Run ``salesim plan``; return the exit code."""
    from sim.planner.arithmetic import PlanError
    from sim.scenario.yamlio import ScenarioError, yaml_dump

    problem = check_simulation_args(args)
    if problem is None and getattr(args, "from_arr", None) is not None and getattr(args, "exit_arr", None) is None:
        problem = "--from-arr goes with --exit-arr: grow ARR from --from-arr today to --exit-arr at month 12"
    if problem is None and getattr(args, "over_assignment", None) is not None and getattr(args, "quota", None) is None:
        problem = "--over-assignment goes with --quota: the quota plan's total quota ÷ target"
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
    quota = None
    if getattr(args, "quota", None) is not None:
        over = args.over_assignment if args.over_assignment is not None else DEFAULT_OVER_ASSIGNMENT
        try:
            quota = ctx.chosen(args).quota_headcount(args.quota, over)
        except PlanError as exc:
            err(f"plan: {exc}")
            return EXIT_BAD_INPUT
    out = args.write_scenario
    if out is not None:
        if out.exists() and not args.overwrite:
            err(f"plan: {out} exists; use --overwrite to replace it")
            return EXIT_BAD_INPUT
        chosen = ctx.chosen(args)
        try:
            data = chosen.to_scenario_dict(ctx.base_data, include_hiring=False)
        except PlanError as exc:
            err(f"plan: {exc}")
            return EXIT_BAD_INPUT
        which = "the lag-aware plan" if chosen is not ctx.plan else "the plan"
        header = (f"# written by salesim plan from {args.scenario}: {which}, every planned rep on staff from month 0\n"
                  f"# target: ${ctx.plan.first_year_revenue_usd:,.0f} first-year revenue "
                  f"(${chosen.monthly_new_mrr_usd:,.0f} new MRR a month)\n")
        try:
            out.write_text(header + yaml_dump(data), encoding="utf-8")
        except OSError as exc:
            err(f"plan: cannot write {out}: {exc.strerror or exc}")
            return EXIT_BAD_INPUT
    if args.json and _simulating(args):
        pass  # one JSON document, printed by the simulation hook with the plan in it
    elif args.json:
        doc = _plan_document(ctx)
        if quota is not None:
            doc["quota_plan"] = quota
        print(json.dumps(doc, indent=2))
    else:
        from sim.present.plan_text import plan_text, quota_plan_text

        print(plan_text(ctx.plan, ctx.lag_plan if ctx.lag_plan is not ctx.plan else None))
        if quota is not None:
            print("\n" + quota_plan_text(quota))
        if out is not None:
            print(f"\nwrote {out}")
    code = simulate_hook(args, ctx)
    return EXIT_OK if code is None else code


def _plan_document(ctx: PlanContext) -> dict[str, Any]:
    """``--json``: the plan, with the lag-aware plan under ``lag_aware`` when it differs."""
    doc = ctx.plan.to_dict()
    if ctx.lag_plan is not None and ctx.lag_plan is not ctx.plan:
        doc["lag_aware"] = ctx.lag_plan.to_dict()
    return doc


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
    if (args.annual_revenue is None and args.monthly_new_mrr is None and getattr(args, "exit_arr", None) is None
            and not getattr(args, "headcount", None)):
        return "--simulate and --solve need a target: --annual-revenue, --monthly-new-mrr, --exit-arr or --headcount"
    if getattr(args, "gap_reps", None) is not None:
        if not args.simulate:
            return "--gap-reps only applies with --simulate"
        if args.gap_reps < 0:
            return f"--gap-reps must be 0 (skip the gap breakdown) or more (got {args.gap_reps})"
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
    if getattr(args, "time_budget", None) is not None:
        if not args.solve:
            return "--time-budget only applies with --solve"
        if not args.time_budget > 0:
            return f"--time-budget must be a positive number of minutes (got {args.time_budget:g})"
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


class SolveProgress:
    """Prints a line per ``--solve`` evaluation on stderr, with the time per evaluation and the
    most time left: the slowest evaluation × the evaluations left in the budget, capped by the
    time budget."""

    def __init__(self, max_evaluations: int, time_budget_seconds: float | None) -> None:
        import time

        self.max_evaluations, self.time_budget = max_evaluations, time_budget_seconds
        self.clock = time.monotonic
        self.start = self.clock()
        self.slowest = 0.0

    def __call__(self, candidate: Any) -> None:
        from sim.runs.monte_carlo import duration_text

        self.slowest = max(self.slowest, candidate.seconds)
        elapsed = self.clock() - self.start
        left = self.slowest * (self.max_evaluations - candidate.evaluation)
        if self.time_budget is not None:
            left = min(left, max(0.0, self.time_budget - elapsed))
        counts = ", ".join(f"{role} {n}" for role, n in candidate.headcount)
        low, high = candidate.ci95
        took = f"took {duration_text(candidate.seconds)}; " if candidate.seconds > 0 else ""
        p_hit = f"P(hit) {100 * candidate.p_hit:.0f}% ({100 * low:.0f}–{100 * high:.0f}%)"
        print(f"salesim: solve: evaluation {candidate.evaluation} of at most {self.max_evaluations} "
              f"({candidate.step}): {counts} → {p_hit}, "
              f"${candidate.cost_per_month_usd:,.0f} a month; {took}{duration_text(elapsed)} elapsed, "
              f"at most ~{duration_text(left)} left", file=sys.stderr, flush=True)


def simulate_hook(args: argparse.Namespace, ctx: PlanContext) -> int | None:
    """``--simulate`` / ``--solve``: run the plan by Monte Carlo and report (None: neither asked)."""
    if not _simulating(args):
        return None
    from sim.planner.arithmetic import PlanError
    from sim.planner.gap import gap_breakdown
    from sim.planner.simulation import HitTarget, simulate_plan, solve_plan
    from sim.present.plan_text import gap_text, simulation_text, solution_text
    from sim.runs.executors import ExecutorError
    from sim.runs.monte_carlo import RunInterrupted, TooManyReps
    from sim.runs.replication import DEFAULT_SEED
    from sim.runs.store import StoreError
    from sim.scenario.yamlio import ScenarioError

    plan = ctx.chosen(args)
    target = HitTarget.from_plan(ctx.plan)  # the target as asked, whichever plan is simulated
    out = args.out or Path("results") / f"plan_{ctx.scenario.name}"
    reps = args.reps or DEFAULT_REPS
    seed = args.seed if args.seed is not None else DEFAULT_SEED
    horizon = max(12, args.horizon)
    kwargs: dict[str, Any] = dict(workers=args.workers, overwrite=args.overwrite,
                                  progress=None, horizon_months=horizon)
    document: dict[str, Any] = {"plan": _plan_document(ctx)}
    if plan is not ctx.plan:
        document["simulated_plan"] = "lag_aware"
    simulation = solution = None
    try:
        if args.simulate:
            simulation = simulate_plan(plan, ctx.base_data, target, reps, seed, out=out, **kwargs)
            document["simulation"] = simulation.to_dict()
            if not args.json:
                which = "the lag-aware plan" if plan is not ctx.plan else "the plan"
                print("\n" + simulation_text(simulation).replace("simulation of the plan", f"simulation of {which}", 1))
            gap_reps = args.gap_reps if args.gap_reps is not None else DEFAULT_GAP_REPS
            if gap_reps > 0:
                gap_kwargs = {k: v for k, v in kwargs.items() if k != "horizon_months"}
                gap = gap_breakdown(simulation, gap_reps, out=out / "gap", **gap_kwargs)
                document["gap"] = gap.to_dict()
                if not args.json:
                    print("\n" + gap_text(gap))
        if args.solve:
            confidence = args.confidence if args.confidence is not None else DEFAULT_CONFIDENCE
            budget = args.max_evaluations or DEFAULT_MAX_EVALUATIONS
            minutes = getattr(args, "time_budget", None)
            seconds = None if minutes is None else 60.0 * minutes
            solution = solve_plan(
                plan, ctx.base_data, target, confidence, reps, seed, max_evaluations=budget,
                time_budget_seconds=seconds, out=out, initial=simulation,
                on_evaluation=SolveProgress(budget, seconds), **kwargs)
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
        code = EXIT_FAILED
    elif solution is not None and not solution.reached:
        err(f"plan: --solve did not reach P(hit) ≥ {100 * solution.confidence:.0f}% ({solution.reason}); "
            f"exit code {EXIT_NOT_REACHED}")
        code = EXIT_NOT_REACHED
    else:
        code = EXIT_OK
    if simulation is not None and simulation.runs is not None:
        low, high = simulation.p_hit_ci95
        headline = [f"The plan reaches {simulation.target.describe()} in {simulation.hit.hits} of "
                    f"{simulation.hit.n} simulated replications ({100 * simulation.p_hit:.0f}%; 95% CI "
                    f"{100 * low:.0f}–{100 * high:.0f}%)."]
        written = report_after(args, [simulation.runs], out, headline)
        code = code or written
    return code


