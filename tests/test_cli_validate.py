"""``salesim validate`` and ``salesim schema``: every bad input is located and explained, exit 2.

Each bad file is ``tests/data/minimal.yaml`` with one deliberate change; the expected line is
computed from the text written, never hard-coded. A problem is printed as
``  <file>:<line>: <dotted.path>: <message>`` under a ``<file>: N problems`` header.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK

Replacement = tuple[str, str]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the ``occurrence``-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} occurs on {len(hits)} lines"
    return hits[occurrence - 1]


def validate(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Run ``salesim validate ARGS`` in-process; return (exit code, stdout, stderr)."""
    code = main(["validate", *(str(a) for a in args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def problems(err: str) -> list[str]:
    """The problem lines of validate's stderr (indented under the per-file header)."""
    return [line.strip() for line in err.splitlines() if line.startswith("  ")]


def the_problem(err: str, file: object, line: int | None, paths: tuple[str, ...]) -> str:
    """The single problem located at ``file:line`` with one of the dotted ``paths``."""
    where = f"{file}:{line}: " if line is not None else f"{file}: "
    prefixes = [where + (f"{p}: " if p else "") for p in paths]
    found = [p for p in problems(err) if any(p.startswith(x) for x in prefixes)]
    assert len(found) == 1, f"expected one problem starting with {prefixes}, stderr was:\n{err}"
    return found[0]


# One deliberate problem each: (replacements, line needle, accepted dotted paths, message fragments).
CASES: dict[str, tuple[list[Replacement], str, tuple[str, ...], list[str]]] = {
    "wrong_type": (
        [("  ae:\n    headcount: 1", "  ae:\n    headcount: many")],
        "headcount: many", ("roles.ae.headcount",), ["integer", "'many'"],
    ),
    "probability_above_one": (
        [("leakage_probability: 0.05", "leakage_probability: 1.5")],
        "leakage_probability", ("handoff.leakage_probability",), ["less than or equal to 1", "1.5"],
    ),
    "probability_below_zero": (
        [("qualify_probability: 0.3", "qualify_probability: -0.1")],
        "qualify_probability", ("inbound.qualify_probability",), ["greater than or equal to 0", "-0.1"],
    ),
    "unknown_distribution": (
        [("gap_days: {dist: exponential, mean: 7}", "gap_days: {dist: weird, mean: 7}")],
        "dist: weird",
        ("segments.smb.opportunity.gap_days", "segments.smb.opportunity.gap_days.dist"),
        ["'weird'", "lognormal", "exponential"],  # the bad name and the choices
    ),
    "unknown_role": (
        [("closed_by: ae", "closed_by: fae")],
        "closed_by: fae", ("segments.smb.closed_by",), ["role 'fae' does not exist", "did you mean 'ae'"],
    ),
    "unknown_segment": (
        [("segment_mix: {smb: 1.0}", "segment_mix:\n    smb: 0.5\n    enterprise: 0.5")],
        "enterprise:", ("inbound.segment_mix.enterprise",), ["segment 'enterprise' does not exist", "smb"],
    ),
    "segment_mix_above_one": (  # weights are shares: refused, not normalised
        [("segment_mix: {smb: 1.0}", "segment_mix: {smb: 0.7, mid: 0.4}"),
         ("segments:\n", "segments:\n  mid: {mrr_usd: 2000}\n")],
        "segment_mix:", ("inbound.segment_mix",), ["must sum to 1", "sum to 1.1", "write 0.6 for 60%",
                                                    "smb: 0.636, mid: 0.364"],
    ),
    "segment_mix_in_percent": (
        [("segment_mix: {smb: 1.0}", "segment_mix: {smb: 60, mid: 40}"),
         ("segments:\n", "segments:\n  mid: {mrr_usd: 2000}\n")],
        "segment_mix:", ("inbound.segment_mix",), ["sum to 100", "as fractions: smb: 0.6, mid: 0.4"],
    ),
    "region_mix_not_one": (
        [("customers:\n", "market:\n  regions: {east: 0.5, west: 0.4}\ncustomers:\n")],
        "regions:", ("market.regions",), ["region weights", "sum to 0.9"],
    ),
    "industry_mix_zero": (
        [("customers:\n", "market:\n  industries: {saas: 0, retail: 0}\ncustomers:\n")],
        "industries:", ("market.industries",), ["industry weights", "all zero"],
    ),
    "distribution_as_text": (  # a number with its unit written out: say what is allowed
        [("leakage_probability: 0.05", "leakage_probability: 0.05\n  delay_days: 1.5 days")],
        "delay_days:", ("handoff.delay_days",), ["expected a number of days", "{dist: NAME, ...}", "lognormal",
                                                 "got '1.5 days'"],
    ),
    "distribution_as_list": (
        [("gap_days: {dist: exponential, mean: 7}", "gap_days: [5, 9]")],
        "gap_days:", ("segments.smb.opportunity.gap_days",), ["expected a number of days", "got a list"],
    ),
    "distribution_as_boolean": (
        [("mrr_usd: {dist: lognormal, median: 800, sigma: 0.5}", "mrr_usd: yes")],
        "mrr_usd:", ("segments.smb.mrr_usd",), ["expected an amount in USD", "empirical", "got true"],
    ),
    "ramp_as_text": (
        [("    dials_per_day: 60", "    dials_per_day: 60\n    ramp: fast")],
        "ramp: fast", ("roles.mdr.ramp",), ["list of productivities by month", "{form: linear, months: N}",
                                           "got 'fast'"],
    ),
    "duplicate_key": (
        [("  qualify_probability: 0.3\n", "  qualify_probability: 0.3\n  qualify_probability: 0.4\n")],
        "qualify_probability: 0.4", ("inbound.qualify_probability",), ["duplicate key 'qualify_probability'"],
    ),
    "unknown_distribution_in_block_style": (  # points at the dist line, not the mapping's
        [("gap_days: {dist: exponential, mean: 7}", "gap_days:\n        dist: weird\n        mean: 7")],
        "dist: weird", ("segments.smb.opportunity.gap_days.dist",), ["'weird'"],
    ),
    "yaml_syntax_error": (
        [("qualify_probability: 0.3", "qualify_probability: 0.3: x")],
        "qualify_probability: 0.3: x", ("",), ["YAML syntax error"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_input_is_located(case: str, variant, capsys) -> None:
    replacements, needle, paths, fragments = CASES[case]
    path, text = variant(f"{case}.yaml", *replacements)
    code, out, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert f"{path}: 1 problem" in err
    assert len(problems(err)) == 1, err
    message = the_problem(err, path, line_of(text, needle), paths)
    for fragment in fragments:
        assert fragment in message


def test_duplicate_key_names_the_first_definition(variant, capsys) -> None:
    replacements, needle, _, _ = CASES["duplicate_key"]
    path, text = variant("dup.yaml", *replacements)
    _, _, err = validate(capsys, path)
    first = line_of(text, "qualify_probability: 0.3")
    message = the_problem(err, path, line_of(text, needle), ("inbound.qualify_probability",))
    assert f"line {first}" in message


# A misspelt field: the unknown name is located and the close one suggested. Each case:
# (replacements, expected problems as (line needle, accepted dotted paths, message fragments),
# problems in all, None: not checked).
TYPOS = [
    pytest.param(
        [("  mdr:\n    headcount: 1", "  mdr:\n    headcout: 1")],
        [("headcout:", ("roles.mdr.headcout",), ["unknown field 'headcout'", "did you mean 'headcount'?"]),
         # the typo also leaves the required headcount missing: reported on the role's own line
         ("  mdr:", ("roles.mdr.headcount",), ["required"])],
        2, id="unknown_key"),
    pytest.param(
        [("median: 800, sigma: 0.5", "median: 800, sigmaa: 0.5")],
        [("sigmaa", ("segments.smb.mrr_usd.sigmaa",), ["did you mean 'sigma'?"])],
        None, id="unknown_distribution_field"),
]


@pytest.mark.parametrize(("replacements", "expected", "count"), TYPOS)
def test_a_misspelt_field_suggests_the_close_name(replacements, expected, count, variant, capsys) -> None:
    path, text = variant("typo.yaml", *replacements)
    code, out, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    for needle, paths, fragments in expected:
        message = the_problem(err, path, line_of(text, needle), paths)
        for fragment in fragments:
            assert fragment in message
    if count is not None:
        assert len(problems(err)) == count, err


def test_missing_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "nowhere.yaml"
    code, out, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert "not found" in the_problem(err, path, None, ("",))


def test_every_problem_of_a_file_is_reported_at_once(variant, capsys) -> None:
    chosen = ["wrong_type", "probability_above_one", "unknown_distribution", "unknown_role",
              "unknown_segment", "duplicate_key"]
    replacements = [r for case in chosen for r in CASES[case][0]]
    path, text = variant("many.yaml", *replacements)
    code, _, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert f"{path}: {len(chosen)} problems" in err
    assert len(problems(err)) == len(chosen), err
    for case in chosen:
        _, needle, paths, fragments = CASES[case]
        message = the_problem(err, path, line_of(text, needle), paths)
        for fragment in fragments:
            assert fragment in message


def test_valid_file_exits_0_and_prints_ok(minimal_path: Path, capsys) -> None:
    code, out, err = validate(capsys, minimal_path)
    assert code == EXIT_OK
    assert err == ""
    assert out.startswith(f"{minimal_path}: ok")
    assert "'minimal'" in out


def test_good_and_bad_files_together(minimal_path: Path, variant, capsys) -> None:
    bad, _ = variant("bad.yaml", *CASES["unknown_role"][0])
    code, out, err = validate(capsys, minimal_path, bad)
    assert code == EXIT_BAD_INPUT
    assert f"{minimal_path}: ok" in out
    assert f"{bad}: 1 problem" in err
    assert str(minimal_path) + ":" not in err


@pytest.mark.parametrize(("override", "fragments"), [
    pytest.param("roles.ae.headcount=lots", ["roles.ae.headcount", "'lots'"], id="bad_value"),
    pytest.param("roles.ae.headcount", ["PATH=VALUE"], id="without_equals"),
])
def test_bad_set_override_is_reported_as_set(minimal_path: Path, capsys, override: str,
                                             fragments: list[str]) -> None:
    code, out, err = validate(capsys, minimal_path, "--set", override)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    [message] = problems(err)
    assert message.startswith("--set")
    for fragment in fragments:
        assert fragment in message


def test_set_override_with_good_value_is_ok(minimal_path: Path, capsys) -> None:
    code, out, _ = validate(capsys, minimal_path, "--set", "roles.ae.headcount=4")
    assert code == EXIT_OK
    assert "6 reps" in out  # 1 mdr + 4 ae + 1 csm


def _child(tmp_path: Path, minimal_path: Path, ae_headcount: str) -> tuple[Path, str]:
    text = (f"extends: {minimal_path.resolve()}\n"
            "name: child\n"
            "roles:\n"
            "  ae:\n"
            f"    headcount: {ae_headcount}\n")
    path = tmp_path / "child.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_extends_error_in_child_points_at_the_child(tmp_path: Path, minimal_path: Path, capsys) -> None:
    path, text = _child(tmp_path, minimal_path, "many")
    code, _, err = validate(capsys, path)
    assert code == EXIT_BAD_INPUT
    assert len(problems(err)) == 1, err
    message = the_problem(err, path, line_of(text, "headcount: many"), ("roles.ae.headcount",))
    assert "'many'" in message
    assert str(minimal_path) not in err


def test_extends_valid_child(tmp_path: Path, minimal_path: Path, capsys) -> None:
    path, _ = _child(tmp_path, minimal_path, "3")
    code, out, _ = validate(capsys, path)
    assert code == EXIT_OK
    assert "'child'" in out
    assert "3 months, 5 reps" in out  # base horizon; 1 mdr + 3 ae + 1 csm


@pytest.mark.integration
def test_console_script_exits_2_without_traceback(variant) -> None:
    chosen = ["wrong_type", "unknown_role"]
    path, text = variant("script.yaml", *[r for case in chosen for r in CASES[case][0]])
    script = Path(sys.executable).parent / "salesim"
    assert script.exists(), f"console script not installed next to {sys.executable}"
    proc = subprocess.run([str(script), "validate", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert f"{path}: 2 problems" in proc.stderr
    for case in chosen:
        _, needle, paths, _ = CASES[case]
        the_problem(proc.stderr, path, line_of(text, needle), paths)


def test_schema_prints_json(capsys) -> None:
    assert main(["schema"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert err == ""
    schema = json.loads(out)
    assert {"roles", "segments", "inbound", "extends"} <= set(schema["properties"])
