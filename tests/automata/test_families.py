"""The known families: tables as the literature writes them, exact reset lengths, identification."""
from __future__ import annotations

import numpy as np
import pytest

from automata import DFA
from automata.canon import is_isomorphic
from automata.errors import AutomatonError
from automata.families import (
    FAMILIES,
    b_series,
    binary_3,
    binary_4,
    build_family,
    cerny,
    d_double_prime,
    d_prime,
    e_series,
    f_series,
    h_series,
    identify_family,
    kari,
    roman,
    wielandt,
)
from automata.reference import bfs_reset_word, bfs_reset_word_bitset
from automata.sync import reset_length, shortest_reset_word


def test_tables_for_n5_exactly_as_published():
    assert cerny(5).delta.tolist() == [[1, 2, 3, 4, 0], [0, 1, 2, 3, 0]]
    assert wielandt(5).delta.tolist() == [[1, 2, 3, 4, 1], [1, 2, 3, 4, 0]]
    assert d_prime(5).delta.tolist() == [[1, 2, 3, 0, 1], [1, 2, 3, 4, 0]]
    assert d_double_prime(5).delta.tolist() == [[1, 2, 3, 0, 0], [1, 2, 3, 4, 1]]
    assert h_series(5).delta.tolist() == [[4, 1, 2, 3, 0], [1, 2, 3, 0, 2]]
    assert kari().delta.tolist() == [[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]]
    assert roman().delta.tolist() == [[1, 2, 1, 3, 4], [2, 1, 0, 3, 4], [0, 4, 3, 2, 1]]
    assert binary_3().delta.tolist() == [[1, 0, 0], [2, 0, 1]]
    assert binary_4().delta.tolist() == [[0, 2, 1, 1], [3, 1, 0, 2]]


def test_published_n5_reset_lengths():
    assert [reset_length(f(5)) for f in (cerny, wielandt, d_prime, d_double_prime, h_series)] == \
        [16, 13, 14, 12, 11]


@pytest.mark.parametrize("name", [n for n, f in FAMILIES.items() if f.fixed_n is None])
def test_series_reset_length_matches_formula_up_to_20(name):
    family = FAMILIES[name]
    for n in filter(family.valid_n, range(family.min_n, 21)):
        dfa = family.build(n)
        assert dfa.n_states == n and dfa.n_letters == family.n_letters
        assert reset_length(dfa) == family.formula(n) == family.reset_length(n), (name, n)


@pytest.mark.parametrize("name", [n for n, f in FAMILIES.items() if f.fixed_n is not None])
def test_single_automata_reset_length(name):
    family = FAMILIES[name]
    dfa = family.build()
    assert dfa.n_states == family.fixed_n and dfa.n_letters == family.n_letters
    word = bfs_reset_word(dfa)  # independent plain BFS
    assert len(word) == family.reset_length() == reset_length(dfa)
    assert dfa.is_reset_word(shortest_reset_word(dfa))


def test_new_series_tables_as_published():
    # The rows of the literature table, 0-based, for n = 5 and 7.
    assert e_series(5).delta.tolist() == [[1, 2, 2, 3, 4], [2, 2, 3, 4, 0]]
    assert f_series(5).delta.tolist() == [[0, 1, 2, 3, 1], [1, 2, 3, 4, 0]]
    assert b_series(5).delta.tolist() == [[0, 1, 2, 0, 1], [1, 2, 3, 4, 0]]
    assert e_series(7).delta.tolist() == [[1, 2, 2, 3, 4, 5, 6], [2, 2, 3, 4, 5, 6, 0]]
    assert f_series(7).delta.tolist() == [[0, 1, 2, 3, 4, 5, 1], [1, 2, 3, 4, 5, 6, 0]]
    assert b_series(7).delta.tolist() == [[0, 1, 2, 3, 4, 0, 1], [1, 2, 3, 4, 5, 6, 0]]


@pytest.mark.parametrize("name", ["e_series", "f_series", "b_series"])
def test_new_series_match_formula_by_plain_bfs_then_exact_solver(name):
    family = FAMILIES[name]
    for n in filter(family.valid_n, range(family.min_n, 21)):
        dfa = family.build(n)
        if n <= 11:  # the plain bitset BFS is independent of the numba kernels
            word = bfs_reset_word_bitset(dfa)
            assert dfa.is_reset_word(word)
        else:
            word = shortest_reset_word(dfa)
            assert dfa.is_reset_word(word) and not dfa.is_reset_word(word[1:])
        assert len(word) == family.formula(n), (name, n)


