"""Slow automata of a run that belong to no known series, with their exact reset words.

These are what a researcher wants from a search: automata at or above the
H_n level ``n² − 4n + 6`` that :func:`automata.families.identify_family`
does not recognise, each with its reset length and one shortest reset word
(letters written ``a, b, c, …``), so it can be checked by hand or by any
other solver.
"""
from __future__ import annotations

import numpy as np

__all__ = ["unnamed_slow_automata", "word_text"]


def word_text(word) -> str:
    """A reset word as letters.

    >>> word_text([0, 1, 1, 0])
    'abba'
    """
    return "".join(chr(ord("a") + int(x)) for x in word)


def unnamed_slow_automata(tables: np.ndarray, rts: np.ndarray, threshold: int) -> list[dict]:
    """Every automaton with ``rt >= threshold`` that is in no known family, longest first.

    Parameters
    ----------
    tables : array (m, k, n)
        Candidates in evaluation order (as in a search's archive).
    rts : array (m,)
        Their exact reset lengths.
    threshold : int

    Returns
    -------
    list of dict
        ``{automaton, reset_length, reset_word, evaluation}`` (compact form,
        exact reset length, a shortest reset word in letters, 1-based index).

    Examples
    --------
    >>> from automata.families import cerny
    >>> t = np.array([cerny(4).delta, [[1, 0, 0, 0], [0, 2, 3, 0]]])
    >>> [r["reset_length"] for r in unnamed_slow_automata(t, np.array([9, 4]), 4)]
    [4]
    """
    from automata.dfa import DFA
    from automata.errors import AutomatonError
    from automata.families import identify_family
    from automata.formats import format_compact
    from automata.sync import shortest_reset_word

    rts = np.asarray(rts)
    idx = np.flatnonzero(rts >= threshold)
    idx = idx[np.lexsort((idx, -rts[idx]))]
    rows = []
    for i in idx.tolist():
        dfa = DFA(np.asarray(tables[i], dtype=np.int32))
        try:
            family = identify_family(dfa)
        except AutomatonError:
            family = None
        if family is not None:
            continue
        word = shortest_reset_word(dfa)
        rows.append({"automaton": format_compact(dfa), "reset_length": int(rts[i]),
                     "reset_word": word_text(word), "evaluation": int(i) + 1})
    return rows
