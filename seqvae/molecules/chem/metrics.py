"""The MOSES metrics of a generated molecule set (Polykovskiy et al., 2020), computed with RDKit.

Definitions follow the MOSES benchmark so that the figures can stand beside its
published table:

* ``validity``: share of generated strings that RDKit parses into a non-empty molecule.
* ``unique@k``: share of distinct canonical SMILES among the first ``k`` *valid*
  molecules (all of them, and ``unique@k_n`` says how many, when fewer than ``k`` exist).
* ``novelty``: share of the distinct valid molecules not in the training set.
* ``intdiv1`` / ``intdiv2``: internal diversity, ``1 - mean_i (mean_j T(i, j)^p)^(1/p)``
  over all ordered pairs of valid molecules (self-pairs included), with ``T`` the
  Tanimoto similarity of Morgan fingerprints (radius 2, 1024 bits); p = 1, 2.
* ``filters``: share of valid molecules passing the MOSES filters (:mod:`.filters`).
  Without the MCF patterns (MOSES data not fetched) the share is reported as
  ``filters_pains_only`` instead, never under the MOSES name; ``filters_pains``
  says whose PAINS list was used (``moses`` or ``rdkit``).
* ``frag``: cosine similarity of the BRICS-fragment count vectors of generated and
  reference sets; ``scaf``: the same for Bemis–Murcko scaffolds with at least two
  rings (as MOSES counts them).
* ``snn``: mean over generated molecules of the largest Tanimoto similarity to a
  reference molecule.
* ``fcd``: Fréchet ChemNet Distance, only through the ``fcd`` package, which ships
  the ChemNet weights in its wheel (nothing is downloaded at run time).

Valid molecules are counted with their repetitions (as MOSES does) everywhere
except in uniqueness and novelty.
"""
from __future__ import annotations

import warnings
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from seqvae.molecules.chem.chemnet import frechet_chemnet_distance
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.filters import MosesFilters, load_moses_filters
from seqvae.molecules.chem.fingerprints import aggregate_tanimoto, morgan_fingerprints
from seqvae.molecules.chem.rdkit_support import canonical_smiles, molecule_list, valid_molecules
from seqvae.molecules.chem.reference import (
    ReferenceSet,
    as_reference,
    brics_fragments,
    cosine_similarity_counts,
    moses_scaffolds,
)

__all__ = [
    "fraction_valid", "valid_canonical", "fraction_unique", "novelty", "internal_diversity",
    "fraction_passes_filters", "fragment_similarity", "scaffold_similarity", "snn",
    "moses_metrics",
]


def fraction_valid(smiles: Sequence[str]) -> float:
    """Share of strings that are valid molecules.

    >>> fraction_valid(["CCO", "C1CC", "c1ccccc1", ""])
    0.5
    """
    smiles = molecule_list(smiles, "smiles")
    if not smiles:
        raise ChemError("no molecules to score")
    return sum(canonical_smiles(s) is not None for s in smiles) / len(smiles)


def valid_canonical(smiles: Sequence[str]) -> list[str]:
    """Canonical SMILES of the valid items, in order, repetitions kept.

    >>> valid_canonical(["OCC", "C1CC", "CCO"])
    ['CCO', 'CCO']
    """
    keys = (canonical_smiles(s) for s in molecule_list(smiles, "smiles"))
    return [key for key in keys if key is not None]


def fraction_unique(smiles: Sequence[str], k: int | None = None) -> float:
    """Share of distinct molecules among the first ``k`` valid ones (all valid ones when
    ``k`` is None or larger than their number, with a warning in the latter case).

    >>> fraction_unique(["CCO", "OCC", "C1CC", "CCN", "CCC"], k=3)
    0.6666666666666666
    """
    canon = valid_canonical(smiles)
    if k is not None:
        if isinstance(k, bool) or int(k) < 1:
            raise ChemError(f"k must be a positive integer, got {k!r}")
        if len(canon) < int(k):
            warnings.warn(f"unique@{k} computed on the {len(canon)} valid molecules there are",
                          stacklevel=2)
        canon = canon[:int(k)]
    if not canon:
        raise ChemError("no valid molecules")
    return len(set(canon)) / len(canon)


