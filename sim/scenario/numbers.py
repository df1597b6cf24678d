"""Number types of scenario fields: booleans are not numbers, and numbers are finite.

YAML reads ``true`` as a boolean and pydantic would take it for 1; ``.inf`` and ``.nan`` are
floats that no sampler or calendar can use. :func:`number` and :func:`whole` make annotated types
that refuse both, with a message a person can act on, and carry the field's range (``ge``, ``le``,
...) where the JSON Schema shows it; the models of :mod:`sim.scenario.schema` and
:mod:`sim.scenario.dists` use them for every number.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {'true' if value else 'false'} (a boolean)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


def number(**bounds: float) -> Any:
    """A finite number (not a boolean, not infinite or NaN) within ``bounds`` (``ge=0, le=1``...)."""
    return Annotated[float, Field(**bounds), BeforeValidator(_number)] if bounds else \
        Annotated[float, BeforeValidator(_number)]


def whole(**bounds: int) -> Any:
    """A whole number (not a boolean) within ``bounds``."""
    return Annotated[int, Field(**bounds), BeforeValidator(_number)] if bounds else \
        Annotated[int, BeforeValidator(_number)]


if TYPE_CHECKING:  # what mypy (and so the compiled build) sees
    Float = float
    Int = int
else:
    Float = number()
    """A finite number."""

    Int = whole()
    """A whole number."""
