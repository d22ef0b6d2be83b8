"""Exact synchronization: cross-checked against the plain BFS and known answers."""
import itertools
import signal
import subprocess
import sys
import time
import warnings
from collections import deque

import numpy as np
import pytest

import automata._bidir as _bidir
import automata._bidir_deep as _bidir_deep
import automata.sync as sync
from automata import DFA, AutomatonError, MemoryBudgetExceeded, NotSynchronizingError, TimeLimitExceeded
from automata._limits import Limits
from automata.heuristics import eppstein
from automata.reference import bfs_reset_word
from automata.sync import (
    cerny_bound,
    cerny_report,
    is_synchronizing,
    reset_length,
    reset_lengths,
    shortest_reset_word,
)


def cerny(n):
    return DFA([[(q + 1) % n for q in range(n)], [0 if q == n - 1 else q for q in range(n)]])


def wielandt(n):
    a = [q + 1 for q in range(n - 1)] + [1]
    b = [q + 1 for q in range(n - 1)] + [0]
    return DFA([a, b])


def d_prime(n):
    a = [q + 1 for q in range(n - 2)] + [0, 1]
    b = [q + 1 for q in range(n - 1)] + [0]
    return DFA([a, b])


def d_double_prime(n):
    a = [q + 1 for q in range(n - 2)] + [0, 0]
    b = [q + 1 for q in range(n - 1)] + [1]
    return DFA([a, b])


def h_series(n):
    a = [n - 1] + list(range(1, n - 1)) + [0]
    b = [q + 1 for q in range(n - 2)] + [0, 2]
    return DFA([a, b])


def random_tables(rng, count, n, k, perm_every=0):
    """Random tables; with ``perm_every`` every such automaton has only
    permutation letters (never synchronizing for n > 1)."""
    tables = rng.integers(0, n, size=(count, k, n))
    if perm_every:
        for i in range(0, count, perm_every):
            tables[i] = np.stack([rng.permutation(n) for _ in range(k)])
    return tables


# -- cross-check against the plain BFS ------------------------------------------------
@pytest.mark.parametrize("k", [2, 3])
def test_exact_agrees_with_reference_bfs(k):
    rng = np.random.default_rng(100 + k)
    tables = []
    for n in range(1, 11):
        tables.extend(random_tables(rng, 110, n, k, perm_every=8))
    n_sync = 0
    for table in tables:
        dfa = DFA(table)
        ref = bfs_reset_word(dfa)
        assert is_synchronizing(dfa) == (ref is not None)
        if ref is None:
            assert reset_length(dfa) is None
            with pytest.raises(NotSynchronizingError):
                shortest_reset_word(dfa)
            continue
        n_sync += 1
        word = shortest_reset_word(dfa)
        assert len(word) == len(ref)
        assert dfa.is_reset_word(word)
        assert reset_length(dfa) == len(ref)
    # Both kinds must be well represented for the check to mean anything.
    assert 200 < n_sync < len(tables) - 100


@pytest.mark.parametrize("n,k", [(5, 2), (8, 2), (10, 2), (7, 3), (10, 3), (12, 2)])
def test_batch_reset_lengths_agree(n, k):
    rng = np.random.default_rng(n * 10 + k)
    tables = random_tables(rng, 150, n, k, perm_every=10)
    got = reset_lengths(tables)
    assert got.dtype == np.int64 and got.shape == (150,)
    for table, rt in zip(tables, got):
        ref = bfs_reset_word(DFA(table))
        assert rt == (-1 if ref is None else len(ref))
    assert (got == -1).any() and (got > 0).any()


def test_batch_mixed_overflow_path():
    # A tiny scratch table forces the fallback to the single-automaton solver.
    rng = np.random.default_rng(3)
    tables = np.ascontiguousarray(random_tables(rng, 40, 9, 2), dtype=np.int32)
    raw = sync.K._reset_lengths_batch(tables, 3)
    assert (raw == -2).any()
    want = [reset_length(DFA(t)) for t in tables]
    assert reset_lengths(tables).tolist() == [-1 if w is None else w for w in want]


def test_batch_on_cerny_and_larger_n():
    tables = np.stack([cerny(20).delta, cerny(20).delta[::-1]])
    assert reset_lengths(tables).tolist() == [361, 361]
    assert reset_lengths(cerny(64).delta[None]).tolist() == [63 ** 2]
    assert reset_lengths(np.zeros((0, 2, 5), dtype=int)).shape == (0,)


# -- the multi-word bitset path --------------------------------------------------------
def test_multiword_kernel_matches_reference():
    rng = np.random.default_rng(7)
    for n in range(2, 11):
        for table in random_tables(rng, 25, n, 2):
            dfa = DFA(table)
            ref = bfs_reset_word(dfa)
            if ref is None:
                continue
            word = _bidir.bidirectional(dfa.delta, Limits(1.0, None), min_words=3)
            assert len(word) == len(ref) and dfa.is_reset_word(word)


