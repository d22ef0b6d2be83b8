"""Building data sets, with the provenance their sidecar keeps (what ``seqvae data`` writes).

* :func:`build_automata_dataset`: random synchronizing automata, distinct up to
  isomorphism, with exact reset lengths (drawn by
  :func:`automata.dataset.draw_distinct_synchronizing`), as a table;
  :func:`automata_dataset` adds the provenance record.
* :func:`strings_dataset` / :func:`strings_dataset_from_file`: strings as a
  table, optionally filtered by a validity function, with a fitted domain.

Write either with :func:`seqvae.data.save_dataset`.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from automata.dataset import SOURCES, draw_distinct_synchronizing, parse_enrich
from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.formats import format_compact
from automata.generate import as_rng, strongly_connected_tables
from automata.sync import cerny_bound

from . import __version__
from .data import load_strings_report
from .domains import AutomataDomain, StringDomain
from .errors import DataError
from .validators import get_validator

__all__ = ["build_automata_dataset", "automata_dataset", "strings_dataset",
           "strings_dataset_from_file", "filter_valid"]


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
