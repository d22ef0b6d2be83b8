"""The JSON format: ``{"n_states": N, "n_letters": K, "delta": [[...], ...]}``.

A file holds one such object, a list of them, or one object per line (JSON
Lines). See :mod:`automata.formats` for the rules every reader follows.
"""
from __future__ import annotations

import json
import reprlib
from typing import Any, Iterable

import numpy as np

from automata._formats_base import (
    _TOKEN_SHOWN,
    MAX_INT_DIGITS,
    _as_dfas,
    _clip,
    _short_int,
    _strip_bom,
    _too_long,
)
from automata.dfa import DFA, first_out_of_range
from automata.errors import AutomatonError, FormatError

__all__ = ["to_json_obj", "from_json_obj", "parse_json", "format_json"]


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
