"""Which modules of the simulation core this installation runs compiled.

salesim is pure Python. A regular (non-editable) install made with ``SALESIM_COMPILE=1``
(``SALESIM_COMPILE=1 pip install .``) also compiles the modules listed in
:data:`COMPILED_MODULES` to C extensions with mypyc: the same source files, the same records
to the last bit, a replication in about a third of the time (README, "Speed"). This module owns
that list — the build script (``setup.py``) reads it from this file without importing the
package — and tells at run time which of those modules were loaded from compiled extensions
(:func:`is_compiled`, which the calendar and the rep heaps also use to pick their typed
variants).

It imports nothing but the standard library at the top, so that ``setup.py`` can run it in a
build environment that has none of salesim's dependencies.
"""

from __future__ import annotations

import importlib
import os
from importlib.machinery import EXTENSION_SUFFIXES

COMPILED_MODULES: tuple[str, ...] = (
    "sim.workcalendar",
    "sim.eventlog",
    "sim.model.odds",
    "sim.model.speed",
    "sim.model.sampling",
    "sim.model.repheap",
    "sim.model.calendar",
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
"""Set to 1 during ``pip install .`` to build the compiled core."""


def compile_requested(environ: dict[str, str] | None = None) -> bool:
    """Whether the build was asked for the compiled core (``SALESIM_COMPILE`` is 1, true, yes or on)."""
    value = (os.environ if environ is None else environ).get(COMPILE_ENV_VAR, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
