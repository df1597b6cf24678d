"""Workforce dynamics: hiring waves and targets, recruiting capacity and load, ramp, coaching,
attrition and backfill, promotions, interns, outsourcing, exit policy and warm start.

The headcount identity is checked in every month, for every role (and every team), from the
monthly series and from the raw workforce log; the rest are exact timelines with constant
distributions (tenure, time to fill, gaps) that can be worked out by hand, one analytic mean
(exponential attrition) within 4 standard errors, and relations under common random numbers.

Conventions checked here (see ``sim/model/workforce.py``): "month m" (1-based) starts at day
``(m - 1) * D`` with ``D = 365.25 / 12``; month-end books close before anything starting at the
same instant, so an event at day ``m * D`` belongs to month ``m + 1``; month 0 of a series is
the starting state, before anything happens at t = 0.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_builders import (
    CALENDAR_24_7,
    HUGE,
    base_scenario,
    build,
    constant,
    inbound,
    role,
    segment,
)

from sim.eventlog import AccountEvent, EventLog, LeadState, Level, RepKind, Source, WorkforceEvent
from sim.metrics import kpis, monthly_series
from sim.model.world import World, simulate
from sim.scenario import RampFormSpec, Scenario, ScenarioError
from sim.scenario.jobs import Desk
from sim.workcalendar import DAYS_PER_MONTH

SEED = 4242
D = DAYS_PER_MONTH
EXACT = 1e-9  # days / FTE / USD: float noise only

JOINING = (WorkforceEvent.START, WorkforceEvent.HIRE, WorkforceEvent.PROMOTED_IN)
LEAVING = (WorkforceEvent.EXIT, WorkforceEvent.PROMOTED_OUT)
MANAGER_EVENTS = (WorkforceEvent.MANAGER_REQUISITION, WorkforceEvent.MANAGER_SEATED, WorkforceEvent.MANAGER_LEFT,
                  WorkforceEvent.MANAGER_REQUISITION_CLOSED)
"""Events of hired managers (``manager.time_to_fill_days``; tests/test_manager_hiring.py): no rep."""


# --------------------------------------------------------------------------- helpers


class RecordingLevel(Level):
    """A :class:`Level` that remembers every value it takes (time, value after the change)."""

    def __init__(self, value: float) -> None:
        super().__init__(0.0, value)
        self.changes: list[tuple[float, float]] = []

    def add(self, t: float, delta: float) -> None:
        super().add(t, delta)
        self.changes.append((t, self.value))

    def set(self, t: float, value: float) -> None:
        super().set(t, value)
        self.changes.append((t, self.value))

    def steps(self) -> list[tuple[float, float]]:
        """The step function: (time, value) at each instant the value ends up changed."""
        last: dict[float, float] = {}
        for t, value in self.changes:
            last[t] = value
        out: list[tuple[float, float]] = []
        for t in sorted(last):
            if not out or abs(last[t] - out[-1][1]) > EXACT:
                out.append((t, last[t]))
        return out


def run_recording(scenario: Scenario, role_name: str, seed: int = SEED, replication: int = 0
                  ) -> tuple[World, EventLog, RecordingLevel]:
    """Run a world whose (single) ``role_name`` pool records its ramped FTE at every change."""
    world = World(scenario, seed, replication)
    pools = [p for p in world.pools if p.name == role_name]
    assert len(pools) == 1
    recorder = RecordingLevel(pools[0].fte.value)
    pools[0].fte = recorder
    log = world.run()
    return world, log, recorder


def rows(log: EventLog, kind: WorkforceEvent, role_name: str | None = None) -> list[tuple]:
    """Workforce records of one kind (and role), in log order."""
    r = None if role_name is None else log.roles.index(role_name)
    return [row for row in log.workforce if row[1] == kind and (r is None or row[2] == r)]


def times(log: EventLog, kind: WorkforceEvent, role_name: str | None = None) -> list[float]:
    return [row[0] for row in rows(log, kind, role_name)]


def month_of(t: np.ndarray, horizon_months: int) -> np.ndarray:
    """1-based reporting month of each time (the convention of ``sim.metrics``)."""
    return np.clip(np.floor(np.asarray(t, dtype=float) / D).astype(int) + 1, 1, horizon_months)


def per_month(t: np.ndarray, horizon_months: int) -> np.ndarray:
    """Counts per month, index 0 = month 0 (always 0)."""
    out = np.zeros(horizon_months + 1)
    np.add.at(out, month_of(t, horizon_months), 1.0)
    return out


def three_role_scenario(horizon_months: int, **roles: dict[str, Any]) -> dict[str, Any]:
    """MDR (inbound), SDR (outbound) and AE on a 24/7 calendar, one segment ``s``, no CSM."""
    data = base_scenario(
        horizon_months=horizon_months, calendar=dict(CALENDAR_24_7),
        mdr=roles.get("mdr", role(1, dials_per_day=300.0)),
        ae=roles.get("ae", role(1, max_open_opportunities=HUGE)),
        seg=segment(meetings=2, pass_probability=0.6, gap_days={"dist": "exponential", "mean": 10.0}),
        inbound_spec=inbound(mqls_per_month=40.0, dials_to_connect=constant(2), qualify_probability=0.5),
    )
    data["roles"]["sdr"] = roles.get("sdr", role(1, dials_per_day=300.0))
    data["outbound"] = {"worked_by": "sdr", "segment_mix": {"s": 1.0}, "sql_probability": 0.2,
                        "prospects_per_rep_month": 40.0, "dials_to_connect": constant(2)}
    for name, spec in roles.items():
        if name not in ("mdr", "sdr", "ae"):
            data["roles"][name] = spec
    return data


# --------------------------------------------------------------------------- the headcount identity


def check_seats(log: EventLog, scenario: Scenario) -> None:
    """No headcount grows without a seat: every employee joins a seat that is open (a requisition:
    a backfill, a wave, a target or the seat behind a promotion) or starts in one at t = 0, a seat
    holds one rep at a time, and the only new seats are those of waves and targets. A promotion
    therefore moves a rep from one seat into another and conserves the org's seats."""
    state: dict[tuple[int, int], str] = {}
    new_seats = [0] * len(log.roles)
    for row in log.workforce:
        _t, k, r, _rep, seat, _cost, _team, rep_kind = row[:8]
        if (k != WorkforceEvent.REQUISITION and rep_kind != RepKind.EMPLOYEE) or k in MANAGER_EVENTS:
            continue  # interns, outsourced reps and managers hold no seat of the role
        key = (int(r), int(seat))
        if k == WorkforceEvent.START:
            assert key not in state, f"seat {key} starts twice"
            state[key] = "held"
        elif k == WorkforceEvent.REQUISITION:
            if key in state:
                assert state[key] == "vacant", f"a requisition for seat {key}, which is {state[key]}"
            else:
                new_seats[int(r)] += 1
            state[key] = "open"
        elif k in (WorkforceEvent.HIRE, WorkforceEvent.PROMOTED_IN):
            assert state.get(key) == "open", f"a rep joins seat {key}, which is {state.get(key, 'not a seat')}"
            state[key] = "held"
        else:
            assert state.get(key) == "held", f"a rep leaves seat {key}, which is {state.get(key)}"
            state[key] = "vacant"
    for r, name in enumerate(log.roles):
        planned = sum(w.count for w in scenario.hiring.waves if w.role == name) \
            + sum(scenario.hiring.targets.get(name, {}).values())
        assert new_seats[r] <= planned, f"{name}: {new_seats[r]} new seats, {planned} planned"


