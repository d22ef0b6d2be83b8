"""Numba kernels of the reset-word heuristics (upper bounds)."""
from __future__ import annotations

import numpy as np
from numba import njit

from automata._kernels import _popcount, _predecessors
from automata._kernels_bidir import _expand, _sort_unique


@njit(cache=True)
def _pair_merge_table(delta):
    """Shortest merging words of all pairs, by backward BFS from the diagonal.

    Returns ``(dist, step)`` of shape (n, n): ``dist[p, q]`` is the length of
    a shortest word merging p and q (-1 if none, 0 on the diagonal) and
    ``step[p, q]`` its first letter; following first letters pair by pair
    spells the whole word.
    """
    k, n = delta.shape
    start, order = _predecessors(delta)
    dist = np.full((n, n), -1, dtype=np.int32)
    step = np.full((n, n), -1, dtype=np.int16)
    queue = np.empty(n * (n - 1) // 2 + n, dtype=np.int64)
    head = 0
    tail = 0
    for q in range(n):
        dist[q, q] = 0
        queue[tail] = q * n + q
        tail += 1
    while head < tail:
        code = queue[head]
        head += 1
        p = code // n
        q = code % n
        d = dist[p, q]
        for a in range(k):
            for i in range(start[a, p], start[a, p + 1]):
                pp = order[a, i]
                for j in range(start[a, q], start[a, q + 1]):
                    qq = order[a, j]
                    if pp == qq or dist[pp, qq] >= 0:
                        continue
                    dist[pp, qq] = d + 1
                    dist[qq, pp] = d + 1
                    step[pp, qq] = a
                    step[qq, pp] = a
                    queue[tail] = pp * n + qq
                    tail += 1
    return dist, step


@njit(cache=True)
def _eppstein(delta):
    """Eppstein's greedy: repeatedly merge the pair of the current image with
    the shortest merging word. Returns the word, or an empty array with
    ``ok=False`` if some pair cannot be merged."""
    k, n = delta.shape
    dist, step = _pair_merge_table(delta)
    cur = np.arange(n).astype(np.int32)
    size = n
    mark = np.zeros(n, dtype=np.int32)
    word = np.empty(max(16, n), dtype=np.int16)
    wlen = 0
    stamp = 0
    while size > 1:
        best = -1
        bp = -1
        bq = -1
        for i in range(size):
            for j in range(i + 1, size):
                d = dist[cur[i], cur[j]]
                if d < 0:
                    return word[:0], False
                if best < 0 or d < best:
                    best = d
                    bp = cur[i]
                    bq = cur[j]
        while bp != bq:
            a = step[bp, bq]
            if wlen == word.shape[0]:
                grown = np.empty(2 * wlen, dtype=np.int16)
                grown[:wlen] = word[:wlen]
                word = grown
            word[wlen] = a
            wlen += 1
            bp = delta[a, bp]
            bq = delta[a, bq]
            stamp += 1
            new_size = 0
            for i in range(size):
                r = delta[a, cur[i]]
                if mark[r] != stamp:
                    mark[r] = stamp
                    cur[new_size] = r
                    new_size += 1
            size = new_size
    return word[:wlen], True


@njit(cache=True)
def _popcounts(sets):
    m, W = sets.shape
    out = np.zeros(m, dtype=np.int64)
    for i in range(m):
        c = 0
        for w in range(W):
            c += _popcount(sets[i, w])
        out[i] = c
    return out


@njit(cache=True)
def _beam(tab, full, width, max_steps):
    """Forward beam search over images of Q keeping the ``width`` smallest
    distinct sets of each level (fewest states first). Returns (found, word);
    gives up after ``max_steps`` levels."""
    W = full.shape[0]
    level = full.reshape(1, W).copy()
    lv_letters = []
    lv_parents = []
    for _ in range(max_steps):
        new, parent, letter = _expand(level, tab, False)
        keep = _sort_unique(new)
        cand = new[keep]
        pc = _popcounts(cand)
        order = np.argsort(pc, kind="mergesort")
        if order.shape[0] > width:
            order = order[:width]
        sel = keep[order]
        lv_letters.append(letter[sel])
        lv_parents.append(parent[sel])
        level = new[sel]
        if pc[order[0]] == 1:
            # Read the word back from the first singleton.
            L = len(lv_letters)
            word = np.empty(L, dtype=np.int16)
            idx = 0
            for t in range(L - 1, -1, -1):
                word[t] = lv_letters[t][idx]
                idx = lv_parents[t][idx]
            return True, word
    return False, np.empty(0, dtype=np.int16)


@njit(cache=True)
def _beam_back_level(level, itab, n_states, width):
    """One level of the backward beam: all preimages ``S·a⁻¹`` of the kept
    sets, repeats dropped, the ``width`` largest kept (ties in lexicographic
    order, so runs are reproducible). Returns (sets, parents, letters, hit)
    where ``hit`` is the index of a preimage equal to Q among the kept sets,
    or -1."""
    new, parent, letter = _expand(level, itab, True)
    keep = _sort_unique(new)
    cand = new[keep]
    pc = _popcounts(cand)
    order = np.argsort(-pc, kind="mergesort")
    if order.shape[0] > width:
        order = order[:width]
    sel = keep[order]
    hit = -1
    if order.shape[0] > 0 and pc[order[0]] == n_states:
        hit = 0
    return new[sel], parent[sel], letter[sel], hit
