"""One bad item is skipped and counted, never fatal to a whole file; string files in the
forms chemists keep them (gzip, .smi names, a byte-order mark) are read."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.data import MAX_STRING_LENGTH, load_strings, load_strings_report
from seqvae.errors import DataError
from seqvae.runs import train
from seqvae.strings import StringDomain
from seqvae.tokenizers import CharTokenizer
from seqvae.validators import register_validator

runner = CliRunner()
TINY_MODEL = dict(d_z=2, embed_dim=8, conv_channels=(8,), conv_kernels=(3,), enc_hidden=16,
                  dec_z_dim=8, dec_hidden=16, dec_layers=1)
TINY_TRAIN = dict(epochs=1, batch_size=32, val_fraction=0.1, test_fraction=0.1, seed=0)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = sorted({"".join(rng.choice(list("abcd"), size=rng.integers(2, 6))) for _ in range(120)})
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("bad") / "run"
    train(words, StringDomain(CharTokenizer.fit(words)), out_dir=out, model_config=TINY_MODEL,
          train_config=TINY_TRAIN)
    return out


def test_gzipped_csv_smi_names_and_bom(tmp_path):
    gz = tmp_path / "m.csv.gz"
    gz.write_bytes(gzip.compress(b"id,smiles\n1,CCO\n2,c1ccccc1\n"))
    assert load_strings(gz) == ["CCO", "c1ccccc1"]
    smi = tmp_path / "m.smi"
    smi.write_text("CCO ethanol\nc1ccccc1\tbenzene ring\n")
    assert load_strings(smi) == ["CCO", "c1ccccc1"]
    bom = tmp_path / "m.txt"
    bom.write_bytes(b"\xef\xbb\xbfCCO\r\nCN\n")
    assert load_strings(bom) == ["CCO", "CN"]
    txt_gz = tmp_path / "plain.txt"  # gzip told by its magic bytes, not the name
    txt_gz.write_bytes(gzip.compress(b"ab\ncd\n"))
    assert load_strings(txt_gz) == ["ab", "cd"]


def test_a_long_line_and_a_broken_line_are_skipped_and_counted(tmp_path):
    path = tmp_path / "s.txt"
    path.write_bytes(b"ab\n" + b"C" * 20_000 + b"\n\xff\xfe broken\nba\n")
    strings, report = load_strings_report(path)
    assert strings == ["ab", "ba"] and report == {"bad_lines": 1, "too_long": 1}
    assert len(load_strings(path, max_length=None)[1]) == 20_000
    dom, items, info = StringDomain.training_set(path, tokenizer="char")
    assert items == ["ab", "ba"] and info["skipped_too_long"] == 1
    assert max(len(s) for s in items) <= MAX_STRING_LENGTH
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match="UTF-8"):
        load_strings(tmp_path / "bin.txt")


def test_encode_skips_an_item_with_an_unknown_token(run_dir, tmp_path):
    items = tmp_path / "items.txt"
    items.write_text("ab\nabXd\ncd\n")
    result = runner.invoke(app, ["encode", str(run_dir), str(items), "--json"])
    assert result.exit_code == 0, result.output
    assert "skipped 1 of 3 items (item 2:" in result.stderr
    out = json.loads(result.stdout)
    assert len(out["z"]) == 2 and out["index"] == [0, 2] and out["n_skipped"] == 1
    assert out["skipped"][0]["index"] == 1 and "'X'" in out["skipped"][0]["error"]
    result = runner.invoke(app, ["encode", str(run_dir), str(items), "--strict"])
    assert result.exit_code == 2 and "item 2" in result.output
    npy = tmp_path / "z.npy"
    result = runner.invoke(app, ["encode", str(run_dir), str(items), "-o", str(npy)])
    assert result.exit_code == 0 and np.load(npy).shape == (2, 2)


def test_eval_on_data_counts_skipped_items(run_dir, tmp_path):
    items = tmp_path / "items.txt"
    items.write_text("ab\nabXd\ncd\nbad\n")
    result = runner.invoke(app, ["eval", str(run_dir), "--data", str(items), "--json",
                                 "--prior-count", "4", "--iwae-samples", "2"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items_skipped"] == 1
    result = runner.invoke(app, ["eval", str(run_dir), "--data", str(items), "--strict"])
    assert result.exit_code == 2


def test_plain_text_sample_marks_invalid_decodes_with_their_text(run_dir):
    register_validator("t_never", lambda s: False, replace=True)
    from seqvae.runs import load_run

    result = runner.invoke(app, ["sample", str(run_dir), "--count", "3"])
    plain = result.stdout.splitlines()
    assert result.exit_code == 0 and len(plain) == 3
    run = load_run(run_dir, validity="t_never")
    rows = run.sample(3, seed=0)
    from seqvae.cli.latents_cmd import _plain_row

    lines = [_plain_row({"ok": p.ok, "item": p.item, "error": p.error}) for p in rows]
    assert all(line.startswith("# invalid: rejected by validity function t_never: ")
               for line in lines)
    assert [line.rsplit(": ", 1)[1] for line in lines] == [p.item for p in rows]
