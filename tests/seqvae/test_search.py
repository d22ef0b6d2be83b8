import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from automata import DFA
from automata.canon import canonical_key, canonical_tables
from automata.families import cerny, wielandt
from automata.formats import parse_compact, read_automata
from automata.sync import reset_lengths
from seqvae.cli import app
from seqvae.errors import SearchError
from seqvae.hunt.search import SearchContext, search_extreme
from seqvae.hunt.search.core import NOT_EVALUATED

from .search_helpers import CountingEvaluator, interrupt_search, interrupted_then_resumed

runner = CliRunner()


def _same(a, b):
    assert a.evaluations == b.evaluations
    np.testing.assert_array_equal(a.tables, b.tables)
    np.testing.assert_array_equal(a.rts, b.rts)
    assert (a.best_reset_length, a.evaluations_to_best) == (b.best_reset_length,
                                                            b.evaluations_to_best)
    assert a.top == b.top


# -- duplicates and budget ----------------------------------------------------------------
def test_isomorphic_duplicates_are_not_evaluated_or_charged():
    ev = CountingEvaluator()
    ctx = SearchContext(5, 2, budget=10, rng=np.random.default_rng(0), evaluator=ev)
    c5 = cerny(5)
    batch = np.stack([c5.delta, c5.relabel([4, 0, 3, 1, 2]).delta, c5.relabel(
        [1, 2, 3, 4, 0], [1, 0]).delta, wielandt(5).delta])
    canon, rts = ctx.evaluate(batch)
    assert rts.tolist() == [16, 16, 16, 13]
    assert ev.seen == [canonical_key(c5), canonical_key(wielandt(5))]
    assert ctx.evaluations == 2 and ctx.duplicates == 2
    np.testing.assert_array_equal(canon[0], canon[1])
    # Known automata come from the archive: no new evaluation, no charge.
    _, rts = ctx.evaluate(np.stack([wielandt(5).relabel([2, 3, 4, 0, 1]).delta]))
    assert rts.tolist() == [13] and len(ev.seen) == 2 and ctx.evaluations == 2


def test_budget_stops_mid_batch():
    ctx = SearchContext(4, 2, budget=3, rng=np.random.default_rng(0),
                        evaluator=CountingEvaluator())
    tables = canonical_tables(np.random.default_rng(1).integers(0, 4, size=(40, 2, 4)))
    distinct = np.unique(tables.reshape(40, -1), axis=0)
    assert len(distinct) > 3
    _, rts = ctx.evaluate(tables)
    assert ctx.evaluations == 3 and ctx.exhausted
    assert (rts != NOT_EVALUATED).sum() >= 3 and (rts == NOT_EVALUATED).any()


@pytest.mark.parametrize("method", ["random", "evolve"])
def test_baselines_count_distinct_only_and_are_deterministic(method):
    ev = CountingEvaluator()
    a = search_extreme(5, 2, method, budget=400, seed=3, evaluator=ev, write_results=False)
    assert a.evaluations == 400 == len(ev.seen) == len(set(ev.seen))
    keys = {canonical_key(DFA(t)) for t in a.tables}
    assert len(keys) == 400
    np.testing.assert_array_equal(a.rts, reset_lengths(a.tables))
    assert a.best_reset_length == a.rts.max()
    assert a.rts[a.evaluations_to_best - 1] == a.best_reset_length
    assert a.rts[: a.evaluations_to_best - 1].max() < a.best_reset_length
    b = search_extreme(5, 2, method, budget=400, seed=3, write_results=False)
    _same(a, b)
    c = search_extreme(5, 2, method, budget=400, seed=4, write_results=False)
    assert not np.array_equal(a.tables, c.tables)


def test_evolve_beats_random_and_finds_cerny_5():
    evo = search_extreme(5, 2, "evolve", budget=3000, seed=0, write_results=False)
    rnd = search_extreme(5, 2, "random", budget=3000, seed=0, write_results=False)
    assert evo.best_reset_length == 16 and evo.top[0]["family"] == "cerny"
    assert evo.first_cerny_at is not None
    assert evo.slow_found > rnd.slow_found


def test_near_identity_keeps_the_permutation_and_merges_one_pair():
    from seqvae.hunt.search.moves import near_identity

    rng = np.random.default_rng(0)
    m, n = 40, 7
    perms = np.stack([rng.permutation(n) for _ in range(m)])
    other = rng.integers(0, n, size=(m, n))
    other[:, 0] = other[:, 1]  # rank < n: the letter to be replaced
    tables = np.stack([perms, other], axis=1).astype(np.int32)
    mask = np.arange(m) % 4 != 0
    out = near_identity(rng, tables, mask)
    np.testing.assert_array_equal(out[~mask], tables[~mask])
    np.testing.assert_array_equal(out[:, 0], tables[:, 0])
    for row in out[mask, 1]:
        moved = np.flatnonzero(row != np.arange(n))
        assert len(moved) == 1 and len(np.unique(row)) == n - 1


