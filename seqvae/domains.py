"""Domains: what the sequences mean.

A :class:`Domain` bundles a tokenizer with everything the latent-space tools
need to know about the items: how to parse a decoded sequence
(:meth:`Domain.parse` never raises), when two items are the same
(:meth:`Domain.canonical_key`), how good an item is (:meth:`Domain.score`) and
how to keep a decoder on well-formed sequences (:meth:`Domain.constraint`).

* :class:`AutomataDomain` — items are :class:`automata.DFA` in canonical form;
  scores are exact (``automata.sync``).
* :class:`StringDomain` — items are strings (SMILES or any line-based text),
  with an optional validity function ``str -> bool``; only a function
  registered by name in :mod:`seqvae.validators` is stored by ``to_dict``, and
  ``domain_from_dict`` looks the name up there (nothing read from a file is imported).

A new kind of item (e.g. molecules written as SELFIES) plugs in as a
:class:`Domain` subclass registered with :func:`register_domain`, in a module of
its own; nothing else in the package asks which domain it holds.

The domain reaches the ``automata`` package only through ``automata.canon``,
``automata.sync``, ``automata.formats`` and ``automata.generate``. The module
holds the protocol and its two built-in implementations together so that the
protocol's defaults and the overrides read side by side; that makes it longer
than most.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.generate import strongly_connected_tables

from .constraints import DecodeConstraint, StringConstraint
from .errors import DataError, DomainError, SeqVAEError
from .tokenizers import AutomatonTokenizer, DecodeError, tokenizer_from_dict
from .validators import get_validator, name_of

__all__ = ["Parsed", "Domain", "DOMAINS", "register_domain", "AutomataDomain", "StringDomain",
           "domain_from_dict", "domain_for_dataset"]


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


class Domain:
    """What the latent-space tools need to know about one kind of item.

    A new kind of item (a molecule as SELFIES, say) plugs in as a subclass
    decorated with :func:`register_domain`: it sets :attr:`name`, a tokenizer,
    and implements :meth:`parse`, :meth:`canonical_key` and :meth:`to_dict` /
    :meth:`from_dict`; every other method has a working default. The batch
    methods (``*_many``, :meth:`canonical_keys`) exist so that a domain whose
    items are cheaper to handle together (automata are) can override them;
    nothing outside this module asks which domain it holds.
    """

    name: str = ""
    tokenizer: Any
    #: The keys :meth:`score` fills in (empty: the domain scores nothing).
    score_fields: tuple[str, ...] = ()
    #: True when the items are molecules whose text is SMILES (RDKit reads them): what
    #: the molecule tools (``optimize``, a property head, the chemistry benchmarks) need.
    molecular: bool = False

    # -- decoding ------------------------------------------------------------------
    def parse(self, ids) -> Parsed:  # pragma: no cover - overridden
        raise NotImplementedError

    def parse_many(self, batch: Iterable) -> list[Parsed]:
        """:meth:`parse` for each sequence of a batch (list of lists, 2-D array or tensor)."""
        return [self.parse(ids) for ids in batch]

    def constraint(self, **spec) -> DecodeConstraint | None:
        """The decode constraint for ``spec`` (None: the domain has no grammar)."""
        return None

    # -- items -----------------------------------------------------------------------
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

    def as_items(self, objs: Iterable) -> list:
        """Items from items or their text form (what a user or a file may hand over)."""
        return list(objs)

    def canonicalize_many(self, items: Sequence) -> list:
        """Canonical forms of ``items`` (the items themselves where there are none)."""
        return list(items)

    def prepare(self, objs: Iterable) -> list:
        """:meth:`as_items` then :meth:`canonicalize_many`: items ready to tokenize."""
        return self.canonicalize_many(self.as_items(objs))

    def canonical_key(self, item) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def canonical_keys(self, items: Sequence) -> list[str]:
        """:meth:`canonical_key` of many items."""
        return [self.canonical_key(item) for item in items]

    def item_size(self, item) -> dict:
        """The size of one item as keyword arguments of :meth:`constraint` (``{}``: no sizes)."""
        return {}

    def constraint_spec(self, items: Sequence) -> dict:
        """The sizes seen in ``items``, as keyword arguments of :meth:`constraint`.

        Each key maps to its one value, or to the sorted list of values seen.
        """
        seen: dict[str, set] = {}
        for item in items:
            for key, value in self.item_size(item).items():
                seen.setdefault(key, set()).add(value)
        return {key: (sorted(values)[0] if len(values) == 1 else sorted(values))
                for key, values in seen.items()}

    def read_items(self, path: str | os.PathLike) -> list:
        """Items from a file: a data set (``.parquet``, its ``item`` column) or the
        domain's own file format (by default: one item per line, or a table column)."""
        from .data import load_dataset, load_strings

        path = Path(path)
        if path.suffix == ".parquet":
            df, _ = load_dataset(path)
            return [self.item_from_text(t) for t in df["item"]]
        return [self.item_from_text(t) for t in load_strings(path, max_length=None)]

    def with_validity(self, validity: Callable[[str], bool] | str) -> "Domain":
        """A copy whose decodes must also pass ``validity``; only domains without an
        exact notion of validity accept one."""
        raise DomainError(f"the {self.name} domain has exact validity; a validity function "
                          "applies to string domains only")

    # -- scores ----------------------------------------------------------------------
    def score(self, item) -> dict:
        """Facts about a valid item (domain-specific keys; ``{}`` when there are none)."""
        return {}

    def score_many(self, items: Sequence) -> list[dict]:
        """:meth:`score` of many items."""
        return [self.score(item) for item in items]

    def extra_metrics(self, run, items: Sequence, *, samples: int, seed: int,
                      **options) -> dict:
        """Domain-specific evaluation metrics of ``run`` on ``items`` (``{}``: none);
        ``samples`` prior decodes at most (molecules add the MOSES metrics and FCD;
        ``options`` are the domain's own switches, e.g. ``fcd=False``)."""
        return {}

    # -- molecules -------------------------------------------------------------------
    def require_molecular(self, purpose: str, error: type[SeqVAEError] = DomainError) -> None:
        """Raise ``error`` unless the items are molecules (:attr:`molecular`).

        ``purpose`` names what needs them, and each layer passes its own error type
        (a search raises :class:`SearchError`, training :class:`TrainingError`), so
        that the one message reads the same wherever a molecule tool meets another run.

        Examples
        --------
        >>> StringDomain.fit(["ab", "ba"], "char").require_molecular("optimize")
        Traceback (most recent call last):
        ...
        seqvae.errors.DomainError: optimize needs a molecule run, not the 'strings' domain
        """
        if not self.molecular:
            raise error(f"{purpose} needs a molecule run, not the {self.name!r} domain")

    def property_values(self, items: Sequence, names: Sequence[str]) -> np.ndarray:
        """The named properties of ``items``: a float array, one row per item and one
        column per name, NaN where an item cannot be scored (the targets of a property
        head trained with the VAE). Only molecular domains have properties.

        Raises
        ------
        DomainError
            The domain is not molecular (the default: no properties).
        """
        self.require_molecular("a property head")
        raise DomainError(f"the {self.name} domain computes no properties")

    # -- building ----------------------------------------------------------------------
    @classmethod
    def training_set(cls, path: str | os.PathLike, **options) -> tuple["Domain", list, dict]:
        """A domain fitted to the items of a file, the items, and facts about the file
        (``source``, ``rows``...) to keep with the run: ``(domain, items, info)``."""
        raise NotImplementedError(f"{cls.__name__} cannot build a training set from a file")

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict) -> "Domain":  # pragma: no cover - overridden
        raise NotImplementedError


