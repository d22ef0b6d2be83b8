"""The sequence VAE: a convolutional encoder and a GRU decoder (modules only).

Token sequences are ``(B, T)`` LongTensors that start with BOS, end with EOS
and are right-padded with ``pad_id``. The trainer owns optimisation; the
model only computes loss terms.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from seqvae.config import ModelConfig
from seqvae.errors import SeqVAEError

__all__ = ["ConvEncoder", "GRUDecoder", "PropertyHead", "SeqVAE", "property_mse", "kl_divergence",
           "iwae_nll", "count_parameters"]


class ConvEncoder(nn.Module):
    """Embedding (or one-hot) -> Conv1d layers over positions -> dense -> (mu, log sigma^2).

    The convolutions see input of shape ``(B, channels, T)``: channels are the
    token features and the kernel slides along the sequence. Padded positions
    are zeroed before every convolution, so padding never leaks into the code.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config
        self.embedding = (nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=c.pad_id)
                          if c.embed_dim > 0 else None)
        in_ch = c.embed_dim if c.embed_dim > 0 else c.vocab_size
        convs = []
        for out_ch, k in zip(c.conv_channels, c.conv_kernels):
            pad = (k // 2) if c.conv_padding == "same" else 0
            convs.append(nn.Conv1d(in_ch, out_ch, k, padding=pad))
            in_ch = out_ch
        self.convs = nn.ModuleList(convs)
        feat = in_ch * c.conv_out_len if c.pool == "flatten" else 2 * in_ch
        self.dense = nn.Linear(feat, c.enc_hidden)
        self.to_mu = nn.Linear(c.enc_hidden, c.d_z)
        self.to_logvar = nn.Linear(c.enc_hidden, c.d_z)
        with torch.no_grad():
            self.to_logvar.bias.fill_(c.init_logvar)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map ``ids`` (B, T) to ``mu`` and ``logvar`` (B, d_z)."""
        c = self.config
        if c.pool == "flatten":
            if ids.shape[1] > c.max_len:
                raise SeqVAEError(f"sequence length {ids.shape[1]} exceeds max_len {c.max_len}")
            if ids.shape[1] < c.max_len:
                ids = F.pad(ids, (0, c.max_len - ids.shape[1]), value=c.pad_id)
        mask = ids != c.pad_id  # (B, T)
        if self.embedding is not None:
            x = self.embedding(ids)
        else:
            x = F.one_hot(ids, c.vocab_size).to(torch.float32)
        x = x * mask.unsqueeze(-1)
        x = x.transpose(1, 2)  # (B, C, T): convolve over positions, channels = features
        for conv in self.convs:
            x = F.relu(conv(x))
            # An output position whose window starts past the end is padding.
            mask = mask[:, : x.shape[2]]
            x = x * mask.unsqueeze(1)
        if c.pool == "flatten":
            h = x.flatten(1)
        else:
            m = mask.unsqueeze(1).to(x.dtype)
            mean = x.sum(2) / m.sum(2).clamp_min(1.0)
            mx = x.masked_fill(~mask.unsqueeze(1), float("-inf")).amax(2)
            mx = torch.where(torch.isfinite(mx), mx, torch.zeros_like(mx))
            h = torch.cat([mean, mx], dim=1)
        h = F.relu(self.dense(h))
        mu = self.to_mu(h)
        logvar = self.to_logvar(h).clamp(c.logvar_min, c.logvar_max)
        return mu, logvar


class GRUDecoder(nn.Module):
    """z -> dense -> the same vector at every step (+ previous token) -> GRU stack -> logits."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config
        self.z_proj = nn.Linear(c.d_z, c.dec_z_dim)
        emb = c.embed_dim if c.embed_dim > 0 else 32
        self.embedding = (nn.Embedding(c.vocab_size, emb, padding_idx=c.pad_id)
                          if c.teacher_forcing else None)
        in_dim = c.dec_z_dim + (emb if c.teacher_forcing else 0) + c.dec_position_dim
        self.positions = (nn.Embedding(c.max_len, c.dec_position_dim)
                          if c.dec_position_dim > 0 else None)
        self.gru = nn.GRU(in_dim, c.dec_hidden, num_layers=c.dec_layers, batch_first=True)
        self.z_to_h = nn.Linear(c.d_z, c.dec_layers * c.dec_hidden) if c.z_to_hidden else None
        self.out = nn.Linear(c.dec_hidden, c.vocab_size)

    def initial_state(self, z: torch.Tensor) -> torch.Tensor | None:
        """Hidden state (layers, B, hidden) before the first step, or None (zeros)."""
        if self.z_to_h is None:
            return None
        c = self.config
        h = torch.tanh(self.z_to_h(z))
        return h.view(z.shape[0], c.dec_layers, c.dec_hidden).transpose(0, 1).contiguous()

    def step_inputs(self, zp: torch.Tensor, prev: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Decoder inputs (B, T, in_dim) from projected z (B, dec_z_dim) and previous tokens
        (B, T) at steps ``start .. start+T-1``."""
        b, steps = prev.shape
        parts = [zp.unsqueeze(1).expand(-1, steps, -1)]
        if self.embedding is not None:
            parts.append(self.embedding(prev))
        if self.positions is not None:
            pos = torch.arange(start, start + steps, device=prev.device).clamp_max(
                self.config.max_len - 1)
            parts.append(self.positions(pos).unsqueeze(0).expand(b, -1, -1))
        return torch.cat(parts, dim=2) if len(parts) > 1 else parts[0]

    def forward(self, z: torch.Tensor, prev: torch.Tensor,
                hidden: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, T, vocab) for previous tokens ``prev`` (B, T) (teacher forcing).

        ``hidden`` continues a decoding from an earlier call; None starts fresh.
        """
        c = self.config
        if c.word_dropout > 0 and self.training and self.embedding is not None:
            drop = torch.rand(prev.shape, device=prev.device) < c.word_dropout
            drop[:, 0] = False  # BOS always stays
            prev = prev.masked_fill(drop, c.pad_id)  # pad embedding is the zero vector
        zp = torch.relu(self.z_proj(z))
        x = self.step_inputs(zp, prev)
        if hidden is None:
            hidden = self.initial_state(z)
        y, hidden = self.gru(x, hidden)
        return self.out(y), hidden


class PropertyHead(nn.Module):
    """MLP from the latent mean to ``n_properties`` standardised property values.

    Trained with the VAE (Gómez-Bombarelli et al. 2018), so the latent space is
    shaped by the properties as well as by reconstruction; a search then climbs
    its gradient in z.

    >>> head = PropertyHead(ModelConfig(vocab_size=8, d_z=4, n_properties=3))
    >>> head(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        h = config.property_hidden
        self.net = nn.Sequential(nn.Linear(config.d_z, h), nn.SiLU(), nn.Linear(h, h),
                                 nn.SiLU(), nn.Linear(h, config.n_properties))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def property_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the known (non-NaN) entries of ``target`` (0 when none).

    >>> property_mse(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, float("nan")]]))
    tensor(1.)
    """
    known = ~torch.isnan(target)
    diff = torch.where(known, pred - torch.nan_to_num(target), torch.zeros_like(pred))
    return diff.pow(2).sum() / known.sum().clamp_min(1)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per dimension, shape (B, d_z)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


class SeqVAE(nn.Module):
    """Encoder + decoder; ``forward`` returns the ELBO terms of a batch.

    Examples
    --------
    >>> cfg = ModelConfig(vocab_size=8, max_len=10, d_z=4, dec_hidden=16, enc_hidden=16)
    >>> vae = SeqVAE(cfg)
    >>> ids = torch.tensor([[1, 3, 4, 5, 2, 0], [1, 5, 2, 0, 0, 0]])
    >>> out = vae(ids)
    >>> out["rec"].shape, out["kl"].shape
    (torch.Size([2]), torch.Size([2, 4]))
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config)
        self.decoder = GRUDecoder(config)
        # Absent (not an empty module) without properties, so that the weights of a run
        # trained without a head keep exactly their keys.
        self.property_head = PropertyHead(config) if config.n_properties > 0 else None

    def encode(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(ids)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def reconstruction(self, z: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sequence summed cross-entropy (B,) and the logits, padding masked out."""
        prev, target = ids[:, :-1], ids[:, 1:]
        logits, _ = self.decoder(z, prev)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                             ignore_index=self.config.pad_id, reduction="none")
        return ce.view(target.shape).sum(1), logits

    def forward(self, ids: torch.Tensor, mc_samples: int = 1, sample: bool = True) -> dict:
        """ELBO terms for a batch ``ids`` (B, T).

        Returns a dict with ``rec`` (B,) summed token cross-entropy averaged
        over ``mc_samples`` draws of z, ``kl`` (B, d_z), ``mu``, ``logvar``,
        ``logits`` of the first draw and the ``target`` tokens.
        """
        mu, logvar = self.encoder(ids)
        first_logits = None
        if mc_samples > 1:
            # One decoder pass over all draws at once.
            z = (mu.unsqueeze(0) + torch.randn((mc_samples,) + mu.shape, device=mu.device)
                 * (0.5 * logvar).exp().unsqueeze(0)).reshape(-1, mu.shape[1])
            rec, logits = self.reconstruction(z, ids.repeat(mc_samples, 1))
            rec = rec.view(mc_samples, -1).mean(0)
            first_logits = logits[: ids.shape[0]]
        else:
            z = self.reparameterize(mu, logvar) if sample else mu
            rec, first_logits = self.reconstruction(z, ids)
        out = {"rec": rec, "kl": kl_divergence(mu, logvar), "mu": mu, "logvar": logvar,
               "logits": first_logits, "target": ids[:, 1:]}
        if self.property_head is not None:
            out["properties"] = self.property_head(mu)
        return out

    def log_likelihood(self, ids: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) per sequence (B,)."""
        rec, _ = self.reconstruction(z, ids)
        return -rec


def iwae_nll(model: SeqVAE, ids: torch.Tensor, k: int = 50) -> torch.Tensor:
    """Importance-weighted estimate of -log p(x) per sequence (B,), with ``k`` samples."""
    mu, logvar = model.encoder(ids)
    std = (0.5 * logvar).exp()
    b, d = mu.shape
    eps = torch.randn(k, b, d, device=mu.device)
    z = mu.unsqueeze(0) + eps * std.unsqueeze(0)
    log_px = -model.reconstruction(z.reshape(k * b, d), ids.repeat(k, 1))[0].view(k, b)
    log_pz = (-0.5 * (z.pow(2) + math.log(2 * math.pi))).sum(2)
    log_qz = (-0.5 * (eps.pow(2) + math.log(2 * math.pi)) - 0.5 * logvar.unsqueeze(0)).sum(2)
    return -(torch.logsumexp(log_px + log_pz - log_qz, dim=0) - math.log(k))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
