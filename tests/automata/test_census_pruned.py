"""Pruned census: map classes, the cuts, equality with the full census, chunk files, backends."""
from __future__ import annotations

import json

import numpy as np
import pytest

from automata import DFA, AutomatonError
from automata.canon import canonical_tables
from automata.census import census_part, functional_graph_classes
from automata.census_maps import map_automorphisms, map_classes, map_rank
from automata.census_pruned import PrunedChunk, census_chunk, chunk_count, frankl_pin_limits, pruned_census
from automata.families import identify_family
from automata.formats import format_compact
from automata.reference import bfs_reset_word

A001372 = [1, 3, 7, 19, 47, 130, 343, 951, 2615]


def full_census_at_least(n, k, min_rt):
    """The full census restricted to rt >= min_rt: compact canonical form -> rt."""
    part = census_part(n, k, keep_from=max(min_rt, 0), keep_count=0)
    from automata.census import _unpack  # the census' own key format

    out = {}
    for rt, keys in part.extremes.items():
        if rt >= min_rt:
            for table in _unpack(keys, n, k):
                out[format_compact(DFA(table))] = int(rt)
    return out


def test_map_classes_count_is_a001372():
    assert [len(map_classes(n)) for n in range(1, 10)] == A001372
    assert chunk_count(8) == 951 and chunk_count(9) == 2615


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_map_classes_are_the_functional_graph_classes(n):
    # Same classes as the census' enumeration of all n**n maps.
    ours = {tuple(r) for r in canonical_tables(map_classes(n)[:, None, :])[:, 0, :].tolist()}
    theirs = {tuple(d.delta[0].tolist()) for d in functional_graph_classes(n)}
    assert ours == theirs


def test_map_classes_are_pairwise_non_conjugate_at_7():
    reps = map_classes(7)
    canon = canonical_tables(reps[:, None, :])
    assert len({c.tobytes() for c in canon}) == len(reps)
    assert map_rank(reps[0]) >= 1 and sum(map_rank(r) == 7 for r in reps) == 15  # partitions of 7


@pytest.mark.parametrize("n", [3, 5, 6])
def test_map_automorphisms_by_brute_force(n):
    import itertools

    perms = np.array(list(itertools.permutations(range(n))))
    for f in map_classes(n):
        brute = {tuple(p) for p in perms[(f[perms] == perms[:, f]).all(axis=1)].tolist()}
        got = map_automorphisms(f)
        assert {tuple(p) for p in got.tolist()} == brute and len(got) == len(brute)
        assert got[0].tolist() == list(range(n))
    assert len(map_automorphisms([0] * 6, limit=7)) == 7  # S_5 has 120, the limit stops early
    with pytest.raises(AutomatonError):
        map_automorphisms([0, 3])


def test_frankl_pin_limits():
    # limit[m] = L - sum_{j=2..m} C(n-j+2, 2): C(8,2)=28, C(7,2)=21, ...
    assert frankl_pin_limits(8, 38).tolist() == [38, 38, 10, -11, -26, -36, -42, -45, -46]
    assert frankl_pin_limits(3, 4).tolist() == [4, 4, 1, 0]


@pytest.mark.parametrize("n,k,levels", [
    (1, 1, [0, 1]), (3, 1, [0, 1, 2]), (5, 1, [0, 3, 4]), (1, 2, [0, 1]), (2, 2, [0, 1, 2]),
    (3, 2, [0, 2, 3, 4, 5]), (4, 2, [0, 5, 7, 8, 9]), (5, 2, [0, 8, 10, 12, 16, 17]),
    (2, 3, [0, 1]), (3, 3, [0, 3, 4]), (4, 3, [6, 8, 9])])
def test_pruned_equals_full_census(n, k, levels):
    full = full_census_at_least(n, k, min(levels))
    for min_rt in levels:
        expected = {key: rt for key, rt in full.items() if rt >= min_rt}
        assert pruned_census(n, k, min_rt).automata == expected, (n, k, min_rt)


@pytest.mark.slow
def test_pruned_equals_full_census_six_states():
    full = full_census_at_least(6, 2, 15)
    for min_rt in (15, 18, 21, 24, 25, 26):
        expected = {key: rt for key, rt in full.items() if rt >= min_rt}
        result = pruned_census(6, 2, min_rt)
        assert result.automata == expected, min_rt
    # The published facts: C_6 and Kari at 25, none at 24.
    assert pruned_census(6, 2, 24).histogram == {25: 2}


def test_reset_lengths_agree_with_plain_bfs():
    result = pruned_census(5, 2, 12)
    ranked = result.ranked()
    assert ranked[0][1] == 16 and identify_family(ranked[0][0]) == "cerny"
    assert len(ranked) > 40
    for dfa, rt in ranked:
        assert len(bfs_reset_word(dfa)) == rt


