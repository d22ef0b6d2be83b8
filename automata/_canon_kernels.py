"""Numba kernels behind :mod:`automata.canon` (no input checks here).

The canonical labelling is a search over breadth-first numberings.

For a fixed order of the letters, a *segment* started at an unnumbered root
``r`` when ``m`` states are already numbered gives ``r`` the number ``m`` and
then numbers states breadth first, following the letters in order; images that
already carry a number keep it. The segment stops when every numbered state has
all its images numbered. Its rows (the numbered images of the states it
numbered, state-major) are a piece of the final table.

At each step the search computes the segment of every unnumbered root, keeps
the roots whose segment is lexicographically smallest, and branches over them;
the canonical table is the smallest complete table over all letter orders and
all branches explored. Every choice depends only on the structure of the
automaton, the letter order and the numbering so far, so isomorphic automata
explore the same set of tables and get the same minimum.

Three rules keep the branching small:

* a branch whose partial table is already larger than the best complete table
  is cut;
* tied roots whose segments are swapped by an automorphism fixing every
  numbered state give the same tables, so only one of them is explored. The
  automorphism is first tried as the plain swap of the two segments
  (identical components, sibling leaves), then extended along images (forced)
  and preimages (matched by colour) and verified;
* ties that remain are narrowed to the roots of the smallest *colour*, an
  isomorphism-invariant hash from colour refinement (images and preimage
  multisets, per letter in the chosen order). Segments only look forward; the
  colour also sees what leads into a root, e.g. the shape of a tree hanging
  below it, which would otherwise force a branch per ordering of siblings.

Two segments with equal rows have equal lengths: equal rows create new states
at the same positions, so both stop at the same row.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _segment(delta, perm, k, root, m, num, order, cur, ref, use_ref):
    """Number a segment from ``root`` at ``m``; compare with ``ref`` on the fly.

    Returns ``(end, rel)``: ``end`` one past the last number given and ``rel`` the
    comparison of the rows with ``ref`` (-1 smaller, 0 equal, 1 larger). On
    ``rel == 1`` the work stops early and the numbering is already undone;
    otherwise the caller undoes it. Without a reference ``rel`` is -1.
    """
    num[root] = m
    order[m] = root
    head = m
    tail = m + 1
    rel = 0 if use_ref else -1
    while head < tail:
        q = order[head]
        base = head * k
        for j in range(k):
            t = delta[perm[j], q]
            if num[t] < 0:
                num[t] = tail
                order[tail] = t
                tail += 1
            v = num[t]
            cur[base + j] = v
            if rel == 0:
                r = ref[base + j]
                if v < r:
                    rel = -1
                elif v > r:
                    for i in range(m, tail):
                        num[order[i]] = -1
                    return tail, 1
        head += 1
    return tail, rel


@njit(cache=True)
def _undo(num, order, lo, hi):
    for i in range(lo, hi):
        num[order[i]] = -1


@njit(cache=True)
def _commutes(delta, n, k, pi):
    """Whether the state permutation ``pi`` commutes with every letter (an automorphism)."""
    for a in range(k):
        for q in range(n):
            if pi[delta[a, q]] != delta[a, pi[q]]:
                return False
    return True


@njit(cache=True)
def _is_automorphism_swap(delta, n, k, seg_a, seg_b, length, pi, pos_b, in_a):
    """Whether the segment map seg_a[i] -> seg_b[i], closed into a permutation
    that fixes all other states, is an automorphism (letters unchanged)."""
    for q in range(n):
        pi[q] = q
        pos_b[q] = -1
        in_a[q] = False
    for i in range(length):
        pos_b[seg_b[i]] = i
        in_a[seg_a[i]] = True
        pi[seg_a[i]] = seg_b[i]
    # States of B outside A must go somewhere: follow the inverse map back
    # from each until leaving B; this closes every path a -> ... -> b into a cycle.
    for i in range(length):
        x = seg_b[i]
        if in_a[x]:
            continue
        y = seg_a[i]
        while pos_b[y] >= 0:
            y = seg_a[pos_b[y]]
        pi[x] = y
    return _commutes(delta, n, k, pi)


@njit(cache=True)
def _mix(x):
    # splitmix64 finaliser: spreads colour hashes over 64 bits.
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True)
def _prepare_preimages(delta, n, k, pre_start, pre_list, tmp):
    """Preimage lists per letter, CSR style: ``pre_list[a, pre_start[a, q]:pre_start[a, q+1]]``."""
    for a in range(k):
        for q in range(n + 1):
            pre_start[a, q] = 0
        for q in range(n):
            pre_start[a, delta[a, q] + 1] += 1
        for q in range(n):
            pre_start[a, q + 1] += pre_start[a, q]
        for q in range(n):
            tmp[q] = pre_start[a, q]
        for q in range(n):
            t = delta[a, q]
            pre_list[a, tmp[t]] = q
            tmp[t] += 1


@njit(cache=True)
def _prepare_colors(delta, perm, n, k, colors, pre_start, pre_list, tmp):
    """Colour refinement of the states for the letter order ``perm``.

    A colour hashes the previous colour, the colours of the images and the
    multisets of preimage colours, letter by letter in the order ``perm``; it is
    iterated until the partition stops splitting. The values depend only on the
    structure and the letter order, so they are isomorphism invariants and may
    steer the search. A hash collision merges classes, which costs time, never
    correctness."""
    for q in range(n):
        colors[q] = 1
    for _ in range(n):
        for q in range(n):
            h = _mix(np.uint64(colors[q]) + np.uint64(0x9E3779B97F4A7C15))
            for j in range(k):
                a = perm[j]
                h = _mix(h ^ (np.uint64(colors[delta[a, q]]) + np.uint64(j + 1)))
                acc = np.uint64(0)
                for i in range(pre_start[a, q], pre_start[a, q + 1]):
                    acc += _mix(np.uint64(colors[pre_list[a, i]]) * np.uint64(k + 1) + np.uint64(j))
                h = _mix(h ^ acc)
            tmp[q] = np.int64(h >> np.uint64(1))
        # Stop once the partition stops splitting.
        if _n_distinct(tmp, n) == _n_distinct(colors, n):
            break
        for q in range(n):
            colors[q] = tmp[q]


@njit(cache=True)
def _n_distinct(values, n):
    s = np.sort(values[:n])
    count = 1
    for i in range(1, n):
        if s[i] != s[i - 1]:
            count += 1
    return count


@njit(cache=True)
def _extend_automorphism(delta, n, k, num, seg_a, seg_b, length, colors, pre_start, pre_list,
                         pi, inv, queue):
    """Try to extend seg_a[i] -> seg_b[i] (and the identity on numbered states)
    to an automorphism: images are forced, preimages are matched by colour.
    Returns True only for a verified automorphism (left in ``pi``)."""
    for q in range(n):
        pi[q] = -1
        inv[q] = -1
    for q in range(n):
        if num[q] >= 0:
            pi[q] = q
            inv[q] = q
    head = 0
    tail = 0
    for i in range(length):
        x = seg_a[i]
        y = seg_b[i]
        if pi[x] == -1 and inv[y] == -1:
            pi[x] = y
            inv[y] = x
            queue[tail] = x
            tail += 1
        elif pi[x] != y:
            return False
    while head < tail:
        x = queue[head]
        head += 1
        y = pi[x]
        for a in range(k):
            u = delta[a, x]
            v = delta[a, y]
            if pi[u] == -1 and inv[v] == -1:
                pi[u] = v
                inv[v] = u
                queue[tail] = u
                tail += 1
            elif pi[u] != v:
                return False
            lo_x = pre_start[a, x]
            hi_x = pre_start[a, x + 1]
            lo_y = pre_start[a, y]
            if hi_x - lo_x != pre_start[a, y + 1] - lo_y:
                return False
            for i in range(lo_x, hi_x):
                p = pre_list[a, i]
                if pi[p] != -1:
                    continue
                found = -1
                for j in range(lo_y, lo_y + hi_x - lo_x):
                    r = pre_list[a, j]
                    if inv[r] == -1 and colors[r] == colors[p]:
                        found = r
                        break
                if found < 0:
                    return False
                pi[p] = found
                inv[found] = p
                queue[tail] = p
                tail += 1
    # Close the partial injection into a permutation: a state left unmapped
    # goes back along the inverse chain to the start of its path.
    for x in range(n):
        if pi[x] != -1:
            continue
        y = x
        while inv[y] != -1:
            y = inv[y]
        pi[x] = y
        inv[y] = x
    return _commutes(delta, n, k, pi)


@njit(cache=True)
def _setup_level(delta, perm, n, k, m, num, order, cur, ref, cand_row, ws):
    """Find the roots with the smallest segment at ``m`` (after automorphism
    pruning). Writes them into ``cand_row``; returns ``(count, end)`` and leaves
    the smallest segment's rows in ``ref``."""
    segs, pi, aux, in_a, colors, pre_start, pre_list, aux_ready = ws
    count = 0
    end = -1
    have = False
    for c in range(n):
        if num[c] >= 0:
            continue
        e, rel = _segment(delta, perm, k, c, m, num, order, cur, ref, have)
        if rel == 1:
            continue
        _undo(num, order, m, e)
        if rel == -1:
            for i in range(m * k, e * k):
                ref[i] = cur[i]
            end = e
            count = 0
            have = True
        cand_row[count] = c
        # Remember the states of the segment, in numbering order, for the
        # automorphism tests below.
        for t in range(e - m):
            segs[count, t] = order[m + t]
        count += 1
    if count <= 1:
        return count, end
    length = end - m
    # Tied roots related by an automorphism that only swaps their segments
    # (identical components, sibling leaves): keep one of each.
    kept = 1
    for i in range(1, count):
        redundant = False
        for j in range(kept):
            if _is_automorphism_swap(delta, n, k, segs[j], segs[i], length, pi, aux[0], in_a):
                redundant = True
                break
        if not redundant:
            cand_row[kept] = cand_row[i]
            for t in range(length):
                segs[kept, t] = segs[i, t]
            kept += 1
    if kept <= 1:
        return kept, end
    # Still tied: keep the roots of the smallest colour. Segments look only
    # forward; colours also see what leads into a root (e.g. the shape of
    # the tree hanging below it), which breaks most of the remaining ties.
    if aux_ready[0] != 1:
        _prepare_preimages(delta, n, k, pre_start, pre_list, aux[0])
        aux_ready[0] = 1
    if aux_ready[1] != 1:
        _prepare_colors(delta, perm, n, k, colors, pre_start, pre_list, aux[0])
        aux_ready[1] = 1
    low = colors[cand_row[0]]
    for i in range(1, kept):
        low = min(low, colors[cand_row[i]])
    count = 0
    for i in range(kept):
        if colors[cand_row[i]] == low:
            cand_row[count] = cand_row[i]
            for t in range(length):
                segs[count, t] = segs[i, t]
            count += 1
    if count <= 1:
        return count, end
    # Same colour: look for an automorphism fixing the numbered states that
    # maps one root's branch onto the other's.
    kept = 1
    for i in range(1, count):
        redundant = False
        for j in range(kept):
            if _extend_automorphism(delta, n, k, num, segs[j], segs[i], length, colors,
                                    pre_start, pre_list, pi, aux[0], aux[1]):
                redundant = True
                break
        if not redundant:
            cand_row[kept] = cand_row[i]
            for t in range(length):
                segs[kept, t] = segs[i, t]
            kept += 1
    return kept, end


