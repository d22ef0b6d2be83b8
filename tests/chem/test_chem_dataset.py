import json
from pathlib import Path

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from seqvae.molecules.chem.dataset import fit_molecule_tokenizer, prepare_molecule_dataset
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.selfies_codec import SelfiesTokenizer
from seqvae.molecules.chem.splits import murcko_scaffold
from seqvae.tokenizers import RegexTokenizer

DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"


def test_drug_sample_scaffold_split_report():
    ds = prepare_molecule_dataset(DRUGS, split="scaffold", seed=0)
    r = ds.report
    assert (r["invalid"], r["duplicates"], r["unrepresentable"]) == (5, 8, 0)
    assert sum(r["split"]["sizes"].values()) == r["kept"] == 193
    assert r["split"]["method"] == "scaffold"
    train = {murcko_scaffold(s) for s in ds.splits["train"]}
    assert not train & {murcko_scaffold(s) for s in ds.splits["test"]}
    assert r["statistics"]["count"] == 193 and r["statistics"]["vocabulary_size"] > 20
    json.dumps(r)   # the report is JSON data


def test_random_split_is_reproducible():
    a = prepare_molecule_dataset(DRUGS, seed=5)
    b = prepare_molecule_dataset(DRUGS, seed=5)
    assert a.splits == b.splits
    assert a.splits != prepare_molecule_dataset(DRUGS, seed=6).splits


def test_selfies_drops_what_it_cannot_write(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("CCO\nFI(F)(F)(F)F\nc1ccccc1\nCCN\nCCC\n")  # IF5: iodine valence 5
    smiles_ds = prepare_molecule_dataset(path, fractions=(1, 0, 0))
    selfies_ds = prepare_molecule_dataset(path, fractions=(1, 0, 0), representation="selfies")
    assert smiles_ds.report["kept"] == 5 and smiles_ds.report["unrepresentable"] == 0
    assert selfies_ds.report["kept"] == 4 and selfies_ds.report["unrepresentable"] == 1
    assert "FI(F)(F)(F)F" not in selfies_ds.splits["train"]


def test_bad_choices_and_empty_files(tmp_path):
    with pytest.raises(ChemError, match="split method"):
        prepare_molecule_dataset(DRUGS, split="cluster")
    with pytest.raises(ChemError, match="representation"):
        prepare_molecule_dataset(DRUGS, representation="inchi")
    path = tmp_path / "bad.smi"
    path.write_text("C1CC\nxx\n")
    with pytest.raises(ChemError, match="no valid molecule"):
        prepare_molecule_dataset(path)


def test_tokenizers_of_each_representation():
    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "c1cc[nH]c1Br"]
    regex = fit_molecule_tokenizer(smiles)
    assert isinstance(regex, RegexTokenizer) and "[nH]" in regex.vocab and "Br" in regex.vocab
    selfies = fit_molecule_tokenizer(smiles, "selfies")
    assert isinstance(selfies, SelfiesTokenizer) and "[Br]" in selfies.vocab
    with pytest.raises(ChemError):
        fit_molecule_tokenizer(smiles, "graph")


def test_canonicalising_reports_progress_chunk_by_chunk_in_one_process_and_in_two():
    from seqvae.molecules.chem.rdkit_support import canonical_smiles_many

    items = ["CCO", "OCC", "C1CC", "c1ccccc1", "CCN"] * 5
    for n_jobs in (1, 2):
        seen = []
        keys = canonical_smiles_many(items, n_jobs=n_jobs, chunk_size=4,
                                     progress=lambda done, total: seen.append((done, total)))
        assert keys == canonical_smiles_many(items)
        assert seen == [(min(d, 25), 25) for d in range(4, 29, 4)]


def test_data_smiles_refuses_a_zero_job_count(tmp_path):
    from typer.testing import CliRunner

    from seqvae.cli import app

    src = tmp_path / "m.smi"
    src.write_text("CCO\nCCN\nCCC\n")
    result = CliRunner().invoke(app, ["data", "smiles", str(src), "-o", str(tmp_path / "d.parquet"),
                                      "--jobs", "0"])
    assert result.exit_code == 2 and "--jobs" in result.output