@pytest.mark.slow
def test_seven_states_top():
    # Published: only C_7 at 36, none at 33-35; 20 classes at rt >= 30.
    result = pruned_census(7, 2, 30)
    assert result.histogram == {30: 13, 31: 3, 32: 3, 36: 1}
    top, rt = result.ranked()[0]
    assert rt == 36 and identify_family(top) == "cerny"


@pytest.mark.slow
def test_eight_states_top():
    # The n = 8 census at L = 38 with every cut on (pair cuts included), against the list
    # found first by the plain size cuts (docs/results/census.md) and by the hunt's lifts:
    # 63 classes; the series members at their published lengths; every reset length
    # re-checked by the plain BFS. About 28 CPU s, on both cores.
    result = pruned_census(8, 2, 38, n_jobs=2)
    assert result.histogram == {49: 1, 44: 1, 43: 1, 42: 3, 41: 1, 40: 5, 39: 12, 38: 39}
    ranked = result.ranked()
    families, outside = {}, 0
    for dfa, rt in ranked:
        assert len(bfs_reset_word(dfa)) == rt
        family = identify_family(dfa)
        if family:
            families[family] = rt
        else:
            outside += 1
    assert families == {"cerny": 49, "d_prime": 44, "wielandt": 43, "e_series": 42, "d_double_prime": 42,
                        "h_series": 38}
    assert outside == 57


def _pair_distances(table):
    """Plain reference: per pair {p, q} (p < q), the length of the shortest word defined
    on both states that merges them (None if there is none), by BFS from each pair."""
    k, n = table.shape
    out = {}
    for p in range(n):
        for q in range(p + 1, n):
            seen, frontier, depth, found = {(p, q)}, [(p, q)], 0, None
            while frontier and found is None:
                depth += 1
                nxt = []
                for a, b in frontier:
                    for x in range(k):
                        u, v = table[x, a], table[x, b]
                        if u < 0 or v < 0:
                            continue
                        if u == v:
                            found = depth
                        elif (min(u, v), max(u, v)) not in seen:
                            seen.add((min(u, v), max(u, v)))
                            nxt.append((min(u, v), max(u, v)))
                frontier = nxt
            out[(p, q)] = found
    return out


def _run_pair_limits(table, min_rt):
    from automata._kernels_census import _pair_limits

    k, n = table.shape
    pairs = [(p, q) for p in range(n) for q in range(p + 1, n)]
    pair_of = np.zeros(1 << n, dtype=np.int64)
    for i, (p, q) in enumerate(pairs):
        pair_of[(1 << p) | (1 << q)] = i
    n_pairs = len(pairs)
    plen = np.empty(n_pairs, np.int64)
    node_limit = np.empty(n + 1, np.int64)
    limit = frankl_pin_limits(n, min_rt)
    bound = _pair_limits(table.astype(np.int64), n, k, np.array([p for p, _ in pairs]),
                         np.array([q for _, q in pairs]), pair_of, plen,
                         np.zeros(n_pairs + 2, np.int64), np.zeros(n_pairs + 1, np.int64),
                         np.zeros(n_pairs, np.int64), np.zeros(n_pairs * k, np.int64),
                         np.zeros(n_pairs, np.int64), limit, node_limit)
    return {pair: int(plen[i]) for i, pair in enumerate(pairs)}, int(bound), node_limit, limit


def test_pair_bound_holds_in_every_completion():
    # The bound of the pair cuts against all completions of random partial tables: every
    # pair of every synchronizing completion merges within it.
    import itertools

    rng = np.random.default_rng(5)
    below_frankl_pin = 0
    for trial in range(150):
        n, k = (4, 2) if trial % 3 else (5, 2)
        table = rng.integers(0, n, size=(k, n))
        holes = rng.choice(k * n, size=int(rng.integers(1, 4)), replace=False)
        table.reshape(-1)[holes] = -1
        plen, bound, node_limit, limit = _run_pair_limits(table, 3 * n)
        reference = _pair_distances(table)
        none = n * (n - 1) // 2 + 1
        assert plen == {pair: (none if d is None else d) for pair, d in reference.items()}
        assert bound <= n * (n - 1) // 2
        below_frankl_pin += bound < n * (n - 1) // 2
        steps = [min(int(limit[m - 1] - limit[m]), bound) for m in range(2, n + 1)]
        assert node_limit[2:].tolist() == (3 * n - np.cumsum(steps)).tolist()
        worst = 0
        for values in itertools.product(range(n), repeat=len(holes)):
            full = table.copy()
            full.reshape(-1)[holes] = values
            dist = _pair_distances(full)
            if all(d is not None for d in dist.values()):
                worst = max(worst, max(dist.values()))
                for pair, d in dist.items():  # defined words keep merging their pairs
                    assert d <= plen[pair]
        assert worst <= bound, (table.tolist(), worst, bound)
    assert below_frankl_pin > 50  # the bound is sharper than C(n, 2) on many tables