@pytest.mark.parametrize("n", [65, 70, 80])
def test_cerny_multiword(n):
    word = shortest_reset_word(cerny(n))
    assert len(word) == (n - 1) ** 2
    assert cerny(n).is_reset_word(word)


def test_random_multiword_against_single_word_bound():
    # n > 64 random automata: the result must be a reset word, and no word of
    # length rt-1 may exist among the forward images (checked with reset_length
    # on a forced wider kernel, an independent code path for the same search).
    rng = np.random.default_rng(11)
    for _ in range(3):
        dfa = DFA(rng.integers(0, 90, size=(2, 90)))
        word = shortest_reset_word(dfa)
        assert dfa.is_reset_word(word)
        wide = _bidir.bidirectional(dfa.delta, Limits(1.0, None), min_words=4)
        assert len(wide) == len(word)


# -- known answers ----------------------------------------------------------------------
@pytest.mark.parametrize("n", list(range(2, 23)) + [30, 40])
def test_cerny_series(n):
    word = shortest_reset_word(cerny(n))
    assert len(word) == cerny_bound(n) == (n - 1) ** 2
    assert cerny(n).is_reset_word(word)


@pytest.mark.parametrize("build,formula", [
    (wielandt, lambda n: n * n - 3 * n + 3),
    (d_prime, lambda n: n * n - 3 * n + 4),
    (d_double_prime, lambda n: n * n - 3 * n + 2),
    (h_series, lambda n: n * n - 4 * n + 6),
])
def test_slowly_synchronizing_series(build, formula):
    for n in (5, 6, 9, 12):
        dfa = build(n)
        word = shortest_reset_word(dfa)
        assert len(word) == formula(n) and dfa.is_reset_word(word)


def test_literature_extremes():
    cases = [
        (DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]]), 25),  # Kari
        (DFA([[1, 2, 1, 3, 4], [2, 1, 0, 3, 4], [0, 4, 3, 2, 1]]), 16),  # Roman
        (DFA([[1, 0, 0], [2, 0, 1]]), 4),
        (DFA([[0, 2, 1, 1], [3, 1, 0, 2]]), 9),
        (DFA([[1, 2, 3, 4, 1], [1, 2, 3, 4, 0]]), 13),
        (DFA([[1, 2, 3, 0, 1], [1, 2, 3, 4, 0]]), 14),
        (DFA([[1, 2, 3, 0, 0], [1, 2, 3, 4, 1]]), 12),
        (DFA([[4, 1, 2, 3, 0], [1, 2, 3, 0, 2]]), 11),
    ]
    for dfa, rt in cases:
        word = shortest_reset_word(dfa)
        assert len(word) == rt and dfa.is_reset_word(word)
        assert reset_lengths(dfa.delta[None]).tolist() == [rt]


def test_trivial_automata():
    assert shortest_reset_word(DFA([[0]])) == []
    assert reset_length(DFA([[0], [0]])) == 0
    assert reset_length(DFA([[0, 0]])) == 1
    assert reset_lengths([[[0]]]).tolist() == [0]


# -- is_synchronizing against brute force ----------------------------------------------
def _pair_mergeable(table, p, q):
    seen = {(p, q)}
    queue = deque([(p, q)])
    while queue:
        x, y = queue.popleft()
        if x == y:
            return True
        for row in table:
            nxt = (row[x], row[y])
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def test_is_synchronizing_brute_force():
    rng = np.random.default_rng(5)
    n_true = 0
    for n in range(1, 8):
        for table in random_tables(rng, 60, n, 2):
            t = table.tolist()
            brute = all(_pair_mergeable(t, p, q) for p, q in itertools.combinations(range(n), 2))
            assert is_synchronizing(DFA(table)) == brute
            n_true += brute
    assert 50 < n_true < 400


def test_is_synchronizing_large():
    assert is_synchronizing(cerny(300))
    perm = DFA([list(range(1, 300)) + [0], list(range(299, -1, -1))])
    assert not is_synchronizing(perm)


# -- limits and errors ------------------------------------------------------------------
def test_memory_budget_raises():
    with pytest.raises(MemoryBudgetExceeded, match="memory_gib"):
        shortest_reset_word(cerny(40), memory_gib=1e-7)
    with pytest.raises(MemoryBudgetExceeded):
        reset_length(DFA(np.random.default_rng(0).integers(0, 120, size=(2, 120))),
                     memory_gib=1e-6)


def test_tiny_budget_goes_depth_first_with_the_same_answer(monkeypatch):
    # Budgets just above the lookup tables leave no room for the breadth-first
    # levels: the search must finish depth-first with the same length.
    calls = []
    real = _bidir._depth_first

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_bidir, "_depth_first", spy)
    rng = np.random.default_rng(4)
    for n in (60, 150):
        for _ in range(1):
            dfa = DFA(rng.integers(0, n, size=(2, n)))
            want = len(shortest_reset_word(dfa))
            W = (n + 63) // 64
            tiny = (_bidir.table_bytes(n, 2, W) + 2 ** 22) / 2 ** 30
            for upper in (None, eppstein(dfa)):
                calls.clear()
                word = _bidir.bidirectional(dfa.delta, Limits(tiny, None), upper=upper)
                assert len(word) == want and dfa.is_reset_word(word)
                assert calls or n < 150, "the depth-first phase was not used"


