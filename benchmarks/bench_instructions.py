"""Instructions per lead: a deterministic A/B measure of the simulator's cost, immune to CPU drift.

Wall-clock timings on a shared or virtual machine drift by tens of percent over minutes, which
hides the 1–5% changes that most optimisations are made of. This script counts the machine
instructions the simulation executes instead, under ``valgrind --tool=callgrind``: with
``PYTHONHASHSEED=0`` and one BLAS thread the count is the same run after run, whatever else the
machine is doing.

It runs the reference workload (``benchmarks/scenarios/ref.yaml``, optionally scaled) for one
month and for ``--months`` months in separate processes and reports the difference — the
instructions of months 2…N, without Python's start-up and imports — per lead created in those
months. With ``--against REV`` it does the same for a git revision checked out in a temporary
worktree, and prints the ratio.

Instructions are not time: memory stalls (which grow with the org, see ``bench_perf.py``) do
not show. Use this to decide whether a change to the per-lead work pays, and ``bench_perf.py``
for the targets. Run from the repository root::

    python benchmarks/bench_instructions.py                      # this checkout, ref, months 2-3
    python benchmarks/bench_instructions.py --against HEAD~3     # A/B against an older revision
    python benchmarks/bench_instructions.py --scale 4 --months 2

Needs ``valgrind`` (Debian package ``valgrind``). About 15 s per process on this machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys
root, scale, months = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [root, root + "/benchmarks"]
from bench_perf import salesim_scenario
from sim.model.world import World
log = World(salesim_scenario(scale, months=months), 1, 0).run()
print("leads", len(log.leads))
"""
"""Simulates one replication of ref (× scale) over ``months`` with the code under ``root``."""

_COLLECTED = re.compile(r"Collected\s*:\s*([\d,]+)")
_LEADS = re.compile(r"^leads (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class Count:
    """What one process under callgrind executed."""

    instructions: int
    leads: int


@dataclass(frozen=True)
class Measure:
    """Instructions of months 2…N of one code base (the N-month run minus the 1-month run)."""

    root: str
    instructions: int
    leads: int

    @property
    def per_lead(self) -> float:
        return self.instructions / self.leads if self.leads else float("nan")


def parse_count(stderr: str, stdout: str) -> Count:
    """The instruction total callgrind printed and the lead count the child printed.

    Raises
    ------
    ValueError
        When either is missing (callgrind or the child failed).
    """
    collected, leads = _COLLECTED.search(stderr), _LEADS.search(stdout)
    if collected is None or leads is None:
        raise ValueError("no instruction count or lead count in the output:\n" + stderr[-2000:] + stdout[-500:])
    return Count(int(collected.group(1).replace(",", "")), int(leads.group(1)))


def difference(short: Count, long: Count, root: str) -> Measure:
    """Months 2…N: the long run minus the one-month run (start-up, imports and month 1 cancel)."""
    return Measure(root, long.instructions - short.instructions, long.leads - short.leads)


def count(root: Path, scale: int, months: int) -> Count:
    """Run the child under callgrind for ``months`` months with the code under ``root``."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", CHILD, str(root), str(scale), str(months)],
        capture_output=True, text=True, env=env, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the simulation under valgrind failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
    return parse_count(out.stderr, out.stdout)


def measure(root: Path, scale: int, months: int, pool: ThreadPoolExecutor) -> Measure:
    """Instructions of months 2…``months`` with the code under ``root`` (both runs side by side)."""
    short, long = pool.submit(count, root, scale, 1), pool.submit(count, root, scale, months)
    return difference(short.result(), long.result(), str(root))


def worktree(rev: str) -> Path:
    """A temporary detached worktree of ``rev`` (removed by :func:`drop_worktree`)."""
    path = Path(tempfile.mkdtemp(prefix="salesim-ab-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(path), rev],
                   check=True, capture_output=True, text=True)
    return path


def drop_worktree(path: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)],
                   check=False, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def report(measures: list[Measure], months: int, scale: int) -> str:
    """The table: instructions of months 2…N, leads, instructions per lead, ratio to the first row."""
    lines = [f"ref×{scale}, months 2–{months} (the {months}-month run minus the 1-month run), under callgrind",
             f"{'code':<40} {'instructions':>14} {'leads':>8} {'per lead':>10} {'ratio':>7}"]
    base = measures[0].per_lead
    for m in measures:
        lines.append(f"{m.root[-40:]:<40} {m.instructions:>14,} {m.leads:>8,} {m.per_lead:>10,.0f} "
                     f"{m.per_lead / base:>7.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply every headcount and the lead rate (default 1)")
    parser.add_argument("--months", type=int, default=3, help="length of the long run, at least 2 (default 3)")
    parser.add_argument("--against", metavar="REV", help="also measure this git revision, and the ratio")
    args = parser.parse_args(argv)
    if args.months < 2 or args.scale < 1:
        parser.error("--months must be at least 2 and --scale at least 1")
    if shutil.which("valgrind") is None:
        print("bench_instructions: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    roots = [ROOT]
    other = None
    try:
        if args.against:
            other = worktree(args.against)
            roots.insert(0, other)
        with ThreadPoolExecutor(max_workers=2) as pool:
            measures = [measure(root, args.scale, args.months, pool) for root in roots]
    except (subprocess.CalledProcessError, RuntimeError, ValueError) as exc:
        detail = exc.stderr if isinstance(exc, subprocess.CalledProcessError) else exc
        print(f"bench_instructions: {detail}", file=sys.stderr)
        return 1
    finally:
        if other is not None:
            drop_worktree(other)
    if other is not None:
        measures[0] = Measure(f"{args.against} ({other.name})", measures[0].instructions, measures[0].leads)
    print(report(measures, args.months, args.scale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
