"""Reorganizing during the run (``reorg:``, issue 22): the edges that must be exact, the
relation under common random numbers, conservation, and bad input with file:line and exit 2."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sim import load_scenario
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT
from sim.eventlog import LeadState
from sim.metrics import kpis
from sim.model.world import World, simulate
from sim.scenario import ReorgSpec

REPO = Path(__file__).resolve().parents[1]
SHORT = ["horizon_months=8", "inbound.mqls_per_month=150", "outbound.prospects_per_rep_month=160"]


def small(path: str, *extra: str):
    return load_scenario(REPO / path, [*SHORT, *extra])


def same_outputs(a, b, scenario_a, scenario_b) -> None:
    la, lb = a.lead_table(), b.lead_table()
    assert la.keys() == lb.keys()
    for name in la:
        np.testing.assert_array_equal(la[name], lb[name], err_msg=name)
    ka, kb = kpis(a, scenario_a), kpis(b, scenario_b)
    assert {k: repr(v) for k, v in ka.items()} == {k: repr(v) for k, v in kb.items()}
    assert a.accounts == b.accounts and a.workforce == b.workforce


@functools.cache
def pod_org():
    """The shipped POD org (loaded once: the scenario objects are immutable)."""
    return load_scenario(REPO / "scenarios/pod.yaml", SHORT).org


def pod_reorg(scenario, month: int, **transition) -> ReorgSpec:
    return ReorgSpec(month=month, org=pod_org(), **transition)


def with_reorg(scenario, *changes: ReorgSpec):
    return scenario.model_copy(update={"reorg": list(changes)})


@pytest.mark.parametrize("seed", [1, 7])
def test_reorg_at_month_zero_without_disruption_is_the_target_org(seed):
    silo, pod = small("scenarios/silo.yaml"), small("scenarios/pod.yaml")
    moved = with_reorg(silo, pod_reorg(silo, 0))
    same_outputs(simulate(moved, seed, 0), simulate(pod, seed, 0), moved, pod)


def test_reorg_after_the_horizon_is_the_original_org():
    silo = small("scenarios/silo.yaml")
    late = with_reorg(silo, pod_reorg(silo, 30, transition_weeks=4, productivity_multiplier=0.5, cost_usd=1e5))
    same_outputs(simulate(late, 3, 1), simulate(silo, 3, 1), late, silo)


def test_a_neutral_transition_at_month_zero_changes_nothing_but_a_disruptive_one_does():
    silo, pod = small("scenarios/silo.yaml"), small("scenarios/pod.yaml")
    neutral = with_reorg(silo, pod_reorg(silo, 0, transition_weeks=8, productivity_multiplier=1.0))
    same_outputs(simulate(neutral, 1, 0), simulate(pod, 1, 0), neutral, pod)
    dip = with_reorg(silo, pod_reorg(silo, 0, transition_weeks=8, productivity_multiplier=0.5))
    assert kpis(simulate(dip, 1, 0), dip)["wins"] < kpis(simulate(pod, 1, 0), pod)["wins"]


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_deeper_productivity_dip_never_raises_wins_under_crn(replication):
    """Replication by replication (the same market): less capacity works fewer leads. Queues can
    reorder single leads, so this is not a theorem for every seed; it held for all eight replications
    checked when it was written (wins 128, 126, 118, 93 at dips 1.0, 0.8, 0.5, 0.2 in replication 0)."""
    silo = small("scenarios/silo.yaml")
    wins = []
    for dip in (1.0, 0.8, 0.5, 0.2):
        scenario = with_reorg(silo, pod_reorg(silo, 2, transition_weeks=12, productivity_multiplier=dip))
        wins.append(kpis(simulate(scenario, 5, replication), scenario)["wins"])
    assert all(a >= b for a, b in itertools.pairwise(wins)), wins


def test_reorg_cost_lands_in_its_month():
    silo = small("scenarios/silo.yaml", "horizon_months=5")  # the reorg month and the next are what is read
    plain = simulate(silo, 2, 0)
    costly = with_reorg(silo, pod_reorg(silo, 3, cost_usd=25_000.0))
    log = simulate(costly, 2, 0)
    assert log.reorgs == [(World(costly, 2, 0).month_starts[3], 25_000.0)]
    free = with_reorg(silo, pod_reorg(silo, 3, cost_usd=0.0))
    from sim.metrics import monthly_series
    series = monthly_series(log, costly)
    extra = series["cost_usd"][1:] - monthly_series(simulate(free, 2, 0), free)["cost_usd"][1:]
    # the same market and the same reorg: the one-off cost is the only difference, all in month 4
    np.testing.assert_allclose(extra, [0.0, 0.0, 0.0, 25_000.0, 0.0], atol=1e-6)
    assert kpis(log, costly)["cost_usd"] != kpis(plain, silo)["cost_usd"]
    assert series["headcount.ae@east"][3] == 0 and series["headcount.ae@east"][4] > 0
    assert series["headcount.ae@org"][4] == 0 and series["headcount.ae@org"][3] > 0


def _states_and_owners(world: World):
    log = world.run()
    leads = log.lead_table()
    ids = leads["lead"]
    assert len(np.unique(ids)) == len(ids), "a lead recorded twice"
    assert np.all(np.isin(leads["state"], [int(s) for s in LeadState]))
    accounts = world.accounts
    for account in np.flatnonzero(accounts.active[: len(accounts.lead_ids)]):
        owner = accounts._owner_of(int(account))
        pool = accounts.pool_of[int(account)]
        if owner is not None:
            assert owner.active and int(account) in owner.items and owner.pool is pool and not pool.retired
        elif pool is not None:  # counted uncovered: waiting for an owner of a live pool
            assert int(account) in accounts.orphans.get(pool.pool_index, set())
    for rep in accounts.owners:
        assert rep.load == len(rep.items)
    return log


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(month=st.integers(1, 7), pipeline=st.sampled_from(["keep", "reassign"]),
       accounts=st.sampled_from(["follow_owner", "rebalance"]), ae=st.integers(4, 8),
       replication=st.integers(0, 3))
def test_leads_and_accounts_are_conserved_through_the_change(month, pipeline, accounts, ae, replication):
    silo = small("scenarios/silo.yaml")
    target = pod_org()
    east, west = ae // 2, ae - ae // 2
    pods = {"east": target.pods["east"].model_copy(update={"composition": {"mdr": 1, "sdr": 2, "ae": east, "csm": 1}}),
            "west": target.pods["west"].model_copy(update={"composition": {"mdr": 1, "sdr": 2, "ae": west, "csm": 1}})}
    change = ReorgSpec(month=month, org=target.model_copy(update={"pods": pods}), headcount={"ae": ae},
                       pipeline=pipeline, accounts=accounts, context_loss_odds_multiplier=0.7,
                       attrition_hazard_multiplier=2.0, attrition_months=3)
    scenario = with_reorg(silo, change)
    world = World(scenario, 11, replication)
    log = _states_and_owners(world)
    # every lead created ends in exactly one record: the plain run's inbound MQLs are the same leads
    inbound = log.lead_table()["lead"] < 1_000_000_000
    assert np.array_equal(np.sort(log.lead_table()["lead"][inbound]), plain_inbound_leads(replication))
    assert all(len(p.reps) == 0 and p.open_requisitions == 0 for p in world.pools if p.retired)


@functools.cache
def plain_inbound_leads(replication: int) -> np.ndarray:
    """The sorted inbound lead ids of the silo without a reorg (seed 11), run once per replication
    for all the examples above."""
    plain = simulate(small("scenarios/silo.yaml"), 11, replication).lead_table()
    return np.sort(plain["lead"][plain["lead"] < 1_000_000_000])


# --------------------------------------------------------------------------- bad input

TEMPLATE = """\
extends: {silo}
name: reorg_variant
horizon_months: 12
reorg:
  - month: 4
    transition_weeks: 8
    org:
      structure: pod
      pods:
        east:
          composition: {{mdr: 1, sdr: 2, ae: 3, csm: 3}}
          regions: [east]
        west:
          composition: {{mdr: 1, sdr: 2, ae: 3, csm: 3}}
          regions: [west]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variant.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def template() -> str:
    return TEMPLATE.format(silo=REPO / "scenarios" / "silo.yaml")


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    return [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line][occurrence - 1]


