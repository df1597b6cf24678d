"""The docs stay true to the code: the generated scenario-schema page is current, every
``docs/...`` page a docstring, scenario comment, notebook or doc cites exists (with its anchor),
every sourced figure of a shipped scenario cites its page, and nothing cites a file outside the
repository (``DESIGN.md``, ``PARAMETERS.md``, ``../shared``)."""

from __future__ import annotations

import json
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


def _text(source: Path) -> str:
    """A source's text; a notebook's cells (markdown and code), without its outputs."""
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".ipynb":
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text


SOURCES = [*ROOT.glob("sim/**/*.py"), *ROOT.glob("scenarios/*.yaml"), *ROOT.glob("tests/**/*.py"),
           *ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("notebooks/*.py"), *ROOT.glob("docs/**/*.md"),
           ROOT / "README.md", ROOT / "CONTRIBUTING.md"]


def test_every_cited_docs_page_exists() -> None:
    missing = []
    for source in SOURCES:
        for match in CITATION.finditer(_text(source)):
            page = ROOT / "docs" / match.group(1)
            if not page.exists():
                missing.append(f"{source.relative_to(ROOT)}: docs/{match.group(1)} does not exist")
            elif match.group(2) and match.group(2) not in _anchors(page):
                missing.append(f"{source.relative_to(ROOT)}: docs/{match.group(1)} has no #{match.group(2)}")
    assert not missing, "\n".join(missing)


OUTSIDE = re.compile(r"DESIGN\.md|PARAMETERS\.md|\.\./shared\b")


def test_nothing_cites_files_outside_the_repository() -> None:
    found = [f"{source.relative_to(ROOT)}: {match.group(0)}" for source in SOURCES if source != Path(__file__)
             for match in OUTSIDE.finditer(_text(source))]
    assert not found, "\n".join(found)


SOURCE_NAMES = re.compile(r"\bbook\b|Bridge Group|GitLab|SaaStr|Benchmarkit|Winning by Design|HBR|\bMIT\b|TOPO|"
                          r"\bGong\b|ZoomInfo|Pacific Crest|CSO Insights|Predictable Revenue|hbr_2011|mit_2007")


def _comments(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each comment of a YAML file: an inline comment, or a block of comment lines."""
    out: list[tuple[int, str]] = []
    block: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            if not block:
                start = number
            block.append(stripped)
            continue
        if block:
            out.append((start, " ".join(block)))
            block = []
        if " #" in line:
            out.append((number, line))  # the value and its comment: hbr_2011 in a value is a figure too
    if block:
        out.append((start, " ".join(block)))
    return out


def test_every_sourced_figure_of_a_shipped_scenario_cites_its_page() -> None:
    """A comment of ``scenarios/*.yaml`` that names a source (the book, Bridge Group, HBR, ...) also cites
    the ``docs/`` page that holds it (CONTRIBUTING.md#scenarios-and-figures)."""
    uncited = [f"{path.relative_to(ROOT)}:{line}: {comment.strip()}"
               for path in sorted(ROOT.glob("scenarios/*.yaml"))
               for line, comment in _comments(path.read_text(encoding="utf-8"))
               if SOURCE_NAMES.search(comment) and not CITATION.search(comment)]
    assert not uncited, "cite docs/background/default-figures.md#<group>:\n" + "\n".join(uncited)