def novelty(smiles: Sequence[str], train: Iterable[str], *,
            train_is_canonical: bool = False) -> float:
    """Share of the distinct valid generated molecules that are not in ``train``.

    ``train`` is canonicalised unless ``train_is_canonical`` (invalid entries ignored).

    >>> novelty(["CCO", "OCC", "CCN", "CCC", "C1CC"], ["C(C)O", "CCCC"])
    0.6666666666666666
    """
    gen = set(valid_canonical(smiles))
    if not gen:
        raise ChemError("no valid molecules")
    known = set(train) if train_is_canonical else set(valid_canonical(list(train)))
    return len(gen - known) / len(gen)


def internal_diversity(smiles: Sequence, *, p: int = 1, fingerprints: np.ndarray | None = None
                       ) -> float:
    """``1 - mean_i (mean_j T(i, j)^p)^(1/p)`` over the valid molecules (MOSES IntDiv_p).

    >>> internal_diversity(["CCO"] * 5)
    0.0
    >>> round(internal_diversity(["CCO", "c1ccccc1"]), 3)   # T = 0 off the diagonal
    0.5
    """
    if int(p) < 1:
        raise ChemError(f"p must be a positive integer, got {p!r}")
    fps = fingerprints if fingerprints is not None else morgan_fingerprints(valid_molecules(smiles))
    if len(fps) == 0:
        raise ChemError("no valid molecules")
    return float(1.0 - aggregate_tanimoto(fps, fps, "mean", float(p)).mean())


def fraction_passes_filters(smiles: Sequence, filters: MosesFilters | None = None) -> float:
    """Share of valid molecules that pass the MOSES filters (:func:`load_moses_filters` by
    default).

    >>> fraction_passes_filters(["CCO", "CC[N+](C)(C)C", "CCI", "c1ccccc1"])
    0.5
    """
    filters = filters if filters is not None else load_moses_filters()
    mols = valid_molecules(smiles)
    if not mols:
        raise ChemError("no valid molecules")
    return sum(filters.passes(m) for m in mols) / len(mols)


def fragment_similarity(smiles: Sequence, reference) -> float:
    """MOSES Frag: cosine similarity of BRICS-fragment counts (``reference``: SMILES or a
    :class:`ReferenceSet`).

    >>> fragment_similarity(["CCOC(=O)c1ccccc1"], ["CCOC(=O)c1ccccc1", "CCOC(=O)c1ccccc1"])
    1.0
    """
    return cosine_similarity_counts(ReferenceSet.from_smiles(smiles).fragments,
                                    as_reference(reference).fragments)


def scaffold_similarity(smiles: Sequence, reference) -> float:
    """MOSES Scaf: cosine similarity of scaffold counts (scaffolds with two rings or more).

    >>> scaffold_similarity(["c1ccccc1Cc1ccccc1C"], ["c1ccccc1Cc1ccccc1"])
    1.0
    """
    return cosine_similarity_counts(ReferenceSet.from_smiles(smiles).scaffolds,
                                    as_reference(reference).scaffolds)


def snn(smiles: Sequence, reference) -> float:
    """MOSES SNN: mean over valid generated molecules of the largest Tanimoto similarity to
    a reference molecule.

    >>> snn(["CCO", "c1ccccc1"], ["c1ccccc1", "OCC", "CCN"])
    1.0
    """
    mols = valid_molecules(smiles)
    if not mols:
        raise ChemError("no valid molecules")
    ref = as_reference(reference)
    return float(aggregate_tanimoto(ref.fingerprints, morgan_fingerprints(mols), "max").mean())