def check_headcount_identity(log: EventLog, scenario: Scenario, series: dict[str, np.ndarray]) -> None:
    """headcount(m) = start + Σ hires + Σ promotions in + Σ other starts − Σ exits − Σ promotions out,
    in every month, for every role and every team; from the series and from the raw log.

    "Other starts" are the interns and outsourced reps (``START`` of a non-employee): they start
    after the month-0 snapshot, even when their cohort starts at t = 0.
    """
    h = scenario.horizon_months
    wf = log.workforce_table()
    kind, t, rep_kind = wf["kind"], wf["t"], wf["rep_kind"]
    assert np.all(t >= 0.0) and np.all(t < h * D), "every workforce event falls inside the horizon"
    starting = (kind == WorkforceEvent.START) & (rep_kind == RepKind.EMPLOYEE)
    assert np.all(t[starting] == 0.0)
    later_start = (kind == WorkforceEvent.START) & (rep_kind != RepKind.EMPLOYEE)

    # rep records: each rep joins once, leaves at most once, after it joined
    joined: dict[int, tuple[float, int, int]] = {}
    left: set[int] = set()
    for row in log.workforce:
        t_row, k, r, rep, _seat, _cost, team = row[:7]
        if k in JOINING:
            assert rep not in joined, f"rep {rep} joins twice"
            joined[rep] = (t_row, r, team)
        elif k in LEAVING:
            assert rep in joined and rep not in left, f"rep {rep} leaves without having joined, or twice"
            assert joined[rep][1] == r and joined[rep][2] == team, "a rep leaves the role and team it joined"
            assert t_row >= joined[rep][0]
            left.add(rep)
        else:
            assert k in (WorkforceEvent.REQUISITION, *MANAGER_EVENTS) and rep == -1

    check_seats(log, scenario)
    # promotions: out of one role and into the next at the same instant, in the same team
    outs = rows(log, WorkforceEvent.PROMOTED_OUT)
    ins = rows(log, WorkforceEvent.PROMOTED_IN)
    assert len(outs) == len(ins)
    for out_row, in_row in zip(outs, ins, strict=True):
        assert out_row[0] == in_row[0]
        assert out_row[6] == in_row[6], "the promoted rep stays in the team"
        promotion = scenario.roles[log.roles[int(out_row[2])]].promotion
        assert promotion is not None and log.roles[int(in_row[2])] == promotion.to

    teams = sorted({team for _r, team in log.pools})
    for r, name in enumerate(log.roles):
        mine = wf["role"] == r
        groups = [(name, mine)]
        if len(log.teams) > 1:
            groups += [(f"{name}@{log.teams[team]}", mine & (wf["team"] == team)) for team in teams]
        for suffix, sel in groups:
            start = float(np.sum(sel & starting))
            flows = {
                "hires": per_month(t[sel & (kind == WorkforceEvent.HIRE)], h),
                "exits": per_month(t[sel & (kind == WorkforceEvent.EXIT)], h),
                "promotions_in": per_month(t[sel & (kind == WorkforceEvent.PROMOTED_IN)], h),
                "promotions_out": per_month(t[sel & (kind == WorkforceEvent.PROMOTED_OUT)], h),
                "requisitions": per_month(t[sel & (kind == WorkforceEvent.REQUISITION)], h),
            }
            other_starts = per_month(t[sel & later_start], h)
            net = (flows["hires"] + flows["promotions_in"] + other_starts
                   - flows["exits"] - flows["promotions_out"])
            expected = start + np.cumsum(net)
            headcount = series[f"headcount.{suffix}"]
            np.testing.assert_array_equal(headcount, expected, err_msg=f"headcount.{suffix}")
            if suffix == name:
                assert start == scenario.roles[name].headcount
                for flow, values in flows.items():  # the series agree with the log
                    np.testing.assert_array_equal(series[f"{flow}.{name}"][1:], values[1:], err_msg=flow)
                # identity from the series alone (plus non-employee starts, which have no series)
                s = {f: series[f"{f}.{name}"][1:] for f in flows}
                from_series = headcount[0] + np.cumsum(
                    s["hires"] + s["promotions_in"] + other_starts[1:] - s["exits"] - s["promotions_out"])
                np.testing.assert_array_equal(headcount[1:], from_series, err_msg=f"series identity {name}")
            # every HIRE and every promotion in fills a requisition: open = opened − filled
            open_reqs = np.cumsum(flows["requisitions"] - flows["hires"] - flows["promotions_in"])
            np.testing.assert_array_equal(series[f"open_requisitions.{suffix}"], open_reqs,
                                          err_msg=f"open_requisitions.{suffix}")
            # interns and outsourced reps: started − left
            for label, rk in (("interns", RepKind.INTERN), ("outsourced", RepKind.OUTSOURCED)):
                of_kind = sel & (rep_kind == rk)
                level = np.cumsum(per_month(t[of_kind & (kind == WorkforceEvent.START)], h)
                                  - per_month(t[of_kind & (kind == WorkforceEvent.EXIT)], h))
                np.testing.assert_array_equal(series[f"headcount_{label}.{suffix}"], level,
                                              err_msg=f"headcount_{label}.{suffix}")
            parts = (series[f"headcount_productive.{suffix}"] + series[f"headcount_ramping.{suffix}"]
                     + series[f"headcount_interns.{suffix}"] + series[f"headcount_outsourced.{suffix}"])
            np.testing.assert_array_equal(parts, headcount)
            assert np.all(series[f"headcount_productive.{suffix}"] >= 0)


def everything_on(horizon_months: int = 12) -> dict[str, Any]:
    """Attrition (with and without backfill), waves, targets, a recruiting cap, promotions
    MDR → SDR → AE, interns, outsourcing, coaching with hired managers, all at once."""
    data = three_role_scenario(
        horizon_months,
        mdr=role(2, dials_per_day=300.0, initial_tenure_months=[1.0, 5.5], ramp=[0.5, 1.0], monthly_cost_usd=5000.0,
                 promotion={"to": "sdr", "after_months": 4},
                 tenure_months={"dist": "exponential", "mean": 8.0},
                 time_to_fill_days={"dist": "lognormal", "median": 30.0, "sigma": 0.5},
                 interns={"count": 2, "start_month": 3, "term_months": 4, "monthly_cost_usd": 2000.0,
                          "ramp": [0.5, 1.0]},
                 outsourced={"reps": 2, "start_month": 2, "end_month": 7, "price_per_month_usd": 3000.0,
                             "price_per_sql_usd": 50.0}),
        sdr=role(1, dials_per_day=300.0, monthly_cost_usd=6000.0, promotion={"to": "ae", "after_months": 3},
                 tenure_months={"dist": "weibull", "scale": 12.0, "shape": 1.5},
                 time_to_fill_days=constant(15.0)),
        ae=role(3, max_open_opportunities=5.0, initial_tenure_months=[0.0, 6.0, 20.0], ramp=[0.3, 0.6, 1.0],
                monthly_cost_usd=10000.0, tenure_months={"dist": "exponential", "mean": 10.0},
                time_to_fill_days=constant(20.0),
                manager={"span": 1, "coached_per_manager": 1.0, "time_to_fill_days": 20.0}),
        csm=role(1, accounts_covered=20.0, backfill=False, tenure_months={"dist": "exponential", "mean": 6.0}),
    )
    data["customers"] = {"managed_by": "csm"}
    data["hiring"] = {
        "waves": [{"month": 2, "role": "ae", "count": 2}, {"month": 5, "role": "sdr", "count": 1},
                  {"month": 3, "role": "csm", "count": 1}],
        "targets": {"ae": {6: 7, 9: 8}},
        "hires_per_month": 3,
    }
    return data


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_headcount_identity_with_everything_on(replication: int) -> None:
    scenario = build(everything_on())
    log = simulate(scenario, SEED, replication)
    series = monthly_series(log, scenario)
    check_headcount_identity(log, scenario, series)
    kinds = {WorkforceEvent(k) for k in log.workforce_table()["kind"].tolist()}
    assert kinds == set(WorkforceEvent), "the scenario exercises every kind of workforce event"
    rep_kinds = set(log.workforce_table()["rep_kind"].tolist())
    assert rep_kinds == {RepKind.EMPLOYEE, RepKind.INTERN, RepKind.OUTSOURCED}


# ---- random small configurations


