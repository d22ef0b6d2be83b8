"""Training presets (seqvae.molecules.presets) reach the run's saved configuration."""
import json

import pytest
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.molecules.presets import PRESETS

from .mol_helpers import DRUGS

runner = CliRunner()


@pytest.mark.parametrize("preset,kl_max", [("recon", 0.1), ("recon-lowkl", 0.03)])
def test_preset_reaches_the_saved_config_and_options_win(tmp_path, preset, kl_max):
    pytest.importorskip("rdkit")
    assert runner.invoke(app, ["data", "smiles", str(DRUGS), "-o",
                               str(tmp_path / "d.parquet")]).exit_code == 0
    result = runner.invoke(app, ["train", "smiles", "--data", str(tmp_path / "d.parquet"),
                                 "--out", str(tmp_path / "run"), "--preset", preset,
                                 "--epochs", "1", "--max-steps", "1", "--d-z", "8",
                                 "--threads", "1", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    text = json.dumps(cfg)
    assert f'"kl_max": {kl_max}' in text
    # the preset's decoder width, and the command line's latent size over the preset's 64
    assert f'"dec_hidden": {PRESETS[preset]["model"]["dec_hidden"]}' in text
    assert '"d_z": 8' in text


def test_unknown_preset_is_one_line(tmp_path):
    result = runner.invoke(app, ["train", "smiles", "--data", str(DRUGS), "--out",
                                 str(tmp_path / "run"), "--preset", "fast"])
    assert result.exit_code != 0
    assert "unknown preset 'fast'" in result.output and "recon-lowkl" in result.output
    assert "Traceback" not in result.output
