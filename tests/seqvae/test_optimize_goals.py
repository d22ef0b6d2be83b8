"""``optimize`` with the user's own objectives: similarity, weighted sums, callables,
substructure constraints, start molecules, and the leaderboard files."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("rdkit")

from rdkit import Chem, DataStructs  # noqa: E402
from rdkit.Chem import QED, rdFingerprintGenerator  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from seqvae.cli import app  # noqa: E402
from seqvae.errors import SeqVAEError  # noqa: E402
from seqvae.molecules.chem.errors import ChemError  # noqa: E402
from seqvae.molecules.chem.goals import make_goal, parse_goal  # noqa: E402
from seqvae.molecules.chem.objectives import sa_score  # noqa: E402
from seqvae.molecules.optimize import optimize_molecules  # noqa: E402
from seqvae.runs import load_run  # noqa: E402
from tests.seqvae.mol_helpers import train_tiny_smiles_run  # noqa: E402

runner = CliRunner()
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
FAST = ["--budget", "32", "--threads", "1", "--json", "--top", "5"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The tiny run trained a little longer, so that searches find valid molecules."""
    run = train_tiny_smiles_run(tmp_path_factory.mktemp("goals"))
    result = runner.invoke(app, ["train", "smiles", "--data", str(run.parent / "d.parquet"),
                                 "--out", str(run), "--resume", "--epochs", "25",
                                 "--threads", "1", "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    return run


def _tanimoto(a: str, b: str) -> float:
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return DataStructs.TanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(a)),
                                          gen.GetFingerprint(Chem.MolFromSmiles(b)))


def _optimize(run_dir, *args):
    result = runner.invoke(app, ["optimize", str(run_dir), *args, *FAST])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_similarity_scores_are_morgan_tanimoto_to_the_target(run_dir):
    out = _optimize(run_dir, "--objective", "similarity", "--target", PARACETAMOL)
    assert out["target"] == Chem.CanonSmiles(PARACETAMOL) and out["leaderboard"]
    for row in out["leaderboard"]:
        assert row["score"] == pytest.approx(_tanimoto(row["smiles"], PARACETAMOL))
    assert out["decoding"]["valid_first"]  # the molecule default


def test_weighted_sum_scores_are_the_weighted_rdkit_terms(run_dir):
    out = _optimize(run_dir, "--objective", "qed:0.7,sas:-0.3", "--decode", "greedy")
    assert out["terms"] == {"qed": 0.7, "sas": -0.3} and out["maximize"]
    scores = [row["score"] for row in out["leaderboard"]]
    assert scores == sorted(scores, reverse=True)
    for row in out["leaderboard"]:
        mol = Chem.MolFromSmiles(row["smiles"])
        assert row["terms"]["qed"] == QED.qed(mol)
        assert row["score"] == pytest.approx(0.7 * QED.qed(mol) - 0.3 * sa_score(mol))


def test_constraints_exclude_and_count(run_dir):
    out = _optimize(run_dir, "--objective", "qed", "--keep", "c1ccccc1", "--avoid", "[#7]",
                    "--avoid", "Cl")
    ring, nitrogen, chlorine = (Chem.MolFromSmarts(s) for s in ("c1ccccc1", "[#7]", "Cl"))
    for row in out["leaderboard"]:
        mol = Chem.MolFromSmiles(row["smiles"])
        assert mol.HasSubstructMatch(ring)
        assert not mol.HasSubstructMatch(nitrogen) and not mol.HasSubstructMatch(chlorine)
    assert out["keep"] == ["c1ccccc1"] and out["avoid"] == ["[#7]", "Cl"]
    assert isinstance(out["excluded"], int) and out["distinct"] >= out["excluded"]


def test_start_molecules_from_the_command_line_and_a_file(run_dir, tmp_path):
    out = _optimize(run_dir, "--start", PARACETAMOL, "--start", "CC(=O)Oc1ccccc1C(=O)O")
    assert out["start"] == "given" and out["start_molecules"] == 2
    assert out["start_best"] == pytest.approx(max(QED.qed(Chem.MolFromSmiles(s)) for s in
                                                  (PARACETAMOL, "CC(=O)Oc1ccccc1C(=O)O")))
    path = tmp_path / "start.smi"
    path.write_text(f"{PARACETAMOL}\nOC(=O)c1ccccc1O\nnot-a-molecule\n")
    assert _optimize(run_dir, "--start", str(path))["start_molecules"] == 2


def test_a_python_callable_is_an_objective(run_dir):
    seen = []

    def heavy_atoms(mols):
        seen.append(len(mols))
        return [m.GetNumHeavyAtoms() for m in mols]

    out = optimize_molecules(load_run(run_dir), heavy_atoms, 16, seed=0, start_items=20)
    assert out["objective"] == "heavy_atoms" and seen
    for row in out["leaderboard"]:
        assert row["score"] == Chem.MolFromSmiles(row["smiles"]).GetNumHeavyAtoms()
    with pytest.raises(ChemError, match="returned 1 scores"):
        optimize_molecules(load_run(run_dir), lambda mols: [1.0], 4, seed=0, start_items=5)