def test_the_reorg_template_is_valid(tmp_path):
    assert main(["validate", str(write(tmp_path, template()))]) == 0


SECOND = "  - month: 6\n    org: {structure: silo}\n"

INVALID = [
    pytest.param([("- month: 4", "- month: 12")],
                 [("- month: 12", "reorg.0.month: the reorg's month 12 is not inside")],
                 id="month_outside_the_horizon"),
    pytest.param([("ae: 3, csm: 3}\n          regions: [west]", "ae: 4, csm: 3}\n          regions: [west]")],
                 [("pods:", "reorg.0.org.pods: headcount is 6 but the PODs' compositions hold 7 ae")],
                 id="compositions_do_not_add_up"),
    pytest.param([("regions: [west]\n", "regions: [west]\n  - month: 4\n    org: {structure: silo}\n")],
                 [("- month: 4", "reorg.1.month: two reorgs in month 4")], id="two_reorgs_in_a_month"),
    pytest.param([("transition_weeks: 8", "transition_weeks: 40")],
                 [("transition_weeks: 40", "reorg.0.transition_weeks: a transition of 40 weeks outlasts the run")],
                 id="transition_longer_than_the_rest_of_the_run"),
    pytest.param([("transition_weeks: 8", "transition_weeks: 8\n    headcount: {vp: 1}")],
                 [("headcount: {vp: 1}", "reorg.0.headcount.vp: role 'vp' does not exist")], id="unknown_role"),
]


