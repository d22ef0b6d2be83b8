"""``automata expected``: estimates from exact reset lengths of sampled random automata."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.expected import expected_reset_lengths, published_fit, sample_tables
from automata.reference import bfs_reset_word
from seqvae.cli import app


def _plain(n, k, samples, seed=0):
    """The same samples, solved one by one with the plain-Python BFS."""
    out = []
    for table in sample_tables(n, k, seed, 0, samples):
        word = bfs_reset_word(DFA(table))
        if word is not None:
            out.append(len(word))
    return np.array(out)


@pytest.mark.parametrize("n, k", [(6, 2), (7, 3), (9, 2)])
def test_the_estimate_is_the_plain_bfs_on_the_same_samples(n, k):
    est = expected_reset_lengths([n], k, 60, chunk=7)[0]
    plain = _plain(n, k, 60)
    assert np.array_equal(np.sort(est.lengths), np.sort(plain))
    assert est.mean == pytest.approx(plain.mean())
    low, high = est.ci95
    assert low < est.mean < high
    assert est.to_dict()["synchronizing"] == len(plain)


def test_samples_do_not_depend_on_chunks_jobs_or_resume(tmp_path):
    serial = expected_reset_lengths([10, 12], 2, 40, seed=3, chunk=40)
    parallel = expected_reset_lengths([10, 12], 2, 40, seed=3, chunk=6, n_jobs=2)
    out = tmp_path / "est"
    kept = expected_reset_lengths([10, 12], 2, 40, seed=3, chunk=6, out_dir=out)
    chunks = sorted((out / "n12").iterdir())
    chunks[0].unlink()                                          # lost
    chunks[1].write_text(chunks[1].read_text().replace("[", "[99, ", 1))   # edited
    resumed = expected_reset_lengths([10, 12], 2, 40, seed=3, chunk=6, out_dir=out, resume=True)
    for runs in zip(serial, parallel, kept, resumed):
        assert all(np.array_equal(runs[0].lengths, r.lengths) for r in runs[1:])
    with pytest.raises(AutomatonError, match="already holds"):
        expected_reset_lengths([10], 2, 40, seed=3, chunk=6, out_dir=out)
    with pytest.raises(AutomatonError, match="other parameters"):
        expected_reset_lengths([10], 2, 40, seed=4, chunk=6, out_dir=out, resume=True)


def test_the_command_prints_json_and_refuses_bad_input_in_one_line():
    runner = CliRunner()
    result = runner.invoke(app, ["automata", "expected", "-n", "8,10", "--samples", "20",
                                 "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["n_states"] for r in rows] == [8, 10]
    assert rows[1]["published_fit"] == pytest.approx(published_fit(10))
    assert set(rows[0]) >= {"mean", "ci95", "median", "histogram", "synchronizing", "samples"}
    for args, message in [(["-n", "ten"], "separated by commas"), (["-n", "1"], "between 2"),
                          (["-n", "8", "--resume"], "--resume needs --out"),
                          (["-n", "8", "--samples", "0"], "must be positive")]:
        bad = runner.invoke(app, ["automata", "expected", *args])
        assert bad.exit_code == 2 and message in bad.stderr, (args, bad.output)
        assert "Traceback" not in bad.output
