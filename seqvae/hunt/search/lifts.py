"""One-state lifts: automata of n states made from automata of n − 1 states.

Many slow automata of n states are lifts of slow ones of n − 1 states while far
from the other slow automata of n states in single moves (see
:func:`lift_neighbourhood`). Here: the lifts of one automaton, the sources read
from files (:func:`lift_sources`), the pool of their lifts that the evolutionary
search evaluates in batches (:class:`LiftPool`), and the learned ranking of that
pool (:class:`LiftRanker`).
"""
from __future__ import annotations

import numpy as np

from seqvae.errors import SearchError
from seqvae.hunt.search.core import NOT_EVALUATED, SearchContext, keys_of

__all__ = ["lift_neighbourhood", "lift_sources", "NOT_LIFTED", "LiftRanker", "LiftPool"]


def lift_neighbourhood(table: np.ndarray, arrows: int = 1, any_images: bool = False
                       ) -> np.ndarray:
    """The one-state lifts of an automaton: (m, k, n+1) tables of n+1 states.

    A lift adds a state ``s`` (numbered n) that takes over 1 to ``arrows``
    incoming transitions of one state ``t`` (they now end in ``s``). ``s`` goes
    under one letter where ``t`` goes (or to ``s`` when ``t`` loops there) and
    under the other letters anywhere; with ``any_images``, anywhere under every
    letter. Merging ``s`` back into ``t`` gives the original automaton: at
    n = 8, 54 of the 63 classes with rt >= 38 arise this way from the 257
    classes of 7 states with rt >= 27; 41 of them by the minimal lifts
    (``arrows=1``, about 60,000 distinct automata from those 257), 53 with
    ``arrows=2, any_images=True`` (about 355,000), far from the slow automata of
    their own size in single moves.

    >>> lifts = lift_neighbourhood(np.array([[1, 2, 0], [0, 1, 0]]))
    >>> lifts.shape[1:], bool((lifts[:, :, :3] == 3).sum(axis=(1, 2)).min() == 1)
    ((2, 4), True)
    >>> len(lift_neighbourhood(np.array([[1, 2, 0], [0, 1, 0]]), 2, True)) > len(lifts)
    True
    """
    from itertools import combinations

    table = np.asarray(table)
    k, n = table.shape
    if int(arrows) < 1:
        raise SearchError(f"a lift takes over at least one arrow, got arrows={arrows}")
    n_new = n + 1
    grid = lambda count: np.array(np.meshgrid(*[np.arange(n_new)] * count, indexing="ij")
                                  ).reshape(count, -1).T
    parts = []
    for t in range(n):
        into = list(zip(*np.nonzero(table == t)))
        for size in range(1, min(int(arrows), len(into)) + 1):
            for taken in combinations(into, size):
                base = np.zeros((k, n_new), dtype=np.int32)
                base[:, :n] = table
                for a, q in taken:
                    base[a, q] = n                        # the taken-over transitions
                if any_images:
                    block = np.repeat(base[None], n_new ** k, axis=0)
                    block[:, :, n] = grid(k)
                    parts.append(block)
                    continue
                free = grid(k - 1)                        # images under the other letters
                for c in range(k):
                    others = [x for x in range(k) if x != c]
                    for image in [int(table[c, t])] + ([n] if table[c, t] == t else []):
                        block = np.repeat(base[None], len(free), axis=0)
                        block[:, c, n] = image
                        if others:
                            block[:, others, n] = free
                        parts.append(block)
    if not parts:
        return np.zeros((0, k, n_new), dtype=np.int32)
    return np.concatenate(parts)


