"""setup.py: a pure-Python build unless SALESIM_COMPILE asks for the compiled core, and never a
compiled editable install (its compiled modules would outlive edits to their sources)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[1] / "setup.py"


@pytest.fixture
def compiled_core():
    """setup.py's ``_compiled_core``, loaded without running setup()."""
    return runpy.run_path(str(SETUP), run_name="setup_under_test")["_compiled_core"]


def test_without_the_variable_the_build_is_pure_python(compiled_core, monkeypatch):
    monkeypatch.delenv("SALESIM_COMPILE", raising=False)
    assert compiled_core() == {}
    monkeypatch.setenv("SALESIM_COMPILE", "0")
    assert compiled_core() == {}


def test_a_compiled_editable_install_is_refused_with_a_reason(compiled_core, monkeypatch):
    monkeypatch.setenv("SALESIM_COMPILE", "1")
    monkeypatch.setattr(sys, "argv", ["setup.py", "editable_wheel"])
    with pytest.raises(SystemExit) as refused:
        compiled_core()
    assert "pip install -e" in str(refused.value) and "SALESIM_COMPILE" in str(refused.value)


def test_asking_what_a_compiled_build_needs_names_mypy_and_the_typed_libraries(compiled_core, monkeypatch):
    monkeypatch.setenv("SALESIM_COMPILE", "1")
    monkeypatch.setattr(sys, "argv", ["setup.py", "egg_info"])
    monkeypatch.setitem(sys.modules, "mypyc", None)  # as in a build environment before pip installs it
    monkeypatch.setitem(sys.modules, "mypyc.build", None)
    needs = compiled_core()
    assert "ext_modules" not in needs
    assert any(r.startswith("mypy") for r in needs["setup_requires"])
    assert any(r.startswith(("simpy", "numpy")) for r in needs["setup_requires"])
