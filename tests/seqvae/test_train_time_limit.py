"""``--time-limit``: training stops at the step boundary after the limit, checkpoints like
``--max-steps``, says so in its result, and ``--resume`` carries it to the end."""
from __future__ import annotations

import json
import time

import pytest
import torch
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.cli.model_cmd import parse_time_limit
from seqvae.errors import TrainingError
from seqvae.runs import load_run, train
from seqvae.strings import StringDomain

torch.set_num_threads(1)
runner = CliRunner()
WORDS = ["ab", "ba", "abc", "cab", "bca", "acb", "aab", "bba", "cca", "abcc"] * 4
TINY = dict(d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16, dec_layers=1, embed_dim=8,
            conv_channels=[8], conv_kernels=[3])
TRAIN = dict(epochs=6, batch_size=8, val_fraction=0.1, test_fraction=0.0, patience=0,
             warmup_steps=0)


class _Clock:
    """A monotonic clock that moves one second each time it is read: a limit of N seconds
    then passes after a known number of steps, however fast the machine is."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        self.now += 1.0
        return self.now

    def perf_counter(self):
        return self.now


@pytest.mark.parametrize("text, seconds", [("600", 600.0), ("1.5", 1.5), ("90s", 90.0),
                                           ("30m", 1800.0), ("2h", 7200.0), (" 2H ", 7200.0)])
def test_time_limits_parse(text, seconds):
    assert parse_time_limit(text) == seconds


def test_a_time_limit_stops_early_and_resume_finishes_the_run(tmp_path):
    dom = StringDomain.fit(WORDS, "char")
    out = tmp_path / "run"
    full = train(WORDS, dom, model_config=TINY, train_config=TRAIN)
    planned = full.trainer.step
    assert full.config["result"]["stopped_on"] == "epochs"

    # Each step takes at least 50 ms, so a 0.3 s limit ends the run after a handful of
    # the planned steps, on the real clock.
    run = train(WORDS, dom, out_dir=out, model_config=TINY, train_config=TRAIN,
                progress=lambda step: time.sleep(0.05), time_limit=0.3)
    stopped = run.trainer.step
    assert 1 <= stopped < planned
    assert run.config["result"]["stopped_on"] == "time_limit"
    assert json.loads((out / "config.json").read_text())["result"]["stopped_on"] == "time_limit"
    records = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    assert records[-1]["kind"] == "final" and records[-1]["stopped_on"] == "time_limit"

    resumed = train(None, dom, out_dir=out, resume=True)
    assert resumed.trainer.step == planned
    assert resumed.config["result"]["stopped_on"] == "epochs"
    # A resumed run ends with the weights of one that never stopped.
    for name, value in full.model.state_dict().items():
        assert torch.allclose(value, resumed.model.state_dict()[name], atol=1e-6), name


def test_a_bad_time_limit_is_a_training_error():
    dom = StringDomain.fit(WORDS, "char")
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(TrainingError, match="time_limit"):
            train(WORDS, dom, model_config=TINY, train_config=TRAIN, time_limit=bad)


def test_train_strings_time_limit_and_resume(tmp_path, monkeypatch):
    import seqvae.train as train_module

    data = tmp_path / "words.txt"
    data.write_text("\n".join(WORDS) + "\n")
    out = tmp_path / "run"
    base = ["train", "strings", str(data), "--out", str(out), "--quiet", "--threads", "1"]
    options = ["--epochs", "6", "--batch-size", "8", "--model-config", json.dumps(TINY)]
    monkeypatch.setattr(train_module, "time", _Clock())
    result = runner.invoke(app, [*base, *options, "--time-limit", "5s"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["stopped_on"] == "time_limit" and 1 <= summary["steps"] < 6 * 4
    assert "stopped on the time limit" in result.stderr and "--resume" in result.stderr
    first = summary["steps"]

    result = runner.invoke(app, [*base, "--resume"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["stopped_on"] in ("epochs", "patience") and summary["steps"] > first
    assert load_run(out).config["result"]["steps"] == summary["steps"]


def test_train_automata_takes_a_time_limit(tmp_path, monkeypatch):
    import seqvae.train as train_module

    monkeypatch.setattr(train_module, "time", _Clock())
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "automata", "--n-states", "3", "--count", "60",
                                 "--epochs", "20", "--batch-size", "8", "--time-limit", "4",
                                 "--out", str(out), "--model-config", json.dumps(TINY),
                                 "--threads", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["stopped_on"] == "time_limit" and summary["steps"] < 20 * 6


@pytest.mark.parametrize("command", ["strings", "automata", "smiles"])
@pytest.mark.parametrize("bad", ["0", "-5", "abc", "nan", "inf", "5d", "", "s"])
def test_bad_time_limits_are_one_line_errors(tmp_path, command, bad):
    data = tmp_path / "words.txt"
    data.write_text("\n".join(WORDS) + "\n")
    args = {"strings": ["train", "strings", str(data)],
            "automata": ["train", "automata", "--count", "20"],
            "smiles": ["train", "smiles", "--data", str(data)]}[command]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "run"), "--time-limit", bad])
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("error: --time-limit") and len(text.splitlines()) == 1, text
    assert not (tmp_path / "run").exists()
