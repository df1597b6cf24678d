"""Org structures (silo, POD, hybrid), routing, overflow and the structure-dependent hand-offs.

Every comparison runs under common random numbers (same seed), so most checks are exact,
replication by replication.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.eventlog import LeadState
from sim.metrics import kpis
from sim.model.world import simulate

SILO = "scenarios/silo.yaml"
SHORT = ["horizon_months=6", "warm_start={}"]  # a young company: the mechanisms without a warm start
ONE_POD = ["org.structure=pod", "org.pods={all: {composition: {mdr: 2, sdr: 4, ae: 6, csm: 6}}}"]
TWO_PODS = [
    "org.structure=pod",
    "org.pods={east: {composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}, regions: [east]},"
    " west: {composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}, regions: [west]}}",
]


def load(*overrides: str) -> sim.Scenario:
    return sim.load_scenario(SILO, overrides=[*SHORT, *overrides])


def test_one_pod_holding_everyone_is_the_silo_exactly():
    silo, pod = load(), load(*ONE_POD)  # no pod_handoff: inside the POD = the silo's hand-off
    for rep in range(2):  # exact in every replication (~1,900 leads each); 3 until the default tier was trimmed
        silo_log, pod_log = simulate(silo, 11, rep), simulate(pod, 11, rep)
        assert repr(kpis(silo_log, silo)) == repr(kpis(pod_log, pod))  # NaN (no quota) compares by its repr
        assert sorted(silo_log.leads) == sorted(pod_log.leads)
        assert silo_log.accounts == pod_log.accounts


def test_pod_hand_offs_use_pod_handoff_and_cross_pod_spills_use_handoff():
    # A POD hand-off with zero leakage loses no SQL; across functions everything leaks.
    scenario = load(*TWO_PODS, "handoff.leakage_probability=1.0", "org.pod_handoff.leakage_probability=0.0")
    log = simulate(scenario, 3, 0)
    states = log.lead_table()["state"]
    assert np.sum(states == LeadState.LOST_IN_HANDOFF) == 0
    assert np.sum(states == LeadState.WON) > 0
    silo = load("handoff.leakage_probability=1.0")
    assert np.sum(simulate(silo, 3, 0).lead_table()["state"] == LeadState.WON) == 0


# The two sweeps below (4 leakage levels x 4 replications x 2 structures, 3 context-loss levels x 3
# replications: 41 six-month silo runs, ~6 s of CPU) are in the slow tier. The default tier keeps the
# same monotonicity on small worlds (test_properties: higher leakage lowers mean wins) and the
# mechanisms themselves, exactly (test_desks: leakage below its odds, context loss on the first
# meeting's odds; above: POD hand-offs with their own leakage).
@pytest.mark.slow
@pytest.mark.parametrize("structure", [[], TWO_PODS])
def test_more_leakage_never_raises_wins(structure):
    # Ample closer capacity: no SQL waits, so leakage acts on each SQL's latent uniform alone.
    base = [*structure, "roles.ae.max_open_opportunities=1000", "handoff.stale_after_days=1000"]
    leak_field = "org.pod_handoff.leakage_probability" if structure else "handoff.leakage_probability"
    levels = [0.0, 0.1, 0.3, 0.6]
    wins = np.array([
        [kpis(simulate(s, 5, rep), s)["wins"] for rep in range(4)]
        for s in (load(*base, f"{leak_field}={p}") for p in levels)
    ])
    assert np.all(np.diff(wins, axis=0) <= 0), wins
    assert wins[-1].sum() < wins[0].sum()


@pytest.mark.slow
def test_context_loss_lowers_win_rate_monotonically():
    rates = []
    for multiplier in (1.0, 0.7, 0.4):
        s = load("roles.ae.max_open_opportunities=1000", f"handoff.win_odds_multiplier={multiplier}")
        rates.append([kpis(simulate(s, 9, rep), s)["wins"] for rep in range(3)])
    assert np.all(np.diff(np.array(rates), axis=0) <= 0)


def _mean_wait_days(scenario: sim.Scenario, seed: int, rep: int) -> float:
    """Mean wait of SQLs for a closer (censored at the horizon for those still waiting)."""
    leads = simulate(scenario, seed, rep).lead_table()
    arrived = ~np.isnan(leads["handoff_t"])
    start = np.where(np.isnan(leads["opportunity_t"]), leads["end_t"], leads["opportunity_t"])
    return float(np.mean(start[arrived] - leads["handoff_t"][arrived]))


# A statistical sweep (8 paired replications of the full six-month silo, ~2.3 s: the longest test of
# this file), so in the slow tier. The default tier keeps the exact pooling edge (one POD holding
# everyone is the silo, above) and the capacity monotonicity on small worlds (test_properties).
@pytest.mark.slow
def test_pooling_effect_pooled_closers_wait_no_longer_than_split_ones():
    # Only the closers differ: development reps and CSMs stay pooled (hybrid), so both orgs
    # receive the same SQLs at the same times (common random numbers), with the same hand-off.
    # AEs are busy (pooled wait ~4 days); one queue in front of 6 AEs vs. two queues of 3.
    common = ["roles.ae.max_open_opportunities=16", "handoff.stale_after_days=1000", "roles.ae.tenure_months=null"]
    pooled = load(*common)
    split = load(*common, "org.structure=hybrid", "org.pooled_roles=[mdr, sdr, csm]",
                 "org.pods={east: {composition: {ae: 3}, regions: [east]},"
                 " west: {composition: {ae: 3}, regions: [west]}}")
    diffs = np.array([_mean_wait_days(split, 21, r) - _mean_wait_days(pooled, 21, r) for r in range(8)])
    se = diffs.std(ddof=1) / np.sqrt(diffs.size)
    assert diffs.mean() - 3 * se > 0, diffs


def test_territory_routing_keeps_leads_in_their_region():
    scenario = load(*TWO_PODS)
    log = simulate(scenario, 2, 0)
    leads = log.lead_table()
    inbound = (leads["source"] == 0) & (leads["dev_team"] >= 0)
    east, west = log.teams.index("east"), log.teams.index("west")
    regions = list(scenario.market.regions)
    assert np.all(leads["dev_team"][inbound & (leads["region"] == regions.index("east"))] == east)
    assert np.all(leads["dev_team"][inbound & (leads["region"] == regions.index("west"))] == west)
    # outbound prospects of a POD's SDRs are in the POD's region
    outbound = leads["source"] == 1
    assert np.all(leads["region"][outbound & (leads["dev_team"] == east)] == regions.index("east"))


def test_round_robin_alternates_pods():
    log = simulate(load(*TWO_PODS, "org.routing=round_robin"), 2, 0)
    leads = log.lead_table()
    inbound = leads["source"] == 0
    counts = [int(np.sum(inbound & (leads["dev_team"] == t))) for t in range(2)]
    assert abs(counts[0] - counts[1]) <= 1


def test_least_loaded_routing_balances_pods():
    log = simulate(load(*TWO_PODS, "org.routing=least_loaded"), 2, 0)
    leads = log.lead_table()
    inbound = leads["source"] == 0
    counts = np.array([np.sum(inbound & (leads["dev_team"] == t)) for t in range(2)])
    assert counts.min() > 0.35 * counts.sum()


def test_overflow_lose_drops_leads_and_spill_moves_them():
    starved = ["roles.mdr.dials_per_day=15"]  # one slot per MDR: most MQLs find no free rep
    lose = simulate(load(*TWO_PODS, *starved, "org.overflow=lose"), 4, 0).lead_table()
    assert np.sum(lose["state"] == LeadState.NO_CAPACITY) > 0
    wait = simulate(load(*TWO_PODS, *starved, "org.overflow=wait"), 4, 0).lead_table()
    assert np.sum(wait["state"] == LeadState.NO_CAPACITY) == 0
    assert np.sum(wait["state"] == LeadState.STALE) > 0

    scenario = load(*TWO_PODS, "roles.mdr.dials_per_day=60", "org.overflow=spill")
    log = simulate(scenario, 4, 0)
    leads = log.lead_table()
    inbound = (leads["source"] == 0) & (leads["dev_team"] >= 0)
    east_region = list(scenario.market.regions).index("east")
    spilled = inbound & (leads["region"] == east_region) & (leads["dev_team"] != log.teams.index("east"))
    assert np.sum(spilled) > 0


def test_vacancy_starves_a_pod_while_the_other_works():
    # The east POD's only MDR seat is empty from the start (headcount in the POD is 0).
    scenario = load("org.structure=pod", "roles.mdr.headcount=1", "roles.mdr.initial_tenure_months=[8]",
                    "org.pods={east: {composition: {mdr: 0, sdr: 2, ae: 3, csm: 3}, regions: [east]},"
                    " west: {composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}, regions: [west]}}")
    result = sim.run(scenario, reps=2, seed=1, workers=1)
    teams = result.teams()
    assert teams is not None
    # with no MDR seat, the east POD's inbound leads fall back to the POD that has one
    assert teams.loc["west", "mqls"] > 0


def test_hybrid_pooled_mdrs_feed_pod_closers():
    scenario = sim.load_scenario("scenarios/hybrid.yaml", overrides=SHORT)
    log = simulate(scenario, 1, 0)
    leads = log.lead_table()
    pool = log.teams.index("pool")
    inbound_sql = (leads["source"] == 0) & ~np.isnan(leads["sql_t"]) & (leads["closer_team"] >= 0)
    assert np.all(leads["dev_team"][inbound_sql] == pool)
    assert set(leads["closer_team"][inbound_sql].astype(int)) == {log.teams.index("east"), log.teams.index("west")}


def test_team_series_add_up_to_org_series():
    result = sim.run(load(*TWO_PODS), reps=2, seed=3, workers=1)
    ts = result.timeseries
    for flow in ("mqls", "sqls", "wins"):
        org = ts[ts.series == flow].groupby("rep")["value"].sum()
        teams = ts[ts.series.isin([f"{flow}@east", f"{flow}@west"])].groupby("rep")["value"].sum()
        if flow == "mqls":  # MQLs lost to overflow or still unrouted are not in a team
            assert np.all(teams.values <= org.values)
        else:
            np.testing.assert_allclose(teams.values, org.values)
    for role in ("ae", "mdr"):
        org = ts[(ts.series == f"headcount.{role}")].set_index(["rep", "month"])["value"]
        split = ts[ts.series.isin([f"headcount.{role}@east", f"headcount.{role}@west"])].groupby(
            ["rep", "month"])["value"].sum()
        np.testing.assert_allclose(split.loc[org.index].values, org.values)
