"""Inline uncertainty ranges (``{value: 0.08, range: [0.02, 0.15]}``): normal runs see only the
value, with the same scenario hash as the plain number; sensitivity analysis reads the range."""

from __future__ import annotations

import pytest

import sim
from sim.scenario import ScenarioError
from sim.scenario.ranges import load_ranges


def test_a_marked_field_validates_to_its_value_with_the_same_hash(variant, minimal_path) -> None:
    marked, _ = variant("marked.yaml", ("  leakage_probability: 0.05",
                                        "  leakage_probability: {value: 0.05, range: [0.01, 0.2]}"))
    plain = sim.load_scenario(minimal_path)
    scenario = sim.load_scenario(marked)
    assert scenario.handoff.leakage_probability == 0.05
    assert scenario.sha256() == plain.sha256()
    (found,) = load_ranges(marked)
    assert (found.dotted, found.value, found.low, found.high) == ("handoff.leakage_probability", 0.05, 0.01, 0.2)
    assert found.line is not None and found.file == str(marked)
    assert load_ranges(minimal_path) == []


def test_a_set_override_replaces_the_marker(variant) -> None:
    marked, _ = variant("marked.yaml", ("  leakage_probability: 0.05",
                                        "  leakage_probability: {value: 0.05, range: [0.01, 0.2]}"))
    assert sim.load_scenario(marked, ["handoff.leakage_probability=0.1"]).handoff.leakage_probability == 0.1
    assert load_ranges(marked, ["handoff.leakage_probability=0.1"]) == []


@pytest.mark.parametrize(("marker", "message"), [
    ("{value: 0.05, range: [0.1, 0.2]}", "value 0.05 is outside its range [0.1, 0.2]"),
    ("{value: 0.05, range: [0.2, 0.01]}", "range low 0.2 must be below high 0.01"),
    ("{value: 0.05, range: [0.01]}", "range must be two numbers"),
    ("{value: 1.5, range: [0.01, 2]}", "less than or equal to 1"),
])
def test_a_bad_marker_is_reported_with_file_and_line(variant, marker: str, message: str) -> None:
    marked, _ = variant("marked.yaml", ("  leakage_probability: 0.05", f"  leakage_probability: {marker}"))
    with pytest.raises(ScenarioError) as caught:
        sim.load_scenario(marked)
    text = str(caught.value)
    assert message in text and f"{marked}:" in text and "handoff.leakage_probability" in text
