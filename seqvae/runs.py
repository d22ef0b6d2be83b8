"""A trained run: model + domain + data splits, loaded from its run directory.

A run directory holds::

    config.json        model / train configs, domain, tokenizer, constraint spec, data facts
    checkpoint.pt      weights (+ optimiser, position, RNG while training); weights_only load
    command.txt        the command line that made it
    version.txt        package version
    metrics.jsonl      one JSON record per step and per epoch
    items/train.txt    training items, one per line (domain text form)
    items/val.txt      validation items (early stopping)
    items/heldout.txt  held-out items, never used in training
    train_keys.txt     canonical keys of the training items

:func:`load_run` returns a :class:`Run`, the object every latent-space tool
works with: ``encode`` items to latent means, ``decode`` latent points to
token ids (optionally constrained), ``decode_parsed`` to parsed items.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from automata.atomic import atomic_path, atomic_write_text

from . import __version__
from .config import ModelConfig, TrainConfig
from .errors import RunError
from .decode import decode as _decode
from .model import SeqVAE

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
ITEMS_DIR = "items"
TRAIN_KEYS = "train_keys.txt"


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))


def canonical_keys(domain, items: Sequence) -> list[str]:
    """Canonical keys of many items (batched for automata)."""
    from .domains import AutomataDomain

    if isinstance(domain, AutomataDomain) and len(items) > 0:
        from automata.canon import canonical_tables
        from automata.dfa import DFA
        from automata.formats import format_compact

        keys: list[str | None] = [None] * len(items)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault((item.n_letters, item.n_states), []).append(i)
        for idx in groups.values():
            tables = canonical_tables(np.stack([np.asarray(items[i].delta) for i in idx]))
            for j, i in enumerate(idx):
                keys[i] = format_compact(DFA(tables[j]))
        return keys  # type: ignore[return-value]
    return [domain.canonical_key(item) for item in items]


def canonicalize(domain, items: Sequence) -> list:
    """Canonical forms of automata items (batched); other domains' items unchanged."""
    from .domains import AutomataDomain

    if not isinstance(domain, AutomataDomain) or len(items) == 0:
        return list(items)
    from automata.canon import canonical_tables
    from automata.dfa import DFA

    out: list = [None] * len(items)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault((item.n_letters, item.n_states), []).append(i)
    for idx in groups.values():
        tables = canonical_tables(np.stack([np.asarray(items[i].delta) for i in idx]))
        for j, i in enumerate(idx):
            out[i] = DFA(tables[j])
    return out


def as_items(domain, items: Iterable) -> list:
    """Domain items from items or their text form (compact automata lines, strings)."""
    from .domains import AutomataDomain

    out = []
    for item in items:
        if isinstance(domain, AutomataDomain) and isinstance(item, str):
            item = domain.item_from_text(item)
        out.append(item)
    return out