def test_evolve_with_near_identity_finds_cerny_9():
    r = search_extreme(9, 2, "evolve", budget=2500, seed=0, write_results=False)
    assert r.best_reset_length == 64 and r.top[0]["family"] == "cerny"
    off = search_extreme(9, 2, "evolve", budget=2500, seed=0, write_results=False,
                         method_options={"near_identity": False})
    assert off.best_reset_length < 64


def test_evolve_restarting_climbs_resume_exactly(tmp_path):
    # Short patience: several restarts, with climb-local merged expansions.
    opts = {"near_identity": True, "expand_merge": True, "patience": 1}
    full = search_extreme(6, 2, "evolve", budget=2500, seed=5, out_dir=tmp_path / "a",
                          method_options=opts)
    resumed = interrupted_then_resumed(6, "evolve", stop_after=1900, budget=2500, seed=5,
                                       out_dir=tmp_path / "b", method_options=opts)
    _same(full, resumed)


def test_tiny_space_stops_when_nothing_new():
    # Binary 2-state automata: only a handful of isomorphism classes exist.
    r = search_extreme(2, 2, "random", budget=1000, seed=0, write_results=False)
    assert r.stopped == "no new automata" and r.evaluations < 20
    assert r.best_reset_length == 1


# -- results, resume -------------------------------------------------------------------
def test_results_files(tmp_path):
    r = search_extreme(5, 2, "evolve", budget=300, seed=1, out_dir=tmp_path)
    df = pd.read_parquet(tmp_path / "candidates.parquet")
    assert len(df) == 300 and list(df["order"]) == list(range(1, 301))
    assert set(df["reset_length"]) == set(r.rts.tolist())
    csv = pd.read_csv(tmp_path / "candidates.csv")
    assert csv["automaton"].tolist() == df["automaton"].tolist()
    for text, rt in zip(df["automaton"][:20], df["reset_length"][:20]):
        assert reset_lengths(parse_compact(text).delta[None])[0] == rt
    board = json.loads((tmp_path / "leaderboard.json").read_text())
    assert board["best_reset_length"] == r.best_reset_length == board["top"][0]["reset_length"]
    assert len(read_automata(tmp_path / "top.txt")) == len(r.top)


@pytest.mark.parametrize("method", ["random", "evolve"])
def test_resume_after_interrupt_equals_uninterrupted(tmp_path, method):
    full = search_extreme(5, 2, method, budget=1500, seed=7, out_dir=tmp_path / "a",
                          method_options={"batch": 200} if method == "random" else None)
    interrupt_search(5, method, stop_after=700, budget=1500, seed=7, out_dir=tmp_path / "b",
                     method_options={"batch": 200} if method == "random" else None)
    assert (tmp_path / "b" / "checkpoint.npz").exists()
    resumed = search_extreme(5, 2, method, budget=1500, seed=7, out_dir=tmp_path / "b",
                             resume=True,
                             method_options={"batch": 200} if method == "random" else None)
    _same(full, resumed)
    # A finished run extended with a larger budget continues, it does not restart.
    more = search_extreme(5, 2, method, budget=1700, seed=7, out_dir=tmp_path / "a",
                          resume=True,
                          method_options={"batch": 200} if method == "random" else None)
    assert more.evaluations == 1700
    np.testing.assert_array_equal(more.tables[:1500], full.tables)


def test_resume_refuses_other_search(tmp_path):
    search_extreme(5, 2, "random", budget=100, seed=1, out_dir=tmp_path)
    with pytest.raises(SearchError, match="seed"):
        search_extreme(5, 2, "random", budget=100, seed=2, out_dir=tmp_path, resume=True)
    with pytest.raises(SearchError, match="nothing to resume"):
        search_extreme(5, 2, "random", budget=100, out_dir=tmp_path / "x", resume=True)


