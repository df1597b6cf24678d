"""A priority queue of reps with lazy updates, so a desk finds its least-loaded rep in
O(log n) instead of scanning every rep for every lead (cost linear in org size).

Push a rep again whenever its key changes; stale entries are skipped when read. A rep's live
entry is the one it holds in ``rep.heap_entry`` (a rep belongs to one desk, so to one heap):
an entry popped from the heap is current iff it *is* that object, which needs no version
counters or dictionaries on the hot path. Keys are compared first, then the rep id (reps
join in id order), which reproduces "the first rep in the pool with the best key" of a plain
scan.

There are two kinds with the same order, and :func:`rep_heap` picks one: :class:`RepHeap` keeps
tuples on :mod:`heapq`, the fastest under CPython; :class:`NativeRepHeap` keeps
:class:`RepEntry` objects and sifts them itself with typed comparisons, which the compiled build
turns into C comparisons (heapq compares tuples through Python's generic rich comparison).

Entries of :class:`RepHeap` are typed ``tuple[Any, ...]`` on purpose: the compiled build (:mod:`sim.compiled`) keeps a
fixed-length tuple type as a C struct and boxes it into a *new* Python tuple wherever an object
is needed, which would break the identity test; a variable-length tuple stays one object.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

from sim.compiled import is_compiled

_COMPILED = is_compiled(__file__)
"""Whether this module runs compiled: then :func:`rep_heap` makes :class:`NativeRepHeap` s."""


def rep_heap() -> RepHeap:
    """A new, empty rep heap of the kind that is fastest in this build (same order either way)."""
    return NativeRepHeap() if _COMPILED else RepHeap()


class RepHeap:
    """Reps ordered by a key (smallest first); a rep absent from the heap is not eligible.

    Reps must have a ``heap_entry`` attribute, ``None`` while they are in no heap.
    """

    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[Any] = []  # tuple[Any, ...] entries here, RepEntry in NativeRepHeap
        self._live = 0

    def update(self, rep: Any, key: float) -> None:
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


class RepEntry:
    """One entry of a :class:`NativeRepHeap`: a rep and its key when it was (re)inserted."""

    def __init__(self, key: float, rep_id: int, rep: Any) -> None:
        self.key = key
        self.rep_id = rep_id
        self.rep = rep


def _before(a: RepEntry, b: RepEntry) -> bool:
    """The order of :class:`RepHeap`'s tuples: key, then rep id."""
    if a.key != b.key:
        return a.key < b.key
    return a.rep_id < b.rep_id


class NativeRepHeap(RepHeap):
    """A :class:`RepHeap` of :class:`RepEntry` objects, sifted by this class with typed
    comparisons: the same order, which the compiled build turns into C comparisons (heapq
    compares tuples through Python's generic rich comparison). In pure Python heapq is faster,
    so :func:`rep_heap` uses this class only where this module is compiled."""

    def update(self, rep: Any, key: float) -> None:
        old = rep.heap_entry
        if old is None:
            self._live += 1
        entry = RepEntry(key, rep.id, rep)
        rep.heap_entry = entry
        heap: list[RepEntry] = self._heap
        if heap and heap[0] is old:  # the rep on top (just chosen): replace its entry in one pass
            self._replace_top(entry)
            return
        if len(heap) > 4 * self._live + 64:  # mostly stale entries: keep the live ones
            live = [e for e in heap if e.rep.heap_entry is e]
            heap.clear()
            for e in live:
                self._push(e)
        self._push(entry)

    def best(self) -> Any | None:
        heap: list[RepEntry] = self._heap
        while heap:
            entry = heap[0]
            rep = entry.rep
            if rep.heap_entry is entry:
                return rep
            self._pop()
        return None

    def _push(self, entry: RepEntry) -> None:
        heap: list[RepEntry] = self._heap
        heap.append(entry)
        pos = len(heap) - 1
        while pos > 0:
            parent_pos = (pos - 1) >> 1
            parent = heap[parent_pos]
            if not _before(entry, parent):
                break
            heap[pos] = parent
            pos = parent_pos
        heap[pos] = entry

    def _pop(self) -> None:
        heap: list[RepEntry] = self._heap
        last = heap.pop()
        if heap:
            self._sift_from_top(last)

    def _replace_top(self, entry: RepEntry) -> None:
        self._sift_from_top(entry)

    def _sift_from_top(self, entry: RepEntry) -> None:
        """Put ``entry`` in the place of the top one (heapq's ``_siftup`` then ``_siftdown``)."""
        heap: list[RepEntry] = self._heap
        end = len(heap)
        pos = 0
        child = 1
        while child < end:
            right = child + 1
            if right < end and not _before(heap[child], heap[right]):
                child = right
            heap[pos] = heap[child]
            pos = child
            child = 2 * pos + 1
        while pos > 0:
            parent_pos = (pos - 1) >> 1
            parent = heap[parent_pos]
            if not _before(entry, parent):
                break
            heap[pos] = parent
            pos = parent_pos
        heap[pos] = entry
