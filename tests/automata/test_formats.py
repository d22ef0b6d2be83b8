"""Round trips and error messages of the three text formats."""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automata import DFA
from automata.errors import AutomatonError, FormatError
from automata.formats import (
    MAX_TABLE_ENTRIES,
    detect_format,
    format_automata,
    format_compact,
    format_json,
    format_text,
    from_json_obj,
    parse_automata,
    parse_compact,
    parse_json,
    parse_text,
    read_automata,
    to_json_obj,
    write_automata,
)


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


# ------------------------------------------------------------------ hostile input
def test_declared_size_beyond_the_stated_maximum_is_refused_before_allocation():
    err = _error("99999999 99999999\n0 0\n")
    assert err.line == 1 and err.token == "99999999"
    assert f"more than the {MAX_TABLE_ENTRIES} supported" in str(err)


def test_declared_size_is_checked_against_what_the_input_holds():
    # Within the stated maximum, but the input holds two entries: the parser must not
    # allocate for the header's claim. tracemalloc sees numpy's allocations.
    need = MAX_TABLE_ENTRIES // 2
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=f"needs K\\*N = {need} table entries, found only 2"):
            parse_text(f"2 {need // 2}\n0 0\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


@pytest.mark.parametrize("text, fmt, line, words", [
    ("2 " + "9" * 5000 + "\n", "text", 1, "header N (number of states) has more than 18 digits"),
    ("1 2\n0 " + "1" * 5000 + "\n", "text", 2, "table entry has more than 18 digits"),
    ("a:0," + "7" * 5000 + "\n", "compact", 1, "has more than 18 digits"),
    ('{"delta": [[0, ' + "3" * 5000 + ']]}', "json", 1, "integer with more than 18 digits"),
    ('[{"delta": [[0]]},\n {"delta": [[-' + "3" * 5000 + ']]}]', "json", 2, "more than 18 digits"),
    ('{"delta": [[0]]}\n{"delta": [[' + "3" * 5000 + ']]}\n', "json", 2, "more than 18 digits"),
])
def test_huge_integer_literals_are_format_errors_naming_line_and_token(text, fmt, line, words):
    err = _error(text, fmt)
    assert words in str(err)
    assert err.line == line
    assert err.token is not None and len(err.token) <= 40 and err.token.endswith("...")


def test_leading_zeros_do_not_count_as_digits():
    zeros = "0" * 5000  # more than int() converts, zeros included
    assert parse_text(f"1 {zeros}1\n-{zeros}\n") == [DFA([[0]])]
    assert parse_text(f"+{zeros}1 {zeros}2\n{zeros}1 {zeros}0\n") == [DFA([[1, 0]])]
    assert parse_compact(f"a:{zeros}1,{zeros}") == DFA([[1, 0]])
    with pytest.raises(FormatError, match="out of range"):
        parse_text(f"1 1\n-{zeros}1\n")


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    '{"delta": ' + "[" * 50_000 + "]" * 50_000 + "}",
    '{"delta": [[0]]}\n' + "{" * 100_000 + "\n",
])
def test_deeply_nested_json_is_a_format_error(text):
    err = _error(text)
    assert "nested too deeply" in str(err) or "invalid JSON" in str(err)


def test_nested_json_that_python_can_read_is_still_rejected_cleanly():
    depth = 500  # readable by json, far too deep for an automaton
    err = _error('{"delta": ' + "[" * depth + "0" + "]" * depth + "}")
    assert "non-integer" in str(err) and len(err.token) <= 40


def test_from_json_obj_copes_with_python_values_no_json_can_hold():
    with pytest.raises(FormatError, match="out of range"):
        from_json_obj({"delta": [[0, 10 ** 40]]})
    with pytest.raises(FormatError, match="n_states") as info:
        from_json_obj({"delta": [[0]], "n_states": 10 ** 6000})
    assert "bits" in info.value.token
    with pytest.raises(FormatError, match="non-integer"):
        from_json_obj({"delta": [[True]]})