def lift_sources(sources, n_states: int, n_letters: int) -> np.ndarray:
    """The automata of ``n_states − 1`` states among ``sources`` (files in any automata
    format, DFAs, or a list of them), slowest first: what :func:`lift_neighbourhood`
    lifts to ``n_states``. Automata of other sizes are ignored (a file may hold several
    sizes); none of the right size raises :class:`~seqvae.errors.SearchError`.

    Their reset lengths are computed here once (automata one state smaller, not
    part of the search's budget); non-synchronizing ones are dropped.

    >>> from automata.dfa import DFA
    >>> srcs = lift_sources([DFA([[1, 2, 0], [0, 1, 0]]), DFA([[1, 0], [0, 0]])], 4, 2)
    >>> srcs.shape
    (1, 2, 3)
    """
    from automata.parallel import evaluate_tables
    from seqvae.hunt.search.sources import load_transfer_tables

    groups = [g for g in load_transfer_tables(sources, n_letters)
              if g.shape[1:] == (n_letters, n_states - 1)]
    if not groups:
        raise SearchError(f"nothing to lift: no automaton with {n_states - 1} states and "
                          f"{n_letters} letters among the lift sources")
    tables = groups[0]
    rts = np.asarray(evaluate_tables(tables))
    keep = np.flatnonzero(rts >= 0)
    order = keep[np.argsort(-rts[keep], kind="stable")]
    return np.ascontiguousarray(tables[order], dtype=np.int32)


#: ``lift_rt`` of a pool member not evaluated yet.
NOT_LIFTED = -3


class LiftRanker:
    """Orders a :class:`LiftPool`: the first ``min_train`` lifts
    in the sources' order, then by a learned surrogate's predicted reset length
    (:class:`~seqvae.hunt.search.surrogate.RtSurrogate`), refitted on every lift evaluated
    so far before each batch.

    Examples
    --------
    >>> ranker = LiftRanker(min_train=2)
    >>> pool = np.zeros((3, 2, 4), dtype=np.int32)
    >>> ranker.choose(pool, np.full(3, NOT_LIFTED), np.arange(3), 2,
    ...               np.random.default_rng(0)).tolist()
    [0, 1]
    """

    def __init__(self, min_train: int = 2048, **surrogate_options):
        from seqvae.hunt.search.surrogate import RtSurrogate

        self.min_train = int(min_train)
        self.model = RtSurrogate(**surrogate_options)
        self._features: np.ndarray | None = None

    @property
    def trained(self) -> bool:
        return self.model.trained_steps > 0

    def choose(self, pool: np.ndarray, lift_rt: np.ndarray, todo: np.ndarray, count: int,
               rng: np.random.Generator) -> np.ndarray:
        """Indices (into ``pool``) of the next ``count`` lifts to evaluate, among ``todo``."""
        known = np.flatnonzero(lift_rt != NOT_LIFTED)
        if len(known) < self.min_train:
            return todo[:count]
        # The pool only grows at its end (a ranked closure appends to it): features of
        # the new rows only.
        have = 0 if self._features is None else len(self._features)
        if have > len(pool):
            self._features, have = None, 0
        if have < len(pool):
            extra = self.model.features(pool[have:])
            self._features = extra if have == 0 else np.concatenate([self._features, extra])
        self.model.fit(None, lift_rt[known], features=self._features[known],
                       seed=int(rng.integers(2**31)))
        score = self.model.predict(None, features=self._features[todo])
        return todo[np.argsort(-score, kind="stable")[:count]]

    def state(self) -> bytes:
        return self.model.state()

    def load(self, data: bytes) -> None:
        self.model.load(data)


