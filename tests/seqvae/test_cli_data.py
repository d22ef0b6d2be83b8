import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automata.canon import canonical_key
from automata.formats import parse_compact
from seqvae.cli import app
from seqvae.data import load_dataset
from seqvae.domains import domain_for_dataset
from seqvae.tokenizers import tokenizer_from_dict
from seqvae.validators import register_validator

register_validator("test_alpha", str.isalpha, replace=True)
register_validator("test_upper", str.isupper, str.upper, replace=True)
register_validator("test_lower", str.islower, replace=True)

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "smiles_tiny.txt"


def _one_line_error(result):
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    # one message (rich may wrap a long one at the terminal width)
    assert text.startswith("error:") and text.count("error:") == 1, result.stderr
    assert "Traceback" not in result.output
    return " ".join(text.split())


def test_automata_smoke(tmp_path):
    out = tmp_path / "a.parquet"
    result = runner.invoke(app, ["data", "automata", "--n-states", "5", "--n-letters", "2",
                                 "--count", "150", "--seed", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows"] == 150 and summary["shortfall"] == 0
    df, meta = load_dataset(out)
    assert len(df) == 150
    columns = {"item", "n_states", "n_letters", "reset_length", "strongly_connected"}
    assert columns <= set(df.columns)
    assert len({canonical_key(parse_compact(s)) for s in df["item"]}) == 150
    assert meta["seed"] == 3 and meta["domain"] == "automata"
    assert meta["parameters"]["n_states"] == 5 and "seqvae_version" in meta
    assert Path(summary["sidecar"]) == tmp_path / "a.parquet.json"
    assert summary["reset_length"]["mean"] == pytest.approx(df["reset_length"].mean(), abs=1e-3)


def test_automata_range_and_enrich(tmp_path):
    out = tmp_path / "b.parquet"
    result = runner.invoke(app, ["data", "automata", "--n-states-range", "4", "6", "--count", "90",
                                 "--enrich", "mutate:0.5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    df, meta = load_dataset(out)
    assert sorted(df["n_states"].unique().tolist()) == [4, 5, 6]
    assert meta["parameters"]["enrich"] == {"mutate": 0.5}
    assert (df["source"] == "mutate").sum() > 0


@pytest.mark.parametrize("args, fragment", [
    (["--n-states", "5", "--n-states-range", "3", "4"], "exactly one"),
    ([], "exactly one"),
    (["--n-states", "5", "--enrich", "bogus"], "bad enrichment"),
    (["--n-states", "5", "--count", "0"], "count"),
    (["--n-states", "80"], "64"),
])
def test_automata_bad_input(tmp_path, args, fragment):
    result = runner.invoke(app, ["data", "automata", *args, "-o", str(tmp_path / "x.parquet")])
    assert fragment in _one_line_error(result)
    assert not (tmp_path / "x.parquet").exists()


def test_strings_smoke(tmp_path):
    out = tmp_path / "s.parquet"
    result = runner.invoke(app, ["data", "strings", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    df, meta = load_dataset(out)
    lines = [s.strip() for s in EXAMPLE.read_text().splitlines() if s.strip()]
    assert df["item"].tolist() == lines
    tok = tokenizer_from_dict(meta["domain_spec"]["tokenizer"])
    assert "Cl" in tok.vocab and "[nH]" in tok.vocab and "%10" in tok.vocab
    assert all(tok.decode(tok.encode(s)) == s for s in lines)
    assert domain_for_dataset(df, meta).tokenizer == tok


def test_strings_validity_filter(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("abc\nABC\nDEF\n")
    out = tmp_path / "s.parquet"
    result = runner.invoke(app, ["data", "strings", str(src), "--tokenizer", "char",
                                 "--validity", "test_upper", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dropped_invalid"] == 1
    df, meta = load_dataset(out)
    assert df["item"].tolist() == ["ABC", "DEF"]
    assert meta["validity"] == "test_upper"


@pytest.mark.parametrize("extra, fragment", [
    (["--column", "x"], "Parquet files only"),
    (["--tokenizer", "bpe"], "--tokenizer"),
    (["--validity", "nomodule_zz:f"], "no validator named"),
])
def test_strings_bad_input(tmp_path, extra, fragment):
    result = runner.invoke(app, ["data", "strings", str(EXAMPLE), *extra,
                                 "-o", str(tmp_path / "x.parquet")])
    assert fragment in _one_line_error(result)


def test_strings_missing_file(tmp_path):
    result = runner.invoke(app, ["data", "strings", str(tmp_path / "none.txt"),
                                 "-o", str(tmp_path / "x.parquet")])
    assert "no such file" in _one_line_error(result)
