"""Heuristic reset words: fast upper bounds on the reset length.

Both functions return an actual reset word, which is usually longer than a
shortest one: its length is an *upper bound* on the reset length, never the
exact value (use :func:`automata.sync.shortest_reset_word` for that).
"""
from __future__ import annotations

import math

import numpy as np

from automata import _kernels as K
from automata import _kernels_bidir as KB
from automata import _kernels_heur as KH
from automata.dfa import DFA
from automata.errors import AutomatonError, NotSynchronizingError

__all__ = ["eppstein", "beam_search"]


def _as_sync_dfa(dfa) -> DFA:
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected an automata.DFA, got {type(dfa).__name__}")
    if not K._is_synchronizing(dfa.delta):
        raise NotSynchronizingError("the automaton is not synchronizing: no reset word exists")
    return dfa


def eppstein(dfa: DFA) -> list[int]:
    """A reset word by Eppstein's greedy algorithm (an upper bound).

    Repeatedly picks, among the states still reachable, the pair with the
    shortest merging word (from a breadth-first search on the pair graph) and
    applies that word. Runs in O(n³ + k·n²) time and O(n²) memory; on random
    automata the word is typically about 1.5 times longer than a shortest one.

    Raises
    ------
    NotSynchronizingError
        If the automaton has no reset word.

    Examples
    --------
    >>> from automata import DFA
    >>> cerny4 = DFA([[1, 2, 3, 0], [0, 1, 2, 0]])
    >>> word = eppstein(cerny4)
    >>> cerny4.is_reset_word(word), len(word) >= 9
    (True, True)
    """
    dfa = _as_sync_dfa(dfa)
    if dfa.n_states == 1:
        return []
    word, ok = KH._eppstein(dfa.delta)
    if not ok:  # pragma: no cover - excluded by the synchronization check
        raise NotSynchronizingError("the automaton is not synchronizing: no reset word exists")
    return word.tolist()


def beam_search(dfa: DFA, width: int = 64) -> list[int]:
    """A reset word by beam search over subsets (an upper bound).

    Breadth-first search from the full state set that keeps, at every level,
    only the ``width`` distinct images with the fewest states. With a wide
    enough beam it finds a shortest reset word on nearly all random automata,
    but it gives no guarantee; if the beam stalls for ``(n-1)² + n`` levels
    the result of :func:`eppstein` is returned instead, and the shorter of
    the two words is returned in any case.

    Parameters
    ----------
    dfa : DFA
    width : int
        Number of subsets kept per level (at least 1).

    Raises
    ------
    NotSynchronizingError
        If the automaton has no reset word.

    Examples
    --------
    >>> from automata import DFA
    >>> cerny4 = DFA([[1, 2, 3, 0], [0, 1, 2, 0]])
    >>> len(beam_search(cerny4, width=8))
    9
    """
    width = int(width)
    if width < 1:
        raise AutomatonError(f"width must be at least 1, got {width}")
    dfa = _as_sync_dfa(dfa)
    n = dfa.n_states
    if n == 1:
        return []
    return _beam_word(dfa.delta, width)


def _beam_word(delta: np.ndarray, width: int) -> list[int]:
    k, n = delta.shape
    W = (n + 63) // 64
    full = np.zeros(W, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    found, word = KH._beam(KB._tables(delta, False, W), full, width, (n - 1) ** 2 + n)
    greedy, _ = KH._eppstein(delta)
    if not found or len(greedy) < len(word):
        return greedy.tolist()
    return word.tolist()


def _full_set(n: int, W: int) -> np.ndarray:
    full = np.zeros(W, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    return full


def _backward_beam(delta: np.ndarray, itab: np.ndarray, width: int, max_steps: int,
                   limits=None) -> list[int] | None:
    """A reset word by a backward beam, or None if none within ``max_steps``.

    Starts from the singletons and keeps, at each level, the ``width``
    largest distinct preimages ``S·a⁻¹``; the first preimage equal to Q
    spells a reset word (letters read from the last level back). One kernel
    call per level, so ``limits`` (time) is checked between levels.
    """
    k, n = delta.shape
    W = itab.shape[3]
    level = np.zeros((n, W), dtype=np.uint64)
    for q in range(n):
        level[q, q >> 6] = np.uint64(1) << np.uint64(q & 63)
    parents: list[np.ndarray] = []
    letters: list[np.ndarray] = []
    for _ in range(max_steps):
        if limits is not None:
            limits.check_time("the beam search for an upper bound")
        level, parent, letter, hit = KH._beam_back_level(level, itab, n, width)
        parents.append(parent)
        letters.append(letter)
        if hit >= 0:
            word = []
            idx = hit
            for t in range(len(letters) - 1, -1, -1):
                word.append(int(letters[t][idx]))
                idx = int(parents[t][idx])
            return word
        if level.shape[0] == 0:
            return None
    return None


def _dynamic_beam_bound(delta: np.ndarray, itab: np.ndarray, limits=None) -> list[int] | None:
    """A short reset word for the exact search to beat, or None.

    A backward beam of width ``n·log2 n`` gives a first length ``b``; the
    beam is then widened in proportion to the cost of the exact search that
    a length ``b`` predicts (about ``k^(b/2)`` sets per direction), as in
    the dynamic beam of Szykuła and Zyzik, and rerun. On random automata
    the result is nearly always a shortest word, so the exact search only
    has to prove that nothing shorter exists. Both passes stop after
    ``8·√n + 32`` levels: slowly synchronizing automata (long words) get no
    bound, and their exact search is cheap anyway. The widths are also kept
    within a quarter of the memory budget of ``limits``.
    """
    k, n = delta.shape
    W = itab.shape[3]
    max_steps = int(8 * math.sqrt(n)) + 32
    base = max(8, int(n * math.log2(max(n, 2))))
    cap = n * n * max(1, int(math.log2(max(n, 2))))
    if limits is not None:
        # Each kept set costs its expansion (k rows) and sort buffers (~3 rows).
        cap = min(cap, max(base, int(limits.budget / 4 / ((k + 3) * 8 * W))))
    word = _backward_beam(delta, itab, base, max_steps, limits)
    if word is None:
        return None
    b = len(word)
    exact_cost = 2.0 * float(k) ** ((b + 1) / 2)
    width = int(min(max(0.01 * exact_cost / b, base), cap))
    if width > base and b > 1:
        wider = _backward_beam(delta, itab, width, b - 1, limits)
        if wider is not None and len(wider) < b:
            word = wider
    return word
