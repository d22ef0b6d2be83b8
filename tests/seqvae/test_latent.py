"""Path maths, chi density, attribute directions and the refinement loop."""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest

from seqvae.latent import (
    PATH_METHODS,
    attribute_direction,
    attribute_walk,
    chi_mean,
    chi_pdf,
    latent_path,
    linear_path,
    path_positions,
    polar_path,
    refine,
    slerp_path,
)


def _equal_norm_pair(d=32, seed=0, norm=None):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(d), rng.standard_normal(d)
    norm = math.sqrt(d) if norm is None else norm
    return a / np.linalg.norm(a) * norm, b / np.linalg.norm(b) * norm


@pytest.mark.parametrize("method", list(PATH_METHODS))
def test_every_path_reproduces_its_endpoints(method):
    a, b = _equal_norm_pair(seed=1)
    p = latent_path(method, a, b, 7)
    assert p.shape == (7, 32)
    np.testing.assert_allclose(p[0], a, atol=1e-12)
    np.testing.assert_allclose(p[-1], b, atol=1e-12)


def test_slerp_keeps_the_norm_exactly():
    a, b = _equal_norm_pair(seed=2)
    norms = np.linalg.norm(slerp_path(a, b, 21), axis=1)
    np.testing.assert_allclose(norms, math.sqrt(32), rtol=1e-10)


def test_slerp_moves_at_constant_angle():
    a, b = _equal_norm_pair(seed=3)
    p = slerp_path(a, b, 11)
    unit = p / np.linalg.norm(p, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-8)


def test_linear_dips_in_the_middle_polar_nearly_keeps_the_norm():
    # Nearly orthogonal endpoints of equal norm, as for two prior samples in high dimension.
    a, b = _equal_norm_pair(d=256, seed=4)
    r = math.sqrt(256)
    lin = np.linalg.norm(linear_path(a, b, 11), axis=1)
    pol = np.linalg.norm(polar_path(a, b, 11), axis=1)
    cos = a @ b / r ** 2
    assert abs(cos) < 0.25
    # Linear midpoint: r·cos(θ/2) = r·√((1+cos)/2), about r/√2 for orthogonal vectors.
    assert lin[5] == pytest.approx(r * math.sqrt((1 + cos) / 2), rel=1e-10)
    assert lin[5] < 0.9 * r
    assert lin.argmin() == 5
    # Polar: ‖z(t)‖² = r²(1 + 2√(t(1−t))·cos): within a few percent of r here.
    t = path_positions(11)
    np.testing.assert_allclose(pol ** 2, r ** 2 * (1 + 2 * np.sqrt(t * (1 - t)) * cos), rtol=1e-10)
    assert np.all(np.abs(pol / r - 1) < 0.15)
    assert np.all(np.abs(pol / r - 1) <= np.abs(lin / r - 1) + 1e-12)


def test_polar_is_exact_for_orthogonal_equal_norm_and_bulges_for_aligned():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(polar_path(a, b, 9), axis=1), 3.0)
    c = np.array([3.0, 0.3, 0.0])
    c = c / np.linalg.norm(c) * 3.0
    assert np.linalg.norm(polar_path(a, c, 3)[1]) > 3.0 * 1.3


def test_polar_preserves_norm_in_expectation_for_gaussian_endpoints():
    rng = np.random.default_rng(5)
    d, m = 16, 4000
    za, zb = rng.standard_normal((m, d)), rng.standard_normal((m, d))
    mids = np.sqrt(0.3) * za + np.sqrt(0.7) * zb
    assert np.mean(np.sum(mids ** 2, axis=1)) == pytest.approx(d, rel=0.03)
    lin_mids = 0.3 * za + 0.7 * zb
    assert np.mean(np.sum(lin_mids ** 2, axis=1)) == pytest.approx(d * 0.58, rel=0.03)


def test_slerp_handles_parallel_and_zero_endpoints():
    a = np.array([1.0, 2.0])
    p = slerp_path(a, 2 * a, 5)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p[-1], 2 * a)
    q = slerp_path(np.zeros(2), a, 3)
    np.testing.assert_allclose(q[1], a / 2)


def test_path_input_errors():
    with pytest.raises(ValueError):
        linear_path([0.0, 1.0], [1.0], 3)
    with pytest.raises(ValueError):
        polar_path([0.0], [1.0], 1)
    with pytest.raises(ValueError):
        latent_path("spiral", [0.0], [1.0], 3)
    with pytest.raises(ValueError):
        slerp_path([np.nan], [1.0], 3)


def test_chi_pdf_integrates_to_one_and_matches_moments():
    for d in (1, 2, 5, 64):
        grid = np.linspace(0, 20, 40001)
        pdf = chi_pdf(grid, d)
        assert np.trapezoid(pdf, grid) == pytest.approx(1.0, abs=1e-4)
        assert np.trapezoid(grid * pdf, grid) == pytest.approx(chi_mean(d), rel=1e-4)
    rng = np.random.default_rng(6)
    norms = np.linalg.norm(rng.standard_normal((20000, 8)), axis=1)
    assert norms.mean() == pytest.approx(chi_mean(8), rel=0.01)


