"""search-extreme: find automata with the longest shortest reset words.

Four methods share one budget of exact evaluations of distinct automata (up
to isomorphism): ``random`` and ``evolve`` (baselines) and the latent-space
methods ``vae`` and ``hybrid``. See :func:`search_extreme`.
"""
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
from seqvae.hunt.search.runner import METHODS, SearchResult, check_arguments, search_extreme

__all__ = ["search_extreme", "check_arguments", "SearchResult", "METHODS", "SearchContext", "Archive",
           "Counterexample", "NOT_EVALUATED", "cerny_bound", "h_level", "save_checkpoint",
           "load_checkpoint"]
