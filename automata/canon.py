"""Canonical forms of automata up to relabelling states and permuting letters.

Two automata are *isomorphic* when one becomes the other after renaming its
states and its letters. :func:`canonical_form` picks one representative per
isomorphism class, so ``canonical_form(a) == canonical_form(b)`` exactly when
``a`` and ``b`` are isomorphic; :func:`canonical_key` is its compact text,
usable as a dictionary key or a dataset column.

The representative is the smallest transition table, read state-major
(``δ(0,a), δ(0,b), …, δ(1,a), …``), among the breadth-first numberings explored
by an isomorphism-invariant search (see :mod:`automata._canon_kernels`). The
automaton need not be connected: when a breadth-first sweep stops, the search
restarts from the unnumbered roots whose sweep is smallest.

The cost grows with ``n_letters!`` (every letter order is tried); it is meant
for the small alphabets of synchronization problems.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from automata._canon_kernels import _canon_batch
from automata.dfa import DFA, STATE_DTYPE, check_tables
from automata.errors import AutomatonError
from automata.formats import format_compact

__all__ = ["canonical_form", "canonical_key", "is_isomorphic", "canonical_tables",
           "canonical_labelling"]

#: Letter counts beyond this make the ``n_letters!`` letter orders impractical.
MAX_LETTERS = 8


@lru_cache(maxsize=None)
def _letter_perms(n_letters: int) -> np.ndarray:
    perms = np.array(list(itertools.permutations(range(n_letters))), dtype=np.int64)
    perms.setflags(write=False)
    return perms


def _check_dfa(dfa) -> DFA:
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    if dfa.n_letters > MAX_LETTERS:
        raise AutomatonError(
            f"canonical forms support at most {MAX_LETTERS} letters, got {dfa.n_letters}")
    return dfa


def _check_tables(deltas) -> np.ndarray:
    tables = check_tables(deltas, dtype=np.int64)
    if tables.shape[1] > MAX_LETTERS:
        raise AutomatonError(
            f"canonical forms support at most {MAX_LETTERS} letters, got {tables.shape[1]}")
    return tables


def _run(tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, k, n = tables.shape
    out = np.empty((m, k, n), dtype=STATE_DTYPE)
    labels = np.empty((m, n + 1), dtype=np.int64)
    if m:
        _canon_batch(tables, _letter_perms(k), out, labels)
    return out, labels


def canonical_tables(deltas) -> np.ndarray:
    """Canonical transition tables of a batch of automata.

    Parameters
    ----------
    deltas : array-like of int, shape (m, n_letters, n_states)
        ``deltas[i, a, q]`` is the image of state ``q`` under letter ``a`` in
        automaton ``i``.

    Returns
    -------
    numpy.ndarray of int32, shape (m, n_letters, n_states)
        The canonical table of each automaton: equal rows exactly for
        isomorphic automata.

    Raises
    ------
    AutomatonError
        If the array is not 3-D, not integer, or has an entry out of range.

    Examples
    --------
    >>> t = canonical_tables([[[1, 2, 0], [0, 1, 1]], [[0, 0, 2], [1, 2, 0]]])
    >>> bool((t[0] == t[1]).all())
    True
    """
    out, _ = _run(_check_tables(deltas))
    return out


def canonical_labelling(dfa: DFA) -> tuple[list[int], list[int]]:
    """A relabelling that turns ``dfa`` into its canonical form.

    Returns ``(state_perm, letter_perm)`` such that
    ``dfa.relabel(state_perm, letter_perm) == canonical_form(dfa)``.

    >>> A = DFA([[1, 2, 0], [0, 0, 2]])
    >>> s, l = canonical_labelling(A)
    >>> A.relabel(s, l) == canonical_form(A)
    True
    """
    dfa = _check_dfa(dfa)
    _, labels = _run(np.ascontiguousarray(dfa.delta[None], dtype=np.int64))
    perm = _letter_perms(dfa.n_letters)[int(labels[0, 0])]
    order = labels[0, 1:]
    state_perm = [0] * dfa.n_states
    for new, old in enumerate(order.tolist()):
        state_perm[old] = new
    letter_perm = [0] * dfa.n_letters
    for new, old in enumerate(perm.tolist()):
        letter_perm[old] = new
    return state_perm, letter_perm


def canonical_form(dfa: DFA) -> DFA:
    """The canonical representative of the isomorphism class of ``dfa``.

    Invariant under renaming states and permuting letters: ``canonical_form(a)
    == canonical_form(b)`` if and only if ``a`` and ``b`` are isomorphic.

    Raises
    ------
    AutomatonError
        If ``dfa`` is not a :class:`~automata.dfa.DFA` or has too many letters.

    Examples
    --------
    >>> A = DFA([[1, 2, 0], [0, 1, 1]])
    >>> canonical_form(A) == canonical_form(A.relabel([2, 0, 1], [1, 0]))
    True
    """
    dfa = _check_dfa(dfa)
    out, _ = _run(np.ascontiguousarray(dfa.delta[None], dtype=np.int64))
    return DFA(out[0])


def canonical_key(dfa: DFA) -> str:
    """Compact text of :func:`canonical_form`: equal exactly for isomorphic automata.

    >>> canonical_key(DFA([[1, 2, 0], [0, 1, 1]]))
    'a:002 b:120'
    >>> canonical_key(DFA([[0, 0, 2], [1, 2, 0]]))  # states and letters renamed
    'a:002 b:120'
    """
    return format_compact(canonical_form(dfa))


def is_isomorphic(a: DFA, b: DFA) -> bool:
    """Whether ``a`` and ``b`` are equal up to renaming states and letters.

    >>> is_isomorphic(DFA([[1, 0], [0, 0]]), DFA([[1, 1], [1, 0]]))
    True
    >>> is_isomorphic(DFA([[1, 0], [0, 0]]), DFA([[1, 0], [0, 1]]))
    False
    """
    a = _check_dfa(a)
    b = _check_dfa(b)
    if a.delta.shape != b.delta.shape:
        return False
    out, _ = _run(np.ascontiguousarray(np.stack([a.delta, b.delta]), dtype=np.int64))
    return bool(np.array_equal(out[0], out[1]))
