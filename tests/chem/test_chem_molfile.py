import gzip
from pathlib import Path

import pytest

pytest.importorskip("rdkit")

from seqvae.molecules.chem.errors import ChemError, MoleculeFileError
from seqvae.molecules.chem.molfile import clean_molecules, load_molecules, read_molecule_file

DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"


def _report_adds_up(report):
    return report["kept"] == (report["lines_read"] - report["bad_lines"] - report["invalid"]
                              - report["duplicates"])


def test_smi_names_are_not_swallowed(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin tablet\nc1ccccc1\tbenzene\nCCO\n")
    rec = read_molecule_file(path)
    assert rec.smiles == ["CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1", "CCO"]
    assert rec.names == ["aspirin tablet", "benzene", None]
    assert rec.format == "smi" and rec.bad_lines == 0


def test_smi_header_comments_and_blank_lines(tmp_path):
    path = tmp_path / "m.txt"
    path.write_text("SMILES name\n# a comment\n\nCCO ethanol\n\r\nCCN\r\n")
    rec = read_molecule_file(path)
    assert rec.smiles == ["CCO", "CCN"]
    assert rec.lines_read == 2 and rec.column == "SMILES"
    assert rec.line_numbers == [4, 6]


def test_smi_header_with_smiles_second(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("id\tSMILES\nm1\tCCO\nm2\tc1ccccc1\n")
    rec = read_molecule_file(path)
    assert rec.smiles == ["CCO", "c1ccccc1"] and rec.names == ["m1", "m2"]
    assert rec.column == "SMILES"
    # A first molecule whose name is a weak header word stays a molecule.
    plain = tmp_path / "p.smi"
    plain.write_text("CCO structure\nCCN\n")
    assert read_molecule_file(plain).smiles == ["CCO", "CCN"]


def test_smi_named_column(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("id smi\nm1 CCO\nm2 c1ccccc1\nm3\n")
    rec = read_molecule_file(path, column="smi")
    assert rec.smiles == ["CCO", "c1ccccc1"] and rec.names == ["m1", "m2"]
    assert rec.bad_lines == 1 and rec.bad_line_examples[0]["line"] == 4
    with pytest.raises(MoleculeFileError, match="column 'smiles'"):
        read_molecule_file(path, column="smiles")


def test_csv_column_picked_from_header(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('name,logP,Canonical_SMILES\n"aspirin, tablet",1.3,CC(=O)Oc1ccccc1C(=O)O\n'
                    'x,0.1,CCO\n')
    rec = read_molecule_file(path)
    assert rec.column == "Canonical_SMILES"
    assert rec.smiles == ["CC(=O)Oc1ccccc1C(=O)O", "CCO"]
    assert rec.names == ["aspirin, tablet", "x"]


def test_csv_column_given_missing_and_ambiguous(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b\nCCO,CCN\nCCC,CCCl\n")
    with pytest.raises(MoleculeFileError, match="cannot tell which column"):
        read_molecule_file(path)
    assert read_molecule_file(path, column="b").smiles == ["CCN", "CCCl"]
    with pytest.raises(MoleculeFileError, match="no column 'c'"):
        read_molecule_file(path, column="c")
    with pytest.raises(ChemError):
        read_molecule_file(path, column="")


def test_single_column_csv_needs_no_name(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("structure_text\nCCO\n")
    assert read_molecule_file(path).smiles == ["CCO"]


def test_gzip_detected_by_magic_bytes_not_name(tmp_path):
    body = b"SMILES\nCCO\nc1ccccc1\n"
    named = tmp_path / "m.csv.gz"
    named.write_bytes(gzip.compress(body))
    hidden = tmp_path / "m2.csv"          # gzipped content under a plain name
    hidden.write_bytes(gzip.compress(body))
    plain = tmp_path / "m3.csv.gz"        # plain content under a .gz name
    plain.write_bytes(body)
    for path in (named, hidden, plain):
        assert read_molecule_file(path).smiles == ["CCO", "c1ccccc1"], path


def test_tsv(tmp_path):
    path = tmp_path / "m.tsv"
    path.write_text("id\tsmiles\n1\tCCO\n")
    assert read_molecule_file(path).smiles == ["CCO"]


def test_utf8_bom_is_stripped(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"\xef\xbb\xbfSMILES,id\nCCO,1\n")
    rec = read_molecule_file(path)
    assert rec.column == "SMILES" and rec.smiles == ["CCO"]
    smi = tmp_path / "m.smi"
    smi.write_bytes(b"\xef\xbb\xbfCCO first\n")
    assert read_molecule_file(smi).smiles == ["CCO"]


def test_bad_lines_are_counted_or_fatal_in_strict_mode(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"SMILES,id\nCCO,1\nCCN,2,extra\n\xff\xfe,3\n,4\n\"CC,5\nCCC,6\n")
    rec = read_molecule_file(path)
    assert rec.smiles == ["CCO", "CCC"]
    assert rec.bad_lines == 4 and rec.lines_read == 6
    assert [b["line"] for b in rec.bad_line_examples] == [3, 4, 5, 6]
    with pytest.raises(MoleculeFileError, match="line 3"):
        read_molecule_file(path, strict=True)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(MoleculeFileError, match="no such file"):
        read_molecule_file(tmp_path / "nope.smi")
    with pytest.raises(MoleculeFileError, match="directory"):
        read_molecule_file(tmp_path)
    broken = tmp_path / "b.smi.gz"
    broken.write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(MoleculeFileError, match="cannot read"):
        read_molecule_file(broken)


def test_empty_file(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("")
    smiles, report = load_molecules(path)
    assert smiles == [] and report["lines_read"] == 0 and report["kept"] == 0


def test_clean_counts_invalid_and_duplicate_molecules_not_strings():
    out = clean_molecules(["OCC", "CCO", "C(C)O", "C1CC", "c1ccccc1", "C1=CC=CC=C1", "x"],
                          ["a", "b", "c", "d", "e", "f", "g"])
    assert out.smiles == ["CCO", "c1ccccc1"]
    assert out.names == ["a", "e"]               # first occurrence wins
    assert (out.invalid, out.duplicates) == (2, 3)
    assert [e["smiles"] for e in out.invalid_examples] == ["C1CC", "x"]
    with pytest.raises(ChemError):
        clean_molecules("CCO")
    with pytest.raises(ChemError):
        clean_molecules(["CCO"], ["a", "b"])


def test_load_report_on_a_file_with_invalid_and_duplicate_lines(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("CCO e1\nOCC e2\nC1CC bad\nc1ccccc1 b\nC1=CC=CC=C1 b2\nCC(=O)O acid\n")
    smiles, report = load_molecules(path)
    assert smiles == ["CCO", "c1ccccc1", "CC(=O)O"]
    assert {k: report[k] for k in ("lines_read", "bad_lines", "invalid", "duplicates", "kept")} \
        == {"lines_read": 6, "bad_lines": 0, "invalid": 1, "duplicates": 2, "kept": 3}
    assert _report_adds_up(report)


def test_shipped_drug_sample():
    smiles, report = load_molecules(DRUGS)
    # The file holds 5 deliberately invalid lines and 8 repeated molecules
    # (ethanol x2, ibuprofen x2, benzene, urea, vanillin, theophylline spelled differently).
    assert (report["invalid"], report["duplicates"]) == (5, 8)
    assert report["kept"] == len(smiles) == len(set(smiles)) >= 150
    assert _report_adds_up(report)
    assert "CC(=O)Oc1ccccc1C(=O)O" in smiles                      # aspirin
    assert "Cn1c(=O)c2c(ncn2C)n(C)c1=O" in smiles                  # caffeine, canonical