@njit(cache=True)
def _compare(a, b, lo, hi):
    for i in range(lo, hi):
        if a[i] < b[i]:
            return -1
        if a[i] > b[i]:
            return 1
    return 0


@njit(cache=True)
def _workspace(n, k):
    """Scratch arrays for :func:`_canon_one`, allocated once per batch."""
    nk = n * k
    search = (np.empty(nk, np.int64),          # best
              np.empty(n + 1, np.int64),       # best_perm
              np.empty(n, np.int64),           # num
              np.empty(n, np.int64),           # order
              np.empty(nk, np.int64),          # cur
              np.empty(nk, np.int64),          # ref
              np.empty((n + 1, n), np.int64),  # cand
              np.empty((6, n + 1), np.int64))  # per-level m, end, ptr, cnt, rel, segrel
    autom = (np.empty((n, n), np.int64),       # segs
             np.empty(n, np.int64),            # pi
             np.empty((2, n), np.int64),       # aux (inverse map / queue)
             np.empty(n, np.bool_),            # in_a
             np.empty(n, np.int64),            # colors
             np.empty((k, n + 1), np.int64),   # pre_start
             np.empty((k, n), np.int64),       # pre_list
             np.zeros(2, np.int64))            # ready flags: preimages, colours
    return search, autom


