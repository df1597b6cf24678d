"""The rep heap (least-loaded routing) against a plain scan over the reps, under random updates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.repheap import RepHeap


class FakeRep:
    __slots__ = ("heap_entry", "id")

    def __init__(self, rep_id: int) -> None:
        self.id = rep_id
        self.heap_entry = None


# An operation: (kind, rep index, key). "take" updates whichever rep is best, as a desk does
# when it gives its best rep a lead (the entry on top of the heap is replaced in place).
operation = st.tuples(st.sampled_from(["update", "remove", "take"]), st.integers(0, 11), st.integers(-20, 20))


@settings(deadline=None, max_examples=300)
@given(st.lists(operation, max_size=400))
def test_best_is_the_smallest_key_then_the_lowest_id(ops: list[tuple[str, int, int]]) -> None:
    reps = [FakeRep(i) for i in range(12)]
    heap, keys = RepHeap(), {}

    def expected() -> FakeRep | None:
        if not keys:
            return None
        return reps[min(keys, key=lambda i: (keys[i], i))]

    for kind, index, key in ops:
        if kind == "take":
            best = heap.best()
            assert best is expected()
            if best is None:
                continue
            index = best.id
            kind = "update"
        if kind == "update":
            heap.update(reps[index], key / 20)
            keys[index] = key / 20
        else:
            heap.remove(reps[index])
            keys.pop(index, None)
        assert heap.best() is expected()
    # stale entries never outnumber live ones by much (the heap compacts itself)
    assert len(heap._heap) <= 4 * len(keys) + 65
