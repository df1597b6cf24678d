"""The docs stay true to the code: the generated scenario-schema page is current, and every
``docs/...`` page a docstring, scenario comment or doc cites exists (with its anchor)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/((?:[\w-]+/)*[\w-]+\.md)(?:#([\w-]+))?")


def test_scenario_schema_page_is_current() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "tools" / "schema_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=120, check=False)
    stale = "docs/reference/scenario-schema.md is stale: run python docs/tools/schema_reference.py\n"
    assert proc.returncode == 0, stale \
        + proc.stdout + proc.stderr


def _anchors(page: Path) -> set[str]:
    """Heading anchors as MkDocs makes them (lower case, words joined by hyphens), and explicit ids."""
    out = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#+\s+(.*?)\s*(\{#([\w-]+)\})?\s*$", line)
        if heading:
            if heading.group(3):
                out.add(heading.group(3))
            text = re.sub(r"[^\w\s-]", "", heading.group(1).lower())
            out.add(re.sub(r"[\s]+", "-", text.strip()))
        out.update(re.findall(r'id="([\w-]+)"', line))
    return out


def test_every_cited_docs_page_exists() -> None:
    sources = [*ROOT.glob("sim/**/*.py"), *ROOT.glob("scenarios/*.yaml"), *ROOT.glob("tests/**/*.py"),
               ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    missing = []
    for source in sources:
        for match in CITATION.finditer(source.read_text(encoding="utf-8")):
            page = ROOT / "docs" / match.group(1)
            if not page.exists():
                missing.append(f"{source.relative_to(ROOT)}: docs/{match.group(1)} does not exist")
            elif match.group(2) and match.group(2) not in _anchors(page):
                missing.append(f"{source.relative_to(ROOT)}: docs/{match.group(1)} has no #{match.group(2)}")
    assert not missing, "\n".join(missing)
