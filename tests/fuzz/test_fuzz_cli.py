"""Fuzz: malformed scenario files and command lines, made from the shipped scenarios by a seeded
mutator (``mutator.py``), through :func:`sim.cli.main` in-process.

Every case must end in one of two ways:

* **refused**: exit code 2, every problem on a line that names the file (with its line) or
  ``--set``, or an argparse message naming the flag — and no traceback;
* **accepted**: exit code 0, and then a short run of it (1 replication, ``--set horizon_months=1``,
  volumes capped at a few thousand leads) completes with exit code 0.

A fast slice of 50 scenario cases and the command-line cases run in the default tier; 1,200 more
scenario cases in the slow tier (``-m slow``).
"""

from __future__ import annotations

import contextlib
import io
import math
from collections import Counter
from pathlib import Path

import pytest
from mutator import ROOT, Case, make_case

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK

FAST_SEED, SLOW_SEED = 28, 2028
FAST_CASES, SLOW_CASES = 50, 1200
MINIMAL = ROOT / "tests" / "data" / "minimal.yaml"
MAX_LEADS_A_MONTH = 3000
OUTCOMES: Counter[str] = Counter()


def cli(*args: object) -> tuple[int, str, str]:
    """``salesim ARGS`` in-process: (exit code, stdout, stderr); argparse errors are exit codes too."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _volume_caps(file: Path, overrides: list[str]) -> list[str]:
    """Overrides that keep a month of the accepted scenario to a few thousand leads (a mutation may
    have raised its volumes anywhere up to the limits, which a fuzz run need not spend minutes on)."""
    from sim.scenario import load_checked

    scenario = load_checked(file, [*overrides, "horizon_months=1"]).scenario
    caps = []
    if scenario.inbound is not None and scenario.inbound.arrival_times_days is None:
        season = scenario.inbound.seasonality[0] if scenario.inbound.seasonality else 1.0
        if scenario.inbound.mqls_per_month * season > MAX_LEADS_A_MONTH:
            caps.append(f"inbound.mqls_per_month={MAX_LEADS_A_MONTH / max(season, 1e-9) / 2:.6g}")
    if scenario.outbound is not None and scenario.outbound.worked_by in scenario.roles:
        reps = scenario.roles[scenario.outbound.worked_by].headcount + 10
        if scenario.outbound.prospects_per_rep_month * reps > MAX_LEADS_A_MONTH:
            caps.append(f"outbound.prospects_per_rep_month={math.floor(MAX_LEADS_A_MONTH / reps)}")
    return caps


def check_case(case: Case, tmp: Path, command: bool = True) -> str:
    """Run one case; return its outcome ("refused" or "ran"), or raise AssertionError saying why not.
    An accepted case runs through ``salesim run`` (``command``), or as one replication in this
    process (what the fast slice does for most cases: the same simulation without the results
    folder's files, a fifth of the time)."""
    file = tmp / f"case_{case.index}.yaml"
    file.write_text(case.text, encoding="utf-8")
    sets = [arg for text in case.overrides for arg in ("--set", text)]
    code, _, err = cli("validate", file, *sets)
    why = case.describe()
    assert "Traceback" not in err, f"{why}\n{err}"
    if code == EXIT_BAD_INPUT:
        lines = err.strip().splitlines()
        assert lines and lines[0].startswith(f"{file}: "), f"{why}\n{err}"
        for line in lines[1:]:
            if line.startswith("salesim: warning:"):
                continue
            assert line.startswith(f"  {file}") or line.startswith("  --set"), f"{why}: unlocated problem\n{err}"
        return "refused"
    assert code == EXIT_OK, f"{why}: exit code {code}\n{err}"
    caps = [arg for text in _volume_caps(file, case.overrides) for arg in ("--set", text)]
    if not command:
        from sim.runs.replication import simulate_one
        from sim.scenario import load_checked

        scenario = load_checked(file, [*case.overrides, "horizon_months=1", *caps[1::2]]).scenario
        assert set(simulate_one(scenario, 1, 0)[0]), why
        return "ran"
    code, _out, err = cli("run", file, *sets, "--set", "horizon_months=1", *caps, "--reps", 1, "--workers", 1,
                         "--out", tmp / f"out_{case.index}", "--no-progress")
    assert "Traceback" not in err, f"{why}\n{err}"
    assert code == EXIT_OK, f"{why}: validated, then the run exited {code}\n{err}"
    return "ran"


@pytest.mark.parametrize("index", range(FAST_CASES))
def test_fuzz_scenario_fast(index: int, tmp_path: Path) -> None:
    OUTCOMES[check_case(make_case(FAST_SEED, index), tmp_path, command=index % 10 == 0)] += 1


@pytest.mark.slow
def test_fuzz_scenario_many(tmp_path: Path) -> None:
    failures, outcomes = [], Counter()
    for index in range(SLOW_CASES):
        try:
            outcomes[check_case(make_case(SLOW_SEED, index), tmp_path)] += 1
        except AssertionError as exc:
            failures.append(str(exc))
    print(f"fuzz: {SLOW_CASES} cases: {dict(outcomes)}, {len(failures)} failures")
    assert not failures, "\n\n".join(failures[:10])


# --------------------------------------------------------------------------- command lines

BAD_FLAGS: list[tuple[str, ...]] = [
    ("run", "{minimal}", "--reps", "0"), ("run", "{minimal}", "--reps", "-1"), ("run", "{minimal}", "--reps", "1e99"),
    ("run", "{minimal}", "--reps", "abc"), ("run", "{minimal}", "--reps", "100000000000"),
    ("run", "{minimal}", "--reps", "1.5"), ("run", "{minimal}", "--reps", ""),
    ("run", "{minimal}", "--workers", "0"), ("run", "{minimal}", "--workers", "-3"),
    ("run", "{minimal}", "--workers", "999"), ("run", "{minimal}", "--workers", "x"),
    ("run", "{minimal}", "--seed", "-1"), ("run", "{minimal}", "--seed", "abc"),
    ("run", "{minimal}", "--seed", "9" * 5000),
    ("run", "{minimal}", "--out", "{file}"), ("run", "{minimal}", "--out", "{file}/sub"),
    ("run", "{minimal}", "--precision", "0"), ("run", "{minimal}", "--precision", "1"),
    ("run", "{minimal}", "--precision", "nan"), ("run", "{minimal}", "--precision", "0.1", "--metric", "bogus"),
    ("run", "{minimal}", "--max-reps", "0"), ("run", "{minimal}", "--scheduler", "tcp://127.0.0.1:1"),
    ("run", "{missing}"), ("run", "{folder}"), ("run", "{minimal}", "--set", "roles.AE.headcount=2"),
    ("run", "{minimal}", "--set", "noequals"), ("run", "{minimal}", "--set", "=3"),
    ("run", "{minimal}", "--set", "roles.ae.headcount=[unclosed"), ("run", "{minimal}", "--set", "horizon_months=.nan"),
    ("run", "{minimal}", "--unknown-flag"), ("run",),
    ("compare", "{minimal}"), ("compare", "{minimal}", "{minimal}"), ("compare", "{minimal}", "{missing}"),
    ("compare", "{minimal}", "{minimal}", "--workers", "999"),
    ("validate", "{missing}"), ("validate", "{folder}"), ("validate", "/dev/zero"), ("validate", "{binary}"),
    ("validate", "{minimal}", "--set", "+"), ("validate", "{minimal}", "--set", "+roles"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "-5"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "nan"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "inf"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "0"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e30"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "abc"),
    ("plan", "--scenario", "{minimal}", "--monthly-new-mrr", "1e308"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--churn", "-1"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--churn", "1"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--churn", "nan"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--invoice-lag", "-1"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--invoice-lag", "99"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--horizon", "0"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--horizon", "121"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--inbound-share", "2"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--mqls-per-month", "-1"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--mqls-per-month", "inf"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--confidence", "0.9"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--solve", "--confidence", "1.5"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--simulate", "--reps", "0"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--simulate", "--workers", "999"),
    ("plan", "--scenario", "{minimal}", "--annual-revenue", "1e6", "--write-scenario", "{file}"),
    ("plan", "--scenario", "{missing}", "--annual-revenue", "1e6"),
    ("nonsense",), (),
]


@pytest.mark.parametrize("argv", BAD_FLAGS, ids=lambda argv: " ".join(argv)[:60] or "nothing")
def test_fuzz_command_line(argv: tuple[str, ...], tmp_path: Path) -> None:
    paths = {"minimal": MINIMAL, "missing": tmp_path / "missing.yaml", "folder": tmp_path,
             "file": tmp_path / "a_file", "binary": tmp_path / "binary.yaml"}
    paths["file"].write_text("x")
    paths["binary"].write_bytes(bytes(range(256)))
    args = [a.format(**paths) for a in argv]
    with contextlib.chdir(tmp_path):
        code, _out, err = cli(*args)
    assert "Traceback" not in err, err
    assert code in (EXIT_OK, EXIT_BAD_INPUT), (code, err)
    if code == EXIT_BAD_INPUT:
        first = err.strip().splitlines()[0] if err.strip() else ""
        assert first.startswith(("salesim", "usage: salesim")) or ": " in first, err
        flags = [a for a in args if a.startswith("--")]
        files = [a for a in args if Path(a).name.endswith((".yaml", "a_file")) or a in {str(tmp_path), "/dev/zero"}]
        words = [*flags, *files, "argument", "plan:", "compare", "--set", "command", "scheduler"]
        named = [x for x in words if x in err]
        assert named, f"the message names no flag or file:\n{err}"
