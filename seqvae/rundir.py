"""The run directory: its layout, and the one checkpoint dict.

This module alone knows where a run keeps what::

    config.json        model / train configs, domain, tokenizer, constraint spec, data facts
    checkpoint.pt      the checkpoint dict (see :func:`make_checkpoint`); weights_only load
    command.txt        the command line that made it
    version.txt        package version
    metrics.jsonl      one JSON record per step and per epoch
    items/train.txt    training items, one per line (domain text form)
    items/val.txt      validation items (early stopping)
    items/heldout.txt  held-out items, never used in training
    train_keys.txt     canonical keys of the training items

It knows nothing of models, domains or training: it stores dicts, tensors and
lines of text. Every file is written atomically. The checkpoint is one flat
dict with one format marker, built only by :func:`make_checkpoint`; a digest of
the weights file, if one is ever recorded in ``config.json``, belongs to
:meth:`RunDir.save_checkpoint` / :meth:`RunDir.load_checkpoint` as well.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import torch

from automata.atomic import atomic_path, atomic_write_text

from . import __version__
from .errors import RunError

__all__ = ["CHECKPOINT_FORMAT", "SPLITS", "RunDir", "make_checkpoint", "read_checkpoint",
           "write_checkpoint"]

#: The one format marker of the checkpoint dict.
CHECKPOINT_FORMAT = 1
#: The item lists a training run stores, by split.
SPLITS = ("train", "val", "heldout")

_CONFIG = "config.json"
_CHECKPOINT = "checkpoint.pt"
_METRICS = "metrics.jsonl"
_COMMAND = "command.txt"
_VERSION = "version.txt"
_ITEMS = "items"
_TRAIN_KEYS = "train_keys.txt"


def make_checkpoint(model_state: dict, model_config: dict, meta: dict, *,
                    best_model: dict | None = None, **training) -> dict:
    """The checkpoint dict: weights, their config, JSON-safe ``meta`` and, while
    training, the trainer's position (``training`` keys: optimiser, step, RNG...).

    Only tensors, dicts, lists, strings and numbers, so that it loads with
    ``torch.load(weights_only=True)``.

    >>> ckpt = make_checkpoint({}, {"d_z": 2}, {"domain": None}, step=3)
    >>> ckpt["format"], ckpt["step"], ckpt["best_model"]
    (1, 3, None)
    """
    state = {"format": CHECKPOINT_FORMAT, "version": __version__,
             "model": {k: v.detach().clone() for k, v in model_state.items()},
             "best_model": best_model, "model_config": dict(model_config), "meta": dict(meta)}
    state.update(training)
    return state


def write_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write a checkpoint dict atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load a checkpoint dict (weights only: no code runs) and check its format.

    Raises
    ------
    RunError
        When the file is missing, unreadable or of another format.
    """
    path = Path(path)
    if not path.is_file():
        raise RunError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise RunError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise RunError(f"{path}: unsupported checkpoint format {found!r}")
    return state


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    atomic_write_text(path, "".join(f"{line}\n" for line in lines))


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


class RunDir:
    """One run directory on disk (it need not exist yet).

    >>> import tempfile
    >>> rd = RunDir(tempfile.mkdtemp())
    >>> rd.write_items("heldout", ["a", "b"])
    >>> rd.read_items("heldout"), rd.has_checkpoint()
    (['a', 'b'], False)
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # -- paths --------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.path / _CHECKPOINT

    @property
    def config_path(self) -> Path:
        return self.path / _CONFIG

    @property
    def metrics_path(self) -> Path:
        return self.path / _METRICS

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    def has_config(self) -> bool:
        return self.config_path.is_file()

    def is_run(self) -> bool:
        """True when the directory holds a trained (or training) run."""
        return self.has_config() and self.has_checkpoint()

    # -- config and provenance ---------------------------------------------------------
    def write_config(self, config: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, json.dumps(config, indent=2) + "\n")

    def read_config(self) -> dict:
        """``config.json`` as a dict; RunError when missing or not JSON."""
        if not self.has_config():
            raise RunError(f"{self.path} is not a run directory (no {_CONFIG})")
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunError(f"cannot read {self.config_path}: {exc}") from None

    def write_provenance(self, command: str | None = None) -> None:
        """``version.txt`` and, when given, ``command.txt``."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / _VERSION, __version__ + "\n")
        if command is not None:
            atomic_write_text(self.path / _COMMAND, command + "\n")

    # -- items and keys ---------------------------------------------------------------------
    def write_items(self, split: str, lines: Iterable[str]) -> None:
        """Store the text form of one split's items (``split`` in :data:`SPLITS`)."""
        if split not in SPLITS:
            raise RunError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        (self.path / _ITEMS).mkdir(parents=True, exist_ok=True)
        _write_lines(self.path / _ITEMS / f"{split}.txt", lines)

    def read_items(self, split: str) -> list[str]:
        """The stored text lines of one split (empty when the run has none)."""
        if split not in SPLITS:
            raise RunError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        return _read_lines(self.path / _ITEMS / f"{split}.txt")

    def write_train_keys(self, keys: Iterable[str]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        _write_lines(self.path / _TRAIN_KEYS, sorted(set(keys)))

    def read_train_keys(self) -> set[str]:
        return set(_read_lines(self.path / _TRAIN_KEYS))

    # -- checkpoint -------------------------------------------------------------------------
    def save_checkpoint(self, state: dict) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return write_checkpoint(self.checkpoint_path, state)

    def load_checkpoint(self) -> dict:
        return read_checkpoint(self.checkpoint_path)

    # -- metrics ----------------------------------------------------------------------------
    def append_metrics(self, record: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def clear_metrics(self) -> None:
        if self.metrics_path.exists():
            self.metrics_path.unlink()

    def truncate_metrics(self, step: int, epoch: int) -> None:
        """Drop the records logged after the checkpoint at ``(step, epoch)``: a resumed
        run logs them again."""
        if not self.metrics_path.exists():
            return
        keep = []
        for line in self.metrics_path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("step", 0) <= step and not (
                    rec.get("kind") == "epoch" and rec.get("epoch", -1) >= epoch):
                keep.append(line)
        atomic_write_text(self.metrics_path, "".join(k + "\n" for k in keep))
