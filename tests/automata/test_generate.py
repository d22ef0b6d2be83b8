"""Random automata: seeding, exact uniformity on small cases, strong connectivity."""
from __future__ import annotations

import itertools
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from automata import DFA
from automata.errors import AutomatonError, ResourceLimitError
from automata.generate import (
    as_rng,
    is_strongly_connected,
    random_dfa,
    random_strongly_connected_dfa,
    random_synchronizing_dfa,
    random_tables,
    strongly_connected_components,
)
from automata.sync import is_synchronizing


def _nx_strongly_connected(dfa: DFA) -> bool:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(dfa.n_states))
    graph.add_edges_from((q, int(dfa.delta[a, q])) for a in range(dfa.n_letters)
                         for q in range(dfa.n_states))
    return nx.is_strongly_connected(graph)


def test_as_rng_accepts_seed_none_and_generator():
    gen = np.random.default_rng(3)
    assert as_rng(gen) is gen
    assert isinstance(as_rng(None), np.random.Generator)
    assert as_rng(np.int64(4)).integers(1 << 30) == as_rng(4).integers(1 << 30)
    for bad in ("7", 1.5, True, -1):
        with pytest.raises(AutomatonError):
            as_rng(bad)


def test_random_tables_shape_dtype_range_and_seed():
    tables = random_tables(50, 7, 3, rng=11)
    assert tables.shape == (50, 3, 7) and tables.dtype == np.int32
    assert tables.min() == 0 and tables.max() == 6
    assert np.array_equal(tables, random_tables(50, 7, 3, rng=11))
    assert not np.array_equal(tables, random_tables(50, 7, 3, rng=12))
    assert random_dfa(7, 3, rng=5) == random_dfa(7, 3, rng=5)
    with pytest.raises(AutomatonError, match="n_states"):
        random_tables(3, 0, 2)
    with pytest.raises(AutomatonError, match="m must"):
        random_tables(-1, 3, 2)


def test_random_tables_are_uniform_per_entry():
    tables = random_tables(4000, 4, 2, rng=0)
    counts = np.bincount(tables.ravel(), minlength=4) / tables.size
    assert np.allclose(counts, 0.25, atol=0.01)


def test_is_strongly_connected_matches_networkx():
    rng = as_rng(1)
    seen = Counter()
    for _ in range(400):
        n = int(rng.integers(1, 9))
        k = int(rng.integers(1, 4))
        dfa = random_dfa(n, k, rng)
        expected = _nx_strongly_connected(dfa)
        seen[expected] += 1
        assert is_strongly_connected(dfa) == expected
        comps = strongly_connected_components(dfa)
        assert sorted(q for c in comps for q in c) == list(range(n))
        assert (len(comps) == 1) == expected
    assert seen[True] > 20 and seen[False] > 20


def _all_strongly_connected(n, k):
    out = []
    for flat in itertools.product(range(n), repeat=n * k):
        dfa = DFA(np.array(flat).reshape(k, n))
        if _nx_strongly_connected(dfa):
            out.append(dfa)
    return out


@pytest.mark.parametrize("method", ["rejection", "closed_component"])
def test_strongly_connected_sampler_is_uniform(method):
    population = _all_strongly_connected(3, 2)
    draws = 12000
    rng = as_rng(2024)
    counts = Counter(random_strongly_connected_dfa(3, 2, rng, method=method) for _ in range(draws))
    assert set(counts) == set(population)
    expected = draws / len(population)
    chi2 = sum((counts[d] - expected) ** 2 / expected for d in population)
    # df = 295: mean 295, sd ~24; 420 is beyond 5 sd, so only a biased sampler fails.
    assert chi2 < 420


def test_strongly_connected_large_and_unary():
    rng = as_rng(9)
    for n, k in [(40, 2), (200, 2), (60, 3)]:
        dfa = random_strongly_connected_dfa(n, k, rng)
        assert dfa.n_states == n and dfa.n_letters == k and is_strongly_connected(dfa)
    cyc = random_strongly_connected_dfa(12, 1, rng)
    assert is_strongly_connected(cyc) and sorted(cyc.delta[0].tolist()) == list(range(12))
    with pytest.raises(AutomatonError, match="unknown method"):
        random_strongly_connected_dfa(5, 2, rng, method="magic")
    with pytest.raises(ResourceLimitError, match="max_tries"):
        random_strongly_connected_dfa(30, 2, rng, method="rejection", max_tries=1)


def test_random_synchronizing():
    rng = as_rng(3)
    for n in (2, 6, 15):
        dfa = random_synchronizing_dfa(n, 2, rng)
        assert is_synchronizing(dfa)
    both = random_synchronizing_dfa(12, 2, rng, strongly_connected=True)
    assert is_synchronizing(both) and is_strongly_connected(both)
    # A permutation is never synchronizing: with one try from such a seed the sampler must
    # give up loudly.
    seed = next(s for s in range(100)
                if len(set(random_tables(1, 5, 1, rng=s)[0, 0].tolist())) == 5)
    with pytest.raises(ResourceLimitError, match="no synchronizing automaton"):
        random_synchronizing_dfa(5, 1, seed, max_tries=1)