@njit(cache=True)
def _canon_one(delta, perms, search, autom):
    """Canonical table of one automaton, written state-major into ``search[0]``
    (``best[i*k + j]`` = image of state i under letter j). ``search[1]`` gets the
    index of a winning letter order and the state order (``order[i]`` = original
    state numbered i) of one winning branch."""
    k = delta.shape[0]
    n = delta.shape[1]
    best, best_perm, num, order, cur, ref, cand, lvl = search
    autom[7][0] = 0  # preimages belong to the previous automaton
    nk = n * k
    for i in range(nk):
        best[i] = n  # larger than any real entry
    n_perms = perms.shape[0]
    for p in range(n_perms):
        perm = perms[p]
        autom[7][1] = 0  # colours depend on the letter order
        for q in range(n):
            num[q] = -1
        count_numbered = 0
        cnt, end = _setup_level(delta, perm, n, k, 0, num, order, cur, ref, cand[0], autom)
        segrel = _compare(ref, best, 0, end * k)
        if segrel == 1:
            continue
        d = 0
        # lvl rows: 0 m, 1 end, 2 ptr, 3 cnt, 4 rel of prefix, 5 rel of segment
        lvl[0, 0] = 0
        lvl[1, 0] = end
        lvl[2, 0] = 0
        lvl[3, 0] = cnt
        lvl[4, 0] = 0
        lvl[5, 0] = segrel
        while d >= 0:
            if lvl[2, d] >= lvl[3, d]:
                d -= 1
                continue
            c = cand[d, lvl[2, d]]
            lvl[2, d] += 1
            m = lvl[0, d]
            _undo(num, order, m, count_numbered)
            e, _r = _segment(delta, perm, k, c, m, num, order, cur, ref, False)
            count_numbered = e
            child_rel = lvl[4, d] if lvl[4, d] != 0 else lvl[5, d]
            if e == n:
                if child_rel == -1:
                    for i in range(nk):
                        best[i] = cur[i]
                    best_perm[0] = p
                    for i in range(n):
                        best_perm[1 + i] = order[i]
                    # The new best shares the prefix of every level on the path.
                    for t in range(d + 1):
                        lvl[4, t] = 0
                        lvl[5, t] = 0
                continue
            cnt2, end2 = _setup_level(delta, perm, n, k, e, num, order, cur, ref, cand[d + 1],
                                      autom)
            segrel2 = 0
            if child_rel == 0:
                segrel2 = _compare(ref, best, e * k, end2 * k)
                if segrel2 == 1:
                    continue
            d += 1
            lvl[0, d] = e
            lvl[1, d] = end2
            lvl[2, d] = 0
            lvl[3, d] = cnt2
            lvl[4, d] = child_rel
            lvl[5, d] = segrel2
    return


