"""Deterministic mode holds tenures at their conditional means (``sim.scenario.deterministic``).

A rep on staff at the start with ``t0`` months of tenure stays ``E[T − t0 | T > t0]`` more
months, a new hire ``E[T]``: in the spreadsheet's world nobody leaves in month 1 because their
tenure so far happens to exceed the mean.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

import sim
from sim.eventlog import WorkforceEvent
from sim.metrics import monthly_series
from sim.model.world import simulate
from sim.scenario.deterministic import ResidualMean, durations_at_means, mean_residual
from sim.scenario.dists import Lognormal, Weibull
from sim.workcalendar import DAYS_PER_MONTH

SILO = "scenarios/silo.yaml"
QUIET = ["inbound.mqls_per_month=42", "outbound.prospects_per_rep_month=48"]
"""A tenth of the silo's leads: who joins and leaves does not depend on them (no quota attrition in the
silo), and a 36-month run takes a fifth of the time."""


@pytest.mark.parametrize("t0", [0.0, 6.0, 18.0, 40.0, 100.0])
def test_mean_residual_of_a_weibull_matches_the_survival_integral(t0: float) -> None:
    d = sps.weibull_min(1.5, scale=30.0)
    exact = integrate.quad(d.sf, t0, np.inf)[0] / d.sf(t0)
    assert mean_residual(Weibull(dist="weibull", scale=30.0, shape=1.5), t0) == pytest.approx(exact, rel=1e-4)


def test_mean_residual_of_a_lognormal_matches_the_survival_integral() -> None:
    d = sps.lognorm(0.6, scale=20.0)
    exact = integrate.quad(d.sf, 12.0, np.inf)[0] / d.sf(12.0)
    got = mean_residual(Lognormal(dist="lognormal", median=20.0, sigma=0.6), 12.0)
    assert got == pytest.approx(exact, rel=1e-3)


def test_the_transform_wraps_tenures_and_keeps_other_durations_constant() -> None:
    scenario = durations_at_means(sim.load_scenario(SILO))
    ae = scenario.roles["ae"]
    assert isinstance(ae.tenure_months, ResidualMean)
    assert ae.tenure_months.mean == pytest.approx(30.0 * math.gamma(1 + 1 / 1.5))
    assert ae.time_to_fill_days.dist == "constant"


def test_nobody_leaves_in_month_1_of_the_shipped_silo() -> None:
    """Before: every starting rep whose tenure exceeded the mean (2 AEs, 1 MDR) left at day 0."""
    scenario = sim.load_scenario(SILO, overrides=["deterministic=true", "horizon_months=1"])  # month 1 is all it reads
    series = monthly_series(simulate(scenario, 1, 0), scenario)
    for role in scenario.roles:
        assert series[f"exits.{role}"][1] == 0, role


def _workforce(overrides: list[str]) -> tuple[list, dict[int, float], dict[int, float]]:
    """(role of each rep, start/hire day of each rep, exit day of each rep) of one deterministic run."""
    log = simulate(sim.load_scenario(SILO, overrides=["deterministic=true", *QUIET, *overrides]), 1, 0)
    wf = log.workforce_table()
    joined, left, roles = {}, {}, {}
    for t, kind, role, rep in zip(wf["t"], wf["kind"], wf["role"], wf["rep"], strict=True):
        roles[int(rep)] = log.roles[int(role)]
        if kind in (WorkforceEvent.START, WorkforceEvent.HIRE):
            joined[int(rep)] = float(t)
        elif kind == WorkforceEvent.EXIT:
            left[int(rep)] = float(t)
    return roles, joined, left


def test_starting_reps_stay_their_mean_residual_tenure() -> None:
    """An AE with 40 months' tenure stays E[T − 40 | T > 40] more months (about 15)."""
    roles, _, left = _workforce(["horizon_months=18", "roles.ae.headcount=1", "roles.ae.initial_tenure_months=[40]"])
    ae = next(rep for rep, role in roles.items() if role == "ae")
    expected = mean_residual(sim.load_scenario(SILO).roles["ae"].tenure_months, 40.0) * DAYS_PER_MONTH
    assert left[ae] == pytest.approx(expected, rel=1e-9)


def test_a_hire_stays_the_mean_tenure() -> None:
    """SDRs (mean tenure ~14 months) leave and are backfilled within 3 years; each hire stays E[T]."""
    roles, joined, left = _workforce(["horizon_months=36"])
    scenario = sim.load_scenario(SILO)
    hired = [rep for rep in left if joined[rep] > 0]
    assert hired
    for rep in hired:
        mean = scenario.roles[roles[rep]].tenure_months.mean
        assert left[rep] - joined[rep] == pytest.approx(mean * DAYS_PER_MONTH, rel=1e-9)


def test_run_deterministic_says_what_it_is(tmp_path, capsys) -> None:
    from sim.cli import main

    code = main(["run", "tests/data/minimal.yaml", "--no-figures", "--reps", "1", "--workers", "1", "--no-progress",
                 "--deterministic", "--out", str(tmp_path / "det")])
    out = capsys.readouterr().out
    assert code == 0
    assert "the spreadsheet's world" in out and "conditional mean" in out
    code = main(["run", "tests/data/minimal.yaml", "--no-figures", "--reps", "1", "--workers", "1", "--no-progress",
                 "--out", str(tmp_path / "random")])
    assert "spreadsheet's world" not in capsys.readouterr().out


def test_compare_deterministic_says_what_it_is(tmp_path, capsys) -> None:
    from sim.cli import main

    # no figures, no report: the note is in what the command prints (the report has no deterministic path)
    code = main(["compare", SILO, "scenarios/pod.yaml", "--reps", "1", "--workers", "1", "--no-progress",
                 "--no-figures", "--no-report", "--deterministic", "--set", "horizon_months=1",
                 "--out", str(tmp_path / "c")])
    assert code == 0
    assert "the spreadsheet's world" in capsys.readouterr().out
