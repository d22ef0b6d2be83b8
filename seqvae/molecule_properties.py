"""Property targets of molecules for the joint property head (``train smiles --properties``).

The names are registered objectives (:data:`seqvae.chem.OBJECTIVES`: ``qed``,
``logp``, ``sas``, ``plogp``...), computed once with RDKit when training starts
and standardised with the training molecules' mean and standard deviation (the
scale is kept in the run's ``config.json`` under ``properties``, so predictions
are turned back into property units). A molecule RDKit cannot score gets NaN:
it is left out of the head's loss, not guessed.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import DataError

__all__ = ["parse_property_names", "property_matrix", "property_scale", "standardised"]


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
    from .chem import OBJECTIVES

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
    from .chem import get_objective
    from .chem.errors import ChemError
    from .chem.rdkit_support import as_mol

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


def property_scale(values: np.ndarray, names: Sequence[str]) -> dict:
    """``{"names", "mean", "std"}`` of training values (NaN ignored; std at least 1e-6).

    Raises
    ------
    DataError
        A property with no known value.

    Examples
    --------
    >>> property_scale(np.array([[1.0], [3.0], [np.nan]]), ["logp"])
    {'names': ['logp'], 'mean': [2.0], 'std': [1.0]}
    """
    values = np.asarray(values, dtype=np.float64)
    known = ~np.isnan(values)
    for j, name in enumerate(names):
        if not known[:, j].any():
            raise DataError(f"property {name!r}: no training molecule has a value")
    mean = np.nanmean(values, axis=0)
    std = np.maximum(np.nanstd(values, axis=0), 1e-6)
    return {"names": list(names), "mean": [float(v) for v in mean],
            "std": [float(v) for v in std]}


def standardised(values: np.ndarray, scale: dict) -> np.ndarray:
    """``(values - mean) / std`` per property (NaN stays NaN), as float32.

    >>> standardised(np.array([[3.0]]), {"mean": [2.0], "std": [0.5]}).tolist()
    [[2.0]]
    """
    mean = np.asarray(scale["mean"], dtype=np.float64)
    std = np.asarray(scale["std"], dtype=np.float64)
    return ((np.asarray(values, dtype=np.float64) - mean) / std).astype(np.float32)
