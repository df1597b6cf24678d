"""Every shipped scenario (``scenarios/*.yaml``) loads and runs with sane results.

Parametrized over the glob, so a new scenario file is covered without touching this test.
The horizon is cut to 6 months to keep it fast; two replications each. Most shipped scenarios
start as a running company (``warm_start``: an installed base and open pipeline); the
accounting identities below include it.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.metrics import KPI_NAMES
from sim.scenario.loading import ScenarioWarning

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
HORIZON = 6
REPS = 2
SEED = 7
#: KPIs that are NaN when their denominator is empty (no closed deals, no inbound touch, no wins, no
#: account-month, no churn, no trial) or, for time to profitability, when a young book's CRC exceeds
#: the margin.
MAY_BE_NAN = {"win_rate_sql", "win_rate_opportunity", "trial_conversion_rate", "mqls_never_touched_share",
              "sales_cycle_days_mean", "speed_to_lead_hours_median", "cac_usd",
              "crc_usd_per_account_month", "churn_rate_monthly", "cac_payback_months", "ltv_usd", "ltv_to_cac",
              "time_to_profitability_months", "quota_attainment_mean", "reps_at_quota_share", "variable_pay_usd",
              "renewal_rate", "nrr", "grr"}  # no contract term ended; no trailing year (or no cohort)
#: Expected count at which P(Poisson = 0) = exp(-20) ~ 2e-9: "must be positive" is then safe.
SURE_COUNT = 20.0


@functools.cache
def load_full(path: Path) -> sim.Scenario:
    """A shipped scenario at its own horizon, loaded once for the tests that only read it."""
    return sim.load_scenario(path)


def test_there_are_shipped_scenarios() -> None:
    assert SCENARIOS, "no scenarios/*.yaml found"


@pytest.fixture(scope="module", params=SCENARIOS, ids=[p.name for p in SCENARIOS])
def shipped(request: pytest.FixtureRequest):
    """(scenario, RunResult) of one shipped scenario, run once per module."""
    with warnings.catch_warnings():
        # A shortened horizon leaves the hiring plans' later waves after it: warned, expected here.
        warnings.simplefilter("ignore", ScenarioWarning)
        scenario = sim.load_scenario(request.param, [f"horizon_months={HORIZON}"])
    result = sim.run(scenario, reps=REPS, seed=SEED, workers=1)
    # Fail loudly here, so the checks below never pass vacuously on an empty table.
    assert not result.failures, result.failures[0]["traceback"]
    return scenario, result


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_loads_at_full_horizon(path: Path) -> None:
    scenario = load_full(path)
    assert scenario.name
    assert scenario.sources


def test_runs_without_failures(shipped) -> None:
    _, result = shipped
    assert result.failures == []
    assert result.kpis["rep"].tolist() == list(range(REPS))
    assert list(result.kpis.columns)[:len(KPI_NAMES) + 1] == ["rep", *KPI_NAMES]
    extra = list(result.kpis.columns)[len(KPI_NAMES) + 1:]  # per source and per segment, where several
    assert all("@source:" in name or "@segment:" in name for name in extra)
    assert result.scenario.horizon_months == HORIZON


def _warm(scenario) -> tuple[int, int]:
    """(installed customers, warm pipeline leads) of a scenario's warm start."""
    warm = scenario.warm_start
    return sum(c.count for c in warm.customers), sum(p.count for p in warm.pipeline)


