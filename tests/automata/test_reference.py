"""The plain BFS is the yardstick of every fast solver: check it against known answers."""
import itertools

import pytest

from automata import DFA, AutomatonError
from automata.reference import bfs_reset_word


def cerny(n):
    return DFA([[(q + 1) % n for q in range(n)], [0 if q == n - 1 else q for q in range(n)]])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7, 8])
def test_cerny_lengths(n):
    word = bfs_reset_word(cerny(n))
    assert len(word) == (n - 1) ** 2
    assert cerny(n).is_reset_word(word)


def test_literature_extremes():
    kari = DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]])
    roman = DFA([[1, 2, 1, 3, 4], [2, 1, 0, 3, 4], [0, 4, 3, 2, 1]])
    for dfa, rt in [(kari, 25), (roman, 16), (DFA([[1, 0, 0], [2, 0, 1]]), 4),
                    (DFA([[0, 2, 1, 1], [3, 1, 0, 2]]), 9)]:
        word = bfs_reset_word(dfa)
        assert len(word) == rt and dfa.is_reset_word(word)


def test_non_synchronizing_and_trivial():
    assert bfs_reset_word(DFA([[1, 2, 0], [2, 0, 1]])) is None
    assert bfs_reset_word(DFA([[0, 1], [0, 1]])) is None
    assert bfs_reset_word(DFA([[0]])) == []


def test_exhaustive_n2_shortest():
    # Every binary 2-state automaton: brute force over all words up to length 3.
    for a in itertools.product(range(2), repeat=2):
        for b in itertools.product(range(2), repeat=2):
            dfa = DFA([a, b])
            best = None
            for length in range(0, 4):
                for word in itertools.product(range(2), repeat=length):
                    if dfa.is_reset_word(word):
                        best = length
                        break
                if best is not None:
                    break
            got = bfs_reset_word(dfa)
            assert (got is None and best is None) or len(got) == best


def test_rejects_non_dfa():
    with pytest.raises(AutomatonError):
        bfs_reset_word([[0, 1], [1, 0]])
