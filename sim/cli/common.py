"""What every ``salesim`` command shares: exit codes, argument types, messages, and the Monte
Carlo wrapper that turns the engine's errors into a message and an exit code.

Exit codes: 0 success; 1 some replications failed (the rest are saved); 2 bad input (scenario,
arguments, results folder, executor); 3 ``plan --solve`` finished without reaching
``--confidence`` (the best org found is still reported and written); 130 interrupted
(finished replications are saved; run again to resume). Bad input never shows a traceback.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOT_REACHED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


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


def report_problems(file: str, problems: list) -> None:
    n = len(problems)
    print(f"{file}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)


def monte_carlo(args: argparse.Namespace, work):
    """Run ``work(executor)`` on a Dask cluster (``--scheduler``) or locally; turn the engine's
    errors into a message and an exit code. Returns (result, exit code); result is None on error."""
    from sim.runs.executors import ExecutorError, dask_executor
    from sim.runs.monte_carlo import RunInterrupted
    from sim.runs.store import StoreError

    client = None
    try:
        executor = None
        if args.scheduler:
            executor, client = dask_executor(args.scheduler)
        return work(executor), EXIT_OK
    except (StoreError, ExecutorError) as exc:
        err(str(exc))
        return None, EXIT_BAD_INPUT
    except RunInterrupted as exc:
        err(f"{exc}. Run the same command again to resume; only the missing replications will run.")
        return None, EXIT_INTERRUPTED
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


