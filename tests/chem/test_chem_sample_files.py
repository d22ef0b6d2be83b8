"""``seqvae sample -o FILE.csv|FILE.sdf``: decodes as a table with properties, or as an SDF."""
from __future__ import annotations

import csv

import pytest

pytest.importorskip("rdkit")

from rdkit import Chem  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.errors import DomainError  # noqa: E402
from seqvae.molecules.domain import MoleculeDomain  # noqa: E402
from seqvae.strings import StringDomain  # noqa: E402
from tests.seqvae.mol_helpers import train_tiny_smiles_run  # noqa: E402

ROWS = [{"ok": True, "item": "CCO", "error": None},
        {"ok": False, "item": "C1CC", "error": "ring_open"},
        {"ok": True, "item": "c1ccccc1O", "error": None}]


def test_molecule_decodes_as_csv_carry_the_properties_of_the_valid_ones(tmp_path):
    dom = MoleculeDomain.fit(["CCO", "c1ccccc1O"])
    assert dom.write_decodes(ROWS, tmp_path / "s.csv") == 3
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["smiles"] for r in rows] == ["CCO", "C1CC", "c1ccccc1O"]
    assert [r["canonical"] for r in rows] == ["CCO", "", "Oc1ccccc1"]
    assert rows[1]["error"] == "ring_open" and rows[1]["qed"] == ""
    assert float(rows[0]["weight"]) == pytest.approx(46.07, abs=0.01)
    assert float(rows[2]["logp"]) == pytest.approx(Chem.Crippen.MolLogP(Chem.MolFromSmiles("Oc1ccccc1")))


def test_molecule_decodes_as_sdf_hold_the_valid_molecules_with_tags(tmp_path):
    dom = MoleculeDomain.fit(["CCO", "c1ccccc1O"])
    assert dom.write_decodes(ROWS, tmp_path / "s.sdf") == 2
    mols = list(Chem.SDMolSupplier(str(tmp_path / "s.sdf")))
    assert [Chem.MolToSmiles(m) for m in mols] == ["CCO", "Oc1ccccc1"]
    assert [m.GetIntProp("index") for m in mols] == [0, 2]
    assert mols[0].GetDoubleProp("weight") == pytest.approx(46.07, abs=0.01)
    assert mols[1].GetNumConformers() == 1            # 2-D coordinates, not a flat zero block


def test_other_domains_write_csv_only(tmp_path):
    dom = StringDomain.fit(["ab", "ba"], "char")
    assert dom.write_decodes([{"ok": True, "item": "ab", "error": None}], tmp_path / "s.csv") == 1
    assert (tmp_path / "s.csv").read_text().splitlines() == ["index,ok,item,error", "0,True,ab,"]
    with pytest.raises(DomainError, match=r"\.csv only"):
        dom.write_decodes([], tmp_path / "s.sdf")
    with pytest.raises(DomainError, match=r"\.csv or \.sdf"):
        MoleculeDomain.fit(["CCO", "CCN"]).write_decodes([], tmp_path / "s.xlsx")


def test_sample_writes_a_csv_and_an_sdf_from_the_command_line(tmp_path):
    run_dir = train_tiny_smiles_run(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["sample", str(run_dir), "-n", "7", "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 0, result.output
    with open(tmp_path / "s.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and list(rows[0])[:5] == ["index", "ok", "smiles", "canonical", "error"]
    result = runner.invoke(app, ["sample", str(run_dir), "-n", "7", "-o", str(tmp_path / "s.sdf")])
    assert result.exit_code == 0, result.output
    valid = sum(r["ok"] == "True" for r in rows)      # the same seed decodes the same 7
    if valid == 0:                                     # a one-epoch model may write none
        assert (tmp_path / "s.sdf").read_text() == ""
    else:
        assert len([m for m in Chem.SDMolSupplier(str(tmp_path / "s.sdf")) if m]) == valid