#: Domain classes by :attr:`Domain.name`, filled by :func:`register_domain`.
DOMAINS: dict[str, type[Domain]] = {}

#: Domains of this package that live in modules of their own, imported when first named
#: (a fixed table in code: a name read from a file never chooses what is imported).
_BUILTIN_DOMAIN_MODULES = {"smiles": "seqvae.molecules"}


def register_domain(cls: type[Domain]) -> type[Domain]:
    """Class decorator: make ``cls`` known to :func:`domain_from_dict` under ``cls.name``.

    >>> {"automata", "strings"} <= set(DOMAINS)
    True
    """
    if not cls.name:
        raise DomainError(f"{cls.__name__} needs a non-empty name to be registered")
    if DOMAINS.get(cls.name, cls) is not cls:
        raise DomainError(f"a domain named {cls.name!r} is already registered")
    DOMAINS[cls.name] = cls
    return cls


def _per_shape(dfas: Sequence, fn: Callable[[np.ndarray], Sequence]) -> list:
    """Group automata by shape, stack each group's tables, call ``fn`` once per group and
    put its per-automaton results back in input order.

    >>> _per_shape([DFA([[1, 0]]), DFA([[0]]), DFA([[0, 0]])], lambda t: [t.shape] * len(t))
    [(2, 1, 2), (1, 1, 1), (2, 1, 2)]
    """
    out: list = [None] * len(dfas)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, dfa in enumerate(dfas):
        groups.setdefault((dfa.n_letters, dfa.n_states), []).append(i)
    for idx in groups.values():
        tables = np.stack([np.asarray(dfas[i].delta) for i in idx]).astype(np.int32)
        for i, result in zip(idx, fn(tables)):
            out[i] = result
    return out


