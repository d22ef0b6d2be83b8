"""One representative of every map ``Q → Q`` up to relabelling the states.

Two maps ``f, g`` on ``Q = {0, …, n−1}`` are *conjugate* when ``g = σ f σ⁻¹``
for a permutation ``σ``; the classes are the functional graphs up to
isomorphism, counted by OEIS A001372 (1, 3, 7, 19, 47, 130, 343, 951, 2615,
7318, … for n = 1, 2, …).

The classes are built without listing the ``nⁿ`` maps. A map that is not a
permutation has a state with no preimage (a *leaf*); deleting it leaves a map on
``n − 1`` states. So every class on ``n`` states is either a permutation class
(one per cycle type, i.e. per partition of ``n``) or a class of ``n − 1``
states with one new leaf hung below some state. Both kinds are generated and
deduplicated with the canonical form of :mod:`automata.canon` (a one-letter
automaton is exactly a map).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from automata.canon import canonical_tables
from automata.errors import AutomatonError

__all__ = ["map_classes", "map_rank", "map_automorphisms", "MAX_MAP_STATES"]

#: Largest number of states for which the classes are built (57,903 classes at n = 12).
MAX_MAP_STATES = 12


def _partitions(n: int, largest: int | None = None):
    """Partitions of ``n`` into parts of at most ``largest``, largest part first."""
    largest = n if largest is None else largest
    if n == 0:
        yield []
        return
    for part in range(min(n, largest), 0, -1):
        for rest in _partitions(n - part, part):
            yield [part] + rest


def _permutation(cycle_lengths: list[int]) -> list[int]:
    out: list[int] = []
    start = 0
    for length in cycle_lengths:
        out.extend(start + (i + 1) % length for i in range(length))
        start += length
    return out


def _unique_canonical(maps: np.ndarray) -> np.ndarray:
    canon = canonical_tables(maps[:, None, :])[:, 0, :].astype(np.int64)
    return np.unique(canon, axis=0)


@lru_cache(maxsize=None)
def _classes(n: int) -> np.ndarray:
    perms = np.array([_permutation(p) for p in _partitions(n)], dtype=np.int64)
    if n == 1:
        return perms
    smaller = _classes(n - 1)
    # Hang the new state n-1 below every state of every smaller class.
    grown = np.empty((len(smaller) * (n - 1), n), dtype=np.int64)
    grown[:, : n - 1] = np.repeat(smaller, n - 1, axis=0)
    grown[:, n - 1] = np.tile(np.arange(n - 1), len(smaller))
    reps = _unique_canonical(np.concatenate([perms, grown]))
    reps.setflags(write=False)
    return reps


def map_classes(n_states: int) -> np.ndarray:
    """One canonical representative of each conjugacy class of maps on ``n_states`` states.

    Parameters
    ----------
    n_states : int
        Between 1 and :data:`MAX_MAP_STATES`.

    Returns
    -------
    numpy.ndarray of int64, shape (A001372(n), n_states)
        Row ``i`` is a map ``q ↦ row[q]``; rows are distinct classes, sorted
        lexicographically (a stable numbering of the classes).

    Raises
    ------
    AutomatonError
        If ``n_states`` is not an integer in range.

    Examples
    --------
    >>> [len(map_classes(n)) for n in range(1, 7)]
    [1, 3, 7, 19, 47, 130]
    """
    if isinstance(n_states, bool) or not isinstance(n_states, (int, np.integer)):
        raise AutomatonError(f"n_states must be an integer, got {n_states!r}")
    if not 1 <= n_states <= MAX_MAP_STATES:
        raise AutomatonError(f"n_states must be between 1 and {MAX_MAP_STATES}, got {n_states}")
    return _classes(int(n_states))


def map_rank(f) -> int:
    """Number of distinct images of the map ``f`` (its rank).

    >>> map_rank([1, 1, 2])
    2
    """
    return int(np.unique(np.asarray(f)).size)


def _signatures(f: list[int]) -> list[tuple[int, int, int]]:
    """Invariants a conjugating permutation must keep: in-degree, distance to the
    cycle below the state, and the length of that cycle."""
    n = len(f)
    indeg = [0] * n
    for t in f:
        indeg[t] += 1
    cyclic = [False] * n
    for q in range(n):
        x = q
        for _ in range(n):
            x = f[x]
        # After n steps x lies on a cycle; q is cyclic iff it returns to itself.
        y = f[x]
        on_cycle = {x}
        while y != x:
            on_cycle.add(y)
            y = f[y]
        cyclic[q] = q in on_cycle
    out = []
    for q in range(n):
        height, x = 0, q
        while not cyclic[x]:
            x, height = f[x], height + 1
        length, y = 1, f[x]
        while y != x:
            y, length = f[y], length + 1
        out.append((indeg[q], height, length))
    return out


def map_automorphisms(f, limit: int | None = None) -> np.ndarray:
    """Permutations ``σ`` that commute with the map ``f`` (``f∘σ = σ∘f``), identity first.

    Parameters
    ----------
    f : sequence of int
        A map on ``range(len(f))``.
    limit : int, optional
        Stop after this many (any subset is still a valid set of symmetries).

    Returns
    -------
    numpy.ndarray of int64, shape (count, n)

    Examples
    --------
    >>> map_automorphisms([1, 0, 2]).tolist()  # the 2-cycle can be rotated
    [[0, 1, 2], [1, 0, 2]]
    """
    f = [int(v) for v in f]
    n = len(f)
    if n == 0 or any(not 0 <= v < n for v in f):
        raise AutomatonError(f"not a map on {n} states: {f}")
    sig = _signatures(f)
    sigma = [-1] * n
    used = [False] * n
    found: list[list[int]] = []

    def consistent(q: int) -> bool:
        # Every assigned p with f(p) assigned must satisfy f(σ(p)) == σ(f(p)).
        for p in range(q + 1):
            fp = f[p]
            if fp <= q and f[sigma[p]] != sigma[fp]:
                return False
        return True

    def extend(q: int) -> bool:
        if q == n:
            found.append(sigma.copy())
            return limit is not None and len(found) >= limit
        for image in range(n):
            if used[image] or sig[image] != sig[q]:
                continue
            sigma[q] = image
            used[image] = True
            stop = consistent(q) and extend(q + 1)
            used[image] = False
            sigma[q] = -1
            if stop:
                return True
        return False

    extend(0)
    found.sort(key=lambda s: s != list(range(n)))
    return np.array(found, dtype=np.int64).reshape(-1, n)
