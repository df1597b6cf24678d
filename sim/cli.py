"""The ``salesim`` command line: a thin argparse front end over :mod:`sim`.

This module owns argument parsing, exit codes and what is printed. Exit codes: 0 success;
1 some replications failed (the rest are saved); 2 bad input (scenario, arguments, results
folder, executor); 130 interrupted (finished replications are saved; run again to resume).
Bad input never shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {value})")
    return value


def version_line() -> str:
    """``salesim --version``: the version and the build of the simulation core (compiled or not)."""
    from importlib.metadata import PackageNotFoundError, version

    from sim.compiled import describe

    try:
        number = version("salesim")
    except PackageNotFoundError:  # run from a checkout that is not installed
        number = "(not installed)"
    return f"salesim {number}, simulation core: {describe()}"


class _VersionAction(argparse.Action):
    """``--version``, computed only when asked for (it imports the simulation core)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the version and whether the simulation core is compiled, and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        sys.stdout.write(version_line() + "\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from sim.experiment import DEFAULT_SEED

    parser = argparse.ArgumentParser(
        prog="salesim",
        description="Monte Carlo simulation of a SaaS sales organization.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run replications of a scenario and summarize its KPIs")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--reps", type=_positive_int, default=100, help="replications (default 100)")
    run.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")
    run.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help='run on a Dask cluster, e.g. tcp://host:8786 (pip install "salesim[dask]")')
    run.add_argument("--out", type=Path, help="results folder (default results/<scenario name>)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a scenario field, e.g. --set roles.ae.headcount=8 (repeatable)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace results of a different scenario or seed in the folder")
    run.add_argument("--precision", type=_fraction, metavar="REL",
                     help="add replications until the 95%% CI half-width of --metric is at most REL × its mean")
    run.add_argument("--metric", default="exit_arr_usd", help="metric for --precision (default exit_arr_usd)")
    run.add_argument("--max-reps", type=_positive_int, default=2000,
                     help="cap on replications with --precision (default 2000)")
    run.add_argument("--deterministic", action="store_true",
                     help="all variance off (durations at means, evenly spread draws): compare with `salesim plan`")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    compare = sub.add_parser("compare", help="run scenarios under common random numbers and compare them")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                         help="scenario YAML files; the first is the baseline")
    compare.add_argument("--reps", type=_positive_int, default=100, help="replications per scenario (default 100)")
    compare.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help="shared root seed")
    compare.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    compare.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    compare.add_argument("--out", type=Path,
                         help="folder for comparison.csv, figures and per-scenario results "
                              "(default results/compare_<names>)")
    compare.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                         help="override a field in every scenario (repeatable)")
    compare.add_argument("--overwrite", action="store_true", help="replace results of other scenarios or seeds")
    compare.add_argument("--deterministic", action="store_true", help="all variance off in every scenario")
    compare.add_argument("--no-figures", action="store_true", help="skip the figures")
    compare.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    validate = sub.add_parser("validate", help="check scenario files; exit 2 with every problem found")
    validate.add_argument("files", nargs="+", help="scenario YAML files")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")

    sub.add_parser("schema", help="print the JSON Schema of scenario files (for editor completion)")

    from sim.cli_plan import add_parser as add_plan_parser

    add_plan_parser(sub)
    return parser


def _err(message: str) -> None:
    print(f"salesim: {message}", file=sys.stderr)


