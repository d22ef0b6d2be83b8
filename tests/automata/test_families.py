"""The known families: tables as the literature writes them, exact reset lengths, identification."""
from __future__ import annotations

import numpy as np
import pytest

from automata import DFA
from automata.errors import AutomatonError
from automata.families import (FAMILIES, binary_3, binary_4, build_family, cerny, d_double_prime,
                               d_prime, h_series, identify_family, kari, roman, wielandt)
from automata.reference import bfs_reset_word
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
    for n in range(family.min_n, 21):
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
        ns = [family.fixed_n] if family.fixed_n else [5, 8, 13]
        for n in ns:
            dfa = family.build(n)
            state_perm = rng.permutation(n)
            letter_perm = rng.permutation(dfa.n_letters)
            assert identify_family(dfa.relabel(state_perm, letter_perm)) == name, (name, n)


def test_identify_family_rejects_others():
    assert identify_family(DFA([[1, 2, 3, 4, 0], [0, 1, 2, 3, 1]])) is None  # rt differs from C_5
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
