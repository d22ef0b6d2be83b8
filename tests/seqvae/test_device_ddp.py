"""``--device`` on train automata / train strings / search-extreme, and the DDP backend choice."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import seqvae.train_distributed as distributed_module
from seqvae.cli import app
from seqvae.cli.search_cmd import _device_options
from seqvae.errors import TrainingError
from seqvae.train import distributed_backend, init_distributed, rank_device

torch.set_num_threads(1)
runner = CliRunner()
TINY = json.dumps(dict(d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16, dec_layers=1,
                       embed_dim=8, conv_channels=[8], conv_kernels=[3]))
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")


def _one_line_cuda_error(result):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = result.stderr.strip()
    assert len(text.splitlines()) == 1 and "CUDA is not available" in text, result.stderr


# -- --device on the commands --------------------------------------------------------------
@no_cuda
@pytest.mark.parametrize("args", [
    ["train", "automata", "--n-states", "4", "--count", "50", "--epochs", "1"],
    ["search-extreme", "-n", "4", "--method", "vae", "--budget", "20"],
    ["search-extreme", "-n", "4", "--method", "evolve", "--budget", "20"],
])
def test_cuda_without_cuda_is_one_line_and_exit_2(args, tmp_path):
    result = runner.invoke(app, [*args, "--device", "cuda", "--out", str(tmp_path / "o")])
    _one_line_cuda_error(result)
    assert not (tmp_path / "o" / "checkpoint.pt").exists()


@no_cuda
def test_train_strings_cuda_without_cuda_is_one_line(tmp_path):
    words = tmp_path / "w.txt"
    words.write_text("\n".join(["ab", "ba", "abc", "cab"] * 5) + "\n")
    result = runner.invoke(app, ["train", "strings", str(words), "--tokenizer", "char",
                                 "--device", "cuda", "--out", str(tmp_path / "run")])
    _one_line_cuda_error(result)


def test_unknown_device_is_one_line(tmp_path):
    result = runner.invoke(app, ["train", "automata", "--n-states", "4", "--count", "50",
                                 "--device", "tpu", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "unknown device" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["automata", "strings"])
def test_train_on_cpu_records_the_device(kind, tmp_path):
    out = tmp_path / "run"
    if kind == "automata":
        args = ["train", "automata", "--n-states", "4", "--count", "60"]
    else:
        words = tmp_path / "w.txt"
        words.write_text("\n".join(["ab", "ba", "abc", "cab", "bca", "acb"] * 10) + "\n")
        args = ["train", "strings", str(words), "--tokenizer", "char"]
    result = runner.invoke(app, [*args, "--epochs", "1", "--batch-size", "16", "--model-config",
                                 TINY, "--device", "cpu", "--threads", "1", "--quiet",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["device"] == "cpu"
    assert "--device cpu" in (out / "command.txt").read_text()


def test_search_device_reaches_the_methods_with_a_vae():
    dev = torch.device("cpu")
    assert _device_options("vae", dev, None) == {"device": dev}
    assert _device_options("hybrid", dev, None) == {"device": dev}
    assert _device_options("boost", dev, ["a.txt"]) == {"transfer_from": ["a.txt"],
                                                        "latent_options": {"device": dev}}
    assert _device_options("evolve", dev, None) is None


def test_latent_search_moves_its_model_to_the_device(tmp_path):
    """The search loads its run onto the device it is given (meta: shapes only, so the move
    is visible without a GPU)."""
    import numpy as np

    from seqvae.hunt.search.core import SearchContext
    from seqvae.hunt.search.latent_search import LatentSearch, train_start_model

    train_start_model(4, 2, seed=0, count=40, epochs=1, out_dir=tmp_path / "m")
    ctx = SearchContext(4, 2, 10, np.random.default_rng(0), evaluator=lambda t: t)
    for device, expected in ((None, "cpu"), (torch.device("meta"), "meta")):
        method = LatentSearch(ctx, model=str(tmp_path / "m"), device=device)
        method._ensure_model()
        assert method.run.device.type == expected


# -- the DDP backend -------------------------------------------------------------------------
def test_backend_follows_the_device():
    assert distributed_backend("cpu") == "gloo"
    assert distributed_backend(torch.device("cuda")) == "nccl"
    assert distributed_backend(torch.device("cuda", 3)) == "nccl"


def test_each_rank_gets_its_local_gpu(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert rank_device(torch.device("cuda", 0)) == torch.device("cuda", 2)
    assert rank_device("cpu") == torch.device("cpu")
    assert rank_device(None) == torch.device("cpu")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert rank_device(torch.device("cuda", 0)) == torch.device("cuda", 0)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "x")
    with pytest.raises(TrainingError, match="LOCAL_RANK"):
        rank_device(torch.device("cuda"))


class _FakeDist:
    """Records what init_distributed asks of torch.distributed (no process group is made)."""

    def __init__(self):
        self.backends = []

    def is_available(self):
        return True

    def is_initialized(self):
        return False

    def init_process_group(self, backend):
        self.backends.append(backend)


@pytest.mark.parametrize("device,backend,bound", [
    ("cpu", "gloo", None), (torch.device("cuda", 0), "nccl", torch.device("cuda", 1))])
def test_init_distributed_chooses_backend_and_binds_the_gpu(monkeypatch, device, backend, bound):
    import torch.distributed as dist

    fake = _FakeDist()
    bound_to = []
    for name in ("is_available", "is_initialized", "init_process_group"):
        monkeypatch.setattr(dist, name, getattr(fake, name))
    monkeypatch.setattr(distributed_module, "_dist", lambda: None)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", bound_to.append)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    init_distributed(device)
    assert fake.backends == [backend]
    assert bound_to == ([] if bound is None else [bound])


def test_init_distributed_refuses_a_rank_without_a_gpu(monkeypatch):
    import torch.distributed as dist

    fake = _FakeDist()
    monkeypatch.setattr(dist, "is_available", fake.is_available)
    monkeypatch.setattr(dist, "is_initialized", fake.is_initialized)
    monkeypatch.setattr(dist, "init_process_group", fake.init_process_group)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with pytest.raises(TrainingError, match="only 1 CUDA device"):
        init_distributed(torch.device("cuda"))
    assert fake.backends == []


def test_train_under_torchrun_joins_and_leaves_the_process_group(tmp_path):
    """The documented torchrun path: two CPU ranks run the CLI's training, rank 0 alone
    reports and writes, and every rank leaves the group cleanly (exit status 0)."""
    import shutil
    import subprocess
    import sys

    # the entry point installed beside this interpreter, not another one found on PATH
    beside = Path(sys.executable).with_name("seqvae")
    seqvae_bin = str(beside) if beside.exists() else shutil.which("seqvae")
    assert seqvae_bin, "the seqvae command is not installed"
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         seqvae_bin, "train", "automata", "--n-states", "4", "--count", "96", "--epochs", "1",
         "--out", str(out), "--quiet", "--model-config", TINY],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)  # one JSON object: only rank 0 printed
    assert summary["world_size"] == 2
    # 86 training items in batches of up to 64: two batches, one per rank
    assert summary["counts"]["train"] == 86 and summary["steps"] == 1
    assert (out / "checkpoint.pt").exists()
    assert "terminate called" not in result.stderr
