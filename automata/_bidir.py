"""The exact search for a shortest reset word: bidirectional BFS, then DFS.

After Kisielewicz, Kowalski and Szykuła, and the memory-bounded design of
Szykuła and Zyzik: forward levels hold images ``Q·w``, backward levels
preimages ``{q}·w⁻¹``; each step expands the smaller side, and the search
ends when a forward set lies inside a backward set. Repeats of stored sets
are dropped, and dominated sets (supersets of seen images, subsets of seen
preimages) are pruned while it pays.

Two things bound the breadth-first phase:

* an upper bound (a known reset word, from the beam): lengths at or above
  it are never searched, and when the few lengths left are cheaper to check
  depth-first than by building more levels, the search switches to the
  depth-first phase;
* the memory budget: when the next level would not fit, the search goes on
  depth-first instead of failing.

The depth-first phase lives in :mod:`automata._bidir_deep`, the stored levels of
each side in :mod:`automata._bidir_levels`; this module is the driver that picks
the side to step, tests every length and decides when to go depth-first.
"""
from __future__ import annotations

import time

import numba
import numpy as np

from automata import _kernels_bidir as KB
from automata import _kernels_split as KS
from automata._bidir_deep import _depth_first, _dfs_cost
from automata._bidir_levels import (
    _EXACT_ESTIMATE_ROWS,
    _LOG_MIN_SECONDS,
    LAST_RUN,
    _meet_scratch,
    _Side,
    merge_cascade,
    table_bytes,
    trie_friendly_relabel,
)
from automata._limits import Limits
from automata._malloc import fixed_mmap_threshold, one_malloc_arena

__all__ = ["LAST_RUN", "bidirectional", "merge_cascade", "table_bytes", "trie_friendly_relabel"]

#: The depth-first phase is chosen when its predicted set count is below
#: this share of the breadth-first one (it stores nothing and skips the
#: merges into the stored runs, so a set costs it less).
_DFS_PREFERENCE = 0.5
#: ... and below this share when the breadth-first sets still to come would
#: take _LARGE_BFS_BYTES or more. The set counts miss that a breadth-first set
#: costs more on larger levels: at 2.5 the search goes deep earlier and holds
#: a third to a half of the memory, and took 7-25 % less time on random binary
#: n = 400 (seeds 1, 2) and 500 (seed 0), but 1.26 times as long on n = 300
#: (docs/results/solver.md, 2026-12-07). There, at the point where 2.5 goes
#: deep, the breadth-first sets to come were predicted at 0.1-0.6 GiB; on
#: n = 400 seed 1, 3.1 GiB (seed 0: 1.0 GiB). The switch depends on sizes only,
#: never on the thread count, so the word found stays the same for any count.
_DFS_PREFERENCE_LARGE = 2.5
_LARGE_BFS_BYTES = 2 << 30
#: Bytes held by the next step from which glibc's mmap threshold is fixed
#: (below this, what its sliding threshold can keep resident is small).
_FIXED_MMAP_BYTES = 64 << 20
#: The last length is checked by a forward step unless its images would
#: outnumber the backward step's preimages this many times (see _last_length).
_LAST_FORWARD_RATIO = 2.0


def _bfs_cost(fwd_size, bwd_size, fwd_growth, bwd_growth, k, steps):
    """Sets expanded by ``steps`` more breadth-first steps (smaller side first)."""
    f, b, total = float(fwd_size), float(bwd_size), 0.0
    for _ in range(steps):
        if f <= b:
            total += f * k
            f *= max(fwd_growth, 1.0)
        else:
            total += b * k
            b *= max(bwd_growth, 1.0)
    return total


