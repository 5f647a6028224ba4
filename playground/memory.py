"""Keeping a long-running server's memory flat on Linux (glibc); elsewhere these do nothing.

Every training runs on a new thread, and glibc gives threads their own malloc arenas (up
to eight per core). Memory freed in an arena stays with the process, so each training left
tens of megabytes behind. Two arenas, and handing free memory back after each training,
kept eight trainings in one process within 15 MB here (982 → 997 MB), against 1,009 →
1,201 MB without.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_ARENA_MAX = -8  # mallopt's parameter number for the arena limit, from glibc's malloc.h
MALLOC_ARENAS = 2


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
