"""Training the sequence VAE: ELBO, KL schedules, checkpoints, resume, DDP.

:class:`Trainer` works on token id lists only: nothing in this module knows
what the tokens mean (no domain, no automaton, no run). Training on domain
items into a run directory is :func:`seqvae.runs.train`; weighted retraining of
a run is :func:`seqvae.runs.fine_tune`.

Determinism: the batch order of epoch ``e`` comes from its own generator
seeded by ``(seed, e)``, and the noise (reparameterisation, word dropout)
from the trainer's own stream of torch's CPU generator, seeded by the training
seed, swapped in around each step (:meth:`Trainer.own_rng`) and traveling in
every checkpoint, so a run resumed from any checkpoint ends with the same
weights as one that never stopped, and the caller's global generator is left
as it was.

Distributed: under ``torchrun`` (``WORLD_SIZE`` > 1) the trainer joins the
process group (gloo on CPU, NCCL on CUDA with one GPU per rank, ``cuda:LOCAL_RANK``),
wraps the model in DistributedDataParallel, gives
each rank every ``world``-th batch, and lets only rank 0 write.

The trainer's parts that share its state (the step, checkpoints, the Ctrl-C
guard, the loop) stay together here; the pure pieces live beside it and are
importable from here: the schedules and batches in :mod:`seqvae.train_schedule`,
the batch and validation metrics in :mod:`seqvae.train_metrics`, the process
group in :mod:`seqvae.train_distributed`.
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from seqvae.config import ModelConfig, TrainConfig
from seqvae.errors import RunError, TrainingError
from seqvae.model import SeqVAE, property_mse
from seqvae.rundir import CHECKPOINT_FORMAT, RunDir, make_checkpoint, read_checkpoint, write_checkpoint
from seqvae.signals import ImmediateInterrupt, deferred_stop
from seqvae.train_distributed import distributed_backend, init_distributed, rank_device
from seqvae.train_metrics import batch_stats, validation_metrics
from seqvae.train_schedule import _targets, epoch_batches, kl_weight, learning_rate, pad_sequences

__all__ = ["Trainer", "ImmediateInterrupt", "kl_weight", "learning_rate", "pad_sequences",
           "epoch_batches", "init_distributed", "distributed_backend", "rank_device"]


class Trainer:
    """Optimises a :class:`SeqVAE` on token id lists.

    Parameters
    ----------
    model_config, train_config
        Sizes and optimisation settings.
    train_ids, val_ids
        Token id lists ``[BOS, ..., EOS]``; ``val_ids`` may be empty (no
        early stopping then).
    out_dir
        Run directory for the checkpoint and the metrics log (None: keep
        everything in memory).
    meta
        JSON-safe facts stored in every checkpoint (tokenizer, domain, ...).
    weights
        Optional sampling weight per training item: each epoch then draws
        ``samples_per_epoch`` items with replacement.
    model
        Start from these weights instead of a fresh initialisation.
    train_targets, val_targets
        Standardised property values (N, n_properties), NaN where unknown, one row
        per item of ``train_ids`` / ``val_ids``: with a model that has a property
        head, its squared error (weight ``property_weight``) joins the loss.
    progress
        Called with the number of optimiser steps done so far.
    on_log
        Called with every metrics record (a dict) as it is logged.
    on_start
        Called once by :meth:`fit` with the planned number of steps.
    time_limit
        Seconds this :meth:`fit` may train (None: no limit). Past them the loop stops
        at the next step boundary and ends as ``max_steps`` ends it (final weights,
        checkpoint), with :attr:`stopped_on` ``"time_limit"``; ``resume`` continues.
        A limit of one call, not of the run: it is not kept in the checkpoint.
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig,
                 train_ids: Sequence[Sequence[int]], val_ids: Sequence[Sequence[int]] = (), *,
                 out_dir: str | os.PathLike | None = None, meta: dict | None = None,
                 weights: Sequence[float] | None = None, samples_per_epoch: int | None = None,
                 model: SeqVAE | None = None, train_targets=None, val_targets=None,
                 progress: Callable[[int], None] | None = None,
                 on_log: Callable[[dict], None] | None = None,
                 on_start: Callable[[int], None] | None = None, device=None,
                 time_limit: float | None = None):
        if len(train_ids) == 0:
            raise TrainingError("no training sequences")
        if time_limit is not None and not 0 < float(time_limit) < float("inf"):
            raise TrainingError(f"time_limit must be a positive number of seconds, "
                                f"got {time_limit!r}")
        self.time_limit = None if time_limit is None else float(time_limit)
        #: Why the last fit ended: "epochs", "max_steps", "patience" or "time_limit".
        self.stopped_on: str | None = None
        self._timed_out = False
        self.mcfg = model_config
        self.cfg = train_config
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.store = RunDir(self.out_dir) if self.out_dir is not None else None
        self.meta = dict(meta or {})
        self.progress = progress
        self.on_log = on_log
        self.on_start = on_start
        self.device = rank_device(device)
        self.rank, self.world = init_distributed(self.device)
        self.train_x, self.train_len = pad_sequences(train_ids, model_config.pad_id)
        self.val_x, self.val_len = pad_sequences(val_ids, model_config.pad_id)
        too_long = int(self.train_len.max())
        if model_config.pool == "flatten" and too_long > model_config.max_len:
            raise TrainingError(f"a training sequence has {too_long} tokens, more than max_len "
                                f"{model_config.max_len}")
        self.weights = None
        if weights is not None:
            w = torch.as_tensor(np.asarray(weights, dtype=np.float64))
            if w.shape != (len(train_ids),) or not torch.isfinite(w).all() or (w < 0).any() \
                    or float(w.sum()) <= 0:
                raise TrainingError("weights must be finite, non-negative, one per item, "
                                    "and not all zero")
            self.weights = w
        self.samples_per_epoch = samples_per_epoch
        self.train_y = _targets(train_targets, len(train_ids), model_config.n_properties)
        self.val_y = _targets(val_targets, len(val_ids), model_config.n_properties)
        self._total_steps: int | None = None
        self._rng_depth = 0
        with torch.random.fork_rng(devices=[]):  # the trainer's own stream, seeded
            torch.manual_seed(train_config.seed)
            if model is None:
                model = SeqVAE(model_config)
            self._rng_state = torch.get_rng_state()
        self.model = model.to(self.device)
        self.ddp = None
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            # on CUDA each rank owns one GPU (rank_device); on the CPU DDP takes no device ids
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=train_config.lr,
                                          weight_decay=train_config.weight_decay)
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.best_val = float("inf")
        self.best_state: dict | None = None
        self.bad_epochs = 0
        self.stopped_early = False
        self.finished = False
        #: Which weights the run ships: "last_step", or "best_val" (best validation epoch).
        self.final_weights = "last_step"
        self.history: list[dict] = []

    # -- sizes -----------------------------------------------------------------
    def _n_batches(self, epoch: int) -> int:
        return len(self._batches(epoch))

    def _batches(self, epoch: int) -> list[torch.Tensor]:
        batches = epoch_batches(self.train_len, self.cfg.batch_size, self.cfg.seed, epoch,
                                bucket=self.cfg.bucket, weights=self.weights,
                                samples=self.samples_per_epoch)
        if self.world > 1:
            usable = len(batches) - len(batches) % self.world
            if usable == 0:
                raise TrainingError("fewer batches than processes")
            batches = batches[self.rank:usable:self.world]
        return batches

    @property
    def total_steps(self) -> int:
        """Planned optimiser steps (epochs x batches, capped by max_steps)."""
        if self._total_steps is None:
            per_epoch = self._n_batches(0)
            total = per_epoch * self.cfg.epochs
            self._total_steps = min(total, self.cfg.max_steps) if self.cfg.max_steps else total
        return self._total_steps

    # -- one step ----------------------------------------------------------------
    def _loss(self, ids: torch.Tensor, beta: float, train: bool = True,
              targets: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        net = self.ddp if (self.ddp is not None and train) else self.model
        ids = ids.to(self.device)
        # bf16 autocast: always on CUDA (mixed precision pays there), on CPU only when asked.
        on_cuda = self.device.type == "cuda"
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16,
                            enabled=train and (on_cuda or self.cfg.precision == "bf16")):
            out = net(ids, mc_samples=self.cfg.mc_samples if train else 1, sample=train)
        out["rec"] = out["rec"].float()
        out["kl"] = out["kl"].float()
        rec = out["rec"].mean()
        kl_dim = out["kl"].mean(0)
        kl = kl_dim.sum()
        kl_term = kl_dim.clamp_min(self.cfg.free_bits).sum() if self.cfg.free_bits > 0 else kl
        loss = rec + beta * kl_term
        prop = None
        if targets is not None and "properties" in out:
            prop = property_mse(out["properties"].float(), targets.to(self.device))
            loss = loss + self.cfg.property_weight * prop
        stats = batch_stats(out, loss, rec, kl, kl_dim, beta, self.mcfg.pad_id, ids, prop)
        return loss, stats

    @contextlib.contextmanager
    def own_rng(self):
        """Draw from the trainer's random stream inside this block (re-entrant): the
        process's global CPU generator is swapped for it and restored on exit."""
        if self._rng_depth:
            self._rng_depth += 1
            try:
                yield
            finally:
                self._rng_depth -= 1
            return
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self._rng_state)
            self._rng_depth = 1
            try:
                yield
            finally:
                self._rng_depth = 0
                self._rng_state = torch.get_rng_state()

    def _rng_now(self) -> torch.Tensor:
        return torch.get_rng_state() if self._rng_depth else self._rng_state

    def train_step(self, idx: torch.Tensor) -> dict:
        """One optimiser step on the training items at indices ``idx``; returns its
        statistics. Counters, logging and checkpoints are :meth:`fit`'s business."""
        with self.own_rng():
            return self._train_step(idx)

    def _train_step(self, idx: torch.Tensor) -> dict:
        cfg = self.cfg
        self.model.train()
        length = int(self.train_len[idx].max())
        ids = self.train_x[idx, :length]
        total = self.total_steps
        beta = kl_weight(cfg, self.step, total)
        lr = learning_rate(cfg, self.step, total)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        targets = self.train_y[idx] if self.train_y is not None else None
        loss, stats = self._loss(ids, beta, targets=targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            stats["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(),
                                                                      cfg.grad_clip))
        self.optimizer.step()
        stats["lr"] = lr
        return stats

    # -- validation ----------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, ids: torch.Tensor | None = None, lengths: torch.Tensor | None = None,
                 batch_size: int = 512, targets: torch.Tensor | None = None) -> dict:
        """Validation metrics (z = mu, so no noise is drawn): ELBO terms, accuracies,
        KL per dimension and active units; with property targets also ``prop_mse``
        (standardised units) beside ``prop_mse_mean_predictor``, the error of
        predicting the training mean (1 when the validation set is like the
        training set). Default: the validation items and their targets."""
        if ids is None:
            ids, lengths, targets = self.val_x, self.val_len, self.val_y
        if ids.shape[0] == 0:
            return {}
        self.model.eval()
        result = validation_metrics(self.model, ids, lengths, self.mcfg, self.device,
                                    batch_size=batch_size, targets=targets)
        self.model.train()
        return result

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to resume, as tensors, dicts, lists, strings and numbers."""
        return make_checkpoint(
            self.model.state_dict(), self.mcfg.to_dict(), self.meta, best_model=self.best_state,
            optimizer=self.optimizer.state_dict(),
            step=self.step, epoch=self.epoch, batch_in_epoch=self.batch_in_epoch,
            best_val=self.best_val, bad_epochs=self.bad_epochs,
            stopped_early=self.stopped_early, finished=self.finished,
            final_weights=self.final_weights,
            rng=self._rng_now(), train_config=self.cfg.to_dict(), history=self.history)

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (model, optimiser, position, RNG)."""
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"unsupported checkpoint format {state.get('format')!r}")
        if state["model_config"] != self.mcfg.to_dict():
            raise TrainingError("checkpoint was written for a different model configuration")
        if "optimizer" not in state:
            raise TrainingError("the checkpoint holds weights only, no training state to resume")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.best_val = float(state["best_val"])
        self.best_state = state.get("best_model")
        self.bad_epochs = int(state["bad_epochs"])
        self.stopped_early = bool(state["stopped_early"])
        self.finished = bool(state.get("finished", False))
        self.final_weights = str(state.get("final_weights", "last_step"))
        self.history = list(state.get("history", []))
        self._rng_state = state["rng"]
        if self._rng_depth:
            torch.set_rng_state(self._rng_state)
        if self.finished and not self.stopped_early and self._limits_left():
            # A finished run given more epochs or steps (``--resume --max-steps M``)
            # continues from where it ended.
            self.finished = False

    def _limits_left(self) -> bool:
        """True while neither the epochs nor ``max_steps`` are used up."""
        return self.epoch < self.cfg.epochs and not (self.cfg.max_steps
                                                     and self.step >= self.cfg.max_steps)

    def save_checkpoint(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the checkpoint atomically (rank 0 only); returns its path."""
        self._saved_at = time.monotonic()
        if self.rank != 0:
            return None
        if path is not None:
            return write_checkpoint(path, self.state_dict())
        if self.store is None:
            return None
        return self.store.save_checkpoint(self.state_dict())

    def restore(self, state: dict) -> None:
        """Continue from a checkpoint dict: :meth:`load_state_dict`, then drop the metrics
        logged after it (they will be logged again)."""
        self.load_state_dict(state)
        if self.rank == 0 and self.store is not None:
            self.store.truncate_metrics(self.step, self.epoch)

    def resume(self, path: str | os.PathLike | None = None) -> bool:
        """Load ``path`` (default: the run directory's checkpoint); False if none exists."""
        if path is None:
            if self.store is None or not self.store.has_checkpoint():
                return False
        elif not Path(path).exists():
            return False
        try:
            self.restore(self.store.load_checkpoint() if path is None else read_checkpoint(path))
        except RunError as exc:
            raise TrainingError(str(exc)) from None
        return True

    # -- logging ------------------------------------------------------------------------
    def _log(self, record: dict) -> None:
        if self.rank != 0:
            return
        if self.store is not None:
            self.store.append_metrics(record)
        if self.on_log is not None:
            self.on_log(record)

    # -- the loop -------------------------------------------------------------------------
    def fit(self) -> list[dict]:
        """Train until the epochs, ``max_steps`` or patience run out; returns the epoch records.

        Ctrl-C and SIGTERM are held back until the current step (or end-of-epoch
        evaluation) is complete; then a checkpoint is written (when there is a run directory)
        and KeyboardInterrupt is raised, so ``resume`` continues exactly where it
        stopped. A second Ctrl-C interrupts at once.
        """
        if self.on_start is not None and self.rank == 0:
            self.on_start(self.total_steps)
        with deferred_stop() as interrupted, self.own_rng():
            return self._fit_loop(interrupted)

    def _time_up(self) -> bool:
        """True once the time limit has passed; under DDP every rank takes rank 0's
        clock's word, so that all stop at the same step."""
        if self.time_limit is None:
            return False
        up = time.monotonic() - self._fit_started >= self.time_limit
        if self.world > 1:
            import torch.distributed as dist

            flag = torch.tensor([float(up)], device=self.device)
            dist.broadcast(flag, src=0)
            up = bool(flag.item())
        self._timed_out = self._timed_out or up
        return up

    def _fit_loop(self, interrupted: Callable[[], bool]) -> list[dict]:
        cfg = self.cfg
        self._saved_at = self._fit_started = time.monotonic()
        self._timed_out = False
        try:
            while not self.finished:
                if self.epoch >= cfg.epochs or (cfg.max_steps and self.step >= cfg.max_steps):
                    break
                batches = self._batches(self.epoch)
                t0 = time.perf_counter()
                while self.batch_in_epoch < len(batches):
                    if cfg.max_steps and self.step >= cfg.max_steps:
                        break
                    stats = self.train_step(batches[self.batch_in_epoch])
                    self.step += 1
                    self.batch_in_epoch += 1
                    self._log({"kind": "step", "step": self.step, "epoch": self.epoch, **stats})
                    if self.progress is not None:
                        self.progress(self.step)
                    if (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0) or (
                            cfg.checkpoint_seconds
                            and time.monotonic() - self._saved_at >= cfg.checkpoint_seconds):
                        self.save_checkpoint()
                    if interrupted():
                        raise KeyboardInterrupt
                    if self._time_up():
                        break
                epoch_done = self.batch_in_epoch >= len(batches)
                if epoch_done:
                    self._end_epoch(time.perf_counter() - t0)
                    if interrupted():
                        raise KeyboardInterrupt
                if not epoch_done or (cfg.max_steps and self.step >= cfg.max_steps) \
                        or self._timed_out or self._time_up():
                    break
            self.finished = True
            self._choose_final_weights()
            self.save_checkpoint()
        except ImmediateInterrupt:
            raise
        except KeyboardInterrupt:
            self.save_checkpoint()
            raise
        return self.history

    def _end_epoch(self, seconds: float) -> None:
        val = self.evaluate()
        record = {"kind": "epoch", "step": self.step, "epoch": self.epoch,
                  "seconds": round(seconds, 3)}
        record.update({f"val_{k}": v for k, v in val.items()})
        settled = kl_weight(self.cfg, self.step, self.total_steps) >= 0.99 * self.cfg.kl_max \
            or self.cfg.kl_schedule == "cyclical"
        if val:
            # The criterion is the validation ELBO at the final KL weight; while
            # the weight still rises, the newest weights are always the ones kept.
            score = val["rec"] + self.cfg.kl_max * val["kl"]
            record["val_objective"] = score
            if not settled:
                self.best_state = None
                self.best_val = float("inf")
            elif score < self.best_val - 1e-6:
                self.best_val = score
                self.bad_epochs = 0
                self.best_state = {k: v.detach().clone()
                                   for k, v in self.model.state_dict().items()}
            else:
                self.bad_epochs += 1
            record["best_val_objective"] = self.best_val if math.isfinite(self.best_val) else None
        self.epoch += 1
        self.batch_in_epoch = 0
        self.history.append(record)
        self._log(record)
        if self.cfg.patience and self.bad_epochs >= self.cfg.patience:
            self.stopped_early = True
            self.finished = True
        self.save_checkpoint()

    def _choose_final_weights(self) -> None:
        """Label the weights the run ships, and log the choice.

        A run that stops in the middle of an epoch (``max_steps``) ships the
        last step's weights: they were never compared on validation, and the
        steps asked for must not be silently dropped. A run that ends at an
        epoch boundary ships the best validation epoch's weights when there are
        any (early stopping's choice), else the last step's.
        """
        mid_epoch = self.batch_in_epoch > 0
        self.final_weights = "best_val" if (self.best_state is not None and not mid_epoch) \
            else "last_step"
        cfg = self.cfg
        self.stopped_on = ("time_limit" if self._timed_out else "patience" if self.stopped_early
                           else "max_steps" if cfg.max_steps and self.step >= cfg.max_steps
                           else "epochs")
        self._log({"kind": "final", "step": self.step, "epoch": self.epoch,
                   "weights": self.final_weights, "stopped_on": self.stopped_on})

    def final_state(self) -> dict:
        """Weights to keep: those :attr:`final_weights` names (see :meth:`fit`)."""
        if self.final_weights == "best_val" and self.best_state is not None:
            return self.best_state
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}