def test_published_reset_lengths_by_n():
    # The literature's per-n list of series reset lengths.
    expected = {8: {"cerny": 49, "d_prime": 44, "wielandt": 43, "d_double_prime": 42,
                    "e_series": 42, "h_series": 38},
                9: {"cerny": 64, "d_prime": 58, "wielandt": 57, "f_series": 57,
                    "d_double_prime": 56, "e_series": 56, "b_series": 56, "h_series": 51},
                11: {"cerny": 100, "d_prime": 92, "wielandt": 91, "f_series": 91,
                     "d_double_prime": 90, "e_series": 90, "b_series": 90, "h_series": 83}}
    for n, lengths in expected.items():
        series = {name for name, f in FAMILIES.items() if f.fixed_n is None and f.valid_n(n)}
        assert series == set(lengths)
        for name, rt in lengths.items():
            assert FAMILIES[name].reset_length(n) == rt


def test_odd_only_series():
    for ctor in (f_series, b_series):
        with pytest.raises(AutomatonError, match="odd"):
            ctor(8)
        with pytest.raises(AutomatonError, match="n >= 5"):
            ctor(3)
    assert not FAMILIES["f_series"].valid_n(8) and FAMILIES["f_series"].valid_n(9)
    assert FAMILIES["b_series"].states_text == "odd >= 5"
    assert FAMILIES["cerny"].states_text == ">= 2" and FAMILIES["kari"].states_text == "6"
    assert identify_family(DFA([[0, 1, 2, 3, 4, 5, 1, 7], [1, 2, 3, 4, 5, 6, 7, 0]])) is None


@pytest.mark.parametrize("n", range(8, 13))
def test_series_pairwise_non_isomorphic_from_8(n):
    members = [(name, f.build(n)) for name, f in FAMILIES.items()
               if f.fixed_n is None and f.valid_n(n)]
    for i, (name_a, a) in enumerate(members):
        assert identify_family(a) == name_a
        for name_b, b in members[i + 1:]:
            assert not is_isomorphic(a, b), (name_a, name_b, n)


def test_cerny_word_is_the_classic_one():
    n = 6
    word = ([1] + [0] * (n - 1)) * (n - 2) + [1]
    assert len(word) == (n - 1) ** 2 and cerny(n).is_reset_word(word)
    assert not cerny(n).is_reset_word(word[1:])


def test_validation():
    with pytest.raises(AutomatonError, match="n >= 4"):
        h_series(3)
    with pytest.raises(AutomatonError, match="integer"):
        cerny(4.0)
    with pytest.raises(AutomatonError, match="only n = 6"):
        FAMILIES["kari"].build(7)
    with pytest.raises(AutomatonError, match="unknown family"):
        build_family("nope", 5)
    with pytest.raises(AutomatonError, match="no member"):
        FAMILIES["h_series"].reset_length(2)
    assert build_family("roman") == roman()
    assert FAMILIES["cerny"].to_dict()["reset_length"] == "(n-1)^2"


def test_identify_family_under_relabelling():
    rng = np.random.default_rng(5)
    for name, family in FAMILIES.items():
        if name == "binary_3":  # isomorphic to D'_3, which comes first in the registry
            continue
        ns = [family.fixed_n] if family.fixed_n else [5, 8, 9, 13]
        for n in filter(family.valid_n, ns):
            dfa = family.build(n)
            state_perm = rng.permutation(n)
            letter_perm = rng.permutation(dfa.n_letters)
            assert identify_family(dfa.relabel(state_perm, letter_perm)) == name, (name, n)


def test_identify_family_rejects_others():
    # The cycle with 4 -> 1 is F_5 (letters swapped); with 4 -> 2 it is in no family (rt 10).
    assert identify_family(DFA([[1, 2, 3, 4, 0], [0, 1, 2, 3, 1]])) == "f_series"
    assert identify_family(DFA([[1, 2, 3, 4, 0], [0, 1, 2, 3, 2]])) is None
    assert identify_family(DFA([[0] * 5, [0] * 5])) is None
    assert identify_family(DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5], [0] * 6])) is None


def test_small_extremes_are_not_cerny():
    # Both reach the bound (n-1)^2 without being isomorphic to C_n; binary_3 is D'_3.
    assert identify_family(binary_3()) == "d_prime"
    assert identify_family(binary_4()) == "binary_4"
    assert identify_family(kari()) == "kari"


def test_shipped_table_matches_registry():
    import csv
    from pathlib import Path

    from automata.formats import parse_compact

    path = Path(__file__).resolve().parents[2] / "data" / "families.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == list(FAMILIES)
    for row in rows:
        family = FAMILIES[row["name"]]
        n = int(row["example_n"])
        assert parse_compact(row["example"]) == family.build(n)
        assert row["reset_length"] == family.formula_text
        assert int(row["min_n"]) == family.min_n and int(row["n_letters"]) == family.n_letters
        assert (int(row["fixed_n"]) if row["fixed_n"] else None) == family.fixed_n
