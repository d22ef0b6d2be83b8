"""The neighbourhoods, the copy move and the neighbourhood closure of ``evolve``."""
import numpy as np
import pytest

from automata import DFA
from automata.canon import canonical_key
from automata.families import cerny, wielandt
from seqvae.errors import SearchError
from seqvae.search import SearchContext, h_level, search_extreme
from seqvae.search.baselines import (EvolutionarySearch, copy_letter, copy_neighbourhood,
                                     neighbourhood, swap_neighbourhood)

from .search_helpers import CountingEvaluator, interrupted_then_resumed


def _random_tables(rng, m, k, n):
    return rng.integers(0, n, size=(m, k, n)).astype(np.int32)


@pytest.mark.parametrize("k,n", [(1, 4), (2, 5), (3, 4)])
def test_neighbourhood_is_every_single_redirection_once(k, n):
    table = _random_tables(np.random.default_rng(k * n), 1, k, n)[0]
    moved = neighbourhood(table)
    assert moved.shape == (k * n * (n - 1), k, n)
    assert len({m.tobytes() for m in moved}) == len(moved)
    assert ((moved != table[None]).sum(axis=(1, 2)) == 1).all()


def test_swap_neighbourhood_exchanges_two_images():
    table = np.array([[1, 2, 0, 0], [3, 3, 1, 2]])
    moved = swap_neighbourhood(table)
    # pairs of states with different images: letter a 5 of 6, letter b 5 of 6
    assert len(moved) == 10 and len({m.tobytes() for m in moved}) == 10
    for m in moved:
        diff = np.argwhere(m != table)
        assert len(diff) == 2 and diff[0, 0] == diff[1, 0]
        assert sorted(m[diff[0, 0]]) == sorted(table[diff[0, 0]])


@pytest.mark.parametrize("k,n", [(2, 5), (3, 4)])
def test_copy_neighbourhood_copies_a_letter_and_moves_one_arrow(k, n):
    table = _random_tables(np.random.default_rng(7), 1, k, n)[0]
    moved = copy_neighbourhood(table)
    assert moved.shape == (k * (k - 1) * n * (n - 1), k, n)
    assert len({m.tobytes() for m in moved}) == len(moved)
    for m in moved:
        # exactly one letter changed, and it is one redirection away from another letter
        changed = [a for a in range(k) if (m[a] != table[a]).any()]
        assert len(changed) <= 1
        target = changed[0] if changed else None
        if target is not None:
            assert any((m[target] != table[s]).sum() == 1 for s in range(k) if s != target)


def test_wielandt_is_one_copy_move_from_cerny():
    keys = {canonical_key(DFA(t)) for t in copy_neighbourhood(cerny(8).delta)}
    assert canonical_key(wielandt(8)) in keys
    assert canonical_key(wielandt(8)) not in {canonical_key(DFA(t))
                                               for t in neighbourhood(cerny(8).delta)}


def test_copy_letter_operator_respects_the_mask():
    rng = np.random.default_rng(3)
    tables = _random_tables(rng, 30, 2, 6)
    mask = np.arange(30) % 3 == 0
    out = copy_letter(rng, tables, mask)
    np.testing.assert_array_equal(out[~mask], tables[~mask])
    for row in out[mask]:
        assert (row[0] != row[1]).sum() == 1


def test_closure_enumerates_every_neighbourhood_at_the_level_exactly_once():
    n, margin = 5, 2
    ev = CountingEvaluator()
    ctx = SearchContext(n, 2, budget=100_000, rng=np.random.default_rng(0), evaluator=ev)
    search = EvolutionarySearch(ctx, closure_margin=margin, copy_moves=True, closure_per_step=1)
    canon, rts = ctx.evaluate(cerny(n).delta[None])
    search.seed(canon, rts)
    level = h_level(n) - margin
    for _ in range(10_000):
        if not (search._open() & (ctx.archive.rts >= level)).any():
            break
        search._close()
    else:
        pytest.fail("the closure did not finish")
    assert len(ev.seen) == len(set(ev.seen)) == ctx.evaluations  # no class evaluated twice
    known = set(ev.seen)
    slow = np.flatnonzero(ctx.archive.rts >= level)
    assert len(slow) > 1 and search.expanded[slow].all()
    for i in slow:  # closed: every neighbour of every member at the level is known
        table = ctx.archive.tables[i].astype(np.int32)
        moves = np.concatenate([neighbourhood(table), swap_neighbourhood(table),
                                copy_neighbourhood(table)])
        assert {canonical_key(DFA(t)) for t in moves} <= known
    assert search.closure_evals == ctx.evaluations - 1


