"""A priority queue of reps with lazy updates, so a desk finds its least-loaded rep in
O(log n) instead of scanning every rep for every lead (cost linear in org size).

Push a rep again whenever its key changes; stale entries are skipped when read. A rep's live
entry is the one it holds in ``rep.heap_entry`` (a rep belongs to one desk, so to one heap):
an entry popped from the heap is current iff it *is* that object, which needs no version
counters or dictionaries on the hot path. Keys are compared first, then the rep id (reps
join in id order), which reproduces "the first rep in the pool with the best key" of a plain
scan.

Entries are typed ``tuple[Any, ...]`` on purpose: the compiled build (:mod:`sim.compiled`) keeps a
fixed-length tuple type as a C struct and boxes it into a *new* Python tuple wherever an object
is needed, which would break the identity test; a variable-length tuple stays one object.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush, heapreplace
from typing import Any


class RepHeap:
    """Reps ordered by a key (smallest first); a rep absent from the heap is not eligible.

    Reps must have a ``heap_entry`` attribute, ``None`` while they are in no heap.
    """

    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[tuple[Any, ...]] = []
        self._live = 0

    def update(self, rep: Any, key: Any) -> None:
        """(Re)insert ``rep`` with ``key``."""
        old = rep.heap_entry
        if old is None:
            self._live += 1
        entry: tuple[Any, ...] = (key, rep.id, rep)  # variable-length type: see the module docstring
        rep.heap_entry = entry
        heap = self._heap
        if heap and heap[0] is old:  # the rep on top (just chosen): replace its entry in one pass
            heapreplace(heap, entry)
            return
        if len(heap) > 4 * self._live + 64:  # mostly stale entries: keep the live ones
            heap[:] = [e for e in heap if e[2].heap_entry is e]
            heapify(heap)
        heappush(heap, entry)

    def remove(self, rep: Any) -> None:
        """Make ``rep`` ineligible until its next :meth:`update`."""
        if rep.heap_entry is not None:
            rep.heap_entry = None
            self._live -= 1

    def best(self) -> Any | None:
        """The rep with the smallest key, or None."""
        heap = self._heap
        while heap:
            entry: tuple[Any, ...] = heap[0]
            rep = entry[2]
            if rep.heap_entry is entry:
                return rep
            heappop(heap)
        return None
