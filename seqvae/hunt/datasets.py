"""Automata data sets, with the provenance their sidecar keeps (what ``seqvae data automata`` writes).

* :func:`build_automata_dataset`: random synchronizing automata, distinct up to
  isomorphism, with exact reset lengths (drawn by
  :func:`automata.dataset.draw_distinct_synchronizing`), as a table;
  :func:`automata_dataset` adds the provenance record.
Strings data sets are the engine's (:mod:`seqvae.strings`). Write either with :func:`seqvae.data.save_dataset`.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from automata.dataset import SOURCES, draw_distinct_synchronizing, parse_enrich
from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.formats import format_compact
from automata.generate import as_rng, strongly_connected_tables
from automata.sync import cerny_bound
from seqvae import __version__
from seqvae.errors import DataError
from seqvae.hunt.domain import AutomataDomain

__all__ = ["build_automata_dataset", "automata_dataset"]


def build_automata_dataset(n_states: int | tuple[int, int], n_letters: int, count: int,
                           seed: int | np.random.Generator | None = 0,
                           enrich: str | Iterable[str] | dict | None = None,
                           progress: Callable[[int], None] | None = None,
                           *, max_batch: int = 200_000) -> pd.DataFrame:
    """Random synchronizing automata, distinct up to isomorphism, with exact reset lengths,
    as a table.

    The arguments are those of :func:`automata.dataset.draw_distinct_synchronizing`,
    which does the drawing; this adds the columns and shuffles the rows with the same
    random stream. A shape with too few distinct synchronizing automata gives all
    that were found (``df.attrs["shortfall"]`` says how many rows are missing).

    Returns
    -------
    DataFrame with columns ``item`` (canonical compact string), ``n_states``,
    ``n_letters``, ``reset_length``, ``strongly_connected``, ``cerny_ratio``,
    ``source`` ("random" or "mutate"); rows shuffled with the seed.
    No two rows are isomorphic; every row is synchronizing.

    Examples
    --------
    >>> df = build_automata_dataset(5, 2, 50, seed=1)
    >>> len(df), int(df["n_states"].iloc[0]), bool((df["reset_length"] >= 0).all())
    (50, 5, True)
    """
    rng = as_rng(seed)
    try:
        found = draw_distinct_synchronizing(n_states, n_letters, count, rng, enrich, progress,
                                            max_batch=max_batch)
    except AutomatonError as exc:
        raise DataError(str(exc)) from None
    df = pd.concat([_automata_frame(part) for part in found.parts], ignore_index=True)
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    df.attrs["shortfall"] = found.shortfall
    return df


def _automata_frame(part) -> pd.DataFrame:
    """The rows of one size of a :class:`automata.dataset.DistinctSet`."""
    n, tables, rts = part.n_states, part.tables, part.reset_lengths
    bound = cerny_bound(n)
    ratio = rts / float(bound) if bound else np.zeros(len(rts))
    return pd.DataFrame({
        "item": [format_compact(DFA(t)) for t in tables],
        "n_states": np.full(len(tables), n, dtype=np.int64),
        "n_letters": np.full(len(tables), part.n_letters, dtype=np.int64),
        "reset_length": rts.astype(np.int64),
        "strongly_connected": strongly_connected_tables(tables),
        "cerny_ratio": ratio.astype(np.float64),
        "source": [SOURCES[int(s)] for s in part.sources],
    })


def automata_dataset(n_states: int | tuple[int, int], n_letters: int, count: int, seed: int = 0,
                     enrich: str | Iterable[str] | dict | None = None,
                     progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, dict]:
    """:func:`build_automata_dataset` and its provenance: ``(df, meta)`` for
    :func:`seqvae.data.save_dataset`.

    >>> df, meta = automata_dataset(4, 2, 20, seed=0)
    >>> meta["domain"], meta["parameters"]["count"], meta["shortfall"]
    ('automata', 20, 0)
    """
    try:
        opts = enrich if isinstance(enrich, dict) else parse_enrich(enrich)
    except AutomatonError as exc:
        raise DataError(str(exc)) from None
    df = build_automata_dataset(n_states, n_letters, count, seed, enrich=opts, progress=progress)
    lo, hi = (n_states, n_states) if isinstance(n_states, int) else tuple(n_states)
    meta = {
        "domain": AutomataDomain.name,
        "generator": "automata.dataset.draw_distinct_synchronizing",
        "parameters": {"n_states": [lo, hi] if lo != hi else lo, "n_letters": n_letters,
                       "count": count, "enrich": opts},
        "seed": seed,
        "seqvae_version": __version__,
        "shortfall": int(df.attrs.get("shortfall", 0)),
        "dedup": "isomorphism (automata.canon.canonical_tables)",
    }
    return df, meta