# -- the counterexample path ------------------------------------------------------------
def test_claim_above_cerny_bound_is_rechecked_and_saved(tmp_path):
    c5 = canonical_key(cerny(5))

    def lying(tables):
        rts = reset_lengths(tables)
        for i, t in enumerate(tables):
            if canonical_key(DFA(t)) == c5:
                rts[i] = 17   # > (5-1)^2
        return rts

    with pytest.warns(UserWarning, match="COUNTEREXAMPLE"):
        r = search_extreme(5, 2, "random", budget=50, seed=0, evaluator=lying,
                           start_from=[cerny(5)], out_dir=tmp_path)
    (c,) = r.counterexamples
    assert c["claimed"] == 17 and c["verified"] == 16 and not c["confirmed"]
    saved = read_automata(c["path"])
    assert canonical_key(saved[0]) == c5
    assert "NOT confirmed" in open(c["path"]).read()
    # The independent BFS is what the archive keeps.
    assert r.best_reset_length == 16 and r.rts.max() == 16


def test_confirmed_counterexample_is_loud_on_the_cli(tmp_path, monkeypatch):
    # A verifier agreeing with a lying evaluator stands for a real counterexample.
    import seqvae.hunt.search.core as core

    c5 = canonical_key(cerny(5))

    def lying(tables):
        rts = reset_lengths(tables)
        rts[[canonical_key(DFA(t)) == c5 for t in tables]] = 17
        return rts

    monkeypatch.setattr(core, "make_evaluator", lambda n_jobs=1: lying)
    monkeypatch.setattr(core, "default_verifier", lambda dfa: [0] * 17)
    import seqvae.hunt.search.runner as runner_mod
    monkeypatch.setattr(runner_mod, "make_evaluator", lambda n_jobs=1: lying)
    start = tmp_path / "start.txt"
    start.write_text("a:12340 b:01230\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = runner.invoke(app, ["search-extreme", "-n", "5", "-m", "random", "--budget",
                                     "30", "--start-from", str(start), "--out",
                                     str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counterexamples"][0]["confirmed"] is True
    assert data["best_reset_length"] == 17
    assert "CANDIDATE COUNTEREXAMPLE" in result.stderr and "CONFIRMED" in result.stderr
    assert list((tmp_path / "o").glob("counterexample_*.txt"))


# -- CLI ---------------------------------------------------------------------------------
def test_cli_json_and_leaderboard(tmp_path):
    result = runner.invoke(app, ["search-extreme", "-n", "5", "-m", "evolve", "--budget", "4000",
                                 "--seed", "0", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"method", "evaluations", "best_reset_length", "evaluations_to_best",
            "top"} <= set(data)
    assert data["method"] == "evolve" and data["evaluations"] == 4000
    top = data["top"][0]
    assert {"automaton", "reset_length", "family"} <= set(top)
    assert top["reset_length"] == data["best_reset_length"] == 16 and top["family"] == "cerny"
    assert reset_lengths(parse_compact(top["automaton"]).delta[None])[0] == 16
    assert "rt/(n-1)²" in result.stderr and "cerny" in result.stderr


@pytest.mark.parametrize("args, words", [
    (["-n", "1"], "n_states"),
    (["-n", "5", "-m", "genetic"], "unknown search method"),
    (["-n", "5", "--budget", "0"], "budget"),
    (["-n", "5", "--resume"], "output directory"),
    (["-n", "5", "--start-from", "/nonexistent/x.txt"], "no such file"),
    (["-n", "5", "--backend", "nonsense"], "backend"),
    (["-n", "5", "-m", "evolve", "--model", "x"], "--model"),
])
def test_cli_bad_input_exits_2_with_one_line(args, words):
    result = runner.invoke(app, ["search-extreme", *args, "--budget" if "--budget" not in args
                                 else "--top", "10"])
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    # One message (rich wraps a long one at the terminal width).
    assert text.startswith("error:") and text.count("error:") == 1, result.stderr
    assert words in " ".join(text.split())
    assert "Traceback" not in result.output


def test_cli_start_file_of_wrong_size(tmp_path):
    start = tmp_path / "s.txt"
    start.write_text("a:0123 b:1230\n")
    result = runner.invoke(app, ["search-extreme", "-n", "5", "--budget", "10", "--start-from",
                                 str(start)])
    assert result.exit_code == 2 and "4 states" in result.stderr


@pytest.mark.parametrize("method", ["random", "evolve"])
def test_smaller_budget_is_a_prefix_of_a_larger_one(method):
    # scripts/bench_search.py reads small budgets off one long run.
    short = search_extreme(5, 2, method, budget=300, seed=9, write_results=False)
    long = search_extreme(5, 2, method, budget=900, seed=9, write_results=False)
    np.testing.assert_array_equal(short.tables, long.tables[:300])
    np.testing.assert_array_equal(short.rts, long.rts[:300])
