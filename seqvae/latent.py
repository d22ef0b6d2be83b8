"""Geometry of the latent space: paths between points, norms, attribute directions, refinement.

Under the prior ``z ~ N(0, I_d)`` the squared norm follows a chi-square law with
``d`` degrees of freedom, so ``‖z‖`` concentrates near ``√d``: nearly all the prior's
mass sits in a thin shell (the "soap bubble"). A straight line between two points
of the shell cuts through the low-density interior; the polar path and slerp stay
near the shell. This module holds the path maths and the encode–decode
refinement loop; it knows nothing of automata (a trained run is duck-typed).

Every path is parametrised by a position ``t`` in ``[0, 1]``: ``t = 0`` is ``z1``
and ``t = 1`` is ``z2``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from seqvae.errors import LatentError, TokenizerError

__all__ = [
    "PATH_METHODS", "path_positions", "linear_path", "polar_path", "slerp_path", "latent_path",
    "chi_pdf", "chi_mean", "attribute_direction", "attribute_walk", "Refinement", "refine",
]


def path_positions(steps: int) -> np.ndarray:
    """The ``steps`` positions ``t`` of a path, evenly spaced from 0 to 1 inclusive.

    >>> path_positions(3)
    array([0. , 0.5, 1. ])
    """
    steps = int(steps)
    if steps < 2:
        raise LatentError(f"a path needs at least 2 steps (its two endpoints), got {steps}")
    return np.linspace(0.0, 1.0, steps)


def _endpoints(z1, z2) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(z1, dtype=np.float64)
    b = np.asarray(z2, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise LatentError(f"endpoints must be two 1-D vectors of the same length, got shapes "
                         f"{a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise LatentError("endpoints must be finite")
    return a, b


def linear_path(z1, z2, steps: int) -> np.ndarray:
    """Straight line ``(1 − t)·z1 + t·z2``, shape ``(steps, d_z)``.

    For endpoints of equal norm the norm dips in the middle: at ``t = 1/2`` it is
    ``‖z1‖·cos(θ/2)`` where ``θ`` is the angle between them (``‖z1‖/√2`` for
    orthogonal endpoints), i.e. the path leaves the prior's shell.

    >>> linear_path([0.0, 2.0], [2.0, 0.0], 3)
    array([[0., 2.],
           [1., 1.],
           [2., 0.]])
    """
    a, b = _endpoints(z1, z2)
    t = path_positions(steps)[:, None]
    return (1.0 - t) * a + t * b


def polar_path(z1, z2, steps: int) -> np.ndarray:
    """Polar interpolation ``√(1 − t)·z1 + √t·z2``, shape ``(steps, d_z)``.

    This is the literature's ``√a·z1 + √(1−a)·z2`` with ``a = 1 − t``. The weights
    satisfy ``w1² + w2² = 1``, so for *independent* standard Gaussian endpoints every
    point is again exactly ``N(0, I)``-distributed and ``E‖z(t)‖² = d`` at every ``t``:
    the norm is preserved in expectation. For two given vectors it is preserved only
    approximately: ``‖z(t)‖² = (1−t)‖z1‖² + t‖z2‖² + 2√(t(1−t))·⟨z1, z2⟩``, exact
    when the endpoints are orthogonal and of equal norm, and it bulges outwards
    when they point the same way. It also moves fast near the endpoints (the
    derivative of ``√t`` is infinite at 0), so evenly spaced ``t`` gives uneven steps.

    >>> p = polar_path([0.0, 2.0], [2.0, 0.0], 3)
    >>> np.round(np.linalg.norm(p, axis=1), 6)
    array([2., 2., 2.])
    """
    a, b = _endpoints(z1, z2)
    t = path_positions(steps)[:, None]
    return np.sqrt(1.0 - t) * a + np.sqrt(t) * b


def slerp_path(z1, z2, steps: int) -> np.ndarray:
    """Spherical linear interpolation, shape ``(steps, d_z)``.

    Moves at constant angular speed along the great circle through the endpoints'
    directions, with the norm interpolated linearly between ``‖z1‖`` and ``‖z2‖``;
    endpoints of equal norm therefore keep that norm exactly all along. Nearly
    parallel or antiparallel endpoints (no unique great circle) fall back to the
    linear path of the directions, renormalised.

    >>> p = slerp_path([0.0, 2.0], [2.0, 0.0], 3)
    >>> np.round(p, 6)
    array([[0.      , 2.      ],
           [1.414214, 1.414214],
           [2.      , 0.      ]])
    """
    a, b = _endpoints(z1, z2)
    t = path_positions(steps)[:, None]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0:
        return (1.0 - t) * a + t * b
    ua, ub = a / na, b / nb
    cos = float(np.clip(ua @ ub, -1.0, 1.0))
    theta = math.acos(cos)
    radius = (1.0 - t) * na + t * nb
    if math.sin(theta) < 1e-6:
        direction = (1.0 - t) * ua + t * ub
        norms = np.linalg.norm(direction, axis=1, keepdims=True)
        # Antiparallel endpoints pass through the origin: no direction there, keep zero.
        direction = np.divide(direction, norms, out=np.zeros_like(direction), where=norms > 1e-12)
        return radius * direction
    s = math.sin(theta)
    direction = (np.sin((1.0 - t) * theta) / s) * ua + (np.sin(t * theta) / s) * ub
    return radius * direction


#: Path constructors by name, in the order they are reported.
PATH_METHODS: dict[str, Callable[[Any, Any, int], np.ndarray]] = {
    "linear": linear_path,
    "polar": polar_path,
    "slerp": slerp_path,
}


def latent_path(method: str, z1, z2, steps: int) -> np.ndarray:
    """The path named ``method`` (``linear``, ``polar`` or ``slerp``) from ``z1`` to ``z2``.

    >>> latent_path("linear", [0.0], [1.0], 5).ravel()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    try:
        build = PATH_METHODS[method]
    except KeyError:
        raise LatentError(f"unknown path method {method!r}; choose from "
                         f"{', '.join(PATH_METHODS)}") from None
    return build(z1, z2, steps)


