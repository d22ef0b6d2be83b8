"""SMILES on the command line: ``encode RUN --smiles`` and ``interpolate --between SMILES SMILES``."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("rdkit")

from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.runs import load_run  # noqa: E402
from tests.seqvae.mol_helpers import train_tiny_smiles_run  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_tiny_smiles_run(tmp_path_factory.mktemp("smiles_cli"))


def _one_line_error(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_encode_smiles_matches_the_library(run_dir):
    result = runner.invoke(app, ["encode", str(run_dir), "--smiles", "OCC", "--smiles",
                                 "c1ccccc1O"])
    assert result.exit_code == 0, result.output
    z = np.asarray(json.loads(result.stdout)["z"])
    mu, _ = load_run(run_dir).encode(["CCO", "Oc1ccccc1"])
    assert np.allclose(z, mu, atol=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--smiles", "C1CC"], "not a valid molecule"),
    (["--smiles", "[U]"], "not in the vocabulary"),
    ([], "give a file of items"),
    (["items.smi", "--smiles", "CCO"], "not both"),
])
def test_bad_encode_smiles_is_a_one_line_error(run_dir, args, message):
    _one_line_error(runner.invoke(app, ["encode", str(run_dir), *args]), message)


def test_encode_smiles_needs_a_molecule_run(tmp_path):
    from seqvae.runs import train
    from seqvae.strings import StringDomain

    words = ["abc", "abd", "bcd", "cab"] * 3
    train(words, StringDomain.fit(words, "char"), out_dir=tmp_path / "s",
          model_config=dict(d_z=2, enc_hidden=8, dec_z_dim=4, dec_hidden=8, dec_layers=1,
                            embed_dim=4, conv_channels=[4], conv_kernels=[3]),
          train_config=dict(epochs=1, batch_size=8))
    _one_line_error(runner.invoke(app, ["encode", str(tmp_path / "s"), "--smiles", "CCO"]),
                    "--smiles needs a molecule run")


def test_interpolate_between_smiles_draws_the_inputs_at_both_ends(run_dir, tmp_path,
                                                                  monkeypatch):
    from seqvae import plots

    drawn = {}
    original = plots.plot_path_grid

    def spy(rows, positions, path, **kw):
        drawn.update(rows)
        return original(rows, positions, path, **kw)

    monkeypatch.setattr(plots, "plot_path_grid", spy)
    out = tmp_path / "interp"
    result = runner.invoke(app, ["interpolate", str(run_dir), "--between", "OCC",
                                 "c1ccccc1O", "--polar", "--steps", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    items, labels = drawn["polar"]
    assert (items[0], items[-1]) == ("CCO", "Oc1ccccc1")
    assert labels[0] == labels[-1] == "input"
    assert (out / "paths.png").stat().st_size > 0


def test_interpolate_between_a_bad_smiles_is_a_one_line_error(run_dir, tmp_path):
    _one_line_error(runner.invoke(app, ["interpolate", str(run_dir), "--between", "C1CC", "CCO",
                                        "--out", str(tmp_path / "i")]),
                    "neither a file nor a SMILES")


def test_eval_without_the_moses_data_warns_and_reports_pains_only(run_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQVAE_CACHE", str(tmp_path))        # no MOSES data there
    result = runner.invoke(app, ["eval", str(run_dir), "--json", "--samples", "30",
                                 "--max-items", "10", "--prior-count", "10", "--no-fcd",
                                 "--threads", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["filters"] is None and out["filters_mcf"] is False
    assert out["filters_pains"] == "rdkit"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "filters_pains_only" in warnings[0]