@st.composite
def workforce_configs(draw) -> dict[str, Any]:
    """Small random orgs with every workforce feature optionally on (silo or two PODs)."""
    horizon = draw(st.integers(2, 8))

    def tenure_dist():
        kind = draw(st.sampled_from(["none", "exponential", "weibull", "constant"]))
        if kind == "none":
            return None
        if kind == "exponential":
            return {"dist": "exponential", "mean": draw(st.floats(1.0, 12.0))}
        if kind == "weibull":
            return {"dist": "weibull", "scale": draw(st.floats(1.0, 12.0)), "shape": draw(st.floats(0.7, 2.0))}
        return constant(draw(st.floats(0.5, 10.0)))

    def ttf():
        if draw(st.booleans()):
            return constant(draw(st.floats(0.0, 60.0)))
        return {"dist": "lognormal", "median": draw(st.floats(1.0, 60.0)), "sigma": draw(st.floats(0.0, 0.8))}

    def ramp():
        kind = draw(st.sampled_from(["vector", "linear", "step"]))
        if kind == "vector":
            return draw(st.sampled_from([[1.0], [0.5, 1.0], [0.25, 0.5, 0.75, 1.0], [0.0, 1.0]]))
        if kind == "linear":
            return {"form": "linear", "months": draw(st.integers(1, 4)),
                    "start": draw(st.floats(0.0, 1.0, allow_subnormal=False))}
        return {"form": "step", "months": draw(st.integers(1, 3)),
                "before": draw(st.floats(0.0, 1.0, allow_subnormal=False))}

    def make_role(**capacity: Any) -> dict[str, Any]:
        headcount = draw(st.integers(0, 3))
        out: dict[str, Any] = {
            "headcount": headcount,
            "initial_tenure_months": draw(st.lists(st.floats(0.0, 12.0), min_size=headcount, max_size=headcount)),
            "monthly_cost_usd": draw(st.floats(0.0, 10_000.0)),
            "ramp": ramp(),
            "tenure_months": tenure_dist(),
            "backfill": draw(st.booleans()),
            "time_to_fill_days": ttf(),
            **capacity,
        }
        if draw(st.booleans()):
            out["manager"] = {"span": draw(st.integers(1, 4)), "coached_per_manager": draw(st.floats(0.5, 2.0)),
                              "ramp_slowdown": draw(st.floats(0.2, 1.0))}
        return out

    roles = {
        "mdr": make_role(dials_per_day=draw(st.floats(20.0, 300.0))),
        "sdr": make_role(dials_per_day=draw(st.floats(20.0, 300.0))),
        "ae": make_role(max_open_opportunities=draw(st.floats(1.0, 10.0))),
        "csm": make_role(accounts_covered=draw(st.floats(1.0, 20.0))),
    }
    # a promotion fills open seats of the role above, so that role needs seats (validation says so)
    if draw(st.booleans()) and roles["sdr"]["headcount"] > 0:
        roles["mdr"]["promotion"] = {"to": "sdr", "after_months": draw(st.floats(0.5, 4.0)),
                                     "ramp_credit_months": draw(st.integers(0, 3))}
    if draw(st.booleans()) and roles["ae"]["headcount"] > 0:
        roles["sdr"]["promotion"] = {"to": "ae", "after_months": draw(st.floats(0.5, 4.0)),
                                     "ramp_credit_months": draw(st.integers(0, 3))}
    for name in draw(st.lists(st.sampled_from(list(roles)), max_size=2, unique=True)):
        roles[name]["interns"] = {
            "count": draw(st.integers(0, 3)), "start_month": draw(st.integers(1, horizon)),
            "term_months": draw(st.floats(0.5, 6.0)), "monthly_cost_usd": draw(st.floats(0.0, 3000.0)),
            "yield_multiplier": draw(st.floats(0.3, 1.5)), "ramp": draw(st.sampled_from([[1.0], [0.3, 0.7, 1.0]])),
        }
    for name in draw(st.lists(st.sampled_from(["mdr", "sdr"]), max_size=2, unique=True)):
        start = draw(st.integers(1, horizon))
        roles[name]["outsourced"] = {
            "reps": draw(st.integers(0, 2)), "start_month": start,
            "end_month": draw(st.one_of(st.none(), st.integers(start, horizon + 2))),
            "price_per_month_usd": draw(st.floats(0.0, 5000.0)), "price_per_sql_usd": draw(st.floats(0.0, 100.0)),
            "conversion_multiplier": draw(st.floats(0.3, 1.5)),
        }
    pods = None
    if draw(st.booleans()):
        pods = {"east": {"composition": {}}, "west": {"composition": {}}}
        for name, spec in roles.items():
            east = draw(st.integers(0, spec["headcount"]))
            pods["east"]["composition"][name] = east
            pods["west"]["composition"][name] = spec["headcount"] - east
    waves = []
    for _ in range(draw(st.integers(0, 4))):
        wave = {"month": draw(st.integers(1, horizon)), "role": draw(st.sampled_from(list(roles))),
                "count": draw(st.integers(0, 3))}
        if pods is not None and draw(st.booleans()):
            wave["team"] = draw(st.sampled_from(list(pods)))
        waves.append(wave)
    hiring: dict[str, Any] = {
        "waves": waves,
        "hires_per_month": draw(st.one_of(st.none(), st.integers(1, 3))),
        "recruiting_load_fte": draw(st.floats(0.0, 0.6)),
    }
    if draw(st.booleans()):
        target_role = draw(st.sampled_from(list(roles)))
        months = draw(st.lists(st.integers(1, horizon), min_size=1, max_size=3, unique=True))
        hiring["targets"] = {target_role: {m: draw(st.integers(0, 6)) for m in months}}
    data: dict[str, Any] = {
        "name": "wf_prop",
        "horizon_months": horizon,
        "calendar": draw(st.sampled_from([dict(CALENDAR_24_7), {"start_hour": 9, "hours_per_day": 8,
                                                                "days_per_week": 5}])),
        "roles": roles,
        "segments": {"s": segment(meetings=2, pass_probability=0.6, gap_days={"dist": "exponential", "mean": 8.0},
                                  churn_rate=0.05)},
        "inbound": inbound(mqls_per_month=draw(st.floats(0.0, 40.0)), dials_to_connect=constant(2),
                           qualify_probability=0.5, max_wait_days=20.0),
        "outbound": {"worked_by": "sdr", "segment_mix": {"s": 1.0}, "sql_probability": 0.2,
                     "prospects_per_rep_month": draw(st.floats(0.0, 40.0)), "dials_to_connect": constant(2)},
        "handoff": {"delay_days": 1.0, "leakage_probability": 0.0, "stale_after_days": 20.0},
        "customers": {"managed_by": "csm"},
        "hiring": hiring,
        "workforce": {"exit_policy": draw(st.sampled_from(["reassign", "lose"]))},
    }
    if pods is not None:
        data["org"] = {"structure": "pod", "pods": pods, "routing": draw(st.sampled_from(["round_robin",
                                                                                          "least_loaded"]))}
    return data


# 40 examples (60 until the default tier was trimmed: 1.6 s): each one is a full simulation.
@settings(deadline=None, max_examples=40, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=workforce_configs(), replication=st.integers(0, 3))
def test_headcount_identity_for_random_configurations(data: dict[str, Any], replication: int) -> None:
    scenario = build(data)
    log = simulate(scenario, SEED, replication)
    series = monthly_series(log, scenario)
    check_headcount_identity(log, scenario, series)
    # costs: every role's cost is non-negative and the org's rep cost is their sum
    h = scenario.horizon_months
    role_cost = sum(series[f"cost_usd.{name}"][1:] for name in scenario.roles)
    mql_cost = series["mqls"][1:] * scenario.inbound.cost_per_mql_usd
    np.testing.assert_allclose(series["cost_usd"][1:], role_cost + mql_cost, rtol=1e-12, atol=1e-6)
    assert all(np.all(series[f"cost_usd.{name}"][1:] >= 0) for name in scenario.roles)
    assert len(series["cost_usd"]) == h + 1


# --------------------------------------------------------------------------- ramp, tenure, time to fill


