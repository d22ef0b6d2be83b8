"""The run directory: layout owner, the one checkpoint dict, metrics truncation."""
import json

import pytest
import torch

from seqvae.errors import RunError
from seqvae.rundir import CHECKPOINT_FORMAT, RunDir, make_checkpoint, read_checkpoint, write_checkpoint


def test_checkpoint_round_trip_and_format_check(tmp_path):
    weights = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    state = make_checkpoint(weights, {"d_z": 2}, {"domain": {"name": "x"}}, step=7)
    weights["w"] += 1  # the checkpoint holds its own copy
    path = write_checkpoint(tmp_path / "c.pt", state)
    back = read_checkpoint(path)
    assert back["format"] == CHECKPOINT_FORMAT and back["step"] == 7
    assert torch.equal(back["model"]["w"], torch.arange(6, dtype=torch.float32).reshape(2, 3))
    torch.save(dict(state, format=99), tmp_path / "other.pt")
    with pytest.raises(RunError, match="format 99"):
        read_checkpoint(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(RunError, match="cannot read"):
        read_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(RunError, match="no checkpoint"):
        read_checkpoint(tmp_path / "missing.pt")


def test_run_dir_files(tmp_path):
    rd = RunDir(tmp_path / "run")
    assert not rd.is_run()
    with pytest.raises(RunError):
        rd.read_config()
    rd.write_config({"a": 1})
    rd.write_provenance("seqvae train x")
    rd.write_items("train", ["x", "y"])
    rd.write_train_keys(["k2", "k1", "k1"])
    rd.save_checkpoint(make_checkpoint({}, {}, {}))
    from automata.atomic import file_sha256

    assert rd.is_run() and rd.read_config() == {
        "a": 1, "checkpoint_sha256": file_sha256(rd.checkpoint_path),
        "checkpoint_sha256_previous": None}
    rd.write_config({"a": 2})  # the digest of the checkpoint that exists is kept
    assert rd.read_config()["checkpoint_sha256"] == file_sha256(rd.checkpoint_path)
    assert rd.read_items("train") == ["x", "y"] and rd.read_items("val") == []
    assert rd.read_train_keys() == {"k1", "k2"}
    with pytest.raises(RunError):
        rd.write_items("test", [])


def test_truncate_metrics_drops_what_a_resume_redoes(tmp_path):
    rd = RunDir(tmp_path)
    for rec in ({"kind": "step", "step": 1, "epoch": 0}, {"kind": "step", "step": 2, "epoch": 0},
                {"kind": "epoch", "step": 2, "epoch": 0}, {"kind": "step", "step": 3, "epoch": 1}):
        rd.append_metrics(rec)
    rd.truncate_metrics(step=2, epoch=0)
    kept = [json.loads(line) for line in rd.metrics_path.read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in kept] == [("step", 1), ("step", 2)]
