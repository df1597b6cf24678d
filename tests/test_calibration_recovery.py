"""Parameter recovery: synth an export of a known scenario, calibrate it, and find the truth.

``tests/data/calibration_truth.yaml`` keeps every fitted parameter inside the family the
calibration fits (geometric dials, a two-point speed-to-lead profile, lognormal deal sizes and
gaps, piecewise-exponential churn, Weibull tenure, lognormal time to fill). One seed within 4
standard errors (the 95% half-width × 2.04); several seeds, counting how often the 95% intervals
cover the truth.

All of it is in the slow tier: the one-seed checks share an 18-month synth and calibration
(~2.7 s, the only cost of this file), a statistical recovery check. The default tier keeps synth,
calibrate, the fitted scenario's writer and its validation end to end on the tiny scenario
(tests/test_calibration.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calibration.calibrate import calibrate
from sim.calibration.estimates import Calibration, Fitted
from sim.calibration.reader import read_export
from sim.calibration.synth import export_meta, synthesize, write_export
from sim.scenario import load_scenario

TRUTH_FILE = Path(__file__).parent / "data" / "calibration_truth.yaml"

TRUTH: dict[str, float] = {
    "inbound.mqls_per_month": 900.0,
    "inbound.growth_per_month": 0.02,
    "inbound.dials_to_connect": 6.0,  # geometric mean
    "inbound.qualify_probability": 0.3,
    "inbound.speed_to_lead": 0.2,  # odds multiplier at 24 h vs 1 h
    "handoff.delay_days": 1.0,  # median
    "segments.smb.opportunity.pass_probability": 0.3,  # win rate 0.6 × 0.5
    "segments.smb.opportunity.gap_days": 12.0,  # median
    "segments.smb.mrr_usd": 900.0,  # median
    "segments.smb.churn.monthly_rate": 0.03,
    "segments.smb.churn.onboarding_multiplier": 2.0,
    "roles.mdr.tenure_months": 12.0,  # Weibull scale
    "roles.mdr.time_to_fill_days": 40.0,  # median
}
"""The true value of each fitted quantity (``Fitted.estimate``) of the known scenario."""


def fit_seed(seed: int, folder: Path) -> Calibration:
    scenario = load_scenario(TRUTH_FILE)
    write_export(synthesize(scenario, seed), export_meta(scenario, seed, str(TRUTH_FILE)), folder)
    return calibrate(read_export(folder), scenario)


def within_4se(f: Fitted, truth: float) -> bool:
    """|estimate − truth| within 4 standard errors, the SE taken from the 95% interval's half-width
    on the side of the truth (intervals of rates and scales are not symmetric)."""
    half = (f.high - f.estimate) if truth > f.estimate else (f.estimate - f.low)
    return abs(f.estimate - truth) <= 4.0 / 1.96 * half


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> Calibration:
    return fit_seed(11, tmp_path_factory.mktemp("truth") / "export")


@pytest.mark.slow  # reads the 18-month calibration of `recovered` (~2.7 s)
@pytest.mark.parametrize("path", list(TRUTH))
def test_recovers_the_known_scenario(recovered: Calibration, path: str) -> None:
    fitted = recovered.get(path)
    assert within_4se(fitted, TRUTH[path]), fitted.comment()


@pytest.mark.slow  # reads the 18-month calibration of `recovered` (~2.7 s)
def test_absent_processes_are_recovered_as_none(recovered: Calibration) -> None:
    """The known scenario has no hand-off leakage and no expansion: both fit as 0 with tight
    intervals, and the expansion size (no events) keeps the base."""
    leak = recovered.get("handoff.leakage_probability")
    assert leak.estimate == 0.0 and leak.low == 0.0 and leak.high < 0.002, leak.comment()
    grow = recovered.get("segments.smb.expansion.monthly_probability")
    assert grow.estimate == 0.0 and grow.high < 0.001, grow.comment()
    assert "segments.smb.expansion.mrr_fraction" in {k.path for k in recovered.kept}


@pytest.mark.slow  # reads the 18-month calibration of `recovered` (~2.7 s)
def test_fitted_scenario_runs(recovered: Calibration, tmp_path: Path) -> None:
    """The fitted scenario validates and keeps what the data could not support."""
    import yaml

    from sim.calibration.writer import scenario_text
    from sim.scenario import scenario_from_dict
    from sim.scenario.yamlio import load_document

    text = scenario_text(load_document(TRUTH_FILE).data, str(TRUTH_FILE), "export", recovered)
    fitted = scenario_from_dict(yaml.safe_load(text))
    assert fitted.inbound is not None and fitted.inbound.dials_to_connect.dist == "geometric"
    assert "# fitted: geometric-equivalent mean" in text and "95% CI" in text
    kept = {k.path for k in recovered.kept}
    assert "inbound.seasonality" in kept  # 18 months: too few for 12 multipliers
    assert fitted.roles["ae"].tenure_months is None  # nobody left: the base's value stays


@pytest.mark.slow
def test_interval_coverage_over_seeds(tmp_path: Path) -> None:
    """Over 8 seeds × 13 parameters, the 95% intervals cover the truth about 95% of the time.
    With 104 intervals, fewer than 92 covering (88.5%) would happen by chance with probability
    0.2%."""
    covered = total = 0
    misses = []
    for seed in range(8):
        cal = fit_seed(100 + seed, tmp_path / f"export{seed}")
        for path, truth in TRUTH.items():
            f = cal.get(path)
            total += 1
            if f.covers(truth):
                covered += 1
            else:
                misses.append((seed, path, f.comment()))
    assert covered >= 92, (covered, total, misses)
