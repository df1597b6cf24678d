"""A results folder heals: unreadable chunks are moved aside and recomputed, one run at a time
holds a folder, temporary files belong to their writer, symbolic links are neither followed nor a
crash — and every run ends with tables identical to an uninterrupted run (issue 28).

In-process, on ``tests/data/minimal.yaml`` (3 months, well under a second a run); the same faults
against real processes (SIGTERM, kill -9, two commands at once) are in ``tests/fuzz/test_faults.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from sim.runs.store import LOCK, FolderBusyError, FolderLock

MINIMAL = Path(__file__).parent / "data" / "minimal.yaml"
REPS = 4  # chunks of one replication: the faults hit chunks 1 and 2, one is left either side
TABLES = ("replications.parquet", "timeseries.parquet")


def cli(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run(capsys, out: Path, *extra: object) -> tuple[int, str, str]:
    """``salesim run`` into ``out``; without figures (tests/test_cli_run.py checks those): the faults
    are in the tables and chunks, and drawing three PNGs took most of each run's time."""
    return cli(capsys, "run", MINIMAL, "--reps", REPS, "--seed", 5, "--workers", 1, "--out", out, "--no-progress",
               "--no-figures", *extra)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """An uninterrupted run (chunks of one replication each, so that faults hit a few of them)."""
    out = tmp_path_factory.mktemp("clean") / "out"
    import sim

    sim.run(sim.load_scenario(MINIMAL), reps=REPS, seed=5, workers=1, out=out, chunk_size=1)
    return out


def copy_of(clean: Path, tmp_path: Path) -> Path:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(clean, out, symlinks=True)
    return out


