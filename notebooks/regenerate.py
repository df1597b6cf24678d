"""Execute the notebooks in place, so they ship with their outputs (tables, figures) and read on a
code-hosting site without running.

    python notebooks/regenerate.py                 # every notebook
    python notebooks/regenerate.py 02_silo_vs_pod  # some of them
    python notebooks/regenerate.py --check         # exit 1 if a notebook's outputs are stale

Each notebook runs at its own default size (``SALESIM_NOTEBOOK_REPS`` unset: 12 to 30 replications,
seeded), which is what a reader who runs it gets, number for number, with any number of workers and
either build. The code cells' hash and the settings are recorded in the notebook's metadata
(``salesim``); ``tests/test_notebooks.py`` checks the hash at every commit, and in the integration
tier re-executes each notebook and compares its printed numbers with the committed ones.

Needs the ``notebooks`` extra (``pip install -e ".[notebooks]"``: Jupyter, nbclient).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
METADATA_KEY = "salesim"
SETTINGS = {"SALESIM_NOTEBOOK_REPS": None, "SALESIM_NOTEBOOK_MAX_EVALUATIONS": None}
"""Environment of a regeneration: the notebooks' own defaults (None: unset)."""
TIMEOUT_S = 900


def notebooks(names: list[str] | None = None) -> list[Path]:
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [p for p in found if p.stem in names or p.name in names]
    return found


def code_hash(notebook: dict) -> str:
    """SHA-256 of the code cells' sources, in order: what the outputs were computed from."""
    digest = hashlib.sha256()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            digest.update("".join(cell["source"]).encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()


def recorded(notebook: dict) -> dict:
    return notebook.get("metadata", {}).get(METADATA_KEY, {})


def is_current(path: Path) -> bool:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return recorded(nb).get("code_sha256") == code_hash(nb)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update({k: v for k, v in SETTINGS.items() if v is not None})
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


def execute(path: Path) -> dict:
    """Run ``path`` top to bottom in a fresh kernel started in ``notebooks/``; return the notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    environment = _environment()  # read before clearing: the kernel inherits this process's environment
    os.environ.clear()
    os.environ.update(environment)
    try:
        NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
                       ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def regenerate(path: Path) -> float:
    import nbformat

    started = time.perf_counter()
    nb = execute(path)
    nb.metadata[METADATA_KEY] = {"code_sha256": code_hash(nb), "settings": SETTINGS}
    nbformat.write(nb, path)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (file name or stem); default: all")
    parser.add_argument("--check", action="store_true", help="only say which notebooks are stale")
    args = parser.parse_args(argv)
    paths = notebooks(args.names)
    if args.check:
        stale = [p.name for p in paths if not is_current(p)]
        for name in stale:
            print(f"{name}: stale (its code changed since its outputs were made): run python notebooks/regenerate.py")
        return 1 if stale else 0
    for path in paths:
        print(f"{path.name}: {regenerate(path):.0f} s, {path.stat().st_size / 1024:.0f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
