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

import itertools
import json
import os
import re
import reprlib
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from automata.atomic import atomic_write_text
from automata.dfa import DFA, first_out_of_range, letter_name
from automata.errors import AutomatonError, FormatError

__all__ = [
    "FORMATS", "MAX_TABLE_ENTRIES", "MAX_INT_DIGITS",
    "parse_text", "format_text", "parse_compact", "format_compact",
    "to_json_obj", "from_json_obj", "parse_json", "format_json",
    "detect_format", "parse_automata", "format_automata", "read_automata", "write_automata",
]

#: Names accepted by :func:`write_automata`, :func:`format_automata` and :func:`parse_automata`.
FORMATS = ("text", "compact", "json")

#: States above this count are written with commas in the compact form.
_DIGIT_LIMIT = 10

#: Most table entries (letters times states) one automaton in a file may declare:
#: 2**28 entries take 1 GiB, far more than any exact algorithm here can handle.
MAX_TABLE_ENTRIES = 2 ** 28

#: Longer integers are refused before conversion (every valid number here is a state,
#: a count or a size, all below 2**31), so a hostile literal costs no time.
MAX_INT_DIGITS = 18

#: Longest token quoted in an error message.
_TOKEN_SHOWN = 40

# ASCII digits only: \d would also accept other scripts' digits, which int() converts.
_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_DIGITS_RE = re.compile(r"[0-9]+\Z")
_COMMA_IMAGES_RE = re.compile(r"[0-9]+(?:,[0-9]+)*\Z")
_BOM = "\ufeff"


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


def _strip_bom(text: str) -> str:
    """Drop a leading UTF-8 byte order mark (some editors write one)."""
    return text[1:] if text.startswith(_BOM) else text


def _clip(token: str) -> str:
    """The token as shown in an error message: long ones are cut."""
    return token if len(token) <= _TOKEN_SHOWN else token[: _TOKEN_SHOWN - 3] + "..."


def _too_long(digits: str) -> bool:
    """True when a string of ASCII digits (sign removed) has more than MAX_INT_DIGITS digits."""
    return len(digits) > MAX_INT_DIGITS and len(digits.lstrip("0")) > MAX_INT_DIGITS


def _short_int(literal: str) -> int:
    """``int(literal)`` for a checked literal, leading zeros dropped first (``int`` refuses
    more than 4300 digits, zeros included)."""
    body = literal.lstrip("+-")
    value = int(body.lstrip("0") or "0")
    return -value if literal.startswith("-") else value


def _to_int(token: str, line: int, what: str) -> int:
    if not _INT_RE.match(token):
        raise FormatError(f"{what} is not an integer", line=line, token=_clip(token))
    if _too_long(token.lstrip("+-")):
        raise FormatError(f"{what} has more than {MAX_INT_DIGITS} digits", line=line,
                          token=_clip(token))
    return _short_int(token)


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
            if type(value) is not int:  # bool is an int subclass, and not a state
                raise FormatError(f"'delta' row {a} holds a non-integer", line=line,
                                  token=_short(value))
            if not _INT64_MIN < value < _INT64_MAX:  # so the table fits int64
                raise FormatError(f"state {_short(value)} is out of range for {width} states",
                                  line=line, token=_short(value))
    table = np.array(delta, dtype=np.int64)
    bad = first_out_of_range(table, width)
    if bad >= 0:
        value = int(table.reshape(-1)[bad])
        raise FormatError(f"state {value} is out of range for {width} states", line=line,
                          token=_short(value))
    for key, actual in (("n_states", width), ("n_letters", len(delta))):
        if key in obj:
            given = obj[key]
            if type(given) is not int or given != actual:
                raise FormatError(f"{key!r} is {_short(given)} but 'delta' implies {actual}",
                                  line=line, token=_short(given))
    return DFA(table)


_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63


def _short(value: Any, limit: int = _TOKEN_SHOWN) -> str:
    """A short rendering of a JSON value for an error message, safe on any value."""
    if type(value) is int and value.bit_length() > 64:
        # repr() of a huge integer is slow, then refused: say how long it is instead.
        return f"<integer of {value.bit_length()} bits>"
    if isinstance(value, (list, dict)):
        text = _safe_repr(value)  # bounded size, whatever the nesting
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError, RecursionError):
            text = _safe_repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _safe_repr(value: Any) -> str:
    try:
        return reprlib.repr(value)
    except (ValueError, RecursionError):  # a huge integer deep inside
        return f"<{type(value).__name__}>"


def format_json(dfas: DFA | Iterable[DFA]) -> str:
    """A JSON list of :func:`to_json_obj` objects, one automaton per line."""
    items = [json.dumps(to_json_obj(d)) for d in _as_dfas(dfas)]
    return "[\n" + ",\n".join("  " + item for item in items) + "\n]\n"


class _HugeInteger(Exception):
    """Raised from inside ``json.loads`` to stop at an integer literal that is too long."""


def _json_int(literal: str) -> int:
    if _too_long(literal.lstrip("-")):
        raise _HugeInteger(literal)
    return _short_int(literal)


def _load_json(text: str, line_offset: int = 0) -> Any:
    """``json.loads`` whose failures are all FormatErrors (``line_offset`` for JSON Lines)."""
    try:
        return json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        lines = text.split("\n")  # json counts lines by "\n" alone
        bad = (lines[exc.lineno - 1][exc.colno - 1: exc.colno + 9]
               if exc.lineno - 1 < len(lines) else "")
        raise FormatError(f"invalid JSON: {exc.msg}", line=exc.lineno + line_offset,
                          token=bad or None) from None
    except _HugeInteger as exc:
        literal = str(exc)
        line = text.count("\n", 0, max(text.find(literal), 0)) + 1 + line_offset
        raise FormatError(f"integer with more than {MAX_INT_DIGITS} digits", line=line,
                          token=_clip(literal)) from None
    except RecursionError:
        raise FormatError("JSON nested too deeply", line=1 + line_offset) from None


def parse_json(text: str) -> list[DFA]:
    """Parse a JSON object, a JSON list of objects, or JSON Lines (one object per line).

    >>> [d.n_states for d in parse_json('[{"delta": [[1, 0]]}, {"delta": [[0]]}]')]
    [2, 1]
    """
    text = _strip_bom(text)
    if not text.strip():
        raise FormatError("empty input: no automata found", line=1)
    try:
        data = _load_json(text)
    except FormatError:
        lines = [(n, raw) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
        if len(lines) > 1 and all(raw.lstrip().startswith("{") for _, raw in lines):
            return [from_json_obj(_load_json(raw, n - 1), line=n) for n, raw in lines]
        raise
    if isinstance(data, list):
        if not data:
            raise FormatError("empty JSON list: no automata found", line=1)
        line_of = _object_lines(text, len(data))
        return [from_json_obj(item, line=line_of[i]) for i, item in enumerate(data)]
    return [from_json_obj(data, line=1)]


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

    A leading UTF-8 byte order mark is ignored.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
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