@pytest.mark.parametrize("replacements, expected", INVALID)
def test_bad_reorgs_are_reported_with_file_and_line(tmp_path, capsys, replacements, expected):
    text = template()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = write(tmp_path, text)
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert "Traceback" not in err
    for needle, message in expected:
        occurrence = 2 if needle == "- month: 4" and "two reorgs" in message else 1
        assert f"{path}:{line_of(text, needle, occurrence)}: {message}" in err, err


# --------------------------------------------------------------------------- comparison rows

def test_breakeven_is_the_first_month_after_which_the_gain_stays_positive():
    from sim.runs.comparison import _breakeven

    months = np.arange(5, 11)
    assert _breakeven(np.array([-3.0, -1.0, 2.0, -0.5, 1.0, 4.0]), months) == 9
    assert _breakeven(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), months) == 5
    assert np.isnan(_breakeven(np.array([-3.0, -1.0, 2.0, 1.0, 1.0, -4.0]), months))


def test_compare_adds_reorg_rows_paired_with_the_org_without_it():
    from sim import compare

    silo = small("scenarios/silo.yaml")
    moved = with_reorg(silo, pod_reorg(silo, 3, transition_weeks=4, productivity_multiplier=0.5, cost_usd=1234.0))
    comparison = compare({"silo": silo, "moved": moved}, reps=2, workers=1, progress=False)
    rows = comparison.table.set_index("metric")
    assert rows.loc["reorg_cost_usd", "mean"] == 1234.0
    diff = comparison.series_difference("moved", "mrr_usd")
    assert rows.loc["transition_mrr_loss_usd", "mean"] == pytest.approx(-diff.loc[4:4].sum(axis=0).mean())
    assert "breakeven_month" in rows.index
    plain = compare({"silo": silo, "pod": small("scenarios/pod.yaml")}, reps=1, workers=1, progress=False)
    assert "reorg_cost_usd" not in set(plain.table["metric"])


# --------------------------------------------------------------------------- org.pod_effects

NEUTRAL = "org.pod_effects={ramp_speed_multiplier: 1.0, attrition_hazard_multiplier: 1.0, " \
          "churn_hazard_multiplier: 1.0, win_odds_multiplier: 1.0}"


def test_pod_effects_at_one_give_todays_numbers_exactly():
    pod = small("scenarios/pod.yaml")
    neutral = small("scenarios/pod.yaml", NEUTRAL)
    assert neutral.sha256() == pod.sha256()
    same_outputs(simulate(neutral, 4, 2), simulate(pod, 4, 2), neutral, pod)


def total(path: str, metric: str, *extra: str, reps: int = 3) -> float:
    return sum(k[metric] for k in kpis_of(path, extra, reps))


@functools.cache
def kpis_of(path: str, extra: tuple[str, ...], reps: int) -> tuple[dict, ...]:
    """KPIs of replications 0..reps-1 (seed 9), run once for every metric read from them."""
    scenario = small(path, *extra)
    return tuple(kpis(simulate(scenario, 9, r), scenario) for r in range(reps))


