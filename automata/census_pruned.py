"""Every automaton with reset length at least ``L``, up to isomorphism, without the whole space.

The full census (:mod:`automata.census`) visits every isomorphism class; at
eight states that is 7·10⁹ binary classes. Slowly synchronizing automata are
rare, and almost every table can be ruled out from a few of its transitions.

The search
----------
Letter ``a`` is fixed to the representative ``f`` of one conjugacy class of
maps (:func:`automata.census_maps.map_classes`): one *chunk* per class. The
other letters are filled one transition at a time by a depth-first search
(:mod:`automata._kernels_census`). After each step a breadth-first search
over subsets runs from ``Q`` using only the transitions defined so far. A word
that is defined on its way acts identically in every completion, so a set of
``m`` states reached at depth ``d`` is reached at depth ``<= d`` in every
completion, and from there (Frankl–Pin) a synchronizing completion needs at
most ``FP(m) = Σ_{j=2..m} C(n−j+2, 2)`` more letters (``FP(2) = n(n−1)/2``:
any pair merges within that many letters). The branch is cut when
``d + FP(m) < L``; ``m = 1`` is the plain singleton cut ``d < L``. Two more cuts
drop branches where no completion synchronizes: every reachable set is fully
defined and none is a singleton, or some set of pairs is closed under the
defined transitions without ever merging.

Pair cuts. Where the cuts above leave a branch, the search also looks at the
pairs of states. Call ``ℓ(P)`` the length of the shortest word that is defined
on both states of the pair ``P`` and merges them (infinite if there is none
yet); it merges ``P`` in every completion, so there ``dist(P) <= ℓ(P)``, where
``dist`` is the length of the shortest merging word. Take a synchronizing
completion and a pair ``P_0`` with a shortest merging word of length ``t``. Its
prefixes take ``P_0`` through pairs ``P_0, …, P_{t−1}``, all distinct (else a
shorter word would merge ``P_0``), and ``dist(P_i) = t − i``. For each
``s = 1 … t`` the ``t − s + 1`` pairs ``P_0 … P_{t−s}`` have ``ℓ >= dist >= s``,
so with ``N_s`` the number of pairs with ``ℓ >= s``, ``t <= N_s + s − 1`` for
every ``s >= 1`` (trivially for ``s > t``). Hence every pair of every
synchronizing completion merges within ``B = min_s (N_s + s − 1)`` letters;
``s = 1`` gives ``C(n, 2)``, the Frankl–Pin bound for pairs. A set of ``j``
states shrinks as soon as any two of its states merge, so within
``min(C(n−j+2, 2), B)`` letters, and the size cut above holds with these
smaller steps: a set of ``m`` states reached at depth ``d`` cuts when
``d + Σ_{j=2..m} min(C(n−j+2, 2), B) < L``. And a set of ``m >= 3`` states
holding a pair ``P`` shrinks to ``m − 1`` states within ``ℓ(P)`` letters, so it
cuts when ``d + ℓ(P) + Σ_{j=2..m−1} min(C(n−j+2, 2), B) < L``. These cuts cost
more than the plain size cut, so they run only where it leaves the branch.

Symmetry: an automorphism ``σ`` of ``f`` (``σ f σ⁻¹ = f``) that maps the
partial table onto itself and fixes the state ``q`` being filled maps the
subtree of ``b(q) = v`` onto the subtree of ``b(q) = σ(v)``, conjugating every
table. So only the smallest value of each such orbit is searched.

Why every class with ``rt >= L`` is found
-----------------------------------------
Let ``A`` be synchronizing with ``rt(A) >= L`` (``n >= 2``). Some letter ``x``
of ``A`` has the smallest rank (number of distinct images) among its letters;
it is not a permutation, or ``A`` could not synchronize. Rename the states so
that ``x`` becomes the representative ``f`` of its conjugacy class, and rename
the letters so that ``x`` comes first. Every other letter then has rank
``>= rank(f)``, which is the only restriction the search puts on the letters
besides the cuts, and the cuts only drop tables with ``rt < L`` or no reset
word. So the renamed table is reached as a leaf of the chunk of ``f`` and
kept, or a conjugate of it by an automorphism of ``f`` is (when a value was
skipped by symmetry, the subtree searched instead holds the conjugates; by
induction over the filled transitions every skipped table has a searched
conjugate). The same class may be reached from several chunks or tables (another
letter of the same rank, automorphisms of ``f``); the canonical form
(:mod:`automata.canon`) removes the duplicates, and the exact solver
(:func:`automata.sync.reset_lengths`) re-checks every reset length found by
the search.

Chunks are independent: :func:`pruned_census` runs them through joblib (so
any joblib backend, e.g. a Dask cluster, can run them) and can keep every
finished chunk in a directory, written atomically with a checksum, so that a
killed run resumes where it stopped (:mod:`automata.census_files`: the chunk
files are re-verified on resume, never trusted).
"""
from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from automata._interruptible import run_interruptibly
from automata._kernels_census import _search
from automata.atomic import atomic_write_text
from automata.canon import canonical_tables
from automata.census_files import (
    PrunedChunk,
    chunk_path,
    load_chunk,
    manifest,
    prepare_dir,
    read_json_file,
    save_chunk,
)
from automata.census_maps import MAX_MAP_STATES, map_automorphisms, map_classes
from automata.dfa import DFA
from automata.dirlock import DirectoryLock
from automata.errors import AutomatonError
from automata.formats import format_compact, parse_compact
from automata.sync import reset_lengths

