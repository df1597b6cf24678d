"""``salesim sweep`` and ``salesim sensitivity``: which assumptions decide the answer.

Both check every input — scenario files, ``--vary`` paths and ranges, input files — before any
replication runs (exit 2 with every problem), run everything on one executor under common random
numbers, save as they go (a killed run resumes when the same command is run again), and write
tables, figures and a few sentences.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    add_report_option,
    err,
    monte_carlo,
    positive_int,
    progress_of,
    report_after,
    report_problems,
    seed_number,
)


def _common(parser: argparse.ArgumentParser, default_reps: int) -> None:
    from sim.runs.replication import DEFAULT_SEED

    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                        help="scenario YAML files; with two or more, differences are paired against the first")
    parser.add_argument("--reps", type=positive_int, default=default_reps,
                        help=f"replications per point and scenario (default {default_reps})")
    parser.add_argument("--metric", default="exit_arr_usd", help="the KPI (default exit_arr_usd)")
    parser.add_argument("--seed", type=seed_number, default=DEFAULT_SEED,
                        help="shared root seed: every point and scenario sees the same market")
    parser.add_argument("--out", type=Path, help="results folder (resumable)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a field in every scenario first (repeatable)")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    parser.add_argument("--overwrite", action="store_true", help="replace another sweep's results in --out")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser(
        "sweep", help="run scenarios over a grid of parameter values under common random numbers",
        description="Run every scenario at every point of a grid (or Latin hypercube) of parameter values, "
                    "all under the same seed, and report the KPI — or the paired difference to the first "
                    "scenario — at each point.")
    _common(sweep, 30)
    sweep.add_argument("--vary", action="append", default=[], metavar="[SCENARIO:]PATH=LOW:HIGH:STEP",
                       help="a field to vary in every scenario (or only in SCENARIO), LOW to HIGH by STEP; "
                            "LOW:HIGH with --design lhs; A,B,C for a list (repeatable: a grid multiplies)")
    sweep.add_argument("--design", choices=("grid", "lhs"), default="grid",
                       help="grid (every combination) or lhs (a Latin hypercube of --points points)")
    sweep.add_argument("--points", type=positive_int, help="points of a Latin hypercube (--design lhs)")
    sweep.add_argument("--break-even", action="store_true",
                       help="two scenarios, one --vary: where the paired difference crosses zero, with a CI")
    sweep.add_argument("--refine", type=int, default=0, metavar="N",
                       help="with --break-even: N extra points placed at the estimated crossing (default 0)")
    add_report_option(sweep)

    sens = sub.add_parser(
        "sensitivity", help="which uncertain inputs drive a KPI or a difference: tornado, Morris, Sobol",
        description="Global sensitivity of a KPI (one scenario) or of the paired difference of two scenarios "
                    "to uncertain inputs: ranges from --inputs FILE, from fields marked "
                    "{value: V, range: [LOW, HIGH]} in the scenarios, or from fields marked # ASSUMPTION.")
    _common(sens, 20)
    sens.add_argument("--inputs", type=Path, metavar="FILE",
                      help="YAML: PATH: [low, high] (or {dist: triangular, ...})")
    sens.add_argument("--assumptions", type=float, nargs="?", const=0.5, default=None, metavar="SPREAD",
                      help="also vary every number marked # ASSUMPTION by ± SPREAD of its value (default 0.5)")
    sens.add_argument("--method", default="tornado", metavar="M[,M...]",
                      help="tornado, morris, sobol (comma-separated; default tornado)")
    sens.add_argument("--trajectories", type=positive_int, default=10, help="Morris trajectories r (default 10)")
    sens.add_argument("--levels", type=positive_int, default=4, help="Morris grid levels (default 4)")
    sens.add_argument("--sobol-n", type=positive_int, default=64,
                      help="Sobol base sample N, a power of two (default 64)")
    sens.add_argument("--sobol-top", type=positive_int, default=None, metavar="K",
                      help="Sobol over the K inputs that matter most by Morris (or tornado); default all")
    add_report_option(sens)


def _load(args: argparse.Namespace):
    from sim.runs.sweep import load_sources
    from sim.scenario import ScenarioError

    try:
        return load_sources(args.scenarios, args.overrides)
    except ScenarioError as exc:
        by_file: dict[str, list] = {}
        for problem in exc.problems:
            by_file.setdefault(problem.file, []).append(problem)
        for file, problems in by_file.items():
            report_problems(file, problems)
        return None


def _bad(problems: list[str]) -> int:
    for problem in problems:
        err(problem)
    return EXIT_BAD_INPUT


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.runs.sweep import SweepInputError, Vary, sweep

    if args.workers is not None and args.workers < 1:
        return _bad([f"--workers must be at least 1 (got {args.workers})"])
    problems: list[str] = []
    varies = []
    for text in args.vary:
        try:
            varies.append(Vary.parse(text))
        except SweepInputError as exc:
            problems.extend(exc.problems)
    if not args.vary:
        problems.append("a sweep needs at least one --vary PATH=LOW:HIGH:STEP")
    if args.break_even and (len(args.scenarios) != 2 or len(args.vary) != 1):
        problems.append("--break-even needs two scenarios and one --vary")
    if args.refine and not args.break_even:
        problems.append("--refine goes with --break-even")
    if problems:
        return _bad(problems)
    sources = _load(args)
    if sources is None:
        return EXIT_BAD_INPUT
    out = args.out or Path("results") / ("sweep_" + "_".join(sources))

    def work(executor):
        return sweep(sources_arg(sources), varies, reps=args.reps, seed=args.seed, metric=args.metric,
                     design=args.design, points=args.points, workers=args.workers, executor=executor, out=out,
                     overwrite=args.overwrite, progress=progress_of(args), refine=max(0, args.refine))

    try:
        result, code = monte_carlo(args, work)
    except SweepInputError as exc:
        return _bad(exc.problems)
    if result is None:
        return code
    from sim.present.sensitivity_text import break_even_text, sweep_summary_text

    names = ", ".join(result.scenarios)
    print(f"swept {names}: {len(result.points)} points × {args.reps} replications, seed {args.seed}, "
          f"common random numbers → {out}")
    if len(result.scenarios) > 1:
        print(f"baseline: {result.baseline}; differences are paired (scenario − baseline)")
    print()
    print(sweep_summary_text(result.summary(), result.parameters))
    found = None
    if args.break_even:
        found = result.break_even()
        print("\nbreak-even: " + break_even_text(found))
        if result.refined:
            print(f"(refined with {len(result.refined)} extra point(s): {', '.join(map(str, result.refined))})")
    if not args.no_figures:
        from sim.present.sensitivity_plots import save_sweep_figures

        figures = save_sweep_figures(result, out, break_even=found)
        print("\nfigures: " + ", ".join(str(p) for p in figures))
    print(f"tables: {out / 'sweep.parquet'}, {out / 'sweep_summary.csv'}")
    code = report_after(args, [out], out)
    if result.failures:
        err(f"{len(result.failures)} replication(s) failed; see the manifest.json of the point folders in "
            f"{out / 'points'}")
        return EXIT_FAILED
    return code


def sources_arg(sources):
    """The scenarios as loaded, with their ``--set`` overrides applied (not read again)."""
    return dict(sources)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.runs.sensitivity import assumption_inputs, marked_inputs, read_inputs, sensitivity
    from sim.runs.sweep import SweepInputError

    if args.workers is not None and args.workers < 1:
        return _bad([f"--workers must be at least 1 (got {args.workers})"])
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    if len(args.scenarios) > 2:
        return _bad(["sensitivity takes one scenario, or two (their paired difference)"])
    if args.assumptions is not None and not 0 < args.assumptions < 1:
        return _bad([f"--assumptions SPREAD must be between 0 and 1 (got {args.assumptions:g})"])
    sources = _load(args)
    if sources is None:
        return EXIT_BAD_INPUT
    try:
        inputs = marked_inputs(sources, args.overrides)
        if args.inputs is not None:
            inputs += read_inputs(args.inputs)
        if args.assumptions is not None:
            have = {i.label for i in inputs}
            inputs += [i for i in assumption_inputs(sources, args.assumptions) if i.label not in have]
    except SweepInputError as exc:
        return _bad(exc.problems)
    labels = [i.label for i in inputs]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        return _bad([f"input {d} is given twice (inline range and --inputs?)" for d in dupes])
    out = args.out or Path("results") / ("sensitivity_" + "_".join(sources))

    def work(executor):
        return sensitivity(sources_arg(sources), inputs, methods=methods, metric=args.metric, reps=args.reps,
                           seed=args.seed, trajectories=args.trajectories, levels=args.levels,
                           sobol_n=args.sobol_n, sobol_inputs=args.sobol_top, workers=args.workers,
                           executor=executor, out=out, overwrite=args.overwrite, progress=progress_of(args))

    try:
        result, code = monte_carlo(args, work)
    except SweepInputError as exc:
        return _bad(exc.problems)
    if result is None:
        return code
    from sim.present.sensitivity_text import drivers_text, morris_text, sobol_text, tornado_text

    print(f"sensitivity of {result.target} to {len(inputs)} inputs ({', '.join(methods)}), {args.reps} "
          f"replications a point, seed {args.seed}, common random numbers → {out}\n")
    if result.tornado is not None:
        print("tornado (each input at its ends, the others as written):")
        print(tornado_text(result.tornado, result.target, result.metric) + "\n")
    if result.morris is not None:
        print(f"Morris screening ({args.trajectories} trajectories, {args.levels} levels):")
        print(morris_text(result.morris, result.metric) + "\n")
    if result.sobol is not None:
        print(f"Sobol indices (N = {args.sobol_n}):")
        print(sobol_text(result.sobol) + "\n")
    statement = drivers_text(result)
    print("what drives the result:")
    print(statement)
    (out / "drivers.txt").write_text(f"What drives {result.target}:\n{statement}\n", encoding="utf-8")
    if not args.no_figures:
        from sim.present.sensitivity_plots import save_sensitivity_figures

        figures = save_sensitivity_figures(result, out)
        print("\nfigures: " + ", ".join(str(p) for p in figures))
    print(f"tables: {out / 'sensitivity.csv'}, {out / 'drivers.txt'}")
    code = report_after(args, [out], out)
    if result.failures:
        err(f"{len(result.failures)} replication(s) failed; see the point folders in {out}")
        return EXIT_FAILED
    return code
