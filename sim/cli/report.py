"""``salesim report`` and the ``--report`` option of ``run``, ``compare``, ``sweep``,
``sensitivity`` and ``plan --simulate``: the decision report, one self-contained HTML page.

``salesim report RESULTS_DIR... [--out FILE]`` reads a comparison folder, one or more run folders
(compared under common random numbers when their seeds and horizons match), a sweep or a
sensitivity folder — or a comparison with the sweeps and sensitivity analyses of the same
scenarios — and writes the page (:mod:`sim.present.report`). ``compare`` writes it by default
(``--no-report`` skips it); the other commands write it with ``--report [FILE]``. Exit codes:
0 written (an incomplete folder is reported, labelled, with a warning), 2 bad input (not a
results folder, folders that cannot be compared, an unknown ``--metric``, an ``--out`` that
cannot be written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import write_report


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``salesim report`` to the command's subparsers."""
    p = sub.add_parser(
        "report", help="write the decision report of results folders: one HTML page to read, print and send",
        description="The decision report of results folders: the answer in words, how sure, at what cost, what it "
                    "depends on, and the assumptions it rests on — one self-contained HTML file (no network, no "
                    "script). Give a comparison folder (compare --out), one or more run folders (compared under "
                    "common random numbers when their seeds and horizons match), a sweep or a sensitivity folder; "
                    "or a comparison together with the sweeps and sensitivity analyses of the same scenarios.")
    p.add_argument("folders", nargs="+", type=Path, metavar="RESULTS_DIR", help="results folders")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="the HTML file (default: RESULTS_DIR/report.html for one folder; for several, "
                        "report_<names>.html beside them)")
    p.add_argument("--metric", default="exit_arr_usd", help="the KPI the verdict is about (default exit_arr_usd)")
    return p


def cmd_report(args: argparse.Namespace) -> int:
    """``salesim report``: write the report of ``args.folders``; the exit code."""
    return write_report(args.folders, args.out, args.metric)
