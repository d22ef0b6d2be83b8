"""Random automata: uniform, synchronizing, strongly connected; and bulk tables.

Every function takes ``rng``: an ``int`` seed, ``None`` (fresh entropy) or a
``numpy.random.Generator``, so results are reproducible from a seed.

Distributions
-------------
``random_dfa`` and ``random_tables`` draw every transition independently and
uniformly: each of the ``n_states ** (n_states * n_letters)`` tables is equally
likely. ``random_synchronizing_dfa`` and ``random_strongly_connected_dfa`` are
*exactly* uniform over the automata with the property (on a fixed set of
labelled states): they sample from the uniform distribution conditioned on the
property, either by rejection or by the closed-component construction below.

Strongly connected automata by the closed-component construction: a random
automaton with ``N > n`` states almost always has one large strongly connected
component that no transition leaves (about ``ν·N`` states, where ``ν`` solves
``ν = 1 − exp(−k·ν)``; ``ν ≈ 0.797`` for two letters). Conditioned on a set
``S`` of states being such a closed strongly connected component, the
transitions inside ``S`` are independent of everything else and uniform among
those that make ``S`` strongly connected. So picking ``N ≈ n/ν`` and keeping a
closed component of exactly ``n`` states yields an exactly uniform strongly
connected ``n``-state automaton, while plain rejection would need
exponentially many tries (a state without incoming transitions appears with
constant probability per state).
"""
from __future__ import annotations

import math
from typing import Union

import numpy as np
from numba import njit

from automata.dfa import DFA, STATE_DTYPE
from automata.errors import AutomatonError, ResourceLimitError

__all__ = [
    "as_rng", "random_dfa", "random_tables", "random_synchronizing_dfa",
    "random_strongly_connected_dfa", "is_strongly_connected", "strongly_connected_tables",
    "strongly_connected_components",
]

RngLike = Union[int, np.integer, np.random.Generator, None]

#: Up to this many states, strongly connected automata are drawn by plain rejection.
_REJECTION_MAX_STATES = 10


def as_rng(seed_or_rng: RngLike = None) -> np.random.Generator:
    """Turn an int seed, ``None`` or a Generator into a ``numpy.random.Generator``.

    A Generator is returned as is (so callers share its stream).

    >>> int(as_rng(7).integers(0, 100)) == int(as_rng(7).integers(0, 100))
    True
    >>> g = np.random.default_rng(1); as_rng(g) is g
    True
    """
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is None or isinstance(seed_or_rng, (int, np.integer)):
        if isinstance(seed_or_rng, bool):
            raise AutomatonError("seed must be an int, None or a numpy Generator, got a bool")
        if seed_or_rng is not None and seed_or_rng < 0:
            raise AutomatonError(f"seed must be non-negative, got {seed_or_rng}")
        return np.random.default_rng(seed_or_rng)
    raise AutomatonError(
        f"seed must be an int, None or a numpy Generator, got {type(seed_or_rng).__name__}")


