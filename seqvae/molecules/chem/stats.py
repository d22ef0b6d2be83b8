"""Length and vocabulary statistics of a molecule set, for the data report."""
from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.rdkit_support import mol_from_smiles
from seqvae.tokenizers import SMILES_PATTERN

__all__ = ["molecule_statistics"]


def _summary(values: Sequence[int]) -> dict:
    if len(values) == 0:
        return {"min": None, "mean": None, "median": None, "p95": None, "max": None}
    arr = np.asarray(values, dtype=np.float64)
    return {"min": int(arr.min()), "mean": round(float(arr.mean()), 3),
            "median": float(np.median(arr)), "p95": float(np.percentile(arr, 95)),
            "max": int(arr.max())}


def molecule_statistics(smiles: Sequence[str], *, top_tokens: int = 20) -> dict:
    """Sizes and vocabulary of a set of SMILES (JSON-safe).

    Lengths are given in characters, in SMILES tokens (the project's regex
    tokenizer: bracket atoms, ``Cl``, ``Br`` and ``%nn`` ring closures whole) and
    in heavy atoms (invalid SMILES are skipped for that one, and counted).

    Examples
    --------
    >>> st = molecule_statistics(["CCO", "c1ccccc1Cl", "C[NH3+]"])
    >>> st["tokens"]["max"], st["vocabulary_size"], st["heavy_atoms"]["max"]
    (9, 6, 7)
    >>> st["token_counts"][0]
    ['c', 6]
    """
    if isinstance(smiles, str):
        raise ChemError("molecule_statistics expects a sequence of SMILES, not one string")
    regex = re.compile(SMILES_PATTERN)
    counts: Counter = Counter()
    token_lengths, atoms = [], []
    invalid = 0
    for s in smiles:
        tokens = regex.findall(s)
        counts.update(tokens)
        token_lengths.append(len(tokens))
        mol = mol_from_smiles(s)
        if mol is None:
            invalid += 1
        else:
            atoms.append(mol.GetNumHeavyAtoms())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "count": len(smiles),
        "characters": _summary([len(s) for s in smiles]),
        "tokens": _summary(token_lengths),
        "heavy_atoms": _summary(atoms),
        "invalid": invalid,
        "vocabulary_size": len(counts),
        "token_counts": [[tok, int(n)] for tok, n in ranked[:top_tokens]],
    }