def test_attribute_direction_points_towards_high_values():
    rng = np.random.default_rng(7)
    true = np.zeros(10)
    true[3] = 1.0
    values = rng.uniform(0, 10, size=400)
    z = rng.standard_normal((400, 10)) * 0.5 + np.outer(values, true)
    d = attribute_direction(z, values)
    assert d[3] > 5.0
    assert np.argmax(np.abs(d)) == 3
    unit = attribute_direction(z, values, normalize=True)
    assert np.linalg.norm(unit) == pytest.approx(1.0)
    assert unit @ true > 0.95
    # Reversing the attribute reverses the direction.
    np.testing.assert_allclose(attribute_direction(z, -values), -d)


def test_attribute_direction_ignores_nan_and_rejects_constant_values():
    z = np.array([[0.0], [1.0], [2.0], [100.0]])
    d = attribute_direction(z, [0.0, 1.0, 2.0, np.nan], quantile=0.5)
    assert d[0] > 0 and d[0] < 3
    with pytest.raises(ValueError):
        attribute_direction(z, [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError):
        attribute_direction(z, [1.0, 2.0])


def test_attribute_walk_shapes():
    w = attribute_walk(np.zeros((3, 2)), [1.0, 0.0], [-1.0, 0.0, 2.0])
    assert w.shape == (3, 3, 2)
    np.testing.assert_allclose(w[1, :, 0], [-1.0, 0.0, 2.0])


Parsed = namedtuple("Parsed", "ok item error")


class _CountingRun:
    """Decodes a point to the rounded integer of its first coordinate (negative = malformed);
    encoding an integer item gives the point (item + 0.5 · sign, 0): each round moves it."""

    def __init__(self):
        self.encode_calls = 0
        self.decode_calls = 0

    def decode_parsed(self, z, **kwargs):
        self.decode_calls += 1
        assert kwargs.get("method") == "greedy"
        return [Parsed(True, int(round(p[0])), None) if p[0] >= 0 else Parsed(False, None, "neg")
                for p in z]

    def encode(self, items):
        self.encode_calls += 1
        mu = np.array([[item + 1.0, 0.0] for item in items])
        return mu, np.zeros_like(mu)


def test_refine_runs_k_rounds_and_keeps_unparseable_points():
    run = _CountingRun()
    z = np.array([[0.2, 5.0], [-3.0, 1.0]])
    traj = refine(run, z, 3, method="greedy")
    assert traj.rounds == 3
    assert len(traj.latents) == len(traj.decodes) == 4
    assert run.decode_calls == 4 and run.encode_calls == 3
    assert [d[0].item for d in traj.decodes] == [0, 1, 2, 3]
    np.testing.assert_allclose(traj.latents[1][0], [1.0, 0.0])
    # The malformed point cannot be encoded: it stays where it is.
    for k in range(4):
        np.testing.assert_allclose(traj.latents[k][1], [-3.0, 1.0])
        assert not traj.decodes[k][1].ok


def test_refine_zero_rounds_only_decodes():
    run = _CountingRun()
    traj = refine(run, np.array([[1.0, 0.0]]), 0, method="greedy")
    assert traj.rounds == 0 and run.encode_calls == 0 and run.decode_calls == 1
    with pytest.raises(ValueError):
        refine(run, np.array([[1.0, 0.0]]), -1)


class _FallingRun(_CountingRun):
    """Encoding an item lands at -1: every re-encoded point would decode invalid."""

    def encode(self, items):
        self.encode_calls += 1
        mu = np.array([[-1.0, float(item)] for item in items])
        return mu, np.zeros_like(mu)


def test_refine_never_lowers_validity_when_keep_valid():
    z = np.array([[0.2, 0.0], [2.0, 0.0], [-3.0, 0.0]])
    kept = refine(_FallingRun(), z, 2, method="greedy")
    plain = refine(_FallingRun(), z, 2, method="greedy", keep_valid=False)
    valid = [sum(p.ok for p in d) for d in kept.decodes]
    assert valid == [2, 2, 2]
    np.testing.assert_allclose(kept.latents[2][:2], z[:2])  # the moves were undone
    assert [sum(p.ok for p in d) for d in plain.decodes] == [2, 0, 0]


def test_refine_jitter_moves_only_invalid_points():
    z = np.array([[0.2, 0.0], [-3.0, 0.0]])
    traj = refine(_CountingRun(), z, 1, method="greedy", jitter=0.5, seed=1)
    assert not np.allclose(traj.latents[1][1], z[1])
    np.testing.assert_allclose(traj.latents[1][0], [1.0, 0.0])
    with pytest.raises(ValueError):
        refine(_CountingRun(), z, 1, jitter=-1.0)


class _PickyRun(_CountingRun):
    """The tokenizer cannot write item 1 (as a SELFIES radical symbol outside the vocabulary)."""

    def encode(self, items):
        from seqvae.errors import EncodeError

        if 1 in items:
            raise EncodeError("not in the vocabulary")
        return super().encode(items)


def test_refine_keeps_the_latent_of_a_valid_decode_it_cannot_encode():
    z = np.array([[1.2, 0.0], [0.1, 0.0]])  # decodes 1 (unencodable) and 0
    traj = refine(_PickyRun(), z, 1, method="greedy")
    np.testing.assert_allclose(traj.latents[1][0], z[0])
    np.testing.assert_allclose(traj.latents[1][1], [1.0, 0.0])
