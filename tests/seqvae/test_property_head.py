"""The property head trained jointly with the VAE (``train smiles --properties``) and its use
by ``optimize``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

import torch  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.config import ModelConfig, TrainConfig  # noqa: E402
from seqvae.errors import DataError, TrainingError  # noqa: E402
from seqvae.molecules.domain import MoleculeDomain  # noqa: E402
from seqvae.molecules.optimize import joint_head, optimize_molecules  # noqa: E402
from seqvae.molecules.properties import parse_property_names, property_matrix  # noqa: E402
from seqvae.runs import load_run, train  # noqa: E402
from seqvae.targets import property_scale, standardised  # noqa: E402
from seqvae.train import Trainer, pad_sequences  # noqa: E402

torch.set_num_threads(1)
runner = CliRunner()
DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"
SMALL = dict(d_z=8, enc_hidden=48, dec_z_dim=16, dec_hidden=32, dec_layers=1, embed_dim=8,
             conv_channels=[16], conv_kernels=[3])


def test_property_names_and_values():
    from rdkit import Chem
    from rdkit.Chem import QED, Crippen

    assert parse_property_names("qed,logp, sas") == ["qed", "logp", "sas"]
    for bad, message in (("", "no property"), ("qed,nope", "unknown property"),
                         ("qed,qed", "named twice")):
        with pytest.raises(DataError, match=message):
            parse_property_names(bad)
    values = property_matrix(["c1ccccc1O", "C1CC"], ["qed", "logp"])
    mol = Chem.MolFromSmiles("c1ccccc1O")
    assert values[0].tolist() == [QED.qed(mol), Crippen.MolLogP(mol)]
    assert np.isnan(values[1]).all()
    scale = property_scale(np.array([[0.0, 1.0], [2.0, np.nan]]), ["qed", "logp"])
    assert scale["mean"] == [1.0, 1.0] and scale["std"][0] == 1.0
    assert standardised(np.array([[3.0, np.nan]]), scale)[0, 0] == 2.0
    with pytest.raises(DataError, match="no training molecule"):
        property_scale(np.array([[np.nan]]), ["qed"])


def test_the_loss_includes_the_weighted_head_error():
    cfg = ModelConfig(vocab_size=10, max_len=8, d_z=4, enc_hidden=8, dec_hidden=8, dec_z_dim=4,
                      n_properties=2)
    ids = [[1, 3, 4, 2], [1, 5, 6, 7, 2], [1, 8, 2]]
    targets = np.array([[0.5, -1.0], [2.0, np.nan], [np.nan, np.nan]], dtype=np.float32)
    losses = {}
    for weight in (0.0, 1.0, 3.0):
        tr = Trainer(cfg, TrainConfig(property_weight=weight, seed=0), ids, train_targets=targets)
        x, _ = pad_sequences(ids, 0)
        torch.manual_seed(0)
        loss, stats = tr._loss(x, beta=0.5, train=False, targets=tr.train_y)
        losses[weight] = (float(loss.detach()), stats["prop"])
    base = losses[0.0][0]
    prop = losses[1.0][1]
    assert prop > 0 and losses[3.0][1] == pytest.approx(prop)
    assert losses[1.0][0] == pytest.approx(base + prop, rel=1e-5)
    assert losses[3.0][0] == pytest.approx(base + 3 * prop, rel=1e-5)
    with pytest.raises(TrainingError, match="shape"):
        Trainer(cfg, TrainConfig(), ids, train_targets=targets[:2])


@pytest.fixture(scope="module")
def head_run(tmp_path_factory):
    domain, smiles, _ = MoleculeDomain.training_set(DRUGS)  # cleaned: valid, distinct
    out = tmp_path_factory.mktemp("head") / "run"
    run = train(smiles, domain, out_dir=out, model_config=SMALL, properties=["qed", "logp"],
                train_config=dict(epochs=40, batch_size=32, lr=3e-3, patience=0,
                                  val_fraction=0.1, test_fraction=0.0, kl_max=0.05,
                                  kl_warmup_steps=50, warmup_steps=10, seed=0))
    return out, run


def test_the_head_learns_below_the_mean_predictor(head_run):
    out, run = head_run
    loaded = load_run(out)
    assert loaded.property_names == ["qed", "logp"]
    train_smiles = [str(s) for s in loaded.train_items]
    truth = property_matrix(train_smiles, ["qed", "logp"])
    mu, _ = loaded.encode(train_smiles)
    pred = loaded.predict_properties(mu)
    scale = np.asarray(loaded.config["properties"]["std"])
    mse = np.mean(((pred - truth) / scale) ** 2, axis=0)
    # the mean predictor has standardised MSE 1 on the training molecules
    assert (mse < 0.7).all(), mse
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["prop"] for r in records if r["kind"] == "step"]
    assert np.mean(steps[-10:]) < np.mean(steps[:10])
    assert "val_prop_mse_mean_predictor" in [r for r in records if r["kind"] == "epoch"][-1]


def test_optimize_uses_the_joint_head(head_run):
    out, run = head_run
    loaded = load_run(out)
    assert joint_head(loaded, "qed") is not None and joint_head(loaded, "sas") is None
    head = joint_head(loaded, "logp")
    z = np.zeros((3, loaded.d_z), dtype=np.float32)
    np.testing.assert_allclose(head.predict(z), loaded.predict_properties(z)[:, 1], rtol=1e-5)
    climbed = head.ascend(z, steps=5, lr=0.1, radius=1.0)
    assert (head.predict(climbed) > head.predict(z)).all()
    assert np.linalg.norm(climbed - z, axis=1).max() <= 1.0 + 1e-5
    result = optimize_molecules(loaded, "logp", 32, seed=0, batch=16, start_items=50)
    assert result["head"] == "joint"
    from seqvae.molecules.chem import score_many

    start = score_many([str(t) for t in loaded.train_items], "logp")
    assert result["start_best"] in start
    fitted = optimize_molecules(loaded, "sas", 16, seed=0, batch=16, start_items=50)
    assert fitted["head"] == "fitted"
    forced = optimize_molecules(loaded, "logp", 16, seed=0, batch=16, start_items=50,
                                head="fitted")
    assert forced["head"] == "fitted"
    from seqvae.errors import SearchError

    with pytest.raises(SearchError, match="no joint property head"):
        optimize_molecules(loaded, "sas", 16, seed=0, start_items=50, head="joint")
    with pytest.raises(SearchError, match="auto, joint or fitted"):
        optimize_molecules(loaded, "sas", 16, seed=0, start_items=50, head="best")


def test_train_smiles_properties_on_the_command_line(tmp_path):
    data = tmp_path / "d.parquet"
    assert runner.invoke(app, ["data", "smiles", str(DRUGS), "-o", str(data)]).exit_code == 0
    tiny = json.dumps(dict(SMALL, d_z=4, enc_hidden=16))
    result = runner.invoke(app, ["train", "smiles", "--data", str(data), "--out",
                                 str(tmp_path / "run"), "--properties", "qed,sas",
                                 "--property-weight", "2", "--epochs", "1", "--model-config",
                                 tiny, "--threads", "1", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["properties"]["names"] == ["qed", "sas"]
    assert config["model"]["n_properties"] == 2 and config["train"]["property_weight"] == 2.0
    for args, message in ((["--properties", "qed,bogus"], "unknown property"),
                          (["--property-weight", "1"], "needs --properties")):
        bad = runner.invoke(app, ["train", "smiles", "--data", str(data), "--out",
                                  str(tmp_path / "bad"), *args])
        assert bad.exit_code == 2 and message in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1


def test_a_head_needs_a_molecule_run():
    from seqvae.strings import StringDomain

    words = ["ab", "ba", "abc"] * 4
    with pytest.raises(TrainingError, match="molecule run"):
        train(words, StringDomain.fit(words, "char"), properties=["qed"],
              train_config=dict(epochs=1))


def test_a_resumed_run_keeps_training_its_head(tmp_path):
    domain, smiles, _ = MoleculeDomain.training_set(DRUGS)
    options = dict(model_config=dict(SMALL, d_z=4, enc_hidden=16), properties=["qed"])
    train(smiles, domain, out_dir=tmp_path / "run", **options,
          train_config=dict(epochs=1, batch_size=64, patience=0, seed=0))
    scale = json.loads((tmp_path / "run" / "config.json").read_text())["properties"]
    run = train(None, domain, out_dir=tmp_path / "run", resume=True,
                train_config=dict(epochs=2))
    assert run.trainer.epoch == 2 and run.config["properties"] == scale
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
               .splitlines()]
    resumed = [r for r in records if r["kind"] == "step" and r["epoch"] == 1]
    assert resumed and all("prop" in r for r in resumed)