def test_closure_options_are_checked():
    ctx = SearchContext(5, 2, budget=10, rng=np.random.default_rng(0))
    with pytest.raises(SearchError, match="closure_margin"):
        EvolutionarySearch(ctx, closure_margin=-1)
    with pytest.raises(SearchError, match="closure_per_step"):
        EvolutionarySearch(ctx, closure_per_step=0)


def test_closure_and_copy_runs_count_distinct_only_and_resume_exactly(tmp_path):
    opts = {"copy_moves": True, "closure_margin": 3, "patience": 2}
    ev = CountingEvaluator()
    full = search_extreme(6, 2, "evolve", budget=3000, seed=2, evaluator=ev,
                          out_dir=tmp_path / "a", method_options=opts)
    assert len(ev.seen) == len(set(ev.seen)) == 3000
    resumed = interrupted_then_resumed(6, "evolve", stop_after=2100, budget=3000, seed=2,
                                       out_dir=tmp_path / "b", method_options=opts)
    np.testing.assert_array_equal(full.tables, resumed.tables)
    np.testing.assert_array_equal(full.rts, resumed.rts)
    plain = search_extreme(6, 2, "evolve", budget=3000, seed=2, write_results=False)
    assert not np.array_equal(plain.tables, full.tables)


def test_defaults_are_on_at_every_size_and_the_old_search_stays_available():
    for n in (5, 8, 9, 12):
        ev = EvolutionarySearch(SearchContext(n, 2, 10, np.random.default_rng(0)))
        assert (ev.copy_moves, ev.closure_margin, ev.restart_kind) == (True, 4, "high-rank")
    off = EvolutionarySearch(SearchContext(9, 2, 10, np.random.default_rng(0)),
                             copy_moves=False, closure_margin=None, restart_kind="uniform")
    assert (off.copy_moves, off.closure_margin, off.restart_kind) == (False, None, "uniform")
    old = {"copy_moves": False, "closure_margin": None, "restart_kind": "uniform"}
    a = search_extreme(6, 2, "evolve", budget=1500, seed=1, write_results=False,
                       method_options=old)
    b = search_extreme(6, 2, "evolve", budget=1500, seed=1, write_results=False)
    assert not np.array_equal(a.tables, b.tables)


def test_cli_closure_options(tmp_path):
    from typer.testing import CliRunner

    from seqvae.cli import app

    runner = CliRunner()
    help_text = runner.invoke(app, ["search-extreme", "--help"]).output
    for flag in ("--closure-margin", "--copy-moves", "--restarts"):
        assert flag in help_text
    bad = runner.invoke(app, ["search-extreme", "-n", "5", "--restarts", "sideways"])
    assert bad.exit_code == 2 and "--restarts" in bad.output
    bad = runner.invoke(app, ["search-extreme", "-n", "5", "-m", "random",
                              "--closure-margin", "2"])
    assert bad.exit_code == 2 and "only applies" in bad.output
    ok = runner.invoke(app, ["search-extreme", "-n", "5", "-b", "300", "--closure-margin", "-1",
                             "--no-copy-moves", "--restarts", "uniform", "--json"])
    assert ok.exit_code == 0, ok.output
    ok = runner.invoke(app, ["search-extreme", "-n", "5", "-b", "300", "-m", "evolve",
                             "--closure-margin", "1", "--out", str(tmp_path), "--json"])
    assert ok.exit_code == 0 and (tmp_path / "candidates.parquet").exists()


def test_high_rank_tables_have_letters_of_rank_at_least_n_minus_2():
    from seqvae.search.baselines import high_rank_tables

    n, k = 7, 3
    tables = high_rank_tables(300, n, k, np.random.default_rng(5))
    assert tables.shape == (300, k, n) and tables.min() >= 0 and tables.max() < n
    ranks = np.array([[len(set(row)) for row in t] for t in tables])
    assert ranks.min() >= n - 2
    assert (ranks < n).any(axis=1).all()          # never all permutations
    assert set(ranks.ravel()) == {n - 2, n - 1, n}