def test_out_writes_the_leaderboard_csv_and_grid(run_dir, tmp_path):
    out = tmp_path / "opt"
    result = runner.invoke(app, ["optimize", str(run_dir), "--objective", "qed:1,logp:0.1",
                                 "--budget", "16", "--threads", "1", "--top", "4", "--out",
                                 str(out), "--decode", "greedy"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "leaderboard.csv").open()))
    assert rows and list(rows[0])[:5] == ["rank", "smiles", "score", "term_qed", "term_logp"]
    assert {"qed", "logp", "sas", "weight", "novel", "round"} <= set(rows[0])
    for row in rows:
        assert float(row["qed"]) == pytest.approx(QED.qed(Chem.MolFromSmiles(row["smiles"])))
    assert (out / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "optimize.json").read_text())["objective"] == "qed:1,logp:0.1"


def test_goal_parsing():
    assert parse_goal("sas").maximize is False and parse_goal("sas:-1").maximize
    goal = make_goal("qed", keep=["c1ccccc1"])
    scores, _, excluded = goal.evaluate(["c1ccccc1O", "CCO"])
    assert np.isnan(scores[1]) and excluded.tolist() == [False, True]


@pytest.mark.parametrize("args, message", [
    (["--objective", "similarity"], "needs a target"),
    (["--objective", "similarity", "--target", "C1CC"], "is not a valid molecule"),
    (["--objective", "qed", "--target", "CCO"], "add similarity"),
    (["--objective", "qed:abc"], "must be a number"),
    (["--objective", "qed:1,qed:2"], "named twice"),
    (["--objective", "beauty:1"], "unknown objective"),
    (["--objective", ""], "empty"),
    (["--keep", "c1ccc(("], "not a valid SMARTS"),
    (["--avoid", "[X"], "not a valid SMARTS"),
    (["--start", "C1CC"], "neither a molecule file nor a valid SMILES"),
    (["--start", "[U]"], "cannot encode"),
    (["--decode", "sample"], "--decode must be greedy or beam"),
])
def test_bad_optimize_input_is_a_one_line_error(run_dir, args, message):
    result = runner.invoke(app, ["optimize", str(run_dir), *args, "--budget", "4"])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_errors_are_typed():
    with pytest.raises(SeqVAEError):
        parse_goal("similarity")
    with pytest.raises(SeqVAEError):
        make_goal(42)


def test_optimize_reports_its_decoder(run_dir):
    out = _optimize(run_dir)
    assert out["decoding"]["label"] == "beam 8 + grammar + valid-first"
    assert _optimize(run_dir, "--decode", "greedy")["decoding"]["method"] == "greedy"


# -- a property the user measured -------------------------------------------------------------
def _measured_file(run_dir, path, value_of):
    """A semicolon table of the run's training molecules with a column ``activity`` holding
    ``value_of(smiles, z)`` (z: the run's latent mean), plus rows a reader must skip."""
    run = load_run(run_dir)
    smiles = list(run.train_items)[:120]
    z, _ = run.encode(smiles)
    lines = ["id;mol_smiles;activity"]
    lines += [f"m{i};{s};{value_of(s, z[i]):.6f}" for i, s in enumerate(smiles)]
    lines += ["bad1;C1CC;5.0", "bad2;CCO;n/a", f"rep;{smiles[0]};{value_of(smiles[0], z[0]):.6f}"]
    path.write_text("\n".join(lines) + "\n")
    return smiles


def test_measured_values_are_read_skipped_and_averaged(tmp_path):
    from seqvae.molecules.user_property import read_property_values

    path = tmp_path / "assay.csv"
    path.write_text("smiles,pic50,other\nOCC,5.0,x\nCCO,6.0,y\nc1ccccc1,,z\nC1CC,7,w\nCCN,inf,v\n")
    smiles, values, report = read_property_values(path, "pic50")
    assert smiles == ["CCO"] and values.tolist() == [5.5]
    assert (report["no_value"], report["invalid"], report["repeated"]) == (2, 1, 1)
    sdf = tmp_path / "assay.sdf"
    sdf.write_text(_sdf_with_field([("CCO", "1.5"), ("c1ccccc1O", "2.5"), ("CCN", None)]))
    smiles, values, report = read_property_values(sdf, "pic50")
    assert dict(zip(smiles, values.tolist())) == {"CCO": 1.5, "Oc1ccccc1": 2.5}
    assert report["no_value"] == 1
    smi = tmp_path / "assay.smi"
    smi.write_text("smiles name pic50\nCCO ethanol 3\nCCN amine 4\n")
    assert read_property_values(smi, "pic50")[1].tolist() == [3.0, 4.0]


