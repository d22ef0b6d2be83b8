"""Heuristic reset words: fast upper bounds on the reset length.

Both functions return an actual reset word, which is usually longer than a
shortest one: its length is an *upper bound* on the reset length, never the
exact value (use :func:`automata.sync.shortest_reset_word` for that).
"""
from __future__ import annotations

import numpy as np

from . import _kernels as K
from . import _kernels_bidir as KB
from . import _kernels_heur as KH
from .dfa import DFA
from .errors import AutomatonError, NotSynchronizingError

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
        raise ValueError(f"width must be at least 1, got {width}")
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
