"""Nothing accepted that cannot run: the inputs that used to validate and then fail, hang, fill
memory or silently do something else are refused with the file, line or flag — or run, with a
warning where they are legal but probably not meant (issue 28).

Everything goes through :func:`sim.cli.main` in-process on ``tests/data/minimal.yaml`` variants.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.scenario import ScenarioError, ScenarioWarning, load_checked, scenario_from_dict
from sim.scenario import limits as lim

SILO = Path(__file__).resolve().parents[1] / "scenarios" / "silo.yaml"


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """``salesim ARGS`` in-process: (exit code, stdout, stderr); an argparse error is exit 2 too."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def refused(capsys, path: Path, *needles: str, extra: tuple[str, ...] = ()) -> str:
    code, _out, err = cli(capsys, "validate", path, *extra)
    assert code == EXIT_BAD_INPUT, err
    for needle in needles:
        assert needle in err, err
    return err


# --------------------------------------------------------------------------- values the model cannot run


@pytest.mark.parametrize(("old", "new", "path", "fragment"), [
    ("mqls_per_month: 40", "mqls_per_month: .inf", "inbound.mqls_per_month", "finite"),
    ("mqls_per_month: 40", "mqls_per_month: 40\n  growth_per_month: .inf", "inbound.growth_per_month", "finite"),
    ("mqls_per_month: 40", "mqls_per_month: 40\n  growth_per_month: 5", "inbound.growth_per_month", "less than"),
    ("mqls_per_month: 40", "mqls_per_month: 40\n  response_minutes: {dist: lognormal, median: .inf, sigma: 1}",
     "inbound.response_minutes.median", "finite"),
    ("sigma: 0.5}", "sigma: 1.0e+15}", "segments.smb.mrr_usd.sigma", "less than or equal to 3"),
    ("gap_days: {dist: exponential, mean: 7}", "gap_days: {dist: lognormal, median: 1.0e+11, sigma: 3}",
     "segments.smb.opportunity.gap_days", "draws values"),
    ("mrr_usd: {dist: lognormal, median: 800, sigma: 0.5}", "mrr_usd: -800", "segments.smb.mrr_usd",
     "cannot be negative (got -800)"),
    ("gap_days: {dist: exponential, mean: 7}", "gap_days: {dist: constant, value: -3}",
     "segments.smb.opportunity.gap_days", "cannot be negative"),
    ("gap_days: {dist: exponential, mean: 7}", "gap_days: {dist: normal, mean: 7, sd: 3}",
     "segments.smb.opportunity.gap_days", "min: 0"),
    ("horizon_months: 3", "horizon_months: true", "horizon_months", "boolean"),
    ("headcount: 1\n    dials_per_day: 60", "headcount: true\n    dials_per_day: 60", "roles.mdr.headcount", "boolean"),
    ("segment_mix: {smb: 1.0}", "segment_mix: {}", "inbound.segment_mix", "at least 1"),
    ("dials_per_day: 60", "dials_per_day: 60\n    ramp: []", "roles.mdr.ramp", "at least 1"),
    ("dials_to_connect: {dist: uniform_int, low: 10, high: 15}",
     "dials_to_connect: {dist: uniform_int, low: 0, high: 0}",
     "inbound.dials_to_connect", "at least 1 dial"),
    ("dials_per_day: 60", "dials_per_day: 60\n    initial_tenure_months: 4000", "roles.mdr",
     "between 0 and 600"),
    ("dials_per_day: 60", "dials_per_day: 60\n    tenure_months: 0", "roles.mdr", "within 0.25 months"),
    ("mqls_per_month: 40", "mqls_per_month: 2000000", "inbound.mqls_per_month", "less than or equal to 1000000"),
    ("mqls_per_month: 40", "mqls_per_month: 900000\n  growth_per_month: 0.2", "inbound.mqls_per_month",
     "reaches"),
])
def test_a_value_the_model_cannot_use_is_refused_at_its_line(capsys, variant, old, new, path, fragment) -> None:
    file, text = variant("bad.yaml", (old, new))
    err = refused(capsys, file, path, fragment)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if new.splitlines()[-1].strip() in row)
    assert f"bad.yaml:{line}:" in err or "bad.yaml:" in err


