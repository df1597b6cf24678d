"""The book's revenue arithmetic and POD example, reproduced exactly by :mod:`sim.planner`.

Anchors (docs/background/default-figures.md#revenue-arithmetic; the POD chapter of *Blueprints for a SaaS Sales
Organization*): $20,000 of new MRR booked every month gives $1,560,000 of first-year revenue
(the "78 rule"), $240,000 of December MRR and $2,880,000 of exit ARR; a one-month invoice lag
turns 78 into 66. One MDR turns 360 MQLs into 36 SQLs a month, one SDR makes 24, and three
AEs win 20 of the 60 at $1,000 MRR each.

Everything here is deterministic arithmetic: equalities are exact (integers in floating
point) or at round-off (``1e-12`` relative), never statistical.
"""

from __future__ import annotations

import itertools
import math

import pytest

from sim.planner.arithmetic import exit_arr_factor, first_year_factor, monthly_new_mrr_for, retention_sum
from sim.planner.headcount import PlanTarget, plan
from sim.planner.model import RoleModel, SalesModel, SegmentModel, SourceModel

ROUNDOFF = 1e-12


def brute_force(monthly_new_mrr: float, churn: float, lag: int, months: int = 12) -> tuple[float, float]:
    """(first-year revenue, exit ARR) by a month-by-month ledger of cohorts.

    Each month: every existing cohort keeps (1 - churn) of its MRR, then the month's new cohort
    is signed; the month's revenue is the MRR of cohorts at least ``lag`` months old (a deal
    signed in month k is invoiced from month k + lag), counted at the month's end.
    """
    cohorts: list[tuple[int, float]] = []  # (month signed, MRR now)
    revenue = 0.0
    for month in range(1, months + 1):
        cohorts = [(k, mrr * (1.0 - churn)) for k, mrr in cohorts]
        cohorts.append((month, monthly_new_mrr))
        revenue += sum(mrr for k, mrr in cohorts if month - k >= lag)
    return revenue, 12.0 * sum(mrr for _, mrr in cohorts)


# --------------------------------------------------------------------------- the 78 rule


def test_book_anchors_20k_new_mrr():
    assert first_year_factor() == 78.0
    assert exit_arr_factor() == 144.0
    assert 20_000 * first_year_factor() == 1_560_000
    assert 20_000 * retention_sum(12) == 240_000  # December MRR
    assert 20_000 * exit_arr_factor() == 2_880_000
    assert monthly_new_mrr_for(first_year_revenue_usd=1_560_000) == 20_000
    assert monthly_new_mrr_for(exit_arr_usd=2_880_000) == 20_000


def test_78_is_the_sum_of_12_to_1():
    assert first_year_factor() == sum(range(1, 13))


def test_one_month_invoice_lag_gives_66():
    assert first_year_factor(invoice_lag_months=1) == 66.0
    assert 20_000 * first_year_factor(invoice_lag_months=1) == 1_320_000
    assert exit_arr_factor() == 144.0  # contracted MRR at month 12 does not depend on invoicing


@pytest.mark.parametrize("lag", range(12))
def test_invoice_lag_l_sums_1_to_12_minus_l(lag):
    assert first_year_factor(invoice_lag_months=lag) == sum(range(1, 13 - lag))


@pytest.mark.parametrize("churn", [0.0, 1e-6, 0.005, 0.0083, 0.015, 0.03, 0.1, 0.5, 0.99])
@pytest.mark.parametrize("lag", [0, 1, 2, 5, 11])
def test_churn_and_lag_factors_match_a_month_by_month_ledger(churn, lag):
    revenue, exit_arr = brute_force(1.0, churn, lag)
    assert first_year_factor(churn, lag) == pytest.approx(revenue, rel=ROUNDOFF, abs=ROUNDOFF)
    assert exit_arr_factor(churn) == pytest.approx(exit_arr, rel=ROUNDOFF)


@pytest.mark.parametrize("churn", [0.001, 0.01, 0.03, 0.2])
def test_churn_factor_closed_form(churn):
    closed = sum((1.0 - (1.0 - churn) ** k) / churn for k in range(1, 13))
    assert first_year_factor(churn) == pytest.approx(closed, rel=ROUNDOFF)
    assert exit_arr_factor(churn) == pytest.approx(12 * (1 - (1 - churn) ** 12) / churn, rel=ROUNDOFF)


def test_churn_factor_tends_to_78():
    # F(c) = 78 - 286 c + O(c²): 286 = Σ_{k=1..12} k(k-1)/2 = C(13, 3)
    assert first_year_factor(0.0) == 78.0
    for exponent in range(3, 13):
        c = 10.0**-exponent
        gap = 78.0 - first_year_factor(c)
        assert 0.0 <= gap <= 286.0 * c * (1.0 + 1e-2) + 1e-12
        assert gap == pytest.approx(286.0 * c, rel=1e-2, abs=1e-11)
    assert 144.0 - exit_arr_factor(1e-9) == pytest.approx(12 * 66 * 1e-9, rel=1e-2, abs=1e-12)


def test_factors_fall_as_churn_rises():
    rates = [0.0, 0.001, 0.01, 0.03, 0.1, 0.5]
    first = [first_year_factor(c) for c in rates]
    exits = [exit_arr_factor(c) for c in rates]
    assert all(a > b for a, b in itertools.pairwise(first))
    assert all(a > b for a, b in itertools.pairwise(exits))


def test_new_mrr_for_revenue_inverts_the_factor():
    for churn in (0.0, 0.02):
        for lag in (0, 1):
            mrr = monthly_new_mrr_for(first_year_revenue_usd=1_000_000, monthly_churn=churn, invoice_lag_months=lag)
            assert mrr * first_year_factor(churn, lag) == pytest.approx(1_000_000, rel=ROUNDOFF)


