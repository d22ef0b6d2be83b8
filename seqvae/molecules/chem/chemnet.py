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

__all__ = ["fcd_available", "frechet_chemnet_distance"]


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
    try:
        import fcd
    except ImportError as exc:
        raise ChemistryUnavailableError(
            f"FCD needs the fcd package ({exc}); install it with: pip install 'seqvae[fcd]'"
        ) from None
    gen, ref = _valid_canonical(smiles), _valid_canonical(list(reference))
    if len(gen) < 2 or len(ref) < 2:
        raise ChemError("FCD needs at least two valid molecules in each set")
    mu1, sigma1 = _chemnet_statistics(gen)
    mu2, sigma2 = _chemnet_statistics(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return float(fcd.calculate_frechet_distance(mu1, sigma1, mu2, sigma2))