@njit(cache=True)
def _canon_batch(deltas, perms, out, labels):
    """Canonicalise ``deltas`` (m, k, n) into ``out`` (m, k, n); ``labels`` (m, 1+n)
    gets the letter order index and the state order of each."""
    m_total = deltas.shape[0]
    k = deltas.shape[1]
    n = deltas.shape[2]
    search, autom = _workspace(n, k)
    best = search[0]
    best_perm = search[1]
    for idx in range(m_total):
        _canon_one(deltas[idx], perms, search, autom)
        for i in range(n):
            for j in range(k):
                out[idx, j, i] = best[i * k + j]
        for i in range(n + 1):
            labels[idx, i] = best_perm[i]


@njit(cache=True)
def _census_scan(f, cls_idx, cls, funcs, k, perms, start, stop, keys_out):
    """Census helper (kept here so numba's cache is invalidated with the kernels
    it calls): packed canonical keys of the tables (f, g_1, ..., g_{k-1}) whose
    letter codes (mixed radix over ``start..stop``, ``funcs`` listing every map)
    all have class >= ``cls_idx``; returns how many were written."""
    n = f.shape[0]
    n_funcs = funcs.shape[0]
    nk = n * k
    bits = 1
    while (1 << bits) < n:
        bits += 1
    delta = np.empty((k, n), np.int64)
    for q in range(n):
        delta[0, q] = f[q]
    search, autom = _workspace(n, k)
    best = search[0]
    count = 0
    for code in range(start, stop):
        c = code
        ok = True
        for letter in range(1, k):
            fc = c % n_funcs
            c //= n_funcs
            if cls[fc] < cls_idx:
                ok = False
                break
            for q in range(n):
                delta[letter, q] = funcs[fc, q]
        if not ok:
            continue
        _canon_one(delta, perms, search, autom)
        key = np.int64(0)
        for i in range(nk):
            key = (key << bits) | best[i]
        keys_out[count] = key
        count += 1
    return count
