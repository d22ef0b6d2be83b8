"""A fitted latent prior: a Gaussian mixture fitted to the encoded training items.

Why: a VAE's encoded items cover only part of N(0, I); points drawn from the
standard normal fall between them and decode to invalid items more often. An
ex-post density fitted to the encoder means (Ghosh et al. 2020, "From
variational to deterministic autoencoders") is sampled instead.

:func:`fit_gmm` runs EM with full covariances (plain numpy, fixed seed);
:class:`GaussianMixture` samples, scores, and saves itself as plain arrays in
an ``.npz`` (weights, means, Cholesky factors of the covariances), written
atomically and read with ``allow_pickle=False``; :func:`fit_run_prior` encodes a
run's training items and saves the result as ``RUN/latent_prior.npz``.

>>> rng = np.random.default_rng(0)
>>> x = np.concatenate([rng.normal(-5, 1, (300, 2)), rng.normal(5, 1, (300, 2))])
>>> gmm = fit_gmm(x, 2, seed=0)
>>> sorted(np.round(gmm.means[:, 0]).astype(int).tolist())
[-5, 5]
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from automata.atomic import atomic_write_bytes
from seqvae.errors import LatentError, RunError
from seqvae.npzfiles import check_npz

__all__ = ["GaussianMixture", "fit_gmm", "fit_run_prior", "load_fitted_prior", "PRIOR_FILE",
           "PRIORS"]

#: Name of the fitted prior inside a run directory.
PRIOR_FILE = "latent_prior.npz"
#: Largest fitted prior read: 10,000 components of 512 dimensions with full covariances
#: would be 21 GB; real ones (K <= 100, d_z <= 256) are a few MB.
MAX_PRIOR_BYTES = 256 << 20
#: The priors ``sample`` and ``eval`` accept.
PRIORS = ("standard", "fitted")
#: Added to every covariance diagonal: keeps a component that sits on a few
#: nearly identical latents positive definite.
_REG = 1e-4
_MAX_COMPONENTS = 10000
_MAX_DIM = 4096


@dataclass(frozen=True)
class GaussianMixture:
    """A mixture of full-covariance Gaussians.

    Attributes
    ----------
    weights : ndarray (K,)
        Mixture weights, positive, summing to 1.
    means : ndarray (K, d)
    chols : ndarray (K, d, d)
        Lower Cholesky factors of the covariances (positive diagonals).
    """

    weights: np.ndarray
    means: np.ndarray
    chols: np.ndarray

    def __post_init__(self):
        w = np.asarray(self.weights, dtype=np.float64)
        m = np.asarray(self.means, dtype=np.float64)
        c = np.asarray(self.chols, dtype=np.float64)
        if w.ndim != 1 or m.ndim != 2 or c.ndim != 3:
            raise LatentError("mixture: weights (K,), means (K, d), chols (K, d, d) expected")
        k, d = m.shape
        if not (1 <= k <= _MAX_COMPONENTS and 1 <= d <= _MAX_DIM):
            raise LatentError(f"mixture: {k} components of dimension {d} out of range")
        if w.shape != (k,) or c.shape != (k, d, d):
            raise LatentError(f"mixture: shapes {w.shape}, {m.shape}, {c.shape} do not agree")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(m)) and np.all(np.isfinite(c))):
            raise LatentError("mixture: non-finite values")
        if np.any(w <= 0) or abs(w.sum() - 1.0) > 1e-6:
            raise LatentError("mixture: weights must be positive and sum to 1")
        diag = np.diagonal(c, axis1=1, axis2=2)
        if np.any(diag <= 0) or np.any(np.triu(c, 1) != 0):
            raise LatentError("mixture: chols must be lower triangular with positive diagonals")
        object.__setattr__(self, "weights", w / w.sum())
        object.__setattr__(self, "means", m)
        object.__setattr__(self, "chols", c)

    @property
    def n_components(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def sample(self, count: int, seed: int | None = 0, scale: float = 1.0) -> np.ndarray:
        """``count`` points (count, d), float32: a component by weight, then its Gaussian
        with the standard deviations times ``scale`` (below 1: nearer the component means).

        >>> g = GaussianMixture(np.ones(1), np.full((1, 2), 3.0), np.eye(2)[None] * 1e-3)
        >>> np.allclose(g.sample(4, seed=1), 3.0, atol=0.01)
        True
        """
        if int(count) < 0:
            raise LatentError(f"count must be >= 0, got {count}")
        if not (np.isfinite(scale) and scale >= 0):
            raise LatentError(f"scale must be finite and >= 0, got {scale}")
        rng = np.random.default_rng(seed)
        comp = rng.choice(self.n_components, size=int(count), p=self.weights)
        eps = rng.standard_normal((int(count), self.dim))
        z = self.means[comp] + scale * np.einsum("nij,nj->ni", self.chols[comp], eps)
        return z.astype(np.float32)

    def log_prob(self, x) -> np.ndarray:
        """Log density (N,) of the points ``x`` (N, d)."""
        return _logsumexp(_component_log_probs(np.asarray(x, np.float64), self), axis=1)

    # -- persistence: plain arrays, never pickles -------------------------------------
    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, weights=self.weights, means=self.means, chols=self.chols)
        return buf.getvalue()

    def save(self, path: str | os.PathLike, *, within: str | os.PathLike | None = None) -> Path:
        """Write the mixture atomically as an ``.npz``; returns the path. With ``within``, a
        symlink at ``path`` may only lead inside that directory."""
        atomic_write_bytes(path, self.to_bytes(), within=within)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GaussianMixture":
        """Read a mixture saved by :meth:`save`.

        Raises
        ------
        LatentError
            The file is not an ``.npz`` of the three float arrays (object arrays,
            i.e. pickles, are refused), or the arrays are not a valid mixture.
        """
        check_npz(path, MAX_PRIOR_BYTES, LatentError, "fitted prior file")  # headers first: no bomb is inflated
        try:
            with np.load(path, allow_pickle=False) as data:
                if set(data.files) != {"weights", "means", "chols"}:
                    raise LatentError(f"{path}: expected arrays weights, means, chols; "
                                      f"found {sorted(data.files)}")
                arrays = {k: data[k] for k in ("weights", "means", "chols")}
        except LatentError:
            raise
        except Exception as exc:  # noqa: BLE001 - numpy's header parser raises many kinds
            raise LatentError(f"{path}: not a fitted prior file ({type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:120]})") from None
        for name, arr in arrays.items():
            if arr.dtype.kind != "f":
                raise LatentError(f"{path}: {name} must be a float array, got {arr.dtype}")
        try:
            return cls(**arrays)
        except LatentError as exc:
            raise LatentError(f"{path}: {exc}") from None


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    return (top + np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True))).squeeze(axis)


def _component_log_probs(x: np.ndarray, gmm: GaussianMixture) -> np.ndarray:
    """log w_k + log N(x | mu_k, L_k L_k^T), shape (N, K)."""
    n, d = x.shape
    out = np.empty((n, gmm.n_components))
    for k in range(gmm.n_components):
        # Solve L y = (x - mu)^T: the Mahalanobis distance without inverting anything.
        y = np.linalg.solve(gmm.chols[k], (x - gmm.means[k]).T)
        log_det = 2.0 * np.sum(np.log(np.diagonal(gmm.chols[k])))
        out[:, k] = (np.log(gmm.weights[k]) - 0.5 * (d * np.log(2 * np.pi) + log_det)
                     - 0.5 * np.sum(y * y, axis=0))
    return out


def fit_gmm(x, n_components: int, *, seed: int = 0, max_iter: int = 200, tol: float = 1e-4,
            reg: float = _REG) -> GaussianMixture:
    """Fit a full-covariance Gaussian mixture to ``x`` (N, d) by EM.

    Starts from ``n_components`` distinct points drawn with a fixed seed (k-means++
    style: each further centre drawn by its squared distance to the nearest one),
    and stops when the mean log-likelihood gains less than ``tol`` per iteration.

    Parameters
    ----------
    x : array (N, d), finite
    n_components : int, 1 <= K <= N
    seed : int
    max_iter : int
    tol : float
    reg : float
        Added to each covariance diagonal (scaled by the data's mean variance).

    Returns
    -------
    GaussianMixture

    >>> x = np.random.default_rng(1).normal(2.0, 3.0, (2000, 1))
    >>> g = fit_gmm(x, 1)
    >>> round(float(g.means[0, 0]), 1), round(float(g.chols[0, 0, 0]), 1)
    (2.0, 3.0)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise LatentError(f"x must be a non-empty (N, d) array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise LatentError("x has non-finite values")
    n, d = x.shape
    k = int(n_components)
    if not 1 <= k <= min(n, _MAX_COMPONENTS):
        raise LatentError(f"n_components must be in 1..{min(n, _MAX_COMPONENTS)}, got {k}")
    if max_iter < 1 or tol < 0 or reg < 0:
        raise LatentError("max_iter must be >= 1, tol and reg >= 0")
    rng = np.random.default_rng(seed)
    ridge = reg * max(float(np.mean(np.var(x, axis=0))), 1e-12)

    # k-means++ seeding of the means; every component starts with the data covariance.
    centres = [x[rng.integers(n)]]
    d2 = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else None
        centres.append(x[rng.choice(n, p=p)])
        d2 = np.minimum(d2, np.sum((x - centres[-1]) ** 2, axis=1))
    cov0 = np.cov(x, rowvar=False, bias=True).reshape(d, d) + ridge * np.eye(d)
    gmm = GaussianMixture(np.full(k, 1.0 / k), np.array(centres),
                          np.repeat(np.linalg.cholesky(cov0)[None], k, axis=0))

    previous = -np.inf
    for _ in range(int(max_iter)):
        # E step: responsibilities from the log densities (stable through logsumexp).
        logp = _component_log_probs(x, gmm)
        norm = _logsumexp(logp, axis=1)
        resp = np.exp(logp - norm[:, None])
        # M step: weights, means, covariances (a ridge keeps each positive definite).
        nk = resp.sum(axis=0) + 10 * np.finfo(float).eps
        means = (resp.T @ x) / nk[:, None]
        chols = np.empty((k, d, d))
        for j in range(k):
            diff = x - means[j]
            cov = (resp[:, j, None] * diff).T @ diff / nk[j] + ridge * np.eye(d)
            chols[j] = np.linalg.cholesky(cov)
        gmm = GaussianMixture(nk / nk.sum(), means, chols)
        current = float(norm.mean())
        if current - previous < tol:
            break
        previous = current
    return gmm


def fit_run_prior(run, *, n_components: int = 10, items: int = 20000, seed: int = 0,
                  max_iter: int = 200) -> tuple[GaussianMixture, Path]:
    """Fit a mixture to the encoder means of (a seeded sample of) a run's training items
    and save it as ``RUN/latent_prior.npz``.

    Returns the mixture and the path written.
    """
    if run.run_dir is None:
        raise RunError("the run has no directory to store a fitted prior in")
    if items < 1:
        raise LatentError(f"items must be >= 1, got {items}")
    train = list(run.train_items)
    if not train:
        raise RunError(f"{run.run_dir}: the run stores no training items to fit a prior to")
    rng = np.random.default_rng(seed)
    if len(train) > items:
        train = [train[i] for i in sorted(rng.choice(len(train), size=items, replace=False))]
    mu, _ = run.encode(train)
    gmm = fit_gmm(mu, n_components, seed=seed, max_iter=max_iter)
    # A link planted in the run directory must not send the prior elsewhere.
    return gmm, gmm.save(Path(run.run_dir) / PRIOR_FILE, within=run.run_dir)


def load_fitted_prior(run_dir: str | os.PathLike) -> GaussianMixture:
    """The fitted prior of a run directory.

    Raises
    ------
    RunError
        The run has none (``seqvae fit-prior RUN`` makes one).
    LatentError
        The file is malformed.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as run_dir:
    ...     _ = fit_gmm(np.arange(10.0).reshape(5, 2), 1).save(Path(run_dir) / PRIOR_FILE)
    ...     load_fitted_prior(run_dir).dim
    2
    """
    path = Path(run_dir) / PRIOR_FILE
    if not path.is_file():
        raise RunError(f"{run_dir}: no fitted prior ({PRIOR_FILE}); "
                       f"make one with `seqvae fit-prior {run_dir}`")
    return GaussianMixture.load(path)
