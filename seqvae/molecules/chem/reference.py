"""Reference-set statistics for Frag, Scaf and SNN: BRICS fragments, scaffolds, fingerprints.

A :class:`ReferenceSet` holds what the metrics need of a test set, computed once
(and saved to one pickle-free ``.npz`` file for the next evaluation).
"""
from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from automata.atomic import atomic_path
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.fingerprints import MORGAN_BITS, morgan_fingerprints
from seqvae.molecules.chem.rdkit_support import as_mol, require_rdkit, valid_molecules
from seqvae.molecules.chem.splits import murcko_scaffold

__all__ = ["brics_fragments", "moses_scaffolds", "cosine_similarity_counts", "ReferenceSet",
           "as_reference"]

_REFERENCE_FORMAT = "seqvae-chem-reference/1"


def brics_fragments(smiles_or_mol) -> list[str]:
    """SMILES of the pieces left when every BRICS bond is cut (with their ``[n*]`` stubs).

    >>> sorted(brics_fragments("CCOC(=O)c1ccccc1"))
    ['[1*]C([6*])=O', '[16*]c1ccccc1', '[3*]O[3*]', '[4*]CC']
    """
    Chem = require_rdkit()
    mol = as_mol(smiles_or_mol)
    if mol is None:
        raise ChemError(f"{smiles_or_mol!r} is not a valid molecule")
    return Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(mol)).split(".")


def moses_scaffolds(smiles_or_mol, *, min_rings: int = 2) -> str | None:
    """Canonical Bemis–Murcko scaffold when it has at least ``min_rings`` rings, else None
    (the scaffolds MOSES counts for Scaf).

    >>> moses_scaffolds("c1ccccc1Cc1ccncc1"), moses_scaffolds("Cc1ccccc1")
    ('c1ccc(Cc2ccncc2)cc1', None)
    """
    scaffold = murcko_scaffold(smiles_or_mol)
    if not scaffold:
        return None
    mol = as_mol(scaffold)
    return scaffold if mol is not None and mol.GetRingInfo().NumRings() >= min_rings else None


def cosine_similarity_counts(a: Counter, b: Counter) -> float:
    """Cosine similarity of two count dictionaries (missing keys count 0); NaN if one is empty.

    >>> cosine_similarity_counts(Counter(x=1, y=1), Counter(x=2, y=2))
    1.0
    >>> cosine_similarity_counts(Counter(x=1), Counter(y=1))
    0.0
    """
    if not a or not b:
        return math.nan
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    # One square root of the product: identical vectors then give exactly 1.
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return float(min(1.0, dot / norm))


@dataclass(eq=False)
class ReferenceSet:
    """What the metrics need of a reference (test) set, computed once: fingerprints, BRICS
    fragment counts and scaffold counts of its valid molecules.

    >>> ref = ReferenceSet.from_smiles(["c1ccccc1CCc1ccccc1", "CCO", "bad"])
    >>> ref.size, ref.fingerprints.shape
    (2, (2, 1024))
    """

    size: int
    fingerprints: np.ndarray
    fragments: Counter
    scaffolds: Counter

    @classmethod
    def from_smiles(cls, smiles: Sequence) -> "ReferenceSet":
        mols = valid_molecules(smiles)
        if not mols:
            raise ChemError("the reference set has no valid molecule")
        frags: Counter = Counter()
        for m in mols:
            frags.update(brics_fragments(m))
        scafs = Counter(s for s in (moses_scaffolds(m) for m in mols) if s is not None)
        return cls(len(mols), morgan_fingerprints(mols), frags, scafs)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the statistics to one ``.npz`` file (atomically), so that an evaluation
        against a large test set does not recompute them.

        Only arrays of numbers and strings go in: :meth:`load` reads them without pickle.
        """
        def keys_counts(counter: Counter):
            items = sorted(counter.items())
            return (np.array([k for k, _ in items], dtype=np.str_),
                    np.array([v for _, v in items], dtype=np.int64))

        frag_keys, frag_counts = keys_counts(self.fragments)
        scaf_keys, scaf_counts = keys_counts(self.scaffolds)
        target = Path(path)
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, format=np.array(_REFERENCE_FORMAT),
                                    size=np.array(self.size),
                                    fingerprints=np.packbits(self.fingerprints, axis=1),
                                    frag_keys=frag_keys, frag_counts=frag_counts,
                                    scaf_keys=scaf_keys, scaf_counts=scaf_counts)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ReferenceSet":
        """Read a file written by :meth:`save`.

        >>> import tempfile, pathlib
        >>> ref = ReferenceSet.from_smiles(["c1ccccc1CCc1ccccc1", "CCOC(=O)c1ccccc1"])
        >>> again = ReferenceSet.load(ref.save(pathlib.Path(tempfile.mkdtemp()) / "ref.npz"))
        >>> again == ref
        True
        """
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                if str(data["format"]) != _REFERENCE_FORMAT:
                    raise ChemError(f"{path}: not a reference-set file ({data['format']})")
                fps = np.unpackbits(data["fingerprints"], axis=1)[:, :MORGAN_BITS]
                return cls(int(data["size"]), fps.astype(np.uint8),
                           Counter(dict(zip(data["frag_keys"].tolist(),
                                            data["frag_counts"].tolist(), strict=True))),
                           Counter(dict(zip(data["scaf_keys"].tolist(),
                                            data["scaf_counts"].tolist(), strict=True))))
        except (OSError, KeyError, ValueError) as exc:
            raise ChemError(f"cannot read reference set {path}: {exc}") from None

    def __eq__(self, other) -> bool:
        return (isinstance(other, ReferenceSet) and self.size == other.size
                and np.array_equal(self.fingerprints, other.fingerprints)
                and self.fragments == other.fragments and self.scaffolds == other.scaffolds)


def as_reference(ref) -> ReferenceSet:
    """``ref`` itself if it is a :class:`ReferenceSet`, else the reference set of its SMILES.

    >>> as_reference(["CCO"]).size
    1
    """
    return ref if isinstance(ref, ReferenceSet) else ReferenceSet.from_smiles(ref)
