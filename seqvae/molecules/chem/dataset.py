"""One call from a molecule file to a split, cleaned data set with its report.

:func:`prepare_molecule_dataset` is what ``seqvae data smiles FILE`` runs:
read (:mod:`.molfile`), optionally standardise (:mod:`.standardize`), canonicalise
and de-duplicate, drop the molecules the chosen representation cannot spell
(SELFIES rejects a few valences), split (random, by scaffold, or the split the
file's ``split`` column gives, :mod:`.splits`) and describe (:mod:`.stats`).
:func:`fit_molecule_tokenizer` builds the tokenizer of a representation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.molfile import load_molecule_set
from seqvae.molecules.chem.selfies_codec import SelfiesTokenizer, smiles_to_selfies
from seqvae.molecules.chem.splits import (
    SPLIT_NAMES,
    _check_fractions,
    kept_split,
    random_split,
    scaffold_split,
)
from seqvae.molecules.chem.stats import molecule_statistics
from seqvae.tokenizers import RegexTokenizer

__all__ = ["REPRESENTATIONS", "SPLIT_METHODS", "MoleculeDataset", "prepare_molecule_dataset",
           "fit_molecule_tokenizer"]

REPRESENTATIONS = ("smiles", "selfies")
#: ``auto`` keeps the file's split column when it has one, else draws a random split.
SPLIT_METHODS = ("auto", "random", "scaffold", "keep")
#: Train, valid and test shares of a drawn split unless told otherwise.
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


@dataclass
class MoleculeDataset:
    """Canonical SMILES per split (``train``/``valid``/``test``) and the JSON-safe report."""

    splits: dict[str, list[str]]
    report: dict


def _check_choice(value, choices, what):
    if value not in choices:
        raise ChemError(f"unknown {what} {value!r}; choose from {list(choices)}")


def prepare_molecule_dataset(path: str | os.PathLike, *, column: str | None = None,
                             strict: bool = False, split: str = "auto",
                             fractions: Sequence[float] | None = None, seed: int = 0,
                             representation: str = "smiles", isomeric: bool = True,
                             n_jobs: int = 1, progress=None,
                             standardize: Sequence[str] = ()) -> MoleculeDataset:
    """Read, clean, split and describe a molecule file.

    The report holds the counts of :func:`~seqvae.molecules.chem.molfile.load_molecules`
    (``lines_read``, ``bad_lines``, ``invalid``, ``duplicates``, ``kept``; with
    ``standardize`` steps the molecules each changed), the molecules the
    representation cannot write (``unrepresentable``, dropped before the split, so
    ``kept`` counts what is split), the split (method, seed, fractions, sizes) and
    the length/vocabulary statistics of the kept set.

    ``split``: ``"auto"`` keeps the split of the file's ``split`` column when it has
    one (``"keep"`` demands one), else draws ``"random"``; ``"scaffold"`` keeps each
    Bemis–Murcko scaffold on one side. ``fractions`` (train, valid, test; default
    0.8, 0.1, 0.1) apply to random and scaffold splits only: given with a kept
    split they are an error, not silently unused. A duplicate molecule keeps the split value of its
    first occurrence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.smi"
    >>> _ = path.write_text("\\n".join(["CCO", "OCC", "C1CC", "c1ccccc1", "CCN", "CCC"]))
    >>> ds = prepare_molecule_dataset(path, fractions=(0.5, 0.25, 0.25), seed=0)
    >>> {k: len(v) for k, v in ds.splits.items()}
    {'train': 2, 'valid': 1, 'test': 1}
    >>> ds.report["invalid"], ds.report["duplicates"], ds.report["kept"]
    (1, 1, 4)
    """
    _check_choice(split, SPLIT_METHODS, "split method")
    _check_choice(representation, REPRESENTATIONS, "representation")
    given = fractions is not None
    fractions = _check_fractions(fractions if given else DEFAULT_FRACTIONS)  # fail fast
    if split == "keep" and given:
        raise ChemError("fractions apply to random and scaffold splits, not to a kept one")
    cleaned, report = load_molecule_set(path, column=column, strict=strict, isomeric=isomeric,
                                        n_jobs=n_jobs, progress=progress,
                                        standardize=standardize)
    smiles, tags = cleaned.smiles, cleaned.splits
    method = ("keep" if tags is not None else "random") if split == "auto" else split
    if method == "keep" and tags is None:
        raise ChemError(f"{path}: --split keep needs a 'split' column (train / valid / test "
                        "per molecule); this file has none")
    if method == "keep" and given:
        raise ChemError(f"{path} has a split column, which is kept: fractions apply to a "
                        "drawn split only (choose one with --split random or scaffold)")
    unrepresentable = 0
    if representation == "selfies":
        keep = []
        for i, s in enumerate(smiles):
            try:
                smiles_to_selfies(s)
            except ChemError:
                unrepresentable += 1
                continue
            keep.append(i)
        smiles = [smiles[i] for i in keep]
        tags = [tags[i] for i in keep] if tags is not None else None
    report["representation"] = representation
    report["unrepresentable"] = unrepresentable
    report["kept"] = len(smiles)
    if not smiles:
        raise ChemError(f"{path}: no valid molecule left to split "
                        f"({report['invalid']} invalid, {report['bad_lines']} bad lines)")
    if method == "keep":
        parts = kept_split(tags)
    elif method == "scaffold":
        parts = scaffold_split(smiles, fractions, seed=seed)
    else:
        parts = random_split(len(smiles), fractions, seed=seed)
    splits = {name: [smiles[i] for i in parts[name]] for name in SPLIT_NAMES}
    sizes = {name: len(v) for name, v in splits.items()}
    if method == "keep":
        report["split"] = {"method": "keep", "from": "the file's split column", "sizes": sizes}
    else:
        report["split"] = {"method": method, "seed": int(seed),
                           "fractions": [float(f) for f in fractions], "sizes": sizes}
        if tags is not None:
            report["split"]["split_column_ignored"] = True
    report["statistics"] = molecule_statistics(smiles)
    return MoleculeDataset(splits, report)


def fit_molecule_tokenizer(smiles: Sequence[str], representation: str = "smiles"):
    """The tokenizer of a representation fitted on ``smiles``: a
    :class:`~seqvae.tokenizers.RegexTokenizer` with the SMILES pattern, or a
    :class:`~seqvae.molecules.chem.selfies_codec.SelfiesTokenizer`.

    >>> fit_molecule_tokenizer(["CCl"]).vocab[4:]
    ['C', 'Cl']
    >>> fit_molecule_tokenizer(["CCl"], "selfies").vocab[4:]
    ['[C]', '[Cl]']
    """
    _check_choice(representation, REPRESENTATIONS, "representation")
    if representation == "selfies":
        return SelfiesTokenizer.fit(smiles)
    return RegexTokenizer.fit(smiles)