def chi_pdf(r, d_z: int) -> np.ndarray:
    """Density of ``‖z‖`` for ``z ~ N(0, I_d)``: the chi distribution with ``d_z`` degrees of freedom.

    ``f(r) = r^(d−1)·exp(−r²/2) / (2^(d/2 − 1)·Γ(d/2))`` for ``r ≥ 0``.

    >>> round(float(chi_pdf(1.0, 1)), 6)  # half-normal: 2·φ(1)
    0.483941
    """
    d = int(d_z)
    if d < 1:
        raise LatentError(f"d_z must be at least 1, got {d_z}")
    r = np.asarray(r, dtype=np.float64)
    out = np.zeros_like(r)
    pos = r > 0
    log_norm = (d / 2.0 - 1.0) * math.log(2.0) + math.lgamma(d / 2.0)
    out[pos] = np.exp((d - 1) * np.log(r[pos]) - 0.5 * r[pos] ** 2 - log_norm)
    if d == 1:
        out[r == 0] = math.exp(-log_norm)
    return out


def chi_mean(d_z: int) -> float:
    """Mean of the chi distribution, ``√2·Γ((d+1)/2)/Γ(d/2)`` (close to ``√d`` for large ``d``).

    >>> round(chi_mean(64), 3)
    7.969
    """
    d = int(d_z)
    return math.sqrt(2.0) * math.exp(math.lgamma((d + 1) / 2.0) - math.lgamma(d / 2.0))


