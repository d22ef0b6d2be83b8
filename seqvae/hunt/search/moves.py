"""The variation operators and neighbourhoods of the evolutionary search, on raw tables.

Operators act on a batch of tables ``(m, n_letters, n_states)`` where a mask (or a
count per table) says so, drawing from the caller's generator; neighbourhoods list
every table one move away from one table. Neither canonicalises nor evaluates:
that is :meth:`~seqvae.hunt.search.core.SearchContext.evaluate`'s job.
"""
from __future__ import annotations

import numpy as np

__all__ = ["redirect", "swap_images", "redirect_unused", "near_identity", "copy_letter",
           "neighbourhood", "swap_neighbourhood", "copy_neighbourhood", "high_rank_tables",
           "crossover", "tournament"]


def redirect(rng: np.random.Generator, tables: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Redirect ``counts[i]`` random transitions of table ``i`` to a different random state."""
    out = tables.copy()
    m, k, n = out.shape
    total = int(counts.sum())
    if total == 0:
        return out
    rows = np.repeat(np.arange(m), counts)
    letters = rng.integers(0, k, size=total)
    states = rng.integers(0, n, size=total)
    # An offset in 1..n-1 guarantees the new target differs from the old one
    # (when a transition is hit twice, the second redirect still moves it).
    shift = rng.integers(1, n, size=total) if n > 1 else np.zeros(total, dtype=np.int64)
    for r, a, q, s in zip(rows, letters, states, shift):
        out[r, a, q] = (out[r, a, q] + s) % n
    return out


def swap_images(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Swap the images of two random states under one random letter, where ``mask``.

    It keeps a permutation letter a permutation: slowly synchronizing automata
    usually have one, so this move walks along that part of the space.
    """
    out = tables.copy()
    m, k, n = out.shape
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or n < 2:
        return out
    letters = rng.integers(0, k, size=len(idx))
    p = rng.integers(0, n, size=len(idx))
    q = (p + rng.integers(1, n, size=len(idx))) % n
    a_vals = out[idx, letters, p].copy()
    out[idx, letters, p] = out[idx, letters, q]
    out[idx, letters, q] = a_vals
    return out


def redirect_unused(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where ``mask``: send one transition to a state outside its letter's image.

    The moved transition is taken from a state sharing its image with
    another, so the letter's rank grows by one: letters of high rank are
    what keeps an automaton from synchronizing quickly. Falls back to a plain
    redirection when the letter is already a permutation.
    """
    out = tables.copy()
    m, k, n = out.shape
    for i in np.flatnonzero(mask):
        a = int(rng.integers(k))
        row = out[i, a]
        counts = np.bincount(row, minlength=n)
        unused = np.flatnonzero(counts == 0)
        if len(unused) == 0:
            q = int(rng.integers(n))
            row[q] = (row[q] + int(rng.integers(1, n))) % n
            continue
        shared = np.flatnonzero(counts[row] > 1)
        q = int(shared[rng.integers(len(shared))])
        row[q] = int(unused[rng.integers(len(unused))])
    return out


def near_identity(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where ``mask``: replace the letter of least rank by the identity with one redirection.

    The new letter merges exactly one pair of states and fixes the rest, so
    all the work of synchronizing falls on the other letters; a letter of
    larger rank (a permutation, say) is left alone.
    """
    out = tables.copy()
    m, k, n = out.shape
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or n < 2:
        return out
    for i in idx:
        ranks = [len(np.unique(out[i, a])) for a in range(k)]
        low = np.flatnonzero(np.asarray(ranks) == min(ranks))
        a = int(low[rng.integers(len(low))])
        q = int(rng.integers(n))
        row = np.arange(n, dtype=out.dtype)
        row[q] = (q + int(rng.integers(1, n))) % n
        out[i, a] = row
    return out


def copy_letter(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where ``mask``: copy one letter onto another, then redirect one transition of the copy.

    The two letters then differ in a single transition. Several of the
    slowest series sit there (Wielandt's W_n: the cycle, and the cycle with
    one arrow moved), one such move away from Černý's automaton but far from
    it in single redirections.
    """
    out = tables.copy()
    m, k, n = out.shape
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or n < 2 or k < 2:
        return out
    source = rng.integers(0, k, size=len(idx))
    target = (source + rng.integers(1, k, size=len(idx))) % k
    q = rng.integers(0, n, size=len(idx))
    shift = rng.integers(1, n, size=len(idx))
    out[idx, target] = out[idx, source]
    out[idx, target, q] = (out[idx, target, q] + shift) % n
    return out


def neighbourhood(table: np.ndarray) -> np.ndarray:
    """Every table one transition redirection away from ``table``: (k·n·(n−1), k, n)."""
    k, n = table.shape
    a, q, t = np.meshgrid(np.arange(k), np.arange(n), np.arange(n), indexing="ij")
    a, q, t = a.ravel(), q.ravel(), t.ravel()
    keep = t != table[a, q]
    a, q, t = a[keep], q[keep], t[keep]
    out = np.repeat(table[None], len(a), axis=0)
    out[np.arange(len(a)), a, q] = t
    return out


def swap_neighbourhood(table: np.ndarray) -> np.ndarray:
    """Every table obtained by exchanging the images of two states under one letter."""
    k, n = table.shape
    a, p, q = np.meshgrid(np.arange(k), np.arange(n), np.arange(n), indexing="ij")
    a, p, q = a.ravel(), p.ravel(), q.ravel()
    keep = (p < q) & (table[a, p] != table[a, q])
    a, p, q = a[keep], p[keep], q[keep]
    out = np.repeat(table[None], len(a), axis=0)
    rows = np.arange(len(a))
    out[rows, a, p] = table[a, q]
    out[rows, a, q] = table[a, p]
    return out


def copy_neighbourhood(table: np.ndarray) -> np.ndarray:
    """Every table made by copying one letter onto another and redirecting one
    transition of the copy: (k·(k−1)·n·(n−1), k, n), see :func:`copy_letter`.

    >>> copy_neighbourhood(np.array([[1, 2, 0], [0, 0, 2]])).shape
    (12, 2, 3)
    """
    k, n = table.shape
    parts = []
    for source in range(k):
        for target in range(k):
            if source == target:
                continue
            copied = table.copy()
            copied[target] = table[source]
            moved = neighbourhood(copied)
            # Keep the redirections of the copied letter only.
            parts.append(moved[(moved != copied[None]).any(axis=2)[:, target]])
    if not parts:
        return np.zeros((0, k, n), dtype=table.dtype)
    return np.concatenate(parts)


def high_rank_tables(m: int, n_states: int, n_letters: int,
                     rng: np.random.Generator) -> np.ndarray:
    """``m`` random tables whose letters are permutations with 0, 1 or 2 transitions
    redirected (rank n, n−1 or n−2), at least one letter redirected.

    Every slowly synchronizing automaton in the censuses of n = 7, 8, 9 has
    letters of rank at least n−2, while a uniformly random letter has rank
    about 0.63·n: climbs started here begin near that region.

    >>> t = high_rank_tables(100, 6, 2, np.random.default_rng(0))
    >>> ranks = [len(set(row)) for row in t.reshape(-1, 6)]
    >>> min(ranks) >= 4, t.shape
    (True, (100, 2, 6))
    """
    n, k = n_states, n_letters
    out = np.argsort(rng.random((m, k, n)), axis=2)  # one random permutation per letter
    moves = rng.choice(3, size=(m, k), p=[0.25, 0.5, 0.25])
    # A table of permutations only never synchronizes (n > 1): redirect in one letter.
    unmoved = (moves == 0).all(axis=1)
    moves[unmoved, rng.integers(0, k, size=int(unmoved.sum()))] = 1
    for i, a in zip(*np.nonzero(moves)):
        for _ in range(int(moves[i, a])):
            q = int(rng.integers(n))
            out[i, a, q] = (out[i, a, q] + int(rng.integers(1, n))) % n if n > 1 else 0
    return out.astype(np.int32)


def crossover(rng: np.random.Generator, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Recombine two batches of parents.

    Half of the children take whole letter rows from either parent; the
    other half take each state's outgoing transitions (all letters) from
    either parent.
    """
    m, k, n = first.shape
    by_letter = rng.random(m) < 0.5
    letter_mask = rng.random((m, k, 1)) < 0.5
    state_mask = rng.random((m, 1, n)) < 0.5
    mask = np.where(by_letter[:, None, None], np.broadcast_to(letter_mask, (m, k, n)),
                    np.broadcast_to(state_mask, (m, k, n)))
    return np.where(mask, first, second).astype(first.dtype)


def tournament(rng: np.random.Generator, fitness: np.ndarray, count: int, size: int) -> np.ndarray:
    """Indices of ``count`` tournament winners (ties broken at random)."""
    contenders = rng.integers(0, len(fitness), size=(count, size))
    noise = rng.random((count, size))
    score = fitness[contenders] + 0.5 * noise  # rt is integral: noise only breaks ties
    return contenders[np.arange(count), np.argmax(score, axis=1)]
