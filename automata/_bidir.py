"""The exact search for a shortest reset word: bidirectional BFS, then DFS.

After Kisielewicz, Kowalski and Szykuła, and the memory-bounded design of
Szykuła and Zyzik: forward levels hold images ``Q·w``, backward levels
preimages ``{q}·w⁻¹``; each step expands the smaller side, and the search
ends when a forward set lies inside a backward set. Repeats of stored sets
are dropped, and dominated sets (supersets of seen images, subsets of seen
preimages) are pruned while it pays.

Two things bound the breadth-first phase:

* an upper bound (a known reset word, from the beam): lengths at or above
  it are never searched, and when the few lengths left are cheaper to check
  depth-first than by building more levels, the search switches to the
  depth-first phase;
* the memory budget: when the next level would not fit, the search goes on
  depth-first instead of failing.

The depth-first phase needs only the keys of the last forward level, so with
a bound it may first replace them by the next forward level, built without
stored runs, when that level is far smaller than the deepest level of
preimages it saves. It then expands the last backward level in chunks sized
to the memory left, one chunk per branch, and tests every new preimage
against the last forward level (the deepest length unsorted); when many
queries are expected per forward key, on an explicit trie of those keys
(``_kernels_trie``), built once. Preimages
that repeat or lie inside a stored backward set are dropped (the stored
set's own extensions are shorter), and so are,
in chunks with two or more levels below, those inside one of the chunk's
largest preimages (a cheap partial domination pruning: a fifth of a deep
chunk on random automata, with all its descendants). With a bound
it searches all lengths below it and tightens the bound on every hit; without
one it deepens one length at a time. So the budget bounds memory, not
solvability; the time limit still stops it (checked between chunks).
"""
from __future__ import annotations

import time

import numba
import numpy as np

from automata import _kernels_bidir as KB
from automata._kernels_trie import SubsetTrie
from automata._limits import Limits

__all__ = ["LAST_RUN", "bidirectional", "merge_cascade", "table_bytes", "trie_friendly_relabel"]

#: Diagnostics of the latest search in this process (read by the benchmark):
#: ``peak_estimate`` (bytes the search expected to hold at its peak),
#: ``phase`` ("bfs"; "bound" or "last" when the bound was proved optimal,
#: the latter by a last unstored step; "dfs") and
#: the depths reached by both sides; ``steps``: one tuple per breadth-first
#: step, (side "F"/"B", its new depth, its new level size, seconds of the
#: step, seconds of the meet test that followed it), for steps of at least
#: ``_LOG_MIN_SECONDS``; the depth-first phase logs each expanded chunk so,
#: as side "D" with its backward depth, and the build of its trie of the
#: forward keys as side "T" (the build's seconds as the step's).
LAST_RUN: dict = {}

