"""``boost``: a generative loop in the style of PatternBoost around the evolutionary search.

PatternBoost (Charton, Ellenberg, Wagner, Williamson 2024) alternates a
local search that produces many good objects with a generative model
trained on the best of them, whose samples seed the next local search.
Here:

* the local search is :class:`~seqvae.hunt.search.baselines.EvolutionarySearch`
  (its operators, neighbourhood expansions and restarts, unchanged);
* each time it restarts (its climb stalled), a *round* begins: the
  generative models are trained on the best ``train_top`` distinct automata
  found so far (the archive is distinct up to isomorphism by construction),
  their samples are scored, and the best of them become the new population
  instead of random automata;
* the models are

  - :class:`TablePrior`, a small autoregressive GRU over the table entries in
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

from typing import Callable, Sequence

import numpy as np

from seqvae.hunt.search.baselines import EvolutionarySearch, LiftRanker, SearchMethod
from seqvae.hunt.search.core import NOT_EVALUATED, SearchContext, keys_of
from seqvae.hunt.search.latent_search import LatentSearch
from seqvae.hunt.search.sources import load_transfer_tables  # re-exported: read here before it had a module
from seqvae.proposals import rank_weights
from seqvae.smallnets import NetStateMixin

__all__ = ["BoostSearch", "TablePrior", "SeededEvolution", "load_transfer_tables",
           "to_offsets", "from_offsets"]


def _torch():
    # torch is imported on first use; the thread count is the caller's (the command line's).
    import torch

    return torch


def to_offsets(tables: np.ndarray) -> np.ndarray:
    """Code each transition as the offset ``(δ(q,a) − q) mod n``.

    >>> to_offsets(np.array([[[1, 2, 0], [0, 1, 2]]])).tolist()
    [[[1, 1, 1], [0, 0, 0]]]
    """
    tables = np.asarray(tables)
    n = tables.shape[-1]
    return (tables - np.arange(n)) % n


def from_offsets(offsets: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_offsets`.

    >>> from_offsets(np.array([[[1, 1, 1], [0, 0, 0]]])).tolist()
    [[[1, 2, 0], [0, 1, 2]]]
    """
    offsets = np.asarray(offsets)
    n = offsets.shape[-1]
    return (offsets + np.arange(n)) % n


