"""A search's output directory: never wiped by accident, never written by two searches, and its
candidate log always holds every evaluation."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from automata.dirlock import DirectoryLockedError
from seqvae.cli import app
from seqvae.errors import SearchError
from seqvae.hunt.search.candidate_log import LOG_DIR, read_candidate_log
from seqvae.hunt.search.runner import search_extreme
from tests.lock_helpers import held_lock

ROOT = Path(__file__).resolve().parents[2]


def _search(out, **kw):
    return search_extreme(5, 2, "evolve", budget=kw.pop("budget", 300), seed=kw.pop("seed", 0),
                          out_dir=out, **kw)


def test_a_directory_holding_a_search_is_not_wiped_without_overwrite(tmp_path):
    out = tmp_path / "s"
    _search(out)
    rows = len(read_candidate_log(out))
    with pytest.raises(SearchError, match="holds a search: continue it"):
        _search(out, seed=1)
    assert len(read_candidate_log(out)) == rows == 300
    again = _search(out, seed=1, overwrite=True)
    assert len(read_candidate_log(out)) == 300 and again.seed == 1
    with pytest.raises(SearchError, match="exclude each other"):
        _search(out, resume=True, overwrite=True)


def test_the_command_refuses_in_one_line_and_overwrites_on_request(tmp_path):
    runner = CliRunner()
    args = ["search-extreme", "-n", "5", "--budget", "200", "--out", str(tmp_path / "s")]
    assert runner.invoke(app, args).exit_code == 0
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "holds a search" in refused.stderr and "Traceback" not in refused.output
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0


def test_a_second_search_into_a_busy_directory_is_refused(tmp_path):
    out = tmp_path / "busy"
    with held_lock(out, "search-extreme") as pid:
        with pytest.raises(DirectoryLockedError, match=f"in use by process {pid}"):
            _search(out)
        assert not (out / LOG_DIR).exists()
    assert len(read_candidate_log(_search(out).out_dir)) == 300  # the dead holder's lock is taken


def test_a_lost_log_part_is_written_again_on_resume(tmp_path):
    out = tmp_path / "s"
    first = _search(out, budget=600, checkpoint_steps=1)
    expected = read_candidate_log(out)
    parts = sorted((out / LOG_DIR).iterdir())
    assert len(parts) >= 2
    parts[0].unlink()  # a part lost after the run: the log has a hole before its last part
    assert len(read_candidate_log(out)) < 600
    resumed = _search(out, budget=600, resume=True)
    log = read_candidate_log(out)
    assert len(log) == 600
    assert log["evaluation"].tolist() == expected["evaluation"].tolist()
    assert log["automaton"].tolist() == expected["automaton"].tolist()
    assert log["reset_length"].tolist() == expected["reset_length"].tolist()
    assert resumed.best_reset_length == first.best_reset_length
