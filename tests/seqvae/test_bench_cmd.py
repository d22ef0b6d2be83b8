"""``seqvae bench moses`` and ``seqvae bench guacamol`` on a tiny run and tiny reference files."""
from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from seqvae.cli import app
from tests.seqvae.mol_helpers import train_tiny_smiles_run

pytest.importorskip("rdkit")

runner = CliRunner()

TEST_SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
               "c1ccc2ccccc2c1", "CCO", "CCN(CC)CC", "O=C(O)c1ccccc1O", "c1ccc(cc1)Cc1ccccc1",
               "CC(=O)Nc1ccc(O)cc1", "C1CCC(CC1)N"]
SCAFFOLD_SMILES = ["c1ccc(cc1)-c1ccccn1", "C1CCC2(CC1)CCCC2", "c1ccc2[nH]ccc2c1", "OCCc1ccncc1",
                   "c1ccc(cc1)C1CCNCC1"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_tiny_smiles_run(tmp_path_factory.mktemp("bench"))


@pytest.fixture
def moses_dir(tmp_path):
    """A MOSES folder with tiny test and scaffold-test files (as the real ones: gzipped CSV)."""
    folder = tmp_path / "moses"
    folder.mkdir()
    for name, smiles in (("test", TEST_SMILES), ("test_scaffolds", SCAFFOLD_SMILES)):
        with gzip.open(folder / f"{name}.csv.gz", "wt") as handle:
            handle.write("SMILES\n" + "\n".join(smiles) + "\n")
    return folder


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.output


# -- MOSES ------------------------------------------------------------------------------


def test_moses_json_equals_the_metrics_of_the_same_samples(run_dir, moses_dir, monkeypatch):
    monkeypatch.setenv("SEQVAE_CACHE", str(moses_dir.parent))   # found as $SEQVAE_CACHE/moses
    result = runner.invoke(app, ["bench", "moses", str(run_dir), "--samples", "40", "--seed", "3",
                                 "--no-fcd", "--json", "--threads", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got["reference"] == {"test": len(TEST_SMILES), "test_scaffolds": len(SCAFFOLD_SMILES)}
    assert got["samples"] == 40 and got["seed"] == 3
    assert got["decoding"]["method"] == "beam" and got["decoding"]["valid_first"]
    assert got["fcd"] is None and "not computed" in got["fcd_reason"]
    # The same samples scored directly: each reference set reaches its own columns.
    from seqvae.cli._run_options import _use_decoding
    from seqvae.molecules.chem import moses_metrics
    from seqvae.runs import STORED, load_run

    run = load_run(run_dir, validity=STORED)
    _use_decoding(run, None, None, None, None)
    texts = [p.item or "" for p in run.sample(40, seed=3)]
    want = moses_metrics(texts, train=run.train_items, train_is_canonical=True,
                         test=TEST_SMILES, test_scaffolds=SCAFFOLD_SMILES)
    assert got["validity"] == pytest.approx(want["validity"])
    if want["n_valid"]:
        for key in ("snn", "snn_testsf", "frag", "frag_testsf", "novelty", "intdiv1"):
            assert got[key] == pytest.approx(want[key]), key
        assert got["snn"] != pytest.approx(got["snn_testsf"])


def test_moses_table_has_the_papers_columns(run_dir, moses_dir):
    from seqvae.molecules.bench_moses import MOSES_TABLE

    result = runner.invoke(app, ["bench", "moses", str(run_dir), "-n", "20", "--no-fcd",
                                 "--data-dir", str(moses_dir), "--threads", "1"])
    assert result.exit_code == 0, result.output
    header, values = result.stdout.strip().splitlines()[-2:]
    assert header.split("\t") == [title for title, _ in MOSES_TABLE]
    assert header.startswith("Valid\tUnique@1k\tUnique@10k\tFCD/Test\tFCD/TestSF\tSNN/Test")
    cells = values.split("\t")
    assert len(cells) == len(MOSES_TABLE)
    assert 0.0 <= float(cells[0]) <= 1.0
    assert cells[3] == "-" and cells[4] == "-"              # --no-fcd
    assert "MOSES, 20 samples" in result.stderr
    if "0.000" != cells[0]:       # no MCF list in this folder: no MOSES 'Filters' figure
        assert cells[-2] == "-" and "no MCF patterns" in result.stderr


def test_moses_fcd_reference_cap_and_fcd_reason(run_dir, moses_dir):
    pytest.importorskip("fcd")
    result = runner.invoke(app, ["bench", "moses", str(run_dir), "-n", "30", "--data-dir",
                                 str(moses_dir), "--fcd-reference", "4", "--json",
                                 "--threads", "1"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got["fcd_reference"] == 4
    for key in ("fcd", "fcd_testsf"):            # a value, or None with the reason
        assert got[key] is not None or got[f"{key}_reason"]


def test_fcd_subset_is_seeded_and_capped():
    from seqvae.molecules.bench_moses import _fcd_subset

    pool = [f"C{'C' * i}O" for i in range(50)]
    assert _fcd_subset(pool, None, 0) is pool and _fcd_subset(pool, 80, 0) is pool
    a, b = _fcd_subset(pool, 7, 1), _fcd_subset(pool, 7, 1)
    assert a == b and len(set(a)) == 7 and set(a) <= set(pool)


def test_moses_without_the_data_names_the_fetch_script(run_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQVAE_CACHE", str(tmp_path))       # nothing fetched there
    result = runner.invoke(app, ["bench", "moses", str(run_dir), "-n", "5", "--no-fcd"])
    _one_line_error(result, "scripts/fetch_moses.py")


@pytest.mark.parametrize("args, needle", [
    (["--samples", "0"], "--samples"),
    (["--fcd-reference", "0"], "--fcd-reference"),
    (["--data-dir", "/nonexistent/moses"], "--data-dir"),
    (["--prior", "fitted"], "seqvae fit-prior"),
    (["--prior", "mixture"], "unknown prior 'mixture'"),
    (["--prior-scale", "0"], "prior scale"),
])
def test_moses_bad_options(run_dir, args, needle):
    _one_line_error(runner.invoke(app, ["bench", "moses", str(run_dir), *args]), needle)


def test_moses_samples_the_fitted_prior_when_asked(run_dir, moses_dir, tmp_path, monkeypatch):
    import shutil

    from seqvae.cli._run_options import _use_decoding
    from seqvae.molecules.chem import moses_metrics
    from seqvae.runs import STORED, load_run

    monkeypatch.setenv("SEQVAE_CACHE", str(moses_dir.parent))
    fitted = tmp_path / "fitted"
    shutil.copytree(run_dir, fitted)
    made = runner.invoke(app, ["fit-prior", str(fitted), "--components", "2", "--items", "40",
                               "--seed", "0", "--threads", "1"])
    assert made.exit_code == 0, made.output
    args = ["bench", "moses", str(fitted), "-n", "30", "--seed", "1", "--no-fcd", "--json",
            "--threads", "1", "--device", "cpu"]
    got = json.loads(runner.invoke(app, args + ["--prior", "fitted", "--prior-scale", "0.5"]).stdout)
    assert got["prior"] == "fitted" and got["prior_scale"] == 0.5
    run = load_run(fitted, validity=STORED).use_prior("fitted", 0.5)
    _use_decoding(run, None, None, None, None)
    texts = [p.item or "" for p in run.sample(30, seed=1)]
    want = moses_metrics(texts, train=run.train_items, train_is_canonical=True,
                         test=TEST_SMILES, test_scaffolds=SCAFFOLD_SMILES)
    assert got["validity"] == pytest.approx(want["validity"])
    assert got["n_valid"] == want["n_valid"]
    if want["n_valid"]:
        assert got["intdiv1"] == pytest.approx(want["intdiv1"])
    # N(0, I), the default, draws other points: the samples differ.
    standard = json.loads(runner.invoke(app, args).stdout)
    assert standard["prior"] == "standard" and standard["prior_scale"] == 1.0
    run.use_prior("standard")
    assert [p.item for p in run.sample(30, seed=1)] != [p.item for p in
                                                       run.use_prior("fitted", 0.5).sample(30, seed=1)]


@pytest.mark.parametrize("suite", ["moses", "guacamol"])
def test_missing_run_is_one_line(tmp_path, suite):
    result = runner.invoke(app, ["bench", suite, str(tmp_path / "nope"), "--samples", "5"])
    _one_line_error(result, "nope")


# -- GuacaMol ---------------------------------------------------------------------------

from seqvae.molecules import bench_guacamol as guacamol  # noqa: E402


@pytest.mark.parametrize("args, needle", [
    (["--suite", "goals"], "--suite"),
    (["--suite", "goal", "--tasks", "Aspirin MPO"], "unknown GuacaMol task 'Aspirin MPO'"),
    (["--suite", "goal", "--tasks", "21"], "unknown GuacaMol task '21'"),
    (["--suite", "distribution", "--tasks", "1"], "--tasks"),
    (["--suite", "goal", "--budget", "0"], "--budget"),
    (["--suite", "goal", "--reference", "x.smi"], "--reference"),
    (["--suite", "distribution", "--samples", "500"], "fewer than --samples 500"),
    (["--suite", "distribution", "--prior", "fitted"], "seqvae fit-prior"),
])
def test_guacamol_bad_options(run_dir, args, needle):
    _one_line_error(runner.invoke(app, ["bench", "guacamol", str(run_dir), *args,
                                        "--threads", "1"]), needle)


def test_guacamol_distribution_against_a_given_reference(run_dir, tmp_path):
    ref = tmp_path / "ref.smi"
    ref.write_text("\n".join(TEST_SMILES + SCAFFOLD_SMILES) + "\n")
    result = runner.invoke(app, ["bench", "guacamol", str(run_dir), "--suite", "distribution",
                                 "-n", "12", "--reference", str(ref), "--json", "--threads", "1",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)["distribution"]
    assert got["reference"] == {"label": str(ref), "molecules": 15}
    names = [r["benchmark_name"] for r in got["results"]]
    assert names == ["Validity", "Uniqueness", "Novelty", "KL divergence",
                     "Frechet ChemNet Distance"]
    validity = got["results"][0]
    assert validity["score"] == pytest.approx(validity["metadata"]["number_valid"] / 12)
    written = json.loads((tmp_path / "out" / "output_distribution_learning.json").read_text())
    assert written["results"][0]["score"] == validity["score"]
    assert written["benchmark_suite_version"] == "v1"
    # The prior the samples came from is named in the output and in the file.
    assert json.loads(result.stdout)["prior"] == written["prior"] == "standard"
    assert written["prior_scale"] == 1.0


def test_guacamol_goal_tasks_by_name_and_index(run_dir, tmp_path):
    result = runner.invoke(app, ["bench", "guacamol", str(run_dir), "--suite", "goal",
                                 "--tasks", "c11h24,1", "--budget", "8", "--start-items", "20",
                                 "--threads", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["C11H24", "Celecoxib rediscovery", "total"]
    written = json.loads((tmp_path / "output_goal_directed.json").read_text())
    assert written["benchmark_suite_version"] == "v2" and written["budget"] == 8
    for row in written["results"]:
        assert row["optimizer"]["decoded"] == 8
        assert row["optimizer"]["start_molecules"] <= 20
        # every start molecule and every new valid decode went through the task's scorer
        assert row["number_scoring_function_calls"] >= row["optimizer"]["start_molecules"]
    assert written["total_score"] == pytest.approx(sum(r["score"] for r in written["results"]))
    assert "total score" in result.stderr


def test_latent_optimizer_scores_with_the_tasks_function_from_its_population(run_dir):
    """The start population is encoded and scored by the scoring function handed in: a
    population holding the target itself starts at the rediscovery score 1."""
    from guacamol.common_scoring_functions import TanimotoScoringFunction

    from seqvae.runs import STORED, load_run

    run = load_run(run_dir, validity=STORED)
    target = run.train_items[0]
    scorer = TanimotoScoringFunction(target, fp_type="ECFP4")
    model = guacamol.LatentOptimizer(run, budget=4, seed=0)
    population = [target, run.train_items[1], run.train_items[2]]
    found = model.generate_optimized_molecules(scorer, 5, starting_population=population)
    assert model.last["start"] == "given" and model.last["start_molecules"] == 3
    assert model.last["start_best"] == pytest.approx(1.0)
    assert model.last["decoded"] == 4 and len(found) <= 5
    with pytest.raises(Exception, match="budget"):
        guacamol.LatentOptimizer(run, budget=0)


def test_run_sampler_draws_fresh_samples_each_call(run_dir):
    from seqvae.runs import STORED, load_run

    sampler = guacamol.RunSampler(load_run(run_dir, validity=STORED), seed=5)
    first, second = sampler.generate(6), sampler.generate(6)
    assert len(first) == len(second) == 6 and all(isinstance(s, str) for s in first + second)
    assert sampler.calls == 2 and sampler.drawn == 12
    again = guacamol.RunSampler(sampler.run, seed=5).generate(6)
    assert again == first


def test_moses_fcd_uses_the_splits_cached_chemnet_statistics(moses_dir, monkeypatch):
    pytest.importorskip("fcd")
    import seqvae.molecules.chem.chemnet as chemnet
    from seqvae.molecules.bench_moses import _fcd_to_split

    generated = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "OCCc1ccncc1"]
    direct = chemnet.frechet_chemnet_distance(generated, TEST_SMILES)
    first = _fcd_to_split(generated, "test", moses_dir)
    assert first["fcd"] == pytest.approx(direct, rel=1e-6)
    assert first["fcd_reference"] == len(TEST_SMILES)
    assert (moses_dir / "test_chemnet.npz").is_file()
    # The second benchmark reads the reference side: only the samples go through ChemNet.
    seen = []
    real = chemnet._chemnet_statistics
    monkeypatch.setattr(chemnet, "_chemnet_statistics", lambda s: seen.append(len(s)) or real(s))
    assert _fcd_to_split(generated, "test", moses_dir)["fcd"] == pytest.approx(direct, rel=1e-6)
    assert seen == [len(generated)]
    # A damaged cache file is a one-line reason, not a crash or a silently wrong figure.
    (moses_dir / "test_chemnet.npz").write_bytes(b"PK\x03\x04 not a zip")
    import os
    os.utime(moses_dir / "test_chemnet.npz")
    broken = _fcd_to_split(generated, "test", moses_dir)
    assert broken["fcd"] is None and "test_chemnet.npz" in broken["fcd_reason"]
