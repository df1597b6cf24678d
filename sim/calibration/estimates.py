"""What a calibration produces: fitted values with their evidence, and values kept from the base.

This module owns the result types shared by the fits (:mod:`.fits`, :mod:`.survival`) and the
writer (:mod:`.writer`): a :class:`Fitted` value sits at a dotted scenario path with its sample
size, its 95% interval and how it was estimated; a :class:`Kept` entry says which base value the
data could not support, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fitted:
    """A fitted scenario value.

    ``path`` is the dotted scenario path (``segments.smb.churn.monthly_rate``); ``value`` what is
    written there (a number, a list, or a distribution as a dict). ``estimate`` is the quantity
    the interval is about (often ``value`` itself; for a distribution, its key parameter, named
    by ``quantity``), ``low``/``high`` its 95% interval, ``n`` the sample size in ``unit``.
    """

    path: str
    value: Any
    n: int
    unit: str
    quantity: str
    estimate: float
    low: float
    high: float
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def comment(self) -> str:
        """The YAML comment written beside the value."""
        what = f"{self.quantity} " if self.quantity else ""
        return (f"fitted: {what}{_num(self.estimate)}, 95% CI [{_num(self.low)}, {_num(self.high)}], "
                f"n={self.n} {self.unit}; {self.method}")

    def covers(self, truth: float) -> bool:
        """Whether the interval covers ``truth`` (for recovery tests)."""
        return self.low <= truth <= self.high


@dataclass(frozen=True)
class Kept:
    """A base value the data do not support: kept as it was."""

    path: str
    reason: str


@dataclass
class Calibration:
    """Everything fitted and everything kept, plus tables for the report (name → rows)."""

    fitted: list[Fitted] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def get(self, path: str) -> Fitted:
        for f in self.fitted:
            if f.path == path:
                return f
        raise KeyError(path)

    def keep(self, path: str, reason: str) -> None:
        self.kept.append(Kept(path, reason))


def _num(x: float) -> str:
    """A number in a comment: 4 significant digits."""
    return f"{x:.4g}"