def attribute_direction(z, values, *, quantile: float = 0.25, normalize: bool = False) -> np.ndarray:
    """Difference of the mean latents of high-``values`` and low-``values`` points.

    Points whose value is in the top ``quantile`` (``value >= q_(1−quantile)``) form
    the high group and those in the bottom ``quantile`` the low group; the direction
    is ``mean(z_high) − mean(z_low)``. NaN values (e.g. a reset length that does not
    exist) are ignored.

    Parameters
    ----------
    z : array, shape (m, d_z)
    values : array, shape (m,)
    quantile : float in (0, 0.5]
    normalize : bool
        Return a unit vector instead of the raw difference of means.

    Raises
    ------
    ValueError
        On mismatched shapes, a bad quantile, or when the groups cannot be told
        apart (fewer than two distinct finite values).

    Examples
    --------
    >>> z = np.array([[0.0, 1.0], [0.0, 2.0], [0.0, 5.0], [0.0, 6.0]])
    >>> attribute_direction(z, [1, 2, 5, 6], quantile=0.5)
    array([0., 4.])
    """
    z = np.asarray(z, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if z.ndim != 2 or v.ndim != 1 or z.shape[0] != v.shape[0]:
        raise LatentError(f"z must be (m, d_z) and values (m,), got {z.shape} and {v.shape}")
    if not 0.0 < quantile <= 0.5:
        raise LatentError(f"quantile must be in (0, 0.5], got {quantile}")
    keep = np.isfinite(v)
    z, v = z[keep], v[keep]
    if np.unique(v).size < 2:
        raise LatentError("need at least two distinct finite values to define a direction")
    lo_cut, hi_cut = np.quantile(v, [quantile, 1.0 - quantile])
    high = v >= hi_cut
    low = v <= lo_cut
    if lo_cut == hi_cut:
        # Ties at the cut: split strictly around it so the groups stay disjoint.
        high, low = v > hi_cut, v < lo_cut
        if not high.any():
            high = v >= hi_cut
        if not low.any():
            low = v <= lo_cut
    direction = z[high].mean(axis=0) - z[low].mean(axis=0)
    if normalize:
        norm = np.linalg.norm(direction)
        if norm > 0:
            direction = direction / norm
    return direction


def attribute_walk(z0, direction, alphas: Sequence[float]) -> np.ndarray:
    """Points ``z0 + α·direction`` for each ``α``: shape ``(len(alphas), d_z)``, or
    ``(m, len(alphas), d_z)`` when ``z0`` holds ``m`` starting points.

    >>> attribute_walk([0.0, 0.0], [1.0, 2.0], [0.0, 0.5]).tolist()
    [[0.0, 0.0], [0.5, 1.0]]
    """
    z0 = np.asarray(z0, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    a = np.asarray(alphas, dtype=np.float64)
    if d.ndim != 1 or z0.shape[-1] != d.shape[0]:
        raise LatentError(f"direction of shape {d.shape} does not match points of shape {z0.shape}")
    return z0[..., None, :] + a[:, None] * d


@dataclass
class Refinement:
    """The trajectory of encode–decode refinement.

    ``latents[k]`` are the points after ``k`` rounds (``latents[0]`` is the input)
    and ``decodes[k]`` their parsed decodes; both have ``rounds + 1`` entries.
    """

    latents: list[np.ndarray] = field(default_factory=list)
    decodes: list[list] = field(default_factory=list)

    @property
    def rounds(self) -> int:
        return len(self.latents) - 1


def _encodable(run, parsed: list, ok: list[int]) -> tuple[list[int], np.ndarray | None]:
    """The indices among ``ok`` whose items the run can encode, and their latent means.

    A valid decode may still use a token the tokenizer lacks (a SELFIES decode can
    derive a radical written with a symbol absent from the training set): such a
    point keeps its latent, as an invalid one does."""
    if not ok:
        return [], None
    try:
        mu, _ = run.encode([parsed[i].item for i in ok])
        return ok, mu
    except TokenizerError:
        pass
    keep, rows = [], []
    for i in ok:
        try:
            mu, _ = run.encode([parsed[i].item])
        except TokenizerError:
            continue
        keep.append(i)
        rows.append(mu[0])
    return keep, (np.stack(rows) if rows else None)


def refine(run, z, k: int, *, progress: Callable[[int], None] | None = None,
           keep_valid: bool = True, jitter: float = 0.0, seed: int = 0,
           **decode_kwargs) -> Refinement:
    """Encode–decode refinement: decode ``z``, re-encode the decodes (posterior mean μ), repeat.

    Round ``j`` maps ``z_j`` to ``z_{j+1} = μ(decode(z_j))``; ``k`` rounds give
    ``k + 1`` sets of points and decodes, so the effect of every round can be
    measured. Only valid decodes are re-encoded. A point whose decode does not
    parse keeps its latent (moved by Gaussian noise of scale ``jitter`` when that is
    positive, so that a later round may find a valid decode nearby). With
    ``keep_valid`` a move whose new decode is invalid is undone (the point and its
    valid decode stay as they were), so refinement never lowers validity — on
    SMILES, re-encoding a valid molecule can land where the decoder writes an
    invalid string.

    Parameters
    ----------
    run : object
        A trained run with ``decode_parsed(z, **kw) -> list`` (records with ``ok`` and
        ``item``) and ``encode(items) -> (mu, logvar)``.
    z : array, shape (m, d_z)
    k : int
        Number of refinement rounds, ``k >= 0``.
    progress : callable, optional
        Called with 1 after each decode.
    keep_valid : bool
        Undo moves from a valid decode to an invalid one.
    jitter : float
        Scale of the noise added to the latent of an invalid decode (0: keep it).
    seed : int
        Seed of that noise.
    **decode_kwargs
        Passed to ``run.decode_parsed`` (method, constrained, temperature, constraint spec).
    """
    k = int(k)
    if not jitter >= 0:
        raise LatentError(f"jitter must be >= 0, got {jitter}")
    rng = np.random.default_rng(seed)
    if k < 0:
        raise LatentError(f"the number of refinement rounds must be >= 0, got {k}")
    current = np.asarray(z, dtype=np.float32)
    if current.ndim != 2:
        raise LatentError(f"z must be (m, d_z), got shape {current.shape}")
    result = Refinement()
    for round_ in range(k + 1):
        parsed = list(run.decode_parsed(current, **decode_kwargs)) if len(current) else []
        if keep_valid and result.decodes:
            before, previous = result.latents[-1], result.decodes[-1]
            undo = [i for i, p in enumerate(parsed) if not p.ok and previous[i].ok]
            if undo:
                current = current.copy()
                current[undo] = before[undo]
                for i in undo:
                    parsed[i] = previous[i]
        result.latents.append(current)
        result.decodes.append(parsed)
        if progress is not None:
            progress(1)
        if round_ == k:
            break
        ok = [i for i, p in enumerate(parsed) if p.ok]
        nxt = current.copy()
        ok, mu = _encodable(run, parsed, ok)
        if ok:
            nxt[ok] = np.asarray(mu, dtype=np.float32)
        bad = [i for i, p in enumerate(parsed) if not p.ok]
        if bad and jitter > 0:
            nxt[bad] += (jitter * rng.standard_normal((len(bad), nxt.shape[1]))).astype(
                np.float32)
        current = nxt
    return result