@pytest.mark.parametrize(("ramp", "vector"), [
    ({"form": "linear", "months": 3, "start": 0.4}, [0.4, 0.7, 1.0]),
    ({"form": "step", "months": 2, "before": 0.5}, [0.5, 0.5, 1.0]),
    ([0.2, 0.6, 1.0], [0.2, 0.6, 1.0]),
])
def test_exact_ramp_timeline_with_constant_tenure_and_time_to_fill(ramp: Any, vector: list[float]) -> None:
    """One AE at tenure 10 with a constant 11-month tenure leaves at day D; the backfill opens at
    once and starts 12 days later; the new rep steps up its ramp at each tenure month and leaves
    11 months after its hire (past the 6-month horizon)."""
    fill, tenure = 12.0, 11.0
    data = base_scenario(horizon_months=6, calendar=dict(CALENDAR_24_7),
                         ae=role(1, max_open_opportunities=HUGE, ramp=ramp, initial_tenure_months=10.0,
                                 tenure_months=constant(tenure), time_to_fill_days=constant(fill)))
    scenario = build(data)
    assert scenario.roles["ae"].ramp_vector() == pytest.approx(vector, abs=EXACT)
    _world, log, fte = run_recording(scenario, "ae")

    assert times(log, WorkforceEvent.EXIT, "ae") == pytest.approx([1 * D], abs=EXACT)  # 11 − 10 months
    assert times(log, WorkforceEvent.REQUISITION, "ae") == pytest.approx([1 * D], abs=EXACT)
    hire = times(log, WorkforceEvent.HIRE, "ae")
    assert hire == pytest.approx([D + fill], abs=EXACT)  # requisition + time to fill
    assert rows(log, WorkforceEvent.HIRE, "ae")[0][4] == 0  # the same seat

    h0 = D + fill
    expected = [(0.0, 1.0), (D, 0.0)] + [(h0 + k * D, v) for k, v in enumerate(vector)]
    expected = [step for i, step in enumerate(expected) if i == 0 or step[1] != expected[i - 1][1]]
    steps = fte.steps()
    assert [t for t, _ in steps] == pytest.approx([t for t, _ in expected], abs=EXACT)
    assert [v for _, v in steps] == pytest.approx([v for _, v in expected], abs=EXACT)

    # the monthly time-weighted capacity follows from the step function
    def level(t: float) -> float:
        value = 1.0
        for t_step, v in steps:
            if t_step <= t:
                value = v
        return value

    series = monthly_series(log, scenario)
    for m in range(1, 7):
        a, b = (m - 1) * D, m * D
        cuts = sorted({a, b, *[t for t, _ in steps if a < t < b]})
        area = sum(level(lo) * (hi - lo) for lo, hi in itertools.pairwise(cuts))
        assert series["capacity_fte.ae"][m] == pytest.approx(area / D, abs=EXACT), m
    assert series["capacity_fte.ae"][0] == 1.0
    ramping = [1.0 if level(m * D - EXACT) < vector[-1] and m * D > h0 else 0.0 for m in range(1, 7)]
    assert series["headcount_ramping.ae"][1:].tolist() == ramping


def test_starting_reps_draw_the_remainder_of_a_constant_tenure() -> None:
    """Constant tenure 6: reps at tenure 1, 2.5 and 4 leave after 5, 3.5 and 2 months."""
    data = base_scenario(horizon_months=8, ae=role(3, max_open_opportunities=HUGE, backfill=False,
                                                   initial_tenure_months=[1.0, 2.5, 4.0],
                                                   tenure_months=constant(6.0)))
    log = simulate(build(data), SEED, 0)
    exits = {row[4]: row[0] for row in rows(log, WorkforceEvent.EXIT, "ae")}
    assert exits == pytest.approx({0: 5 * D, 1: 3.5 * D, 2: 2 * D}, abs=EXACT)
    assert not rows(log, WorkforceEvent.REQUISITION)


def test_mean_exits_match_exponential_tenure_without_backfill() -> None:
    """Exponential tenure is memoryless: whatever their tenure, each of n reps leaves within T
    months with probability 1 − exp(−T/μ), independently: exits ~ Binomial(n, p)."""
    n, mu, horizon, reps = 30, 10.0, 6, 200
    tenures = [float(x) for x in np.linspace(0.0, 40.0, n)]
    data = base_scenario(horizon_months=horizon)
    data["roles"]["fae"] = role(n, backfill=False, initial_tenure_months=tenures,
                                tenure_months={"dist": "exponential", "mean": mu})
    scenario = build(data)
    exits = np.array([len(times(simulate(scenario, SEED, r), WorkforceEvent.EXIT, "fae")) for r in range(reps)])
    p = 1.0 - math.exp(-horizon / mu)
    se = math.sqrt(n * p * (1.0 - p) / reps)
    assert abs(exits.mean() - n * p) < 4.0 * se, (exits.mean(), n * p, se)
    # and exits are spread as a binomial: the sample variance is within 4 SE of n p (1 − p)
    var = n * p * (1.0 - p)
    excess_kurtosis = (1.0 - 6.0 * p * (1.0 - p)) / var
    se_var = var * math.sqrt((2.0 + excess_kurtosis) / reps)
    assert abs(exits.var(ddof=1) - var) < 4.0 * se_var, (exits.var(ddof=1), var, se_var)


def test_backfill_starts_exactly_time_to_fill_after_each_exit() -> None:
    d = 9.5
    data = base_scenario(horizon_months=12, calendar=dict(CALENDAR_24_7),
                         ae=role(5, max_open_opportunities=HUGE, initial_tenure_months=[0.0, 1.0, 2.0, 3.0, 4.0],
                                 tenure_months={"dist": "exponential", "mean": 3.0}, time_to_fill_days=constant(d)))
    scenario = build(data)
    for replication in range(3):
        log = simulate(scenario, SEED, replication)
        exits = rows(log, WorkforceEvent.EXIT, "ae")
        assert len(exits) >= 5
        requisitions = [(row[4], row[0]) for row in rows(log, WorkforceEvent.REQUISITION, "ae")]
        hires = [(row[4], row[0]) for row in rows(log, WorkforceEvent.HIRE, "ae")]
        # one requisition per exit, at the exit, for the seat; nothing else opens one
        assert requisitions == [(row[4], row[0]) for row in exits]
        filled = [(row[4], row[0] + d) for row in exits if row[0] + d < scenario.horizon_months * D]
        assert sorted(hires) == [(seat, pytest.approx(t, abs=EXACT)) for seat, t in sorted(filled)]


def test_a_wave_does_not_shift_anyone_elses_draws() -> None:
    """Tenure and time to fill are drawn per (role, seat, generation): adding two AEs changes
    nothing for the MDRs or for the AEs already there (rep ids aside, which count everyone)."""
    def scenario(wave: int) -> Scenario:
        data = base_scenario(
            horizon_months=12,
            mdr=role(3, dials_per_day=300.0, tenure_months={"dist": "exponential", "mean": 4.0},
                     time_to_fill_days={"dist": "lognormal", "median": 40.0, "sigma": 0.5}),
            ae=role(3, max_open_opportunities=HUGE, tenure_months={"dist": "exponential", "mean": 4.0},
                    time_to_fill_days={"dist": "lognormal", "median": 40.0, "sigma": 0.5}))
        data["hiring"] = {"waves": [{"month": 2, "role": "ae", "count": wave}]}
        return build(data)

    for replication in range(3):
        a, b = simulate(scenario(0), SEED, replication), simulate(scenario(2), SEED, replication)

        def key(log: EventLog, role_name: str, seats: int) -> list[tuple]:
            r = log.roles.index(role_name)
            return [(row[0], row[1], row[4]) for row in log.workforce if row[2] == r and row[4] < seats]

        assert key(a, "mdr", 99) == key(b, "mdr", 99)
        assert key(a, "ae", 3) == key(b, "ae", 3)
        assert len(key(b, "ae", 99)) > len(key(a, "ae", 99))


def test_no_backfill_means_no_requisition() -> None:
    data = base_scenario(horizon_months=12, ae=role(4, max_open_opportunities=HUGE, backfill=False,
                                                    tenure_months={"dist": "exponential", "mean": 3.0}))
    log = simulate(build(data), SEED, 0)
    assert times(log, WorkforceEvent.EXIT)
    assert not times(log, WorkforceEvent.REQUISITION) and not times(log, WorkforceEvent.HIRE)


# --------------------------------------------------------------------------- promotions


