"""Latent-space search: propose automata by decoding points of a trained VAE's latent space.

Per step, a pool of latent points is built from

* prior samples ``z ~ N(0, I)`` (some refined by one encode–decode round),
* Gaussian steps around the latent means of the elite (best automata so far),
* polar interpolation between two elites, ``√a·z₁ + √(1−a)·z₂``,
* a cross-entropy-method Gaussian fitted to the elite's latent means,
* gradient ascent on a property head (an MLP predicting the reset length
  from ``z``, trained on the ``(μ, rt)`` pairs of everything evaluated),

the head ranks the pool, the best points are decoded (constrained, so
every decode is a well-formed automaton of the right size), and the decodes
are scored exactly through the shared context (canonicalised, duplicates
free). Every ``retrain_every`` steps the VAE itself is fine-tuned on the
best automata found so far with rank weights ``1 / (kN + rank)`` (weighted
retraining, Tripp et al. 2020), which moves the latent space towards the
region that matters.

Without a trained model, a small one is first trained on random
synchronizing automata of the searched size; their reset lengths are never
used (only the automata), so that data costs no budget.

``hybrid`` runs the same proposals and polishes them with the evolutionary
search of :mod:`.evolve`, which shares the archive and so mutates
whatever the decoder found.

The proposal sources are the ones every latent search shares
(:mod:`seqvae.proposals`); this module mixes them, and keeps the property head
and weighted retraining, which share the method's state.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

import numpy as np

from seqvae.errors import SearchError
from seqvae.hunt.search.baselines import SearchMethod
from seqvae.hunt.search.config import HybridConfig, LatentConfig
from seqvae.hunt.search.core import SearchContext
from seqvae.hunt.search.evolve import EvolutionarySearch
from seqvae.proposals import (
    PropertyHead,
    cem_samples,
    head_ascent,
    perturbed_elites,
    polar_interpolation,
    rank_weights,
)

__all__ = ["START_MODEL", "LatentSearch", "HybridSearch", "train_start_model"]

#: Training set and schedule of the starting model when no --model is given.
START_MODEL = dict(count=3000, epochs=4, d_z=16, dec_hidden=128, enc_hidden=128, batch_size=64)


def train_start_model(n_states: int, n_letters: int, seed: int, *, count: int | None = None,
                      epochs: int | None = None, log: Callable[[str], None] | None = None,
                      out_dir: str | Path | None = None):
    """A small VAE trained on random synchronizing automata of one size (no reset lengths used)."""
    from seqvae.hunt.datasets import build_automata_dataset
    from seqvae.hunt.domain import AutomataDomain
    from seqvae.hunt.tokenizer import AutomatonTokenizer
    from seqvae.runs import train

    cfg = dict(START_MODEL)
    count = int(count or cfg["count"])
    epochs = int(epochs or cfg["epochs"])
    if log:
        log(f"training a starting model on {count} random synchronizing automata "
            f"({epochs} epochs)")
    df = build_automata_dataset(n_states, n_letters, count, seed=seed)
    from automata.formats import parse_compact

    items = [parse_compact(s) for s in df["item"]]
    domain = AutomataDomain(AutomatonTokenizer(max_states=n_states, max_letters=n_letters))
    steps_per_epoch = max(1, len(items) // cfg["batch_size"])
    total = steps_per_epoch * epochs
    last = [0]

    def on_log(record: dict) -> None:
        if log and "epoch" in record and "val_elbo" in record and record.get("epoch") != last[0]:
            last[0] = record.get("epoch")
            log(f"  epoch {record['epoch']}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in record.items()
                if isinstance(v, float) and k in ("loss", "recon", "kl", "val_elbo")))

    run = train(items, domain, out_dir=out_dir,
                model_config=dict(d_z=cfg["d_z"], dec_hidden=cfg["dec_hidden"],
                                  enc_hidden=cfg["enc_hidden"], dec_layers=1),
                train_config=dict(epochs=epochs, batch_size=cfg["batch_size"], seed=seed,
                                  val_fraction=0.05, test_fraction=0.0, patience=0,
                                  kl_schedule="linear", kl_warmup_steps=max(1, total // 2),
                                  kl_max=0.5, warmup_steps=min(50, total // 4)),
                on_log=on_log)
    return run


class LatentSearch(SearchMethod):
    """Latent-space search with a property head and weighted retraining (see module doc).

    Parameters
    ----------
    ctx : SearchContext
    config : LatentConfig, optional
        The options (keywords of :class:`~seqvae.hunt.search.config.LatentConfig`
        apply over it).
    model : path, optional
        Trained run directory; without it a starting model is trained first.
    log : callable, optional
    device : torch.device, optional
        Where the VAE runs (None: where it was loaded, the CPU).
    """

    name = "vae"
    config_class: type = LatentConfig

    def __init__(self, ctx: SearchContext, config: LatentConfig | None = None, *,
                 model: str | None = None, log: Callable[[str], None] | None = None,
                 device=None, **options):
        super().__init__(ctx, config, **options)
        self.model_dir = model
        self.device = device
        self.log = log
        # sigma adapts as the search goes (it is state); the rest stays the config's.
        self.sigma = float(self.config.sigma)
        self.run = None
        self.head: PropertyHead | None = None
        self.step_no = 0
        self.retrains = 0
        self.model_bytes: bytes | None = None   # weights once they differ from the start model
        self.start_dir: str | None = None       # where a self-trained start model was saved
        self.z_data = np.zeros((0, 0), dtype=np.float32)
        self.z_index = np.zeros(0, dtype=np.int64)   # archive index of each row of z_data

    # -- state ---------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {"step_no": self.step_no, "retrains": self.retrains, "sigma": self.sigma,
                 "z_data": self.z_data, "z_index": self.z_index,
                 "start_dir": self.start_dir or ""}
        if self.model_bytes is not None:
            state["model_bytes"] = self.model_bytes
        if self.head is not None:
            state["head_bytes"] = self._head_bytes
        return state

    def load_state_dict(self, state: dict) -> None:
        self.step_no = int(state["step_no"])
        self.retrains = int(state["retrains"])
        self.sigma = float(state["sigma"])
        self.z_data = np.asarray(state["z_data"], dtype=np.float32)
        self.z_index = np.asarray(state["z_index"], dtype=np.int64)
        self.start_dir = state["start_dir"] or None
        self.model_bytes = state.get("model_bytes")
        self._pending_head = state.get("head_bytes")
        self.run = None

    # -- model -----------------------------------------------------------------
    def _ensure_model(self) -> None:
        if self.run is not None:
            return
        import torch

        from seqvae.runs import load_run

        ctx = self.ctx
        c = self.config
        if self.model_dir is not None:
            run = load_run(self.model_dir)
        elif self.start_dir is not None:
            run = load_run(self.start_dir)
        else:
            out = ctx.out_dir / "start_model" if ctx.out_dir is not None else None
            seed = int(ctx.rng.integers(2**31))
            run = train_start_model(ctx.n_states, ctx.n_letters, seed, count=c.start_count,
                                    epochs=c.start_epochs, log=self.log, out_dir=out)
            self.start_dir = str(out) if out is not None else None
            if out is None:
                # Nowhere to reload it from: keep its weights in the state.
                self.model_bytes = self._serialise(run.model)
        tok = run.tokenizer
        if getattr(tok, "max_states", ctx.n_states) < ctx.n_states or \
                getattr(tok, "max_letters", ctx.n_letters) < ctx.n_letters:
            raise SearchError(
                f"the model's vocabulary covers at most {tok.max_states} states and "
                f"{tok.max_letters} letters; the search needs {ctx.n_states} and {ctx.n_letters}")
        if self.model_bytes is not None:
            # Saved on whatever device the search ran on: read onto the CPU,
            # then moved to this search's device below.
            state = torch.load(io.BytesIO(self.model_bytes), map_location="cpu",
                               weights_only=True)
            run.model.load_state_dict(state)
            run.model.eval()
        if self.device is not None:
            run.to(self.device)
        self.run = run
        self.head = PropertyHead(run.d_z, seed=self.step_no)
        pending = getattr(self, "_pending_head", None)
        if pending is not None:
            self.head.load(pending)
            self._pending_head = None
        self._head_bytes = self.head.state()
        if self.z_data.shape[1] != run.d_z:
            self.z_data = np.zeros((0, run.d_z), dtype=np.float32)

    @staticmethod
    def _serialise(model) -> bytes:
        import torch

        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        return buf.getvalue()

    def _encode_tables(self, tables: np.ndarray) -> np.ndarray:
        from automata.dfa import DFA

        if len(tables) == 0:
            return np.zeros((0, self.run.d_z), dtype=np.float32)
        ids = [self.run.tokenizer.encode(DFA(t)) for t in tables]
        mu, _ = self.run.encode_ids(ids)
        return mu.astype(np.float32)

    def _decode(self, z: np.ndarray, sample_mask: np.ndarray) -> np.ndarray:
        """Decode latent points to canonical tables (m, k, n)."""
        ctx = self.ctx
        spec = dict(n_states=ctx.n_states, n_letters=ctx.n_letters)
        ids: list = [None] * len(z)
        greedy = np.flatnonzero(~sample_mask)
        sampled = np.flatnonzero(sample_mask)
        if len(greedy):
            for i, s in zip(greedy, self.run.decode(z[greedy], method="greedy", **spec)):
                ids[i] = s
        if len(sampled):
            seed = int(ctx.rng.integers(2**31))
            for i, s in zip(sampled, self.run.decode(z[sampled], method="sample", temperature=0.8,
                                                      seed=seed, **spec)):
                ids[i] = s
        parsed = self.run.domain.parse_many(ids)
        tables = [np.asarray(p.item.delta) for p in parsed if p.ok]
        if not tables:
            return np.zeros((0, ctx.n_letters, ctx.n_states), dtype=np.int32)
        return np.stack(tables).astype(np.int32)

    # -- data for the head and for retraining ------------------------------------
    def _record(self, start: int) -> None:
        """Encode the automata evaluated since archive index ``start``."""
        archive = self.ctx.archive
        if archive.size <= start:
            return
        tables = archive.tables[start:archive.size].astype(np.int32)
        mu = self._encode_tables(tables)
        self.z_data = np.concatenate([self.z_data, mu])
        self.z_index = np.concatenate([self.z_index, np.arange(start, archive.size)])

    def _elite(self) -> tuple[np.ndarray, np.ndarray]:
        """Latent means and reset lengths of the best automata with a latent code."""
        if len(self.z_index) == 0:
            return np.zeros((0, self.run.d_z), dtype=np.float32), np.zeros(0, dtype=np.int64)
        rts = self.ctx.archive.rts[self.z_index]
        order = np.lexsort((self.z_index, -rts))[: self.config.elite_size]
        order = order[rts[order] >= 0]
        return self.z_data[order], rts[order]

    def _fit_head(self) -> None:
        if len(self.z_data) < 32:
            return
        rts = self.ctx.archive.rts[self.z_index].astype(np.float64)
        y = np.maximum(rts, 0.0)  # non-synchronizing counts as the lowest score
        rng = self.ctx.rng
        # At most 8000 rows: all the best plus a uniform sample of the rest.
        if len(y) > 8000:
            best = np.argsort(-y, kind="stable")[:2000]
            rest = rng.choice(np.setdiff1d(np.arange(len(y)), best), 6000, replace=False)
            idx = np.concatenate([best, rest])
        else:
            idx = np.arange(len(y))
        self.head.fit(self.z_data[idx], y[idx], seed=int(rng.integers(2**31)))
        self._head_bytes = self.head.state()

    def _retrain(self) -> None:
        """Weighted retraining of the VAE on the best automata found so far."""
        from automata.dfa import DFA
        from seqvae.runs import fine_tune

        archive = self.ctx.archive
        order = archive.top(min(self.config.retrain_top, archive.size))
        order = [i for i in order if archive.rts[i] >= 0]
        if len(order) < 16:
            return
        items = [DFA(archive.tables[i].astype(np.int32)) for i in order]
        weights = rank_weights(len(items), self.config.retrain_k)
        seed = int(self.ctx.rng.integers(2**31))
        self.run = fine_tune(self.run, items, weights, steps=self.config.retrain_steps,
                             seed=seed)
        self.run.model.eval()
        self.model_bytes = self._serialise(self.run.model)
        self.retrains += 1
        if self.log:
            self.log(f"weighted retraining #{self.retrains} on the top {len(items)} automata "
                     f"(best rt {int(archive.rts[order[0]])})")
        # The latent space moved: re-encode what the head learns from.
        keep = np.asarray(self.ctx.archive.top(min(archive.size, 6000)), dtype=np.int64)
        if archive.size > len(keep):
            others = np.setdiff1d(np.arange(archive.size), keep)
            extra = self.ctx.rng.choice(others, min(len(others), 4000), replace=False)
            keep = np.concatenate([keep, np.sort(extra)])
        self.z_index = keep
        self.z_data = self._encode_tables(archive.tables[keep].astype(np.int32))
        self._fit_head()

    # -- proposals ---------------------------------------------------------------
    def _pool(self, size: int) -> np.ndarray:
        """``size`` latent points: prior draws, and around the elites a third Gaussian steps
        (better elites chosen more often), a quarter polar interpolations and the rest
        draws of a CEM Gaussian fitted to the top quarter of the elites."""
        rng = self.ctx.rng
        elite_z, _ = self._elite()
        n_prior = (max(1, int(round(size * self.config.prior_share))) if len(elite_z)
                   else size)
        parts = [rng.standard_normal((n_prior, self.run.d_z))]
        rest = size - n_prior
        if rest > 0 and len(elite_z):
            n_local, n_polar = rest // 3, rest // 4
            w = rank_weights(len(elite_z), 0.05)
            parts.append(perturbed_elites(elite_z, n_local, self.sigma, rng, w))
            parts.append(polar_interpolation(elite_z, n_polar, rng, w))
            top = elite_z[: max(2, len(elite_z) // 4)]
            parts.append(cem_samples(top, rest - n_local - n_polar, rng, 0.1 * self.sigma))
        return np.concatenate(parts).astype(np.float32)

    def propose(self, count: int) -> np.ndarray:
        """``count`` decoded candidate tables (canonical, possibly repeating)."""
        self._ensure_model()
        rng = self.ctx.rng
        c = self.config
        pool = self._pool(count * c.pool_factor if self.head.trained else count)
        if self.head.trained:
            elite_z, _ = self._elite()
            if len(elite_z) and c.ascent_steps:
                climbed = head_ascent(self.head, elite_z, max(1, count // 8), rng,
                                      steps=c.ascent_steps, lr=0.3 * self.sigma,
                                      radius=2 * self.sigma)
                pool = np.concatenate([pool, climbed.astype(np.float32)])
            # The head ranks the pool; a quarter is kept at random for exploration.
            score = self.head.predict(pool)
            n_best = count - count // 4
            best = np.argsort(-score, kind="stable")[:n_best]
            others = np.setdiff1d(np.arange(len(pool)), best)
            extra = rng.choice(others, min(len(others), count - n_best), replace=False)
            pool = pool[np.concatenate([best, extra])]
        sample_mask = rng.random(len(pool)) < c.sample_share
        tables = self._decode(pool, sample_mask)
        # Encode–decode refinement of a few prior-like points pulls them onto the data manifold.
        n_ref = min(len(tables), count // 8)
        if n_ref:
            idx = rng.choice(len(tables), n_ref, replace=False)
            z2 = self._encode_tables(tables[idx])
            tables = np.concatenate([tables, self._decode(z2, np.zeros(n_ref, dtype=bool))])
        return tables

    def step(self) -> None:
        self._ensure_model()
        ctx = self.ctx
        self.step_no += 1
        start = ctx.archive.size
        tables = self.propose(self.config.batch)
        if len(tables):
            dup_before = ctx.duplicates
            ctx.evaluate(tables)
            dup_rate = (ctx.duplicates - dup_before) / len(tables)
            # Mostly known automata: look further afield.
            self.sigma = float(np.clip(self.sigma * (1.1 if dup_rate > 0.6 else 0.97), 0.05, 2.0))
        self._record(start)
        if self.step_no % self.config.head_every == 0:
            self._fit_head()
        if self.config.retrain_every and self.step_no % self.config.retrain_every == 0:
            self._retrain()


class HybridSearch(LatentSearch):
    """Latent proposals polished by the evolutionary search (shared archive)."""

    name = "hybrid"
    config_class = HybridConfig

    def __init__(self, ctx: SearchContext, config: HybridConfig | None = None, *,
                 model: str | None = None, log: Callable[[str], None] | None = None,
                 device=None, **options):
        super().__init__(ctx, config, model=model, log=log, device=device, **options)
        self.evolve = EvolutionarySearch(ctx, self.config.evolve)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["evolve"] = self.evolve.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.evolve.load_state_dict(state["evolve"])

    def seed(self, tables: np.ndarray, rts: np.ndarray) -> None:
        self.evolve.seed(tables, rts)

    def step(self) -> None:
        ctx = self.ctx
        start = ctx.archive.size
        super().step()
        # Decoded automata join the population the local search works on.
        new = slice(start, ctx.archive.size)
        tables = ctx.archive.tables[new].astype(np.int32)
        rts = ctx.archive.rts[new]
        if len(tables):
            self.evolve._merge(tables, rts)
        if not ctx.exhausted:
            mid = ctx.archive.size
            self.evolve.step()
            self._record(mid)
