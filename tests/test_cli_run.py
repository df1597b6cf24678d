"""``salesim run``: the results folder, determinism across workers, reuse and refusal to clobber.

Everything runs ``tests/data/minimal.yaml`` (3 months, 3 reps) in-process through
:func:`sim.cli.main`, so each run takes well under a second.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim
from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.compiled import describe
from sim.metrics import KPI_NAMES
from sim.runs.store import SUMMARY_CSV_COLUMNS

REPS = 3
SEED = 11
ROLES = ("mdr", "ae", "csm")
ORG_SERIES = ("mrr_usd", "new_mrr_usd", "expansion_mrr_usd", "churned_mrr_usd", "customers", "mqls",
              "sqls", "wins")
ROLE_SERIES = ("headcount", "capacity_fte", "utilization", "backlog")
TABLES = ("replications.parquet", "timeseries.parquet")
MINIMAL = Path(__file__).parent / "data" / "minimal.yaml"


def run_args(scenario: Path, out: Path | None, *extra: str, reps: int = REPS, seed: int = SEED,
             workers: int = 1, figures: bool = False) -> list[str]:
    args = ["run", str(scenario), "--reps", str(reps), "--seed", str(seed), "--workers", str(workers),
            "--no-progress", *([] if figures else ["--no-figures"])]
    if out is not None:
        args += ["--out", str(out)]
    return args + list(extra)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``salesim ARGS`` in-process: (exit code, stdout, stderr); never a traceback."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every file below ``folder``."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return tuple(pd.read_parquet(folder / name) for name in TABLES)  # type: ignore[return-value]


def copy_of(finished: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the finished run's folder (the same command as :func:`run_args` gives, plus figures),
    for a test that runs again into it."""
    out = tmp_path / "res"
    shutil.copytree(finished[0], out, symlinks=True)
    return out


