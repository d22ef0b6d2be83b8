"""Plain-Python reference algorithms, written to be obviously correct.

These are the yardstick the fast kernels of :mod:`automata.sync` are tested
against, and the independent method that re-checks any reset length above
Černý's bound. They are slow (exponential in the worst case) and meant for
small automata or for a second opinion on a single result.
"""
from __future__ import annotations

from collections import deque

from automata.dfa import DFA
from automata.errors import AutomatonError

__all__ = ["bfs_reset_word", "bfs_reset_word_bitset"]


def _as_dfa(dfa) -> DFA:
    if isinstance(dfa, DFA):
        return dfa
    raise AutomatonError(f"expected an automata.DFA, got {type(dfa).__name__}")


def bfs_reset_word(dfa: DFA) -> list[int] | None:
    """A shortest reset word by breadth-first search over subsets, or None.

    Starts from the full state set ``Q`` and explores images ``S·a`` level by
    level with plain frozensets; the first singleton reached gives a shortest
    reset word. Every reachable subset is visited at most once, so the search
    ends, and it returns None exactly when no singleton is reachable, i.e.
    when the automaton is not synchronizing.

    Parameters
    ----------
    dfa : DFA
        The automaton.

    Returns
    -------
    list of int or None
        Letter indices of a shortest reset word (``[]`` for one state), or
        None when the automaton is not synchronizing.

    Examples
    --------
    >>> from automata import DFA
    >>> bfs_reset_word(DFA([[1, 2, 0], [0, 1, 0]]))  # Černý C_3
    [1, 0, 0, 1]
    >>> bfs_reset_word(DFA([[1, 0], [0, 1]])) is None
    True
    """
    dfa = _as_dfa(dfa)
    table = dfa.delta.tolist()
    start = frozenset(range(dfa.n_states))
    if len(start) == 1:
        return []
    # parent[S] = (previous set, letter) so the word can be read back.
    parent: dict[frozenset, tuple[frozenset, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for letter, row in enumerate(table):
            image = frozenset(row[q] for q in current)
            if image in parent:
                continue
            parent[image] = (current, letter)
            if len(image) == 1:
                word = []
                node = image
                while parent[node] is not None:
                    node, a = parent[node]
                    word.append(a)
                return word[::-1]
            queue.append(image)
    return None


def bfs_reset_word_bitset(dfa: DFA) -> list[int] | None:
    """The same breadth-first search as :func:`bfs_reset_word`, with subsets as
    Python integers (bit ``q`` = state ``q``) and images computed state by
    state; several times faster, still pure Python and independent of the
    numba kernels. Used as the second opinion on larger automata.

    >>> from automata import DFA
    >>> len(bfs_reset_word_bitset(DFA([[1, 2, 3, 0], [0, 1, 2, 0]])))
    9
    """
    dfa = _as_dfa(dfa)
    n = dfa.n_states
    if n == 1:
        return []
    images = [[1 << int(q) for q in row] for row in dfa.delta.tolist()]
    start = (1 << n) - 1
    parent: dict[int, tuple[int, int] | None] = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for current in frontier:
            for letter, row in enumerate(images):
                image = 0
                rest = current
                while rest:
                    low = rest & -rest
                    image |= row[low.bit_length() - 1]
                    rest ^= low
                if image in parent:
                    continue
                parent[image] = (current, letter)
                if image & (image - 1) == 0:
                    word = []
                    node = image
                    while parent[node] is not None:
                        node, a = parent[node]
                        word.append(a)
                    return word[::-1]
                nxt.append(image)
        frontier = nxt
    return None
