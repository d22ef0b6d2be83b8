"""Making runs: domain items in, :class:`~seqvae.run.Run` out.

:func:`train` turns domain items into a trained run (through the domain-free
:class:`~seqvae.train.Trainer`), writing the run directory as it goes;
:func:`fine_tune` continues a copy of one on weighted items. The splits of a
new run come from :func:`split_items` (random, seeded) or :func:`given_split`
(fixed by the data set).
"""
from __future__ import annotations

import contextlib
import math
import os
from typing import Callable, Sequence

import numpy as np

from automata.dirlock import DirectoryLock
from seqvae import __version__
from seqvae.config import ModelConfig, TrainConfig
from seqvae.domains import Domain
from seqvae.errors import TrainingError
from seqvae.model import SeqVAE
from seqvae.run import Run
from seqvae.rundir import SPLITS, RunDir
from seqvae.targets import property_targets
from seqvae.train import Trainer, init_distributed

__all__ = ["EXTENDABLE", "train", "fine_tune", "split_items", "given_split"]


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
          properties: Sequence[str] | None = None, time_limit: float | None = None) -> Run:
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
    time_limit : float or None
        Seconds of training this call may spend; then it stops at the next step
        boundary and ends as ``max_steps`` ends a run (checkpoint and final weights;
        ``resume=True`` continues). ``config.json``'s ``result`` says why the run
        stopped (``stopped_on``: epochs, max_steps, patience or time_limit).

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
    with contextlib.ExitStack() as held:
        store = RunDir(out_dir) if out_dir is not None else None
        keys = None
        if store is not None and init_distributed(device)[0] == 0:
            # one training writes a run directory at a time (rank 0 writes for all ranks)
            held.enter_context(DirectoryLock(store.path, what="train"))
            if not resume and store.has_checkpoint():  # checked again now that the lock is held
                raise TrainingError(f"{store.path} already holds a run: resume it or choose "
                                    "another directory")
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
                          train_targets=targets.get("train"), val_targets=targets.get("val"),
                          time_limit=time_limit)
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
                        "stopped_on": trainer.stopped_on,
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
