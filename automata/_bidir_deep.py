"""The depth-first phase of the exact search, which bounds memory rather than solvability.

The depth-first phase needs only the keys of the last forward level, so with
a bound it may first replace them by the next forward level, built without
stored runs, when that level is far smaller than the deepest level of
preimages it saves. It then expands the last backward level in chunks sized
to the memory left (at most what the stored levels hold), one chunk per
branch, and tests every new preimage against the last forward level (the
deepest length unsorted); when many
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

import numpy as np

from automata import _kernels_bidir as KB
from automata import _kernels_split as KS
from automata._bidir_levels import _DOMINATE_MAX, _LOG_MIN_SECONDS, LAST_RUN
from automata._interruptible import run_long
from automata._kernels_trie import SubsetTrie

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
#: Smallest chunk of the depth-first phase, in sets.
_DFS_MIN_CHUNK = 256
#: The chunks of the depth-first phase together hold at most what the stored
#: levels hold (this share of it, and at least _DFS_ROOM_MIN bytes), however
#: large the budget. In searches sent deep early (_bidir._DFS_PREFERENCE at
#: 2.5), chunks sized to the whole budget held 0.8 GiB on random binary
#: n = 300 where the stored levels held 0.2 GiB, for no gain in time; a
#: quarter of the levels was too small on two threads (the meet is a join of
#: a chunk against the forward trie, dearer per query in small batches:
#: 17.2 s against 12.0 s on rand2_300 seed 1). Measured 2026-12-07,
#: docs/results/solver.md.
_DFS_ROOM_SHARE = 1.0
_DFS_ROOM_MIN = 8 << 20
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
        new, parent, letter = KS.expand(src, bwd.tab, True, bwd.threads)
        length = self.base + t + 1
        # The deepest length's sets are only tested, never expanded, so they
        # are not sorted (a repeat merely costs one more query; the sort cost
        # more than the repeats' queries).
        if length < self.limit:
            if t < self.prune_depth:
                keep = KS.reduce_new_dupes(new, bwd.runs, bwd.starts, bwd.nruns, bwd.threads)
                if t == 0 and keep.shape[0] <= 4 * _DOMINATE_MAX:
                    dead = run_long(KB._dominated, new[keep], bwd.runs, bwd.starts, bwd.nruns, bwd.nbits)
                    keep = keep[~dead]
            else:
                keep = KS.sort_unique(new, bwd.threads)
            below = self.limit - length
            if below >= _DFS_NEAR_BELOW and keep.shape[0] >= _REDUCE_MIN_ROWS:
                reducers = _DFS_REDUCERS_FAR if below >= _DFS_FAR_BELOW else _DFS_REDUCERS_NEAR
                keep = keep[~run_long(KB._dominated_in_family, new[keep], reducers)]
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
        free = min(limits.budget - held, max(_DFS_ROOM_MIN, _DFS_ROOM_SHARE * held))
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
    new, parent, letter = run_long(KB._expand_keys, fwd.keys, fwd.tab, fwd.full)
    # The old keys go before the sort: only their parents and letters (for
    # reading words back) are needed from here on.
    fwd.keys = None
    keep = KS.sort_unique(new, fwd.threads)
    run_long(KB._gather_rows_in_place, new, keep)
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
