"""Distributed training helpers: under ``torchrun`` (``WORLD_SIZE`` > 1) join the
process group (gloo on CPU, NCCL on CUDA with one GPU per rank, ``cuda:LOCAL_RANK``).
"""
from __future__ import annotations

import os

import torch

from seqvae.errors import TrainingError

__all__ = ["init_distributed", "finish_distributed", "distributed_backend", "rank_device"]


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def _world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise TrainingError(f"WORLD_SIZE must be an integer, got "
                            f"{os.environ.get('WORLD_SIZE')!r}") from None


def distributed_backend(device) -> str:
    """The process-group backend for training on ``device``: NCCL on CUDA, gloo elsewhere.

    >>> distributed_backend("cpu"), distributed_backend(torch.device("cuda", 1))
    ('gloo', 'nccl')
    """
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def rank_device(device=None) -> torch.device:
    """The device this process trains on: under torchrun on CUDA, its own ``cuda:LOCAL_RANK``.

    One process per GPU is what DDP over NCCL expects; a CUDA device asked for on
    the command line (``cuda``, ``cuda:0``) names the kind, and torchrun's
    ``LOCAL_RANK`` picks the GPU. CPU devices and single-process runs are kept.

    >>> rank_device("cpu")
    device(type='cpu')
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type != "cuda" or _world_size() <= 1:
        return device
    text = os.environ.get("LOCAL_RANK", "0")
    try:
        local = int(text)
    except ValueError:
        raise TrainingError(f"LOCAL_RANK must be an integer, got {text!r}") from None
    if local < 0:
        raise TrainingError(f"LOCAL_RANK must be >= 0, got {local}")
    return torch.device("cuda", local)


def init_distributed(device=None) -> tuple[int, int]:
    """Join the process group when launched by torchrun; returns (rank, world_size).

    The backend follows ``device`` (:func:`distributed_backend`: NCCL for CUDA,
    gloo for the CPU); on CUDA this process first binds its own GPU
    (:func:`rank_device`), as NCCL requires. The first call decides; later calls
    only read the rank.
    """
    import torch.distributed as dist

    world = _world_size()
    if world > 1 and dist.is_available() and not dist.is_initialized():
        local = rank_device(device)
        if local.type == "cuda":
            if local.index >= torch.cuda.device_count():
                raise TrainingError(f"LOCAL_RANK {local.index}: only "
                                    f"{torch.cuda.device_count()} CUDA device(s) here")
            torch.cuda.set_device(local)
        dist.init_process_group(backend=distributed_backend(local))
    d = _dist()
    return (d.get_rank(), d.get_world_size()) if d else (0, 1)


def finish_distributed() -> None:
    """Leave the process group at the end of a distributed run; a no-op in one process.

    Every rank first waits at a barrier, so no rank tears down its connections
    while a peer is still inside a collective, then destroys the group while the
    interpreter is fully alive: a group left to the interpreter's exit (or torn
    down while a peer still talks to it) can abort the process from gloo's
    worker threads. Drop the DDP model before calling this, so that its reducer
    does not outlive the group it uses.

    >>> finish_distributed()  # not launched by torchrun: nothing to leave
    """
    d = _dist()
    if d is None:
        return
    d.barrier()
    d.destroy_process_group()