def bidirectional(delta: np.ndarray, limits: Limits, upper: list[int] | None = None,
                  min_words: int = 1, force_dfs: bool = False,
                  threads: int | None = None) -> list[int]:
    """Exact shortest reset word of a synchronizing automaton (n >= 2).

    With the invariant that every word's image (preimage) contains (is
    contained in) some kept set of the same or an earlier level, the first
    step at which a forward set of the last forward level is contained in a
    backward set of the last backward level gives a shortest reset word (its
    length is the sum of the levels).

    Parameters
    ----------
    delta : numpy.ndarray
        Transition table, int32, (n_letters, n_states).
    limits : Limits
        Memory budget and deadline.
    upper : list of int, optional
        A known reset word: only shorter ones are searched for; it is
        returned when none exists.
    min_words : int
        Forces wider bitsets than needed (tests of the multi-word path).
    force_dfs : bool
        Go depth-first as soon as both sides have made one step (tests of
        the depth-first phase).
    threads : int, optional
        Threads of the large kernels (:mod:`automata._kernels_split`, the
        meet); one by default, at most numba's thread count
        (``NUMBA_NUM_THREADS``). The word found is the same for any count.
    """
    LAST_RUN.clear()
    LAST_RUN.update(peak_estimate=0, phase="bfs", fwd_depth=0, bwd_depth=0, steps=[])
    stepped = None
    k, n = delta.shape
    if threads is None:
        threads = 1
    threads = max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS))
    if threads > 1:
        one_malloc_arena()  # per-thread arenas broke the memory budget (see _malloc)
    W = max((n + 63) // 64, min_words)
    nbits = 64 * W
    limits.check_memory(table_bytes(n, k, W) + 64 * n * W,
                        "the lookup tables of the shortest reset word search")
    delta = trie_friendly_relabel(delta, W)
    full = np.zeros(W, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    fwd = _Side(full.reshape(1, W).copy(), KB._tables(delta, False, W), full, True, nbits, threads)
    singles = np.zeros((n, W), dtype=np.uint64)
    for q in range(n):
        singles[q, q >> 6] = np.uint64(1) << np.uint64(q & 63)
    bwd = _Side(singles, KB._tables(delta, True, W), full, False, nbits, threads)
    base = fwd.tab.nbytes + bwd.tab.nbytes
    row = 8 * W
    LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], base)
    while True:
        LAST_RUN.update(fwd_depth=fwd.depth, bwd_depth=bwd.depth)
        length = fwd.depth + bwd.depth
        at_bound = upper is not None and length + 1 >= len(upper)
        go_deep = False
        if not at_bound:
            limits.check_time(
                f"the shortest reset word search (no reset word of length < {length})")
            held = base + fwd.stored_bytes() + bwd.stored_bytes()
            side = fwd if fwd.size <= bwd.size else bwd
            need = held + side.step_cost(k)
            if side.size * k >= _EXACT_ESTIMATE_ROWS:
                # After the step, the meet copies the backward level (k
                # times its size when that side steps).
                b_next = bwd.size * (k if side is bwd else 1)
                need = max(need, held + side.size * k * (2 * row + 6)
                           + _meet_scratch(b_next, row))
            if need >= _FIXED_MMAP_BYTES:
                # glibc's sliding mmap threshold kept freed blocks resident,
                # beyond the bytes every phase is sized by (see _malloc).
                fixed_mmap_threshold(limits.budget)
            go_deep = need > limits.budget or (force_dfs and fwd.depth > 0 and bwd.depth > 0)
            if not go_deep and upper is not None and min(fwd.size, bwd.size) >= n * k:
                # Growth rates mean little while the levels are small (backward
                # levels even shrink at first), so the shortcut waits for both
                # sides to reach n·k sets, as in Szykuła and Zyzik's solver.
                steps = len(upper) - 1 - length
                bfs = _bfs_cost(fwd.size, bwd.size, fwd.growth, bwd.growth, k, steps)
                dfs = _dfs_cost(bwd.size, bwd.growth, steps)
                large = bfs * row >= _LARGE_BFS_BYTES
                go_deep = dfs < (_DFS_PREFERENCE_LARGE if large else _DFS_PREFERENCE) * bfs
        # Every length is tested: the first meet is a shortest word only
        # because no shorter length met (kept sets may come from earlier levels).
        clock = time.perf_counter()
        i, j = KB._meet(fwd.keys, bwd.level, full, nbits, threads)
        if stepped is not None:
            t_meet = time.perf_counter() - clock
            if stepped[3] + t_meet >= _LOG_MIN_SECONDS:
                LAST_RUN["steps"].append(stepped + (t_meet,))
        if i >= 0:
            return fwd.word(fwd.depth, i)[::-1] + bwd.word(bwd.depth, j)
        if at_bound:
            LAST_RUN["phase"] = "bound"
            return list(upper)
        if go_deep:
            LAST_RUN["phase"] = "dfs"
            return _depth_first(fwd, bwd, held, row, k, upper, limits)
        if upper is not None and length + 2 == len(upper):
            LAST_RUN["phase"] = "last"
            LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], need)
            found = _last_length(fwd, bwd, held, row, k, limits.budget)
            return list(upper) if found is None else found
        LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], need)
        clock = time.perf_counter()
        side.step()
        stepped = ("F" if side.forward else "B", side.depth, side.size, time.perf_counter() - clock)
        if side.size == 0:  # pragma: no cover - the pair graph said synchronizing
            raise AssertionError("exact search exhausted a direction on a synchronizing automaton")