# --------------------------------------------------------------------------- the POD example


def book_pod_model() -> SalesModel:
    """The book's POD, as plain numbers: MDR 360 MQLs → 36 SQLs, SDR 480 prospects → 24 SQLs,
    AEs take 20 SQLs a month and win one in three at $1,000 MRR."""
    return SalesModel(
        segments={"smb": SegmentModel.simple("smb", mean_deal_mrr_usd=1_000.0, win_rate=1 / 3)},
        roles={
            "mdr": RoleModel("mdr", mqls_per_month=360.0),
            "sdr": RoleModel("sdr", prospects_per_month=480.0),
            "ae": RoleModel("ae", sqls_per_month=20.0),
        },
        inbound=SourceModel(role="mdr", sql_rate=36 / 360, segment_mix={"smb": 1.0}),
        outbound=SourceModel(role="sdr", sql_rate=24 / 480, segment_mix={"smb": 1.0}),
        inbound_sql_share=36 / 60,
        name="book_pod",
    )


def test_book_pod_example_from_the_revenue_target():
    p = plan(PlanTarget(annual_new_revenue_usd=1_560_000), book_pod_model())
    assert p.monthly_new_mrr_usd == 20_000
    assert p.first_year_factor == 78.0
    assert p.year_end_mrr_usd == 240_000
    assert p.exit_arr_usd == 2_880_000
    assert math.isclose(p.deals_per_month, 20, rel_tol=ROUNDOFF)
    assert math.isclose(p.sqls_per_month, 60, rel_tol=ROUNDOFF)
    assert math.isclose(p.win_rate, 1 / 3, rel_tol=ROUNDOFF)
    assert math.isclose(p.inbound_sqls_per_month, 36, rel_tol=ROUNDOFF)
    assert math.isclose(p.outbound_sqls_per_month, 24, rel_tol=ROUNDOFF)
    assert math.isclose(p.mqls_per_month, 360, rel_tol=ROUNDOFF)
    assert math.isclose(p.prospects_per_month, 480, rel_tol=ROUNDOFF)
    assert p.headcount == {"mdr": 1, "sdr": 1, "ae": 3}  # 1 MDR + 1 SDR + 3 AEs
    for role, reps in (("mdr", 1.0), ("sdr", 1.0), ("ae", 3.0)):
        assert math.isclose(p.roles[role].fte_needed, reps, rel_tol=ROUNDOFF)
        assert math.isclose(p.roles[role].headcount_exact, reps, rel_tol=ROUNDOFF)


def test_book_pod_example_from_the_monthly_mrr():
    p = plan(PlanTarget(monthly_new_mrr_usd=20_000), book_pod_model())
    assert p.first_year_revenue_usd == 1_560_000
    assert p.headcount == {"mdr": 1, "sdr": 1, "ae": 3}


def test_book_pod_with_a_one_month_invoice_lag_needs_more_for_the_same_revenue():
    lagged = plan(PlanTarget(annual_new_revenue_usd=1_320_000, invoice_lag_months=1), book_pod_model())
    assert lagged.first_year_factor == 66.0
    assert lagged.monthly_new_mrr_usd == 20_000
    assert lagged.headcount == {"mdr": 1, "sdr": 1, "ae": 3}
    more = plan(PlanTarget(annual_new_revenue_usd=1_560_000, invoice_lag_months=1), book_pod_model())
    assert more.monthly_new_mrr_usd == pytest.approx(1_560_000 / 66, rel=ROUNDOFF)
    assert more.headcount["ae"] == 4  # 70.9 SQLs at 20 per AE


def test_two_pods_for_twice_the_target():
    p = plan(PlanTarget(annual_new_revenue_usd=2 * 1_560_000), book_pod_model())
    assert p.headcount == {"mdr": 2, "sdr": 2, "ae": 6}


# --------------------------------------------------------------------------- the quota plan


def test_the_books_quota_plan_is_exact() -> None:
    """$8M of new ARR at $2M quota per rep with 125 % over-assignment: $10M of quota, 5 reps, 4
    strictly needed at 100 % attainment, an assumed attainment of 80 % — exactly."""
    from sim.planner.arithmetic import quota_plan

    q = quota_plan(8_000_000, 2_000_000, 1.25)
    assert q.total_quota_usd == 10_000_000
    assert q.reps == 5 and q.reps_at_full_attainment == 4
    assert q.expected_attainment == 0.8


@pytest.mark.parametrize(("args", "fragment"), [((8e6, 0.0, 1.25), "quota per rep must be positive"),
                                                ((8e6, 2e6, 0.9), "cannot be below 1"),
                                                ((-1.0, 2e6, 1.0), "cannot be negative")])
def test_a_quota_plan_refuses_what_cannot_be(args, fragment) -> None:
    from sim.planner.arithmetic import PlanError, quota_plan

    with pytest.raises(PlanError, match=fragment):
        quota_plan(*args)


def test_the_quota_plan_beside_the_book_pod_pipeline_plan() -> None:
    """The POD books $20,000 of new MRR a month: $2.88M of new ARR a year, carried by 3 AEs from
    the pipeline ($960,000 each). In $800,000 quotas with 125 % over-assignment: $3.6M of quota,
    5 AEs (4 at 100 % attainment)."""
    p = plan(PlanTarget(monthly_new_mrr_usd=20_000), book_pod_model())
    side = p.quota_headcount(800_000, 1.25)
    assert side["pipeline_headcount"] == {"ae": 3}
    assert side["new_arr_per_pipeline_rep_usd"] == 960_000
    assert side["quota"]["total_quota_usd"] == 3_600_000
    assert side["quota"]["reps"] == 5 and side["quota"]["reps_at_full_attainment"] == 4
