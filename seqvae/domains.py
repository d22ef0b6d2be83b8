"""Domains: what the sequences mean.

A :class:`Domain` bundles a tokenizer with everything the latent-space tools
need to know about the items: how to parse a decoded sequence
(:meth:`Domain.parse` never raises), when two items are the same
(:meth:`Domain.canonical_key`), how good an item is (:meth:`Domain.score`) and
how to keep a decoder on well-formed sequences (:meth:`Domain.constraint`).

* :class:`AutomataDomain` — items are :class:`automata.DFA` in canonical form;
  scores are exact (``automata.sync``).
* :class:`StringDomain` — items are strings (SMILES or any line-based text),
  with an optional user validity function ``str -> bool`` named as
  ``"module:function"`` so that it survives ``to_dict`` / ``domain_from_dict``.

The domain reaches the ``automata`` package only through ``automata.canon``,
``automata.sync``, ``automata.formats`` and ``automata.generate``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.generate import strongly_connected_tables

from .errors import DomainError
from .tokenizers import (AutomatonTokenizer, DecodeConstraint, DecodeError, StringConstraint,
                         tokenizer_from_dict)

__all__ = ["Parsed", "Domain", "AutomataDomain", "StringDomain", "domain_from_dict",
           "resolve_function"]


@dataclass(frozen=True)
class Parsed:
    """Result of parsing a decoded sequence.

    ``ok`` is True when the sequence is a valid item; ``item`` is the item
    (canonical automaton, or string) or None when decoding failed; ``error``
    says why when ``ok`` is False.
    """

    ok: bool
    item: Any
    error: str | None = None


def resolve_function(spec: str) -> Callable:
    """Import ``"package.module:function"`` (dots after the colon reach attributes).

    >>> resolve_function("os.path:basename")("/a/b.txt")
    'b.txt'
    """
    if not isinstance(spec, str) or ":" not in spec:
        raise DomainError(f"function spec must look like 'module:function', got {spec!r}")
    module_name, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise DomainError(f"cannot import module {module_name!r} for {spec!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise DomainError(f"{spec!r}: module {module_name!r} has no attribute "
                             f"{attr!r}") from None
    if not callable(obj):
        raise DomainError(f"{spec!r} is not callable")
    return obj


def _function_name(func: Callable) -> str | None:
    """``module:qualname`` when ``func`` can be re-imported by that name, else None."""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    try:
        return f"{module}:{qualname}" if resolve_function(f"{module}:{qualname}") is func else None
    except ValueError:
        return None


class Domain:
    """Common interface; see :class:`AutomataDomain` and :class:`StringDomain`."""

    name: str = ""
    tokenizer: Any

    def parse(self, ids) -> Parsed:  # pragma: no cover - overridden
        raise NotImplementedError

    def parse_many(self, batch: Iterable) -> list[Parsed]:
        """:meth:`parse` for each sequence of a batch (list of lists, 2-D array or tensor)."""
        return [self.parse(ids) for ids in batch]

    def encode(self, item) -> list[int]:
        """Token ids of an item (canonicalised first where the domain has canonical forms)."""
        return self.tokenizer.encode(item)

    def item_from_text(self, text: str):
        """The item stored as ``text`` in a data set's ``item`` column."""
        return text

    def item_to_text(self, item) -> str:
        """The one-line text stored in a data set's ``item`` column."""
        return str(item)

    def encode_text(self, text: str) -> list[int]:
        """Token ids of an item given as data-set text."""
        return self.encode(self.item_from_text(text))

    def canonical_key(self, item) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def score(self, item) -> dict:
        return {}

    def score_many(self, items: Sequence) -> list[dict]:
        return [self.score(item) for item in items]

    def constraint(self, **spec) -> DecodeConstraint | None:
        return None

    def to_dict(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError


class AutomataDomain(Domain):
    """Synchronizing automata; items are canonical :class:`automata.DFA`.

    Examples
    --------
    >>> dom = AutomataDomain(AutomatonTokenizer(max_states=6, max_letters=2))
    >>> cerny4 = DFA([[1, 2, 3, 0], [1, 1, 2, 3]])
    >>> parsed = dom.parse(dom.encode(cerny4))
    >>> parsed.ok, parsed.item.n_states
    (True, 4)
    >>> dom.score(parsed.item)["reset_length"]
    9
    >>> dom.parse([1, 9]).error
    'missing EOS'
    """

    name = "automata"

    def __init__(self, tokenizer: AutomatonTokenizer):
        if not isinstance(tokenizer, AutomatonTokenizer):
            raise TypeError("AutomataDomain needs an AutomatonTokenizer")
        self.tokenizer = tokenizer

    def parse(self, ids) -> Parsed:
        """Decode and canonicalise; a malformed sequence gives ``Parsed(False, None, reason)``."""
        from automata.canon import canonical_form

        try:
            return Parsed(True, canonical_form(self.tokenizer.decode(ids)), None)
        except (DecodeError, AutomatonError) as exc:
            return Parsed(False, None, str(exc))

    def parse_many(self, batch: Iterable) -> list[Parsed]:
        """Decode a batch, canonicalising all well-formed automata together."""
        from automata.canon import canonical_tables

        decoded: list[Any] = []
        for ids in batch:
            try:
                decoded.append(self.tokenizer.decode(ids))
            except DecodeError as exc:
                decoded.append(str(exc))
        out: list[Parsed | None] = [None] * len(decoded)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, d in enumerate(decoded):
            if isinstance(d, str):
                out[i] = Parsed(False, None, d)
            else:
                groups.setdefault((d.n_letters, d.n_states), []).append(i)
        for idx in groups.values():
            tables = np.stack([decoded[i].delta for i in idx]).astype(np.int32)
            try:
                canon = canonical_tables(tables)
            except AutomatonError as exc:  # e.g. more letters than canonical forms support
                for i in idx:
                    out[i] = Parsed(False, None, str(exc))
                continue
            for j, i in enumerate(idx):
                out[i] = Parsed(True, DFA(canon[j]), None)
        return out  # type: ignore[return-value]

    def encode(self, item) -> list[int]:
        from automata.canon import canonical_form

        if not isinstance(item, DFA):
            item = DFA(item)
        return self.tokenizer.encode(canonical_form(item))

    def item_from_text(self, text: str) -> DFA:
        from automata.formats import parse_compact

        return parse_compact(text)

    def item_to_text(self, item) -> str:
        from automata.formats import format_compact

        return format_compact(item)

    def canonical_key(self, item) -> str:
        """Equal for two automata iff they are isomorphic (states and letters renamed)."""
        from automata.canon import canonical_key

        return canonical_key(item)

    def score(self, item, **limits) -> dict:
        """Exact scores: ``synchronizing``, ``reset_length`` (None if not),
        ``strongly_connected``, ``cerny_ratio`` = rt / (n-1)² (None if not
        synchronizing, 0.0 for a one-state automaton).

        ``limits`` (``memory_gib``, ``time_limit``) go to
        :func:`automata.sync.reset_length`, which raises a
        ``ResourceLimitError`` when one is hit."""
        from automata.sync import reset_length

        rt = reset_length(item, **limits)
        sc = strongly_connected_tables(np.asarray(item.delta)[None])[0]
        return _score_dict(item.n_states, rt, bool(sc))

    def score_many(self, items: Sequence) -> list[dict]:
        """:meth:`score` for many automata, batched by shape (fast for small n)."""
        from automata.sync import reset_lengths

        out: list[dict | None] = [None] * len(items)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, item in enumerate(items):
            if item.n_states <= 64:
                groups.setdefault((item.n_letters, item.n_states), []).append(i)
            else:
                out[i] = self.score(item)
        for (_, n), idx in groups.items():
            tables = np.stack([items[i].delta for i in idx]).astype(np.int32)
            rts = reset_lengths(tables)
            sc = strongly_connected_tables(tables)
            for j, i in enumerate(idx):
                rt = int(rts[j])
                out[i] = _score_dict(n, rt if rt >= 0 else None, bool(sc[j]))
        return out  # type: ignore[return-value]

    def constraint(self, n_states=None, n_letters=None, **unused) -> DecodeConstraint:
        """Constraint forcing the header (if given) and a well-formed body.

        Extra keyword arguments are ignored so that one ``**spec`` can be passed
        to every domain.
        """
        return self.tokenizer.constraint(n_states=n_states, n_letters=n_letters)

    def to_dict(self) -> dict:
        return {"name": self.name, "tokenizer": self.tokenizer.to_dict()}

    def __repr__(self) -> str:
        return f"AutomataDomain({self.tokenizer!r})"


def _score_dict(n_states: int, rt: int | None, strongly_connected: bool) -> dict:
    if rt is None:
        ratio = None
    elif n_states <= 1:
        ratio = 0.0
    else:
        ratio = rt / (n_states - 1) ** 2
    return {"synchronizing": rt is not None, "reset_length": rt,
            "strongly_connected": strongly_connected, "cerny_ratio": ratio}


class StringDomain(Domain):
    """Strings tokenized by a :class:`CharTokenizer` or :class:`RegexTokenizer`.

    Parameters
    ----------
    tokenizer
        A string tokenizer.
    validity : callable or "module:function" or None
        Optional ``str -> bool``; a decoded string it rejects (or that makes it
        raise) parses as ``ok=False`` with the string kept in ``item``.
    canonical : callable or "module:function" or None
        Optional ``str -> str`` used by :meth:`canonical_key` (e.g. a canonical
        SMILES writer); identity by default.

    Only functions that can be imported by name survive :meth:`to_dict`.

    Examples
    --------
    >>> from seqvae.tokenizers import CharTokenizer
    >>> dom = StringDomain(CharTokenizer.fit(["ab", "ba"]), validity="builtins:str.isupper")
    >>> dom.parse(dom.encode("ab")).ok
    False
    """

    name = "strings"

    def __init__(self, tokenizer, validity: Callable[[str], bool] | str | None = None,
                 canonical: Callable[[str], str] | str | None = None):
        if isinstance(tokenizer, AutomatonTokenizer):
            raise TypeError("StringDomain needs a string tokenizer")
        self.tokenizer = tokenizer
        self.validity, self.validity_name = self._function(validity)
        self.canonical, self.canonical_name = self._function(canonical)

    @staticmethod
    def _function(spec):
        if spec is None:
            return None, None
        if isinstance(spec, str):
            return resolve_function(spec), spec
        if not callable(spec):
            raise TypeError(f"expected a callable or 'module:function', got {spec!r}")
        return spec, _function_name(spec)

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

    def canonical_key(self, item) -> str:
        return str(self.canonical(item)) if self.canonical is not None else str(item)

    def score(self, item) -> dict:
        return {}

    def constraint(self, max_len: int | None = None, **unused) -> DecodeConstraint | None:
        """None (free decoding) unless ``max_len`` is given: then a
        :class:`~seqvae.tokenizers.StringConstraint` that keeps every decode
        well-formed and at most ``max_len`` tokens long."""
        if max_len is None:
            return None
        return StringConstraint(self.tokenizer, max_len)

    def to_dict(self) -> dict:
        return {"name": self.name, "tokenizer": self.tokenizer.to_dict(),
                "validity": self.validity_name, "canonical": self.canonical_name}

    def __repr__(self) -> str:
        return f"StringDomain({self.tokenizer!r}, validity={self.validity_name!r})"


def domain_from_dict(d: dict) -> Domain:
    """Rebuild a domain from :meth:`Domain.to_dict`.

    >>> dom = AutomataDomain(AutomatonTokenizer(5, 2))
    >>> domain_from_dict(dom.to_dict()).tokenizer == dom.tokenizer
    True
    """
    try:
        name = d["name"]
        tok = tokenizer_from_dict(d["tokenizer"])
    except (KeyError, TypeError):
        raise DomainError(f"not a domain description: {d!r}") from None
    if name == AutomataDomain.name:
        return AutomataDomain(tok)
    if name == StringDomain.name:
        return StringDomain(tok, validity=d.get("validity"), canonical=d.get("canonical"))
    raise DomainError(f"unknown domain {name!r}")
