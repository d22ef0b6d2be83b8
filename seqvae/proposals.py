"""Latent proposals shared by every latent-space search (automata and molecules).

A latent search keeps the latent means of the best items found so far (the
*elites*, best first) and proposes new points around them:

* :func:`perturbed_elites` — Gaussian steps around elites;
* :func:`polar_interpolation` — ``√a·z₁ + √(1−a)·z₂`` between two elites, which
  keeps the prior's norm where ``z₁`` and ``z₂`` have it;
* :func:`cem_samples` — draws of a Gaussian fitted to the elites (the
  cross-entropy method);
* :func:`head_ascent` — gradient ascent from elites on a differentiable score
  predictor (:class:`PropertyHead`, or a run's joint head), each point kept
  within a trust radius of its start (:func:`ascend_within`);
* :func:`rank_weights` — ``1 / (kN + rank)``, the weights of weighted retraining
  and of the choice of elites.

Each takes the caller's :class:`numpy.random.Generator` and draws from it in a
fixed order, so a search stays reproducible from its seed; each application
mixes them in its own proportions.
"""
from __future__ import annotations

import numpy as np

from seqvae.smallnets import SmallNet

__all__ = ["PropertyHead", "ascend_within", "rank_weights", "perturbed_elites",
           "polar_interpolation", "cem_samples", "head_ascent"]


def _pick(rng: np.random.Generator, count: int, size: int, weights=None) -> np.ndarray:
    """``size`` elite indices among ``count``: uniform, or drawn with ``weights``."""
    if weights is None:
        return rng.integers(0, count, size)
    return rng.choice(count, size, p=weights)


def perturbed_elites(elites: np.ndarray, count: int, sigma: float, rng: np.random.Generator,
                     weights: np.ndarray | None = None) -> np.ndarray:
    """``count`` points ``elite + sigma·N(0, I)``, the elites drawn uniformly or by ``weights``.

    >>> z = perturbed_elites(np.zeros((3, 2)), 5, 0.1, np.random.default_rng(0))
    >>> z.shape, bool(np.abs(z).max() < 1)
    ((5, 2), True)
    """
    parents = elites[_pick(rng, len(elites), count, weights)]
    return parents + sigma * rng.standard_normal((count, elites.shape[1]))


def polar_interpolation(elites: np.ndarray, count: int, rng: np.random.Generator,
                        weights: np.ndarray | None = None) -> np.ndarray:
    """``count`` points ``√a·z₁ + √(1−a)·z₂``, ``a ~ U(0, 1)``: the first elite drawn by
    ``weights`` (uniformly when None), the second uniformly.

    >>> e = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> z = polar_interpolation(e, 4, np.random.default_rng(0))
    >>> z.shape, bool((z >= 0).all())
    ((4, 2), True)
    """
    a = rng.random((count, 1))
    first = _pick(rng, len(elites), count, weights)
    second = rng.choice(len(elites), count)
    return np.sqrt(a) * elites[first] + np.sqrt(1 - a) * elites[second]


