"""The calibration benchmark's smoke test (integration tier): a small export, made and fitted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_calibrate.py"


def test_bench_calibrate_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("_bench_calibrate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--leads", "3000", "--calls", "30000"]) == 0
    out = capsys.readouterr().out
    assert "within the 60 s target" in out and "values fitted" in out