def _check_size(n_states, n_letters) -> tuple[int, int]:
    for name, value in (("n_states", n_states), ("n_letters", n_letters)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise AutomatonError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise AutomatonError(f"{name} must be at least 1, got {value}")
    return int(n_states), int(n_letters)


def random_tables(m: int, n_states: int, n_letters: int, rng: RngLike = None) -> np.ndarray:
    """``m`` uniformly random transition tables, shape ``(m, n_letters, n_states)``, int32.

    >>> random_tables(4, 5, 2, rng=0).shape
    (4, 2, 5)
    """
    n_states, n_letters = _check_size(n_states, n_letters)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 0:
        raise AutomatonError(f"m must be a non-negative integer, got {m!r}")
    return as_rng(rng).integers(0, n_states, size=(int(m), n_letters, n_states), dtype=STATE_DTYPE)


def random_dfa(n_states: int, n_letters: int, rng: RngLike = None) -> DFA:
    """A uniformly random complete automaton (each transition independent and uniform).

    >>> A = random_dfa(6, 2, rng=3)
    >>> A.n_states, A.n_letters, A == random_dfa(6, 2, rng=3)
    (6, 2, True)
    """
    return DFA(random_tables(1, n_states, n_letters, rng)[0])


def random_synchronizing_dfa(n_states: int, n_letters: int, rng: RngLike = None, *,
                             max_tries: int = 1000, strongly_connected: bool = False) -> DFA:
    """A uniformly random synchronizing automaton, by rejection.

    Random automata with two or more letters are synchronizing with probability
    ``1 − Θ(1/n)``, so few tries are needed; with one letter they rarely are.

    Parameters
    ----------
    n_states, n_letters : int
        Size of the automaton.
    rng : int, None or numpy.random.Generator
        Seed or generator.
    max_tries : int
        Number of candidates drawn before giving up.
    strongly_connected : bool
        Draw uniformly among automata that are both strongly connected and
        synchronizing (candidates come from :func:`random_strongly_connected_dfa`).

    Raises
    ------
    ResourceLimitError
        If none of ``max_tries`` candidates is synchronizing.

    Examples
    --------
    >>> from automata.sync import is_synchronizing
    >>> is_synchronizing(random_synchronizing_dfa(8, 2, rng=0))
    True
    """
    from automata.sync import is_synchronizing  # late import: sync is the heavier module

    n_states, n_letters = _check_size(n_states, n_letters)
    if max_tries < 1:
        raise AutomatonError(f"max_tries must be at least 1, got {max_tries}")
    gen = as_rng(rng)
    for _ in range(max_tries):
        if strongly_connected:
            candidate = random_strongly_connected_dfa(n_states, n_letters, gen)
        else:
            candidate = random_dfa(n_states, n_letters, gen)
        if is_synchronizing(candidate):
            return candidate
    kind = "strongly connected synchronizing" if strongly_connected else "synchronizing"
    raise ResourceLimitError(
        f"no {kind} automaton with {n_states} states and {n_letters} letters among "
        f"{max_tries} random candidates; raise max_tries")


def random_strongly_connected_dfa(n_states: int, n_letters: int, rng: RngLike = None, *,
                                  max_tries: int = 100_000, method: str = "auto") -> DFA:
    """A uniformly random strongly connected automaton (exactly uniform, see module notes).

    Parameters
    ----------
    n_states, n_letters : int
        Size of the automaton.
    rng : int, None or numpy.random.Generator
        Seed or generator.
    max_tries : int
        Candidates drawn before giving up.
    method : {"auto", "rejection", "closed_component", "cycle"}
        ``"rejection"`` draws whole automata until one is strongly connected
        (fine for small ``n``); ``"closed_component"`` keeps a closed strongly
        connected component of exactly ``n`` states from a larger random
        automaton; ``"cycle"`` (one letter only) draws a uniform cyclic
        permutation, the only strongly connected unary automata. ``"auto"``
        picks ``cycle`` for one letter, ``rejection`` up to 10 states and
        ``closed_component`` beyond.

    Raises
    ------
    ResourceLimitError
        If ``max_tries`` candidates fail.

    Examples
    --------
    >>> is_strongly_connected(random_strongly_connected_dfa(50, 2, rng=1))
    True
    """
    n_states, n_letters = _check_size(n_states, n_letters)
    if max_tries < 1:
        raise AutomatonError(f"max_tries must be at least 1, got {max_tries}")
    gen = as_rng(rng)
    if method == "auto":
        if n_letters == 1:
            method = "cycle"
        elif n_states <= _REJECTION_MAX_STATES:
            method = "rejection"
        else:
            method = "closed_component"
    if method == "cycle":
        if n_letters != 1:
            raise AutomatonError("method 'cycle' is only for one-letter automata")
        return DFA(_random_cycle(n_states, gen)[None, :])
    if method == "rejection":
        for _ in range(max_tries):
            table = gen.integers(0, n_states, size=(n_letters, n_states), dtype=STATE_DTYPE)
            if _is_strongly_connected(table):
                return DFA(table)
    elif method == "closed_component":
        big = max(n_states, int(round(n_states / _giant_fraction(n_letters))))
        for _ in range(max_tries):
            table = gen.integers(0, big, size=(n_letters, big), dtype=STATE_DTYPE)
            sub = _closed_component_of_size(table, n_states)
            if sub is not None:
                return DFA(sub)
    else:
        raise AutomatonError(
            f"unknown method {method!r}; expected auto, rejection, closed_component or cycle")
    raise ResourceLimitError(
        f"no strongly connected automaton with {n_states} states and {n_letters} letters "
        f"after {max_tries} tries (method {method!r}); raise max_tries")


def _random_cycle(n: int, gen: np.random.Generator) -> np.ndarray:
    # Sattolo's shuffle: uniform over the (n-1)! cyclic permutations.
    perm = np.arange(n, dtype=STATE_DTYPE)
    for i in range(n - 1, 0, -1):
        j = int(gen.integers(0, i))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def _giant_fraction(n_letters: int) -> float:
    """Root ``ν ∈ (0, 1)`` of ``ν = 1 − exp(−k ν)``: the share of states in the giant component."""
    nu = 1.0
    for _ in range(200):
        nu = 1.0 - math.exp(-n_letters * nu)
    return nu


def _closed_component_of_size(table: np.ndarray, size: int) -> np.ndarray | None:
    comp, n_comp = _scc_labels(table)
    closed = _closed_flags(table, comp, n_comp)
    counts = np.bincount(comp, minlength=n_comp)
    for c in range(n_comp):
        if closed[c] and counts[c] == size:
            states = np.flatnonzero(comp == c)  # sorted: relabel by rank
            rank = np.full(table.shape[1], -1, dtype=np.int64)
            rank[states] = np.arange(size)
            return rank[table[:, states]].astype(STATE_DTYPE)
    return None


def strongly_connected_components(dfa: DFA) -> list[list[int]]:
    """The strongly connected components of the transition graph, sinks first.

    >>> strongly_connected_components(DFA([[1, 0, 0]]))
    [[0, 1], [2]]
    """
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    comp, n_comp = _scc_labels(np.asarray(dfa.delta))
    return [np.flatnonzero(comp == c).tolist() for c in range(n_comp)]


def is_strongly_connected(dfa: DFA) -> bool:
    """True when every state reaches every other state.

    >>> is_strongly_connected(DFA([[1, 2, 0], [0, 0, 0]]))
    True
    >>> is_strongly_connected(DFA([[0, 0, 2]]))
    False
    """
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    return bool(_is_strongly_connected(np.asarray(dfa.delta)))


def strongly_connected_tables(tables: np.ndarray) -> np.ndarray:
    """Strong connectivity of each automaton of a batch ``(m, n_letters, n_states)``.

    Transitive closure by repeated squaring of the reachability matrices, all
    automata at once. Returns a bool array (m,).

    >>> strongly_connected_tables(np.array([[[1, 2, 0]], [[0, 0, 1]]]))
    array([ True, False])
    """
    tables = np.asarray(tables)
    if tables.ndim != 3:
        raise AutomatonError(f"expected (m, n_letters, n_states), got shape {tables.shape}")
    # The closure holds m·n² floats: bounded chunks keep big data sets in memory.
    chunk = 20_000
    if len(tables) > chunk:
        return np.concatenate([strongly_connected_tables(tables[i:i + chunk])
                               for i in range(0, len(tables), chunk)])
    m, k, n = tables.shape
    if m == 0:
        return np.zeros(0, dtype=bool)
    reach = np.zeros((m, n, n), dtype=np.float32)
    rows = np.arange(m)[:, None]
    cols = np.arange(n)[None, :]
    reach[:, cols[0], cols[0]] = 1.0
    for a in range(k):
        reach[rows, cols, tables[:, a, :]] = 1.0
    steps = 1
    while steps < n:
        reach = np.minimum(reach @ reach, 1.0)
        steps *= 2
    return reach.reshape(m, -1).min(axis=1) > 0


@njit(cache=True)
def _is_strongly_connected(delta):
    # Strongly connected iff state 0 reaches all states and all states reach 0.
    k, n = delta.shape
    seen = np.zeros(n, np.bool_)
    queue = np.empty(n, np.int64)
    seen[0] = True
    queue[0] = 0
    head, tail = 0, 1
    while head < tail:
        q = queue[head]
        head += 1
        for a in range(k):
            r = delta[a, q]
            if not seen[r]:
                seen[r] = True
                queue[tail] = r
                tail += 1
    if tail < n:
        return False
    # Reverse graph as CSR to walk back from 0.
    indeg = np.zeros(n + 1, np.int64)
    for a in range(k):
        for q in range(n):
            indeg[delta[a, q] + 1] += 1
    for q in range(n):
        indeg[q + 1] += indeg[q]
    fill = indeg[:n].copy()
    sources = np.empty(k * n, np.int64)
    for a in range(k):
        for q in range(n):
            r = delta[a, q]
            sources[fill[r]] = q
            fill[r] += 1
    seen[:] = False
    seen[0] = True
    queue[0] = 0
    head, tail = 0, 1
    while head < tail:
        r = queue[head]
        head += 1
        for i in range(indeg[r], indeg[r + 1]):
            q = sources[i]
            if not seen[q]:
                seen[q] = True
                queue[tail] = q
                tail += 1
    return tail == n


@njit(cache=True)
def _scc_labels(delta):
    # Iterative Tarjan; components are numbered in completion order, so sinks come first.
    k, n = delta.shape
    index = np.full(n, -1, np.int64)
    low = np.zeros(n, np.int64)
    on_stack = np.zeros(n, np.bool_)
    stack = np.empty(n, np.int64)
    comp = np.full(n, -1, np.int64)
    call_v = np.empty(n, np.int64)
    call_e = np.empty(n, np.int64)
    sp = 0
    n_comp = 0
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = counter
        low[root] = counter
        counter += 1
        stack[sp] = root
        sp += 1
        on_stack[root] = True
        call_v[0] = root
        call_e[0] = 0
        cp = 1
        while cp > 0:
            v = call_v[cp - 1]
            e = call_e[cp - 1]
            if e < k:
                call_e[cp - 1] = e + 1
                w = delta[e, v]
                if index[w] == -1:
                    index[w] = counter
                    low[w] = counter
                    counter += 1
                    stack[sp] = w
                    sp += 1
                    on_stack[w] = True
                    call_v[cp] = w
                    call_e[cp] = 0
                    cp += 1
                elif on_stack[w] and index[w] < low[v]:
                    low[v] = index[w]
            else:
                if low[v] == index[v]:
                    while True:
                        sp -= 1
                        w = stack[sp]
                        on_stack[w] = False
                        comp[w] = n_comp
                        if w == v:
                            break
                    n_comp += 1
                cp -= 1
                if cp > 0:
                    u = call_v[cp - 1]
                    if low[v] < low[u]:
                        low[u] = low[v]
    return comp, n_comp


@njit(cache=True)
def _closed_flags(delta, comp, n_comp):
    closed = np.ones(n_comp, np.bool_)
    k, n = delta.shape
    for a in range(k):
        for q in range(n):
            if comp[delta[a, q]] != comp[q]:
                closed[comp[q]] = False
    return closed
