"""A trained run: the :class:`Run` object every latent-space tool works with.

``encode`` items to latent means, ``decode`` latent points to token ids
(optionally constrained), ``decode_parsed`` to parsed items, ``sample`` from
the prior (standard or fitted). Runs are loaded by :func:`seqvae.runs.load_run`
and made by :func:`seqvae.runs.train`; where the files go is
:mod:`seqvae.rundir`'s business, what an item is the
:class:`~seqvae.domains.Domain`'s.
"""
from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from seqvae import __version__
from seqvae.config import TrainConfig
from seqvae.constraints import grammar_constraint
from seqvae.decode import DecodeSettings
from seqvae.decode import decode as _decode
from seqvae.errors import RunError
from seqvae.model import SeqVAE
from seqvae.rundir import RunDir, make_checkpoint
from seqvae.train_schedule import pad_sequences

__all__ = ["Run"]


class Run:
    """A trained sequence VAE with its domain and data.

    Attributes
    ----------
    model : SeqVAE (in eval mode)
    domain, tokenizer
    config : dict
        The run's ``config.json`` (keys ``model``, ``train``, ``domain``,
        ``constraint_spec``, ``data``, ``version``).
    model_config : ModelConfig
    d_z : int
    run_dir : Path or None
    train_keys : set[str]
        Canonical keys of the training items (for novelty).
    heldout_items : list
        Items never used in training (DFAs for automata, strings otherwise).
    """

    def __init__(self, model: SeqVAE, domain, config: dict, *, run_dir: str | os.PathLike | None = None,
                 train_keys: set[str] | None = None, heldout_items: list | None = None,
                 train_items: list | None = None):
        self.model = model.eval()
        self.domain = domain
        self.config = config
        self.model_config = model.config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        # where the item lists live (kept by copies, whose run_dir may change)
        self._items_dir = self.run_dir
        self._train_keys = set(train_keys) if train_keys is not None else None
        self._heldout = list(heldout_items) if heldout_items is not None else None
        self._train_items = list(train_items) if train_items is not None else None

    # -- facts -------------------------------------------------------------------------
    @property
    def tokenizer(self):
        return self.domain.tokenizer

    @property
    def d_z(self) -> int:
        return int(self.model_config.d_z)

    @property
    def device(self) -> torch.device:
        """Where the model's weights are."""
        return next(self.model.parameters()).device

    def to(self, device) -> "Run":
        """Move the model to ``device`` (see :func:`seqvae.device.resolve_device`); returns self."""
        self.model.to(device)
        return self

    @property
    def train_config(self) -> TrainConfig | None:
        t = self.config.get("train")
        return TrainConfig.from_dict(t) if t else None

    @property
    def constraint_spec(self) -> dict:
        """Default keyword arguments of ``domain.constraint`` (the training sizes)."""
        return dict(self.config.get("constraint_spec") or {})

    @property
    def train_keys(self) -> set[str]:
        if self._train_keys is None:
            self._train_keys = RunDir(self.run_dir).read_train_keys() if self.run_dir else set()
        return self._train_keys

    @property
    def heldout_items(self) -> list:
        if self._heldout is None:
            self._heldout = self._stored_items("heldout")
        return self._heldout

    @property
    def train_items(self) -> list:
        """The training items (read from the run directory on first use)."""
        if self._train_items is None:
            self._train_items = self._stored_items("train")
        return self._train_items

    @property
    def property_names(self) -> list[str]:
        """The properties its jointly trained head predicts ([] without a head)."""
        spec = self.config.get("properties") or {}
        return list(spec.get("names", [])) if self.model.property_head is not None else []

    def predict_properties(self, z) -> np.ndarray:
        """The joint head's predictions (B, len(property_names)) at latent points ``z``,
        in property units (the training scale undone).

        Raises
        ------
        RunError
            The run was trained without a property head.
        """
        if not self.property_names:
            raise RunError("this run has no property head (train with --properties)")
        spec = self.config["properties"]
        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.device)
            pred = self.model.property_head(zt).float().cpu().numpy().astype(np.float64)
        return pred * np.asarray(spec["std"]) + np.asarray(spec["mean"])

    def _stored_items(self, split: str) -> list:
        texts = RunDir(self._items_dir).read_items(split) if self._items_dir else []
        return [self.domain.item_from_text(t) for t in texts]

    # -- encode / decode ---------------------------------------------------------------
    def encode_ids(self, ids: Sequence[Sequence[int]], batch_size: int = 512
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Latent means and log-variances (B, d_z) of token id lists."""
        mus, lvs = [], []
        with torch.no_grad():
            for start in range(0, len(ids), batch_size):
                x, _ = pad_sequences(ids[start:start + batch_size], self.model_config.pad_id)
                mu, lv = self.model.encoder(x.to(self.device))
                mus.append(mu.float().cpu().numpy())
                lvs.append(lv.float().cpu().numpy())
        if not mus:
            empty = np.zeros((0, self.d_z), dtype=np.float32)
            return empty, empty.copy()
        return np.concatenate(mus), np.concatenate(lvs)

    def encode(self, items: Iterable, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Latent means and log-variances (B, d_z), float32 numpy, of domain items.

        Automata may be given as DFAs or compact text; they are canonicalised first.
        """
        ids = [self.tokenizer.encode(item) for item in self.domain.prepare(items)]
        return self.encode_ids(ids, batch_size=batch_size)

    def constraint(self, **spec):
        """The decode constraint for ``spec`` (defaults: the training sizes); for domains
        without a grammar, a :class:`~seqvae.constraints.StringConstraint` of at least one
        token that fits the model's ``max_len``."""
        merged = self.constraint_spec
        merged.update({k: v for k, v in spec.items() if v is not None})
        if self.decoding.grammar:
            return grammar_constraint(self.tokenizer,
                                      merged.get("max_len") or self.model_config.max_len - 2)
        constraint = self.domain.constraint(**merged)
        if constraint is None:
            # No grammar: at least keep the token sequence well formed (BOS and EOS
            # take two of the model's max_len positions).
            from seqvae.constraints import StringConstraint

            constraint = StringConstraint(self.tokenizer, max_len=self.model_config.max_len - 2,
                                          min_len=1)
        return constraint

    #: How :meth:`decode` decodes when no method is given (see :meth:`use_decoding`).
    decoding = DecodeSettings()

    def use_decoding(self, method: str = "greedy", beam_width: int = 8, *,
                     grammar: bool = False, valid_first: bool = False) -> "Run":
        """Set the point decoder of this run (what :meth:`decode` does without a
        ``method``, hence reconstruction, prior samples and the MOSES metrics);
        ``grammar`` also applies to every constrained decode. Returns self.

        Raises
        ------
        DecodingError
            A bad method or width, valid-first without beam search, or a grammar
            the run's tokenizer has none of (SELFIES, automata).
        """
        settings = DecodeSettings(method, beam_width, bool(grammar), bool(valid_first))
        if settings.grammar:
            grammar_constraint(self.tokenizer, self.model_config.max_len - 2)
        self.decoding = settings
        return self

    def decode(self, z, *, method: str | None = None, constrained: bool = True,
               temperature: float = 1.0, beam_width: int | None = None,
               seed: int | None = None, max_steps: int | None = None,
               **constraint_spec) -> list[list[int]]:
        """Decode latent points ``z`` (B, d_z) into token id lists ``[BOS, ..., EOS]``.

        ``method`` None uses the run's :attr:`decoding` (greedy unless
        :meth:`use_decoding` chose otherwise); a beam decode returns the best valid
        beam when the settings say valid-first. ``constrained`` keeps every
        sequence well formed (for automata: the training sizes unless
        ``n_states`` / ``n_letters`` are given).
        """
        settings = self.decoding
        method = settings.method if method is None else method
        beam_width = settings.beam_width if beam_width is None else beam_width
        accept = None
        if method == "beam" and settings.valid_first:
            def accept(seqs):
                return [p.ok for p in self.domain.parse_many(seqs)]
        constraint = self.constraint(**constraint_spec) if constrained else None
        return _decode(self.model, z, method=method, constraint=constraint,
                       temperature=temperature, beam_width=beam_width, seed=seed,
                       max_steps=max_steps, accept=accept)

    def decode_parsed(self, z, **kwargs) -> list:
        """:meth:`decode`, then ``domain.parse_many``: a list of :class:`~seqvae.domains.Parsed`."""
        return self.domain.parse_many(self.decode(z, **kwargs))

    #: The density :meth:`sample_prior` draws from: None for N(0, I), else a fitted
    #: :class:`~seqvae.latent_prior.GaussianMixture` (see :meth:`use_prior`).
    latent_prior = None
    #: Standard deviations of :meth:`sample_prior` times this (1: the prior itself; below
    #: 1: "reduced temperature", nearer the mode(s), fewer invalid and fewer new items).
    prior_scale = 1.0

    @property
    def prior_name(self) -> str:
        """``"standard"`` (N(0, I)) or ``"fitted"`` (the run's fitted mixture)."""
        return "standard" if self.latent_prior is None else "fitted"

    def use_prior(self, name: str, scale: float = 1.0) -> "Run":
        """Sample from ``"standard"`` N(0, I) or the run's ``"fitted"`` prior
        (``RUN/latent_prior.npz``, made by ``seqvae fit-prior``), with its standard
        deviations times ``scale``; returns self.

        Raises
        ------
        RunError
            Unknown name, or no fitted prior in the run directory.
        LatentError
            The fitted prior file is malformed or has the wrong dimension.
        """
        from seqvae.latent_prior import PRIORS, load_fitted_prior

        if name not in PRIORS:
            raise RunError(f"unknown prior {name!r}; choose one of {', '.join(PRIORS)}")
        if not (math.isfinite(scale) and 0 < scale <= 10):
            raise RunError(f"the prior scale must be in (0, 10], got {scale}")
        self.prior_scale = float(scale)
        if name == "standard":
            self.latent_prior = None
            return self
        if self.run_dir is None:
            raise RunError("a fitted prior needs a run directory")
        gmm = load_fitted_prior(self.run_dir)
        if gmm.dim != self.d_z:
            raise RunError(f"{self.run_dir}: the fitted prior has dimension {gmm.dim}, "
                           f"the model d_z {self.d_z}; refit it with `seqvae fit-prior`")
        self.latent_prior = gmm
        return self

    def sample_prior(self, count: int, seed: int | None = 0) -> np.ndarray:
        """``count`` points from the prior (N(0, I) unless :meth:`use_prior` chose the
        fitted one), shape (count, d_z)."""
        if self.latent_prior is not None:
            return self.latent_prior.sample(count, seed=seed, scale=self.prior_scale)
        rng = np.random.default_rng(seed)
        return (self.prior_scale * rng.standard_normal((int(count), self.d_z))).astype(np.float32)

    def sample(self, count: int, *, seed: int | None = 0, **decode_kwargs) -> list:
        """Parsed decodes of ``count`` prior samples."""
        return self.decode_parsed(self.sample_prior(count, seed), seed=seed, **decode_kwargs)

    # -- persistence ----------------------------------------------------------------------
    def copy(self) -> "Run":
        """An independent copy (own weights) sharing the domain and data lists."""
        new = Run(copy.deepcopy(self.model), self.domain, copy.deepcopy(self.config),
                  run_dir=self.run_dir, train_keys=set(self.train_keys),
                  heldout_items=self._heldout, train_items=self._train_items)
        new._items_dir = self._items_dir
        new.latent_prior = self.latent_prior
        new.prior_scale = self.prior_scale
        new.decoding = self.decoding
        return new

    def save(self, run_dir: str | os.PathLike, *, command: str | None = None) -> Path:
        """Write this run (weights, config, keys, held-out items) as a run directory."""
        store = RunDir(run_dir)
        config = dict(self.config)
        config["version"] = __version__
        store.write_config(config)
        store.write_provenance(command)
        store.save_checkpoint(make_checkpoint(
            self.model.state_dict(), self.model_config.to_dict(),
            {"domain": self.domain.to_dict(), "tokenizer": self.tokenizer.to_dict()}))
        store.write_train_keys(self.train_keys)
        store.write_items("heldout", [self.domain.item_to_text(i) for i in self.heldout_items])
        if self._train_items is not None or self._items_dir is not None:
            store.write_items("train", [self.domain.item_to_text(i) for i in self.train_items])
        self.run_dir = store.path
        self._items_dir = store.path
        return store.path

    def __repr__(self) -> str:
        where = f", run_dir={str(self.run_dir)!r}" if self.run_dir else ""
        return f"Run(domain={self.domain.name!r}, d_z={self.d_z}{where})"
