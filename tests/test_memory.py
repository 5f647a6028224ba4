"""Memory handed back: malloc's helpers, and a full collection once a session is dropped."""

from __future__ import annotations

import gc
import time
import weakref

import pytest

from playground.jobs import process_memory as memory


def resident_megabytes() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


def test_the_malloc_helpers_work_here():
    assert memory.limit_malloc_arenas() is True  # glibc on every machine this project runs on


def test_memory_freed_inside_the_heap_goes_back_to_the_system():
    """Small blocks freed below a live one stay with malloc until it is trimmed."""
    blocks = [bytearray(2000) for _ in range(50_000)]  # about 100 MB of small blocks
    pinned = bytearray(2000)  # above them: the heap cannot simply shrink from its top
    del blocks
    before = resident_megabytes()
    assert memory.release_free_memory() is True
    assert resident_megabytes() < before - 50
    del pinned


class Cycle:
    """Garbage that only a full collection frees: it refers to itself."""

    def __init__(self):
        self.me = self


def wait_for_scheduled_collections() -> None:
    """Sessions dropped by earlier tests may have a collection on its way: let it pass."""
    deadline = time.monotonic() + 10
    while memory._scheduled and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the collection itself


@pytest.mark.slow
def test_a_dropped_session_gets_its_reference_cycles_collected(monkeypatch):
    monkeypatch.setattr(memory, "COLLECT_DELAY_SECONDS", 0.2)
    wait_for_scheduled_collections()
    gc.collect()
    gc.disable()  # no collection by chance: only the one the dropped session asks for
    try:
        session_memory, garbage = memory.SessionMemory(), Cycle()
        alive = weakref.ref(garbage)
        del garbage
        time.sleep(0.5)
        assert alive() is not None, "a cycle outlives its last name without a collection"
        del session_memory  # Streamlit drops the session's state
        deadline = time.monotonic() + 10
        while alive() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive() is None
    finally:
        gc.enable()


@pytest.mark.slow
def test_sessions_dropped_together_share_one_collection(monkeypatch):
    monkeypatch.setattr(memory, "COLLECT_DELAY_SECONDS", 0.3)
    wait_for_scheduled_collections()
    collections = []
    monkeypatch.setattr(memory, "collect_and_release", lambda: collections.append(time.monotonic()))
    tokens = [memory.SessionMemory() for _ in range(20)]
    del tokens
    time.sleep(1.0)
    assert len(collections) == 1


def test_long_lived_objects_leave_later_collections():
    frozen_before = gc.get_freeze_count()
    long_lived = [Cycle() for _ in range(1000)]
    memory.freeze_long_lived()
    try:
        assert gc.get_freeze_count() >= frozen_before + len(long_lived)
    finally:
        gc.unfreeze()  # other tests collect as usual
