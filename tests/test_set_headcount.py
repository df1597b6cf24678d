"""``--set roles.ae.headcount=N`` on every shipped scenario, and where an override's problem is reported.

The ``run --help`` text suggests ``--set roles.ae.headcount=8``: it must work on every file in
``scenarios/`` without retyping ``initial_tenure_months``. The reps beyond the listed tenures start
as new hires (tenure 0, ramping from zero), which validation and ``run`` say as a warning; in a POD
org the new seats are spread over the PODs. A list longer than the headcount is an error located at
the ``--set`` flag or the extending file that caused it, not at the base file's line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.model.world import World
from sim.scenario import load_checked
from sim.scenario.schema import NEW_HIRE_TENURE_MONTHS

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_more_aes_validate_on_every_shipped_scenario(path: Path, capsys) -> None:
    code, out, err = cli(capsys, "validate", path, "--set", "roles.ae.headcount=8")
    assert code == EXIT_OK, err
    assert ": ok (" in out
    assert "--set roles.ae.headcount=8: roles.ae.headcount:" in err
    assert "start as new hires today (tenure 0, ramping from zero)" in err


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_extra_aes_are_new_hires_at_seat_level(path: Path) -> None:
    before = load_checked(path).scenario
    after, warnings = load_checked(path, ["roles.ae.headcount=8"])
    assert after.roles["ae"].headcount == 8
    listed = before.roles["ae"].tenures()
    assert after.roles["ae"].tenures() == listed + [NEW_HIRE_TENURE_MONTHS] * (8 - len(listed))
    world = World(after, seed=1, replication=0)
    world.workforce.start()
    tenures = sorted(rep.tenure0_months for pool in world.pools if pool.name == "ae" for rep in pool.reps)
    assert tenures == sorted(after.roles["ae"].tenures())
    assert sum(1 for rep in (r for p in world.pools if p.name == "ae" for r in p.reps) if rep.is_ramping()) >= 8 - len(
        listed)
    assert warnings


@pytest.mark.parametrize("name", ["pod", "hybrid"])
def test_a_pod_org_spreads_the_new_seats_over_its_pods(name: str, capsys) -> None:
    scenario, warnings = load_checked(ROOT / "scenarios" / f"{name}.yaml", ["roles.ae.headcount=8"])
    assert {pod: spec.composition["ae"] for pod, spec in scenario.org.pods.items()} == {"east": 4, "west": 4}
    assert any("spread over the PODs: east 4, west 4" in str(w) for w in warnings)
    seven, _ = load_checked(ROOT / "scenarios" / f"{name}.yaml", ["roles.ae.headcount=7"])
    assert [spec.composition["ae"] for spec in seven.org.pods.values()] == [4, 3]  # fewest first, in order
    five, _ = load_checked(ROOT / "scenarios" / f"{name}.yaml", ["roles.ae.headcount=5",
                                                                 "roles.ae.initial_tenure_months=12"])
    assert [spec.composition["ae"] for spec in five.org.pods.values()] == [3, 2]  # most first, from the end


def test_compositions_given_with_set_are_not_respread(capsys) -> None:
    code, _, err = cli(capsys, "validate", ROOT / "scenarios" / "pod.yaml", "--set", "roles.ae.headcount=8",
                       "--set", "org.pods.east.composition.ae=4")
    assert code == EXIT_BAD_INPUT
    assert "--set roles.ae.headcount=8: roles.ae.headcount: headcount is 8 but the PODs' compositions hold 7" in err
    code, _, err = cli(capsys, "validate", ROOT / "scenarios" / "pod.yaml", "--set", "roles.ae.headcount=8",
                       "--set", "org.pods.east.composition.ae=5")
    assert code == EXIT_OK
    assert "spread over the PODs" not in err


def test_run_with_more_aes_says_they_are_new_hires(tmp_path: Path, capsys) -> None:
    code, out, err = cli(capsys, "run", ROOT / "scenarios" / "silo.yaml", "--set", "roles.ae.headcount=8",
                         "--set", "horizon_months=1", "--reps", "1", "--workers", "1", "--no-figures",
                         "--out", tmp_path / "res")
    assert code == EXIT_OK, err
    assert "salesim: warning: --set roles.ae.headcount=8" in err
    assert "new hires" in err
    assert "scenario 'silo'" in out


def test_a_longer_tenure_list_names_the_set_flag(capsys) -> None:
    code, out, err = cli(capsys, "validate", ROOT / "scenarios" / "silo.yaml", "--set", "roles.ae.headcount=4")
    assert code == EXIT_BAD_INPUT
    assert out == ""
    [line] = [x.strip() for x in err.splitlines() if x.startswith("  ")]
    assert line.startswith("--set roles.ae.headcount=4: roles.ae: initial_tenure_months lists 6 tenures but "
                           "headcount is 4")
    assert "silo.yaml:" not in err.split("\n", 1)[1]


def test_a_longer_tenure_list_names_the_extending_file(tmp_path: Path, capsys) -> None:
    child = tmp_path / "fewer_aes.yaml"
    child.write_text(f"extends: {ROOT / 'scenarios' / 'silo.yaml'}\nname: fewer_aes\nroles:\n  ae:\n"
                     "    headcount: 4\n", encoding="utf-8")
    code, _, err = cli(capsys, "validate", child)
    assert code == EXIT_BAD_INPUT
    [line] = [x.strip() for x in err.splitlines() if x.startswith("  ")]
    assert line.startswith(f"{child}:4: roles.ae: initial_tenure_months lists 6 tenures")


def test_a_base_file_problem_stays_at_the_base_line(tmp_path: Path, capsys) -> None:
    base = tmp_path / "base.yaml"
    base.write_text((ROOT / "tests" / "data" / "minimal.yaml").read_text().replace(
        "  ae:\n    headcount: 1\n", "  ae:\n    headcount: 1\n    initial_tenure_months: [3, 4]\n"),
        encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\nhorizon_months: 2\n", encoding="utf-8")
    code, _, err = cli(capsys, "validate", child)
    assert code == EXIT_BAD_INPUT
    [line] = [x.strip() for x in err.splitlines() if x.startswith("  ")]
    assert line.startswith(f"{base}:8: roles.ae: initial_tenure_months lists 2 tenures but headcount is 1")


def test_a_segment_no_lead_reaches_is_a_warning(capsys) -> None:
    code, out, err = cli(capsys, "validate", ROOT / "scenarios" / "silo.yaml",
                         "--set", "+segments.enterprise={mrr_usd: 9000}")
    assert code == EXIT_OK
    assert ": ok (" in out
    assert ("salesim: warning: --set +segments.enterprise={mrr_usd: 9000}: segments.enterprise: no lead can reach "
            "segment 'enterprise': it has no positive weight in inbound.segment_mix or outbound.segment_mix") in err


def test_a_segment_in_the_warm_pipeline_is_reachable(capsys) -> None:
    code, _, err = cli(capsys, "validate", ROOT / "scenarios" / "silo.yaml",
                       "--set", "+segments.enterprise={mrr_usd: 9000}",
                       "--set", "warm_start.pipeline=[{stage: sql, segment: enterprise, count: 3}]")
    assert code == EXIT_OK
    assert "no lead can reach" not in err


def test_shipped_scenarios_have_no_warnings(capsys) -> None:
    code, _, err = cli(capsys, "validate", *SHIPPED)
    assert code == EXIT_OK
    assert err == ""
