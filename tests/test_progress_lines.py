"""Long runs say how long: a progress line on stderr every few seconds when it is not a terminal."""

from __future__ import annotations

from pathlib import Path

from sim.cli import main
from sim.runs import monte_carlo
from sim.runs.monte_carlo import ProgressLines, duration_text

MINIMAL = Path(__file__).parent / "data" / "minimal.yaml"


def test_duration_text() -> None:
    assert duration_text(42.4) == "42 s"
    assert duration_text(200) == "3 min 20 s"
    assert duration_text(3900) == "1 h 05 min"


def test_a_line_at_most_every_interval_with_the_time_left(capsys) -> None:
    now = [0.0]
    lines = ProgressLines(400, "silo", interval=5.0, clock=lambda: now[0])
    now[0] = 2.0
    lines.update(40)  # before the interval: nothing
    now[0] = 35.0
    lines.update(80)  # 120 done in 35 s: 280 left at 0.29 s each
    now[0] = 36.0
    lines.update(10)  # within 5 s of the last line: nothing
    now[0] = 200.0
    lines.update(270)  # finished: no line
    err = capsys.readouterr().err.splitlines()
    assert err == ["salesim: silo: 120/400 replications, 35 s elapsed, ~82 s left"]


def test_run_prints_progress_lines_when_stderr_is_not_a_terminal(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(monte_carlo, "PROGRESS_INTERVAL_SECONDS", 0.0)
    code = main(["run", str(MINIMAL), "--reps", "4", "--workers", "1", "--no-figures", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 0
    assert "salesim: minimal: 1/4 replications" in err and "elapsed" in err and "left" in err
    code = main(["run", str(MINIMAL), "--reps", "4", "--workers", "1", "--no-figures", "--no-progress",
                 "--out", str(tmp_path / "quiet")])
    assert code == 0 and "replications," not in capsys.readouterr().err