def _report_problems(file: str, problems: list) -> None:
    n = len(problems)
    print(f"{file}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def _monte_carlo(args: argparse.Namespace, work):
    """Run ``work(executor)`` on a Dask cluster (``--scheduler``) or locally; turn the engine's
    errors into a message and an exit code. Returns (result, exit code); result is None on error."""
    from sim import experiment
    from sim.store import StoreError

    client = None
    try:
        executor = None
        if args.scheduler:
            executor, client = experiment.dask_executor(args.scheduler)
        return work(executor), EXIT_OK
    except (StoreError, experiment.ExecutorError) as exc:
        _err(str(exc))
        return None, EXIT_BAD_INPUT
    except experiment.RunInterrupted as exc:
        _err(f"{exc}. Run the same command again to resume; only the missing replications will run.")
        return None, EXIT_INTERRUPTED
    finally:
        if client is not None:
            client.close()


def _overrides(args: argparse.Namespace) -> list[str]:
    """``--set`` overrides, plus ``deterministic=true`` with ``--deterministic``."""
    return [*args.overrides, *(["deterministic=true"] if args.deterministic else [])]


def _progress(args: argparse.Namespace) -> bool | None:
    """The progress bar: off with ``--no-progress``, else shown when stderr is a terminal (None)."""
    return False if args.no_progress else None


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario import ScenarioError, load_scenario

    status = EXIT_OK
    for file in args.files:
        try:
            scenario = load_scenario(file, args.overrides)
        except ScenarioError as exc:
            status = EXIT_BAD_INPUT
            _report_problems(file, exc.problems)
            continue
        print(f"{file}: ok (scenario {scenario.name!r}, {scenario.horizon_months} months, "
              f"{sum(r.headcount for r in scenario.roles.values())} reps)")
    return status


def cmd_schema(_args: argparse.Namespace) -> int:
    from sim.scenario import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from sim import experiment
    from sim.metrics import KPI_NAMES
    from sim.report import summary_table
    from sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario, _overrides(args))
    except ScenarioError as exc:
        _report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    if args.workers is not None and args.workers < 1:
        _err(f"--workers must be at least 1 (got {args.workers})")
        return EXIT_BAD_INPUT
    if args.precision is not None and args.metric not in KPI_NAMES:
        _err(f"--metric {args.metric!r} is not a KPI; choose one of: {', '.join(KPI_NAMES)}")
        return EXIT_BAD_INPUT
    out = args.out or Path("results") / scenario.name

    def work(executor):
        kwargs = dict(seed=args.seed, workers=args.workers, executor=executor, out=out,
                      overwrite=args.overwrite, progress=_progress(args))
        if args.precision is not None:
            return experiment.run_to_precision(
                scenario, metric=args.metric, relative_half_width=args.precision,
                initial_reps=min(args.reps, args.max_reps), max_reps=args.max_reps, **kwargs)
        return experiment.run(scenario, reps=args.reps, **kwargs)

    result, code = _monte_carlo(args, work)
    if result is None:
        return code

    print(f"scenario {scenario.name!r}: {result.reps} replications, seed {args.seed} → {out}")
    print(summary_table(result.summary()))
    teams = result.teams()
    if teams is not None:
        print("\nteams (means per replication):")
        print(team_text(teams))
    if result.precision is not None:
        p = result.precision
        verdict = "reached" if p["reached"] else "NOT reached (hit --max-reps)"
        print(f"\nprecision on {p['metric']}: ±{100 * p['relative_half_width']:.2f}% of the mean after "
              f"{p['reps']} replications (target ±{100 * p['target']:.2f}%: {verdict})")
    if result.failures:
        reps = ", ".join(str(f["rep"]) for f in result.failures[:10])
        more = "…" if len(result.failures) > 10 else ""
        _err(f"{len(result.failures)} replication(s) failed (reps {reps}{more}); first error: "
             f"{result.failures[0]['error']}. Tracebacks are in {out / 'manifest.json'}.")
        return EXIT_FAILED
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from sim.comparison import compare, load_many
    from sim.report import comparison_text
    from sim.scenario import ScenarioError

    if len(args.scenarios) < 2:
        _err("compare needs at least two scenario files")
        return EXIT_BAD_INPUT
    try:
        scenarios, _files = load_many(args.scenarios, _overrides(args))
    except ScenarioError as exc:
        by_file: dict[str, list] = {}
        for problem in exc.problems:
            by_file.setdefault(problem.file, []).append(problem)
        for file, problems in by_file.items():
            _report_problems(file, problems)
        return EXIT_BAD_INPUT
    if args.workers is not None and args.workers < 1:
        _err(f"--workers must be at least 1 (got {args.workers})")
        return EXIT_BAD_INPUT
    out = args.out or Path("results") / ("compare_" + "_".join(scenarios))
    comparison, code = _monte_carlo(args, lambda executor: compare(
        scenarios, reps=args.reps, seed=args.seed, out=out, figures=not args.no_figures, workers=args.workers,
        executor=executor, overwrite=args.overwrite, progress=_progress(args)))
    if comparison is None:
        return code
    names = ", ".join(scenarios)
    print(f"compared {names}: {args.reps} replications each, seed {args.seed}, common random numbers → {out}")
    print(f"baseline: {comparison.baseline}; differences are paired (scenario − baseline), "
          "P(better) = share of replications in which the scenario beats the baseline\n")
    print(comparison_text(comparison.table))
    for name, result in comparison.results.items():
        teams = result.teams()
        if teams is not None:
            print(f"\nteams of {name!r} (means per replication):")
            print(team_text(teams))
    if comparison.figures:
        print("\nfigures: " + ", ".join(str(p) for p in comparison.figures))
    failures = [f for r in comparison.results.values() for f in r.failures]
    if failures:
        _err(f"{len(failures)} replication(s) failed; see the manifest.json of each scenario folder in {out}")
        return EXIT_FAILED
    return EXIT_OK


def team_text(teams) -> str:
    from sim.report import format_value, text_table

    rows = [[str(idx), *(format_value(col, teams.loc[idx, col]) for col in teams.columns)] for idx in teams.index]
    return text_table(rows, ["team", *teams.columns])


def cmd_plan(args: argparse.Namespace) -> int:
    from sim.cli_plan import cmd_plan as run_plan

    return run_plan(args)


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "plan": cmd_plan, "validate": cmd_validate,
            "schema": cmd_schema}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``salesim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