@pytest.mark.parametrize("n,min_rt", [(6, 18), (7, 26)])
def test_pair_cuts_find_the_same_automata_in_fewer_nodes(n, min_rt):
    from automata.census_pruned import _run_kernel

    saved = 0
    for f in map_classes(n):
        if map_rank(f) == n:
            continue
        with_cuts = _run_kernel(f, 2, min_rt, pair_cuts=True)
        without = _run_kernel(f, 2, min_rt, pair_cuts=False)
        for (tables, _, _) in (with_cuts, without):
            tables[:] = canonical_tables(tables) if len(tables) else tables
        found = {(t.tobytes(), int(r)) for t, r in zip(with_cuts[0], with_cuts[1])}
        assert found == {(t.tobytes(), int(r)) for t, r in zip(without[0], without[1])}
        assert with_cuts[2][0] <= without[2][0]
        saved += without[2][0] - with_cuts[2][0]
    assert saved > 0


def test_chunk_rep_and_survivor():
    chunk = census_chunk(3, 2, 4, 2)
    assert chunk.rep == map_classes(3)[2].tolist()
    assert chunk.automata == {"a:010 b:120": 4}
    # A permutation of smallest rank: nothing can synchronize, nothing is searched.
    perm = next(i for i, r in enumerate(map_classes(4)) if map_rank(r) == 4)
    empty = census_chunk(4, 2, 0, perm)
    assert empty.automata == {} and empty.nodes == 0
    assert PrunedChunk.from_json_obj(json.loads(json.dumps(chunk.to_json_obj()))) == chunk


def test_bad_arguments():
    for args in [(0, 2, 5), (13, 2, 5), (5, 4, 5), (5, 2, 2.5), (True, 2, 5)]:
        with pytest.raises(AutomatonError):
            pruned_census(*args)
    with pytest.raises(AutomatonError, match="chunk index"):
        census_chunk(4, 2, 5, 19)
    with pytest.raises(AutomatonError, match="out of range"):
        pruned_census(4, 2, 5, chunks=[100])
    with pytest.raises(AutomatonError, match="n_jobs"):
        pruned_census(4, 2, 5, n_jobs=0)


def test_chunks_saved_and_resumed(tmp_path):
    out = tmp_path / "run"
    whole = pruned_census(5, 2, 12)
    first = pruned_census(5, 2, 12, out_dir=out, chunks=range(0, 20))
    assert first.chunks_done == set(range(20)) and not (out / "result.json").exists()
    files = sorted((out / "chunks").iterdir())
    assert len(files) == 20
    # A damaged chunk (checksum mismatch) is searched again, not trusted.
    damaged = json.loads(files[3].read_text())
    damaged["chunk"]["automata"] = {"a:12340 b:01230": 99}
    files[3].write_text(json.dumps(damaged))
    files[4].write_text("{not json")
    seen = []
    resumed = pruned_census(5, 2, 12, out_dir=out, resume=True,
                            progress=lambda chunk, done, total: seen.append(chunk.index))
    assert sorted(seen) == sorted([3, 4] + list(range(20, 47)))
    assert resumed.automata == whole.automata
    saved = json.loads((out / "result.json").read_text())
    assert saved["histogram"] == {str(k): v for k, v in whole.histogram.items()}
    with pytest.raises(AutomatonError, match="already holds"):
        pruned_census(5, 2, 12, out_dir=out)
    with pytest.raises(AutomatonError, match="other parameters"):
        pruned_census(5, 2, 13, out_dir=out, resume=True)


def test_joblib_processes_give_the_same_result():
    assert pruned_census(5, 2, 10, n_jobs=2).automata == pruned_census(5, 2, 10).automata


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        result = pruned_census(5, 2, 11, n_jobs=2, backend="dask", out_dir=tmp_path / "d")
        workers = client.run(lambda: 1)
    assert len(workers) == 2
    assert result.automata == pruned_census(5, 2, 11).automata
    assert len(list((tmp_path / "d" / "chunks").iterdir())) == 47


def test_to_dict_names_families():
    data = pruned_census(5, 2, 13).to_dict()
    assert data["histogram"] == {"13": 23, "14": 11, "15": 4, "16": 1}
    names = [row["family"] for row in data["automata"]]
    rts = [row["reset_length"] for row in data["automata"]]
    assert rts == sorted(rts, reverse=True) and names[0] == "cerny"
    # D'_5 (14), W_5 and F_5 (13); the four at 15 belong to no series.
    assert {"d_prime", "wielandt", "f_series"} <= set(names) and names[1:5] == [None] * 4
