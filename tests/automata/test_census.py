"""Census: brute force for tiny sizes, Burnside counts, and the published extremes."""
from __future__ import annotations

import itertools
import json
from math import factorial

import numpy as np
import pytest

from automata import DFA, AutomatonError, ResourceLimitError
from automata.canon import canonical_form, canonical_tables, is_isomorphic
from automata.census import (
    CensusPart,
    automata_with_reset_at_least,
    census,
    census_part,
    census_size,
    functional_graph_classes,
    merge_parts,
)
from automata.formats import parse_compact
from automata.reference import bfs_reset_word


def all_tables(n, k):
    return np.array([np.array(t).reshape(k, n) for t in itertools.product(range(n), repeat=n * k)])


def brute_census(n, k):
    """Canonicalise every raw table, deduplicate, and take reset lengths from the
    plain-Python BFS."""
    canon = canonical_tables(all_tables(n, k))
    unique = {c.tobytes(): c for c in canon}
    hist: dict[int, int] = {}
    non_sync = 0
    for c in unique.values():
        word = bfs_reset_word(DFA(c))
        if word is None:
            non_sync += 1
        else:
            hist[len(word)] = hist.get(len(word), 0) + 1
    return len(unique), non_sync, dict(sorted(hist.items()))


def burnside_count(n, k):
    """Number of k-letter n-state automata up to renaming states and letters,
    by Burnside's lemma over S_n x S_k (independent of any canonical form)."""
    total = 0
    for sp in itertools.permutations(range(n)):
        # fixed points of sp^L, for every L
        def fixed(length):
            return sum(1 for x in range(n) if _power(sp, x, length) == x)
        for lp in itertools.permutations(range(k)):
            seen = set()
            count = 1
            for q in range(n):
                for a in range(k):
                    if (q, a) in seen:
                        continue
                    length, (x, b) = 0, (q, a)
                    while True:
                        seen.add((x, b))
                        x, b = sp[x], lp[b]
                        length += 1
                        if (x, b) == (q, a):
                            break
                    count *= fixed(length)
            total += count
    assert total % (factorial(n) * factorial(k)) == 0
    return total // (factorial(n) * factorial(k))


def _power(perm, x, times):
    for _ in range(times):
        x = perm[x]
    return x


@pytest.mark.parametrize("n,k", [(1, 1), (2, 1), (4, 1), (1, 2), (2, 2), (3, 2), (4, 2),
                                 (2, 3), (3, 3), (2, 4)])
def test_census_matches_brute_force(n, k):
    c = census(n, k, top=5)
    assert (c.total, c.non_synchronizing, c.histogram) == brute_census(n, k)
    assert c.total == burnside_count(n, k)
    assert c.total == c.non_synchronizing + sum(c.histogram.values())


@pytest.mark.parametrize("n,k", [(5, 2), (4, 3)])
def test_census_totals_match_burnside(n, k):
    c = census(n, k)
    assert c.total == burnside_count(n, k)
    assert c.total == c.non_synchronizing + sum(c.histogram.values())


def test_functional_graph_classes_count():
    # OEIS A001372
    assert [len(functional_graph_classes(n)) for n in range(1, 7)] == [1, 3, 7, 19, 47, 130]
    assert census_size(3, 2) == 7 * 27


def test_binary_five_states():
    c = census(5, 2, top=3)
    assert max(c.histogram) == 16 and c.histogram[16] == 1
    cerny5 = DFA([[1, 2, 3, 4, 0], [0, 1, 2, 3, 0]])
    top, rt = c.top[0]
    assert rt == 16 and is_isomorphic(top, cerny5) and top == canonical_form(top)
    # every reported reset length is the true one
    for dfa, rt in c.top:
        assert len(bfs_reset_word(dfa)) == rt
    assert [rt for _, rt in c.top] == sorted((rt for _, rt in c.top), reverse=True)


def test_binary_six_states_published_extremes():
    # Trahtman; Kisielewicz-Szykula: C_6 and Kari are the only ones at 25, none at 24.
    c = census(6, 2, top=4)
    assert c.histogram[25] == 2
    assert 24 not in c.histogram
    assert max(c.histogram) == 25
    assert c.total == burnside_count(6, 2)
    cerny6 = DFA([[1, 2, 3, 4, 5, 0], [0, 1, 2, 3, 4, 0]])
    kari = DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]])
    (a, ra), (b, rb) = c.top[:2]
    assert ra == rb == 25
    assert {is_isomorphic(a, cerny6), is_isomorphic(b, cerny6)} == {True, False}
    assert {is_isomorphic(a, kari), is_isomorphic(b, kari)} == {True, False}
    assert c.top[2][1] == 23
    d = c.to_dict()
    assert d["histogram"][25] == 2 and d["top"][0]["reset_length"] == 25
    assert parse_compact(d["top"][0]["automaton"]) == a
    json.dumps(d)


