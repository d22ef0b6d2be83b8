"""The search method protocol, and the plainest method: uniformly random automata.

A method works in batches: candidates are generated as one ``(m, n_letters,
n_states)`` array, canonicalised and scored by :meth:`SearchContext.evaluate`
in one call, so per-candidate Python work stays negligible. The tuned baseline,
``evolve``, is :class:`~seqvae.hunt.search.evolve.EvolutionarySearch`.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from automata.generate import random_tables
from seqvae.hunt.search.config import RESTART_KINDS, OptionError, RandomConfig
from seqvae.hunt.search.core import SearchContext

# RESTART_KINDS was read from here before the configs had a module.
__all__ = ["SearchMethod", "RandomSearch", "RESTART_KINDS"]


class SearchMethod:
    """A search strategy: repeated :meth:`step` calls, each evaluating one batch.

    A method's options are one frozen config (:attr:`config_class`, see
    :mod:`.config`), given whole or as keywords (``population=64``) applied over
    ``config`` (the defaults when None); either way they are validated once, there.
    Everything a method needs to continue exactly must be in :meth:`state_dict`
    (numpy arrays and JSON scalars); the random generator is the context's and is
    checkpointed by the driver.
    """

    name = "base"
    config_class: ClassVar[type | None] = None

    def __init__(self, ctx: SearchContext, config=None, **options):
        self.ctx = ctx
        cls = self.config_class
        if cls is None:
            self.config = None
            return
        if config is not None and not isinstance(config, cls):
            raise OptionError("config", f"of {self.name} must be an instance of {cls.__name__}, "
                                        f"got {type(config).__name__}")
        self.config = cls.from_options(options, config)

    def seed(self, tables: np.ndarray, rts: np.ndarray) -> None:
        """Take user-supplied starting automata (already evaluated) into account."""

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class RandomSearch(SearchMethod):
    """Uniformly random automata, ``batch`` per step (:class:`~.config.RandomConfig`)."""

    name = "random"
    config_class = RandomConfig

    def step(self) -> None:
        ctx = self.ctx
        m = min(self.config.batch, max(ctx.remaining, 1))
        ctx.evaluate(random_tables(m, ctx.n_states, ctx.n_letters, ctx.rng))
