"""Valid-first beam search: the best finished beam an ``accept`` test passes, else the best
beam; the run-level decode settings; and the command-line options that choose them."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.config import ModelConfig
from seqvae.constraints import StringConstraint
from seqvae.decode import DecodeSettings, DecodingError, decode
from seqvae.model import SeqVAE
from seqvae.tokenizers import CharTokenizer
from tests.script_helpers import load_script

from .mol_helpers import train_tiny_smiles_run

torch.set_num_threads(1)
runner = CliRunner()
TOK = CharTokenizer.fit(["abcde"])


def _model(seed=0) -> SeqVAE:
    torch.manual_seed(seed)
    cfg = ModelConfig.for_tokenizer(TOK, 10, d_z=3, enc_hidden=8, dec_z_dim=8, dec_hidden=16,
                                    embed_dim=8, conv_channels=(8,), conv_kernels=(3,))
    model = SeqVAE(cfg).eval()
    with torch.no_grad():  # an untrained decoder with distinct, history-dependent choices
        model.decoder.out.weight.mul_(3.0)
    return model


class Recorder:
    """An accept test that keeps what it was asked (one latent point per call here)."""

    def __init__(self, test):
        self.test, self.asked = test, []

    def __call__(self, seqs):
        verdicts = [self.test(s) for s in seqs]
        self.asked.append(list(zip(seqs, verdicts)))
        return verdicts


@pytest.mark.parametrize("test", [lambda s: len(s) % 2 == 0, lambda s: TOK.encode("b")[1] in s,
                                  lambda s: False, lambda s: True])
def test_valid_first_returns_the_best_accepted_beam_whenever_one_is(test):
    model = _model()
    constraint = StringConstraint(TOK, 8, min_len=1)
    z = np.random.default_rng(0).standard_normal((12, 3)).astype(np.float32)
    for point in z:
        rec = Recorder(test)
        got, = decode(model, point[None], method="beam", beam_width=6, constraint=constraint,
                      accept=rec)
        plain, = decode(model, point[None], method="beam", beam_width=6, constraint=constraint)
        candidates = rec.asked[0]   # finished beams, best score first
        passing = [s for s, ok in candidates if ok]
        if passing:
            assert got == passing[0]
        else:
            assert got == plain
        if all(ok for _, ok in candidates):
            assert got == candidates[0][0]


def test_accept_needs_beam_and_settings_are_checked():
    model = _model()
    with pytest.raises(DecodingError, match="beam"):
        decode(model, np.zeros((1, 3)), method="greedy", accept=lambda s: [True] * len(s))
    with pytest.raises(DecodingError, match="beam"):
        DecodeSettings("greedy", valid_first=True)
    for width in (0, 10_000, 2.5, True):
        with pytest.raises(DecodingError, match="width"):
            DecodeSettings("beam", width)
    with pytest.raises(DecodingError, match="decoding"):
        DecodeSettings("sample")


@pytest.fixture(scope="module")
def mol_run(tmp_path_factory):
    pytest.importorskip("rdkit")
    return train_tiny_smiles_run(tmp_path_factory.mktemp("valid_first"))


def test_valid_first_on_a_molecule_run_is_valid_whenever_a_beam_is(mol_run):
    from seqvae.runs import load_run

    run = load_run(mol_run).use_decoding("beam", 4, grammar=True, valid_first=True)
    z = run.sample_prior(8, seed=1)
    picked = run.decode_parsed(z)
    plain = run.copy().use_decoding("beam", 4, grammar=True).decode_parsed(z)
    for point, got, base in zip(z, picked, plain):
        rec = Recorder(lambda s: run.domain.parse(s).ok)
        decode(run.model, point[None], method="beam", beam_width=4,
               constraint=run.constraint(), accept=rec)
        any_valid = any(ok for _, ok in rec.asked[0])
        assert got.ok == any_valid
        if not any_valid:
            assert got.item == base.item
    assert run.decoding.label() == "beam 4 + grammar + valid-first"


def _one_line_error(result):
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("error:") and len(text.splitlines()) == 1, result.stderr
    return text


def test_command_line_decoding_options(mol_run):
    out = runner.invoke(app, ["sample", str(mol_run), "-n", "4", "--json", "--method", "beam",
                              "--beam-width", "3", "--grammar", "--valid-first"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["eval", str(mol_run), "--json", "--samples", "0", "--max-items",
                              "5", "--prior-count", "5", "--iwae-samples", "2", "--decode",
                              "beam", "--beam-width", "2", "--grammar", "--no-valid-first"])
    assert out.exit_code == 0, out.output
    assert '"label": "beam 2 + grammar"' in out.stdout
    assert "beam" in _one_line_error(runner.invoke(
        app, ["sample", str(mol_run), "--method", "greedy", "--valid-first"]))
    assert "--decode" in _one_line_error(runner.invoke(
        app, ["eval", str(mol_run), "--decode", "sample"]))
    assert "beam-width" in _one_line_error(runner.invoke(
        app, ["eval", str(mol_run), "--decode", "beam", "--beam-width", "0"]))
    assert "unconstrained" in _one_line_error(runner.invoke(
        app, ["sample", str(mol_run), "--grammar", "--unconstrained"]))


def test_grammar_is_refused_for_a_selfies_run(tmp_path):
    pytest.importorskip("selfies")
    from .mol_helpers import DRUGS, TINY_JSON

    assert runner.invoke(app, ["data", "smiles", str(DRUGS), "-o",
                               str(tmp_path / "d.parquet")]).exit_code == 0
    result = runner.invoke(app, ["train", "smiles", "--data", str(tmp_path / "d.parquet"),
                                 "--out", str(tmp_path / "run"), "--representation", "selfies",
                                 "--epochs", "1", "--max-steps", "1", "--model-config",
                                 TINY_JSON, "--threads", "1", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "grammar" in _one_line_error(runner.invoke(
        app, ["sample", str(tmp_path / "run"), "--grammar"]))


@pytest.mark.parametrize("argv,needle", [
    (["--decoders", "beamX"], "beamW"), (["--decoders", "beam3+fast"], "flag"),
    (["--priors", "standard:x"], "NAME:SCALE"), (["--samples", "0"], ">= 1"),
    (["--decoders", "greedy+valid-first"], "beam")])
def test_decoding_benchmark_refuses_bad_values(mol_run, capsys, argv, needle):
    assert load_script("bench_smiles_decoding").main([str(mol_run), *argv]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1 and needle in out.err


def test_decoding_benchmark_prints_a_row_per_decoder(mol_run, capsys, tmp_path):
    import json

    assert load_script("bench_smiles_decoding").main(
        [str(mol_run), "--samples", "6", "--items", "4", "--no-fcd",
         "--decoders", "greedy,beam2+grammar+valid-first", "--json",
         str(tmp_path / "rows.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[1] for ln in lines[2:]] == ["greedy", "beam2+grammar+valid-first"]
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [r["decoder"] for r in rows] == ["greedy", "beam2+grammar+valid-first"]
    assert all(0 <= r["validity"] <= 1 and 0 <= r["reconstruction"] <= 1 for r in rows)


def test_bench_smiles_refuses_valid_first_without_beam(mol_run, capsys):
    assert load_script("bench_smiles").main([str(mol_run), "--valid-first"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "beam" in err


def test_decode_command_takes_the_decoding_options(mol_run, tmp_path):
    import json

    latents = tmp_path / "z.json"
    latents.write_text(json.dumps([[0.0] * 4, [0.5] * 4]))
    out = runner.invoke(app, ["decode", str(mol_run), str(latents), "--method", "beam",
                              "--beam-width", "3", "--grammar", "--valid-first", "--json"])
    assert out.exit_code == 0, out.output
    # molecule runs decode by beam by default; valid-first with greedy is still refused
    assert "beam" in _one_line_error(runner.invoke(
        app, ["decode", str(mol_run), str(latents), "--method", "greedy", "--valid-first"]))
