"""A priority queue of reps, so a desk finds its least-loaded rep without scanning every rep for
every lead (cost linear in org size).

A desk calls :meth:`RepHeap.update` whenever a rep's key changes and :meth:`RepHeap.remove` when
the rep stops being eligible; :meth:`RepHeap.best` is the eligible rep with the smallest key, the
lowest rep id among equal keys (reps join in id order), which reproduces "the first rep in the
pool with the best key" of a plain scan. A rep holds its entry in ``rep.heap_entry`` (a rep belongs
to one desk, so to one heap), ``None`` while it is in none.

There are two kinds with the same choices, and :func:`rep_heap` picks one:

* :class:`RepHeap` keeps tuples on :mod:`heapq` with lazy updates: the fastest under CPython
  (heapq's sifts are C). A rep's live entry is the one it holds: an entry read from the heap is
  current iff it *is* that object, which needs no version counters on the hot path.
* :class:`BucketRepHeap` groups the reps by key, in buckets that are bitsets of rep ids: where
  the module is compiled, an update costs the same with 20 reps as with 320, where a binary
  heap's sifts grow with the logarithm of the headcount (at ref×16 they cost about twice as much
  per lead as at ref). In pure Python its bit operations are slower than heapq's C sifts.

Entries of :class:`RepHeap` are typed ``tuple[Any, ...]`` on purpose: the compiled build (:mod:`sim.compiled`) keeps a
fixed-length tuple type as a C struct and boxes it into a *new* Python tuple wherever an object
is needed, which would break the identity test; a variable-length tuple stays one object.
"""

from __future__ import annotations

import math
from heapq import heapify, heappop, heappush, heapreplace
from typing import Any

from librt.vecs import append, vec
from mypy_extensions import i64

from sim.compiled import is_compiled

_COMPILED = is_compiled(__file__)
"""Whether this module runs compiled: then :func:`rep_heap` makes :class:`BucketRepHeap` s."""


def rep_heap() -> RepHeap:
    """A new, empty rep heap of the kind that is fastest in this build (same order either way)."""
    return BucketRepHeap() if _COMPILED else RepHeap()


class RepHeap:
    """Reps ordered by a key (smallest first); a rep absent from the heap is not eligible.

    Reps must have a ``heap_entry`` attribute, ``None`` while they are in no heap.
    """

    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[Any] = []  # tuple[Any, ...] entries (unused by BucketRepHeap)
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


class KeyBucket:
    """The eligible reps of a :class:`BucketRepHeap` that share one key: a bitset over their ids
    (32 ids to a word), their number and the lowest of them, linked to the buckets of the next
    smaller and next larger keys."""

    def __init__(self, key: float) -> None:
        self.key = key
        self.prev: KeyBucket | None = None
        self.next: KeyBucket | None = None
        self.words: vec[i64] = vec[i64]()
        self.count: i64 = 0
        self.min_id: i64 = -1
        """The lowest rep id in the bucket (-1 while it is empty)."""

    def add(self, rep_id: i64) -> None:
        word = rep_id >> 5
        words = self.words
        if word >= len(words):
            while len(words) <= word:
                words = append(words, 0)
            self.words = words
        words[word] = words[word] | (1 << (rep_id & 31))
        self.count += 1
        if self.count == 1 or rep_id < self.min_id:
            self.min_id = rep_id

    def discard(self, rep_id: i64) -> None:
        """Take ``rep_id`` (which is in the bucket) out; find the next lowest id if it was the lowest."""
        words = self.words
        word = rep_id >> 5
        words[word] = words[word] & ~(1 << (rep_id & 31))
        self.count -= 1
        if rep_id != self.min_id:
            return
        if self.count == 0:
            self.min_id = -1
            return
        n: i64 = len(words)
        while word < n:  # every word below the old lowest id's is empty
            bits = words[word]
            if bits != 0:
                self.min_id = (word << 5) + int(bits & -bits).bit_length() - 1
                return
            word += 1


class BucketEntry:
    """One rep's place in a :class:`BucketRepHeap`: its id and its key's bucket."""

    def __init__(self, rep_id: i64, bucket: KeyBucket) -> None:
        self.rep_id = rep_id
        self.bucket = bucket


