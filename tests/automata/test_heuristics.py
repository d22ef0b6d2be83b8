"""Heuristic reset words are valid and never shorter than the exact ones."""
import numpy as np
import pytest

from automata import DFA, AutomatonError, NotSynchronizingError
from automata.heuristics import beam_search, eppstein
from automata.sync import reset_lengths, shortest_reset_word


def cerny(n):
    return DFA([[(q + 1) % n for q in range(n)], [0 if q == n - 1 else q for q in range(n)]])


def test_heuristics_are_upper_bounds_on_small_random():
    rng = np.random.default_rng(21)
    tables = rng.integers(0, 9, size=(300, 2, 9))
    exact = reset_lengths(tables)
    checked = 0
    beam_exact = 0
    for table, rt in zip(tables, exact):
        dfa = DFA(table)
        if rt < 0:
            with pytest.raises(NotSynchronizingError):
                eppstein(dfa)
            with pytest.raises(NotSynchronizingError):
                beam_search(dfa)
            continue
        for word in (eppstein(dfa), beam_search(dfa, width=4)):
            assert dfa.is_reset_word(word)
            assert len(word) >= rt
        beam_exact += len(beam_search(dfa, width=64)) == rt
        checked += 1
    assert checked > 150
    # A wide beam is exact on most small random automata.
    assert beam_exact > 0.8 * checked


@pytest.mark.parametrize("n", [3, 6, 10, 17])
def test_heuristics_on_cerny(n):
    dfa = cerny(n)
    for word in (eppstein(dfa), beam_search(dfa), beam_search(dfa, width=1)):
        assert dfa.is_reset_word(word) and len(word) >= (n - 1) ** 2


def test_heuristics_larger_random():
    rng = np.random.default_rng(2)
    dfa = DFA(rng.integers(0, 150, size=(2, 150)))
    rt = len(shortest_reset_word(dfa))
    e, b = eppstein(dfa), beam_search(dfa, width=32)
    assert dfa.is_reset_word(e) and dfa.is_reset_word(b)
    assert len(e) >= rt and len(b) >= rt


def test_trivial_and_errors():
    assert eppstein(DFA([[0]])) == [] and beam_search(DFA([[0]])) == []
    assert len(eppstein(DFA([[0, 0]]))) == 1
    with pytest.raises(AutomatonError):
        eppstein([[0, 1]])
    with pytest.raises(ValueError):
        beam_search(cerny(4), width=0)
