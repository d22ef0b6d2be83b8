"""Fréchet ChemNet Distance through the ``fcd`` package (optional extra ``seqvae[fcd]``).

The ``fcd`` wheel (1.2.2) carries the ChemNet weights
(``ChemNet_v0.13_pretrained.pt``) and loads them from the installed package, so
nothing is downloaded at run time; so does ``fcd_torch``. Without the package,
:func:`frechet_chemnet_distance` raises
:class:`~seqvae.molecules.chem.errors.ChemistryUnavailableError` naming the extra.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from seqvae.molecules.chem.errors import ChemError, ChemistryUnavailableError
from seqvae.molecules.chem.rdkit_support import canonical_smiles

__all__ = ["fcd_available", "frechet_chemnet_distance", "chemnet_statistics",
           "frechet_to_statistics", "save_statistics", "load_statistics"]

#: Written into a statistics file, checked when it is read.
_STATS_FORMAT = "seqvae-chemnet-statistics/1"
#: ChemNet's penultimate layer: the width of the mean and covariance.
CHEMNET_WIDTH = 512


def _valid_canonical(smiles) -> list[str]:
    return [c for c in (canonical_smiles(s) for s in smiles) if c is not None]


def fcd_available() -> bool:
    """True when the ``fcd`` package (with its bundled ChemNet weights) can be imported.

    >>> isinstance(fcd_available(), bool)
    True
    """
    try:
        import fcd  # noqa: F401
    except ImportError:
        return False
    return True


def _chemnet_statistics(smiles: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the ChemNet activations of ``smiles``."""
    import fcd

    with warnings.catch_warnings():
        # fcd calls numpy and scipy aliases that now warn; the values are unaffected.
        warnings.simplefilter("ignore", DeprecationWarning)
        # n_jobs=0: read the batches in this process; a worker process costs seconds to start.
        act = fcd.get_predictions(fcd.load_ref_model(), smiles, n_jobs=0, device="cpu")
    return act.mean(axis=0), np.cov(act.T)


def frechet_chemnet_distance(smiles: Sequence[str], reference: Sequence[str]) -> float:
    """Fréchet ChemNet Distance between the valid canonical molecules of two sets.

    Needs the ``fcd`` package (``pip install 'seqvae[fcd]'``), whose wheel carries the
    ChemNet weights; runs on the CPU.

    Raises
    ------
    ChemistryUnavailableError
        ``fcd`` is not installed.
    """
    mu, sigma, _ = chemnet_statistics(reference)
    return frechet_to_statistics(smiles, mu, sigma)


def _require_fcd():
    try:
        import fcd
    except ImportError as exc:
        raise ChemistryUnavailableError(
            f"FCD needs the fcd package ({exc}); install it with: pip install 'seqvae[fcd]'"
        ) from None
    return fcd


def chemnet_statistics(smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """``(mean, covariance, molecules)`` of the ChemNet activations of the valid canonical
    molecules of ``smiles``: one side of an FCD, worth keeping for a fixed reference set
    (a ChemNet pass over MOSES's 176,000 test molecules takes minutes on a CPU).

    Raises
    ------
    ChemistryUnavailableError
        ``fcd`` is not installed.
    ChemError
        Fewer than two valid molecules.
    """
    _require_fcd()
    valid = _valid_canonical(smiles)
    if len(valid) < 2:
        raise ChemError("FCD needs at least two valid molecules in each set")
    mu, sigma = _chemnet_statistics(valid)
    return mu, sigma, len(valid)


def frechet_to_statistics(smiles: Sequence[str], mu: np.ndarray, sigma: np.ndarray) -> float:
    """The FCD between the valid molecules of ``smiles`` and a reference given by its
    ChemNet statistics (:func:`chemnet_statistics`); equal to
    :func:`frechet_chemnet_distance` against the reference's molecules."""
    fcd = _require_fcd()
    mu_gen, sigma_gen, _ = chemnet_statistics(smiles)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return float(fcd.calculate_frechet_distance(mu_gen, sigma_gen, mu, sigma))


def save_statistics(path, mu: np.ndarray, sigma: np.ndarray, molecules: int) -> None:
    """Write statistics to an ``.npz`` file atomically (numbers only: read without pickle)."""
    from automata.atomic import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, format=np.array(_STATS_FORMAT), mu=np.asarray(mu, np.float64),
                     sigma=np.asarray(sigma, np.float64), molecules=np.array(int(molecules)))


def load_statistics(path) -> tuple[np.ndarray, np.ndarray, int]:
    """Read a file of :func:`save_statistics`; a file of another shape or kind is a
    :class:`ChemError` (one line), never a pickle.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.npz"
    >>> save_statistics(path, np.zeros(512), np.eye(512), 7)
    >>> mu, sigma, n = load_statistics(path)
    >>> mu.shape, sigma.shape, n
    ((512,), (512, 512), 7)
    """
    from seqvae.npzfiles import check_npz

    width = CHEMNET_WIDTH
    check_npz(path, 8 * (width * width + width) + 4096, ChemError, "ChemNet statistics file")
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != _STATS_FORMAT:
                raise ChemError(f"{path}: not a ChemNet statistics file")
            mu, sigma = data["mu"], data["sigma"]
            molecules = int(data["molecules"])
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ChemError(f"cannot read ChemNet statistics {path}: {exc}") from None
    if mu.shape != (width,) or sigma.shape != (width, width) or \
            not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ChemError(f"{path}: ChemNet statistics of the wrong shape or not finite")
    return mu, sigma, molecules
