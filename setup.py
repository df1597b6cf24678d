"""Build script. Everything about the package is declared in ``pyproject.toml``; this file
only adds the compiled core.

A regular install (``pip install .``) compiles the modules listed in ``sim/compiled.py`` with
mypyc, from the same source files: pip puts mypy in the build environment, and compiling needs a
C compiler and Python's headers (about a minute). ``SALESIM_COMPILE`` chooses
(:func:`sim.compiled.compile_mode`):

* unset or ``auto`` — compile if possible: when compiling fails, say why and install the pure
  Python package instead (the same package, five to six times slower);
* ``1`` — compile or fail the install (CI uses it, so that a broken build cannot pass as pure);
* ``0`` — pure Python.

An editable install (``pip install -e .``) is always pure Python: compiled modules would keep
running after their source files change.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
_compiled = runpy.run_path(str(HERE / "sim" / "compiled.py"))  # stdlib only: no need for salesim's dependencies
BUILD_REQUIREMENTS = ["mypy>=2.4", "librt>=0.17,<0.18", "simpy>=4.1", "numpy>=1.26"]
"""What a compiled build needs besides setuptools: mypyc (it comes with mypy), and the libraries
whose types the compiled modules use (the others count as untyped)."""
LOCAL_CALLS_FLAG = "-fno-semantic-interposition"
"""mypyc puts every compiled module and its runtime helpers in one C file, as global functions.
Compiled as position-independent code, a call from one to another goes through the procedure
linkage table and is never inlined, in case another library replaces the callee at load time
(semantic interposition) — which nothing does here. Without it, the heaps' comparisons and list
reads are inlined into their loops."""
EDITABLE_COMMANDS = ("editable_wheel", "develop")
REQUIREMENT_COMMANDS = ("egg_info", "dist_info")
"""What setuptools runs when pip asks what a build needs (for a wheel or an editable install alike)."""


def fallback_message(reason: str) -> str:
    """What an ``auto`` build says when it installs the pure-Python package instead."""
    variable = _compiled["COMPILE_ENV_VAR"]
    return (f"salesim: the compiled core was not built ({reason}); installing the pure-Python package, "
            f"which gives the same results five to six times slower. Install a C compiler and Python's "
            f"headers and reinstall to compile it, or set {variable}=1 to make this an error.")


class OptionalBuildExt(build_ext):
    """``build_ext`` for ``auto`` builds: if any compiled module fails to build, none is installed.

    mypyc makes one shared library and a small extension per module that imports it; installing
    some without the others would break ``import sim``, so a failure removes every output and the
    package is installed from its Python sources.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # any failure to compile or link leaves a working pure package
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            self.extensions = []
            print(fallback_message(f"{type(error).__name__}: {error}"), file=sys.stderr)


def compiled_core(argv: list[str], environ: dict[str, str] | None = None) -> dict:
    """``setup`` arguments for the compiled core, given the setuptools command line: none for a
    pure-Python build."""
    variable = _compiled["COMPILE_ENV_VAR"]
    try:
        mode = _compiled["compile_mode"](environ)
    except ValueError as error:
        sys.exit(f"salesim: {error}")
    if mode == "off":
        return {}
    if any(command in argv for command in EDITABLE_COMMANDS):
        if mode == "on":
            sys.exit(f"{variable}=1 is for regular installs (pip install .): in an editable install the compiled "
                     f"modules would keep running after their source files change. Unset {variable} for "
                     f"pip install -e . (an editable install is pure Python).")
        return {}
    if any(command in argv for command in REQUIREMENT_COMMANDS):  # pip is asking what the build needs
        return {"setup_requires": BUILD_REQUIREMENTS}  # nothing to compile yet
    try:
        from mypyc.build import mypycify
    except ImportError:
        if mode == "on":
            sys.exit(f"{variable}=1 needs mypy, which provides mypyc (with --no-build-isolation: pip install "
                     f"mypy first)")
        print(fallback_message("mypy, which provides mypyc, is not installed in the build environment"),
              file=sys.stderr)
        return {}
    paths = [str(Path(*name.split(".")).with_suffix(".py")) for name in _compiled["COMPILED_MODULES"]]
    try:
        extensions = mypycify(paths, opt_level="3", debug_level="0")
    except (Exception, SystemExit) as error:  # mypyc reports type errors, then exits
        if mode == "on":
            raise
        print(fallback_message(f"mypyc stopped: {error!r}"), file=sys.stderr)
        return {}
    if sys.platform != "win32":  # GCC and Clang: see LOCAL_CALLS_FLAG
        for extension in extensions:
            extension.extra_compile_args = [*extension.extra_compile_args, LOCAL_CALLS_FLAG]
    arguments: dict = {"setup_requires": BUILD_REQUIREMENTS, "ext_modules": extensions}
    if mode == "auto":
        arguments["cmdclass"] = {"build_ext": OptionalBuildExt}
    return arguments


if __name__ == "__main__":  # as setuptools runs it; tests import the helpers above
    setup(**compiled_core(sys.argv))
