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
      composition: {{mdr: 1, sdr: 2, ae: 3, csm: 3}}
      regions: [east]
    west:
      composition: {{mdr: 1, sdr: 2, ae: 3, csm: 3}}
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


EAST_COMPOSITION = "{mdr: 1, sdr: 2, ae: 3, csm: 3}\n      regions: [east]"
WEST_COMPOSITION = "{mdr: 1, sdr: 2, ae: 3, csm: 3}\n      regions: [west]"

# Each case: replacements made in the POD template (its file change; each old text must occur),
# and the problems it must report — (line needle, text): ``<file>:<line of the needle>: <text>``
# must be in the report; with needle None, ``text`` must be anywhere in it.
INVALID = [
    pytest.param([(EAST_COMPOSITION, "{mdr: 1, sdr: 2, ae: 3, csm: 3, fae: 1}\n      regions: [east]")],
                 [("fae: 1", "org.pods.east.composition.fae: role 'fae' does not exist")],
                 id="pod_naming_a_role_that_does_not_exist"),
    # 'north' is not a region of the market; 'enterprise' is not a segment
    pytest.param([("regions: [east]", "regions: [north]"),
                  ("regions: [west]", "regions: [west]\n      segments: [enterprise]")],
                 [("regions: [north]", "org.pods.east.regions.0: region 'north' does not exist"),
                  ("segments: [enterprise]", "org.pods.west.segments.0: segment 'enterprise'")],
                 id="market_slice_no_lead_can_have"),
    pytest.param([("regions: [west]\n", "regions: [west]\nmarket:\n  regions: {east: 1.0, west: 0.0}\n")],
                 [("regions: [west]", "org.pods.west.regions: no lead can have these regions")],
                 id="market_slice_with_zero_weight_is_empty"),
    pytest.param([("structure: pod", "structure: hybrid\n  pooled_roles: [mdr, bdr]")],
                 [("pooled_roles", "org.pooled_roles.1: role 'bdr' does not exist"),
                  (None, "org.pods.east.composition.mdr: role 'mdr' is pooled")],
                 id="pooled_role_cannot_sit_in_a_pod"),
    pytest.param([("structure: pod", "structure: silo")],
                 [("pods:", "org.pods: pods are only used with structure: pod or hybrid")],
                 id="silo_with_pods_is_reported"),
    pytest.param([("structure: pod", "structure: pod\n  routing: by_mood")],
                 [("routing", "org.routing:"), (None, "'territory'")],
                 id="unknown_routing_policy"),
]


@pytest.mark.parametrize(("replacements", "expected"), INVALID)
def test_a_bad_org_is_located(tmp_path, capsys, replacements: list[tuple[str, str]],
                              expected: list[tuple[str | None, str]]) -> None:
    text = pod_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path, text = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert "Traceback" not in err
    for needle, message in expected:
        assert (f"{path}:{line_of(text, needle)}: {message}" if needle is not None else message) in err, err


def test_compositions_must_match_headcount(tmp_path, capsys):
    text = pod_text().replace(WEST_COMPOSITION, "{mdr: 1, sdr: 2, ae: 2, csm: 3}\n      regions: [west]")
    path, _ = write(tmp_path, text)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    silo = REPO / "scenarios" / "silo.yaml"
    silo_text = silo.read_text()
    ae_line = line_of(silo_text, "  ae:") + 1  # headcount is the first field under ae:
    assert f"{silo}:{ae_line}: roles.ae.headcount: headcount is 6 but the PODs' compositions hold 5 ae seat(s)" in err


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
