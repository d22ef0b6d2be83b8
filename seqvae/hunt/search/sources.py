"""Automata read from files (or given as DFAs) to seed a search: the transfer of
``boost`` and the lift sources of ``evolve``, grouped by size and canonicalised."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

__all__ = ["load_transfer_tables"]


def load_transfer_tables(sources: str | os.PathLike | Sequence, max_letters: int
                         ) -> list[np.ndarray]:
    """Read automata (files in any automata format, or DFAs) grouped by size.

    Returns one array ``(m, k, n)`` per size, in increasing ``(n, k)`` order;
    :class:`~seqvae.errors.SearchError` when nothing is read or an
    automaton has more than ``max_letters`` letters (a file that does not
    parse raises the reader's :class:`~automata.errors.FormatError`).

    >>> from automata.families import cerny
    >>> [g.shape for g in load_transfer_tables([cerny(4), cerny(5), cerny(4)], 2)]
    [(2, 2, 4), (1, 2, 5)]
    """
    from automata.canon import canonical_tables
    from automata.dfa import DFA
    from automata.formats import read_automata
    from seqvae.errors import SearchError

    if isinstance(sources, (str, os.PathLike, DFA)):
        sources = [sources]
    dfas: list[DFA] = []
    for src in sources:
        if isinstance(src, DFA):
            dfas.append(src)
        else:
            dfas.extend(read_automata(src))
    if not dfas:
        raise SearchError("no automata to transfer from")
    by_size: dict[tuple[int, int], list[np.ndarray]] = {}
    for d in dfas:
        if d.n_letters > max_letters:
            raise SearchError(f"a transfer automaton has {d.n_letters} letters; the search "
                              f"uses {max_letters}")
        by_size.setdefault((d.n_states, d.n_letters), []).append(np.asarray(d.delta))
    groups = []
    for size in sorted(by_size):
        tables = np.stack(by_size[size]).astype(np.int32)
        groups.append(np.asarray(canonical_tables(tables), dtype=np.int32))
    return groups
