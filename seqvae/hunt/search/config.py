"""The options of the search methods, as frozen dataclasses validated when they are built.

Each method class takes one of these (:class:`RandomConfig`, :class:`EvolveConfig`,
:class:`LatentConfig`, :class:`HybridConfig`, :class:`BoostConfig`); a bad value
raises :class:`OptionError` (a :class:`~seqvae.errors.SearchError`) naming the
option, once, here: the command line maps its flags to these fields and checks
nothing itself.

The keyword form that :func:`~seqvae.hunt.search.search_extreme` has always taken
(``method_options={"population": 64, "evolve_options": {...}}``) maps onto the
same fields through :meth:`from_options`; a nested ``*_options`` dict updates the
nested config rather than replacing it.

``None`` in a field means "the method's default", where that default depends on
something only the method knows (the size searched, whether ``boost`` ranks the
lifts).

Examples
--------
>>> EvolveConfig(population=64).population
64
>>> EvolveConfig(restart_kind="sideways")
Traceback (most recent call last):
...
seqvae.hunt.search.config.OptionError: restart_kind must be one of uniform, high-rank, got 'sideways'
>>> BoostConfig.from_options({"evolve_options": {"patience": 3}}).evolve.patience
3
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from seqvae.errors import SearchError

__all__ = ["OptionError", "RESTART_KINDS", "RandomConfig", "EvolveConfig", "LatentConfig",
           "HybridConfig", "RankerConfig", "BoostConfig"]

#: Where :class:`~seqvae.hunt.search.evolve.EvolutionarySearch` draws fresh populations:
#: uniformly random tables, or :func:`~seqvae.hunt.search.moves.high_rank_tables`.
RESTART_KINDS = ("uniform", "high-rank")


class OptionError(SearchError):
    """A search method's option is unknown or out of range.

    ``option`` is the field's name and ``problem`` the rest of the message, so that
    a caller with its own names for the options (the command line's flags) can say
    the same with its name.
    """

    def __init__(self, option: str, problem: str):
        super().__init__(f"{option} {problem}")
        self.option, self.problem = option, problem


def _integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _at_least(config, low: int, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if not _integer(value) or value < low:
            raise OptionError(name, f"must be an integer >= {low}, got {value!r}")


def _optional_at_least(config, low: int, *names: str) -> None:
    _at_least(config, low, *[n for n in names if getattr(config, n) is not None])


def _in_range(config, name: str, low: float, high: float, *, open_low: bool = False) -> None:
    value = getattr(config, name)
    if value is None:
        return
    inside = _number(value) and (low < value if open_low else low <= value) and value <= high
    if not inside:
        bounds = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise OptionError(name, f"must be in {bounds}, got {value!r}")


def _positive(config, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if not _number(value) or not value > 0:
            raise OptionError(name, f"must be a positive number, got {value!r}")


def _sources(config, name: str) -> None:
    """Automata files (or DFAs) as a tuple; a path that is not a file is refused here,
    before any search starts."""
    value = getattr(config, name)
    if value is None:
        return
    from automata.dfa import DFA

    items = (value,) if isinstance(value, (str, os.PathLike, DFA)) else tuple(value)
    if not items:
        raise OptionError(name, "needs at least one automata file")
    for item in items:
        if isinstance(item, (str, os.PathLike)) and not Path(item).is_file():
            raise OptionError(name, f"has no such file: {item}")
    object.__setattr__(config, name, items)


class _Options:
    """Keyword construction shared by the configs (see the module doc)."""

    #: Method name used in messages.
    METHOD: ClassVar[str] = ""
    #: Old keyword -> field, for the nested configs (``evolve_options`` -> ``evolve``).
    ALIASES: ClassVar[dict[str, str]] = {}
    #: Field -> config class of a nested config.
    NESTED: ClassVar[dict[str, type]] = {}

    @classmethod
    def from_options(cls, options: dict | None = None, base=None):
        """This config from keyword options (over ``base`` when given, else the defaults).

        Raises
        ------
        OptionError
            On an option the method does not have, or a bad value.
        """
        names = [f.name for f in fields(cls)]
        flat: dict[str, Any] = {}
        nested: dict[str, dict] = {}
        for key, value in (options or {}).items():
            name = cls.ALIASES.get(key, key)
            if name not in names:
                raise OptionError(key, f"is not an option of {cls.METHOD} (its options: "
                                       f"{', '.join(names)})")
            if name in cls.NESTED and isinstance(value, dict):
                nested[name] = value
            else:
                flat[name] = value
        # One construction with every value, so that checks across fields see them all.
        start = base if base is not None else cls()
        values = {name: getattr(start, name) for name in names}
        values.update(flat)
        for name, value in nested.items():
            values[name] = cls.NESTED[name].from_options(value, cls.nested_base(values, name))
        return replace(start, **values)

    @classmethod
    def nested_base(cls, values: dict, name: str):
        """What a nested ``*_options`` dict updates, given the other values."""
        return values[name]


@dataclass(frozen=True)
class RandomConfig(_Options):
    """``random``: ``batch`` uniformly random automata per step."""

    METHOD: ClassVar[str] = "random"
    batch: int = 1024

    def __post_init__(self):
        _at_least(self, 1, "batch")


@dataclass(frozen=True)
class EvolveConfig(_Options):
    """``evolve``: see :class:`~seqvae.hunt.search.evolve.EvolutionarySearch` for each option.

    ``expand_share``, ``expand_swaps``, ``expand_merge`` and ``near_identity`` default
    (None) by the size searched; ``lift_share``, ``lift_arrows`` and ``lift_any_images``
    (None: 0.5, 1, False; ``boost`` ranking its lifts: 1.0, 2, True) apply with
    ``lift_from`` only. ``closure_margin=None`` turns the closure off.
    """

    METHOD: ClassVar[str] = "evolve"
    population: int = 128
    offspring: int = 256
    tournament_size: int = 4
    elite_rate: float = 0.0
    elite_size: int = 256
    strength: float = 0.5
    patience: int = 25
    expand: int = 1
    expand_share: float | None = None
    restart_keep: float = 0.0
    expand_swaps: bool | None = None
    expand_merge: bool | None = None
    near_identity: bool | None = None
    copy_moves: bool = True
    closure_margin: int | None = 4
    closure_per_step: int = 4
    closure_copies: bool = True
    closure_ranked: bool = False
    restart_kind: str = "high-rank"
    lift_from: Any = None
    lift_share: float | None = None
    lift_batch: int = 1024
    lift_arrows: int | None = None
    lift_any_images: bool | None = None

    def __post_init__(self):
        _at_least(self, 1, "population", "offspring", "tournament_size", "elite_size",
                  "patience", "closure_per_step", "lift_batch")
        _at_least(self, 0, "expand")
        _optional_at_least(self, 0, "closure_margin")
        _positive(self, "strength")
        for name in ("elite_rate", "restart_keep", "expand_share"):
            _in_range(self, name, 0.0, 1.0)
        if self.restart_kind not in RESTART_KINDS:
            raise OptionError("restart_kind", f"must be one of {', '.join(RESTART_KINDS)}, "
                                              f"got {str(self.restart_kind)[:40]!r}")
        _sources(self, "lift_from")
        if self.lift_from is None:
            for name in ("lift_share", "lift_arrows", "lift_any_images"):
                if getattr(self, name) is not None:
                    raise OptionError(name, "only applies with lift_from")
        _in_range(self, "lift_share", 0.0, 1.0, open_low=True)
        if self.lift_arrows is not None and (not _integer(self.lift_arrows)
                                             or not 1 <= self.lift_arrows <= 4):
            raise OptionError("lift_arrows", f"must be an integer from 1 to 4, "
                                             f"got {self.lift_arrows!r}")


@dataclass(frozen=True)
class LatentConfig(_Options):
    """``vae``: see :class:`~seqvae.hunt.search.latent_search.LatentSearch`.

    ``start_count`` and ``start_epochs`` (None: :data:`~seqvae.hunt.search.latent_search.
    START_MODEL`) size the starting model trained when no model is given.
    """

    METHOD: ClassVar[str] = "vae"
    batch: int = 256
    pool_factor: int = 4
    elite_size: int = 64
    sigma: float = 0.5
    prior_share: float = 0.15
    head_every: int = 3
    retrain_every: int = 25
    retrain_steps: int = 60
    retrain_top: int = 2000
    retrain_k: float = 1e-3
    ascent_steps: int = 5
    sample_share: float = 0.3
    start_count: int | None = None
    start_epochs: int | None = None

    def __post_init__(self):
        _at_least(self, 1, "batch", "pool_factor", "elite_size", "head_every", "retrain_top")
        _at_least(self, 0, "retrain_every", "retrain_steps", "ascent_steps")
        _optional_at_least(self, 1, "start_count", "start_epochs")
        _positive(self, "sigma", "retrain_k")
        _in_range(self, "prior_share", 0.0, 1.0)
        _in_range(self, "sample_share", 0.0, 1.0)


@dataclass(frozen=True)
class HybridConfig(LatentConfig):
    """``hybrid``: the latent proposals (smaller batches) and the local search ``evolve``."""

    METHOD: ClassVar[str] = "hybrid"
    ALIASES: ClassVar[dict[str, str]] = {"evolve_options": "evolve"}
    NESTED: ClassVar[dict[str, type]] = {"evolve": EvolveConfig}
    batch: int = 128
    evolve: EvolveConfig = field(default_factory=EvolveConfig)


@dataclass(frozen=True)
class RankerConfig(_Options):
    """The lift ranker of ``boost``: ``min_train`` lifts taken in the sources' order, then
    a :class:`~seqvae.hunt.search.surrogate.RtSurrogate` with the other options."""

    METHOD: ClassVar[str] = "the lift ranker"
    min_train: int = 2048
    hidden: int = 64
    max_length: int = 6
    first_steps: int = 1500
    steps: int = 300
    batch_size: int = 256
    seed: int = 0

    def __post_init__(self):
        _at_least(self, 0, "min_train", "seed")
        _at_least(self, 1, "hidden", "max_length", "first_steps", "steps", "batch_size")

    def surrogate_options(self) -> dict:
        """The keywords of :class:`~seqvae.hunt.search.surrogate.RtSurrogate`."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "min_train"}


@dataclass(frozen=True)
class BoostConfig(_Options):
    """``boost``: see :class:`~seqvae.hunt.search.boost.BoostSearch` for each option.

    ``evolve`` is the local search, ``latent`` the latent proposals (None: the
    defaults, retrained with ``vae_steps``, ``train_top`` and ``train_k``), ``ranker``
    the lift ranker (with ``evolve.lift_from``; ``rank_lifts`` None: on).
    """

    METHOD: ClassVar[str] = "boost"
    ALIASES: ClassVar[dict[str, str]] = {"evolve_options": "evolve", "latent_options": "latent",
                                         "lift_ranker_options": "ranker"}
    NESTED: ClassVar[dict[str, type]] = {"evolve": EvolveConfig, "latent": LatentConfig,
                                         "ranker": RankerConfig}
    transfer_from: Any = None
    train_top: int = 3000
    train_k: float = 0.05
    prior_samples: int = 512
    vae_samples: int = 128
    prior_steps: int = 100
    vae_steps: int = 30
    transfer_steps: int = 600
    temperature: float = 0.8
    offsets: bool = True
    prior_hidden: int = 64
    new_share: float = 0.75
    min_train: int = 256
    round_every: int = 0
    transfer_samples: int = 2000
    rank_lifts: bool | None = None
    rank_closure: bool = False
    evolve: EvolveConfig = field(default_factory=EvolveConfig)
    latent: LatentConfig | None = None
    ranker: RankerConfig = field(default_factory=RankerConfig)

    def __post_init__(self):
        _sources(self, "transfer_from")
        _at_least(self, 1, "train_top", "prior_hidden")
        _at_least(self, 0, "prior_samples", "vae_samples", "prior_steps", "vae_steps",
                  "transfer_steps", "min_train", "round_every", "transfer_samples")
        _positive(self, "train_k", "temperature")
        _in_range(self, "new_share", 0.0, 1.0)
        if self.rank_lifts is not None and self.evolve.lift_from is None:
            raise OptionError("rank_lifts", "only applies with lift_from")

    @property
    def ranked(self) -> bool:
        """Whether a learned surrogate orders the lifts (by default, when there are lifts)."""
        return self.rank_lifts is not False and self.evolve.lift_from is not None

    def local_search(self) -> EvolveConfig:
        """The evolutionary search's config, with the wider lifts a ranked pool can afford
        where they were left to the method: measured at n = 8 (3 seeds), 90 % recall after
        20k evaluations with ``lift_arrows=2, lift_any_images=True, lift_share=1``, 40k with
        the minimal lifts."""
        if not self.ranked:
            return self.evolve
        e = self.evolve
        return replace(e, lift_arrows=2 if e.lift_arrows is None else e.lift_arrows,
                       lift_any_images=True if e.lift_any_images is None else e.lift_any_images,
                       lift_share=1.0 if e.lift_share is None else e.lift_share,
                       closure_ranked=bool(self.rank_closure))

    def latent_proposals(self) -> LatentConfig:
        """The latent proposals' config (:attr:`latent`, or the defaults retrained with this
        config's ``vae_steps``, ``train_top`` and ``train_k``)."""
        if self.latent is not None:
            return self.latent
        return LatentConfig(retrain_steps=self.vae_steps, retrain_top=self.train_top,
                            retrain_k=self.train_k)

    @classmethod
    def nested_base(cls, values: dict, name: str):
        if name == "latent" and values["latent"] is None:
            return LatentConfig(retrain_steps=values["vae_steps"], retrain_top=values["train_top"],
                                retrain_k=values["train_k"])
        return values[name]
