"""``boost``: a generative loop in the style of PatternBoost around the evolutionary search.

PatternBoost (Charton, Ellenberg, Wagner, Williamson 2024) alternates a
local search that produces many good objects with a generative model
trained on the best of them, whose samples seed the next local search.
Here:

* the local search is :class:`~seqvae.hunt.search.evolve.EvolutionarySearch`
  (its operators, neighbourhood expansions and restarts, unchanged);
* each time it restarts (its climb stalled), a *round* begins: the
  generative models are trained on the best ``train_top`` distinct automata
  found so far (the archive is distinct up to isomorphism by construction),
  their samples are scored, and the best of them become the new population
  instead of random automata;
* the models are

  - :class:`~seqvae.hunt.search.prior.TablePrior`, a small autoregressive GRU over the table entries in
    the automaton tokenizer's order (``δ(0,a) δ(0,b) δ(1,a) …``), optionally
    coded as offsets ``(δ(q,a) − q) mod n`` so that what it learns at one size
    reads the same at another (cycles are runs of ``1``, fixed points runs of
    ``0``), and conditioned on the position only through ``q/(n−1)`` and
    ``1/n``: a prior trained at n = 7, 8 samples at n = 9, 10;
  - the project's VAE, fine-tuned with rank weights on the same automata
    (weighted retraining), whose latent tools — steps around elites, polar
    interpolation between elites, a CEM Gaussian and ascent on the rt head —
    stay as proposal operators (:class:`~seqvae.hunt.search.latent_search.LatentSearch`).

``transfer_from`` (automata of any size, e.g. the slow automata of smaller
n) pre-trains the prior, and the VAE when its vocabulary covers them, before
the first round: cross-size transfer.

Budget: only exact evaluations of new distinct automata count (samples the
archive already holds are free), exactly as for the other methods. Model
training costs wall time, not budget.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from seqvae.hunt.search.baselines import SearchMethod
from seqvae.hunt.search.config import BoostConfig, EvolveConfig
from seqvae.hunt.search.core import NOT_EVALUATED, SearchContext, h_level, keys_of
from seqvae.hunt.search.evolve import EvolutionarySearch
from seqvae.hunt.search.latent_search import LatentSearch
from seqvae.hunt.search.lifts import LiftRanker

# Read from here before they had modules of their own (scripts/bench_transfer.py).
from seqvae.hunt.search.prior import TablePrior, from_offsets, to_offsets
from seqvae.hunt.search.sources import load_transfer_tables
from seqvae.proposals import rank_weights

__all__ = ["BoostSearch", "TablePrior", "SeededEvolution", "load_transfer_tables",
           "to_offsets", "from_offsets"]


class SeededEvolution(EvolutionarySearch):
    """The evolutionary search, restarting from seeds a callback supplies instead of random automata.

    ``seeder()`` returns ``(tables, rts)`` of evaluated automata (or None to
    fall back to a random restart).
    """

    def __init__(self, ctx: SearchContext, seeder: Callable[[], tuple | None],
                 config: EvolveConfig | None = None, *, lift_ranker: LiftRanker | None = None):
        super().__init__(ctx, config, lift_ranker=lift_ranker)
        self.seeder = seeder

    def _restart(self) -> None:
        start = self.ctx.archive.size
        seeds = self.seeder()
        if seeds is None or len(seeds[0]) < 2:
            super()._restart()
            return
        self.restarts += 1
        self.climb_start = start
        k, n = self.ctx.n_letters, self.ctx.n_states
        self.pop = np.zeros((0, k, n), dtype=np.int32)
        self.fit = np.zeros(0, dtype=np.int64)
        self.born = np.zeros(0, dtype=np.int64)
        self._merge(*seeds)
        self.pop_best = int(self.fit.max()) if len(self.fit) else -1
        self.stall = 0
        if self.near_identity:
            self.op_score = np.full(len(self.op_score), 0.2)


class BoostSearch(SearchMethod):
    """PatternBoost-style loop: evolutionary climbs seeded by generative models (see module doc).

    Parameters
    ----------
    ctx : SearchContext
    config : BoostConfig, optional
        The options (keywords of :class:`~seqvae.hunt.search.config.BoostConfig` apply
        over it); the defaults when None. Its fields:

        ``transfer_from`` (files or DFAs, any sizes) pre-trains the models before the
        first round. The generative models learn from the ``train_top`` best distinct
        automata with rank weights ``1 / (k·N + rank)``, ``k = train_k`` (large k:
        nearly uniform). Each round draws ``prior_samples`` candidates from the prior
        and ``vae_samples`` from the VAE's latent tools, after ``prior_steps`` and
        ``vae_steps`` training steps (warm start; ``transfer_steps`` for pre-training);
        ``temperature`` is the prior's sampling temperature, ``offsets`` its coding
        (see :class:`~seqvae.hunt.search.prior.TablePrior`). ``new_share`` of the new
        population is reserved to automata no earlier climb had found (the rest: the
        best samples, known or not). Rounds start once ``min_train`` synchronizing
        automata are known. With ``transfer_from``, the pre-trained prior first writes
        ``transfer_samples`` candidates at the searched size, the best of which are
        the first population (zero-shot transfer).

        With ``rank_lifts`` and ``evolve.lift_from`` (one-state lifts of smaller
        automata, see :mod:`~seqvae.hunt.search.lifts`), a learned reset-length
        surrogate (:class:`~seqvae.hunt.search.lifts.LiftRanker`, options ``ranker``)
        chooses which lifts are evaluated first, instead of the sources' order (and
        the lifts default to ``lift_arrows=2, lift_any_images=True, lift_share=1.0``).
        With ``rank_closure`` the closure's neighbourhoods join that pool too, and the
        surrogate chooses among both.

        Besides the restarts, a round also starts after ``round_every`` evaluations
        without one (0: only at restarts); its samples then join the running
        population, and the slow ones the best-first expansions. ``evolve`` and
        ``latent`` are the options of the local search and of the latent proposals.
    model : path, optional
        Trained VAE run directory (its vocabulary may cover several sizes);
        without it a small VAE is trained on random automata first
        (``vae_samples > 0`` only).
    log : callable, optional
    device : torch.device, optional
        Where the VAE runs.
    """

    name = "boost"
    config_class = BoostConfig

    def __init__(self, ctx: SearchContext, config: BoostConfig | None = None, *,
                 model: str | None = None, log: Callable[[str], None] | None = None,
                 device=None, **options):
        latent = options.get("latent_options")
        if isinstance(latent, dict) and "device" in latent:
            # The keyword form has always carried the device among the latent options.
            device = latent["device"] if device is None else device
            latent = {k: v for k, v in latent.items() if k != "device"}
            if latent:
                options["latent_options"] = latent
            else:
                del options["latent_options"]
        super().__init__(ctx, config, **options)
        c = self.config
        self.log = log
        self.last_round_at = 0
        self.transfer = (load_transfer_tables(c.transfer_from, ctx.n_letters)
                         if c.transfer_from is not None else [])
        max_states = max([ctx.n_states] + [g.shape[2] for g in self.transfer])
        self.prior = (TablePrior(max_states, ctx.n_letters, hidden=c.prior_hidden,
                                 offsets=c.offsets, seed=0) if c.prior_samples else None)
        self.latent = (LatentSearch(ctx, c.latent_proposals(), model=model, log=log,
                                    device=device) if c.vae_samples else None)
        ranker = (LiftRanker(c.ranker.min_train, **c.ranker.surrogate_options())
                  if c.ranked else None)
        self.evolve = SeededEvolution(ctx, self._round, c.local_search(), lift_ranker=ranker)
        self.rounds = 0
        self.pretrained = False
        self.history: list[dict] = []   # per round: samples, new, best sample rt

    # -- state ---------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {"evolve": self.evolve.state_dict(), "rounds": self.rounds,
                 "last_round_at": self.last_round_at,
                 "pretrained": self.pretrained,
                 "history": np.asarray([[h["new"], h["best"], h["slow_new"]]
                                        for h in self.history], dtype=np.int64).reshape(-1, 3)}
        if self.prior is not None and self.prior.trained_steps:
            state["prior_bytes"] = self._prior_bytes
        if self.latent is not None:
            state["latent"] = self.latent.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.evolve.load_state_dict(state["evolve"])
        self.rounds = int(state["rounds"])
        self.last_round_at = int(state["last_round_at"])
        self.pretrained = bool(state["pretrained"])
        self.history = [{"new": int(a), "best": int(b), "slow_new": int(c)}
                        for a, b, c in np.asarray(state["history"]).reshape(-1, 3)]
        if self.prior is not None and "prior_bytes" in state:
            self.prior.load(state["prior_bytes"])
            self._prior_bytes = state["prior_bytes"]
        if self.latent is not None and "latent" in state:
            self.latent.load_state_dict(state["latent"])

    def seed(self, tables: np.ndarray, rts: np.ndarray) -> None:
        self.evolve.seed(tables, rts)

    # -- one step: the local search; rounds happen inside its restarts ----------------
    def step(self) -> None:
        if not self.pretrained:
            self._pretrain()
        if self.config.round_every and self.ctx.archive.size - self.last_round_at >= self.config.round_every:
            self.last_round_at = self.ctx.archive.size
            seeds = self._round()
            if seeds is not None:
                self.evolve._merge(*seeds)
                return
        self.evolve.step()

    def _pretrain(self) -> None:
        """Cross-size transfer: learn the given automata before any round."""
        self.pretrained = True
        if not self.transfer:
            return
        rng = self.ctx.rng
        if self.prior is not None:
            loss = self.prior.fit(self.transfer, steps=self.config.transfer_steps,
                                  seed=int(rng.integers(2**31)))
            self._prior_bytes = self.prior.state()
            if self.log:
                sizes = ", ".join(f"{len(g)} at n={g.shape[2]}" for g in self.transfer)
                self.log(f"prior pre-trained on {sizes} (loss {loss:.3f})")
        if self.latent is not None:
            self.latent._ensure_model()
            tok = self.latent.run.tokenizer
            usable = [g for g in self.transfer
                      if g.shape[2] <= getattr(tok, "max_states", 0)]
            if usable:
                from automata.dfa import DFA
                from seqvae.runs import fine_tune

                items = [DFA(t) for g in usable for t in g]
                self.latent.run = fine_tune(self.latent.run, items, None,
                                            steps=self.latent.config.retrain_steps * 2,
                                            seed=int(rng.integers(2**31)))
                self.latent.run.model.eval()
                self.latent.model_bytes = self.latent._serialise(self.latent.run.model)
        if self.prior is not None and self.config.transfer_samples:
            ctx = self.ctx
            tables = self.prior.sample(self.config.transfer_samples, ctx.n_states, ctx.n_letters,
                                       temperature=self.config.temperature,
                                       seed=int(rng.integers(2**31)))
            before = ctx.archive.size
            canon, rts = ctx.evaluate(tables)
            done = rts != NOT_EVALUATED
            self.evolve.seed(canon[done], rts[done])
            if self.log and done.any():
                slow = int(np.sum(ctx.archive.rts[before:] >= h_level(ctx.n_states)))
                self.log(f"transfer: {len(tables)} samples, {ctx.archive.size - before} distinct,"
                         f" best rt {int(rts[done].max())}, {slow} at rt >= "
                         f"{h_level(ctx.n_states)}")

    def _training_set(self) -> tuple[np.ndarray, np.ndarray]:
        archive = self.ctx.archive
        order = [i for i in archive.top(min(self.config.train_top, archive.size))
                 if archive.rts[i] >= 0]
        tables = archive.tables[order].astype(np.int32)
        return tables, rank_weights(len(order), self.config.train_k) if order else np.zeros(0)

    def _round(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Train on the best automata, sample, score: the seeds of the next climb."""
        ctx = self.ctx
        if ctx.exhausted:
            return None
        tables, weights = self._training_set()
        if len(tables) < self.config.min_train:
            return None
        rng = ctx.rng
        before = self.last_round_at = ctx.archive.size
        known = set(keys_of(ctx.archive.tables[:before]))
        samples = []
        if self.prior is not None and self.config.prior_samples:
            groups, group_w = [tables], [weights]
            if self.transfer:
                # Keep the transferred patterns in view, at a tenth of the weight.
                for g in self.transfer:
                    groups.append(g)
                    group_w.append(np.full(len(g), 0.1 / max(1, sum(map(len, self.transfer)))))
            self.prior.fit(groups, group_w, steps=self.config.prior_steps,
                           seed=int(rng.integers(2**31)))
            self._prior_bytes = self.prior.state()
            samples.append(self.prior.sample(self.config.prior_samples, ctx.n_states, ctx.n_letters,
                                             temperature=self.config.temperature,
                                             seed=int(rng.integers(2**31))))
        if self.latent is not None and self.config.vae_samples:
            self.latent._ensure_model()
            self.latent._retrain()
            proposed = self.latent.propose(self.config.vae_samples)
            if len(proposed):
                samples.append(proposed)
        if not samples:
            return None
        canon, rts = ctx.evaluate(np.concatenate(samples))
        done = rts != NOT_EVALUATED
        canon, rts = canon[done], rts[done]
        if len(canon) == 0:
            return None
        keys = keys_of(canon)
        uniq = {}
        for i, key in enumerate(keys):
            uniq.setdefault(key, i)
        idx = np.fromiter(uniq.values(), dtype=np.int64)
        is_new = np.asarray([keys[i] not in known for i in idx])
        mu = self.evolve.mu
        # Fresh automata first (a climb from a known one repeats an old climb),
        # then the best samples overall.
        new_idx = idx[is_new][np.argsort(-rts[idx[is_new]], kind="stable")]
        chosen = list(new_idx[: int(round(mu * self.config.new_share))])
        rest = [i for i in idx[np.argsort(-rts[idx], kind="stable")] if i not in set(chosen)]
        chosen += rest[: mu - len(chosen)]
        chosen = np.asarray(chosen, dtype=np.int64)
        self.rounds += 1
        slow_new = int(np.sum(ctx.archive.rts[before:] >= h_level(ctx.n_states)))
        self.history.append({"new": int(ctx.archive.size - before),
                             "best": int(rts.max()), "slow_new": slow_new})
        if self.log:
            self.log(f"boost round {self.rounds}: trained on {len(tables)} automata "
                     f"(best rt {int(ctx.archive.rts[ctx.archive.top(1)[0]])}); "
                     f"{len(canon)} samples, {ctx.archive.size - before} new, best sample rt "
                     f"{int(rts.max())}, {slow_new} new at rt >= {h_level(ctx.n_states)}")
        return canon[chosen], rts[chosen]
