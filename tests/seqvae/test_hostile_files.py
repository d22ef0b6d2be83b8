"""Files that ask for unbounded resources or name code: refused with typed errors, in
bounded memory and time."""
from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.errors import SearchError, SeqVAEError
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.runs import load_run, train
from seqvae.strings import StringDomain
from seqvae.tokenizers import RegexTokenizer, TokenizerError

runner = CliRunner()
TINY_MODEL = dict(d_z=2, embed_dim=8, conv_channels=(8,), conv_kernels=(3,), enc_hidden=16,
                  dec_z_dim=8, dec_hidden=16, dec_layers=1)
TINY_TRAIN = dict(epochs=1, batch_size=32, val_fraction=0.1, test_fraction=0.1, seed=0)


@pytest.fixture(scope="module")
def strings_run(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = sorted({"".join(rng.choice(list("CNO()="), size=rng.integers(2, 7)))
                    for _ in range(120)})
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("hostile") / "run"
    train(words, StringDomain(RegexTokenizer.fit(words)), out_dir=out, model_config=TINY_MODEL,
          train_config=TINY_TRAIN)
    return out


def _tampered(run_dir, tmp_path, edit):
    copy = tmp_path / "tampered"
    shutil.copytree(run_dir, copy)
    cfg = json.loads((copy / "config.json").read_text())
    edit(cfg)
    (copy / "config.json").write_text(json.dumps(cfg))
    return copy


def test_a_huge_tokenizer_size_is_refused_before_allocating():
    with pytest.raises(TokenizerError, match="at most 1024 states"):
        AutomatonTokenizer.from_dict({"type": "automaton", "max_states": 10 ** 9,
                                      "max_letters": 2})
    with pytest.raises(TokenizerError, match="integers"):
        AutomatonTokenizer.from_dict({"type": "automaton", "max_states": 7.5, "max_letters": 2})


def test_a_tokenizer_that_disagrees_with_the_weights_is_refused(strings_run, tmp_path):
    def grow_vocab(cfg):
        cfg["domain"]["tokenizer"]["vocab"] += [f"X{i}" for i in range(5000)]

    with pytest.raises(SeqVAEError, match="tokenizer has"):
        load_run(_tampered(strings_run, tmp_path, grow_vocab))


def test_model_sizes_must_match_the_weights_held(strings_run, tmp_path):
    from seqvae.config import ModelConfig
    from seqvae.runs import _check_sizes

    state = torch.load(strings_run / "checkpoint.pt", weights_only=True)
    mcfg = ModelConfig.from_dict(state["model_config"])
    _check_sizes(mcfg, state["model"])
    huge = mcfg.replace(dec_hidden=200_000)  # ~10^11 weights if it were built
    with pytest.raises(SeqVAEError, match="does not match the weights"):
        _check_sizes(huge, state["model"])


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(.*)*x", "."])
def test_a_tampered_tokenizer_pattern_is_refused(strings_run, tmp_path, pattern):
    def evil(cfg):
        cfg["domain"]["tokenizer"]["pattern"] = pattern
        cfg["domain"]["tokenizer"].pop("pattern_name", None)

    tampered = _tampered(strings_run, tmp_path, evil)
    if pattern == ".":  # a registered pattern ("char") is accepted by its text
        load_run(tampered)
        return
    start = time.monotonic()
    with pytest.raises(SeqVAEError, match="not a registered pattern"):
        load_run(tampered)
    result = runner.invoke(app, ["eval", str(tampered)])
    assert result.exit_code == 2 and "not a registered pattern" in result.output
    assert time.monotonic() - start < 30


def _npz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy_header(shape, dtype="<i8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def test_a_zip_bomb_checkpoint_is_refused_before_decompressing(tmp_path, monkeypatch):
    import seqvae.hunt.search.checkpoint as core

    lying = tmp_path / "lying.npz"  # an array header asking for 80 GB, in a few bytes
    lying.write_bytes(_npz({"archive_tables.npy": _npy_header((10 ** 10,)) + b"\0" * 64}))
    with pytest.raises(SearchError, match="declares a 80000000000-byte array"):
        core.load_checkpoint(lying)
    monkeypatch.setattr(core, "MAX_CHECKPOINT_BYTES", 4 << 20)
    bomb = tmp_path / "bomb.npz"  # 16 MB of zeros in about 16 kB
    bomb.write_bytes(_npz({"archive_tables.npy": _npy_header((2 << 20,)) + bytes(16 << 20)}))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(SearchError, match="declares .* bytes of content"):
        core.load_checkpoint(bomb)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(SearchError, match="not a readable search checkpoint"):
        core.load_checkpoint(garbage)


def test_search_checkpoint_digest_and_leftover_temp(tmp_path):
    from seqvae.hunt.search import search_extreme
    from seqvae.hunt.search.core import load_checkpoint

    out = tmp_path / "s"
    out.mkdir()
    leftover = out / ".checkpoint.npz.abcd1234.tmp"
    leftover.write_bytes(b"half")
    search_extreme(4, 2, "random", budget=60, seed=0, out_dir=out, checkpoint_steps=1)
    assert not leftover.exists()
    doc, tables, rts = load_checkpoint(out / "checkpoint.npz")
    assert len(doc["sha256"]) == 64
    with np.load(out / "checkpoint.npz") as data:
        arrays = {k: np.array(data[k]) for k in data.files}
    arrays["archive_rts"] = arrays["archive_rts"].copy()
    arrays["archive_rts"][0] += 1
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    (out / "checkpoint.npz").write_bytes(buffer.getvalue())
    with pytest.raises(SearchError, match="corrupt or was changed"):
        load_checkpoint(out / "checkpoint.npz")


def test_search_extreme_with_a_strings_run_is_one_clear_error(strings_run):
    result = runner.invoke(app, ["search-extreme", "-n", "4", "--method", "vae", "--model",
                                 str(strings_run), "--budget", "50"])
    assert result.exit_code == 2, result.output
    assert "needs a run trained on automata" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_sigterm_stops_search_extreme_with_a_checkpoint(tmp_path):
    out = tmp_path / "s"
    cmd = [sys.executable, "-c", "from seqvae.cli import main; main()", "search-extreme",
           "-n", "9", "--method", "evolve", "--budget", "10000000", "--out", str(out),
           "--checkpoint-every", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 120
        while not (out / "checkpoint.npz").exists() and time.monotonic() < end \
                and proc.poll() is None:
            time.sleep(0.1)
        assert (out / "checkpoint.npz").exists(), proc.stderr.read() if proc.poll() else ""
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "continue with --resume" in err
    from seqvae.hunt.search.core import load_checkpoint

    doc, tables, _ = load_checkpoint(out / "checkpoint.npz")
    assert doc["steps"] >= 1 and len(tables) > 0


@pytest.mark.parametrize("scenario", ["dev-zero", "forged-chunk", "fifo-chunk"])
def test_the_attack_table_script_runs_and_each_attack_holds(scenario):
    # scripts/hostile_table.py is what the trust figures come from: keep it working.
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "scripts" / "hostile_table.py"), "--only",
                          scenario, "--json"], capture_output=True, text=True, cwd=root,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    (row,) = json.loads(out.stdout)
    assert row["name"] == scenario and row["holds"] and row["peak_mb"] > 0
