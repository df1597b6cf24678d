"""The rep heap (least-loaded routing) against a plain scan over the reps, under random updates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.compiled import is_compiled
from sim.model import repheap
from sim.model.repheap import NativeRepHeap, RepHeap, rep_heap


class FakeRep:
    __slots__ = ("heap_entry", "id")

    def __init__(self, rep_id: int) -> None:
        self.id = rep_id
        self.heap_entry = None


# An operation: (kind, rep index, key). "take" updates whichever rep is best, as a desk does
# when it gives its best rep a lead (the entry on top of the heap is replaced in place).
operation = st.tuples(st.sampled_from(["update", "remove", "take"]), st.integers(0, 11), st.integers(-20, 20))


@pytest.mark.parametrize("kind", [RepHeap, NativeRepHeap], ids=["tuple-heap", "native-entries"])
@settings(deadline=None, max_examples=300)
@given(st.lists(operation, max_size=400))
def test_best_is_the_smallest_key_then_the_lowest_id(kind: type[RepHeap], ops: list[tuple[str, int, int]]) -> None:
    """Both kinds of heap — tuples on heapq (the pure-Python build's) and :class:`NativeRepHeap`
    (the compiled build's) — choose what a scan would."""
    reps = [FakeRep(i) for i in range(12)]
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
            index = best.id
            op = "update"
        if op == "update":
            heap.update(reps[index], key / 20)
            keys[index] = key / 20
        else:
            heap.remove(reps[index])
            keys.pop(index, None)
        assert heap.best() is expected()
        if kind is NativeRepHeap:  # indexed: one entry per eligible rep, each knowing its place
            assert len(heap._heap) == len(keys)
            assert all(entry.pos == i for i, entry in enumerate(heap._heap))
    # stale entries never outnumber live ones by much (the heap compacts itself)
    assert len(heap._heap) <= 4 * len(keys) + 65


def test_the_desks_get_the_native_heap_exactly_where_the_module_is_compiled() -> None:
    expected = NativeRepHeap if is_compiled(repheap.__file__) else RepHeap
    assert type(rep_heap()) is expected
