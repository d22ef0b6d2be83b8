"""The small trainable networks of the latent searches: one fit loop and one saved state.

The property head (:class:`~seqvae.proposals.PropertyHead`), the reset-length
surrogate (:class:`~seqvae.hunt.search.surrogate.RtSurrogate`) and the table
prior (:class:`~seqvae.hunt.search.prior.TablePrior`) are all a network trained
for a few hundred optimiser steps at a time, warm-started from the last fit, and
stored inside a resumable search's checkpoint. What differs between them is only
the loss of one minibatch, so:

* :func:`fit_steps` is the one training loop: it calls ``batch_loss()`` once per
  step (the caller draws its minibatch there, from its own seeded generator, so
  a fit is reproducible and never touches the global random state);
* :class:`SmallNet` is the one saved state: the network, the optimiser (when it
  persists between fits), the step count and a few scalars, as the bytes of a
  torch checkpoint read back with ``weights_only=True`` so that a checkpoint
  holds tensors and numbers only, never code;
* :func:`seeded_init` builds a network's initial weights from a seed without
  changing torch's global generator.

torch is imported on first use (a search without networks never pays for it);
the thread count is the command line's choice, never set here.

Examples
--------
>>> import torch
>>> class Line(SmallNet):
...     def __init__(self):
...         with seeded_init(0):
...             self.net = torch.nn.Linear(1, 1)
...         self.opt = torch.optim.SGD(self.net.parameters(), lr=0.1)
...         self.trained_steps = 0
>>> line, x = Line(), torch.linspace(-1, 1, 16)[:, None]
>>> loss = line.fit_steps(lambda: ((line.net(x) - 3 * x) ** 2).mean(), steps=200)
>>> round(line.net.weight.item(), 2), line.trained_steps
(3.0, 200)
>>> copy = Line()
>>> copy.load(line.state())
>>> bool(copy.net.weight == line.net.weight) and copy.trained_steps == 200
True
"""
from __future__ import annotations

import contextlib
import io
from typing import Any, Callable, Iterator

__all__ = ["fit_steps", "seeded_init", "SmallNet"]


def fit_steps(net, opt, batch_loss: Callable[[], Any], steps: int, *,
              clip_norm: float | None = None) -> float:
    """``steps`` optimiser steps on ``batch_loss()``; the network is left in eval mode.

    Parameters
    ----------
    net : torch.nn.Module
        The network trained (switched to train mode for the loop).
    opt : torch.optim.Optimizer
        Its optimiser.
    batch_loss : callable
        Returns the scalar loss of one freshly drawn minibatch.
    steps : int
        Number of steps (0: nothing is trained).
    clip_norm : float, optional
        Clip the gradients' global norm to this before each step.

    Returns
    -------
    float
        The last minibatch's loss (0.0 when ``steps`` is 0).
    """
    import torch

    net.train()
    last = 0.0
    for _ in range(int(steps)):
        loss = batch_loss()
        opt.zero_grad()
        loss.backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip_norm)
        opt.step()
        last = float(loss.detach())
    net.eval()
    return last


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Inside: torch's generator seeded with ``seed``; outside, its state as before.

    Networks built inside start from weights that depend on ``seed`` only.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


class SmallNet:
    """Base of a small network trained by :func:`fit_steps`, with one saved state.

    A subclass sets ``net`` (a module), ``opt`` (its optimiser, or None when
    every fit starts a fresh one) and ``trained_steps``; scalars it must keep
    besides (a target's scale, say) it lists in :attr:`EXTRA_STATE`.
    """

    #: Names of the scalar attributes saved with the weights.
    EXTRA_STATE: tuple[str, ...] = ()

    net: Any
    opt: Any
    trained_steps: int

    def fit_steps(self, batch_loss: Callable[[], Any], steps: int, *, opt=None,
                  clip_norm: float | None = None) -> float:
        """:func:`fit_steps` on this network with ``opt`` (default: :attr:`opt`),
        counting the steps in :attr:`trained_steps`."""
        loss = fit_steps(self.net, self.opt if opt is None else opt, batch_loss, steps,
                         clip_norm=clip_norm)
        self.trained_steps += int(steps)
        return loss

    def state(self) -> bytes:
        """The weights, the optimiser, the step count and the extra scalars, as bytes."""
        import torch

        state = {"net": self.net.state_dict(), "trained_steps": int(self.trained_steps),
                 **{name: getattr(self, name) for name in self.EXTRA_STATE}}
        if self.opt is not None:
            state["opt"] = self.opt.state_dict()
        buf = io.BytesIO()
        torch.save(state, buf)
        return buf.getvalue()

    def load(self, data: bytes) -> None:
        """Restore what :meth:`state` saved; the network is left in eval mode."""
        import torch

        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        self.net.load_state_dict(state["net"])
        if self.opt is not None and "opt" in state:
            self.opt.load_state_dict(state["opt"])
        # Property heads saved before this format kept a flag instead of a step count.
        self.trained_steps = int(state.get("trained_steps", bool(state.get("trained"))))
        for name in self.EXTRA_STATE:
            setattr(self, name, state[name])
        self.net.eval()