#: Steps faster than this (step and meet together) are left out of the step
#: log: Černý-like searches make ~n² tiny steps.
_LOG_MIN_SECONDS = 1e-3
#: Candidate families from which a step's memory is estimated in detail.
_EXACT_ESTIMATE_ROWS = 4096
#: Largest candidate family on which domination pruning is attempted.
_DOMINATE_MAX = 2048
#: The depth-first phase is chosen when its predicted set count is below
#: this share of the breadth-first one (it stores nothing and skips the
#: merges into the stored runs, so a set costs it less).
_DFS_PREFERENCE = 0.5
#: Lengths covered by the first depth-first pass (without a close bound).
_DFS_FIRST_PASS = 3
#: A bound at most this many lengths beyond the stored levels is checked by
#: a single depth-first pass up to it (Szykuła and Zyzik's solver verifies
#: its last 8-9 levels so).
_DFS_DIRECT = 8
#: Depths below the last backward level at which the depth-first phase drops
#: preimages stored in the backward runs (deeper, only repeats in a chunk).
_DFS_PRUNE_DEPTH = 2
#: A forward level is built before the depth-first phase when its images
#: are this many times fewer than the deepest level of preimages it saves.
_FORWARD_STEP_GAIN = 2.0
#: The last length is checked by a forward step unless its images would
#: outnumber the backward step's preimages this many times (see _last_length).
_LAST_FORWARD_RATIO = 2.0
#: Smallest chunk of the depth-first phase, in sets.
_DFS_MIN_CHUNK = 256
#: Depth-first chunks from this many sets on drop the sets inside one of
#: their largest sets (the reducers; see _kernels_bidir._dominated_in_family)
#: when two or more levels lie below them. Measured on random n = 400
#: levels of a million preimages: 4,096 reducers drop 13% of the sets at
#: 0.4 µs a set, 16,384 drop 22% at 1.1 µs, and a dropped set saves its
#: whole subtree (g + g² + ... sets at 1-2 µs each, g about 1.7). With one
#: level below, the subtree is too small to pay (rand2_400: the pruning
#: there, or on every breadth-first backward level, made the search slower).
_REDUCE_MIN_ROWS = 1 << 16
#: Reducers with _DFS_NEAR_BELOW levels below (or more), and with
#: _DFS_FAR_BELOW or more.
_DFS_REDUCERS_NEAR = 4096
_DFS_REDUCERS_FAR = 16384
_DFS_NEAR_BELOW = 2
_DFS_FAR_BELOW = 3
#: The depth-first phase queries an explicit trie of the forward keys
#: (_kernels_trie) instead of their implicit one when it expects at least
#: this many new sets per key. Measured on rand2_400 seed 2 (11.6 M keys at
#: forward depth 24, 40 K preimages of depth 23 expanded six levels): the
#: build takes 7.4 s (0.64 µs a key); a query of the last level 0.45 µs
#: instead of 0.5 µs where queries are cheap, 0.95 µs instead of 1.6 µs
#: where they are dear. On seed 1 (2.4 expected sets a key) the build cost
#: as much as the queries saved.
_TRIE_MIN_QUERIES_PER_KEY = 6


class _Side:
    """One direction of the bidirectional search: its kept levels (with the
    parent index and letter of every set, to read the word back) and the
    sorted runs of every set seen so far, used for domination pruning.

    Forward sets are stored in the runs complemented, so that both
    directions prune with the same query: drop a candidate key that is a
    subset of a stored key (forward: a superset of a seen image; backward: a
    subset of a seen preimage)."""

    def __init__(self, start, tab, full, forward, nbits, threads=1):
        self.tab = tab
        self.threads = threads
        self.full = full
        self.forward = forward
        self.nbits = nbits
        self.row = 8 * full.shape[0]
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
        self.growth = float(tab.shape[0])
        self._skip = 0
        self._pause = 1

    def stored_bytes(self):
        """Bytes held between steps: parent/letter arrays, the used rows of
        the runs, the last level and its keys (one array on the backward
        side, where the keys are the level itself). The runs array grows by
        doubling, but its unused rows are never written, so they take no
        resident memory."""
        level = self.level.nbytes + (0 if self.keys is self.level else self.keys.nbytes)
        return self.bytes + int(self.starts[self.nruns]) * self.row + level

    def _merge_copy_rows(self, new_rows):
        """Rows of the largest run copied out while a new run of
        ``new_rows`` rows is merged in (the merge cascade of _push_run)."""
        sizes = [int(self.starts[r + 1] - self.starts[r]) for r in range(self.nruns)]
        return merge_cascade(sizes, new_rows)[1]

    def step_cost(self, k):
        """Extra bytes the next step holds at its peak, on top of
        :meth:`stored_bytes`, for ``m`` candidate sets (the level times
        ``k``): the candidates with their parents and letters (row + 6 bytes
        each) stay for the whole step; on top of them, first the sort
        buffers (four 8-byte words per row), the sorted index and the
        distinct copy (row + 8), then the kept keys (a row) and the largest
        of: the run copied out by a merge, the old rows while the runs array
        is regrown, the forward level rebuilt from the keys. Then the meet
        test after the step copies the complements of the backward level."""
        m = self.size * k
        row = self.row
        used = int(self.starts[self.nruns])
        if m < _EXACT_ESTIMATE_ROWS:
            # Černý-like searches make ~n² tiny steps, where the estimate
            # below would cost more than the step: a loose bound (every
            # phase at once, every stored row copied, the meet's scratch).
            return m * (8 * row + 64) + used * row
        grow = used * row if used + m > len(self.runs) else 0
        rebuilt = m * row if self.forward else 0
        sort_phase = m * (32 + 8 + row + 8)
        push_phase = m * row + max(self._merge_copy_rows(m) * row, grow, rebuilt)
        return m * (row + 6) + max(sort_phase, push_phase)

    def step(self):
        # Domination pruning (subset queries on the implicit trie) often costs
        # more than it saves: on random automata few sets are dominated, and
        # on Černý-like ones the levels stay tiny anyway. So it is switched
        # off after a step where it removed under 5% of the new sets, and
        # retried after an exponentially growing pause; and it is never tried
        # on large levels, where sparse subset queries get expensive.
        dominate = self._skip == 0 and self.size * self.tab.shape[0] <= _DOMINATE_MAX
        before = self.size
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
        self.growth = self.size / max(before, 1)
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


