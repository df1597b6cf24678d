"""Sensitivity analysis (sim.runs.sensitivity, ``salesim sensitivity``): inputs from files, inline
ranges and ASSUMPTION marks; a tornado's bars are separate runs; Sobol finds the one input that
matters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli.main import main
from sim.runs.sensitivity import assumption_inputs, marked_inputs, parse_input, read_inputs, sensitivity
from sim.runs.sweep import SweepInputError, load_sources

ROOT = Path(__file__).resolve().parents[1]
ONE_MONTH = ["horizon_months=1"]


def test_inputs_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "inputs.yaml"
    path.write_text("inputs:\n  handoff.leakage_probability: [0.02, 0.15]\n"
                    "  pod:org.pod_handoff.leakage_probability: {dist: triangular, low: 0, mode: 0.02, high: 0.1}\n")
    plain, tri = read_inputs(path)
    assert (plain.label, plain.low, plain.high, plain.dist) == ("handoff.leakage_probability", 0.02, 0.15, "uniform")
    assert tri.parameter.scenario == "pod" and tri.dist == "triangular"
    assert tri.ppf(np.array([0.0, 1.0])).tolist() == pytest.approx([0.0, 0.1])
    for bad, message in [([0.2, 0.1], "must be below"), ({"dist": "normal", "low": 0, "high": 1}, "not one of"),
                         ([1], "expected [low, high]"), ({"dist": "triangular", "low": 0, "high": 1}, "needs numbers")]:
        with pytest.raises(SweepInputError, match=message.replace("[", r"\[")):
            parse_input("x.y", bad)


def test_inline_ranges_and_assumptions_of_the_shipped_scenarios(tmp_path: Path) -> None:
    sources = load_sources([ROOT / "scenarios" / "silo.yaml", ROOT / "scenarios" / "pod.yaml"])
    found = {i.label: i for i in assumption_inputs(sources, spread=0.5)}
    # the silo's marks are inherited by the POD (extends: silo.yaml): one input for both
    assert found["handoff.leakage_probability"].low == pytest.approx(0.04)
    assert found["handoff.leakage_probability"].high == pytest.approx(0.12)
    assert "roles.ae.max_open_opportunities" in found
    # the POD's own hand-off block is marked by the comment above it: the POD's inputs only
    assert found["pod:org.pod_handoff.leakage_probability"].high == pytest.approx(0.03)
    assert "pod:org.pod_handoff.delay_days.median" in found
    # sourced figures are not assumptions; headcounts are the decision, not an input (the CSMs' is
    # marked, and six listed tenures would refuse three CSMs)
    assert "segments.smb.churn.monthly_rate" not in found and "inbound.qualify_probability" not in found
    assert not any(label.endswith("headcount") for label in found)
    marked = tmp_path / "marked.yaml"
    marked.write_text(f"extends: {ROOT / 'scenarios' / 'silo.yaml'}\n"
                      "handoff:\n  leakage_probability: {value: 0.08, range: [0.02, 0.15]}\n")
    (one,) = marked_inputs(load_sources([marked]))
    assert (one.label, one.low, one.high) == ("handoff.leakage_probability", 0.02, 0.15)


def test_tornado_bars_are_separate_runs_bit_for_bit(minimal_path: Path, tmp_path: Path) -> None:
    inputs = [parse_input("inbound.qualify_probability", [0.1, 0.5]), parse_input("roles.mdr.dials_per_day", [20, 80])]
    result = sensitivity(minimal_path, inputs, reps=3, seed=4, workers=1, overrides=ONE_MONTH, metric="sqls",
                         out=tmp_path / "s")
    table = result.tornado.set_index("input")
    for label, end in [("inbound.qualify_probability", "low"), ("inbound.qualify_probability", "high"),
                       ("roles.mdr.dials_per_day", "high")]:
        value = table.loc[label, end]
        alone = sim.run(sim.load_scenario(minimal_path, [*ONE_MONTH, f"{label}={value:g}"]), reps=3, seed=4,
                        workers=1)
        assert table.loc[label, f"value_{end}"] == alone.kpis["sqls"].mean()  # bit for bit
    assert result.tornado["input"].iloc[0] == "inbound.qualify_probability"  # the larger swing first
    written = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    assert set(written["method"]) == {"tornado"}


def test_the_cli_refuses_a_sensitivity_without_inputs(minimal_path: Path, tmp_path: Path, capsys) -> None:
    assert main(["sensitivity", str(minimal_path), "--out", str(tmp_path / "o")]) == 2
    assert "no uncertain inputs" in capsys.readouterr().err
    bad = tmp_path / "in.yaml"
    bad.write_text("handoff.leakage_probability: [0.5, 1.3]\n")
    assert main(["sensitivity", str(minimal_path), "--inputs", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "less than or equal to 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_sobol_gives_the_only_input_that_matters_a_first_order_index_near_one(minimal_path: Path,
                                                                             tmp_path: Path) -> None:
    """Only the qualify probability can change the SQL count; the two costs cannot. Tolerances: the
    bootstrap CI half-widths that SALib reports (plus a floor for a zero-width CI)."""
    inputs = [parse_input("inbound.qualify_probability", [0.1, 0.5]),
              parse_input("inbound.cost_per_mql_usd", [0, 200]), parse_input("roles.ae.monthly_cost_usd", [1e3, 9e3])]
    result = sensitivity(minimal_path, inputs, methods=["morris", "sobol"], reps=2, seed=1, workers=1,
                         overrides=ONE_MONTH, metric="sqls", sobol_n=128)
    s = result.sobol.set_index("input")
    key = "inbound.qualify_probability"
    assert abs(s.loc[key, "S1"] - 1) <= max(s.loc[key, "S1_conf"], 0.02)
    assert abs(s.loc[key, "ST"] - 1) <= max(s.loc[key, "ST_conf"], 0.02)
    for other in ("inbound.cost_per_mql_usd", "roles.ae.monthly_cost_usd"):
        assert abs(s.loc[other, "S1"]) <= max(s.loc[other, "S1_conf"], 1e-9)
        assert abs(s.loc[other, "ST"]) <= max(s.loc[other, "ST_conf"], 1e-9)
    m = result.morris.set_index("input")
    assert m.loc[key, "mu_star"] > 0 and m.loc["inbound.cost_per_mql_usd", "mu_star"] == 0
    from sim.present.sensitivity_plots import save_sensitivity_figures
    from sim.present.sensitivity_text import drivers_text

    assert [p.name for p in save_sensitivity_figures(result, tmp_path)] == ["morris.png", "sobol.png"]
    assert "Share of the variance of sqls (Sobol): inbound.qualify_probability (total" in drivers_text(result)