def test_a_promotion_fills_an_open_seat_and_never_adds_one() -> None:
    """The issue's ladder: two MDRs (tenure 0) may move up to SDR after 3 months. The one SDR leaves
    at month 5 (a constant tenure): one MDR — the longest in role, ties to the first hired — takes
    the seat at once, ramping from month 1 of the SDR ramp (ramp credit 1), and a requisition opens
    behind them, filled 10 days later. The other MDR stays: inbound is never left unstaffed, and SDR
    headcount never exceeds its one seat (the timer moved both MDRs at month 3, into new seats)."""
    fill = 10.0
    data = three_role_scenario(
        8,
        mdr=role(2, dials_per_day=300.0, initial_tenure_months=[0.0, 0.0], time_to_fill_days=constant(fill),
                 promotion={"to": "sdr", "after_months": 3}, monthly_cost_usd=5000.0),
        sdr=role(1, dials_per_day=300.0, initial_tenure_months=0.0, ramp=[0.25, 0.5, 0.75, 1.0],
                 tenure_months=constant(5.0), time_to_fill_days=constant(fill), monthly_cost_usd=6000.0),
        ae=role(1, max_open_opportunities=HUGE, monthly_cost_usd=10000.0),
    )
    scenario = build(data)
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    check_headcount_identity(log, scenario, series)
    assert times(log, WorkforceEvent.EXIT, "sdr") == pytest.approx([5 * D], abs=EXACT)
    assert times(log, WorkforceEvent.REQUISITION, "sdr") == pytest.approx([5 * D], abs=EXACT)
    promoted_out = rows(log, WorkforceEvent.PROMOTED_OUT, "mdr")
    assert [row[0] for row in promoted_out] == pytest.approx([5 * D], abs=EXACT)
    assert [row[4] for row in promoted_out] == [0]  # the first MDR (seat 0)
    promoted_in = rows(log, WorkforceEvent.PROMOTED_IN, "sdr")
    assert [row[4] for row in promoted_in] == [0]  # into the seat the SDR left, not a new one
    assert not rows(log, WorkforceEvent.HIRE, "sdr")  # the seat went to the MDR, not outside
    assert [row[4] for row in rows(log, WorkforceEvent.REQUISITION, "mdr")] == [0]
    assert times(log, WorkforceEvent.HIRE, "mdr") == pytest.approx([5 * D + fill], abs=EXACT)
    assert series["headcount.sdr"].tolist() == [1] * 9
    assert series["headcount.mdr"].tolist() == [2, 2, 2, 2, 2, 2, 2, 2, 2]  # month 6: back to 2 at 5D + 10
    # ramp credit: the promoted SDR starts at the ramp's second month (0.5), then 0.75 and 1.0
    assert series["capacity_fte.sdr"][6] == pytest.approx(0.5, abs=EXACT)
    assert series["capacity_fte.sdr"][7] == pytest.approx(0.75, abs=EXACT)
    assert series["headcount_ramping.sdr"].tolist() == [1, 1, 1, 1, 0, 0, 1, 1, 0]
    # a promoted rep is paid as the new role from the promotion on
    assert promoted_in[0][5] == 6000.0


def test_an_open_seat_waits_for_the_first_rep_to_qualify() -> None:
    """The SDR leaves at month 1 and its seat takes 120 days to fill from outside; the MDR (tenure 0)
    qualifies at month 3 and takes the seat then, so no outside SDR is hired."""
    data = three_role_scenario(
        4,  # the promoted SDR's constant month of tenure ends at the horizon
        mdr=role(1, dials_per_day=300.0, initial_tenure_months=0.0, time_to_fill_days=constant(10.0),
                 promotion={"to": "sdr", "after_months": 3, "ramp_credit_months": 0}),
        sdr=role(1, dials_per_day=300.0, initial_tenure_months=0.0, tenure_months=constant(1.0),
                 time_to_fill_days=constant(120.0)),
        ae=role(1, max_open_opportunities=HUGE),
    )
    scenario = build(data)
    log = simulate(scenario, SEED, 0)
    check_headcount_identity(log, scenario, monthly_series(log, scenario))
    assert times(log, WorkforceEvent.REQUISITION, "sdr") == pytest.approx([D], abs=EXACT)
    assert times(log, WorkforceEvent.PROMOTED_IN, "sdr") == pytest.approx([3 * D], abs=EXACT)
    assert not rows(log, WorkforceEvent.HIRE, "sdr")
    assert times(log, WorkforceEvent.HIRE, "mdr") == pytest.approx([3 * D + 10.0], abs=EXACT)


def test_a_promotion_into_a_role_without_seats_is_refused() -> None:
    data = three_role_scenario(3, mdr=role(1, dials_per_day=300.0, promotion={"to": "sdr"}),
                               sdr=role(0, dials_per_day=300.0), ae=role(1, max_open_opportunities=HUGE))
    with pytest.raises(ScenarioError, match="role 'sdr' never has a seat"):
        build(data)


# --------------------------------------------------------------------------- recruiting capacity and load


def test_recruiting_capacity_spreads_starts_over_months() -> None:
    """Three requisitions open on day 0 and are ready on day 10; one start a month: the first
    starts on day 10, the others on the first day of months 2 and 3."""
    data = base_scenario(horizon_months=5, ae=role(1, max_open_opportunities=HUGE, time_to_fill_days=constant(10.0)))
    data["hiring"] = {"waves": [{"month": 1, "role": "ae", "count": 3}], "hires_per_month": 1}
    scenario = build(data)
    log = simulate(scenario, SEED, 0)
    assert times(log, WorkforceEvent.REQUISITION) == [0.0, 0.0, 0.0]
    assert times(log, WorkforceEvent.HIRE) == pytest.approx([10.0, D, 2 * D], abs=EXACT)
    series = monthly_series(log, scenario)
    assert series["hires.ae"][1:].tolist() == [1, 1, 1, 0, 0]
    assert series["open_requisitions.ae"].tolist() == [0, 2, 1, 0, 0, 0]
    check_headcount_identity(log, scenario, series)


def test_without_recruiting_capacity_all_start_when_ready() -> None:
    data = base_scenario(horizon_months=3, ae=role(1, max_open_opportunities=HUGE, time_to_fill_days=constant(10.0)))
    data["hiring"] = {"waves": [{"month": 1, "role": "ae", "count": 3}]}
    log = simulate(build(data), SEED, 0)
    assert times(log, WorkforceEvent.HIRE) == pytest.approx([10.0] * 3, abs=EXACT)


def _load_scenario(employees: int, requisitions: int, load: float, fill: float, horizon: int = 3,
                   **ae: Any) -> Scenario:
    data = base_scenario(horizon_months=horizon, calendar=dict(CALENDAR_24_7),
                         ae=role(employees, max_open_opportunities=HUGE, time_to_fill_days=constant(fill), **ae))
    data["hiring"] = {"waves": [{"month": 2, "role": "ae", "count": requisitions}], "recruiting_load_fte": load}
    return build(data)


def test_recruiting_load_lowers_capacity_by_the_formula() -> None:
    """4 AEs, 2 requisitions open for 15 days in month 2 at 0.25 FTE each: every AE works at
    1 − 0.25 × 2 / 4 = 0.875 while they are open; then 6 AEs at full speed."""
    scenario = _load_scenario(employees=4, requisitions=2, load=0.25, fill=15.0)
    _world, log, fte = run_recording(scenario, "ae")
    assert fte.steps() == [(0.0, 4.0), (D, pytest.approx(4 * 0.875, abs=EXACT)),
                           (pytest.approx(D + 15.0, abs=EXACT), pytest.approx(6.0, abs=EXACT))]
    series = monthly_series(log, scenario)
    assert series["capacity_fte.ae"][1] == pytest.approx(4.0, abs=EXACT)
    assert series["capacity_fte.ae"][2] == pytest.approx((15.0 * 3.5 + (D - 15.0) * 6.0) / D, abs=EXACT)
    assert series["capacity_fte.ae"][3] == pytest.approx(6.0, abs=EXACT)
    # with no load, the same plan loses nothing
    no_load = _load_scenario(4, 2, 0.0, 15.0)
    free = monthly_series(simulate(no_load, SEED, 0), no_load)
    assert free["capacity_fte.ae"][2] == pytest.approx((15.0 * 4 + (D - 15.0) * 6.0) / D, abs=EXACT)


def test_recruiting_load_never_makes_productivity_negative() -> None:
    """1 AE, 5 requisitions at 0.5 FTE each (never filled): max(0, 1 − 2.5) = 0."""
    scenario = _load_scenario(employees=1, requisitions=5, load=0.5, fill=1000.0)
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    assert series["capacity_fte.ae"][1:].tolist() == [1.0, 0.0, 0.0]
    assert series["open_requisitions.ae"][1:].tolist() == [0, 5, 5]
    assert series["headcount.ae"][1:].tolist() == [1, 1, 1]


def test_recruiting_load_falls_on_employees_only() -> None:
    """1 employee + 2 outsourced MDRs, 1 requisition at 0.5 FTE: the employee works at 0.5, the
    agency reps (who do not interview) at 1.0 — 2.5 FTE, i.e. exactly 0.5 FTE lost."""
    data = base_scenario(horizon_months=2, calendar=dict(CALENDAR_24_7),
                         mdr=role(1, dials_per_day=300.0, time_to_fill_days=constant(1000.0),
                                  outsourced={"reps": 2, "start_month": 1}))
    data["hiring"] = {"waves": [{"month": 1, "role": "mdr", "count": 1}], "recruiting_load_fte": 0.5}
    scenario = build(data)
    series = monthly_series(simulate(scenario, SEED, 0), scenario)
    assert series["capacity_fte.mdr"][1] == pytest.approx(2.5, abs=EXACT)  # actual: 1.5