class TablePrior(NetStateMixin):
    """A small autoregressive GRU over transition tables of one or several sizes.

    The sequence of a table ``(k, n)`` is its entries in the tokenizer's order
    (state by state, letter by letter). The input at position ``t`` (state
    ``q``, letter ``a``) is the embedding of the previous entry, plus the
    embedding of ``a``, plus a linear map of ``(q/(n−1), 1/n)``; the output is
    a distribution over the ``n`` possible values (values ``>= n`` masked).

    Parameters
    ----------
    max_states, max_letters : int
        Largest size the prior reads or writes.
    hidden, emb : int
        GRU width and embedding width.
    offsets : bool
        Model ``(δ(q,a) − q) mod n`` instead of ``δ(q,a)`` (size-free patterns).
    seed : int
        Seed of the weight initialisation.

    Examples
    --------
    >>> prior = TablePrior(5, 2, hidden=16, emb=8)
    >>> t = np.array([[[1, 2, 3, 4, 0], [0, 1, 2, 3, 0]]])
    >>> _ = prior.fit([t], steps=60, seed=0)
    >>> prior.sample(4, 5, 2, seed=0).shape
    (4, 2, 5)
    """

    def __init__(self, max_states: int, max_letters: int, *, hidden: int = 128, emb: int = 32,
                 offsets: bool = True, seed: int = 0):
        if max_states < 2 or max_letters < 1:
            raise ValueError("a table prior needs at least 2 states and 1 letter")
        torch = _torch()
        self.max_states, self.max_letters = int(max_states), int(max_letters)
        self.offsets = bool(offsets)
        nn = torch.nn
        with torch.random.fork_rng(devices=[]):  # seeded weights; the global generator untouched
            torch.manual_seed(int(seed))
            self.net = nn.ModuleDict({
                "tok": nn.Embedding(self.max_states + 1, emb),     # last id = start of sequence
                "letter": nn.Embedding(self.max_letters, emb),
                "pos": nn.Linear(2, emb),
                "gru": nn.GRU(emb, hidden, batch_first=True),
                "out": nn.Linear(hidden, self.max_states),
            })
        self.opt = torch.optim.Adam(self.net.parameters(), lr=3e-3)
        self.trained_steps = 0

    # -- sequences -------------------------------------------------------------
    def _inputs(self, n: int, k: int, prev):
        """GRU inputs (m, k·n, emb) for tables of size (k, n) given previous entries."""
        torch = _torch()
        t = torch.arange(k * n)
        q = (t // k).float()
        pos = torch.stack([q / max(n - 1, 1), torch.full_like(q, 1.0 / n)], dim=1)
        return (self.net["tok"](prev) + self.net["letter"](t % k)[None]
                + self.net["pos"](pos)[None])

    def _targets(self, tables: np.ndarray) -> np.ndarray:
        """Entries (m, k·n) in sequence order, offsets coded if asked."""
        coded = to_offsets(tables) if self.offsets else np.asarray(tables)
        return np.ascontiguousarray(np.transpose(coded, (0, 2, 1))).reshape(len(coded), -1)

    def _logits(self, n: int, k: int, targets):
        torch = _torch()
        start = torch.full((targets.shape[0], 1), self.max_states, dtype=torch.long)
        prev = torch.cat([start, targets[:, :-1]], dim=1)
        h, _ = self.net["gru"](self._inputs(n, k, prev))
        logits = self.net["out"](h)
        if n < self.max_states:
            logits[..., n:] = float("-inf")
        return logits

    # -- training ----------------------------------------------------------------
    def fit(self, groups: Sequence[np.ndarray], weights: Sequence[np.ndarray] | None = None, *,
            steps: int = 200, batch_size: int = 128, seed: int = 0) -> float:
        """``steps`` Adam steps of teacher-forced cross-entropy (warm start).

        ``groups`` holds arrays of tables, one array per size ``(m, k, n)``;
        ``weights`` (one array per group, any scale) are the sampling weights
        of the rows, uniform when None. Returns the last batch's mean loss.
        """
        torch = _torch()
        groups = [np.asarray(g) for g in groups if len(g)]
        if not groups:
            raise ValueError("nothing to train the prior on")
        for g in groups:
            if g.ndim != 3 or g.shape[2] > self.max_states or g.shape[1] > self.max_letters:
                raise ValueError(f"tables of shape {g.shape[1:]} do not fit this prior")
        if weights is None:
            weights = [np.ones(len(g)) for g in groups]
        flat_w = np.concatenate([np.asarray(w, dtype=np.float64) for w in weights])
        flat_w = flat_w / flat_w.sum()
        owner = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)])
        row = np.concatenate([np.arange(len(g)) for g in groups])
        targets = [torch.as_tensor(self._targets(g), dtype=torch.long) for g in groups]
        rng = np.random.default_rng(seed)
        self.net.train()
        loss_value = 0.0
        for _ in range(int(steps)):
            pick = rng.choice(len(flat_w), size=min(batch_size, len(flat_w)), p=flat_w)
            loss = 0.0
            for gi in np.unique(owner[pick]).tolist():
                rows = torch.as_tensor(row[pick[owner[pick] == gi]])
                k, n = groups[gi].shape[1:]
                y = targets[gi][rows]
                logits = self._logits(n, k, y)
                part = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, self.max_states), y.reshape(-1), reduction="sum")
                loss = loss + part / (len(pick) * k * n)
            self.opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            self.opt.step()
            loss_value = float(loss.detach())
        self.trained_steps += int(steps)
        self.net.eval()
        return loss_value

    # -- sampling ------------------------------------------------------------------
    def sample(self, count: int, n_states: int, n_letters: int, *, temperature: float = 0.8,
               seed: int = 0) -> np.ndarray:
        """``count`` tables ``(count, n_letters, n_states)`` drawn entry by entry."""
        torch = _torch()
        n, k = int(n_states), int(n_letters)
        if n > self.max_states or k > self.max_letters:
            raise ValueError(f"the prior covers at most {self.max_states} states and "
                             f"{self.max_letters} letters")
        gen = torch.Generator().manual_seed(int(seed))
        out = torch.zeros((count, k * n), dtype=torch.long)
        prev = torch.full((count, 1), self.max_states, dtype=torch.long)
        h = None
        with torch.no_grad():
            t_all = torch.arange(k * n)
            q_all = (t_all // k).float()
            pos = self.net["pos"](torch.stack(
                [q_all / max(n - 1, 1), torch.full_like(q_all, 1.0 / n)], dim=1))
            let = self.net["letter"](t_all % k)
            for t in range(k * n):
                x = self.net["tok"](prev) + let[t] + pos[t]
                y, h = self.net["gru"](x, h)
                logits = self.net["out"](y[:, 0])[:, :n]
                probs = torch.softmax(logits / max(temperature, 1e-3), dim=1)
                nxt = torch.multinomial(probs, 1, generator=gen)
                out[:, t] = nxt[:, 0]
                prev = nxt
        seq = out.numpy().reshape(count, n, k).transpose(0, 2, 1)
        tables = from_offsets(seq) if self.offsets else seq
        return np.ascontiguousarray(tables, dtype=np.int32)


class SeededEvolution(EvolutionarySearch):
    """The evolutionary search, restarting from seeds a callback supplies instead of random automata.

    ``seeder()`` returns ``(tables, rts)`` of evaluated automata (or None to
    fall back to a random restart).
    """

    def __init__(self, ctx: SearchContext, seeder: Callable[[], tuple | None], **options):
        super().__init__(ctx, **options)
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
    model : path, optional
        Trained VAE run directory (its vocabulary may cover several sizes);
        without it a small VAE is trained on random automata first
        (``vae_samples > 0`` only).
    log : callable, optional
    transfer_from : path, DFA or list of them, optional
        Automata (any sizes) that pre-train the models before the first round.
    train_top : int
        The generative models learn from this many best distinct automata.
    train_k : float
        Rank weights ``1 / (k·N + rank)`` over them (large k: nearly uniform).
    prior_samples, vae_samples : int
        Candidates drawn per round from the prior and from the VAE's latent tools.
    prior_steps, vae_steps : int
        Training steps per round (warm start); ``transfer_steps`` for pre-training.
    temperature : float
        Sampling temperature of the prior.
    offsets : bool
        Offset coding of the prior (see :class:`TablePrior`).
    new_share : float
        Share of the new population reserved to automata no earlier climb had
        found (the rest: the best samples, known or not).
    min_train : int
        Rounds start only once this many synchronizing automata are known.
    transfer_samples : int
        With ``transfer_from``: candidates the pre-trained prior writes at the
        searched size before anything else; the best of them are the first
        population (zero-shot transfer).
    rank_lifts : bool
        With ``evolve_options["lift_from"]`` (one-state lifts of smaller automata, see
        :meth:`~seqvae.hunt.search.baselines.EvolutionarySearch._lift`): a learned reset-length
        surrogate (:class:`~seqvae.hunt.search.baselines.LiftRanker`) chooses which lifts are
        evaluated first, instead of the sources' order (and the lifts default to
        ``lift_arrows=2, lift_any_images=True, lift_share=1.0``); ``lift_ranker_options`` are its
        keywords (``min_train``, and the surrogate's). With ``rank_closure`` the
        closure's neighbourhoods join that pool too, and the surrogate chooses among
        both (``closure_ranked`` of the evolutionary search).
    round_every : int
        Besides the restarts, a round also starts after this many evaluations
        without one (0: only at restarts); its samples then join the running
        population, and the slow ones the best-first expansions.
    evolve_options, latent_options : dict
        Options of the local search and of the latent proposals.
    """

    name = "boost"

    def __init__(self, ctx: SearchContext, model: str | None = None,
                 log: Callable[[str], None] | None = None, transfer_from=None,
                 train_top: int = 3000, train_k: float = 0.05, prior_samples: int = 512,
                 vae_samples: int = 128, prior_steps: int = 100, vae_steps: int = 30,
                 transfer_steps: int = 600, temperature: float = 0.8, offsets: bool = True,
                 prior_hidden: int = 64, new_share: float = 0.75, min_train: int = 256,
                 round_every: int = 0, transfer_samples: int = 2000,
                 rank_lifts: bool = True, lift_ranker_options: dict | None = None,
                 rank_closure: bool = False,
                 evolve_options: dict | None = None,
                 latent_options: dict | None = None, **options):
        super().__init__(ctx, **options)
        self.log = log
        self.train_top = int(train_top)
        self.train_k = float(train_k)
        self.prior_samples = int(prior_samples)
        self.vae_samples = int(vae_samples)
        self.prior_steps = int(prior_steps)
        self.transfer_steps = int(transfer_steps)
        self.temperature = float(temperature)
        self.new_share = float(new_share)
        self.min_train = int(min_train)
        self.round_every = int(round_every)
        self.transfer_samples = int(transfer_samples)
        self.last_round_at = 0
        self.transfer = (load_transfer_tables(transfer_from, ctx.n_letters)
                         if transfer_from is not None else [])
        max_states = max([ctx.n_states] + [g.shape[2] for g in self.transfer])
        self.prior = (TablePrior(max_states, ctx.n_letters, hidden=prior_hidden, offsets=offsets,
                                 seed=0) if self.prior_samples else None)
        self.latent = (LatentSearch(ctx, model=model, log=log,
                                    **dict(dict(retrain_steps=vae_steps, retrain_top=train_top,
                                                retrain_k=train_k), **(latent_options or {})))
                       if self.vae_samples else None)
        evolve_options = dict(evolve_options or {})
        if rank_lifts and evolve_options.get("lift_from") is not None:
            evolve_options["lift_ranker"] = LiftRanker(**(lift_ranker_options or {}))
            # A ranked pool can afford the wider lifts: measured at n = 8 (3 seeds), 90 %
            # recall after 20k evaluations with these, 40k with the minimal lifts.
            evolve_options.setdefault("lift_arrows", 2)
            evolve_options.setdefault("lift_any_images", True)
            evolve_options.setdefault("lift_share", 1.0)
            evolve_options["closure_ranked"] = bool(rank_closure)
        self.evolve = SeededEvolution(ctx, self._round, **evolve_options)
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
        if self.round_every and self.ctx.archive.size - self.last_round_at >= self.round_every:
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
            loss = self.prior.fit(self.transfer, steps=self.transfer_steps,
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
                                            steps=self.latent.retrain_steps * 2,
                                            seed=int(rng.integers(2**31)))
                self.latent.run.model.eval()
                self.latent.model_bytes = self.latent._serialise(self.latent.run.model)
        if self.prior is not None and self.transfer_samples:
            ctx = self.ctx
            tables = self.prior.sample(self.transfer_samples, ctx.n_states, ctx.n_letters,
                                       temperature=self.temperature,
                                       seed=int(rng.integers(2**31)))
            before = ctx.archive.size
            canon, rts = ctx.evaluate(tables)
            done = rts != NOT_EVALUATED
            self.evolve.seed(canon[done], rts[done])
            if self.log and done.any():
                from seqvae.hunt.search.core import h_level

                slow = int(np.sum(ctx.archive.rts[before:] >= h_level(ctx.n_states)))
                self.log(f"transfer: {len(tables)} samples, {ctx.archive.size - before} distinct,"
                         f" best rt {int(rts[done].max())}, {slow} at rt >= "
                         f"{h_level(ctx.n_states)}")

    def _training_set(self) -> tuple[np.ndarray, np.ndarray]:
        archive = self.ctx.archive
        order = [i for i in archive.top(min(self.train_top, archive.size))
                 if archive.rts[i] >= 0]
        tables = archive.tables[order].astype(np.int32)
        return tables, rank_weights(len(order), self.train_k) if order else np.zeros(0)

    def _round(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Train on the best automata, sample, score: the seeds of the next climb."""
        ctx = self.ctx
        if ctx.exhausted:
            return None
        tables, weights = self._training_set()
        if len(tables) < self.min_train:
            return None
        rng = ctx.rng
        before = self.last_round_at = ctx.archive.size
        known = set(keys_of(ctx.archive.tables[:before]))
        samples = []
        if self.prior is not None and self.prior_samples:
            groups, group_w = [tables], [weights]
            if self.transfer:
                # Keep the transferred patterns in view, at a tenth of the weight.
                for g in self.transfer:
                    groups.append(g)
                    group_w.append(np.full(len(g), 0.1 / max(1, sum(map(len, self.transfer)))))
            self.prior.fit(groups, group_w, steps=self.prior_steps,
                           seed=int(rng.integers(2**31)))
            self._prior_bytes = self.prior.state()
            samples.append(self.prior.sample(self.prior_samples, ctx.n_states, ctx.n_letters,
                                             temperature=self.temperature,
                                             seed=int(rng.integers(2**31))))
        if self.latent is not None and self.vae_samples:
            self.latent._ensure_model()
            self.latent._retrain()
            proposed = self.latent.propose(self.vae_samples)
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
        chosen = list(new_idx[: int(round(mu * self.new_share))])
        rest = [i for i in idx[np.argsort(-rts[idx], kind="stable")] if i not in set(chosen)]
        chosen += rest[: mu - len(chosen)]
        chosen = np.asarray(chosen, dtype=np.int64)
        self.rounds += 1
        from seqvae.hunt.search.core import h_level

        slow_new = int(np.sum(ctx.archive.rts[before:] >= h_level(ctx.n_states)))
        self.history.append({"new": int(ctx.archive.size - before),
                             "best": int(rts.max()), "slow_new": slow_new})
        if self.log:
            self.log(f"boost round {self.rounds}: trained on {len(tables)} automata "
                     f"(best rt {int(ctx.archive.rts[ctx.archive.top(1)[0]])}); "
                     f"{len(canon)} samples, {ctx.archive.size - before} new, best sample rt "
                     f"{int(rts.max())}, {slow_new} new at rt >= {h_level(ctx.n_states)}")
        return canon[chosen], rts[chosen]
