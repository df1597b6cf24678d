"""Bad org structures are reported with file, line and field path (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT

REPO = Path(__file__).resolve().parents[1]

POD_TEMPLATE = """\
extends: {silo}
name: {name}
horizon_months: {horizon}
org:
  structure: pod
  pods:
    east:
      composition: {{mdr: 1, sdr: 2, ae: 3, csm: 1}}
      regions: [east]
    west:
      composition: {{mdr: 1, sdr: 2, ae: 3, csm: 1}}
      regions: [west]
"""


def write(tmp_path: Path, text: str, name: str = "variant.yaml") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def pod_text(name: str = "pod_variant", horizon: int = 24) -> str:
    return POD_TEMPLATE.format(silo=REPO / "scenarios" / "silo.yaml", name=name, horizon=horizon)


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    return lines[occurrence - 1]


def validate(capsys, path: Path) -> tuple[int, str]:
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def test_the_template_is_valid(tmp_path, capsys):
    path, _ = write(tmp_path, pod_text())
    assert main(["validate", str(path)]) == 0


def test_pod_naming_a_role_that_does_not_exist(tmp_path, capsys):
    text = pod_text().replace("{mdr: 1, sdr: 2, ae: 3, csm: 1}\n      regions: [east]",
                              "{mdr: 1, sdr: 2, ae: 3, csm: 1, fae: 1}\n      regions: [east]")
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'fae: 1')}: org.pods.east.composition.fae: role 'fae' does not exist" in err
    assert "Traceback" not in err


def test_market_slice_no_lead_can_have(tmp_path, capsys):
    # 'north' is not a region of the market; 'enterprise' is not a segment
    text = pod_text().replace("regions: [east]", "regions: [north]").replace(
        "regions: [west]", "regions: [west]\n      segments: [enterprise]")
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'regions: [north]')}: org.pods.east.regions.0: region 'north' does not exist" in err
    assert f"{path}:{line_of(text, 'segments: [enterprise]')}: org.pods.west.segments.0: segment 'enterprise'" in err


def test_market_slice_with_zero_weight_is_empty(tmp_path, capsys):
    text = pod_text() + "market:\n  regions: {east: 1.0, west: 0.0}\n"
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'regions: [west]')}: org.pods.west.regions: no lead can have these regions" in err


def test_compositions_must_match_headcount(tmp_path, capsys):
    text = pod_text().replace("{mdr: 1, sdr: 2, ae: 3, csm: 1}\n      regions: [west]",
                              "{mdr: 1, sdr: 2, ae: 2, csm: 1}\n      regions: [west]")
    path, _ = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    silo = REPO / "scenarios" / "silo.yaml"
    silo_text = silo.read_text()
    ae_line = line_of(silo_text, "  ae:") + 1  # headcount is the first field under ae:
    assert f"{silo}:{ae_line}: roles.ae.headcount: headcount is 6 but the PODs' compositions hold 5 ae seat(s)" in err


def test_pooled_role_cannot_sit_in_a_pod(tmp_path, capsys):
    text = pod_text().replace("structure: pod", "structure: hybrid\n  pooled_roles: [mdr, bdr]")
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'pooled_roles')}: org.pooled_roles.1: role 'bdr' does not exist" in err
    assert "org.pods.east.composition.mdr: role 'mdr' is pooled" in err


def test_silo_with_pods_is_reported(tmp_path, capsys):
    text = pod_text().replace("structure: pod", "structure: silo")
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'pods:')}: org.pods: pods are only used with structure: pod or hybrid" in err


def test_unknown_routing_policy(tmp_path, capsys):
    text = pod_text().replace("structure: pod", "structure: pod\n  routing: by_mood")
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'routing')}: org.routing:" in err
    assert "'territory'" in err


def test_compare_with_different_horizons_names_file_line_and_path(tmp_path, capsys):
    a, _ = write(tmp_path, pod_text(name="a", horizon=24), "a.yaml")
    b, b_text = write(tmp_path, pod_text(name="b", horizon=12), "b.yaml")
    code = main(["compare", str(a), str(b), "--reps", "2", "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert f"{b}:{line_of(b_text, 'horizon_months')}: horizon_months: horizon_months is 12 but 'a' has 24" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("count", [1])
def test_compare_needs_two_scenarios(tmp_path, capsys, count):
    a, _ = write(tmp_path, pod_text(name="a"), "a.yaml")
    code = main(["compare", str(a)])
    assert code == EXIT_BAD_INPUT
    assert "at least two" in capsys.readouterr().err