# --------------------------------------------------------------------------- coaching span


def _coaching(coached_per_manager: float, slowdown: float, span: int = 8) -> dict[str, np.ndarray]:
    """2 ramped AEs + 3 hires on day 0 (ramp 0.2, 0.5, 1.0); one manager per ``span`` reps."""
    data = base_scenario(horizon_months=10, calendar=dict(CALENDAR_24_7),
                         ae=role(2, max_open_opportunities=HUGE, ramp=[0.2, 0.5, 1.0], initial_tenure_months=12.0,
                                 time_to_fill_days=constant(0.0),
                                 manager={"span": span, "coached_per_manager": coached_per_manager,
                                          "ramp_slowdown": slowdown}))
    data["hiring"] = {"waves": [{"month": 1, "role": "ae", "count": 3}], "recruiting_load_fte": 0.0}
    scenario = build(data)
    return monthly_series(simulate(scenario, SEED, 0), scenario)


def _capacity(levels: list[float]) -> list[float]:
    return [2.0 + 3.0 * x for x in levels]


@pytest.mark.parametrize(("span", "coached_per_manager"), [(8, 3.0), (2, 1.0)])
def test_coaching_within_span_does_not_slow_ramps(span: int, coached_per_manager: float) -> None:
    """3 ramping <= ceil(5 / span) managers × coached_per_manager (1 × 3, or 3 × 1)."""
    series = _coaching(coached_per_manager=coached_per_manager, slowdown=0.5, span=span)
    assert series["capacity_fte.ae"][1:].tolist() == pytest.approx(_capacity([0.2, 0.5] + [1.0] * 8), abs=EXACT)


@pytest.mark.parametrize(("slowdown", "months_per_step"), [(0.5, 2), (0.25, 4), (1.0, 1)])
def test_coaching_overload_postpones_each_ramp_step(slowdown: float, months_per_step: int) -> None:
    """3 ramping > 1 manager × 2: each step waits (1/slowdown − 1) extra months."""
    series = _coaching(coached_per_manager=2.0, slowdown=slowdown)
    levels = [0.2] * months_per_step + [0.5] * months_per_step
    levels += [1.0] * (10 - len(levels))
    assert series["capacity_fte.ae"][1:].tolist() == pytest.approx(_capacity(levels), abs=EXACT)
    # a step due at a month's end comes after the month's books close
    assert series["headcount_ramping.ae"][1:].tolist() == [3.0 if x < 1.0 else 0.0 for x in levels]


# --------------------------------------------------------------------------- interns and outsourcing


def test_interns_and_outsourced_are_counted_and_costed() -> None:
    """1 MDR employee ($5,000), 2 outsourced MDRs in months 2–3 ($3,000 a month and $40 per SQL),
    2 interns for one month from month 2 ($1,000)."""
    data = base_scenario(
        horizon_months=4, calendar=dict(CALENDAR_24_7),
        mdr=role(1, dials_per_day=300.0, monthly_cost_usd=5000.0,
                 interns={"count": 2, "start_month": 2, "term_months": 1, "monthly_cost_usd": 1000.0},
                 outsourced={"reps": 2, "start_month": 2, "end_month": 3, "price_per_month_usd": 3000.0,
                             "price_per_sql_usd": 40.0}),
        ae=role(1, max_open_opportunities=HUGE, monthly_cost_usd=0.0),
        inbound_spec=inbound(mqls_per_month=200.0, dials_to_connect=constant(2), qualify_probability=0.6),
    )
    scenario = build(data)
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    check_headcount_identity(log, scenario, series)

    assert series["headcount.mdr"].tolist() == [1, 1, 5, 3, 1]
    assert series["headcount_interns.mdr"].tolist() == [0, 0, 2, 0, 0]
    assert series["headcount_outsourced.mdr"].tolist() == [0, 0, 2, 2, 0]
    assert series["headcount_productive.mdr"].tolist() == [1, 1, 1, 1, 1]
    # interns ramp on their own curve (default: 10 % in their first month), agency reps start at 100 %
    assert scenario.roles["mdr"].interns.ramp[0] == 0.1
    assert series["capacity_fte.mdr"][1:].tolist() == pytest.approx([1.0, 1.0 + 2 * 0.1 + 2.0, 3.0, 1.0], abs=EXACT)
    starts = rows(log, WorkforceEvent.START, "mdr")
    interns = [row for row in starts if row[7] == RepKind.INTERN]
    outsourced = [row for row in starts if row[7] == RepKind.OUTSOURCED]
    assert [row[0] for row in interns] == [D, D] and [row[0] for row in outsourced] == [D, D]
    leaving = {row[3]: row[0] for row in rows(log, WorkforceEvent.EXIT, "mdr")}
    assert [leaving[row[3]] for row in interns] == pytest.approx([2 * D] * 2, abs=EXACT)  # term: 1 month
    assert [leaving[row[3]] for row in outsourced] == pytest.approx([3 * D] * 2, abs=EXACT)  # end of month 3
    assert not rows(log, WorkforceEvent.REQUISITION), "interns and agency reps are not backfilled"

    leads = log.lead_table()
    agency = [row[3] for row in outsourced]
    by_agency = np.isin(leads["dev_rep"], agency) & ~np.isnan(leads["sql_t"])
    agency_sqls = per_month(leads["sql_t"][by_agency], 4)
    assert agency_sqls[2] > 0 and agency_sqls[3] > 0, "the agency made SQLs in both its months"
    assert agency_sqls[1] == agency_sqls[4] == 0
    expected = np.array([5000.0, 5000.0 + 2 * 1000.0 + 2 * 3000.0, 5000.0 + 2 * 3000.0, 5000.0])
    expected += 40.0 * agency_sqls[1:]
    np.testing.assert_allclose(series["cost_usd.mdr"][1:], expected, rtol=1e-12)
    np.testing.assert_allclose(series["cost_usd"][1:], series["cost_usd.mdr"][1:] + series["cost_usd.ae"][1:],
                               rtol=1e-12)


def test_outsourced_reps_run_to_the_horizon_without_an_end_month() -> None:
    data = base_scenario(horizon_months=3, mdr=role(1, dials_per_day=300.0,
                                                    outsourced={"reps": 3, "start_month": 2}))
    scenario = build(data)
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    assert series["headcount_outsourced.mdr"].tolist() == [0, 0, 3, 3]
    assert not rows(log, WorkforceEvent.EXIT)


# --------------------------------------------------------------------------- exit policy


def _exit_policy(policy: str) -> Scenario:
    """Unlimited capacity everywhere (so a lost deal cannot free room for another), AEs and CSMs
    leave often and are backfilled."""
    data = base_scenario(
        horizon_months=8, calendar=dict(CALENDAR_24_7),
        mdr=role(2, dials_per_day=3000.0, tenure_months={"dist": "exponential", "mean": 3.0},
                 time_to_fill_days=constant(10.0)),
        ae=role(3, max_open_opportunities=HUGE, tenure_months={"dist": "exponential", "mean": 3.0},
                time_to_fill_days=constant(10.0)),
        seg=segment(meetings=3, pass_probability=0.8, gap_days={"dist": "exponential", "mean": 12.0}),
        inbound_spec=inbound(mqls_per_month=60.0, dials_to_connect={"dist": "uniform_int", "low": 1, "high": 12},
                             qualify_probability=0.6),
    )
    data["roles"]["csm"] = role(2, accounts_covered=HUGE, tenure_months={"dist": "exponential", "mean": 3.0},
                                time_to_fill_days=constant(10.0))
    data["customers"] = {"managed_by": "csm"}
    data["workforce"] = {"exit_policy": policy, "reassign_win_odds_multiplier": 0.85}
    return build(data)


