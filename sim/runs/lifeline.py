"""Imported by the process pool's fork server only (``FORKSERVER_PRELOAD``): the server ends when
the process that started it dies, however it dies, so that a ``kill -9`` of a run leaves no
process behind.

A pool's workers are forked from the fork server, not from the run's process: the parent-death
signal each worker sets (:func:`sim.runs.executors.process_pool`) fires when the *server* dies.
Without this module the server outlived a killed run, and so did its workers, one still computing.
Linux only (``prctl``); elsewhere the server notices its parent is gone when its pipe closes.

Nothing else may import this module: its import ties the importing process's life to its parent.
"""

from __future__ import annotations

import os
import signal
import sys


def _tie_to_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except OSError:  # pragma: no cover - no libc
        return
    if os.getppid() == 1:  # the parent died before the call: nobody will send the signal
        os._exit(0)
    # SIGTERM to the run's process group is the run's to handle (it stops the workers itself);
    # the server and the workers forked from it ignore it, as they ignore Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


_tie_to_parent()
