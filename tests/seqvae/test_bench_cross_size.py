"""scripts/bench_cross_size.py at a tiny size: a VAE trained on the slow classes of
4 and 5 states, decoded at 6 states, every count checked against the plain BFS."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from automata.census_pruned import pruned_census
from automata.formats import format_compact, parse_compact
from automata.reference import bfs_reset_word
from tests.script_helpers import load_script


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench_cross_size")
    rows = []
    for n, min_rt in ((4, 6), (5, 11), (6, 18)):
        for i, (dfa, rt) in enumerate(pruned_census(n, 2, min_rt).ranked()):
            rows.append({"n": n, "automaton": format_compact(dfa), "reset_length": rt,
                         "family": "", "reset_word": "", "found_at": 10 * i})
    catalogue = pd.DataFrame(rows)
    path = folder / "catalogue.parquet"
    catalogue.to_parquet(path)
    out = folder / "xs6"
    code = load_script("bench_cross_size").main([
        "--catalogue", str(path), "--n", "6", "--n-from", "4", "--out", str(out),
        "--samples", "300", "--epochs", "3", "--random", "200"])
    return code, json.loads((out / "result.json").read_text()), catalogue


def test_counts_are_consistent_and_exact(measured):
    code, result, catalogue = measured
    assert code == 0
    assert result["n"] == 6 and result["level"] == 18 and result["samples"] == 300
    assert result["training_items"] == 200 + int((catalogue["n"] < 6).sum())
    assert 0 < result["valid"] <= 300 and result["at_size"] <= result["valid"]
    assert result["synchronizing"] <= result["at_size"] and result["slow"] <= result["synchronizing"]
    assert len(result["slow_classes"]) <= result["slow"]
    known = set(catalogue[catalogue["n"] == 6]["automaton"])
    for key, rt in result["slow_classes"]:
        assert rt >= 18 and len(bfs_reset_word(parse_compact(key))) == rt
        # the catalogue at n = 6 is the whole census at rt >= 18: nothing slow is new
        assert key in known
    assert result["new_slow_classes"] == []


def test_lifts_rate_reads_found_at(measured):
    _, result, catalogue = measured
    at6 = catalogue[catalogue["n"] == 6]
    assert result["lifts"]["classes"] == len(at6)
    assert result["lifts"]["within"] == int((at6["found_at"] <= 300).sum())


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        load_script("bench_cross_size").main(
            ["--catalogue", "x.parquet", "--n", "5", "--n-from", "7", "--out", "o"])


def test_uniform_baseline_is_exact(measured):
    _, result, _ = measured
    uniform = result["uniform"]
    assert uniform["samples"] == 300 and 0 < uniform["synchronizing"] <= 300
    assert uniform["max_rt"] <= 25  # Černý's bound holds at 6 states
    assert uniform["rt_mean"] <= uniform["rt_p99"] <= uniform["max_rt"]
    assert result["rt_mean"] <= result["max_rt"]
