"""The typed errors of :mod:`seqvae`, one hierarchy under :class:`SeqVAEError`.

Every public function of the package reports bad input with one of these, so a
caller (the command line above all) can catch :class:`SeqVAEError` once. They
derive from :class:`ValueError` because each one means "this input cannot be
used", which is what callers that do not know this package expect to catch.

>>> issubclass(DecodeError, TokenizerError) and issubclass(TokenizerError, SeqVAEError)
True
>>> isinstance(SearchError("bad budget"), ValueError)
True
"""
from __future__ import annotations

__all__ = [
    "SeqVAEError", "ConfigError", "DataError", "TokenizerError", "TokenizerTypeError",
    "EncodeError", "DecodeError", "DecodingError", "DomainError", "DomainTypeError",
    "LatentError", "RunError", "TrainingError", "SearchError",
]


class SeqVAEError(ValueError):
    """Base of every error :mod:`seqvae` raises for bad input (configs, data, runs, searches)."""


class ConfigError(SeqVAEError):
    """A configuration value is out of range or of the wrong kind."""


class DataError(SeqVAEError):
    """Bad data-set input: unreadable file, missing column, impossible request."""


class TokenizerError(SeqVAEError):
    """An item or a token sequence does not fit a tokenizer."""


class TokenizerTypeError(TokenizerError, TypeError):
    """A tokenizer was given something other than strings (to fit its vocabulary, say).

    Also a :class:`TypeError`, so callers that check the kind of input keep working.
    """


class EncodeError(TokenizerError):
    """An item cannot be encoded (unknown symbol, too large for the vocabulary)."""


class DecodeError(TokenizerError):
    """A token sequence is not a well-formed encoding."""


class DecodingError(SeqVAEError):
    """Bad arguments to the decoder (latent shape, method, temperature, beam width)."""


class DomainError(SeqVAEError):
    """A domain cannot be built or rebuilt (unknown name, broken description, bad items)."""


class DomainTypeError(DomainError, TypeError):
    """A domain was given an object of the wrong kind (a validity that is neither a
    callable nor a registered name, say).

    Also a :class:`TypeError`, so callers that check the kind of input keep working.
    """


class LatentError(SeqVAEError):
    """Bad arguments to a latent-space tool (paths, directions, refinement, experiments)."""


class RunError(SeqVAEError):
    """A run directory is missing, incomplete or unreadable."""


class TrainingError(SeqVAEError):
    """Training cannot start or continue (no data, incompatible checkpoint...)."""


class SearchError(SeqVAEError):
    """``search-extreme`` refuses its arguments or cannot resume its state."""
