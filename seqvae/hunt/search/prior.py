"""The table prior of ``boost``: a small autoregressive GRU over transition tables.

It learns the best automata a search has found (rank-weighted) and writes new
ones entry by entry (:class:`TablePrior`). Coded as offsets ``(δ(q,a) − q) mod n``
(:func:`to_offsets`) and told the position only through ``q/(n−1)`` and ``1/n``,
what it learns at one size reads the same at another: a prior trained at
n = 7, 8 samples at n = 9, 10 (cross-size transfer).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from seqvae.errors import SearchError
from seqvae.smallnets import SmallNet, seeded_init

__all__ = ["TablePrior", "to_offsets", "from_offsets"]


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


class TablePrior(SmallNet):
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
            raise SearchError("a table prior needs at least 2 states and 1 letter")
        import torch

        self.max_states, self.max_letters = int(max_states), int(max_letters)
        self.offsets = bool(offsets)
        nn = torch.nn
        with seeded_init(seed):
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
        import torch

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
        import torch

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
        import torch

        groups = [np.asarray(g) for g in groups if len(g)]
        if not groups:
            raise SearchError("nothing to train the prior on")
        for g in groups:
            if g.ndim != 3 or g.shape[2] > self.max_states or g.shape[1] > self.max_letters:
                raise SearchError(f"tables of shape {g.shape[1:]} do not fit this prior")
        if weights is None:
            weights = [np.ones(len(g)) for g in groups]
        flat_w = np.concatenate([np.asarray(w, dtype=np.float64) for w in weights])
        flat_w = flat_w / flat_w.sum()
        owner = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)])
        row = np.concatenate([np.arange(len(g)) for g in groups])
        targets = [torch.as_tensor(self._targets(g), dtype=torch.long) for g in groups]
        rng = np.random.default_rng(seed)
        size = min(batch_size, len(flat_w))

        def batch_loss():
            # One minibatch across sizes: a teacher-forced pass per size present.
            pick = rng.choice(len(flat_w), size=size, p=flat_w)
            loss = 0.0
            for gi in np.unique(owner[pick]).tolist():
                rows = torch.as_tensor(row[pick[owner[pick] == gi]])
                k, n = groups[gi].shape[1:]
                y = targets[gi][rows]
                logits = self._logits(n, k, y)
                part = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, self.max_states), y.reshape(-1), reduction="sum")
                loss = loss + part / (len(pick) * k * n)
            return loss

        return self.fit_steps(batch_loss, int(steps), clip_norm=1.0)

    # -- sampling ------------------------------------------------------------------
    def sample(self, count: int, n_states: int, n_letters: int, *, temperature: float = 0.8,
               seed: int = 0) -> np.ndarray:
        """``count`` tables ``(count, n_letters, n_states)`` drawn entry by entry."""
        import torch

        n, k = int(n_states), int(n_letters)
        if n > self.max_states or k > self.max_letters:
            raise SearchError(f"the prior covers at most {self.max_states} states and "
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
