"""Reps differ: the per-seat skill multiplier (``roles.<name>.skill``, issue 24 point 4).

* with spread zero (and median 1) the records equal today's bit for bit;
* skills are latent per (role, seat, generation): another role's headcount or an extra seat never
  changes a seat's skill (common random numbers pair the same people across scenarios);
* the drawn skills follow the lognormal law (log-mean and log-sd within 4 standard errors);
* on conversion, a better median wins at least as many of the same leads (odds act monotonically);
  on capacity, it raises the role's capacity in FTE by the median;
* a non-positive median: file:line, exit 2, through the CLI.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scenario_builders import build, funnel_scenario, merge

import sim
from sim.metrics import kpis, monthly_series
from sim.model.world import World, simulate

SILO = Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml"


def _records(overrides: list[str]):
    scenario = sim.load_scenario(SILO, overrides=["horizon_months=4", *overrides])
    log = simulate(scenario, 3, 0)
    return log.lead_table(), kpis(log, scenario), log.workforce


@pytest.mark.parametrize("skill", ["{sigma: 0}", "{sigma: 0, median: 1, applies_to: capacity}"])
def test_spread_zero_is_today_bit_for_bit(skill: str) -> None:
    leads, got, workforce = _records([])
    leads_s, got_s, workforce_s = _records([f"roles.ae.skill={skill}", f"roles.sdr.skill={skill}"])
    assert repr(got_s) == repr(got)  # NaN (no quota) included
    assert workforce_s == workforce
    for name, column in leads.items():
        np.testing.assert_array_equal(leads_s[name], column, err_msg=name)


def _skills(scenario, role: str, seats: range, generation: int = 0) -> list[float]:
    world = World(scenario, 11, 0)
    pool = world.workforce.pools_of_role[role][0]
    return [world.workforce._skill(pool, seat, generation) for seat in seats]


def test_a_seats_skill_is_latent_and_does_not_move_with_the_org() -> None:
    data = funnel_scenario(mqls_per_month=10.0, horizon_months=1, qualify_probability=0.5,
                           leakage_probability=0.0, pass_probability=0.5, n_ae=3)
    data["roles"]["ae"]["skill"] = {"median": 1.2, "sigma": 0.5}
    base = _skills(build(data), "ae", range(3))
    bigger = merge(data, {"roles": {"ae": {"headcount": 8}, "mdr": {"headcount": 4}}})
    assert _skills(build(bigger), "ae", range(3)) == base
    assert _skills(build(data), "ae", range(3), generation=1) != base  # the seat's next person differs
    assert len(set(base)) == 3


def test_skills_follow_the_lognormal_law() -> None:
    data = funnel_scenario(mqls_per_month=10.0, horizon_months=1, qualify_probability=0.5,
                           leakage_probability=0.0, pass_probability=0.5)
    data["roles"]["ae"]["skill"] = {"median": 1.5, "sigma": 0.4}
    logs = np.log(_skills(build(data), "ae", range(2000)))
    se_mean = 0.4 / math.sqrt(logs.size)
    se_sd = 0.4 / math.sqrt(2 * (logs.size - 1))
    assert abs(np.mean(logs) - math.log(1.5)) < 4 * se_mean
    assert abs(np.std(logs, ddof=1) - 0.4) < 4 * se_sd


def test_better_closers_win_at_least_as_many_of_the_same_leads() -> None:
    data = funnel_scenario(mqls_per_month=200.0, horizon_months=3, qualify_probability=0.5,
                           leakage_probability=0.0, pass_probability=0.4, n_ae=2)
    base = kpis(simulate(build(data), 5, 0), build(data))
    better = merge(data, {"roles": {"ae": {"skill": {"median": 1.5}}}})
    got = kpis(simulate(build(better), 5, 0), build(better))
    assert got["sqls"] == base["sqls"]  # the AEs' skill does not touch the MDR's work
    assert got["wins"] >= base["wins"] and got["wins"] > 0


def test_skill_on_capacity_scales_the_roles_fte() -> None:
    data = funnel_scenario(mqls_per_month=20.0, horizon_months=2, qualify_probability=0.5,
                           leakage_probability=0.0, pass_probability=0.5, n_ae=2)
    data["roles"]["ae"]["skill"] = {"median": 1.25, "applies_to": "capacity"}
    scenario = build(data)
    series = monthly_series(simulate(scenario, 5, 0), scenario)
    assert series["capacity_fte.ae"][1] == pytest.approx(2 * 1.25, rel=1e-12)


def test_a_non_positive_skill_median_is_located_and_exits_2(tmp_path, minimal_text: str, capsys) -> None:
    from sim.cli import main
    from sim.cli.common import EXIT_BAD_INPUT

    text = minimal_text.replace("    max_open_opportunities: 10\n",
                                "    max_open_opportunities: 10\n    skill: {median: 0, sigma: 0.3}\n", 1)
    path = tmp_path / "skill.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and out == "" and "Traceback" not in err
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "skill:" in row)
    assert f"{path}:{line}: roles.ae.skill.median: " in err and "greater than 0" in err
