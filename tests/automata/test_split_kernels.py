"""The exact search's kernels split across threads (automata._kernels_split, the striped
meet of automata._kernels_bidir) against their one-thread counterparts, and the whole
search on one, two and three threads against the plain BFS."""
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from typer.testing import CliRunner

import automata._kernels_bidir as KB
import automata._kernels_split as KS
from automata import DFA, _bidir
from automata._limits import Limits
from automata.families import FAMILIES, build_family
from automata.reference import bfs_reset_word
from automata.sync import shortest_reset_word

THREADS = numba.config.NUMBA_NUM_THREADS


def _families(rng, count, width, skew):
    """Random families with many repeated rows; with ``skew`` the first words take few
    values (long runs of equal first words, as in keys of real levels)."""
    pool = rng.integers(0, 2**63, size=(max(1, count // 3), width), dtype=np.uint64)
    rows = pool[rng.integers(0, pool.shape[0], count)]
    if skew:
        rows[:, 0] &= np.uint64(0xF0)
    return np.ascontiguousarray(rows)


def _full(n):
    full = np.zeros((n + 63) // 64, dtype=np.uint64)
    for q in range(n):
        full[q >> 6] |= np.uint64(1) << np.uint64(q & 63)
    return full


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_sort_unique_split_keeps_the_rows_the_one_thread_sort_keeps(parts):
    rng = np.random.default_rng(parts)
    for trial in range(40):
        count = int(rng.integers(1, 6000))
        rows = _families(rng, count, int(rng.integers(1, 4)), skew=trial % 2 == 0)
        one = KB._sort_unique(rows)
        assert np.array_equal(KS._sort_unique_split(rows, parts), one)
        # The sort is stable: of equal rows the first in the input is kept.
        kept = {tuple(rows[i]): i for i in one}
        for i in range(count):
            assert kept[tuple(rows[i])] <= i
        assert [tuple(r) for r in rows[one]] == sorted(kept)


def test_member_take_and_expand_split_match_one_thread():
    rng = np.random.default_rng(7)
    for trial in range(30):
        parts = int(rng.integers(2, 5))
        width = int(rng.integers(1, 4))
        rows = _families(rng, int(rng.integers(1, 5000)), width, skew=trial % 3 == 0)
        rows = rows[KB._sort_unique(rows)]
        stored = rows[rng.random(rows.shape[0]) < 0.4]
        assert np.array_equal(KS._member_split(stored, rows, parts), KB._member(stored, rows))
        idx = rng.integers(0, rows.shape[0], 700)
        assert np.array_equal(KS._take_rows_split(rows, idx, parts), rows[idx])
        n = 64 * width - int(rng.integers(0, 60))
        k = int(rng.integers(2, 4))
        delta = rng.integers(0, n, size=(k, n)).astype(np.int32)
        level = rows[:1500] & np.uint64(0x0F0F0F0F0F0F0F0F) & _full(n)
        for inverse in (False, True):
            tab = KB._tables(delta, inverse, width)
            for drop_empty in (False, True):
                for got, want in zip(KS._expand_split(level, tab, drop_empty, parts),
                                     KB._expand(level, tab, drop_empty)):
                    assert np.array_equal(got, want)


def test_meet_queries_and_striped_walk_match_one_thread():
    rng = np.random.default_rng(11)
    for trial in range(20):
        parts = int(rng.integers(2, 5))
        n = int(rng.integers(20, 130))
        full = _full(n)
        sets = (_families(rng, 3000, full.shape[0], skew=False)
                & _families(rng, 3000, full.shape[0], skew=False) & full)
        keys = sets[:1500][KB._sort_unique(sets[:1500])]
        level = np.ascontiguousarray(~sets[1500:] & full)
        largest = KB._largest_row(keys)
        for got, want in zip(KB._meet_queries_parallel(level, full, largest, parts),
                             KB._meet_queries(level, full, largest)):
            assert np.array_equal(got, want)
        queries = KB._meet_queries(level, full, largest)[0]
        assert np.array_equal(KB._covered_parallel(keys, queries, 64 * full.shape[0], False,
                                                   False, parts),
                              KB._covered(keys, queries, 64 * full.shape[0], False, False))


@pytest.fixture
def split_everything(monkeypatch):
    """Split every kernel call, however small, so that tiny automata run the split paths."""
    monkeypatch.setattr(KS, "_SPLIT_MIN_ROWS", 1)
    monkeypatch.setattr(KB, "_PARALLEL_MIN_ROWS", 1)


@pytest.mark.parametrize("k", [2, 3])
def test_split_search_gives_the_one_thread_word_on_random_automata(k, split_everything):
    rng = np.random.default_rng(500 + k)
    checked = 0
    for n in range(2, 13):
        for table in rng.integers(0, n, size=(25, k, n)):
            dfa = DFA(table)
            ref = bfs_reset_word(dfa)
            if ref is None:
                continue
            words = {t: shortest_reset_word(dfa, threads=t) for t in (1, 2, 3)}
            assert len(words[1]) == len(ref) and dfa.is_reset_word(words[1])
            assert words[2] == words[1] and words[3] == words[1]
            if ref:
                # The last unstored step and the depth-first phase, split as well.
                last = _bidir.bidirectional(dfa.delta, Limits(1.0, None), upper=list(ref) + [0],
                                            threads=2)
                deep = _bidir.bidirectional(dfa.delta, Limits(1.0, None), force_dfs=True,
                                            threads=2)
                assert len(last) == len(deep) == len(ref)
                assert dfa.is_reset_word(last) and dfa.is_reset_word(deep)
            checked += 1
    assert checked > 150


@pytest.mark.parametrize("name", ["cerny", "wielandt", "d_prime", "d_double_prime", "h_series"])
def test_split_search_on_the_families(name, split_everything):
    family = FAMILIES[name]
    for n in range(max(family.min_n, 3), 11):
        dfa = build_family(name, n)
        one = shortest_reset_word(dfa, threads=1)
        assert len(one) == family.reset_length(n)
        assert shortest_reset_word(dfa, threads=2) == one


@pytest.mark.skipif(THREADS < 2, reason="numba runs on one thread here")
def test_two_threads_find_the_same_word_on_levels_past_the_split_threshold():
    # Random binary n = 200: levels of about 88,000 sets, past _SPLIT_MIN_ROWS, so the
    # production thresholds split the steps, the sorts and the meets.
    rng = np.random.default_rng(200)
    dfa = DFA(rng.integers(0, 200, size=(2, 200)))
    one = shortest_reset_word(dfa, threads=1)
    assert max(size for _, _, size, _, _ in _bidir.LAST_RUN["steps"]) >= KS._SPLIT_MIN_ROWS
    two = shortest_reset_word(dfa, threads=2)
    assert two == one and dfa.is_reset_word(two)


def test_threads_argument_is_checked():
    from automata import AutomatonError

    dfa = build_family("cerny", 4)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(AutomatonError, match="threads"):
            shortest_reset_word(dfa, threads=bad)


def test_reset_word_command_threads(tmp_path):
    from seqvae.cli import app

    path = tmp_path / "c5.txt"
    runner = CliRunner()
    assert runner.invoke(app, ["automata", "family", "cerny", "-n", "6", "-o", str(path)]).exit_code == 0
    one = runner.invoke(app, ["automata", "reset-word", str(path), "--threads", "1"])
    two = runner.invoke(app, ["automata", "reset-word", str(path), "--threads", "2"])
    assert one.exit_code == two.exit_code == 0
    assert "length 25 (shortest)" in one.stdout and one.stdout == two.stdout
    bad = runner.invoke(app, ["automata", "reset-word", str(path), "--threads", "0"])
    assert bad.exit_code != 0 and "--threads must be at least 1" in bad.output
    assert "Traceback" not in bad.output


_FREED_BLOCK = """
import numpy as np, sys
from automata._malloc import fixed_mmap_threshold, one_malloc_arena
if sys.argv[1] == "tuned":
    assert fixed_mmap_threshold() is True and fixed_mmap_threshold() is True
    assert one_malloc_arena() is True and one_malloc_arena() is True
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
big = np.ones(30 << 20, dtype=np.uint8); del big  # a mapped block freed: glibc's threshold slides up
block = np.ones(24 << 20, dtype=np.uint8)
above = np.ones(64, dtype=np.uint8)  # a live block above it on the heap
before = rss(); del block
print((before - rss()) >> 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tuned_malloc_returns_freed_blocks_to_the_system():
    # Without the fixed threshold, a 24 MiB block freed below a live one stays
    # resident (what carried two threads past the budget); with it, it is unmapped.
    def freed_mib(mode):
        out = subprocess.run([sys.executable, "-c", _FREED_BLOCK, mode], capture_output=True,
                             text=True, check=True, env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")})
        return int(out.stdout.split()[-1])

    assert freed_mib("tuned") >= 23
    assert freed_mib("default") <= 1


_BUDGET_RUN = """
import resource, sys
from automata import DFA
from automata.sync import shortest_reset_word
sys.path.insert(0, sys.argv[2])
from bench_reset import random_table
threads = int(sys.argv[1])
shortest_reset_word(DFA(random_table(24, 2, 0)), threads=threads)  # compiled or loaded
floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
word = shortest_reset_word(DFA(random_table(250, 2, 0)), memory_gib=0.25, threads=threads)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(word), (peak - floor) / (0.25 * 2**20))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or THREADS < 2,
                    reason="resident sets as Linux reports them; two numba threads")
def test_resident_set_stays_within_the_memory_budget_on_one_and_two_threads():
    # Random binary n = 250 seed 0 at 0.25 GiB goes depth-first. Before the
    # store phase of a step was counted whole (and glibc's threshold fixed),
    # one thread held 1.24 times the budget above the interpreter's floor.
    scripts = str(Path(__file__).resolve().parents[2] / "scripts")
    runs = [subprocess.Popen([sys.executable, "-c", _BUDGET_RUN, str(t), scripts],
                             stdout=subprocess.PIPE, text=True) for t in (1, 2)]
    for run in runs:
        out, _ = run.communicate(timeout=300)
        assert run.returncode == 0
        length, share = out.split()
        assert int(length) == 45
        assert float(share) <= 1.05, f"arrays held {float(share):.2f} times the budget"
