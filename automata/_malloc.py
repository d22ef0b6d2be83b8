"""glibc malloc settings for the exact search, so that its resident set is what it counts.

The search sizes every step from a byte count of the arrays it holds (``memory_gib``).
Two glibc habits made the process hold more than that count:

* **Per-thread arenas.** glibc gives every thread that allocates its own arena, and memory
  freed in one arena is not reused by another: with the search's kernels split across two
  threads the resident set grew by 2-14 % over one thread's (rand2_300 seed 0: 1,116 MiB
  against 1,038). With one arena for the whole process (``mallopt(M_ARENA_MAX, 1)``) two
  threads hold no more than one at the same speed. Set only for searches on several threads.
* **The sliding mmap threshold.** Blocks above the threshold are mapped and go back to the
  system when freed, but each such free raises the threshold (up to 32 MiB), after which
  blocks of up to that size come from the heap, where a freed block stays resident whenever
  a live one sits above it. Traced on random binary n = 300 seed 1 at ``memory_gib=1``
  (2026-12-07): between steps the process held 75 MiB (one thread) to 150 MiB (two)
  more than its arrays, enough to carry two threads past the budget. A fixed threshold of
  1 MiB (``mallopt(M_MMAP_THRESHOLD, …)``, which also stops the sliding) brought the
  resident set between steps to the arrays plus the interpreter's floor on one thread and
  two alike (peak 1,092 and 1,100 MiB, against 1,126 and 1,210).

Both settings are process-wide and affect only later allocations, so each is made once: the
arena before the first split kernel runs, the threshold when the search's steps grow past
tens of MiB (on small levels fresh mappings cost more time than the heap's reuse saves
memory). Small allocations (below 1 MiB) are untouched.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["MMAP_THRESHOLD_BYTES", "fixed_mmap_threshold", "one_malloc_arena"]

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_M_ARENA_MAX = -8
#: Blocks from this size on are mapped, and unmapped when freed.
MMAP_THRESHOLD_BYTES = 1 << 20
_done: set[str] = set()


def _mallopt(param: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)))
    except (OSError, AttributeError):
        return False


def one_malloc_arena() -> bool:
    """Ask glibc for one malloc arena shared by all threads (before the first split kernel
    runs: arenas already created stay). True if set now or before; elsewhere (no glibc, not
    Linux) nothing changes and False is returned."""
    return _set_once("arena", _M_ARENA_MAX, 1)


def fixed_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES` (which also stops its
    sliding). Called once a search's steps reach tens of MiB: a fresh mapping costs page
    faults, which made a search of small levels a fifth slower (random binary n = 300 seed 3:
    1.13-1.22 s against 0.90-0.93 s). True if set now or before; False without glibc."""
    return _set_once("mmap", _M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def _set_once(name: str, param: int, value: int) -> bool:
    if name not in _done and _mallopt(param, value):
        _done.add(name)
    return name in _done
