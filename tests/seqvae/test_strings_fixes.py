"""Strings-side fixes: the stored domain of a data set, option names in errors, markup."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.runs import load_run
from seqvae.validators import register_validator

runner = CliRunner()
TINY = json.dumps(dict(d_z=4, enc_hidden=24, dec_z_dim=8, dec_hidden=24, dec_layers=1,
                       embed_dim=8, conv_channels=[8], conv_kernels=[3]))
register_validator("test_lower", str.islower, replace=True)
WORDS = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba", "abb", "baa", "ccc", "cca"]


def test_train_strings_keeps_the_data_sets_tokenizer_and_validity(tmp_path):
    src = tmp_path / "w.txt"
    src.write_text("\n".join(WORDS + ["ABC"]) + "\n")
    data = tmp_path / "w.parquet"
    made = runner.invoke(app, ["data", "strings", str(src), "-o", str(data), "--tokenizer",
                               "char", "--validity", "test_lower"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["dropped_invalid"] == 1
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "strings", str(data), "--out", str(out), "--epochs",
                                 "1", "--model-config", TINY, "--threads", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    domain = load_run(out).domain
    assert domain.tokenizer.type_name == "char"
    assert domain.validity_name == "test_lower"
    # an explicit option still wins over the stored one
    out2 = tmp_path / "run2"
    result = runner.invoke(app, ["train", "strings", str(data), "--out", str(out2), "--epochs",
                                 "1", "--tokenizer", "regex", "--model-config", TINY,
                                 "--threads", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    domain2 = load_run(out2).domain
    assert domain2.tokenizer.type_name == "regex"
    assert domain2.validity_name == "test_lower"


def test_encode_error_names_no_option_it_lacks(tmp_path):
    src = tmp_path / "w.txt"
    src.write_text("\n".join(WORDS) + "\n")
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "strings", str(src), "--out", str(out), "--epochs",
                                 "1", "--model-config", TINY, "--threads", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    table = tmp_path / "t.csv"
    table.write_text("a,b\nabc,bca\n")
    result = runner.invoke(app, ["encode", str(out), str(table)])
    assert result.exit_code == 2
    assert "several columns" in result.output and "--column" not in result.output


def test_help_keeps_bracket_atoms():
    result = runner.invoke(app, ["data", "strings", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "[nH]" in result.output
