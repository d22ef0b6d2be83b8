"""Property targets of the joint property head: standardised with the training items' scale.

A domain computes the raw values (:meth:`seqvae.domains.Domain.property_values`,
NaN where an item cannot be scored); the scale (mean and standard deviation of
the training values) is fitted here once, kept in the run's ``config.json``,
and reused when a run resumes, so predictions turn back into property units.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from seqvae.errors import DataError

__all__ = ["property_scale", "standardised", "property_targets"]


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


def property_targets(domain, splits: dict, spec) -> dict:
    """Standardised property targets of the train and val items: ``{}`` without
    properties; ``spec`` is a list of names (a new run: the scale is fitted on the
    training items and returned under ``scale``) or a stored scale (a resumed run)."""
    if not spec:
        return {}
    names = list(spec["names"]) if isinstance(spec, dict) else list(spec)
    values = {part: domain.property_values(splits[part], names) for part in ("train", "val")}
    scale = spec if isinstance(spec, dict) else property_scale(values["train"], names)
    out = {part: standardised(v, scale) for part, v in values.items()}
    if not isinstance(spec, dict):
        out["scale"] = scale
    return out
