import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from seqvae.molecules.chem.chemnet import fcd_available, frechet_chemnet_distance
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.filters import MosesFilters, load_moses_filters, read_smarts_csv
from seqvae.molecules.chem.fingerprints import morgan_fingerprints, tanimoto_matrix
from seqvae.molecules.chem.metrics import (
    fraction_passes_filters,
    fraction_unique,
    fraction_valid,
    fragment_similarity,
    internal_diversity,
    moses_metrics,
    novelty,
    scaffold_similarity,
    snn,
)
from seqvae.molecules.chem.molfile import load_molecules
from seqvae.molecules.chem.moses_data import moses_file
from seqvae.molecules.chem.reference import (
    ReferenceSet,
    brics_fragments,
    cosine_similarity_counts,
    moses_scaffolds,
)

DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"
MCF_SAMPLE = [("epoxide", "[#6]1-[#8]-[#6]-1"), ("halomethyl", "[H]C([H])([#6])[F,Cl,Br,I]")]


@pytest.fixture(scope="module")
def drugs():
    return load_molecules(DRUGS)[0]


def _rdkit_fps(smiles):
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    return [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]


# ------------------------------------------------------------------ validity, uniqueness, novelty
def test_validity_by_hand():
    assert fraction_valid(["CCO", "C1CC", "c1ccccc1", "xx", "OCC"]) == pytest.approx(3 / 5)
    with pytest.raises(ChemError):
        fraction_valid([])


def test_uniqueness_counts_molecules_among_valid_ones():
    gen = ["CCO", "bad", "OCC", "C(O)C", "CCN", "c1ccccc1", "C1=CC=CC=C1"]
    # valid canonical: CCO CCO CCO CCN c1ccccc1 c1ccccc1 -> 3 distinct of 6
    assert fraction_unique(gen) == pytest.approx(3 / 6)
    # first 4 valid: CCO CCO CCO CCN -> 2 of 4
    assert fraction_unique(gen, k=4) == pytest.approx(2 / 4)
    with pytest.warns(UserWarning, match="unique@100"):
        assert fraction_unique(gen, k=100) == pytest.approx(3 / 6)
    with pytest.raises(ChemError):
        fraction_unique(gen, k=0)


def test_novelty_by_hand():
    gen = ["CCO", "OCC", "CCN", "c1ccccc1", "bad"]      # distinct valid: CCO CCN c1ccccc1
    train = ["C(C)O", "C1=CC=CC=C1", "CCCC"]             # CCO and benzene, spelled otherwise
    assert novelty(gen, train) == pytest.approx(1 / 3)
    assert novelty(gen, []) == 1.0
    assert novelty(gen, ["CCO", "c1ccccc1"], train_is_canonical=True) == pytest.approx(1 / 3)


# ------------------------------------------------------------------ fingerprints and diversity
def test_tanimoto_matches_rdkit(drugs):
    sample = drugs[:40]
    ours = tanimoto_matrix(morgan_fingerprints(sample), morgan_fingerprints(sample))
    fps = _rdkit_fps(sample)
    for i, fp in enumerate(fps):
        ref = DataStructs.BulkTanimotoSimilarity(fp, fps)
        assert np.allclose(ours[i], ref, atol=1e-6)


def test_intdiv_of_one_repeated_molecule_is_zero():
    assert internal_diversity(["c1ccccc1O"] * 7) == 0.0
    assert internal_diversity(["c1ccccc1O"] * 7, p=2) == 0.0


def test_intdiv_matches_a_plain_double_loop(drugs):
    sample = drugs[:25] + drugs[:5]        # repetitions count, as in MOSES
    fps = _rdkit_fps(sample)
    n = len(fps)
    sims = [[DataStructs.TanimotoSimilarity(a, b) for b in fps] for a in fps]
    intdiv1 = 1 - sum(map(sum, sims)) / n ** 2
    intdiv2 = 1 - sum(math.sqrt(sum(s * s for s in row) / n) for row in sims) / n
    assert internal_diversity(sample) == pytest.approx(intdiv1, abs=1e-6)
    assert internal_diversity(sample, p=2) == pytest.approx(intdiv2, abs=1e-6)
    assert internal_diversity(sample, p=2) < internal_diversity(sample)


def test_snn_identical_sets_is_one_and_matches_plain_loop(drugs):
    assert snn(drugs[:30], drugs[:30]) == pytest.approx(1.0)
    gen, ref = drugs[:20], drugs[20:60]
    gfps, rfps = _rdkit_fps(gen), _rdkit_fps(ref)
    plain = np.mean([max(DataStructs.BulkTanimotoSimilarity(g, rfps)) for g in gfps])
    assert snn(gen, ref) == pytest.approx(plain, abs=1e-6)
    assert snn(gen, ReferenceSet.from_smiles(ref)) == pytest.approx(plain, abs=1e-6)


