"""The explicit subset trie of the depth-first phase (automata/_kernels_trie.py)
against brute force and against the implicit trie's meet."""
import numpy as np

from automata import _kernels_bidir as KB
from automata._kernels_trie import SubsetTrie, _trie_build, _trie_covered, _trie_covered_parallel


def _family(rng, m, W, density, full):
    bits = rng.random((m, 64 * W)) < density
    X = np.packbits(bits, axis=1, bitorder="little").view(np.uint64).reshape(m, W).copy()
    return X & full


def _full(n):
    W = (n + 63) // 64
    full = np.zeros(W, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    return full


def _inside(C, S):
    """inside[u][r]: row u of C is a subset of row r of S (brute force)."""
    return (((C[:, None, :] & ~S[None, :, :]) == 0).all(axis=2))


def test_build_keeps_the_family_and_partitions_it_by_node():
    rng = np.random.default_rng(1)
    for trial in range(60):
        n = int(rng.integers(2, 200))
        full = _full(n)
        S = _family(rng, int(rng.integers(1, 600)), len(full), rng.uniform(0.1, 0.9), full)
        S = S[KB._sort_unique(S)]
        before = S.copy()
        perm, bit, one, lo, hi, maxpop = _trie_build(S)
        assert np.array_equal(before[perm], S), "perm must map reordered rows to the originals"
        assert sorted(perm.tolist()) == list(range(len(S)))
        sizes = KB._row_sizes(S)
        for v in range(len(bit)):
            rows = S[lo[v]:hi[v]]
            assert hi[v] > lo[v]
            assert maxpop[v] == sizes[lo[v]:hi[v]].max()
            if bit[v] < 0:
                continue
            d = int(bit[v])
            has = (rows[:, d >> 6] >> np.uint64(d & 63)) & np.uint64(1)
            # the zero child (next node) holds the rows without the bit, the one child the rest
            assert lo[v + 1] == lo[v] and hi[one[v]] == hi[v] and hi[v + 1] == lo[one[v]]
            assert not has[: hi[v + 1] - lo[v]].any() and has[hi[v + 1] - lo[v]:].all()


def test_covered_matches_brute_force_on_one_and_two_threads():
    rng = np.random.default_rng(2)
    hits = 0
    for trial in range(250):
        n = int(rng.integers(2, 200))
        full = _full(n)
        W = len(full)
        S = _family(rng, int(rng.integers(1, 400)), W, rng.uniform(0.2, 0.95), full)
        S = S[KB._sort_unique(S)]
        original = S.copy()
        C = _family(rng, int(rng.integers(1, 300)), W, rng.uniform(0.1, 0.9), full)
        # plant queries inside random keys so that both answers occur
        for u in range(min(len(C), 10)):
            C[u] = original[rng.integers(len(original))] & _family(rng, 1, W, 0.8, full)[0]
        want = _inside(C, original).any(axis=1)
        perm, bit, one, lo, hi, maxpop = _trie_build(S)
        C_before = C.copy()
        assert _trie_covered(S, bit, one, lo, hi, maxpop, C, False).tolist() == want.tolist()
        for parts in (2, 3):
            got = _trie_covered_parallel(S, bit, one, lo, hi, maxpop, C, False, parts)
            assert got.tolist() == want.tolist()
        first = _trie_covered(S, bit, one, lo, hi, maxpop, C, True)
        assert first.sum() == (1 if want.any() else 0) and want[first].all()
        some = _trie_covered_parallel(S, bit, one, lo, hi, maxpop, C, True, 2)
        assert some.any() == want.any() and want[some].all()
        assert np.array_equal(C, C_before), "the query rows were changed"
        hits += int(want.sum())
    assert hits > 1000


def test_meet_gives_the_implicit_tries_pair():
    # The pair of SubsetTrie.meet must be the one of _kernels_bidir._meet on
    # the keys in their sorted order (smallest backward set j, first forward
    # set inside it), so the word found never depends on which trie ran.
    rng = np.random.default_rng(3)
    hits = 0
    for trial in range(150):
        n = int(rng.integers(8, 140))
        full = _full(n)
        W = len(full)
        images = _family(rng, int(rng.integers(1, 300)), W, rng.choice([0.1, 0.2, 0.4]), full)
        keys = KB._complement(images, full)
        keys = keys[KB._sort_unique(keys)]
        level = _family(rng, int(rng.integers(1, 200)), W, rng.choice([0.5, 0.8, 0.95]), full)
        level = level[KB._sort_unique(level)]
        want = KB._meet(keys, level, full, 64 * W, 1)
        trie = SubsetTrie(keys.copy())
        for threads in (1, 2):
            assert trie.meet(level, full, threads) == want
        hits += want[0] >= 0
    assert 20 < hits < 150