@pytest.mark.parametrize("k", [2, 3])
def test_depth_first_in_many_small_chunks_agrees_with_breadth_first(k, monkeypatch):
    # The depth-first phase sizes its chunks to a share of what the levels
    # hold, not to the budget. Here every chunk has the smallest size (256
    # sets), so each level below is cut into many chunks and words are read
    # back across chunk offsets: the lengths must be the breadth-first ones.
    monkeypatch.setattr(_bidir_deep, "_DFS_ROOM_MIN", 0)
    monkeypatch.setattr(_bidir_deep, "_DFS_ROOM_SHARE", 1e-12)
    first_chunks = []
    real = _bidir_deep._DepthFirst._expand

    def spy(self, src, t):
        if t == 0:
            first_chunks.append(src.shape[0])
        return real(self, src, t)

    monkeypatch.setattr(_bidir_deep._DepthFirst, "_expand", spy)
    rng = np.random.default_rng(30 + k)
    several = 0
    for n in ((30, 60, 90) if k == 2 else (24, 40, 56)):
        for table in random_tables(rng, 3, n, k):
            dfa = DFA(table)
            with monkeypatch.context() as m:
                m.setattr(_bidir, "_DFS_PREFERENCE", 0.0)
                want = len(_bidir.bidirectional(dfa.delta, Limits(1.0, None)))
            for upper in (None, eppstein(dfa)):
                first_chunks.clear()
                word = _bidir.bidirectional(dfa.delta, Limits(1.0, None), upper=upper,
                                            force_dfs=True)
                assert len(word) == want and dfa.is_reset_word(word)
                assert max(first_chunks, default=0) <= _bidir_deep._DFS_MIN_CHUNK
                several += len(first_chunks) > 1
    assert several >= 6, "the levels were hardly cut into several chunks"


def test_going_depth_first_early_gives_the_breadth_first_length(monkeypatch):
    # With a high preference for the depth-first phase (2.5, measured on
    # random n = 300-500 in docs/results/solver.md) the search leaves the
    # breadth-first phase long before the budget: the length must be the one
    # of the breadth-first search run to the end, on one and two threads.
    rng = np.random.default_rng(8)
    for n, k in ((160, 2), (100, 3)):
        dfa = DFA(rng.integers(0, n, size=(k, n)))
        with monkeypatch.context() as m:
            m.setattr(_bidir, "_DFS_PREFERENCE", 0.0)
            ref = shortest_reset_word(dfa)
            assert _bidir.LAST_RUN["phase"] != "dfs"
        with monkeypatch.context() as m:
            m.setattr(_bidir, "_DFS_PREFERENCE", 2.5)
            for threads in (1, 2):
                word = shortest_reset_word(dfa, threads=threads)
                assert _bidir.LAST_RUN["phase"] == "dfs" and dfa.is_reset_word(word)
                assert len(word) == len(ref)


def test_large_breadth_first_continuations_go_depth_first_at_the_higher_preference(monkeypatch):
    # The switch to the higher preference depends on the predicted bytes of the
    # breadth-first sets to come: with the threshold at zero it applies however
    # small the search, even where the plain preference would never go deep.
    rng = np.random.default_rng(8)
    dfa = DFA(rng.integers(0, 160, size=(2, 160)))
    monkeypatch.setattr(_bidir, "_DFS_PREFERENCE", 0.0)
    ref = shortest_reset_word(dfa)
    assert _bidir.LAST_RUN["phase"] != "dfs"
    monkeypatch.setattr(_bidir, "_LARGE_BFS_BYTES", 0)
    for threads in (1, 2):
        word = shortest_reset_word(dfa, threads=threads)
        assert _bidir.LAST_RUN["phase"] == "dfs" and dfa.is_reset_word(word)
        assert len(word) == len(ref)
    monkeypatch.setattr(_bidir, "_DFS_PREFERENCE_LARGE", 0.0)
    shortest_reset_word(dfa)
    assert _bidir.LAST_RUN["phase"] != "dfs"


def test_budget_too_small_even_depth_first():
    dfa = DFA(np.random.default_rng(4).integers(0, 150, size=(2, 150)))
    with pytest.raises(MemoryBudgetExceeded, match="memory_gib"):
        shortest_reset_word(dfa, memory_gib=0.5 / 1024)


#: The extreme families with their known reset lengths.
FAMILIES = ((cerny, lambda n: (n - 1) ** 2),
            (wielandt, lambda n: n * n - 3 * n + 3),
            (h_series, lambda n: n * n - 4 * n + 6))


def _depth_first_words(dfa, uppers):
    """The search forced depth-first from its first levels, once per bound in ``uppers``."""
    for upper in uppers:
        yield _bidir.bidirectional(dfa.delta, Limits(1.0, None), upper=upper, force_dfs=True)


