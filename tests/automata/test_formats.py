"""Round trips and error messages of the three text formats."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from automata import DFA
from automata.errors import AutomatonError, FormatError
from automata.formats import (detect_format, format_automata, format_compact, format_json,
                              format_text, from_json_obj, parse_automata, parse_compact,
                              parse_json, parse_text, read_automata, to_json_obj,
                              write_automata)


@st.composite
def dfas(draw, max_states=14, max_letters=4):
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(1, max_letters))
    flat = draw(st.lists(st.integers(0, n - 1), min_size=n * k, max_size=n * k))
    return DFA(np.array(flat).reshape(k, n))


lists_of_dfas = st.lists(dfas(), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(lists_of_dfas)
def test_text_round_trip(items):
    assert parse_text(format_text(items)) == items


@settings(max_examples=60, deadline=None)
@given(dfas(max_states=25))
def test_compact_round_trip(dfa):
    line = format_compact(dfa)
    assert "\n" not in line
    assert ("," in line) == (dfa.n_states > 10)
    assert parse_compact(line) == dfa


@settings(max_examples=40, deadline=None)
@given(lists_of_dfas)
def test_json_round_trip(items):
    assert parse_json(format_json(items)) == items
    assert [from_json_obj(json.loads(json.dumps(to_json_obj(d)))) for d in items] == items


@settings(max_examples=40, deadline=None)
@given(lists_of_dfas, st.sampled_from(["text", "compact", "json"]))
def test_auto_detection_round_trip(items, fmt):
    text = format_automata(items, fmt)
    assert detect_format(text) == fmt
    assert parse_automata(text) == items


def test_text_layout_is_state_major():
    # δ(q, a) for q = 0.. with the letters of each state together.
    dfa = DFA([[1, 2, 0], [0, 0, 2]])
    assert format_text(dfa) == "2 3\n1 0\n2 0\n0 2\n"
    assert parse_text("2 3\n1 0 2 0 0 2\n") == [dfa]
    assert parse_text("2 3 1 0 2 0 0 2 1 1 0") == [dfa, DFA([[0]])]  # layout is free
    assert parse_text("# several automata\n2 3\n1 0\n2 0 # row 1\n0 2\n1 1\n0\n") == [dfa, DFA([[0]])]


def test_compact_known_line():
    dfa = parse_compact("a:0013456 b:3004562")
    assert dfa.n_states == 7 and dfa.n_letters == 2
    assert dfa.delta.tolist() == [[0, 0, 1, 3, 4, 5, 6], [3, 0, 0, 4, 5, 6, 2]]
    big = parse_compact("a:1,2,3,4,5,6,7,8,9,10,11,0 b:0,0,0,0,0,0,0,0,0,0,0,11")
    assert big.n_states == 12 and big.delta[0, 10] == 11


def test_file_round_trip_and_atomic_write(tmp_path):
    items = [DFA([[1, 2, 0], [0, 0, 2]]), DFA([[0]])]
    for fmt in ("text", "compact", "json"):
        path = tmp_path / f"out.{fmt}"
        write_automata(path, items, fmt)
        assert read_automata(path) == items
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(AutomatonError, match="unknown format"):
        write_automata(tmp_path / "x", items, "yaml")


def test_json_lines_and_single_object():
    assert parse_automata('{"n_states": 2, "n_letters": 1, "delta": [[1, 0]]}') == [DFA([[1, 0]])]
    lines = '{"delta": [[1, 0]]}\n{"delta": [[0]]}\n'
    assert parse_automata(lines) == [DFA([[1, 0]]), DFA([[0]])]


def _error(text, fmt=None):
    with pytest.raises(FormatError) as info:
        parse_automata(text, fmt)
    return info.value


@pytest.mark.parametrize("text, line, token, words", [
    ("", 1, None, "empty"),
    ("# only a comment\n\n", 1, None, "empty"),
    ("2 3\n1 0 2\n0 x 2\n", 3, "x", "not an integer"),
    ("2 3\n1 0 2\n0 3 2\n", 3, "3", "out of range"),
    ("2 3\n1 0 2\n0 1\n", 3, None, "needs K*N = 6 table entries, found only 5"),
    ("2 3\n1 0 2\n0 1 2 1\n", 3, "1", "too many entries"),
    ("2 3 4\n0 0\n", 1, "4", "out of range"),
    ("2 3 1\n0 0\n", 2, None, "found only 3"),
    ("2 3\n1 0 2 0 0 1\n2 2 x\n", 3, "x", "automaton 2: table entry"),
    ("2 y\n0 0\n", 1, "y", "header N"),
    ("0 3\n", 1, "0", "at least 1"),
    ("2 -1\n", 1, "-1", "at least 1"),
    ("a:012 b:01\n", 1, "b:01", "images"),
    ("a:012 c:012\n", 1, "c:012", "named 'b'"),
    ("a:012\na:013\n", 2, "a:013", "out of range"),
    ("a:01x\n", 1, "a:01x", "not a digit"),
    ("a:0,1,z\n", 1, "a:0,1,z", "not a non-negative integer"),
    ("a:01 b\n", 1, "b", "letter:images"),
    ('{"delta": [[0, 5]]}', 1, "5", "out of range"),
    ('{"delta": [[0, 1]], "n_states": 3}', 1, "3", "n_states"),
    ('{"delta": [[0, 1.5]]}', 1, "1.5", "non-integer"),
    ('[{"delta": [[0]]},\n {"detla": [[0]]}]', 2, None, "no 'delta'"),
    ('{"delta": [[0, 1]', 1, None, "invalid JSON"),
])
def test_errors_name_line_and_token(text, line, token, words):
    err = _error(text)
    assert err.line == line
    if token is not None:
        assert err.token == token
        assert repr(token) in str(err)
    assert words in str(err)
    assert f"line {line}" in str(err)


def test_unknown_format_name():
    with pytest.raises(AutomatonError, match="unknown format"):
        parse_automata("2 1\n0 0", "xml")
