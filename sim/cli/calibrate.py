"""``salesim synth``, ``calibrate`` and ``backtest``: simulated CRM exports out, fitted scenarios
out, fitted scenarios checked against the history.

This module owns the two commands' arguments and messages; the work is in
:mod:`sim.calibration`. Bad input — a scenario, an export, a mapping — gets every problem with its
file, row and column and exit code 2; nothing is written unless everything succeeded.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    err,
    rep_count,
    report_problems,
    report_warnings,
    seed_number,
    workers_problem,
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from sim.runs.replication import DEFAULT_SEED

    synth = sub.add_parser("synth", help="write one simulated run as a CRM export (CSV tables)")
    synth.add_argument("scenario", help="scenario YAML file")
    synth.add_argument("--out", type=Path, required=True, help="folder for the export")
    synth.add_argument("--seed", type=seed_number, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")
    synth.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                       help="override a scenario field (repeatable)")
    synth.add_argument("--overwrite", action="store_true", help="replace a folder that is not empty")

    cal = sub.add_parser("calibrate", help="fit a scenario to a CRM/HR export")
    cal.add_argument("--data", type=Path, required=True, help="folder of the export's CSV files")
    cal.add_argument("--out", type=Path, required=True, help="fitted scenario YAML to write")
    cal.add_argument("--extends", metavar="BASE", help="base scenario: values the data cannot support keep its values")
    cal.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                     help="override a field of the base scenario (repeatable)")
    cal.add_argument("--mapping", type=Path, help="mapping file (default: DATA/mapping.yaml when present)")
    cal.add_argument("--report", type=Path, help="report to write (default: calibration_report.md beside --out)")

    bt = sub.add_parser("backtest", help="replay an export's period with a fitted scenario; compare month by month")
    bt.add_argument("scenario", help="the fitted scenario YAML")
    bt.add_argument("--data", type=Path, required=True, help="folder of the export's CSV files")
    bt.add_argument("--mapping", type=Path, help="mapping file (default: DATA/mapping.yaml when present)")
    bt.add_argument("--reps", type=rep_count, default=40, help="replications (default 40)")
    bt.add_argument("--seed", type=seed_number, default=DEFAULT_SEED, help=f"root seed (default {DEFAULT_SEED})")
    bt.add_argument("--workers", type=int, default=None, help="local worker processes (default: all cores)")
    bt.add_argument("--out", type=Path, default=Path("backtest"),
                    help="folder for backtest.csv, the report and figures (default backtest/)")


def cmd_synth(args: argparse.Namespace) -> int:
    from sim.calibration.synth import export_meta, synthesize, write_export
    from sim.scenario import ScenarioError, load_checked

    try:
        scenario, warnings = load_checked(args.scenario, args.overrides)
    except ScenarioError as exc:
        report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    report_warnings(warnings)
    out: Path = args.out
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not args.overwrite)):
        err(f"{out}: exists and is not an empty folder (use --overwrite to replace it)")
        return EXIT_BAD_INPUT
    tables = synthesize(scenario, args.seed)
    write_export(tables, export_meta(scenario, args.seed, args.scenario, args.overrides), out)
    counts = ", ".join(f"{len(t):,} {name.replace('_', ' ')}" for name, t in tables.items())
    print(f"{out}: {counts}")
    return EXIT_OK


def _read(args: argparse.Namespace):
    """The export, or None after reporting its problems."""
    from sim.calibration.reader import ExportError, read_export

    try:
        return read_export(args.data, args.mapping)
    except ExportError as exc:
        n = exc.total
        print(f"{args.data}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
        for line in str(exc).splitlines():
            print(f"  {line}", file=sys.stderr)
        return None


def cmd_backtest(args: argparse.Namespace) -> int:
    from sim.calibration.backtest import backtest
    from sim.calibration.writer import atomic_write
    from sim.present.backtest_plots import backtest_report, save_backtest_figures
    from sim.runs.executors import ExecutorError
    from sim.scenario import ScenarioError, load_checked
    from sim.scenario.yamlio import load_document

    try:
        _scenario, warnings = load_checked(args.scenario)
        fitted = load_document(args.scenario).data
    except ScenarioError as exc:
        report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    report_warnings(warnings)
    problem = workers_problem(args)
    if problem is not None:
        err(problem)
        return EXIT_BAD_INPUT
    export = _read(args)
    if export is None:
        return EXIT_BAD_INPUT
    try:
        result = backtest(fitted, export, reps=args.reps, seed=args.seed, workers=args.workers)
    except ScenarioError as exc:
        err("the export's starting state does not fit the scenario:")
        report_problems(args.scenario, exc.problems)
        return EXIT_BAD_INPUT
    except ExecutorError as exc:
        err(str(exc))
        return EXIT_FAILED
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out / "backtest.csv.tmp", index=False)
    (out / "backtest.csv.tmp").replace(out / "backtest.csv")
    save_backtest_figures(result, out)
    atomic_write(out / "backtest_report.md", backtest_report(result, args.scenario, str(args.data)))
    print(result.coverage.to_string(float_format=lambda x: f"{x:.2f}"))
    print(f"{result.verdict} ({result.reps} replications, {result.months} months); report: "
          f"{out / 'backtest_report.md'}")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    import yaml

    from sim.calibration.calibrate import calibrate
    from sim.calibration.writer import atomic_write, report_text, scenario_text
    from sim.scenario import ScenarioError, load_checked, scenario_from_dict
    from sim.scenario.schema import NAMED_MAPS
    from sim.scenario.yamlio import apply_overrides, load_document

    try:
        import lifelines  # noqa: F401
    except ImportError:
        err('calibrate needs lifelines for its survival fits: pip install "salesim[calibrate]"')
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    base = base_data = None
    if args.extends:
        try:
            base, warnings = load_checked(args.extends, args.overrides)
            document = load_document(args.extends)
            if args.overrides:
                document = apply_overrides(document, args.overrides, NAMED_MAPS)
            base_data = document.data
        except ScenarioError as exc:
            report_problems(args.extends, exc.problems)
            return EXIT_BAD_INPUT
        report_warnings(warnings)
    export = _read(args)
    if export is None:
        return EXIT_BAD_INPUT
    cal = calibrate(export, base)
    text = scenario_text(base_data, args.extends, str(args.data), cal)
    if base is not None:
        try:
            scenario_from_dict(yaml.safe_load(text))
        except ScenarioError as exc:
            err("the fitted values do not make a valid scenario (nothing written); please report this:")
            report_problems(str(args.out), exc.problems)
            return EXIT_FAILED
    report = args.report or args.out.with_name("calibration_report.md")
    seconds = time.perf_counter() - started
    from sim.present.calibration_plots import save_calibration_figures

    atomic_write(args.out, text)
    report.parent.mkdir(parents=True, exist_ok=True)
    figures = save_calibration_figures(export, cal, report.parent)
    atomic_write(report, report_text(cal, str(args.data), args.extends, str(args.out), seconds,
                                     [f.name for f in figures]))
    print(f"{args.out}: {len(cal.fitted)} values fitted, {len(cal.kept)} kept from the base "
          f"(ran in {seconds:.1f} s); report: {report}")
    return EXIT_OK
