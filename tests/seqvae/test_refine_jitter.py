"""``interpolate --refine-jitter``: refinement moves points whose decode is invalid."""
from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("rdkit")

from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402

from .mol_helpers import train_tiny_smiles_run  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def barely_trained(tmp_path_factory):
    # one epoch of SMILES: most decodes are invalid, which is what jitter acts on
    base = tmp_path_factory.mktemp("jitter")
    return train_tiny_smiles_run(base)


def _points(run_dir, out, *extra):
    result = runner.invoke(app, ["interpolate", str(run_dir), "--linear", "--pairs", "3",
                                 "--steps", "5", "--refine", "1", "--no-figures", "--out",
                                 str(out), "--device", "cpu", *extra], terminal_width=200)
    assert result.exit_code == 0, result.output
    points = pd.read_parquet(out / "points.parquet")
    first = points[points["refine"] == 0].set_index(["pair", "step"])
    second = points[points["refine"] == 1].set_index(["pair", "step"])
    invalid = ~first["well_formed"].astype(bool)
    assert invalid.any()  # the case under test
    return (first["z_norm"] - second["z_norm"]).abs()[invalid]


def test_jitter_moves_invalid_points_and_none_keeps_them(barely_trained, tmp_path):
    assert (_points(barely_trained, tmp_path / "a") == 0).all()
    assert (_points(barely_trained, tmp_path / "b", "--refine-jitter", "0.5") > 0).all()


def test_negative_jitter_is_refused(barely_trained, tmp_path):
    result = runner.invoke(app, ["interpolate", str(barely_trained), "--refine", "1",
                                 "--refine-jitter", "-1", "--out", str(tmp_path / "c")])
    assert result.exit_code == 2
