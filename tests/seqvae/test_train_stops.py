"""Training that stops is never silently lost: final weights of a --max-steps run, extending
a finished run, checksums of the weights, a killed save, a full disk, SIGTERM."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from automata.dfa import DFA
from automata.generate import random_tables
from seqvae.cli import app
from seqvae.errors import RunError
from seqvae.hunt.domain import AutomataDomain
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.rundir import DIGEST_KEY, RunDir
from seqvae.runs import load_run, train

torch.set_num_threads(1)
runner = CliRunner()
TOK = AutomatonTokenizer(4, 2)
DOM = AutomataDomain(TOK)
SMALL = dict(d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16, dec_layers=1, embed_dim=8,
             conv_channels=(8,), conv_kernels=(3,))
# Constant schedules: the weights after step s do not depend on the planned total,
# so a run stopped at step s and one extended to step s can be compared exactly.
STEADY = dict(batch_size=16, lr=5e-3, lr_schedule="constant", warmup_steps=0,
              kl_schedule="constant", kl_max=0.1, patience=0, seed=3, val_fraction=0.2,
              test_fraction=0.0)
ITEMS = [DFA(t) for t in random_tables(60, 4, 2, np.random.default_rng(0))]  # 3 batches/epoch


@pytest.fixture(autouse=True)
def _one_thread():
    # Runs compared weight for weight must use the same thread count; a CLI test that ran
    # before may have left torch on another.
    torch.set_num_threads(1)


def _weights(run):
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_max_steps_mid_epoch_ships_the_last_steps_weights(tmp_path):
    stopped = train(ITEMS, DOM, out_dir=tmp_path / "a", model_config=SMALL,
                    train_config=dict(STEADY, epochs=4, max_steps=5))
    state = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 5 and state["batch_in_epoch"] == 2
    # the first epoch's weights were the best on validation, and are not what ships
    assert state["best_model"] is not None and not _same(state["best_model"], state["model"])
    assert state["final_weights"] == "last_step"
    loaded = load_run(tmp_path / "a")
    assert _same(_weights(loaded), state["model"]) and _same(_weights(stopped), state["model"])
    assert loaded.config["result"]["final_weights"] == "last_step"
    records = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").open()]
    assert records[-1] == {"kind": "final", "step": 5, "epoch": 1, "weights": "last_step",
                           "stopped_on": "max_steps"}

    # a run of exactly five steps, reached by extending a finished four-step run
    train(ITEMS, DOM, out_dir=tmp_path / "b", model_config=SMALL,
          train_config=dict(STEADY, epochs=4, max_steps=4))
    assert load_run(tmp_path / "b").config["result"]["steps"] == 4
    extended = train(None, DOM, out_dir=tmp_path / "b", resume=True,
                     train_config={"max_steps": 5})
    assert extended.config["result"]["steps"] == 5
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "b" / "metrics.jsonl").open()]
    assert kinds.count("final") == 1 and kinds[-1] == "final"
    assert _same(_weights(load_run(tmp_path / "b")), state["model"])


def test_resume_with_more_epochs_extends_a_finished_run(tmp_path):
    train(ITEMS, DOM, out_dir=tmp_path / "short", model_config=SMALL,
          train_config=dict(STEADY, epochs=1))
    result = runner.invoke(app, ["train", "automata", "--out", str(tmp_path / "short"),
                                 "--resume", "--epochs", "2", "--threads", "1", "-q"])
    assert result.exit_code == 0, result.output
    once = train(ITEMS, DOM, out_dir=tmp_path / "long", model_config=SMALL,
                 train_config=dict(STEADY, epochs=2))
    assert load_run(tmp_path / "short").config["result"]["epochs"] == 2
    assert _same(_weights(load_run(tmp_path / "short")), _weights(once))
    with pytest.raises(ValueError, match="only epochs"):
        train(None, DOM, out_dir=tmp_path / "short", resume=True, train_config={"lr": 1.0})


@pytest.fixture()
def small_run(tmp_path):
    train(ITEMS, DOM, out_dir=tmp_path / "run", model_config=SMALL,
          train_config=dict(STEADY, epochs=1))
    return tmp_path / "run"


def test_weights_checksum_recorded_and_a_flipped_byte_refused(small_run):
    from automata.atomic import file_sha256

    config = json.loads((small_run / "config.json").read_text())
    assert config[DIGEST_KEY] == file_sha256(small_run / "checkpoint.pt")
    load_run(small_run)
    data = bytearray((small_run / "checkpoint.pt").read_bytes())
    data[len(data) // 2] ^= 0x01
    (small_run / "checkpoint.pt").write_bytes(bytes(data))
    with pytest.raises(RunError, match="corrupt or was changed"):
        load_run(small_run)
    result = runner.invoke(app, ["sample", str(small_run), "--count", "2"])
    assert result.exit_code == 2 and "corrupt or was changed" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_killed_save_loads_either_side_and_its_temp_file_is_removed(small_run):
    store = RunDir(small_run)
    old = (small_run / "checkpoint.pt").read_bytes()
    state = store.load_checkpoint()
    store.save_checkpoint(state)
    # killed after config.json took the new digest, before the rename: the old file stands
    (small_run / "checkpoint.pt").write_bytes(old)
    store.load_checkpoint()
    leftover = small_run / ".checkpoint.pt.k3j9x0ab.tmp"
    leftover.write_bytes(b"half a checkpoint")
    train(None, DOM, out_dir=small_run, resume=True, train_config={"epochs": 2})
    assert not leftover.exists()


def test_a_full_disk_during_a_save_is_one_clear_error(small_run, monkeypatch):
    import seqvae.rundir

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    before = (small_run / "checkpoint.pt").read_bytes()
    monkeypatch.setattr(seqvae.rundir.torch, "save", no_space)
    with pytest.raises(RunError, match="no space left on device"):
        RunDir(small_run).save_checkpoint({"format": 1})
    result = runner.invoke(app, ["train", "automata", "--out", str(small_run), "--resume",
                                 "--epochs", "2", "--threads", "1", "-q"])
    assert result.exit_code != 0 and "no space left on device" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert (small_run / "checkpoint.pt").read_bytes() == before
    assert not [p for p in small_run.iterdir() if p.name.endswith(".tmp")]


def test_checkpoint_every_takes_steps_or_seconds():
    from seqvae.cli.model_cmd import parse_checkpoint_every

    assert parse_checkpoint_every("500") == {"checkpoint_every": 500}
    assert parse_checkpoint_every("2.5s") == {"checkpoint_seconds": 2.5}
    for bad in ("-1", "xs", "0s", "infs", "ten"):
        with pytest.raises(Exception, match="--checkpoint-every"):
            parse_checkpoint_every(bad)


def test_checkpoint_every_seconds_writes_checkpoints_mid_epoch(tmp_path):
    from seqvae.train import Trainer

    run = train(ITEMS, DOM, model_config=SMALL, train_config=dict(STEADY, epochs=1))
    ids = [TOK.encode(d) for d in ITEMS]
    saves = []
    cfg = run.trainer.cfg.replace(checkpoint_seconds=1e-9, epochs=1)
    trainer = Trainer(run.trainer.mcfg, cfg, ids, out_dir=tmp_path / "t")
    original = trainer.save_checkpoint
    trainer.save_checkpoint = lambda *a: saves.append(trainer.step) or original(*a)
    trainer.fit()
    assert saves[:4] == [1, 2, 3, 4]


def _wait_for(predicate, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_writes_a_checkpoint_and_exits_like_ctrl_c(tmp_path):
    words = tmp_path / "words.txt"
    rng = np.random.default_rng(0)
    words.write_text("\n".join(sorted({"".join(rng.choice(list("abcde"), size=rng.integers(3, 9)))
                                       for _ in range(400)})) + "\n")
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "from seqvae.cli import main; main()", "train", "strings",
           str(words), "--out", str(out), "--epochs", "500", "--threads", "1", "-q",
           "--batch-size", "8"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        metrics = out / "metrics.jsonl"
        assert _wait_for(lambda: metrics.exists() and metrics.stat().st_size > 2000, 120), \
            proc.stderr.read() if proc.poll() is not None else "no steps"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "checkpoint written" in err
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] > 0 and not state["finished"]
    RunDir(out).verify_checkpoint()
