"""Training the sequence VAE: ELBO, KL schedules, checkpoints, resume, DDP.

:class:`Trainer` works on token id lists only and knows nothing of automata.
:func:`train` wraps it for a domain and a run directory; :func:`fine_tune`
continues a trained run on weighted items (weighted retraining).

Determinism: the batch order of epoch ``e`` comes from its own generator
seeded by ``(seed, e)``, and the noise (reparameterisation, word dropout)
from torch's global generator whose state travels in every checkpoint, so a
run resumed from any checkpoint ends with the same weights as one that never
stopped.

Distributed: under ``torchrun`` (``WORLD_SIZE`` > 1) the trainer joins the
process group (gloo on CPU), wraps the model in DistributedDataParallel, gives
each rank every ``world``-th batch, and lets only rank 0 write.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from automata.atomic import atomic_path, atomic_write_text

from . import __version__
from .config import ModelConfig, TrainConfig
from .errors import TrainingError
from .data import collate
from .model import SeqVAE

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"
CHECKPOINT_FORMAT = 1


# ---------------------------------------------------------------------------
# schedules
# ---------------------------------------------------------------------------
def kl_weight(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """KL weight (beta) at optimiser step ``step``.

    >>> cfg = TrainConfig(kl_schedule="linear", kl_warmup_steps=100, kl_max=1.0)
    >>> kl_weight(cfg, 0, 1000), kl_weight(cfg, 50, 1000), kl_weight(cfg, 500, 1000)
    (0.0, 0.5, 1.0)
    """
    s = cfg.kl_schedule
    if s == "constant":
        return float(cfg.kl_max)
    if s == "linear":
        return float(cfg.kl_max * min(1.0, step / max(1, cfg.kl_warmup_steps)))
    if s == "sigmoid":
        x = -cfg.kl_sigmoid_k * (step - cfg.kl_warmup_steps / 2)
        return float(cfg.kl_max / (1.0 + math.exp(min(x, 700.0))))
    period = max(1.0, total_steps / cfg.kl_cycles)
    tau = (step % period) / period
    return float(cfg.kl_max * min(1.0, tau / cfg.kl_ratio))


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate at ``step``: linear warm-up, then constant or cosine decay."""
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return cfg.lr
    span = max(1, total_steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.lr_min_factor
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * t))


# ---------------------------------------------------------------------------
# data plumbing
# ---------------------------------------------------------------------------
def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into a LongTensor (N, T_max) and their lengths (N,); empty gives (0, 1)."""
    if len(seqs) == 0:
        return torch.zeros((0, 1), dtype=torch.long), torch.zeros(0, dtype=torch.long)
    # Lists, not tuples: collate reads a tuple as an (ids, target) pair.
    return collate([list(s) for s in seqs], pad_id)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed((int(seed) * 1_000_003 + int(epoch) * 7919 + 17) % (2**63 - 1))
    return g


def epoch_batches(lengths: torch.Tensor, batch_size: int, seed: int, epoch: int, *,
                  bucket: bool = True, weights: torch.Tensor | None = None,
                  samples: int | None = None) -> list[torch.Tensor]:
    """The batches (index tensors) of one epoch, a pure function of its arguments.

    With ``bucket`` the shuffled items are grouped in pools of 50 batches, each
    pool sorted by length so a batch pads only to its own longest item, and
    the batches are shuffled again. With ``weights`` the epoch draws
    ``samples`` items with replacement, proportionally to the weights.
    """
    g = _epoch_generator(seed, epoch)
    n = int(lengths.shape[0])
    if weights is not None:
        order = torch.multinomial(weights.double(), samples or n, replacement=True, generator=g)
    else:
        order = torch.randperm(n, generator=g)
    if bucket:
        pool = batch_size * 50
        parts = []
        for start in range(0, len(order), pool):
            chunk = order[start:start + pool]
            parts.append(chunk[torch.argsort(lengths[chunk], stable=True)])
        order = torch.cat(parts) if parts else order
    batches = list(torch.split(order, batch_size))
    if bucket and len(batches) > 1:
        perm = torch.randperm(len(batches), generator=g).tolist()
        batches = [batches[i] for i in perm]
    return batches


# ---------------------------------------------------------------------------
# distributed helpers
# ---------------------------------------------------------------------------
def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def init_distributed() -> tuple[int, int]:
    """Join the process group when launched by torchrun; returns (rank, world_size)."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and dist.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="gloo")
    d = _dist()
    return (d.get_rank(), d.get_world_size()) if d else (0, 1)


