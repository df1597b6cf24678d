"""What ``salesim validate`` accepts runs: scenarios drawn anywhere inside the schema's ranges —
extreme-but-allowed values included — complete a short replication without an exception, in
bounded time.

Volumes are tiny and horizons one or two months so that an example takes a fraction of a second;
everything else — distributions at the edges of their parameters, durations and amounts up to
the limits, probabilities of 0 and 1, capacities of 0 and 10⁹, growth of 100 % a month, tenures
of 600 months — ranges over what validation allows (``sim/scenario/limits.py``). An example
that validation refuses is a bug of this strategy (it must stay inside the ranges), so it fails
the test instead of being skipped: the strategy and the limits are checked against each other.
"""

from __future__ import annotations

import functools
import math
import signal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from sim.runs.replication import simulate_one
from sim.scenario import ScenarioError, scenario_from_dict
from sim.scenario import limits as lim
from sim.scenario.dists import Dist, dist_within

SECONDS_PER_EXAMPLE = 30
"""A replication of these tiny scenarios takes well under a second; one that does not end is a hang."""


def _shares(weights: dict[str, float]) -> dict[str, float]:
    """Weights as shares that sum to 1 within the validation's tolerance (a mix is shares of leads)."""
    total = sum(weights.values())
    shares = {name: w / total for name, w in weights.items()}
    last = next(reversed(shares))
    shares[last] = max(0.0, 1.0 - sum(v for k, v in shares.items() if k != last))
    return shares


def _finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@functools.cache
def _field(low: float, high: float) -> TypeAdapter:
    return TypeAdapter(dist_within(low, high))


def _fits(dist: Any, low: float, high: float) -> bool:
    try:
        _field(low, high).validate_python(dist)
    except ValidationError:
        return False
    return True


def dists(low: float = 0.0, high: float = lim.MAX_DRAW) -> st.SearchStrategy[Any]:
    """Any distribution whose draws stay within [low, high], near the edges of its parameters."""
    return _dists(low, high).filter(lambda d: _fits(d, low, high))


@st.composite
def _dists(draw, low: float, high: float) -> Any:
    cap = min(high, lim.MAX_DRAW)
    kind = draw(st.sampled_from(["constant", "uniform", "uniform_int", "exponential", "lognormal", "normal",
                                 "gamma", "weibull", "triangular", "geometric", "empirical", "bare"]))
    if kind == "bare":
        return draw(_finite(low, cap))
    if kind == "constant":
        return {"dist": "constant", "value": draw(_finite(low, cap))}
    if kind == "uniform":
        a, b = sorted(draw(st.tuples(_finite(low, cap), _finite(low, cap))))
        return {"dist": "uniform", "low": a, "high": b}
    if kind == "uniform_int":
        a, b = sorted(draw(st.tuples(st.integers(int(max(low, 0)), int(min(cap, 10**9))),
                                     st.integers(int(max(low, 0)), int(min(cap, 10**9))))))
        return {"dist": "uniform_int", "low": a, "high": b}
    if kind == "exponential":
        return {"dist": "exponential", "mean": draw(_finite(max(low, 1e-9), cap / 40))}
    if kind == "lognormal":
        sigma = draw(_finite(0.0, lim.MAX_LOGNORMAL_SIGMA))
        room = cap / math.exp(sigma * 7.04)
        least = max(low, 1e-9) * 1.0001
        return {"dist": "lognormal", "median": draw(_finite(least, max(room, least))), "sigma": sigma}
    if kind == "normal":
        mean = draw(_finite(low, cap / 2))
        return {"dist": "normal", "mean": mean, "sd": draw(_finite(0.0, (cap - mean) / 8)), "min": low}
    if kind == "gamma":
        return {"dist": "gamma", "mean": draw(_finite(max(low, 1e-6), cap / 1e4)),
                "cv": draw(_finite(lim.MIN_GAMMA_CV, lim.MAX_GAMMA_CV))}
    if kind == "weibull":
        shape = draw(_finite(1.0, 20.0))
        return {"dist": "weibull", "scale": draw(_finite(max(low, 1e-6), cap / 100)), "shape": shape}
    if kind == "triangular":
        a, c, b = sorted(draw(st.tuples(_finite(low, cap), _finite(low, cap), _finite(low, cap))))
        if a == b:
            b = a + 1.0 if a + 1.0 <= cap else b
            a = b - 1.0 if a == b else a
        return {"dist": "triangular", "low": a, "mode": min(max(c, a), b), "high": b}
    if kind == "geometric":
        return {"dist": "geometric", "mean": draw(_finite(max(1.0, low), max(1.0, min(cap, 1e9) / 40)))}
    values = draw(st.lists(_finite(low, cap), min_size=1, max_size=5))
    return {"dist": "empirical", "values": values,
            "weights": draw(st.lists(_finite(0.01, 10.0), min_size=len(values), max_size=len(values)))}