def assert_same_tables(out: Path, clean: Path) -> None:
    for table in TABLES:
        assert_frame_equal(pd.read_parquet(out / table), pd.read_parquet(clean / table), check_exact=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["reps_completed"] == REPS


def chunk(out: Path, k: int, part: str = "kpis") -> Path:
    return sorted((out / "chunks").glob(f"chunk-*.{part}.parquet"))[k]


@pytest.mark.parametrize("fault", ["truncated", "random_bytes", "missing_series", "empty", "not_replications",
                                   "symlink"])
def test_an_unreadable_chunk_is_named_moved_aside_and_recomputed(capsys, clean, tmp_path, fault) -> None:
    out = copy_of(clean, tmp_path)
    kpis = chunk(out, 2)
    if fault == "truncated":
        kpis.write_bytes(kpis.read_bytes()[:100])
    elif fault == "random_bytes":
        kpis.write_bytes(os.urandom(kpis.stat().st_size))
    elif fault == "missing_series":
        chunk(out, 2, "series").unlink()
    elif fault == "empty":
        kpis.write_bytes(b"")
    elif fault == "not_replications":
        pd.DataFrame({"a": [1]}).to_parquet(kpis)
    else:
        target = tmp_path / "elsewhere.parquet"
        kpis.rename(target)
        kpis.symlink_to(target)
    for table in TABLES:
        (out / table).unlink()
    code, _stdout, err = run(capsys, out)
    assert code == EXIT_OK, err
    assert f"salesim: warning: {kpis} cannot be read (" in err
    assert "moved to" in err and "computed again" in err
    assert (out / "chunks" / "corrupt" / kpis.name).exists() or (out / "chunks" / "corrupt" / kpis.name).is_symlink()
    assert_same_tables(out, clean)
    if fault == "symlink":
        assert (tmp_path / "elsewhere.parquet").exists()  # the link was moved, its target left alone


def test_a_series_file_corrupt_inside_is_found_at_the_end_and_recomputed(capsys, clean, tmp_path) -> None:
    """A series file whose footer is intact but whose data is not: only reading it all finds it,
    after the missing replications ran; the run then computes that chunk again."""
    out = copy_of(clean, tmp_path)
    series = chunk(out, 1, "series")
    raw = bytearray(series.read_bytes())
    for i in range(8, len(raw) // 2):
        raw[i] = 0xFF
    series.write_bytes(bytes(raw))
    code, _, err = run(capsys, out)
    assert code == EXIT_OK, err
    assert "cannot be read" in err
    assert_same_tables(out, clean)


def test_an_unreadable_manifest_is_a_clear_refusal(capsys, clean, tmp_path) -> None:
    out = copy_of(clean, tmp_path)
    (out / "manifest.json").write_bytes(os.urandom(50))
    code, _, err = run(capsys, out)
    assert code == EXIT_BAD_INPUT and "unreadable manifest" in err and "--overwrite" in err
    code, _, err = run(capsys, out, "--overwrite")
    assert code == EXIT_OK, err
    assert_same_tables(out, clean)


def test_a_folder_held_by_a_live_run_is_refused_and_a_dead_runs_lock_taken_over(capsys, clean, tmp_path) -> None:
    out = copy_of(clean, tmp_path)
    holder = FolderLock(out)
    holder.acquire()  # another run, alive (flock is per open file: this process's run cannot take it)
    try:
        code, _, err = run(capsys, out)
        assert code == EXIT_BAD_INPUT
        assert f"{out} is being written by another salesim run (PID {os.getpid()}" in err
        assert "two runs into one folder" in err
    finally:
        holder.release()
    # a run killed without releasing: its PID is in the file, no process holds the lock
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    (out / LOCK).write_text(json.dumps({"pid": int(dead.stdout), "started_utc": "2026-01-01T00:00:00Z"}))
    code, _, err = run(capsys, out)
    assert code == EXIT_OK, err
    assert f"took over the lock of a run that ended without releasing it (PID {int(dead.stdout)}" in err
    assert (out / LOCK).read_text() == ""  # released
    assert_same_tables(out, clean)


def test_the_lock_is_released_when_a_run_is_refused_or_fails(clean, tmp_path) -> None:
    import sim
    from sim.runs.store import ResultsMismatchError

    out = copy_of(clean, tmp_path)
    with pytest.raises(ResultsMismatchError):
        sim.run(sim.load_scenario(MINIMAL), reps=REPS, seed=6, workers=1, out=out)
    lock = FolderLock(out)
    lock.acquire()
    lock.release()
    with pytest.raises(FolderBusyError):
        held = FolderLock(out)
        held.acquire()
        try:
            sim.run(sim.load_scenario(MINIMAL), reps=REPS, seed=5, workers=1, out=out)
        finally:
            held.release()


def test_temporary_files_of_a_live_writer_are_kept_and_a_dead_ones_removed(capsys, clean, tmp_path) -> None:
    out = copy_of(clean, tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    live = out / "chunks" / f".chunk-0000009-0000009-1.kpis.parquet.{os.getppid()}.tmp"
    stale = out / "chunks" / f".chunk-0000009-0000009-1.kpis.parquet.{int(dead.stdout)}.tmp"
    for path in (live, stale):
        path.write_bytes(b"PAR1 half a file")
    code, _, err = run(capsys, out)
    assert code == EXIT_OK, err
    assert live.exists() and not stale.exists()
    assert_same_tables(out, clean)


def test_symbolic_links_are_refused_not_followed(capsys, clean, tmp_path) -> None:
    out = copy_of(clean, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    # --overwrite through a link to a folder: a clear refusal, nothing removed on either side
    link = tmp_path / "link"
    link.symlink_to(elsewhere, target_is_directory=True)
    code, _, err = run(capsys, link, "--overwrite")
    assert code == EXIT_BAD_INPUT and "is a symbolic link" in err
    assert (elsewhere / "keep.txt").read_text() == "mine"
    # chunks/ as a link: refused, not followed
    chunks = out / "chunks"
    chunks.rename(tmp_path / "real_chunks")
    chunks.symlink_to(tmp_path / "real_chunks", target_is_directory=True)
    code, _, err = run(capsys, out)
    assert code == EXIT_BAD_INPUT and "chunks is a symbolic link" in err
    # --overwrite of a folder holding links removes the links, never what they point to
    code, _, err = run(capsys, out, "--overwrite")
    assert code == EXIT_OK, err
    assert (tmp_path / "real_chunks").is_dir() and any((tmp_path / "real_chunks").iterdir())
    assert_same_tables(out, clean)
