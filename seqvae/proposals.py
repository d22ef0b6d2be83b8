"""Latent proposals shared by every latent-space search (automata and molecules).

* :class:`PropertyHead` — a small MLP from latent points to a score, refitted on
  everything evaluated so far, that ranks candidate points;
* :func:`ascend_within` — gradient ascent on a differentiable head, each point
  kept within a trust radius of its start;
* :func:`rank_weights` — the weights of weighted retraining, ``1 / (kN + rank)``.
"""
from __future__ import annotations

import io

import numpy as np

__all__ = ["PropertyHead", "ascend_within", "rank_weights"]


def _torch():
    # torch is imported on first use; the thread count is the caller's choice.
    import torch

    return torch


def ascend_within(value, z, steps: int, lr: float, radius: float, device=None) -> np.ndarray:
    """Normalised gradient steps on ``value(x).sum()`` from the points ``z``,
    each point kept within ``radius`` of its start: a differentiable head is
    only trusted near the codes it was trained on. Returns numpy points."""
    torch = _torch()
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


class PropertyHead:
    """An MLP ``z -> predicted property`` (a reset length, a molecular score), trained on
    standardised targets."""

    def __init__(self, d_z: int, hidden: int = 64, seed: int = 0):
        torch = _torch()
        gen = torch.Generator().manual_seed(int(seed))
        self.net = torch.nn.Sequential(
            torch.nn.Linear(d_z, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, 1))
        with torch.no_grad():
            for p in self.net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * (0.5 / max(1, p.shape[-1]) ** 0.5))
        self.mean, self.std = 0.0, 1.0
        self.trained = False

    def fit(self, z: np.ndarray, y: np.ndarray, steps: int = 150, seed: int = 0) -> float:
        """``steps`` Adam steps on random minibatches (warm start from the last fit)."""
        torch = _torch()
        gen = torch.Generator().manual_seed(int(seed))
        self.mean, self.std = float(y.mean()), float(y.std() + 1e-6)
        zt = torch.as_tensor(z, dtype=torch.float32)
        yt = torch.as_tensor((y - self.mean) / self.std, dtype=torch.float32)[:, None]
        opt = torch.optim.Adam(self.net.parameters(), lr=3e-3)
        n = len(zt)
        bs = min(256, n)
        loss = torch.tensor(0.0)
        for _ in range(steps):
            idx = torch.randint(0, n, (bs,), generator=gen)
            loss = torch.nn.functional.mse_loss(self.net(zt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.trained = True
        return float(loss.detach())

    def predict(self, z: np.ndarray) -> np.ndarray:
        torch = _torch()
        with torch.no_grad():
            out = self.net(torch.as_tensor(z, dtype=torch.float32))[:, 0].numpy()
        return out * self.std + self.mean

    def ascend(self, z: np.ndarray, steps: int, lr: float, radius: float) -> np.ndarray:
        """Gradient steps on the prediction, each point kept within ``radius`` of its start."""
        return ascend_within(self.net, z, steps, lr, radius)

    def state(self) -> bytes:
        torch = _torch()
        buf = io.BytesIO()
        torch.save({"net": self.net.state_dict(), "mean": self.mean, "std": self.std,
                    "trained": self.trained}, buf)
        return buf.getvalue()

    def load(self, data: bytes) -> None:
        torch = _torch()
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        self.net.load_state_dict(state["net"])
        self.mean, self.std, self.trained = state["mean"], state["std"], state["trained"]


def rank_weights(count: int, k: float = 1e-3) -> np.ndarray:
    """Weighted-retraining weights ``1 / (k·N + rank)`` for ranks 0..count-1, summing to 1.

    >>> w = rank_weights(4)
    >>> bool(w[0] > w[-1] and abs(w.sum() - 1) < 1e-12)
    True
    """
    w = 1.0 / (k * count + np.arange(count))
    return w / w.sum()
