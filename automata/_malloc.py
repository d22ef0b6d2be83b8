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
  more than its arrays, enough to carry two threads past the budget. A fixed threshold
  (``mallopt(M_MMAP_THRESHOLD, …)``, which also stops the sliding) brings the resident set
  close to the arrays plus the interpreter's floor on one thread and two alike. Its size
  trades memory for page faults (a fresh mapping faults every page it touches), on the
  same search, one / two threads: 1 MiB held 1,096 / 1,104 MiB at a peak with 1.74 / 1.89 s
  of system time, 16 MiB 1,112 / 1,112 MiB with 1.34 / 1.51 s, the sliding default 1,126 /
  1,210 MiB with 1.27 s (one thread).

Both settings are process-wide and affect only later allocations: the arena is set once,
before the first split kernel runs; the threshold when a search's steps grow past tens of
MiB (on small levels fresh mappings cost more time than the heap's reuse saves memory), at
16 MiB or a 64th of the search's budget if smaller, and set again only when a later search
asks for another value. Allocations below the threshold are untouched.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["MMAP_THRESHOLD_BYTES", "fixed_mmap_threshold", "one_malloc_arena"]

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_M_ARENA_MAX = -8
#: Blocks from this size on are mapped, and unmapped when freed (the module docstring
#: says why 16 MiB).
MMAP_THRESHOLD_BYTES = 16 << 20
_done: set[str] = set()
_threshold = [0]  # the threshold set so far (0: glibc's sliding default)


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


def fixed_mmap_threshold(budget_bytes: int | None = None) -> bool:
    """Fix glibc's mmap threshold (which also stops its sliding) at
    :data:`MMAP_THRESHOLD_BYTES`, or at a 64th of ``budget_bytes`` when that is smaller (what
    can stay resident on the heap grows with the threshold, so a small budget gets a small
    one; at least 1 MiB). Called once a search's steps reach tens of MiB: a fresh mapping
    costs page faults, and fixed at 1 MiB from the start it made a search of small levels a
    fifth slower (random binary n = 300 seed 3: 1.13-1.22 s against 0.90-0.93 s). True if the
    threshold holds now; False without glibc."""
    value = MMAP_THRESHOLD_BYTES
    if budget_bytes is not None:
        value = max(1 << 20, min(value, int(budget_bytes) // 64))
    if _threshold[0] != value and _mallopt(_M_MMAP_THRESHOLD, value):
        _threshold[0] = value
    return _threshold[0] == value


def _set_once(name: str, param: int, value: int) -> bool:
    if name not in _done and _mallopt(param, value):
        _done.add(name)
    return name in _done