def _depth_first_agrees_with_bfs(rng, k, sizes, per_size, with_unbounded=True):
    """Forced depth-first words are shortest (against the plain BFS) on random automata,
    with a greedy bound and, if asked, without one; returns the synchronizing ones checked."""
    checked = 0
    for n in sizes:
        for table in random_tables(rng, per_size, n, k):
            dfa = DFA(table)
            ref = bfs_reset_word(dfa)
            if ref is None:
                continue
            uppers = (None, eppstein(dfa)) if with_unbounded else (eppstein(dfa),)
            for word in _depth_first_words(dfa, uppers):
                assert len(word) == len(ref) and dfa.is_reset_word(word)
            checked += 1
    return checked


def _depth_first_agrees_on_families(build, formula, sizes):
    for n in sizes:
        dfa = build(n)
        for word in _depth_first_words(dfa, (None, eppstein(dfa))):
            assert len(word) == formula(n) and dfa.is_reset_word(word)


@pytest.mark.parametrize("k", [2, 3])
def test_depth_first_phase_agrees_with_reference_bfs(k):
    # The depth-first phase from the first levels on, with no bound (it
    # deepens) and with a greedy bound (it tightens), on >= 1,000 automata each.
    assert _depth_first_agrees_with_bfs(np.random.default_rng(200 + k), k, range(2, 11),
                                        125) > 500


@pytest.mark.parametrize("build,formula", FAMILIES)
def test_depth_first_phase_on_families(build, formula):
    _depth_first_agrees_on_families(build, formula, (4, 6, 9))


def test_beam_bound_is_a_reset_word_and_never_below_rt():
    from automata.heuristics import _dynamic_beam_bound
    rng = np.random.default_rng(12)
    hits = 0
    for n in (24, 40, 70):
        for k in (2, 3):
            dfa = DFA(rng.integers(0, n, size=(k, n)))
            W = (n + 63) // 64
            word = _dynamic_beam_bound(dfa.delta, sync.KB._tables(dfa.delta, True, W))
            rt = reset_length(dfa)
            assert word is not None and dfa.is_reset_word(word) and len(word) >= rt
            hits += len(word) == rt
    assert hits >= 3  # optimal on most random automata


def test_pair_graph_chunks_agree():
    rng = np.random.default_rng(8)
    for n in range(2, 30):
        for table in random_tables(rng, 6, n, 2, perm_every=3):
            delta = DFA(table).delta
            whole = sync.K.pair_graph_synchronizing(delta, None, 1 << 40)
            assert sync.K.pair_graph_synchronizing(delta, None, 1) == whole
            if n <= 10:
                assert whole == (bfs_reset_word(DFA(table)) is not None)


def test_ctrl_c_stops_the_pair_graph():
    # 9,000 states: the pair graph alone takes seconds; SIGINT must end it promptly.
    # The child restores Python's Ctrl-C handler: started from a background job
    # of a non-interactive shell, it would inherit SIGINT ignored and never stop.
    code = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "import numpy as np, sys; from automata import DFA; "
            "from automata.sync import shortest_reset_word, is_synchronizing; "
            "from automata.families import cerny; "
            # Every kernel of the solve loaded before "ready", so the interrupt
            # lands in the pair graph, not in loading compiled code.
            "shortest_reset_word(cerny(30)); is_synchronizing(DFA([[1, 2, 0], [0, 1, 0]])); "
            "d = DFA(np.random.default_rng(1).integers(0, 9000, size=(2, 9000))); "
            "print('ready', flush=True); shortest_reset_word(d)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        assert proc.poll() is None, "finished before the interrupt: the test needs a larger automaton"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        # Generous for a loaded CI machine; uninterrupted, the solve runs far longer.
        assert time.monotonic() - t0 < 8.0
        assert "KeyboardInterrupt" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_pre_passes_respect_the_limits():
    # The pair graph and lookup tables of 2,000 states need ~10 MB: refused up front.
    big = DFA(np.random.default_rng(0).integers(0, 2000, size=(2, 2000)))
    with pytest.raises(MemoryBudgetExceeded, match="pair graph"):
        shortest_reset_word(big, memory_gib=0.005)
    # 4,000 states: the exact search is hopeless; every pass stops at the deadline.
    huge = DFA(np.random.default_rng(5).integers(0, 4000, size=(2, 4000)))
    shortest_reset_word(cerny(70))  # compiled before timing
    t0 = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        shortest_reset_word(huge, time_limit=3.0)
    assert time.monotonic() - t0 < 6.0


def test_time_limit_raises():
    with pytest.raises(TimeLimitExceeded, match="time limit"):
        shortest_reset_word(cerny(60), time_limit=1e-9)


