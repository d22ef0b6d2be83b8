"""A trained run and how it is made: :class:`Run`, :func:`load_run`, :func:`train`,
:func:`fine_tune`.

:func:`load_run` returns a :class:`Run`, the object every latent-space tool
works with: ``encode`` items to latent means, ``decode`` latent points to
token ids (optionally constrained), ``decode_parsed`` to parsed items.
:func:`train` turns domain items into a trained run (through the domain-free
:class:`~seqvae.train.Trainer`); :func:`fine_tune` continues one on weighted
items. Where the files go is :mod:`seqvae.rundir`'s business; what an item is,
the :class:`~seqvae.domains.Domain`'s.
"""
from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from seqvae import __version__
from seqvae.config import ModelConfig, TrainConfig
from seqvae.constraints import grammar_constraint
from seqvae.decode import DecodeSettings
from seqvae.decode import decode as _decode
from seqvae.domains import Domain, domain_from_dict
from seqvae.errors import RunError, TrainingError
from seqvae.model import SeqVAE
from seqvae.rundir import SPLITS, RunDir, make_checkpoint
from seqvae.targets import property_targets
from seqvae.train import Trainer, init_distributed, pad_sequences
from seqvae.validators import UnknownValidatorError

__all__ = ["Run", "STORED", "load_run", "load_molecule_runs", "train", "fine_tune", "split_items",
           "given_split"]


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


def _shipped_weights(state: dict) -> dict:
    """The weights a checkpoint ships: the last step's, or the best validation epoch's
    when the trainer chose those (``final_weights``; older checkpoints: best if any)."""
    if state.get("final_weights") == "last_step":
        return state["model"]
    return state.get("best_model") or state["model"]


def _check_sizes(mcfg: ModelConfig, weights: dict) -> None:
    """RunError unless the configured model has exactly the tensors the checkpoint holds.

    Built on torch's meta device (shapes only, no memory), so that a size edited
    into ``config.json`` cannot make loading allocate more than the file holds.
    """
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in SeqVAE(mcfg).state_dict().items()}
    held = {k: tuple(v.shape) for k, v in weights.items() if isinstance(v, torch.Tensor)}
    if shapes != held:
        differ = sorted(set(shapes) ^ set(held)) or sorted(k for k in shapes
                                                            if shapes[k] != held.get(k))
        raise RunError(f"the model configuration does not match the weights in the checkpoint "
                       f"(first difference: {differ[0][:80]})")


#: ``load_run(validity=...)`` default: the validator the run names, looked up by name.
STORED = "stored"


def _domain_description(config: dict, validity) -> dict:
    """The run's domain description, without its validity and canonical names when the
    caller gives its own validity (or None); a name read from the file is only ever looked
    up in :mod:`seqvae.validators`, never imported."""
    described = config["domain"]
    if validity is STORED or not isinstance(described, dict) or "validity" not in described:
        return described
    return {**described, "validity": None, "canonical": None}


def load_run(run_dir: str | os.PathLike, *, validity=STORED) -> Run:
    """Load a run directory written by :func:`train` or :meth:`Run.save`.

    Parameters
    ----------
    run_dir
        The run directory.
    validity
        Strings runs: :data:`STORED` (default) uses the validator the run names,
        which must be registered in :mod:`seqvae.validators`; None loads without
        validity (and canonical) functions; a callable or a registered name uses
        that one instead.

    Raises
    ------
    RunError
        When the directory, its config or its checkpoint is missing or unreadable.
    UnknownValidatorError
        When the run names a validator that is not registered.
    """
    store = RunDir(run_dir)
    if not store.path.is_dir():
        raise RunError(f"not a run directory: {store.path}")
    if not store.is_run():
        raise RunError(f"{store.path} is not a trained run (needs its config and checkpoint)")
    config = store.read_config()
    state = store.load_checkpoint()
    try:
        mcfg = ModelConfig.from_dict(state.get("model_config") or config["model"])
        weights = _shipped_weights(state)
        _check_sizes(mcfg, weights)
        domain = domain_from_dict(_domain_description(config, validity))
        if domain.tokenizer.vocab_size != mcfg.vocab_size:
            raise RunError(f"the tokenizer has {domain.tokenizer.vocab_size} tokens, the model "
                           f"{mcfg.vocab_size}")
        if validity is not STORED and validity is not None:
            domain = domain.with_validity(validity)
        model = SeqVAE(mcfg)
        model.load_state_dict(weights)
    except UnknownValidatorError as exc:
        raise UnknownValidatorError(f"run {store.path}: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError,
            RecursionError) as exc:
        raise RunError(f"run {store.path} is incomplete or inconsistent: "
                       f"{' '.join(str(exc).split())[:200]}") from None
    return Run(model, domain, config, run_dir=store.path)


