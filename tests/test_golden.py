"""Results stay bit-identical across refactors: KPIs, monthly series and lead records of the
shipped scenarios and the benchmark cases against ``tests/golden/golden.json``.

The default tier checks every case at one seed and replication; the slow tier the whole grid.
A change meant to change results regenerates the file (``python -m tests.golden.cases --write``)
and says so in its commit. KPIs and series added after the file was written are not compared.
"""

from __future__ import annotations

import json

import pytest
from golden.cases import CASES, GOLDEN, REPLICATIONS, SEEDS, outputs

EXPECTED = json.loads(GOLDEN.read_text(encoding="utf-8"))


def _check(case: str, seed: int, rep: int) -> None:
    want = EXPECTED[f"{case}/{seed}/{rep}"]
    got = outputs(case, seed, rep)
    for part in ("kpis", "series", "leads"):
        missing = sorted(set(want[part]) - set(got[part]))
        assert not missing, f"{case}: {part} no longer produced: {missing}"
        changed = {name: (want[part][name], got[part][name]) for name in want[part]
                   if want[part][name] != got[part][name]}
        assert not changed, f"{case} seed {seed} rep {rep}: {part} changed (expected, got): {changed}"


@pytest.mark.parametrize("case", list(CASES))
def test_outputs_unchanged(case: str) -> None:
    _check(case, SEEDS[0], REPLICATIONS[0])


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("rep", REPLICATIONS)
def test_outputs_unchanged_grid(case: str, seed: int, rep: int) -> None:
    _check(case, seed, rep)
