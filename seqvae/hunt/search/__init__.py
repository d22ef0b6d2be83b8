"""search-extreme: find automata with the longest shortest reset words.

Five methods share one budget of exact evaluations of distinct automata (up
to isomorphism): ``random`` and ``evolve`` (baselines), the latent-space methods
``vae`` and ``hybrid``, and ``boost`` (evolutionary climbs seeded by generative
models). See :func:`search_extreme`; each method's options are a frozen config
(:mod:`.config`).
"""
from seqvae.hunt.search.config import (
           BoostConfig,
           EvolveConfig,
           HybridConfig,
           LatentConfig,
           OptionError,
           RandomConfig,
           RankerConfig,
)
from seqvae.hunt.search.core import (
           NOT_EVALUATED,
           Archive,
           Counterexample,
           SearchContext,
           cerny_bound,
           h_level,
           load_checkpoint,
           save_checkpoint,
)
from seqvae.hunt.search.runner import (
           METHODS,
           SearchResult,
           check_arguments,
           method_config,
           search_extreme,
)

__all__ = ["search_extreme", "check_arguments", "SearchResult", "METHODS", "SearchContext", "Archive",
           "Counterexample", "NOT_EVALUATED", "cerny_bound", "h_level", "save_checkpoint",
           "load_checkpoint", "method_config", "OptionError", "RandomConfig", "EvolveConfig",
           "LatentConfig", "HybridConfig", "RankerConfig", "BoostConfig"]