def assert_one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("salesim: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One finished run of the minimal scenario: (results folder, stdout). Read-only for tests."""
    out = tmp_path_factory.mktemp("finished") / "results"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(run_args(MINIMAL, out, figures=True))
    assert code == EXIT_OK
    return out, stdout.getvalue()


# --------------------------------------------------------------------------- the results folder


def test_manifest(finished: tuple[Path, str], minimal_path: Path) -> None:
    out, _ = finished
    manifest = json.loads((out / "manifest.json").read_text())
    scenario = sim.load_scenario(minimal_path)
    assert manifest["status"] == "complete"
    assert manifest["scenario"] == scenario.resolved()
    assert manifest["scenario_sha256"] == scenario.sha256()
    assert manifest["seed"] == SEED
    assert manifest["reps_requested"] == REPS
    assert manifest["failures"] == []
    assert {"python", "salesim", "numpy", "simpy", "pandas"} <= set(manifest["versions"])
    assert manifest["versions"]["salesim_core"] == describe()  # which build ran: compiled or pure Python


def test_replications_table(finished: tuple[Path, str]) -> None:
    kpis, _ = read_tables(finished[0])
    assert list(kpis.columns) == ["rep", *KPI_NAMES]
    assert kpis["rep"].tolist() == list(range(REPS))


def test_timeseries_table(finished: tuple[Path, str]) -> None:
    _, ts = read_tables(finished[0])
    assert list(ts.columns) == ["rep", "month", "series", "value"]
    assert set(ts["rep"]) == set(range(REPS))
    assert set(ts["month"]) == set(range(4))  # months 0..3
    expected = set(ORG_SERIES) | {f"{s}.{r}" for s in ROLE_SERIES for r in ROLES}
    assert expected <= set(ts["series"])
    assert not ts.duplicated(["rep", "month", "series"]).any()
    # Stocks start at month 0; flows are reported from month 1.
    mrr = ts[ts["series"] == "mrr_usd"]
    assert sorted(mrr["month"].unique()) == [0, 1, 2, 3]
    assert ts[(ts["series"] == "wins")]["month"].min() == 1


def test_summary_csv(finished: tuple[Path, str]) -> None:
    kpis, _ = read_tables(finished[0])
    summary = pd.read_csv(finished[0] / "summary.csv")
    assert tuple(summary.columns) == SUMMARY_CSV_COLUMNS
    assert list(summary.columns) == ["metric", "mean", "sd", "ci95_low", "ci95_high", "p10", "p50", "p90"]
    assert summary["metric"].tolist() == list(KPI_NAMES)
    means = summary.set_index("metric")["mean"]
    for name in KPI_NAMES:  # the summary describes the replications actually stored
        np.testing.assert_allclose(means[name], kpis[name].mean(), rtol=1e-12, equal_nan=True)


def test_printed_table_labels_every_kpi_with_its_unit(finished: tuple[Path, str]) -> None:
    from sim.present.text import KPI_LABELS

    _, stdout = finished
    assert f"{REPS} replications, seed {SEED}" in stdout
    assert set(KPI_LABELS) == {n for n in KPI_NAMES if not n.startswith("leads_")}
    flat = " ".join(stdout.split())  # a KPI undefined in every replication is named in a wrapped line
    for label in KPI_LABELS.values():
        assert label in flat
    for unit in ("(USD)", "(days)", "(hours)", "(%)", "(count)"):
        assert unit in stdout


def test_run_says_how_leads_ended_and_how_busy_each_role_was(finished: tuple[Path, str]) -> None:
    """A silo prints the lead end states (mean per replication, share) and a per-role table."""
    out, stdout = finished
    kpis, _ = read_tables(out)
    assert "how the leads ended" in stdout
    lines = {line.split("  ")[0].strip(): line for line in stdout.splitlines()}
    won = lines["won"].split()
    assert float(won[1].replace(",", "")) == pytest.approx(kpis["leads_won"].mean(), abs=0.05)
    total = sum(kpis[n].mean() for n in KPI_NAMES if n.startswith("leads_"))
    assert won[2] == f"{100 * kpis['leads_won'].mean() / total:.1f}%"
    assert "all leads" in lines
    assert "ramped capacity (FTE)" in stdout
    for role in ROLES:
        assert role in lines and lines[role].rstrip().endswith("%")


def test_run_writes_its_figures_unless_told_not_to(finished: tuple[Path, str], tmp_path: Path, capsys) -> None:
    out, stdout = finished
    for name in ("mrr_fan.png", "funnel.png", "capacity_demand.png"):
        assert (out / name).stat().st_size > 10_000
        assert str(out / name) in stdout
    code = main(run_args(MINIMAL, tmp_path / "bare"))
    assert code == EXIT_OK
    assert "figures:" not in capsys.readouterr().out
    assert not list((tmp_path / "bare").glob("*.png"))


def test_default_out_folder_is_results_slash_scenario_name(tmp_path: Path, minimal_path: Path,
                                                           monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(minimal_path, tmp_path / "copy.yaml")  # file stem differs from the scenario name
    code, _, _ = run(capsys, *run_args(Path("copy.yaml"), None, reps=1))
    assert code == EXIT_OK
    manifest = json.loads((tmp_path / "results" / "minimal" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert not (tmp_path / "results" / "copy").exists()


# --------------------------------------------------------------------------- determinism and reuse


def test_workers_do_not_change_the_numbers(tmp_path: Path, minimal_path: Path, capsys) -> None:
    reps = 4  # with 2 workers: one replication per task, finishing in any order
    assert run(capsys, *run_args(minimal_path, tmp_path / "w1", reps=reps, workers=1))[0] == EXIT_OK
    assert run(capsys, *run_args(minimal_path, tmp_path / "w2", reps=reps, workers=2))[0] == EXIT_OK
    for one, two in zip(read_tables(tmp_path / "w1"), read_tables(tmp_path / "w2"), strict=True):
        assert_frame_equal(one, two, check_exact=True)


def test_rerun_reuses_stored_replications(finished: tuple[Path, str], tmp_path: Path, minimal_path: Path,
                                          monkeypatch, capsys) -> None:
    out = copy_of(finished, tmp_path)
    args = run_args(minimal_path, out)
    before = read_tables(out)
    chunks = snapshot(out / "chunks")

    def must_not_simulate(*_args, **_kwargs):
        raise AssertionError("a stored replication was simulated again")

    monkeypatch.setattr("sim.runs.monte_carlo.run_chunk", must_not_simulate)
    code, stdout, _ = run(capsys, *args)
    assert code == EXIT_OK
    assert "first-year revenue (USD)" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["reps_requested"] == REPS
    for old, new in zip(before, read_tables(out), strict=True):
        assert_frame_equal(old, new, check_exact=True)
    assert snapshot(out / "chunks") == chunks


def test_more_reps_computes_only_the_missing_ones(finished: tuple[Path, str], tmp_path: Path, minimal_path: Path,
                                                  monkeypatch, capsys) -> None:
    from sim.runs import monte_carlo

    out = copy_of(finished, tmp_path)
    first = read_tables(out)
    computed: list[int] = []
    real = monte_carlo.run_chunk

    def recording(data, seed, reps):
        computed.extend(reps)
        return real(data, seed, reps)

    monkeypatch.setattr(monte_carlo, "run_chunk", recording)
    assert run(capsys, *run_args(minimal_path, out, reps=REPS + 2))[0] == EXIT_OK
    assert computed == [REPS, REPS + 1]
    kpis, ts = read_tables(out)
    assert kpis["rep"].tolist() == list(range(REPS + 2))
    assert set(ts["rep"]) == set(range(REPS + 2))
    assert_frame_equal(kpis[kpis["rep"] < REPS].reset_index(drop=True), first[0], check_exact=True)
    assert json.loads((out / "manifest.json").read_text())["reps_requested"] == REPS + 2


# --------------------------------------------------------------------------- refusing to clobber


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (("--set", "roles.ae.headcount=2"), "different scenario"),
        (("--seed", str(SEED + 1)), f"seed {SEED}"),
    ],
    ids=["other_scenario", "other_seed"],
)
def test_folder_of_other_results_is_left_untouched(extra: tuple[str, str], fragment: str,
                                                   finished: tuple[Path, str], tmp_path: Path,
                                                   minimal_path: Path, capsys) -> None:
    out = copy_of(finished, tmp_path)
    before = snapshot(out)
    code, stdout, err = run(capsys, *run_args(minimal_path, out), *extra)  # a later --seed wins
    assert code == EXIT_BAD_INPUT
    assert stdout == ""
    assert_one_line_error(err, str(out), fragment, "--overwrite")
    assert snapshot(out) == before


def test_overwrite_replaces_other_results(finished: tuple[Path, str], tmp_path: Path, minimal_path: Path,
                                          capsys) -> None:
    out = copy_of(finished, tmp_path)
    old_kpis, _ = read_tables(out)
    override = "roles.ae.headcount=2"
    code, _, _ = run(capsys, *run_args(minimal_path, out, "--set", override, "--overwrite"))
    assert code == EXIT_OK
    manifest = json.loads((out / "manifest.json").read_text())
    changed = sim.load_scenario(minimal_path, [override])
    assert manifest["scenario_sha256"] == changed.sha256()
    assert manifest["scenario"]["roles"]["ae"]["headcount"] == 2
    assert manifest["status"] == "complete"
    new_kpis, _ = read_tables(out)
    assert new_kpis["rep"].tolist() == list(range(REPS))
    assert not new_kpis.equals(old_kpis)


# --------------------------------------------------------------------------- bad arguments


def test_zero_workers_is_bad_input(tmp_path: Path, minimal_path: Path, capsys) -> None:
    out = tmp_path / "res"
    code, stdout, err = run(capsys, *run_args(minimal_path, out, workers=0))
    assert code == EXIT_BAD_INPUT
    assert stdout == ""
    assert_one_line_error(err, "--workers", "0")
    assert not out.exists()


def test_unwritable_out_is_bad_input(tmp_path: Path, minimal_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / "afile" / "sub"
    code, stdout, err = run(capsys, *run_args(minimal_path, out))
    assert code == EXIT_BAD_INPUT
    assert stdout == ""
    assert_one_line_error(err, str(out))
    assert (tmp_path / "afile").read_text() == "not a folder"


@pytest.mark.parametrize("extra", [(), ("--overwrite",)], ids=["plain", "overwrite"])
def test_out_that_is_a_file_is_bad_input(extra: tuple[str, ...], tmp_path: Path, minimal_path: Path,
                                         capsys) -> None:
    out = tmp_path / "afile"
    out.write_text("not a folder")
    code, _, err = run(capsys, *run_args(minimal_path, out, *extra))
    assert code == EXIT_BAD_INPUT
    assert_one_line_error(err, str(out))
    assert out.read_text() == "not a folder"


def test_bad_scenario_is_bad_input(variant, capsys) -> None:
    path, _ = variant("bad.yaml", ("closed_by: ae", "closed_by: fae"))
    code, stdout, err = run(capsys, *run_args(path, path.parent / "res"))
    assert code == EXIT_BAD_INPUT
    assert stdout == ""
    assert str(path) in err
    assert "segments.smb.closed_by" in err
    assert not (path.parent / "res").exists()
