"""The ``salesim`` command line: a thin argparse front end over :mod:`sim`.

This module owns the parser and the dispatch to the commands (:mod:`sim.cli.run`,
:mod:`sim.cli.plan`); what commands share — exit codes, argument types, messages — is in
:mod:`sim.cli.common`. Bad input never shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from sim.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    err,
    fraction,
    rep_count,
    seed_number,
)


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
    from sim.runs.replication import DEFAULT_SEED

    parser = argparse.ArgumentParser(
        prog="salesim",
        description="Monte Carlo simulation of a SaaS sales organization.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run replications of a scenario and summarize its KPIs")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--reps", type=rep_count, default=100, help="replications (default 100)")
    run.add_argument("--seed", type=seed_number, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")
    run.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help='run on a Dask cluster, e.g. tcp://host:8786 (pip install "salesim[dask]")')
    run.add_argument("--out", type=Path, help="results folder (default results/<scenario name>)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a scenario field, e.g. --set roles.ae.headcount=8 (repeatable)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace results of a different scenario or seed in the folder")
    run.add_argument("--precision", type=fraction, metavar="REL",
                     help="add replications until the 95%% CI half-width of --metric is at most REL × its mean")
    run.add_argument("--metric", default="exit_arr_usd", help="metric for --precision (default exit_arr_usd)")
    run.add_argument("--max-reps", type=rep_count, default=2000,
                     help="cap on replications with --precision (default 2000)")
    run.add_argument("--deterministic", action="store_true",
                     help="all variance off (durations at means, evenly spread draws): compare with `salesim plan`")
    run.add_argument("--no-figures", action="store_true",
                     help="skip the figures (MRR fan, funnel, capacity vs demand per role)")
    run.add_argument("--no-progress", action="store_true",
                     help="hide the progress bar (or, when stderr is not a terminal, the progress lines)")
    run.add_argument("--event-log", type=Path, metavar="FILE",
                     help="also write replication 0's per-lead events for process mining (.csv, .parquet, "
                          ".json = OCEL 2.0)")

    compare = sub.add_parser("compare", help="run scenarios under common random numbers and compare them")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                         help="scenario YAML files; the first is the baseline")
    compare.add_argument("--reps", type=rep_count, default=100, help="replications per scenario (default 100)")
    compare.add_argument("--seed", type=seed_number, default=DEFAULT_SEED, help="shared root seed")
    compare.add_argument("--workers", type=int, default=None,
                         help="local worker processes (default: all cores)")
    compare.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    compare.add_argument("--out", type=Path,
                         help="folder for comparison.csv, figures and per-scenario results "
                              "(default results/compare_<names>)")
    compare.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                         help="override a field in every scenario (repeatable)")
    compare.add_argument("--overwrite", action="store_true", help="replace results of other scenarios or seeds")
    compare.add_argument("--deterministic", action="store_true", help="all variance off in every scenario")
    compare.add_argument("--no-figures", action="store_true", help="skip the figures")
    compare.add_argument("--no-progress", action="store_true",
                         help="hide the progress bar (or, when stderr is not a terminal, the progress lines)")

    validate = sub.add_parser("validate", help="check scenario files; exit 2 with every problem found")
    validate.add_argument("files", nargs="+", help="scenario YAML files")
    validate.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE")

    sub.add_parser("schema", help="print the JSON Schema of scenario files (for editor completion)")

    from sim.cli.plan import add_parser as add_plan_parser

    add_plan_parser(sub)
    from sim.cli.sweep import add_parsers as add_sweep_parsers

    add_sweep_parsers(sub)
    from sim.cli.calibrate import add_parsers as add_calibrate_parsers

    add_calibrate_parsers(sub)
    from sim.cli.common import add_report_option
    from sim.cli.report import add_parser as add_report_parser

    add_report_parser(sub)
    add_report_option(run)
    add_report_option(compare, by_default=True)
    return parser


def _commands() -> dict:
    """Command name → function (imported when a command runs: ``validate`` must start fast)."""
    from sim.cli import calibrate, plan, report, run, sweep

    return {"run": run.cmd_run, "compare": run.cmd_compare, "plan": plan.cmd_plan, "validate": run.cmd_validate,
            "schema": run.cmd_schema, "sweep": sweep.cmd_sweep, "sensitivity": sweep.cmd_sensitivity,
            "synth": calibrate.cmd_synth, "calibrate": calibrate.cmd_calibrate,
            "backtest": calibrate.cmd_backtest, "report": report.cmd_report}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings of salesim's own kinds as one line (``salesim: warning: ...``), others as usual."""
    from sim.scenario import SalesimWarning

    if issubclass(category, SalesimWarning):
        err(f"warning: {message}")
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``salesim`` console script."""
    from sim.runs.signals import Terminated, sigterm_interrupts

    parser = build_parser()
    args = parser.parse_args(argv)
    with sigterm_interrupts(), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return _commands()[args.command](args)
        except Terminated:
            err("terminated (SIGTERM)")
            return EXIT_TERMINATED
        except KeyboardInterrupt:
            err("interrupted")
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            return EXIT_OK
        except MemoryError:
            err("out of memory: a limit of salesim let through an input too large for this machine; "
                "please report it with the command you ran")
            return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
