"""Named, independent random streams for one replication.

This module owns every source of randomness in a replication. A stream is identified
by a *name* (``"inbound.arrivals"``, ``"workforce.attrition"``, ...) and optional integer
keys (a seat number, a month). Its generator is seeded from
``SeedSequence(seed, spawn_key=(replication, crc32(name), *keys))``, so:

* adding or removing a stream never shifts the numbers of another;
* two scenarios run with the same seed draw the same numbers for the same stream,
  which is what makes common random numbers work across structural changes;
* workers receive the integer ``seed`` and replication index, never generator objects.

In *deterministic mode* (``Streams(..., deterministic=True)``) every stream is replaced by a
:class:`QuasiGenerator`: a Kronecker sequence ``frac(0.5 + k·√p)`` with its own prime ``p``
per stream (and per column), which spreads draws evenly — the share of leads below any
probability is that probability up to rounding — so the simulator's flows reproduce
expected values; see :mod:`sim.scenario.deterministic`.
"""

from __future__ import annotations

import math
import zlib

import numpy as np


def stream_id(name: str) -> int:
    """Stable 32-bit identifier of a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def _primes() -> list[int]:
    """Primes below 200,000 (more than enough streams and columns)."""
    limit = 200_000
    sieve = np.ones(limit, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = False
    return np.flatnonzero(sieve).tolist()


class QuasiGenerator:
    """A deterministic, evenly spread stand-in for ``numpy.random.Generator``.

    Column ``j`` of the stream yields ``frac(0.5 + k·√p_j)`` for k = 0, 1, …; distinct primes
    make the columns (and streams) jointly equidistributed (Weyl), so joint conversion rates
    come out as products of the marginal ones.
    """

    def __init__(self, next_prime, alphas: list[float] | None = None) -> None:
        self._next_prime = next_prime
        self._alphas: list[float] = alphas if alphas is not None else []
        self._counts: list[int] = []

    def _column(self, j: int, n: int) -> np.ndarray:
        while len(self._alphas) <= j:
            self._alphas.append(math.sqrt(self._next_prime()) % 1.0)
        while len(self._counts) <= j:
            self._counts.append(0)
        k = np.arange(self._counts[j], self._counts[j] + n, dtype=float)
        self._counts[j] += n
        return np.mod(0.5 + k * self._alphas[j], 1.0)

    def random(self, size: int | tuple[int, ...] | None = None) -> np.ndarray | float:
        if size is None:
            return float(self._column(0, 1)[0])
        if isinstance(size, tuple) and len(size) == 2:
            n, m = size
            return np.column_stack([self._column(j, n) for j in range(m)]) if m else np.empty((n, 0))
        n = int(size[0]) if isinstance(size, tuple) else int(size)
        return self._column(0, n)

    def exponential(self, scale: float = 1.0, size: int | None = None) -> np.ndarray:
        return -scale * np.log1p(-self.random(size))

    def poisson(self, lam: float, size: int | None = None):
        raise NotImplementedError("deterministic mode schedules arrivals evenly instead of drawing counts")


class Streams:
    """Factory of named random generators for replication ``replication`` of ``seed``.

    Parameters
    ----------
    seed : int
        The experiment's root seed (non-negative).
    replication : int
        Index of the replication (0-based).
    """

    __slots__ = ("_alphas", "_cache", "_primes", "deterministic", "replication", "seed")

    def __init__(self, seed: int, replication: int, deterministic: bool = False) -> None:
        if seed < 0 or replication < 0:
            raise ValueError("seed and replication must be non-negative integers")
        self.seed = int(seed)
        self.replication = int(replication)
        self.deterministic = deterministic
        self._cache: dict[tuple[int, ...], np.random.Generator] = {}
        self._primes: list[int] = []
        self._alphas: dict[tuple[int, ...], list[float]] = {}

    def spawn_key(self, name: str, *keys: int) -> tuple[int, ...]:
        """The ``spawn_key`` of stream ``name`` with integer ``keys``."""
        return (self.replication, stream_id(name), *(int(k) for k in keys))

    def generator(self, name: str, *keys: int) -> np.random.Generator:
        """The generator of stream ``name`` (and ``keys``); the same object on repeated calls."""
        key = self.spawn_key(name, *keys)
        gen = self._cache.get(key)
        if gen is None:
            gen = self._cache[key] = self._new(key)
        return gen

    def fresh(self, name: str, *keys: int) -> np.random.Generator:
        """A new generator for stream ``name`` (not cached: for one-off keyed draws)."""
        return self._new(self.spawn_key(name, *keys))

    def _new(self, key: tuple[int, ...]) -> np.random.Generator:
        """A generator for ``key``: PCG64 seeded from (seed, key), or its quasi stand-in."""
        if self.deterministic:
            return self._quasi(key)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))

    def _quasi(self, key: tuple[int, ...]) -> QuasiGenerator:
        """A fresh quasi sequence of ``key`` (the same numbers on every call for that key)."""
        if not self._primes:
            self._primes = _primes()[::-1]  # popped from the end: 2, 3, 5, ...
        return QuasiGenerator(self._primes.pop, self._alphas.setdefault(key, []))
