"""The package's layering (``[tool.importlinter]`` in ``pyproject.toml``): cli → present →
planner → runs → metrics → economics → model → eventlog → scenario → rng/workcalendar/compiled; nothing
imports upward, and the simulation never reaches for runs, plans, presentation or pandas."""

from __future__ import annotations

import ast
import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(capsys) -> None:
    from importlinter.cli import lint_imports

    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def _private_imports_across_packages() -> list[str]:
    """``from sim.a.b import _name`` where the importing module is not in package ``sim.a``."""
    found = []
    for path in sorted((ROOT / "sim").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        package = module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                source_package = node.module.rsplit(".", 1)[0] if node.module.count(".") else node.module
                for alias in node.names:
                    if alias.name.startswith("_") and source_package != package:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}")
    return found


def test_no_private_name_is_imported_across_packages() -> None:
    assert _private_imports_across_packages() == []


@pytest.mark.parametrize("package", ["sim.scenario", "sim.model", "sim.model.engine", "sim.runs", "sim.planner",
                                     "sim.present", "sim.cli"])
def test_every_package_says_what_it_owns(package: str) -> None:
    import importlib

    doc = importlib.import_module(package).__doc__
    assert doc and len(doc.strip()) > 40, f"{package} needs a docstring that says what it owns"


def test_importing_the_package_leaves_the_process_alone() -> None:
    """tests/conftest.py imports every module but ``NOT_IMPORTABLE`` into the test process: none of
    them may change how it handles signals (sim.runs.lifeline, imported, made pytest ignore SIGTERM,
    and with it every program a test starts, so the SIGTERM tests of the integration tier failed)."""
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
