"""``seqvae hunt``: the census at the first size, ranked lifts above it, a catalogue, resume."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from automata.census_pruned import pruned_census
from automata.formats import parse_compact, read_automata
from seqvae.cli import app
from seqvae.errors import SearchError
from seqvae.hunt.catalogue import gaps, write_catalogue
from seqvae.hunt.ladder import hunt, slow_level


def _resets(automaton: str, word: str) -> bool:
    dfa = parse_compact(automaton)
    states = set(range(dfa.n_states))
    for letter in word:
        states = {int(dfa.delta[ord(letter) - ord("a")][q]) for q in states}
    return len(states) == 1


def test_the_ladder_is_sound_and_its_catalogue_checks_out(tmp_path):
    sizes = hunt(2, 4, 6, tmp_path, budget=1500, seed=1)
    assert [s.n_states for s in sizes] == [4, 5, 6]
    census4 = pruned_census(4, 2, slow_level(4)).automata
    assert {c["automaton"]: c["reset_length"] for c in sizes[0].classes} == census4
    for size in sizes[1:]:
        truth = pruned_census(size.n_states, 2, size.threshold).automata
        found = {c["automaton"]: c["reset_length"] for c in size.classes}
        assert found and all(truth.get(key) == rt for key, rt in found.items())
        assert all(c["found_at"] >= 1 for c in size.classes)
    frame = write_catalogue(sizes, tmp_path)
    saved = pd.read_parquet(tmp_path / "catalogue.parquet")
    assert list(saved.columns) == ["n", "automaton", "reset_length", "family", "reset_word",
                                   "found_at"]
    assert len(saved) == len(frame) == sum(len(s.classes) for s in sizes)
    assert all(len(r.reset_word) == r.reset_length and _resets(r.automaton, r.reset_word)
               for r in saved.itertuples())
    assert "cerny" in set(saved["family"]) and (saved["family"] == "").any()
    assert (tmp_path / "catalogue.png").stat().st_size > 1000
    assert "## n = 5" in (tmp_path / "catalogue.md").read_text()
    assert len(read_automata(tmp_path / "n5" / "slow.txt")) == len(sizes[1].classes)
    assert 24 in gaps(sizes[2])            # binary n = 6 has no automaton with rt = 24


def test_a_resumed_hunt_reads_finished_sizes_back_and_equals_one_run(tmp_path):
    whole = hunt(2, 4, 6, tmp_path / "whole", budget=800, seed=2)
    part = tmp_path / "part"
    hunt(2, 4, 5, part, budget=800, seed=2)
    stamp = (part / "n5" / "size.json").stat().st_mtime_ns
    with pytest.raises(SearchError, match="holds a hunt"):
        hunt(2, 4, 6, part, budget=800, seed=2)
    resumed = hunt(2, 4, 6, part, budget=800, seed=2, resume=True)
    assert (part / "n5" / "size.json").stat().st_mtime_ns == stamp   # read back, not redone
    assert [s.classes for s in resumed] == [s.classes for s in whole]
    with pytest.raises(SearchError, match="other parameters"):
        hunt(2, 4, 6, part, budget=900, seed=2, resume=True)


def test_the_command_prints_the_documented_json_and_refuses_bad_input(tmp_path):
    import torch

    runner = CliRunner()
    torch.set_num_threads(2)
    result = runner.invoke(app, ["hunt", "--from", "4", "--to", "5", "--out", str(tmp_path / "h"),
                                 "--budget-per-size", "500", "--json"])
    assert result.exit_code == 0, result.output
    # one torch thread unless --threads says otherwise: the surrogate's training was 10x
    # slower on two threads beside other work
    assert torch.get_num_threads() == 1
    data = json.loads(result.stdout)
    assert [s["n"] for s in data["sizes"]] == [4, 5]
    assert set(data["sizes"][0]) == {"n", "threshold", "evaluations", "seconds", "classes"}
    assert set(data["sizes"][1]["classes"][0]) == {"automaton", "reset_length", "family",
                                                   "reset_word"}
    for args, message in [(["--from", "2"], "--from must be between"),
                          (["--from", "6", "--to", "5"], "--to must be between"),
                          (["--budget-per-size", "0"], "budget per size must be positive"),
                          (["-k", "5"], "1 to 3 letters"),
                          (["--threads", "0"], "--threads must be >= 1")]:
        bad = runner.invoke(app, ["hunt", "--out", str(tmp_path / "bad"), *args])
        assert bad.exit_code == 2 and message in bad.stderr and "Traceback" not in bad.output
    again = runner.invoke(app, ["hunt", "--from", "4", "--to", "5", "--out", str(tmp_path / "h")])
    assert again.exit_code == 2 and "--resume" in again.stderr
