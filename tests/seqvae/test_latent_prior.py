"""The fitted latent prior: EM on a known mixture, the .npz file, and ``fit-prior`` /
``sample --prior`` / ``eval --prior`` on a tiny molecule run."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqvae.cli import app
from seqvae.errors import LatentError, RunError
from seqvae.latent_prior import PRIOR_FILE, GaussianMixture, fit_gmm, load_fitted_prior

from .mol_helpers import train_tiny_smiles_run

torch.set_num_threads(1)
runner = CliRunner()


# ----------------------------------------------------------------------------- EM
def _known_mixture(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    cov_a = np.array([[1.0, 0.8], [0.8, 1.0]])
    cov_b = np.array([[0.5, -0.2], [-0.2, 0.3]])
    n_a = int(0.3 * n)
    a = rng.multivariate_normal([-4.0, 0.0], cov_a, n_a)
    b = rng.multivariate_normal([3.0, 2.0], cov_b, n - n_a)
    return np.concatenate([a, b]), (cov_a, cov_b)


def test_em_recovers_a_known_two_component_mixture():
    x, (cov_a, cov_b) = _known_mixture()
    gmm = fit_gmm(x, 2, seed=3)
    order = np.argsort(gmm.means[:, 0])  # component 0: the one at x = -4
    w, m, c = gmm.weights[order], gmm.means[order], gmm.chols[order]
    assert w == pytest.approx([0.3, 0.7], abs=0.02)
    assert m[0] == pytest.approx([-4.0, 0.0], abs=0.1)
    assert m[1] == pytest.approx([3.0, 2.0], abs=0.05)
    assert np.allclose(c[0] @ c[0].T, cov_a, atol=0.1)
    assert np.allclose(c[1] @ c[1].T, cov_b, atol=0.05)
    # the fit explains the data better than one Gaussian does
    assert gmm.log_prob(x).mean() > fit_gmm(x, 1).log_prob(x).mean() + 0.5


def test_em_is_deterministic_for_a_seed_and_samples_follow_the_weights():
    x, _ = _known_mixture(1000, seed=1)
    a, b = fit_gmm(x, 2, seed=5), fit_gmm(x, 2, seed=5)
    assert np.array_equal(a.means, b.means) and np.array_equal(a.chols, b.chols)
    z = a.sample(5000, seed=0)
    assert z.shape == (5000, 2) and z.dtype == np.float32
    assert np.array_equal(z, a.sample(5000, seed=0))
    left = a.weights[np.argmin(a.means[:, 0])]
    assert np.mean(z[:, 0] < -0.5) == pytest.approx(left, abs=0.03)


def test_log_prob_of_one_gaussian_matches_the_closed_form():
    chol = np.array([[[2.0, 0.0], [0.5, 1.0]]])
    g = GaussianMixture(np.ones(1), np.array([[1.0, -1.0]]), chol)
    x = np.array([[0.0, 0.0], [1.0, -1.0]])
    cov = chol[0] @ chol[0].T
    diff = x - g.means[0]
    expected = (-0.5 * np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
                - 0.5 * np.log(np.linalg.det(2 * np.pi * cov)))
    assert g.log_prob(x) == pytest.approx(expected)


@pytest.mark.parametrize("x, k", [(np.zeros((0, 2)), 1), (np.ones((5, 2)), 6),
                                  (np.ones((5, 2)), 0), (np.full((3, 2), np.nan), 1),
                                  (np.ones(5), 1)])
def test_fit_refuses_bad_input(x, k):
    with pytest.raises(LatentError):
        fit_gmm(x, k)


def test_identical_points_still_give_a_valid_mixture():
    gmm = fit_gmm(np.ones((50, 3)), 2)  # the ridge keeps the covariances positive definite
    assert np.all(np.isfinite(gmm.sample(10)))


# ----------------------------------------------------------------------------- the file
def test_file_round_trips(tmp_path):
    x, _ = _known_mixture(500)
    gmm = fit_gmm(x, 2)
    path = gmm.save(tmp_path / PRIOR_FILE)
    back = GaussianMixture.load(path)
    for name in ("weights", "means", "chols"):
        assert np.array_equal(getattr(back, name), getattr(gmm, name))
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, no temp left over


def test_file_refuses_pickles_and_malformed_arrays(tmp_path):
    good = fit_gmm(_known_mixture(300)[0], 2)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, weights=good.weights, means=good.means,
             chols=np.array([{"code": "x"}, None], dtype=object))
    with pytest.raises(LatentError, match="not a fitted prior|float"):
        GaussianMixture.load(pickled)
    cases = {
        "missing.npz": dict(weights=good.weights, means=good.means),
        "shapes.npz": dict(weights=good.weights, means=good.means, chols=good.chols[:1]),
        "weights.npz": dict(weights=np.array([0.5, 0.6]), means=good.means, chols=good.chols),
        "upper.npz": dict(weights=good.weights, means=good.means,
                          chols=np.transpose(good.chols + 1.0, (0, 2, 1))),
        "nan.npz": dict(weights=good.weights, means=good.means * np.nan, chols=good.chols),
    }
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(LatentError):
            GaussianMixture.load(tmp_path / name)
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(LatentError, match="not a fitted prior"):
        GaussianMixture.load(tmp_path / "text.npz")
    with pytest.raises(RunError, match="fit-prior"):
        load_fitted_prior(tmp_path)


# ----------------------------------------------------------------------------- the CLI
def _one_line_error(result):
    assert result.exit_code == 2, result.output
    text = result.stderr.strip()
    assert text.startswith("error:") and len(text.splitlines()) == 1, result.stderr
    return text


@pytest.fixture(scope="module")
def mol_run(tmp_path_factory):
    pytest.importorskip("rdkit")
    base = tmp_path_factory.mktemp("prior")
    return train_tiny_smiles_run(base)


def test_fitted_prior_is_refused_before_fit_prior(mol_run, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(mol_run, bare)
    (bare / PRIOR_FILE).unlink(missing_ok=True)
    for cmd in (["sample", str(bare), "--count", "3", "--prior", "fitted"],
                ["eval", str(bare), "--prior", "fitted", "--samples", "0", "--max-items", "5"]):
        assert "fit-prior" in _one_line_error(runner.invoke(app, cmd))
    assert "unknown prior" in _one_line_error(
        runner.invoke(app, ["sample", str(bare), "--prior", "wide"]))
    (bare / PRIOR_FILE).write_bytes(b"PK\x03\x04 broken")
    assert "not a fitted prior" in _one_line_error(
        runner.invoke(app, ["sample", str(bare), "--prior", "fitted"]))
    assert "--components" in _one_line_error(
        runner.invoke(app, ["fit-prior", str(bare), "--components", "0"]))


def test_fit_prior_then_sample_and_eval_use_it(mol_run):
    result = runner.invoke(app, ["fit-prior", str(mol_run), "--components", "2", "--items",
                                 "50", "--seed", "1", "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["components"] == 2 and info["d_z"] == 4 and info["items"] == 50
    gmm = load_fitted_prior(mol_run)
    assert gmm.n_components == 2 and gmm.dim == 4

    def sampled(prior):
        out = runner.invoke(app, ["sample", str(mol_run), "--count", "6", "--json",
                                  "--prior", prior, "--device", "cpu"])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    fitted, standard = sampled("fitted"), sampled("standard")
    assert len(fitted) == 6
    # the decodes are those of the mixture's points, not of N(0, I)'s
    from seqvae.runs import load_run

    run = load_run(mol_run).use_prior("fitted")
    # the command line decodes molecule runs the domain's default way (valid-first beams)
    run.use_decoding(**run.domain.default_decoding())
    expected = [p.item for p in run.decode_parsed(gmm.sample(6, seed=0), seed=0)]
    assert [r["item"] for r in fitted] == expected
    assert [r["item"] for r in standard] != expected

    out = runner.invoke(app, ["eval", str(mol_run), "--json", "--prior", "fitted", "--samples",
                              "20", "--no-fcd", "--prior-count", "20", "--max-items", "5",
                              "--iwae-samples", "2", "--device", "cpu"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["prior"] == "fitted" and 0.0 <= result["validity"] <= 1.0
    out = runner.invoke(app, ["eval", str(mol_run), "--json", "--samples", "0",
                              "--prior-count", "5", "--max-items", "5", "--iwae-samples", "2"])
    assert out.exit_code == 0 and json.loads(out.stdout)["prior"] == "standard"


def test_fitted_prior_of_another_size_is_refused(mol_run, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(mol_run, other)
    fit_gmm(np.random.default_rng(0).normal(size=(40, 3)), 1).save(other / PRIOR_FILE)
    assert "dimension 3" in _one_line_error(
        runner.invoke(app, ["sample", str(other), "--prior", "fitted"]))


def test_bench_smiles_refuses_a_missing_fitted_prior(mol_run, tmp_path, capsys):
    from tests.script_helpers import load_script

    module = load_script("bench_smiles")
    bare = tmp_path / "bare"
    shutil.copytree(mol_run, bare)
    (bare / PRIOR_FILE).unlink(missing_ok=True)
    assert module.main([str(bare), "--prior", "fitted"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1 and "fit-prior" in out.err


def test_scale_shrinks_samples_towards_the_component_means():
    g = GaussianMixture(np.ones(1), np.array([[2.0, -1.0]]), np.eye(2)[None] * 3.0)
    full, half = g.sample(4000, seed=2), g.sample(4000, seed=2, scale=0.5)
    assert np.allclose(half - g.means[0], 0.5 * (full - g.means[0]), atol=1e-5)
    assert np.std(full[:, 0]) == pytest.approx(3.0, rel=0.05)
    with pytest.raises(LatentError):
        g.sample(3, scale=-1.0)


def test_prior_scale_on_the_command_line(mol_run):
    from seqvae.runs import load_run

    run = load_run(mol_run).use_prior("standard", 0.5)
    assert np.allclose(run.sample_prior(5, seed=3),
                       0.5 * np.random.default_rng(3).standard_normal((5, 4)), atol=1e-6)
    assert "prior scale" in _one_line_error(
        runner.invoke(app, ["sample", str(mol_run), "--prior-scale", "0"]))
    out = runner.invoke(app, ["eval", str(mol_run), "--json", "--samples", "0", "--prior-scale",
                              "0.5", "--prior-count", "5", "--max-items", "5",
                              "--iwae-samples", "2"])
    assert out.exit_code == 0 and json.loads(out.stdout)["prior_scale"] == 0.5


def test_fit_prior_never_writes_through_a_link_out_of_the_run(tmp_path):
    """A latent_prior.npz planted as a link to a file elsewhere is refused, not overwritten."""
    from automata.atomic import UnsafeTargetError
    from seqvae.latent_prior import PRIOR_FILE, fit_gmm

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("keep me")
    (run_dir / PRIOR_FILE).symlink_to(victim)
    gmm = fit_gmm(np.arange(20.0).reshape(10, 2), 1)
    with pytest.raises(UnsafeTargetError, match="outside"):
        gmm.save(run_dir / PRIOR_FILE, within=run_dir)
    assert victim.read_text() == "keep me"
    inside = run_dir / "prior_v2.npz"
    (run_dir / "link.npz").symlink_to(inside)
    gmm.save(run_dir / "link.npz", within=run_dir)   # a link within the run is fine
    assert inside.exists()