def cem_samples(elites: np.ndarray, count: int, rng: np.random.Generator,
                min_std: float) -> np.ndarray:
    """``count`` draws of the axis-aligned Gaussian fitted to ``elites`` (the cross-entropy
    method), its standard deviations raised by ``min_std`` so that it never collapses.

    >>> z = cem_samples(np.ones((4, 3)), 2, np.random.default_rng(0), 0.0)
    >>> z.tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    mean, std = elites.mean(axis=0), elites.std(axis=0) + min_std
    return mean + std * rng.standard_normal((count, elites.shape[1]))


def head_ascent(head, elites: np.ndarray, count: int, rng: np.random.Generator, *,
                steps: int, lr: float, radius: float, jitter: float = 0.0) -> np.ndarray:
    """``count`` elites (drawn uniformly, moved by ``jitter·N(0, I)`` when ``jitter``) climbed
    by ``head.ascend``: ``steps`` normalised gradient steps of size ``lr``, each point kept
    within ``radius`` of where it started.

    >>> head = PropertyHead(2, hidden=4, seed=0)
    >>> head_ascent(head, np.zeros((3, 2)), 5, np.random.default_rng(0), steps=2, lr=0.1,
    ...             radius=0.15).shape
    (5, 2)
    """
    starts = elites[rng.integers(0, len(elites), count)]
    if jitter:
        starts = starts + jitter * rng.standard_normal(starts.shape)
    return head.ascend(starts.astype(np.float32), steps, lr, radius)


def ascend_within(value, z, steps: int, lr: float, radius: float, device=None) -> np.ndarray:
    """Normalised gradient steps on ``value(x).sum()`` from the points ``z``,
    each point kept within ``radius`` of its start: a differentiable head is
    only trusted near the codes it was trained on. Returns numpy points.

    >>> import torch
    >>> out = ascend_within(lambda x: x[:, 0], np.zeros((2, 3)), 5, 0.5, 1.0)
    >>> np.round(out[0], 3).tolist()
    [1.0, 0.0, 0.0]
    """
    import torch

    start = torch.as_tensor(np.asarray(z, dtype=np.float32), device=device)
    x = start.clone().requires_grad_(True)
    for _ in range(steps):
        (grad,) = torch.autograd.grad(value(x).sum(), x)
        with torch.no_grad():
            x += lr * grad / (grad.norm(dim=1, keepdim=True) + 1e-8)
            delta = x - start
            norm = delta.norm(dim=1, keepdim=True)
            x.copy_(start + delta * torch.clamp(radius / (norm + 1e-8), max=1.0))
    return x.detach().cpu().numpy()


class PropertyHead(SmallNet):
    """An MLP ``z -> predicted property`` (a reset length, a molecular score), trained on
    standardised targets.

    Each :meth:`fit` warm-starts the weights but begins with a fresh Adam
    optimiser, so its state holds the weights and the target's scale only.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((200, 3)).astype(np.float32)
    >>> head = PropertyHead(3, hidden=16, seed=0)
    >>> _ = head.fit(z, 2 * z[:, 0], steps=300, seed=0)
    >>> bool(np.corrcoef(head.predict(z), z[:, 0])[0, 1] > 0.9), head.trained
    (True, True)
    """

    EXTRA_STATE = ("mean", "std")

    def __init__(self, d_z: int, hidden: int = 64, seed: int = 0):
        import torch

        gen = torch.Generator().manual_seed(int(seed))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(d_z, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, 1))
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * (0.5 / max(1, p.shape[-1]) ** 0.5))
        self.opt = None
        self.mean, self.std = 0.0, 1.0
        self.trained_steps = 0

    @property
    def trained(self) -> bool:
        return self.trained_steps > 0

    def fit(self, z: np.ndarray, y: np.ndarray, steps: int = 150, seed: int = 0) -> float:
        """``steps`` Adam steps on random minibatches of 256 (warm start from the last fit);
        returns the last minibatch's loss."""
        import torch

        gen = torch.Generator().manual_seed(int(seed))
        self.mean, self.std = float(y.mean()), float(y.std() + 1e-6)
        zt = torch.as_tensor(z, dtype=torch.float32)
        yt = torch.as_tensor((y - self.mean) / self.std, dtype=torch.float32)[:, None]
        n = len(zt)
        bs = min(256, n)

        def batch_loss():
            idx = torch.randint(0, n, (bs,), generator=gen)
            return torch.nn.functional.mse_loss(self.net(zt[idx]), yt[idx])

        opt = torch.optim.Adam(self.net.parameters(), lr=3e-3)
        return self.fit_steps(batch_loss, steps, opt=opt)

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Predictions in the target's units, one per row of ``z``."""
        import torch

        with torch.no_grad():
            out = self.net(torch.as_tensor(z, dtype=torch.float32))[:, 0].numpy()
        return out * self.std + self.mean

    def ascend(self, z: np.ndarray, steps: int, lr: float, radius: float) -> np.ndarray:
        """Gradient steps on the prediction, each point kept within ``radius`` of its start."""
        return ascend_within(self.net, z, steps, lr, radius)


def rank_weights(count: int, k: float = 1e-3) -> np.ndarray:
    """Weighted-retraining weights ``1 / (k·N + rank)`` for ranks 0..count-1, summing to 1.

    >>> w = rank_weights(4)
    >>> bool(w[0] > w[-1] and abs(w.sum() - 1) < 1e-12)
    True
    """
    w = 1.0 / (k * count + np.arange(count))
    return w / w.sum()