def _sdf_with_field(records):
    blocks = []
    for smiles, value in records:
        mol = Chem.MolFromSmiles(smiles)
        if value is not None:
            mol.SetProp("pic50", value)
        blocks.append(Chem.MolToMolBlock(mol) + "".join(
            f">  <{name}>\n{mol.GetProp(name)}\n\n" for name in mol.GetPropNames()) + "$$$$\n")
    return "".join(blocks)


def test_a_head_learns_a_property_the_latent_holds(run_dir, tmp_path):
    from seqvae.molecules.user_property import fit_user_property, read_property_values

    path = tmp_path / "latent.csv"
    _measured_file(run_dir, path, lambda s, z: float(z[0] - 0.5 * z[1]))
    smiles, values, report = read_property_values(path, "activity")
    assert report["invalid"] == 1 and report["no_value"] == 1 and report["repeated"] == 1
    run = load_run(run_dir)
    prop = fit_user_property(run, smiles, values, "activity", seed=0, report=report)
    assert prop.report["labelled"] == len(smiles) and prop.report["heldout"] == round(0.2 * len(smiles))
    assert prop.report["heldout_spearman"] > 0.9 and prop.report["heldout_r2"] > 0.7
    # A molecule the run cannot encode has no prediction: the goal excludes it.
    assert np.isnan(prop.predict_smiles(["[U]"])[0])
    goal = make_goal("activity", extra={"activity": prop})
    scores, _, excluded = goal.evaluate(["[U]", smiles[1]])
    assert excluded.tolist() == [True, False] and np.isfinite(scores[1])


def test_a_property_with_no_signal_reads_as_such(run_dir, tmp_path):
    from seqvae.molecules.user_property import fit_user_property, read_property_values

    path = tmp_path / "noise.csv"
    rng = np.random.default_rng(5)
    _measured_file(run_dir, path, lambda s, z: float(rng.standard_normal()))
    smiles, values, report = read_property_values(path, "activity")
    prop = fit_user_property(load_run(run_dir), smiles, values, "activity", seed=0)
    assert abs(prop.report["heldout_spearman"]) < 0.5 and prop.report["heldout_r2"] < 0.2


def test_optimize_a_measured_property_in_a_weighted_sum(run_dir, tmp_path):
    from seqvae.molecules.user_property import fit_user_property, read_property_values

    path = tmp_path / "assay.csv"
    _measured_file(run_dir, path, lambda s, z: float(z[0]))
    out = _optimize(run_dir, "--properties", str(path), "--objective", "activity:1,qed:0.5")
    info = out["predicted_terms"]["activity"]
    assert info["column"] == "activity" and info["labelled"] == 120
    # Each score is the head's prediction plus half RDKit's QED; the same head refitted
    # with the same seed predicts the same values.
    smiles, values, report = read_property_values(path, "activity")
    prop = fit_user_property(load_run(run_dir), smiles, values, "activity", seed=0)
    assert out["leaderboard"]
    for row in out["leaderboard"]:
        predicted = float(prop.predict_smiles([row["smiles"]])[0])
        assert row["terms"]["activity"] == pytest.approx(predicted, abs=1e-5)
        assert row["terms"]["qed"] == pytest.approx(QED.qed(Chem.MolFromSmiles(row["smiles"])))
        assert row["score"] == pytest.approx(predicted + 0.5 * row["terms"]["qed"], abs=1e-5)
    # In Python: the same object is a term of a specification string.
    lib = optimize_molecules(load_run(run_dir), "activity", 16, seed=1, start_items=20,
                             extra_terms={"activity": prop})
    assert lib["predicted_terms"]["activity"]["labelled"] == 120
    for row in lib["leaderboard"]:
        assert row["score"] == pytest.approx(float(prop.predict_smiles([row["smiles"]])[0]),
                                             abs=1e-5)


@pytest.mark.parametrize("args, message", [
    (["--properties", "{file}", "--objective", "potency"], "no column 'potency'; the columns are"),
    (["--properties", "{file}", "--objective", "qed"], "names none of its columns"),
    (["--objective", "activity"], "or a column of a --properties FILE"),
    (["--smiles-column", "x"], "SMILES column of --properties"),
    (["--properties", "{missing}", "--objective", "activity"], "missing.csv"),
    (["--properties", "{few}", "--objective", "activity"], "at least 10 are needed"),
    (["--properties", "{flat}", "--objective", "activity"], "nothing to learn"),
])
def test_bad_measured_property_input_is_a_one_line_error(run_dir, tmp_path, args, message):
    file = tmp_path / "assay.csv"
    _measured_file(run_dir, file, lambda s, z: float(z[0]))
    few = tmp_path / "few.csv"
    few.write_text("smiles,activity\nCCO,1\nCCN,2\nCCC,3\n")
    flat = tmp_path / "flat.csv"
    _measured_file(run_dir, flat, lambda s, z: 1.0)
    paths = {"file": file, "missing": tmp_path / "missing.csv", "few": few, "flat": flat}
    args = [a.format(**paths) for a in args]
    result = runner.invoke(app, ["optimize", str(run_dir), *args, "--budget", "4"])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