def _probability() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.0, 1.0]), _finite(0.0, 1.0))


@st.composite
def roles(draw, capacity: str, big: float) -> dict[str, Any]:
    headcount = draw(st.integers(0, 3))
    spec: dict[str, Any] = {
        "headcount": headcount,
        "initial_tenure_months": draw(st.one_of(_finite(0.0, lim.MAX_TENURE_MONTHS),
                                                st.lists(_finite(0.0, lim.MAX_TENURE_MONTHS),
                                                         min_size=headcount, max_size=headcount))),
        "monthly_cost_usd": draw(_finite(0.0, lim.MAX_MONEY_USD)),
        "ramp": draw(st.one_of(st.lists(_finite(0.0, 1.5), min_size=1, max_size=8),
                               st.builds(lambda m, s: {"form": "linear", "months": m, "start": s},
                                         st.integers(1, 36), _finite(0.0, 1.5)))),
        "ramp_applies_to_conversion": draw(st.booleans()),
        "tenure_months": draw(st.one_of(st.none(), dists(0.0, lim.MAX_DRAW).filter(_stays_a_week))),
        "backfill": draw(st.booleans()),
        "time_to_fill_days": draw(dists(0.0)),
        capacity: draw(st.one_of(st.sampled_from([0.0, big]), _finite(0.0, big))),
    }
    if draw(st.booleans()):
        spec["manager"] = {"span": draw(st.integers(1, 20)), "coached_per_manager": draw(_finite(0.01, 50.0)),
                           "ramp_slowdown": draw(_finite(0.01, 1.0)),
                           "time_to_fill_days": draw(st.one_of(st.just(0.0), _finite(0.0, lim.MAX_DAYS)))}
    if draw(st.booleans()):
        spec["skill"] = {"applies_to": draw(st.sampled_from(["conversion", "capacity"])),
                         "median": draw(_finite(1e-6, lim.MAX_SKILL_MEDIAN)),
                         "sigma": draw(_finite(0.0, lim.MAX_SKILL_SIGMA))}
    return spec


def _stays_a_week(dist: Any) -> bool:
    """Half the reps stay at least ``MIN_MEDIAN_TENURE_MONTHS`` (a shorter tenure is refused)."""
    cdf = TypeAdapter(Dist).validate_python(dist).cdf(np.asarray([lim.MIN_MEDIAN_TENURE_MONTHS - 1e-9]))
    return float(np.asarray(cdf)[0]) < 0.5


def _two_shares(w: float) -> tuple[float, float]:
    """Two weights that sum to 1 (segment mixes are shares)."""
    return w, 1.0 - w