def test_kpis_are_sane(shipped) -> None:
    scenario, result = shipped
    installed_customers, warm_leads = _warm(scenario)
    installed_mrr = result.series("mrr_usd").loc[0]
    for row in result.kpis.to_dict("records"):
        for name in KPI_NAMES:
            value = row[name]
            if name not in MAY_BE_NAN:
                assert math.isfinite(value), f"{name} = {value}"
            if not math.isnan(value):
                assert value >= 0, f"{name} = {value}"
        assert row["exit_arr_usd"] == pytest.approx(12 * row["mrr_end_usd"])
        # The end MRR is the installed base (warm start) plus everything gained minus everything lost.
        flows = installed_mrr[row["rep"]] + row["new_mrr_usd"] + row["expansion_mrr_usd"] - row["churned_mrr_usd"]
        assert row["mrr_end_usd"] == pytest.approx(flows, rel=1e-9, abs=1e-6)
        assert (installed_mrr[row["rep"]] > 0) == (installed_customers > 0)
        leads = row["mqls"] + row["prospects"] + warm_leads
        # a self-service trial is won or lapses without an opportunity (a sign-up is no SQL either)
        assert row["wins"] + row["losses"] <= row["opportunities"] + row["trials"]
        assert row["opportunities"] <= row["sqls"] <= leads
        assert row["connects"] <= leads
        assert row["connects"] - warm_leads <= row["dials"]  # warm SQLs and deals were reached before the run
        assert 0 <= row["customers_end"] <= row["wins"] + installed_customers
        for rate in ("win_rate_sql", "win_rate_opportunity", "trial_conversion_rate", "mqls_never_touched_share",
                     "churn_rate_monthly"):
            if not math.isnan(row[rate]):
                assert row[rate] <= 1
        inbound, outbound = scenario.inbound_sources().values(), scenario.outbound_sources().values()
        if not inbound:
            assert row["mqls"] == 0
        elif sum(s.mqls_per_month for s in inbound if s.arrival_times_days is None) * HORIZON >= SURE_COUNT:
            assert row["mqls"] > 0
        if not outbound:
            assert row["prospects"] == 0
        elif sum(scenario.roles[s.worked_by].headcount * s.prospects_per_rep_month
                 for s in outbound) * HORIZON >= SURE_COUNT:
            assert row["prospects"] > 0


def test_series_agree_with_kpis(shipped) -> None:
    scenario, result = shipped
    for rep, row in result.kpis.set_index("rep").iterrows():
        ts = result.timeseries[result.timeseries["rep"] == rep]

        def series(name: str, frame=ts) -> np.ndarray:
            s = frame[frame["series"] == name].sort_values("month")
            return s["value"].to_numpy()

        mrr = series("mrr_usd")
        assert len(mrr) == HORIZON + 1
        assert (mrr[0] > 0) == bool(scenario.warm_start.customers)  # the installed base, at month 0
        assert mrr[-1] == pytest.approx(row["mrr_end_usd"])
        assert np.all(series("customers") >= 0)
        assert series("customers")[-1] == row["customers_end"]
        for flow in ("wins", "sqls", "mqls", "new_mrr_usd", "churned_mrr_usd"):
            assert series(flow).sum() == pytest.approx(row[flow], rel=1e-9, abs=1e-6), flow
        for role in scenario.roles:
            headcount = series(f"headcount.{role}")
            assert len(headcount) == HORIZON + 1
            assert np.all(headcount >= 0)
            assert headcount[0] == scenario.roles[role].headcount
            for name in ("capacity_fte", "utilization", "backlog"):
                values = series(f"{name}.{role}")
                assert np.all(values[~np.isnan(values)] >= 0), name
        assert sum(series(f"headcount.{role}")[-1] for role in scenario.roles) == row["headcount_end"]


@pytest.mark.parametrize("name", ["silo", "pod", "hybrid", "hiring_front_loaded", "hiring_back_loaded"])
def test_the_compared_orgs_start_from_the_same_running_company(name: str) -> None:
    """silo, pod and hybrid (and the hiring plans) share silo.yaml's installed base and open pipeline,
    so their comparisons stay paired; island.yaml is the young company that starts from zero."""
    root = SCENARIOS[0].parent
    silo = load_full(root / "silo.yaml").warm_start
    scenario = load_full(root / f"{name}.yaml")
    assert scenario.warm_start == silo
    assert sum(c.count for c in silo.customers) > 0 and sum(p.count for p in silo.pipeline) > 0
    assert load_full(root / "island.yaml").warm_start.customers == []
