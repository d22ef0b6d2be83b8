"""Property targets of molecules for the joint property head (``train smiles --properties``).

The names are registered objectives (:data:`seqvae.molecules.chem.OBJECTIVES`: ``qed``,
``logp``, ``sas``, ``plogp``...), computed once with RDKit when training starts
and standardised with the training molecules' mean and standard deviation (the
scale is kept in the run's ``config.json`` under ``properties``, so predictions
are turned back into property units). A molecule RDKit cannot score gets NaN:
it is left out of the head's loss, not guessed.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from seqvae.errors import DataError

__all__ = ["parse_property_names", "property_matrix"]


def parse_property_names(names: str | Sequence[str]) -> list[str]:
    """Property names from ``"qed,logp,sas"`` or a list, checked against the registry.

    Raises
    ------
    DataError
        An empty list, an unknown name or a repeated one.

    Examples
    --------
    >>> parse_property_names("qed, logp,sas")
    ['qed', 'logp', 'sas']
    """
    from seqvae.molecules.chem import OBJECTIVES

    parts = [p.strip() for p in names.split(",")] if isinstance(names, str) else \
        [str(p).strip() for p in names]
    parts = [p for p in parts if p]
    if not parts:
        raise DataError("no property names given (e.g. qed,logp,sas)")
    unknown = [p for p in parts if p not in OBJECTIVES]
    if unknown:
        raise DataError(f"unknown property {unknown[0][:40]!r}; choose from {sorted(OBJECTIVES)}")
    if len(set(parts)) != len(parts):
        raise DataError(f"a property is named twice in {','.join(parts)[:80]!r}")
    return parts


def property_matrix(smiles: Sequence[str], names: Sequence[str]) -> np.ndarray:
    """Values (N, len(names)) of each property of each molecule; NaN for an invalid one.

    Each molecule is parsed once for all properties.

    >>> property_matrix(["CCO", "C1CC"], ["logp"]).round(3).tolist()
    [[-0.001], [nan]]
    """
    from seqvae.molecules.chem import get_objective
    from seqvae.molecules.chem.errors import ChemError
    from seqvae.molecules.chem.rdkit_support import as_mol

    objectives = [get_objective(n) for n in names]
    out = np.full((len(smiles), len(objectives)), np.nan)
    for i, s in enumerate(smiles):
        mol = as_mol(s)
        if mol is None:
            continue
        for j, objective in enumerate(objectives):
            try:
                out[i, j] = objective(mol)
            except (ChemError, ValueError, ZeroDivisionError, RuntimeError):
                pass  # RDKit could not score this molecule: unknown, left out of the loss
    return out
