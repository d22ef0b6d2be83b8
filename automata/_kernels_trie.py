"""An explicit subset trie of a fixed family, for the depth-first phase.

The implicit trie of ``_kernels_bidir._walk`` tests the bits in one fixed
order, so deep in the trie a query branches on states that split its
subfamily badly. This trie picks, at every node, the bit that is set in the
fewest keys of the node's subfamily (estimated on an evenly spaced sample of
them) among the bits not constant on it: a query row with that bit set
follows only the small "one" child, and the other queries both. Every node
also keeps the most bits of a key below it, so a query with more bits (it
cannot be a subset of any of them) stops there. Szykuła and Zyzik's solver
verifies its last levels against such a trie (adaptive division bits, a
cardinality bound per subtree); this is our own version of the idea for
the complemented keys of the forward level.

Building costs a few passes over the keys (about a second per 2 M keys of
n = 400), so the depth-first phase builds it only when many queries follow.

Layout: nodes in preorder, so a node's "zero" child is the next node; the
rows of the family are reordered in place so that every node's keys form a
contiguous range; ``perm`` maps a reordered row to its original index.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

from automata._interruptible import run_long
from automata._kernels_bidir import _STRIPES, _is_subset, _meet_queries, _row_bits, _runtime_flags

U0 = np.uint64(0)
U1 = np.uint64(1)
#: Most keys in a leaf (scanned one by one).
_TRIE_LEAF = 16
#: Keys sampled per node to choose its division bit.
_TRIE_SAMPLE = 24


@njit(cache=True, inline="always")
def _swap3(X, a, b, W, perm, pop):
    """Swap rows a and b of X and their entries in the companion arrays."""
    for w in range(W):
        t = X[a, w]
        X[a, w] = X[b, w]
        X[b, w] = t
    p = perm[a]
    perm[a] = perm[b]
    perm[b] = p
    q = pop[a]
    pop[a] = pop[b]
    pop[b] = q


@njit(cache=True, inline="always")
def _partition_by_bit(X, lo, hi, d, W, perm, pop):
    """Reorder rows [lo, hi) of X (with their companions) so that those with
    bit ``d`` clear come first; returns the first row with it set."""
    wd = d >> 6
    mask = U1 << np.uint64(d & 63)
    a = lo
    b = hi - 1
    while a <= b:
        if X[a, wd] & mask == U0:
            a += 1
        else:
            while b > a and X[b, wd] & mask != U0:
                b -= 1
            if b > a:
                _swap3(X, a, b, W, perm, pop)
                a += 1
            b -= 1
    return a


@njit(cache=True, nogil=True)
def _division_bit(S, lo, hi, counts, cand):
    """The bit set in the fewest sampled keys of rows [lo, hi) among the
    bits that are neither set nor clear in all of them (-1 if none: the rows
    are equal)."""
    W = S.shape[1]
    for w in range(W):
        o = U0
        a = ~U0
        for r in range(lo, hi):
            o |= S[r, w]
            a &= S[r, w]
        cand[w] = o & ~a
    m = hi - lo
    ns = min(m, _TRIE_SAMPLE)
    for w in range(W):
        x = cand[w]
        while x != U0:
            t = trailing_zeros(x)
            counts[64 * w + t] = 0
            x &= x - U1
    for s in range(ns):
        r = lo + (s * m) // ns
        for w in range(W):
            x = S[r, w] & cand[w]
            while x != U0:
                t = trailing_zeros(x)
                counts[64 * w + t] += 1
                x &= x - U1
    best = -1
    best_count = ns + 1
    for w in range(W):
        x = cand[w]
        while x != U0:
            t = trailing_zeros(x)
            b = 64 * w + t
            if counts[b] < best_count:
                best_count = counts[b]
                best = b
            x &= x - U1
    return best


@njit(cache=True, nogil=True)
def _trie_build(S):
    """Build the trie of the distinct rows of S, reordering S in place.

    Returns ``(perm, bit, one, lo, hi, maxpop)``: ``perm[r]`` the original
    index of row r; per node its division bit (-1 for a leaf), the index of
    its "one" child (its "zero" child is the next node), its row range and
    the most bits of a key in it."""
    m, W = S.shape
    perm = np.empty(m, dtype=np.int32)
    pop = np.empty(m, dtype=np.int32)
    for r in range(m):
        perm[r] = r
        pop[r] = _row_bits(S, r)
    cap = max(64, (4 * m) // _TRIE_LEAF + 64)
    bit = np.empty(cap, dtype=np.int32)
    one = np.empty(cap, dtype=np.int32)
    nlo = np.empty(cap, dtype=np.int32)
    nhi = np.empty(cap, dtype=np.int32)
    counts = np.zeros(64 * W, dtype=np.int64)
    cand = np.empty(W, dtype=np.uint64)
    # Tasks: (row lo, row hi, parent whose "one" child this is, or -1).
    st = np.empty((64 * W + 8, 3), dtype=np.int64)
    top = 0
    if m > 0:
        st[0, 0] = 0
        st[0, 1] = m
        st[0, 2] = -1
        top = 1
    nodes = 0
    while top > 0:
        top -= 1
        lo = st[top, 0]
        hi = st[top, 1]
        parent = st[top, 2]
        while True:
            if nodes == cap:
                cap *= 2
                bit2 = np.empty(cap, dtype=np.int32)
                one2 = np.empty(cap, dtype=np.int32)
                lo2 = np.empty(cap, dtype=np.int32)
                hi2 = np.empty(cap, dtype=np.int32)
                bit2[:nodes] = bit[:nodes]
                one2[:nodes] = one[:nodes]
                lo2[:nodes] = nlo[:nodes]
                hi2[:nodes] = nhi[:nodes]
                bit, one, nlo, nhi = bit2, one2, lo2, hi2
            v = nodes
            nodes += 1
            if parent >= 0:
                one[parent] = v
                parent = -1
            nlo[v] = lo
            nhi[v] = hi
            one[v] = -1
            d = -1
            if hi - lo > _TRIE_LEAF:
                d = _division_bit(S, lo, hi, counts, cand)
            bit[v] = d
            if d < 0:
                break
            a = _partition_by_bit(S, lo, hi, d, W, perm, pop)
            # Rows [lo, a) have the bit clear (the zero child, next node);
            # rows [a, hi) have it set (the one child, built later).
            st[top, 0] = a
            st[top, 1] = hi
            st[top, 2] = v
            top += 1
            hi = a
    maxpop = np.empty(nodes, dtype=np.int32)
    for v in range(nodes - 1, -1, -1):
        if bit[v] < 0:
            best = 0
            for r in range(nlo[v], nhi[v]):
                best = max(best, pop[r])
            maxpop[v] = best
        else:
            maxpop[v] = max(maxpop[v + 1], maxpop[one[v]])
    return perm, bit[:nodes].copy(), one[:nodes].copy(), nlo[:nodes].copy(), nhi[:nodes].copy(), maxpop


@njit(cache=True, nogil=True)
def _trie_walk(S, bit, one, nlo, nhi, maxpop, C, ids, qpop, found, stop, first):
    """Mark ``found[ids[u]]`` for every row u of C that is a subset of a key
    of the trie; C, ``ids`` and ``qpop`` (the rows' bit counts) are permuted
    in place. With ``first`` it stops at the first such row, or as soon as
    ``stop[0]`` is set (by a walk on other rows of C)."""
    W = S.shape[1]
    m = C.shape[0]
    if S.shape[0] == 0 or m == 0:
        return
    no, yes = _runtime_flags(W)
    st = np.empty((64 * W + 8, 4), dtype=np.int64)
    st[0, 0] = 0
    st[0, 1] = 0
    st[0, 2] = m
    st[0, 3] = 0
    top = 1
    nfound = 0
    while top > 0:
        if first and stop[0]:
            return
        top -= 1
        v = st[top, 0]
        c_lo = st[top, 1]
        c_hi = st[top, 2]
        stale = st[top, 3] != nfound
        while True:
            # Keep the rows not yet found that have no more bits than the
            # largest key below this node.
            cap = maxpop[v]
            t = c_lo
            for u in range(c_lo, c_hi):
                if qpop[u] <= cap and not (stale and found[ids[u]]):
                    if t != u:
                        _swap3(C, t, u, W, ids, qpop)
                    t += 1
            c_hi = t
            stale = False
            if c_lo >= c_hi:
                break
            d = bit[v]
            if d < 0:
                for u in range(c_lo, c_hi):
                    i = ids[u]
                    for j in range(nlo[v], nhi[v]):
                        if _is_subset(C, u, S, j, W, no):
                            found[i] = True
                            nfound += 1
                            break
                    if first and found[i]:
                        stop[0] = True
                        return
                break
            a = _partition_by_bit(C, c_lo, c_hi, d, W, ids, qpop)
            # Rows with the bit set fit only keys with it set (the one
            # child); rows with it clear fit either child: the one child
            # later with every row, the zero child now with the clear ones.
            st[top, 0] = one[v]
            st[top, 1] = c_lo
            st[top, 2] = c_hi
            st[top, 3] = nfound
            top += 1
            if a == c_lo:
                break
            v = v + 1
            c_hi = a
    return


@njit(cache=True, nogil=True)
def _trie_covered(S, bit, one, nlo, nhi, maxpop, C, first):
    """Boolean mask over rows of C: is the row a subset of a key of the
    trie? C is not changed. With ``first`` the mask holds at most one True."""
    m = C.shape[0]
    found = np.zeros(m, dtype=np.bool_)
    stop = np.zeros(1, dtype=np.bool_)
    qpop = np.empty(m, dtype=np.int32)
    for u in range(m):
        qpop[u] = _row_bits(C, u)
    _trie_walk(S, bit, one, nlo, nhi, maxpop, C.copy(), np.arange(m), qpop, found, stop, first)
    return found


@njit(cache=True, parallel=True, nogil=True)
def _trie_covered_parallel(S, bit, one, nlo, nhi, maxpop, C, first, parts):
    """:func:`_trie_covered` with the rows of C walked on ``parts`` threads
    (with ``first``, the mask may hold a few Trues); C is cut into stripes
    dealt out in turn, as in ``_kernels_bidir._covered_parallel``."""
    m = C.shape[0]
    found = np.zeros(m, dtype=np.bool_)
    stop = np.zeros(1, dtype=np.bool_)
    qpop = np.empty(m, dtype=np.int32)
    for u in range(m):
        qpop[u] = _row_bits(C, u)
    work = C.copy()
    ids = np.arange(m)
    slices = parts * _STRIPES
    for t in prange(parts):
        for u in range(t, slices, parts):
            lo = u * m // slices
            hi = (u + 1) * m // slices
            _trie_walk(S, bit, one, nlo, nhi, maxpop, work[lo:hi], ids[lo:hi], qpop[lo:hi],
                       found, stop, first)
    return found


@njit(cache=True, nogil=True)
def _first_cover(S, perm, C, j):
    """Smallest original index of a key (row of S) that contains row j of C,
    or -1: the key the unordered family would give first."""
    W = S.shape[1]
    best = -1
    for r in range(S.shape[0]):
        if (best < 0 or perm[r] < best) and _is_subset(C, j, S, r, W, False):
            best = perm[r]
    return best


class SubsetTrie:
    """The trie of a family of keys (reordered in place) with the meet test
    of the depth-first phase on it."""

    def __init__(self, keys):
        self.keys = keys
        self.perm, self.bit, self.one, self.lo, self.hi, self.maxpop = run_long(_trie_build, keys)
        self.largest = int(self.maxpop[0]) if len(self.maxpop) else -1

    @staticmethod
    def bytes_per_key():
        """Peak bytes per key on top of the keys, while building: the order
        and the bit counts (4 + 4), the node arrays first allocated (16
        bytes for each of 4 / _TRIE_LEAF nodes a key) and the nodes kept (20
        bytes each; 0.3 a key on random n = 400 levels, counted as 0.5).
        The built trie keeps about 10 bytes a key."""
        return 8 + (4 * 16) // _TRIE_LEAF + 10

    def covered(self, C, first, threads=1):
        rows = min(self.keys.shape[0], C.shape[0])
        if threads < 2:
            return run_long(_trie_covered, self.keys, self.bit, self.one, self.lo, self.hi,
                            self.maxpop, C, first, rows=rows)
        return run_long(_trie_covered_parallel, self.keys, self.bit, self.one, self.lo, self.hi,
                        self.maxpop, C, first, threads, rows=rows)

    def meet(self, bwd_level, full, threads=1):
        """A pair (i, j) with forward set i (its key's original index) inside
        backward set j, or (-1, -1): the pair ``_kernels_bidir._meet`` gives
        on the keys in their original order (the smallest j, then the first
        key containing it), so the word found does not depend on the trie."""
        bcomp, sel = _meet_queries(bwd_level, full, self.largest)
        if not self.covered(bcomp, True, threads).any():
            return -1, -1
        j = int(np.argmax(self.covered(bcomp, False, threads)))
        return int(_first_cover(self.keys, self.perm, bcomp, j)), int(sel[j])