def load_molecule_runs(run_dirs: Sequence[str | os.PathLike], purpose: str) -> list[Run]:
    """:func:`load_run` of each directory, all of them first, refusing a run whose
    items are not molecules, so a molecule benchmark stops before its first table row.

    Raises
    ------
    RunError
        A directory is not a loadable run, or its domain is not molecular (the message
        names the directory and ``purpose``).

    Examples
    --------
    >>> load_molecule_runs(["/nonexistent"], "the benchmark")
    Traceback (most recent call last):
    ...
    seqvae.errors.RunError: not a run directory: /nonexistent
    """
    runs = [load_run(run_dir) for run_dir in run_dirs]
    for run_dir, run in zip(run_dirs, runs):
        run.domain.require_molecular(f"{run_dir}: {purpose}", RunError)
    return runs


# ---------------------------------------------------------------------------
# making runs: domain items in, Run out
# ---------------------------------------------------------------------------
def split_items(n: int, val_fraction: float, test_fraction: float, seed: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train / validation / held-out index arrays (sorted), a function of ``seed``.

    >>> tr, va, te = split_items(100, 0.1, 0.05, seed=0)
    >>> len(tr), len(va), len(te)
    (85, 10, 5)
    """
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    n_val = int(round(n * val_fraction))
    if n - n_test - n_val < 1:
        raise TrainingError(f"{n} items leave nothing to train on after the validation and "
                            "held-out splits")
    test, val, tr = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return np.sort(tr), np.sort(val), np.sort(test)


def _new_run_setup(items: Sequence, domain: Domain, model_config, train_config,
                   data_info: dict | None, split: dict | None = None):
    """Configs, splits and ``config.json`` of a new run:
    ``(mcfg, tcfg, config, splits, ids)`` (items and token ids by split)."""
    if items is None or len(items) == 0:
        raise TrainingError("no items to train on")
    tcfg = train_config if isinstance(train_config, TrainConfig) else \
        TrainConfig(**(train_config or {}))
    all_items = domain.prepare(items)
    all_ids = [domain.tokenizer.encode(i) for i in all_items]
    max_len = max(len(s) for s in all_ids)
    if isinstance(model_config, ModelConfig):
        mcfg = model_config
    else:
        mcfg = ModelConfig.for_tokenizer(domain.tokenizer, max_len, **(model_config or {}))
    parts = (split_items(len(all_items), tcfg.val_fraction, tcfg.test_fraction, tcfg.seed)
             if split is None else given_split(split, len(all_items)))
    splits = {name: [all_items[i] for i in idx] for name, idx in zip(SPLITS, parts)}
    ids = {name: [all_ids[i] for i in idx] for name, idx in zip(SPLITS, parts)}
    config = {"version": __version__, "model": mcfg.to_dict(), "train": tcfg.to_dict(),
              "domain": domain.to_dict(), "tokenizer": domain.tokenizer.to_dict(),
              "constraint_spec": domain.constraint_spec(all_items),
              "data": dict(data_info or {}),
              "counts": {name: len(part) for name, part in splits.items()}}
    return mcfg, tcfg, config, splits, ids


def given_split(split: dict, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A split fixed by the data set: ``{"train": idx, "val": idx, "heldout": idx}`` as the
    index arrays of :func:`split_items` (a missing part is empty).

    >>> [a.tolist() for a in given_split({"train": [2, 0], "heldout": [1]}, 3)]
    [[0, 2], [], [1]]
    """
    parts = []
    for name in SPLITS:
        idx = np.asarray(sorted(int(i) for i in split.get(name, ())), dtype=np.int64)
        if len(idx) and (idx[0] < 0 or idx[-1] >= n):
            raise TrainingError(f"split {name!r} has an index outside 0..{n - 1}")
        parts.append(idx)
    if len(parts[0]) == 0:
        raise TrainingError("the given split has no training items")
    if len(np.unique(np.concatenate(parts))) != sum(len(p) for p in parts):
        raise TrainingError("the given split puts an item in two parts")
    return parts[0], parts[1], parts[2]


def _resumed_run_setup(store: RunDir | None, domain: Domain):
    """What a run directory holds to continue training:
    ``(state, mcfg, tcfg, config, splits, ids)``."""
    if store is None or not store.has_checkpoint():
        raise TrainingError(f"nothing to resume: no checkpoint in {store.path if store else None}")
    state = store.load_checkpoint()
    if "train_config" not in state:
        raise TrainingError(f"{store.path} holds a finished copy, not a training checkpoint")
    splits = {name: [domain.item_from_text(t) for t in store.read_items(name)] for name in SPLITS}
    ids = {name: [domain.tokenizer.encode(i) for i in splits[name]] for name in ("train", "val")}
    return (state, ModelConfig.from_dict(state["model_config"]),
            TrainConfig.from_dict(state["train_config"]), store.read_config(), splits, ids)


#: What ``train(..., resume=True, train_config=...)`` may change: how long the run goes on.
EXTENDABLE = ("epochs", "max_steps", "patience", "checkpoint_every", "checkpoint_seconds")


def _extended(tcfg: TrainConfig, overrides) -> TrainConfig:
    """The stored training config with new limits (``--resume --epochs/--max-steps``)."""
    if not overrides:
        return tcfg
    if isinstance(overrides, TrainConfig):
        overrides = overrides.to_dict()
    other = sorted(k for k in overrides if k not in EXTENDABLE)
    if other:
        raise TrainingError(f"a resumed run keeps its training config; only "
                            f"{', '.join(EXTENDABLE)} can change (got {', '.join(other)})")
    return TrainConfig.from_dict({**tcfg.to_dict(), **overrides})


def _write_new_run(store: RunDir, domain: Domain, config: dict, splits: dict,
                   keys: Sequence[str], command: str | None) -> None:
    store.clear_metrics()
    store.write_config(config)
    store.write_provenance(command)
    for name, part in splits.items():
        store.write_items(name, [domain.item_to_text(i) for i in part])
    store.write_train_keys(keys)


def train(items: Sequence | None, domain: Domain, *, out_dir: str | os.PathLike | None = None,
          model_config: ModelConfig | dict | None = None,
          train_config: TrainConfig | dict | None = None, resume: bool = False,
          progress: Callable[[int], None] | None = None,
          on_log: Callable[[dict], None] | None = None,
          on_start: Callable[[int], None] | None = None,
          command: str | None = None, data_info: dict | None = None,
          split: dict | None = None, device=None,
          properties: Sequence[str] | None = None) -> Run:
    """Train a sequence VAE on domain items and return the :class:`Run`.

    Parameters
    ----------
    items : sequence
        Domain items (or their text form); canonicalised by the domain. Ignored
        on ``resume`` (the run directory holds its own splits).
    domain : Domain
    out_dir : path or None
        Run directory; None trains in memory (nothing is written).
    model_config : ModelConfig, dict of overrides, or None
        Vocabulary fields and ``max_len`` come from the tokenizer and data
        when a dict or None is given.
    train_config : TrainConfig, dict of overrides, or None
    resume : bool
        Continue from the run directory's checkpoint (same configs and splits);
        ``train_config`` may then give new limits (:data:`EXTENDABLE`), which
        extends a finished run.
    progress, on_log, on_start
        Callbacks: steps done; each metrics record; the planned steps.
    command : str or None
        Command line recorded in the run directory.
    data_info : dict or None
        Facts about the data set kept in ``config.json`` under ``data``.
    split : dict or None
        Item indices per part (``train``, ``val``, ``heldout``) fixed by the data set
        (e.g. a scaffold split); None draws a random split from the train config.
    device : torch.device, str or None
        Where to train (default CPU); see :func:`seqvae.device.resolve_device`.
    properties : sequence of str or None
        Molecule runs: registered objective names (``qed``, ``logp``, ``sas``...)
        that a property head on z learns jointly with the VAE
        (the domain's, e.g. :mod:`seqvae.molecules.properties`); their scale is kept in ``config.json``
        under ``properties``. A resumed run keeps its own.

    Examples
    --------
    >>> from seqvae.strings import StringDomain
    >>> words = ["ab", "ba", "abc", "cab", "bca", "acb"] * 5
    >>> dom = StringDomain.fit(words, "char")
    >>> run = train(words, dom, model_config=dict(d_z=4, dec_hidden=16, enc_hidden=16),
    ...             train_config=dict(epochs=1, batch_size=8, val_fraction=0.0,
    ...                               test_fraction=0.0))
    >>> run.d_z
    4
    """
    store = RunDir(out_dir) if out_dir is not None else None
    keys = None
    if store is not None and init_distributed(device)[0] == 0:
        store.remove_stale_temps()
    if resume:
        state, mcfg, tcfg, config, splits, ids = _resumed_run_setup(store, domain)
        tcfg = _extended(tcfg, train_config)
        meta = state["meta"]
        targets = property_targets(domain, splits, config.get("properties"))
    else:
        names = None
        if properties:
            domain.require_molecular("a property head", TrainingError)
            names = domain.parse_property_names(properties)
            model_config = (model_config.replace(n_properties=len(names))
                            if isinstance(model_config, ModelConfig)
                            else {**(model_config or {}), "n_properties": len(names)})
        mcfg, tcfg, config, splits, ids = _new_run_setup(items, domain, model_config,
                                                         train_config, data_info, split)
        targets = property_targets(domain, splits, names)
        if targets:
            config["properties"] = targets.pop("scale")
        keys = domain.canonical_keys(splits["train"])
        meta = {"domain": domain.to_dict(), "tokenizer": domain.tokenizer.to_dict(),
                "version": __version__}
        if store is not None and init_distributed(device)[0] == 0:
            _write_new_run(store, domain, config, splits, keys, command)
    trainer = Trainer(mcfg, tcfg, ids["train"], ids["val"], out_dir=out_dir, meta=meta,
                      progress=progress, on_log=on_log, on_start=on_start, device=device,
                      train_targets=targets.get("train"), val_targets=targets.get("val"))
    if resume:
        trainer.restore(state)
    trainer.fit()
    return _finished_run(trainer, domain, config, store, keys, splits)


def _finished_run(trainer: Trainer, domain: Domain, config: dict, store: RunDir | None,
                  keys: Sequence[str] | None, splits: dict) -> Run:
    """The trained :class:`Run` (best weights), its result recorded in ``config.json``."""
    model = SeqVAE(trainer.mcfg)
    model.load_state_dict(trainer.final_state())
    config = dict(config)
    config["result"] = {"steps": trainer.step, "epochs": trainer.epoch,
                        "stopped_early": trainer.stopped_early,
                        "final_weights": trainer.final_weights, "best_val_objective":
                            (trainer.best_val if math.isfinite(trainer.best_val) else None)}
    if store is not None and trainer.rank == 0:
        store.write_config(config)
    # keys None: read lazily from the run directory
    run = Run(model, domain, config, run_dir=store.path if store else None,
              train_keys=set(keys) if keys is not None else None,
              heldout_items=splits["heldout"], train_items=splits["train"])
    run.trainer = trainer  # the history and final optimiser state, for callers that want them
    return run


def fine_tune(run: Run, items: Sequence, weights: Sequence[float] | None = None,
              steps: int = 200, *, lr: float = 5e-4, batch_size: int | None = None,
              kl_weight_value: float | None = None, seed: int = 0,
              out_dir: str | os.PathLike | None = None,
              progress: Callable[[int], None] | None = None,
              on_log: Callable[[dict], None] | None = None) -> Run:
    """Weighted retraining: continue training a copy of ``run`` on ``items``.

    Each step draws a batch from ``items`` with probability proportional to
    ``weights`` (uniform when None), e.g. rank weights ``1 / (k N + rank)``.
    The original run is left untouched.

    Parameters
    ----------
    run : Run
    items : sequence
        Domain items (or their text form).
    weights : sequence of float or None
        Non-negative sampling weight per item.
    steps : int
        Optimiser steps.
    lr : float
        Constant learning rate (no warm-up).
    batch_size : int or None
        Default: the run's training batch size.
    kl_weight_value : float or None
        Constant KL weight (default: the run's ``kl_max``).
    seed : int
    out_dir : path or None
        Save the fine-tuned run there.

    Returns
    -------
    Run
        A new run whose ``train_keys`` also contain the keys of ``items``.
    """
    items = run.domain.prepare(items)
    if len(items) == 0:
        raise TrainingError("fine_tune needs at least one item")
    if steps < 1:
        raise TrainingError("steps must be >= 1")
    base = run.train_config or TrainConfig()
    bs = int(batch_size or base.batch_size)
    tcfg = base.replace(epochs=1_000_000, max_steps=int(steps), batch_size=bs, lr=float(lr),
                        lr_schedule="constant", warmup_steps=0, kl_schedule="constant",
                        kl_max=float(base.kl_max if kl_weight_value is None else kl_weight_value),
                        patience=0, checkpoint_every=0, seed=int(seed))
    ids = [run.tokenizer.encode(i) for i in items]
    new = run.copy()
    model = new.model
    if model.config.pool == "flatten" and max(len(s) for s in ids) > model.config.max_len:
        raise TrainingError("an item is longer than the model's max_len")
    w = np.ones(len(items)) if weights is None else np.asarray(weights, dtype=np.float64)
    trainer = Trainer(model.config, tcfg, ids, (), weights=w,
                      samples_per_epoch=max(bs, len(items)), model=model,
                      progress=progress, on_log=on_log, device=run.device)
    trainer.fit()
    model.eval()
    new.train_keys.update(run.domain.canonical_keys(items))
    cfg = dict(new.config)
    cfg["fine_tune"] = list(cfg.get("fine_tune", [])) + [
        {"items": len(items), "steps": int(steps), "lr": float(lr), "seed": int(seed)}]
    new.config = cfg
    new.run_dir = None
    if out_dir is not None:
        new.save(out_dir)
    return new