def constraint_spec_for(domain, items: Sequence) -> dict:
    """The sizes seen in the training items, as keyword arguments of ``domain.constraint``."""
    from .domains import AutomataDomain

    if not isinstance(domain, AutomataDomain) or len(items) == 0:
        return {}
    ns = sorted({int(item.n_states) for item in items})
    ks = sorted({int(item.n_letters) for item in items})
    return {"n_states": ns[0] if len(ns) == 1 else ns,
            "n_letters": ks[0] if len(ks) == 1 else ks}


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
            keys = _read_lines(self.run_dir / TRAIN_KEYS) if self.run_dir else []
            self._train_keys = set(keys)
        return self._train_keys

    @property
    def heldout_items(self) -> list:
        if self._heldout is None:
            self._heldout = self._stored_items("heldout.txt")
        return self._heldout

    @property
    def train_items(self) -> list:
        """The training items (read from the run directory on first use)."""
        if self._train_items is None:
            self._train_items = self._stored_items("train.txt")
        return self._train_items

    def _stored_items(self, name: str) -> list:
        texts = _read_lines(self._items_dir / ITEMS_DIR / name) if self._items_dir else []
        return [self.domain.item_from_text(t) for t in texts]

    # -- encode / decode ---------------------------------------------------------------
    def encode_ids(self, ids: Sequence[Sequence[int]], batch_size: int = 512
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Latent means and log-variances (B, d_z) of token id lists."""
        from .train import pad_sequences

        mus, lvs = [], []
        with torch.no_grad():
            for start in range(0, len(ids), batch_size):
                x, _ = pad_sequences(ids[start:start + batch_size], self.model_config.pad_id)
                mu, lv = self.model.encoder(x)
                mus.append(mu.numpy())
                lvs.append(lv.numpy())
        if not mus:
            empty = np.zeros((0, self.d_z), dtype=np.float32)
            return empty, empty.copy()
        return np.concatenate(mus), np.concatenate(lvs)

    def encode(self, items: Iterable, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Latent means and log-variances (B, d_z), float32 numpy, of domain items.

        Automata may be given as DFAs or compact text; they are canonicalised first.
        """
        items = canonicalize(self.domain, as_items(self.domain, items))
        ids = [self.tokenizer.encode(item) for item in items]
        return self.encode_ids(ids, batch_size=batch_size)

    def constraint(self, **spec):
        """The decode constraint for ``spec`` (defaults: the training sizes); for domains
        without a grammar, a :class:`~seqvae.tokenizers.StringConstraint` of at least one
        token that fits the model's ``max_len``."""
        merged = self.constraint_spec
        merged.update({k: v for k, v in spec.items() if v is not None})
        constraint = self.domain.constraint(**merged)
        if constraint is None:
            # No grammar: at least keep the token sequence well formed (BOS and EOS
            # take two of the model's max_len positions).
            from .tokenizers import StringConstraint

            constraint = StringConstraint(self.tokenizer, max_len=self.model_config.max_len - 2,
                                          min_len=1)
        return constraint

    def decode(self, z, *, method: str = "greedy", constrained: bool = True,
               temperature: float = 1.0, beam_width: int = 8, seed: int | None = None,
               max_steps: int | None = None, **constraint_spec) -> list[list[int]]:
        """Decode latent points ``z`` (B, d_z) into token id lists ``[BOS, ..., EOS]``.

        ``constrained`` keeps every sequence well formed (for automata: the
        training sizes unless ``n_states`` / ``n_letters`` are given).
        """
        constraint = self.constraint(**constraint_spec) if constrained else None
        return _decode(self.model, z, method=method, constraint=constraint,
                       temperature=temperature, beam_width=beam_width, seed=seed,
                       max_steps=max_steps)

    def decode_parsed(self, z, **kwargs) -> list:
        """:meth:`decode`, then ``domain.parse_many``: a list of :class:`~seqvae.domains.Parsed`."""
        return self.domain.parse_many(self.decode(z, **kwargs))

    def sample_prior(self, count: int, seed: int | None = 0) -> np.ndarray:
        """``count`` points from N(0, I), shape (count, d_z)."""
        rng = np.random.default_rng(seed)
        return rng.standard_normal((int(count), self.d_z)).astype(np.float32)

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
        return new

    def save(self, run_dir: str | os.PathLike, *, command: str | None = None) -> Path:
        """Write this run (weights, config, keys, held-out items) as a run directory."""
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        config = dict(self.config)
        config["version"] = __version__
        atomic_write_text(run_dir / CONFIG, json.dumps(config, indent=2) + "\n")
        atomic_write_text(run_dir / "version.txt", __version__ + "\n")
        if command is not None:
            atomic_write_text(run_dir / "command.txt", command + "\n")
        state = {"format": 1, "version": __version__,
                 "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
                 "model_config": self.model_config.to_dict(),
                 "meta": {"domain": self.domain.to_dict(),
                          "tokenizer": self.tokenizer.to_dict()}}
        with atomic_path(run_dir / CHECKPOINT) as tmp:
            torch.save(state, tmp)
        _write_lines(run_dir / TRAIN_KEYS, sorted(self.train_keys))
        (run_dir / ITEMS_DIR).mkdir(exist_ok=True)
        _write_lines(run_dir / ITEMS_DIR / "heldout.txt",
                     [self.domain.item_to_text(i) for i in self.heldout_items])
        if self._train_items is not None or self._items_dir is not None:
            _write_lines(run_dir / ITEMS_DIR / "train.txt",
                         [self.domain.item_to_text(i) for i in self.train_items])
        self.run_dir = run_dir
        self._items_dir = run_dir
        return run_dir

    def __repr__(self) -> str:
        where = f", run_dir={str(self.run_dir)!r}" if self.run_dir else ""
        return f"Run(domain={self.domain.name!r}, d_z={self.d_z}{where})"


def load_run(run_dir: str | os.PathLike) -> Run:
    """Load a run directory written by :func:`seqvae.train.train` or :meth:`Run.save`.

    Raises
    ------
    RunError
        When the directory, its ``config.json`` or its ``checkpoint.pt`` is
        missing or unreadable.
    """
    from .domains import domain_from_dict

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"not a run directory: {run_dir}")
    cfg_path, ckpt_path = run_dir / CONFIG, run_dir / CHECKPOINT
    if not cfg_path.exists() or not ckpt_path.exists():
        raise RunError(f"{run_dir} is not a trained run (needs {CONFIG} and {CHECKPOINT})")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise RunError(f"cannot read run {run_dir}: {type(exc).__name__}: {exc}") from None
    try:
        mcfg = ModelConfig.from_dict(state.get("model_config") or config["model"])
        domain = domain_from_dict(config["domain"])
        model = SeqVAE(mcfg)
        weights = state.get("best_model") or state["model"]
        model.load_state_dict(weights)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise RunError(f"run {run_dir} is incomplete or inconsistent: {exc}") from None
    return Run(model, domain, config, run_dir=run_dir)