def merge_cascade(sizes: list[int], new_rows: int) -> tuple[list[int], int]:
    """The run sizes after ``_push_run`` appends a run of ``new_rows``
    distinct new rows to runs of ``sizes``, and the largest run its merges
    copy out (each merge copies the later run of the pair). Repeats dropped
    by a merge only make the real runs smaller, so this bounds the memory.

    >>> merge_cascade([8, 4], 1)
    ([8, 4, 1], 0)
    >>> merge_cascade([8, 4], 2)
    ([14], 6)
    """
    sizes = list(sizes) + [new_rows]
    largest = 0
    while len(sizes) >= 2 and 2 * sizes[-1] >= sizes[-2]:
        largest = max(largest, sizes[-1])
        last = sizes.pop()
        sizes[-1] += last
    return sizes, largest


def trie_friendly_relabel(delta: np.ndarray, W: int) -> np.ndarray:
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


def table_bytes(n: int, k: int, W: int) -> int:
    """Bytes of the byte lookup tables of both directions."""
    return 2 * k * ((n + 7) // 8) * 256 * W * 8


def _bfs_cost(fwd_size, bwd_size, fwd_growth, bwd_growth, k, steps):
    """Sets expanded by ``steps`` more breadth-first steps (smaller side first)."""
    f, b, total = float(fwd_size), float(bwd_size), 0.0
    for _ in range(steps):
        if f <= b:
            total += f * k
            f *= max(fwd_growth, 1.0)
        else:
            total += b * k
            b *= max(bwd_growth, 1.0)
    return total


def _dfs_cost(bwd_size, growth, steps):
    """Sets the depth-first phase creates to check ``steps`` more lengths."""
    g = max(growth, 1.0)
    return float(bwd_size) * sum(g ** t for t in range(1, steps + 1))


class _DepthFirst:
    """The depth-first phase from the last backward level (see the module
    docstring). ``limit`` is the longest total length still worth finding;
    every hit lowers it to one below the hit's length."""

    def __init__(self, fwd, bwd, limit, limits, chunk, trie=None,
                 prune_depth=_DFS_PRUNE_DEPTH):
        self.fwd = fwd
        self.trie = trie
        self.bwd = bwd
        self.limit = limit
        self.limits = limits
        self.chunk = chunk
        self.prune_depth = prune_depth
        self.best = None
        self.base = fwd.depth + bwd.depth
        # The forward keys stay fixed for the whole phase.
        self.largest = KB._largest_row(fwd.keys) if trie is None else trie.largest
        # Per depth: parents, letters, and the offset of the chunk expanded.
        self.path: list[tuple[np.ndarray, np.ndarray]] = []
        self.offsets: list[int] = []

    def run(self):
        level = self.bwd.level
        for s in range(0, level.shape[0], self.chunk):
            if self.base + 1 > self.limit:
                break
            self.offsets = [s]
            self._expand(level[s:s + self.chunk], 0)
        return self.best

    def _expand(self, src, t):
        """Expand ``src`` (sets at depth ``t`` below the last backward level)."""
        self.limits.check_time("the depth-first phase of the shortest reset word search")
        bwd = self.bwd
        clock = time.perf_counter()
        new, parent, letter = KB._expand(src, bwd.tab, True)
        length = self.base + t + 1
        # The deepest length's sets are only tested, never expanded, so they
        # are not sorted (a repeat merely costs one more query; the sort cost
        # more than the repeats' queries).
        if length < self.limit:
            if t < self.prune_depth:
                keep = KB._reduce_new_dupes(new, bwd.runs, bwd.starts, bwd.nruns)
                if t == 0 and keep.shape[0] <= 4 * _DOMINATE_MAX:
                    dead = KB._dominated(new[keep], bwd.runs, bwd.starts, bwd.nruns, bwd.nbits)
                    keep = keep[~dead]
            else:
                keep = KB._sort_unique(new)
            below = self.limit - length
            if below >= _DFS_NEAR_BELOW and keep.shape[0] >= _REDUCE_MIN_ROWS:
                reducers = _DFS_REDUCERS_FAR if below >= _DFS_FAR_BELOW else _DFS_REDUCERS_NEAR
                keep = keep[~KB._dominated_in_family(new[keep], reducers)]
            new = new[keep]
            parent = parent[keep]
            letter = letter[keep]
        self.path = self.path[:t]
        self.path.append((parent, letter))
        t_step = time.perf_counter() - clock
        clock = time.perf_counter()
        if self.trie is not None:
            i, j = self.trie.meet(new, bwd.full, bwd.threads)
        else:
            i, j = KB._meet(self.fwd.keys, new, bwd.full, bwd.nbits, bwd.threads, self.largest)
        t_meet = time.perf_counter() - clock
        if t_step + t_meet >= _LOG_MIN_SECONDS:
            LAST_RUN["steps"].append(("D", bwd.depth + t + 1, new.shape[0], t_step, t_meet))
        if i >= 0:
            self._record(i, j, t + 1)
            self.limit = length - 1
            return
        if length + 1 > self.limit:
            return
        for s in range(0, new.shape[0], self.chunk):
            self.offsets = self.offsets[:t + 1]
            self.offsets.append(s)
            self._expand(new[s:s + self.chunk], t + 1)
            if length + 1 > self.limit:
                return

    def _record(self, i, j, depth):
        back = []
        idx = j
        for d in range(depth, 0, -1):
            parent, letter = self.path[d - 1]
            back.append(int(letter[idx]))
            idx = int(parent[idx]) + self.offsets[d - 1]
        u = self.fwd.word(self.fwd.depth, i)[::-1]
        self.best = u + back + self.bwd.word(self.bwd.depth, idx)


def bidirectional(delta: np.ndarray, limits: Limits, upper: list[int] | None = None,
                  min_words: int = 1, force_dfs: bool = False,
                  threads: int | None = None) -> list[int]:
    """Exact shortest reset word of a synchronizing automaton (n >= 2).

    With the invariant that every word's image (preimage) contains (is
    contained in) some kept set of the same or an earlier level, the first
    step at which a forward set of the last forward level is contained in a
    backward set of the last backward level gives a shortest reset word (its
    length is the sum of the levels).

    Parameters
    ----------
    delta : numpy.ndarray
        Transition table, int32, (n_letters, n_states).
    limits : Limits
        Memory budget and deadline.
    upper : list of int, optional
        A known reset word: only shorter ones are searched for; it is
        returned when none exists.
    min_words : int
        Forces wider bitsets than needed (tests of the multi-word path).
    force_dfs : bool
        Go depth-first as soon as both sides have made one step (tests of
        the depth-first phase).
    threads : int, optional
        Threads of the meet test on large levels; by
        default numba's thread count (``NUMBA_NUM_THREADS``). The word found
        is the same for any count.
    """
    LAST_RUN.clear()
    LAST_RUN.update(peak_estimate=0, phase="bfs", fwd_depth=0, bwd_depth=0, steps=[])
    stepped = None
    k, n = delta.shape
    if threads is None:
        threads = numba.get_num_threads()
    threads = max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS))
    W = max((n + 63) // 64, min_words)
    nbits = 64 * W
    limits.check_memory(table_bytes(n, k, W) + 64 * n * W,
                        "the lookup tables of the shortest reset word search")
    delta = trie_friendly_relabel(delta, W)
    full = np.zeros(W, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    fwd = _Side(full.reshape(1, W).copy(), KB._tables(delta, False, W), full, True, nbits, threads)
    singles = np.zeros((n, W), dtype=np.uint64)
    for q in range(n):
        singles[q, q >> 6] = np.uint64(1) << np.uint64(q & 63)
    bwd = _Side(singles, KB._tables(delta, True, W), full, False, nbits, threads)
    base = fwd.tab.nbytes + bwd.tab.nbytes
    row = 8 * W
    LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], base)
    while True:
        LAST_RUN.update(fwd_depth=fwd.depth, bwd_depth=bwd.depth)
        length = fwd.depth + bwd.depth
        at_bound = upper is not None and length + 1 >= len(upper)
        go_deep = False
        if not at_bound:
            limits.check_time(
                f"the shortest reset word search (no reset word of length < {length})")
            held = base + fwd.stored_bytes() + bwd.stored_bytes()
            side = fwd if fwd.size <= bwd.size else bwd
            need = held + side.step_cost(k)
            if side.size * k >= _EXACT_ESTIMATE_ROWS:
                # After the step, the meet copies the backward level (k
                # times its size when that side steps).
                b_next = bwd.size * (k if side is bwd else 1)
                need = max(need, held + side.size * k * (2 * row + 6)
                           + _meet_scratch(b_next, row))
            go_deep = need > limits.budget or (force_dfs and fwd.depth > 0 and bwd.depth > 0)
            if not go_deep and upper is not None and min(fwd.size, bwd.size) >= n * k:
                # Growth rates mean little while the levels are small (backward
                # levels even shrink at first), so the shortcut waits for both
                # sides to reach n·k sets, as in Szykuła and Zyzik's solver.
                steps = len(upper) - 1 - length
                bfs = _bfs_cost(fwd.size, bwd.size, fwd.growth, bwd.growth, k, steps)
                dfs = _dfs_cost(bwd.size, bwd.growth, steps)
                go_deep = dfs < _DFS_PREFERENCE * bfs
        # Every length is tested: the first meet is a shortest word only
        # because no shorter length met (kept sets may come from earlier levels).
        clock = time.perf_counter()
        i, j = KB._meet(fwd.keys, bwd.level, full, nbits, threads)
        if stepped is not None:
            t_meet = time.perf_counter() - clock
            if stepped[3] + t_meet >= _LOG_MIN_SECONDS:
                LAST_RUN["steps"].append(stepped + (t_meet,))
        if i >= 0:
            return fwd.word(fwd.depth, i)[::-1] + bwd.word(bwd.depth, j)
        if at_bound:
            LAST_RUN["phase"] = "bound"
            return list(upper)
        if go_deep:
            LAST_RUN["phase"] = "dfs"
            return _depth_first(fwd, bwd, held, row, k, upper, limits)
        if upper is not None and length + 2 == len(upper):
            LAST_RUN["phase"] = "last"
            LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], need)
            found = _last_length(fwd, bwd, held, row, k, limits.budget)
            return list(upper) if found is None else found
        LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], need)
        clock = time.perf_counter()
        side.step()
        stepped = ("F" if side.forward else "B", side.depth, side.size, time.perf_counter() - clock)
        if side.size == 0:  # pragma: no cover - the pair graph said synchronizing
            raise AssertionError("exact search exhausted a direction on a synchronizing automaton")


