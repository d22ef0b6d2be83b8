"""FCD in ``seqvae eval`` for molecule runs: computed from the weights in the fcd wheel,
never downloaded; ``fcd: null`` with a reason when it cannot be computed."""
from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.molecules.evaluation import fcd_entry  # noqa: E402

runner = CliRunner()
DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"
TINY_JSON = json.dumps(dict(d_z=4, enc_hidden=24, dec_z_dim=8, dec_hidden=24, dec_layers=1,
                            embed_dim=8, conv_channels=[8], conv_kernels=[3]))
SET_A = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCOC", "c1ccncc1", "CCCl", "OCCO"]
SET_B = ["CCCCCCCCCC", "CCCCCCCCCCCC", "CCCCCCCCCCCCCC", "CCCCCCCCCCCCCCCC", "CCCCCCCCO",
         "CCCCCCCCCCN", "CCCCCCCCCCCCl", "CCCCCCCCCCCCO"]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_fcd_uses_the_weights_in_the_wheel_without_the_network(no_network):
    fcd = pytest.importorskip("fcd")
    import pkgutil

    assert len(pkgutil.get_data("fcd", "ChemNet_v0.13_pretrained.pt")) > 1_000_000
    same = fcd_entry(SET_A, SET_A)
    other = fcd_entry(SET_A, SET_B)
    assert same["fcd_reference"] == len(SET_A) and abs(same["fcd"]) < 1e-3
    assert other["fcd"] > 1.0 > same["fcd"]
    assert fcd.__name__ == "fcd"


def test_fcd_is_null_with_a_reason_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcd", None)  # import fcd now raises ImportError
    out = fcd_entry(SET_A, SET_B)
    assert out["fcd"] is None and "seqvae[fcd]" in out["fcd_reason"]


def test_fcd_is_null_with_a_reason_when_it_cannot_be_computed():
    assert fcd_entry(SET_A, []) == {"fcd": None, "fcd_reason": "no reference molecules"}
    out = fcd_entry(["C1CC", "xx"], SET_A)  # no valid generated molecule
    assert out["fcd"] is None and "two valid molecules" in out["fcd_reason"]


@pytest.fixture(scope="module")
def selfies_run(tmp_path_factory):
    # SELFIES: every decode of even a barely trained model is a valid molecule, so FCD has
    # molecules to compare
    base = tmp_path_factory.mktemp("fcd")
    result = runner.invoke(app, ["data", "smiles", str(DRUGS), "-o", str(base / "d.parquet")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["train", "smiles", "--data", str(base / "d.parquet"),
                                 "--out", str(base / "run"), "--representation", "selfies",
                                 "--epochs", "1", "--model-config", TINY_JSON, "--threads", "1",
                                 "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    return base / "run"


def _eval(run_dir, *extra):
    result = runner.invoke(app, ["eval", str(run_dir), "--json", "--prior-count", "10",
                                 "--samples", "40", "--iwae-samples", "2", "--max-items", "15",
                                 "--threads", "1", "--device", "cpu", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_reports_fcd_against_the_evaluation_molecules(selfies_run, no_network):
    pytest.importorskip("fcd")
    out = _eval(selfies_run)
    assert isinstance(out["fcd"], float) and out["fcd"] > 0
    assert out["fcd_reference"] == out["eval_items"] == 15


def test_eval_no_fcd_says_why(selfies_run):
    out = _eval(selfies_run, "--no-fcd")
    assert out["fcd"] is None and "--no-fcd" in out["fcd_reason"]
