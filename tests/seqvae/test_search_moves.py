"""The neighbourhoods, the copy move and the neighbourhood closure of ``evolve``."""
import numpy as np
import pytest

from automata import DFA
from automata.canon import canonical_key
from automata.families import cerny, wielandt
from seqvae.errors import SearchError
from seqvae.hunt.search import SearchContext, h_level, search_extreme
from seqvae.hunt.search.evolve import EvolutionarySearch
from seqvae.hunt.search.moves import (
    copy_letter,
    copy_neighbourhood,
    neighbourhood,
    swap_neighbourhood,
)

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
    from seqvae.hunt.search.moves import high_rank_tables

    n, k = 7, 3
    tables = high_rank_tables(300, n, k, np.random.default_rng(5))
    assert tables.shape == (300, k, n) and tables.min() >= 0 and tables.max() < n
    ranks = np.array([[len(set(row)) for row in t] for t in tables])
    assert ranks.min() >= n - 2
    assert (ranks < n).any(axis=1).all()          # never all permutations
    assert set(ranks.ravel()) == {n - 2, n - 1, n}


@pytest.mark.parametrize("k,n", [(2, 4), (3, 3)])
def test_lift_neighbourhood_adds_one_state_taking_over_one_arrow(k, n):
    from seqvae.hunt.search.lifts import lift_neighbourhood

    table = _random_tables(np.random.default_rng(3 * k + n), 1, k, n)[0]
    lifts = lift_neighbourhood(table)
    n_new = n + 1
    # per arrow (a, q) into t and per letter c copied from t (twice when t loops under c)
    expected = sum((1 + int(table[c, table[a, q]] == table[a, q])) * n_new ** (k - 1)
                   for a in range(k) for q in range(n) for c in range(k))
    assert lifts.shape == (expected, k, n_new)
    # the same set as a brute force over every arrow taken over and every image of s
    import itertools

    brute = set()
    for a, q in itertools.product(range(k), range(n)):
        t = table[a, q]
        for images in itertools.product(range(n_new), repeat=k):
            if any(images[c] == table[c, t] or (table[c, t] == t and images[c] == n)
                   for c in range(k)):
                lift = np.zeros((k, n_new), dtype=np.int32)
                lift[:, :n] = table
                lift[a, q] = n
                lift[:, n] = images
                brute.add(lift.tobytes())
    assert {m.astype(np.int32).tobytes() for m in lifts} == brute
    for lift in lifts:
        taken = np.argwhere(lift[:, :n] != table)
        assert len(taken) == 1                       # one arrow of the old states moved ...
        a, q = taken[0]
        assert lift[a, q] == n                       # ... onto the new state s
        t = table[a, q]
        # s goes where t goes under some letter (or loops where t loops): merging s
        # back into t gives the original automaton
        assert any(lift[c, n] == table[c, t] or (table[c, t] == t and lift[c, n] == n)
                   for c in range(k))


def test_cerny_is_a_lift_of_the_smaller_cerny_automaton():
    from seqvae.hunt.search.lifts import lift_neighbourhood

    keys = {canonical_key(DFA(t)) for t in lift_neighbourhood(cerny(7).delta)}
    assert canonical_key(cerny(8)) in keys


def test_lift_sources_keep_one_size_slowest_first_and_check_it():
    from seqvae.hunt.search.lifts import lift_sources

    mixed = [DFA([[1, 2, 3, 0], [0, 1, 2, 0]]), cerny(4), wielandt(4), cerny(5),
             DFA([[1, 0, 2, 3], [0, 1, 2, 3]])]          # the last does not synchronize
    tables = lift_sources(mixed, 5, 2)
    assert tables.shape == (3, 2, 4)
    from automata.sync import reset_lengths

    rts = reset_lengths(tables)
    assert rts[0] == 9 and list(rts) == sorted(rts, reverse=True)
    with pytest.raises(SearchError, match="nothing to lift"):
        lift_sources(mixed, 7, 2)
    with pytest.raises(SearchError, match="closure_ranked"):
        EvolutionarySearch(SearchContext(5, 2, 10, np.random.default_rng(0)),
                           lift_from=mixed, closure_ranked=True)
    with pytest.raises(SearchError, match="lift_share"):
        EvolutionarySearch(SearchContext(5, 2, 10, np.random.default_rng(0)),
                           lift_from=mixed, lift_share=0)


def test_lifts_find_cerny_from_the_smaller_one_and_resume_exactly(tmp_path):
    opts = {"lift_from": [cerny(6), wielandt(6)], "lift_share": 0.5, "patience": 2}
    ev = CountingEvaluator()
    full = search_extreme(7, 2, "evolve", budget=2500, seed=4, evaluator=ev,
                          out_dir=tmp_path / "a", method_options=opts)
    assert len(ev.seen) == len(set(ev.seen)) == 2500
    # C_7 is among the lifts of C_6, which go first: found within the first lifts
    assert full.rts.max() == 36 and int(np.argmax(full.rts == 36)) < 700
    resumed = interrupted_then_resumed(7, "evolve", stop_after=1700, budget=2500, seed=4,
                                       out_dir=tmp_path / "b", method_options=opts)
    np.testing.assert_array_equal(full.tables, resumed.tables)
    np.testing.assert_array_equal(full.rts, resumed.rts)


