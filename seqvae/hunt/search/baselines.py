"""Baselines the latent search must beat: uniform random sampling and a tuned evolutionary search.

Both work in batches: candidates are generated as one ``(m, n_letters,
n_states)`` array, canonicalised and scored by :meth:`SearchContext.evaluate`
in one call, so per-candidate Python work stays negligible.

One module for both because the evolutionary search is the baseline's tuned
form and its mutation operators are shared with the hybrid latent method; its
operators and the restart logic make up most of the length.
"""
from __future__ import annotations

import numpy as np

from automata.generate import random_tables
from seqvae.errors import SearchError
from seqvae.hunt.search.core import NOT_EVALUATED, SearchContext, h_level, keys_of

__all__ = [
    "SearchMethod", "RandomSearch", "EvolutionarySearch", "OPERATORS", "redirect",
    "swap_images", "redirect_unused", "near_identity", "copy_letter", "neighbourhood",
    "swap_neighbourhood", "copy_neighbourhood", "lift_neighbourhood", "lift_sources", "LiftRanker", "NOT_LIFTED", "crossover", "tournament", "high_rank_tables",
    "RESTART_KINDS",
]


class SearchMethod:
    """A search strategy: repeated :meth:`step` calls, each evaluating one batch.

    Everything a method needs to continue exactly must be in
    :meth:`state_dict` (numpy arrays and JSON scalars); the random generator
    is the context's and is checkpointed by the driver.
    """

    name = "base"

    def __init__(self, ctx: SearchContext, **options):
        self.ctx = ctx
        self.options = options

    def seed(self, tables: np.ndarray, rts: np.ndarray) -> None:
        """Take user-supplied starting automata (already evaluated) into account."""

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class RandomSearch(SearchMethod):
    """Uniformly random automata, ``batch`` per step."""

    name = "random"

    def __init__(self, ctx: SearchContext, batch: int = 1024, **options):
        super().__init__(ctx, **options)
        self.batch = int(batch)

    def step(self) -> None:
        ctx = self.ctx
        m = min(self.batch, max(ctx.remaining, 1))
        ctx.evaluate(random_tables(m, ctx.n_states, ctx.n_letters, ctx.rng))


