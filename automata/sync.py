"""Synchronization: is an automaton synchronizing, and how short is its reset word?

Public functions validate their input and raise the typed errors of
:mod:`automata.errors`; the work is done by numba kernels on bitsets
(``automata._kernels*``, compiled once and cached on disk).

The exact solver (:func:`shortest_reset_word`) checks the pair graph, takes
an upper bound from a dynamic backward beam (:mod:`automata.heuristics`), and
runs the bidirectional search of :mod:`automata._bidir` (after Kisielewicz,
Kowalski and Szykuła; Szykuła and Zyzik): breadth-first from both ends
while that pays and memory allows, then depth-first from the last backward
level, never beyond the bound.

Limits hold from the first pass on: ``memory_gib`` bounds the arrays (each
pass and step is sized before it allocates; when the breadth-first levels no
longer fit the search goes on depth-first, and only a budget too small even
for that raises :class:`MemoryBudgetExceeded`), and ``time_limit`` raises
:class:`TimeLimitExceeded`, checked between chunks of every pass. Ctrl-C is
noticed between chunks too.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from automata import _bidir
from automata import _kernels as K
from automata import _kernels_bidir as KB
from automata._interruptible import surface_interrupts
from automata._limits import Limits
from automata.dfa import DFA
from automata.errors import AutomatonError, AutomatonTypeError, NotSynchronizingError
from automata.heuristics import _dynamic_beam_bound

__all__ = [
    "RESET_WORD_METHODS", "reset_word", "CernyReport", "cerny_bound", "cerny_report", "is_synchronizing", "reset_length",
    "reset_lengths", "shortest_reset_word",
]

def _as_dfa(dfa) -> DFA:
    if isinstance(dfa, DFA):
        return dfa
    raise AutomatonError(f"expected an automata.DFA, got {type(dfa).__name__}")


def _check_limits(memory_gib, time_limit, threads=None):
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, (int, np.integer))
                                or threads < 1):
        raise AutomatonError(f"threads must be a positive integer or None, got {threads!r}")
    if not (isinstance(memory_gib, (int, float)) and math.isfinite(memory_gib) and memory_gib > 0):
        raise AutomatonError(f"memory_gib must be a positive number, got {memory_gib!r}")
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise AutomatonError(
            f"time_limit must be a positive number of seconds or None, got {time_limit!r}")


def cerny_bound(n_states: int) -> int:
    """Černý's conjectured bound ``(n_states - 1)**2`` on the reset length.

    >>> cerny_bound(5)
    16
    """
    n_states = int(n_states)
    if n_states < 1:
        raise AutomatonError(f"n_states must be positive, got {n_states}")
    return (n_states - 1) ** 2


def is_synchronizing(dfa: DFA) -> bool:
    """True when the automaton has a reset word.

    Uses the pair graph: an automaton is synchronizing iff every pair of
    states can be merged, which a backward search from the diagonal decides
    in O(n_letters · n_states²) time and O(n_states²) memory.

    >>> from automata import DFA
    >>> is_synchronizing(DFA([[1, 2, 0], [0, 1, 0]]))
    True
    >>> is_synchronizing(DFA([[1, 2, 0], [2, 0, 1]]))  # two permutations
    False
    """
    dfa = _as_dfa(dfa)
    return bool(K._is_synchronizing(dfa.delta))


def _solve(dfa: DFA, memory_gib: float, time_limit: float | None,
           threads: int | None = None) -> list[int] | None:
    """Shortest reset word or None when not synchronizing (limits enforced).

    The limits hold from the first pass on: the pair graph, the lookup
    tables and the beam are sized against the budget before they are
    allocated and checked against the deadline between chunks."""
    if dfa.n_states == 1:
        return []
    limits = Limits(memory_gib, time_limit)
    with surface_interrupts():  # Ctrl-C inside a kernel stops the search as Ctrl-C, not as a bug
        if not K.pair_graph_synchronizing(dfa.delta, limits):
            return None
        return _exact_word(dfa, limits, threads)


def _exact_word(dfa: DFA, limits: Limits, threads: int | None = None) -> list[int]:
    """Shortest reset word of a synchronizing automaton with n >= 2."""
    delta = dfa.delta
    k, n = delta.shape
    W = (n + 63) // 64
    upper = None
    if n >= 24:
        # The backward lookup tables are the exact search's own; build them
        # for the beam only when they fit, as the search will check anyway.
        limits.check_memory(_bidir.table_bytes(n, k, W),
                            "the lookup tables of the shortest reset word search")
        word = _dynamic_beam_bound(delta, KB._tables(delta, True, W), limits)
        if word is not None and dfa.is_reset_word(word):
            upper = word
    return _bidir.bidirectional(delta, limits, upper=upper, threads=threads)


def shortest_reset_word(dfa: DFA, *, memory_gib: float = 4.0, time_limit: float | None = None,
                        threads: int | None = None) -> list[int]:
    """A shortest reset word of a synchronizing automaton (exact).

    Parameters
    ----------
    dfa : DFA
    memory_gib : float
        Memory budget of the search's arrays in GiB. Each pass and step is
        sized before it runs; when the breadth-first levels would not fit,
        the search continues depth-first within the budget.
    time_limit : float or None
        Wall-clock limit in seconds, checked between chunks of every pass
        (the pair graph, the beam, each search step or depth-first branch).
    threads : int or None
        Threads of the breadth-first steps, the meet tests and the
        depth-first phase on large levels (None: one; more than numba's
        thread count, ``NUMBA_NUM_THREADS``, by default the cores, is capped
        to it). The word found is the same for any count. Two threads are
        1.3-1.9x faster on random automata of n = 200-400 (the longer
        the search, the more they pay), within the same ``memory_gib``.

    Returns
    -------
    list of int
        Letter indices of a shortest reset word (``[]`` for one state).

    Raises
    ------
    NotSynchronizingError
        If the automaton has no reset word.
    MemoryBudgetExceeded, TimeLimitExceeded
        If the search would go over a limit.

    Examples
    --------
    >>> from automata import DFA
    >>> cerny4 = DFA([[1, 2, 3, 0], [0, 1, 2, 0]])
    >>> word = shortest_reset_word(cerny4)
    >>> len(word), cerny4.is_reset_word(word)
    (9, True)
    """
    dfa = _as_dfa(dfa)
    _check_limits(memory_gib, time_limit, threads)
    word = _solve(dfa, memory_gib, time_limit, threads)
    if word is None:
        raise NotSynchronizingError("the automaton is not synchronizing: no reset word exists")
    return word


def reset_length(dfa: DFA, *, memory_gib: float = 4.0, time_limit: float | None = None,
                 threads: int | None = None) -> int | None:
    """Length of a shortest reset word, or None if the automaton is not synchronizing.

    Same search, limits and ``threads`` as :func:`shortest_reset_word`, but a
    non-synchronizing automaton gives ``None`` instead of raising
    :class:`NotSynchronizingError` (resource limits still raise).

    >>> from automata import DFA
    >>> reset_length(DFA([[1, 2, 0], [0, 1, 0]]))
    4
    >>> reset_length(DFA([[1, 0], [0, 1]])) is None
    True
    """
    dfa = _as_dfa(dfa)
    _check_limits(memory_gib, time_limit, threads)
    word = _solve(dfa, memory_gib, time_limit, threads)
    return None if word is None else len(word)


def reset_lengths(deltas) -> np.ndarray:
    """Reset lengths of many small automata at once.

    Parameters
    ----------
    deltas : array-like of int, shape (m, n_letters, n_states)
        Transition tables with ``n_states <= 64``.

    Returns
    -------
    numpy.ndarray of int64, shape (m,)
        The length of a shortest reset word of each automaton, ``-1`` where
        the automaton is not synchronizing.

    Examples
    --------
    >>> reset_lengths([[[1, 2, 0], [0, 1, 0]], [[1, 2, 0], [2, 0, 1]]])
    array([ 4, -1])
    """
    arr = np.asarray(deltas)
    if arr.ndim != 3:
        raise AutomatonError(f"deltas must have shape (m, n_letters, n_states), got {arr.shape}")
    m, k, n = arr.shape
    if m == 0:
        return np.empty(0, dtype=np.int64)
    if k < 1 or n < 1:
        raise AutomatonError("automata need at least one state and one letter")
    if n > 64:
        raise AutomatonError(f"reset_lengths handles n_states <= 64, got {n}; use reset_length")
    if arr.dtype.kind not in "iu":
        raise AutomatonError(f"transition tables must be integers, got {arr.dtype}")
    if arr.min() < 0 or arr.max() >= n:
        raise AutomatonError(f"transition out of range for {n} states")
    arr = np.ascontiguousarray(arr, dtype=np.int32)
    log_cap = min(n + 1, 16)
    out = K._reset_lengths_batch(arr, log_cap)
    for i in np.flatnonzero(out == -2):
        rt = reset_length(DFA(arr[i]))
        out[i] = -1 if rt is None else rt
    return out


@dataclass(frozen=True)
class CernyReport:
    """Reset length of one automaton measured against Černý's bound."""

    n_states: int
    n_letters: int
    synchronizing: bool
    reset_length: int | None
    reset_word: list[int] | None
    cerny_bound: int
    ratio: float | None
    exceeds_bound: bool
    rechecked: bool

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        d = asdict(self)
        d["reset_word"] = None if self.reset_word is None else list(self.reset_word)
        return d


