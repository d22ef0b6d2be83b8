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
dict with one format marker, built only by :func:`make_checkpoint`.

Integrity: :meth:`RunDir.save_checkpoint` records the SHA-256 of the weights
file in ``config.json`` (``checkpoint_sha256``) before the new file replaces the
old one, keeping the digest it replaces as ``checkpoint_sha256_previous`` so that
a save killed between the two renames still loads; :meth:`RunDir.load_checkpoint`
refuses a file matching neither. Temporary files a killed save left behind are
removed by :meth:`RunDir.remove_stale_temps` when training starts.
"""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Iterable

import torch

from automata.atomic import (
    FileTooLargeError,
    atomic_path,
    atomic_write_text,
    file_sha256,
    read_bytes_limited,
    remove_stale_temps,
)
from seqvae import __version__
from seqvae.errors import RunError

__all__ = ["CHECKPOINT_FORMAT", "SPLITS", "DIGEST_KEY", "PREVIOUS_DIGEST_KEY", "ALLOW_UNVERIFIED_ENV",
           "RunDir",
           "make_checkpoint", "read_checkpoint", "save_torch_file", "write_checkpoint"]

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
#: ``config.json`` keys of the weights file's digest (the current one, the one it replaced).
#: Bounds of the files a run directory holds, checked before they are read: items (one
#: per line; MOSES's 1.6 M training molecules take 80 MB), config.json, metrics.jsonl.
MAX_ITEMS_FILE_BYTES = 2 << 30
MAX_JSON_FILE_BYTES = 64 << 20
MAX_METRICS_FILE_BYTES = 512 << 20

DIGEST_KEY = "checkpoint_sha256"
PREVIOUS_DIGEST_KEY = "checkpoint_sha256_previous"
#: Set to 1 to load runs whose config.json records no checkpoint digest.
ALLOW_UNVERIFIED_ENV = "SEQVAE_ALLOW_UNVERIFIED_RUNS"


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


def save_torch_file(state, tmp: Path, target: Path) -> None:
    """``torch.save(state, tmp)`` with a full disk (or any failed write) reported in one
    line naming ``target``, instead of torch's message about its zip writer."""
    try:
        torch.save(state, tmp)
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            reason = "no space left on device"
        elif isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
        elif "write" in str(exc).lower():
            # torch reports a failed write as RuntimeError("... file write failed")
            reason = "the write failed (is the disk full?)"
        else:
            raise
        raise RunError(f"cannot save checkpoint {target}: {reason}") from None


