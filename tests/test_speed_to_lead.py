"""Tests for :mod:`sim.model.speed_to_lead`: speed-to-lead decay profiles and their effect in a run.

Published anchors (docs/background/default-figures.md#speed-to-lead):

* ``mit_2007`` — Oldroyd, MIT Lead Response Management study (2007): odds of qualifying are
  21× higher at 5 minutes than at 30 minutes;
* ``hbr_2011`` — Oldroyd, McElheran & Elkington, HBR (2011): ~7× within one hour vs. the next
  hour, ~60× vs. 24 hours or later.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_builders import CALENDAR_24_7, base_scenario, build, constant, inbound, role

from sim.eventlog import LeadState
from sim.model.speed_to_lead import PROFILES, SpeedToLead
from sim.model.world import simulate

MINUTE = 1.0 / 60.0  # hours

delays = st.floats(min_value=0.0, max_value=24.0 * 30, allow_nan=False)
probabilities = st.floats(min_value=0.0, max_value=1.0)
profile_names = st.sampled_from(sorted(PROFILES))


def _profile(name: str) -> SpeedToLead:
    return SpeedToLead.from_spec(name, None)


@pytest.mark.parametrize(("profile", "delay_hours", "multiplier"), [
    ("mit_2007", 5 * MINUTE, 1.0),
    ("mit_2007", 30 * MINUTE, 1.0 / 21.0),
    ("hbr_2011", 1.0, 1.0),
    ("hbr_2011", 2.0, 1.0 / 7.0),
    ("hbr_2011", 24.0, 1.0 / 60.0),
])
def test_published_anchor_points(profile: str, delay_hours: float, multiplier: float) -> None:
    assert _profile(profile).odds_multiplier(delay_hours) == pytest.approx(multiplier, rel=1e-12)


@pytest.mark.parametrize(("profile", "early", "late", "first", "last"), [
    ("mit_2007", 0.0, 72.0, 1.0, 1.0 / 21.0),
    ("hbr_2011", 0.0, 24.0 * 7, 1.0, 1.0 / 60.0),
])
def test_profiles_are_flat_outside_their_points(profile: str, early: float, late: float, first: float,
                                                last: float) -> None:
    sp = _profile(profile)
    assert sp.odds_multiplier(early) == pytest.approx(first)
    assert sp.odds_multiplier(late) == pytest.approx(last)


def test_interpolation_is_linear_in_log_log() -> None:
    """Halfway in log(delay) between two points is halfway in log(multiplier)."""
    sp = _profile("hbr_2011")
    assert sp.odds_multiplier(math.sqrt(1.0 * 2.0)) == pytest.approx(math.sqrt(1.0 / 7.0), rel=1e-12)
    assert sp.odds_multiplier(math.sqrt(2.0 * 24.0)) == pytest.approx(math.sqrt(1.0 / (7.0 * 60.0)), rel=1e-12)
    custom = SpeedToLead([(1.0, 1.0), (100.0, 0.01)])
    assert custom.odds_multiplier(10.0) == pytest.approx(0.1, rel=1e-12)


def test_profile_none_never_decays() -> None:
    sp = _profile("none")
    for d in (0.0, 1.0, 1e3):
        assert sp.odds_multiplier(d) == 1.0
        assert sp.qualify_probability(0.3, d) == 0.3


@settings(deadline=None, max_examples=200, derandomize=True)
@given(name=profile_names, a=delays, b=delays)
def test_multiplier_is_non_increasing_in_delay(name: str, a: float, b: float) -> None:
    sp = _profile(name)
    lo, hi = min(a, b), max(a, b)
    assert sp.odds_multiplier(hi) <= sp.odds_multiplier(lo) * (1 + 1e-12)
    assert 0.0 < sp.odds_multiplier(hi) <= 1.0


@settings(deadline=None, max_examples=200, derandomize=True)
@given(name=profile_names, base=probabilities, a=delays, b=delays)
def test_qualify_probability_is_non_increasing_in_delay(name: str, base: float, a: float, b: float) -> None:
    sp = _profile(name)
    lo, hi = min(a, b), max(a, b)
    p_lo, p_hi = sp.qualify_probability(base, lo), sp.qualify_probability(base, hi)
    assert 0.0 <= p_hi <= p_lo + 1e-15 <= base + 2e-15


@settings(deadline=None, max_examples=100, derandomize=True)
@given(name=profile_names, base=probabilities)
def test_qualify_probability_at_zero_delay_is_base(name: str, base: float) -> None:
    """Every published profile starts at multiplier 1, so an immediate touch keeps the base odds."""
    assert _profile(name).qualify_probability(base, 0.0) == pytest.approx(base, rel=1e-12, abs=1e-15)


@settings(deadline=None, max_examples=100, derandomize=True)
@given(name=profile_names, a=delays, b=delays)
def test_certain_and_impossible_leads_do_not_decay(name: str, a: float, b: float) -> None:
    sp = _profile(name)
    assert sp.qualify_probability(0.0, a) == 0.0
    assert sp.qualify_probability(1.0, b) == 1.0


def test_qualify_probability_multiplies_the_odds() -> None:
    sp = _profile("mit_2007")
    p = sp.qualify_probability(0.5, 0.5)  # odds 1 -> 1/21
    assert p == pytest.approx((1 / 21) / (1 + 1 / 21), rel=1e-12)


# --------------------------------------------------------------------------- in a run


def test_a_slow_response_lowers_the_sql_rate_as_the_profile_says() -> None:
    """Every MQL is first touched exactly 30 minutes after it arrives (24/7 calendar, unlimited
    slots): under ``mit_2007`` with base 0.5 its qualify probability is (1/21)/(1 + 1/21) = 1/22.
    Leads are independent, so SQLs among reached leads are binomial; check within 4 SE."""
    base, reps = 0.5, 20
    data = base_scenario(
        name="speed", horizon_months=2, calendar=dict(CALENDAR_24_7),
        mdr=role(1, dials_per_day=30000.0),
        inbound_spec=inbound(mqls_per_month=150.0, qualify_probability=base, profile="mit_2007",
                             response_minutes=constant(30.0), dials_to_connect=constant(1)),
    )
    scenario = build(data)
    reached = sqls = 0
    for r in range(reps):
        leads = simulate(scenario, 7, r).lead_table()
        touched = ~np.isnan(leads["first_touch_t"])
        np.testing.assert_allclose((leads["first_touch_t"] - leads["created_t"])[touched] * 24 * 60, 30.0,
                                   atol=1e-6)
        connected = ~np.isnan(leads["connect_t"])
        reached += int(connected.sum())
        sqls += int((~np.isnan(leads["sql_t"][connected])).sum())
        assert not np.any(leads["state"] == LeadState.UNREACHABLE)
    p = 1.0 / 22.0
    se = math.sqrt(p * (1 - p) / reached)
    assert reached > 4000
    assert abs(sqls / reached - p) < 4 * se
    # the test can tell a decayed rate from the undecayed one
    assert abs(sqls / reached - base) > 4 * math.sqrt(base * (1 - base) / reached)