class LiftPool:
    """The distinct lifts of ``sources``, evaluated ``batch`` at a time by :meth:`evaluate_next`.

    The pool is built on first use, canonical, in the sources' order (slowest first):
    the same on every run with the same sources, so a resume finds it again. Lifts are
    evaluated while they have used at most ``share`` of the evaluations, in that order
    or in the order a ``ranker`` (:class:`LiftRanker`) chooses. A ranked closure
    appends neighbourhoods to the pool (:meth:`extend`); that part is saved as state.

    ``rt[i]`` is the reset length of pool member ``i`` once evaluated, else
    :data:`NOT_LIFTED`; ``evals`` counts the new automata lifts have cost.
    """

    def __init__(self, ctx: SearchContext, sources: np.ndarray, *, arrows: int = 1,
                 any_images: bool = False, share: float = 0.5, batch: int = 1024,
                 ranker: LiftRanker | None = None):
        self.ctx = ctx
        self.sources = sources
        self.arrows, self.any_images = int(arrows), bool(any_images)
        self.share, self.batch = float(share), int(batch)
        self.ranker = ranker
        self.tables: np.ndarray | None = None
        self.rt = np.zeros(0, dtype=np.int64)
        self.evals = 0
        self.grown = False
        self._keys: set[bytes] = set()

    def build(self) -> np.ndarray:
        """The pool (built now if it is not yet)."""
        if self.tables is None:
            keys: dict[bytes, np.ndarray] = {}
            for source in self.sources:
                lifts = lift_neighbourhood(source, self.arrows, self.any_images)
                for table in self.ctx.canonical(lifts):
                    keys.setdefault(table.astype(np.int8).tobytes(), table)
            k, n = self.ctx.n_letters, self.ctx.n_states
            self.tables = (np.stack(list(keys.values())).astype(np.int32) if keys
                           else np.zeros((0, k, n), dtype=np.int32))
            self._keys = set(keys)
            if len(self.rt) != len(self.tables):
                self.rt = np.full(len(self.tables), NOT_LIFTED, dtype=np.int64)
        return self.tables

    def extend(self, canonical: np.ndarray) -> None:
        """Append the canonical tables neither in the pool nor in the archive, in order."""
        pool = self.build()
        archive = self.ctx.archive
        fresh = []
        for key, row in zip(keys_of(canonical), canonical):
            if key not in self._keys and key not in archive:
                self._keys.add(key)
                fresh.append(row)
        if fresh:
            self.tables = np.concatenate([pool, np.stack(fresh).astype(np.int32)])
            self.rt = np.concatenate([self.rt, np.full(len(fresh), NOT_LIFTED, dtype=np.int64)])
            self.grown = True

    def evaluate_next(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Evaluate the next batch if lifts are within their share: ``(canonical tables,
        rts)`` of those evaluated, or None."""
        ctx = self.ctx
        if not len(self.sources) or ctx.exhausted or self.evals > self.share * ctx.archive.size:
            return None
        pool = self.build()
        todo = np.flatnonzero(self.rt == NOT_LIFTED)
        if len(todo) == 0:
            return None
        if self.ranker is not None:
            pick = self.ranker.choose(pool, self.rt, todo, self.batch, ctx.rng)
        else:
            pick = todo[: self.batch]
        before = ctx.archive.size
        canon, rts = ctx.evaluate(pool[pick])
        self.evals += ctx.archive.size - before
        done = rts != NOT_EVALUATED
        self.rt[pick[done]] = rts[done]
        return canon[done], rts[done]

    def state_dict(self) -> dict:
        state = {"lift_rt": self.rt, "lift_evals": self.evals}
        if self.grown and self.tables is not None:
            # A ranked closure grows the pool as the search goes: it is state.
            state["lift_pool"] = self.tables.astype(np.int8)
        if self.ranker is not None and self.ranker.trained:
            state["lift_ranker"] = np.frombuffer(self.ranker.state(), dtype=np.uint8)
        return state

    def load_state_dict(self, state: dict) -> None:
        self.rt = np.asarray(state.get("lift_rt", np.zeros(0)), dtype=np.int64)
        self.evals = int(state.get("lift_evals", 0))
        if "lift_pool" in state:
            self.tables = np.asarray(state["lift_pool"], dtype=np.int32)
            self._keys = set(keys_of(self.tables))
            self.grown = True
        if self.ranker is not None and "lift_ranker" in state:
            self.ranker.load(np.asarray(state["lift_ranker"], dtype=np.uint8).tobytes())