@register_domain
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
    score_fields = ("synchronizing", "reset_length", "strongly_connected", "cerny_ratio")

    def __init__(self, tokenizer: AutomatonTokenizer):
        if not isinstance(tokenizer, AutomatonTokenizer):
            raise TypeError("AutomataDomain needs an AutomatonTokenizer")
        self.tokenizer = tokenizer

    @classmethod
    def fit(cls, items: Sequence) -> "AutomataDomain":
        """A domain whose tokenizer fits the largest of ``items`` (DFAs or compact text).

        >>> AutomataDomain.fit(["a:10 b:00", "a:120 b:000"]).tokenizer
        AutomatonTokenizer(max_states=3, max_letters=2, vocab_size=11)
        """
        from automata.formats import parse_compact

        dfas = [parse_compact(i) if isinstance(i, str) else i for i in items]
        if not dfas:
            raise DomainError("no automata to size the tokenizer on")
        return cls(AutomatonTokenizer(max(d.n_states for d in dfas),
                                      max(d.n_letters for d in dfas)))

    @classmethod
    def training_set(cls, path: str | os.PathLike) -> tuple["AutomataDomain", list, dict]:
        """Automata from a data set (``.parquet`` from ``seqvae data automata``) or an
        automata file (text, compact or JSON), with a tokenizer that fits them all."""
        from automata.formats import format_compact, read_automata

        from .data import load_dataset

        path = Path(path)
        if path.suffix == ".parquet":
            df, meta = load_dataset(path)
            domain = domain_for_dataset(df, meta)
            if not isinstance(domain, cls):
                raise DataError(f"{path} is not an automata data set")
            return domain, list(df["item"]), {"source": str(path), "rows": len(df), "meta": meta}
        dfas = read_automata(path)
        if not dfas:
            raise DataError(f"{path}: no automata")
        items = [format_compact(d) for d in dfas]
        return cls.fit(dfas), items, {"source": str(path), "rows": len(items)}

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

        def canonical(tables: np.ndarray) -> list[Parsed]:
            try:
                return [Parsed(True, DFA(t), None) for t in canonical_tables(tables)]
            except AutomatonError as exc:  # e.g. more letters than canonical forms support
                return [Parsed(False, None, str(exc))] * len(tables)

        out: list[Parsed | None] = []
        decoded: list[DFA] = []
        where: list[int] = []
        for ids in batch:
            try:
                decoded.append(self.tokenizer.decode(ids))
                where.append(len(out))
                out.append(None)
            except DecodeError as exc:
                out.append(Parsed(False, None, str(exc)))
        for i, parsed in zip(where, _per_shape(decoded, canonical)):
            out[i] = parsed
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

    def as_items(self, objs: Iterable) -> list[DFA]:
        """DFAs from DFAs, compact text lines or transition tables."""
        return [self.item_from_text(o) if isinstance(o, str) else
                (o if isinstance(o, DFA) else DFA(o)) for o in objs]

    def canonicalize_many(self, items: Sequence) -> list[DFA]:
        """Canonical forms, computed per shape in one batch."""
        from automata.canon import canonical_tables

        return _per_shape(items, lambda t: [DFA(c) for c in canonical_tables(t)])

    def canonical_key(self, item) -> str:
        """Equal for two automata iff they are isomorphic (states and letters renamed)."""
        from automata.canon import canonical_key

        return canonical_key(item)

    def canonical_keys(self, items: Sequence) -> list[str]:
        """:meth:`canonical_key` of many automata, canonicalised per shape in one batch."""
        from automata.formats import format_compact

        return [format_compact(d) for d in self.canonicalize_many(items)]

    def item_size(self, item) -> dict:
        """``{"n_states": n, "n_letters": k}``."""
        return {"n_states": int(item.n_states), "n_letters": int(item.n_letters)}

    def read_items(self, path: str | os.PathLike) -> list[DFA]:
        """Automata from a data set (``.parquet``) or an automata file (text, compact, JSON)."""
        from automata.formats import read_automata

        if Path(path).suffix == ".parquet":
            return super().read_items(path)
        return read_automata(path)

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

        def scores(tables: np.ndarray) -> list[dict]:
            n = tables.shape[2]
            if n > 64:  # beyond the batch kernel: one exact search each
                return [self.score(DFA(t)) for t in tables]
            rts = reset_lengths(tables)
            sc = strongly_connected_tables(tables)
            return [_score_dict(n, int(rt) if rt >= 0 else None, bool(s))
                    for rt, s in zip(rts, sc)]

        return _per_shape(items, scores)

    def constraint(self, n_states=None, n_letters=None, **unused) -> DecodeConstraint:
        """Constraint forcing the header (if given) and a well-formed body.

        Extra keyword arguments are ignored so that one ``**spec`` can be passed
        to every domain.
        """
        return self.tokenizer.constraint(n_states=n_states, n_letters=n_letters)

    def to_dict(self) -> dict:
        return {"name": self.name, "tokenizer": self.tokenizer.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "AutomataDomain":
        return cls(tokenizer_from_dict(d["tokenizer"]))

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
        if isinstance(tokenizer, AutomatonTokenizer):
            raise TypeError("StringDomain needs a string tokenizer")
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
            raise TypeError(f"expected a callable or a registered validator name, got {spec!r}")
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
        from .data import load_dataset, load_strings_report

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
    def fit(cls, strings: Sequence[str], tokenizer: str = "regex",
            validity: Callable[[str], bool] | str | None = None) -> "StringDomain":
        """A domain with a ``"regex"`` (SMILES-like tokens) or ``"char"`` tokenizer fitted
        on ``strings``.

        >>> StringDomain.fit(["CCO", "ClC"]).tokenizer.vocab[-2:]
        ['Cl', 'O']
        """
        from .tokenizers import CharTokenizer, RegexTokenizer

        kinds = {"regex": RegexTokenizer, "char": CharTokenizer}
        if tokenizer not in kinds:
            raise DomainError(f"unknown tokenizer {tokenizer!r} (use 'char' or 'regex')")
        return cls(kinds[tokenizer].fit(list(strings)), validity=validity)

    def __repr__(self) -> str:
        return f"StringDomain({self.tokenizer!r}, validity={self.validity_name!r})"


def domain_from_dict(d: dict) -> Domain:
    """Rebuild a domain from :meth:`Domain.to_dict` (any domain in :data:`DOMAINS`).

    >>> dom = AutomataDomain(AutomatonTokenizer(5, 2))
    >>> domain_from_dict(dom.to_dict()).tokenizer == dom.tokenizer
    True
    """
    if isinstance(d, dict) and d.get("name") in _BUILTIN_DOMAIN_MODULES:
        importlib.import_module(_BUILTIN_DOMAIN_MODULES[d["name"]])
    try:
        cls = DOMAINS[d["name"]]
    except KeyError:
        raise DomainError(f"unknown domain {d.get('name')!r}" if isinstance(d, dict) and "name" in d
                          else f"not a domain description: {d!r}") from None
    except TypeError:
        raise DomainError(f"not a domain description: {d!r}") from None
    try:
        return cls.from_dict(d)
    except (KeyError, TypeError):
        raise DomainError(f"not a domain description: {d!r}") from None


def domain_for_dataset(df, meta: dict | None = None, *, tokenizer: str | None = None) -> Domain:
    """The domain (with a fitted tokenizer) that suits a data set ``(df, meta)``.

    A set whose sidecar stores the domain it was built with (``meta["domain_spec"]``,
    written by ``seqvae data strings``) gets that domain back unless another
    ``tokenizer`` is asked for. Automata sets (``meta["domain"] == "automata"`` or
    ``n_states`` and ``n_letters`` columns) get an automaton tokenizer sized to the
    largest automaton; string sets a ``"regex"`` (default) or ``"char"`` tokenizer
    fitted on the ``item`` column.
    """
    meta = meta or {}
    if "item" not in df.columns:
        raise DataError("data set has no 'item' column")
    if tokenizer is None and isinstance(meta.get("domain_spec"), dict):
        return domain_from_dict(meta["domain_spec"])
    kind = meta.get("domain") or (AutomataDomain.name if {"n_states", "n_letters"} <= set(df.columns)
                                  else StringDomain.name)
    if kind == AutomataDomain.name:
        return AutomataDomain(AutomatonTokenizer(int(df["n_states"].max()),
                                                 int(df["n_letters"].max())))
    if kind != StringDomain.name:
        raise DataError(f"data set of domain {kind!r} has no stored domain_spec to rebuild it from")
    choice = tokenizer or meta.get("tokenizer") or "regex"
    try:
        return StringDomain.fit([str(s) for s in df["item"]], choice, validity=meta.get("validity"))
    except DomainError as exc:
        raise DataError(str(exc)) from None