def test_pod_effects_move_their_kpis_the_right_way_under_crn():
    assert total("scenarios/pod.yaml", "churned_mrr_usd", "org.pod_effects.churn_hazard_multiplier=0.5") \
        < total("scenarios/pod.yaml", "churned_mrr_usd")
    assert total("scenarios/pod.yaml", "win_rate_opportunity", "org.pod_effects.win_odds_multiplier=1.5") \
        > total("scenarios/pod.yaml", "win_rate_opportunity")
    assert total("scenarios/pod.yaml", "headcount_end", "org.pod_effects.attrition_hazard_multiplier=3",
                 "roles.ae.backfill=false", "roles.sdr.backfill=false") \
        <= total("scenarios/pod.yaml", "headcount_end", "roles.ae.backfill=false", "roles.sdr.backfill=false")



def test_a_pod_lead_sells_its_share_of_the_time():
    from sim.metrics import monthly_series
    one_month = "horizon_months=1"  # the starting capacity is what is read
    pod = small("scenarios/pod.yaml", one_month)
    led = small("scenarios/pod.yaml", one_month, "org.pod_effects.pod_lead={role: ae, selling_share: 0.2}")
    a, b = monthly_series(simulate(pod, 1, 0), pod), monthly_series(simulate(led, 1, 0), led)
    # two PODs, one lead each at 20 % of its time (the first AE seats, experienced at the start)
    assert a["capacity_fte.ae"][0] - b["capacity_fte.ae"][0] == pytest.approx(2 * 0.8 * 1.0)


def test_a_faster_ramp_in_a_pod_gives_new_reps_capacity_sooner():
    new_reps = ["horizon_months=4", "roles.ae.initial_tenure_months=[0, 0, 0, 0, 0, 0]"]  # month 3 is read
    slow = small("scenarios/pod.yaml", *new_reps)
    fast = small("scenarios/pod.yaml", *new_reps, "org.pod_effects.ramp_speed_multiplier=2")
    from sim.metrics import monthly_series
    a, b = monthly_series(simulate(slow, 1, 0), slow), monthly_series(simulate(fast, 1, 0), fast)
    assert b["capacity_fte.ae"][3] > a["capacity_fte.ae"][3]


def test_pod_effects_in_a_silo_and_a_lead_without_a_seat_are_refused(tmp_path, capsys):
    text = template().replace("reorg:\n", "org:\n  pod_effects: {win_odds_multiplier: 1.2}\nreorg:\n", 1)
    text = text.replace("transition_weeks: 8", "transition_weeks: 8\n    headcount: {ae: 6}")
    text = text.replace("      structure: pod\n", "      structure: pod\n      pod_effects: {pod_lead: {role: mdr2}}\n")
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{path}:{line_of(text, 'pod_effects: {win')}: org.pod_effects: pod_effects are only used" in err
    assert (f"{path}:{line_of(text, 'pod_lead')}: reorg.0.org.pod_effects.pod_lead.role: "
            "the POD lead's role 'mdr2'") in err


# --------------------------------------------------------------------------- org_from

def test_org_from_takes_another_files_org_and_merges_the_inline_one(tmp_path):
    pod_file = REPO / "scenarios" / "pod.yaml"
    text = template().replace("    org:\n      structure: pod\n",
                              f"    org_from: {pod_file}\n    org:\n      overflow: spill\n      structure: pod\n")
    text = text.replace("""      pods:
        east:
          composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}
          regions: [east]
        west:
          composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}
          regions: [west]
""", "")
    scenario = load_scenario(write(tmp_path, text))
    pod = load_scenario(REPO / "scenarios" / "pod.yaml")
    assert scenario.reorg[0].org == pod.org.model_copy(update={"overflow": "spill"})
    shipped = load_scenario(REPO / "scenarios" / "reorg_pod_m4.yaml")
    assert shipped.reorg[0].org == pod.org


def test_a_missing_org_file_is_reported_at_its_line(tmp_path, capsys):
    text = template().replace("    transition_weeks: 8\n", "    transition_weeks: 8\n    org_from: nowhere.yaml\n")
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{path}:{line_of(text, 'org_from')}: reorg.0.org_from: cannot use 'nowhere.yaml' as the target org" in err


def test_deterministic_mode_holds_a_reorgs_durations_at_their_means():
    from sim.scenario.deterministic import durations_at_means

    moved = load_scenario(REPO / "scenarios/reorg_pod_m4.yaml", ["deterministic=true"])
    leg = durations_at_means(moved).reorg[0].org.pod_handoff
    assert leg is not None and type(leg.delay_days).__name__ == "Constant"
