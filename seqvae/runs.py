"""A trained run and how it is made: :class:`Run`, :func:`load_run`, :func:`train`,
:func:`fine_tune`.

:func:`load_run` returns a :class:`Run`, the object every latent-space tool
works with: ``encode`` items to latent means, ``decode`` latent points to
token ids (optionally constrained), ``decode_parsed`` to parsed items.
:func:`train` turns domain items into a trained run (through the domain-free
:class:`~seqvae.train.Trainer`); :func:`fine_tune` continues one on weighted
items. Where the files go is :mod:`seqvae.rundir`'s business; what an item is,
the :class:`~seqvae.domains.Domain`'s.

This module loads runs; the :class:`Run` class lives in :mod:`seqvae.run` and
the training entry points in :mod:`seqvae.train_runs`, both importable from here.
"""
from __future__ import annotations

import os
from typing import Sequence

import torch

from seqvae.config import ModelConfig
from seqvae.domains import domain_from_dict
from seqvae.errors import RunError
from seqvae.model import SeqVAE
from seqvae.run import Run
from seqvae.rundir import RunDir
from seqvae.train_runs import EXTENDABLE, fine_tune, given_split, split_items, train
from seqvae.validators import UnknownValidatorError

__all__ = ["Run", "STORED", "load_run", "load_molecule_runs", "train", "fine_tune", "split_items",
           "given_split", "EXTENDABLE"]


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


def load_run(run_dir: str | os.PathLike, *, validity=STORED,
             allow_unverified: bool | None = None) -> Run:
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
    allow_unverified
        Load a run whose ``config.json`` records no checkpoint digest (refused by
        default: :meth:`seqvae.rundir.RunDir.verify_checkpoint`).

    Raises
    ------
    RunError
        When the directory, its config or its checkpoint is missing, unreadable, or
        does not match its recorded digest.
    UnknownValidatorError
        When the run names a validator that is not registered.
    """
    store = RunDir(run_dir)
    if not store.path.is_dir():
        raise RunError(f"not a run directory: {store.path}")
    if not store.is_run():
        raise RunError(f"{store.path} is not a trained run (needs its config and checkpoint)")
    config = store.read_config()
    state = store.load_checkpoint(allow_unverified)
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
