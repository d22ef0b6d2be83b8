"""Exhaustive census of small automata up to isomorphism.

Every complete automaton with ``n_states`` states and ``n_letters`` letters is
visited once per isomorphism class (renaming states and permuting letters), and
the census reports how many synchronizing classes have each reset length.

How the enumeration avoids the ``n**(n*k)`` raw tables
------------------------------------------------------
Each letter of an automaton is a function on the states; its conjugacy class (a
functional graph up to isomorphism) is an isomorphism invariant of the letter.
Number the functional-graph classes ``0, 1, …``. The multiset of the classes of
the letters is an invariant of the automaton, so every automaton has a well
defined smallest letter class ``i``. Conjugating by a state permutation, that
letter can be made equal to the fixed representative ``f_i`` of class ``i``.
Hence every isomorphism class appears among the tables ``(f_i, g_1, …)`` with
every ``g_j`` of class ``>= i``, and appears for no other ``i``. The census
walks over ``i``, builds those tables, canonicalises them
(:mod:`automata.canon`) and removes duplicates within the class ``i`` only.
Reset lengths come from :func:`automata.sync.reset_lengths`.

Canonical tables are packed into one ``int64`` (state-major digits of
``bits`` bits each, most significant first), so integer order is the
lexicographic order of the canonical tables.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from automata._canon_kernels import _census_scan
from automata.atomic import atomic_write_text
from automata.canon import _letter_perms, canonical_tables

# The pruned census (rt >= L only, far larger sizes) lives in its own module.
from automata.census_pruned import PrunedCensus, pruned_census
from automata.dfa import DFA, STATE_DTYPE
from automata.errors import AutomatonError, ResourceLimitError
from automata.formats import format_compact
from automata.sync import reset_lengths

__all__ = ["Census", "census", "automata_with_reset_at_least", "census_size",
           "functional_graph_classes", "CensusPart", "census_part", "merge_parts",
           "default_cache_dir", "cache_census", "pruned_census", "PrunedCensus"]

#: Refuse censuses that would canonicalise more raw tables than this.
MAX_TABLES = 2_000_000_000
#: Refuse censuses whose letters range over more maps than this.
MAX_FUNCTIONS = 20_000_000
#: How many of the slowest automata a census keeps beyond what was asked.
EXTREME_BUDGET = 1000
#: Larger than any reset length: "no length must be kept".
NO_THRESHOLD = 1 << 62
_CACHE_VERSION = 1
_CHUNK = 1 << 18


# -- packing ------------------------------------------------------------------
def _bits(n_states: int) -> int:
    return max(1, (n_states - 1).bit_length())


def _check_sizes(n_states: int, n_letters: int) -> None:
    for name, value in (("n_states", n_states), ("n_letters", n_letters)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise AutomatonError(f"{name} must be a positive integer, got {value!r}")
    if n_states * n_letters * _bits(n_states) > 63:
        raise AutomatonError(
            f"a census of {n_states} states and {n_letters} letters is far beyond reach")


def _pack(tables: np.ndarray) -> np.ndarray:
    """Pack canonical tables (m, k, n) into int64 keys in state-major order."""
    m, k, n = tables.shape
    bits = _bits(n)
    keys = np.zeros(m, dtype=np.int64)
    flat = np.ascontiguousarray(tables.transpose(0, 2, 1)).reshape(m, n * k).astype(np.int64)
    for col in range(n * k):
        keys = (keys << bits) | flat[:, col]
    return keys


def _unpack(keys: np.ndarray, n_states: int, n_letters: int) -> np.ndarray:
    """Inverse of :func:`_pack`: int64 keys -> tables (m, k, n) int32."""
    keys = np.asarray(keys, dtype=np.int64)
    bits = _bits(n_states)
    mask = (1 << bits) - 1
    nk = n_states * n_letters
    flat = np.empty((keys.shape[0], nk), dtype=np.int64)
    rest = keys.copy()
    for col in range(nk - 1, -1, -1):
        flat[:, col] = rest & mask
        rest >>= bits
    return np.ascontiguousarray(
        flat.reshape(-1, n_states, n_letters).transpose(0, 2, 1)).astype(STATE_DTYPE)


# -- functional graphs ----------------------------------------------------------
def _all_functions(n_states: int) -> np.ndarray:
    """Every map {0..n-1} -> {0..n-1}; row ``c`` has digit ``q`` of ``c`` in base n at ``q``."""
    count = n_states ** n_states
    codes = np.arange(count, dtype=np.int64)
    out = np.empty((count, n_states), dtype=np.int64)
    for q in range(n_states):
        out[:, q] = codes % n_states
        codes //= n_states
    return out


@lru_cache(maxsize=8)
def _classes(n_states: int) -> tuple[np.ndarray, np.ndarray]:
    funcs = _all_functions(n_states)
    canon = canonical_tables(funcs[:, None, :])
    keys = _pack(canon)
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    reps = np.ascontiguousarray(canon[first, 0, :], dtype=np.int64)
    cls = inverse.astype(np.int32).ravel()
    reps.setflags(write=False)
    cls.setflags(write=False)
    return reps, cls


def functional_graph_classes(n_states: int) -> list[DFA]:
    """One representative (canonical, one letter) per functional graph on ``n_states`` points.

    Their number is OEIS A001372 (1, 3, 7, 19, 47, 130, 343, …).

    >>> len(functional_graph_classes(4))
    19
    """
    _check_sizes(n_states, 1)
    _check_work(n_states, 1)
    reps, _ = _classes(n_states)
    return [DFA(r[None, :]) for r in reps]


def _check_work(n_states: int, n_letters: int) -> None:
    """Refuse before allocating anything when the census is out of reach."""
    n_funcs = n_states ** n_states
    if n_funcs > MAX_FUNCTIONS:
        raise ResourceLimitError(
            f"a census of {n_states} states would tabulate {n_funcs:,} maps, more than "
            f"{MAX_FUNCTIONS:,}")
    # Every functional-graph class holds at most n! maps: a lower bound on the classes.
    lower = -(-n_funcs // math.factorial(n_states)) * n_funcs ** (n_letters - 1)
    if lower > MAX_TABLES:
        raise ResourceLimitError(
            f"a census of {n_states} states and {n_letters} letters scans more than "
            f"{lower:,} tables (limit {MAX_TABLES:,})")


def census_size(n_states: int, n_letters: int) -> int:
    """Number of raw tables a census scans (the total its progress callback reaches).

    Raises ResourceLimitError for sizes beyond reach.

    >>> census_size(3, 2)
    189
    """
    _check_sizes(n_states, n_letters)
    _check_work(n_states, n_letters)
    n_classes = len(_classes(n_states)[0])
    return n_classes * (n_states ** n_states) ** (n_letters - 1)


# -- results --------------------------------------------------------------------
@dataclass
class CensusPart:
    """Census results over some of the smallest-letter classes (mergeable).

    ``extremes`` maps a reset length to the packed keys of every automaton
    with that length, for all lengths ``>= cutoff`` (all synchronizing ones
    when ``cutoff == 0``).
    """

    n_states: int
    n_letters: int
    classes: set[int] = field(default_factory=set)
    total: int = 0
    non_synchronizing: int = 0
    histogram: dict[int, int] = field(default_factory=dict)
    cutoff: int = 0
    extremes: dict[int, np.ndarray] = field(default_factory=dict)

    def _trim(self, keep_from: int | None, keep_count: int) -> None:
        """Drop whole buckets of the shortest lengths below ``keep_from`` (no
        bound when None) while at least ``keep_count`` automata remain kept."""
        if keep_from is None:
            keep_from = NO_THRESHOLD
        kept = sum(len(v) for v in self.extremes.values())
        for rt in sorted(self.extremes):
            if rt >= keep_from or kept - len(self.extremes[rt]) < keep_count:
                break
            kept -= len(self.extremes.pop(rt))
            self.cutoff = rt + 1

    def to_json_obj(self) -> dict:
        return {
            "version": _CACHE_VERSION, "n_states": self.n_states, "n_letters": self.n_letters,
            "classes": sorted(self.classes), "total": self.total,
            "non_synchronizing": self.non_synchronizing,
            "histogram": {str(k): v for k, v in sorted(self.histogram.items())},
            "cutoff": self.cutoff,
            "extremes": {str(rt): [int(x) for x in keys] for rt, keys in sorted(self.extremes.items())},
        }

    @classmethod
    def from_json_obj(cls, obj: dict) -> "CensusPart":
        if obj.get("version") != _CACHE_VERSION:
            raise AutomatonError("census state has an unknown version")
        return cls(
            n_states=int(obj["n_states"]), n_letters=int(obj["n_letters"]),
            classes=set(int(c) for c in obj["classes"]), total=int(obj["total"]),
            non_synchronizing=int(obj["non_synchronizing"]),
            histogram={int(k): int(v) for k, v in obj["histogram"].items()},
            cutoff=int(obj["cutoff"]),
            extremes={int(rt): np.array(keys, dtype=np.int64) for rt, keys in obj["extremes"].items()},
        )


def merge_parts(parts: Iterable[CensusPart], *, keep_from: int | None = None,
                keep_count: int = EXTREME_BUDGET) -> CensusPart:
    """Combine parts over disjoint sets of classes into one."""
    parts = list(parts)
    if not parts:
        raise AutomatonError("nothing to merge")
    n, k = parts[0].n_states, parts[0].n_letters
    out = CensusPart(n, k)
    out.cutoff = max(p.cutoff for p in parts)
    for p in parts:
        if (p.n_states, p.n_letters) != (n, k):
            raise AutomatonError("census parts of different sizes cannot be merged")
        if out.classes & p.classes:
            raise AutomatonError("census parts overlap")
        out.classes |= p.classes
        out.total += p.total
        out.non_synchronizing += p.non_synchronizing
        for rt, c in p.histogram.items():
            out.histogram[rt] = out.histogram.get(rt, 0) + c
        for rt, keys in p.extremes.items():
            if rt >= out.cutoff:
                prev = out.extremes.get(rt)
                out.extremes[rt] = keys if prev is None else np.concatenate([prev, keys])
    out._trim(keep_from, keep_count)
    return out


def census_part(n_states: int, n_letters: int, classes: Iterable[int] | None = None, *,
                keep_from: int | None = None, keep_count: int = EXTREME_BUDGET,
                progress: Callable[[int], None] | None = None) -> CensusPart:
    """Census over the automata whose smallest letter class is in ``classes``.

    ``classes`` are indices into :func:`functional_graph_classes` (all of them
    by default). Keeps every automaton with reset length ``>= keep_from`` (if
    given) and at least ``keep_count`` of the slowest ones.
    """
    _check_sizes(n_states, n_letters)
    if census_size(n_states, n_letters) > MAX_TABLES:
        raise ResourceLimitError(
            f"a census of {n_states} states and {n_letters} letters scans "
            f"{census_size(n_states, n_letters):,} tables, more than {MAX_TABLES:,}")
    reps, cls = _classes(n_states)
    funcs = _all_functions(n_states)
    perms = _letter_perms(n_letters)
    n_codes = len(funcs) ** (n_letters - 1)
    todo = range(len(reps)) if classes is None else sorted(set(int(c) for c in classes))
    part = CensusPart(n_states, n_letters)
    for i in todo:
        if not 0 <= i < len(reps):
            raise AutomatonError(f"class index {i} out of range 0..{len(reps) - 1}")
        chunks = []
        buf = np.empty(min(_CHUNK, n_codes), dtype=np.int64)
        for start in range(0, n_codes, _CHUNK):
            stop = min(n_codes, start + _CHUNK)
            got = _census_scan(reps[i], i, cls, funcs, n_letters, perms, start, stop, buf)
            if got:
                chunks.append(np.unique(buf[:got]))
            if progress is not None:
                progress(stop - start)
        keys = np.unique(np.concatenate(chunks)) if chunks else np.empty(0, np.int64)
        _account(part, keys, keep_from, keep_count)
        part.classes.add(i)
    return part


def _account(part: CensusPart, keys: np.ndarray, keep_from: int | None, keep_count: int) -> None:
    if keys.size == 0:
        return
    rts = reset_lengths(_unpack(keys, part.n_states, part.n_letters))
    part.total += int(keys.size)
    part.non_synchronizing += int(np.count_nonzero(rts < 0))
    values, counts = np.unique(rts[rts >= 0], return_counts=True)
    for rt, c in zip(values.tolist(), counts.tolist()):
        part.histogram[rt] = part.histogram.get(rt, 0) + c
    sel = rts >= max(part.cutoff, 0)
    for rt in np.unique(rts[sel]).tolist():
        new = keys[sel & (rts == rt)]
        prev = part.extremes.get(rt)
        part.extremes[rt] = new if prev is None else np.concatenate([prev, new])
    part._trim(keep_from, keep_count)


@dataclass(frozen=True)
class Census:
    """Result of :func:`census`.

    Attributes
    ----------
    histogram : dict[int, int]
        Reset length -> number of synchronizing automata (up to isomorphism).
    non_synchronizing : int
        Number of non-synchronizing automata (up to isomorphism).
    total : int
        Number of all automata (up to isomorphism).
    top : list[tuple[DFA, int]]
        The automata with the largest reset lengths (canonical forms), longest
        first, ties in canonical order.
    """

    n_states: int
    n_letters: int
    total: int
    non_synchronizing: int
    histogram: dict[int, int]
    top: list[tuple[DFA, int]]

    def to_dict(self) -> dict:
        """JSON-ready dict (histogram keys are reset lengths)."""
        return {
            "n_states": self.n_states, "n_letters": self.n_letters, "total": self.total,
            "non_synchronizing": self.non_synchronizing,
            "histogram": {int(k): int(v) for k, v in sorted(self.histogram.items())},
            "top": [{"automaton": format_compact(d), "reset_length": int(rt)} for d, rt in self.top],
        }


def _sorted_extremes(part: CensusPart) -> list[tuple[int, int]]:
    """(rt, key) pairs, longest first, ties by canonical (key) order."""
    pairs = [(rt, int(key)) for rt, keys in part.extremes.items() for key in np.sort(keys).tolist()]
    pairs.sort(key=lambda p: (-p[0], p[1]))
    return pairs


def _to_census(part: CensusPart, top: int) -> Census:
    pairs = _sorted_extremes(part)[:top]
    keys = np.array([k for _, k in pairs], dtype=np.int64)
    tables = _unpack(keys, part.n_states, part.n_letters)
    return Census(part.n_states, part.n_letters, part.total, part.non_synchronizing,
                  dict(sorted(part.histogram.items())),
                  [(DFA(t), rt) for t, (rt, _) in zip(tables, pairs)])


# -- cache ------------------------------------------------------------------------
def default_cache_dir() -> Path:
    """Where census results are cached: ``$AUTOMATA_CACHE_DIR`` or the user cache dir (``~/.cache/automata``)."""
    env = os.environ.get("AUTOMATA_CACHE_DIR")
    if env:
        return Path(env) / "census"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "automata" / "census"


def _cache_file(n_states: int, n_letters: int) -> Path:
    return default_cache_dir() / f"census_n{n_states}_k{n_letters}.json"


def _load_cached(n_states: int, n_letters: int) -> CensusPart | None:
    path = _cache_file(n_states, n_letters)
    try:
        obj = json.loads(path.read_text())
        part = CensusPart.from_json_obj(obj)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, AutomatonError):
        return None
    # Only complete censuses are cached (see cache_census); the flag spares
    # recomputing the class list just to check that.
    if obj.get("complete") is not True or (part.n_states, part.n_letters) != (n_states, n_letters):
        return None
    return part


def cache_census(part: CensusPart) -> Path:
    """Store a complete census where ``census(..., cache=True)`` finds it; returns the path."""
    n_classes = len(_classes(part.n_states)[0])
    if part.classes != set(range(n_classes)):
        raise AutomatonError("only a complete census can be cached")
    obj = part.to_json_obj()
    obj["complete"] = True
    path = _cache_file(part.n_states, part.n_letters)
    atomic_write_text(path, json.dumps(obj))
    return path


def _full(n_states: int, n_letters: int, *, keep_from: int | None, keep_count: int, cache: bool,
          progress: Callable[[int], None] | None) -> CensusPart:
    _check_sizes(n_states, n_letters)
    if cache:
        part = _load_cached(n_states, n_letters)
        if part is not None:
            kept = sum(len(v) for v in part.extremes.values())
            if (keep_from is None or keep_from >= part.cutoff) and \
                    (kept >= keep_count or part.cutoff == 0):
                return part
    part = census_part(n_states, n_letters, keep_from=keep_from, keep_count=keep_count,
                       progress=progress)
    if cache:
        try:
            cache_census(part)
        except OSError:
            pass  # a read-only cache only costs time
    return part


def census(n_states: int, n_letters: int, *, top: int = 10,
           progress: Callable[[int], None] | None = None, cache: bool = False) -> Census:
    """Enumerate all automata of a size up to isomorphism and tabulate reset lengths.

    Parameters
    ----------
    n_states, n_letters : int
        Size of the automata (binary up to 7 states, ternary up to 4 or 5
        states are practical).
    top : int
        How many of the slowest synchronizing automata to return.
    progress : callable, optional
        Called with the number of raw tables just scanned; they add up to
        :func:`census_size`.
    cache : bool
        Reuse and store results under :func:`default_cache_dir`.

    Raises
    ------
    AutomatonError
        On sizes that are not positive integers.
    ResourceLimitError
        When the census would scan more than :data:`MAX_TABLES` tables.

    Examples
    --------
    >>> c = census(3, 2)
    >>> c.total, c.non_synchronizing, max(c.histogram)
    (74, 23, 4)
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 0:
        raise AutomatonError(f"top must be a non-negative integer, got {top!r}")
    part = _full(n_states, n_letters, keep_from=None, keep_count=max(top, EXTREME_BUDGET),
                 cache=cache, progress=progress)
    return _to_census(part, top)


def automata_with_reset_at_least(n_states: int, n_letters: int, threshold: int, *,
                                 cache: bool = True) -> list[DFA]:
    """Every automaton of this size (up to isomorphism) with reset length ``>= threshold``.

    Returns canonical forms (see :func:`automata.canon.canonical_form`),
    longest reset first. Results are cached under :func:`default_cache_dir`
    unless ``cache=False``.

    >>> len(automata_with_reset_at_least(4, 2, 9, cache=False))  # C_4 and one more
    2
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        raise AutomatonError(f"threshold must be an integer, got {threshold!r}")
    part = _full(n_states, n_letters, keep_from=max(int(threshold), 0), keep_count=EXTREME_BUDGET,
                 cache=cache, progress=None)
    pairs = [(rt, k) for rt, k in _sorted_extremes(part) if rt >= threshold]
    tables = _unpack(np.array([k for _, k in pairs], dtype=np.int64), n_states, n_letters)
    return [DFA(t) for t in tables]
