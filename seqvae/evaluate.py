"""Evaluation of a trained run: reconstruction, prior samples, likelihood, latent use.

:func:`evaluate` returns one flat JSON-safe dict (what ``seqvae eval --json``
prints). Keys:

``decoding``
    The run's point decoder (:meth:`~seqvae.runs.Run.use_decoding`: greedy by
    default, or beam search, with the grammar constraint and valid-first).
``reconstruction_exact``
    Share of held-out items whose (constrained) decode of the latent mean, by the
    run's point decoder, reproduces the token sequence exactly.
``reconstruction_exact_unconstrained``
    The same without the decode constraint.
``reconstruction_sampled``
    The encode x decode protocol: each item is encoded ``encodes`` times
    (z ~ q(z|x)) and each z decoded ``decodes`` times with temperature-1
    sampling; the share of exact matches.
``reconstruction_posterior``
    Each of the same items encoded ``encodes`` times (z ~ q(z|x)) and each z
    decoded once by the run's point decoder: how far from the mean a code still
    decodes to its molecule, without the decoder's sampling noise.
``prior_well_formed`` / ``prior_well_formed_unconstrained``
    Share of decodes of z ~ N(0, I) that parse (with / without the constraint).
``prior_synchronizing``, ``prior_strongly_connected``
    Shares among all constrained prior decodes (only where the domain scores
    them, see :attr:`~seqvae.domains.Domain.score_fields`).
``prior_unique``
    Distinct canonical keys / well-formed constrained decodes.
``prior_novel``
    Share of the distinct well-formed decodes whose key is not a training key.
``prior_reset_length_hist`` / ``train_reset_length_hist``, ``reset_length_tv``
    Reset-length distributions (share per length) and their total-variation distance.
``reconstruction``
    ``{"greedy_exact", "sampled", "posterior", "protocol"}``: the reconstruction figures
    together, on a seeded random sample of the evaluation items.
``validity``, ``unique@1000``, ``unique@10000``, ``novelty``, ``intdiv1``, ...
    The domain's own metrics (:meth:`~seqvae.domains.Domain.extra_metrics`):
    the MOSES metrics for molecule runs.
``iwae_nll``
    Importance-weighted estimate of -log p(x) (nats, mean over held-out items).
``kl``, ``kl_per_dim``, ``active_units``
    Mean KL(q(z|x) || p(z)) on held-out items, per dimension, and the number of
    dimensions with Cov_x E_q[z_u] > 0.01.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Sequence

import numpy as np
import torch

from seqvae.errors import DataError
from seqvae.model import iwae_nll, kl_divergence
from seqvae.runs import Run
from seqvae.scoring import ScoreCache, score_decodes
from seqvae.screening import screen_items
from seqvae.train import pad_sequences

__all__ = ["REQUIRED_KEYS", "evaluate", "sample_items", "reconstruction", "reconstruction_sampled",
           "reconstruction_posterior",
           "latent_stats", "prior_samples", "train_reset_lengths"]

REQUIRED_KEYS = ("reconstruction_exact", "prior_well_formed", "prior_well_formed_unconstrained",
                 "prior_synchronizing", "prior_unique", "prior_novel", "active_units")


def _hist(values: Sequence[int]) -> dict[str, float]:
    if len(values) == 0:
        return {}
    counts = Counter(int(v) for v in values)
    total = sum(counts.values())
    return {str(k): counts[k] / total for k in sorted(counts)}


def _tv(a: dict[str, float], b: dict[str, float]) -> float | None:
    if not a or not b:
        return None
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)


def _token_ids(run: Run, items: Sequence) -> list[list[int]]:
    """Token ids of items (or their text form), canonicalised by the run's domain."""
    return [run.tokenizer.encode(i) for i in run.domain.prepare(items)]


