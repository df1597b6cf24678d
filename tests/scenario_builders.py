"""Small scenario dicts for tests (fed to :func:`sim.scenario_from_dict`).

Every builder returns plain data, so a test can tweak one field with :func:`merge` before
validating. Defaults switch every source of noise and friction off (no attrition, no ramp,
no churn, no expansion, no CSM, speed-to-lead profile ``none``, zero response time), so a
test turns on exactly what it checks.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sim.scenario import Scenario, scenario_from_dict

CALENDAR_24_7: dict[str, Any] = {"start_hour": 0, "hours_per_day": 24, "days_per_week": 7}
"""Working time == calendar time."""

HUGE = 1e9
"""A capacity or a wait long enough never to bind."""


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``overrides`` merged in (maps merge, anything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def constant(value: float) -> dict[str, Any]:
    """A constant distribution spec."""
    return {"dist": "constant", "value": float(value)}


def role(headcount: int, **fields: Any) -> dict[str, Any]:
    """A role with no ramp and no attrition; capacity fields go in ``fields``."""
    return {"headcount": headcount, "ramp": [1.0], "tenure_months": None, **fields}


def segment(
    *,
    mrr_usd: Any = 1000.0,
    meetings: int = 1,
    pass_probability: float | list[float] = 1.0,
    gap_days: Any = 1.0,
    churn_rate: float = 0.0,
    expansion_probability: float = 0.0,
    closed_by: str = "ae",
) -> dict[str, Any]:
    """A segment with the given deal size, meeting chain, churn and expansion."""
    return {
        "mrr_usd": mrr_usd,
        "closed_by": closed_by,
        "opportunity": {"meetings": meetings, "pass_probability": pass_probability, "gap_days": gap_days},
        "churn": {"monthly_rate": churn_rate, "onboarding_months": 0, "onboarding_multiplier": 1.0,
                  "uncovered_multiplier": 1.0},
        "expansion": {"monthly_probability": expansion_probability, "mrr_fraction": 0.2},
    }


def inbound(
    *,
    mqls_per_month: float = 0.0,
    arrival_times_days: list[float] | None = None,
    dials_to_connect: Any = 1,
    qualify_probability: float = 1.0,
    profile: str = "none",
    response_minutes: Any = 0.0,
    business_hours_only: bool = False,
    max_wait_days: float = HUGE,
) -> dict[str, Any]:
    """An inbound flow into segment ``s`` worked by ``mdr``."""
    out: dict[str, Any] = {
        "mqls_per_month": mqls_per_month,
        "business_hours_only": business_hours_only,
        "segment_mix": {"s": 1.0},
        "worked_by": "mdr",
        "dials_to_connect": dials_to_connect,
        "qualify_probability": qualify_probability,
        "speed_to_lead": {"profile": profile},
        "response_minutes": response_minutes,
        "max_wait_days": max_wait_days,
    }
    if arrival_times_days is not None:
        out["arrival_times_days"] = list(arrival_times_days)
    return out


def base_scenario(
    *,
    name: str = "test",
    horizon_months: int = 3,
    calendar: dict[str, Any] | None = None,
    mdr: dict[str, Any] | None = None,
    ae: dict[str, Any] | None = None,
    seg: dict[str, Any] | None = None,
    inbound_spec: dict[str, Any] | None = None,
    attempts_per_day: int = 3,
    max_attempts: int = 30,
    handoff_delay_days: Any = 0.0,
    leakage_probability: float = 0.0,
    stale_after_days: float = HUGE,
) -> dict[str, Any]:
    """One MDR desk (inbound), one AE desk, one segment ``s``, no CSM."""
    data: dict[str, Any] = {
        "name": name,
        "horizon_months": horizon_months,
        "roles": {
            "mdr": mdr if mdr is not None else role(1, dials_per_day=3000.0),
            "ae": ae if ae is not None else role(1, max_open_opportunities=HUGE),
        },
        "segments": {"s": seg if seg is not None else segment()},
        "inbound": inbound_spec if inbound_spec is not None else inbound(),
        "contact": {"attempts_per_day": attempts_per_day, "max_attempts": max_attempts},
        "handoff": {"delay_days": handoff_delay_days, "leakage_probability": leakage_probability,
                    "stale_after_days": stale_after_days},
        "customers": {"managed_by": None},
    }
    if calendar is not None:
        data["calendar"] = calendar
    return data


def timeline_scenario(
    arrivals: list[float],
    *,
    dials: int = 3,
    max_attempts: int = 4,
    ae_max_open: float = 1.0,
    gap_days: float = 5.0,
    meetings: int = 2,
    handoff_delay_days: float = 2.0,
    horizon_months: int = 3,
) -> dict[str, Any]:
    """The hand-checkable timeline of ``test_analytic``: default calendar (Mon–Fri, 9:00, 8 h),
    one MDR with one cadence slot (3 dials a day, one dial per 1/3 working day), one AE."""
    return base_scenario(
        name="timeline",
        horizon_months=horizon_months,
        mdr=role(1, dials_per_day=3.0),
        ae=role(1, max_open_opportunities=ae_max_open),
        seg=segment(mrr_usd=1000.0, meetings=meetings, pass_probability=1.0, gap_days=constant(gap_days)),
        inbound_spec=inbound(arrival_times_days=arrivals, dials_to_connect=constant(dials),
                             qualify_probability=1.0, business_hours_only=True),
        attempts_per_day=3,
        max_attempts=max_attempts,
        handoff_delay_days=constant(handoff_delay_days),
        leakage_probability=0.0,
        stale_after_days=30.0,
    )


def funnel_scenario(
    *,
    mqls_per_month: float,
    horizon_months: int,
    qualify_probability: float,
    leakage_probability: float,
    pass_probability: float,
    dials: int = 1,
    handoff_delay_days: float = 0.5,
    gap_days: float = 1.0,
    n_ae: int = 2,
) -> dict[str, Any]:
    """Unlimited capacity on a 24/7 calendar: wins are a thinned Poisson process.

    Every lead takes the same deterministic path (``dials``/3 days of dialing, the hand-off
    delay, one meeting after ``gap_days``), so only the latent uniforms decide its fate.
    """
    return base_scenario(
        name="funnel",
        horizon_months=horizon_months,
        calendar=dict(CALENDAR_24_7),
        mdr=role(1, dials_per_day=3000.0),
        ae=role(n_ae, max_open_opportunities=HUGE),
        seg=segment(meetings=1, pass_probability=pass_probability, gap_days=constant(gap_days)),
        inbound_spec=inbound(mqls_per_month=mqls_per_month, dials_to_connect=constant(dials),
                             qualify_probability=qualify_probability),
        attempts_per_day=3,
        max_attempts=30,
        handoff_delay_days=constant(handoff_delay_days),
        leakage_probability=leakage_probability,
    )


def mmc_scenario(
    *,
    sqls_per_day: float,
    mean_service_days: float,
    n_ae: int,
    max_open_per_ae: float,
    horizon_months: int,
) -> dict[str, Any]:
    """An M/M/c queue at the AE desk (c = ``n_ae`` × ``max_open_per_ae``).

    24/7 calendar, every MQL reached at its first dial and qualified, no hand-off delay or
    leakage, nothing goes stale: SQLs reach the AE queue as a Poisson process shifted by a
    constant 1/3 day. One meeting with an exponential gap holds one unit of AE capacity.
    """
    return base_scenario(
        name="mmc",
        horizon_months=horizon_months,
        calendar=dict(CALENDAR_24_7),
        mdr=role(1, dials_per_day=30000.0),
        ae=role(n_ae, max_open_opportunities=max_open_per_ae),
        seg=segment(meetings=1, pass_probability=0.5,
                    gap_days={"dist": "exponential", "mean": mean_service_days}),
        inbound_spec=inbound(mqls_per_month=sqls_per_day * 365.25 / 12.0, dials_to_connect=constant(1)),
        attempts_per_day=3,
        max_attempts=30,
        handoff_delay_days=constant(0.0),
        leakage_probability=0.0,
    )


def build(data: dict[str, Any]) -> Scenario:
    """Validate a scenario dict."""
    return scenario_from_dict(data)


SILO_PATH = Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml"
"""The shipped silo scenario."""

SMALL_SILO: tuple[str, ...] = (
    "inbound.mqls_per_month=100",
    "outbound.prospects_per_rep_month=120",
    "roles.mdr.dials_per_day=60",
    "roles.sdr.dials_per_day=40",
    "roles.ae.max_open_opportunities=7",
    "warm_start={}",
)
"""Overrides that run the silo at a quarter of its volume: same shape, about 4× faster; a young
company (no warm start: silo.yaml's installed base and pipeline are sized for the full org)."""


def small_silo_yaml(horizon_months: int, name: str = "silo_small", no_attrition: bool = False) -> str:
    """A scenario file extending the shipped silo with :data:`SMALL_SILO` (for CLI tests);
    ``no_attrition`` keeps every rep for the whole horizon (``tenure_months: null``)."""
    stay = ", tenure_months: null" if no_attrition else ""
    return (
        f"extends: {SILO_PATH}\nname: {name}\nhorizon_months: {horizon_months}\n"
        "inbound: {mqls_per_month: 100}\noutbound: {prospects_per_rep_month: 120}\n"
        f"roles:\n  mdr: {{dials_per_day: 60{stay}}}\n  sdr: {{dials_per_day: 40{stay}}}\n"
        f"  ae: {{max_open_opportunities: 7{stay}}}\n" + ("  csm: {tenure_months: null}\n" if no_attrition else "")
        + "warm_start: {customers: [], pipeline: []}\n"  # lists replace the base's; an empty map would merge
    )


def line_of(text: str, needle: str, after: int = 0) -> int:
    """The 1-based number of the first line of ``text`` after line ``after`` that holds ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if i > after and needle in line)


def assert_problems_reported(err: str, file_name: str, expected: list[tuple[int, str, str]]) -> None:
    """Each (line, field path, message) of ``expected`` is one of the problems ``salesim validate``
    printed in ``err`` for ``file_name`` (``FILE:LINE: FIELD: ...``)."""
    for at, field, message in expected:
        hits = [text for text in err.splitlines() if f"{file_name}:{at}: {field}" in text and message in text]
        assert hits, f"no problem '{message}' at line {at} ({field}) in:\n{err}"