class BucketRepHeap(RepHeap):
    """A :class:`RepHeap` that groups the eligible reps by key: a list of :class:`KeyBucket` s in
    ascending key order, linked both ways, each a bitset of rep ids that knows its lowest id. The
    best rep is the lowest id of the first bucket, as in (key, rep id) order.

    A desk's keys are few — shares of free or busy slots, a handful of values per capacity —
    whatever the headcount, and a rep's key moves by one slot at a time, to the next bucket or
    the one before: so an update costs about the same with 20 reps as with 320, where a binary
    heap's sifts grow with the logarithm of the headcount (four levels more at ref×16). Only
    non-empty buckets are linked; emptied ones are kept for reuse (their bits are all clear).

    Rep ids must be non-negative integers (the bitsets are indexed by them). Used where this
    module is compiled (:func:`rep_heap`): the words are C integers there.
    """

    def __init__(self) -> None:
        super().__init__()
        self._first: KeyBucket | None = None
        """The bucket of the smallest key (None: no rep is eligible)."""
        self._spare: list[KeyBucket] = []
        """Emptied buckets, for the next new key."""
        self._reps: list[Any] = []
        """Reps by id, for the ids the buckets hold."""

    def update(self, rep: Any, key: float) -> None:
        entry: BucketEntry | None = rep.heap_entry
        if entry is None:
            rep_id: i64 = rep.id
            if rep_id < 0:
                raise ValueError(f"rep ids must be non-negative to be kept in a bucket, not {rep_id}")
            first = self._first
            bucket = self._bucket_near(key, first) if first is not None else self._new_bucket(key, None, None)
            reps = self._reps
            while len(reps) <= rep_id:
                reps.append(None)
            reps[rep_id] = rep
            self._live += 1
            bucket.add(rep_id)
            rep.heap_entry = BucketEntry(rep_id, bucket)
            return
        old = entry.bucket
        if old.key == key:
            return
        bucket = self._bucket_near(key, old)
        bucket.add(entry.rep_id)
        entry.bucket = bucket
        self._discard(old, entry.rep_id)

    def remove(self, rep: Any) -> None:
        entry: BucketEntry | None = rep.heap_entry
        if entry is None:
            return
        rep.heap_entry = None
        self._live -= 1
        self._discard(entry.bucket, entry.rep_id)

    def best(self) -> Any | None:
        first = self._first
        return self._reps[first.min_id] if first is not None else None

    def _bucket_near(self, key: float, start: KeyBucket) -> KeyBucket:
        """The bucket of ``key``, linked in if there is none, searched from ``start`` (the bucket
        of the rep's old key: its new key is usually the next one)."""
        bucket = start
        if key > bucket.key:
            after = bucket.next
            while after is not None and after.key <= key:
                bucket = after
                after = bucket.next
            return bucket if bucket.key == key else self._new_bucket(key, bucket, after)
        before = bucket.prev
        while before is not None and before.key >= key:
            bucket = before
            before = bucket.prev
        return bucket if bucket.key == key else self._new_bucket(key, before, bucket)

    def _new_bucket(self, key: float, before: KeyBucket | None, after: KeyBucket | None) -> KeyBucket:
        """An empty bucket for ``key``, linked between ``before`` and ``after``. (Every NaN key
        gets here, equal to no bucket's: it has no place in the order, so it is refused.)"""
        if math.isnan(key):
            raise ValueError("a rep's key must be a number, not NaN")
        spare = self._spare
        if spare:
            bucket = spare.pop()
            bucket.key = key
        else:
            bucket = KeyBucket(key)
        self._join(before, bucket)
        self._join(bucket, after)
        return bucket

    def _discard(self, bucket: KeyBucket, rep_id: i64) -> None:
        """Take ``rep_id`` out of ``bucket``; unlink the bucket if that empties it."""
        bucket.discard(rep_id)
        if bucket.count > 0:
            return
        self._join(bucket.prev, bucket.next)
        bucket.prev = bucket.next = None
        self._spare.append(bucket)

    def _join(self, left: KeyBucket | None, right: KeyBucket | None) -> None:
        """Make ``right`` follow ``left`` in the list (None: its start, or its end)."""
        if left is None:
            self._first = right
        else:
            left.next = right
        if right is not None:
            right.prev = left