def test_cli_lift_options(tmp_path):
    from typer.testing import CliRunner

    from automata.formats import format_compact
    from seqvae.cli import app

    runner = CliRunner()
    help_text = runner.invoke(app, ["search-extreme", "--help"]).output
    for flag in ("--lift-from", "--lift-share", "--lift-arrows", "--lift-free",
                 "--rank-lifts"):
        assert flag in help_text
    for flags in (["--lift-arrows", "2"], ["--lift-free"]):
        bad = runner.invoke(app, ["search-extreme", "-n", "5", *flags])
        assert bad.exit_code == 2 and "only applies with --lift-from" in bad.output
    bad = runner.invoke(app, ["search-extreme", "-n", "5", "--lift-from", str(tmp_path / "no")])
    assert bad.exit_code == 2 and "--lift-from" in bad.output
    bad = runner.invoke(app, ["search-extreme", "-n", "5", "--lift-share", "0.3"])
    assert bad.exit_code == 2 and "--lift-share" in bad.output
    src = tmp_path / "slow4.txt"
    src.write_text(format_compact(cerny(4)) + "\n")
    bad = runner.invoke(app, ["search-extreme", "-n", "5", "--lift-from", str(src),
                              "--lift-share", "1.5"])
    assert bad.exit_code == 2 and "--lift-share" in bad.output
    for flag, flags in (("--lift-arrows", ["--lift-arrows", "5"]),
                        ("--rank-lifts", ["-m", "evolve", "--rank-lifts"])):
        bad = runner.invoke(app, ["search-extreme", "-n", "5", "--lift-from", str(src), *flags])
        assert bad.exit_code == 2 and flag in bad.output
    ok = runner.invoke(app, ["search-extreme", "-n", "5", "-b", "300", "--lift-from", str(src),
                             "--lift-arrows", "2", "--lift-free", "--json"])
    assert ok.exit_code == 0, ok.output
    import json

    assert json.loads(ok.stdout)["best_reset_length"] == 16


def _slow_sources(n, count, seed):
    """``count`` random synchronizing automata of ``n`` states, and Černý's."""
    from automata.sync import reset_lengths

    rng = np.random.default_rng(seed)
    tables = _random_tables(rng, 20 * count, 2, n)
    rts = reset_lengths(tables)
    keep = tables[np.argsort(-rts)[:count]]
    return [cerny(n)] + [DFA(t) for t in keep]


def _canonical_lifts(table):
    from automata.canon import canonical_tables
    from seqvae.hunt.search.lifts import lift_neighbourhood

    return canonical_tables(lift_neighbourhood(table))


def test_lift_ranker_puts_slower_lifts_first():
    from automata.sync import reset_lengths
    from seqvae.hunt.search.lifts import NOT_LIFTED, LiftRanker, lift_sources

    sources = lift_sources(_slow_sources(5, 30, 1), 6, 2)
    pool = np.unique(np.concatenate([_canonical_lifts(s) for s in sources]), axis=0)
    truth = reset_lengths(pool)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(pool))
    lift_rt = np.full(len(pool), NOT_LIFTED)
    lift_rt[order[:1500]] = truth[order[:1500]]                 # what is evaluated so far
    todo = np.sort(order[1500:])
    ranker = LiftRanker(min_train=1000, first_steps=400, seed=0)
    pick = ranker.choose(pool, lift_rt, todo, 100, rng)
    assert ranker.trained and len(set(pick)) == 100 and set(pick) <= set(todo)
    # the hundred it ranks first are far slower than the lifts left
    assert truth[pick].mean() > truth[todo].mean() + 3
    untrained = LiftRanker(min_train=5000)
    np.testing.assert_array_equal(untrained.choose(pool, lift_rt, todo, 7, rng), todo[:7])


@pytest.mark.parametrize("rank_closure", [False, True])
def test_boost_ranks_lifts_with_its_surrogate_and_resumes_exactly(tmp_path, rank_closure):
    sources = _slow_sources(5, 30, 2)
    opts = {"prior_samples": 0, "vae_samples": 0, "rank_closure": rank_closure,
            "lift_ranker_options": {"min_train": 300, "first_steps": 60, "steps": 10},
            "evolve_options": {"lift_from": sources, "lift_batch": 150, "patience": 2}}
    ev = CountingEvaluator()
    full = search_extreme(6, 2, "boost", budget=2500, seed=3, evaluator=ev,
                          out_dir=tmp_path / "a", method_options=opts, write_results=False)
    assert len(ev.seen) == len(set(ev.seen)) == 2500
    resumed = interrupted_then_resumed(6, "boost", stop_after=1600, budget=2500, seed=3,
                                       out_dir=tmp_path / "b", method_options=opts)
    np.testing.assert_array_equal(full.tables, resumed.tables)
    np.testing.assert_array_equal(full.rts, resumed.rts)
    if rank_closure:
        # the closure's neighbourhoods joined the ranked pool, beyond the lifts
        from seqvae.hunt.search.boost import BoostSearch

        ctx = SearchContext(6, 2, 2500, np.random.default_rng(3))
        boost = BoostSearch(ctx, **opts)
        while not ctx.exhausted:
            boost.step()
        search = boost.evolve
        assert search.closure_ranked and search.expanded.any()
        assert len(search.lifts.tables) > len({k for t in search.lifts.sources
                                            for k in map(bytes, np.asarray(
                                                _canonical_lifts(t), dtype=np.int8))})
    plain = dict(opts, rank_lifts=False)
    unranked = search_extreme(6, 2, "boost", budget=2500, seed=3, write_results=False,
                              method_options=plain)
    assert not np.array_equal(unranked.tables, full.tables)
