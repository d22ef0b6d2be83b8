"""The ``--device`` option shared by the commands that run a model."""
from __future__ import annotations

__all__ = ["DEVICE_HELP", "use_device"]

DEVICE_HELP = "auto (CUDA when available), cpu, cuda or cuda:N."


def use_device(run, device: str):
    """Move ``run`` to ``--device`` (see :func:`seqvae.device.resolve_device`) and return it."""
    from seqvae.device import resolve_device

    return run.to(resolve_device(device))
