"""Strings as items: the engine's own domain, and string data sets with provenance.

* :class:`StringDomain` — items are strings (any line-based text, SMILES-like
  tokens by default), with an optional validity function ``str -> bool``; only a
  function registered by name in :mod:`seqvae.validators` is stored by
  ``to_dict``, and loading looks the name up there (nothing read from a file is
  imported). Registered as ``"strings"``.
* :func:`strings_dataset` / :func:`strings_dataset_from_file`: strings as a
  table, optionally filtered by a validity function, with a fitted domain; write
  them with :func:`seqvae.data.save_dataset`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from seqvae import __version__
from seqvae.constraints import DecodeConstraint, StringConstraint
from seqvae.data import load_strings_report
from seqvae.domains import Domain, Parsed, domain_from_dict, register_domain
from seqvae.errors import DataError, DomainError, DomainTypeError
from seqvae.tokenizers import CharTokenizer, DecodeError, RegexTokenizer, StringTokenizer, tokenizer_from_dict
from seqvae.validators import get_validator, name_of

__all__ = ["StringDomain", "strings_dataset", "strings_dataset_from_file", "filter_valid"]


@register_domain
class StringDomain(Domain):
    """Strings tokenized by a :class:`CharTokenizer` or :class:`RegexTokenizer`.

    Parameters
    ----------
    tokenizer
        A string tokenizer.
    validity : callable, registered name or None
        Optional ``str -> bool``; a decoded string it rejects (or that makes it
        raise) parses as ``ok=False`` with the string kept in ``item``. A name is
        looked up in :mod:`seqvae.validators` (e.g. ``"smiles"``).
    canonical : callable, registered name or None
        Optional ``str -> str`` used by :meth:`canonical_key` (e.g. a canonical
        SMILES writer); identity by default. A name takes the canonical function
        registered under it.

    Only registered functions survive :meth:`to_dict` (by name); a function of
    one's own is registered, or passed again when the run is loaded.

    Examples
    --------
    >>> from seqvae.tokenizers import CharTokenizer
    >>> dom = StringDomain(CharTokenizer.fit(["ab", "ba"]), validity=lambda s: s.isupper())
    >>> dom.parse(dom.encode("ab")).ok
    False
    >>> dom.to_dict()["validity"] is None
    True
    """

    name = "strings"

    def __init__(self, tokenizer, validity: Callable[[str], bool] | str | None = None,
                 canonical: Callable[[str], str] | str | None = None):
        if not isinstance(tokenizer, StringTokenizer):
            raise DomainError("StringDomain needs a string tokenizer")
        self.tokenizer = tokenizer
        self.validity, self.validity_name = self._function(validity, "validity")
        self.canonical, self.canonical_name = self._function(canonical, "canonical")

    @staticmethod
    def _function(spec, part: str):
        if spec is None:
            return None, None
        if isinstance(spec, str):
            func = getattr(get_validator(spec), part)
            if func is None:
                raise DomainError(f"validator {spec!r} has no {part} function")
            return func, spec
        if not callable(spec):
            raise DomainTypeError(f"expected a callable or a registered validator name, got {spec!r}")
        return spec, name_of(spec, part)

    def parse(self, ids) -> Parsed:
        try:
            text = self.tokenizer.decode(ids)
        except DecodeError as exc:
            return Parsed(False, None, str(exc))
        if self.validity is not None:
            name = self.validity_name or getattr(self.validity, "__name__", "validity")
            try:
                valid = bool(self.validity(text))
            except Exception as exc:  # noqa: BLE001 - a user function may fail in any way
                return Parsed(False, text, f"validity function {name} raised "
                                           f"{type(exc).__name__}: {exc}")
            if not valid:
                return Parsed(False, text, f"rejected by validity function {name}")
        return Parsed(True, text, None)

    def encode(self, item) -> list[int]:
        return self.tokenizer.encode(item)

    def with_validity(self, validity: Callable[[str], bool] | str | None) -> "StringDomain":
        """The same domain with another validity function (None: none)."""
        return type(self)(self.tokenizer, validity=validity, canonical=self.canonical)

    def canonical_key(self, item) -> str:
        return str(self.canonical(item)) if self.canonical is not None else str(item)

    def score(self, item) -> dict:
        return {}

    def constraint(self, max_len: int | None = None, **unused) -> DecodeConstraint | None:
        """None (free decoding) unless ``max_len`` is given: then a
        :class:`~seqvae.constraints.StringConstraint` that keeps every decode
        well-formed and at most ``max_len`` tokens long."""
        if max_len is None:
            return None
        return StringConstraint(self.tokenizer, max_len)

    def to_dict(self) -> dict:
        return {"name": self.name, "tokenizer": self.tokenizer.to_dict(),
                "validity": self.validity_name, "canonical": self.canonical_name}

    @classmethod
    def from_dict(cls, d: dict) -> "StringDomain":
        return cls(tokenizer_from_dict(d["tokenizer"]), validity=d.get("validity"),
                   canonical=d.get("canonical"))

    @classmethod
    def training_set(cls, path: str | os.PathLike, *, column: str | None = None,
                     tokenizer: str | None = None,
                     validity: Callable[[str], bool] | str | None = None
                     ) -> tuple["StringDomain", list, dict]:
        """The distinct strings of a file (text, CSV, TSV or Parquet ``column``) and a
        domain with a tokenizer fitted on them (``"regex"`` unless ``tokenizer`` says).

        A data set written by ``seqvae data strings`` keeps the tokenizer and the
        validity it was built with: they are used unless ``tokenizer`` or
        ``validity`` is given."""
        from seqvae.data import load_dataset, load_strings_report

        if Path(path).suffix == ".parquet" and column is None:
            df, meta = load_dataset(path)
            spec = meta.get("domain_spec")
            if isinstance(spec, dict) and spec.get("name") == cls.name:
                stored = domain_from_dict(spec)
                strings = list(dict.fromkeys(str(s) for s in df["item"]))
                if len(strings) < 2:
                    raise DataError(f"{path}: need at least two distinct strings")
                if tokenizer is not None and tokenizer != stored.tokenizer.type_name:
                    stored = cls.fit(strings, tokenizer, validity=stored.validity_name)
                if validity is not None:
                    stored = stored.with_validity(validity)
                return stored, strings, {"source": str(path), "rows": len(strings),
                                         "column": None, "stored_domain": True}
        tokenizer = tokenizer or "regex"
        read, skipped = load_strings_report(path, column=column)
        strings = list(dict.fromkeys(read))
        if len(strings) < 2:
            raise DataError(f"{path}: need at least two distinct strings")
        domain = cls.fit(strings, tokenizer, validity=validity)
        return domain, strings, {"source": str(path), "rows": len(strings), "column": column,
                                 "skipped_bad_lines": skipped["bad_lines"],
                                 "skipped_too_long": skipped["too_long"]}

    @classmethod
    def for_dataset(cls, df, meta: dict, *, tokenizer: str | None = None) -> "StringDomain":
        """A ``"regex"`` (default) or ``"char"`` tokenizer fitted on the ``item`` column."""
        choice = tokenizer or meta.get("tokenizer") or "regex"
        try:
            return cls.fit([str(s) for s in df["item"]], choice, validity=meta.get("validity"))
        except DomainError as exc:
            raise DataError(str(exc)) from None

    @classmethod
    def fit(cls, strings: Sequence[str], tokenizer: str = "regex",
            validity: Callable[[str], bool] | str | None = None) -> "StringDomain":
        """A domain with a ``"regex"`` (SMILES-like tokens) or ``"char"`` tokenizer fitted
        on ``strings``.

        >>> StringDomain.fit(["CCO", "ClC"]).tokenizer.vocab[-2:]
        ['Cl', 'O']
        """
        kinds = {"regex": RegexTokenizer, "char": CharTokenizer}
        if tokenizer not in kinds:
            raise DomainError(f"unknown tokenizer {tokenizer!r} (use 'char' or 'regex')")
        return cls(kinds[tokenizer].fit(list(strings)), validity=validity)

    def __repr__(self) -> str:
        return f"StringDomain({self.tokenizer!r}, validity={self.validity_name!r})"


def strings_dataset(strings: Sequence[str], *, dedup: bool = True) -> pd.DataFrame:
    """A strings data set: columns ``item`` and ``length`` (in characters), optionally
    deduplicated keeping first occurrences.

    >>> strings_dataset(["CCO", "C", "CCO"])["item"].tolist()
    ['CCO', 'C']
    """
    items = list(dict.fromkeys(strings)) if dedup else list(strings)
    return pd.DataFrame({"item": items, "length": [len(s) for s in items]})


def filter_valid(strings: Sequence[str], validity: Callable[[str], bool] | str
                 ) -> tuple[list[str], int]:
    """The strings ``validity`` accepts (a function that raises rejects), and how many it
    dropped.

    >>> filter_valid(["ab", "AB", "1"], str.isalpha)
    (['ab', 'AB'], 1)
    >>> filter_valid(["a", " "], "nonblank")
    (['a'], 1)
    """
    check = get_validator(validity).validity if isinstance(validity, str) else validity
    kept = [s for s in strings if _accepts(check, s)]
    return kept, len(strings) - len(kept)


def _accepts(check: Callable[[str], bool], text: str) -> bool:
    try:
        return bool(check(text))
    except Exception:  # noqa: BLE001 - a user function failing on a string rejects it
        return False


def strings_dataset_from_file(source, *, column: str | None = None, tokenizer: str = "regex",
                              validity: str | None = None, dedup: bool = True
                              ) -> tuple[pd.DataFrame, dict, StringDomain]:
    """Strings of a file as a data set, its provenance and a domain fitted on it:
    ``(df, meta, domain)``. ``meta["domain_spec"]`` lets the set rebuild that domain."""
    strings, skipped = load_strings_report(source, column=column)
    if not strings:
        raise DataError(f"{source}: no strings found")
    dropped = 0
    if validity is not None:
        strings, dropped = filter_valid(strings, validity)
        if not strings:
            raise DataError(f"the validity function {validity} rejects every string")
    df = strings_dataset(strings, dedup=dedup)
    domain = StringDomain.fit(df["item"].tolist(), tokenizer, validity=validity)
    meta = {
        "domain": StringDomain.name,
        "generator": "seqvae.data.load_strings",
        "parameters": {"source": str(source), "column": column, "dedup": dedup},
        "tokenizer": tokenizer,
        "validity": validity,
        "domain_spec": domain.to_dict(),
        "seqvae_version": __version__,
        "dropped_invalid": dropped,
        "skipped_bad_lines": skipped["bad_lines"],
        "skipped_too_long": skipped["too_long"],
    }
    return df, meta, domain