# ------------------------------------------------------------------ fragments and scaffolds
def test_frag_and_scaf_of_identical_sets_are_one(drugs):
    assert fragment_similarity(drugs, drugs) == pytest.approx(1.0)
    assert scaffold_similarity(drugs, drugs) == pytest.approx(1.0)
    shuffled = random.Random(0).sample(drugs, len(drugs))
    assert fragment_similarity(shuffled, drugs) == pytest.approx(1.0)


def test_frag_and_scaf_by_hand():
    # Fragments: the ester gives [1*]C([6*])=O, [16*]c1ccccc1, [3*]O[3*], [4*]CC
    assert sorted(brics_fragments("CCOC(=O)c1ccccc1")) == \
        ["[1*]C([6*])=O", "[16*]c1ccccc1", "[3*]O[3*]", "[4*]CC"]
    assert brics_fragments("CCCC") == ["CCCC"]          # no BRICS bond
    assert fragment_similarity(["CCCC"], ["CCCCC"]) == 0.0
    # Scaffolds of one ring do not count (MOSES keeps scaffolds of >= 2 rings)
    assert moses_scaffolds("Cc1ccccc1") is None
    a = Counter({"x": 3, "y": 4})
    b = Counter({"x": 4, "z": 3})
    assert cosine_similarity_counts(a, b) == pytest.approx(12 / 25)
    assert math.isnan(cosine_similarity_counts(Counter(), b))
    two_ring = ["c1ccccc1Cc1ccccc1", "c1ccccc1Cc1ccccc1", "c1ccccc1CCc1ccncc1"]
    other = ["c1ccccc1Cc1ccccc1"]
    # counts (2, 1) against (1, 0): cosine = 2 / sqrt(5)
    assert scaffold_similarity(two_ring, other) == pytest.approx(2 / math.sqrt(5))


# ------------------------------------------------------------------ filters
def test_filters_rules_one_by_one():
    f = MosesFilters(mcf=MCF_SAMPLE)
    assert f.passes("CC(=O)Nc1ccc(O)cc1")                 # paracetamol
    assert f.reasons("CC(=O)Nc1ccc(O)cc1") == []
    assert f.reasons("CC[N+](C)(C)C") == ["charged"]
    assert f.reasons("CCP(C)C") == ["atom P"]
    assert f.reasons("C1CCCCCCC1") == ["ring of 8 or more atoms"]
    assert f.reasons("C1CCCCCC1") == []                     # 7-membered ring is allowed
    assert f.reasons("CC1OC1") == ["MCF epoxide"]
    assert f.reasons("CCCCl") == ["MCF halomethyl"]          # needs explicit H to match
    assert f.reasons("CN(C)c1ccc(C=C2SC(=S)NC2=O)cc1")[0].startswith("PAINS")  # rhodanine
    assert f.reasons("nonsense") == ["invalid"]
    assert not MosesFilters().reasons("CC1OC1")              # without MCF the epoxide passes


def test_fraction_passing_filters():
    f = MosesFilters(mcf=MCF_SAMPLE)
    gen = ["CCO", "CC1OC1", "CC[N+](C)(C)C", "c1ccccc1", "bad"]
    assert fraction_passes_filters(gen, f) == pytest.approx(2 / 4)


def test_smarts_csv_and_loader(tmp_path):
    path = tmp_path / "mcf.csv"
    path.write_text("names,smarts\nMCF5,[#6]1-[#8]-[#6]-1\n")
    assert read_smarts_csv(path) == [("MCF5", "[#6]1-[#8]-[#6]-1")]
    assert load_moses_filters(path).has_mcf
    assert not load_moses_filters(cache_dir=tmp_path / "empty").has_mcf
    bad = tmp_path / "bad.csv"
    bad.write_text("names,smarts\nx,[C\n")
    with pytest.raises(ChemError, match="not valid SMARTS"):
        load_moses_filters(bad)
    with pytest.raises(ChemError):
        read_smarts_csv(tmp_path / "missing.csv")


# ------------------------------------------------------------------ everything together
def test_moses_metrics_identical_sets(drugs):
    m = moses_metrics(drugs, train=drugs, test=drugs, test_scaffolds=drugs, ks=(10, 1000),
                      filters=MosesFilters(mcf=MCF_SAMPLE))
    assert m["validity"] == 1.0 and m["n_valid"] == len(drugs)
    assert m["unique@10"] == 1.0 and m["unique@1000"] == 1.0
    assert m["unique@1000_n"] == len(drugs)
    assert m["novelty"] == 0.0
    assert m["frag"] == pytest.approx(1.0) and m["scaf"] == pytest.approx(1.0)
    assert m["snn"] == pytest.approx(1.0) and m["snn_testsf"] == pytest.approx(1.0)
    assert 0.8 < m["intdiv1"] < 1 and m["intdiv2"] < m["intdiv1"]
    assert 0 < m["filters"] < 1 and m["filters_mcf"] is True