@st.composite
def scenarios(draw) -> dict[str, Any]:
    horizon = draw(st.integers(1, 2))
    n_segments = draw(st.integers(1, 2))
    segments = {}
    for i in range(n_segments):
        meetings = draw(st.integers(1, 8))
        segments[f"s{i}"] = {
            "mrr_usd": draw(dists(0.0, lim.MAX_MONEY_USD)),
            "closed_by": "ae",
            "opportunity": {"meetings": meetings,
                            "pass_probability": draw(st.one_of(_probability(), st.lists(
                                _probability(), min_size=meetings, max_size=meetings))),
                            "gap_days": draw(dists(0.0))},
            "churn": {"monthly_rate": draw(_probability()),
                      "onboarding_months": draw(st.integers(0, lim.MAX_TENURE_MONTHS)),
                      "onboarding_multiplier": draw(_finite(0.0, lim.MAX_MULTIPLIER)),
                      "uncovered_multiplier": draw(_finite(0.0, lim.MAX_MULTIPLIER))},
            "expansion": {"monthly_probability": draw(_probability()),
                          "mrr_fraction": draw(dists(0.0, lim.MAX_EXPANSION_FRACTION))},
        }
    weights = {name: draw(st.one_of(st.just(1.0), _finite(0.0, lim.MAX_DRAW))) for name in segments}
    weights[next(iter(weights))] = draw(_finite(1e-3, lim.MAX_DRAW))  # one weight is positive
    mix = _shares(weights)
    growth = draw(st.one_of(st.sampled_from([0.0, lim.MAX_GROWTH_PER_MONTH]), _finite(-0.99, 1.0)))
    season = draw(st.one_of(st.none(), st.lists(_finite(0.0, lim.MAX_MULTIPLIER), min_size=12, max_size=12)))
    peak = max(season) if season else 1.0
    mqls = draw(_finite(0.0, 40.0 / max(1.0, peak) / (1.0 + max(growth, 0.0))))
    inbound: dict[str, Any] = {
        "mqls_per_month": mqls,
        "growth_per_month": growth,
        "business_hours_only": draw(st.booleans()),
        "segment_mix": mix,
        "worked_by": "mdr",
        "dials_to_connect": draw(dists(1.0, lim.MAX_DIALS)),
        "qualify_probability": draw(_probability()),
        "speed_to_lead": draw(st.one_of(
            st.builds(lambda p: {"profile": p}, st.sampled_from(["none", "mit_2007", "hbr_2011"])),
            st.builds(lambda pts: {"profile": "custom", "points": sorted(pts)},
                      st.lists(st.tuples(_finite(1e-6, lim.MAX_DAYS * 24), _finite(1e-6, lim.MAX_MULTIPLIER)),
                               min_size=1, max_size=4, unique_by=lambda p: p[0])))),
        "response_minutes": draw(dists(0.0)),
        "max_wait_days": draw(st.one_of(st.just(lim.MAX_CAPACITY), _finite(1e-6, lim.MAX_CAPACITY))),
        "queue_order": draw(st.sampled_from(["oldest_first", "newest_first"])),
        "cost_per_mql_usd": draw(_finite(0.0, lim.MAX_MONEY_USD)),
    }
    if season is not None:
        inbound["seasonality"] = season
    if draw(st.booleans()):
        inbound["arrival_times_days"] = draw(st.lists(_finite(0.0, horizon * 30.0), max_size=30))
    data: dict[str, Any] = {
        "name": draw(st.from_regex(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,20}", fullmatch=True).filter(
            lambda n: n.split(".")[0].lower() not in {"con", "prn", "aux", "nul"})),
        "horizon_months": horizon,
        "calendar": draw(st.sampled_from([{}, {"start_hour": 0, "hours_per_day": 24, "days_per_week": 7},
                                          {"start_hour": 23, "hours_per_day": 1, "days_per_week": 1}])),
        "roles": {
            "mdr": draw(roles("dials_per_day", lim.MAX_CAPACITY)),
            "sdr": draw(roles("dials_per_day", lim.MAX_CAPACITY)),
            "ae": draw(roles("max_open_opportunities", lim.MAX_CAPACITY)),
            "csm": draw(roles("accounts_covered", lim.MAX_CAPACITY)),
        },
        "segments": segments,
        "inbound": inbound,
        "contact": {"attempts_per_day": draw(st.integers(1, 50)),
                    "max_attempts": draw(st.sampled_from([1, 30, 1000, 100_000]))},
        "handoff": {"delay_days": draw(dists(0.0)), "leakage_probability": draw(_probability()),
                    "win_odds_multiplier": draw(_finite(1e-6, 10.0)),
                    "stale_after_days": draw(_finite(1e-6, lim.MAX_CAPACITY))},
        "customers": {"managed_by": draw(st.sampled_from(["csm", None]))},
        "workforce": {"exit_policy": draw(st.sampled_from(["reassign", "lose"])),
                      "reassign_win_odds_multiplier": draw(_finite(1e-6, 1.0))},
        "deterministic": draw(st.booleans()),
    }
    if draw(st.booleans()):
        data["outbound"] = {
            "worked_by": "sdr",
            "prospects_per_rep_month": draw(_finite(0.0, 30.0)),
            "segment_mix": mix,
            "dials_to_connect": draw(dists(1.0, lim.MAX_DIALS)),
            "lead_probability": draw(_probability()),
            "sql_probability": draw(_probability()),
        }
    if draw(st.booleans()):
        inbound["max_attempts"] = draw(st.sampled_from([1, 7, 100_000]))
    if draw(st.booleans()):  # more lead sources, as a map: one more inbound and one more outbound
        web = {key: value for key, value in inbound.items() if key != "arrival_times_days"}
        web.update(kind="inbound", mqls_per_month=draw(_finite(0.0, 10.0)), growth_per_month=0.0,
                   cost_per_mql_usd=draw(_finite(0.0, lim.MAX_MONEY_USD)))
        web.pop("seasonality", None)
        data["lead_sources"] = {
            "web": web,
            "list": {"kind": "outbound", "worked_by": draw(st.sampled_from(["sdr", "mdr"])),
                     "prospects_per_rep_month": draw(_finite(0.0, 10.0)), "segment_mix": mix,
                     "dials_to_connect": draw(dists(1.0, lim.MAX_DIALS)),
                     "max_attempts": draw(st.sampled_from([1, 30, 100_000])),
                     "lead_probability": draw(_probability()), "sql_probability": draw(_probability()),
                     "cost_per_prospect_usd": draw(_finite(0.0, lim.MAX_MONEY_USD))},
        }
    if draw(st.booleans()):  # sales engineers some meetings of the first segment need
        data["roles"]["se"] = draw(roles("meetings_supported", lim.MAX_CAPACITY))
        opportunity = segments["s0"]["opportunity"]
        opportunity["support"] = {
            "role": "se", "days": draw(dists(0.0, lim.MAX_DAYS)),
            "meetings": draw(st.one_of(st.none(), st.lists(st.integers(1, opportunity["meetings"]), max_size=3)))}
    if draw(st.booleans()):  # self-service: a segment sold through a trial, sign-ups nobody works
        data["segments"]["web"] = {
            "mrr_usd": draw(dists(0.0, lim.MAX_MONEY_USD)), "closed_by": "none",
            "trial": {"days": draw(dists(0.0, lim.MAX_DAYS)), "conversion_probability": draw(_probability()),
                      "assisted_by": draw(st.sampled_from([None, "csm", "ae"])),
                      "assisted_odds_multiplier": draw(_finite(0.0, lim.MAX_MULTIPLIER))},
        }
        for name in ("ae", "csm"):
            data["roles"][name]["trials_assisted"] = draw(_finite(0.0, lim.MAX_CAPACITY))
        data.setdefault("lead_sources", {})["signup"] = {
            "kind": "inbound", "worked_by": "none", "mqls_per_month": draw(_finite(0.0, 10.0)),
            "qualify_probability": draw(_probability()),
            "segment_mix": dict(zip(("web", next(iter(segments))), _two_shares(draw(_finite(0.0, 1.0))),
                                    strict=True))}
    role_names = list(data["roles"])
    data["hiring"] = {
        "waves": [{"month": draw(st.integers(1, horizon)), "role": draw(st.sampled_from(role_names)),
                   "count": draw(st.integers(0, 3))} for _ in range(draw(st.integers(0, 2)))],
        "hires_per_month": draw(st.one_of(st.none(), st.integers(1, 5))),
        "recruiting_load_fte": draw(_finite(0.0, 1.0)),
    }
    if draw(st.booleans()):
        data["hiring"]["targets"] = {draw(st.sampled_from(role_names)): {
            draw(st.integers(1, horizon)): draw(st.integers(0, 4))}}
    if draw(st.booleans()) and data["roles"]["sdr"]["headcount"] > 0:  # a promotion needs seats to fill
        data["roles"]["mdr"]["promotion"] = {
            "to": "sdr", "after_months": draw(_finite(lim.MIN_MEDIAN_TENURE_MONTHS, lim.MAX_TENURE_MONTHS)),
            "ramp_credit_months": draw(st.integers(0, lim.MAX_TENURE_MONTHS))}
    if draw(st.booleans()):
        data["roles"]["ae"]["quota"] = {
            "metric": draw(st.sampled_from(["new_arr_usd", "wins", "opportunities"])),
            "amount": draw(_finite(1e-6, lim.MAX_MONEY_USD)), "period_months": draw(st.integers(1, 12)),
            "variable_share": draw(_probability()), "accelerator": draw(_finite(0.0, 10.0))}
    if draw(st.booleans()):
        data["economics"] = {
            "gross_margin": draw(_probability()),
            "acquisition_roles": draw(st.one_of(st.none(), st.lists(st.sampled_from(["mdr", "sdr", "ae"]),
                                                                    unique=True))),
            "acquisition_overhead_usd_per_month": draw(_finite(0.0, lim.MAX_MONEY_USD)),
            "retention_overhead_usd_per_month": draw(_finite(0.0, lim.MAX_MONEY_USD))}
    if draw(st.booleans()):
        data["roles"]["sdr"]["interns"] = {
            "count": draw(st.integers(0, 3)), "start_month": draw(st.integers(1, horizon)),
            "term_months": draw(_finite(1e-3, lim.MAX_TENURE_MONTHS)),
            "monthly_cost_usd": draw(_finite(0.0, lim.MAX_MONEY_USD)),
            "yield_multiplier": draw(_finite(1e-6, 2.0)), "ramp": draw(st.lists(_finite(0.0, 1.5), min_size=1,
                                                                               max_size=4))}
    if draw(st.booleans()):
        start = draw(st.integers(1, horizon))
        data["roles"]["mdr"]["outsourced"] = {
            "reps": draw(st.integers(0, 3)), "start_month": start,
            "end_month": draw(st.one_of(st.none(), st.integers(start, lim.MAX_HORIZON_MONTHS))),
            "price_per_month_usd": draw(_finite(0.0, lim.MAX_MONEY_USD)),
            "price_per_sql_usd": draw(_finite(0.0, lim.MAX_MONEY_USD)),
            "conversion_multiplier": draw(_finite(1e-6, 2.0))}
    if draw(st.booleans()):
        seg = st.sampled_from([name for name in segments if name != "web"])  # no opportunity stage in a trial
        data["warm_start"] = {
            "pipeline": [{"stage": draw(st.sampled_from(["mql", "sql", "opportunity"])), "segment": draw(seg),
                          "count": draw(st.integers(0, 10)), "age_days": draw(_finite(0.0, lim.MAX_DAYS))}],
            "customers": [{"segment": draw(seg), "count": draw(st.integers(0, 10)),
                           "mrr_usd": draw(dists(0.0, lim.MAX_MONEY_USD)),
                           "age_months": draw(_finite(0.0, lim.MAX_TENURE_MONTHS))}],
        }
    return data


class HangError(Exception):
    pass


def _alarm(_signum, _frame):
    raise HangError(f"a replication ran longer than {SECONDS_PER_EXAMPLE} s")


def _runs(data: dict[str, Any]) -> None:
    try:
        scenario = scenario_from_dict(data)
    except ScenarioError as exc:
        pytest.fail(f"the strategy left the schema's ranges (a bug of the test or of a limit):\n{exc}")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_EXAMPLE)
    try:
        kpis, _series = simulate_one(scenario, seed=7, replication=0)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert set(kpis)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(scenarios())
def test_what_validation_accepts_runs(data: dict[str, Any]) -> None:
    _runs(data)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(scenarios())
def test_what_validation_accepts_runs_many(data: dict[str, Any]) -> None:
    _runs(data)
