"""The complete deterministic finite automaton, immutable.

An automaton is its transition table ``delta[letter, state]``: states are
``0 .. n_states-1`` and letters ``0 .. n_letters-1``. Initial and final states
play no role in synchronization, so there are none.
"""
from __future__ import annotations

import string
from typing import Iterable, Sequence

import numpy as np

from automata.errors import AutomatonError

__all__ = ["DFA", "STATE_DTYPE", "MAX_STATES", "LETTER_NAMES", "letter_name", "word_to_string",
           "first_out_of_range", "check_table", "check_tables"]

#: dtype of every transition table in the package (the numba kernels assume it).
STATE_DTYPE = np.int32

#: Letters are printed as a, b, c, ... ; beyond 26 letters as x26, x27, ...
LETTER_NAMES = string.ascii_lowercase

#: Most states a table may have: states must fit :data:`STATE_DTYPE`.
MAX_STATES = int(np.iinfo(STATE_DTYPE).max)


def first_out_of_range(values, n_states: int) -> int:
    """Flat index of the first entry of ``values`` outside ``range(n_states)``, or -1.

    The one definition of "a valid state": :func:`check_table` and the
    parsers of :mod:`automata.formats` (which must point at the offending
    token) both use it.

    >>> first_out_of_range([0, 2, 5, 1], 3), first_out_of_range([0, 2], 3)
    (2, -1)
    """
    flat = np.asarray(values).reshape(-1)
    bad = np.flatnonzero((flat < 0) | (flat >= n_states))
    return int(bad[0]) if bad.size else -1


def check_table(delta) -> np.ndarray:
    """Validate a transition table and return it as a read-only C-contiguous
    :data:`STATE_DTYPE` array of shape ``(n_letters, n_states)``.

    This is the one validator of transition tables: :class:`DFA` and the
    parsers call it.

    Raises
    ------
    AutomatonError
        If the table is not a non-empty 2-D table of integers (integral
        floats are accepted) with every entry in ``range(n_states)``, or has
        more than :data:`MAX_STATES` states.

    Examples
    --------
    >>> check_table([[1, 0]]).tolist()
    [[1, 0]]
    >>> check_table([[1, 2]])
    Traceback (most recent call last):
    ...
    automata.errors.AutomatonError: transition to state 2 is out of range for 2 states
    """
    try:
        table = np.array(delta)
    except (TypeError, ValueError, OverflowError) as exc:  # ragged lists, huge integers
        raise AutomatonError(f"transition table is not rectangular: {exc}") from None
    if table.ndim != 2:
        raise AutomatonError(
            f"transition table must be 2-D (n_letters, n_states), got shape {table.shape}")
    n_letters, n_states = table.shape
    if n_letters < 1 or n_states < 1:
        raise AutomatonError("an automaton needs at least one state and one letter")
    if n_states > MAX_STATES:
        raise AutomatonError(f"{n_states} states is more than the {MAX_STATES} supported")
    if table.dtype.kind == "f":
        if not np.all(np.isfinite(table)) or not np.all(table == np.round(table)):
            raise AutomatonError("transition table entries must be integers")
    elif table.dtype.kind not in "iub":
        raise AutomatonError(f"transition table entries must be integers, got {table.dtype}")
    bad = first_out_of_range(table, n_states)
    if bad >= 0:
        value = table.reshape(-1)[bad]
        raise AutomatonError(f"transition to state {int(value)} is out of range for "
                             f"{n_states} states")
    table = np.ascontiguousarray(table, dtype=STATE_DTYPE)
    table.setflags(write=False)
    return table


def letter_name(letter: int) -> str:
    """Human name of a letter index: 0 -> 'a', 1 -> 'b', 26 -> 'x26'.

    >>> letter_name(1)
    'b'
    """
    return LETTER_NAMES[letter] if letter < len(LETTER_NAMES) else f"x{letter}"


def word_to_string(word: Sequence[int]) -> str:
    """Render a word of letter indices, e.g. ``[1, 0, 0] -> 'baa'``.

    >>> word_to_string([1, 0, 0])
    'baa'
    """
    if all(letter < len(LETTER_NAMES) for letter in word):
        return "".join(LETTER_NAMES[letter] for letter in word)
    return " ".join(letter_name(letter) for letter in word)