def _meet_scratch(rows, row):
    """Bytes the meet test copies for ``rows`` backward sets of ``row``
    bytes: their complements, with row numbers, walk order and marks."""
    return rows * (row + 17)


def _last_length(fwd, bwd, held, row, k, budget):
    """A reset word one letter longer than the levels, or None.

    The last length below the bound needs one more step of one side but
    never the level itself: the new sets are tested against the other
    side's last level and dropped, with no merge into the stored runs (which
    go now, the search ends here). The forward step is taken unless the
    images outnumber the preimages more than ``_LAST_FORWARD_RATIO`` times
    (or would not fit the budget): a new preimage is a query of the deep,
    branching kind (rand2_400 seed 0: 6 M of them took 37 s), a new image
    costs a sort, and the fewer old preimages query a larger trie (10 M
    images and that meet: 14 s)."""
    held -= (int(fwd.starts[fwd.nruns]) + int(bwd.starts[bwd.nruns])) * row
    fwd.runs = bwd.runs = None
    m = fwd.size * k
    # Images with parents and letters, their complements, then the sort
    # buffers and the distinct copy; then the meet's copy of the preimages.
    forward_need = held + m * (2 * row + 54) + _meet_scratch(bwd.size, row)
    if bwd.size <= fwd.size and (m > _LAST_FORWARD_RATIO * bwd.size * k
                                 or forward_need > budget):
        # The new preimages are only queries: they need no sorting, and
        # repeats or sets seen before cannot meet (a shorter word would
        # have), so testing them all costs less than sorting them out.
        new, parent, letter = KB._expand(bwd.level, bwd.tab, True)
        i, j = KB._meet(fwd.keys, new, bwd.full, bwd.nbits, bwd.threads)
        if i < 0:
            return None
        return (fwd.word(fwd.depth, i)[::-1] + [int(letter[j])]
                + bwd.word(bwd.depth, int(parent[j])))
    LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], forward_need)
    # The new images form the trie of the query, so they are sorted and
    # made distinct, but not checked against the stored runs (as above).
    new, parent, letter = KB._expand(fwd.level, fwd.tab, False)
    keys = KB._complement(new, fwd.full)
    del new
    keep = KB._sort_unique(keys)
    i, j = KB._meet(keys[keep], bwd.level, fwd.full, fwd.nbits, fwd.threads)
    if i < 0:
        return None
    i = keep[i]
    return (fwd.word(fwd.depth, int(parent[i]))[::-1] + [int(letter[i])]
            + bwd.word(bwd.depth, j))


