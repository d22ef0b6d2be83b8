"""Which torch device a command runs on: ``auto``, ``cpu`` or ``cuda`` (``cuda:N``).

``auto`` is CUDA when torch sees a GPU, else the CPU. Asking for CUDA on a
machine without one is a :class:`DeviceError` (one line on the command line),
never a silent fall-back. Mixed precision (bfloat16 autocast) is used on CUDA
only (:func:`autocast_dtype`): on CPU it brings little and changes the numbers.
"""
from __future__ import annotations

from seqvae.errors import ConfigError

__all__ = ["DEVICE_CHOICES", "DeviceError", "resolve_device", "autocast_dtype"]

#: What ``--device`` accepts (besides ``cuda:N``).
DEVICE_CHOICES = ("auto", "cpu", "cuda")


class DeviceError(ConfigError):
    """A device that does not exist here, or a name that is not a device."""


def resolve_device(name: str | None = "auto"):
    """The :class:`torch.device` for ``name`` (None means ``auto``).

    Raises
    ------
    DeviceError
        ``name`` is not auto, cpu, cuda or cuda:N, or CUDA is asked for and absent.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in ("cpu", "cuda")
    True
    """
    import torch

    name = "auto" if name is None else str(name).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {name}: CUDA is not available on this machine "
                              "(use --device cpu or auto)")
        index = int(name[5:]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"--device {name}: only {torch.cuda.device_count()} CUDA "
                              "device(s) here")
        return torch.device("cuda", index)
    raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")


def autocast_dtype(device):
    """The autocast dtype for ``device``: bfloat16 on CUDA, None (full precision) elsewhere.

    >>> autocast_dtype(resolve_device("cpu")) is None
    True
    """
    import torch

    return torch.bfloat16 if torch.device(device).type == "cuda" else None