def test_losing_a_leaving_reps_work_never_wins_more_than_reassigning_it() -> None:
    lose, reassign = _exit_policy("lose"), _exit_policy("reassign")
    lost_at_exit = 0
    csm_churns_at_exit = 0
    for replication in range(4):
        a, b = simulate(lose, SEED, replication), simulate(reassign, SEED, replication)
        # common random numbers: the same people come and go at the same times
        assert [row[:5] for row in a.workforce] == [row[:5] for row in b.workforce]
        sa, sb = a.lead_table()["state"], b.lead_table()["state"]
        assert np.sum(sa == LeadState.WON) <= np.sum(sb == LeadState.WON)
        assert np.sum(sb == LeadState.LOST_AT_EXIT) == 0
        lost_at_exit += int(np.sum(sa == LeadState.LOST_AT_EXIT))
        # with `lose`, a leaving CSM's book churns the instant they leave
        csm = a.roles.index("csm")
        exit_times = {row[0] for row in a.workforce if row[1] == WorkforceEvent.EXIT and row[2] == csm}
        churn_a = [row[0] for row in a.accounts if row[1] == AccountEvent.CHURN]
        churn_b = [row[0] for row in b.accounts if row[1] == AccountEvent.CHURN]
        csm_churns_at_exit += sum(1 for t in churn_a if t in exit_times)
        assert not any(t in exit_times for t in churn_b)
    assert lost_at_exit > 0, "the scenario must lose some work at exits"
    assert csm_churns_at_exit > 0, "the scenario must churn some books at CSM exits"


# --------------------------------------------------------------------------- warm start


INSTALLED = [{"segment": "s", "count": 20, "mrr_usd": 1000.0, "age_months": 12.0},
             {"segment": "s", "count": 5, "mrr_usd": 2500.0, "age_months": 3.0},
             {"segment": "s", "count": 7, "mrr_usd": {"dist": "lognormal", "median": 800.0, "sigma": 0.5}}]
PIPELINE = [{"stage": "opportunity", "segment": "s", "count": 6, "age_days": 15.0},
            {"stage": "sql", "segment": "s", "count": 3, "age_days": 2.0},
            {"stage": "mql", "segment": "s", "count": 4, "age_days": 1.0}]


def _warm(pass_probability: float, pipeline: bool = True, customers: bool = True) -> Scenario:
    """No new MQLs; an installed base of 32 accounts (one CSM) and/or 13 open leads: 6 deals
    15 days into 2 meetings 10 days apart, 3 SQLs waiting 2 days, 4 MQLs a day old."""
    data = base_scenario(horizon_months=3, calendar=dict(CALENDAR_24_7),
                         ae=role(2, max_open_opportunities=HUGE),
                         seg=segment(meetings=2, pass_probability=pass_probability, gap_days=constant(10.0),
                                     churn_rate=0.02))
    data["roles"]["csm"] = role(1, accounts_covered=100.0)
    data["customers"] = {"managed_by": "csm"}
    data["warm_start"] = {"pipeline": PIPELINE if pipeline else [], "customers": INSTALLED if customers else []}
    return build(data)


@pytest.mark.parametrize("replication", [0, 1])
def test_warm_start_reproduces_the_installed_mrr_at_month_0(replication: int) -> None:
    scenario = _warm(pass_probability=1.0, pipeline=False)
    log = simulate(scenario, SEED, replication)
    series = monthly_series(log, scenario)
    acc = log.account_table()
    installed = acc["kind"] == AccountEvent.INSTALLED
    assert np.sum(installed) == 32 and np.all(acc["t"][installed] == 0.0)
    mrr_installed = acc["mrr_usd"][installed]
    assert np.sum(mrr_installed[:25]) == 20 * 1000.0 + 5 * 2500.0
    assert np.all(mrr_installed[25:] > 0) and len(set(mrr_installed[25:].tolist())) == 7  # lognormal draws
    assert series["mrr_usd"][0] == float(np.sum(mrr_installed))  # exactly the installed base
    assert series["customers"][0] == 32
    # from there on the MRR identity holds month by month
    for m in range(1, scenario.horizon_months + 1):
        assert series["mrr_usd"][m] == pytest.approx(
            series["mrr_usd"][m - 1] + series["new_mrr_usd"][m] + series["expansion_mrr_usd"][m]
            - series["churned_mrr_usd"][m], abs=1e-6)


@pytest.mark.parametrize("replication", [0, 1])
def test_warm_pipeline_closes_in_the_first_month(replication: int) -> None:
    log = simulate(_warm(pass_probability=1.0), SEED, replication)
    leads = log.lead_table()
    warm = leads["source"] == Source.WARM_START
    opportunities = warm & (leads["opportunity_t"] == -15.0)
    assert np.sum(opportunities) == 6
    # meetings on day −5 (held before the start) and day +5: every one closes on day 5
    assert np.all(leads["close_t"][opportunities] == 5.0)
    assert np.all(leads["state"][opportunities] == LeadState.WON)
    # SQLs waiting at the start open at once: meetings on days 10 and 20
    queued = warm & (leads["sql_t"] == -2.0)
    assert np.sum(queued) == 3 and np.all(leads["opportunity_t"][queued] == 0.0)
    assert np.all(leads["close_t"][queued] == 20.0)
    # MQLs enter the MDR queue at t = 0 and are worked from there
    mqls = warm & (leads["created_t"] == -1.0)
    assert np.sum(mqls) == 4 and np.all(leads["first_touch_t"][mqls] >= 0.0)
    assert np.all(leads["close_t"][warm & ~np.isnan(leads["sql_t"])] < D)


def test_warm_opportunities_close_on_their_next_meeting_under_crn() -> None:
    """With random outcomes, each open opportunity still closes (won or lost) on day 5."""
    for replication in range(3):
        log = simulate(_warm(pass_probability=0.5), SEED, replication)
        leads = log.lead_table()
        opportunities = (leads["source"] == Source.WARM_START) & (leads["opportunity_t"] == -15.0)
        assert np.all(np.isin(leads["state"][opportunities], [LeadState.WON, LeadState.LOST_DEAL]))
        assert np.all(leads["close_t"][opportunities] == 5.0)


def test_warm_pipeline_wins_are_new_mrr_not_installed_base() -> None:
    scenario = _warm(pass_probability=1.0)
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    acc = log.account_table()
    installed = acc["kind"] == AccountEvent.INSTALLED
    assert np.all(acc["t"][installed] == 0.0)  # actual: 13 at days 5-20
    assert np.sum(installed) == 32
    # 13 warm leads won in month 1, $1,000 each
    assert series["new_mrr_usd"][1] == 13 * 1000.0  # actual: 0
    assert series["mrr_usd"][0] == float(np.sum(acc["mrr_usd"][installed]))


def test_installed_customers_are_not_wins() -> None:
    scenario = _warm(pass_probability=1.0)
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    k = kpis(log, scenario, series)
    assert series["wins"][1] == 13  # actual: 45 (32 installed + 13 won)
    assert k["wins"] == 13
    assert math.isfinite(k["sales_cycle_days_mean"])  # actual: NaN


# --------------------------------------------------------------------------- PODs


def _pods(promotion: bool = True, **hiring: Any) -> Scenario:
    """Two PODs (east, west) of 1 MDR + 1 AE; the MDRs (tenure 0 in east, 1 in west) may move up
    to AE after 2 months."""
    mdr = role(2, dials_per_day=300.0, initial_tenure_months=[0.0, 1.0], time_to_fill_days=constant(5.0))
    if promotion:
        mdr["promotion"] = {"to": "ae", "after_months": 2}
    data = base_scenario(horizon_months=4, calendar=dict(CALENDAR_24_7), mdr=mdr,
                         ae=role(2, max_open_opportunities=HUGE, time_to_fill_days=constant(5.0)))
    data["org"] = {"structure": "pod", "routing": "round_robin",
                   "pods": {"east": {"composition": {"mdr": 1, "ae": 1}},
                            "west": {"composition": {"mdr": 1, "ae": 1}}}}
    data["hiring"] = hiring
    return build(data)


def test_hiring_wave_to_a_named_pod_lands_there() -> None:
    scenario = _pods(waves=[{"month": 2, "role": "ae", "count": 2, "team": "west"}])
    log = simulate(scenario, SEED, 0)
    series = monthly_series(log, scenario)
    check_headcount_identity(log, scenario, series)
    west = log.teams.index("west")
    # the wave's first seat goes to west's MDR, who has served the 2 months on day D (tenure 1 at the
    # start); the second to an outside hire on day D + 5, as does the seat behind the MDR. East's
    # MDR, eligible on day 2D, may not take a west seat (east has AEs of its own), and no east seat
    # opens: promotions stay in the POD and add no seat.
    assert [row[6] for row in rows(log, WorkforceEvent.PROMOTED_IN, "ae")] == [west]
    assert times(log, WorkforceEvent.PROMOTED_IN, "ae") == pytest.approx([D], abs=EXACT)
    hires = rows(log, WorkforceEvent.HIRE, "ae")
    assert len(hires) == 1 and hires[0][6] == west
    assert times(log, WorkforceEvent.HIRE, "ae") == pytest.approx([D + 5.0], abs=EXACT)
    assert times(log, WorkforceEvent.HIRE, "mdr") == pytest.approx([D + 5.0], abs=EXACT)
    assert series["headcount.ae@west"].tolist() == [1, 1, 3, 3, 3]
    assert series["headcount.ae@east"].tolist() == [1, 1, 1, 1, 1]
    assert series["headcount.ae"].tolist() == [2, 2, 4, 4, 4]
    assert series["headcount.mdr@west"].tolist() == [1, 1, 1, 1, 1]