def test_dated_things_after_the_horizon_are_refused(capsys, variant) -> None:
    file, _ = variant("late.yaml", ("customers:\n  managed_by: csm", "customers:\n  managed_by: csm\n"
                                    "hiring:\n  waves: [{month: 7, role: ae, count: 1}]\n  targets: {csm: {9: 2}}\n"
                                    "warm_start:\n  customers: [{segment: smb, count: 3, mrr_usd: 900, "
                                    "age_months: 100000}]"))
    err = refused(capsys, file, "hiring.waves.0.month: the wave's month 7 is after the horizon (3 months)",
                  "hiring.targets.csm.9", "warm_start.customers.0.age_months")
    # a horizon shortened by --set turns them into warnings (a quick run of a dated plan)
    code, _out, err = cli(capsys, "validate", file, "--set", "horizon_months=3", "--set",
                         "warm_start.customers.0.age_months=12")
    assert code == EXIT_OK, err
    assert "warning:" in err and "the horizon comes from --set" in err


def test_a_million_hires_is_an_error_not_a_hang(capsys, variant) -> None:
    file, _ = variant("wave.yaml", ("customers:\n  managed_by: csm",
                                    "customers:\n  managed_by: csm\nhiring:\n  waves: [{month: 2, role: ae, "
                                    "count: 9000}, {month: 3, role: ae, count: 9000}]"))
    refused(capsys, file, "roles.ae: role 'ae' would have up to 18,001 reps", "at most 10,000")
    file, _ = variant("million.yaml", ("customers:\n  managed_by: csm",
                                       "customers:\n  managed_by: csm\nhiring:\n  waves: [{month: 2, role: ae, "
                                       "count: 1000000}]"))
    refused(capsys, file, "hiring.waves.0.count")


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "a\\\\b", "nul", "x" * 65, ""])
def test_a_scenario_name_is_a_safe_folder_name(capsys, variant, name) -> None:
    file, _ = variant("named.yaml", ("name: minimal", f'name: "{name}"'))
    refused(capsys, file, "named.yaml:2: name:")


def test_a_dotdot_scenario_cannot_write_outside_out(capsys, variant, tmp_path, monkeypatch) -> None:
    file, _ = variant("dotdot.yaml", ("name: minimal", 'name: ".."'))
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", file, "--reps", "1", "--workers", "1", "--no-progress")
    assert code == EXIT_BAD_INPUT and "name" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dotdot.yaml"]


