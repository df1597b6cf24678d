"""Shared fixtures: the tiny valid scenario in ``tests/data/`` and a writer of variants of it.

Every module of the package is imported here, before any test runs. Hypothesis draws some of its
examples from the constants of the local modules loaded at the time (``.hypothesis/constants``), so
without this a property test's examples — even with ``derandomize=True`` — would depend on which
tests ran before it in the same process: on the order, and under pytest-xdist on which worker got
which file. With every module loaded up front, a failure reproduces whatever the schedule. Not
imported: the ``__main__`` modules (they run the command line) and :data:`NOT_IMPORTABLE`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

import pytest

import sim

NOT_IMPORTABLE = frozenset({
    "sim.runs.lifeline",  # the fork server's preload: it makes the importer ignore SIGTERM and die with its parent
})
"""Modules whose import acts on the importing process (tests/test_layers.py checks that the others do not)."""

for _module in pkgutil.walk_packages(sim.__path__, "sim."):
    if not _module.name.endswith(".__main__") and _module.name not in NOT_IMPORTABLE:
        importlib.import_module(_module.name)

DATA = Path(__file__).parent / "data"
MINIMAL = DATA / "minimal.yaml"


@pytest.fixture
def minimal_path() -> Path:
    """The tiny valid scenario: 1 MDR, 1 AE, 1 CSM, one segment, inbound only, 3 months."""
    return MINIMAL


@pytest.fixture
def minimal_text() -> str:
    return MINIMAL.read_text(encoding="utf-8")


@pytest.fixture
def variant(tmp_path: Path, minimal_text: str) -> Callable[..., tuple[Path, str]]:
    """Write ``minimal.yaml`` with text replacements to ``tmp_path/<name>``; return (path, text).

    Each ``(old, new)`` pair must match exactly once, so a variant holds exactly the
    deliberate changes and a drifting ``minimal.yaml`` fails loudly instead of silently.
    """

    def make(name: str, *replacements: tuple[str, str]) -> tuple[Path, str]:
        text = minimal_text
        for old, new in replacements:
            assert text.count(old) == 1, f"{old!r} must occur exactly once in minimal.yaml"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path, text

    return make
