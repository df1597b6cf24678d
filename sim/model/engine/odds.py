"""Odds arithmetic shared by the desks: effects act on the odds of a probability, so that a
lead's latent uniform maps monotonically to yes or no whatever the effect's size."""

from __future__ import annotations


def scale_odds(p: float, multiplier: float) -> float:
    """The probability whose odds are ``multiplier`` × the odds of ``p`` (0 and 1 stay put)."""
    if p <= 0.0 or p >= 1.0 or multiplier == 1.0:
        return p
    odds = p / (1.0 - p) * multiplier
    return odds / (1.0 + odds)