def _depth_first(fwd, bwd, held, row, k, upper, limits):
    """Finish the search depth-first from the last backward level."""
    base = fwd.depth + bwd.depth
    # From here on the forward side is only the trie of its last level's
    # keys: its stored runs and images go, and their memory feeds the chunks.
    held -= int(fwd.starts[fwd.nruns]) * row + fwd.level.nbytes
    fwd.runs = None
    fwd.level = None
    last = len(upper) - 1 if upper is not None else None
    while last is not None and last - base >= 2:
        stepped = _unstored_forward_steps(fwd, bwd, held, row, k, last - base, limits)
        if stepped is None:
            break
        held = stepped
        base += 1
        LAST_RUN["fwd_depth"] = fwd.depth
        # The new length is the backward level against the new forward one.
        i, j = KB._meet(fwd.keys, bwd.level, bwd.full, bwd.nbits, bwd.threads)
        if i >= 0:
            return fwd.word(fwd.depth, i)[::-1] + bwd.word(bwd.depth, j)

    trie = None
    steps = (last if last is not None else base + _DFS_FIRST_PASS) - base
    trie_bytes = fwd.size * SubsetTrie.bytes_per_key()
    if (_dfs_cost(bwd.size, bwd.growth, steps) >= _TRIE_MIN_QUERIES_PER_KEY * fwd.size
            and held + trie_bytes + _DFS_MIN_CHUNK * k * (row + 6) * steps < limits.budget):
        # Many queries follow: an explicit trie of the forward keys answers
        # them faster than the implicit one. It reorders the keys in place
        # (the word is read back through the trie's order).
        clock = time.perf_counter()
        trie = SubsetTrie(fwd.keys)
        held += trie_bytes
        LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], held)
        LAST_RUN["steps"].append(("T", fwd.depth, fwd.size, time.perf_counter() - clock, 0.0))

    def chunk_for(depth):
        # Every depth keeps one expanded chunk (k rows, parents and letters
        # per set); the deepest also holds, for a moment, the distinct copy
        # or the complements of the meet and the sort buffers.
        per_set = k * ((row + 6) * max(depth, 1) + 2 * row + 48)
        free = limits.budget - held
        chunk = int(free // per_set) if free > 0 else 0
        if chunk < _DFS_MIN_CHUNK:
            limits.check_memory(held + _DFS_MIN_CHUNK * per_set,
                                f"the depth-first phase (at length {base})")
        chunk = max(chunk, _DFS_MIN_CHUNK)
        LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], held + chunk * per_set)
        return chunk

    # A depth-first pass finds the shortest word within its limit (every hit
    # tightens it). With a bound at most _DFS_DIRECT lengths away (a beam
    # word, optimal or nearly so on most automata), one pass up to it costs
    # least: iterative deepening would repeat every shallower pass (about
    # 2.4 times the last one at a growth of 1.7 per length). Otherwise
    # iterative deepening, with a first pass three lengths deep, so that a
    # loose bound (a greedy word far above rt) is never explored to its depth.
    limit = base + _DFS_FIRST_PASS
    if last is not None and last - base <= _DFS_DIRECT:
        limit = last
    while True:
        if last is not None:
            limit = min(limit, last)
        found = _DepthFirst(fwd, bwd, limit, limits, chunk_for(limit - base), trie).run()
        if found is not None:
            return found
        if last is not None and limit >= last:
            return list(upper)
        limit += 1


