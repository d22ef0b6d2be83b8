"""The solvers' text format: a header ``K N``, then the table in state-major order.

See :mod:`automata.formats` for the three formats and the rules every reader follows.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator

import numpy as np

from automata._formats_base import (
    MAX_TABLE_ENTRIES,
    _as_dfas,
    _clip,
    _strip_bom,
    _strip_comment,
    _to_int,
)
from automata.dfa import DFA, first_out_of_range
from automata.errors import FormatError

__all__ = ["format_text", "parse_text"]


def format_text(dfas: DFA | Iterable[DFA]) -> str:
    """Write automata in the solvers' text format (header ``K N``, state-major table).

    Examples
    --------
    >>> print(format_text(DFA([[1, 2, 0], [0, 0, 2]])), end="")
    2 3
    1 0
    2 0
    0 2
    """
    parts = []
    for dfa in _as_dfas(dfas):
        parts.append(f"{dfa.n_letters} {dfa.n_states}\n")
        rows = dfa.delta.T  # row q holds δ(q, 0) … δ(q, K-1)
        parts.extend(" ".join(map(str, row.tolist())) + "\n" for row in rows)
    return "".join(parts)


def _token_stream(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield ``(1-based line number, offset where the line starts, token)``, comments removed."""
    start = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        for token in _strip_comment(raw).split():
            yield number, start, token
        start += len(raw)


def parse_text(text: str) -> list[DFA]:
    """Parse the solvers' text format: any number of ``K N`` headers, each followed by K·N states.

    Layout is free, as for the solvers (they read whitespace-separated
    integers): the header and the table may share lines or span many.

    Raises
    ------
    FormatError
        On an empty input, a header that is not two positive integers, a
        header declaring more than :data:`MAX_TABLE_ENTRIES` entries, a
        non-integer entry, a state out of range, or a table cut short by the
        end of the input.

    Examples
    --------
    >>> [d.delta.tolist() for d in parse_text("2 3\\n1 0\\n2 0\\n0 2\\n")]
    [[[1, 2, 0], [0, 0, 2]]]
    >>> parse_text("2 3\\n1 0 2 0 0 7")
    Traceback (most recent call last):
    ...
    automata.errors.FormatError: line 2, token '7': automaton 1: state 7 is out of range for 3 states
    """
    text = _strip_bom(text)
    stream = _token_stream(text)
    head = next(stream, None)
    if head is None:
        raise FormatError("empty input: no automata found", line=1)
    dfas: list[DFA] = []
    while head is not None:
        dfas.append(_parse_one_text(text, head, stream, len(dfas) + 1))
        head = next(stream, None)
    return dfas


def _parse_one_text(text: str, head: tuple[int, int, str], stream: Iterator[tuple[int, int, str]],
                    number: int) -> DFA:
    """The automaton whose header starts with ``head``; consumes its tokens from ``stream``."""
    head_line, _, first = head
    after = next(stream, None)
    if after is None:
        raise FormatError(
            f"automaton {number}: expected a header 'K N' (letters, states), found a single "
            f"token at the end of the input"
            + (" (the previous table may have too many entries)" if number > 1 else ""),
            line=head_line, token=_clip(first))
    states_line, states_start, second = after
    n_letters = _to_int(first, head_line, f"automaton {number}: header K (number of letters)")
    n_states = _to_int(second, states_line, f"automaton {number}: header N (number of states)")
    if n_letters < 1:
        raise FormatError(f"automaton {number}: header K (number of letters) must be at "
                          "least 1", line=head_line, token=_clip(first))
    if n_states < 1:
        raise FormatError(f"automaton {number}: header N (number of states) must be at "
                          "least 1", line=states_line, token=_clip(second))
    need = n_letters * n_states
    if need > MAX_TABLE_ENTRIES:
        raise FormatError(
            f"automaton {number}: header '{n_letters} {n_states}' declares K*N = {need} table "
            f"entries, more than the {MAX_TABLE_ENTRIES} supported", line=states_line,
            token=_clip(second))
    # Each entry takes a character and a separator: never allocate more than the rest of
    # the input can hold, whatever the header claims.
    room = (len(text) - states_start + 1) // 2
    values = np.empty(min(need, room), dtype=np.int64)
    body: list[tuple[int, str]] = []
    for line, _, token in itertools.islice(stream, need):
        values[len(body)] = _to_int(token, line, f"automaton {number}: table entry")
        body.append((line, token))
    # The entries that are there first: a bad state is a more precise message than a short table.
    bad = first_out_of_range(values[:len(body)], n_states)
    if bad >= 0:
        line, token = body[bad]
        raise FormatError(f"automaton {number}: state {values[bad]} is out of range for "
                          f"{n_states} states", line=line, token=_clip(token))
    if len(body) < need:
        raise FormatError(
            f"automaton {number} (header '{n_letters} {n_states}' on line {head_line}) needs "
            f"K*N = {need} table entries, found only {len(body)} before the end of the input",
            line=body[-1][0] if body else states_line)
    return DFA(values.reshape(n_states, n_letters).T)
