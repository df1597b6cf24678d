"""Declared dependencies match imports: every third-party package that the package, the tests or
the benchmarks import is in ``dependencies`` or the ``test`` extra of ``pyproject.toml`` (a fresh
Python 3.12 venv has no setuptools, say, and a test importing it would fail there only)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = {"sim", "tests", "golden", "scenario_builders", "mutator", "bench_perf", "test_dists", "test_plan_simulation",
         "setup"}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].strip().lower().replace("_", "-") for r in requirements}


def _imported(folders: list[Path]) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - LOCAL - set(sys.stdlib_module_names) - {"__future__"}


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _requirement_names(project["dependencies"]) | _requirement_names(
        project["optional-dependencies"]["test"])
    declared |= {"distributed"} if "dask" in declared else set()  # dask[distributed]
    distributions = metadata.packages_distributions()
    missing = {}
    for module in sorted(_imported([ROOT / "sim", ROOT / "tests", ROOT / "benchmarks"]) | {"setuptools"}):
        dists = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml (dependencies or the test extra): {missing}"


def test_librt_is_bounded_below_its_next_minor_release() -> None:
    """librt's API is pre-1.0 and the pure build imports it: an upper bound keeps a future release
    from breaking an install, and the installed version must satisfy it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [spec] = [r for r in project["dependencies"] if r.startswith("librt")]
    low, high = re.fullmatch(r"librt>=([\d.]+),<([\d.]+)", spec).groups()
    installed = tuple(int(x) for x in metadata.version("librt").split(".")[:2])
    assert tuple(int(x) for x in low.split(".")[:2]) <= installed < tuple(int(x) for x in high.split(".")[:2])