def write_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write a checkpoint dict atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        save_torch_file(state, tmp, path)
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
    try:
        text = read_bytes_limited(path, MAX_ITEMS_FILE_BYTES).decode("utf-8")
    except (FileTooLargeError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read {path}: {' '.join(str(exc).split())[:160]}") from None
    return [line for line in text.splitlines() if line]


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
        """Write ``config.json``; the recorded checkpoint digests are kept while the
        checkpoint they describe exists."""
        self.path.mkdir(parents=True, exist_ok=True)
        # The digests belong to save_checkpoint: a caller's copy may be stale.
        config = {k: v for k, v in config.items() if k not in (DIGEST_KEY, PREVIOUS_DIGEST_KEY)}
        if self.has_checkpoint() and self.has_config():
            old = self.read_config()
            for key in (DIGEST_KEY, PREVIOUS_DIGEST_KEY):
                if key in old:
                    config[key] = old[key]
        atomic_write_text(self.config_path, json.dumps(config, indent=2) + "\n",
                          within=self.path)

    def read_config(self) -> dict:
        """``config.json`` as a dict; RunError when missing or not JSON."""
        if not self.has_config():
            raise RunError(f"{self.path} is not a run directory (no {_CONFIG})")
        try:
            config = json.loads(read_bytes_limited(self.config_path, MAX_JSON_FILE_BYTES))
        except (OSError, UnicodeDecodeError, RecursionError, ValueError, FileTooLargeError) as exc:
            # ValueError: broken JSON, or an integer literal past Python's digit limit
            raise RunError(f"cannot read {self.config_path}: "
                           f"{' '.join(str(exc).split())[:120]}") from None
        if not isinstance(config, dict):
            raise RunError(f"{self.config_path}: a run's config is a JSON object")
        return config

    def write_provenance(self, command: str | None = None) -> None:
        """``version.txt`` and, when given, ``command.txt``."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / _VERSION, __version__ + "\n", within=self.path)
        if command is not None:
            atomic_write_text(self.path / _COMMAND, command + "\n", within=self.path)

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
        """Write the checkpoint atomically and record its SHA-256 in ``config.json``
        (when the run has one) before the new file takes the old one's place."""
        self.path.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.checkpoint_path, within=self.path) as tmp:
            save_torch_file(state, tmp, self.checkpoint_path)
            if self.has_config():
                config = self.read_config()
                config[PREVIOUS_DIGEST_KEY] = config.get(DIGEST_KEY)
                config[DIGEST_KEY] = file_sha256(tmp)
                atomic_write_text(self.config_path, json.dumps(config, indent=2) + "\n",
                          within=self.path)
        return self.checkpoint_path

    def verify_checkpoint(self, allow_unverified: bool | None = None) -> None:
        """RunError unless the weights file matches a digest recorded in ``config.json``.

        Every run this package writes records its digest, so a ``config.json`` without
        one (deleted, or a run of a version before digests) is refused as well, unless
        ``allow_unverified`` (default: the environment variable
        :data:`ALLOW_UNVERIFIED_ENV` set to 1, which ``seqvae --allow-unverified-runs``
        sets) says to load such a run anyway.
        """
        if not self.has_config() or not self.has_checkpoint():
            return
        config = self.read_config()
        recorded = {config.get(DIGEST_KEY), config.get(PREVIOUS_DIGEST_KEY)} - {None}
        if not recorded:
            if allow_unverified is None:
                allow_unverified = os.environ.get(ALLOW_UNVERIFIED_ENV) == "1"
            if not allow_unverified:
                raise RunError(f"{self.path}/{_CONFIG} records no SHA-256 of {_CHECKPOINT}, so "
                               "the weights cannot be checked; load it only if you trust it "
                               "(seqvae --allow-unverified-runs ..., or "
                               "load_run(..., allow_unverified=True))")
            return
        actual = file_sha256(self.checkpoint_path)
        if actual not in recorded:
            raise RunError(f"{self.checkpoint_path} is corrupt or was changed: its SHA-256 "
                           f"{actual[:16]}... is not the one recorded in {_CONFIG} "
                           f"({str(config.get(DIGEST_KEY))[:16]}...)")

    def load_checkpoint(self, allow_unverified: bool | None = None) -> dict:
        """The checkpoint dict, after :meth:`verify_checkpoint`."""
        self.verify_checkpoint(allow_unverified)
        return read_checkpoint(self.checkpoint_path)

    def remove_stale_temps(self) -> list[Path]:
        """Delete the temporary files a killed save left in the run directory."""
        return remove_stale_temps(self.path)

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
        try:
            text = read_bytes_limited(self.metrics_path, MAX_METRICS_FILE_BYTES).decode("utf-8")
        except (FileTooLargeError, UnicodeDecodeError) as exc:
            raise RunError(f"cannot read {self.metrics_path}: "
                           f"{' '.join(str(exc).split())[:160]}") from None
        # Records are written one per "\n"; splitlines() would also cut at \x0b, \x1c and
        # the like, turning a 900 kB run of them into 900,000 failed parses (seconds).
        for line in text.split("\n"):
            if not line.lstrip().startswith("{"):
                continue  # blank, torn, or not a record this package writes
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):  # a torn or nested-too-deep line
                continue
            if not isinstance(rec, dict) or not all(
                    isinstance(rec.get(key, 0), (int, float)) for key in ("step", "epoch")):
                continue  # not a record this package writes
            # a "final" record is the end of a run that the resumed run now extends
            if rec.get("step", 0) <= step and rec.get("kind") != "final" and not (
                    rec.get("kind") == "epoch" and rec.get("epoch", -1) >= epoch):
                keep.append(line)
        atomic_write_text(self.metrics_path, "".join(k + "\n" for k in keep), within=self.path)