def _independent_word(dfa: DFA) -> list[int] | None:
    """Second opinion by a plain-Python BFS of :mod:`automata.reference`
    (frozensets for small automata, integer bitsets beyond), sharing no code
    with the numba solver."""
    from automata.reference import bfs_reset_word, bfs_reset_word_bitset
    return bfs_reset_word(dfa) if dfa.n_states <= 16 else bfs_reset_word_bitset(dfa)


def cerny_report(dfa: DFA, **limits) -> CernyReport:
    """Measure an automaton against Černý's bound ``(n-1)²``.

    A reset length above the bound would refute Černý's conjecture, so such
    a result is never trusted on the fast solver alone: it is recomputed by
    the independent plain BFS of :func:`automata.reference.bfs_reset_word`,
    a warning is emitted, and ``rechecked`` is True in the report.

    Parameters
    ----------
    dfa : DFA
    **limits
        ``memory_gib`` and ``time_limit`` for :func:`shortest_reset_word`.

    Examples
    --------
    >>> from automata import DFA
    >>> r = cerny_report(DFA([[1, 2, 3, 0], [0, 1, 2, 0]]))
    >>> r.reset_length, r.cerny_bound, r.ratio, r.exceeds_bound
    (9, 9, 1.0, False)
    """
    dfa = _as_dfa(dfa)
    unknown = set(limits) - {"memory_gib", "time_limit"}
    if unknown:
        raise AutomatonTypeError(f"unknown limits: {sorted(unknown)}")
    memory_gib = limits.get("memory_gib", 4.0)
    time_limit = limits.get("time_limit")
    _check_limits(memory_gib, time_limit)
    n = dfa.n_states
    bound = cerny_bound(n)
    word = _solve(dfa, memory_gib, time_limit)
    rechecked = False
    if word is not None and len(word) > bound:
        rechecked = True
        fast_length = len(word)
        check = _independent_word(dfa)
        if check is None or not dfa.is_reset_word(check):
            raise AssertionError(
                f"solver inconsistency: fast solver found rt={fast_length} but the independent "
                "BFS found no reset word")
        warnings.warn(
            f"reset length above Černý's bound on a {n}-state automaton: fast solver rt="
            f"{fast_length}, independent BFS rt={len(check)}, bound (n-1)^2={bound}. "
            + ("This would refute Černý's conjecture; verify it by hand."
               if len(check) > bound else "The independent BFS disagrees: the fast solver is wrong."),
            RuntimeWarning, stacklevel=2)
        word = check
    if word is None:
        return CernyReport(n, dfa.n_letters, False, None, None, bound, None, False, rechecked)
    rt = len(word)
    ratio = rt / bound if bound else (0.0 if rt == 0 else math.inf)
    return CernyReport(n, dfa.n_letters, True, rt, list(word), bound, ratio, rt > bound, rechecked)


