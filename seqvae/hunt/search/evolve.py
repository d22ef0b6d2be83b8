"""``evolve``: a (μ+λ) evolutionary search over transition tables with an elite archive.

The tuned baseline every other method must beat, and the local search inside
``hybrid`` and ``boost``: the variation operators of :mod:`.moves`, best-first
neighbourhood expansions, the neighbourhood closure, restarts, and the one-state
lifts of :mod:`.lifts`.
"""
from __future__ import annotations

import numpy as np

from automata.generate import random_tables
from seqvae.hunt.search.baselines import SearchMethod
from seqvae.hunt.search.config import RESTART_KINDS, EvolveConfig, OptionError
from seqvae.hunt.search.core import NOT_EVALUATED, SearchContext, h_level, keys_of
from seqvae.hunt.search.lifts import LiftPool, LiftRanker, lift_sources
from seqvae.hunt.search.moves import (
    copy_letter,
    copy_neighbourhood,
    crossover,
    high_rank_tables,
    near_identity,
    neighbourhood,
    redirect,
    redirect_unused,
    swap_images,
    swap_neighbourhood,
    tournament,
)

__all__ = ["EvolutionarySearch", "OPERATORS", "RESTART_KINDS"]

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
    config_class = EvolveConfig
    OPERATOR_FLOOR = 0.05

    def __init__(self, ctx: SearchContext, config: EvolveConfig | None = None, *,
                 lift_ranker: LiftRanker | None = None, **options):
        super().__init__(ctx, config, **options)
        c = self.config
        self.mu, self.lam, self.tsize = c.population, c.offspring, c.tournament_size
        self.elite_rate, self.elite_size = float(c.elite_rate), c.elite_size
        self.strength, self.patience, self.expand = float(c.strength), c.patience, c.expand
        self.expanded = np.zeros(0, dtype=bool)
        # Defaults tuned on scripts/bench_search.py: up to 8 states the
        # neighbourhoods are small and enumerating them (swaps included) is what
        # finds nearly every slow automaton; beyond, a neighbourhood costs
        # ~2n² evaluations and independent climbs pay more, so expansions get a
        # smaller share and feed the population they serve.
        small = ctx.n_states <= 8
        self.expand_share = float(c.expand_share if c.expand_share is not None
                                  else (0.5 if small else 0.25))
        self.restart_keep = float(c.restart_keep)
        self.expand_swaps = bool(small if c.expand_swaps is None else c.expand_swaps)
        self.expand_merge = bool((not small) if c.expand_merge is None else c.expand_merge)
        # Beyond 8 states the population rarely climbs on its own to automata
        # whose letters split the work (one keeps every state apart, one merges
        # a single pair); the near-identity move jumps there directly. Up to 8
        # states enumeration already finds them, and the move would only take
        # children away from it.
        self.near_identity = bool((not small) if c.near_identity is None else c.near_identity)
        # The copy move, the closure and high-rank restarts are on by default (see
        # EvolveConfig), measured with scripts/bench_search.py: the copy move reaches
        # the W_n/D′_n/D″_n group, the closure sweeps the slow automata joined
        # through automata up to 4 below the slow level, and high-rank restarts
        # begin climbs near them. At n = 8 recall at 200k evaluations rose from
        # 0.741 to 0.894 (3 seeds); at n = 9 from 0.822 to 0.889 at 1M (3 seeds);
        # at n = 10, 11, 12 every known series was found by 200k instead of 3-5 of
        # 6-8 at 1M (one seed each).
        self.copy_moves = bool(c.copy_moves)
        self.restart_kind = c.restart_kind
        self.closure_margin = c.closure_margin
        self.closure_per_step, self.closure_copies = c.closure_per_step, bool(c.closure_copies)
        if c.closure_ranked and lift_ranker is None:
            raise OptionError("closure_ranked", "needs a lift_ranker")
        self.closure_ranked = bool(c.closure_ranked)
        self.active = np.asarray([j for j, op in enumerate(OPERATORS)
                                  if (op != "near-identity" or self.near_identity)
                                  and (op != "copy" or self.copy_moves)])
        self.expand_evals = 0
        self.closure_evals = 0
        sources = (lift_sources(c.lift_from, ctx.n_states, ctx.n_letters)
                   if c.lift_from is not None
                   else np.zeros((0, ctx.n_letters, ctx.n_states - 1), np.int32))
        self.lifts = LiftPool(ctx, sources, arrows=c.lift_arrows or 1,
                              any_images=bool(c.lift_any_images),
                              share=0.5 if c.lift_share is None else c.lift_share,
                              batch=c.lift_batch, ranker=lift_ranker)
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
                **self.lifts.state_dict()}

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
        self.lifts.load_state_dict(state)

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
        canon = []
        for index in open_idx:
            self.expanded[index] = True
            table = archive.tables[index].astype(np.int32)
            canon.append(self.ctx.canonical(self._neighbour_tables(table, True,
                                                                   self.closure_copies)))
        self.lifts.extend(np.concatenate(canon))

    def _lift(self) -> None:
        """Evaluate the next batch of the lift pool (:class:`~.lifts.LiftPool`); the lifts
        join the population, the slow ones the closure."""
        found = self.lifts.evaluate_next()
        if found is not None and len(found[0]):
            self._merge(*found)

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
