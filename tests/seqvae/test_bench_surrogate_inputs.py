"""scripts/bench_surrogate_inputs.py at a tiny size: lifts to 5 states of slow 4-state
automata, a small training set, the profile features and a tiny VAE."""
from __future__ import annotations

import numpy as np
import pytest

from automata.canon import canonical_tables
from automata.census_pruned import pruned_census
from automata.dfa import DFA
from automata.formats import read_automata, write_automata
from automata.reference import bfs_reset_word
from seqvae.hunt.search.lifts import lift_neighbourhood
from tests.script_helpers import load_script


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    from seqvae.hunt.search.latent_search import train_start_model

    folder = tmp_path_factory.mktemp("bench_surrogate_inputs")
    sources = folder / "slow4.txt"
    write_automata(sources, [dfa for dfa, _ in pruned_census(4, 2, 8).ranked()], "compact")
    vae = folder / "vae5"
    train_start_model(5, 2, seed=0, count=200, epochs=1, out_dir=vae)
    args = ["--n", "5", "--sources", str(sources), "--vae", str(vae), "--train", "200",
            "--seeds", "2", "--first-steps", "60", "--latent-dims", "all"]
    return load_script("bench_surrogate_inputs").main(args), sources


def test_the_pool_is_every_distinct_lift_of_the_sources(measured):
    result, sources = measured
    lifts = np.concatenate([lift_neighbourhood(np.asarray(d.delta), 2, True)
                            for d in read_automata(sources)])
    distinct = {t.astype(np.int8).tobytes() for t in canonical_tables(lifts)}
    assert result["pool"] == len(result["pool_tables"]) == len(distinct)
    assert {t.astype(np.int8).tobytes() for t in result["pool_tables"]} == distinct


def test_the_slow_count_matches_a_plain_search(measured):
    result, _ = measured
    plain = []
    for table in result["pool_tables"]:
        word = bfs_reset_word(DFA(table))
        plain.append(-1 if word is None else len(word))
    assert result["rt"].tolist() == plain
    assert result["slow"] == sum(rt >= 5 * 5 - 4 * 5 + 6 for rt in plain) > 0
    assert all(0 <= count < result["slow"] for count in result["train_slow"])


def test_every_input_and_baseline_has_sane_metrics(measured):
    result, _ = measured
    assert set(result["per_seed"]) == {"profile", "latent", "profile+latent", "source order",
                                       "random order"}
    assert result["width"]["profile+latent"] == result["width"]["profile"] + result["width"][
        "latent"]
    for rows in result["per_seed"].values():
        assert len(rows) == 2
        for row in rows:
            assert 0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0
            assert -1.0 <= row["spearman"] <= 1.0
            assert 1 <= row["evals90"] <= result["pool"]
    for name in ("profile", "latent", "profile+latent"):
        assert all(row["evals90"] >= result["train"] for row in result["per_seed"][name])


def test_the_report_is_a_markdown_table(measured, capsys):
    result, _ = measured
    text = load_script("bench_surrogate_inputs").report(result)
    assert f"| pool (distinct lifts) | {result['pool']} |" in text
    assert "| profile+latent | 1 |" in text


def test_evaluations_to_recall_count_from_the_offset():
    evals_to_recall = load_script("bench_surrogate_inputs").evals_to_recall
    # 3 slow in all, 90 % of them is 3: the third is at position 5.
    assert evals_to_recall(np.array([0, 1, 0, 1, 1]), 0, 3, 10) == 15
    # One slow already among the 10 training lifts: the second held-out slow completes it.
    assert evals_to_recall(np.array([0, 1, 0, 1, 1]), 1, 3, 10) == 14
    assert evals_to_recall(np.array([0, 0]), 3, 3, 10) == 10