# ---------------------------------------------------------------------------
# Variation operators on batches of tables (m, k, n).
def redirect(rng: np.random.Generator, tables: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Redirect ``counts[i]`` random transitions of table ``i`` to a different random state."""
    out = tables.copy()
    m, k, n = out.shape
    total = int(counts.sum())
    if total == 0:
        return out
    rows = np.repeat(np.arange(m), counts)
    letters = rng.integers(0, k, size=total)
    states = rng.integers(0, n, size=total)
    # An offset in 1..n-1 guarantees the new target differs from the old one
    # (when a transition is hit twice, the second redirect still moves it).
    shift = rng.integers(1, n, size=total) if n > 1 else np.zeros(total, dtype=np.int64)
    for r, a, q, s in zip(rows, letters, states, shift):
        out[r, a, q] = (out[r, a, q] + s) % n
    return out


def swap_images(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Swap the images of two random states under one random letter, where ``mask``.

    It keeps a permutation letter a permutation: slowly synchronizing automata
    usually have one, so this move walks along that part of the space.
    """
    out = tables.copy()
    m, k, n = out.shape
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or n < 2:
        return out
    letters = rng.integers(0, k, size=len(idx))
    p = rng.integers(0, n, size=len(idx))
    q = (p + rng.integers(1, n, size=len(idx))) % n
    a_vals = out[idx, letters, p].copy()
    out[idx, letters, p] = out[idx, letters, q]
    out[idx, letters, q] = a_vals
    return out


def redirect_unused(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where ``mask``: send one transition to a state outside its letter's image.

    The moved transition is taken from a state sharing its image with
    another, so the letter's rank grows by one: letters of high rank are
    what keeps an automaton from synchronizing quickly. Falls back to a plain
    redirection when the letter is already a permutation.
    """
    out = tables.copy()
    m, k, n = out.shape
    for i in np.flatnonzero(mask):
        a = int(rng.integers(k))
        row = out[i, a]
        counts = np.bincount(row, minlength=n)
        unused = np.flatnonzero(counts == 0)
        if len(unused) == 0:
            q = int(rng.integers(n))
            row[q] = (row[q] + int(rng.integers(1, n))) % n
            continue
        shared = np.flatnonzero(counts[row] > 1)
        q = int(shared[rng.integers(len(shared))])
        row[q] = int(unused[rng.integers(len(unused))])
    return out


def near_identity(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where ``mask``: replace the letter of least rank by the identity with one redirection.

    The new letter merges exactly one pair of states and fixes the rest, so
    all the work of synchronizing falls on the other letters; a letter of
    larger rank (a permutation, say) is left alone.
    """
    out = tables.copy()
    m, k, n = out.shape
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or n < 2:
        return out
    for i in idx:
        ranks = [len(np.unique(out[i, a])) for a in range(k)]
        low = np.flatnonzero(np.asarray(ranks) == min(ranks))
        a = int(low[rng.integers(len(low))])
        q = int(rng.integers(n))
        row = np.arange(n, dtype=out.dtype)
        row[q] = (q + int(rng.integers(1, n))) % n
        out[i, a] = row
    return out


def copy_letter(rng: np.random.Generator, tables: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Where ``mask``: copy one letter onto another, then redirect one transition of the copy.

    The two letters then differ in a single transition. Several of the
    slowest series sit there (Wielandt's W_n: the cycle, and the cycle with
    one arrow moved), one such move away from Černý's automaton but far from
    it in single redirections.
    """
    out = tables.copy()
    m, k, n = out.shape
    idx = np.flatnonzero(mask)
    if len(idx) == 0 or n < 2 or k < 2:
        return out
    source = rng.integers(0, k, size=len(idx))
    target = (source + rng.integers(1, k, size=len(idx))) % k
    q = rng.integers(0, n, size=len(idx))
    shift = rng.integers(1, n, size=len(idx))
    out[idx, target] = out[idx, source]
    out[idx, target, q] = (out[idx, target, q] + shift) % n
    return out


def neighbourhood(table: np.ndarray) -> np.ndarray:
    """Every table one transition redirection away from ``table``: (k·n·(n−1), k, n)."""
    k, n = table.shape
    a, q, t = np.meshgrid(np.arange(k), np.arange(n), np.arange(n), indexing="ij")
    a, q, t = a.ravel(), q.ravel(), t.ravel()
    keep = t != table[a, q]
    a, q, t = a[keep], q[keep], t[keep]
    out = np.repeat(table[None], len(a), axis=0)
    out[np.arange(len(a)), a, q] = t
    return out


def swap_neighbourhood(table: np.ndarray) -> np.ndarray:
    """Every table obtained by exchanging the images of two states under one letter."""
    k, n = table.shape
    a, p, q = np.meshgrid(np.arange(k), np.arange(n), np.arange(n), indexing="ij")
    a, p, q = a.ravel(), p.ravel(), q.ravel()
    keep = (p < q) & (table[a, p] != table[a, q])
    a, p, q = a[keep], p[keep], q[keep]
    out = np.repeat(table[None], len(a), axis=0)
    rows = np.arange(len(a))
    out[rows, a, p] = table[a, q]
    out[rows, a, q] = table[a, p]
    return out


def copy_neighbourhood(table: np.ndarray) -> np.ndarray:
    """Every table made by copying one letter onto another and redirecting one
    transition of the copy: (k·(k−1)·n·(n−1), k, n), see :func:`copy_letter`.

    >>> copy_neighbourhood(np.array([[1, 2, 0], [0, 0, 2]])).shape
    (12, 2, 3)
    """
    k, n = table.shape
    parts = []
    for source in range(k):
        for target in range(k):
            if source == target:
                continue
            copied = table.copy()
            copied[target] = table[source]
            moved = neighbourhood(copied)
            # Keep the redirections of the copied letter only.
            parts.append(moved[(moved != copied[None]).any(axis=2)[:, target]])
    if not parts:
        return np.zeros((0, k, n), dtype=table.dtype)
    return np.concatenate(parts)


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


def high_rank_tables(m: int, n_states: int, n_letters: int,
                     rng: np.random.Generator) -> np.ndarray:
    """``m`` random tables whose letters are permutations with 0, 1 or 2 transitions
    redirected (rank n, n−1 or n−2), at least one letter redirected.

    Every slowly synchronizing automaton in the censuses of n = 7, 8, 9 has
    letters of rank at least n−2, while a uniformly random letter has rank
    about 0.63·n: climbs started here begin near that region.

    >>> t = high_rank_tables(100, 6, 2, np.random.default_rng(0))
    >>> ranks = [len(set(row)) for row in t.reshape(-1, 6)]
    >>> min(ranks) >= 4, t.shape
    (True, (100, 2, 6))
    """
    n, k = n_states, n_letters
    out = np.argsort(rng.random((m, k, n)), axis=2)  # one random permutation per letter
    moves = rng.choice(3, size=(m, k), p=[0.25, 0.5, 0.25])
    # A table of permutations only never synchronizes (n > 1): redirect in one letter.
    unmoved = (moves == 0).all(axis=1)
    moves[unmoved, rng.integers(0, k, size=int(unmoved.sum()))] = 1
    for i, a in zip(*np.nonzero(moves)):
        for _ in range(int(moves[i, a])):
            q = int(rng.integers(n))
            out[i, a, q] = (out[i, a, q] + int(rng.integers(1, n))) % n if n > 1 else 0
    return out.astype(np.int32)


def crossover(rng: np.random.Generator, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Recombine two batches of parents.

    Half of the children take whole letter rows from either parent; the
    other half take each state's outgoing transitions (all letters) from
    either parent.
    """
    m, k, n = first.shape
    by_letter = rng.random(m) < 0.5
    letter_mask = rng.random((m, k, 1)) < 0.5
    state_mask = rng.random((m, 1, n)) < 0.5
    mask = np.where(by_letter[:, None, None], np.broadcast_to(letter_mask, (m, k, n)),
                    np.broadcast_to(state_mask, (m, k, n)))
    return np.where(mask, first, second).astype(first.dtype)


def tournament(rng: np.random.Generator, fitness: np.ndarray, count: int, size: int) -> np.ndarray:
    """Indices of ``count`` tournament winners (ties broken at random)."""
    contenders = rng.integers(0, len(fitness), size=(count, size))
    noise = rng.random((count, size))
    score = fitness[contenders] + 0.5 * noise  # rt is integral: noise only breaks ties
    return contenders[np.arange(count), np.argmax(score, axis=1)]


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
    """Orders the lift pool of :class:`EvolutionarySearch`: the first ``min_train`` lifts
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


#: Where :class:`EvolutionarySearch` draws fresh populations: uniformly random
#: tables, or :func:`high_rank_tables`.
RESTART_KINDS = ("uniform", "high-rank")

#: Variation operators of :class:`EvolutionarySearch`.
OPERATORS = ("redirect", "unused", "swap", "swap+redirect", "crossover", "near-identity",
             "copy")


class EvolutionarySearch(SearchMethod):
    """A (μ+λ) evolutionary search over transition tables with an elite archive.

    Per step (generation) it makes ``offspring`` children of parents chosen
    by tournament selection from the population (a share ``elite_rate`` from
    the global elite instead: the best distinct automata found so far). Each
    child gets one variation operator (:data:`OPERATORS`):

    * ``redirect`` — ``1 + Poisson(strength)`` transitions sent to other states;
    * ``unused`` — one transition sent to a state outside its letter's image
      (raises the letter's rank);
    * ``swap`` — the images of two states under one letter exchanged (keeps a
      permutation letter a permutation, changing its cycle structure);
    * ``swap+redirect`` — both;
    * ``crossover`` — whole letter rows or whole state columns from a second
      parent, plus one redirect;
    * ``near-identity`` — the letter of least rank replaced by the identity
      with one transition redirected (a letter merging a single pair), other
      letters kept; on by default beyond 8 states (``near_identity``);
    * ``copy`` — one letter copied onto another, then one transition of the
      copy redirected (:func:`copy_letter`); with ``copy_moves``, on by
      default.

    Operators are drawn with probabilities that follow their recent success
    (adaptive operator selection); ``strength`` adapts too — up when many
    children are duplicates or improve (a one-fifth rule), down otherwise.
    Survivors are the best ``population`` of parents and children, equal
    fitness going to the newer automaton so the search drifts across
    plateaus; non-synchronizing automata get fitness -1.

    After ``patience`` generations without a new population best the
    population restarts from fresh random automata (keeping a share
    ``restart_keep`` of the elite): independent climbs into different basins
    pay off more than polishing one, because the landscape is rugged (Černý's
    automaton is a strict local optimum whose neighbours are far below it).
    With the near-identity move on, a restart also resets the operator scores.

    Besides, each step enumerates the whole one-redirection neighbourhood
    (and with ``expand_swaps`` the image-swap neighbourhood) of ``expand``
    archive members not yet expanded, best first and newest first among
    equals (a best-first local search over the elite archive), as long as
    expansions have used at most ``expand_share`` of the evaluations: slowly
    synchronizing automata sit next to each other, and a neighbourhood costs
    at most k·n·(n−1) (+ k·n(n−1)/2) evaluations when enumerated. With
    ``expand_merge`` the neighbours also join the population, and only
    automata found since the last restart are expanded, so that each climb
    stays independent. The defaults of these three depend on the size (see
    the code).

    With ``closure_margin`` M, each step first enumerates the neighbourhood
    (redirections, swaps and, with ``copy_moves`` and ``closure_copies``,
    copies) of up to ``closure_per_step`` archive members with
    rt >= n²−4n+6 − M not yet expanded, best first: a flood fill over the
    region just below the slow level, where isolated slow automata are joined
    (at n = 8, 50 of the 63 classes with rt >= 38 form one component through
    automata with rt >= 34, none through single redirections alone).
    ``restart_kind`` chooses where fresh populations come from
    (:data:`RESTART_KINDS`). The copy move, a closure with M = 4 and
    high-rank restarts are on by default at every size; pass
    ``copy_moves=False, closure_margin=None, restart_kind="uniform"`` for the
    search without them.

    With ``lift_from`` (automata files or DFAs; those of n−1 states are used,
    see :func:`lift_sources`), each step also evaluates ``lift_batch`` members
    of the pool of their one-state lifts (:func:`lift_neighbourhood` with
    ``lift_arrows`` and ``lift_any_images``), as long as lifts have used at most
    ``lift_share`` of the evaluations; they join the population, and the slow
    ones the closure. The pool is taken in the order of the sources' reset
    lengths, or in the order a ``lift_ranker`` (:class:`LiftRanker`, a learned
    surrogate; ``boost`` supplies one) chooses. Many slow automata of n states
    are lifts of slow ones of n−1 states while far from the other slow automata
    of n states in single moves: at n = 8 the lifts of the 257 classes of 7
    states with rt >= 27 raised the recall at 200k evaluations from 0.894 to
    0.984 (3 seeds) and found C_8 after 163 evaluations.

    The context canonicalises and deduplicates every batch, so only new
    distinct automata cost budget: a candidate isomorphic to one already
    evaluated is answered from the archive and is not counted as an
    evaluation, for every method alike.
    """

    name = "evolve"
    OPERATOR_FLOOR = 0.05

    def __init__(self, ctx: SearchContext, population: int = 128, offspring: int = 256,
                 tournament_size: int = 4,
                 elite_rate: float = 0.0, elite_size: int = 256, strength: float = 0.5,
                 patience: int = 25, expand: int = 1, expand_share: float | None = None,
                 restart_keep: float = 0.0, expand_swaps: bool | None = None,
                 expand_merge: bool | None = None, near_identity: bool | None = None,
                 copy_moves: bool | None = None, closure_margin: int | None | str = "auto",
                 closure_per_step: int = 4, closure_copies: bool = True,
                 restart_kind: str | None = None, lift_from=None, lift_share: float = 0.5,
                 lift_batch: int = 1024, lift_arrows: int = 1, lift_any_images: bool = False,
                 lift_ranker=None, closure_ranked: bool = False, **options):
        super().__init__(ctx, **options)
        self.mu = int(population)
        self.lam = int(offspring)
        self.tsize = int(tournament_size)
        self.elite_rate = float(elite_rate)
        self.elite_size = int(elite_size)
        self.strength = float(strength)
        self.patience = int(patience)
        self.expand = int(expand)
        self.expanded = np.zeros(0, dtype=bool)
        # Defaults tuned on scripts/bench_search.py: up to 8 states the
        # neighbourhoods are small and enumerating them (swaps included) is what
        # finds nearly every slow automaton; beyond, a neighbourhood costs
        # ~2n² evaluations and independent climbs pay more, so expansions get a
        # smaller share and feed the population they serve.
        small = ctx.n_states <= 8
        self.expand_share = float(expand_share if expand_share is not None
                                  else (0.5 if small else 0.25))
        self.restart_keep = float(restart_keep)
        self.expand_swaps = bool(small if expand_swaps is None else expand_swaps)
        self.expand_merge = bool((not small) if expand_merge is None else expand_merge)
        # Beyond 8 states the population rarely climbs on its own to automata
        # whose letters split the work (one keeps every state apart, one merges
        # a single pair); the near-identity move jumps there directly. Up to 8
        # states enumeration already finds them, and the move would only take
        # children away from it.
        self.near_identity = bool((not small) if near_identity is None else near_identity)
        # Measured with scripts/bench_search.py: the copy move reaches the
        # W_n/D′_n/D″_n group, the closure sweeps the slow automata joined
        # through automata up to 4 below the slow level, and high-rank
        # restarts begin climbs near them. At n = 8 recall at 200k evaluations
        # rose from 0.741 to 0.894 (3 seeds); at n = 9 from 0.822 to 0.889 at
        # 1M (3 seeds); at n = 10, 11, 12 every known series was found by 200k
        # instead of 3-5 of 6-8 at 1M (one seed each). So they are on at
        # every size.
        self.copy_moves = bool(True if copy_moves is None else copy_moves)
        if closure_margin == "auto":
            closure_margin = 4
        if restart_kind is None:
            restart_kind = "high-rank"
        if closure_margin is not None and (not isinstance(closure_margin, (int, np.integer))
                                           or closure_margin < 0):
            raise SearchError(f"closure_margin must be an integer >= 0, got {closure_margin!r}")
        if int(closure_per_step) < 1:
            raise SearchError(f"closure_per_step must be positive, got {closure_per_step}")
        if restart_kind not in RESTART_KINDS:
            raise SearchError(f"restart_kind must be one of {', '.join(RESTART_KINDS)}, "
                              f"got {str(restart_kind)[:40]!r}")
        self.restart_kind = restart_kind
        self.closure_margin = None if closure_margin is None else int(closure_margin)
        self.closure_per_step = int(closure_per_step)
        self.closure_copies = bool(closure_copies)
        self.active = np.asarray([j for j, op in enumerate(OPERATORS)
                                  if (op != "near-identity" or self.near_identity)
                                  and (op != "copy" or self.copy_moves)])
        self.expand_evals = 0
        self.closure_evals = 0
        if not 0.0 < float(lift_share) <= 1.0:
            raise SearchError(f"lift_share must be in (0, 1], got {lift_share!r}")
        self.lift_share = float(lift_share)
        self.lift_sources = (lift_sources(lift_from, ctx.n_states, ctx.n_letters)
                             if lift_from is not None else np.zeros((0, ctx.n_letters,
                                                                     ctx.n_states - 1), np.int32))
        if int(lift_batch) < 1:
            raise SearchError(f"lift_batch must be positive, got {lift_batch}")
        self.lift_batch = int(lift_batch)
        if not isinstance(lift_arrows, (int, np.integer)) or not 1 <= lift_arrows <= 4:
            raise SearchError(f"lift_arrows must be an integer from 1 to 4, got {lift_arrows!r}")
        self.lift_arrows, self.lift_any_images = int(lift_arrows), bool(lift_any_images)
        self.lift_ranker = lift_ranker
        if closure_ranked and lift_ranker is None:
            raise SearchError("closure_ranked needs a lift_ranker")
        self.closure_ranked = bool(closure_ranked)
        self._pool_keys: set[bytes] = set()
        self.lift_pool: np.ndarray | None = None     # built on first use (see _lift_pool)
        self.lift_rt = np.zeros(0, dtype=np.int64)    # per pool member; NOT_LIFTED until done
        self.lift_evals = 0
        self.op_score = np.full(len(OPERATORS), 0.2)
        k, n = ctx.n_letters, ctx.n_states
        self.pop = np.zeros((0, k, n), dtype=np.int32)
        self.fit = np.zeros(0, dtype=np.int64)
        self.born = np.zeros(0, dtype=np.int64)
        self.gen = 0
        self.stall = 0
        self.pop_best = -1
        self.restarts = 0
        self.climb_start = 0

    # -- state ---------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"pop": self.pop, "fit": self.fit, "born": self.born, "gen": self.gen,
                "stall": self.stall, "pop_best": self.pop_best, "strength": self.strength,
                "restarts": self.restarts, "expanded": self.expanded,
                "expand_evals": self.expand_evals, "op_score": self.op_score,
                "climb_start": self.climb_start, "closure_evals": self.closure_evals,
                "lift_rt": self.lift_rt, "lift_evals": self.lift_evals,
                # A ranked closure grows the pool as the search goes: it is state.
                **({"lift_pool": self.lift_pool.astype(np.int8)}
                   if self.closure_ranked and self.lift_pool is not None else {}),
                **({"lift_ranker": np.frombuffer(self.lift_ranker.state(), dtype=np.uint8)}
                   if self.lift_ranker is not None and self.lift_ranker.trained else {})}

    def load_state_dict(self, state: dict) -> None:
        self.pop = np.asarray(state["pop"], dtype=np.int32)
        self.fit = np.asarray(state["fit"], dtype=np.int64)
        self.born = np.asarray(state["born"], dtype=np.int64)
        self.gen = int(state["gen"])
        self.stall = int(state["stall"])
        self.pop_best = int(state["pop_best"])
        self.strength = float(state["strength"])
        self.restarts = int(state["restarts"])
        self.expanded = np.asarray(state["expanded"], dtype=bool)
        self.expand_evals = int(state["expand_evals"])
        score = np.asarray(state["op_score"], dtype=np.float64)
        # States saved before an operator was added: the new one starts neutral.
        self.op_score = np.concatenate([score, np.full(len(OPERATORS) - len(score), 0.2)])
        self.climb_start = int(state.get("climb_start", 0))
        self.closure_evals = int(state.get("closure_evals", 0))
        self.lift_rt = np.asarray(state.get("lift_rt", np.zeros(0)), dtype=np.int64)
        self.lift_evals = int(state.get("lift_evals", 0))
        if "lift_pool" in state:
            self.lift_pool = np.asarray(state["lift_pool"], dtype=np.int32)
            self._pool_keys = set(keys_of(self.lift_pool))
        if self.lift_ranker is not None and "lift_ranker" in state:
            self.lift_ranker.load(np.asarray(state["lift_ranker"], dtype=np.uint8).tobytes())

    def seed(self, tables: np.ndarray, rts: np.ndarray) -> None:
        self._merge(np.asarray(tables, dtype=np.int32), np.asarray(rts, dtype=np.int64))

    # -- helpers -------------------------------------------------------------
    def _elite(self) -> tuple[np.ndarray, np.ndarray]:
        archive = self.ctx.archive
        idx = archive.top(self.elite_size)
        return archive.tables[idx].astype(np.int32), archive.rts[idx]

    def _random_batch(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        ctx = self.ctx
        draw = high_rank_tables if self.restart_kind == "high-rank" else random_tables
        canon, rts = ctx.evaluate(draw(m, ctx.n_states, ctx.n_letters, ctx.rng))
        keep = rts != NOT_EVALUATED
        return canon[keep], rts[keep]

    def _merge(self, tables: np.ndarray, rts: np.ndarray) -> None:
        """(μ+λ) survivor selection with deduplication; newer wins ties."""
        pool = np.concatenate([self.pop, tables])
        fit = np.concatenate([self.fit, rts])
        born = np.concatenate([self.born, np.full(len(tables), self.gen, dtype=np.int64)])
        keys = keys_of(pool)
        # Sort by fitness, then newest first; keep the first copy of each automaton.
        order = np.lexsort((-born, -fit))
        seen: set[bytes] = set()
        chosen = []
        for i in order:
            if keys[i] in seen:
                continue
            seen.add(keys[i])
            chosen.append(i)
            if len(chosen) == self.mu:
                break
        chosen = np.asarray(chosen, dtype=np.int64)
        self.pop, self.fit, self.born = pool[chosen], fit[chosen], born[chosen]

    def _restart(self) -> None:
        self.restarts += 1
        self.climb_start = self.ctx.archive.size
        elite_t, elite_r = self._elite()
        keep = min(len(elite_t), int(round(self.mu * self.restart_keep)))
        self.pop = np.zeros((0, self.ctx.n_letters, self.ctx.n_states), dtype=np.int32)
        self.fit = np.zeros(0, dtype=np.int64)
        self.born = np.zeros(0, dtype=np.int64)
        fresh_t, fresh_r = self._random_batch(self.mu)
        self._merge(np.concatenate([elite_t[:keep], fresh_t]),
                    np.concatenate([elite_r[:keep], fresh_r]))
        self.pop_best = int(self.fit.max()) if len(self.fit) else -1
        self.stall = 0
        if self.near_identity:
            # A fresh climb gets every operator back on an equal footing: the
            # near-identity jump pays off early in a climb, and scores earned
            # late in the last one would keep it at the floor.
            self.op_score = np.full(len(OPERATORS), 0.2)

    def _open(self) -> np.ndarray:
        """Flags of the archive members whose neighbourhood was enumerated, grown to its size."""
        size = self.ctx.archive.size
        if len(self.expanded) < size:
            self.expanded = np.concatenate(
                [self.expanded, np.zeros(size - len(self.expanded), dtype=bool)])
        return ~self.expanded[:size]

    def _neighbours(self, index: int, copies: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Mark archive member ``index`` expanded and evaluate its whole neighbourhood
        (the copy moves only when ``copies`` and :attr:`copy_moves`)."""
        self.expanded[index] = True
        table = self.ctx.archive.tables[index].astype(np.int32)
        return self.ctx.evaluate(self._neighbour_tables(table, self.expand_swaps, copies))

    def _neighbour_tables(self, table: np.ndarray, swaps: bool, copies: bool) -> np.ndarray:
        """The redirections of ``table``, with its image swaps when ``swaps`` and its copy
        moves when ``copies`` and :attr:`copy_moves`."""
        moves = [neighbourhood(table)]
        if swaps:
            moves.append(swap_neighbourhood(table))
        if self.copy_moves and copies:
            moves.append(copy_neighbourhood(table))
        return np.concatenate(moves)

    def _closure_open(self) -> np.ndarray:
        """Archive members at the closure's level whose neighbourhood is not enumerated
        yet, best first (ties: the earlier found)."""
        archive = self.ctx.archive
        level = h_level(self.ctx.n_states) - self.closure_margin
        open_idx = np.flatnonzero(self._open() & (archive.rts >= level))
        return open_idx[np.lexsort((open_idx, -archive.rts[open_idx]))]

    def _expand(self) -> None:
        """Evaluate the full neighbourhood of the best not-yet-expanded archive members."""
        archive = self.ctx.archive
        for _ in range(self.expand):
            if self.expand_evals > self.expand_share * archive.size:
                return
            open_idx = np.flatnonzero(self._open())
            if self.expand_merge:
                # Merged neighbourhoods feed the current climb: expanding the
                # best of earlier climbs would pull every fresh population back
                # into the basin the last one got stuck in.
                open_idx = open_idx[open_idx >= self.climb_start]
            if len(open_idx) == 0 or self.ctx.exhausted:
                return
            rts = archive.rts[open_idx]
            best = open_idx[np.lexsort((-open_idx, -rts))[0]]
            if archive.rts[best] < 0:
                return
            before = archive.size
            canon, rts = self._neighbours(int(best))
            self.expand_evals += archive.size - before
            if self.expand_merge:
                done = rts != NOT_EVALUATED
                self._merge(canon[done], rts[done])

    def _close(self) -> None:
        """Neighbourhood closure: enumerate the neighbourhood of every archive member
        with rt >= n²−4n+6 − ``closure_margin``, best first, ``closure_per_step`` per step.

        Slow automata are isolated peaks under single redirections, but many
        are joined through automata a few steps below the slow level; a flood
        fill over that region finds them once one is found. The archive's
        deduplication means no automaton is evaluated twice, and the
        ``expanded`` flags that no neighbourhood is enumerated twice.
        """
        if self.closure_margin is None:
            return
        if self.closure_ranked:
            self._close_into_pool()
            return
        archive = self.ctx.archive
        for _ in range(self.closure_per_step):
            if self.ctx.exhausted:
                return
            open_idx = self._closure_open()
            if len(open_idx) == 0:
                return
            best = open_idx[0]
            before = archive.size
            self._neighbours(int(best), copies=self.closure_copies)
            self.closure_evals += archive.size - before

    def _close_into_pool(self) -> None:
        """The ranked closure: the neighbourhoods of every open archive member at the
        closure's level join the lift pool instead of being evaluated whole, so that the
        ranker chooses among lifts and neighbours alike which to evaluate next."""
        archive = self.ctx.archive
        open_idx = self._closure_open()
        if len(open_idx) == 0:
            return
        self._lift_pool()
        fresh = []
        for index in open_idx:
            self.expanded[index] = True
            table = archive.tables[index].astype(np.int32)
            canon = self.ctx.canonical(self._neighbour_tables(table, True, self.closure_copies))
            for key, row in zip(keys_of(canon), canon):
                if key not in self._pool_keys and key not in archive:
                    self._pool_keys.add(key)
                    fresh.append(row)
        if fresh:
            self.lift_pool = np.concatenate([self.lift_pool, np.stack(fresh).astype(np.int32)])
            self.lift_rt = np.concatenate([self.lift_rt, np.full(len(fresh), NOT_LIFTED,
                                                                 dtype=np.int64)])

    def _lift_pool(self) -> np.ndarray:
        """Every distinct lift of the sources, canonical, in the sources' order (slowest
        first); the same on every run with the same sources, so a resume finds it again."""
        if self.lift_pool is None:
            keys: dict[bytes, np.ndarray] = {}
            for source in self.lift_sources:
                lifts = lift_neighbourhood(source, self.lift_arrows, self.lift_any_images)
                for table in self.ctx.canonical(lifts):
                    keys.setdefault(table.astype(np.int8).tobytes(), table)
            k, n = self.ctx.n_letters, self.ctx.n_states
            self.lift_pool = (np.stack(list(keys.values())).astype(np.int32) if keys
                              else np.zeros((0, k, n), dtype=np.int32))
            self._pool_keys = set(keys)
            if len(self.lift_rt) != len(self.lift_pool):
                self.lift_rt = np.full(len(self.lift_pool), NOT_LIFTED, dtype=np.int64)
        return self.lift_pool

    def _lift(self) -> None:
        """Evaluate the next ``lift_batch`` one-state lifts (:func:`lift_neighbourhood`) of
        the sources while lifts have used at most ``lift_share`` of the evaluations; the
        lifts join the population, the slow ones the closure.

        The next ones are the first not yet evaluated in the sources' order, or, with a
        ``lift_ranker``, the ones it ranks first (see :class:`LiftRanker`).
        """
        if not len(self.lift_sources) or self.ctx.exhausted:
            return
        if self.lift_evals > self.lift_share * self.ctx.archive.size:
            return
        pool = self._lift_pool()
        todo = np.flatnonzero(self.lift_rt == NOT_LIFTED)
        if len(todo) == 0:
            return
        if self.lift_ranker is not None:
            pick = self.lift_ranker.choose(pool, self.lift_rt, todo, self.lift_batch,
                                           self.ctx.rng)
        else:
            pick = todo[: self.lift_batch]
        before = self.ctx.archive.size
        canon, rts = self.ctx.evaluate(pool[pick])
        self.lift_evals += self.ctx.archive.size - before
        done = rts != NOT_EVALUATED
        self.lift_rt[pick[done]] = rts[done]
        if done.any():
            self._merge(canon[done], rts[done])

    # -- one generation --------------------------------------------------------
    def step(self) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        self.gen += 1
        self._lift()
        if len(self.pop):
            self._close()
        if self.expand and len(self.pop):
            self._expand()
        if len(self.pop) < 2:
            t, r = self._random_batch(self.mu)
            self._merge(t, r)
            self.pop_best = int(self.fit.max()) if len(self.fit) else -1
            return
        lam = self.lam
        fitness = self.fit.astype(np.float64)
        parents_idx = tournament(rng, fitness, lam, self.tsize)
        parents = self.pop[parents_idx]
        parent_fit = self.fit[parents_idx]
        # Some parents come from the global elite instead of the population.
        elite_t, elite_r = self._elite()
        from_elite = rng.random(lam) < self.elite_rate
        if from_elite.any() and len(elite_t):
            pick = rng.integers(0, len(elite_t), size=int(from_elite.sum()))
            parents[from_elite] = elite_t[pick]
            parent_fit[from_elite] = elite_r[pick]
        # Adaptive operator selection: each child gets one variation
        # operator, drawn with probabilities that follow recent success.
        score = self.op_score[self.active]
        probs = self.OPERATOR_FLOOR + (1 - len(score) * self.OPERATOR_FLOOR) * (
            score / score.sum())
        ops = self.active[rng.choice(len(score), size=lam, p=probs / probs.sum())]
        children = parents.copy()
        cx = ops == OPERATORS.index("crossover")
        if cx.any():
            mates = self.pop[tournament(rng, fitness, int(cx.sum()), self.tsize)]
            children[cx] = crossover(rng, parents[cx], mates)
        swaps = np.isin(ops, [OPERATORS.index("swap"), OPERATORS.index("swap+redirect")])
        children = swap_images(rng, children, swaps)
        children = redirect_unused(rng, children, ops == OPERATORS.index("unused"))
        children = near_identity(rng, children, ops == OPERATORS.index("near-identity"))
        children = copy_letter(rng, children, ops == OPERATORS.index("copy"))
        counts = np.zeros(lam, dtype=np.int64)
        plain = ops == OPERATORS.index("redirect")
        counts[plain] = 1 + rng.poisson(self.strength, size=int(plain.sum()))
        counts[np.isin(ops, [OPERATORS.index("swap+redirect"),
                             OPERATORS.index("crossover")])] = 1
        children = redirect(rng, children, counts)
        canon, rts = ctx.evaluate(children)
        new = ctx.last_new
        dup_rate = 1.0 - float(new.mean())
        done = rts != NOT_EVALUATED
        # Reward: improving on the parent counts fully, a new automaton as
        # good as the parent (a plateau step) a little.
        reward = np.where(rts > parent_fit, 1.0, np.where((rts == parent_fit) & new, 0.2, 0.0))
        for j in range(len(OPERATORS)):
            used = (ops == j) & done
            if used.any():
                self.op_score[j] = 0.8 * self.op_score[j] + 0.2 * float(reward[used].mean())
        self.op_score = np.maximum(self.op_score, 1e-3)
        canon, rts, parent_fit = canon[done], rts[done], parent_fit[done]
        if len(rts) == 0:
            return
        # Strength adaptation: a neighbourhood mostly already seen, or one
        # that keeps improving, calls for bolder moves.
        success = float(np.mean(rts > parent_fit))
        self.strength *= 1.15 if (success > 0.2 or dup_rate > 0.5) else 0.93
        self.strength = float(min(max(self.strength, 0.05), 4.0))
        self._merge(canon, rts)
        best = int(self.fit.max())
        if best > self.pop_best:
            self.pop_best = best
            self.stall = 0
        else:
            self.stall += 1
            if self.stall >= self.patience:
                self._restart()
