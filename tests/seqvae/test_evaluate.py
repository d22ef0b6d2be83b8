"""Evaluation metrics: keys, ranges, and facts that pin them down."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from automata.dfa import DFA
from automata.generate import random_tables
from seqvae.evaluate import (
    REQUIRED_KEYS,
    evaluate,
    latent_stats,
    prior_samples,
    reconstruction,
    reconstruction_posterior,
)
from seqvae.hunt.domain import AutomataDomain
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.runs import train
from seqvae.strings import StringDomain
from seqvae.tokenizers import CharTokenizer

torch.set_num_threads(1)
SMALL = dict(d_z=4, enc_hidden=24, dec_z_dim=8, dec_hidden=24, dec_layers=1, embed_dim=8,
             conv_channels=(8,), conv_kernels=(3,))


@pytest.fixture(scope="module")
def run():
    dom = AutomataDomain(AutomatonTokenizer(4, 2))
    items = [DFA(t) for t in random_tables(160, 4, 2, np.random.default_rng(0))]
    return train(items, dom, model_config=SMALL,
                 train_config=dict(epochs=2, batch_size=32, test_fraction=0.1))


def test_evaluate_keys_and_ranges(run):
    out = evaluate(run, prior_count=30, sampled_items=4, encodes=2, decodes=2, iwae_samples=3,
                   iwae_items=8)
    for key in REQUIRED_KEYS:
        assert key in out
    assert out["prior_well_formed"] == 1.0  # constrained decoding
    for key in ("reconstruction_exact", "reconstruction_sampled", "reconstruction_posterior",
                "prior_synchronizing",
                "prior_unique", "prior_novel", "prior_strongly_connected",
                "prior_well_formed_unconstrained"):
        assert 0.0 <= out[key] <= 1.0, key
    assert out["eval_items"] == len(run.heldout_items)
    assert out["iwae_nll"] > 0 and len(out["kl_per_dim"]) == 4
    assert abs(sum(out["prior_reset_length_hist"].values()) - 1.0) < 1e-9
    assert out["reset_length_tv"] is not None and 0 <= out["reset_length_tv"] <= 1


def test_novelty_counts_training_keys(run):
    before = prior_samples(run, 30, seed=1)
    parsed = run.sample(30, seed=1)
    keys = {run.domain.canonical_key(p.item) for p in parsed if p.ok}
    saved = set(run.train_keys)
    try:
        run.train_keys.update(keys)
        after = prior_samples(run, 30, seed=1)
    finally:
        run.train_keys.clear()
        run.train_keys.update(saved)
    assert after["prior_novel"] == 0.0
    assert before["prior_unique"] == pytest.approx(len(keys) / 30)
    # synchronizing share matches a direct count
    sync = sum(s["synchronizing"] for s in run.domain.score_many([p.item for p in parsed]))
    assert before["prior_synchronizing"] == pytest.approx(sync / 30)


def test_reconstruction_counts_exact_matches(run):
    items = run.heldout_items[:6]
    mu, _ = run.encode(items)
    decoded = run.decode(mu)
    expect = np.mean([d == run.tokenizer.encode(i) for d, i in zip(decoded, items)])
    assert reconstruction(run, items) == pytest.approx(expect)
    # active units: dimensions whose posterior mean varies across items
    stats = latent_stats(run, run.heldout_items, iwae_samples=2, iwae_items=4)
    mu_all, _ = run.encode(run.heldout_items)
    assert stats["active_units"] == int((mu_all.var(0, ddof=1) > 0.01).sum())


def test_strings_domain_evaluates():
    words = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba"] * 4
    dom = StringDomain(CharTokenizer.fit(words))
    r = train(words, dom, model_config=SMALL, train_config=dict(epochs=1, batch_size=8,
                                                               test_fraction=0.2))
    out = evaluate(r, prior_count=10, sampled_items=2, encodes=1, decodes=2, iwae_samples=2)
    # automata-only fields stay out of a strings evaluation
    assert not {"prior_synchronizing", "prior_strongly_connected"} & set(out)
    assert 0.0 <= out["prior_well_formed_unconstrained"] <= 1.0


def test_posterior_reconstruction_collapses_to_the_mean_decode(monkeypatch):
    """With q(z|x) squeezed to its mean every draw decodes like z = mu, so the posterior
    figure equals the exact one; each item is compared with its own draws only."""
    dom = AutomataDomain(AutomatonTokenizer(3, 2))
    items = [DFA(t) for t in random_tables(60, 3, 2, np.random.default_rng(0))]
    run = train(items, dom, model_config=SMALL,
                train_config=dict(epochs=40, batch_size=16, test_fraction=0.1))
    items = list(run.train_items)
    exact = reconstruction(run, items)
    assert 0.0 < exact < 1.0  # both hits and misses, so a misaligned comparison shows
    encode = run.encode_ids

    def tight(ids, **kw):
        mu, lv = encode(ids, **kw)
        return mu, np.full_like(lv, -60.0)

    monkeypatch.setattr(run, "encode_ids", tight)
    assert reconstruction_posterior(run, items, encodes=3) == pytest.approx(exact)
    monkeypatch.undo()
    assert 0.0 <= reconstruction_posterior(run, items, encodes=3, seed=1) <= 1.0


def test_evaluate_reports_each_of_its_five_stages(run):
    seen = []
    evaluate(run, prior_count=10, sampled_items=2, encodes=1, decodes=1, iwae_samples=2,
             iwae_items=4, progress=seen.append)
    assert seen == [1, 2, 3, 4, 5]
