"""Shared fixtures: the tiny valid scenario in ``tests/data/`` and a writer of variants of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

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
