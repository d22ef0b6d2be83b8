"""One call from a molecule file to a split, cleaned data set with its report.

:func:`prepare_molecule_dataset` is what ``seqvae data smiles FILE`` runs:
read (:mod:`.molfile`), canonicalise and de-duplicate, drop the molecules the
chosen representation cannot spell (SELFIES rejects a few valences), split
(random or by scaffold, :mod:`.splits`) and describe (:mod:`.stats`).
:func:`fit_molecule_tokenizer` builds the tokenizer of a representation.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.molfile import load_molecules
from seqvae.molecules.chem.selfies_codec import SelfiesTokenizer, smiles_to_selfies
from seqvae.molecules.chem.splits import SPLIT_NAMES, random_split, scaffold_split
from seqvae.molecules.chem.stats import molecule_statistics
from seqvae.tokenizers import RegexTokenizer

__all__ = ["REPRESENTATIONS", "SPLIT_METHODS", "MoleculeDataset", "prepare_molecule_dataset",
           "fit_molecule_tokenizer"]

REPRESENTATIONS = ("smiles", "selfies")
SPLIT_METHODS = ("random", "scaffold")


@dataclass
class MoleculeDataset:
    """Canonical SMILES per split (``train``/``valid``/``test``) and the JSON-safe report."""

    splits: dict[str, list[str]]
    report: dict


def _check_choice(value, choices, what):
    if value not in choices:
        raise ChemError(f"unknown {what} {value!r}; choose from {list(choices)}")


def prepare_molecule_dataset(path: str | os.PathLike, *, column: str | None = None,
                             strict: bool = False, split: str = "random",
                             fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
                             representation: str = "smiles", isomeric: bool = True,
                             n_jobs: int = 1, progress=None) -> MoleculeDataset:
    """Read, clean, split and describe a molecule file.

    The report holds the counts of :func:`~seqvae.molecules.chem.molfile.load_molecules`
    (``lines_read``, ``bad_lines``, ``invalid``, ``duplicates``, ``kept``), the
    molecules the representation cannot write (``unrepresentable``, dropped
    before the split, so ``kept`` counts what is split), the split (method, seed,
    fractions, sizes) and the length/vocabulary statistics of the kept set.

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
    smiles, report = load_molecules(path, column=column, strict=strict, isomeric=isomeric,
                                    n_jobs=n_jobs, progress=progress)
    unrepresentable = 0
    if representation == "selfies":
        keep = []
        for s in smiles:
            try:
                smiles_to_selfies(s)
            except ChemError:
                unrepresentable += 1
                continue
            keep.append(s)
        smiles = keep
    report["representation"] = representation
    report["unrepresentable"] = unrepresentable
    report["kept"] = len(smiles)
    if not smiles:
        raise ChemError(f"{path}: no valid molecule left to split "
                        f"({report['invalid']} invalid, {report['bad_lines']} bad lines)")
    if split == "scaffold":
        parts = scaffold_split(smiles, fractions, seed=seed)
    else:
        parts = random_split(len(smiles), fractions, seed=seed)
    splits = {name: [smiles[i] for i in parts[name]] for name in SPLIT_NAMES}
    report["split"] = {"method": split, "seed": int(seed),
                       "fractions": [float(f) for f in fractions],
                       "sizes": {name: len(v) for name, v in splits.items()}}
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