def _last_length(fwd, bwd, held, row, k, budget):
    """A reset word one letter longer than the levels, or None.

    The last length below the bound needs one more step of one side but
    never the level itself: the new sets are tested against the other
    side's last level and dropped, with no merge into the stored runs (which
    go now, the search ends here). The forward step is taken unless the
    images outnumber the preimages more than ``_LAST_FORWARD_RATIO`` times
    (or would not fit the budget): a new preimage is a query of the deep,
    branching kind (rand2_400 seed 0: 6 M of them took 37 s), a new image
    costs a sort, and the fewer old preimages query a larger trie (10 M
    images and that meet: 14 s)."""
    held -= (int(fwd.starts[fwd.nruns]) + int(bwd.starts[bwd.nruns])) * row
    fwd.runs = bwd.runs = None
    m = fwd.size * k
    # Images with parents and letters, their complements, then the sort
    # buffers and the distinct copy; then the meet's copy of the preimages.
    forward_need = held + m * (2 * row + 54) + _meet_scratch(bwd.size, row)
    if bwd.size <= fwd.size and (m > _LAST_FORWARD_RATIO * bwd.size * k
                                 or forward_need > budget):
        # The new preimages are only queries: they need no sorting, and
        # repeats or sets seen before cannot meet (a shorter word would
        # have), so testing them all costs less than sorting them out.
        new, parent, letter = KS.expand(bwd.level, bwd.tab, True, bwd.threads)
        i, j = KB._meet(fwd.keys, new, bwd.full, bwd.nbits, bwd.threads)
        if i < 0:
            return None
        return (fwd.word(fwd.depth, i)[::-1] + [int(letter[j])]
                + bwd.word(bwd.depth, int(parent[j])))
    LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], forward_need)
    # The new images form the trie of the query, so they are sorted and
    # made distinct, but not checked against the stored runs (as above).
    keys, parent, letter = KS.expand(fwd.level, fwd.tab, False, fwd.threads)
    KS.complement_in_place(keys, fwd.full, fwd.threads)  # the images become their keys
    keep = KS.sort_unique(keys, fwd.threads)
    i, j = KB._meet(KS.take_rows(keys, keep, fwd.threads), bwd.level, fwd.full, fwd.nbits,
                    fwd.threads)
    if i < 0:
        return None
    i = keep[i]
    return (fwd.word(fwd.depth, int(parent[i]))[::-1] + [int(letter[i])]
            + bwd.word(bwd.depth, j))
