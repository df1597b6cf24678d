"""The rep heap (least-loaded routing) against a plain scan over the reps, under random updates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.compiled import is_compiled
from sim.model.engine import repheap
from sim.model.engine.repheap import BucketRepHeap, RepHeap, rep_heap


class FakeRep:
    __slots__ = ("heap_entry", "id")

    def __init__(self, rep_id: int) -> None:
        self.id = rep_id
        self.heap_entry = None


# An operation: (kind, rep index, key). "take" updates whichever rep is best, as a desk does
# when it gives its best rep a lead (the entry on top of the heap is replaced in place).
operation = st.tuples(st.sampled_from(["update", "remove", "take"]), st.integers(0, 11), st.integers(-20, 20))


@pytest.mark.parametrize("kind", [RepHeap, BucketRepHeap], ids=["tuple-heap", "key-buckets"])
@settings(deadline=None, max_examples=300)
@given(st.lists(operation, max_size=400))
def test_best_is_the_smallest_key_then_the_lowest_id(kind: type[RepHeap], ops: list[tuple[str, int, int]]) -> None:
    """Both kinds of heap — tuples on heapq (the pure-Python build's) and :class:`BucketRepHeap`
    (the compiled build's) — choose what a scan would."""
    reps = [FakeRep(13 * i) for i in range(12)]  # ids over five 32-bit words of a bucket's bitset
    heap, keys = kind(), {}

    def expected() -> FakeRep | None:
        if not keys:
            return None
        return reps[min(keys, key=lambda i: (keys[i], i))]

    for op, index, key in ops:
        if op == "take":
            best = heap.best()
            assert best is expected()
            if best is None:
                continue
            index = best.id // 13
            op = "update"
        if op == "update":
            heap.update(reps[index], key / 20)
            keys[index] = key / 20
        else:
            heap.remove(reps[index])
            keys.pop(index, None)
        assert heap.best() is expected()
        if kind is BucketRepHeap:  # each eligible rep in its key's bucket; non-empty buckets linked in key order
            buckets, bucket = [], heap._first
            while bucket is not None:
                assert bucket.prev is (buckets[-1] if buckets else None)
                buckets.append(bucket)
                bucket = bucket.next
            assert [b.key for b in buckets] == sorted({b.key for b in buckets})
            assert all(b.count > 0 for b in buckets)
            assert sum(b.count for b in buckets) == len(keys) == heap._live
            assert all(reps[i].heap_entry.bucket.key == k for i, k in keys.items())
            assert all(not any(b.words) and b.min_id == -1 for b in heap._spare)
    # stale entries never outnumber live ones by much (the heap compacts itself)
    assert len(heap._heap) <= 4 * len(keys) + 65


def test_the_desks_get_the_native_heap_exactly_where_the_module_is_compiled() -> None:
    expected = BucketRepHeap if is_compiled(repheap.__file__) else RepHeap
    assert type(rep_heap()) is expected


def test_buckets_order_extreme_keys_and_far_apart_ids() -> None:
    """Keys at the ends of the float line and equal keys of either sign share the (key, id) order;
    ids far apart (a word of the bitset each, and beyond the first word) find their bucket's lowest."""
    heap = BucketRepHeap()
    reps = {rep_id: FakeRep(rep_id) for rep_id in (0, 31, 32, 64, 1000, 5000)}
    keys = {0: 0.0, 31: -0.0, 32: float("inf"), 64: -float("inf"), 1000: -float("inf"), 5000: 1e300}
    for rep_id, key in keys.items():
        heap.update(reps[rep_id], key)
    order = []
    while (best := heap.best()) is not None:
        order.append(best.id)
        heap.remove(best)
    assert order == [64, 1000, 0, 31, 5000, 32]
    assert heap._first is None and heap._live == 0


def test_buckets_move_a_rep_across_several_keys_both_ways() -> None:
    heap = BucketRepHeap()
    reps = [FakeRep(i) for i in range(6)]
    for i, rep in enumerate(reps):
        heap.update(rep, float(i))
    heap.update(reps[0], 4.5)  # past four buckets upwards, between two
    assert heap.best() is reps[1]
    heap.update(reps[5], -1.0)  # down past all of them
    assert heap.best() is reps[5]
    heap.update(reps[5], 4.0)  # into an existing bucket: the lower id goes first
    heap.remove(reps[5])
    heap.remove(reps[1])
    heap.remove(reps[2])
    heap.remove(reps[3])
    assert heap.best() is reps[4]
    heap.remove(reps[4])
    assert heap.best() is reps[0]


def test_buckets_refuse_a_negative_rep_id_and_a_nan_key() -> None:
    heap = BucketRepHeap()
    with pytest.raises(ValueError, match="non-negative"):
        heap.update(FakeRep(-1), 0.0)
    rep = FakeRep(3)
    with pytest.raises(ValueError, match="NaN"):
        heap.update(rep, float("nan"))
    assert heap.best() is None and heap._live == 0 and rep.heap_entry is None
    heap.update(rep, 0.5)
    with pytest.raises(ValueError, match="NaN"):
        heap.update(rep, float("nan"))
    assert heap.best() is rep and heap._live == 1  # left where it was