def reconstruction(run: Run, items: Sequence, *, constrained: bool = True,
                   method: str | None = None, batch_size: int = 512) -> float:
    """Share of ``items`` whose decode of the latent mean reproduces the tokens exactly
    (``method`` None: the run's point decoder, :meth:`~seqvae.runs.Run.use_decoding`)."""
    return _reconstruction(run, _token_ids(run, items), constrained=constrained, method=method,
                           batch_size=batch_size)


def _reconstruction(run: Run, ref: list[list[int]], *, constrained: bool = True,
                    method: str | None = None, batch_size: int = 512) -> float:
    if not ref:
        return float("nan")
    mu, _ = run.encode_ids(ref, batch_size=batch_size)
    out = run.decode(mu, method=method, constrained=constrained)
    return float(np.mean([a == b for a, b in zip(out, ref)]))


def reconstruction_sampled(run: Run, items: Sequence, *, encodes: int = 10, decodes: int = 10,
                           seed: int = 0, temperature: float = 1.0) -> float:
    """The encode x decode protocol: z ~ q(z|x) ``encodes`` times, each decoded
    ``decodes`` times by sampling; share of exact reconstructions."""
    return _reconstruction_sampled(run, _token_ids(run, items), encodes=encodes,
                                   decodes=decodes, seed=seed, temperature=temperature)


