import subprocess
import sys

import pytest

pytest.importorskip("rdkit")

from seqvae.errors import SeqVAEError
from seqvae.molecules.chem import (
    ChemError,
    ChemistryUnavailableError,
    as_mol,
    canonical_smiles,
    canonical_smiles_many,
    is_valid_smiles,
    mol_from_smiles,
)


def test_canonical_smiles_is_one_key_per_molecule():
    spellings = ["OCC", "C(O)C", "[CH3][CH2][OH]", "C(C)O"]
    assert {canonical_smiles(s) for s in spellings} == {"CCO"}
    assert canonical_smiles("c1ccccc1") == canonical_smiles("C1=CC=CC=C1") == "c1ccccc1"
    assert canonical_smiles("CCO") != canonical_smiles("COC")  # isomers stay apart


def test_stereo_is_kept_unless_asked_otherwise():
    r, s = "C[C@@H](N)C(=O)O", "C[C@H](N)C(=O)O"
    assert canonical_smiles(r) != canonical_smiles(s)
    assert canonical_smiles(r, isomeric=False) == canonical_smiles(s, isomeric=False)


@pytest.mark.parametrize("text", ["", "   ", "C1CC", "c1cccc1", "C(C)(C)(C)(C)C", "xyz", "CC(",
                                  "[Xx]"])
def test_invalid_smiles(text):
    assert not is_valid_smiles(text)
    assert mol_from_smiles(text) is None
    assert canonical_smiles(text) is None


def test_many_keeps_order_and_marks_invalid():
    assert canonical_smiles_many(["OC", "bad", "C1CC1"]) == ["CO", None, "C1CC1"]


def test_wrong_types_raise_typed_errors():
    with pytest.raises(ChemError):
        mol_from_smiles(42)
    with pytest.raises(ChemError):
        as_mol(3.5)
    assert issubclass(ChemError, SeqVAEError)


def test_rdkit_log_is_silent_on_invalid_smiles():
    code = ("from seqvae.molecules.chem import is_valid_smiles\n"
            "assert not is_valid_smiles('C1CC')\nassert not is_valid_smiles('c1cccc1')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_missing_rdkit_names_the_extra():
    # A fresh interpreter in which importing rdkit fails, as on a machine without the extra.
    code = ("import sys\nsys.modules['rdkit'] = None\n"
            "from seqvae.molecules.chem import is_valid_smiles, ChemistryUnavailableError\n"
            "try:\n    is_valid_smiles('CCO')\nexcept ChemistryUnavailableError as e:\n"
            "    print(type(e).__mro__[1].__name__, e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "seqvae[chem]" in done.stdout
    assert "RDKit" in done.stdout


def test_unavailable_error_is_an_import_error():
    assert issubclass(ChemistryUnavailableError, ImportError)
    assert issubclass(ChemistryUnavailableError, ChemError)


def test_parallel_canonicalisation_matches_serial():
    items = ["OCC", "bad", "c1ccccc1", "C1CC", "CC(=O)O", "N"] * 5
    serial = canonical_smiles_many(items)
    assert canonical_smiles_many(items, n_jobs=2, chunk_size=4) == serial
    with pytest.raises(ChemError):
        canonical_smiles_many(items, n_jobs=0)
    with pytest.raises(ChemError):
        canonical_smiles_many(items, chunk_size=0)


def test_molecule_keys_of_a_large_set_equal_the_one_by_one_keys(monkeypatch):
    import seqvae.molecules.domain as molecule_domain
    from seqvae.molecules.domain import MoleculeDomain

    domain = MoleculeDomain.__new__(MoleculeDomain)   # canonical keys need no tokenizer
    items = ["OCC", "C1=CC=CC=C1", "C1CC", "not a smiles", "N[C@@H](C)C(=O)O", "CCO"] * 5
    one_by_one = [domain.canonical_key(item) for item in items]
    monkeypatch.setattr(molecule_domain, "PARALLEL_KEYS_FROM", 4)   # the two-process path
    assert domain.canonical_keys(items) == one_by_one
    assert one_by_one[:4] == ["CCO", "c1ccccc1", "C1CC", "not a smiles"]
