"""The notebooks ship with their outputs, and those outputs are current.

``python notebooks/regenerate.py`` executes each notebook at its default size and records the hash of
its code cells in the notebook's metadata. Here, at every commit: every notebook has outputs (tables
and embedded figures) and its code has not changed since they were made. In the integration tier:
re-executed, each notebook prints the same numbers as the committed outputs (within a relative
1e-6; the run-time lines excepted) — results moved by a change to the simulator make them stale too.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
VARYING = re.compile(r"ran in|\bs\b elapsed|seconds|Elapsed|in \d+ s\b", re.IGNORECASE)
"""Lines that report run time: they differ from run to run."""


def _regenerate():
    spec = importlib.util.spec_from_file_location("regenerate", ROOT / "notebooks" / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _texts(notebook: dict) -> list[str]:
    """Text outputs of the code cells, in order (stream text, plain-text and Markdown results)."""
    out = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                out.append("".join(output["text"]))
            data = output.get("data", {})
            for kind in ("text/markdown", "text/plain"):  # a table's plain text holds the same numbers as its HTML
                if kind in data:
                    out.append("".join(data[kind]))
                    break
    return out


def _numbers(texts: list[str]) -> list[tuple[str, list[float]]]:
    """(line without its numbers, the numbers) of every line that does not report run time."""
    lines = []
    for text in texts:
        for line in text.splitlines():
            if VARYING.search(line) or "<Figure" in line or "<Axes" in line:
                continue
            found = [float(x.replace(",", "")) for x in NUMBER.findall(line)]
            lines.append((NUMBER.sub("#", line).strip(), found))
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_ships_with_outputs(path: Path) -> None:
    notebook = _load(path)
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), f"{path.name}: run python notebooks/regenerate.py"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.get("outputs", []))
    assert images >= 1, f"{path.name} has no figure"
    assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert path.stat().st_size < 2_000_000, f"{path.name} is {path.stat().st_size:,} bytes"
    assert str(ROOT) not in path.read_text(encoding="utf-8"), f"{path.name} shows a local path"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebooks_outputs_come_from_its_code(path: Path) -> None:
    regenerate = _regenerate()
    notebook = _load(path)
    assert regenerate.recorded(notebook).get("code_sha256") == regenerate.code_hash(notebook), (
        f"{path.name}: its code changed since its outputs were made; run python notebooks/regenerate.py "
        f"{path.stem}")


@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_reexecuted_prints_its_committed_numbers(path: Path) -> None:
    pytest.importorskip("nbclient")
    committed = _numbers(_texts(_load(path)))
    fresh = _numbers(_texts(_regenerate().execute(path)))
    assert [text for text, _ in fresh] == [text for text, _ in committed], \
        f"{path.name}: its outputs changed shape; run python notebooks/regenerate.py {path.stem}"
    for (text, new), (_, old) in zip(fresh, committed, strict=True):
        assert new == pytest.approx(old, rel=1e-6, abs=1e-9), \
            f"{path.name}: {text!r} moved; run python notebooks/regenerate.py {path.stem}"
