"""Named, independent random streams for one replication.

This module owns every source of randomness in a replication. A stream is identified
by a *name* (``"inbound.arrivals"``, ``"workforce.attrition"``, ...) and optional integer
keys (a seat number, a month). Its generator is seeded from
``SeedSequence(seed, spawn_key=(replication, crc32(name), *keys))``, so:

* adding or removing a stream never shifts the numbers of another;
* two scenarios run with the same seed draw the same numbers for the same stream,
  which is what makes common random numbers work across structural changes;
* workers receive the integer ``seed`` and replication index, never generator objects.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_id(name: str) -> int:
    """Stable 32-bit identifier of a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Factory of named random generators for replication ``replication`` of ``seed``.

    Parameters
    ----------
    seed : int
        The experiment's root seed (non-negative).
    replication : int
        Index of the replication (0-based).
    """

    __slots__ = ("_cache", "replication", "seed")

    def __init__(self, seed: int, replication: int) -> None:
        if seed < 0 or replication < 0:
            raise ValueError("seed and replication must be non-negative integers")
        self.seed = int(seed)
        self.replication = int(replication)
        self._cache: dict[tuple[int, ...], np.random.Generator] = {}

    def spawn_key(self, name: str, *keys: int) -> tuple[int, ...]:
        """The ``spawn_key`` of stream ``name`` with integer ``keys``."""
        return (self.replication, stream_id(name), *(int(k) for k in keys))

    def generator(self, name: str, *keys: int) -> np.random.Generator:
        """The generator of stream ``name`` (and ``keys``); the same object on repeated calls."""
        key = self.spawn_key(name, *keys)
        gen = self._cache.get(key)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))
            self._cache[key] = gen
        return gen

    def fresh(self, name: str, *keys: int) -> np.random.Generator:
        """A new generator for stream ``name`` (not cached: for one-off keyed draws)."""
        key = self.spawn_key(name, *keys)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))
