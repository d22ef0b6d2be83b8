"""reset_word's method dispatch and the info record."""
import numpy as np
import pytest

from automata.dfa import DFA
from automata.errors import AutomatonError, NotSynchronizingError
from automata.families import cerny, kari
from automata.generate import random_tables
from automata.heuristics import beam_search, eppstein
from automata.info import automaton_info
from automata.sync import RESET_WORD_METHODS, reset_word, shortest_reset_word


def test_each_method_is_its_function():
    for table in random_tables(20, 7, 2, np.random.default_rng(4)):
        dfa = DFA(table)
        try:
            exact = shortest_reset_word(dfa)
        except NotSynchronizingError:
            for method in RESET_WORD_METHODS:
                with pytest.raises(NotSynchronizingError):
                    reset_word(dfa, method)
            continue
        assert reset_word(dfa) == exact
        assert reset_word(dfa, "eppstein") == eppstein(dfa)
        assert reset_word(dfa, "beam", width=8) == beam_search(dfa, width=8)
        assert all(dfa.is_reset_word(reset_word(dfa, m)) for m in RESET_WORD_METHODS)


def test_bad_method_or_width():
    with pytest.raises(AutomatonError, match="unknown reset-word method"):
        reset_word(cerny(4), "greedy")
    with pytest.raises(AutomatonError, match="width"):
        reset_word(cerny(4), "beam", width=0)


def test_info_record():
    info = automaton_info(kari())
    assert info["reset_length"] == 25 and info["family"] == "kari"
    assert info["strongly_connected"] and not info["exceeds_bound"]
    assert len(info["reset_word_letters"]) == 25
    perm = automaton_info(DFA([[1, 2, 0], [0, 2, 1]]))
    assert perm["synchronizing"] is False and perm["reset_length"] is None
