"""Analytic anchors for the simulator (docs/developer/testing.md#analytic-anchors).

* exact event timelines worked out by hand with every distribution fixed;
* with no capacity limit, wins are Poisson with mean arrivals × product of conversions;
* a pooled AE role with Poisson arrivals and exponential work is an M/M/c queue (Erlang C),
  and Little's law links the time-average queue to the arrival rate and the mean wait.

Statistical checks use one number per replication (independent observations) and a 4·SE
tolerance; each also asserts that a plausible wrong answer would fall outside it.

The M/M/c check (2 × 40 fourteen-month replications) is a statistical sweep and runs in the
slow tier; the default tier keeps the exact timelines, the Poisson funnel and Erlang C's
reference values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scenario_builders import build, funnel_scenario, merge, mmc_scenario, timeline_scenario
from scipy import stats as sps

from sim.eventlog import LEAD_FIELDS, AccountEvent, EventLog, LeadState
from sim.metrics import kpis, monthly_series
from sim.model.world import simulate
from sim.workcalendar import DAYS_PER_MONTH

NAN = float("nan")
HOUR = 1.0 / 24.0
SEED = 12345
STEPS = ("created_t", "first_touch_t", "connect_t", "sql_t", "handoff_t", "opportunity_t", "close_t", "end_t")


def lead_records(log: EventLog) -> list[dict]:
    """Lead records as dicts keyed by field name, in lead-id order."""
    rows = [dict(zip(LEAD_FIELDS, row, strict=True)) for row in log.leads]
    return sorted(rows, key=lambda r: r["lead"])


def assert_steps(record: dict, expected: dict[str, float]) -> None:
    """Every timestamp of ``STEPS`` equals ``expected`` (NaN where the lead never got there)."""
    for name in STEPS:
        want = expected.get(name, NAN)
        got = record[name]
        if math.isnan(want):
            assert math.isnan(got), f"{name}: expected NaN, got {got}"
        else:
            assert got == pytest.approx(want, abs=1e-9), f"{name}: expected {want}, got {got}"


# --------------------------------------------------------------------------- exact timelines
#
# Default calendar: Monday-Friday, 9:00 for 8 hours; day 0 is Monday 00:00, so 09:00 is
# day-fraction 0.375 and one working day is 1/3 of a calendar day. One MDR with 3 dials a day
# and 3 attempts a day has one cadence slot making one dial per 1/3 working day; a lead needing
# 3 dials holds the slot for exactly one working day. Hand-off delays and meeting gaps are
# calendar days.


def test_timeline_single_lead_monday_noon() -> None:
    """MQL at Monday 12:00 (day 0.5).

    first touch  = arrival (the slot is free, response 0)            0.5
    connect/SQL  = one working day later: Tuesday 12:00              1.5
    hand-off     = + 2 days: Thursday 12:00; the AE is free          3.5
    close (won)  = + 2 meetings × 5 days                             13.5  (month 1)
    """
    scenario = build(timeline_scenario([0.5]))
    log = simulate(scenario, SEED, 0)
    (lead,) = lead_records(log)
    assert_steps(lead, {"created_t": 0.5, "first_touch_t": 0.5, "connect_t": 1.5, "sql_t": 1.5,
                        "handoff_t": 3.5, "opportunity_t": 3.5, "close_t": 13.5, "end_t": 13.5})
    assert lead["state"] == LeadState.WON
    assert lead["dials"] == 3
    assert lead["mrr_usd"] == 1000.0
    acc = log.account_table()
    assert acc["t"].tolist() == [pytest.approx(13.5, abs=1e-9)]
    assert acc["kind"].tolist() == [AccountEvent.NEW]
    assert acc["lead"].tolist() == [0] and acc["mrr_usd"].tolist() == [1000.0]

    series = monthly_series(log, scenario)
    np.testing.assert_array_equal(series["mrr_usd"], [0.0, 1000.0, 1000.0, 1000.0])
    np.testing.assert_array_equal(series["customers"], [0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(series["new_mrr_usd"][1:], [1000.0, 0.0, 0.0])
    np.testing.assert_array_equal(series["wins"][1:], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(series["sqls"][1:], [1.0, 0.0, 0.0])
    k = kpis(log, scenario, series)
    assert k["wins"] == 1 and k["sqls"] == 1 and k["connects"] == 1 and k["dials"] == 3
    assert k["sales_cycle_days_mean"] == pytest.approx(12.0, abs=1e-9)  # SQL 1.5 -> won 13.5
    assert k["speed_to_lead_hours_median"] == pytest.approx(0.0, abs=1e-9)
    assert k["mrr_end_usd"] == 1000.0
    assert k["revenue_first_year_usd"] == 3000.0  # 3-month horizon, 1000 billed in each month


def test_timeline_crossing_a_weekend() -> None:
    """MQL at Friday 16:00 (day 4 + 16/24): working time 4 + 7/8.

    first touch  = arrival                                       4 + 16/24
    connect/SQL  = working time 5 + 7/8: Monday 16:00            7 + 16/24
    hand-off     = + 2 calendar days: Wednesday 16:00            9 + 16/24
    close        = + 10 days                                     19 + 16/24
    """
    t0 = 4 + 16 * HOUR
    log = simulate(build(timeline_scenario([t0])), SEED, 0)
    (lead,) = lead_records(log)
    assert_steps(lead, {"created_t": t0, "first_touch_t": t0, "connect_t": 7 + 16 * HOUR, "sql_t": 7 + 16 * HOUR,
                        "handoff_t": 9 + 16 * HOUR, "opportunity_t": 9 + 16 * HOUR,
                        "close_t": 19 + 16 * HOUR, "end_t": 19 + 16 * HOUR})
    assert lead["state"] == LeadState.WON


def test_timeline_weekend_arrival_is_first_touched_on_monday_morning() -> None:
    """MQL on Saturday noon: first touch Monday 09:00 (working time 5); its one working day of
    dials ends at working time 6, which is Tuesday 09:00 (a whole number of working days maps
    to the start of a day)."""
    log = simulate(build(timeline_scenario([5.5])), SEED, 0)
    (lead,) = lead_records(log)
    assert_steps(lead, {"created_t": 5.5, "first_touch_t": 7 + 9 * HOUR, "connect_t": 8 + 9 * HOUR,
                        "sql_t": 8 + 9 * HOUR, "handoff_t": 10 + 9 * HOUR, "opportunity_t": 10 + 9 * HOUR,
                        "close_t": 20 + 9 * HOUR, "end_t": 20 + 9 * HOUR})
    k = kpis(log, build(timeline_scenario([5.5])))
    assert k["speed_to_lead_hours_median"] == pytest.approx((7 + 9 * HOUR - 5.5) * 24, abs=1e-6)


def test_timeline_unreachable_lead() -> None:
    """5 dials needed > 4 attempts: the slot makes 4 dials (4/3 working days from Monday 12:00,
    i.e. working time 0.375 + 4/3 = 1 + 17/24: Tuesday 14:40) and drops the lead."""
    scenario = build(timeline_scenario([0.5], dials=5, max_attempts=4))
    log = simulate(scenario, SEED, 0)
    (lead,) = lead_records(log)
    end = 1 + 9 * HOUR + (17 / 24) * (8 * HOUR)  # Tuesday 09:00 + 17/24 of an 8-hour day
    assert end == pytest.approx(1 + (14 + 40 / 60) * HOUR)
    assert_steps(lead, {"created_t": 0.5, "first_touch_t": 0.5, "end_t": end})
    assert lead["state"] == LeadState.UNREACHABLE
    assert lead["dials"] == 4
    assert log.accounts == []
    np.testing.assert_array_equal(monthly_series(log, scenario)["mrr_usd"], 0.0)


def test_timeline_second_lead_waits_for_the_slot_and_the_ae() -> None:
    """Two MQLs, Monday 12:00 and 14:24, one dial slot, one AE seat, meetings 10 days apart.

    lead 0: touch 0.5, SQL 1.5, hand-off 3.5, opportunity 3.5, won 23.5 (month 1)
    lead 1: waits for the slot until lead 0 connects (1.5), SQL 2.5, hand-off 4.5, waits for
            the AE until lead 0 closes (23.5), won 43.5 (month 2)
    """
    scenario = build(timeline_scenario([0.5, 0.6], gap_days=10.0))
    log = simulate(scenario, SEED, 0)
    first, second = lead_records(log)
    assert_steps(first, {"created_t": 0.5, "first_touch_t": 0.5, "connect_t": 1.5, "sql_t": 1.5, "handoff_t": 3.5,
                         "opportunity_t": 3.5, "close_t": 23.5, "end_t": 23.5})
    assert_steps(second, {"created_t": 0.6, "first_touch_t": 1.5, "connect_t": 2.5, "sql_t": 2.5, "handoff_t": 4.5,
                          "opportunity_t": 23.5, "close_t": 43.5, "end_t": 43.5})
    assert first["state"] == second["state"] == LeadState.WON
    assert first["dev_rep"] == second["dev_rep"] and first["closer_rep"] == second["closer_rep"]
    acc = log.account_table()
    np.testing.assert_allclose(acc["t"], [23.5, 43.5], rtol=0, atol=1e-9)
    assert acc["kind"].tolist() == [AccountEvent.NEW, AccountEvent.NEW]
    assert acc["lead"].tolist() == [0, 1]
    series = monthly_series(log, scenario)
    np.testing.assert_array_equal(series["mrr_usd"], [0.0, 1000.0, 2000.0, 2000.0])
    np.testing.assert_array_equal(series["new_mrr_usd"][1:], [1000.0, 1000.0, 0.0])


def test_timeline_waiting_sql_goes_stale() -> None:
    """As above, but an SQL waiting more than 10 days for the AE is dropped: lead 1 reaches the
    queue at 4.5 and is recorded STALE at 14.5 (found when the AE frees up at 23.5)."""
    data = merge(timeline_scenario([0.5, 0.6], gap_days=10.0), {"handoff": {"stale_after_days": 10.0}})
    scenario = build(data)
    log = simulate(scenario, SEED, 0)
    first, second = lead_records(log)
    assert first["state"] == LeadState.WON
    assert second["state"] == LeadState.STALE
    assert_steps(second, {"created_t": 0.6, "first_touch_t": 1.5, "connect_t": 2.5, "sql_t": 2.5,
                          "handoff_t": 4.5, "end_t": 14.5})
    np.testing.assert_array_equal(monthly_series(log, scenario)["mrr_usd"], [0.0, 1000.0, 1000.0, 1000.0])


def test_timeline_open_lead_at_the_horizon() -> None:
    """A deal whose close falls after the horizon is recorded OPEN at the horizon."""
    scenario = build(timeline_scenario([0.5], gap_days=60.0, horizon_months=2))
    log = simulate(scenario, SEED, 0)
    (lead,) = lead_records(log)
    horizon = 2 * DAYS_PER_MONTH
    assert_steps(lead, {"created_t": 0.5, "first_touch_t": 0.5, "connect_t": 1.5, "sql_t": 1.5,
                        "handoff_t": 3.5, "opportunity_t": 3.5, "end_t": horizon})
    assert lead["state"] == LeadState.OPEN
    assert log.accounts == []


# --------------------------------------------------------------------------- Poisson funnel


FUNNEL = {"mqls_per_month": 30.0, "horizon_months": 4, "qualify_probability": 0.6,
          "leakage_probability": 0.25, "pass_probability": 0.5, "handoff_delay_days": 0.5, "gap_days": 1.0}


def test_wins_are_poisson_without_capacity_limits() -> None:
    """Inbound MQLs are a Poisson process of rate λ = mqls_per_month / DAYS_PER_MONTH per day
    (24/7 calendar, ``business_hours_only: false``). With unlimited capacity every lead takes
    the same deterministic path — 1 dial (1/3 day), the hand-off (0.5 day), one meeting after
    1 day — and wins iff its independent latent uniforms pass qualification, leakage and the
    meeting. Wins by the horizon T are therefore a thinned Poisson count:

        wins ~ Poisson(λ (T - D) p_q (1 - p_l) p_w),   D = 1/3 + 0.5 + 1.
    """
    reps = 300
    f = FUNNEL
    scenario = build(funnel_scenario(**f))
    wins = np.empty(reps)
    for r in range(reps):
        state = simulate(scenario, SEED, r).lead_table()["state"]
        wins[r] = np.sum(state == LeadState.WON)

    lam = f["mqls_per_month"] / DAYS_PER_MONTH
    exposure = f["horizon_months"] * DAYS_PER_MONTH - (1 / 3 + f["handoff_delay_days"] + f["gap_days"])

    def poisson_mean(p_q: float, p_l: float, p_w: float) -> float:
        return lam * exposure * p_q * (1 - p_l) * p_w

    mu = poisson_mean(f["qualify_probability"], f["leakage_probability"], f["pass_probability"])
    se = math.sqrt(mu / reps)
    assert abs(wins.mean() - mu) < 4 * se

    # power: forgetting any conversion (e.g. ignoring leakage) would fail the check
    for wrong in (poisson_mean(f["qualify_probability"], 0.0, f["pass_probability"]),
                  poisson_mean(1.0, f["leakage_probability"], f["pass_probability"]),
                  poisson_mean(f["qualify_probability"], f["leakage_probability"], 1.0)):
        assert abs(wins.mean() - wrong) > 4 * se

    # dispersion: (n-1) s² / σ² is ~chi-square. A Poisson count has excess kurtosis 1/μ, which
    # widens the law of s² to Var(s²)/σ⁴ ≈ 2/(n-1) + 1/(μ n): match it with an effective df.
    df = 2.0 / (2.0 / (reps - 1) + 1.0 / (mu * reps))
    alpha = 1e-4
    ratio = wins.var(ddof=1) / mu
    lo, hi = sps.chi2.ppf(alpha / 2, df) / df, sps.chi2.ppf(1 - alpha / 2, df) / df
    assert lo < ratio < hi, f"variance/mean {ratio:.3f} outside [{lo:.3f}, {hi:.3f}]"


# --------------------------------------------------------------------------- Erlang C


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load a = λ/μ < c.

    Erlang's C formula (A. K. Erlang, 1917; Gross, Shortle, Thompson & Harris, *Fundamentals of
    Queueing Theory*, 4th ed., §2.3):

        C(c, a) = [a^c / c! · c / (c - a)] / [Σ_{k<c} a^k / k! + a^c / c! · c / (c - a)]

    and the mean wait in queue is W_q = C(c, a) / (c μ - λ).
    """
    top = offered**c / math.factorial(c) * c / (c - offered)
    return top / (sum(offered**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_c_formula_reference_values() -> None:
    """Textbook values: M/M/1 waits with probability ρ; C(2, 1) = 1/3."""
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


MMC = {"sqls_per_day": 2.1, "mean_service_days": 1.0, "horizon_months": 14}
WARMUP_DAYS = 2 * DAYS_PER_MONTH
TAIL_DAYS = 20.0  # SQLs reaching the queue this close to the horizon may still be waiting


def _mmc_run(n_ae: int, max_open: float, reps: int) -> dict[str, np.ndarray]:
    """Per replication: mean wait, P(wait > 0), time-average queue length and number in
    service over [warm-up, horizon], and the waits themselves (for pairing layouts)."""
    scenario = build(mmc_scenario(n_ae=n_ae, max_open_per_ae=max_open, **MMC))
    horizon = scenario.horizon_months * DAYS_PER_MONTH
    out: dict[str, list] = {"wait": [], "p_wait": [], "lq": [], "ls": [], "opportunity_t": [], "util": []}
    for r in range(reps):
        log = simulate(scenario, SEED, r)
        leads = log.lead_table()
        handoff, opened, closed = leads["handoff_t"], leads["opportunity_t"], leads["close_t"]
        assert not np.any(leads["state"] == LeadState.STALE)
        reached = ~np.isnan(handoff)
        window = reached & (handoff >= WARMUP_DAYS) & (handoff <= horizon - TAIL_DAYS)
        assert not np.any(np.isnan(opened[window])), "an SQL of the window never reached an AE"
        wait = opened[window] - handoff[window]
        out["wait"].append(wait.mean())
        out["p_wait"].append(np.mean(wait > 0))
        # time-average number waiting / in service over [warm-up, horizon], from the sample path
        q_end = np.where(np.isnan(opened), horizon, opened)[reached]
        s_start = opened[~np.isnan(opened)]
        s_end = np.where(np.isnan(closed), horizon, closed)[~np.isnan(opened)]
        span = horizon - WARMUP_DAYS
        out["lq"].append(np.sum(np.clip(np.minimum(q_end, horizon) - np.maximum(handoff[reached], WARMUP_DAYS),
                                        0.0, None)) / span)
        out["ls"].append(np.sum(np.clip(np.minimum(s_end, horizon) - np.maximum(s_start, WARMUP_DAYS),
                                        0.0, None)) / span)
        out["opportunity_t"].append(opened)
        util = monthly_series(log, scenario).get("utilization.ae")
        first_month = int(WARMUP_DAYS / DAYS_PER_MONTH) + 1
        out["util"].append(np.nanmean(util[first_month:]) if util is not None else np.nan)
    return {k: (np.asarray(v) if k != "opportunity_t" else v) for k, v in out.items()}


def _within(values: np.ndarray, target: float, k: float = 4.0) -> tuple[bool, str]:
    mean, se = float(np.mean(values)), float(np.std(values, ddof=1) / math.sqrt(values.size))
    return abs(mean - target) < k * se, f"mean {mean:.4f} vs {target:.4f} (SE {se:.4f})"


@pytest.mark.slow  # a statistical sweep: 80 replications of 14 months
def test_ae_pool_is_an_mmc_queue() -> None:
    """c = 3 AE seats, λ = 2.1 SQLs a day, exponential service of mean 1 day: ρ = 0.7.

    SQLs reach the AE queue as a Poisson process (the MDR desk adds a constant 1/3 day), each
    opportunity holds one seat for its exponential meeting gap, and nothing goes stale: an
    M/M/3 queue. Compare, over 2 months of warm-up discarded and the last 20 days excluded
    (P(wait > 20 days) ≈ e^-18), the per-replication mean wait and share of SQLs that wait
    with Erlang C; then Little's law for the queue (L_q = λ W_q) and the servers (L_s = λ/μ),
    with L measured as a time average of the sample path, not from the waits' mean.
    """
    reps, c = 40, 3
    lam, mu = MMC["sqls_per_day"], 1.0 / MMC["mean_service_days"]
    a = lam / mu
    p_wait = erlang_c(c, a)
    wq = p_wait / (c * mu - lam)

    one_ae = _mmc_run(n_ae=1, max_open=3.0, reps=reps)
    three_aes = _mmc_run(n_ae=3, max_open=1.0, reps=reps)
    # 1 AE with 3 seats and 3 AEs with 1 seat are the same FIFO queue with 3 servers: with the
    # same seed every SQL opens at exactly the same instant.
    for x, y in zip(one_ae["opportunity_t"], three_aes["opportunity_t"], strict=True):
        np.testing.assert_array_equal(x, y)

    res = one_ae
    for name, target in (("wait", wq), ("p_wait", p_wait), ("lq", lam * wq), ("ls", a)):
        ok, msg = _within(res[name], target)
        assert ok, f"{name}: {msg}"
    if not np.all(np.isnan(res["util"])):
        ok, msg = _within(res["util"], a / c)
        assert ok, f"utilization: {msg}"

    # power: the same load on 2 or 4 servers would be rejected
    assert not _within(res["wait"], erlang_c(4, a) / (4 * mu - lam))[0]
    assert not _within(res["p_wait"], erlang_c(4, a))[0]
    assert abs(res["wait"].mean() - wq) < 0.2 * wq  # and the estimate is informative


# --------------------------------------------------------------------------- churn hazard


def _churn_scenario(onboarding_months: int) -> dict:
    """One account signed at day 13.5 (month 1); churn 1 % a month, ×100 while onboarding."""
    data = timeline_scenario([0.5], horizon_months=3)
    data["segments"]["s"]["churn"] = {"monthly_rate": 0.01, "onboarding_months": onboarding_months,
                                      "onboarding_multiplier": 100.0, "uncovered_multiplier": 1.0}
    return data


def test_onboarding_multiplier_applies_during_onboarding() -> None:
    """With a ×100 onboarding multiplier the monthly churn probability is 1: the account churns
    the instant it signs (the hazard is infinite), in month 1."""
    log = simulate(build(_churn_scenario(onboarding_months=1)), SEED, 0)
    acc = log.account_table()
    assert acc["kind"].tolist() == [AccountEvent.NEW, AccountEvent.CHURN]
    np.testing.assert_allclose(acc["t"], [13.5, 13.5], atol=1e-9)


def test_no_onboarding_multiplier_when_onboarding_months_is_zero() -> None:
    """Without onboarding the hazard in month 1 is -ln(0.99) × (DAYS_PER_MONTH - 13.5) / DAYS_PER_MONTH
    ≈ 0.0056, far below this replication's Exp(1) churn budget: the account survives month 1."""
    log = simulate(build(_churn_scenario(onboarding_months=0)), SEED, 0)
    acc = log.account_table()
    churned = acc["t"][acc["kind"] == AccountEvent.CHURN]
    assert not np.any(churned < DAYS_PER_MONTH)