def _reconstruction_sampled(run: Run, ref: list[list[int]], *, encodes: int, decodes: int,
                            seed: int, temperature: float = 1.0) -> float:
    if not ref:
        return float("nan")
    z = _posterior_draws(run, ref, encodes, seed)
    z = np.repeat(z, decodes, axis=0)
    out = run.decode(z, method="sample", temperature=temperature, seed=seed)
    per = encodes * decodes
    hits = [out[i] == ref[i // per] for i in range(len(out))]
    return float(np.mean(hits))


def _posterior_draws(run: Run, ref: list[list[int]], encodes: int, seed: int) -> np.ndarray:
    """``encodes`` draws z ~ q(z|x) per item, item-major, shape (len(ref) * encodes, d_z)."""
    mu, lv = run.encode_ids(ref)
    rng = np.random.default_rng(seed)
    std = np.exp(0.5 * lv)
    z = (mu[:, None, :] + rng.standard_normal((len(ref), encodes, run.d_z)) * std[:, None, :])
    return z.reshape(-1, run.d_z).astype(np.float32)


def reconstruction_posterior(run: Run, items: Sequence, *, encodes: int = 10,
                             seed: int = 0) -> float:
    """Share of exact reconstructions when each item is encoded ``encodes`` times
    (z ~ q(z|x)) and each z is decoded once by the run's point decoder (greedy, or
    the beam of :meth:`~seqvae.runs.Run.use_decoding`)."""
    return _reconstruction_posterior(run, _token_ids(run, items), encodes=encodes, seed=seed)


def _reconstruction_posterior(run: Run, ref: list[list[int]], *, encodes: int,
                              seed: int) -> float:
    if not ref:
        return float("nan")
    out = run.decode(_posterior_draws(run, ref, encodes, seed))
    hits = [out[i] == ref[i // encodes] for i in range(len(out))]
    return float(np.mean(hits))


@torch.no_grad()
def latent_stats(run: Run, items: Sequence, *, iwae_samples: int = 50, iwae_items: int = 500,
                 seed: int = 0) -> dict:
    """KL, KL per dimension, active units and the IWAE NLL on ``items``."""
    return _latent_stats(run, _token_ids(run, items), iwae_samples=iwae_samples,
                         iwae_items=iwae_items, seed=seed)


@torch.no_grad()
def _latent_stats(run: Run, ref: list[list[int]], *, iwae_samples: int, iwae_items: int,
                  seed: int) -> dict:
    if not ref:
        return {"kl": None, "kl_per_dim": [], "active_units": 0, "iwae_nll": None}
    mu, lv = run.encode_ids(ref)
    kl = kl_divergence(torch.from_numpy(mu), torch.from_numpy(lv)).numpy()
    var = mu.var(axis=0, ddof=1) if len(mu) > 1 else np.zeros(run.d_z)
    with torch.random.fork_rng(devices=[]):  # seeded draws; the global generator untouched
        torch.manual_seed(seed)
        nll = []
        sub = ref[:iwae_items]
        for start in range(0, len(sub), 64):
            x, _ = pad_sequences(sub[start:start + 64], run.model_config.pad_id)
            nll.append(iwae_nll(run.model, x.to(run.device), k=iwae_samples).cpu().numpy())
    return {"kl": float(kl.sum(1).mean()),
            "kl_per_dim": [round(float(v), 5) for v in kl.mean(0)],
            "active_units": int((var > 0.01).sum()),
            "iwae_nll": float(np.concatenate(nll).mean()) if nll else None}


def prior_samples(run: Run, count: int = 1000, *, seed: int = 0, method: str | None = None,
                  temperature: float = 1.0, train_reset_lengths: Sequence[int] | None = None
                  ) -> dict:
    """Quality of decodes of z ~ N(0, I): well-formedness, validity, uniqueness, novelty."""
    z = run.sample_prior(count, seed=seed)
    con = run.decode_parsed(z, method=method, constrained=True, temperature=temperature, seed=seed)
    unc = run.decode_parsed(z, method=method, constrained=False, temperature=temperature,
                            seed=seed)
    scorer = ScoreCache(run.domain)
    scorer.prefill([p.item for p in con if p.ok])
    ok = [r for r in score_decodes(con, run.domain, train_keys=run.train_keys, scorer=scorer)
          if r["well_formed"]]
    distinct = {r["key"] for r in ok}
    out = {
        "prior_samples": int(count),
        "prior_method": method or run.decoding.method,
        "prior": run.prior_name,
        "prior_scale": run.prior_scale,
        "prior_well_formed": float(np.mean([p.ok for p in con])) if con else None,
        "prior_well_formed_unconstrained": float(np.mean([p.ok for p in unc])) if unc else None,
        "prior_unique": len(distinct) / len(ok) if ok else None,
        "prior_novel": (len({r["key"] for r in ok if r["novel"]}) / len(distinct)
                        if distinct else None),
    }
    # Automata facts only where the domain scores them: a strings run has no such fields.
    if "synchronizing" in run.domain.score_fields:
        out["prior_synchronizing"] = (sum(bool(r["synchronizing"]) for r in ok) / len(con)
                                      if con else None)
        out["prior_strongly_connected"] = (sum(bool(r["strongly_connected"]) for r in ok)
                                           / len(con) if con else None)
        rts = [r["reset_length"] for r in ok if r["synchronizing"]]
        out["prior_reset_length_hist"] = _hist(rts)
        out["prior_reset_length_mean"] = float(np.mean(rts)) if rts else None
        if train_reset_lengths is not None:
            train_hist = _hist(train_reset_lengths)
            out["train_reset_length_hist"] = train_hist
            out["train_reset_length_mean"] = (float(np.mean(train_reset_lengths))
                                              if len(train_reset_lengths) else None)
            out["reset_length_tv"] = _tv(out["prior_reset_length_hist"], train_hist)
    return out


def sample_items(items: Sequence, count: int, seed: int = 0) -> list:
    """A seeded random sample of ``count`` items (all of them, shuffled, when fewer).

    >>> sample_items(list(range(10)), 3, seed=0) == sample_items(list(range(10)), 3, seed=0)
    True
    >>> sorted(sample_items([1, 2, 3], 5))
    [1, 2, 3]
    """
    items = list(items)
    if count < 0:
        raise DataError(f"count must be >= 0, got {count}")
    pick = np.random.default_rng(seed).permutation(len(items))[:count]
    return [items[i] for i in pick]


def train_reset_lengths(run: Run, limit: int = 20000, seed: int = 0) -> list[int]:
    """Reset lengths of (up to ``limit``, a random subset of) the training automata
    (those that have one)."""
    items = run.train_items
    if not items:
        return []
    if len(items) > limit:
        pick = np.random.default_rng(seed).choice(len(items), limit, replace=False)
        items = [items[i] for i in pick]
    return [int(s["reset_length"]) for s in run.domain.score_many(items)
            if s.get("reset_length") is not None]


def evaluate(run: Run, items: Sequence | None = None, *, max_items: int = 2000,
             prior_count: int = 1000, sampled_items: int = 100, encodes: int = 10,
             decodes: int = 10, iwae_samples: int = 50, iwae_items: int = 500, seed: int = 0,
             metric_samples: int = 10000, metric_options: dict | None = None,
             progress: Callable[[int], None] | None = None) -> dict:
    """All metrics of ``seqvae eval`` (see the module docstring for the keys).

    Parameters
    ----------
    run : Run
    items : sequence or None
        Evaluation items (default: the run's held-out items); a seeded random sample
        of ``max_items`` of them is used (files are often ordered).
    prior_count : int
        Latent points drawn from the prior.
    sampled_items, encodes, decodes
        Size of the encode x decode reconstruction protocol.
    iwae_samples, iwae_items
        Importance samples and items of the IWAE estimate.
    metric_samples : int
        Prior decodes for the domain's own metrics (the MOSES metrics for
        molecules, :meth:`~seqvae.domains.Domain.extra_metrics`); 0 skips them.
    metric_options : dict or None
        Keyword options of those metrics (molecules: ``fcd=False`` skips FCD).
    seed : int
    progress : callable, optional
        Called with the number of finished stages (of 5).
    """
    t0 = time.perf_counter()
    stored = items is None
    items = sample_items(list(run.heldout_items if stored else items), max_items, seed)
    skipped = 0
    if stored:
        # Items stored in a run directory are data: one that can no longer be prepared
        # (an edited file, an over-limit molecule) is skipped and counted, not fatal.
        screened = screen_items(run.domain, items, max_tokens=run.model_config.max_len)
        items, skipped = screened.items, screened.n_skipped
    ref = _token_ids(run, items)  # canonicalised and tokenized once for every metric
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done)

    out: dict = {"eval_items": len(items), "eval_items_skipped": skipped,
                 "decoding": run.decoding.to_dict()}
    out["reconstruction_exact"] = _reconstruction(run, ref) if ref else None
    out["reconstruction_exact_unconstrained"] = (_reconstruction(run, ref, constrained=False)
                                                 if ref else None)
    tick()
    # `ref` is already a seeded random sample, so its first items are a random subset too.
    out["reconstruction_sampled"] = (_reconstruction_sampled(
        run, ref[:sampled_items], encodes=encodes, decodes=decodes, seed=seed)
        if ref else None)
    out["reconstruction_posterior"] = (_reconstruction_posterior(
        run, ref[:sampled_items], encodes=encodes, seed=seed) if ref else None)
    out["reconstruction_protocol"] = (f"{min(len(items), sampled_items)} random items x "
                                      f"{encodes} encodes x {decodes} decodes")
    out["reconstruction"] = {"greedy_exact": out["reconstruction_exact"],
                             "sampled": out["reconstruction_sampled"],
                             "posterior": out["reconstruction_posterior"],
                             "protocol": out["reconstruction_protocol"]}
    tick()
    rts = (train_reset_lengths(run, seed=seed) if "reset_length" in run.domain.score_fields
           else None)
    out.update(prior_samples(run, prior_count, seed=seed, train_reset_lengths=rts))
    tick()
    out.update(_latent_stats(run, ref, iwae_samples=iwae_samples, iwae_items=iwae_items,
                             seed=seed))
    tick()
    if metric_samples:
        out.update(run.domain.extra_metrics(run, items, samples=metric_samples, seed=seed,
                                            **(metric_options or {})))
    out["d_z"] = run.d_z
    out["seconds"] = round(time.perf_counter() - t0, 2)
    tick()
    return out
