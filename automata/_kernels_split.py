"""The breadth-first step of the exact search, split across threads.

Each kernel here gives exactly what its one-thread counterpart in
:mod:`automata._kernels_bidir` gives (the same rows, in the same order,
with the same parents), so the word found does not depend on the thread
count; the tests compare them on random families. Families smaller than
``_SPLIT_MIN_ROWS`` stay on one thread, where starting the threads would
cost more than the work.

The parallel kernels are called from Python only, never from another
compiled function: numba cannot cache a compiled caller of a parallel
kernel (loaded from the cache, it crashes: numba issue 8578), so a step
split across threads is a short Python sequence of kernel calls.

How the work is cut:

* expanding: contiguous blocks of the level, one per thread, each writing
  its images where the one-thread kernel would (row ``i·k`` on), then
  closed up if empty preimages were dropped;
* sorting: a sample sort. Splitter rows from an evenly spaced sample cut the
  family into one range of the sorted order per thread; every row goes to
  the range its splitters say (equal rows always together), and each range
  is sorted on its own by the stable one-thread sort. Keys are far from
  uniform (the trie-friendly relabelling packs the common states into the
  high bits), so ranges by leading bits would be badly unbalanced; ranges by
  sample are not. Among equal rows the first in the input stays, as in the
  one-thread radix sort;
* repeats of stored keys: the sorted candidates are cut into contiguous
  blocks, each looked up from a binary search of its first row on;
* the meet test: stripes of the queries (``_kernels_bidir._covered_parallel``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from automata import _kernels_bidir as KB
from automata._interruptible import run_long

__all__ = ["complement", "complement_in_place", "expand", "reduce_new_dupes", "side_step", "sort_unique", "take_rows"]

#: Rows from which a kernel is split across threads (below, one thread).
_SPLIT_MIN_ROWS = 1 << 15
#: Sample rows per thread from which the sort's splitters are drawn.
_SAMPLE_PER_PART = 256


@njit(cache=True, parallel=True, nogil=True)
def _expand_split(level, tab, drop_empty, parts):
    """:func:`_kernels_bidir._expand` on ``parts`` threads."""
    m, W = level.shape
    k = tab.shape[0]
    out = np.zeros((m * k, W), dtype=np.uint64)
    parent = np.empty(m * k, dtype=np.int32)
    letter = np.empty(m * k, dtype=np.int16)
    counts = np.zeros(parts, dtype=np.int64)
    for t in prange(parts):
        lo = t * m // parts
        hi = (t + 1) * m // parts
        counts[t] = KB._expand_rows(level, tab, drop_empty, lo, hi, out, parent, letter, lo * k)
    # Close the gaps left by dropped empty images (backward steps only);
    # each block moves down, so copying in block order never overwrites
    # rows still to be moved.
    cnt = counts[0]
    for t in range(1, parts):
        src = (t * m // parts) * k
        if src != cnt:
            for r in range(counts[t]):
                for w in range(W):
                    out[cnt + r, w] = out[src + r, w]
                parent[cnt + r] = parent[src + r]
                letter[cnt + r] = letter[src + r]
        cnt += counts[t]
    return out[:cnt], parent[:cnt], letter[:cnt]


@njit(cache=True, nogil=True)
def _splitters(sets, parts):
    """``parts - 1`` rows cutting the sorted order of ``sets`` into ranges
    of about equal size, read off an evenly spaced sample."""
    m, W = sets.shape
    ns = min(m, _SAMPLE_PER_PART * parts)
    sample = np.empty((ns, W), dtype=np.uint64)
    for t in range(ns):
        sample[t] = sets[t * m // ns]
    order = KB._lex_order(sample)
    out = np.empty((parts - 1, W), dtype=np.uint64)
    for p in range(1, parts):
        out[p - 1] = sample[order[p * ns // parts]]
    return out


@njit(cache=True, parallel=True, nogil=True)
def _sort_unique_split(sets, parts):
    """:func:`_kernels_bidir._sort_unique` on ``parts`` threads (a sample
    sort; see the module docstring)."""
    m, W = sets.shape
    split = _splitters(sets, parts)
    part_of = np.empty(m, dtype=np.int16)
    counts = np.zeros((parts, parts), dtype=np.int64)  # [block, range]
    for b in prange(parts):
        for i in range(b * m // parts, (b + 1) * m // parts):
            p = 0
            while p < parts - 1 and not KB._less(sets, i, split, p, W):
                p += 1
            part_of[i] = p
            counts[b, p] += 1
    # Each range's rows in input order: range by range, block by block.
    at = np.empty((parts, parts), dtype=np.int64)
    bounds = np.zeros(parts + 1, dtype=np.int64)
    pos = 0
    for p in range(parts):
        bounds[p] = pos
        for b in range(parts):
            at[b, p] = pos
            pos += counts[b, p]
    bounds[parts] = pos
    rows = np.empty(m, dtype=np.int64)
    for b in prange(parts):
        nxt = at[b].copy()
        for i in range(b * m // parts, (b + 1) * m // parts):
            p = part_of[i]
            rows[nxt[p]] = i
            nxt[p] += 1
    kept = np.zeros(parts, dtype=np.int64)
    for p in prange(parts):
        lo = bounds[p]
        order = KB._lex_order_rows(sets, rows[lo:bounds[p + 1]], False)
        cnt = 0
        for t in range(order.shape[0]):
            i = order[t]
            if cnt == 0 or not KB._equal(sets, i, sets, rows[lo + cnt - 1], W):
                rows[lo + cnt] = i
                cnt += 1
        kept[p] = cnt
    cnt = kept[0]
    for p in range(1, parts):
        lo = bounds[p]
        for t in range(kept[p]):
            rows[cnt + t] = rows[lo + t]
        cnt += kept[p]
    return rows[:cnt]  # a view: a copy would add 8 bytes a row at the peak


@njit(cache=True, parallel=True, nogil=True)
def _member_split(S, C, parts):
    """:func:`_kernels_bidir._member` on ``parts`` threads."""
    out = np.zeros(C.shape[0], dtype=np.bool_)
    m = C.shape[0]
    for t in prange(parts):
        lo = t * m // parts
        hi = (t + 1) * m // parts
        if lo < hi:
            # Start the block's gallop where its first row would sit in S.
            a = 0
            b = S.shape[0]
            while a < b:
                mid = (a + b) >> 1
                if KB._less(S, mid, C, lo, S.shape[1]):
                    a = mid + 1
                else:
                    b = mid
            KB._member_range(S[a:], C, lo, hi, out)
    return out


@njit(cache=True, parallel=True, nogil=True)
def _complement_split(sets, full, out, parts):
    """``out = ~sets & full`` row by row on ``parts`` threads (``out`` may be ``sets``)."""
    m = sets.shape[0]
    for t in prange(parts):
        for i in range(t * m // parts, (t + 1) * m // parts):
            for w in range(sets.shape[1]):
                out[i, w] = ~sets[i, w] & full[w]


@njit(cache=True, nogil=True)
def _take_rows(X, idx):
    """``X[idx]``."""
    return X[idx]


@njit(cache=True, parallel=True, nogil=True)
def _take_rows_split(X, idx, parts):
    """``X[idx]`` on ``parts`` threads."""
    m = idx.shape[0]
    W = X.shape[1]
    out = np.empty((m, W), dtype=X.dtype)
    for t in prange(parts):
        for r in range(t * m // parts, (t + 1) * m // parts):
            for w in range(W):
                out[r, w] = X[idx[r], w]
    return out


def side_step(level, tab, full, forward, runs, starts, nruns, nbits, dominate, threads):
    """One breadth-first step of one direction (``_kernels_bidir._side_step``:
    expand, drop repeats of stored keys and, if ``dominate``, dominated keys,
    store the new keys as a run), its large kernels on ``threads`` threads.

    Returns (new level, its sorted keys, parents, letters, runs, nruns,
    number of rows dropped by domination alone)."""
    if not _splits(level.shape[0], threads):
        return run_long(KB._side_step, level, tab, full, forward, runs, starts, nruns, nbits,
                        dominate)
    new, parent, letter = run_long(_expand_split, level, tab, not forward, threads)
    if forward:
        # The forward keys replace the images (complemented in place), which
        # are recovered from the few kept keys below (saves a full copy).
        complement_in_place(new, full, threads)
    keep = reduce_new_dupes(new, runs, starts, nruns, threads)
    n_dom = 0
    if dominate and keep.shape[0] > 0:
        dead = run_long(KB._dominated, take_rows(new, keep, threads), runs, starts, nruns, nbits)
        n_dom = int(dead.sum())
        keep = keep[~dead]
    kept_keys = take_rows(new, keep, threads)
    del new
    # The merges stay on one thread: they stream rows through memory, and
    # split along the merge path they ran no faster (6 M rows: 0.09 s on
    # one thread, 0.12 s on two).
    runs, nruns = run_long(KB._push_run, runs, starts, nruns, kept_keys, rows=kept_keys.shape[0])
    level_out = complement(kept_keys, full, threads) if forward else kept_keys
    return level_out, kept_keys, parent[keep], letter[keep], runs, nruns, n_dom


def reduce_new_dupes(new, runs, starts, nruns, threads):
    """Row indices of the sorted distinct rows of ``new`` not already stored
    in a run (``_kernels_bidir._reduce_new_dupes``), on ``threads`` threads
    when ``new`` is large."""
    if not _splits(new.shape[0], threads):
        return run_long(KB._reduce_new_dupes, new, runs, starts, nruns)
    keep = run_long(_sort_unique_split, new, threads)
    cand = take_rows(new, keep, threads)
    alive = np.ones(cand.shape[0], dtype=np.bool_)
    for r in range(nruns):
        stored = runs[starts[r]:starts[r + 1]]
        if stored.shape[0]:
            alive &= ~run_long(_member_split, stored, cand, threads, rows=cand.shape[0])
    return keep[alive]


def expand(level, tab, drop_empty, threads):
    """``_kernels_bidir._expand`` on ``threads`` threads when the level is large."""
    if _splits(level.shape[0], threads):
        return run_long(_expand_split, level, tab, drop_empty, threads)
    return run_long(KB._expand, level, tab, drop_empty)


def sort_unique(sets, threads):
    """``_kernels_bidir._sort_unique`` on ``threads`` threads when the family is large."""
    if _splits(sets.shape[0], threads):
        return run_long(_sort_unique_split, sets, threads)
    return run_long(KB._sort_unique, sets)


def complement_in_place(sets, full, threads):
    """``sets = ~sets & full``, on ``threads`` threads when ``sets`` is large."""
    run_long(_complement_split, sets, full, sets, threads if _splits(sets.shape[0], threads) else 1,
             rows=sets.shape[0])


def complement(sets, full, threads):
    """``_kernels_bidir._complement`` (a new array) on ``threads`` threads when ``sets`` is large."""
    if not _splits(sets.shape[0], threads):
        return run_long(KB._complement, sets, full)
    out = np.empty_like(sets)
    run_long(_complement_split, sets, full, out, threads, rows=sets.shape[0])
    return out


def take_rows(X, idx, threads):
    """``X[idx]`` on ``threads`` threads when many rows are taken (on one
    thread too a compiled copy: numpy's fancy indexing of short rows took
    0.8 s of a 17 s search)."""
    if _splits(idx.shape[0], threads):
        return run_long(_take_rows_split, X, idx, threads, rows=idx.shape[0])
    return run_long(_take_rows, X, idx, rows=idx.shape[0])


def _splits(rows, threads):
    """Whether a call on ``rows`` rows is split (the threshold is read at
    call time, so tests can split tiny families)."""
    return threads > 1 and rows >= _SPLIT_MIN_ROWS