def test_moses_metrics_by_hand():
    gen = ["CCO", "OCC", "bad", "c1ccccc1O", "CC1OC1"]
    m = moses_metrics(gen, train=["CCO"], ks=(2,), filters=MosesFilters(mcf=MCF_SAMPLE))
    assert m["validity"] == pytest.approx(4 / 5)
    assert m["unique@2"] == 0.5                      # CCO twice
    assert m["novelty"] == pytest.approx(2 / 3)      # phenol and the epoxide are new
    assert m["filters"] == pytest.approx(3 / 4)      # the epoxide fails MCF
    assert "frag" not in m and "fcd" not in m
    assert moses_metrics(["bad"]) == {"n": 1, "n_valid": 0, "validity": 0.0}


@pytest.mark.slow
@pytest.mark.skipif(not fcd_available(), reason="the fcd package is not installed")
def test_fcd_small_for_the_same_set_and_larger_for_another(drugs):
    same = frechet_chemnet_distance(drugs[:20], drugs[:20])
    other = frechet_chemnet_distance(drugs[:20], ["C" * n for n in range(1, 21)])
    assert abs(same) < 1e-3
    assert other > 10


@pytest.mark.slow
@pytest.mark.skipif(moses_file("train.csv.gz") is None, reason="MOSES data not fetched "
                    "(scripts/fetch_moses.py)")
def test_moses_training_molecules_pass_the_moses_filters():
    # MOSES built its data set from molecules that pass its own filters: ours must agree.
    from seqvae.molecules.chem.molfile import read_molecule_file

    smiles = read_molecule_file(moses_file("train.csv.gz")).smiles
    sample = random.Random(0).sample(smiles, 500)
    filters = load_moses_filters()
    assert filters.has_mcf
    assert fraction_passes_filters(sample, filters) == 1.0


def test_reference_set_saved_and_loaded_gives_the_same_metrics(drugs, tmp_path):
    ref = ReferenceSet.from_smiles(drugs[:80])
    path = ref.save(tmp_path / "ref.npz")
    again = ReferenceSet.load(path)
    assert again == ref and again.fingerprints.dtype == np.uint8
    gen = drugs[80:120]
    assert snn(gen, again) == snn(gen, ref)
    assert fragment_similarity(gen, again) == fragment_similarity(gen, ref)
    assert scaffold_similarity(gen, again) == scaffold_similarity(gen, ref)


def test_reference_set_load_errors(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ChemError, match="cannot read reference set"):
        ReferenceSet.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, format=np.array("something/else"))
    with pytest.raises(ChemError, match="not a reference-set file"):
        ReferenceSet.load(other)
    with pytest.raises(ChemError):
        ReferenceSet.load(tmp_path / "missing.npz")


def test_without_mcf_the_share_is_never_reported_under_the_moses_name(tmp_path):
    filters = load_moses_filters(cache_dir=tmp_path)          # nothing fetched there
    assert not filters.has_mcf and filters.pains_source == "rdkit"
    m = moses_metrics(["CCO", "c1ccccc1O", "C1OC1C"], filters=filters)
    assert "filters" not in m and m["filters_pains_only"] == 1.0   # the epoxide passes
    assert m["filters_mcf"] is False and m["filters_pains"] == "rdkit"


def test_with_the_moses_data_their_own_pains_list_is_used(tmp_path):
    # MOSES's wehi_pains.csv: no header, the SMARTS then the name, padded with spaces.
    (tmp_path / "mcf.csv").write_text("names,smarts\nepoxide,[#6]1-[#8]-[#6]-1\n")
    (tmp_path / "wehi_pains.csv").write_text(
        '"[#6]-[#7]=[#7]-[#6]      ","<regId=azo_A(324)>"\n')
    filters = load_moses_filters(cache_dir=tmp_path)
    assert filters.has_mcf and filters.pains_source == "moses"
    assert filters.reasons("CN=NC") == ["PAINS <regId=azo_A(324)>"]
    assert filters.reasons("C1OC1C") == ["MCF epoxide"]
    m = moses_metrics(["CCO", "CN=NC", "C1OC1C", "c1ccccc1O"], filters=filters)
    assert m["filters"] == 0.5 and "filters_pains_only" not in m
    assert m["filters_pains"] == "moses"
    with pytest.raises(ChemError, match="not valid SMARTS"):
        MosesFilters(pains=[("broken", "[#6")])
