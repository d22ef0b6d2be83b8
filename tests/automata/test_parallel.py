import numpy as np
import pytest

from automata import DFA, AutomatonError
from automata.families import cerny
from automata.parallel import evaluate_many, evaluate_tables
from automata.reference import bfs_reset_word


def _random_dfas(count, n, k, seed):
    rng = np.random.default_rng(seed)
    return [DFA(rng.integers(0, n, size=(k, n))) for _ in range(count)]


def test_evaluate_many_matches_plain_bfs():
    dfas = _random_dfas(60, 5, 2, 0) + [cerny(6), DFA([[1, 0], [0, 1]])]
    expected = [None if (w := bfs_reset_word(d)) is None else len(w) for d in dfas]
    assert evaluate_many(dfas) == expected
    assert expected[-2] == 25 and expected[-1] is None
    assert any(e is None for e in expected[:-1]) and any(e for e in expected[:-1])


def test_parallel_agrees_with_serial_and_keeps_order():
    # Mixed sizes, several chunks, two worker processes.
    dfas = _random_dfas(150, 6, 2, 1) + _random_dfas(50, 4, 3, 2)
    rng = np.random.default_rng(3)
    order = rng.permutation(len(dfas))
    dfas = [dfas[i] for i in order]
    serial = evaluate_many(dfas, n_jobs=1)
    parallel = evaluate_many(dfas, n_jobs=2, chunk_size=17)
    assert parallel == serial
    tables = np.stack([d.delta for d in dfas if d.n_states == 6])
    np.testing.assert_array_equal(
        evaluate_tables(tables, n_jobs=2, chunk_size=30),
        [(-1 if s is None else s) for s, d in zip(serial, dfas) if d.n_states == 6])


def test_measured_chunks_cover_everything():
    tables = np.stack([d.delta for d in _random_dfas(300, 5, 2, 4)])
    np.testing.assert_array_equal(evaluate_tables(tables, n_jobs=2, chunk_seconds=1e-4),
                                  evaluate_tables(tables))


def test_bad_input_is_typed():
    with pytest.raises(AutomatonError):
        evaluate_tables(np.zeros((3, 2), dtype=int))
    with pytest.raises(AutomatonError):
        evaluate_tables(np.full((1, 2, 3), 3))
    with pytest.raises(AutomatonError):
        evaluate_many([[[0, 1], [1, 0]]])
    assert evaluate_many([]) == []