def test_input_validation():
    with pytest.raises(AutomatonError):
        shortest_reset_word([[0, 1], [1, 0]])
    with pytest.raises(AutomatonError):
        is_synchronizing(np.zeros((2, 3), dtype=int))
    with pytest.raises(AutomatonError):
        reset_lengths(np.zeros((2, 3), dtype=int))
    with pytest.raises(AutomatonError):
        reset_lengths(np.zeros((1, 2, 65), dtype=int))
    with pytest.raises(AutomatonError):
        reset_lengths(np.full((1, 2, 3), 3))
    with pytest.raises(ValueError):
        shortest_reset_word(cerny(3), memory_gib=-1)
    with pytest.raises(ValueError):
        cerny_bound(0)


# -- Černý report ------------------------------------------------------------------------
def test_cerny_report_fields():
    rep = cerny_report(cerny(7))
    assert (rep.n_states, rep.n_letters, rep.synchronizing) == (7, 2, True)
    assert rep.reset_length == 36 and rep.cerny_bound == 36 and rep.ratio == 1.0
    assert not rep.exceeds_bound and not rep.rechecked
    assert cerny(7).is_reset_word(rep.reset_word)
    d = rep.to_dict()
    assert d["reset_length"] == 36 and isinstance(d["reset_word"], list)
    non = cerny_report(DFA([[1, 2, 0], [2, 0, 1]]))
    assert not non.synchronizing and non.reset_length is None and non.ratio is None


def test_cerny_report_rechecks_a_too_long_result(monkeypatch):
    dfa = DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]])  # Kari, rt 25 <= 25
    calls = []
    real = shortest_reset_word(dfa)

    def fake(dfa_, limits, threads=None):
        calls.append(1)
        return [0] * 30 + real  # still a reset word, but 55 > 25

    monkeypatch.setattr(sync, "_exact_word", fake)
    with pytest.warns(RuntimeWarning, match="Černý"):
        rep = cerny_report(dfa)
    assert calls and rep.rechecked
    assert rep.reset_length == 25 and not rep.exceeds_bound
    assert dfa.is_reset_word(rep.reset_word)


def test_cerny_report_quiet_within_bound():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = cerny_report(DFA([[1, 2, 1, 3, 4], [2, 1, 0, 3, 4], [0, 4, 3, 2, 1]]))
    assert rep.reset_length == 16 and not rep.rechecked


# -- private kernels with subtle invariants -----------------------------------------------
def test_run_merge_and_subset_query_kernels():
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(9)
    for trial in range(60):
        W = 1 + trial % 3
        rows = rng.integers(0, 6, size=(rng.integers(1, 40), W)).astype(np.uint64)
        rows |= np.uint64(1)  # no empty sets, as in the search
        a = rows[KB._sort_unique(rows)]
        more = rng.integers(0, 6, size=(rng.integers(1, 40), W)).astype(np.uint64) | np.uint64(1)
        b = more[KB._sort_unique(more)]
        data = np.zeros((len(a) + len(b) + 5, W), dtype=np.uint64)
        data[:len(a)] = a
        data[len(a):len(a) + len(b)] = b
        starts = np.array([0, len(a), len(a) + len(b)], dtype=np.int64)
        end = KB._merge_tail(data, starts, 2)
        want = sorted(set(map(tuple, a.tolist())) | set(map(tuple, b.tolist())))
        assert [tuple(r) for r in data[:end].tolist()] == want
        # Subset query on the implicit trie against brute force.
        mask = KB._covered(b, a, 64 * W, False)
        brute = [any(all((int(x) & ~int(y)) == 0 for x, y in zip(r, s)) for s in b) for r in a]
        assert mask.tolist() == brute


def _random_family(rng, m, W, density):
    """``m`` random bitsets of ``W`` words, each bit set with ``density``."""
    bits = rng.random((m, 64 * W)) < density
    return np.packbits(bits, axis=1, bitorder="little").view(np.uint64).reshape(m, W).copy()


def _brute_covered(S, C, proper):
    out = []
    for r in C:
        hit = False
        for s in S:
            inside = all((int(x) & ~int(y)) == 0 for x, y in zip(r, s))
            if inside and (not proper or any(int(x) != int(y) for x, y in zip(r, s))):
                hit = True
                break
        out.append(hit)
    return out


