"""Configuration of the sequence VAE and its training, as frozen dataclasses.

Configs travel as JSON (``to_dict`` / ``from_dict``) beside the weights; they
are never pickled, so a checkpoint loads with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from seqvae.errors import ConfigError, SeqVAEError  # noqa: F401 - seqvae.molecules.chem.errors imports it from here

__all__ = ["ModelConfig", "TrainConfig", "CHEMICAL_VAE"]


def _tuple_fields(cls) -> set[str]:
    return {f.name for f in fields(cls) if str(f.type).startswith("tuple")}


class _JSONConfig:
    """Shared JSON round trip for the frozen configs."""

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
        tuples = _tuple_fields(cls)
        kwargs = {k: (tuple(v) if k in tuples and v is not None else v) for k, v in d.items()}
        return cls(**kwargs)

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ModelConfig(_JSONConfig):
    """Sizes and switches of :class:`seqvae.model.SeqVAE`.

    The defaults fit small automata (sequences of a few dozen tokens) and
    train in minutes on two CPU cores. One wide convolution and a step-position
    embedding in the decoder learn exact reconstructions several times faster
    (per step) than three stacked convolutions without positions; the
    chemical-VAE sizes are in :data:`CHEMICAL_VAE`.

    Parameters
    ----------
    vocab_size, pad_id, bos_id, eos_id
        Taken from the tokenizer; the model knows nothing else about it.
    max_len
        Longest token sequence (BOS and EOS included). Needed by the
        ``"flatten"`` encoder head, which pads every batch to it.
    embed_dim
        Token embedding width; 0 means one-hot input (channels = vocabulary).
    conv_channels, conv_kernels
        One Conv1d per entry, convolving over positions.
    conv_padding
        ``"valid"`` (as the chemical VAE) or ``"same"``.
    pool
        ``"flatten"``: flatten (channels x positions) after the convolutions,
        padding the input to ``max_len``; ``"meanmax"``: masked mean and max
        over positions (any length, no padding to ``max_len``).
    enc_hidden
        Width of the dense layer between the convolutions and mu / log sigma^2.
    d_z
        Latent dimension.
    logvar_min, logvar_max
        Clamp range of log sigma^2 (keeps exp() finite early in training).
    init_logvar
        Initial bias of the log sigma^2 head: a small initial posterior noise
        lets the decoder learn to read z before the KL term widens it.
    dec_z_dim
        Width of the dense projection of z fed to the decoder at every step.
    dec_hidden, dec_layers
        GRU width and depth.
    teacher_forcing
        When True the decoder also sees the previous token's embedding; when
        False it sees only z at every step (the original chemical VAE).
    word_dropout
        Probability of hiding a previous token from the decoder in training.
    z_to_hidden
        Initialise every GRU layer's hidden state from z as well.
    dec_position_dim
        Width of a learned step-position embedding added to the decoder input
        (0: none). It spares the GRU from counting steps to know which part of
        z to read out, which speeds up learning of exact reconstructions.
    n_properties, property_hidden
        A property head on the latent mean, trained jointly with the VAE (the
        chemical VAE's design): an MLP ``mu -> n_properties`` standardised values
        with two hidden layers of ``property_hidden`` units; 0 properties: no head.
    """

    vocab_size: int = 32
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2
    max_len: int = 64
    embed_dim: int = 32
    conv_channels: tuple[int, ...] = (64,)
    conv_kernels: tuple[int, ...] = (3,)
    conv_padding: str = "same"
    pool: str = "flatten"
    enc_hidden: int = 256
    d_z: int = 32
    logvar_min: float = -10.0
    logvar_max: float = 4.0
    init_logvar: float = -4.0
    dec_z_dim: int = 128
    dec_hidden: int = 256
    dec_layers: int = 1
    teacher_forcing: bool = True
    word_dropout: float = 0.0
    z_to_hidden: bool = True
    dec_position_dim: int = 16
    n_properties: int = 0
    property_hidden: int = 64

    def __post_init__(self):
        for name in ("vocab_size", "max_len", "enc_hidden", "d_z", "dec_z_dim", "dec_hidden",
                     "dec_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.dec_position_dim < 0:
            raise ConfigError("dec_position_dim must be >= 0")
        if not isinstance(self.n_properties, int) or self.n_properties < 0 \
                or not isinstance(self.property_hidden, int) or self.property_hidden < 1:
            raise ConfigError("n_properties must be >= 0 and property_hidden >= 1")
        if self.embed_dim < 0:
            raise ConfigError("embed_dim must be >= 0 (0 = one-hot input)")
        if len(self.conv_channels) != len(self.conv_kernels):
            raise ConfigError("conv_channels and conv_kernels must have the same length")
        if any(c < 1 for c in self.conv_channels) or any(k < 1 for k in self.conv_kernels):
            raise ConfigError("conv channels and kernels must be positive")
        if self.conv_padding not in ("valid", "same"):
            raise ConfigError(f"conv_padding must be 'valid' or 'same', got {self.conv_padding!r}")
        if self.conv_padding == "same" and any(k % 2 == 0 for k in self.conv_kernels):
            raise ConfigError("'same' convolutions need odd kernel sizes")
        if self.pool not in ("flatten", "meanmax"):
            raise ConfigError(f"pool must be 'flatten' or 'meanmax', got {self.pool!r}")
        if self.pool == "flatten" and self.conv_out_len < 1:
            raise ConfigError(
                f"max_len {self.max_len} is too short for valid convolutions with kernels "
                f"{list(self.conv_kernels)}")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ConfigError("word_dropout must be in [0, 1)")
        if not self.logvar_min < self.logvar_max:
            raise ConfigError("logvar_min must be below logvar_max")
        for name in ("pad_id", "bos_id", "eos_id"):
            if not 0 <= getattr(self, name) < self.vocab_size:
                raise ConfigError(f"{name} must be a token id below vocab_size")

    @property
    def conv_out_len(self) -> int:
        """Number of positions after the convolutions for an input of ``max_len``."""
        if self.conv_padding == "same":
            return self.max_len
        return self.max_len - sum(k - 1 for k in self.conv_kernels)

    @classmethod
    def for_tokenizer(cls, tokenizer, max_len: int, **overrides) -> "ModelConfig":
        """Config whose vocabulary fields come from ``tokenizer``."""
        return cls(vocab_size=int(tokenizer.vocab_size), pad_id=int(tokenizer.pad_id),
                   bos_id=int(tokenizer.bos_id), eos_id=int(tokenizer.eos_id),
                   max_len=int(max_len), **overrides)


#: The chemical-VAE sizes (Gomez-Bombarelli et al. 2018), used by the speed benchmark.
CHEMICAL_VAE = dict(embed_dim=0, conv_channels=(9, 9, 10), conv_kernels=(9, 9, 11),
                    conv_padding="valid", pool="flatten", enc_hidden=435, d_z=196, dec_z_dim=196,
                    dec_hidden=488, dec_layers=3, teacher_forcing=False, z_to_hidden=False)


@dataclass(frozen=True)
class TrainConfig(_JSONConfig):
    """Optimisation, KL schedule, validation, early stopping and checkpointing.

    Parameters
    ----------
    epochs
        Passes over the training items (``max_steps`` may stop earlier).
    max_steps
        Optional cap on optimiser steps (None: no cap).
    batch_size, lr, weight_decay, grad_clip
        Adam with gradient-norm clipping (``grad_clip`` <= 0 disables it).
    lr_schedule
        ``"constant"`` or ``"cosine"`` (to ``lr * lr_min_factor``), after
        ``warmup_steps`` of linear warm-up.
    kl_max
        Final KL weight. Below 1 (a beta-VAE) the code keeps the ~20 nats an
        automaton needs for exact reconstruction; at 1 the decoder learns to
        ignore part of it.
    kl_schedule
        ``"constant"`` (weight ``kl_max``), ``"linear"`` (0 to ``kl_max`` over
        ``kl_warmup_steps``), ``"sigmoid"`` (centred at ``kl_warmup_steps / 2``,
        steepness ``kl_sigmoid_k``), ``"cyclical"`` (``kl_cycles`` cycles over
        the planned steps, rising over the first ``kl_ratio`` of each cycle).
    free_bits
        Minimum KL (nats) per latent dimension, averaged over the batch,
        below which the KL term exerts no pull (0 disables).
    property_weight
        Weight of the property head's mean squared error (standardised targets)
        in the loss, when the model has a head and the items have targets.
    mc_samples
        Monte Carlo samples of z per item for the reconstruction term.
    val_fraction, test_fraction
        Shares of the data kept for validation (early stopping) and for
        held-out evaluation (never seen in training).
    patience
        Epochs without a better validation ELBO before stopping (0: never stop early).
    checkpoint_every
        Write a checkpoint every so many steps (0: only at epoch ends and the end).
    checkpoint_seconds
        Also write one when this many seconds have passed since the last (0: off).
    bucket
        Bucket batches by length (pads each batch only to its longest item).
    precision
        ``"fp32"`` or ``"bf16"`` (CPU autocast: matrix products in bfloat16,
        weights and optimiser in float32; about twice as fast on CPUs with
        bfloat16 instructions, at slightly different numbers).
    seed
        Seeds the split, the batch order and the noise.
    """

    epochs: int = 5
    max_steps: int | None = None
    batch_size: int = 64
    lr: float = 3e-3
    lr_schedule: str = "cosine"
    lr_min_factor: float = 0.05
    warmup_steps: int = 100
    weight_decay: float = 0.0
    grad_clip: float = 5.0
    kl_schedule: str = "linear"
    kl_max: float = 0.25
    kl_warmup_steps: int = 1000
    kl_sigmoid_k: float = 0.005
    kl_cycles: int = 4
    kl_ratio: float = 0.5
    free_bits: float = 0.0
    property_weight: float = 1.0
    mc_samples: int = 1
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    patience: int = 3
    checkpoint_every: int = 0
    checkpoint_seconds: float = 0.0
    bucket: bool = True
    precision: str = "fp32"
    seed: int = 0

    def __post_init__(self):
        if self.epochs < 1:
            raise ConfigError("epochs must be >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError("max_steps must be >= 1 or None")
        if self.batch_size < 1:
            raise ConfigError("batch_size must be >= 1")
        if not self.lr > 0:
            raise ConfigError("lr must be positive")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.kl_schedule not in ("constant", "linear", "sigmoid", "cyclical"):
            raise ConfigError(
                f"kl_schedule must be constant, linear, sigmoid or cyclical, got {self.kl_schedule!r}")
        if self.precision not in ("fp32", "bf16"):
            raise ConfigError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        if self.mc_samples < 1:
            raise ConfigError("mc_samples must be >= 1")
        if self.free_bits < 0:
            raise ConfigError("free_bits must be >= 0")
        if not 0 <= self.property_weight < float("inf"):
            raise ConfigError("property_weight must be a finite number >= 0")
        if not (0 <= self.val_fraction < 1 and 0 <= self.test_fraction < 1
                and self.val_fraction + self.test_fraction < 1):
            raise ConfigError("val_fraction and test_fraction must be in [0, 1) and sum below 1")
        if self.kl_cycles < 1 or not 0 < self.kl_ratio <= 1:
            raise ConfigError("kl_cycles must be >= 1 and kl_ratio in (0, 1]")
        if self.patience < 0 or self.checkpoint_every < 0 or self.warmup_steps < 0:
            raise ConfigError("patience, checkpoint_every and warmup_steps must be >= 0")
        if not (isinstance(self.checkpoint_seconds, (int, float))
                and 0 <= self.checkpoint_seconds < float("inf")):
            raise ConfigError("checkpoint_seconds must be a finite number >= 0")
