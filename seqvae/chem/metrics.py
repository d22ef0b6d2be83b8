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

import math
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from automata.atomic import atomic_path

from .errors import ChemError, ChemistryUnavailableError
from .filters import MosesFilters, load_moses_filters
from .rdkit_support import as_mol, canonical_smiles, require_rdkit

__all__ = [
    "MORGAN_RADIUS", "MORGAN_BITS", "morgan_fingerprints", "tanimoto_matrix",
    "fraction_valid", "valid_canonical", "fraction_unique", "novelty", "internal_diversity",
    "fraction_passes_filters", "brics_fragments", "moses_scaffolds", "cosine_similarity_counts",
    "ReferenceSet", "fragment_similarity", "scaffold_similarity", "snn", "fcd_available",
    "frechet_chemnet_distance", "moses_metrics",
]

MORGAN_RADIUS = 2
MORGAN_BITS = 1024
#: Rows of fingerprints compared at once (bounds memory at about 4 * _BLOCK**2 bytes).
_BLOCK = 4096
_REFERENCE_FORMAT = "seqvae-chem-reference/1"


def _sequence(items, what: str) -> list:
    if isinstance(items, str) or not isinstance(items, Iterable):
        raise ChemError(f"{what} must be a sequence of SMILES strings or molecules")
    return list(items)


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
    molecules = _sequence(molecules, "molecules")
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


def _aggregate_tanimoto(ref: np.ndarray, gen: np.ndarray, how: str, p: float = 1.0) -> np.ndarray:
    """Per generated row: max over reference rows of T, or (mean of T^p)^(1/p); in blocks."""
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


def fraction_valid(smiles: Sequence[str]) -> float:
    """Share of strings that are valid molecules.

    >>> fraction_valid(["CCO", "C1CC", "c1ccccc1", ""])
    0.5
    """
    smiles = _sequence(smiles, "smiles")
    if not smiles:
        raise ChemError("no molecules to score")
    return sum(canonical_smiles(s) is not None for s in smiles) / len(smiles)


def valid_canonical(smiles: Sequence[str]) -> list[str]:
    """Canonical SMILES of the valid items, in order, repetitions kept.

    >>> valid_canonical(["OCC", "C1CC", "CCO"])
    ['CCO', 'CCO']
    """
    return [c for c in (canonical_smiles(s) for s in _sequence(smiles, "smiles")) if c is not None]


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


def novelty(smiles: Sequence[str], train: Iterable[str], *, train_is_canonical: bool = False) -> float:
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
    fps = fingerprints if fingerprints is not None else morgan_fingerprints(_valid_mols(smiles))
    if len(fps) == 0:
        raise ChemError("no valid molecules")
    return float(1.0 - _aggregate_tanimoto(fps, fps, "mean", float(p)).mean())


def _valid_mols(items) -> list:
    mols = [as_mol(x) for x in _sequence(items, "molecules")]
    return [m for m in mols if m is not None]


def fraction_passes_filters(smiles: Sequence, filters: MosesFilters | None = None) -> float:
    """Share of valid molecules that pass the MOSES filters (:func:`load_moses_filters` by
    default).

    >>> fraction_passes_filters(["CCO", "CC[N+](C)(C)C", "CCI", "c1ccccc1"])
    0.5
    """
    filters = filters if filters is not None else load_moses_filters()
    mols = _valid_mols(smiles)
    if not mols:
        raise ChemError("no valid molecules")
    return sum(filters.passes(m) for m in mols) / len(mols)


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
    from .splits import murcko_scaffold

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
        mols = _valid_mols(smiles)
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


def _reference(ref) -> ReferenceSet:
    return ref if isinstance(ref, ReferenceSet) else ReferenceSet.from_smiles(ref)


def fragment_similarity(smiles: Sequence, reference) -> float:
    """MOSES Frag: cosine similarity of BRICS-fragment counts (``reference``: SMILES or a
    :class:`ReferenceSet`).

    >>> fragment_similarity(["CCOC(=O)c1ccccc1"], ["CCOC(=O)c1ccccc1", "CCOC(=O)c1ccccc1"])
    1.0
    """
    return cosine_similarity_counts(ReferenceSet.from_smiles(smiles).fragments,
                                    _reference(reference).fragments)


def scaffold_similarity(smiles: Sequence, reference) -> float:
    """MOSES Scaf: cosine similarity of scaffold counts (scaffolds with two rings or more).

    >>> scaffold_similarity(["c1ccccc1Cc1ccccc1C"], ["c1ccccc1Cc1ccccc1"])
    1.0
    """
    return cosine_similarity_counts(ReferenceSet.from_smiles(smiles).scaffolds,
                                    _reference(reference).scaffolds)


def snn(smiles: Sequence, reference) -> float:
    """MOSES SNN: mean over valid generated molecules of the largest Tanimoto similarity to
    a reference molecule.

    >>> snn(["CCO", "c1ccccc1"], ["c1ccccc1", "OCC", "CCN"])
    1.0
    """
    mols = _valid_mols(smiles)
    if not mols:
        raise ChemError("no valid molecules")
    ref = _reference(reference)
    return float(_aggregate_tanimoto(ref.fingerprints, morgan_fingerprints(mols), "max").mean())


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
    gen, ref = valid_canonical(smiles), valid_canonical(list(reference))
    if len(gen) < 2 or len(ref) < 2:
        raise ChemError("FCD needs at least two valid molecules in each set")
    mu1, sigma1 = _chemnet_statistics(gen)
    mu2, sigma2 = _chemnet_statistics(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return float(fcd.calculate_frechet_distance(mu1, sigma1, mu2, sigma2))


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
        written by :func:`~seqvae.chem.molfile.load_molecules` is): skip
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
    smiles = _sequence(smiles, "smiles")
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
    out["filters"] = passing / len(canon)
    out["filters_mcf"] = filters.has_mcf
    generated = ReferenceSet(len(canon), fps, _fragment_counts(counts), _scaffold_counts(counts))
    for suffix, ref in (("", test), ("_testsf", test_scaffolds)):
        if ref is None:
            continue
        ref = _reference(ref)
        out[f"frag{suffix}"] = cosine_similarity_counts(generated.fragments, ref.fragments)
        out[f"scaf{suffix}"] = cosine_similarity_counts(generated.scaffolds, ref.scaffolds)
        out[f"snn{suffix}"] = float(_aggregate_tanimoto(ref.fingerprints, fps, "max").mean())
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
