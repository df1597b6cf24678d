"""Build script. Everything about the package is declared in ``pyproject.toml``; this file
only adds the optional compiled core.

With ``SALESIM_COMPILE=1`` in the environment, a regular install (``pip install .``) compiles
the modules listed in ``sim/compiled.py`` with mypyc (it needs a C compiler and takes about a
minute; pip puts mypy in the build environment). Without it, or for an editable install,
salesim is pure Python.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
_compiled = runpy.run_path(str(HERE / "sim" / "compiled.py"))  # stdlib only: no need for salesim's dependencies
BUILD_REQUIREMENTS = ["mypy>=1.10", "simpy>=4.1", "numpy>=1.26"]
"""What a compiled build needs besides setuptools: mypyc (it comes with mypy), and the libraries
whose types the compiled modules use (the others count as untyped)."""


def _compiled_core() -> dict:
    """``setup`` arguments of the compiled core: none for a pure-Python build."""
    if not _compiled["compile_requested"]():
        return {}
    variable = _compiled["COMPILE_ENV_VAR"]
    if any(command in sys.argv for command in ("editable_wheel", "develop")):
        sys.exit(f"{variable}=1 is for regular installs (pip install .): in an editable install the compiled "
                 f"modules would keep running after their source files change. Unset {variable} for pip install -e .")
    try:
        from mypyc.build import mypycify
    except ImportError:
        if "egg_info" in sys.argv or "dist_info" in sys.argv:  # pip is asking what the build needs
            return {"setup_requires": BUILD_REQUIREMENTS}
        sys.exit(f"{variable}=1 needs mypy, which provides mypyc (with --no-build-isolation: pip install mypy first)")
    paths = [str(Path(*name.split(".")).with_suffix(".py")) for name in _compiled["COMPILED_MODULES"]]
    return {"setup_requires": BUILD_REQUIREMENTS, "ext_modules": mypycify(paths, opt_level="3", debug_level="0")}


if __name__ == "__main__":  # as setuptools runs it; tests import the helpers above
    setup(**_compiled_core())
