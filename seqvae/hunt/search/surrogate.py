"""A learned reset-length surrogate that orders a pool of candidates before they are evaluated.

The evolutionary search's lifts (:func:`~seqvae.hunt.search.lifts.lift_neighbourhood`)
make a large fixed pool of candidates (about 60,000 distinct automata of 8 states
from the 257 slow ones of 7 states), of which a few dozen are slow. Taken in the
order of their sources' reset lengths they are found late; a regression model
trained on the lifts already evaluated puts most of them in the first few
thousand (offline at n = 8: the median slow lift moved from position 17,769 to
1,342 after training on the first 3,000).

The model reads isomorphism-invariant features only, so that the labelling of a
table does not matter: for every word length ``L`` up to ``max_length``, the
least and the mean image size of the whole state set under the words of length
``L`` (over ``n``), and the share of words that reach the least one. A slowly
synchronizing automaton is one whose images shrink slowly; a small MLP learns
how these profiles map to the reset length.
"""
from __future__ import annotations

import numpy as np

from seqvae.errors import SearchError
from seqvae.smallnets import SmallNet, seeded_init

__all__ = ["word_rank_features", "RtSurrogate"]


def word_rank_features(tables: np.ndarray, max_length: int = 6) -> np.ndarray:
    """Image-size profile of every word up to ``max_length``: ``(m, 3·max_length)`` floats.

    For each length ``L``: the least image size ``|Q·w|`` over the words ``w``
    of length ``L`` (divided by n), the mean one (divided by n), and the share
    of words that attain the least. Isomorphic automata get equal features.

    >>> f = word_rank_features(np.array([[[1, 2, 0], [0, 0, 2]]]), max_length=2)
    >>> f.shape, round(float(f[0, 0]), 3)   # least image after one letter: {0, 2}
    ((1, 6), 0.667)
    """
    tables = np.asarray(tables)
    if tables.ndim != 3 or max_length < 1:
        raise SearchError("tables must be (m, k, n) and max_length >= 1")
    m, k, n = tables.shape
    words = [np.broadcast_to(np.arange(n), (m, n))]
    feats = []
    for _ in range(int(max_length)):
        # Every word one letter longer: its image of each state, (words, m, n).
        words = [np.take_along_axis(tables[:, a], w, axis=1) for w in words for a in range(k)]
        sizes = np.stack([_image_sizes(w) for w in words], axis=1)
        least = sizes.min(axis=1)
        feats += [least / n, sizes.mean(axis=1) / n, (sizes == least[:, None]).mean(axis=1)]
    return np.stack(feats, axis=1).astype(np.float32)


def _image_sizes(images: np.ndarray) -> np.ndarray:
    """Number of distinct values per row of ``images`` (m, n)."""
    s = np.sort(images, axis=1)
    return 1 + (s[:, 1:] != s[:, :-1]).sum(axis=1)


class RtSurrogate(SmallNet):
    """An MLP from :func:`word_rank_features` to the standardised reset length.

    Non-synchronizing automata count as reset length 0. :meth:`fit` warm-starts
    (the first call trains ``first_steps``, later ones ``steps``), so refitting
    after each batch of evaluations costs little.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> from automata.sync import reset_lengths
    >>> tables = rng.integers(0, 5, size=(400, 2, 5)).astype(np.int32)
    >>> model = RtSurrogate(hidden=16, first_steps=100, steps=20)
    >>> _ = model.fit(tables, reset_lengths(tables), seed=0)
    >>> model.predict(tables[:3]).shape
    (3,)
    """

    def __init__(self, *, hidden: int = 64, max_length: int = 6, first_steps: int = 1500,
                 steps: int = 300, batch_size: int = 256, seed: int = 0,
                 n_features: int | None = None):
        import torch

        if hidden < 1 or max_length < 1 or first_steps < 1 or steps < 1 or batch_size < 1:
            raise SearchError("hidden, max_length, first_steps, steps and batch_size must be "
                              "positive")
        # n_features: the input width when fit/predict are given other ``features`` than
        # the profiles (scripts/bench_surrogate_inputs.py feeds a VAE's latent means).
        width = 3 * int(max_length) if n_features is None else int(n_features)
        if width < 1:
            raise SearchError("n_features must be positive")
        self.max_length = int(max_length)
        self.first_steps, self.steps, self.batch_size = int(first_steps), int(steps), int(batch_size)
        nn = torch.nn
        with seeded_init(seed):
            self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        self.opt = torch.optim.Adam(self.net.parameters(), lr=3e-3)
        self.trained_steps = 0

    def features(self, tables: np.ndarray) -> np.ndarray:
        return word_rank_features(tables, self.max_length)

    def fit(self, tables: np.ndarray | None, rts: np.ndarray, *, features: np.ndarray | None = None,
            seed: int = 0) -> float:
        """Train on ``(tables, rts)`` (or precomputed ``features``); returns the last loss."""
        import torch

        x = self.features(tables) if features is None else np.asarray(features, np.float32)
        y = np.maximum(np.asarray(rts, dtype=np.float32), 0.0)
        if len(x) != len(y) or len(y) < 2:
            raise SearchError("fit needs at least two automata with their reset lengths")
        y = (y - y.mean()) / max(float(y.std()), 1e-6)
        xt, yt = torch.as_tensor(x), torch.as_tensor(y)
        gen = torch.Generator().manual_seed(int(seed))
        size = min(self.batch_size, len(yt))

        def batch_loss():
            batch = torch.randint(0, len(yt), (size,), generator=gen)
            return ((self.net(xt[batch])[:, 0] - yt[batch]) ** 2).mean()

        return self.fit_steps(batch_loss, self.first_steps if self.trained_steps == 0
                              else self.steps)

    def predict(self, tables: np.ndarray | None, *, features: np.ndarray | None = None
                ) -> np.ndarray:
        """Predicted standardised reset lengths (larger: slower), one per table."""
        import torch

        x = self.features(tables) if features is None else np.asarray(features, np.float32)
        with torch.no_grad():
            return self.net(torch.as_tensor(x))[:, 0].numpy().astype(np.float64)
