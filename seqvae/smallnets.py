"""Checkpoint bytes of the search's small trainable networks (the table prior, the surrogate).

Both keep a network ``net``, its optimiser ``opt`` and a step count
``trained_steps``; a resumable search stores them inside its checkpoint as one
byte string, read back with ``weights_only=True`` so that a checkpoint can
hold tensors and numbers only, never code.
"""
from __future__ import annotations

import io

__all__ = ["NetStateMixin"]


class NetStateMixin:
    """``state()`` / ``load()`` for a class with ``net``, ``opt`` and ``trained_steps``."""

    def state(self) -> bytes:
        """The network, optimiser and step count as bytes (a torch checkpoint)."""
        import torch

        buf = io.BytesIO()
        torch.save({"net": self.net.state_dict(), "opt": self.opt.state_dict(),
                    "trained_steps": self.trained_steps}, buf)
        return buf.getvalue()

    def load(self, data: bytes) -> None:
        """Restore what :meth:`state` saved; the network is left in eval mode."""
        import torch

        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.trained_steps = int(state["trained_steps"])
        self.net.eval()
