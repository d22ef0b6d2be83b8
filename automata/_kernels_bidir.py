"""Numba kernels of the bidirectional exact search, on multi-word bitsets.

A family of subsets is a C-contiguous ``uint64`` array of shape ``(m, W)``;
state ``q`` is bit ``q % 64`` of word ``q // 64``. Families are sorted
lexicographically with word 0 most significant, which is the order of an
implicit binary trie whose level ``d`` tests bit ``63 - d % 64`` of word
``d // 64``; subset queries walk that trie by binary search, never build it.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

# numba's count-trailing-zeros intrinsic (one instruction); it lives in an
# "unsafe" module because it is undefined for 0, and every caller passes x != 0.
from numba.cpython.unsafe.numbers import trailing_zeros

from automata._interruptible import run_long

U0 = np.uint64(0)
U1 = np.uint64(1)
U255 = np.uint64(255)
#: Rows of S at which the trie walk switches to a plain scan (measured best
#: with rows swapped in place: 8-16 on random n = 200..300 levels).
_LEAF = 8
#: Rows from which families are sorted by radix sort (below, a merge sort of
#: indices is as fast and Černý-like searches make ~n² tiny sorts).
_RADIX_MIN_ROWS = 2048
#: Query rows below which a subset query stays on one thread.
_PARALLEL_MIN_ROWS = 8192
#: Slices per thread of a parallel subset query (see _covered_parallel).
_STRIPES = 16


@njit(cache=True, nogil=True)
def _tables(delta, inverse, words):
    """Per-letter byte lookup tables ``tab[a, c, v, :]``: the image (or, if
    ``inverse``, the preimage) of the states whose bits in byte ``c`` are
    ``v``. A whole image is then the OR of one lookup per non-zero byte.
    ``words`` is the bitset width W (at least ceil(n / 64))."""
    k, n = delta.shape
    W = words
    nc = (n + 7) // 8
    single = np.zeros((k, n, W), dtype=np.uint64)
    for a in range(k):
        for p in range(n):
            q = delta[a, p]
            if inverse:
                single[a, q, p >> 6] |= U1 << np.uint64(p & 63)
            else:
                single[a, p, q >> 6] |= U1 << np.uint64(q & 63)
    tab = np.zeros((k, nc, 256, W), dtype=np.uint64)
    for a in range(k):
        for c in range(nc):
            for v in range(1, 256):
                low = v & (-v)
                j = 0
                while (low >> j) != 1:
                    j += 1
                q = c * 8 + j
                prev = v & (v - 1)
                for w in range(W):
                    tab[a, c, v, w] = tab[a, c, prev, w]
                if q < n:
                    for w in range(W):
                        tab[a, c, v, w] |= single[a, q, w]
    return tab


@njit(cache=True, nogil=True)
def _expand_rows(level, tab, drop_empty, lo, hi, out, parent, letter, at):
    """Images ``S·a`` of rows ``lo:hi`` of ``level`` under every letter,
    written from row ``at`` of ``out`` (zeroed) with their source row and
    letter; empty images are skipped if asked. Returns the rows written."""
    W = level.shape[1]
    k = tab.shape[0]
    nc = tab.shape[1]
    cnt = at
    for i in range(lo, hi):
        for a in range(k):
            nonempty = False
            for c in range(nc):
                v = (level[i, c >> 3] >> np.uint64((c & 7) * 8)) & U255
                if v != U0:
                    for w in range(W):
                        out[cnt, w] |= tab[a, c, v, w]
            for w in range(W):
                if out[cnt, w] != U0:
                    nonempty = True
                    break
            if nonempty or not drop_empty:
                parent[cnt] = i
                letter[cnt] = a
                cnt += 1
            else:
                for w in range(W):
                    out[cnt, w] = U0
    return cnt - at


@njit(cache=True, nogil=True)
def _expand(level, tab, drop_empty):
    """All images ``S·a`` of a family under every letter, with the index of
    the source set and the letter; empty sets are dropped if asked."""
    m, W = level.shape
    k = tab.shape[0]
    out = np.zeros((m * k, W), dtype=np.uint64)
    parent = np.empty(m * k, dtype=np.int32)
    letter = np.empty(m * k, dtype=np.int16)
    cnt = _expand_rows(level, tab, drop_empty, 0, m, out, parent, letter, 0)
    return out[:cnt], parent[:cnt], letter[:cnt]


@njit(cache=True, inline="always")
def _less(x, i, y, j, W):
    for w in range(W):
        if x[i, w] != y[j, w]:
            return x[i, w] < y[j, w]
    return False


@njit(cache=True, inline="always")
def _equal(x, i, y, j, W):
    for w in range(W):
        if x[i, w] != y[j, w]:
            return False
    return True


@njit(cache=True, nogil=True)
def _radix_order(cur):
    """Stable permutation sorting ``uint64`` keys: LSD radix sort by bytes.
    The keys ``cur`` are overwritten (the caller's own copy: no second one).

    Each pass streams through memory, where a comparison sort of an index
    array jumps to a random key per comparison; bytes equal in every key
    (common in the high bytes of small states' words) cost no pass."""
    m = cur.shape[0]
    order = np.arange(m)
    tmp = np.empty(m, dtype=np.int64)
    nxt = np.empty(m, dtype=np.uint64)
    count = np.empty(257, dtype=np.int64)
    for shift in range(0, 64, 8):
        sh = np.uint64(shift)
        count[:] = 0
        for i in range(m):
            count[((cur[i] >> sh) & U255) + 1] += 1
        if count.max() == m:
            continue
        for b in range(256):
            count[b + 1] += count[b]
        for i in range(m):
            b = (cur[i] >> sh) & U255
            t = count[b]
            count[b] = t + 1
            nxt[t] = cur[i]
            tmp[t] = order[i]
        cur, nxt = nxt, cur
        order, tmp = tmp, order
    return order


@njit(cache=True, nogil=True)
def _lex_order_rows(sets, rows, every):
    """``rows`` (indices into ``sets``; with ``every``, all rows in order
    and ``rows`` unused) reordered so that their rows are sorted
    lexicographically (word 0 first); equal rows keep their order.

    One sort on word 0 (a radix sort on large families, a merge sort on
    small ones), then each run of equal first words is ordered on the
    remaining words: by insertion for short runs, by stable passes from the
    last word for long ones. Stability makes the first of equal rows the one
    kept by :func:`_sort_unique` whatever the size, so a sort split across
    threads keeps the same rows."""
    m = sets.shape[0] if every else rows.shape[0]
    W = sets.shape[1]
    first_words = np.empty(m, dtype=np.uint64)
    for t in range(m):
        first_words[t] = sets[t if every else rows[t], 0]
    if m >= _RADIX_MIN_ROWS:
        order = _radix_order(first_words)  # consumes first_words
    else:
        order = np.argsort(first_words, kind="mergesort")
    if not every:
        # Through ``rows`` in place: no second index array at the sort's peak.
        for t in range(m):
            order[t] = rows[order[t]]
    if W == 1:
        return order
    i = 0
    while i < m:
        first = sets[order[i], 0]
        j = i + 1
        while j < m and sets[order[j], 0] == first:
            j += 1
        if j - i > 1:
            if j - i <= 24:
                for t in range(i + 1, j):
                    x = order[t]
                    u = t - 1
                    while u >= i and _less(sets, x, sets, order[u], W):
                        order[u + 1] = order[u]
                        u -= 1
                    order[u + 1] = x
            else:
                sub = order[i:j].copy()
                for w in range(W - 1, 0, -1):
                    col = sets[sub, w]
                    sub = sub[np.argsort(col, kind="mergesort")]
                order[i:j] = sub
        i = j
    return order


@njit(cache=True, nogil=True)
def _lex_order(sets):
    """Permutation sorting the rows lexicographically (word 0 first)."""
    return _lex_order_rows(sets, np.empty(0, dtype=np.int64), True)


@njit(cache=True, nogil=True)
def _sort_unique(sets):
    """Indices of the distinct rows of ``sets`` in lexicographic order."""
    m, W = sets.shape
    order = _lex_order(sets)
    keep = np.empty(m, dtype=np.int64)
    cnt = 0
    for t in range(m):
        i = order[t]
        if cnt == 0 or not _equal(sets, i, sets, keep[cnt - 1], W):
            keep[cnt] = i
            cnt += 1
    return keep[:cnt]


@njit(cache=True, inline="always")
def _bit(x, i, depth):
    return (x[i, depth >> 6] >> np.uint64(63 - (depth & 63))) & U1


@njit(cache=True, inline="always")
def _is_subset(c, i, s, j, W, proper):
    strict = False
    for w in range(W):
        cw = c[i, w]
        sw = s[j, w]
        if cw & ~sw:
            return False
        if cw != sw:
            strict = True
    return strict or not proper


@njit(cache=True, inline="always")
def _swap_rows(X, ids, a, b, W):
    for w in range(W):
        t = X[a, w]
        X[a, w] = X[b, w]
        X[b, w] = t
    t2 = ids[a]
    ids[a] = ids[b]
    ids[b] = t2


@njit(cache=True, nogil=True)
def _walk(S, C, ids, found, stop, nbits, proper, first):
    """Mark ``found[ids[u]]`` for every row ``u`` of C that is a (proper)
    subset of a row of sorted, duplicate-free ``S``; C and ``ids`` are
    permuted in place.

    Walks the implicit trie of S with an explicit stack (recursive numba
    functions do not survive the on-disk cache). A task is (S range, C range,
    depth): the rows of S in the range agree on all bits before ``depth``.
    Rows of C with the depth bit clear go to both halves of S, rows with it
    set only to the upper half; the upper task keeps the whole C range and
    skips rows the lower subtree resolved. The rows themselves are swapped,
    not an index list: each partition then streams through memory instead of
    jumping to a random row per test, which halves the walk's time on large
    families. With ``first`` the walk stops at the first covered row, or as
    soon as ``stop[0]`` is set (by another walk on other rows of C).
    """
    W = S.shape[1]
    m = C.shape[0]
    if S.shape[0] == 0 or m == 0:
        return
    cap = 2 * nbits + 8
    st = np.empty((cap, 6), dtype=np.int64)
    nfound = 0
    st[0, 0] = 0
    st[0, 1] = S.shape[0]
    st[0, 2] = 0
    st[0, 3] = m
    st[0, 4] = 0
    st[0, 5] = 0
    top = 1
    while top > 0:
        if first and stop[0]:
            return
        top -= 1
        s_lo = st[top, 0]
        s_hi = st[top, 1]
        c_lo = st[top, 2]
        c_hi = st[top, 3]
        depth = st[top, 4]
        if st[top, 5] != nfound:
            # Drop rows resolved since this task was queued.
            t = c_lo
            for u in range(c_lo, c_hi):
                if not found[ids[u]]:
                    if t != u:
                        _swap_rows(C, ids, t, u, W)
                    t += 1
            c_hi = t
        while True:
            if s_lo >= s_hi or c_lo >= c_hi:
                break
            if s_hi - s_lo <= _LEAF or depth >= nbits:
                for u in range(c_lo, c_hi):
                    i = ids[u]
                    if found[i]:
                        continue
                    for j in range(s_lo, s_hi):
                        if _is_subset(C, u, S, j, W, proper):
                            found[i] = True
                            nfound += 1
                            break
                    if first and found[i]:
                        stop[0] = True
                        return
                break
            lo = s_lo
            hi = s_hi
            while lo < hi:
                mid = (lo + hi) >> 1
                if _bit(S, mid, depth) == U0:
                    lo = mid + 1
                else:
                    hi = mid
            s_mid = lo
            wd = depth >> 6
            sh = np.uint64(63 - (depth & 63))
            a = c_lo
            b = c_hi - 1
            while a <= b:
                if (C[a, wd] >> sh) & U1 == U0:
                    a += 1
                else:
                    while b > a and (C[b, wd] >> sh) & U1 != U0:
                        b -= 1
                    if b > a:
                        _swap_rows(C, ids, a, b, W)
                        a += 1
                    b -= 1
            c_mid = a
            depth += 1
            if s_mid == s_hi:
                # No row of S has the bit: rows of C with it cannot be covered.
                c_hi = c_mid
            elif s_mid == s_lo:
                pass
            elif c_mid == c_lo:
                s_lo = s_mid
            else:
                # Upper half later with every row; lower half now with the clear rows.
                st[top, 0] = s_mid
                st[top, 1] = s_hi
                st[top, 2] = c_lo
                st[top, 3] = c_hi
                st[top, 4] = depth
                st[top, 5] = nfound
                top += 1
                s_hi = s_mid
                c_hi = c_mid


@njit(cache=True, nogil=True)
def _covered(S, C, nbits, proper, first=False):
    """Boolean mask over rows of C: is the row a (proper) subset of a row of S?

    ``S`` must be sorted and duplicate-free; C is not changed. With
    ``first`` it stops at the first covered row (the mask then has at most
    one True)."""
    found = np.zeros(C.shape[0], dtype=np.bool_)
    stop = np.zeros(1, dtype=np.bool_)
    _walk(S, C.copy(), np.arange(C.shape[0]), found, stop, nbits, proper, first)
    return found


@njit(cache=True, parallel=True, nogil=True)
def _walk_striped(S, C, found, stop, nbits, proper, first, parts, copy):
    """:func:`_walk` of all rows of C (ids 0, 1, ...) on ``parts`` threads;
    C is permuted in place, or first copied (each thread copies its own
    rows) with ``copy``.

    The cost of a query grows steeply along the sorted order (the last
    quarter of a deep random level costs two thirds of the walk), so C is cut
    into ``_STRIPES`` slices per thread dealt out in turn, not into one
    block per thread: on a meet of 2.4 M queries against 2.6 M keys two
    blocks gave 1.2x, 32 stripes 1.66x with two threads."""
    m = C.shape[0]
    ids = np.arange(m)
    work = np.empty_like(C) if copy else C
    slices = parts * _STRIPES
    for t in prange(parts):
        for u in range(t, slices, parts):
            lo = u * m // slices
            hi = (u + 1) * m // slices
            if copy:
                work[lo:hi] = C[lo:hi]
            _walk(S, work[lo:hi], ids[lo:hi], found, stop, nbits, proper, first)


def _covered_parallel(S, C, nbits, proper, first, parts):
    """:func:`_covered` with the rows of C walked on ``parts`` threads
    (:func:`_walk_striped`). The mask is the same; with ``first`` every
    thread stops once any has found a row, so the mask may hold a few Trues.

    A Python function, not a compiled one: a cached compiled caller of a
    parallel kernel crashes numba when it is loaded from the cache (numba
    issue 8578), so parallel kernels are only ever called from Python."""
    found = np.zeros(C.shape[0], dtype=np.bool_)
    stop = np.zeros(1, dtype=np.bool_)
    _walk_striped(S, C, found, stop, nbits, proper, first, parts, True)
    return found


@njit(cache=True, nogil=True)
def _find_cover(S, C, i):
    """Index of a row of S that contains row ``i`` of C (brute force)."""
    W = S.shape[1]
    for j in range(S.shape[0]):
        if _is_subset(C, i, S, j, W, False):
            return j
    return -1


@njit(cache=True, nogil=True)
def _complement(sets, full):
    out = np.empty_like(sets)
    for i in range(sets.shape[0]):
        for w in range(sets.shape[1]):
            out[i, w] = ~sets[i, w] & full[w]
    return out


@njit(cache=True, nogil=True)
def _merge_tail(data, starts, nruns):
    """Merge the last two runs stored in ``data`` (``starts`` has nruns+1
    entries) in place, dropping repeats; returns the new number of rows used.

    Only the second run is copied out; the merge then fills the joint area
    from its end, which never overtakes the unread rows of the first run."""
    W = data.shape[1]
    a0 = starts[nruns - 2]
    b0 = starts[nruns - 1]
    b1 = starts[nruns]
    tmp = data[b0:b1].copy()
    i = b0 - 1
    j = b1 - b0 - 1
    t = b1 - 1
    while j >= 0:
        if i >= a0 and _less(tmp, j, data, i, W):
            for w in range(W):
                data[t, w] = data[i, w]
            i -= 1
        else:
            if i >= a0 and _equal(tmp, j, data, i, W):
                i -= 1
            for w in range(W):
                data[t, w] = tmp[j, w]
            j -= 1
        t -= 1
    # Rows a0..i are in place; close the gap left by dropped repeats.
    gap = t - i
    if gap > 0:
        for r in range(t + 1, b1):
            for w in range(W):
                data[r - gap, w] = data[r, w]
    return b1 - gap


@njit(cache=True, nogil=True)
def _member_range(S, C, lo, hi, out):
    """Sets ``out[i]`` for the rows ``lo:hi`` of sorted C that occur in
    sorted ``S`` (the rows not found are left as they are).

    The rows of C are looked up in order, each by a galloping search from
    where the previous one ended: the probes stay close together (cache
    friendly), and a run of S much longer than C is still crossed in
    logarithmic steps."""
    W = S.shape[1]
    n = S.shape[0]
    pos = 0
    for i in range(lo, hi):
        # Gallop: find hi with S[hi] >= C[i] (or the end), lo with S[lo - 1] < C[i].
        a = pos
        step = 1
        b = pos
        while b < n and _less(S, b, C, i, W):
            a = b + 1
            b = pos + step
            step *= 2
        if b > n:
            b = n
        while a < b:
            mid = (a + b) >> 1
            if _less(S, mid, C, i, W):
                a = mid + 1
            else:
                b = mid
        if a < n and _equal(S, a, C, i, W):
            out[i] = True
        pos = a


@njit(cache=True, nogil=True)
def _member(S, C):
    """Boolean mask over rows of sorted C: does the row occur in sorted ``S``?"""
    out = np.zeros(C.shape[0], dtype=np.bool_)
    _member_range(S, C, 0, C.shape[0], out)
    return out


@njit(cache=True, nogil=True)
def _reduce_new_dupes(new, runs_data, run_starts, nruns):
    """Sorted distinct rows of ``new`` not already stored in a run; returns
    row indices into ``new``."""
    keep = _sort_unique(new)
    cand = new[keep]
    alive = np.ones(cand.shape[0], dtype=np.bool_)
    for r in range(nruns):
        S = runs_data[run_starts[r]:run_starts[r + 1]]
        if S.shape[0] == 0:
            continue
        m = _member(S, cand)
        for t in range(cand.shape[0]):
            if m[t]:
                alive[t] = False
    return keep[alive]


@njit(cache=True, nogil=True)
def _push_run(runs, starts, nruns, keys):
    """Append sorted ``keys`` as a new run and merge runs so that their sizes
    at least halve from first to last (O(log) runs, amortised O(log) merges
    per row). Returns the possibly regrown ``runs`` and the new run count."""
    used = starts[nruns]
    need = used + keys.shape[0]
    if need > runs.shape[0]:
        cap = max(need, 2 * runs.shape[0])
        grown = np.empty((cap, runs.shape[1]), dtype=np.uint64)
        grown[:used] = runs[:used]
        runs = grown
    runs[used:need] = keys
    nruns += 1
    starts[nruns] = need
    while nruns >= 2 and 2 * (starts[nruns] - starts[nruns - 1]) >= starts[nruns - 1] - starts[nruns - 2]:
        end = _merge_tail(runs, starts, nruns)
        nruns -= 1
        starts[nruns] = end
    return runs, nruns


@njit(cache=True, inline="always")
def _runtime_flags(nbits):
    """(False, True) as values only known at run time.

    Passed as literal constants from compiled code, the flags make numba
    compile a specialised walk that runs about four times slower than the
    one compiled for run-time flags (measured: 3.8 s against 0.8 s on a meet
    of 411k against 528k sets). Derived from an argument, they stay plain
    booleans."""
    no = nbits < 0
    return no, not no


@njit(cache=True, nogil=True)
def _dominated(cand, runs, starts, nruns, nbits):
    """Mask over the sorted distinct rows ``cand``: the row is a proper subset
    of another row, or a subset of a stored row (domination pruning)."""
    no, yes = _runtime_flags(nbits)
    dead = np.zeros(cand.shape[0], dtype=np.bool_)
    for r in range(nruns):
        S = runs[starts[r]:starts[r + 1]]
        if S.shape[0] == 0:
            continue
        sel = np.flatnonzero(~dead)
        if sel.shape[0] == 0:
            break
        m = _covered(S, cand[sel], nbits, no, no)
        for t in range(sel.shape[0]):
            if m[t]:
                dead[sel[t]] = True
    sel = np.flatnonzero(~dead)
    if sel.shape[0] > 1:
        sub = cand[sel]
        m = _covered(sub, sub, nbits, yes, no)
        for t in range(sel.shape[0]):
            if m[t]:
                dead[sel[t]] = True
    return dead


@njit(cache=True, nogil=True)
def _side_step(level, tab, full, forward, runs, starts, nruns, nbits, dominate):
    """One BFS step of one direction: expand, drop repeats of stored keys and,
    if ``dominate``, dominated keys; store the new keys as a run.

    Returns (new level, its sorted keys, parents, letters, runs, nruns,
    number of rows dropped by domination alone)."""
    new, parent, letter = _expand(level, tab, not forward)
    if forward:
        # Complement in place: the forward keys replace the images, which
        # are recovered from the few kept keys below (saves a full copy).
        for i in range(new.shape[0]):
            for w in range(new.shape[1]):
                new[i, w] = ~new[i, w] & full[w]
    keys = new
    keep = _reduce_new_dupes(keys, runs, starts, nruns)
    n_dom = 0
    if dominate and keep.shape[0] > 0:
        dead = _dominated(keys[keep], runs, starts, nruns, nbits)
        n_dom = int(dead.sum())
        keep = keep[~dead]
    kept_keys = keys[keep]
    runs, nruns = _push_run(runs, starts, nruns, kept_keys)
    level_out = _complement(kept_keys, full) if forward else kept_keys
    return level_out, kept_keys, parent[keep], letter[keep], runs, nruns, n_dom


@njit(cache=True, nogil=True)
def _expand_keys(keys, tab, full):
    """The keys (complements) of all images ``S·a`` of the sets whose keys
    are given, with parents and letters: :func:`_expand` of the complements,
    complemented back, without a copy of the level."""
    m, W = keys.shape
    k = tab.shape[0]
    nc = tab.shape[1]
    out = np.zeros((m * k, W), dtype=np.uint64)
    parent = np.empty(m * k, dtype=np.int32)
    letter = np.empty(m * k, dtype=np.int16)
    for i in range(m):
        for a in range(k):
            r = i * k + a
            for c in range(nc):
                v = ((~keys[i, c >> 3] & full[c >> 3]) >> np.uint64((c & 7) * 8)) & U255
                if v != U0:
                    for w in range(W):
                        out[r, w] |= tab[a, c, v, w]
            for w in range(W):
                out[r, w] = ~out[r, w] & full[w]
            parent[r] = i
            letter[r] = a
    return out, parent, letter


@njit(cache=True, nogil=True)
def _gather_rows_in_place(X, idx):
    """``X[:len(idx)] = X[idx]`` in place for distinct indices ``idx``
    (one spare row, a flag per row): the rows a gather would copy into a
    second array move along the paths and cycles of the index map."""
    L = idx.shape[0]
    m, W = X.shape
    needed = np.zeros(m, dtype=np.bool_)
    for t in range(L):
        needed[idx[t]] = True
    done = np.zeros(L, dtype=np.bool_)
    # Paths: start where the current row is wanted by no destination.
    for t0 in range(L):
        if done[t0] or needed[t0]:
            continue
        cur = t0
        while True:
            src = idx[cur]
            if src != cur:
                for w in range(W):
                    X[cur, w] = X[src, w]
            done[cur] = True
            if src >= L or done[src]:
                break
            cur = src
    # What is left are cycles among the destinations.
    tmp = np.empty(W, dtype=np.uint64)
    for t0 in range(L):
        if done[t0]:
            continue
        for w in range(W):
            tmp[w] = X[t0, w]
        cur = t0
        while True:
            src = idx[cur]
            done[cur] = True
            if src == t0:
                for w in range(W):
                    X[cur, w] = tmp[w]
                break
            for w in range(W):
                X[cur, w] = X[src, w]
            cur = src


@njit(cache=True, inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, inline="always")
def _row_bits(X, i):
    """Number of bits set in row i of X."""
    c = 0
    for w in range(X.shape[1]):
        c += _popcount(X[i, w])
    return c


@njit(cache=True, nogil=True)
def _row_sizes(X):
    """Number of bits set in every row of X."""
    out = np.empty(X.shape[0], dtype=np.int32)
    for i in range(X.shape[0]):
        out[i] = _row_bits(X, i)
    return out


@njit(cache=True, nogil=True)
def _largest_row(X):
    """Most bits set in a row of X (-1 for no rows); no per-row array, as X
    may be a forward level of millions of keys."""
    best = -1
    for i in range(X.shape[0]):
        best = max(best, _row_bits(X, i))
    return best


@njit(cache=True, inline="always")
def _query_wanted(bwd_level, i, full, largest):
    c = 0
    for w in range(bwd_level.shape[1]):
        c += _popcount(~bwd_level[i, w] & full[w])
    return c <= largest


@njit(cache=True, nogil=True)
def _meet_queries(bwd_level, full, largest):
    """The complements of the backward sets that may contain a forward set,
    with their row indices: a set with fewer states than the smallest image
    contains none, so its complement (more bits than the largest forward
    key) is never queried. On random automata about half of a deep
    backward level is so small, and those queries are the dear ones: their
    dense complements walk deep before they fail."""
    m, W = bwd_level.shape
    sel = np.empty(m, dtype=np.int64)
    cnt = 0
    for i in range(m):
        if _query_wanted(bwd_level, i, full, largest):
            sel[cnt] = i
            cnt += 1
    out = np.empty((cnt, W), dtype=np.uint64)
    for t in range(cnt):
        for w in range(W):
            out[t, w] = ~bwd_level[sel[t], w] & full[w]
    return out, sel[:cnt]


@njit(cache=True, parallel=True, nogil=True)
def _meet_queries_parallel(bwd_level, full, largest, parts):
    """:func:`_meet_queries` on ``parts`` threads (the same rows, in order)."""
    m, W = bwd_level.shape
    wanted = np.empty(m, dtype=np.bool_)
    counts = np.zeros(parts + 1, dtype=np.int64)
    for t in prange(parts):
        for i in range(t * m // parts, (t + 1) * m // parts):
            wanted[i] = _query_wanted(bwd_level, i, full, largest)
            if wanted[i]:
                counts[t + 1] += 1
    for t in range(parts):
        counts[t + 1] += counts[t]
    sel = np.empty(counts[parts], dtype=np.int64)
    out = np.empty((counts[parts], W), dtype=np.uint64)
    for t in prange(parts):
        at = counts[t]
        for i in range(t * m // parts, (t + 1) * m // parts):
            if wanted[i]:
                sel[at] = i
                for w in range(W):
                    out[at, w] = ~bwd_level[i, w] & full[w]
                at += 1
    return out, sel


@njit(cache=True, nogil=True)
def _meet_serial(fwd_keys, bwd_level, full, nbits, largest):
    """:func:`_meet` on one thread."""
    no, yes = _runtime_flags(nbits)
    bcomp, sel = _meet_queries(bwd_level, full, largest)
    found = np.zeros(bcomp.shape[0], dtype=np.bool_)
    stop = np.zeros(1, dtype=np.bool_)
    _walk(fwd_keys, bcomp, np.arange(bcomp.shape[0]), found, stop, nbits, no, yes)
    if not stop[0]:
        return -1, -1
    # The walk permuted the queries: once per search, build them again.
    bcomp, sel = _meet_queries(bwd_level, full, largest)
    j = np.argmax(_covered(fwd_keys, bcomp, nbits, no, no))
    return _find_cover(fwd_keys, bcomp, j), sel[j]


def _meet(fwd_keys, bwd_level, full, nbits, threads=1, largest=None):
    """A pair (i, j) with forward set i contained in backward set j, or (-1, -1).

    F ⊆ B iff ~B ⊆ ~F: the query runs on the dense complements, which prune
    the implicit trie far better than sparse sets do. The pair returned is
    the same on any number of threads: once some backward set is known to
    meet, the smallest such j is taken (one more full query, at most once per
    search), and the first forward set i inside it. Only large levels are
    split between threads (domination queries stay on small levels, so they
    never are). ``largest``: the most bits of a forward key, when the caller
    knows it (computed otherwise); backward sets whose complements have more
    are not queried."""
    if largest is None:
        largest = _largest_row(fwd_keys)
    if threads < 2 or bwd_level.shape[0] < _PARALLEL_MIN_ROWS:
        i, j = run_long(_meet_serial, fwd_keys, bwd_level, full, nbits, largest,
                        rows=min(fwd_keys.shape[0], bwd_level.shape[0]))
        return int(i), int(j)
    bcomp, sel = run_long(_meet_queries_parallel, bwd_level, full, largest, threads)
    rows = min(fwd_keys.shape[0], bcomp.shape[0])
    found = np.zeros(bcomp.shape[0], dtype=np.bool_)
    stop = np.zeros(1, dtype=np.bool_)
    run_long(_walk_striped, fwd_keys, bcomp, found, stop, nbits, False, True, threads, False,
             rows=rows)
    if not stop[0]:
        return -1, -1
    # The walk permuted the queries: once per search, build them again.
    bcomp, sel = run_long(_meet_queries_parallel, bwd_level, full, largest, threads)
    j = int(np.argmax(run_long(_covered_parallel, fwd_keys, bcomp, nbits, False, False, threads,
                               rows=rows)))
    return int(_find_cover(fwd_keys, bcomp, j)), int(sel[j])


@njit(cache=True, nogil=True)
def _dominated_in_family(X, reducers):
    """Mask over the rows of X (distinct or not): the row lies inside
    another row among the ``reducers`` rows of X with the most bits, so it
    can be dropped (for preimages: its descendants lie inside that row's,
    which are kept). Of equal rows exactly one stays.

    A full subset join of a large family costs far more than it saves (its
    sparse queries walk most of a trie), but a few thousand large rows catch
    most dominated rows, and against so few a query is an AND of bitmaps:
    one bitmap per state over the reducers, ANDed over the row's states
    until it is empty (usually after a handful of states)."""
    m, W = X.shape
    dead = np.zeros(m, dtype=np.bool_)
    R = min(reducers, m)
    if R == 0:
        return dead
    sizes = _row_sizes(X)
    red = np.argsort(-sizes, kind="mergesort")[:R]
    RW = (R + 63) >> 6
    holders = np.zeros((64 * W, RW), dtype=np.uint64)
    own = np.full(m, -1, dtype=np.int64)
    for r in range(R):
        i = red[r]
        own[i] = r
        for w in range(W):
            x = X[i, w]
            while x != U0:
                t = trailing_zeros(x)
                holders[64 * w + t, r >> 6] |= U1 << np.uint64(r & 63)
                x &= x - U1
    acc = np.empty(RW, dtype=np.uint64)
    for i in range(m):
        ulo = 0
        uhi = RW
        started = False
        for w in range(W):
            x = X[i, w]
            while x != U0 and ulo < uhi:
                t = trailing_zeros(x)
                row = 64 * w + t
                if not started:
                    for u in range(RW):
                        acc[u] = holders[row, u]
                    started = True
                else:
                    for u in range(ulo, uhi):
                        acc[u] &= holders[row, u]
                while ulo < uhi and acc[ulo] == U0:
                    ulo += 1
                while uhi > ulo and acc[uhi - 1] == U0:
                    uhi -= 1
                x &= x - U1
        if not started or ulo >= uhi:
            continue
        r0 = own[i]
        if r0 < 0:
            dead[i] = True
            continue
        # A reducer itself: only a larger reducer, or an equal one listed
        # earlier, takes its place.
        for u in range(ulo, uhi):
            y = acc[u]
            while y != U0:
                r = 64 * u + trailing_zeros(y)
                y &= y - U1
                if r != r0 and (sizes[red[r]] > sizes[i] or r < r0):
                    dead[i] = True
                    break
            if dead[i]:
                break
    return dead
