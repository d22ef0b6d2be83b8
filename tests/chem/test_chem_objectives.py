import pytest

pytest.importorskip("rdkit")

from rdkit import Chem
from rdkit.Chem import QED, Crippen
from rdkit.Contrib.SA_Score import sascorer

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.objectives import (
    OBJECTIVES,
    ZINC_PLOGP_STATS,
    get_objective,
    logp,
    penalized_logp,
    penalized_logp_zinc,
    qed,
    ring_penalty,
    sa_score,
    score_many,
    score_smiles,
)

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


def test_registry_names_and_directions():
    assert set(OBJECTIVES) == {"qed", "logp", "sas", "plogp", "plogp_zinc"}
    assert [n for n, o in OBJECTIVES.items() if not o.maximize] == ["sas"]
    with pytest.raises(ChemError, match="unknown objective 'tpsa'"):
        get_objective("tpsa")
    with pytest.raises(ChemError):
        get_objective(None)


def test_known_values():
    # Reference values to four decimals (aspirin's QED of 0.55 is the one Bickerton et al.
    # quote); a change of descriptor version or of our wrapping would move them.
    assert qed(ASPIRIN) == pytest.approx(0.5501, abs=1e-4)
    assert logp("c1ccccc1") == pytest.approx(1.6866, abs=1e-4)
    assert qed(CAFFEINE) == pytest.approx(0.5385, abs=1e-4)
    assert logp(CAFFEINE) == pytest.approx(-1.0293, abs=1e-4)
    assert 1 <= sa_score(ASPIRIN) < 2 < sa_score("CC12CCC3C(CCC4=CC(=O)CCC34C)C1CCC2O") < 10


def test_scores_are_exactly_rdkits():
    for smiles in (ASPIRIN, CAFFEINE, "CN1CCC[C@H]1c1cccnc1"):
        mol = Chem.MolFromSmiles(smiles)
        assert get_objective("qed")(mol) == QED.qed(mol)
        assert get_objective("logp")(mol) == Crippen.MolLogP(mol)
        assert get_objective("sas")(mol) == sascorer.calculateScore(mol)


def test_ring_penalty_and_penalised_logp():
    assert [ring_penalty(s) for s in ("CCO", "c1ccccc1", "C1CCCCCC1", "C1CCCCCCCCCC1")] == \
        [0, 0, 1, 5]
    for smiles in (ASPIRIN, "C1CCCCCCCCCC1"):
        mol = Chem.MolFromSmiles(smiles)
        expected = Crippen.MolLogP(mol) - sascorer.calculateScore(mol) - ring_penalty(mol)
        assert penalized_logp(smiles) == pytest.approx(expected, abs=1e-12)


def test_zinc_normalised_penalised_logp():
    s = ZINC_PLOGP_STATS
    mol = Chem.MolFromSmiles("C1CCCCCCCC1")        # nine-membered ring: penalty 3
    expected = ((Crippen.MolLogP(mol) - s["logp_mean"]) / s["logp_std"]
                + (-sascorer.calculateScore(mol) - s["sa_mean"]) / s["sa_std"]
                + (-3 - s["cycle_mean"]) / s["cycle_std"])
    assert penalized_logp_zinc(mol) == pytest.approx(expected, abs=1e-12)
    # The two forms order molecules differently in general but agree on the sign of a
    # change in logP alone: more carbons, higher score.
    assert penalized_logp_zinc("CCCCCCCC") > penalized_logp_zinc("CCCC")


def test_invalid_molecules():
    assert score_smiles("C1CC", "qed") is None
    assert score_many(["CCO", "bad", ASPIRIN], "qed")[1] is None
    with pytest.raises(ChemError, match="not a valid molecule"):
        qed("C1CC")
    with pytest.raises(ChemError):
        score_smiles("CCO", "nope")


def test_molecule_scores_agree_with_each_objective():
    from seqvae.molecules.chem.objectives import molecule_scores

    scores = molecule_scores(CAFFEINE)
    assert scores == {name: get_objective(name)(Chem.MolFromSmiles(CAFFEINE))
                      for name in ("qed", "logp", "sas", "plogp")}
    assert molecule_scores(CAFFEINE, ["logp"]) == {"logp": logp(CAFFEINE)}
    with pytest.raises(ChemError):
        molecule_scores("C1CC")
    with pytest.raises(ChemError):
        molecule_scores(CAFFEINE, ["qed", "mass"])
