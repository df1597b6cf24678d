"""The compiled core (a regular ``pip install .``, see ``sim/compiled.py``).

In a pure-Python install these tests check the bookkeeping. In a compiled install (the second
half of ``.ci/run``) they also check that the suite really runs the compiled modules and that
they write exactly the records the Python sources write, replication by replication.
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.compiled import COMPILED_MODULES, compile_mode, compiled_modules, describe

ROOT = Path(__file__).resolve().parents[1]
EXPECT = os.environ.get("SALESIM_EXPECT_COMPILED")
"""Set by ``.ci/run``: "1" when the suite must run against a compiled install, "0" for a pure one."""

DATED = ["start_date=2026-01-01", "calendar.holidays=[2026-01-19, 2026-02-16, 2026-05-25, 2026-07-03]",
         "calendar.pto_days_per_year=15", "calendar.sick_days_per_year=5", "hiring.hires_per_month=1",
         "hiring.waves=[{month: 2026-03-10, role: ae, count: 2}, {month: 2026-04-01, role: sdr, count: 1}]",
         "roles.sdr.outsourced={reps: 1, start_month: 2, end_month: 5}"]
"""A dated scenario: calendar months, a Thursday start, public holidays, absence, dated hiring."""

# (scenario file, overrides): the shipped org charts and hiring plans, and the exit policy that
# drops work, over a year; and the performance workload over six months.
CASES: list[tuple[str, list[str]]] = [
    *((f"scenarios/{name}.yaml", ["horizon_months=12"])
      for name in ("silo", "pod", "hybrid", "hiring_front_loaded", "hiring_back_loaded")),
    ("scenarios/silo.yaml", ["horizon_months=12", "workforce.exit_policy=lose"]),
    ("benchmarks/scenarios/ref.yaml", ["horizon_months=6"]),
    ("scenarios/pod.yaml", ["horizon_months=12", *DATED]),  # a real calendar: shifted weekdays, holidays
]
REPLICATIONS = (0, 1)
SEED = 11


def records_of_cases(root: str) -> dict[str, object]:
    """Every record of every case, as plain Python data (run from ``root``'s scenario files)."""
    from sim.model.world import simulate

    out: dict[str, object] = {}
    for path, overrides in CASES:
        scenario = sim.load_scenario(f"{root}/{path}", overrides=overrides)
        for rep in REPLICATIONS:
            log = simulate(scenario, SEED, rep)
            columns = log.leads.columns()
            out[f"{path} {overrides} rep {rep}"] = (
                {name: column.tolist() for name, column in columns.items()},
                list(log.accounts), list(log.workforce), list(log.levels),
            )
    return out


def test_the_compiled_modules_exist_and_are_reported() -> None:
    for name in COMPILED_MODULES:
        __import__(name)
    compiled = compiled_modules()
    assert set(compiled) <= set(COMPILED_MODULES)
    assert describe() == ("pure Python" if not compiled else
                          f"compiled ({len(compiled)} of {len(COMPILED_MODULES)} core modules)")


@pytest.mark.parametrize(("value", "mode"), [
    ("1", "on"), ("true", "on"), (" Yes ", "on"), ("on", "on"),
    ("0", "off"), ("no", "off"), ("false", "off"), ("OFF", "off"),
    ("", "auto"), ("auto", "auto"),
])
def test_compile_mode_reads_the_environment_variable(value: str, mode: str) -> None:
    assert compile_mode({"SALESIM_COMPILE": value}) == mode
    assert compile_mode({}) == "auto"


def test_compile_mode_refuses_other_values() -> None:
    with pytest.raises(ValueError, match="SALESIM_COMPILE='2'"):
        compile_mode({"SALESIM_COMPILE": "2"})


@pytest.mark.skipif(EXPECT is None, reason="only when .ci/run says which build the suite runs against")
def test_the_suite_runs_the_build_it_was_meant_to() -> None:
    compiled = compiled_modules()
    if EXPECT == "1":
        assert compiled == list(COMPILED_MODULES), "a module fell back to Python: the compiled build is incomplete"
        assert not str(Path(sim.__file__).resolve()).startswith(str(ROOT / "sim")), \
            "the sources in the repository shadow the installed compiled build"
    else:
        assert compiled == []


@pytest.mark.integration
@pytest.mark.skipif(not compiled_modules(), reason="needs a compiled install (pip install .)")
def test_compiled_and_python_write_the_same_records(tmp_path: Path) -> None:
    """Records of the compiled core equal those of the Python sources, bit for bit (NaN = NaN)."""
    compiled = records_of_cases(str(ROOT))
    out = tmp_path / "python.pkl"
    script = (
        "import pickle, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"  # the repository's sources, which shadow the installed build
        f"sys.path.insert(1, {str(Path(__file__).parent)!r})\n"
        "from sim.compiled import compiled_modules\n"
        "assert compiled_modules() == [], compiled_modules()\n"
        "from test_compiled import records_of_cases\n"
        f"pickle.dump(records_of_cases({str(ROOT)!r}), open({str(out)!r}, 'wb'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr
    with out.open("rb") as f:
        python = pickle.load(f)
    assert python.keys() == compiled.keys()
    for key in compiled:
        (leads_c, *tables_c), (leads_p, *tables_p) = compiled[key], python[key]
        assert leads_c.keys() == leads_p.keys(), key
        for name in leads_c:
            np.testing.assert_array_equal(np.asarray(leads_c[name]), np.asarray(leads_p[name]),
                                          err_msg=f"{key}: lead column {name}")
        for table_c, table_p in zip(tables_c, tables_p, strict=True):
            # row by row and value by value, NaN equal to NaN (a time may be the int 0 in one build
            # and 0.0 in the other)
            np.testing.assert_equal(table_c, table_p, err_msg=key)


def test_the_command_line_says_which_build_it_runs(capsys) -> None:
    from sim.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("salesim ") and line.endswith(f"simulation core: {describe()}")


def test_leads_are_left_out_of_the_cycle_collector_where_compiled() -> None:
    """``Lead`` is declared acyclic for mypyc (see its docstring): compiled, the collector does
    not track it; in Python it is an ordinary tracked object."""
    from sim.model.leads import Lead

    assert gc.is_tracked(Lead()) is ("sim.model.leads" not in compiled_modules())


def test_a_finished_replication_leaves_nothing_behind() -> None:
    """Everything a replication made is freed once it is dropped — the promise that lets the
    compiled build keep leads out of the cycle collector: a lead that held a rep (or anything
    leading back to the world) would keep the whole world alive. The run ends with deals open
    and steps still on the calendar, all of them referring to leads."""
    from sim.model.world import World

    scenario = sim.load_scenario(str(ROOT / "benchmarks/scenarios/ref.yaml"), overrides=["horizon_months=3"])
    world = World(scenario, SEED, 0)
    log = world.run()
    assert world.env.timeline.queue, "the run should end with steps still on the calendar"
    assert (log.leads.columns()["state"] == int(sim.eventlog.LeadState.OPEN)).any()
    env = weakref.ref(world.env)
    del world, log
    gc.collect()
    assert env() is None, "a finished replication was not freed: something refers back to it from a lead"
