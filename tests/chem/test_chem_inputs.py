"""Molecule files as chemists keep them: SD files, sniffed delimiters, a SMILES column found by
name, structure clean-up (--standardize), a kept split column and --fractions."""
from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("rdkit")

from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.molecules.chem import sdfile  # noqa: E402
from seqvae.molecules.chem.dataset import prepare_molecule_dataset  # noqa: E402
from seqvae.molecules.chem.errors import ChemError, MoleculeFileError  # noqa: E402
from seqvae.molecules.chem.molfile import load_molecules, read_molecule_file  # noqa: E402
from seqvae.molecules.chem.splits import kept_split, parse_fractions  # noqa: E402
from seqvae.molecules.chem.standardize import standardize_many  # noqa: E402
from seqvae.molecules.domain import MoleculeDomain  # noqa: E402

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"
BROKEN_RECORD = """broken
  x

  2  1  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
    1.5000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0
  1  5  1  0
M  END
$$$$
"""


def _sdf(molecules: list[tuple[str, str]], extra: str = "", props=None) -> str:
    import io

    from rdkit import Chem

    out = io.StringIO()
    writer = Chem.SDWriter(out)
    for i, (smiles, name) in enumerate(molecules):
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", name)
        for key, values in (props or {}).items():
            mol.SetProp(key, values[i])
        writer.write(mol)
    writer.close()
    return out.getvalue() + extra


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("error:") and len(text.splitlines()) == 1, result.stderr
    for needle in needles:
        assert needle in text, text
    return text


# -- SD files --------------------------------------------------------------------------------
def test_an_sdf_is_read_with_names_and_broken_records_count_as_invalid(tmp_path):
    path = tmp_path / "m.sdf"
    path.write_text(_sdf([("OCC", "ethanol"), ("c1ccccc1O", "phenol"), ("CCO", "again")],
                         BROKEN_RECORD))
    records = read_molecule_file(path)
    assert records.format == "sdf" and records.names == ["ethanol", "phenol", "again"]
    smiles, report = load_molecules(path)
    assert smiles == ["CCO", "Oc1ccccc1"]
    assert (report["lines_read"], report["invalid"], report["duplicates"], report["kept"]) \
        == (4, 1, 1, 2)
    assert report["invalid_examples"][0]["record"] == 4


def test_a_gzipped_sdf_and_the_shipped_example(tmp_path):
    path = tmp_path / "m.sdf.gz"
    path.write_bytes(gzip.compress(_sdf([("CCN", "ethylamine"), ("CCC", "propane")]).encode()))
    assert load_molecules(path)[0] == ["CCN", "CCC"]
    smiles, report = load_molecules(EXAMPLES / "drugs.sdf")
    assert report["invalid"] == 1 and report["kept"] == 24 and "CCO" not in smiles


def test_an_sdf_record_over_the_atom_limit_is_invalid(tmp_path, monkeypatch):
    from seqvae.molecules.chem import limits

    path = tmp_path / "m.sdf"
    path.write_text(_sdf([("CCO", "small"), ("CCCCCCCCCCCC", "long")]))
    monkeypatch.setattr(limits, "DEFAULT_LIMITS", limits.SmilesLimits(max_length=8))
    smiles, report = load_molecules(path)
    assert smiles == ["CCO"] and report["invalid"] == 1
    assert "atom limit" in report["invalid_examples"][0]["reason"]


def test_an_sdf_bomb_stops_with_one_typed_line(tmp_path, monkeypatch):
    path = tmp_path / "bomb.sdf.gz"
    path.write_bytes(gzip.compress(b"\n" * 200_000))
    monkeypatch.setattr(sdfile, "read_file_bytes",
                        functools.partial(sdfile.read_file_bytes, max_bytes=10_000))
    with pytest.raises(MoleculeFileError, match="decompresses to more than"):
        read_molecule_file(path)


def test_an_sdf_takes_no_column(tmp_path):
    path = tmp_path / "m.sdf"
    path.write_text(_sdf([("CCO", "e")]))
    with pytest.raises(MoleculeFileError, match="does not apply"):
        read_molecule_file(path, column="smiles")