__all__ = ["PrunedChunk", "PrunedCensus", "pruned_census", "census_status", "census_chunk", "chunk_count",
           "frankl_pin_limits", "MAX_PRUNED_STATES", "MAX_PRUNED_LETTERS"]

#: The subset search keeps one mark per subset of states (2**n of them).
MAX_PRUNED_STATES = MAX_MAP_STATES
#: Letters besides ``a`` are filled by the search; more than three is far out of reach.
MAX_PRUNED_LETTERS = 3
_FIRST_BUFFER = 1 << 12
#: Symmetries of letter a used to skip conjugate branches (any subset is sound;
#: more cost time at every branch).
_MAX_AUTOMORPHISMS = 512


def _check_args(n_states, n_letters, min_rt) -> tuple[int, int, int]:
    for name, value in (("n_states", n_states), ("n_letters", n_letters), ("min_rt", min_rt)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise AutomatonError(f"{name} must be an integer, got {value!r}")
    if not 1 <= n_states <= MAX_PRUNED_STATES:
        raise AutomatonError(
            f"n_states must be between 1 and {MAX_PRUNED_STATES}, got {n_states}")
    if not 1 <= n_letters <= MAX_PRUNED_LETTERS:
        raise AutomatonError(
            f"n_letters must be between 1 and {MAX_PRUNED_LETTERS}, got {n_letters}")
    return int(n_states), int(n_letters), int(min_rt)


def frankl_pin_limits(n_states: int, min_rt: int) -> np.ndarray:
    """Cut depths by set size: a set of ``m`` states reached at a depth below ``limit[m]``
    proves that every synchronizing completion has ``rt < min_rt``.

    ``limit[m] = min_rt − Σ_{j=2..m} C(n−j+2, 2)`` (Frankl–Pin: a set of ``j``
    states shrinks within ``C(n−j+2, 2)`` letters); ``limit[0]`` is unused.

    >>> frankl_pin_limits(8, 38).tolist()[:4]
    [38, 38, 10, -11]
    """
    n, _, min_rt = _check_args(n_states, 1, min_rt)
    limit = np.empty(n + 1, dtype=np.int64)
    limit[0] = limit[1] = min_rt
    for m in range(2, n + 1):
        limit[m] = limit[m - 1] - math.comb(n - m + 2, 2)
    return limit


def _fire_sizes(limit: np.ndarray, min_rt: int) -> np.ndarray:
    """``fire[D]``: the largest set size cut at depth ``D`` (0 if none); last entry for deeper."""
    depths = max(min_rt, 0) + 2
    fire = np.zeros(depths, dtype=np.int64)
    for d in range(depths):
        sizes = [m for m in range(1, len(limit)) if d < limit[m]]
        fire[d] = max(sizes) if sizes else 0
    return fire


def chunk_count(n_states: int) -> int:
    """Number of chunks (conjugacy classes of maps, OEIS A001372) of a census.

    >>> chunk_count(8)
    951
    """
    n, _, _ = _check_args(n_states, 1, 0)
    return len(map_classes(n))


def _run_kernel(f: np.ndarray, n_letters: int, min_rt: int,
                pair_cuts: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = f.shape[0]
    limit = frankl_pin_limits(n, min_rt)
    fire = _fire_sizes(limit, min_rt)
    pop = np.array([bin(s).count("1") for s in range(1 << n)], dtype=np.int64)
    min_rank = len(set(f.tolist()))
    autos = np.ascontiguousarray(map_automorphisms(f, limit=_MAX_AUTOMORPHISMS)[1:])
    stats = np.zeros(3, dtype=np.int64)
    size = _FIRST_BUFFER
    while True:
        tables = np.empty((size, n_letters, n), dtype=np.int64)
        resets = np.empty(size, dtype=np.int64)
        count = run_interruptibly(_search, f, n_letters, min_rank, pop, limit, fire, autos,
                                  tables, resets, stats, pair_cuts)
        if count <= size:
            return tables[:count], resets[:count], stats
        size = int(count)  # the exact count is known now: one more pass fits it


def census_chunk(n_states: int, n_letters: int, min_rt: int, index: int) -> PrunedChunk:
    """Search one chunk: every class with ``rt >= min_rt`` whose letter of smallest rank
    is conjugate to map class ``index`` (see :func:`pruned_census`).

    Raises AutomatonError on bad arguments, or if the exact solver disagrees with
    the search about a reset length (a bug, never expected).

    >>> chunk = census_chunk(3, 2, 4, 2)
    >>> chunk.rep, chunk.automata
    ([0, 1, 1], {'a:010 b:120': 4})
    """
    n, k, min_rt = _check_args(n_states, n_letters, min_rt)
    reps = map_classes(n)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
            not 0 <= index < len(reps):
        raise AutomatonError(f"chunk index must be between 0 and {len(reps) - 1}, got {index!r}")
    f = np.ascontiguousarray(reps[int(index)], dtype=np.int64)
    chunk = PrunedChunk(int(index), f.tolist(), {})
    start = time.perf_counter()
    cpu_clock = _cpu_clock()
    cpu_start = cpu_clock()
    if n == 1:
        # One automaton, reset by the empty word.
        if min_rt <= 0:
            chunk.automata[format_compact(DFA(np.zeros((k, 1), dtype=np.int64)))] = 0
        chunk.leaves = 1
        return chunk
    if k == 1 or len(set(f.tolist())) == n:
        # A permutation of smallest rank means only permutations: nothing synchronizes.
        # With one letter, rt <= n-1 and the search below would still be exact, but a
        # one-letter table has nothing to fill.
        if k == 1 and len(set(f.tolist())) < n:
            rt = int(reset_lengths(f[None, None, :])[0])
            if rt >= max(min_rt, 0):
                chunk.automata[format_compact(DFA(f[None, :]))] = rt
        chunk.leaves = 1
        chunk.seconds = time.perf_counter() - start
        chunk.cpu_seconds = cpu_clock() - cpu_start
        return chunk
    tables, resets, stats = _run_kernel(f, k, min_rt)
    chunk.nodes, chunk.cuts, chunk.leaves = (int(v) for v in stats)
    if len(tables):
        canon = canonical_tables(tables).astype(np.int64)
        canon, first = np.unique(canon, axis=0, return_index=True)
        found = resets[first]
        exact = reset_lengths(canon)
        bad = np.flatnonzero(exact != found)
        if bad.size:
            i = int(bad[0])
            raise AutomatonError(
                f"the pruned search and the exact solver disagree on {format_compact(DFA(canon[i]))}:"
                f" {int(found[i])} vs {int(exact[i])}")
        for table, rt in zip(canon, exact.tolist()):
            chunk.automata[format_compact(DFA(table))] = int(rt)
    chunk.seconds = time.perf_counter() - start
    chunk.cpu_seconds = cpu_clock() - cpu_start
    return chunk


def _cpu_clock() -> Callable[[], float]:
    """The clock of the processor time a chunk uses: the process's on the main thread
    (where a long kernel runs in a helper thread, see :mod:`automata._interruptible`, and
    a joblib or loky worker runs one chunk at a time), the thread's elsewhere (a Dask
    worker thread, beside which other chunks may run in the same process)."""
    if threading.current_thread() is threading.main_thread():
        return time.process_time
    return time.thread_time


@dataclass
class PrunedCensus:
    """Every class with ``rt >= min_rt`` (canonical compact form -> reset length).

    ``chunks_done`` lists the chunk indices merged so far; the census is
    complete when it covers all :func:`chunk_count` chunks. ``chunk_seconds``
    is the processor time of each chunk (its elapsed time for chunk files
    written before processor time was kept), ``cpu_seconds`` their sum.
    """

    n_states: int
    n_letters: int
    min_rt: int
    automata: dict[str, int] = field(default_factory=dict)
    chunks_done: set[int] = field(default_factory=set)
    nodes: int = 0
    cpu_seconds: float = 0.0
    chunk_seconds: dict[int, float] = field(default_factory=dict)
    chunk_nodes: dict[int, int] = field(default_factory=dict)
    #: Automata each chunk found (a class found by two chunks counts in both).
    chunk_classes: dict[int, int] = field(default_factory=dict)
    #: Saved chunks that were not reused on resume (index -> why), recomputed instead.
    rejected: dict[int, str] = field(default_factory=dict)

    @property
    def histogram(self) -> dict[int, int]:
        """Reset length -> number of classes, ascending."""
        hist: dict[int, int] = {}
        for rt in self.automata.values():
            hist[rt] = hist.get(rt, 0) + 1
        return dict(sorted(hist.items()))

    def ranked(self) -> list[tuple[DFA, int]]:
        """The classes found, longest reset first, ties in compact-text order."""
        items = sorted(self.automata.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(parse_compact(key), rt) for key, rt in items]

    def add(self, chunk: PrunedChunk) -> None:
        """Merge one chunk; a class found twice must come with the same reset length."""
        if chunk.index in self.chunks_done:
            raise AutomatonError(f"chunk {chunk.index} merged twice")
        for key, rt in chunk.automata.items():
            if self.automata.setdefault(key, rt) != rt:
                raise AutomatonError(f"{key} found with reset lengths {self.automata[key]} and {rt}")
        self.chunks_done.add(chunk.index)
        self.nodes += chunk.nodes
        self.cpu_seconds += chunk.cpu_seconds
        self.chunk_seconds[chunk.index] = chunk.cpu_seconds
        self.chunk_nodes[chunk.index] = chunk.nodes
        self.chunk_classes[chunk.index] = len(chunk.automata)

    def by_rank(self) -> list[dict]:
        """Progress per rank of letter ``a`` (where the cost of a census sits):
        ``rank``, ``chunks`` (all of that rank), ``done``, ``cpu_seconds``, ``nodes``
        and ``classes`` found, one dict per rank, lowest first."""
        rows: dict[int, dict] = {}
        for i, rep in enumerate(map_classes(self.n_states)):
            rank = len(set(rep.tolist()))
            row = rows.setdefault(rank, {"rank": rank, "chunks": 0, "done": 0, "cpu_seconds": 0.0,
                                         "nodes": 0, "classes": 0})
            row["chunks"] += 1
            if i in self.chunks_done:
                row["done"] += 1
                row["cpu_seconds"] += self.chunk_seconds.get(i, 0.0)
                row["nodes"] += self.chunk_nodes.get(i, 0)
                row["classes"] += self.chunk_classes.get(i, 0)
        return [rows[r] for r in sorted(rows)]

    def to_dict(self, *, families: bool = True) -> dict:
        """``{"histogram": {rt: count}, "automata": [{"reset_length", "automaton", "family"}]}``."""
        from automata.families import identify_family

        rows = []
        for dfa, rt in self.ranked():
            row = {"reset_length": rt, "automaton": format_compact(dfa)}
            if families:
                row["family"] = identify_family(dfa)
            rows.append(row)
        return {"n_states": self.n_states, "n_letters": self.n_letters, "min_rt": self.min_rt,
                "histogram": {str(rt): c for rt, c in self.histogram.items()}, "automata": rows}


def census_status(n_states: int, n_letters: int, min_rt: int, out_dir: str | Path) -> PrunedCensus:
    """What a census directory holds so far, without running or locking anything.

    Every saved chunk is loaded as :func:`pruned_census` would on resume (checksum,
    then each automaton re-verified, its reset length re-solved); those that fail
    are listed in :attr:`PrunedCensus.rejected`. A census still running in another
    process may be read: its chunk files are written atomically.

    Raises
    ------
    AutomatonError
        On bad arguments, or a directory without the manifest of this census.
    """
    n, k, min_rt = _check_args(n_states, n_letters, min_rt)
    folder = Path(out_dir)
    path = folder / "census.json"
    if not path.is_file():
        raise AutomatonError(f"{folder} holds no census (no census.json)")
    held = read_json_file(path, 1 << 20)
    if held != manifest(n, k, min_rt):
        raise AutomatonError(f"{folder} holds a census of other parameters: {str(held)[:200]}")
    reps = map_classes(n)
    result = PrunedCensus(n, k, min_rt)
    for i in range(len(reps)):
        chunk_file = chunk_path(folder, i)
        if not chunk_file.exists():
            continue
        chunk, reason = load_chunk(chunk_file, i, reps[i].tolist(), n, k, min_rt)
        if chunk is None:
            result.rejected[i] = reason
        else:
            result.add(chunk)
    return result


def _order(n: int, todo: Iterable[int]) -> list[int]:
    # Larger ranks of letter a first: measured at n = 8 and 9, their chunks are the
    # longest (the cuts fire late when both letters are nearly permutations), and
    # starting them early keeps the workers busy until the end.
    reps = map_classes(n)
    return sorted(todo, key=lambda i: (-len(set(reps[i].tolist())), i))


def pruned_census(n_states: int, n_letters: int, min_rt: int, *, n_jobs: int = 1,
                  backend: str | None = None, out_dir: str | Path | None = None,
                  resume: bool = False, chunks: Iterable[int] | None = None,
                  progress: Callable[[PrunedChunk, int, int], None] | None = None,
                  on_rejected: Callable[[Path, str], None] | None = None) -> PrunedCensus:
    """Every automaton with ``rt >= min_rt`` up to isomorphism, by the pruned search.

    Parameters
    ----------
    n_states : int
        1 to :data:`MAX_PRUNED_STATES` (practical: binary up to 9, ternary up to 6).
    n_letters : int
        1 to :data:`MAX_PRUNED_LETTERS`.
    min_rt : int
        The threshold ``L``; the larger it is, the faster the search.
    n_jobs : int
        joblib workers; ``1`` runs in this process.
    backend : str, optional
        joblib backend (``"loky"``, ``"dask"`` with a ``distributed.Client`` open
        in this process, …); by default the surrounding ``joblib.parallel_config``.
    out_dir : path, optional
        Keep each finished chunk here (atomically, with a SHA-256 checksum).
    resume : bool
        Reuse the valid chunks already in ``out_dir`` (same parameters). A chunk file
        is data, not trusted: it is reused only when its checksum holds *and* every
        entry is a canonical automaton of the chunk's class of letter ``a`` whose reset
        length the exact solver confirms (:func:`automata.census_files.load_chunk`);
        any other is recomputed and listed in :attr:`PrunedCensus.rejected`.
    chunks : iterable of int, optional
        Only these chunk indices (a partial census; default all).
    progress : callable, optional
        ``progress(chunk, done, total)`` after each chunk.
    on_rejected : callable, optional
        ``on_rejected(path, reason)`` for each saved chunk that is not reused.

    Returns
    -------
    PrunedCensus

    Raises
    ------
    AutomatonError
        On bad arguments or an ``out_dir`` holding a different census;
        :class:`automata.dirlock.DirectoryLockedError` while another process writes
        into ``out_dir``.

    Examples
    --------
    >>> result = pruned_census(4, 2, 9)
    >>> result.histogram
    {9: 2}
    """
    n, k, min_rt = _check_args(n_states, n_letters, min_rt)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise AutomatonError(f"n_jobs must be a non-zero integer, got {n_jobs!r}")
    reps = map_classes(n)
    total = len(reps)
    wanted = list(range(total)) if chunks is None else sorted(set(int(c) for c in chunks))
    for i in wanted:
        if not 0 <= i < total:
            raise AutomatonError(f"chunk index {i} out of range 0..{total - 1}")
    folder = None if out_dir is None else Path(out_dir)
    with contextlib.ExitStack() as held:
        if folder is not None:  # one census writes a directory at a time
            held.enter_context(DirectoryLock(folder, what=f"census n={n} k={k} L={min_rt}"))
        return _census(n, k, min_rt, reps, wanted, folder, resume, n_jobs, backend, progress,
                       on_rejected)


def _census(n, k, min_rt, reps, wanted, folder, resume, n_jobs, backend, progress,
            on_rejected) -> PrunedCensus:
    total = len(reps)
    result = PrunedCensus(n, k, min_rt)
    if folder is not None:
        prepare_dir(folder, manifest(n, k, min_rt), resume)
        if resume:
            for i in wanted:
                path = chunk_path(folder, i)
                if not path.exists():
                    continue
                chunk, reason = load_chunk(path, i, reps[i].tolist(), n, k, min_rt)
                if chunk is not None:
                    result.add(chunk)
                else:
                    # recomputed below; said aloud, since a silently redone chunk hides
                    # a damaged or edited file
                    result.rejected[i] = reason
                    if on_rejected is not None:
                        on_rejected(path, reason)
    todo = _order(n, [i for i in wanted if i not in result.chunks_done])
    done = len(wanted) - len(todo)
    with contextlib.ExitStack() as stack:
        if n_jobs == 1 and backend is None:
            stream = (census_chunk(n, k, min_rt, i) for i in todo)
        else:
            import joblib

            if backend is not None:
                # parallel_config (unlike Parallel(backend=...)) also knows the
                # backends registered on first use, such as "dask".
                stack.enter_context(joblib.parallel_config(backend=backend))
            stream = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                joblib.delayed(census_chunk)(n, k, min_rt, i) for i in todo)
        for chunk in stream:
            if folder is not None:
                save_chunk(folder, chunk)
            result.add(chunk)
            done += 1
            if progress is not None:
                progress(chunk, done, len(wanted))
    if folder is not None and len(result.chunks_done) == total:
        atomic_write_text(folder / "result.json", json.dumps(result.to_dict(families=False)),
                          within=folder)
    return result
