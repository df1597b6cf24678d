"""A priority queue of reps with lazy updates, so a desk finds its least-loaded rep in
O(log n) instead of scanning every rep for every lead (cost linear in org size).

Push a rep again whenever its key changes; stale entries are skipped when read. A rep's live
entry is the one it holds in ``rep.heap_entry`` (a rep belongs to one desk, so to one heap):
an entry popped from the heap is current iff it *is* that object, which needs no version
counters or dictionaries on the hot path. Keys are compared first, then the rep id (reps
join in id order), which reproduces "the first rep in the pool with the best key" of a plain
scan.

There are two kinds with the same choices, and :func:`rep_heap` picks one: :class:`RepHeap` keeps
tuples on :mod:`heapq` with lazy updates, the fastest under CPython; :class:`NativeRepHeap` keeps
one :class:`RepEntry` per rep and moves it in place (an indexed heap) with typed comparisons,
which the compiled build turns into C comparisons (heapq compares tuples through Python's
generic rich comparison).

Entries of :class:`RepHeap` are typed ``tuple[Any, ...]`` on purpose: the compiled build (:mod:`sim.compiled`) keeps a
fixed-length tuple type as a C struct and boxes it into a *new* Python tuple wherever an object
is needed, which would break the identity test; a variable-length tuple stays one object.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

from mypy_extensions import i64, mypyc_attr

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


@mypyc_attr(free_list_len=1)
class RepEntry:
    """One rep's place in a :class:`NativeRepHeap`: its key and its index in the heap. (Made when a
    rep becomes eligible, freed when it stops being so; the compiled class reuses the last freed.)"""

    def __init__(self, key: float, rep_id: int, rep: Any, pos: i64) -> None:
        self.key = key
        self.rep_id = rep_id
        self.rep = rep
        self.pos = pos


def _before(a: RepEntry, b: RepEntry) -> bool:
    """The order of :class:`RepHeap`'s tuples: key, then rep id."""
    if a.key != b.key:
        return a.key < b.key
    return a.rep_id < b.rep_id


class NativeRepHeap(RepHeap):
    """A :class:`RepHeap` that keeps one :class:`RepEntry` per eligible rep and moves it when the
    rep's key changes (an *indexed* heap: each entry knows its position), instead of pushing a new
    entry and skipping the stale one later. (Key, rep id) is a total order over the eligible reps,
    so :meth:`best` returns the same rep as :class:`RepHeap` does.

    The comparisons are typed, and the compiled build turns them into C comparisons of doubles and
    integers (heapq compares tuples through Python's generic rich comparison); no entry is allocated
    or freed while a rep stays eligible. In pure Python heapq is faster, so :func:`rep_heap` uses
    this class only where this module is compiled.
    """

    def update(self, rep: Any, key: float) -> None:
        entry: RepEntry | None = rep.heap_entry
        heap: list[RepEntry] = self._heap
        if entry is None:
            entry = RepEntry(key, rep.id, rep, len(heap))
            rep.heap_entry = entry
            heap.append(entry)
            self._live += 1
            self._sift_up(entry, entry.pos)
            return
        old_key = entry.key
        entry.key = key
        if key < old_key:
            self._sift_up(entry, entry.pos)
        elif key > old_key:
            self._sift_down(entry)

    def remove(self, rep: Any) -> None:
        entry: RepEntry | None = rep.heap_entry
        if entry is None:
            return
        rep.heap_entry = None
        self._live -= 1
        heap: list[RepEntry] = self._heap
        last = heap.pop()
        if last is entry:
            return
        last.pos = entry.pos
        heap[entry.pos] = last
        if _before(last, entry):
            self._sift_up(last, last.pos)
        else:
            self._sift_down(last)

    def best(self) -> Any | None:
        heap: list[RepEntry] = self._heap
        return heap[0].rep if heap else None

    def _sift_up(self, entry: RepEntry, pos: i64, top: i64 = 0) -> None:
        """Put ``entry`` at ``pos`` or above it (not above ``top``), moving down the parents it
        comes before."""
        heap: list[RepEntry] = self._heap
        while pos > top:
            parent_pos = (pos - 1) >> 1
            parent = heap[parent_pos]
            if not _before(entry, parent):
                break
            heap[pos] = parent
            parent.pos = pos
            pos = parent_pos
        heap[pos] = entry
        entry.pos = pos

    def _sift_down(self, entry: RepEntry) -> None:
        """Move ``entry`` towards the leaves while a child comes before it.

        Bottom-up, as heapq's ``heappop``: the smaller child moves up at every level, down to a
        leaf (one comparison a level), and ``entry`` then sifts up from there. A rep that just took
        a lead usually belongs near the bottom, so this beats comparing it at every level too.
        """
        heap: list[RepEntry] = self._heap
        end: i64 = len(heap)  # i64 (a plain int in Python): C arithmetic and list indexing where compiled
        pos: i64 = entry.pos
        start = pos
        child: i64 = 2 * pos + 1
        while child < end:
            smaller = heap[child]
            right = child + 1
            if right < end:
                other = heap[right]
                if _before(other, smaller):
                    child = right
                    smaller = other
            heap[pos] = smaller
            smaller.pos = pos
            pos = child
            child = 2 * pos + 1
        self._sift_up(entry, pos, start)  # back up to where the entry belongs
