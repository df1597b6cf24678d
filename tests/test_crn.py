"""Common random numbers: paired scenarios share their market, and pairing shrinks variance.

The scenarios are ``scenarios/silo.yaml`` scaled down (a quarter of the lead volume, dial
rates and AE capacity; 12 months, 6 for the 60-pair runs of the variance checks) so a
replication takes ~0.05 s (~0.025 s), compared at 5 vs 6 AEs.
The AE pool is loaded (utilization ~0.8, a backlog of SQLs), so the sixth AE changes the
outcome — the pair is not trivially identical.

The variance checks (three runs of 60 replications in a process pool, ~5 s: the longest setup
of the default tier) are a statistical sweep and run in the slow tier. The default tier keeps
the exact CRN properties: the shared market (on a few replications), the per-lead latent draws
and the named streams.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_builders import SMALL_SILO

from sim.eventlog import LEAD_FIELDS, LeadState
from sim.model.world import simulate
from sim.rng import Streams
from sim.runs import executors, monte_carlo, results, stats
from sim.scenario import Scenario, load_scenario

SILO = Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml"
SMALL = list(SMALL_SILO)
TENURES = {"ae": [6, 12, 18, 24, 30, 40], "mdr": [8, 14, 20]}
REPS = 60
PAIRED_MONTHS = 6
"""Horizon of the variance checks' runs: at 12 months the three runs of 60 took 10-25 s (the
longest setup of the default test tier) for paired-variance ratios of 19-24; at 6 they are 36-43."""
SEED = 4242
METRICS = ("exit_arr_usd", "wins", "new_mrr_usd")
MARKET_REPS = 3
"""Replications of the shared-market check: it is exact in each replication, so a few suffice."""


def small_silo(horizon: int = 12, **headcounts: int) -> Scenario:
    """The scaled-down silo with the given role headcounts (starting tenures trimmed to match)."""
    overrides = [*SMALL, f"horizon_months={horizon}"]
    for role, n in headcounts.items():
        overrides += [f"roles.{role}.headcount={n}", f"roles.{role}.initial_tenure_months={TENURES[role][:n]}"]
    return load_scenario(SILO, overrides)


@pytest.fixture(scope="module")
def pool() -> Iterator[Executor]:
    executor = executors.process_pool(2)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def runs(pool: Executor) -> dict[str, results.RunResult]:
    """5 AEs and 6 AEs with the same seed, and 6 AEs with another seed."""
    five, six = small_silo(PAIRED_MONTHS, ae=5), small_silo(PAIRED_MONTHS, ae=6)
    return {
        "a": monte_carlo.run(five, reps=REPS, seed=SEED, executor=pool),
        "b": monte_carlo.run(six, reps=REPS, seed=SEED, executor=pool),
        "b_other_seed": monte_carlo.run(six, reps=REPS, seed=SEED + 1, executor=pool),
    }


@pytest.fixture(scope="module")
def market_runs() -> dict[str, results.RunResult]:
    """As ``runs``, with a few replications in this process (for the exact checks)."""
    five, six = small_silo(PAIRED_MONTHS, ae=5), small_silo(PAIRED_MONTHS, ae=6)
    return {
        "a": monte_carlo.run(five, reps=MARKET_REPS, seed=SEED, workers=1),
        "b": monte_carlo.run(six, reps=MARKET_REPS, seed=SEED, workers=1),
        "b_other_seed": monte_carlo.run(six, reps=MARKET_REPS, seed=SEED + 1, workers=1),
    }


# --------------------------------------------------------------------------- (a) variance reduction


@pytest.mark.slow  # a statistical sweep: 3 x 60 replications
@pytest.mark.parametrize("metric", METRICS)
def test_same_seed_pairing_reduces_variance_at_least_4x(runs, metric):
    a, b = runs["a"].kpis, runs["b"].kpis
    assert not runs["a"].failures and not runs["b"].failures
    np.testing.assert_array_equal(a["rep"], b["rep"])
    ratio = stats.variance_reduction(a[metric], b[metric])
    # Observed 36-43 at these settings (19-24 over 12 months); 4 is the acceptance threshold of the brief.
    assert ratio >= 4, f"{metric}: paired variance only {ratio:.2f}x smaller than unpaired"
    # ... and the scenarios do differ, so the ratio is not an artefact of identical outputs.
    assert not np.array_equal(a[metric], b[metric])


@pytest.mark.slow  # a statistical sweep: 3 x 60 replications
@pytest.mark.parametrize("metric", METRICS)
def test_different_seeds_give_no_variance_reduction(runs, metric):
    """The control: the same check fails without common random numbers.

    For independent samples var(b - a) estimates var(a) + var(b), so the ratio is ~1; with
    60 pairs its sampling SD is ~0.2 (ratio of two ~chi2_59 variance estimates), so < 2 is a
    margin of about 5 SD — and far below the >= 4 required of paired runs.
    """
    a, c = runs["a"].kpis, runs["b_other_seed"].kpis
    ratio = stats.variance_reduction(a[metric], c[metric])
    assert ratio < 2, f"{metric}: independent seeds still give a ratio of {ratio:.2f}"


def test_same_seed_same_market(market_runs):
    """The market (MQLs, and SDR prospect lists: the SDR workforce is untouched) is shared."""
    a, b, c = market_runs["a"].kpis, market_runs["b"].kpis, market_runs["b_other_seed"].kpis
    np.testing.assert_array_equal(a["mqls"], b["mqls"])
    np.testing.assert_array_equal(a["prospects"], b["prospects"])
    assert not np.array_equal(a["mqls"], c["mqls"])


@pytest.mark.slow  # a statistical sweep: 3 x 60 replications
def test_pairing_tightens_the_difference_ci(runs):
    """The paired CI of b - a is narrower than the unpaired one by sqrt(variance_reduction)."""
    a, b = runs["a"].kpis["exit_arr_usd"], runs["b"].kpis["exit_arr_usd"]
    diff = stats.paired_difference(a, b)
    assert diff.n == REPS
    assert diff.mean_b - diff.mean_a == pytest.approx(diff.diff_mean, rel=1e-9, abs=1e-6)
    paired_hw = (diff.ci_high - diff.ci_low) / 2
    unpaired_se = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / REPS)
    assert paired_hw < unpaired_se  # a half-width (~2 SE) below one unpaired SE: > 4x variance cut


# --------------------------------------------------------------------------- (b) named streams


def draws(streams: Streams, name: str, *keys: int, n: int = 8) -> np.ndarray:
    return streams.generator(name, *keys).random(n)


def test_stream_unaffected_by_other_streams_created_or_used_first():
    alone = draws(Streams(7, 3), "inbound.arrivals")
    busy = Streams(7, 3)
    for other in ("workforce.attrition", "outbound.prospects", "inbound.segment"):
        busy.generator(other).random(1000)
    busy.generator("workforce.tenure", 5).normal(size=17)
    busy.fresh("inbound.arrivals", 1).random(3)
    np.testing.assert_array_equal(draws(busy, "inbound.arrivals"), alone)


def test_interleaved_use_does_not_shift_a_stream():
    ref = Streams(7, 3).generator("a").random(6)
    s = Streams(7, 3)
    got = []
    for _ in range(3):
        got.extend(s.generator("a").random(2))
        s.generator("b").random(5)
    np.testing.assert_array_equal(got, ref)


@settings(deadline=None, max_examples=40)
@given(
    before=st.lists(st.tuples(st.text(min_size=1, max_size=12), st.integers(0, 50), st.integers(1, 200)),
                    max_size=6),
    seed=st.integers(0, 2**63 - 1),
    rep=st.integers(0, 10_000),
)
def test_stream_order_independence_property(before, seed, rep):
    expected = Streams(seed, rep).generator("target", 2).random(4)
    s = Streams(seed, rep)
    for name, key, n in before:
        s.generator(name, key).random(n)
    np.testing.assert_array_equal(s.generator("target", 2).random(4), expected)


def test_same_seed_rep_name_same_numbers_across_instances():
    a, b = Streams(11, 4), Streams(11, 4)
    np.testing.assert_array_equal(draws(a, "x", 1, 2), draws(b, "x", 1, 2))
    # fresh() starts the same stream over; generator() is cached and continues it
    assert Streams(11, 4).generator("x") is not Streams(11, 4).generator("x")
    s = Streams(11, 4)
    assert s.generator("x") is s.generator("x")
    np.testing.assert_array_equal(s.fresh("x", 9).random(5), Streams(11, 4).generator("x", 9).random(5))


@pytest.mark.parametrize(
    "other",
    [
        ((12, 4), ("x",)),          # another seed
        ((11, 5), ("x",)),          # another replication
        ((11, 4), ("y",)),          # another name
        ((11, 4), ("x", 0)),        # a key
        ((11, 4), ("x", 1)),        # another key
    ],
)
def test_different_seed_rep_name_or_key_give_different_numbers(other):
    base = draws(Streams(11, 4), "x")
    (seed, rep), (name, *keys) = other
    got = draws(Streams(seed, rep), name, *keys)
    assert not np.any(got == base)


def test_keys_are_not_interchangeable_with_replications():
    """(rep 1, key 2) and (rep 2, key 1) are different streams."""
    assert not np.array_equal(draws(Streams(1, 1), "x", 2), draws(Streams(1, 2), "x", 1))


def test_negative_seed_or_replication_rejected():
    with pytest.raises(ValueError):
        Streams(-1, 0)
    with pytest.raises(ValueError):
        Streams(0, -1)


# --------------------------------------------------------------------------- (c) latent draws per lead


def lead_records(scenario: Scenario, seed: int, rep: int) -> dict[int, dict[str, float]]:
    log = simulate(scenario, seed, rep)
    return {int(row[0]): dict(zip(LEAD_FIELDS, row, strict=True)) for row in log.leads}


@pytest.mark.parametrize(
    ("variant_a", "variant_b"),
    [({"ae": 5}, {"ae": 6}), ({"mdr": 2}, {"mdr": 1})],
    ids=["ae_5_vs_6", "mdr_2_vs_1"],
)
def test_lead_latent_draws_do_not_depend_on_org(variant_a, variant_b):
    """Lead k has the same segment, arrival and (if won in both) deal size in both orgs."""
    won, changed, both_won = int(LeadState.WON), 0, 0
    for rep in range(2):  # ~700 leads and ~60 won in both per replication; 4 took twice as long
        a = lead_records(small_silo(**variant_a), SEED, rep)
        b = lead_records(small_silo(**variant_b), SEED, rep)
        assert a.keys() == b.keys()  # every lead writes one record, and the market is shared
        for lead in a:
            for field in ("source", "segment", "created_t"):
                assert a[lead][field] == b[lead][field], (rep, lead, field)
        both = [k for k in a if a[k]["state"] == won and b[k]["state"] == won]
        for lead in both:
            assert a[lead]["mrr_usd"] == b[lead]["mrr_usd"] > 0, (rep, lead)
        both_won += len(both)
        changed += sum(not same(a[k][f], b[k][f]) for k in a for f in ("state", "opportunity_t", "end_t"))
    assert both_won >= 100, "too few leads won in both scenarios for a meaningful check"
    # the org change does change what happens to leads, so the equalities above are not vacuous
    assert changed > 0


def same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))
