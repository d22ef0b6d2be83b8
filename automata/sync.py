"""Synchronization: is an automaton synchronizing, and how short is its reset word?

Public functions validate their input and raise the typed errors of
:mod:`automata.errors`; the work is done by numba kernels on bitsets
(``automata._kernels*``, compiled once and cached on disk).

The exact solver (:func:`shortest_reset_word`) is a bidirectional
breadth-first search in the power automaton (after Kisielewicz, Kowalski and
Szykuła): forward over images ``Q·w``, backward over preimages
``{q}·w⁻¹``, always expanding the smaller frontier, until a forward set lies
inside a backward set. Subsets are multi-word bitsets (one ``uint64`` for
n <= 64); images use per-letter byte lookup tables; subset queries walk an
implicit binary trie over sorted families, with states renamed so that the
most frequent ones are tested first. Repeated sets are dropped, and
domination pruning (supersets of seen images, subsets of seen preimages) is
applied while it pays. A capped beam search supplies an upper bound that
usually lets the search stop one (the largest) step early.

Limits: ``memory_gib`` bounds the arrays of the search (estimated before
each step, so the budget raises :class:`MemoryBudgetExceeded` instead of the
process being killed) and ``time_limit`` raises :class:`TimeLimitExceeded`
(checked between steps).
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from . import _kernels as K
from . import _kernels_bidir as KB
from . import _kernels_heur as KH
from .dfa import DFA
from .errors import AutomatonError, MemoryBudgetExceeded, NotSynchronizingError, TimeLimitExceeded

__all__ = [
    "RESET_WORD_METHODS", "reset_word", "CernyReport", "cerny_bound", "cerny_report", "is_synchronizing", "reset_length",
    "reset_lengths", "shortest_reset_word",
]

_GIB = 1 << 30


def _as_dfa(dfa) -> DFA:
    if isinstance(dfa, DFA):
        return dfa
    raise AutomatonError(f"expected an automata.DFA, got {type(dfa).__name__}")


def _check_limits(memory_gib, time_limit):
    if not (isinstance(memory_gib, (int, float)) and math.isfinite(memory_gib) and memory_gib > 0):
        raise ValueError(f"memory_gib must be a positive number, got {memory_gib!r}")
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")


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


def _solve(dfa: DFA, memory_gib: float, time_limit: float | None) -> list[int] | None:
    """Shortest reset word or None when not synchronizing (limits enforced)."""
    if dfa.n_states == 1:
        return []
    if not K._is_synchronizing(dfa.delta):
        return None
    deadline = None if time_limit is None else time.monotonic() + time_limit
    return _exact_word(dfa, memory_gib, deadline)


#: Largest candidate family on which domination pruning is attempted.
_DOMINATE_MAX = 2048


class _Side:
    """One direction of the bidirectional search: its kept levels (with the
    parent index and letter of every set, to read the word back) and the
    sorted runs of every set seen so far, used for domination pruning.

    Forward sets are stored in the runs complemented, so that both
    directions prune with the same query: drop a candidate key that is a
    subset of a stored key (forward: a superset of a seen image; backward: a
    subset of a seen preimage)."""

    def __init__(self, start, tab, full, forward, nbits):
        self.tab = tab
        self.full = full
        self.forward = forward
        self.nbits = nbits
        keys = KB._complement(start, full) if forward else start
        order = KB._sort_unique(keys)
        # Only the last level's sets are kept: reading a word back needs just
        # the parent index and letter of every set of earlier levels.
        self.level = start[order]
        self.depth = 0
        self.keys = keys[order]
        self.parents = [np.full(len(order), -1, dtype=np.int32)]
        self.letters = [np.full(len(order), -1, dtype=np.int16)]
        W = start.shape[1]
        self.runs = np.empty((max(1024, 2 * len(order)), W), dtype=np.uint64)
        self.starts = np.zeros(130, dtype=np.int64)
        self.runs, self.nruns = KB._push_run(self.runs, self.starts, 0, self.keys)
        self.bytes = 6 * len(order)
        self.size = len(order)
        self._skip = 0
        self._pause = 1

    def stored_bytes(self):
        """Bytes held between steps: parent/letter arrays, runs, last level."""
        return self.bytes + self.runs.nbytes + 2 * self.level.nbytes

    def step_cost(self, k):
        """Extra bytes the next step may hold at its peak: the expanded
        family and its sort buffers, a regrown runs array and the copy of
        the second run of a merge."""
        m = self.size * k
        row = 8 * self.full.shape[0]
        rows_after = int(self.starts[self.nruns]) + m
        grow = 2 * rows_after * row if rows_after > len(self.runs) else 0
        return m * (4 * row + 8 * 4 + 6) + grow + rows_after * row

    def step(self):
        # Domination pruning (subset queries on the implicit trie) often costs
        # more than it saves: on random automata few sets are dominated, and
        # on Černý-like ones the levels stay tiny anyway. So it is switched
        # off after a step where it removed under 5% of the new sets, and
        # retried after an exponentially growing pause; and it is never tried
        # on large levels, where sparse subset queries get expensive.
        dominate = self._skip == 0 and self.size * self.tab.shape[0] <= _DOMINATE_MAX
        level, self.keys, parent, letter, self.runs, self.nruns, n_dom = KB._side_step(
            self.level, self.tab, self.full, self.forward, self.runs, self.starts,
            self.nruns, self.nbits, dominate)
        if dominate:
            if n_dom * 20 < len(level) + n_dom:
                self._pause = min(2 * self._pause, 1 << 12)
                self._skip = self._pause
            else:
                self._pause = 1
        else:
            self._skip -= 1
        self.level = level
        self.depth += 1
        self.parents.append(parent)
        self.letters.append(letter)
        self.size = len(level)
        self.bytes += 6 * len(level)

    def word(self, level, index):
        """Letters along the parent chain of set ``index`` of ``level``, from
        the level down to the start."""
        out = []
        while level > 0:
            out.append(int(self.letters[level][index]))
            index = int(self.parents[level][index])
            level -= 1
        return out


def _trie_friendly_relabel(delta: np.ndarray, W: int) -> np.ndarray:
    """Rename states so that the states most often present in images come
    first in the implicit trie order. Meet queries branch on the few states
    of a backward set and prune on the others; putting the states that most
    forward sets contain first makes that pruning bite early. Relabelling
    states does not change reset words, so the caller needs no back-mapping.
    """
    k, n = delta.shape
    # Stationary distribution of the uniform random walk: how often a state
    # is visited, a proxy for how often it lies in an image Q·w.
    p = np.full(n, 1.0 / n)
    for _ in range(60):
        nxt = np.zeros(n)
        for a in range(k):
            np.add.at(nxt, delta[a], p / k)
        p = 0.5 * p + 0.5 * nxt
    indeg = np.bincount(delta.ravel(), minlength=n)
    by_freq = np.lexsort((-indeg, -p))  # most frequent first
    labels = np.arange(64 * W)
    depth = 64 * (labels // 64) + 63 - labels % 64
    slots = labels[labels < n][np.argsort(depth[labels < n], kind="stable")]
    perm = np.empty(n, dtype=np.int64)
    perm[by_freq] = slots
    out = np.empty_like(delta)
    for a in range(k):
        out[a, perm] = perm[delta[a]]
    return np.ascontiguousarray(out)


def _bidirectional(delta: np.ndarray, memory_gib: float, deadline: float | None,
                   min_words: int = 1, upper: list[int] | None = None) -> list[int]:
    """Exact shortest reset word of a synchronizing automaton (n >= 2).

    Forward levels hold images of Q, backward levels preimages of
    singletons; each step expands the smaller side. With the invariant that
    every word's image (preimage) contains (is contained in) some kept set of
    the same or an earlier level, the first step at which a forward set of the
    last forward level is contained in a backward set of the last backward
    level gives a shortest reset word (its length is the sum of the levels).
    ``min_words`` forces wider bitsets than needed (tests of the multi-word path).
    ``upper`` is a known reset word: once no meet exists below its length it
    is optimal and returned, which saves the last and largest step.
    """
    k, n = delta.shape
    W = max((n + 63) // 64, min_words)
    nbits = 64 * W
    budget = memory_gib * _GIB
    # Byte lookup tables (both directions) come first; check them up front.
    tables = 2 * k * ((n + 7) // 8) * 256 * W * 8
    if tables + 64 * n * W > budget:
        raise MemoryBudgetExceeded(
            f"shortest reset word search needs more than memory_gib={memory_gib:g} GiB "
            f"just for its lookup tables (~{tables / _GIB:.2f} GiB); raise memory_gib")
    delta = _trie_friendly_relabel(delta, W)
    full = np.zeros(W, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    fwd = _Side(full.reshape(1, W).copy(), KB._tables(delta, False, W), full, True, nbits)
    singles = np.zeros((n, W), dtype=np.uint64)
    for q in range(n):
        singles[q, q >> 6] = np.uint64(1) << np.uint64(q & 63)
    bwd = _Side(singles, KB._tables(delta, True, W), full, False, nbits)
    base = fwd.tab.nbytes + bwd.tab.nbytes
    steps = 0
    while True:
        i, j = KB._meet(fwd.keys, bwd.level, full, nbits)
        if i >= 0:
            u = fwd.word(fwd.depth, i)[::-1]
            v = bwd.word(bwd.depth, j)
            return u + v
        if upper is not None and fwd.depth + bwd.depth + 1 >= len(upper):
            return list(upper)
        steps += 1
        if deadline is not None and (steps & 15 == 0 or fwd.size + bwd.size > 1000) \
                and time.monotonic() > deadline:
            raise TimeLimitExceeded(
                f"shortest reset word search ran past its time limit after reaching length "
                f"{fwd.depth + bwd.depth} without finding a reset word")
        side = fwd if fwd.size <= bwd.size else bwd
        need = base + fwd.stored_bytes() + bwd.stored_bytes() + side.step_cost(k)
        if need > budget:
            raise MemoryBudgetExceeded(
                f"shortest reset word search needs more than memory_gib={memory_gib:g} GiB "
                f"(next step ~{need / _GIB:.2f} GiB at length "
                f"{fwd.depth + bwd.depth}); raise memory_gib")
        side.step()
        if side.size == 0:  # pragma: no cover - the pair graph said synchronizing
            raise AssertionError("exact search exhausted a direction on a synchronizing automaton")


def _exact_word(dfa: DFA, memory_gib: float, deadline: float | None) -> list[int]:
    n = dfa.n_states
    upper = None
    if n >= 24:
        # A short beam search usually finds an optimal word on random
        # automata; it is capped so that slowly synchronizing ones (whose
        # words are long) cost next to nothing.
        W = (n + 63) // 64
        full = np.zeros(W, dtype=np.uint64)
        for q in range(n):
            full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
        found, word = KH._beam(KB._tables(dfa.delta, False, W), full, 2 * n,
                               int(12 * math.sqrt(n)) + 24)
        if found and dfa.is_reset_word(word.tolist()):
            upper = word.tolist()
    return _bidirectional(dfa.delta, memory_gib, deadline, upper=upper)


def shortest_reset_word(dfa: DFA, *, memory_gib: float = 4.0,
                        time_limit: float | None = None) -> list[int]:
    """A shortest reset word of a synchronizing automaton (exact).

    Parameters
    ----------
    dfa : DFA
    memory_gib : float
        Memory budget of the search's arrays in GiB. The peak of the next
        step is estimated (conservatively) before it runs, so going over
        raises instead of exhausting the machine.
    time_limit : float or None
        Wall-clock limit in seconds, checked between search steps (one step
        of a very large search may overshoot it by that step's duration).

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
    _check_limits(memory_gib, time_limit)
    word = _solve(dfa, memory_gib, time_limit)
    if word is None:
        raise NotSynchronizingError("the automaton is not synchronizing: no reset word exists")
    return word


def reset_length(dfa: DFA, *, memory_gib: float = 4.0, time_limit: float | None = None) -> int | None:
    """Length of a shortest reset word, or None if the automaton is not synchronizing.

    Same search and limits as :func:`shortest_reset_word`, but a
    non-synchronizing automaton gives ``None`` instead of raising
    :class:`NotSynchronizingError` (resource limits still raise).

    >>> from automata import DFA
    >>> reset_length(DFA([[1, 2, 0], [0, 1, 0]]))
    4
    >>> reset_length(DFA([[1, 0], [0, 1]])) is None
    True
    """
    dfa = _as_dfa(dfa)
    _check_limits(memory_gib, time_limit)
    word = _solve(dfa, memory_gib, time_limit)
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
    from .reference import bfs_reset_word, bfs_reset_word_bitset
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
        raise TypeError(f"unknown limits: {sorted(unknown)}")
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
               time_limit: float | None = None) -> list[int]:
    """A reset word by ``method``: ``"exact"`` (a shortest one, :func:`shortest_reset_word`),
    ``"eppstein"`` (greedy pair merging) or ``"beam"`` (beam search of ``width``); the
    heuristics give upper bounds on the reset length.

    ``width`` applies to ``"beam"`` only, ``memory_gib`` and ``time_limit`` to ``"exact"``.

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
        return shortest_reset_word(dfa, memory_gib=memory_gib, time_limit=time_limit)
    from .heuristics import beam_search, eppstein

    if method == "eppstein":
        return eppstein(dfa)
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise AutomatonError(f"width must be a positive integer, got {width!r}")
    return beam_search(dfa, width=int(width))
