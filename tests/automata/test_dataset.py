"""automata.dataset: distinct synchronizing automata with exact reset lengths, enrichment."""
import numpy as np
import pytest

from automata.canon import canonical_tables
from automata.dataset import SOURCES, draw_distinct_synchronizing, parse_enrich
from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.reference import bfs_reset_word


def test_draw_is_distinct_canonical_exact_and_seeded():
    found = draw_distinct_synchronizing((4, 5), 2, 120, seed=3, enrich="mutate:0.3")
    assert len(found) == 120 and found.shortfall == 0
    assert [p.n_states for p in found.parts] == [4, 5]
    for part in found.parts:
        assert np.array_equal(canonical_tables(part.tables), part.tables)
        assert len({t.tobytes() for t in part.tables}) == len(part.tables)
        for table, rt in zip(part.tables[:15], part.reset_lengths[:15]):
            assert len(bfs_reset_word(DFA(table))) == rt
        assert set(int(s) for s in part.sources) <= set(range(len(SOURCES)))
    again = draw_distinct_synchronizing((4, 5), 2, 120, seed=3, enrich="mutate:0.3")
    for a, b in zip(found.parts, again.parts):
        assert np.array_equal(a.tables, b.tables) and np.array_equal(a.sources, b.sources)


def test_draw_rejects_bad_arguments():
    for args in (((5, 3), 2, 10), (5, 2, 0), (65, 2, 10), (5, 0, 10), ((1, 2, 3), 2, 10)):
        with pytest.raises(AutomatonError):
            draw_distinct_synchronizing(*args)


@pytest.mark.parametrize("spec, message", [("foo:1", "expected"), ("quantile:1", "Q must"),
                                           ("mutate:0", "R must"), ("mutate:x", "not a number"),
                                           (["mutate:0.1", "mutate:0.2"], "twice")])
def test_parse_enrich_errors(spec, message):
    with pytest.raises(AutomatonError, match=message):
        parse_enrich(spec)


