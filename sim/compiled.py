"""Which modules of the simulation core this installation runs compiled.

A regular install (``pip install .``) compiles the modules listed in :data:`COMPILED_MODULES`
to C extensions with mypyc, when a C compiler is there: the same source files, the same
records to the last bit, a replication in a fifth to a sixth of the time (docs/developer/compiled-core.md). An
editable install (``pip install -e .``), a build without a compiler, or ``SALESIM_COMPILE=0``
give the pure-Python package (:func:`compile_mode`). This module owns that list — the build
script (``setup.py``) reads it from this file without importing the package — and tells at run
time which of those modules were loaded from compiled extensions (:func:`is_compiled`, which the
calendar and the rep heaps also use to pick their typed variants; :func:`describe` for people).

It imports nothing but the standard library at the top, so that ``setup.py`` can run it in a
build environment that has none of salesim's dependencies.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from importlib.machinery import EXTENSION_SUFFIXES

COMPILED_MODULES: tuple[str, ...] = (
    "sim.workcalendar",
    "sim.eventlog",
    "sim.model.engine.odds",
    "sim.model.speed_to_lead",
    "sim.model.engine.sampling",
    "sim.model.engine.repheap",
    "sim.model.engine.calendar",
    "sim.model.leads",
    "sim.model.workforce",
    "sim.model.development",
    "sim.model.closing",
    "sim.model.accounts",
    "sim.model.routing",
    "sim.model.world",
)
"""The modules a compiled build compiles: the lead flow, the calendar and the records (the
replication's inner loop). Everything else (scenarios, statistics, tables, the CLI) stays Python."""

COMPILE_ENV_VAR = "SALESIM_COMPILE"
"""Read by ``setup.py`` during ``pip install .``: which build to make (:func:`compile_mode`)."""

_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})


def compile_mode(environ: Mapping[str, str] | None = None) -> str:
    """Which build ``pip install .`` makes, from ``SALESIM_COMPILE``.

    Returns
    -------
    str
        ``"auto"`` when the variable is unset, empty or ``auto``: a regular install compiles the
        core and, if that fails (no C compiler, no Python headers), installs it as pure Python;
        an editable install is pure Python. ``"on"`` for 1, true, yes or on: compile, and fail
        the install if compiling fails (CI uses it). ``"off"`` for 0, false, no or off: pure Python.

    Raises
    ------
    ValueError
        For any other value, naming the ones accepted.
    """
    given = (os.environ if environ is None else environ).get(COMPILE_ENV_VAR, "")
    value = given.strip().lower()
    if value in ("", "auto"):
        return "auto"
    if value in _ON:
        return "on"
    if value in _OFF:
        return "off"
    raise ValueError(f"{COMPILE_ENV_VAR}={given!r}: expected 1 (compile, or fail), 0 (pure Python), "
                     f"or auto / unset (compile if a C compiler is there, else pure Python)")


def compiled_modules() -> list[str]:
    """The modules of :data:`COMPILED_MODULES` that this process loaded from C extensions.

    Returns
    -------
    list of str
        Empty for a pure-Python install; all of :data:`COMPILED_MODULES` for a compiled one.
    """
    return [name for name in COMPILED_MODULES if is_compiled(getattr(importlib.import_module(name), "__file__", None))]


def is_compiled(module_file: str | None) -> bool:
    """Whether a module whose ``__file__`` is ``module_file`` was loaded from a C extension."""
    return (module_file or "").endswith(tuple(EXTENSION_SUFFIXES))


def describe() -> str:
    """One line for reports: ``"compiled (14 of 14 core modules)"`` or ``"pure Python"``."""
    compiled = compiled_modules()
    if not compiled:
        return "pure Python"
    return f"compiled ({len(compiled)} of {len(COMPILED_MODULES)} core modules)"
