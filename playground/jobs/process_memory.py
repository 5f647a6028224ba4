"""Keeping a long-running server's memory flat on Linux (glibc); elsewhere these do nothing.

Every training runs on a new thread, and glibc gives threads their own malloc arenas (up
to eight per core). Memory freed in an arena stays with the process, so each training left
tens of megabytes behind. Two arenas, and handing free memory back after each training,
keep a process that trains again and again nearly flat (benchmarks/allocator_pool.py).

In a Streamlit server the limit set here does not take effect: glibc fixes its arena limit
once more than eight arenas exist, and Streamlit's own threads had made 14 before app.py
first ran. There, only `MALLOC_ARENA_MAX=2` in the server's environment limits them. In the
classroom benchmark's Build & Train rounds it saved less than the spread between identical
runs without it; but learners decoding their own pictures (Your images) on Streamlit's many
script threads left hundreds of megabytes in arenas without it, and almost nothing with it
(benchmarks/classroom.py --own-images). So deploy/replicas.py sets it for every replica.

Most of what a class leaves behind is TensorFlow's, and none of this module reaches it. With
oneDNN on (TensorFlow's default on x86 Linux), every tensor of 4 KB or more comes from one
pool that reuses freed memory but never hands it back: a large tensor, once freed, leaves
resident memory that much higher, where a NumPy array of that size gives it all back, and
in a server the pool grows round after round of a class (benchmarks/allocator_pool.py).
With oneDNN off (`TF_ENABLE_ONEDNN_OPTS=0`) the pool is gone, but the Fast default trained
nearly twice as slowly, so oneDNN stays on. So trainings run in a process
of their own, which ends when the class does and gives that memory back (playground.jobs.worker);
this module's measures still serve that process, and a server that trains on its own threads.

A closed session's models, figures and arrays hold reference cycles, which only a full
garbage collection frees. Streamlit's collection after every rerun is off (it cost most of
a second per click; see .streamlit/config.toml) and Python's own full collections come
rarely, so a full collection also runs after each training and a moment after Streamlit
drops sessions.

A full collection walks every object: with TensorFlow, Keras and the shared models loaded,
hundreds of thousands of them, during which no other Python thread runs. So
once a shared resource has loaded, everything alive is frozen out of later collections
(`gc.freeze`): the collection then takes milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import threading
import weakref

M_ARENA_MAX = -8  # mallopt's parameter number for the arena limit, from glibc's malloc.h
MALLOC_ARENAS = 2
# Streamlit drops expired sessions in batches: one collection a moment later serves them all.
COLLECT_DELAY_SECONDS = 2.0


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas for threads started from now on; True if it took effect."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))


def release_free_memory() -> bool:
    """Hand memory that malloc holds but nobody uses back to the system; True if any was."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))


def freeze_long_lived() -> None:
    """Exempt every object alive now from later collections: call it once long-lived things
    (modules, shared models and data sets) have loaded. Whatever else is alive at that moment
    is exempted too, for good; that is why this runs only a few times per server."""
    gc.collect()
    gc.freeze()


def collect_and_release() -> None:
    """A full garbage collection, then `release_free_memory`."""
    gc.collect()
    release_free_memory()


_scheduled = False
_scheduled_lock = threading.Lock()


def collect_and_release_soon() -> None:
    """`collect_and_release` on a timer thread, COLLECT_DELAY_SECONDS from now. Calls made
    before it starts join it; calls made once it has started get a new one."""
    global _scheduled
    with _scheduled_lock:
        if _scheduled:
            return
        _scheduled = True
    timer = threading.Timer(COLLECT_DELAY_SECONDS, _collect_as_scheduled)
    timer.daemon = True
    timer.start()


def _collect_as_scheduled() -> None:
    global _scheduled
    with _scheduled_lock:
        _scheduled = False
    collect_and_release()


class SessionMemory:
    """Kept in one browser session's state: when Streamlit drops the session, and this with
    it, the memory the session held is collected and handed back."""

    def __init__(self):
        weakref.finalize(self, collect_and_release_soon)
