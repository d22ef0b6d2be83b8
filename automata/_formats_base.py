"""What the automata file formats share: size limits, integer and token checks.

The readers of :mod:`automata.formats` meet hostile files, so every integer is
checked for length before it is converted, and every token quoted in an error
is clipped.
"""
from __future__ import annotations

import re
from typing import Iterable

from automata.dfa import DFA
from automata.errors import AutomatonError, FormatError

__all__ = ["FORMATS", "MAX_TABLE_ENTRIES", "MAX_INT_DIGITS"]

#: Names accepted by :func:`~automata.formats.write_automata`,
#: :func:`~automata.formats.format_automata` and :func:`~automata.formats.parse_automata`.
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


