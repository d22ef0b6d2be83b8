"""Molecule runs decode by valid-first beam search under the SMILES grammar by default;
invalid decodes show their specific reason; other domains keep greedy decoding."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("rdkit")

from rdkit import Chem  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.molecules.chem.invalid import INVALID_REASONS  # noqa: E402
from tests.seqvae.mol_helpers import train_tiny_smiles_run  # noqa: E402

runner = CliRunner()
VALID_FIRST = {"method": "beam", "beam_width": 8, "grammar": True, "valid_first": True}


@pytest.fixture(scope="module")
def smiles_run(tmp_path_factory):
    return train_tiny_smiles_run(tmp_path_factory.mktemp("defaults"))


@pytest.fixture(scope="module")
def strings_run(tmp_path_factory):
    from seqvae.runs import train
    from seqvae.strings import StringDomain

    words = ["abc", "abd", "bcd", "cab", "dab", "bad"] * 4
    out = tmp_path_factory.mktemp("strings") / "run"
    train(words, StringDomain.fit(words, "char"), out_dir=out,
          model_config=dict(d_z=2, enc_hidden=8, dec_z_dim=4, dec_hidden=8, dec_layers=1,
                            embed_dim=4, conv_channels=[4], conv_kernels=[3]),
          train_config=dict(epochs=1, batch_size=8))
    return out


def _eval(run, *extra):
    result = runner.invoke(app, ["eval", str(run), "--json", "--max-items", "4",
                                 "--prior-count", "4", "--samples", "0", "--iwae-samples", "2",
                                 "--threads", "1", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_of_a_smiles_run_decodes_valid_first_beam_by_default(smiles_run):
    out = _eval(smiles_run)
    assert {k: out["decoding"][k] for k in VALID_FIRST} == VALID_FIRST
    assert out["prior_method"] == "beam"
    greedy = _eval(smiles_run, "--decode", "greedy")
    assert greedy["decoding"]["method"] == "greedy" and not greedy["decoding"]["valid_first"]
    assert greedy["decoding"]["grammar"]  # the grammar stays on unless --no-grammar
    plain = _eval(smiles_run, "--decode", "greedy", "--no-grammar")
    assert not plain["decoding"]["grammar"]
    narrow = _eval(smiles_run, "--beam-width", "2", "--no-valid-first")
    assert narrow["decoding"]["beam_width"] == 2 and not narrow["decoding"]["valid_first"]


def test_strings_runs_keep_greedy_decoding(strings_run):
    out = _eval(strings_run)
    assert out["decoding"]["method"] == "greedy"
    assert not out["decoding"]["grammar"] and not out["decoding"]["valid_first"]


def test_default_sample_lines_are_molecules_or_marked_with_a_reason(smiles_run, tmp_path):
    out = tmp_path / "s.smi"
    for extra in ([], ["--decode", "greedy"], ["--method", "sample", "--unconstrained"]):
        result = runner.invoke(app, ["sample", str(smiles_run), "--count", "12", "-o", str(out),
                                     "--threads", "1", *extra])
        assert result.exit_code == 0, result.output
        for line in out.read_text().splitlines():
            if line.startswith("#"):
                assert line.startswith("# invalid: ")
                reason, *text = line[len("# invalid: "):].split(": ", 1)
                # with text: RDKit's reason; without: the tokens do not decode (missing EOS)
                assert reason in INVALID_REASONS if text else reason, line
            else:
                assert Chem.MolFromSmiles(line) is not None, line


def test_sample_help_promises_the_reason_format_and_the_defaults():
    result = runner.invoke(app, ["sample", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert "# invalid: REASON: TEXT" in text and "valid-first" in text
    assert "--decode" in text and "--no-grammar" in text


@pytest.mark.parametrize("args, message", [
    (["sample", "--decode", "greedy", "--valid-first"], "--valid-first needs beam search"),
    (["sample", "--decode", "nope"], "--method must be"),
    (["sample", "--grammar", "--unconstrained"], "drop --unconstrained"),
    (["sample", "--beam-width", "0"], "--beam-width must be >= 1"),
    (["eval", "--decode", "sample"], "--decode must be greedy or beam"),
])
def test_bad_decoding_options_are_one_line_errors(smiles_run, args, message):
    result = runner.invoke(app, [args[0], str(smiles_run), *args[1:]])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
