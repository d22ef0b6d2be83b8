"""Train/valid/test splits of molecule sets: random, by Bemis–Murcko scaffold, or kept.

A scaffold split keeps every molecule of one scaffold on one side, so the test
molecules have scaffolds the model never saw in training (harder, and closer
to how a model meets new chemistry). Both splits are reproducible from ``seed``.

A *kept* split (:func:`kept_split`) is the one a file already gives in its
``split`` column, so that a benchmark's own train/test cut (MOSES's
``train``/``test``/``test_scaffolds``) survives: results stay comparable with
others' on the same cut.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.rdkit_support import as_mol, require_rdkit

__all__ = ["SPLIT_NAMES", "SPLIT_VALUES", "murcko_scaffold", "random_split", "scaffold_split",
           "kept_split", "parse_fractions"]

SPLIT_NAMES = ("train", "valid", "test")

#: The values of a ``split`` column (compared in lower case, spaces trimmed) and the
#: part each one names. MOSES's ``test_scaffolds`` (its scaffold test set) is a test part.
SPLIT_VALUES = {"train": "train", "training": "train",
                "valid": "valid", "validation": "valid", "val": "valid",
                "test": "test", "test_scaffolds": "test", "testing": "test"}


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    try:
        fr = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise ChemError(f"fractions must be three numbers, got {fractions!r}") from None
    if len(fr) != 3 or any(not 0 <= f <= 1 for f in fr) or abs(sum(fr) - 1) > 1e-6:
        raise ChemError("fractions must be three numbers in [0, 1] summing to 1, "
                        f"got {fractions!r}")
    if fr[0] <= 0:
        raise ChemError(f"the train fraction must be above 0, got {fractions!r}")
    return fr  # type: ignore[return-value]


def parse_fractions(text: str) -> tuple[float, float, float]:
    """``"0.8,0.1,0.1"`` as train/valid/test fractions: three non-negative numbers that sum
    to 1, the first above 0.

    >>> parse_fractions("0.7, 0.15, 0.15")
    (0.7, 0.15, 0.15)
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ChemError(f"fractions must be three numbers like 0.8,0.1,0.1, got "
                        f"{str(text)[:60]!r}") from None
    if len(numbers) != 3 or any(n != n for n in numbers):  # n != n: NaN
        raise ChemError(f"fractions must be three numbers like 0.8,0.1,0.1, got "
                        f"{str(text)[:60]!r}")
    return _check_fractions(numbers)


def kept_split(values: Sequence[str | None]) -> dict[str, np.ndarray]:
    """The split a file gives, from each molecule's ``split`` value (:data:`SPLIT_VALUES`,
    any case): ``{"train", "valid", "test"}`` -> sorted index arrays.

    Raises
    ------
    ChemError
        A value is not one of :data:`SPLIT_VALUES` (the message lists the values
        found), or no molecule is marked ``train``.

    Examples
    --------
    >>> parts = kept_split(["train", "TEST", "test_scaffolds", "Validation", "train"])
    >>> {k: v.tolist() for k, v in parts.items()}
    {'train': [0, 4], 'valid': [3], 'test': [1, 2]}
    """
    parts: dict[str, list[int]] = {name: [] for name in SPLIT_NAMES}
    unknown: dict[str, int] = {}
    for i, value in enumerate(values):
        key = (value or "").strip().lower()
        if key in SPLIT_VALUES:
            parts[SPLIT_VALUES[key]].append(i)
        else:
            unknown[value or ""] = unknown.get(value or "", 0) + 1
    if unknown:
        found = sorted({(v or "").strip() for v in values})
        shown = ", ".join(repr(v) for v in found[:12]) + (" ..." if len(found) > 12 else "")
        raise ChemError(f"the split column holds {sum(unknown.values())} value(s) that are not "
                        f"train, valid/validation/val or test/test_scaffolds; values found: "
                        f"{shown}")
    if not parts["train"]:
        raise ChemError("the split column marks no molecule 'train'")
    return {k: np.asarray(v, dtype=np.int64) for k, v in parts.items()}


def _sizes(n: int, fractions) -> tuple[int, int, int]:
    n_valid = int(round(fractions[1] * n))
    n_test = int(round(fractions[2] * n))
    return n - n_valid - n_test, n_valid, n_test