def test_automata_with_reset_at_least(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOMATA_CACHE_DIR", str(tmp_path))
    found = automata_with_reset_at_least(4, 2, 8)
    # brute force over the census classes
    hist = census(4, 2).histogram
    assert len(found) == hist[8] + hist[9]
    assert all(len(bfs_reset_word(d)) >= 8 for d in found)
    assert all(d == canonical_form(d) for d in found)
    assert len({d for d in found}) == len(found)
    assert list((tmp_path / "census").iterdir())  # cached
    again = automata_with_reset_at_least(4, 2, 8)
    assert again == found
    assert automata_with_reset_at_least(4, 2, 10) == []
    everything = automata_with_reset_at_least(3, 2, 0, cache=False)
    assert len(everything) == census(3, 2).total - census(3, 2).non_synchronizing


def test_cache_is_used_and_survives_corruption(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOMATA_CACHE_DIR", str(tmp_path))
    first = census(4, 2, cache=True)
    path = next((tmp_path / "census").iterdir())
    calls = []
    second = census(4, 2, cache=True, progress=calls.append)
    assert second == first and calls == []  # served from the cache
    obj = json.loads(path.read_text())
    assert obj["complete"] is True
    del obj["complete"]  # a partial census must never be served
    path.write_text(json.dumps(obj))
    calls.clear()
    assert census(4, 2, cache=True, progress=calls.append) == first
    assert sum(calls) == census_size(4, 2)
    calls.clear()
    path.write_text("{not json")
    third = census(4, 2, cache=True, progress=calls.append)
    assert third == first and sum(calls) == census_size(4, 2)


def test_parts_merge_to_the_whole():
    whole = census_part(4, 2)
    n_classes = len(functional_graph_classes(4))
    halves = [census_part(4, 2, range(0, 7)), census_part(4, 2, range(7, n_classes))]
    merged = merge_parts(halves)
    assert (merged.total, merged.non_synchronizing, merged.histogram) == \
        (whole.total, whole.non_synchronizing, whole.histogram)
    restored = CensusPart.from_json_obj(json.loads(json.dumps(merged.to_json_obj())))
    assert restored.histogram == merged.histogram and restored.classes == set(range(n_classes))
    with pytest.raises(AutomatonError):
        merge_parts([halves[0], halves[0]])
    # Only the slowest automata are kept, as whole buckets of one reset length.
    small = census_part(5, 2, keep_count=10)
    kept = sum(len(v) for v in small.extremes.values())
    assert 10 <= kept < 100 and small.cutoff == min(small.extremes) > 0
    assert all(len(v) == small.histogram[rt] for rt, v in small.extremes.items())


def test_bad_arguments():
    with pytest.raises(AutomatonError):
        census(0, 2)
    with pytest.raises(AutomatonError):
        census(3, 2, top=-1)
    with pytest.raises(ResourceLimitError):
        census(8, 2)
    with pytest.raises(AutomatonError):
        census_part(3, 2, [99])


def test_census_script_resumes_and_checks(tmp_path, capsys, monkeypatch):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "census.py"
    main = runpy.run_path(str(script))["main"]
    state = tmp_path / "state.json"
    assert main(["4", "2", "--json", "--check", "--state", str(state)]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = census(4, 2).to_dict()
    assert out["histogram"] == {str(k): v for k, v in expected["histogram"].items()}
    assert out["total"] == expected["total"] and out["top"] == expected["top"]
    # A finished state file is reused as is: nothing left to compute.
    assert CensusPart.from_json_obj(json.loads(state.read_text())).total == expected["total"]
    assert main(["4", "2", "--json", "--state", str(state)]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == expected["total"]
    assert main(["3", "2", "--state", str(state)]) == 2  # state of another size
    # --cache hands the result to the library's cache.
    monkeypatch.setenv("AUTOMATA_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["4", "2", "--state", str(state), "--cache"]) == 0
    calls = []
    assert census(4, 2, cache=True, progress=calls.append).to_dict() == expected and calls == []
