"""Numba kernels on raw transition tables (no validation here).

Conventions: ``delta`` is a C-contiguous int32 array ``(n_letters, n_states)``;
a subset of at most 64 states is one ``uint64`` (bit ``q`` = state ``q``).
Every integer that meets a ``uint64`` is cast to ``uint64`` first, because
numba turns mixed signed/unsigned arithmetic into floats.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

U1 = np.uint64(1)
U0 = np.uint64(0)
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


@intrinsic
def _popcount(typingctx, x):
    """Number of set bits of a uint64 (one CPU instruction)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@intrinsic
def _ctz(typingctx, x):
    """Index of the lowest set bit of a non-zero uint64."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


# ---------------------------------------------------------------------------
# Pair graph: is the automaton synchronizing?
# ---------------------------------------------------------------------------
@njit(cache=True)
def _predecessors(delta):
    """CSR lists of predecessors: for letter a and state q, the states p with
    delta[a, p] == q are ``order[a, start[a, q]:start[a, q + 1]]``."""
    k, n = delta.shape
    start = np.zeros((k, n + 1), dtype=np.int64)
    order = np.empty((k, n), dtype=np.int32)
    for a in range(k):
        for p in range(n):
            start[a, delta[a, p] + 1] += 1
        for q in range(n):
            start[a, q + 1] += start[a, q]
        fill = start[a, :n].copy()
        for p in range(n):
            q = delta[a, p]
            order[a, fill[q]] = p
            fill[q] += 1
    return start, order


def pair_graph_bytes(n):
    """Bytes of the arrays of :func:`_pair_graph_start` for ``n`` states."""
    pairs = n * (n - 1) // 2 + n
    return n * n + pairs * (4 if n * n < 2 ** 31 else 8)


@njit(cache=True)
def _pair_graph_start(delta, queue):
    """State of the pair-graph search of :func:`_pair_graph_run`: the seen
    marks (one byte per ordered pair), the queue seeded with the diagonal and
    the counters ``[head, tail, found]``. ``queue`` is the empty queue array,
    int32 where every pair code fits."""
    k, n = delta.shape
    seen = np.zeros(n * n, dtype=np.uint8)
    for q in range(n):
        queue[q] = q * n + q
    state = np.zeros(3, dtype=np.int64)
    state[1] = n
    return seen, state


@njit(cache=True)
def _pair_graph_run(delta, start, order, seen, queue, state, max_pops):
    """Advance the backward search from the diagonal over unordered pairs by at
    most ``max_pops`` queue entries; returns 1 when every pair is mergeable,
    -1 when the queue ran dry first (not synchronizing), 0 to be continued.

    A pair {p, q} is mergeable iff some letter maps it onto a mergeable pair
    or onto one state. Each pair is expanded once and its predecessor pairs
    are the products of predecessor lists, so the whole search costs
    O(n_letters * n_states**2); the chunks let the caller check its limits.
    """
    k, n = delta.shape
    head = state[0]
    tail = state[1]
    found = state[2]
    need = n * (n - 1) // 2
    stop = head + max_pops
    result = 0
    while head < tail and head < stop:
        code = np.int64(queue[head])
        head += 1
        p = code // n
        q = code % n
        for a in range(k):
            for i in range(start[a, p], start[a, p + 1]):
                pp = order[a, i]
                for j in range(start[a, q], start[a, q + 1]):
                    qq = order[a, j]
                    if pp == qq:
                        continue
                    lo = pp if pp < qq else qq
                    hi = qq if pp < qq else pp
                    c = lo * n + hi
                    if seen[c] == 0:
                        seen[c] = 1
                        queue[tail] = c
                        tail += 1
                        found += 1
        if found == need:
            result = 1
            break
    if result == 0 and head >= tail:
        result = 1 if found == need else -1
    state[0] = head
    state[1] = tail
    state[2] = found
    return result


def pair_graph_synchronizing(delta, limits=None, chunk=1 << 16):
    """True iff every pair of states can be merged (the automaton synchronizes).

    Runs :func:`_pair_graph_run` in chunks of ``chunk`` pairs; between chunks
    ``limits`` (an :class:`automata._limits.Limits`) may stop it, and Ctrl-C
    is noticed. Its memory, one byte per ordered pair plus the queue, is
    checked against the budget before anything is allocated.
    """
    k, n = delta.shape
    if n <= 1:
        return True
    if limits is not None:
        limits.check_memory(pair_graph_bytes(n), f"the pair graph of {n} states")
    start, order = _predecessors(delta)
    dtype = np.int32 if n * n < 2 ** 31 else np.int64
    queue = np.empty(n * (n - 1) // 2 + n, dtype=dtype)
    seen, state = _pair_graph_start(delta, queue)
    while True:
        result = _pair_graph_run(delta, start, order, seen, queue, state, chunk)
        if result != 0:
            return result == 1
        if limits is not None:
            limits.check_time("the synchronization check (pair graph)")


def _is_synchronizing(delta):
    """True iff every pair of states can be merged (no limits)."""
    return pair_graph_synchronizing(delta, None, 1 << 40)


# ---------------------------------------------------------------------------
# Small automata (n_states <= 64): one uint64 per subset
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _hash64(x, mask):
    return ((x * _HASH_MULT) >> np.uint64(20)) & mask


@njit(cache=True)
def _bfs64_length(delta, table, stamp, mark, queue):
    """Forward BFS from Q for n <= 64, lengths only; -1 if not synchronizing.

    ``table`` is a scratch open-addressing hash set whose slots count as
    empty unless ``stamp[slot] == mark``, so it is reused across automata
    without clearing; ``queue`` is scratch of half its size. Returns -2 if
    the scratch table would overflow.
    """
    k, n = delta.shape
    if n == 1:
        return 0
    full = (U1 << np.uint64(n)) - U1 if n < 64 else ~U0
    cap = table.shape[0]
    mask = np.uint64(cap - 1)
    limit = cap // 2
    head = 0
    tail = 0
    queue[tail] = full
    tail += 1
    h = _hash64(full, mask)
    table[h] = full
    stamp[h] = mark
    count = 1
    level_end = tail
    level = 0
    while head < tail:
        s = queue[head]
        head += 1
        for a in range(k):
            r = U0
            x = s
            while x != U0:
                b = _ctz(x)
                r |= U1 << np.uint64(delta[a, b])
                x &= x - U1
            if (r & (r - U1)) == U0:
                return level + 1
            h = _hash64(r, mask)
            while stamp[h] == mark and table[h] != r:
                h = (h + U1) & mask
            if stamp[h] == mark:
                continue
            stamp[h] = mark
            table[h] = r
            count += 1
            if count >= limit:
                return -2
            queue[tail] = r
            tail += 1
        if head == level_end:
            level += 1
            level_end = tail
    return -1


@njit(cache=True)
def _reset_lengths_batch(deltas, log_cap):
    """rt for each table of ``deltas`` (m, k, n), n <= 64; -1 if not
    synchronizing, -2 if the scratch table of 2**log_cap slots overflowed."""
    m = deltas.shape[0]
    out = np.empty(m, dtype=np.int64)
    cap = 1 << log_cap
    table = np.zeros(cap, dtype=np.uint64)
    stamp = np.zeros(cap, dtype=np.int64)
    queue = np.empty(cap // 2 + 1, dtype=np.uint64)
    for i in range(m):
        out[i] = _bfs64_length(deltas[i], table, stamp, i + 1, queue)
    return out