def murcko_scaffold(smiles_or_mol, *, generic: bool = False) -> str | None:
    """Canonical SMILES of the Bemis–Murcko scaffold (ring systems and the linkers between them).

    An acyclic molecule has the empty scaffold ``""``; an invalid one gives None.
    ``generic=True`` also turns every atom into carbon and every bond into a single bond.

    Examples
    --------
    >>> murcko_scaffold("CC(=O)Oc1ccccc1C(=O)O")   # aspirin
    'c1ccccc1'
    >>> murcko_scaffold("c1ccccc1CCc1ccncc1")
    'c1ccc(CCc2ccncc2)cc1'
    >>> murcko_scaffold("CCO"), murcko_scaffold("C1CC") is None
    ('', True)
    """
    mol = as_mol(smiles_or_mol)
    if mol is None:
        return None
    Chem = require_rdkit()
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        core = MurckoScaffold.GetScaffoldForMol(mol)
        if generic:
            core = MurckoScaffold.MakeScaffoldGeneric(core)
        return Chem.MolToSmiles(core)
    except (ValueError, RuntimeError):
        return None


def random_split(n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), *,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """Indices ``0..n-1`` shuffled with ``seed`` and cut into train/valid/test.

    >>> parts = random_split(10, (0.6, 0.2, 0.2), seed=1)
    >>> [len(parts[k]) for k in ("train", "valid", "test")]
    [6, 2, 2]
    >>> sorted(np.concatenate(list(parts.values())).tolist()) == list(range(10))
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ChemError(f"n must be a non-negative integer, got {n!r}")
    fractions = _check_fractions(fractions)
    order = np.random.default_rng(seed).permutation(int(n))
    n_train, n_valid, _ = _sizes(int(n), fractions)
    return {"train": np.sort(order[:n_train]),
            "valid": np.sort(order[n_train:n_train + n_valid]),
            "test": np.sort(order[n_train + n_valid:])}


def scaffold_split(smiles: Sequence, fractions: Sequence[float] = (0.8, 0.1, 0.1), *,
                   seed: int = 0, generic: bool = False) -> dict[str, np.ndarray]:
    """Split molecules so that no Bemis–Murcko scaffold appears on two sides.

    Scaffold groups larger than half the valid or test share go to train first
    (a split cannot take them whole without overshooting); the other groups follow
    in a seeded random order, each to train while train has room, else to valid,
    else to test. Sizes therefore match ``fractions`` only approximately. Invalid
    molecules (no scaffold) are an error: clean the set first
    (:func:`~seqvae.molecules.chem.molfile.clean_molecules`).

    Returns
    -------
    dict
        ``{"train", "valid", "test"}`` -> sorted index arrays into ``smiles``.

    Examples
    --------
    >>> mols = ["c1ccccc1C", "c1ccccc1CC", "c1ccccc1O", "C1CCCCC1N", "C1CCCCC1O", "c1ccncc1"]
    >>> parts = scaffold_split(mols, (0.5, 0.25, 0.25), seed=0)
    >>> sorted(len(v) for v in parts.values())
    [1, 2, 3]
    """
    if isinstance(smiles, str):
        raise ChemError("scaffold_split expects a sequence of molecules, not one string")
    fractions = _check_fractions(fractions)
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(smiles):
        scaffold = murcko_scaffold(s, generic=generic)
        if scaffold is None:
            raise ChemError(f"molecule {i} ({s!r}) is not valid; clean the set before splitting")
        groups.setdefault(scaffold, []).append(i)
    n_train, n_valid, n_test = _sizes(len(smiles), fractions)
    rng = np.random.default_rng(seed)
    members = list(groups.values())
    limit = max(n_valid, n_test) / 2
    big = [g for g in members if len(g) > limit]
    small = [g for g in members if len(g) <= limit]
    # Shuffle within each class, then big groups first (sorted by the permutation only,
    # so the outcome depends on the seed and not on dict order tricks).
    big = [big[i] for i in rng.permutation(len(big))]
    small = [small[i] for i in rng.permutation(len(small))]
    parts: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for group in big + small:
        if len(parts["train"]) + len(group) <= n_train:
            parts["train"].extend(group)
        elif len(parts["valid"]) + len(group) <= n_valid:
            parts["valid"].extend(group)
        else:
            parts["test"].extend(group)
    return {k: np.sort(np.asarray(v, dtype=np.int64)) for k, v in parts.items()}
