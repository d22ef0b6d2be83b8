from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.molfile import load_molecules
from seqvae.molecules.chem.splits import murcko_scaffold, random_split, scaffold_split
from seqvae.molecules.chem.stats import molecule_statistics

DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"


@pytest.fixture(scope="module")
def drugs():
    return load_molecules(DRUGS)[0]


def _is_partition(parts, n):
    joined = np.concatenate([parts[k] for k in ("train", "valid", "test")])
    return sorted(joined.tolist()) == list(range(n))


def test_murcko_scaffolds_of_known_drugs():
    assert murcko_scaffold("CC(=O)Oc1ccccc1C(=O)O") == "c1ccccc1"
    assert murcko_scaffold("CCCC") == ""
    # diazepam: the benzodiazepine ring system with its phenyl, side chains stripped
    assert murcko_scaffold("CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21") == "O=C1CN=C(c2ccccc2)c2ccccc2N1"
    assert murcko_scaffold("c1ccccc1CC(=O)N", generic=True) == "C1CCCCC1"
    assert murcko_scaffold("bad") is None


def test_random_split_is_a_seeded_partition():
    a = random_split(100, (0.8, 0.1, 0.1), seed=3)
    b = random_split(100, (0.8, 0.1, 0.1), seed=3)
    c = random_split(100, (0.8, 0.1, 0.1), seed=4)
    assert _is_partition(a, 100)
    assert [len(a[k]) for k in ("train", "valid", "test")] == [80, 10, 10]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["test"], c["test"])


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.8, 0.3, 0.1), (1.2, -0.1, -0.1), "abc"])
def test_bad_fractions(fractions):
    with pytest.raises(ChemError):
        random_split(10, fractions)


def test_scaffold_split_keeps_scaffolds_on_one_side(drugs):
    parts = scaffold_split(drugs, (0.8, 0.1, 0.1), seed=0)
    assert _is_partition(parts, len(drugs))
    sides = {}
    for name, idx in parts.items():
        for i in idx:
            sides.setdefault(murcko_scaffold(drugs[i]), set()).add(name)
    assert all(len(s) == 1 for s in sides.values())
    # The acyclic scaffold holds many of the small molecules: it is too big for valid/test.
    assert all(murcko_scaffold(drugs[i]) != "" for i in parts["test"])
    n = len(drugs)
    assert abs(len(parts["train"]) - 0.8 * n) <= 0.05 * n
    assert len(parts["valid"]) > 0 and len(parts["test"]) > 0


def test_scaffold_split_is_seeded(drugs):
    a = scaffold_split(drugs, seed=1)
    b = scaffold_split(drugs, seed=1)
    c = scaffold_split(drugs, seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_scaffold_split_rejects_invalid_molecules():
    with pytest.raises(ChemError, match="not valid"):
        scaffold_split(["CCO", "C1CC"])
    with pytest.raises(ChemError):
        scaffold_split("CCO")


def test_statistics_by_hand():
    st = molecule_statistics(["CCO", "c1ccc[nH]1", "CCl", "bad("])
    assert st["count"] == 4 and st["invalid"] == 1
    # tokens: C C O | c 1 c c c [nH] 1 | C Cl | b a d (
    assert st["tokens"]["min"] == 2 and st["tokens"]["max"] == 7
    assert st["characters"]["max"] == 10
    # heavy atoms 3, 5, 2: p95 = 3 + 0.9 * (5 - 3) by linear interpolation
    assert st["heavy_atoms"] == {"min": 2, "mean": 3.333, "median": 3.0, "p95": 4.8, "max": 5}
    assert st["vocabulary_size"] == len({"C", "O", "c", "1", "[nH]", "Cl", "b", "a", "d", "("})
    assert st["token_counts"][0] == ["c", 4]


def test_statistics_of_nothing():
    st = molecule_statistics([])
    assert st["count"] == 0 and st["tokens"]["max"] is None and st["vocabulary_size"] == 0
