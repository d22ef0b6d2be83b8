"""The compact one-line format: ``a:0123 b:1230``, one token per letter.

See :mod:`automata.formats` for the three formats and the rules every reader follows.
"""
from __future__ import annotations

import numpy as np

from automata._formats_base import (
    _COMMA_IMAGES_RE,
    _DIGIT_LIMIT,
    _DIGITS_RE,
    MAX_INT_DIGITS,
    _clip,
    _short_int,
    _strip_bom,
    _strip_comment,
    _too_long,
)
from automata.dfa import DFA, first_out_of_range, letter_name
from automata.errors import AutomatonError, FormatError

__all__ = ["format_compact", "parse_compact"]


def format_compact(dfa: DFA) -> str:
    """One-line form ``a:0123 b:1230``; images comma-separated when ``n_states > 10``.

    Examples
    --------
    >>> format_compact(DFA([[1, 2, 0], [0, 0, 2]]))
    'a:120 b:002'
    >>> format_compact(DFA([list(range(1, 12)) + [0]]))
    'a:1,2,3,4,5,6,7,8,9,10,11,0'
    """
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    sep = "" if dfa.n_states <= _DIGIT_LIMIT else ","
    return " ".join(f"{letter_name(a)}:{sep.join(map(str, dfa.delta[a].tolist()))}"
                    for a in range(dfa.n_letters))


def parse_compact(line: str, *, line_number: int = 1) -> DFA:
    """Parse one compact line such as ``'a:120 b:002'`` (``#`` comments allowed).

    Letters must appear in order, named ``a, b, c, …``. The images are digits
    (one per state) or, for any number of states, comma-separated integers.

    Parameters
    ----------
    line : str
        The line to parse.
    line_number : int
        Line number reported in errors (for callers parsing whole files).

    Examples
    --------
    >>> parse_compact("a:120 b:002").delta.tolist()
    [[1, 2, 0], [0, 0, 2]]
    >>> parse_compact("a:12 b:00")
    Traceback (most recent call last):
    ...
    automata.errors.FormatError: line 1, token 'a:12': state 2 is out of range for 2 states
    """
    tokens = _strip_comment(_strip_bom(line)).split()
    if not tokens:
        raise FormatError("empty line: expected letters like 'a:0123 b:1230'", line=line_number)
    rows: list[np.ndarray] = []
    for index, token in enumerate(tokens):
        name, colon, images = token.partition(":")
        shown = _clip(token)
        if not colon:
            raise FormatError("expected 'letter:images' (e.g. 'a:0123')", line=line_number,
                              token=shown)
        expected = letter_name(index)
        if name != expected:
            raise FormatError(f"letter {index + 1} must be named {expected!r}, got "
                              f"{_clip(name)!r}", line=line_number, token=shown)
        if not images:
            raise FormatError(f"letter {name!r} has no images", line=line_number, token=shown)
        row = _compact_images(images, line_number, shown)
        if rows and len(row) != len(rows[0]):
            raise FormatError(f"letter {name!r} has {len(row)} images but letter 'a' has "
                              f"{len(rows[0])}: every letter needs one image per state",
                              line=line_number, token=shown)
        rows.append(row)
    table = np.stack(rows)
    n_states = table.shape[1]
    bad = first_out_of_range(table, n_states)
    if bad >= 0:
        raise FormatError(f"state {table.reshape(-1)[bad]} is out of range for {n_states} states",
                          line=line_number, token=_clip(tokens[bad // n_states]))
    return DFA(table)


def _compact_images(images: str, line_number: int, shown: str) -> np.ndarray:
    """The images of one letter: one digit per state, or comma-separated integers."""
    if "," not in images:
        if not _DIGITS_RE.match(images):
            bad = next(ch for ch in images if not ("0" <= ch <= "9"))
            raise FormatError(f"image {bad!r} is not a digit (use commas for more than "
                              f"{_DIGIT_LIMIT} states)", line=line_number, token=shown)
        return np.frombuffer(images.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")
    if not _COMMA_IMAGES_RE.match(images):
        bad = next(part for part in images.split(",") if not _DIGITS_RE.match(part))
        raise FormatError(f"image {_clip(bad)!r} is not a non-negative integer",
                          line=line_number, token=shown)
    parts = images.split(",")
    for part in parts:
        if _too_long(part):
            raise FormatError(f"image {_clip(part)!r} has more than {MAX_INT_DIGITS} digits",
                              line=line_number, token=shown)
    return np.fromiter(map(_short_int, parts), dtype=np.int64, count=len(parts))


def _parse_compact_lines(text: str) -> list[DFA]:
    dfas = []
    for number, raw in enumerate(_strip_bom(text).splitlines(), start=1):
        if _strip_comment(raw).strip():
            dfas.append(parse_compact(raw, line_number=number))
    if not dfas:
        raise FormatError("empty input: no automata found", line=1)
    return dfas
