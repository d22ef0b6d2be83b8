"""The machinery every search method shares.

* :class:`Archive` — every distinct automaton (up to isomorphism) evaluated so
  far, with its exact reset length, in evaluation order.
* :class:`SearchContext` — what a method sees: the random generator, the
  archive and :meth:`SearchContext.evaluate`, which canonicalises a batch of
  candidate tables, drops the ones already known, charges the budget only for
  new distinct automata, scores them exactly and re-checks any reset length
  above Černý's bound with an independent plain BFS.
* checkpoints (:mod:`.checkpoint`, re-exported here) — the whole state (archive,
  method state, random generator) in one ``.npz`` written atomically at step
  boundaries, so a resumed run ends exactly where an uninterrupted one with the
  same seed would.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from automata.atomic import atomic_write_text
from automata.dfa import DFA
from automata.sync import cerny_bound
from seqvae.errors import SearchError

# The checkpoint format lives in its own module; its names were read from here first.
from seqvae.hunt.search.checkpoint import (
    CHECKPOINT_NAME,
    CHECKPOINT_VERSION,
    Snapshot,
    load_checkpoint,
    save_checkpoint,
)

__all__ = [
    "NOT_EVALUATED", "CHECKPOINT_NAME", "CHECKPOINT_VERSION", "Evaluator", "Canonicaliser",
    "Verifier", "Archive", "Counterexample", "SearchContext", "Snapshot", "cerny_bound", "h_level",
    "default_canonicaliser", "default_verifier", "make_evaluator", "compact", "keys_of",
    "save_checkpoint", "load_checkpoint",
]

#: ``tables (m, k, n) -> int64 reset lengths``, -1 where not synchronizing.
Evaluator = Callable[[np.ndarray], np.ndarray]
#: ``tables (m, k, n) -> canonical tables (m, k, n)``, equal iff isomorphic.
Canonicaliser = Callable[[np.ndarray], np.ndarray]
#: ``DFA -> shortest reset word or None``: the independent re-check.
Verifier = Callable[[DFA], "list[int] | None"]

#: Reset length recorded for candidates the budget did not allow to evaluate.
NOT_EVALUATED = -2


def h_level(n_states: int) -> int:
    """``n^2 - 4n + 6``: reset length of the H_n series, the 'slow' threshold.

    >>> h_level(7)
    27
    """
    return n_states * n_states - 4 * n_states + 6


def default_canonicaliser(tables: np.ndarray) -> np.ndarray:
    from automata.canon import canonical_tables

    return np.asarray(canonical_tables(np.ascontiguousarray(tables, dtype=np.int32)))


def default_verifier(dfa: DFA):
    from automata.reference import bfs_reset_word

    return bfs_reset_word(dfa)


def make_evaluator(n_jobs: int = 1) -> Evaluator:
    """The exact evaluator: :func:`automata.parallel.evaluate_tables` on ``n_jobs`` workers."""
    from automata.parallel import evaluate_tables

    def evaluate(tables: np.ndarray) -> np.ndarray:
        return evaluate_tables(tables, n_jobs=n_jobs)

    return evaluate


def compact(table: np.ndarray) -> str:
    """Compact one-line form of a table (``a:0120 b:...``)."""
    from automata.formats import format_compact

    return format_compact(DFA(table))


# ---------------------------------------------------------------------------
class Archive:
    """All distinct automata evaluated so far, keyed by their canonical table.

    Tables are stored canonical and as int8 (n_states <= 127 here), rows in
    evaluation order; ``rts[i]`` is the exact reset length (-1: not
    synchronizing).
    """

    def __init__(self, n_states: int, n_letters: int, capacity: int = 1024):
        if n_states > 127:
            raise SearchError("the search handles at most 127 states")
        self.n_states = n_states
        self.n_letters = n_letters
        self._tables = np.zeros((capacity, n_letters, n_states), dtype=np.int8)
        self._rts = np.zeros(capacity, dtype=np.int64)
        self._index: dict[bytes, int] = {}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def tables(self) -> np.ndarray:
        return self._tables[: self.size]

    @property
    def rts(self) -> np.ndarray:
        return self._rts[: self.size]

    def get(self, key: bytes) -> int | None:
        i = self._index.get(key)
        return None if i is None else int(self._rts[i])

    def __contains__(self, key: bytes) -> bool:
        return key in self._index

    def add(self, tables: np.ndarray, rts: np.ndarray) -> None:
        m = len(tables)
        if self.size + m > len(self._tables):
            cap = max(2 * len(self._tables), self.size + m)
            grown = np.zeros((cap, self.n_letters, self.n_states), dtype=np.int8)
            grown[: self.size] = self._tables[: self.size]
            self._tables = grown
            rts_grown = np.zeros(cap, dtype=np.int64)
            rts_grown[: self.size] = self._rts[: self.size]
            self._rts = rts_grown
        self._tables[self.size: self.size + m] = tables
        self._rts[self.size: self.size + m] = rts
        for i in range(m):
            self._index[self._tables[self.size + i].tobytes()] = self.size + i
        self.size += m

    def set_rt(self, index: int, rt: int) -> None:
        self._rts[index] = rt

    def truncate(self, size: int) -> None:
        """Forget everything evaluated after the first ``size`` entries."""
        for i in range(size, self.size):
            del self._index[self._tables[i].tobytes()]
        self.size = size

    def top(self, count: int) -> list[int]:
        """Indices of the ``count`` best entries (highest rt, earliest first)."""
        rts = self.rts
        order = np.lexsort((np.arange(len(rts)), -rts))
        return order[:count].tolist()


def keys_of(canonical: np.ndarray) -> list[bytes]:
    c8 = np.ascontiguousarray(canonical, dtype=np.int8)
    return [c8[i].tobytes() for i in range(len(c8))]


@dataclass
class Counterexample:
    """A reset length above Černý's bound claimed by the evaluator, and its re-check."""

    automaton: str
    claimed: int
    verified: int | None
    confirmed: bool
    path: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class SearchContext:
    """What a search method works with: rng, archive, budget and exact evaluation.

    Parameters
    ----------
    n_states, n_letters : int
    budget : int
        Number of distinct automata (up to isomorphism) that may be evaluated.
    rng : numpy.random.Generator
    evaluator, canonicaliser, verifier : callables, optional
        Injectable for tests; the defaults are the exact batch evaluator, the
        canonical form of :mod:`automata.canon` and the plain BFS of
        :mod:`automata.reference`.
    out_dir : path, optional
        Where counterexample candidates are saved.
    progress : callable, optional
        Called with the number of new evaluations after every batch.
    """

    def __init__(self, n_states: int, n_letters: int, budget: int, rng: np.random.Generator, *,
                 evaluator: Evaluator | None = None, canonicaliser: Canonicaliser | None = None,
                 verifier: Verifier | None = None, out_dir: str | Path | None = None,
                 progress: Callable[[int], None] | None = None):
        self.n_states = n_states
        self.n_letters = n_letters
        self.budget = int(budget)
        self.rng = rng
        self.evaluator = evaluator or make_evaluator(1)
        self.canonicaliser = canonicaliser or default_canonicaliser
        self.verifier = verifier or default_verifier
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.progress = progress
        self.archive = Archive(n_states, n_letters)
        self.best_rt = -1
        self.evaluations_to_best = 0
        self.first_cerny_at: int | None = None
        self.counterexamples: list[Counterexample] = []
        self.proposed = 0      # candidates submitted, duplicates included
        self.duplicates = 0    # of which were already known

    # -- budget ------------------------------------------------------------
    @property
    def evaluations(self) -> int:
        return self.archive.size

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.archive.size)

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0

    # -- evaluation ----------------------------------------------------------
    def canonical(self, tables: np.ndarray) -> np.ndarray:
        return np.asarray(self.canonicaliser(np.ascontiguousarray(tables, dtype=np.int32)),
                          dtype=np.int32)

    def evaluate(self, tables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score a batch of candidate tables exactly.

        Returns ``(canonical_tables, rts)`` aligned with the input; known
        automata (and repeats inside the batch) take the stored value and are
        not charged; candidates beyond the budget get ``NOT_EVALUATED``.
        """
        tables = np.asarray(tables)
        if tables.ndim != 3 or tables.shape[1:] != (self.n_letters, self.n_states):
            raise SearchError(
                f"candidate tables must have shape (m, {self.n_letters}, {self.n_states}), "
                f"got {tables.shape}")
        canon = self.canonical(tables)
        keys = keys_of(canon)
        m = len(keys)
        self.proposed += m
        rts = np.full(m, NOT_EVALUATED, dtype=np.int64)
        new_pos: dict[bytes, int] = {}
        new_rows: list[int] = []
        waiting: list[tuple[int, int]] = []
        remaining = self.remaining
        for i, key in enumerate(keys):
            known = self.archive.get(key)
            if known is not None:
                rts[i] = known
                self.duplicates += 1
            elif key in new_pos:
                waiting.append((i, new_pos[key]))
                self.duplicates += 1
            elif len(new_rows) < remaining:
                new_pos[key] = len(new_rows)
                new_rows.append(i)
        if new_rows:
            fresh = canon[new_rows]
            values = np.asarray(self.evaluator(fresh), dtype=np.int64).copy()
            if values.shape != (len(new_rows),):
                raise SearchError("the evaluator returned the wrong number of reset lengths")
            self._check_bound(fresh, values)
            start = self.archive.size
            self.archive.add(fresh, values)
            for j, i in enumerate(new_rows):
                rts[i] = values[j]
            top = int(values.max())
            if top > self.best_rt:
                self.best_rt = top
                self.evaluations_to_best = start + int(np.argmax(values == top)) + 1
            if self.first_cerny_at is None:
                hits = np.flatnonzero(values >= cerny_bound(self.n_states))
                if len(hits):
                    self.first_cerny_at = start + int(hits[0]) + 1
            if self.progress is not None:
                self.progress(len(new_rows))
        for i, j in waiting:
            rts[i] = rts[new_rows[j]]
        new_mask = np.zeros(m, dtype=bool)
        new_mask[new_rows] = True
        #: Which inputs of the last call were new automata, charged to the budget.
        self.last_new = new_mask
        return canon, rts

    def _check_bound(self, tables: np.ndarray, values: np.ndarray) -> None:
        """Re-verify any claim above Černý's bound by the independent BFS (in place)."""
        bound = cerny_bound(self.n_states)
        for j in np.flatnonzero(values > bound).tolist():
            dfa = DFA(tables[j])
            word = self.verifier(dfa)
            verified = None if word is None else len(word)
            claimed = int(values[j])
            confirmed = verified is not None and verified == claimed and verified > bound
            record = Counterexample(compact(tables[j]), claimed, verified, confirmed)
            if self.out_dir is not None:
                path = self.out_dir / f"counterexample_{len(self.counterexamples) + 1}.txt"
                from automata.formats import format_text

                status = ("CONFIRMED by plain BFS" if confirmed else
                          f"NOT confirmed: plain BFS gives {verified}")
                atomic_write_text(path, (
                    f"# reset length {claimed} > (n-1)^2 = {bound} claimed; {status}\n"
                    f"# {record.automaton}\n" + format_text([dfa])))
                record.path = str(path)
            self.counterexamples.append(record)
            import warnings

            warnings.warn(
                f"CANDIDATE COUNTEREXAMPLE to Černý's conjecture: {record.automaton} "
                f"claimed rt={claimed} > {bound}; independent BFS: {verified} "
                f"({'confirmed' if confirmed else 'not confirmed'})"
                + (f"; saved to {record.path}" if record.path else ""), stacklevel=2)
            # The plain BFS is the arbiter of what goes in the archive.
            values[j] = -1 if verified is None else verified

    # -- state ---------------------------------------------------------------
    def counters(self) -> dict:
        return {"best_rt": self.best_rt, "evaluations_to_best": self.evaluations_to_best,
                "first_cerny_at": self.first_cerny_at, "proposed": self.proposed,
                "duplicates": self.duplicates,
                "counterexamples": [c.to_dict() for c in self.counterexamples]}

    def load_counters(self, d: dict) -> None:
        self.best_rt = int(d["best_rt"])
        self.evaluations_to_best = int(d["evaluations_to_best"])
        self.first_cerny_at = d["first_cerny_at"]
        self.proposed = int(d["proposed"])
        self.duplicates = int(d["duplicates"])
        self.counterexamples = [Counterexample(**c) for c in d["counterexamples"]]