def _unstored_forward_steps(fwd, bwd, held, row, k, lengths, limits):
    """One forward step before the depth-first phase, when it pays; returns
    the new bytes held, or None (no step taken).

    The depth-first phase needs only the forward keys, so one more forward
    level can be built without stored runs, in place of the last: each
    length is then reached one backward level earlier, and the deepest
    level of preimages (about ``g**lengths`` times the backward level, each
    a query) is never built. It pays while the images (k per forward set)
    are far fewer than that level (half of it, as the larger trie makes
    every query dearer), and only if the step and a useful chunk of the
    depth-first phase (a quarter of the backward level, or 2^20 sets) fit.
    """
    m = fwd.size * k
    if _FORWARD_STEP_GAIN * m >= bwd.size * max(bwd.growth, 1.0) ** lengths:
        return None
    old_keys = fwd.keys.nbytes
    # The new keys with parents and letters, first beside the old keys
    # (while expanding, straight from the keys), then beside the sort
    # buffers (40 bytes a row; the distinct rows are then gathered in place,
    # with smaller scratch). The new keys keep their m rows allocated.
    images = m * (row + 6)
    peak = held - old_keys + images + max(old_keys, m * 48)
    after = held - old_keys + images
    chunk = min(max(bwd.size // 4, _DFS_MIN_CHUNK), 1 << 20)
    if max(peak, after + chunk * k * (3 * row + 54)) > limits.budget:
        return None
    limits.check_time("the shortest reset word search (a forward level before the depth-first phase)")
    LAST_RUN["peak_estimate"] = max(LAST_RUN["peak_estimate"], peak)
    clock = time.perf_counter()
    new, parent, letter = KB._expand_keys(fwd.keys, fwd.tab, fwd.full)
    # The old keys go before the sort: only their parents and letters (for
    # reading words back) are needed from here on.
    fwd.keys = None
    keep = KB._sort_unique(new)
    KB._gather_rows_in_place(new, keep)
    keys = new[:keep.shape[0]]
    fwd.keys = keys
    fwd.parents.append(parent[keep])
    fwd.letters.append(letter[keep])
    del parent, letter, keep
    fwd.depth += 1
    fwd.growth = keys.shape[0] / max(fwd.size, 1)
    fwd.size = keys.shape[0]
    fwd.bytes += 6 * keys.shape[0]
    LAST_RUN["steps"].append(("F", fwd.depth, fwd.size, time.perf_counter() - clock, 0.0))
    return held - old_keys + m * row + 6 * keys.shape[0]
