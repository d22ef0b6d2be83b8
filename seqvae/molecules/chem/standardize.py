"""Structure clean-up before training: salts and solvents off, charges neutralised, stereo off.

Files from a registry or an assay hold molecules as they were registered: a
hydrochloride salt (``CCN.Cl``), a carboxylate with its sodium
(``CC(=O)[O-].[Na+]``), stereo centres. A model trained on them spends tokens
on counter-ions, and a token such as ``[C@H]`` that only a few training
molecules use is missing from the vocabulary of a model trained on another set
(``token '[C@H]' not in vocabulary`` at encode time). RDKit's ``rdMolStandardize``
fixes each, one step at a time:

* ``fragment``: keep the largest fragment (``LargestFragmentChooser``), which drops
  salts and solvents;
* ``charge``: neutralise by adding or removing hydrogens (``Uncharger``), leaving
  charges that cannot be neutralised (quaternary nitrogen, nitro groups);
* ``stereo``: remove stereochemistry (``Chem.RemoveStereochemistry``).

:func:`standardize_many` counts the molecules each step changed (their
canonical SMILES differ before and after it), for the report of
``seqvae data smiles --standardize``.
"""
from __future__ import annotations

from typing import Callable, Sequence

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.rdkit_support import mol_from_smiles, quiet_rdkit, require_rdkit

__all__ = ["STANDARDIZE_STEPS", "standardize_smiles", "standardize_many"]

#: The steps, in the order they run.
STANDARDIZE_STEPS = ("fragment", "charge", "stereo")


def _check_steps(steps: Sequence[str]) -> tuple[str, ...]:
    if isinstance(steps, str):
        steps = (steps,)
    unknown = [s for s in steps if s not in STANDARDIZE_STEPS]
    if unknown:
        raise ChemError(f"unknown standardisation step {unknown[0]!r}; choose from "
                        f"{list(STANDARDIZE_STEPS)}")
    # Always in the canonical order: the uncharger must see the fragment that stays.
    return tuple(s for s in STANDARDIZE_STEPS if s in steps)


def _standardize_one(smiles: str, steps: tuple[str, ...], tools: dict
                     ) -> tuple[str | None, tuple[str, ...]]:
    mol = mol_from_smiles(smiles)
    if mol is None:
        return smiles, ()  # left for the cleaning to count as invalid, with its text
    Chem = tools["Chem"]
    changed = []
    before = Chem.MolToSmiles(mol)
    for step in steps:
        if step == "fragment":
            mol = tools["chooser"].choose(mol)
        elif step == "charge":
            mol = tools["uncharger"].uncharge(mol)
        else:
            mol = Chem.Mol(mol)
            Chem.RemoveStereochemistry(mol)
        after = Chem.MolToSmiles(mol)
        if after != before:
            changed.append(step)
        before = after
    return before or None, tuple(changed)


def _tools() -> dict:
    Chem = require_rdkit()
    from rdkit.Chem.MolStandardize import rdMolStandardize

    return {"Chem": Chem, "chooser": rdMolStandardize.LargestFragmentChooser(),
            "uncharger": rdMolStandardize.Uncharger()}


def _chunk(items: list, steps: tuple[str, ...]) -> list:
    tools = _tools()
    out = []
    with quiet_rdkit():
        for text in items:
            try:
                out.append(_standardize_one(text, steps, tools))
            except Exception:  # noqa: BLE001 - RDKit raises odd types on odd molecules
                out.append((None, ("failed",)))
    return out


def standardize_smiles(smiles: str, steps: Sequence[str] = ("fragment", "charge")) -> str | None:
    """The SMILES of ``smiles`` after the standardisation ``steps``; the input itself when
    it is not a molecule, None when RDKit fails on it.

    Examples
    --------
    >>> standardize_smiles("CC(=O)[O-].[Na+]")
    'CC(=O)O'
    >>> standardize_smiles("C[C@H](N)C(=O)O.Cl", ("fragment", "stereo"))
    'CC(N)C(=O)O'
    """
    if not isinstance(smiles, str):
        raise ChemError(f"expected a SMILES string, got {type(smiles).__name__}")
    return _chunk([smiles], _check_steps(steps))[0][0]


def standardize_many(smiles: Sequence[str], steps: Sequence[str] = ("fragment", "charge"), *,
                     n_jobs: int = 1, chunk_size: int = 20000,
                     progress: Callable[[int, int], None] | None = None
                     ) -> tuple[list[str | None], dict]:
    """Standardise each SMILES; the new SMILES (None where RDKit failed) and the counts.

    The counts hold, for each step run, the molecules it changed, and ``failed``:
    molecules RDKit could parse but not standardise (they are dropped as invalid).
    Strings that are not molecules pass through unchanged, to be counted invalid by
    :func:`~seqvae.molecules.chem.molfile.clean_molecules`. ``n_jobs`` other than 1
    spreads chunks of ``chunk_size`` over joblib workers (``-1``: every core).

    Examples
    --------
    >>> out, counts = standardize_many(["CCN.Cl", "CC(=O)[O-]", "CCO", "C1CC"],
    ...                                ("fragment", "charge", "stereo"))
    >>> out
    ['CCN', 'CC(=O)O', 'CCO', 'C1CC']
    >>> counts
    {'fragment': 1, 'charge': 1, 'stereo': 0, 'failed': 0}
    """
    if isinstance(smiles, str):
        raise ChemError("standardize_many expects a sequence of SMILES, not one string")
    steps = _check_steps(steps)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ChemError(f"n_jobs must be a non-zero integer, got {n_jobs!r}")
    items = [str(s) for s in smiles]
    chunks = [items[i:i + chunk_size] for i in range(0, len(items), chunk_size)]
    if n_jobs == 1 or len(chunks) <= 1:
        parts = (_chunk(c, steps) for c in chunks)
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_chunk)(c, steps) for c in chunks)
    counts = {step: 0 for step in steps}
    counts["failed"] = 0
    out: list[str | None] = []
    for part in parts:
        for text, changed in part:
            out.append(text)
            for step in changed:
                counts[step] += 1
        if progress is not None:
            progress(len(out), len(items))
    return out, counts
