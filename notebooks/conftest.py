"""The notebooks run in the integration tier only: ``python -m pytest -m integration --nbmake notebooks``.

Each one starts a Jupyter kernel and runs Monte Carlo experiments (30-110 s apiece on 2 cores).
They are committed with their outputs: ``python notebooks/regenerate.py`` makes them, and
``tests/test_notebooks.py`` checks they are current.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # marked before "-m" deselects anything
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.integration)
