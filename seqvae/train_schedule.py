"""What each training step sees: the KL weight and learning rate schedules, the
padded id tensors and the batches of an epoch.

Pure functions of the training config, the step or epoch and the seed, so the
batch order of a resumed run is the one it would have had without stopping.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from seqvae.config import TrainConfig
from seqvae.errors import TrainingError

__all__ = ["kl_weight", "learning_rate", "pad_sequences", "epoch_batches"]


def kl_weight(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """KL weight (beta) at optimiser step ``step``.

    >>> cfg = TrainConfig(kl_schedule="linear", kl_warmup_steps=100, kl_max=1.0)
    >>> kl_weight(cfg, 0, 1000), kl_weight(cfg, 50, 1000), kl_weight(cfg, 500, 1000)
    (0.0, 0.5, 1.0)
    """
    s = cfg.kl_schedule
    if s == "constant":
        return float(cfg.kl_max)
    if s == "linear":
        return float(cfg.kl_max * min(1.0, step / max(1, cfg.kl_warmup_steps)))
    if s == "sigmoid":
        x = -cfg.kl_sigmoid_k * (step - cfg.kl_warmup_steps / 2)
        return float(cfg.kl_max / (1.0 + math.exp(min(x, 700.0))))
    period = max(1.0, total_steps / cfg.kl_cycles)
    tau = (step % period) / period
    return float(cfg.kl_max * min(1.0, tau / cfg.kl_ratio))


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate at ``step``: linear warm-up, then constant or cosine decay."""
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return cfg.lr
    span = max(1, total_steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.lr_min_factor
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * t))


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a LongTensor (N, T_max) and their lengths (N,); empty gives (0, 1).

    >>> ids, lengths = pad_sequences([[1, 4, 2], [1, 2]], pad_id=0)
    >>> ids.tolist(), lengths.tolist()
    ([[1, 4, 2], [1, 2, 0]], [3, 2])
    """
    if len(seqs) == 0:
        return torch.zeros((0, 1), dtype=torch.long), torch.zeros(0, dtype=torch.long)
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), int(pad_id), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.as_tensor(np.asarray(s, dtype=np.int64))
    return out, lengths


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed((int(seed) * 1_000_003 + int(epoch) * 7919 + 17) % (2**63 - 1))
    return g


def epoch_batches(lengths: torch.Tensor, batch_size: int, seed: int, epoch: int, *,
                  bucket: bool = True, weights: torch.Tensor | None = None,
                  samples: int | None = None) -> list[torch.Tensor]:
    """The batches (index tensors) of one epoch, a pure function of its arguments.

    With ``bucket`` the shuffled items are grouped in pools of 50 batches, each
    pool sorted by length so a batch pads only to its own longest item, and
    the batches are shuffled again. With ``weights`` the epoch draws
    ``samples`` items with replacement, proportionally to the weights.
    """
    g = _epoch_generator(seed, epoch)
    n = int(lengths.shape[0])
    if weights is not None:
        order = torch.multinomial(weights.double(), samples or n, replacement=True, generator=g)
    else:
        order = torch.randperm(n, generator=g)
    if bucket:
        pool = batch_size * 50
        parts = []
        for start in range(0, len(order), pool):
            chunk = order[start:start + pool]
            parts.append(chunk[torch.argsort(lengths[chunk], stable=True)])
        order = torch.cat(parts) if parts else order
    batches = list(torch.split(order, batch_size))
    if bucket and len(batches) > 1:
        perm = torch.randperm(len(batches), generator=g).tolist()
        batches = [batches[i] for i in perm]
    return batches


def _targets(values, n: int, width: int) -> torch.Tensor | None:
    """Property targets as a float tensor (n, width), or None (no targets or no head)."""
    if values is None or width == 0:
        return None
    y = torch.as_tensor(np.asarray(values, dtype=np.float32))
    if y.shape != (n, width):
        raise TrainingError(f"property targets must have shape ({n}, {width}), got "
                            f"{tuple(y.shape)}")
    if torch.isinf(y).any():
        raise TrainingError("property targets must be finite or NaN (unknown)")
    return y