#: The methods of :func:`reset_word`: one exact, two heuristic (upper bounds).
RESET_WORD_METHODS = ("exact", "eppstein", "beam")


def reset_word(dfa: DFA, method: str = "exact", *, width: int = 64, memory_gib: float = 4.0,
               time_limit: float | None = None, threads: int | None = None) -> list[int]:
    """A reset word by ``method``: ``"exact"`` (a shortest one, :func:`shortest_reset_word`),
    ``"eppstein"`` (greedy pair merging) or ``"beam"`` (beam search of ``width``); the
    heuristics give upper bounds on the reset length.

    ``width`` applies to ``"beam"`` only, ``memory_gib``, ``time_limit`` and ``threads`` to
    ``"exact"``.

    Raises
    ------
    AutomatonError
        On an unknown method or a bad width.
    NotSynchronizingError
        When the automaton has no reset word.

    Examples
    --------
    >>> from automata import DFA
    >>> c4 = DFA([[1, 2, 3, 0], [0, 1, 2, 0]])
    >>> len(reset_word(c4)), len(reset_word(c4, "eppstein")) >= 9
    (9, True)
    >>> reset_word(c4, "fastest")
    Traceback (most recent call last):
    ...
    automata.errors.AutomatonError: unknown reset-word method 'fastest'; choose one of exact, eppstein, beam
    """
    if method not in RESET_WORD_METHODS:
        raise AutomatonError(f"unknown reset-word method {method!r}; choose one of "
                             f"{', '.join(RESET_WORD_METHODS)}")
    if method == "exact":
        return shortest_reset_word(dfa, memory_gib=memory_gib, time_limit=time_limit,
                                   threads=threads)
    from automata.heuristics import beam_search, eppstein

    if method == "eppstein":
        return eppstein(dfa)
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise AutomatonError(f"width must be a positive integer, got {width!r}")
    return beam_search(dfa, width=int(width))
