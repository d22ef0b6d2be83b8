"""Screening the items of a file before a run encodes them: one bad item is skipped and
counted, never fatal to the whole file.

A molecule with an atom the tokenizer never saw (one line in tens of thousands
of a test set) used to abort ``seqvae encode`` and ``seqvae eval --data``.
:func:`screen_items` keeps the items a run can encode and reports the others
by position and reason; ``--strict`` keeps the old all-or-nothing behaviour.

>>> from seqvae.strings import StringDomain
>>> dom = StringDomain.fit(["ab", "ba"], "char")
>>> screened = screen_items(dom, ["ab", "aXb", "ba"], max_tokens=10)
>>> screened.items, screened.index, screened.skipped
(['ab', 'ba'], [0, 2], [{'index': 1, 'error': "token 'X' (token 1 of 'aXb') is not in the vocabulary"}])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from seqvae.errors import DataError, SeqVAEError

__all__ = ["Screened", "screen_items"]

#: How many skipped items a report lists (the count is always exact).
MAX_LISTED = 20


@dataclass
class Screened:
    """The encodable items (domain form, canonical), their positions in the input, and the
    skipped ones as ``{"index", "error"}`` records (at most :data:`MAX_LISTED` listed)."""

    items: list
    index: list[int]
    skipped: list[dict] = field(default_factory=list)
    n_skipped: int = 0

    def summary(self, what: str = "items") -> str:
        """One line for stderr, e.g. ``skipped 1 of 3 items (item 2: unknown symbol ...)``."""
        total = len(self.items) + self.n_skipped
        first = self.skipped[0] if self.skipped else None
        example = f" (item {first['index'] + 1}: {first['error']})" if first else ""
        return f"skipped {self.n_skipped} of {total} {what}{example}"


def _one(domain, obj, max_tokens: int | None):
    item = domain.prepare([obj])[0]
    ids = domain.tokenizer.encode(item)
    if max_tokens is not None and len(ids) > max_tokens:
        raise SeqVAEError(f"{len(ids)} tokens, more than the model's {max_tokens}")
    return item


def screen_items(domain, objs: Sequence, *, max_tokens: int | None = None,
                 strict: bool = False) -> Screened:
    """The items of ``objs`` that ``domain`` can prepare and tokenize within ``max_tokens``.

    Parameters
    ----------
    domain
        The run's domain.
    objs
        Items or their text form, as read from a file.
    max_tokens
        Longest token sequence (BOS and EOS included) the model takes; None: no limit.
    strict
        Raise the first item's error instead of skipping it.

    Raises
    ------
    DataError
        With ``strict``, the first bad item's error, naming its position.
    """
    kept, index, skipped, n_skipped = [], [], [], 0
    for i, obj in enumerate(objs):
        try:
            item = _one(domain, obj, max_tokens)
        except (SeqVAEError, ValueError, TypeError) as exc:
            message = " ".join(str(exc).split())[:200] or type(exc).__name__
            if strict:
                raise DataError(f"item {i + 1}: {message}") from None
            n_skipped += 1
            if len(skipped) < MAX_LISTED:
                skipped.append({"index": i, "error": message})
            continue
        kept.append(item)
        index.append(i)
    return Screened(kept, index, skipped, n_skipped)
