"""A tiny SMILES run trained from the shipped example molecules, for tests of molecule commands."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from seqvae.cli import app

__all__ = ["DRUGS", "TINY_JSON", "train_tiny_smiles_run"]

DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"
TINY_JSON = json.dumps(dict(d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16, dec_layers=1,
                            embed_dim=8, conv_channels=[8], conv_kernels=[3]))


def train_tiny_smiles_run(base: Path) -> Path:
    """``seqvae data smiles`` on the examples, then one epoch of a tiny model; the run dir."""
    runner = CliRunner()
    data = runner.invoke(app, ["data", "smiles", str(DRUGS), "-o", str(base / "d.parquet")])
    assert data.exit_code == 0, data.output
    result = runner.invoke(app, ["train", "smiles", "--data", str(base / "d.parquet"), "--out",
                                 str(base / "run"), "--epochs", "1", "--model-config", TINY_JSON,
                                 "--threads", "1", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    return base / "run"
