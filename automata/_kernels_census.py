"""Numba kernel behind :mod:`automata.census_pruned` (no input checks here).

A depth-first search over the tables of the letters ``1 … k−1`` (letter 0 is
fixed), filled one transition at a time. Undefined transitions are ``-1``. At
every node a breadth-first search over subsets of states runs from ``Q``
through the transitions defined so far: a set ``S`` has an image under a
letter only when the letter is defined on all of ``S``. Every word found this
way acts the same in every completion of the table, so a set reached at depth
``d`` is reached at depth ``<= d`` in every completion. The node is cut when a
set of ``m`` states is reached at a depth below ``limit[m]`` (the caller's
rank bound: every completion then resets in fewer than ``L`` letters or not at
all).

Which transition is filled next is chosen at each node from the BFS: the
*blocked* set (a reached set on which some letter is still partly undefined)
that needs the fewest merges to trigger a cut one step deeper, earliest in BFS
order; its lowest undefined state for that letter is filled with every value in
turn. Any choice rule keeps the search complete (every value of the chosen
transition is tried, up to the symmetries of :func:`_symmetric_values`); this
one makes cuts fire early. A branch is also cut when a set of pairs is closed
under the defined transitions and never merges (:func:`_stuck_pairs`).
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__: list[str] = []

# Outcomes of one node.
_CUT = 0       # every completion resets in < L letters or not at all
_BRANCH = 1    # fill transition (letter, state) next
_SURVIVOR = 2  # complete table with reset length >= L
_DEAD = 3      # complete table, not synchronizing, or closed and not synchronizing


@njit(cache=True)
def _rebuild_half(delta, n, x, q, tab_lo, tab_hi):
    """Recompute the image table of letter ``x`` for the half of the states holding ``q``.

    The states are split in a low and a high half; ``tab[x, s]`` is the image of
    the subset ``s`` of one half (undefined transitions add nothing: sets using
    them are never imaged). Two lookups give the image of any set, and one
    assignment only rebuilds a table of ``2**(n/2)`` entries."""
    lo_bits = (n + 1) // 2
    if q < lo_bits:
        tab = tab_lo[x]
        base = 0
        bits = lo_bits
    else:
        tab = tab_hi[x]
        base = lo_bits
        bits = n - lo_bits
    tab[0] = 0
    for s in range(1, 1 << bits):
        low = 0
        while (s >> low) & 1 == 0:
            low += 1
        v = delta[x, base + low]
        tab[s] = tab[s & (s - 1)] | ((1 << v) if v >= 0 else 0)


@njit(cache=True)
def _shortest_pair_merge(s, n, plen, pair_of):
    """The smallest ``plen`` over the pairs inside the set ``s``."""
    best = 1 << 30
    for p in range(n):
        if (s >> p) & 1:
            for q in range(p + 1, n):
                if (s >> q) & 1:
                    v = plen[pair_of[(1 << p) | (1 << q)]]
                    if v < best:
                        best = v
    return best


@njit(cache=True)
def _pair_cut(queue, depth_of, reached, pop, node_limit, n, plen, pair_of):
    """Whether a reached set proves ``rt < L`` under the sharpened limits of
    :func:`_pair_limits`: its size alone, or a pair inside it with a short
    defined merging word (a set of ``m`` states holding such a pair shrinks to
    ``m − 1`` states within that many letters)."""
    for i in range(reached):
        s = queue[i]
        d = depth_of[i]
        m = pop[s]
        if d < node_limit[m]:
            return True
        if m >= 3 and d + 1 < node_limit[m - 1] and \
                d + _shortest_pair_merge(s, n, plen, pair_of) < node_limit[m - 1]:
            return True
    return False


@njit(cache=True)
def _evaluate(tab_lo, tab_hi, dom, n, k, pop, limit, fire_size, stamp, mark, queue, depth_of):
    """BFS of the partial automaton. Returns ``(outcome, letter, state, reset, reached)``:
    the sets reached are ``queue[:reached]``, at depths ``depth_of[:reached]``.

    The image of a set under letter x is ``tab_lo[x, low half] | tab_hi[x, high half]``
    (see :func:`_rebuild_half`)."""
    full = (1 << n) - 1
    lo_bits = (n + 1) // 2
    lo_mask = (1 << lo_bits) - 1
    mark_val = stamp[0] + 1
    stamp[0] = mark_val
    mark[full] = mark_val
    queue[0] = full
    depth_of[0] = 0
    head = 0
    tail = 1
    found = -1          # depth of the first singleton (the reset length if complete)
    best_need = 1 << 30
    best_letter = -1
    best_state = -1
    while head < tail:
        s = queue[head]
        d = depth_of[head]
        head += 1
        for x in range(k):
            missing = s & ~dom[x]
            if missing != 0:
                # Blocked: how many merges would the image need to be cut one step deeper?
                need = pop[s] - fire_size[min(d + 1, fire_size.shape[0] - 1)]
                if need < best_need:
                    best_need = need
                    best_letter = x
                    q = 0
                    while (missing >> q) & 1 == 0:
                        q += 1
                    best_state = q
                continue
            t = tab_lo[x, s & lo_mask] | tab_hi[x, s >> lo_bits]
            if mark[t] == mark_val:
                continue
            mark[t] = mark_val
            if d + 1 < limit[pop[t]]:
                return _CUT, -1, -1, d + 1, tail
            if t & (t - 1) == 0 and found < 0:
                found = d + 1
            queue[tail] = t
            depth_of[tail] = d + 1
            tail += 1
    if best_letter >= 0:
        return _BRANCH, best_letter, best_state, found, tail
    # Closed: no reached set is blocked, so every completion reaches exactly these sets.
    if found < 0:
        return _DEAD, -1, -1, -1, tail
    complete = True
    for x in range(k):
        if dom[x] != full:
            complete = False
    if complete:
        return _SURVIVOR, -1, -1, found, tail
    # Same reset length for every completion: enumerate them in a fixed order.
    for x in range(k):
        if dom[x] != full:
            q = 0
            while (dom[x] >> q) & 1:
                q += 1
            return _BRANCH, x, q, found, tail
    return _DEAD, -1, -1, -1, tail


@njit(cache=True)
def _pair_limits(delta, n, k, pair_p, pair_q, pair_of, plen, counts, first_in, fill, sources,
                 queue, limit, node_limit):
    """Sharpen ``limit`` for this node from the pairs the defined transitions merge.

    ``plen[i]``: length of the shortest word that is defined on both states of
    pair ``i`` and merges them (``n_pairs + 1`` when there is none yet); such a
    word merges the pair in every completion. Returns ``B``, a bound on how
    long any pair takes to merge in any synchronizing completion, and writes
    ``node_limit[m] = L − Σ_{j=2..m} min(C(n−j+2, 2), B)`` (the module
    docstring of :mod:`automata.census_pruned` gives the argument)."""
    n_pairs = pair_p.shape[0]
    none = n_pairs + 1
    for i in range(n_pairs + 2):
        counts[i] = 0
    # Breadth-first over pairs, backwards from the merging ones: pair i is an
    # in-edge of pair j when a letter defined on both states of i maps i onto j.
    for j in range(n_pairs + 1):
        first_in[j] = 0
    head = 0
    tail = 0
    for i in range(n_pairs):
        plen[i] = none
        for x in range(k):
            a = delta[x, pair_p[i]]
            b = delta[x, pair_q[i]]
            if a >= 0 and a == b:
                if plen[i] == none:
                    plen[i] = 1
                    queue[tail] = i
                    tail += 1
            elif a >= 0 and b >= 0:
                first_in[pair_of[(1 << a) | (1 << b)] + 1] += 1
    for j in range(n_pairs):
        first_in[j + 1] += first_in[j]
    for j in range(n_pairs):
        fill[j] = first_in[j]
    for i in range(n_pairs):
        for x in range(k):
            a = delta[x, pair_p[i]]
            b = delta[x, pair_q[i]]
            if a >= 0 and b >= 0 and a != b:
                j = pair_of[(1 << a) | (1 << b)]
                sources[fill[j]] = i
                fill[j] += 1
    layer = 1
    counts[1] = tail
    while head < tail:
        j = queue[head]
        head += 1
        for e in range(first_in[j], first_in[j + 1]):
            i = sources[e]
            if plen[i] == none:
                plen[i] = plen[j] + 1
                layer = plen[i]
                counts[layer] += 1
                queue[tail] = i
                tail += 1
    # A shortest merging word of a pair passes t distinct pairs, the one i steps
    # before the end merging in i letters; each pair merges within its plen. So
    # for every s, at least t − s + 1 pairs have plen >= s: t <= N_s + s − 1.
    bound = n_pairs  # s = 1: every pair
    shorter = 0
    for s in range(2, layer + 2):
        shorter += counts[s - 1]
        candidate = n_pairs - shorter + s - 1
        if candidate < bound:
            bound = candidate
    node_limit[0] = limit[0]
    node_limit[1] = limit[1]
    for m in range(2, n + 1):
        step = limit[m - 1] - limit[m]  # C(n-m+2, 2)
        node_limit[m] = node_limit[m - 1] - (step if step < bound else bound)
    return bound


@njit(cache=True)
def _sharper_cut(delta, n, k, pair_p, pair_q, pair_of, plen, counts, first_in, fill, sources,
                 pair_queue, limit, node_limit, queue, depth_of, reached, pop):
    """The pair cuts, run only where the plain limits did not cut (they cost more)."""
    _pair_limits(delta, n, k, pair_p, pair_q, pair_of, plen, counts, first_in, fill, sources,
                 pair_queue, limit, node_limit)
    return _pair_cut(queue, depth_of, reached, pop, node_limit, n, plen, pair_of)


@njit(cache=True)
def _stuck_pairs(delta, n, k, pair_of, alive):
    """Whether some set of pairs is closed under the defined transitions with no
    pair merged: then no completion synchronizes (its pairs never merge).

    The greatest such set: start from the pairs on which every letter is defined
    and never merges, drop pairs with an image outside the set until none is
    dropped."""
    count = 0
    for p in range(n):
        for q in range(p + 1, n):
            i = pair_of[(1 << p) | (1 << q)]
            ok = True
            for x in range(k):
                a = delta[x, p]
                b = delta[x, q]
                if a < 0 or b < 0 or a == b:
                    ok = False
                    break
            alive[i] = ok
            if ok:
                count += 1
    changed = True
    while changed and count > 0:
        changed = False
        for p in range(n):
            for q in range(p + 1, n):
                i = pair_of[(1 << p) | (1 << q)]
                if not alive[i]:
                    continue
                for x in range(k):
                    if not alive[pair_of[(1 << delta[x, p]) | (1 << delta[x, q])]]:
                        alive[i] = False
                        count -= 1
                        changed = True
                        break
    return count > 0


@njit(cache=True)
def _symmetric_values(delta, n, k, autos, q):
    """Bitmask of the values of transition ``(·, q)`` that need no search: ``v`` is
    skipped when an automorphism ``σ`` of letter 0 fixes ``q``, maps the partial
    table onto itself and sends ``v`` to a smaller value (the subtree of ``σ(v)``
    holds the conjugates of the subtree of ``v``)."""
    skip = 0
    for i in range(autos.shape[0]):
        sigma = autos[i]
        if sigma[q] != q:
            continue
        stable = True
        for x in range(1, k):
            for p in range(n):
                d1 = delta[x, p]
                d2 = delta[x, sigma[p]]
                if d1 < 0:
                    if d2 >= 0:
                        stable = False
                        break
                elif d2 != sigma[d1]:
                    stable = False
                    break
            if not stable:
                break
        if not stable:
            continue
        for v in range(n):
            if sigma[v] < v:
                skip |= 1 << v
    return skip


@njit(cache=True)
def _record(delta, k, n, reset, out_tables, out_resets, count):
    if count < out_tables.shape[0]:
        for x in range(k):
            for q in range(n):
                out_tables[count, x, q] = delta[x, q]
        out_resets[count] = reset
    return count + 1


@njit(cache=True, nogil=True)  # run off the main thread so that Ctrl-C acts (_interruptible)
def _search(f, k, min_rank, pop, limit, fire_size, autos, out_tables, out_resets, stats,
            pair_cuts):
    """Every table ``(f, g_1, …)`` with reset length >= L and every ``g`` of rank
    >= ``min_rank``, up to the cuts. ``pop[S]``: size of the set S; ``limit[m]``:
    cut a set of m states reached at a depth below it; ``fire_size[D]``: the
    largest size cut at depth D (guides the branching; the last entry serves all
    deeper levels). ``autos``: automorphisms of ``f`` (without the identity) used
    to skip values whose subtrees are conjugate to searched ones. ``pair_cuts``: also run
    :func:`_sharper_cut` (off only to measure what it saves). Writes survivors to ``out_*``; returns their count
    (may exceed the buffer: the caller retries with a larger one). ``stats`` gets
    nodes visited, cuts and leaves."""
    n = f.shape[0]
    size = 1 << n
    delta = np.full((k, n), -1, np.int64)
    for q in range(n):
        delta[0, q] = f[q]
    dom = np.zeros(k, np.int64)
    dom[0] = size - 1
    lo_bits = (n + 1) // 2
    tab_lo = np.zeros((k, 1 << lo_bits), np.int64)
    tab_hi = np.zeros((k, 1 << (n - lo_bits)), np.int64)
    for x in range(k):
        _rebuild_half(delta, n, x, 0, tab_lo, tab_hi)
        _rebuild_half(delta, n, x, n - 1, tab_lo, tab_hi)
    n_defined = np.zeros(k, np.int64)
    n_defined[0] = n
    hits = np.zeros((k, n), np.int64)        # how many defined states map to each state
    distinct = np.zeros(k, np.int64)         # distinct images among the defined states
    stamp = np.zeros(1, np.int64)
    mark = np.zeros(size, np.int64)
    queue = np.empty(size, np.int64)
    depth_of = np.empty(size, np.int64)
    depth_cap = k * n + 1
    var_letter = np.empty(depth_cap, np.int64)
    var_state = np.empty(depth_cap, np.int64)
    var_value = np.empty(depth_cap, np.int64)
    var_skip = np.zeros(depth_cap, np.int64)
    pair_of = np.zeros(size, np.int64)
    n_pairs = n * (n - 1) // 2
    pair_p = np.empty(n_pairs, np.int64)
    pair_q = np.empty(n_pairs, np.int64)
    i = 0
    for p in range(n):
        for q in range(p + 1, n):
            pair_of[(1 << p) | (1 << q)] = i
            pair_p[i] = p
            pair_q[i] = q
            i += 1
    alive = np.zeros(max(n_pairs, 1), np.bool_)
    plen = np.empty(max(n_pairs, 1), np.int64)
    counts = np.zeros(n_pairs + 2, np.int64)
    first_in = np.zeros(n_pairs + 1, np.int64)
    fill = np.zeros(max(n_pairs, 1), np.int64)
    sources = np.zeros(max(n_pairs * k, 1), np.int64)
    pair_queue = np.zeros(max(n_pairs, 1), np.int64)
    node_limit = limit.copy()
    count = 0
    nodes = 1
    cuts = 0
    leaves = 0
    outcome, x, q, reset, reached = _evaluate(tab_lo, tab_hi, dom, n, k, pop, limit, fire_size,
                                              stamp, mark, queue, depth_of)
    if pair_cuts and outcome == _BRANCH and \
            _sharper_cut(delta, n, k, pair_p, pair_q, pair_of, plen, counts, first_in, fill,
                         sources, pair_queue, limit, node_limit, queue, depth_of, reached, pop):
        outcome = _CUT
    if outcome == _SURVIVOR:
        count = _record(delta, k, n, reset, out_tables, out_resets, count)
    if outcome != _BRANCH:
        stats[0] = nodes
        stats[1] = 1 if outcome == _CUT else 0
        stats[2] = 1 if outcome == _SURVIVOR or outcome == _DEAD else 0
        return count
    sp = 0
    var_letter[0] = x
    var_state[0] = q
    var_value[0] = -1
    var_skip[0] = _symmetric_values(delta, n, k, autos, q)
    while sp >= 0:
        x = var_letter[sp]
        q = var_state[sp]
        v = var_value[sp]
        if v >= 0:
            # Undo the previous value of this transition.
            hits[x, v] -= 1
            if hits[x, v] == 0:
                distinct[x] -= 1
            n_defined[x] -= 1
            dom[x] &= ~(1 << q)
            delta[x, q] = -1
            _rebuild_half(delta, n, x, q, tab_lo, tab_hi)
        v += 1
        # The letter must keep rank >= min_rank: the undefined states can add
        # at most one new image each.
        skip = var_skip[sp]
        while v < n:
            if (skip >> v) & 1:
                v += 1
                continue
            new_distinct = distinct[x] + (1 if hits[x, v] == 0 else 0)
            if new_distinct + (n - n_defined[x] - 1) >= min_rank:
                break
            v += 1
        if v >= n:
            sp -= 1
            continue
        var_value[sp] = v
        delta[x, q] = v
        _rebuild_half(delta, n, x, q, tab_lo, tab_hi)
        dom[x] |= 1 << q
        n_defined[x] += 1
        if hits[x, v] == 0:
            distinct[x] += 1
        hits[x, v] += 1
        nodes += 1
        outcome, x2, q2, reset, reached = _evaluate(tab_lo, tab_hi, dom, n, k, pop, limit,
                                                    fire_size, stamp, mark, queue, depth_of)
        if pair_cuts and outcome == _BRANCH and \
                _sharper_cut(delta, n, k, pair_p, pair_q, pair_of, plen, counts, first_in, fill,
                             sources, pair_queue, limit, node_limit, queue, depth_of, reached, pop):
            outcome = _CUT
        if outcome == _BRANCH and _stuck_pairs(delta, n, k, pair_of, alive):
            outcome = _CUT
        if outcome == _BRANCH:
            sp += 1
            var_letter[sp] = x2
            var_state[sp] = q2
            var_value[sp] = -1
            var_skip[sp] = _symmetric_values(delta, n, k, autos, q2)
        elif outcome == _CUT:
            cuts += 1
        else:
            leaves += 1
            if outcome == _SURVIVOR:
                count = _record(delta, k, n, reset, out_tables, out_resets, count)
    stats[0] = nodes
    stats[1] = cuts
    stats[2] = leaves
    return count