def test_subset_query_walk_against_brute_force():
    # The in-place trie walk on families of every density (sparse families
    # branch most), several widths and leaf sizes, queries sharing rows with
    # the family (equal rows: covered, but not properly), in all modes:
    # full mask, proper, first hit, and split between threads.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(11)
    for trial in range(120):
        W = 1 + trial % 3
        d_s, d_c = rng.choice([0.05, 0.3, 0.7, 0.95], size=2)
        S = _random_family(rng, int(rng.integers(1, 70)), W, d_s)
        S = S[KB._sort_unique(S)]
        C = _random_family(rng, int(rng.integers(1, 90)), W, d_c)
        C[: min(len(C), len(S)) // 2] = S[: min(len(C), len(S)) // 2]
        C_before = C.copy()
        for proper in (False, True):
            want = _brute_covered(S, C, proper)
            assert KB._covered(S, C, 64 * W, proper).tolist() == want
            for parts in (2, 3):
                got = KB._covered_parallel(S, C, 64 * W, proper, False, parts)
                assert got.tolist() == want
            first = KB._covered(S, C, 64 * W, proper, True)
            assert first.sum() == (1 if any(want) else 0)
            assert all(want[i] for i in np.flatnonzero(first))
            some = KB._covered_parallel(S, C, 64 * W, proper, True, 3)
            assert some.any() == any(want) and all(want[i] for i in np.flatnonzero(some))
        assert np.array_equal(C, C_before), "the query rows were changed"


def test_meet_is_the_same_pair_on_any_thread_count():
    # The pair (i, j) returned by the meet: j the smallest backward set
    # containing a forward set, i the first forward set inside it, whatever
    # the number of threads (so the reset word found does not depend on it).
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(12)
    hits = 0
    for trial in range(80):
        W = 1 + trial % 2
        full = np.full(W, np.uint64(2 ** 64 - 1), dtype=np.uint64)
        images = _random_family(rng, int(rng.integers(1, 60)), W, 0.15)
        keys = KB._complement(images, full)
        keys = keys[KB._sort_unique(keys)]
        level = _random_family(rng, int(rng.integers(1, 60)), W, 0.8)
        level = level[KB._sort_unique(level)]
        imgs = KB._complement(keys, full)
        inside = [[all((int(x) & ~int(y)) == 0 for x, y in zip(f, b)) for f in imgs] for b in level]
        want_j = next((j for j, row in enumerate(inside) if any(row)), -1)
        want = (-1, -1) if want_j < 0 else (inside[want_j].index(True), want_j)
        for threads in (1, 2):
            assert KB._meet(keys, level, full, 64 * W, threads) == want
        hits += want_j >= 0
    assert 10 < hits < 80


def test_meet_skips_backward_sets_smaller_than_every_image():
    # The meet leaves out backward sets with fewer states than the smallest
    # image (their complements have more bits than any forward key): the
    # pair must be the brute-force one whether the bound is given or
    # computed, with images and preimages of widely mixed sizes so that
    # about half of the backward sets are left out.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(15)
    skipped = hits = 0
    for trial in range(120):
        W = 1 + trial % 2
        n = 64 * W - int(rng.integers(0, 20))
        full = np.zeros(W, dtype=np.uint64)
        for q in range(n):
            full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
        images = _random_family(rng, int(rng.integers(1, 40)), W, rng.choice([0.3, 0.5])) & full
        images = images[[int(KB._row_sizes(images[i:i + 1])[0]) > 0 for i in range(len(images))]]
        if len(images) == 0:
            continue
        keys = KB._complement(images, full)
        keys = keys[KB._sort_unique(keys)]
        level = np.concatenate([_random_family(rng, 20, W, d) & full for d in (0.05, 0.4, 0.75)])
        level = level[KB._sort_unique(level)]
        imgs = KB._complement(keys, full)
        inside = [[all((int(x) & ~int(y)) == 0 for x, y in zip(f, b)) for f in imgs] for b in level]
        want_j = next((j for j, row in enumerate(inside) if any(row)), -1)
        want = (-1, -1) if want_j < 0 else (inside[want_j].index(True), want_j)
        largest = KB._largest_row(keys)
        assert largest == max(int(KB._row_sizes(keys[i:i + 1])[0]) for i in range(len(keys)))
        queries, sel = KB._meet_queries(level, full, largest)
        sizes = KB._row_sizes(level)
        assert sel.tolist() == [j for j in range(len(level)) if n - sizes[j] <= largest]
        assert np.array_equal(queries, KB._complement(level[sel], full))
        skipped += len(level) - len(sel)
        for threads in (1, 2):
            assert KB._meet(keys, level, full, 64 * W, threads) == want
            assert KB._meet(keys, level, full, 64 * W, threads, largest) == want
        hits += want_j >= 0
    assert 10 < hits < 110 and skipped > 1000


def test_threaded_search_finds_the_same_word():
    # Levels above the threading threshold: the subset queries run split
    # between two threads, and the word must be the very same.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(13)
    S = _random_family(rng, 3000, 2, 0.9)
    S = S[KB._sort_unique(S)]
    C = _random_family(rng, KB._PARALLEL_MIN_ROWS + 500, 2, 0.8)
    one = KB._covered(S, C, 128, False)
    assert 0 < one.sum() < len(C)
    assert np.array_equal(KB._covered_parallel(S, C, 128, False, False, 2), one)
    level = KB._complement(C, np.full(2, np.uint64(2 ** 64 - 1), dtype=np.uint64))
    level = level[KB._sort_unique(level)]
    full = np.full(2, np.uint64(2 ** 64 - 1), dtype=np.uint64)
    assert KB._meet(S, level, full, 128, 2) == KB._meet(S, level, full, 128, 1) != (-1, -1)
    for seed in range(2):
        dfa = DFA(np.random.default_rng(seed).integers(0, 90, size=(2, 90)))
        words = [_bidir.bidirectional(dfa.delta, Limits(1.0, None), threads=t) for t in (1, 2)]
        assert words[0] == words[1] and dfa.is_reset_word(words[0])
        assert len(words[0]) == len(shortest_reset_word(dfa))


def test_sort_and_membership_kernels_against_numpy():
    # Families above the radix-sort threshold (and below it), with many
    # repeats and rows equal on word 0, sorted like numpy's lexsort; the
    # galloping membership test against Python sets, with runs of S much
    # longer and much shorter than C.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(14)
    for trial, m in enumerate((50, KB._RADIX_MIN_ROWS + 3000)):
        for W in (1, 3):
            rows = rng.integers(0, 2 ** 63, size=(m, W), dtype=np.uint64)
            rows[::3, 0] = rows[1::3, 0][: len(rows[::3])]  # equal first words
            rows[::5] = rows[0]  # repeats
            rows[::7, 0] >>= np.uint64(40)  # high bytes all zero in part of the keys
            keep = KB._sort_unique(rows)
            want = np.unique(rows, axis=0)  # lexicographic, word 0 first
            assert np.array_equal(rows[keep], want)
            for S in (want[::2], want[::97], want[:1]):
                C = want[1::3]
                stored = set(map(tuple, S.tolist()))
                assert KB._member(S, C).tolist() == [tuple(r) in stored for r in C.tolist()]


@pytest.mark.parametrize("k", [2, 3])
def test_bound_and_last_length_check_agree_with_reference_bfs(k, monkeypatch):
    # With a bound one above rt the search must find rt, by a breadth-first
    # meet or by the last unstored step (either side expanded: both must
    # occur); with the bound equal to rt it proves it optimal and returns it.
    from automata import _kernels_bidir as KB
    real = KB._expand
    sides = set()

    def spy(level, tab, drop_empty):
        sides.add("backward" if drop_empty else "forward")
        return real(level, tab, drop_empty)

    monkeypatch.setattr(KB, "_expand", spy)
    rng = np.random.default_rng(300 + k)
    phases = set()
    checked = 0
    for n in range(2, 11):
        for table in random_tables(rng, 110, n, k):
            dfa = DFA(table)
            ref = bfs_reset_word(dfa)
            if ref is None or not ref:
                continue
            word = _bidir.bidirectional(dfa.delta, Limits(1.0, None), upper=list(ref) + [0])
            assert len(word) == len(ref) and dfa.is_reset_word(word)
            phases.add(_bidir.LAST_RUN["phase"])
            word = _bidir.bidirectional(dfa.delta, Limits(1.0, None), upper=list(ref))
            assert len(word) == len(ref) and dfa.is_reset_word(word)
            phases.add(_bidir.LAST_RUN["phase"])
            checked += 1
    assert checked > 500 and {"last", "bound"} <= phases
    assert sides == {"backward", "forward"}


def test_merge_cascade_mirrors_the_stored_runs():
    # The memory estimate predicts the runs' merges in Python: pushing
    # distinct keys (no repeats to drop), its run sizes must be those of the
    # numba kernel after every push.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(11)
    keys = np.unique(rng.integers(0, 2 ** 62, size=6000, dtype=np.uint64)).reshape(-1, 1)
    keys = keys[rng.permutation(keys.shape[0])]
    runs = np.empty((64, 1), dtype=np.uint64)
    starts = np.zeros(130, dtype=np.int64)
    nruns, sizes, pos = 0, [], 0
    while pos < keys.shape[0]:
        m = int(rng.integers(1, 400))
        batch = np.sort(keys[pos:pos + m], axis=0)
        pos += batch.shape[0]
        sizes, largest = _bidir.merge_cascade(sizes, batch.shape[0])
        runs, nruns = KB._push_run(runs, starts, nruns, batch)
        assert sizes == [int(starts[r + 1] - starts[r]) for r in range(nruns)]
        assert largest <= sum(sizes)
    merged = runs[:starts[nruns]]
    assert nruns == len(sizes) and merged.shape[0] == keys.shape[0]


@pytest.mark.parametrize("k", [2, 3])
def test_unstored_forward_level_before_depth_first_agrees_with_reference_bfs(k, monkeypatch):
    # With a bound, the depth-first phase first builds forward levels without
    # stored runs when they pay; here always (gain 0), as far as the bound
    # allows. The words must stay shortest (against the plain BFS) on >= 1,000
    # automata.
    monkeypatch.setattr(_bidir_deep, "_FORWARD_STEP_GAIN", 0.0)
    taken = []
    real = _bidir_deep._unstored_forward_steps

    def spy(*args):
        out = real(*args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(_bidir_deep, "_unstored_forward_steps", spy)
    checked = _depth_first_agrees_with_bfs(np.random.default_rng(300 + k), k, range(3, 11), 140,
                                           with_unbounded=False)
    assert checked > 500
    assert sum(taken) > 40, "the unstored forward level was hardly built"


def test_dominated_in_family_against_brute_force():
    # The cheap domination pruning: a row is dropped iff one of the R rows
    # with the most bits (stable order) contains it and is not itself (of
    # equal rows among the reducers the first stays). Whatever R, every
    # dropped row lies inside a kept row, so pruning loses no preimage.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(16)
    dropped = 0
    for trial in range(300):
        W = 1 + trial % 3
        m = int(rng.integers(1, 60))
        X = _random_family(rng, m, W, rng.choice([0.05, 0.2, 0.5]))
        X[rng.integers(0, m, size=m // 4)] = X[rng.integers(0, m, size=m // 4)]  # repeats
        R = int(rng.choice([1, 3, 8, 64]))
        dead = KB._dominated_in_family(X, R)
        sizes = [sum(bin(int(x)).count("1") for x in row) for row in X]
        red = list(np.argsort(-np.array(sizes), kind="mergesort")[:R])
        inside = lambda a, b: all((int(x) & ~int(y)) == 0 for x, y in zip(X[a], X[b]))
        for i in range(m):
            want = False
            for r, j in enumerate(red):
                if j == i or not inside(i, j) or not sizes[i]:
                    continue
                if i not in red or sizes[j] > sizes[i] or r < red.index(i):
                    want = True
            assert dead[i] == want, (trial, i)
            if dead[i]:
                assert any(inside(i, j) for j in range(m) if not dead[j])
        dropped += int(dead.sum())
    assert dropped > 500


@pytest.mark.parametrize("k", [2, 3])
def test_reducer_pruning_agrees_with_reference_bfs(k, monkeypatch):
    # The domination pruning of depth-first chunks by their largest sets,
    # forced on tiny automata (a handful of reducers from the first set on):
    # on >= 1,000 automata per alphabet (n <= 10) the words must stay
    # shortest, with and without a bound.
    monkeypatch.setattr(_bidir_deep, "_REDUCE_MIN_ROWS", 1)
    monkeypatch.setattr(_bidir_deep, "_DFS_REDUCERS_NEAR", 6)
    monkeypatch.setattr(_bidir_deep, "_DFS_REDUCERS_FAR", 16)
    from automata import _kernels_bidir as KB
    real = KB._dominated_in_family
    dropped = []

    def spy(X, reducers):
        dead = real(X, reducers)
        dropped.append(int(dead.sum()))
        return dead

    monkeypatch.setattr(KB, "_dominated_in_family", spy)
    assert _depth_first_agrees_with_bfs(np.random.default_rng(400 + k), k, range(2, 11),
                                        130) > 500
    assert sum(dropped) > 20, "the depth-first phase hardly pruned"
    for build, formula in FAMILIES:
        _depth_first_agrees_on_families(build, formula, (4, 7, 12))


@pytest.mark.parametrize("k", [2, 3])
def test_depth_first_on_the_explicit_trie_agrees_with_reference_bfs(k, monkeypatch):
    # The depth-first phase with its meet on the explicit trie of the forward
    # keys, forced from the first set on: on >= 1,000 automata per alphabet
    # (n <= 10) the words must stay shortest, with and without a bound, and
    # on the families.
    from automata import _kernels_trie
    monkeypatch.setattr(_bidir_deep, "_TRIE_MIN_QUERIES_PER_KEY", 0)
    built = []
    real = _kernels_trie.SubsetTrie

    class Spy(real):
        def __init__(self, keys):
            super().__init__(keys)
            built.append(len(keys))

    monkeypatch.setattr(_bidir_deep, "SubsetTrie", Spy)
    assert _depth_first_agrees_with_bfs(np.random.default_rng(500 + k), k, range(2, 11),
                                        130) > 500
    assert len(built) > 30, "the trie was hardly used"
    for build, formula in FAMILIES:
        _depth_first_agrees_on_families(build, formula, (4, 7, 12))


def test_gather_rows_in_place_matches_a_gather():
    # Paths, cycles and fixed points of the index map, over random injective maps.
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(21)
    for trial in range(300):
        m = int(rng.integers(1, 200))
        W = 1 + trial % 3
        X = rng.integers(0, 2 ** 63, size=(m, W), dtype=np.uint64)
        L = int(rng.integers(0, m + 1))
        idx = rng.permutation(m)[:L]
        if trial % 5 == 0:
            idx = np.sort(idx)
        want = X[idx].copy()
        KB._gather_rows_in_place(X, idx)
        assert np.array_equal(X[:L], want), trial


def test_expand_keys_is_the_complement_of_the_expanded_level():
    from automata import _kernels_bidir as KB
    rng = np.random.default_rng(22)
    for n in (5, 64, 70, 130):
        W = (n + 63) // 64
        delta = rng.integers(0, n, size=(2, n)).astype(np.int32)
        tab = KB._tables(delta, False, W)
        full = np.zeros(W, dtype=np.uint64)
        for q in range(n):
            full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
        level = _random_family(rng, 50, W, 0.3) & full
        level = level[KB._row_sizes(level) > 0]
        want, parent, letter = KB._expand(level, tab, False)
        got, gparent, gletter = KB._expand_keys(KB._complement(level, full), tab, full)
        assert np.array_equal(got, KB._complement(want, full))
        assert np.array_equal(gparent, parent) and np.array_equal(gletter, letter)