def test_a_wave_without_a_team_is_spread_over_the_pods() -> None:
    scenario = _pods(promotion=False, waves=[{"month": 2, "role": "ae", "count": 4}])
    log = simulate(scenario, SEED, 0)
    teams = [row[6] for row in rows(log, WorkforceEvent.REQUISITION, "ae")]
    assert sorted(teams) == [0, 0, 1, 1]  # actual: [0, 0, 0, 0], all four in east


def test_a_month_one_target_counts_the_month_one_wave() -> None:
    data = base_scenario(horizon_months=2, ae=role(2, max_open_opportunities=HUGE, time_to_fill_days=constant(5.0)))
    data["hiring"] = {"waves": [{"month": 1, "role": "ae", "count": 2}], "targets": {"ae": {1: 4}}}
    scenario = build(data)
    series = monthly_series(simulate(scenario, SEED, 0), scenario)
    assert series["headcount.ae"][1] == 4  # actual: 6 (2 + the wave's 2 + the target's 2 more)


def test_a_later_target_counts_the_waves_requisitions() -> None:
    """The same plan from month 2 on is right: the target sees the wave's open requisitions."""
    data = base_scenario(horizon_months=3, ae=role(2, max_open_opportunities=HUGE, time_to_fill_days=constant(5.0)))
    data["hiring"] = {"waves": [{"month": 2, "role": "ae", "count": 2}], "targets": {"ae": {2: 4, 3: 5}}}
    scenario = build(data)
    series = monthly_series(simulate(scenario, SEED, 0), scenario)
    assert series["requisitions.ae"][1:].tolist() == [0, 2, 1]
    assert series["headcount.ae"].tolist() == [2, 2, 4, 5]


def test_ramp_form_vectors() -> None:
    assert RampFormSpec(form="linear", months=1).vector() == [1.0]
    assert RampFormSpec(form="linear", months=5, start=0.2).vector() == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert RampFormSpec(form="step", months=3, before=0.25).vector() == [0.25, 0.25, 0.25, 1.0]


def _pending_calls(timeline: Any) -> list[tuple[float, tuple]]:
    """(time, arguments) of every call waiting on a timeline, whichever kind of queue it keeps."""
    entries = list(timeline.queue) + [e for bucket in getattr(timeline, "buckets", {}).values() for e in bucket]
    entries += [e for slot in getattr(timeline, "wheel", []) if slot is not None for e in slot]
    out = []
    for entry in entries:
        if isinstance(entry, tuple):  # Timeline: (t, priority, id, fn, a, b[, c]) or (t, priority, id, fn, args)
            if len(entry) >= 6:
                out.append((entry[0], entry[4:]))
        elif entry.fn is not None and entry.nargs > 0:  # NativeTimeline
            out.append((entry.t, (entry.a, entry.b, entry.c)[:entry.nargs]))
    return out


def test_an_open_deal_rebuilt_for_a_reassignment_is_the_deal_that_was_scheduled() -> None:
    """An open deal keeps no meeting plan (it would sit in memory for weeks); a reassignment,
    its only reader, rebuilds it from the lead. The rebuilt plan must be the one scheduled at
    opening: the same close time and the same outcome as the close waiting on the calendar."""
    data = _exit_policy("reassign").model_dump()
    data["handoff"]["win_odds_multiplier"] = 0.7  # so that the first meeting's odds are scaled at opening
    scenario = Scenario.model_validate(data)
    world = World(scenario, SEED, 0)
    checked: list[int] = []

    def inspect() -> None:
        pending = {id(args[0]): (t, args[1]) for t, args in _pending_calls(world.timeline)
                   if len(args) == 3 and isinstance(args[1], bool)}  # closes: (lead, won, token)
        for team in world.teams:
            for desk in team.desks[Desk.CLOSING].values():
                for rep in desk.pool.reps:
                    for lead in rep.leads:
                        if lead.plan is not None:
                            continue  # reassigned before: its plan is kept
                        times, passes, u_pass = desk._plan(lead, None, lead.opportunity_t)
                        lost = [i for i, p in enumerate(passes) if u_pass[i] >= p]
                        close_t, won = (times[lost[0]], False) if lost else (times[-1], True)
                        assert pending[id(lead)] == (close_t, won)
                        checked.append(lead.id)

    for month in (2, 4, 6):
        world.timeline.call_at(month * DAYS_PER_MONTH, inspect)
    log = world.run()
    assert len(checked) > 20
    # and reassignments happened, each rebuilding (then keeping) the deal's plan
    assert any(row[1] == WorkforceEvent.EXIT and row[2] == log.roles.index("ae") for row in log.workforce)


def test_a_lead_needing_more_dials_than_any_cadence_allows_is_unreachable_not_an_overflow() -> None:
    """Dial counts are 32-bit fields in the compiled build: validation refuses draws above
    ``MAX_DIALS``, and the largest allowed draw is capped at creation (above every allowed
    ``max_attempts``), so it ends as unreachable after the cadence's attempts, in both builds alike."""
    from sim.scenario.limits import MAX_DIALS

    with pytest.raises(ScenarioError, match=r"inbound\.dials_to_connect"):
        build(base_scenario(horizon_months=2, inbound_spec=inbound(mqls_per_month=40.0,
                                                                  dials_to_connect=constant(5e12))))
    data = base_scenario(
        horizon_months=2,
        inbound_spec=inbound(mqls_per_month=40.0, dials_to_connect=constant(MAX_DIALS)),
    )
    log = simulate(build(data), SEED, 0)
    table = log.lead_table()
    worked = table["state"] != LeadState.OPEN
    assert worked.sum() > 0
    assert np.all(table["state"][worked] == LeadState.UNREACHABLE)
    assert np.all(table["dials"][worked] == build(data).contact.max_attempts)


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_uncovered_share_by_csm_book_equals_the_per_account_rule(replication: int) -> None:
    """``Accounts._uncovered_share`` computes the share once per CSM and gathers it per account
    (``owner_slot``); every week, as CSMs join, leave (no backfill: their accounts wait for the next
    hire) and accounts churn, it must give each active account what the rule gives it from the
    account's own CSM: max(0, 1 - coverage / book), or 1 without a CSM."""
    data = everything_on()
    data["roles"]["csm"]["tenure_months"] = constant(4.0)  # each CSM leaves after 4 months, not replaced
    world = World(build(data), SEED, replication)
    accounts = world.accounts
    seen = {"checks": 0, "with_csm": 0, "without_csm": 0}

    def check() -> None:
        idx = np.flatnonzero(accounts.active[:len(accounts.lead_ids)])
        csm_of = {account: rep for rep in accounts.owners for account in rep.items}  # from the CSMs' books
        expected = []
        for account in idx.tolist():
            rep = csm_of.get(account)
            expected.append(max(0.0, 1.0 - rep.capacity / rep.load) if rep is not None and rep.load > 0 else 1.0)
            seen["with_csm" if rep is not None else "without_csm"] += 1
        np.testing.assert_array_equal(accounts._uncovered_share(idx), np.array(expected, dtype=float))
        seen["checks"] += 1

    for week in range(1, int(world.horizon_days / 7)):
        world.timeline.call_at(7.0 * week, check)
    world.run()
    assert seen["checks"] > 40 and seen["with_csm"] > 0 and seen["without_csm"] > 0, seen


def test_a_seat_filled_by_promotion_gives_back_its_recruiting_slot() -> None:
    """With one start a month, a requisition books month 1's slot; a promotion that fills the seat
    first releases it, so the next requisition ready in month 1 starts then, not in month 2."""
    from sim.model.workforce import Recruiting

    recruiting = Recruiting(1)
    booked = recruiting.start_time(10.0)
    assert booked == 10.0 and recruiting.start_time(12.0) == D  # month 1 is full: month 2
    recruiting.release(booked)
    assert recruiting.start_time(15.0) == 15.0
