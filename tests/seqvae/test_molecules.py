"""The molecule domain (``smiles``), its data sets, evaluation, device choice and optimize."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from rdkit import Chem  # noqa: E402
from rdkit.Chem import QED  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.device import DeviceError, resolve_device  # noqa: E402
from seqvae.domains import DOMAINS, domain_from_dict  # noqa: E402
from seqvae.errors import DataError, DomainError  # noqa: E402
from seqvae.evaluate import evaluate, sample_items  # noqa: E402
from seqvae.molecules.domain import MoleculeDomain, molecule_dataset  # noqa: E402
from seqvae.molecules.evaluation import MOSES_KEYS  # noqa: E402
from seqvae.molecules.optimize import optimize_molecules  # noqa: E402
from seqvae.runs import load_run, train  # noqa: E402

runner = CliRunner()
DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"
TINY = dict(d_z=4, enc_hidden=24, dec_z_dim=8, dec_hidden=24, dec_layers=1, embed_dim=8,
            conv_channels=[8], conv_kernels=[3])
TINY_JSON = json.dumps(TINY)


# -- the domain ---------------------------------------------------------------------
def test_registered_by_name_and_round_trips():
    dom = MoleculeDomain.fit(["CCO", "c1cc[nH]c1", "CCCl"])
    assert DOMAINS["smiles"] is MoleculeDomain
    again = domain_from_dict(json.loads(json.dumps(dom.to_dict())))
    assert isinstance(again, MoleculeDomain) and again.tokenizer == dom.tokenizer
    selfies = MoleculeDomain.fit(["CCO", "c1ccccc1"], "selfies")
    back = domain_from_dict(selfies.to_dict())
    assert back.representation == "selfies" and back.tokenizer.vocab == selfies.tokenizer.vocab


def test_canonical_keys_count_molecules_not_strings():
    dom = MoleculeDomain.fit(["CCO"])
    keys = dom.canonical_keys(["OCC", "C(O)C", "CCO", "CCN"])
    assert keys[0] == keys[1] == keys[2] == "CCO" and keys[3] != keys[0]
    assert dom.canonicalize_many(["OCC"]) == ["CCO"]
    with pytest.raises(DataError, match="not a valid molecule"):
        dom.canonicalize_many(["C1CC"])


def test_parse_marks_invalid_smiles_and_keeps_text():
    dom = MoleculeDomain.fit(["CCO", "c1ccccc1"])
    good = dom.parse(dom.tokenizer.encode("OCC"))
    assert good.ok and good.item == "CCO"
    bad = dom.parse(dom.tokenizer.encode("c1cccc1"))  # five aromatic carbons: not kekulisable
    assert not bad.ok and bad.item == "c1cccc1" and bad.error == "kekulize"
    assert not dom.parse([1, 5]).ok  # no EOS: undecodable


def test_selfies_decodes_are_always_molecules():
    dom = MoleculeDomain.fit(["CCO", "c1ccccc1", "CC(=O)N"], "selfies")
    rng = np.random.default_rng(0)
    n_special = 4
    for _ in range(50):
        body = rng.integers(n_special, dom.tokenizer.vocab_size, size=rng.integers(1, 12))
        parsed = dom.parse([dom.tokenizer.bos_id, *body.tolist(), dom.tokenizer.eos_id])
        # a SELFIES string that derives an atom is a valid molecule
        assert parsed.ok or parsed.item is None


def test_scores_are_rdkits():
    dom = MoleculeDomain.fit(["CCO"])
    scores = dom.score("CC(=O)Oc1ccccc1C(=O)O")
    assert set(scores) == {"qed", "logp", "sas", "plogp"}
    assert scores["qed"] == QED.qed(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"))


def test_molecule_domains_are_molecular_and_compute_properties():
    from rdkit.Chem import Crippen

    from seqvae.molecules.properties import property_matrix

    dom = MoleculeDomain.fit(["CCO", "c1ccccc1O"])
    assert dom.molecular is True
    dom.require_molecular("optimize")  # a molecule domain passes
    values = dom.property_values(["Oc1ccccc1", "C1CC"], ["qed", "logp"])
    mol = Chem.MolFromSmiles("c1ccccc1O")
    assert values.shape == (2, 2)
    assert values[0].tolist() == pytest.approx([QED.qed(mol), Crippen.MolLogP(mol)], abs=1e-9)
    assert np.isnan(values[1]).all()  # RDKit cannot read it: unknown, not guessed
    np.testing.assert_allclose(values[:1], property_matrix(["c1ccccc1O"], ["qed", "logp"]))


def test_wrong_tokenizer_or_representation_is_refused():
    dom = MoleculeDomain.fit(["CCO"])
    with pytest.raises(DomainError, match="representation"):
        MoleculeDomain(dom.tokenizer, "inchi")
    with pytest.raises(DomainError, match="selfies tokenizer"):
        MoleculeDomain(dom.tokenizer, "selfies")


def test_missing_rdkit_names_the_extra(monkeypatch):
    import builtins

    from seqvae.molecules.chem import errors, rdkit_support

    real_import = builtins.__import__

    def no_rdkit(name, *args, **kwargs):
        if name == "rdkit" or name.startswith("rdkit."):
            raise ImportError("No module named 'rdkit'")
        return real_import(name, *args, **kwargs)

    rdkit_support.require_rdkit.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_rdkit)
    try:
        with pytest.raises(errors.ChemistryUnavailableError, match=r"seqvae\[chem\]"):
            MoleculeDomain.fit(["CCO"])
    finally:
        monkeypatch.undo()
        rdkit_support.require_rdkit.cache_clear()


# -- data sets -------------------------------------------------------------------------
def test_molecule_dataset_counts_invalid_and_duplicates(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("CCO\nOCC\nC1CC\nc1ccccc1\nCCN\nCCC\nC(C)(C)(C)(C)C\nNCC\n")
    df, meta = molecule_dataset(path, fractions=(0.5, 0.25, 0.25))
    report = meta["report"]
    assert (report["lines_read"], report["invalid"], report["duplicates"], report["kept"]) == \
        (8, 2, 2, 4)
    assert sorted(df["item"]) == sorted(["CCO", "c1ccccc1", "CCN", "CCC"])
    assert set(df["split"]) <= {"train", "valid", "test"} and df["item"].is_unique


def test_data_smiles_cli_report(tmp_path):
    src = tmp_path / "m.csv"
    src.write_text("id,smiles\n1,CCO\n2,OCC\n3,C1CC\n4,c1ccccc1\n5,CCN\n6,c1cc[nH]c1\n")
    out = tmp_path / "m.parquet"
    result = runner.invoke(app, ["data", "smiles", str(src), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["lines_read"], report["invalid"], report["duplicates"], report["kept"]) == \
        (6, 1, 1, 4)
    assert report["statistics"]["characters"]["max"] == len("c1cc[nH]c1")
    assert ["[nH]", 1] in report["statistics"]["token_counts"]
    bad = runner.invoke(app, ["data", "smiles", str(src), "-o", str(out), "--split", "odd"])
    assert bad.exit_code == 2 and "random" in bad.output


# -- training, evaluation, sampling, optimisation on tiny runs -------------------------------
@pytest.fixture(scope="module")
def drugs_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("mol") / "drugs.parquet"
    result = runner.invoke(app, ["data", "smiles", str(DRUGS), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def smiles_run(drugs_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("mol") / "run"
    result = runner.invoke(app, ["train", "smiles", "--data", str(drugs_set), "--out", str(out),
                                 "--epochs", "2", "--model-config", TINY_JSON, "--threads", "1",
                                 "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_train_smiles_keeps_the_data_sets_split(drugs_set, smiles_run):
    import pandas as pd

    df = pd.read_parquet(drugs_set)
    run = load_run(smiles_run)
    assert run.domain.name == "smiles"
    command = (smiles_run / "command.txt").read_text()
    assert "seqvae train smiles --data" in command and "function" not in command
    assert sorted(run.heldout_items) == sorted(df.loc[df["split"] == "test", "item"])
    assert set(run.train_items) == set(df.loc[df["split"] == "train", "item"])


def test_resumed_train_smiles_takes_more_steps(drugs_set, tmp_path):
    out = tmp_path / "run"
    base = ["train", "smiles", "--out", str(out), "--threads", "1", "--device", "cpu", "--quiet"]
    first = runner.invoke(app, [*base, "--data", str(drugs_set), "--max-steps", "2",
                                "--model-config", TINY_JSON])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, [*base, "--data", str(drugs_set), "--resume", "--max-steps", "5"])
    assert again.exit_code == 0, again.output
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()
             if json.loads(line)["kind"] == "step"]
    assert steps == [1, 2, 3, 4, 5]  # continued where it stopped, up to the new limit
    assert json.loads((out / "config.json").read_text())["result"]["steps"] == 5


@pytest.fixture(scope="module")
def selfies_run(drugs_set, tmp_path_factory):
    # SELFIES: even a tiny, barely trained model decodes valid molecules to optimise over
    out = tmp_path_factory.mktemp("mol") / "sf"
    result = runner.invoke(app, ["train", "smiles", "--data", str(drugs_set), "--out", str(out),
                                 "--representation", "selfies", "--epochs", "1",
                                 "--model-config", TINY_JSON, "--threads", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def test_selfies_training_round_trip(selfies_run):
    run = load_run(selfies_run)
    assert run.domain.representation == "selfies"
    parsed = run.sample(40, seed=0)
    # SELFIES: every decode that derives an atom is a valid molecule
    assert all(p.ok for p in parsed if p.item is not None)
    assert sum(p.ok for p in parsed) >= 30
    # items stay canonical SMILES whatever the representation
    mu, _ = run.encode(run.heldout_items[:3])
    assert mu.shape == (3, run.d_z)


def test_eval_json_has_the_moses_keys(smiles_run):
    result = runner.invoke(app, ["eval", str(smiles_run), "--json", "--prior-count", "20",
                                 "--samples", "60", "--iwae-samples", "2", "--threads", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    for key in MOSES_KEYS:
        assert key in out, key
    assert 0.0 <= out["validity"] <= 1.0 and out["moses_samples"] == 60
    assert set(out["reconstruction"]) == {"greedy_exact", "sampled", "posterior", "protocol"}
    assert "synchronizing" not in json.dumps(out)  # automata fields stay out


def test_sample_marks_invalid_lines(smiles_run, tmp_path):
    out = tmp_path / "s.smi"
    result = runner.invoke(app, ["sample", str(smiles_run), "--count", "30", "-o", str(out),
                                 "--device", "cpu"])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == 30
    for line in lines:
        assert line.startswith("# invalid") or Chem.MolFromSmiles(line) is not None


def test_optimize_leaderboard_scores_are_rdkit_qed(selfies_run):
    result = runner.invoke(app, ["optimize", str(selfies_run), "--objective", "qed",
                                 "--budget", "60", "--seed", "0", "--json", "--threads", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    board = out["leaderboard"]
    assert board and out["decoded"] == 60
    for row in board:
        assert row["score"] == QED.qed(Chem.MolFromSmiles(row["smiles"]))
    scores = [row["score"] for row in board]
    assert scores == sorted(scores, reverse=True)
    assert len({row["smiles"] for row in board}) == len(board)


def test_optimize_is_seeded_and_minimises_sas(selfies_run):
    run = load_run(selfies_run)
    a = optimize_molecules(run, "sas", 30, seed=3, start_items=50)
    b = optimize_molecules(run, "sas", 30, seed=3, start_items=50)
    assert a["leaderboard"] == b["leaderboard"]
    scores = [row["score"] for row in a["leaderboard"]]
    assert scores == sorted(scores)  # lower synthetic accessibility is better


def test_load_molecule_runs_loads_molecule_runs_and_refuses_others(smiles_run, tmp_path):
    from seqvae.errors import RunError, SearchError
    from seqvae.runs import load_molecule_runs
    from seqvae.strings import StringDomain

    run, = load_molecule_runs([smiles_run], "the benchmark")
    assert run.domain.molecular and run.d_z == TINY["d_z"]
    words = ["CCO", "CCN", "OCC", "NCC"] * 3
    train(words, StringDomain.fit(words, "char"), out_dir=tmp_path / "strings",
          model_config=TINY, train_config=dict(epochs=1, batch_size=4))
    with pytest.raises(RunError, match="strings: the benchmark needs a molecule run, not the "
                                       "'strings' domain"):
        load_molecule_runs([smiles_run, tmp_path / "strings"], "the benchmark")
    with pytest.raises(SearchError, match="optimize needs a molecule run"):
        optimize_molecules(load_run(tmp_path / "strings"), objective="qed", budget=4, seed=0)


def test_optimize_refuses_unknown_objective(smiles_run):
    result = runner.invoke(app, ["optimize", str(smiles_run), "--objective", "beauty",
                                 "--budget", "5"])
    assert result.exit_code == 2 and "unknown objective" in result.output


# -- evaluation samples, devices ----------------------------------------------------------
def test_eval_uses_a_seeded_random_sample_not_the_first_items(smiles_run):
    run = load_run(smiles_run)
    items = list(run.train_items)
    picked = sample_items(items, 10, seed=0)
    assert picked == sample_items(items, 10, seed=0)
    assert picked != items[:10] and set(picked) <= set(items)
    out = evaluate(run, items, max_items=10, prior_count=5, sampled_items=3, encodes=1,
                   decodes=1, iwae_samples=2, metric_samples=0)
    assert out["eval_items"] == 10 and "validity" not in out


def test_device_resolution():
    import torch

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            resolve_device("cuda")


def test_cuda_request_without_cuda_is_one_line(smiles_run):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = runner.invoke(app, ["sample", str(smiles_run), "--count", "2", "--device", "cuda"])
    assert result.exit_code == 2
    assert "CUDA is not available" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_train_on_a_molecule_list_directly(tmp_path):
    smiles = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "CCOC", "CCCl", "c1ccncc1"] * 2
    dom = MoleculeDomain.fit(smiles)
    run = train(list(dict.fromkeys(smiles)), dom, model_config=TINY,
                train_config=dict(epochs=1, batch_size=4, val_fraction=0.0,
                                  test_fraction=0.25))
    assert run.domain.name == "smiles" and len(run.heldout_items) == 2


def test_interpolate_molecule_run_draws_depictions_without_automata_columns(selfies_run,
                                                                              tmp_path):
    out = tmp_path / "interp"
    result = runner.invoke(app, ["interpolate", str(selfies_run), "--polar", "--pairs", "2",
                                 "--steps", "3", "--refine", "1", "--out", str(out),
                                 "--device", "cpu"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert (out / "paths.png").stat().st_size > 0
    assert "sync %" not in result.output and "valid %" in result.output
