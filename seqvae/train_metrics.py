"""What the trainer measures: the statistics of a training batch, the validation metrics.

Pure functions of the model's outputs (and, for validation, of the model and
the padded items): the :class:`~seqvae.train.Trainer` logs what they return.
"""
from __future__ import annotations

import torch

from seqvae.config import ModelConfig
from seqvae.model import SeqVAE, property_mse

__all__ = ["batch_stats", "validation_metrics"]


def batch_stats(out: dict, loss: torch.Tensor, rec: torch.Tensor, kl: torch.Tensor,
                kl_dim: torch.Tensor, beta: float, pad_id: int, ids: torch.Tensor,
                prop: torch.Tensor | None = None) -> dict:
    """The logged statistics of one training batch, from the model's outputs ``out``
    and the loss terms: ELBO terms, token and exact accuracies, KL per dimension and
    the batch's estimate of the active units."""
    with torch.no_grad():
        target = out["target"]
        mask = target != pad_id
        hit = (out["logits"].argmax(-1) == target) | ~mask
        stats = {
            "loss": float(loss), "rec": float(rec), "kl": float(kl), "elbo": float(rec + kl),
            "beta": beta,
            "token_acc": float(((hit & mask).sum()) / mask.sum().clamp_min(1)),
            "exact": float(hit.all(1).float().mean()),
            "kl_per_dim": [round(float(v), 5) for v in kl_dim],
            # batch estimate; the epoch record has the one over the validation set
            "active_units": (int((out["mu"].float().var(0) > 0.01).sum())
                             if ids.shape[0] > 1 else 0),
            "n": int(ids.shape[0]),
        }
        if prop is not None:
            stats["prop"] = float(prop)
    return stats


@torch.no_grad()
def validation_metrics(model: SeqVAE, ids: torch.Tensor, lengths: torch.Tensor,
                       mcfg: ModelConfig, device: torch.device, *, batch_size: int = 512,
                       targets: torch.Tensor | None = None) -> dict:
    """Validation metrics of ``model`` (in eval mode) on padded ``ids`` (z = mu).

    ELBO terms, accuracies, KL per dimension and active units; with property
    targets also ``prop_mse`` (standardised units) beside ``prop_mse_mean_predictor``
    (see :meth:`seqvae.train.Trainer.evaluate`).
    """
    sums: dict[str, float] = {}
    kl_dim = torch.zeros(mcfg.d_z)
    mus = []
    n = ids.shape[0]
    order = torch.argsort(lengths, stable=True)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        batch = ids[idx, : int(lengths[idx].max())].to(device)
        out = model(batch, sample=False)
        target = out["target"]
        mask = target != mcfg.pad_id
        hit = (out["logits"].argmax(-1) == target) | ~mask
        sums["rec"] = sums.get("rec", 0.0) + float(out["rec"].sum())
        sums["kl"] = sums.get("kl", 0.0) + float(out["kl"].sum())
        sums["tok_hit"] = sums.get("tok_hit", 0.0) + float((hit & mask).sum())
        sums["tok_all"] = sums.get("tok_all", 0.0) + float(mask.sum())
        sums["exact"] = sums.get("exact", 0.0) + float(hit.all(1).sum())
        kl_dim += out["kl"].sum(0).float().cpu()
        mus.append(out["mu"].float().cpu())
        if targets is not None and "properties" in out:
            y = targets[idx].to(device)
            known = ~torch.isnan(y)
            sums["prop_n"] = sums.get("prop_n", 0.0) + float(known.sum())
            sums["prop_se"] = sums.get("prop_se", 0.0) + float(
                property_mse(out["properties"].float(), y) * known.sum())
            sums["prop_base"] = sums.get("prop_base", 0.0) + float(
                torch.nan_to_num(y).pow(2).sum())
    mu = torch.cat(mus)
    var = mu.var(0, unbiased=True) if n > 1 else torch.zeros(mcfg.d_z)
    result = {"rec": sums["rec"] / n, "kl": sums["kl"] / n,
              "elbo": (sums["rec"] + sums["kl"]) / n,
              "token_acc": sums["tok_hit"] / max(1.0, sums["tok_all"]),
              "exact": sums["exact"] / n,
              "kl_per_dim": [round(float(v), 5) for v in kl_dim / n],
              "active_units": int((var > 0.01).sum())}
    if sums.get("prop_n"):
        # targets are standardised with the training mean, so predicting 0 is the
        # mean predictor
        result["prop_mse"] = sums["prop_se"] / sums["prop_n"]
        result["prop_mse_mean_predictor"] = sums["prop_base"] / sums["prop_n"]
    return result
