"""The latent-space methods (vae, hybrid) on tiny budgets with a tiny model."""
import numpy as np
import pytest

from automata import DFA
from automata.canon import canonical_key
from automata.sync import reset_lengths
from seqvae.hunt.search import search_extreme
from seqvae.hunt.search.latent_search import train_start_model
from seqvae.proposals import rank_weights

from .search_helpers import interrupted_then_resumed

torch = pytest.importorskip("torch")

# Small enough to run in seconds: a few steps with weighted retraining and head fits.
FAST = dict(batch=48, retrain_every=2, retrain_steps=3, head_every=1, retrain_top=200)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("start_model")
    train_start_model(5, 2, seed=0, count=80, epochs=1, out_dir=out)
    return str(out)


def _check(result, budget):
    assert result.evaluations == budget
    keys = {canonical_key(DFA(t)) for t in result.tables}
    assert len(keys) == budget                     # distinct up to isomorphism
    np.testing.assert_array_equal(result.rts, reset_lengths(result.tables))


@pytest.mark.parametrize("method", ["vae", "hybrid"])
def test_latent_methods_are_deterministic(tiny_model, method):
    opts = dict(FAST) if method == "vae" else dict(
        # without the closure, which would spend these 150 evaluations in one step
        FAST, evolve_options=dict(population=16, offspring=32, closure_margin=None))
    a = search_extreme(5, 2, method, budget=150, seed=2, model=tiny_model, write_results=False,
                       method_options=opts)
    _check(a, 150)
    assert a.steps >= 2
    assert a.best_reset_length >= 8
    b = search_extreme(5, 2, method, budget=150, seed=2, model=tiny_model, write_results=False,
                       method_options=opts)
    np.testing.assert_array_equal(a.tables, b.tables)
    assert a.top == b.top


def test_vae_trains_its_own_model_and_resumes_exactly(tmp_path):
    opts = dict(FAST, start_count=60, start_epochs=1)
    messages = []
    full = search_extreme(5, 2, "vae", budget=180, seed=5, out_dir=tmp_path / "a",
                          method_options=opts, log=messages.append)
    _check(full, 180)
    assert any("starting model" in m for m in messages)
    assert any("weighted retraining" in m for m in messages)
    assert (tmp_path / "a" / "start_model" / "config.json").exists()
    resumed = interrupted_then_resumed(5, "vae", stop_after=110, budget=180, seed=5,
                                       out_dir=tmp_path / "b", method_options=opts)
    np.testing.assert_array_equal(full.tables, resumed.tables)
    np.testing.assert_array_equal(full.rts, resumed.rts)


def test_rank_weights_follow_the_formula():
    w = rank_weights(1000, k=1e-3)
    raw = 1 / (1e-3 * 1000 + np.arange(1000))
    np.testing.assert_allclose(w, raw / raw.sum())
    assert w[0] / w[1] == pytest.approx(2.0)
