"""Domains: what the sequences mean.

A :class:`Domain` bundles a tokenizer with everything the latent-space tools
need to know about the items: how to parse a decoded sequence
(:meth:`Domain.parse` never raises), when two items are the same
(:meth:`Domain.canonical_key`), how good an item is (:meth:`Domain.score`) and
how to keep a decoder on well-formed sequences (:meth:`Domain.constraint`).

Implementations:

* :class:`seqvae.strings.StringDomain` (engine) — items are strings (any
  line-based text), with an optional validity function ``str -> bool``; only a
  function registered by name in :mod:`seqvae.validators` is stored by
  ``to_dict``, and ``domain_from_dict`` looks the name up there (nothing read
  from a file is imported).
* :class:`seqvae.hunt.domain.AutomataDomain` (the automata application) — items
  are :class:`automata.DFA` in canonical form; scores are exact.
* :class:`seqvae.molecules.domain.MoleculeDomain` (the molecules application).

A new kind of item plugs in as a :class:`Domain` subclass registered with
:func:`register_domain`, in a module of its own; nothing in the engine asks
which domain it holds. Built-in domains that live in an application are loaded
when first named (:mod:`seqvae.applications`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from seqvae.applications import load_builtin
from seqvae.constraints import DecodeConstraint
from seqvae.errors import DataError, DomainError, SeqVAEError

__all__ = ["Parsed", "Domain", "DOMAINS", "register_domain", "domain_class", "domain_from_dict",
           "domain_for_dataset"]


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
        from seqvae.data import load_dataset, load_strings

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

    def write_decodes(self, rows: Sequence[dict], path: str | os.PathLike) -> int:
        """Write decodes (``ok``, ``item``, ``error`` and any extra keys of each row) to
        ``path`` in a format its suffix names; returns the rows written. Every domain
        writes ``.csv``; molecules also add their properties and write ``.sdf``."""
        import csv
        import io

        from automata.atomic import atomic_write_text

        if Path(path).suffix.lower() != ".csv":
            raise DomainError(f"the {self.name} domain writes decodes as .csv only, "
                              f"not {Path(path).suffix or 'a file without suffix'}")
        columns = ["index", "ok", "item", "error"]
        for row in rows:
            columns += [k for k in row if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows({"index": i, **{k: ("" if v is None else v) for k, v in row.items()}}
                         for i, row in enumerate(rows))
        atomic_write_text(path, buf.getvalue())
        return len(rows)

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
        >>> from seqvae.strings import StringDomain
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

    def parse_property_names(self, names) -> list[str]:
        """The property names a joint head is asked to learn (``"qed,logp"`` or a list),
        checked; only molecular domains have properties."""
        self.require_molecular("a property head")
        raise DomainError(f"the {self.name} domain has no properties")

    # -- building ----------------------------------------------------------------------
    @classmethod
    def training_set(cls, path: str | os.PathLike, **options) -> tuple["Domain", list, dict]:
        """A domain fitted to the items of a file, the items, and facts about the file
        (``source``, ``rows``...) to keep with the run: ``(domain, items, info)``."""
        raise NotImplementedError(f"{cls.__name__} cannot build a training set from a file")

    @classmethod
    def for_dataset(cls, df, meta: dict, *, tokenizer: str | None = None) -> "Domain":
        """A domain fitted to a data-set table whose sidecar stores no ``domain_spec``
        (``tokenizer`` names another tokenizer kind where the domain has several)."""
        raise DataError(f"data set of domain {cls.name!r} has no stored domain_spec to "
                        "rebuild it from")

    # -- figures -----------------------------------------------------------------------
    def draw_item(self, item, ax) -> None:
        """Draw one item on a matplotlib axis (the panels of path figures): its text by
        default; automata draw their graph."""
        from seqvae.plots import draw_text

        draw_text(item, ax)

    # -- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict) -> "Domain":  # pragma: no cover - overridden
        raise NotImplementedError


#: Domain classes by :attr:`Domain.name`, filled by :func:`register_domain`.
DOMAINS: dict[str, type[Domain]] = {}



def register_domain(cls: type[Domain]) -> type[Domain]:
    """Class decorator: make ``cls`` known to :func:`domain_from_dict` under ``cls.name``.

    >>> domain_class("automata").name in DOMAINS
    True
    """
    if not cls.name:
        raise DomainError(f"{cls.__name__} needs a non-empty name to be registered")
    if DOMAINS.get(cls.name, cls) is not cls:
        raise DomainError(f"a domain named {cls.name!r} is already registered")
    DOMAINS[cls.name] = cls
    return cls


def domain_class(name: str) -> type[Domain]:
    """The registered domain class called ``name`` (a built-in one is loaded on first use).

    >>> domain_class("strings").__name__
    'StringDomain'
    """
    if name not in DOMAINS:
        load_builtin("domain", name)
    try:
        return DOMAINS[name]
    except (KeyError, TypeError):
        raise DomainError(f"unknown domain {str(name)[:80]!r}") from None


def domain_from_dict(d: dict) -> Domain:
    """Rebuild a domain from :meth:`Domain.to_dict` (any domain in :data:`DOMAINS`).

    >>> dom = domain_class("automata").fit(["a:10 b:00"])
    >>> domain_from_dict(dom.to_dict()).tokenizer == dom.tokenizer
    True
    """
    if not isinstance(d, dict) or not isinstance(d.get("name"), str):
        raise DomainError(f"not a domain description: {str(d)[:200]!r}")
    cls = domain_class(d["name"])
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
    # Sets written before sidecars named their domain: size columns mean automata.
    kind = meta.get("domain") or ("automata" if {"n_states", "n_letters"} <= set(df.columns)
                                  else "strings")
    try:
        cls = domain_class(kind)
    except DomainError:
        raise DataError(f"data set of domain {str(kind)[:80]!r} has no stored domain_spec to "
                        "rebuild it from") from None
    return cls.for_dataset(df, meta, tokenizer=tokenizer)
