"""The stored side of the exact search: the levels of one direction and their memory.

:class:`_Side` keeps one direction of the bidirectional search of
:mod:`automata._bidir` (its last level, the parent chain of every set, the
sorted runs used to drop repeats and dominated sets) and says what its next
step will hold at its peak; beside it, the estimates both phases share and
:data:`LAST_RUN`, the diagnostics of the latest search.
"""
from __future__ import annotations

import numpy as np

from automata import _kernels_bidir as KB
from automata._kernels_split import side_step

__all__ = ["LAST_RUN", "merge_cascade", "table_bytes", "trie_friendly_relabel"]

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
        ``k``). Two phases, the larger counts:

        * sorting: the candidates with their parents and letters (row + 6
          bytes each), the sort buffers (four 8-byte words per row), the
          sorted index and the distinct copy (row + 8);
        * storing: the candidates are gone, their parents and letters and
          the kept index remain (14 bytes), with the kept keys (a row), their
          copy appended to the runs (a row, fresh pages), the used rows
          copied when the runs array is regrown (the old array lives until
          the step returns), and the larger of the run copied out by a merge
          and the forward level rebuilt from the keys.

        Then the meet test after the step copies the complements of the
        backward level (counted by the caller). Traced step by step on random
        binary n = 300 (2026-12-07): the storing phase holds all of its parts
        at once (a regrowth, the new rows and a merge: 164 bytes a candidate
        measured, where an estimate that took them as alternatives gave 134)."""
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
        sort_phase = m * (row + 6) + m * (32 + 8 + row + 8)
        store_phase = m * (14 + 2 * row) + grow + max(self._merge_copy_rows(m) * row, rebuilt)
        return max(sort_phase, store_phase)

    def step(self):
        # Domination pruning (subset queries on the implicit trie) often costs
        # more than it saves: on random automata few sets are dominated, and
        # on Černý-like ones the levels stay tiny anyway. So it is switched
        # off after a step where it removed under 5% of the new sets, and
        # retried after an exponentially growing pause; and it is never tried
        # on large levels, where sparse subset queries get expensive.
        dominate = self._skip == 0 and self.size * self.tab.shape[0] <= _DOMINATE_MAX
        before = self.size
        level, self.keys, parent, letter, self.runs, self.nruns, n_dom = side_step(
            self.level, self.tab, self.full, self.forward, self.runs, self.starts,
            self.nruns, self.nbits, dominate, self.threads)
        if dominate:
            if n_dom * 20 < len(level) + n_dom:
                self._pause = min(2 * self._pause, 1 << 12)
                self._skip = self._pause
            else:
                self._pause = 1
        else:
            self._skip -= 1
        # Backward keys are the level itself; the compiled step returns them
        # as two array objects, which stored_bytes would count twice.
        self.level = level if self.forward else self.keys
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


def _meet_scratch(rows, row):
    """Bytes the meet test copies for ``rows`` backward sets of ``row``
    bytes: their complements, with row numbers, walk order and marks."""
    return rows * (row + 17)
