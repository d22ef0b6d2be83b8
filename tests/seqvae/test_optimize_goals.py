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
