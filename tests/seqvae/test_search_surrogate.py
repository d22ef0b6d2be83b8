"""The learned reset-length surrogate that orders the lifts of ``boost``."""
import numpy as np
import pytest

from automata.families import cerny
from automata.sync import reset_lengths
from seqvae.errors import SearchError
from seqvae.hunt.search.surrogate import RtSurrogate, word_rank_features


def test_features_are_the_same_for_isomorphic_automata():
    rng = np.random.default_rng(0)
    tables = rng.integers(0, 6, size=(50, 2, 6)).astype(np.int32)
    perm = rng.permutation(6)
    inverse = np.argsort(perm)
    # relabel every state q as perm[q] and swap the letters
    relabelled = perm[tables[:, ::-1][:, :, inverse]]
    np.testing.assert_allclose(word_rank_features(tables), word_rank_features(relabelled))


def test_features_follow_the_images_of_the_words():
    # Černý's automaton: one letter merges a single pair, so every word of length L keeps
    # at least n - 1 states for a while; the least image after 1 letter is n - 1.
    f = word_rank_features(cerny(5).delta[None], max_length=3)
    assert f.shape == (1, 9)
    assert f[0, 0] == pytest.approx(4 / 5)        # least image after one letter
    assert f[0, 2] == pytest.approx(1 / 2)        # one of the two letters attains it
    with pytest.raises(SearchError):
        word_rank_features(np.zeros((2, 3)))


def test_surrogate_learns_the_reset_length_and_round_trips():
    rng = np.random.default_rng(1)
    tables = rng.integers(0, 6, size=(1500, 2, 6)).astype(np.int32)
    rts = reset_lengths(tables)
    model = RtSurrogate(hidden=32, first_steps=200, batch_size=128, seed=0)
    model.fit(tables[:1000], rts[:1000], seed=0)
    pred = model.predict(tables[1000:])
    assert np.corrcoef(pred, np.maximum(rts[1000:], 0))[0, 1] > 0.6   # held out
    copy = RtSurrogate(hidden=32, seed=5)
    copy.load(model.state())
    np.testing.assert_allclose(copy.predict(tables[1000:]), pred)
    with pytest.raises(SearchError):
        model.fit(tables[:1], rts[:1])


def test_surrogate_takes_other_features_of_its_given_width():
    rng = np.random.default_rng(2)
    tables = rng.integers(0, 6, size=(600, 2, 6)).astype(np.int32)
    rts = reset_lengths(tables)
    # Other inputs than the profiles: the profiles with 5 noise columns appended.
    x = np.concatenate([word_rank_features(tables), rng.normal(size=(600, 5))], axis=1)
    model = RtSurrogate(hidden=32, first_steps=200, batch_size=128, seed=0, n_features=x.shape[1])
    assert model.net[0].in_features == 3 * model.max_length + 5
    model.fit(None, rts[:400], features=x[:400], seed=0)
    pred = model.predict(None, features=x[400:])
    assert pred.shape == (200,)
    assert np.corrcoef(pred, np.maximum(rts[400:], 0))[0, 1] > 0.5
    with pytest.raises(SearchError):
        RtSurrogate(n_features=0)
