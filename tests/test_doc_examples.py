"""The README's and the tutorial's examples run: every ``salesim`` command in a ``bash`` block, every
``python`` block, in the order a reader meets them, in a scratch folder holding a copy of
``scenarios/`` (a ``yaml`` block whose first line names a file, ``# scenarios/x.yaml``, is written
there first, as the reader would).

Shrunk to run in CI: replication counts become :data:`REPS` and the horizon
:data:`HORIZON_MONTHS`; everything else — flags, paths, overrides — is run as written. So a
renamed flag, a moved scenario or a field that no longer validates fails here, not in a new
user's first hour. ``pip`` and ``jupyter`` lines are set-up, checked by ``.ci/run`` itself.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "tutorial.md"]
REPS = 3
HORIZON_MONTHS = 6
SIMULATING = {"run", "compare", "sweep", "sensitivity"}
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, text) of every fenced block of a Markdown file, in order."""
    return FENCE.findall(path.read_text(encoding="utf-8"))


def salesim_commands(script: str) -> list[list[str]]:
    """The ``salesim`` commands of a bash block (``a && salesim …`` counts; comments dropped)."""
    commands = []
    for line in script.splitlines():
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words and words[0] == "salesim":
                commands.append(words)
    return commands


def shrunk(words: list[str]) -> list[str]:
    """A command with few replications and a short horizon (other flags untouched)."""
    if len(words) < 2 or words[1] not in SIMULATING:
        return words
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--reps":
            skip = True
            continue
        out.append(word)
    return [*out, "--reps", str(REPS), "--set", f"horizon_months={HORIZON_MONTHS}"]


def shrunk_python(code: str) -> str:
    code = re.sub(r"reps=\d+", f"reps={REPS}", code)
    short = f'"scenarios/silo.yaml", overrides=["horizon_months={HORIZON_MONTHS}"])'
    return code.replace('"scenarios/silo.yaml")', short)


def steps() -> list[tuple[str, str, object]]:
    """(id, kind, payload) of every runnable example, README first."""
    found = []
    for path in DOCS:
        for n, (language, text) in enumerate(blocks(path)):
            first = text.splitlines()[0] if text.strip() else ""
            if language == "yaml" and re.fullmatch(r"# scenarios/[\w.-]+\.yaml", first.strip()):
                found.append((f"{path.name}#{n}", "file", (first.strip()[2:], text)))
            elif language == "bash":
                for words in salesim_commands(text):
                    found.append((f"{path.name}#{n}: {' '.join(words[:3])}", "command", words))
            elif language == "python":
                found.append((f"{path.name}#{n}: python", "python", text))
    return found


@pytest.fixture(scope="module")
def reader_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reader")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    return folder


def test_the_docs_have_examples() -> None:
    kinds = [kind for _, kind, _ in steps()]
    assert kinds.count("command") >= 6 and kinds.count("python") >= 2, kinds


def test_every_example_runs(reader_folder: Path) -> None:
    """All in one test, in order: a later example may read what an earlier one wrote."""
    salesim = shutil.which("salesim", path=str(Path(sys.executable).parent)) or "salesim"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for step_id, kind, payload in steps():
        if kind == "file":
            name, text = payload
            (reader_folder / name).write_text(text, encoding="utf-8")
        elif kind == "command":
            words = shrunk(payload)
            proc = subprocess.run([salesim, *words[1:], *(["--no-progress"] if words[1] in {"run", "compare"} else [])],
                                  cwd=reader_folder, env=env, capture_output=True, text=True, timeout=600)
            command = " ".join(words)
            assert proc.returncode == 0, f"{step_id}: `{command}` exited {proc.returncode}\n{proc.stderr[-3000:]}"
        else:
            script = "import matplotlib\nmatplotlib.use('Agg')\n" + shrunk_python(payload)
            proc = subprocess.run([sys.executable, "-c", script], cwd=reader_folder, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{step_id} failed:\n{proc.stderr[-3000:]}"


def test_shrinking_keeps_every_other_flag() -> None:
    words = shlex.split("salesim compare a.yaml b.yaml --reps 100 --seed 1 --set x=2")
    assert shrunk(words) == ["salesim", "compare", "a.yaml", "b.yaml", "--seed", "1", "--set", "x=2",
                             "--reps", str(REPS), "--set", f"horizon_months={HORIZON_MONTHS}"]
    assert shrunk(["salesim", "validate", "a.yaml"]) == ["salesim", "validate", "a.yaml"]