def check_tables(deltas, *, dtype=STATE_DTYPE) -> np.ndarray:
    """Validate a stack of transition tables ``(m, n_letters, n_states)`` and return it
    as a C-contiguous array of ``dtype``: :func:`check_table` for batches, with the same
    definition of a valid state (:func:`first_out_of_range`).

    Raises
    ------
    AutomatonError
        When the array is ragged, not 3-D, not integer, empty in a dimension of an
        automaton, or when a transition leaves the range of states.

    >>> check_tables([[[1, 0]], [[0, 0]]]).shape
    (2, 1, 2)
    >>> check_tables([[[2, 0]]])
    Traceback (most recent call last):
    ...
    automata.errors.AutomatonError: transition to state 2 is out of range for 2 states
    """
    try:
        arr = np.asarray(deltas)
    except (TypeError, ValueError) as exc:
        raise AutomatonError(f"transition tables are not a rectangular array: {exc}") from None
    if arr.ndim != 3:
        raise AutomatonError(
            f"expected tables of shape (m, n_letters, n_states), got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise AutomatonError(f"transition tables must be integers, got {arr.dtype}")
    m, k, n = arr.shape
    if m and (k < 1 or n < 1):
        raise AutomatonError("an automaton needs at least one state and one letter")
    bad = first_out_of_range(arr, n) if arr.size else -1
    if bad >= 0:
        value = int(arr.reshape(-1)[bad])
        raise AutomatonError(f"transition to state {value} is out of range for {n} states")
    return np.ascontiguousarray(arr, dtype=dtype)


class DFA:
    """A complete deterministic automaton given by ``delta[letter, state]``.

    Parameters
    ----------
    delta : array-like of int, shape (n_letters, n_states)
        ``delta[a][q]`` is the state reached from ``q`` by letter ``a``.

    Raises
    ------
    AutomatonError
        If the table is not a non-empty 2-D integer table with every entry in
        ``range(n_states)``.

    Examples
    --------
    >>> A = DFA([[1, 2, 0], [0, 1, 0]])
    >>> A.n_letters, A.n_states
    (2, 3)
    >>> A.apply([1, 0])
    array([1, 2, 1], dtype=int32)
    """

    __slots__ = ("_delta", "_hash")

    def __init__(self, delta):
        self._delta = check_table(delta)
        self._hash = None

    # -- shape --------------------------------------------------------------
    @property
    def delta(self) -> np.ndarray:
        """Read-only transition table, shape ``(n_letters, n_states)``."""
        return self._delta

    @property
    def n_states(self) -> int:
        return int(self._delta.shape[1])

    @property
    def n_letters(self) -> int:
        return int(self._delta.shape[0])

    # -- behaviour ----------------------------------------------------------
    def apply(self, word: Iterable[int], states=None) -> np.ndarray:
        """Map each state (or each of ``states``) through ``word``; returns the images.

        Raises AutomatonError on a letter outside ``range(n_letters)``.
        """
        current = (np.arange(self.n_states, dtype=STATE_DTYPE) if states is None
                   else np.asarray(states, dtype=STATE_DTYPE))
        for letter in word:
            if not 0 <= letter < self.n_letters:
                raise AutomatonError(f"letter {letter} is out of range for {self.n_letters} letters")
            current = self._delta[letter][current]
        return current

    def image(self, word: Iterable[int]) -> frozenset[int]:
        """The set ``Q·word`` of states reached from all states."""
        return frozenset(int(q) for q in self.apply(word))

    def is_reset_word(self, word: Iterable[int]) -> bool:
        """True when ``word`` takes every state to one and the same state."""
        return len(self.image(word)) == 1

    # -- identity -----------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, DFA):
            return NotImplemented
        return self._delta.shape == other._delta.shape and bool(np.array_equal(self._delta, other._delta))

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._delta.shape, self._delta.tobytes()))
        return self._hash

    def __repr__(self) -> str:
        rows = " ".join(
            f"{letter_name(a)}:{list(map(int, self._delta[a]))}" for a in range(self.n_letters))
        return f"DFA(n_states={self.n_states}, n_letters={self.n_letters}, {rows})"

    def __reduce__(self):
        # Pickle as the plain table: DFAs travel to joblib workers.
        return (DFA, (self._delta.tolist(),))

    def relabel(self, state_perm: Sequence[int], letter_perm: Sequence[int] | None = None) -> "DFA":
        """The isomorphic automaton where state ``q`` is renamed ``state_perm[q]``
        and letter ``a`` becomes ``letter_perm[a]``."""
        perm = np.asarray(state_perm, dtype=np.int64)
        if sorted(perm.tolist()) != list(range(self.n_states)):
            raise AutomatonError("state_perm is not a permutation of the states")
        inv = np.empty_like(perm)
        inv[perm] = np.arange(self.n_states)
        table = perm[self._delta[:, inv]]
        if letter_perm is not None:
            lp = np.asarray(letter_perm, dtype=np.int64)
            if sorted(lp.tolist()) != list(range(self.n_letters)):
                raise AutomatonError("letter_perm is not a permutation of the letters")
            new = np.empty_like(table)
            new[lp] = table
            table = new
        return DFA(table)
