"""Notebook tiers: a notebook that takes minutes runs with ``pytest -m integration``, not in the
default tier (``pyproject.toml``: ``-m 'not slow and not integration'``)."""

from __future__ import annotations

from pathlib import Path

import pytest

INTEGRATION = frozenset({"05_decision_robustness.ipynb"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)).name in INTEGRATION:
            item.add_marker(pytest.mark.integration)