def moses_metrics(smiles: Sequence[str], *, train: Iterable[str] | None = None,
                  train_is_canonical: bool = False, test=None, test_scaffolds=None,
                  ks: Sequence[int] = (1000, 10000), filters: MosesFilters | None = None,
                  fcd: bool = False) -> dict:
    """All MOSES metrics of a generated set, as a JSON-safe dictionary.

    Parameters
    ----------
    smiles
        Generated strings, invalid ones included (they count against validity).
    train
        Training SMILES for novelty (omitted: no ``novelty`` key).
    train_is_canonical
        The training SMILES are canonical SMILES of this RDKit already (a data set
        written by :func:`~seqvae.molecules.chem.molfile.load_molecules` is): skip
        canonicalising them, which costs minutes for a million molecules.
    test, test_scaffolds
        Reference sets (SMILES or :class:`ReferenceSet`) for ``frag``, ``scaf`` and
        ``snn`` (and the ``*_testsf`` variants).
    ks
        Sizes for ``unique@k``.
    filters
        Filter set (default :func:`load_moses_filters`; ``filters_mcf`` says whether
        the MCF patterns were part of it).
    fcd
        Also compute ``fcd`` (and ``fcd_testsf``) against the test SMILES.

    Examples
    --------
    >>> m = moses_metrics(["CCO", "OCC", "c1ccccc1O", "C1CC"], train=["CCO"], ks=(2,),
    ...                   test=["CCO", "c1ccccc1O"])
    >>> m["validity"], m["unique@2"], m["novelty"], m["snn"]
    (0.75, 0.5, 0.5, 1.0)
    """
    smiles = molecule_list(smiles, "smiles")
    if not smiles:
        raise ChemError("no molecules to score")
    canon = valid_canonical(smiles)
    out: dict = {"n": len(smiles), "n_valid": len(canon), "validity": len(canon) / len(smiles)}
    if not canon:
        return out
    for k in ks:
        out[f"unique@{int(k)}"] = len(set(canon[:int(k)])) / len(canon[:int(k)])
        out[f"unique@{int(k)}_n"] = len(canon[:int(k)])
    if train is not None:
        out["novelty"] = novelty(canon, train, train_is_canonical=train_is_canonical)
    fps = morgan_fingerprints(canon)
    out["intdiv1"] = internal_diversity(canon, p=1, fingerprints=fps)
    out["intdiv2"] = internal_diversity(canon, p=2, fingerprints=fps)
    filters = filters if filters is not None else load_moses_filters()
    # Each distinct molecule is filtered once; repetitions weigh as MOSES weighs them.
    counts = Counter(canon)
    passing = sum(n for s, n in counts.items() if filters.passes(s))
    out["filters" if filters.has_mcf else "filters_pains_only"] = passing / len(canon)
    out["filters_mcf"] = filters.has_mcf
    out["filters_pains"] = filters.pains_source
    generated = ReferenceSet(len(canon), fps, _fragment_counts(counts), _scaffold_counts(counts))
    for suffix, ref in (("", test), ("_testsf", test_scaffolds)):
        if ref is None:
            continue
        ref = as_reference(ref)
        out[f"frag{suffix}"] = cosine_similarity_counts(generated.fragments, ref.fragments)
        out[f"scaf{suffix}"] = cosine_similarity_counts(generated.scaffolds, ref.scaffolds)
        out[f"snn{suffix}"] = float(aggregate_tanimoto(ref.fingerprints, fps, "max").mean())
    if fcd:
        for suffix, ref in (("", test), ("_testsf", test_scaffolds)):
            if ref is None:
                continue
            if isinstance(ref, ReferenceSet):
                raise ChemError("FCD needs the reference SMILES, not a ReferenceSet")
            out[f"fcd{suffix}"] = frechet_chemnet_distance(canon, ref)
    return out


def _fragment_counts(counts: Counter) -> Counter:
    frags: Counter = Counter()
    for s, n in counts.items():
        for f in brics_fragments(s):
            frags[f] += n
    return frags


def _scaffold_counts(counts: Counter) -> Counter:
    scafs: Counter = Counter()
    for s, n in counts.items():
        scaffold = moses_scaffolds(s)
        if scaffold is not None:
            scafs[scaffold] += n
    return scafs