def test_oversized_and_endless_files_are_refused_before_reading(capsys, tmp_path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(lim.MAX_SCENARIO_BYTES + 1)
    refused(capsys, big, "big.yaml: the file has 8.0 MiB; a scenario file has at most 8 MiB")
    if Path("/dev/zero").exists():
        refused(capsys, Path("/dev/zero"), "/dev/zero: the file does not end")


# --------------------------------------------------------------------------- --set into maps of names


@pytest.mark.parametrize(("override", "fragment"), [
    ("roles.AE.headcount=8", "role 'AE' does not exist (roles: mdr, sdr, ae, csm); did you mean 'ae'?"),
    ("roles.vp.headcount=1", "role 'vp' does not exist (roles: mdr, sdr, ae, csm). To add a new role, "
                             "write --set '+roles.vp.headcount=1'"),
    ("segments.SMB.mrr_usd=900", "segment 'SMB' does not exist"),
    ("market.regions.nroth=1", "region 'nroth' does not exist (market.regions: east, west); did you mean 'north'"),
    ("org.pods.east.composition.ae=1", "POD 'east' does not exist (org.pods: none)"),
])
def test_set_refuses_a_name_that_does_not_exist(capsys, override, fragment) -> None:
    if "nroth" in override:
        fragment = "region 'nroth' does not exist (market.regions: east, west)"
    err = refused(capsys, SILO, "--set: ", fragment, extra=("--set", override))
    assert err.count("--set: ") == 1


def test_set_with_a_plus_adds_a_name_and_fields_need_none(capsys) -> None:
    code, _out, err = cli(capsys, "validate", SILO, "--set", "+roles.vp={headcount: 1, monthly_cost_usd: 20000}",
                         "--set", "roles.ae.manager.span=6", "--set", "+market.regions.north=0")
    assert code == EXIT_OK, err
    scenario = sim.load_scenario(SILO, ["+roles.vp.headcount=1", "roles.ae.manager.span=6"])
    assert scenario.roles["vp"].headcount == 1 and scenario.roles["ae"].manager.span == 6
    err = refused(capsys, SILO, "unknown field 'headcont'", "did you mean 'headcount'",
                  extra=("--set", "roles.ae.headcont=3"))


# --------------------------------------------------------------------------- warnings


def test_a_role_leads_wait_for_with_no_rep_is_a_warning_not_an_error(capsys, variant, tmp_path) -> None:
    file, _ = variant("no_ae.yaml", ("headcount: 1\n    max_open_opportunities: 10",
                                     "headcount: 0\n    max_open_opportunities: 10"))
    code, out, err = cli(capsys, "validate", file)
    assert code == EXIT_OK
    assert "no_ae.yaml: ok" in out
    [warning] = [line for line in err.splitlines() if "warning:" in line]
    assert warning.startswith("salesim: warning: ") and "no_ae.yaml:" in warning
    assert "roles.ae.headcount: role 'ae' closes deals but has headcount 0 and no hiring" in warning
    code, out, err = cli(capsys, "run", file, "--reps", "1", "--workers", "1", "--out", tmp_path / "r",
                         "--no-progress")
    assert code == EXIT_OK and "closes deals but has headcount 0" in err and "1 warning(s)" in err
    with pytest.warns(ScenarioWarning, match="headcount 0"):
        sim.load_scenario(file)
    # hiring that fills the role is no warning (a promotion into it would be an error: no seat to fill)
    assert load_checked(file, ["hiring.waves=[{month: 2, role: ae, count: 1}]"]).warnings == []


def test_shipped_scenarios_validate_without_warnings() -> None:
    for path in sorted(SILO.parent.glob("*.yaml")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sim.load_scenario(path)


# --------------------------------------------------------------------------- resources


def test_reps_and_workers_are_capped_with_a_message(capsys, tmp_path) -> None:
    from sim.runs.executors import max_workers

    code, _, err = cli(capsys, "run", SILO, "--reps", "100000000000", "--out", tmp_path / "x")
    assert code == EXIT_BAD_INPUT and "argument --reps: at most 100,000 replications" in err
    code, _, err = cli(capsys, "run", SILO, "--workers", "999", "--out", tmp_path / "x")
    assert code == EXIT_BAD_INPUT
    assert "--workers 999 is more than this machine can use" in err and "--scheduler" in err
    assert f"at most {max_workers()} local workers" in err
    code, _, err = cli(capsys, "plan", "--scenario", SILO, "--annual-revenue", "2e6", "--simulate", "--reps",
                       "100000000000")
    assert code == EXIT_BAD_INPUT and "--reps must be at most 100,000" in err
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="at most 100,000"):
        sim.run(sim.load_scenario(SILO), reps=100_000_000_000)
    with pytest.raises(Exception, match="at most"):
        sim.run(sim.load_scenario(SILO), reps=1, workers=999)


def test_plan_refuses_a_target_that_needs_more_reps_than_a_scenario_holds(capsys) -> None:
    code, _, err = cli(capsys, "plan", "--scenario", SILO, "--annual-revenue", "1e30")
    assert code == EXIT_BAD_INPUT
    assert "reps; a scenario holds at most 10,000 of a role" in err
    code, _out, err = cli(capsys, "plan", "--scenario", SILO, "--annual-revenue", "1.7e308")
    assert code == EXIT_BAD_INPUT


def test_scenario_from_dict_refuses_what_the_file_would(tmp_path) -> None:
    data = {"name": "x", "roles": {"ae": {"headcount": 1, "max_open_opportunities": 5}},
            "segments": {"s": {"mrr_usd": 100}},
            "inbound": {"mqls_per_month": float("nan"), "segment_mix": {"s": 1}, "worked_by": "ae",
                        "qualify_probability": 0.5}}
    with pytest.raises(ScenarioError, match="finite"):
        scenario_from_dict(data)