def test_sdf_works_where_molecule_files_are_read(tmp_path):
    path = tmp_path / "m.sdf"
    path.write_text(_sdf([("CCO", "a"), ("CCN", "b"), ("c1ccccc1", "c")]))
    dom = MoleculeDomain.fit(["CCO", "CCN", "c1ccccc1"])
    assert dom.read_items(path) == ["CCO", "CCN", "c1ccccc1"]
    _, items, info = MoleculeDomain.training_set(path)
    assert items == ["CCO", "CCN", "c1ccccc1"] and info["report"]["kept"] == 3


# -- delimiters and columns ----------------------------------------------------------------
@pytest.mark.parametrize("name, text", [
    ("semi.csv", "id;smiles;logp\n1;CCO;0.1\n2;c1ccccc1;1.2\n3;CC(=O)O;0.3\n"),
    ("pipe.txt", "id|SMILES|logp\n1|CCO|0.1\n2|c1ccccc1|1.2\n3|CC(=O)O|0.3\n"),
    ("comma.tsv", "id,smiles,logp\n1,CCO,0.1\n2,c1ccccc1,1.2\n3,CC(=O)O,0.3\n"),
    ("tab.csv", "id\tsmiles\tlogp\n1\tCCO\t0.1\n2\tc1ccccc1\t1.2\n3\tCC(=O)O\t0.3\n"),
    ("semi.smi", "name;canonical_smiles\n1;CCO\n2;c1ccccc1\n3;CC(=O)O\n"),
])
def test_the_delimiter_is_sniffed_whatever_the_extension(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    smiles, report = load_molecules(path)
    assert smiles == ["CCO", "c1ccccc1", "CC(=O)O"]
    assert report["invalid"] == 0 and report["bad_lines"] == 0


def test_a_smi_file_with_commas_in_names_stays_whitespace_separated(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("CCO ethanol, 95%\nCCN ethylamine;gas\n")
    records = read_molecule_file(path)
    assert records.smiles == ["CCO", "CCN"] and records.names == ["ethanol, 95%", "ethylamine;gas"]


@pytest.mark.parametrize("header", ["mol_smiles", "SMILES_std", "Canonical_SMILES_RDKit"])
def test_a_header_containing_smiles_is_found(tmp_path, header):
    path = tmp_path / "m.csv"
    path.write_text(f"id,{header},note\n1,CCO,x\n2,CCN,y\n")
    records = read_molecule_file(path)
    assert records.smiles == ["CCO", "CCN"] and records.column == header


def test_a_known_header_wins_over_one_that_contains_smiles(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("raw_smiles,smiles\nC(O)C.Cl,CCO\nC(N)C.Cl,CCN\n")
    assert read_molecule_file(path).smiles == ["CCO", "CCN"]


def test_a_missing_column_lists_the_columns_and_names_the_flag(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("id,structure_text,note\n1,CCO,x\n")
    result = runner.invoke(app, ["data", "smiles", str(path), "-o", str(tmp_path / "o.parquet"),
                                 "--column", "smi"])
    _one_line_error(result, "'id', 'structure_text', 'note'", "--column NAME")
    path.write_text("id,text,note\n1,CCO,x\n")
    result = runner.invoke(app, ["data", "smiles", str(path), "-o", str(tmp_path / "o.parquet")])
    _one_line_error(result, "'id', 'text', 'note'", "--column NAME")


# -- standardisation -------------------------------------------------------------------------
SALTY = ["CCN.Cl", "CC(=O)[O-].[Na+]", "C[C@H](N)C(=O)O", "CCO", "CC[N+](C)(C)C", "C1CC"]


def test_standardize_counts_each_step():
    out, counts = standardize_many(SALTY, ("fragment", "charge", "stereo"))
    assert out[:4] == ["CCN", "CC(=O)O", "CC(N)C(=O)O", "CCO"]
    assert out[4] == "CC[N+](C)(C)C"  # a quaternary nitrogen keeps its charge
    assert out[5] == "C1CC"  # not a molecule: passed on, to be counted invalid
    assert counts == {"fragment": 2, "charge": 1, "stereo": 1, "failed": 0}
    with pytest.raises(ChemError, match="unknown standardisation step"):
        standardize_many(SALTY, ("tautomer",))


def test_data_smiles_standardize_and_without_it(tmp_path):
    path = tmp_path / "salty.smi"
    path.write_text("\n".join(SALTY) + "\n")
    out = tmp_path / "o.parquet"
    plain = runner.invoke(app, ["data", "smiles", str(path), "-o", str(out), "--json"])
    assert plain.exit_code == 0, plain.output
    report = json.loads(plain.stdout)
    assert "standardized" not in report and report["kept"] == 5
    assert "C[C@H](N)C(=O)O" in set(pd.read_parquet(out)["item"])
    result = runner.invoke(app, ["data", "smiles", str(path), "-o", str(out), "--standardize",
                                 "--remove-stereo"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["standardized"] == {"fragment": 2, "charge": 1, "stereo": 1, "failed": 0}
    items = set(pd.read_parquet(out)["item"])
    assert items == {"CCN", "CC(=O)O", "CC(N)C(=O)O", "CCO", "CC[N+](C)(C)C"}
    only = runner.invoke(app, ["data", "smiles", str(path), "-o", str(out), "--standardize"])
    assert json.loads(only.stdout)["standardized"] == {"fragment": 2, "charge": 1, "failed": 0}
    assert "C[C@H](N)C(=O)O" in set(pd.read_parquet(out)["item"])


# -- kept splits and fractions ---------------------------------------------------------------
def _split_csv(path: Path, values: list[str]) -> Path:
    mols = ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "c1ccncc1", "CCCl", "CCBr"]
    path.write_text("smiles,SPLIT\n" + "".join(f"{m},{v}\n" for m, v in zip(mols, values)))
    return path


def test_a_split_column_is_kept(tmp_path):
    path = _split_csv(tmp_path / "m.csv", ["train", "TRAIN", "train", "Validation", "val",
                                           "test", "test_scaffolds", "train"])
    ds = prepare_molecule_dataset(path)
    assert ds.splits == {"train": ["CCO", "CCN", "CCC", "CCBr"], "valid": ["c1ccccc1", "CC(=O)O"],
                         "test": ["c1ccncc1", "CCCl"]}
    assert ds.report["split"]["method"] == "keep"
    drawn = prepare_molecule_dataset(path, split="random", fractions=(0.5, 0.25, 0.25))
    assert drawn.report["split"]["split_column_ignored"] is True
    assert {k: len(v) for k, v in drawn.splits.items()} == {"train": 4, "valid": 2, "test": 2}


def test_data_smiles_keeps_the_split_and_says_so(tmp_path):
    out = tmp_path / "o.parquet"
    result = runner.invoke(app, ["data", "smiles", str(EXAMPLES / "drugs_split.csv"), "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["split_method"] == "kept from the file's split column"
    assert summary["split"] == {"train": 22, "valid": 4, "test": 4}
    df = pd.read_parquet(out)
    source = pd.read_csv(EXAMPLES / "drugs_split.csv", sep=";")
    assert (df["split"] == "test").sum() == (source["split"] == "test").sum()


def test_train_smiles_keeps_a_split_column_of_a_raw_file(tmp_path):
    path = _split_csv(tmp_path / "m.csv", ["train"] * 6 + ["val", "test"])
    _, items, info = MoleculeDomain.training_set(path, standardize=("fragment",))
    assert {k: [items[i] for i in v] for k, v in info["splits"].items()} == \
        {"train": ["CCO", "CCN", "CCC", "c1ccccc1", "CC(=O)O", "c1ccncc1"], "val": ["CCCl"],
         "heldout": ["CCBr"]}
    assert info["report"]["standardized"]["changed"]["fragment"] == 0


def test_an_unknown_split_value_lists_the_values_found(tmp_path):
    path = _split_csv(tmp_path / "m.csv", ["train", "train", "holdout", "dev", "test", "train",
                                           "train", "train"])
    result = runner.invoke(app, ["data", "smiles", str(path), "-o", str(tmp_path / "o.parquet")])
    _one_line_error(result, "'dev'", "'holdout'", "'train'")
    with pytest.raises(ChemError, match="no molecule 'train'"):
        kept_split(["test", "valid"])


@pytest.mark.parametrize("args, needles", [
    (["--split", "keep"], ["needs a 'split' column"]),
    (["--split", "stratified"], ["--split must be auto, random, scaffold or keep"]),
    (["--fractions", "0.8,0.1"], ["three numbers"]),
    (["--fractions", "0.8,0.1,x"], ["three numbers"]),
    (["--fractions", "0.8,0.3,0.1"], ["summing to 1"]),
    (["--fractions", "0,0.5,0.5"], ["train fraction must be above 0"]),
    (["--fractions", "1.2,-0.1,-0.1"], ["[0, 1]"]),
    (["--fractions", "nan,0.5,0.5"], ["three numbers"]),
    (["--split", "keep", "--fractions", "0.8,0.1,0.1"], ["not to --split keep"]),
])
def test_bad_split_options_are_one_line_errors(tmp_path, args, needles):
    path = tmp_path / "m.smi"
    path.write_text("CCO\nCCN\nCCC\nc1ccccc1\n")
    result = runner.invoke(app, ["data", "smiles", str(path), "-o", str(tmp_path / "o.parquet"),
                                 *args])
    _one_line_error(result, *needles)


def test_fractions_with_a_kept_split_column_are_refused(tmp_path):
    path = _split_csv(tmp_path / "m.csv", ["train"] * 6 + ["valid", "test"])
    result = runner.invoke(app, ["data", "smiles", str(path), "-o", str(tmp_path / "o.parquet"),
                                 "--fractions", "0.5,0.25,0.25"])
    _one_line_error(result, "--split random or scaffold")
    ok = runner.invoke(app, ["data", "smiles", str(path), "-o", str(tmp_path / "o.parquet"),
                             "--split", "scaffold", "--fractions", "0.5,0.25,0.25"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["split_method"] == "scaffold"


def test_parse_fractions():
    assert parse_fractions("0.6,0.2,0.2") == (0.6, 0.2, 0.2)
    assert parse_fractions("1,0,0") == (1.0, 0.0, 0.0)


def test_train_smiles_standardize_needs_a_molecule_file(tmp_path):
    out = tmp_path / "o.parquet"
    made = runner.invoke(app, ["data", "smiles", str(EXAMPLES / "drugs_split.csv"), "-o",
                               str(out)])
    assert made.exit_code == 0, made.output
    result = runner.invoke(app, ["train", "smiles", "--data", str(out), "--out",
                                 str(tmp_path / "run"), "--standardize"])
    _one_line_error(result, "apply to a molecule file")


# -- where molecule files are read ------------------------------------------------------------
def test_train_smiles_on_an_sdf_with_standardize_and_a_time_limit(tmp_path, monkeypatch):
    import seqvae.train as train_module

    class Clock:  # a clock that moves a second each read: the limit passes after a few steps
        now = 0.0

        def monotonic(self):
            Clock.now += 1.0
            return Clock.now

        def perf_counter(self):
            return Clock.now

    monkeypatch.setattr(train_module, "time", Clock())
    out = tmp_path / "run"
    tiny = json.dumps(dict(d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16, dec_layers=1,
                           embed_dim=8, conv_channels=[8], conv_kernels=[3]))
    result = runner.invoke(app, ["train", "smiles", "--data", str(EXAMPLES / "drugs.sdf"),
                                 "--standardize", "--remove-stereo", "--out", str(out),
                                 "--epochs", "20", "--batch-size", "4", "--time-limit", "4",
                                 "--model-config", tiny, "--threads", "1", "--device", "cpu",
                                 "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["stopped_on"] == "time_limit" and summary["steps"] < 20 * 5
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["report"]["standardized"]["changed"] == \
        {"fragment": 5, "charge": 2, "stereo": 7, "failed": 0}
    items = "".join((out / "items" / f"{part}.txt").read_text()
                    for part in ("train", "val", "heldout"))
    assert len(items.split()) == 24 and "@" not in items and "." not in items
    again = runner.invoke(app, ["train", "smiles", "--data", str(EXAMPLES / "drugs.sdf"),
                                "--out", str(out), "--resume", "--quiet"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["steps"] > summary["steps"]


def test_optimize_start_reads_an_sdf(tmp_path):
    from seqvae.cli.chem_cmd import _start_smiles

    path = tmp_path / "start.sdf"
    path.write_text(_sdf([("OCC", "ethanol"), ("c1ccccc1O", "phenol")], BROKEN_RECORD))
    assert _start_smiles([str(path), "CCN"]) == ["CCO", "Oc1ccccc1", "CCN"]
