"""What every ``salesim`` command shares: exit codes, argument types, messages, and the Monte
Carlo wrapper that turns the engine's errors into a message and an exit code.

Exit codes: 0 success; 1 some replications failed (the rest are saved); 2 bad input (scenario,
arguments, results folder, executor); 3 ``plan --solve`` finished without reaching
``--confidence`` (the best org found is still reported and written); 130 interrupted by Ctrl-C
and 143 by SIGTERM (finished replications are saved; run again to resume). Bad input never
shows a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_REACHED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 128 + signal.SIGTERM
"""143: stopped by SIGTERM (``kill``, a job scheduler, a container stop); resumable like Ctrl-C."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def rep_count(text: str) -> int:
    """``--reps``, ``--max-reps``: a whole number from 1 to :data:`sim.runs.monte_carlo.MAX_REPS`."""
    from sim.runs.monte_carlo import MAX_REPS

    value = positive_int(text)
    if value > MAX_REPS:
        raise argparse.ArgumentTypeError(f"at most {MAX_REPS:,} replications a run (got {value:,}); split the work "
                                         "into runs with different seeds, or use --precision")
    return value


def workers_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with ``--workers`` (at least 1, at most the cores this machine gives salesim;
    ignored with ``--scheduler``), or None."""
    from sim.runs.executors import ExecutorError, check_workers

    if args.workers is None or getattr(args, "scheduler", None):
        return None
    try:
        check_workers(args.workers)
    except ExecutorError as exc:
        return str(exc)
    return None


def interrupted_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_TERMINATED if getattr(exc, "signal", None) == signal.SIGTERM else EXIT_INTERRUPTED


def seed_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {value})")
    return value


def err(message: str) -> None:
    print(f"salesim: {message}", file=sys.stderr)


def report_warnings(warnings: list) -> None:
    """Print a scenario's warnings (:mod:`sim.scenario.references`): they never stop a command."""
    for warning in warnings:
        print(f"salesim: warning: {warning}", file=sys.stderr)


def report_problems(file: str, problems: list) -> None:
    n = len(problems)
    print(f"{file}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def monte_carlo(args: argparse.Namespace, work):
    """Run ``work(executor)`` on a Dask cluster (``--scheduler``) or locally; turn the engine's
    errors into a message and an exit code. Returns (result, exit code); result is None on error."""
    from sim.runs.executors import ExecutorError, dask_executor
    from sim.runs.monte_carlo import RunInterrupted, TooManyReps
    from sim.runs.store import StoreError

    client = None
    try:
        executor = None
        if args.scheduler:
            executor, client = dask_executor(args.scheduler)
        return work(executor), EXIT_OK
    except (StoreError, ExecutorError, TooManyReps) as exc:
        err(str(exc))
        return None, EXIT_BAD_INPUT
    except RunInterrupted as exc:
        err(f"{exc}. Run the same command again to resume; only the missing replications will run.")
        return None, interrupted_code(exc)
    finally:
        if client is not None:
            client.close()


def overrides_of(args: argparse.Namespace) -> list[str]:
    """``--set`` overrides, plus ``deterministic=true`` with ``--deterministic``."""
    return [*args.overrides, *(["deterministic=true"] if args.deterministic else [])]


def progress_of(args: argparse.Namespace) -> bool | None:
    """Progress: off with ``--no-progress``; else None — a bar when stderr is a terminal, a line
    every few seconds otherwise (:class:`sim.runs.monte_carlo.ProgressLines`)."""
    return False if args.no_progress else None


REPORT_NAME = "report.html"
"""The decision report's file in a command's results folder (:mod:`sim.cli.report`)."""


def add_report_option(parser: argparse._ActionsContainer, by_default: bool = False) -> None:
    """Add ``--report [FILE]`` to a command that writes results.

    Parameters
    ----------
    parser : parser or argument group
        Where the option goes.
    by_default : bool
        The command writes the report unless told not to: ``--no-report`` is added, and
        ``--report FILE`` only chooses where.
    """
    if by_default:
        parser.add_argument("--report", type=Path, metavar="FILE", default=None,
                            help=f"where to write the decision report (default OUT/{REPORT_NAME})")
        parser.add_argument("--no-report", action="store_true", help="skip the decision report")
    else:
        parser.add_argument("--report", type=Path, nargs="?", const=True, default=None, metavar="FILE",
                            help=f"also write the decision report, one HTML page (default OUT/{REPORT_NAME})")


def write_report(folders: Sequence[Path], out: Path | None, metric: str = "exit_arr_usd",
                 headline: Sequence[str] = (), path_to_stderr: bool = False) -> int:
    """Write the decision report of ``folders`` to ``out``; print its path, and its warnings on the
    error stream.

    Returns
    -------
    int
        ``EXIT_OK``, or ``EXIT_BAD_INPUT`` when the folders cannot make a report (the message says why).
    """
    from sim.present.report import ReportError
    from sim.present.report import write_report as write

    try:
        info = write(folders, out, metric=metric, headline=headline)
    except ReportError as exc:
        err(f"report: {exc}")
        return EXIT_BAD_INPUT
    except Exception as exc:  # a folder damaged in a way no check foresaw: a message, not a traceback
        err(f"report: cannot make a report of {', '.join(map(str, folders))}: unexpected content "
            f"({type(exc).__name__}: {exc}). The results may be damaged; please report it if they are not")
        return EXIT_BAD_INPUT
    for warning in info.warnings:
        err(f"warning: report: incomplete results, labelled as such in the report: {warning}")
    line = f"report: {info.path} ({info.size / 1024:,.0f} KB)"
    if path_to_stderr:  # the standard output is a document (--json)
        err(line)
    else:
        print(line)
    return EXIT_OK


def report_after(args: argparse.Namespace, folders: Sequence[Path], out_dir: Path,
                 headline: Sequence[str] = ()) -> int:
    """After a command that wrote ``folders``: the report, when it is asked for (``--report``) or
    written by default (the command has ``--no-report``, not given). Returns the exit code (0 when
    no report was asked for)."""
    if getattr(args, "no_report", False):
        return EXIT_OK
    wanted = getattr(args, "report", None)
    if wanted is None and not hasattr(args, "no_report"):
        return EXIT_OK
    out = out_dir / REPORT_NAME if wanted in (None, True) else Path(wanted)
    return write_report(folders, out, getattr(args, "metric", None) or "exit_arr_usd", headline,
                        path_to_stderr=bool(getattr(args, "json", False)))