# ---------------------------------------------------------------------------
# the trainer
# ---------------------------------------------------------------------------

class ImmediateInterrupt(KeyboardInterrupt):
    """A second Ctrl-C, raised mid-step: the state is not saved (the last checkpoint stands)."""


@contextlib.contextmanager
def _deferred_interrupt():
    """Hold SIGINT back until the caller asks: yields ``interrupted() -> bool``.

    A KeyboardInterrupt in the middle of a step (say, between the backward pass
    and the optimiser update) would leave weights, optimiser and RNG out of step
    with the step counter, and the checkpoint written then could not resume
    exactly. Outside the main thread, or where SIGINT is ignored, nothing changes.
    """
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield lambda: False
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if flag["hit"]:  # a second Ctrl-C: the user will not wait
            raise ImmediateInterrupt
        flag["hit"] = True

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag["hit"]
    finally:
        signal.signal(signal.SIGINT, previous)

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
        Run directory for ``checkpoint.pt`` and ``metrics.jsonl`` (None: keep
        everything in memory).
    meta
        JSON-safe facts stored in every checkpoint (tokenizer, domain, ...).
    weights
        Optional sampling weight per training item: each epoch then draws
        ``samples_per_epoch`` items with replacement.
    model
        Start from these weights instead of a fresh initialisation.
    progress
        Called with the number of optimiser steps done so far.
    on_log
        Called with every metrics record (a dict) as it is logged.
    on_start
        Called once by :meth:`fit` with the planned number of steps.
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig,
                 train_ids: Sequence[Sequence[int]], val_ids: Sequence[Sequence[int]] = (), *,
                 out_dir: str | os.PathLike | None = None, meta: dict | None = None,
                 weights: Sequence[float] | None = None, samples_per_epoch: int | None = None,
                 model: SeqVAE | None = None,
                 progress: Callable[[int], None] | None = None,
                 on_log: Callable[[dict], None] | None = None,
                 on_start: Callable[[int], None] | None = None):
        if len(train_ids) == 0:
            raise TrainingError("no training sequences")
        self.mcfg = model_config
        self.cfg = train_config
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.meta = dict(meta or {})
        self.progress = progress
        self.on_log = on_log
        self.on_start = on_start
        self.rank, self.world = init_distributed()
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
        self._total_steps: int | None = None
        torch.manual_seed(train_config.seed)
        if model is None:
            model = SeqVAE(model_config)
        self.model = model
        self.ddp = None
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.ddp = DistributedDataParallel(self.model)
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
    def _loss(self, ids: torch.Tensor, beta: float, train: bool = True) -> tuple[torch.Tensor, dict]:
        net = self.ddp if (self.ddp is not None and train) else self.model
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16,
                            enabled=train and self.cfg.precision == "bf16"):
            out = net(ids, mc_samples=self.cfg.mc_samples if train else 1, sample=train)
        out["rec"] = out["rec"].float()
        out["kl"] = out["kl"].float()
        rec = out["rec"].mean()
        kl_dim = out["kl"].mean(0)
        kl = kl_dim.sum()
        kl_term = kl_dim.clamp_min(self.cfg.free_bits).sum() if self.cfg.free_bits > 0 else kl
        loss = rec + beta * kl_term
        with torch.no_grad():
            target = out["target"]
            mask = target != self.mcfg.pad_id
            hit = (out["logits"].argmax(-1) == target) | ~mask
            stats = {
                "loss": float(loss), "rec": float(rec), "kl": float(kl), "elbo": float(rec + kl),
                "beta": beta,
                "token_acc": float(((hit & mask).sum()) / mask.sum().clamp_min(1)),
                "exact": float(hit.all(1).float().mean()),
                "kl_per_dim": [round(float(v), 5) for v in kl_dim],
                # batch estimate; the epoch record has the one over the validation set
                "active_units": (int((out["mu"].float().var(0) > 0.01).sum())
                                 if ids.shape[0] > 1 else 0),
                "n": int(ids.shape[0]),
            }
        return loss, stats

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
        loss, stats = self._loss(ids, beta)
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
                 batch_size: int = 512) -> dict:
        """Validation metrics (z = mu, so no noise is drawn): ELBO terms, accuracies,
        KL per dimension and active units."""
        if ids is None:
            ids, lengths = self.val_x, self.val_len
        if ids.shape[0] == 0:
            return {}
        self.model.eval()
        sums: dict[str, float] = {}
        kl_dim = torch.zeros(self.mcfg.d_z)
        mus = []
        n = ids.shape[0]
        order = torch.argsort(lengths, stable=True)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            batch = ids[idx, : int(lengths[idx].max())]
            out = self.model(batch, sample=False)
            target = out["target"]
            mask = target != self.mcfg.pad_id
            hit = (out["logits"].argmax(-1) == target) | ~mask
            sums["rec"] = sums.get("rec", 0.0) + float(out["rec"].sum())
            sums["kl"] = sums.get("kl", 0.0) + float(out["kl"].sum())
            sums["tok_hit"] = sums.get("tok_hit", 0.0) + float((hit & mask).sum())
            sums["tok_all"] = sums.get("tok_all", 0.0) + float(mask.sum())
            sums["exact"] = sums.get("exact", 0.0) + float(hit.all(1).sum())
            kl_dim += out["kl"].sum(0)
            mus.append(out["mu"])
        mu = torch.cat(mus)
        var = mu.var(0, unbiased=True) if n > 1 else torch.zeros(self.mcfg.d_z)
        self.model.train()
        return {"rec": sums["rec"] / n, "kl": sums["kl"] / n,
                "elbo": (sums["rec"] + sums["kl"]) / n,
                "token_acc": sums["tok_hit"] / max(1.0, sums["tok_all"]),
                "exact": sums["exact"] / n,
                "kl_per_dim": [round(float(v), 5) for v in kl_dim / n],
                "active_units": int((var > 0.01).sum())}

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to resume, as tensors, dicts, lists, strings and numbers."""
        return {
            "format": CHECKPOINT_FORMAT,
            "version": __version__,
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "best_model": self.best_state,
            "optimizer": self.optimizer.state_dict(),
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "best_val": self.best_val, "bad_epochs": self.bad_epochs,
            "stopped_early": self.stopped_early, "finished": self.finished,
            "rng": torch.get_rng_state(),
            "model_config": self.mcfg.to_dict(), "train_config": self.cfg.to_dict(),
            "meta": self.meta,
            "history": self.history,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore a :meth:`state_dict` (model, optimiser, position, RNG)."""
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"unsupported checkpoint format {state.get('format')!r}")
        if state["model_config"] != self.mcfg.to_dict():
            raise TrainingError("checkpoint was written for a different model configuration")
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
        self.history = list(state.get("history", []))
        torch.set_rng_state(state["rng"])

    def save_checkpoint(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the checkpoint atomically (rank 0 only); returns its path."""
        if self.rank != 0:
            return None
        if path is None:
            if self.out_dir is None:
                return None
            path = self.out_dir / CHECKPOINT
        path = Path(path)
        state = self.state_dict()
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
        return path

    def resume(self, path: str | os.PathLike | None = None) -> bool:
        """Load ``path`` (default: the run directory's checkpoint); False if none exists."""
        path = Path(path) if path is not None else (
            self.out_dir / CHECKPOINT if self.out_dir is not None else None)
        if path is None or not path.exists():
            return False
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.load_state_dict(state)
        self._truncate_metrics()
        return True

    # -- logging ------------------------------------------------------------------------
    def _log(self, record: dict) -> None:
        if self.rank != 0:
            return
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            with open(self.out_dir / METRICS, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        if self.on_log is not None:
            self.on_log(record)

    def _truncate_metrics(self) -> None:
        """Drop records logged after the checkpoint being resumed (they will be redone)."""
        if self.rank != 0 or self.out_dir is None or not (self.out_dir / METRICS).exists():
            return
        keep = []
        for line in (self.out_dir / METRICS).read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if rec.get("step", 0) <= self.step and not (
                    rec.get("kind") == "epoch" and rec.get("epoch", -1) >= self.epoch):
                keep.append(line)
        atomic_write_text(self.out_dir / METRICS, "".join(k + "\n" for k in keep))

    # -- the loop -------------------------------------------------------------------------
    def fit(self) -> list[dict]:
        """Train until the epochs, ``max_steps`` or patience run out; returns the epoch records.

        Ctrl-C is held back until the current step (or end-of-epoch evaluation)
        is complete; then a checkpoint is written (when there is a run directory)
        and KeyboardInterrupt is raised, so ``resume`` continues exactly where it
        stopped. A second Ctrl-C interrupts at once.
        """
        cfg = self.cfg
        if self.on_start is not None and self.rank == 0:
            self.on_start(self.total_steps)
        with _deferred_interrupt() as interrupted:
            return self._fit_loop(interrupted)

    def _fit_loop(self, interrupted: Callable[[], bool]) -> list[dict]:
        cfg = self.cfg
        try:
            while not self.finished:
                if self.epoch >= cfg.epochs or (cfg.max_steps and self.step >= cfg.max_steps):
                    break
                batches = self._batches(self.epoch)
                t0 = time.perf_counter()
                while self.batch_in_epoch < len(batches):
                    if cfg.max_steps and self.step >= cfg.max_steps:
                        break
                    stats = self._train_step(batches[self.batch_in_epoch])
                    self.step += 1
                    self.batch_in_epoch += 1
                    self._log({"kind": "step", "step": self.step, "epoch": self.epoch, **stats})
                    if self.progress is not None:
                        self.progress(self.step)
                    if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                        self.save_checkpoint()
                    if interrupted():
                        raise KeyboardInterrupt
                epoch_done = self.batch_in_epoch >= len(batches)
                if epoch_done:
                    self._end_epoch(time.perf_counter() - t0)
                    if interrupted():
                        raise KeyboardInterrupt
                if not epoch_done or (cfg.max_steps and self.step >= cfg.max_steps):
                    break
            self.finished = True
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

    def final_state(self) -> dict:
        """Weights to keep: the best on validation when there was validation, else the last."""
        if self.best_state is not None:
            return self.best_state
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}


# ---------------------------------------------------------------------------
# runs: domain items in, Run out
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


def _write_run_files(out: Path, config: dict, command: str | None,
                     splits: dict[str, list[str]] | None, train_keys: list[str] | None) -> None:
    from .runs import CONFIG, ITEMS_DIR, TRAIN_KEYS, _write_lines

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / CONFIG, json.dumps(config, indent=2) + "\n")
    atomic_write_text(out / "version.txt", __version__ + "\n")
    if command is not None:
        atomic_write_text(out / "command.txt", command + "\n")
    if splits is not None:
        (out / ITEMS_DIR).mkdir(exist_ok=True)
        for name, lines in splits.items():
            _write_lines(out / ITEMS_DIR / f"{name}.txt", lines)
    if train_keys is not None:
        _write_lines(out / TRAIN_KEYS, sorted(set(train_keys)))


def train(items: Sequence | None, domain, *, out_dir: str | os.PathLike | None = None,
          model_config: ModelConfig | dict | None = None,
          train_config: TrainConfig | dict | None = None, resume: bool = False,
          progress: Callable[[int], None] | None = None,
          on_log: Callable[[dict], None] | None = None,
          on_start: Callable[[int], None] | None = None,
          command: str | None = None, data_info: dict | None = None):
    """Train a sequence VAE on domain items and return the :class:`~seqvae.runs.Run`.

    Parameters
    ----------
    items : sequence
        Domain items (DFAs or their compact text for automata, strings for
        strings). Automata are canonicalised. Ignored on ``resume`` (the run
        directory holds its own splits).
    domain : Domain
        :class:`~seqvae.domains.AutomataDomain` or :class:`~seqvae.domains.StringDomain`.
    out_dir : path or None
        Run directory; None trains in memory (nothing is written).
    model_config : ModelConfig, dict of overrides, or None
        Vocabulary fields and ``max_len`` come from the tokenizer and data
        when a dict or None is given.
    train_config : TrainConfig, dict of overrides, or None
    resume : bool
        Continue from ``out_dir/checkpoint.pt`` (same configs and splits).
    progress, on_log, on_start
        Callbacks: steps done; each metrics record; the planned steps.
    command : str or None
        Command line recorded in ``command.txt``.
    data_info : dict or None
        Facts about the data set kept in ``config.json`` under ``data``.

    Examples
    --------
    >>> from seqvae.domains import StringDomain
    >>> from seqvae.tokenizers import CharTokenizer
    >>> words = ["ab", "ba", "abc", "cab", "bca", "acb"] * 5
    >>> dom = StringDomain(CharTokenizer.fit(words))
    >>> run = train(words, dom, model_config=dict(d_z=4, dec_hidden=16, enc_hidden=16),
    ...             train_config=dict(epochs=1, batch_size=8, val_fraction=0.0,
    ...                               test_fraction=0.0))
    >>> run.d_z
    4
    """
    from .runs import CHECKPOINT, ITEMS_DIR, Run, _read_lines, as_items, canonical_keys, \
        canonicalize, constraint_spec_for

    out = Path(out_dir) if out_dir is not None else None
    if resume:
        if out is None or not (out / CHECKPOINT).exists():
            raise TrainingError(f"nothing to resume: no {CHECKPOINT} in {out}")
        state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=True)
        mcfg = ModelConfig.from_dict(state["model_config"])
        tcfg = TrainConfig.from_dict(state["train_config"])
        config = json.loads((out / "config.json").read_text(encoding="utf-8"))
        splits = {name: [domain.item_from_text(t) for t in _read_lines(out / ITEMS_DIR / f"{name}.txt")]
                  for name in ("train", "val", "heldout")}
        train_items, val_items, heldout = splits["train"], splits["val"], splits["heldout"]
        train_ids = [domain.tokenizer.encode(i) for i in train_items]
        val_ids = [domain.tokenizer.encode(i) for i in val_items]
        trainer = Trainer(mcfg, tcfg, train_ids, val_ids, out_dir=out, meta=state["meta"],
                          progress=progress, on_log=on_log, on_start=on_start)
        trainer.load_state_dict(state)
        trainer._truncate_metrics()
        keys = None
    else:
        if items is None or len(items) == 0:
            raise TrainingError("no items to train on")
        tcfg = train_config if isinstance(train_config, TrainConfig) else \
            TrainConfig(**(train_config or {}))
        all_items = canonicalize(domain, as_items(domain, items))
        ids = [domain.tokenizer.encode(i) for i in all_items]
        max_len = max(len(s) for s in ids)
        if isinstance(model_config, ModelConfig):
            mcfg = model_config
        else:
            mcfg = ModelConfig.for_tokenizer(domain.tokenizer, max_len, **(model_config or {}))
        tr, va, te = split_items(len(all_items), tcfg.val_fraction, tcfg.test_fraction, tcfg.seed)
        train_items = [all_items[i] for i in tr]
        val_items = [all_items[i] for i in va]
        heldout = [all_items[i] for i in te]
        train_ids = [ids[i] for i in tr]
        val_ids = [ids[i] for i in va]
        keys = canonical_keys(domain, train_items)
        config = {"version": __version__, "model": mcfg.to_dict(), "train": tcfg.to_dict(),
                  "domain": domain.to_dict(), "tokenizer": domain.tokenizer.to_dict(),
                  "constraint_spec": constraint_spec_for(domain, all_items),
                  "data": dict(data_info or {}),
                  "counts": {"train": len(train_items), "val": len(val_items),
                             "heldout": len(heldout)}}
        meta = {"domain": domain.to_dict(), "tokenizer": domain.tokenizer.to_dict(),
                "version": __version__}
        rank, _ = init_distributed()
        if out is not None and rank == 0:
            if (out / METRICS).exists():
                (out / METRICS).unlink()
            _write_run_files(out, config, command, {
                "train": [domain.item_to_text(i) for i in train_items],
                "val": [domain.item_to_text(i) for i in val_items],
                "heldout": [domain.item_to_text(i) for i in heldout]}, keys)
        trainer = Trainer(mcfg, tcfg, train_ids, val_ids, out_dir=out, meta=meta,
                          progress=progress, on_log=on_log, on_start=on_start)
    trainer.fit()
    model = SeqVAE(mcfg)
    model.load_state_dict(trainer.final_state())
    if keys is None:
        keys_set = None  # read lazily from the run directory
    else:
        keys_set = set(keys)
    config = dict(config)
    config["result"] = {"steps": trainer.step, "epochs": trainer.epoch,
                        "stopped_early": trainer.stopped_early, "best_val_objective":
                            (trainer.best_val if math.isfinite(trainer.best_val) else None)}
    if out is not None and trainer.rank == 0:
        atomic_write_text(out / "config.json", json.dumps(config, indent=2) + "\n")
    run = Run(model, domain, config, run_dir=out, train_keys=keys_set, heldout_items=heldout,
              train_items=train_items)
    run.trainer = trainer  # the history and final optimiser state, for callers that want them
    return run


def fine_tune(run, items: Sequence, weights: Sequence[float] | None = None, steps: int = 200, *,
              lr: float = 5e-4, batch_size: int | None = None, kl_weight_value: float | None = None,
              seed: int = 0, out_dir: str | os.PathLike | None = None,
              progress: Callable[[int], None] | None = None,
              on_log: Callable[[dict], None] | None = None):
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
    from .runs import as_items, canonical_keys, canonicalize

    items = canonicalize(run.domain, as_items(run.domain, items))
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
                      progress=progress, on_log=on_log)
    trainer.fit()
    model.eval()
    new.train_keys.update(canonical_keys(run.domain, items))
    cfg = dict(new.config)
    cfg["fine_tune"] = list(cfg.get("fine_tune", [])) + [
        {"items": len(items), "steps": int(steps), "lr": float(lr), "seed": int(seed)}]
    new.config = cfg
    new.run_dir = None
    if out_dir is not None:
        new.save(out_dir)
    return new
