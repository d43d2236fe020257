"""heap.settle: start-up objects leave the collector's generations, cycles made later are still freed."""

from __future__ import annotations

import gc
import weakref

from tsunagaru import heap


class Node:
    def __init__(self) -> None:
        self.me = self


def test_settle_freezes_what_lives_and_later_cycles_are_still_collected() -> None:
    try:
        frozen = heap.settle()
        # frozen objects freed later (by other threads of a long test run) leave the permanent generation
        assert frozen > 0 and 0 < gc.get_freeze_count() <= frozen
        cycle = Node()
        ref = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert ref() is None
    finally:
        gc.unfreeze()
