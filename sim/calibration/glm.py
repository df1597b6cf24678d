"""Generalised linear models by iteratively reweighted least squares, in NumPy.

This module owns the two regressions calibration needs — Poisson with a log link and an
exposure offset (arrivals by month), and logistic (qualification against first-touch delay) —
with their maximum-likelihood coefficients and covariance (the inverse Fisher information).
They are a dozen lines each and vectorised; a statistics package would add a dependency for
nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


@dataclass(frozen=True)
class GlmFit:
    """Coefficients, their covariance, and the number of observations behind them."""

    coef: np.ndarray
    cov: np.ndarray
    n: int
    converged: bool

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def interval(self, row: np.ndarray) -> tuple[float, float, float]:
        """The linear predictor ``row · coef`` and its 95% interval (delta method)."""
        row = np.asarray(row, dtype=float)
        value = float(row @ self.coef)
        half = Z95 * float(np.sqrt(row @ self.cov @ row))
        return value, value - half, value + half


def _irls(x: np.ndarray, y: np.ndarray, offset: np.ndarray, family: str, weights: np.ndarray | None = None,
          max_iter: int = 50, tol: float = 1e-10) -> GlmFit:
    n, k = x.shape
    w_obs = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    beta = np.zeros(k)
    if family == "poisson":
        beta[0] = np.log(max(np.sum(w_obs * y), 1e-9) / max(np.sum(w_obs * np.exp(offset)), 1e-9))
    converged = False
    info = np.eye(k)
    for _ in range(max_iter):
        eta = x @ beta + offset
        if family == "poisson":
            mu = np.exp(eta)
            var = mu
        else:
            mu = 1.0 / (1.0 + np.exp(-eta))
            var = np.clip(mu * (1.0 - mu), 1e-12, None)
        w = w_obs * var
        info = x.T @ (x * w[:, None])
        score = x.T @ (w_obs * (y - mu))
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full((k, k), np.nan)
    return GlmFit(beta, cov, int(np.sum(w_obs)) if weights is not None else n, converged)


def poisson(x: np.ndarray, counts: np.ndarray, exposure: np.ndarray) -> GlmFit:
    """Poisson regression: ``log E[count] = log(exposure) + x · coef`` (``x`` includes the intercept)."""
    return _irls(np.asarray(x, float), np.asarray(counts, float), np.log(np.asarray(exposure, float)), "poisson")


def logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> GlmFit:
    """Logistic regression: ``logit P(y=1) = x · coef`` (``x`` includes the intercept); ``weights``
    count identical rows."""
    x = np.asarray(x, float)
    return _irls(x, np.asarray(y, float), np.zeros(len(x)), "logistic", weights)
