"""Reading and writing automata as text.

Three formats, all holding several automata per file:

``text``
    The format the C++ solvers read. Each automaton is a header line ``K N``
    (number of letters, number of states) followed by the table in state-major
    order: ``δ(0,0) δ(0,1) … δ(0,K−1) δ(1,0) … δ(N−1,K−1)``, states 0-based.
    Line breaks inside the table are free; ``format_text`` writes one state
    per line. ``#`` starts a comment that runs to the end of the line.

``compact``
    One automaton per line, one token per letter: ``a:0013456 b:3004562``
    (letter name, colon, the images of states ``0..n-1``). With more than 10
    states an image needs more than one digit, so the images are separated by
    commas: ``a:0,12,3,...``. Letters are named ``a, b, c, …`` in order
    (``x26, x27, …`` beyond ``z``). Blank lines and ``#`` comments are skipped.

``json``
    An object ``{"n_states": N, "n_letters": K, "delta": [[...], ...]}`` with
    ``delta[letter][state]``, a list of such objects, or one object per line.

Every parse error is a :class:`~automata.errors.FormatError` that names the
line (1-based) and the offending token. The parsers are meant to meet hostile
files: a leading UTF-8 byte order mark is ignored, a declared size is checked
against :data:`MAX_TABLE_ENTRIES` and against what the rest of the input can
hold before anything is allocated, integers longer than
:data:`MAX_INT_DIGITS` digits and JSON nested deeper than Python can parse are
FormatErrors like any other.
"""
from __future__ import annotations

import os
from typing import Iterable, Sequence

from automata._formats_base import (
    FORMATS,
    MAX_INT_DIGITS,
    MAX_TABLE_ENTRIES,
    _as_dfas,
    _strip_bom,
    _strip_comment,
)
from automata._formats_compact import _parse_compact_lines, format_compact, parse_compact
from automata._formats_json import format_json, from_json_obj, parse_json, to_json_obj
from automata._formats_text import format_text, parse_text
from automata.atomic import atomic_write_text, read_bytes_limited
from automata.dfa import DFA
from automata.errors import AutomatonError, FormatError

__all__ = [
    "FORMATS", "MAX_TABLE_ENTRIES", "MAX_INT_DIGITS", "MAX_AUTOMATA_FILE_BYTES",
    "parse_text", "format_text", "parse_compact", "format_compact",
    "to_json_obj", "from_json_obj", "parse_json", "format_json",
    "detect_format", "parse_automata", "format_automata", "read_automata", "write_automata",
]

#: Largest automata file read (bytes): a million binary 64-state automata in compact form.
MAX_AUTOMATA_FILE_BYTES = 256 << 20


def detect_format(text: str) -> str:
    """Guess ``'text'``, ``'compact'`` or ``'json'`` from the first meaningful token.

    >>> detect_format("a:01 b:10"), detect_format("2 2\\n1 0 0 1"), detect_format("[]")
    ('compact', 'text', 'json')
    """
    for raw in _strip_bom(text).splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped[0] in "[{":
            return "json"
        content = _strip_comment(stripped).strip()
        if not content:
            continue
        return "compact" if ":" in content.split()[0] else "text"
    raise FormatError("empty input: no automata found", line=1)


def parse_automata(text: str, fmt: str | None = None) -> list[DFA]:
    """Parse automata in any of the three formats (auto-detected unless ``fmt`` is given).

    Examples
    --------
    >>> [d.n_states for d in parse_automata("a:120 b:002\\n# comment\\na:0 b:0\\n")]
    [3, 1]
    >>> parse_automata("")
    Traceback (most recent call last):
    ...
    automata.errors.FormatError: line 1: empty input: no automata found
    """
    text = _strip_bom(text)
    if fmt is None:
        fmt = detect_format(text)
    if fmt == "text":
        return parse_text(text)
    if fmt == "compact":
        return _parse_compact_lines(text)
    if fmt == "json":
        return parse_json(text)
    raise AutomatonError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def format_automata(dfas: DFA | Iterable[DFA], fmt: str = "text") -> str:
    """Render automata as ``'text'``, ``'compact'`` (one line each) or ``'json'``."""
    dfas = _as_dfas(dfas)
    if fmt == "text":
        return format_text(dfas)
    if fmt == "compact":
        return "".join(format_compact(d) + "\n" for d in dfas)
    if fmt == "json":
        return format_json(dfas)
    raise AutomatonError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def read_automata(path: str | os.PathLike, fmt: str | None = None) -> list[DFA]:
    """Read all automata from a file (format auto-detected unless ``fmt`` is given).

    A leading UTF-8 byte order mark is ignored. A file over
    :data:`MAX_AUTOMATA_FILE_BYTES`, or one that is not a regular file (``/dev/zero``,
    a FIFO), is refused before it is read.
    """
    try:
        text = read_bytes_limited(path, MAX_AUTOMATA_FILE_BYTES).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    return parse_automata(text, fmt)


def write_automata(path: str | os.PathLike, dfas: DFA | Sequence[DFA], fmt: str = "text", *,
                   force: bool = False) -> None:
    """Write automata to ``path`` atomically in format ``'text'``, ``'compact'`` or ``'json'``.

    A symlink, a device or a FIFO at ``path`` is written through, a read-only
    file is refused unless ``force`` (see :mod:`automata.atomic`).
    """
    atomic_write_text(path, format_automata(dfas, fmt), force=force)
