"""Bad workforce sections (ramps, hiring waves and targets, interns, outsourcing, promotions,
warm start) are reported by ``salesim validate`` with file, line and dotted field path, exit 2,
and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT

REPO = Path(__file__).resolve().parents[1]
SILO = REPO / "scenarios" / "silo.yaml"

HEAD = f"extends: {SILO}\nname: workforce_variant\n"

PODS = """\
org:
  structure: pod
  pods:
    east:
      composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}
      regions: [east]
    west:
      composition: {mdr: 1, sdr: 2, ae: 3, csm: 3}
      regions: [west]
"""


def write(tmp_path: Path, body: str) -> tuple[Path, str]:
    path = tmp_path / "variant.yaml"
    text = HEAD + body
    path.write_text(text, encoding="utf-8")
    return path, text


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    assert len(lines) >= occurrence, f"{fragment!r} not in the file"
    return lines[occurrence - 1]


def validate(capsys, path: Path) -> tuple[int, str]:
    code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    return code, captured.err


def problem_lines(err: str) -> list[str]:
    return [line.strip() for line in err.splitlines() if line.startswith("  ")]


# Each case: the body written under ``extends: silo.yaml`` (its file change), the problems it must
# report — (line needle, dotted path, message fragment): the problem is printed as
# ``<file>:<line of the needle>: <path>: <message…>`` — and how many problem lines in all (None:
# not checked).
INVALID = [
    pytest.param("roles:\n  ae:\n    ramp: [0.1, 0.5, 1.7]\n",
                 [("ramp:", "roles.ae.ramp.2", "Input should be less than or equal to 1.5; got 1.7")], 1,
                 id="ramp_value_above_its_range"),
    pytest.param("roles:\n  ae:\n    ramp: [0.5, -0.1, 1.0]\n",
                 [("ramp:", "roles.ae.ramp.1", "Input should be greater than or equal to 0; got -0.1")], 1,
                 id="ramp_value_below_its_range"),
    pytest.param("roles:\n  sdr:\n    ramp:\n      - 0.5\n      - 2.0\n      - 1.0\n",
                 [("- 2.0", "roles.sdr.ramp.1", "Input should be less than or equal to 1.5")], None,
                 id="ramp_value_in_block_style_points_at_its_own_line"),
    pytest.param("roles:\n  ae:\n    ramp:\n      form: linear\n      months: 4\n      start: 2.0\n",
                 [("start: 2.0", "roles.ae.ramp.start", "Input should be less than or equal to 1.5")], 1,
                 id="ramp_form_value_outside_its_range_is_the_only_problem"),
    pytest.param("hiring:\n  waves:\n    - {month: 2, role: ae, count: 1}\n    - month: 3\n      role: fae\n"
                 "      count: 1\n",
                 [("role: fae", "hiring.waves.1.role",
                   "role 'fae' does not exist; defined roles: mdr, sdr, ae, csm; did you mean 'ae'?")], 1,
                 id="hiring_wave_for_a_role_that_does_not_exist"),
    pytest.param(PODS + "hiring:\n  waves:\n    - month: 2\n      role: ae\n      count: 1\n      team: north\n",
                 [("team: north", "hiring.waves.0.team", "POD 'north' does not exist; defined PODs: east, west")],
                 None, id="hiring_wave_for_a_pod_that_does_not_exist"),
    pytest.param("hiring:\n  waves:\n    - {month: 2, role: ae, count: 1, team: east}\n",
                 [("team: east", "hiring.waves.0.team", "POD 'east' does not exist")], None,
                 id="hiring_wave_for_a_pod_in_a_silo"),
    pytest.param('hiring:\n  targets:\n    fae: {"6": 2}\n',
                 [("fae:", "hiring.targets.fae", "role 'fae' does not exist")], None,
                 id="hiring_target_for_a_role_that_does_not_exist"),
    pytest.param(
        "hiring:\n"
        "  waves:\n"
        "    - {month: 2, role: ae, count: -1}\n"
        "  targets:\n"
        '    sdr: {"6": -3}\n'
        "  hires_per_month: 0\n"
        "roles:\n"
        "  mdr:\n"
        "    interns: {count: -2}\n"
        "    outsourced: {reps: -1}\n"
        "warm_start:\n"
        "  pipeline:\n"
        "    - {stage: sql, segment: smb, count: -4}\n"
        "  customers:\n"
        "    - {segment: smb, count: -5, mrr_usd: 800}\n",
        [("count: -1", "hiring.waves.0.count", "Input should be greater than or equal to 0; got -1"),
         ('"6": -3', "hiring.targets.sdr.6", "Input should be greater than or equal to 0; got -3"),
         ("hires_per_month", "hiring.hires_per_month", "Input should be greater than or equal to 1; got 0"),
         ("interns:", "roles.mdr.interns.count", "Input should be greater than or equal to 0; got -2"),
         ("outsourced:", "roles.mdr.outsourced.reps", "Input should be greater than or equal to 0; got -1"),
         ("count: -4", "warm_start.pipeline.0.count", "Input should be greater than or equal to 0; got -4"),
         ("count: -5", "warm_start.customers.0.count", "Input should be greater than or equal to 0; got -5")],
        7, id="negative_counts_are_all_reported_at_once"),
    pytest.param("hiring:\n  waves:\n    - {month: 0, role: ae, count: 1}\n",
                 [("month: 0", "hiring.waves.0.month", "Input should be greater than or equal to 1")], None,
                 id="wave_month_zero"),
    pytest.param("roles:\n  sdr:\n    promotion: {to: ae, after_months: 6}\n  ae:\n    promotion: {to: sdr}\n",
                 [("to: ae", "roles.sdr.promotion.to", "promotion cycle: sdr → ae → sdr")], 1,  # reported once
                 id="promotion_cycle"),
    pytest.param("roles:\n"
                 "  mdr:\n    promotion: {to: sdr}\n"
                 "  sdr:\n    promotion: {to: ae}\n"
                 "  ae:\n    promotion: {to: mdr}\n"
                 "  csm:\n    promotion: {to: csm}\n",
                 [("to: sdr", "roles.mdr.promotion.to", "promotion cycle: mdr → sdr → ae → mdr"),
                  ("to: csm", "roles.csm.promotion.to", "promotion cycle: csm → csm")], 2,
                 id="longer_promotion_cycle_and_a_self_promotion"),
    pytest.param("roles:\n  sdr:\n    promotion: {to: aes}\n",
                 [("to: aes", "roles.sdr.promotion.to",
                   "role 'aes' does not exist; defined roles: mdr, sdr, ae, csm; did you mean 'ae'?")], None,
                 id="promotion_to_a_role_that_does_not_exist"),
    pytest.param("roles:\n  ae:\n    outsourced: {reps: 2}\n",
                 [("outsourced:", "roles.ae.outsourced", "outsourced capacity is for development")], None,
                 id="outsourced_closers_are_rejected"),
    pytest.param("warm_start:\n  customers:\n    - {segment: enterprise, count: 5, mrr_usd: 800}\n",
                 [("enterprise", "warm_start.customers.0.segment", "segment 'enterprise'")], None,
                 id="warm_start_for_a_segment_that_does_not_exist"),
]


@pytest.mark.parametrize(("body", "expected", "count"), INVALID)
def test_a_bad_workforce_section_is_located(tmp_path, capsys, body: str, expected: list[tuple[str, str, str]],
                                            count: int | None) -> None:
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    for needle, field, message in expected:
        assert f"{path}:{line_of(text, needle)}: {field}: {message}" in err, field
    if count is not None:
        assert len(problem_lines(err)) == count, err


@pytest.mark.parametrize("body", [
    pytest.param("hiring:\n  waves:\n    - {month: 2, role: ae, count: 1}\n" + PODS, id="the_variants_base"),
    pytest.param("roles:\n  mdr:\n    promotion: {to: sdr}\n  sdr:\n    promotion: {to: ae}\n",
                 id="promotion_into_a_chain_without_a_cycle"),
])
def test_a_good_workforce_section_is_valid(tmp_path, capsys, body: str) -> None:
    path, _ = write(tmp_path, body)
    code, _ = validate(capsys, path)
    assert code == 0


def test_a_promotion_into_a_role_that_never_has_a_seat_is_located_and_exits_2(tmp_path, minimal_text: str,
                                                                                 capsys) -> None:
    """A promotion fills an open seat of the role above; a role with headcount 0 and no wave or
    target has none, so the ladder could never move: file:line of ``promotion.to``, exit 2."""
    from sim.cli import main
    from sim.cli.common import EXIT_BAD_INPUT

    text = minimal_text.replace("  mdr:\n    headcount: 1\n",
                                "  mdr:\n    headcount: 1\n    promotion: {to: sdr}\n", 1)
    text = text.replace("roles:\n", "roles:\n  sdr:\n    headcount: 0\n", 1)
    path = tmp_path / "ladder.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and out == "" and "Traceback" not in err
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if "promotion: {to: sdr}" in row)
    assert f"{path}:{line}: roles.mdr.promotion.to: role 'sdr' never has a seat" in err
