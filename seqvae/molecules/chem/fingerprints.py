"""Morgan fingerprints and Tanimoto similarities, as the MOSES metrics compute them.

Fingerprints are Morgan (ECFP4-like) bit vectors of radius 2 and 1024 bits without
chirality, held as ``(n, 1024)`` uint8 arrays; similarities of many against many
are matrix products in blocks, so that a generated set can be compared with a
test set of 176 000 molecules in bounded memory.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.rdkit_support import as_mol, molecule_list, require_rdkit

__all__ = ["MORGAN_RADIUS", "MORGAN_BITS", "morgan_fingerprints", "tanimoto_matrix",
           "aggregate_tanimoto", "SIMILARITY_BITS", "similarity_to"]

MORGAN_RADIUS = 2
MORGAN_BITS = 1024
#: Bits of the fingerprints of :func:`similarity_to` (the GuacaMol similarity tasks' size).
SIMILARITY_BITS = 2048
#: Rows of fingerprints compared at once (bounds memory at about 4 * _BLOCK**2 bytes).
_BLOCK = 4096


def morgan_fingerprints(molecules: Sequence) -> np.ndarray:
    """Morgan fingerprints (radius 2, 1024 bits, no chirality) as a ``(n, 1024)`` uint8 array.

    Invalid molecules are an error (filter them first).

    >>> fps = morgan_fingerprints(["CCO", "c1ccccc1"])
    >>> fps.shape, fps.dtype.name, bool(fps[0].any())
    ((2, 1024), 'uint8', True)
    """
    require_rdkit()
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS,
                                                          fpSize=MORGAN_BITS)
    molecules = molecule_list(molecules, "molecules")
    out = np.zeros((len(molecules), MORGAN_BITS), dtype=np.uint8)
    for i, item in enumerate(molecules):
        mol = as_mol(item)
        if mol is None:
            raise ChemError(f"molecule {i} ({item!r}) is not valid")
        out[i] = generator.GetFingerprintAsNumPy(mol)
    return out


def tanimoto_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tanimoto similarities of binary fingerprint rows: ``|a & b| / |a | b|``, 1 for two
    empty fingerprints.

    >>> tanimoto_matrix(np.array([[1, 1, 0, 0]]), np.array([[1, 0, 1, 0], [0, 0, 0, 0]]))
    array([[0.33333334, 0.        ]], dtype=float32)
    """
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = inter / union
    sim[union == 0] = 1.0
    return sim


def aggregate_tanimoto(ref: np.ndarray, gen: np.ndarray, how: str, p: float = 1.0) -> np.ndarray:
    """For each row of ``gen``: the largest Tanimoto similarity to a row of ``ref``
    (``how="max"``), or ``(mean_j T^p)^(1/p)`` over the rows of ``ref`` (``how="mean"``).

    >>> a = np.array([[1, 1, 0], [0, 0, 1]])
    >>> aggregate_tanimoto(a, a[:1], "max"), aggregate_tanimoto(a, a[:1], "mean")
    (array([1.]), array([0.5]))
    """
    if how not in ("max", "mean"):
        raise ChemError(f"how must be 'max' or 'mean', got {how!r}")
    out = np.zeros(len(gen), dtype=np.float64)
    for i in range(0, len(gen), _BLOCK):
        g = gen[i:i + _BLOCK]
        acc = np.zeros(len(g), dtype=np.float64)
        for j in range(0, len(ref), _BLOCK):
            sim = tanimoto_matrix(ref[j:j + _BLOCK], g).astype(np.float64)
            if how == "max":
                acc = np.maximum(acc, sim.max(axis=0))
            else:
                acc += (sim ** p).sum(axis=0)
        out[i:i + _BLOCK] = acc if how == "max" else (acc / len(ref)) ** (1.0 / p)
    return out


def similarity_to(target, molecules: Sequence, *, radius: int = MORGAN_RADIUS,
                  n_bits: int = SIMILARITY_BITS) -> np.ndarray:
    """Tanimoto similarity of each molecule to ``target`` on Morgan bit fingerprints
    (radius 2, 2048 bits, no chirality): what ``optimize --objective similarity`` scores.

    >>> similarity_to("Oc1ccccc1", ["c1ccccc1O", "CCO"]).round(3).tolist()
    [1.0, 0.062]
    """
    require_rdkit()
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    ref = as_mol(target)
    if ref is None:
        raise ChemError(f"target {target!r} is not a valid molecule")
    fps = []
    for i, item in enumerate(molecule_list(molecules, "molecules")):
        mol = as_mol(item)
        if mol is None:
            raise ChemError(f"molecule {i} ({item!r}) is not valid")
        fps.append(generator.GetFingerprint(mol))
    if not fps:
        return np.zeros(0)
    return np.asarray(DataStructs.BulkTanimotoSimilarity(generator.GetFingerprint(ref), fps),
                      dtype=np.float64)
