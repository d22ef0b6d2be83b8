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
line (1-based) and the offending token.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .atomic import atomic_write_text
from .dfa import DFA, letter_name
from .errors import AutomatonError, FormatError

__all__ = [
    "FORMATS", "parse_text", "format_text", "parse_compact", "format_compact",
    "to_json_obj", "from_json_obj", "parse_json", "format_json",
    "detect_format", "parse_automata", "format_automata", "read_automata", "write_automata",
]

#: Names accepted by :func:`write_automata`, :func:`format_automata` and :func:`parse_automata`.
FORMATS = ("text", "compact", "json")

#: States above this count are written with commas in the compact form.
_DIGIT_LIMIT = 10

_INT_RE = re.compile(r"[+-]?\d+\Z")


def _as_dfas(dfas: DFA | Iterable[DFA]) -> list[DFA]:
    if isinstance(dfas, DFA):
        return [dfas]
    out = list(dfas)
    for item in out:
        if not isinstance(item, DFA):
            raise AutomatonError(f"expected DFA objects, got {type(item).__name__}")
    return out


def _strip_comment(line: str) -> str:
    cut = line.find("#")
    return line if cut < 0 else line[:cut]


def _to_int(token: str, line: int, what: str) -> int:
    if not _INT_RE.match(token):
        raise FormatError(f"{what} is not an integer", line=line, token=token)
    return int(token)


# --------------------------------------------------------------------------- text
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


def _tokens(text: str) -> list[tuple[int, str]]:
    """All tokens as (1-based line number, token), comments removed."""
    return [(number, token)
            for number, raw in enumerate(text.splitlines(), start=1)
            for token in _strip_comment(raw).split()]


