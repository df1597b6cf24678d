"""The backtest: a history made by a scenario is "calibrated" against that scenario; the same
history against deliberately wrong win rates is not. And the starting state comes from the
export."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calibration.backtest import backtest, backtest_data, expected_coverage
from sim.calibration.reader import read_export
from sim.calibration.synth import export_meta, synthesize, write_export
from sim.scenario import scenario_from_dict
from sim.scenario.yamlio import load_document

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """A year of the tiny scenario (150 MQLs a month, 2 AEs, a small installed base) and its export."""
    data = load_document(DATA / "minimal.yaml").data
    data["horizon_months"] = 12
    data["inbound"]["mqls_per_month"] = 150
    data["roles"]["mdr"]["headcount"] = 2
    data["roles"]["ae"]["headcount"] = 2
    data["roles"]["ae"]["initial_tenure_months"] = [6, 20]
    data["warm_start"] = {"customers": [{"segment": "smb", "count": 40, "age_months": 8,
                                         "mrr_usd": {"dist": "lognormal", "median": 800, "sigma": 0.5}}],
                          "pipeline": [{"stage": "opportunity", "segment": "smb", "count": 6, "age_days": 5}]}
    folder = tmp_path_factory.mktemp("bt") / "export"
    scenario = scenario_from_dict(data)
    write_export(synthesize(scenario, 21), export_meta(scenario, 21, "minimal"), folder)
    return data, folder


def test_the_starting_state_comes_from_the_export(history: tuple[dict, Path]) -> None:
    data, folder = history
    replay = backtest_data(data, read_export(folder))
    assert replay["horizon_months"] == 12
    assert replay["roles"]["ae"]["headcount"] == 2
    assert replay["roles"]["ae"]["initial_tenure_months"] == pytest.approx([6, 20], abs=0.01)
    customers = replay["warm_start"]["customers"]
    assert len(customers) == 40 and all(c["count"] == 1 and c["age_months"] == pytest.approx(8) for c in customers)
    assert replay["warm_start"]["pipeline"] == [{"stage": "opportunity", "segment": "smb", "count": 6,
                                                 "age_days": 5.0}]
    scenario_from_dict(replay)  # it validates


def test_bands_from_few_replications_are_narrower() -> None:
    assert expected_coverage(0.9, 16) == pytest.approx(0.9 * 15 / 17)
    assert expected_coverage(0.9, 10_000) == pytest.approx(0.9, abs=1e-3)


def test_the_true_model_is_calibrated_and_wrong_win_rates_are_not(history: tuple[dict, Path]) -> None:
    data, folder = history
    export = read_export(folder)
    right = backtest(data, export, reps=20, seed=3, workers=1)
    assert right.calibrated, (right.verdict, right.coverage)
    wrong = dict(data, segments={"smb": {**data["segments"]["smb"],
                                         "opportunity": {**data["segments"]["smb"]["opportunity"],
                                                         "pass_probability": 0.3}}})
    bad = backtest(wrong, export, reps=20, seed=3, workers=1)
    assert not bad.calibrated
    assert not bad.coverage.loc["wins", "consistent"]
    assert "wins" in bad.verdict


@pytest.mark.integration  # the command end to end: a pool of replications and six figures (~10 s)
def test_cli_backtest_writes_its_folder(history: tuple[dict, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from sim.cli import main

    data, folder = history
    fitted = tmp_path / "fitted.yaml"
    fitted.write_text(yaml.safe_dump(data))
    out = tmp_path / "bt"
    assert main(["backtest", str(fitted), "--data", str(folder), "--reps", "8", "--workers", "1",
                 "--out", str(out)]) == 0
    assert "calibrated" in capsys.readouterr().out
    assert (out / "backtest.csv").exists() and (out / "backtest_wins.png").exists()
    assert "**Verdict:" in (out / "backtest_report.md").read_text()
    assert main(["backtest", str(fitted), "--data", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