@pytest.mark.parametrize("fmt", ["text", "compact", "json"])
def test_a_byte_order_mark_is_ignored(tmp_path, fmt):
    items = [DFA([[1, 2, 0], [0, 0, 2]]), DFA([[0]])]
    text = "\ufeff" + format_automata(items, fmt)
    assert detect_format(text) == fmt
    assert parse_automata(text) == items
    assert parse_automata(text, fmt) == items
    path = tmp_path / "bom.txt"
    path.write_bytes(text.encode("utf-8"))
    assert read_automata(path) == items


@pytest.mark.parametrize("text", ["1 1\n\u0660\n", "\u0661 1\n0\n", "a:\u0660\n", "a:0,\u0660\n"])
def test_only_ascii_digits_are_numbers(text):
    _error(text)


def test_long_tokens_are_cut_in_messages():
    err = _error("1 1\n" + "x" * 10_000 + "\n")
    assert len(str(err)) < 200


# ------------------------------------------------------------------ fuzzing
# Inputs a hostile or broken file could hold: generated text over the alphabet the formats
# use, and valid files mutated by edits that tend to break parsers.
_ALPHABET = "0123456789 \t\n\r:,-+abcxz#[]{}\".eE\ufeff\u0660\x00"
_FUZZ = settings(max_examples=150, deadline=2000)


@st.composite
def mutated_files(draw):
    items = draw(st.lists(dfas(max_states=12, max_letters=3), min_size=1, max_size=3))
    text = format_automata(items, draw(st.sampled_from(["text", "compact", "json"])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "number", "nest", "repeat"]))
        if edit == "insert":
            text = text[:at] + draw(st.text(_ALPHABET, min_size=1, max_size=5)) + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 10)):]
        elif edit == "replace":
            text = text[:at] + draw(st.sampled_from(_ALPHABET)) + text[at + 1:]
        elif edit == "number":
            digits = draw(st.sampled_from([19, 400, 5000]))
            text = text[:at] + draw(st.sampled_from("123456789")) * digits + text[at:]
        elif edit == "nest":
            depth = draw(st.sampled_from([3, 1000, 20_000]))
            text = text[:at] + "[" * depth + text[at:] + "]" * depth
        else:
            text = text[:at] + text[:at][-20:] * draw(st.integers(2, 50)) + text[at:]
    return text


hostile_texts = st.one_of(st.text(_ALPHABET, max_size=200), st.text(max_size=100),
                          mutated_files())


def _parses_or_refuses(text, fmt=None):
    """The only outcomes allowed: automata (which then round-trip exactly through every
    format), or the package's typed error."""
    try:
        result = parse_automata(text, fmt)
    except AutomatonError as exc:
        assert len(str(exc)) < 400  # one readable line, whatever the input
        return
    assert result and all(isinstance(d, DFA) for d in result)
    for other in ("text", "compact", "json"):
        assert parse_automata(format_automata(result, other), other) == result


@_FUZZ
@given(hostile_texts)
def test_fuzz_format_detection(text):
    try:
        assert detect_format(text) in ("text", "compact", "json")
    except FormatError:
        pass


@_FUZZ
@given(hostile_texts)
def test_fuzz_detection_and_parsing(text):
    _parses_or_refuses(text)


@_FUZZ
@given(hostile_texts)
def test_fuzz_text_parser(text):
    _parses_or_refuses(text, "text")


@_FUZZ
@given(hostile_texts)
def test_fuzz_compact_parser(text):
    _parses_or_refuses(text, "compact")


@_FUZZ
@given(hostile_texts)
def test_fuzz_json_parser(text):
    _parses_or_refuses(text, "json")


@settings(max_examples=100, deadline=2000)
@given(st.lists(dfas(max_states=30, max_letters=5), min_size=1, max_size=4))
def test_round_trip_through_every_format_is_exact(items):
    for fmt in ("text", "compact", "json"):
        again = parse_automata(format_automata(items, fmt), fmt)
        assert [d.delta.tolist() for d in again] == [d.delta.tolist() for d in items]