def parse_text(text: str) -> list[DFA]:
    """Parse the solvers' text format: any number of ``K N`` headers, each followed by K·N states.

    Layout is free, as for the solvers (they read whitespace-separated
    integers): the header and the table may share lines or span many.

    Raises
    ------
    FormatError
        On an empty input, a header that is not two positive integers, a
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
    tokens = _tokens(text)
    if not tokens:
        raise FormatError("empty input: no automata found", line=1)
    dfas: list[DFA] = []
    i = 0
    while i < len(tokens):
        number = len(dfas) + 1
        head_line, first = tokens[i]
        if i + 1 >= len(tokens):
            raise FormatError(
                f"automaton {number}: expected a header 'K N' (letters, states), found a single "
                f"token at the end of the input"
                + (" (the previous table may have too many entries)" if dfas else ""),
                line=head_line, token=first)
        n_letters = _to_int(first, head_line, f"automaton {number}: header K (number of letters)")
        states_line, second = tokens[i + 1]
        n_states = _to_int(second, states_line, f"automaton {number}: header N (number of states)")
        if n_letters < 1:
            raise FormatError(f"automaton {number}: header K (number of letters) must be at "
                              "least 1", line=head_line, token=first)
        if n_states < 1:
            raise FormatError(f"automaton {number}: header N (number of states) must be at "
                              "least 1", line=states_line, token=second)
        need = n_letters * n_states
        body = tokens[i + 2: i + 2 + need]
        values = np.empty(need, dtype=np.int64)
        # Check the entries that are there first: a bad token is the more precise message.
        for j, (line, token) in enumerate(body):
            value = _to_int(token, line, f"automaton {number}: table entry")
            if not 0 <= value < n_states:
                raise FormatError(f"automaton {number}: state {value} is out of range for "
                                  f"{n_states} states", line=line, token=token)
            values[j] = value
        if len(body) < need:
            raise FormatError(
                f"automaton {number} (header '{n_letters} {n_states}' on line {head_line}) needs "
                f"K*N = {need} table entries, found only {len(body)} before the end of the input",
                line=tokens[-1][0])
        dfas.append(DFA(values.reshape(n_states, n_letters).T))
        i += 2 + need
    return dfas


# ------------------------------------------------------------------------ compact
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
    tokens = _strip_comment(line).split()
    if not tokens:
        raise FormatError("empty line: expected letters like 'a:0123 b:1230'", line=line_number)
    rows: list[list[int]] = []
    for index, token in enumerate(tokens):
        name, colon, images = token.partition(":")
        if not colon:
            raise FormatError("expected 'letter:images' (e.g. 'a:0123')", line=line_number,
                              token=token)
        expected = letter_name(index)
        if name != expected:
            raise FormatError(f"letter {index + 1} must be named {expected!r}, got {name!r}",
                              line=line_number, token=token)
        if not images:
            raise FormatError(f"letter {name!r} has no images", line=line_number, token=token)
        if "," in images:
            parts = images.split(",")
            for part in parts:
                if not part.isdigit() or not part.isascii():
                    raise FormatError(f"image {part!r} is not a non-negative integer",
                                      line=line_number, token=token)
            row = [int(part) for part in parts]
        else:
            if not images.isdigit() or not images.isascii():
                bad = next(ch for ch in images if not (ch.isascii() and ch.isdigit()))
                raise FormatError(f"image {bad!r} is not a digit (use commas for more than "
                                  f"{_DIGIT_LIMIT} states)", line=line_number, token=token)
            row = [int(ch) for ch in images]
        if rows and len(row) != len(rows[0]):
            raise FormatError(f"letter {name!r} has {len(row)} images but letter 'a' has "
                              f"{len(rows[0])}: every letter needs one image per state",
                              line=line_number, token=token)
        rows.append(row)
    n_states = len(rows[0])
    for token, row in zip(tokens, rows):
        for value in row:
            if value >= n_states:
                raise FormatError(f"state {value} is out of range for {n_states} states",
                                  line=line_number, token=token)
    return DFA(rows)


def _parse_compact_lines(text: str) -> list[DFA]:
    dfas = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if _strip_comment(raw).strip():
            dfas.append(parse_compact(raw, line_number=number))
    if not dfas:
        raise FormatError("empty input: no automata found", line=1)
    return dfas


# --------------------------------------------------------------------------- json
def to_json_obj(dfa: DFA) -> dict[str, Any]:
    """JSON-ready dict ``{"n_states", "n_letters", "delta"}`` with ``delta[letter][state]``.

    >>> to_json_obj(DFA([[1, 0]]))
    {'n_states': 2, 'n_letters': 1, 'delta': [[1, 0]]}
    """
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    return {"n_states": dfa.n_states, "n_letters": dfa.n_letters, "delta": dfa.delta.tolist()}


def from_json_obj(obj: Any, *, line: int | None = None) -> DFA:
    """Build a DFA from a dict made by :func:`to_json_obj` (``n_states``/``n_letters`` optional
    but checked when present).

    >>> from_json_obj({"n_states": 2, "n_letters": 1, "delta": [[1, 0]]}).delta.tolist()
    [[1, 0]]
    """
    if not isinstance(obj, dict):
        raise FormatError(f"expected a JSON object with 'delta', got {type(obj).__name__}",
                          line=line, token=_short(obj))
    if "delta" not in obj:
        raise FormatError("JSON object has no 'delta' key", line=line, token=_short(obj))
    delta = obj["delta"]
    if (not isinstance(delta, list) or not delta
            or not all(isinstance(row, list) and row for row in delta)):
        raise FormatError("'delta' must be a non-empty list of non-empty lists (one per letter)",
                          line=line, token=_short(delta))
    width = len(delta[0])
    for a, row in enumerate(delta):
        if len(row) != width:
            raise FormatError(f"'delta' row {a} has {len(row)} entries, row 0 has {width}",
                              line=line, token=_short(row))
        for value in row:
            if isinstance(value, bool) or not isinstance(value, int):
                raise FormatError(f"'delta' row {a} holds a non-integer", line=line,
                                  token=_short(value))
            if not 0 <= value < width:
                raise FormatError(f"state {value} is out of range for {width} states", line=line,
                                  token=_short(value))
    for key, actual in (("n_states", width), ("n_letters", len(delta))):
        if key in obj:
            given = obj[key]
            if isinstance(given, bool) or not isinstance(given, int) or given != actual:
                raise FormatError(f"{key!r} is {given!r} but 'delta' implies {actual}",
                                  line=line, token=_short(given))
    return DFA(delta)


def _short(value: Any, limit: int = 40) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_json(dfas: DFA | Iterable[DFA]) -> str:
    """A JSON list of :func:`to_json_obj` objects, one automaton per line."""
    items = [json.dumps(to_json_obj(d)) for d in _as_dfas(dfas)]
    return "[\n" + ",\n".join("  " + item for item in items) + "\n]\n"


def parse_json(text: str) -> list[DFA]:
    """Parse a JSON object, a JSON list of objects, or JSON Lines (one object per line)."""
    if not text.strip():
        raise FormatError("empty input: no automata found", line=1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
        if len(lines) > 1 and all(raw.lstrip().startswith("{") for _, raw in lines):
            return [_parse_json_line(raw, n) for n, raw in lines]
        all_lines = text.splitlines()
        bad = (all_lines[exc.lineno - 1][exc.colno - 1: exc.colno + 9]
               if exc.lineno - 1 < len(all_lines) else "")
        raise FormatError(f"invalid JSON: {exc.msg}", line=exc.lineno, token=bad or None) from None
    if isinstance(data, list):
        if not data:
            raise FormatError("empty JSON list: no automata found", line=1)
        line_of = _object_lines(text, len(data))
        return [from_json_obj(item, line=line_of[i]) for i, item in enumerate(data)]
    return [from_json_obj(data, line=1)]


def _parse_json_line(raw: str, number: int) -> DFA:
    try:
        return from_json_obj(json.loads(raw), line=number)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON: {exc.msg}", line=number,
                          token=raw[exc.colno - 1: exc.colno + 9] or None) from None


def _object_lines(text: str, count: int) -> list[int | None]:
    """Line of each top-level list element (best effort, for error messages)."""
    starts: list[int | None] = []
    depth = 0
    line = 1
    in_string = escape = False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            if depth == 1:
                starts.append(line)
            depth += 1
        elif ch in "]}":
            depth -= 1
    starts += [None] * (count - len(starts))
    return starts[:count]


# ------------------------------------------------------------------- dispatching
def detect_format(text: str) -> str:
    """Guess ``'text'``, ``'compact'`` or ``'json'`` from the first meaningful token.

    >>> detect_format("a:01 b:10"), detect_format("2 2\\n1 0 0 1"), detect_format("[]")
    ('compact', 'text', 'json')
    """
    for raw in text.splitlines():
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
    """Read all automata from a file (format auto-detected unless ``fmt`` is given)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    return parse_automata(text, fmt)


def write_automata(path: str | os.PathLike, dfas: DFA | Sequence[DFA], fmt: str = "text") -> None:
    """Write automata to ``path`` atomically in format ``'text'``, ``'compact'`` or ``'json'``."""
    atomic_write_text(path, format_automata(dfas, fmt))
