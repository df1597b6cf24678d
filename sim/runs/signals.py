"""SIGTERM as an interruption: what ``kill``, a job scheduler or a container stop send a run.

This module owns :class:`Terminated` and :func:`sigterm_interrupts`. A run stopped by SIGTERM
stops as one stopped by Ctrl-C does — pending work cancelled, pool workers stopped, finished
replications kept, the manifest marked ``interrupted`` — and the command exits with 143 and a
message instead of dying silently (docs/guides/results-folders.md#faults). It imports only the
standard library, so that the command line can install it before anything else loads.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """A SIGTERM, raised like a Ctrl-C so that a run stops the same way."""


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``). Only in
    the main thread, and only over the default handler: a program that set its own keeps it."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, _raise_terminated):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
