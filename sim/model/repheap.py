"""A priority queue of reps with lazy updates, so a desk finds its least-loaded rep in
O(log n) instead of scanning every rep for every lead (cost linear in org size).

Push a rep again whenever its key changes; stale entries are skipped when read. Keys are
compared first, then the rep id (reps join in id order), which reproduces "the first rep
in the pool with the best key" of a plain scan.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import Any


class RepHeap:
    """Reps ordered by a key (smallest first); a rep absent from the heap is not eligible."""

    __slots__ = ("_heap", "_live", "_version")

    def __init__(self) -> None:
        self._heap: list[tuple[Any, int, int, Any]] = []
        self._version: dict[int, int] = {}
        self._live: dict[int, tuple[Any, int, int, Any]] = {}

    def update(self, rep: Any, key: Any) -> None:
        """(Re)insert ``rep`` with ``key``."""
        version = self._version.get(rep.id, 0) + 1
        self._version[rep.id] = version
        entry = (key, rep.id, version, rep)
        self._live[rep.id] = entry
        heap = self._heap
        if len(heap) > 4 * len(self._live) + 64:  # mostly stale entries: rebuild
            heap[:] = self._live.values()
            heapify(heap)
        else:
            heappush(heap, entry)

    def remove(self, rep: Any) -> None:
        """Make ``rep`` ineligible until its next :meth:`update`."""
        self._version[rep.id] = self._version.get(rep.id, 0) + 1
        self._live.pop(rep.id, None)

    def best(self) -> Any | None:
        """The rep with the smallest key, or None."""
        heap, version = self._heap, self._version
        while heap:
            _key, rep_id, v, rep = heap[0]
            if v == version[rep_id]:
                return rep
            heappop(heap)
        return None
