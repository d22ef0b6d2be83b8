"""The automata domain: items are synchronizing automata in canonical form, scored exactly.

:class:`AutomataDomain` implements the engine's :class:`seqvae.domains.Domain`
protocol with the ``automata`` package: canonical forms (``automata.canon``),
exact reset lengths (``automata.sync``), the text formats (``automata.formats``)
and graph drawings (``automata.graph``). It is registered as ``"automata"``, the
name stored run directories and data sets carry.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.generate import strongly_connected_tables
from seqvae.constraints import DecodeConstraint
from seqvae.domains import Domain, Parsed, domain_for_dataset, register_domain
from seqvae.errors import DataError, DomainError
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.tokenizers import DecodeError, tokenizer_from_dict

__all__ = ["AutomataDomain"]


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
            raise DomainError("AutomataDomain needs an AutomatonTokenizer")
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
        from seqvae.data import load_dataset

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

    @classmethod
    def for_dataset(cls, df, meta: dict, *, tokenizer: str | None = None) -> "AutomataDomain":
        """An automaton tokenizer sized to the largest automaton of a data-set table."""
        return cls(AutomatonTokenizer(int(df["n_states"].max()), int(df["n_letters"].max())))

    def draw_item(self, item, ax) -> None:
        """The automaton as a graph (:func:`automata.graph.draw`)."""
        from automata.graph import draw

        draw(item, ax)
        ax.set_axis_off()

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
