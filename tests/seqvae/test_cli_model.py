"""CLI smoke: train (tiny) -> eval -> sample -> encode -> decode; bad input exits 2."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from automata.formats import format_compact, parse_compact
from seqvae.cli import app
from seqvae.evaluate import REQUIRED_KEYS

torch.set_num_threads(1)
runner = CliRunner()
TINY = json.dumps(dict(d_z=4, enc_hidden=24, dec_z_dim=8, dec_hidden=24, dec_layers=1,
                       embed_dim=8, conv_channels=[8], conv_kernels=[3]))


def _one_line_error(result):
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("error:") and text.count("error:") == 1, result.stderr
    assert "Traceback" not in result.output
    return " ".join(text.split())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    result = runner.invoke(app, ["train", "automata", "--n-states", "4", "--n-letters", "2",
                                 "--count", "200", "--epochs", "2", "--batch-size", "32",
                                 "--out", str(out), "--model-config", TINY, "--threads", "1",
                                 "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["run_dir"] == str(out) and summary["d_z"] == 4
    assert summary["counts"]["train"] + summary["counts"]["val"] + \
        summary["counts"]["heldout"] == 200
    assert "seqvae train automata" in (out / "command.txt").read_text()
    return out


def test_eval_json(run_dir):
    result = runner.invoke(app, ["eval", str(run_dir), "--json", "--prior-count", "40",
                                 "--max-items", "10", "--iwae-samples", "3", "--threads", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    for key in REQUIRED_KEYS:
        assert key in out
    assert out["prior_well_formed"] == 1.0
    assert 0.0 <= out["prior_well_formed_unconstrained"] <= 1.0
    assert 0.0 <= out["reconstruction_exact"] <= 1.0 and out["eval_items"] == 10
    assert 0 <= out["active_units"] <= 4


def test_sample_encode_decode(run_dir, tmp_path):
    result = runner.invoke(app, ["sample", str(run_dir), "--count", "5", "--json", "--score"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 5 and all(r["ok"] for r in rows)
    assert all(parse_compact(r["item"]).n_states == 4 for r in rows)
    assert all("synchronizing" in r for r in rows)

    items = tmp_path / "items.txt"
    texts = [r["item"] for r in rows]
    items.write_text("\n".join(texts) + "\n")
    z_path = tmp_path / "z.npy"
    result = runner.invoke(app, ["encode", str(run_dir), str(items), "--out", str(z_path)])
    assert result.exit_code == 0, result.output
    z = np.load(z_path)
    assert z.shape == (5, 4)
    result = runner.invoke(app, ["decode", str(run_dir), str(z_path), "--json"])
    assert result.exit_code == 0, result.output
    decoded = json.loads(result.stdout)
    assert len(decoded) == 5 and all(r["ok"] for r in decoded)
    # JSON latents decode to the same items as .npy latents
    z_json = tmp_path / "z.json"
    z_json.write_text(json.dumps(z.tolist()))
    again = runner.invoke(app, ["decode", str(run_dir), str(z_json), "--json"])
    assert json.loads(again.stdout) == decoded
    plain = runner.invoke(app, ["decode", str(run_dir), str(z_json)])
    assert plain.stdout.split("\n")[:5] == [r["item"] for r in decoded]
    assert all(format_compact(parse_compact(t)) == t for t in plain.stdout.splitlines())


def test_bad_input_exits_2_with_one_line(run_dir, tmp_path):
    msg = _one_line_error(runner.invoke(app, ["eval", str(tmp_path / "missing")]))
    assert "run" in msg
    msg = _one_line_error(runner.invoke(app, ["sample", str(tmp_path), "--count", "2"]))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([[0.0, 1.0]]))
    msg = _one_line_error(runner.invoke(app, ["decode", str(run_dir), str(bad)]))
    assert "shape" in msg
    _one_line_error(runner.invoke(app, ["train", "automata", "--out", str(run_dir),
                                        "--count", "50"]))
    _one_line_error(runner.invoke(app, ["sample", str(run_dir), "--method", "nope"]))


def test_train_from_an_automata_file(tmp_path):
    from automata.dfa import DFA
    from automata.generate import random_tables

    path = tmp_path / "a.txt"
    tables = random_tables(60, 3, 2, np.random.default_rng(1))
    path.write_text("\n".join(format_compact(DFA(t)) for t in tables) + "\n")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "automata", "--data", str(path), "--epochs", "1",
                                 "--out", str(out), "--model-config", TINY, "--quiet"])
    assert result.exit_code == 0, result.output
    sample = runner.invoke(app, ["sample", str(out), "--count", "3", "--json"])
    rows = json.loads(sample.stdout)
    assert all(r["ok"] and parse_compact(r["item"]).n_states == 3 for r in rows)


def test_train_ending_on_a_logged_step_prints_its_summary(tmp_path):
    # The progress line reads step records every 10 steps; the closing 'final' record of a
    # run that stops at step 10 must not be taken for one.
    out = tmp_path / "run10"
    result = runner.invoke(app, ["train", "automata", "--n-states", "4", "--n-letters", "2",
                                 "--count", "200", "--epochs", "3", "--max-steps", "10",
                                 "--batch-size", "32", "--out", str(out), "--model-config", TINY,
                                 "--threads", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps"] == 10
