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
      composition: {mdr: 1, sdr: 2, ae: 3, csm: 1}
      regions: [east]
    west:
      composition: {mdr: 1, sdr: 2, ae: 3, csm: 1}
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


def test_the_variants_base_is_valid(tmp_path, capsys):
    body = "hiring:\n  waves:\n    - {month: 2, role: ae, count: 1}\n" + PODS
    path, _ = write(tmp_path, body)
    code, _ = validate(capsys, path)
    assert code == 0


@pytest.mark.parametrize(("ramp", "index", "message"), [
    ("[0.1, 0.5, 1.7]", 2, "Input should be less than or equal to 1.5; got 1.7"),
    ("[0.5, -0.1, 1.0]", 1, "Input should be greater than or equal to 0; got -0.1"),
])
def test_ramp_value_outside_its_range(tmp_path, capsys, ramp, index, message):
    path, text = write(tmp_path, f"roles:\n  ae:\n    ramp: {ramp}\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'ramp:')}: roles.ae.ramp.{index}: {message}" in err
    assert len(problem_lines(err)) == 1


def test_ramp_value_in_block_style_points_at_its_own_line(tmp_path, capsys):
    path, text = write(tmp_path, "roles:\n  sdr:\n    ramp:\n      - 0.5\n      - 2.0\n      - 1.0\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, '- 2.0')}: roles.sdr.ramp.1: Input should be less than or equal to 1.5" in err


def test_ramp_form_value_outside_its_range(tmp_path, capsys):
    path, text = write(tmp_path, "roles:\n  ae:\n    ramp:\n      form: linear\n      months: 4\n      start: 2.0\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    line = line_of(text, "start: 2.0")
    assert f"{path}:{line}: roles.ae.ramp.start: Input should be less than or equal to 1.5" in err


def test_ramp_form_value_outside_its_range_is_the_only_problem(tmp_path, capsys):
    path, _ = write(tmp_path, "roles:\n  ae:\n    ramp:\n      form: linear\n      months: 4\n      start: 2.0\n")
    _code, err = validate(capsys, path)
    assert problem_lines(err) == [line for line in problem_lines(err) if "roles.ae.ramp.start" in line]


def test_hiring_wave_for_a_role_that_does_not_exist(tmp_path, capsys):
    body = "hiring:\n  waves:\n    - {month: 2, role: ae, count: 1}\n    - month: 3\n      role: fae\n      count: 1\n"
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert (f"{path}:{line_of(text, 'role: fae')}: hiring.waves.1.role: role 'fae' does not exist; "
            "defined roles: mdr, sdr, ae, csm; did you mean 'ae'?") in err
    assert len(problem_lines(err)) == 1


def test_hiring_wave_for_a_pod_that_does_not_exist(tmp_path, capsys):
    body = PODS + "hiring:\n  waves:\n    - month: 2\n      role: ae\n      count: 1\n      team: north\n"
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert (f"{path}:{line_of(text, 'team: north')}: hiring.waves.0.team: POD 'north' does not exist; "
            "defined PODs: east, west") in err


def test_hiring_wave_for_a_pod_in_a_silo(tmp_path, capsys):
    path, text = write(tmp_path, "hiring:\n  waves:\n    - {month: 2, role: ae, count: 1, team: east}\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'team: east')}: hiring.waves.0.team: POD 'east' does not exist" in err


def test_hiring_target_for_a_role_that_does_not_exist(tmp_path, capsys):
    path, text = write(tmp_path, 'hiring:\n  targets:\n    fae: {"6": 2}\n')
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'fae:')}: hiring.targets.fae: role 'fae' does not exist" in err


def test_negative_counts_are_all_reported_at_once(tmp_path, capsys):
    body = (
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
        "    - {segment: smb, count: -5, mrr_usd: 800}\n"
    )
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    expected = [
        (line_of(text, "count: -1"), "hiring.waves.0.count", "greater than or equal to 0; got -1"),
        (line_of(text, '"6": -3'), "hiring.targets.sdr.6", "greater than or equal to 0; got -3"),
        (line_of(text, "hires_per_month"), "hiring.hires_per_month", "greater than or equal to 1; got 0"),
        (line_of(text, "interns:"), "roles.mdr.interns.count", "greater than or equal to 0; got -2"),
        (line_of(text, "outsourced:"), "roles.mdr.outsourced.reps", "greater than or equal to 0; got -1"),
        (line_of(text, "count: -4"), "warm_start.pipeline.0.count", "greater than or equal to 0; got -4"),
        (line_of(text, "count: -5"), "warm_start.customers.0.count", "greater than or equal to 0; got -5"),
    ]
    for line, field, message in expected:
        assert f"{path}:{line}: {field}: Input should be {message}" in err, field
    assert len(problem_lines(err)) == len(expected)


def test_wave_month_zero(tmp_path, capsys):
    path, text = write(tmp_path, "hiring:\n  waves:\n    - {month: 0, role: ae, count: 1}\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    line = line_of(text, "month: 0")
    assert f"{path}:{line}: hiring.waves.0.month: Input should be greater than or equal to 1" in err


def test_promotion_cycle(tmp_path, capsys):
    body = "roles:\n  sdr:\n    promotion: {to: ae, after_months: 6}\n  ae:\n    promotion: {to: sdr}\n"
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'to: ae')}: roles.sdr.promotion.to: promotion cycle: sdr → ae → sdr" in err
    assert len(problem_lines(err)) == 1  # one cycle, reported once


def test_longer_promotion_cycle_and_a_self_promotion(tmp_path, capsys):
    body = ("roles:\n"
            "  mdr:\n    promotion: {to: sdr}\n"
            "  sdr:\n    promotion: {to: ae}\n"
            "  ae:\n    promotion: {to: mdr}\n"
            "  csm:\n    promotion: {to: csm}\n")
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert (f"{path}:{line_of(text, 'to: sdr')}: roles.mdr.promotion.to: "
            "promotion cycle: mdr → sdr → ae → mdr") in err
    assert f"{path}:{line_of(text, 'to: csm')}: roles.csm.promotion.to: promotion cycle: csm → csm" in err
    assert len(problem_lines(err)) == 2


def test_promotion_into_a_chain_without_a_cycle_is_valid(tmp_path, capsys):
    body = "roles:\n  mdr:\n    promotion: {to: sdr}\n  sdr:\n    promotion: {to: ae}\n"
    path, _ = write(tmp_path, body)
    code, _ = validate(capsys, path)
    assert code == 0


def test_promotion_to_a_role_that_does_not_exist(tmp_path, capsys):
    path, text = write(tmp_path, "roles:\n  sdr:\n    promotion: {to: aes}\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert (f"{path}:{line_of(text, 'to: aes')}: roles.sdr.promotion.to: role 'aes' does not exist; "
            "defined roles: mdr, sdr, ae, csm; did you mean 'ae'?") in err


def test_outsourced_closers_are_rejected(tmp_path, capsys):
    path, text = write(tmp_path, "roles:\n  ae:\n    outsourced: {reps: 2}\n")
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'outsourced:')}: roles.ae.outsourced: outsourced capacity is for development" in err


def test_warm_start_for_a_segment_that_does_not_exist(tmp_path, capsys):
    body = "warm_start:\n  customers:\n    - {segment: enterprise, count: 5, mrr_usd: 800}\n"
    path, text = write(tmp_path, body)
    code, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}:{line_of(text, 'enterprise')}: warm_start.customers.0.segment: segment 'enterprise'" in err
