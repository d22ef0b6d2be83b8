"""RDKit behind one door: lazy import, quiet logs, validity and canonical SMILES.

RDKit is an optional dependency (``pip install 'seqvae[chem]'``). Importing
this module never imports RDKit; the first function that needs it does, and
raises :class:`~seqvae.molecules.chem.errors.ChemistryUnavailableError` naming the extra
when it is missing.

RDKit prints a warning to stderr for every SMILES it rejects; a generative
model emits thousands of those, so the RDKit log is switched off on first use.

A molecule's identity is its canonical SMILES (:func:`canonical_smiles`):
uniqueness and novelty count molecules, not strings (``OCC`` and ``CCO`` are
one molecule). Stereochemistry is kept by default (``isomeric=True``), as
RDKit's ``MolToSmiles`` does and as the MOSES metrics do.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable

from seqvae.molecules.chem.errors import CHEM_EXTRA_HINT, ChemError, ChemistryUnavailableError
from seqvae.molecules.chem.limits import smiles_limit_reason

__all__ = ["require_rdkit", "quiet_rdkit", "require_selfies", "rdkit_available", "mol_from_smiles",
           "is_valid_smiles", "canonical_smiles", "canonical_smiles_many", "as_mol",
           "molecule_list", "valid_molecules"]


@functools.lru_cache(maxsize=None)
def require_rdkit():
    """The ``rdkit.Chem`` module (RDKit's own log is left as the user set it; the parsers
    here silence it only around their own calls, :func:`quiet_rdkit`).

    Raises
    ------
    ChemistryUnavailableError
        RDKit is not installed.

    Examples
    --------
    >>> Chem = require_rdkit()
    >>> Chem.MolFromSmiles("CCO").GetNumAtoms()
    3
    """
    try:
        from rdkit import Chem
    except ImportError as exc:
        raise ChemistryUnavailableError(
            f"RDKit is needed for molecules but cannot be imported ({exc}); "
            f"install it with: {CHEM_EXTRA_HINT}") from None
    return Chem


def quiet_rdkit():
    """A context in which RDKit logs nothing (an invalid SMILES is an answer here, not an
    error to print); the log is restored on exit, so the process-wide setting is kept."""
    from rdkit import rdBase

    return rdBase.BlockLogs()


@functools.lru_cache(maxsize=None)
def require_selfies():
    """The ``selfies`` module.

    Raises
    ------
    ChemistryUnavailableError
        selfies is not installed.

    Examples
    --------
    >>> require_selfies().encoder("CO")
    '[C][O]'
    """
    try:
        import selfies
    except ImportError as exc:
        raise ChemistryUnavailableError(
            f"the selfies package is needed for SELFIES but cannot be imported ({exc}); "
            f"install it with: {CHEM_EXTRA_HINT}") from None
    return selfies


def rdkit_available() -> bool:
    """True when RDKit can be imported.

    >>> isinstance(rdkit_available(), bool)
    True
    """
    try:
        require_rdkit()
    except ChemistryUnavailableError:
        return False
    return True


def mol_from_smiles(smiles: str):
    """The sanitised RDKit molecule of ``smiles``, or None when it is not a molecule.

    The empty string and strings that parse to zero atoms are not molecules
    (RDKit would return an empty molecule for them).

    Raises
    ------
    ChemError
        ``smiles`` is not a string.

    Examples
    --------
    >>> mol_from_smiles("c1ccccc1").GetNumAtoms()
    6
    >>> mol_from_smiles("c1cccc1") is None   # five aromatic carbons cannot be kekulised
    True
    >>> mol_from_smiles("") is None
    True
    """
    if not isinstance(smiles, str):
        raise ChemError(f"expected a SMILES string, got {type(smiles).__name__}")
    if not smiles.strip() or smiles_limit_reason(smiles) is not None:
        return None  # over a bound: RDKit could crash or stall on it (chem.limits)
    Chem = require_rdkit()
    try:
        with quiet_rdkit():
            mol = Chem.MolFromSmiles(smiles)
    except Exception:  # noqa: BLE001 - RDKit raises odd types on pathological input
        return None
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    return mol


def as_mol(smiles_or_mol: Any):
    """A molecule from a SMILES string or an RDKit molecule (passed through); None if invalid.

    >>> as_mol("CC").GetNumAtoms()
    2
    """
    if isinstance(smiles_or_mol, str):
        return mol_from_smiles(smiles_or_mol)
    Chem = require_rdkit()
    if isinstance(smiles_or_mol, Chem.Mol):
        return smiles_or_mol if smiles_or_mol.GetNumAtoms() > 0 else None
    raise ChemError(f"expected a SMILES string or an RDKit molecule, "
                    f"got {type(smiles_or_mol).__name__}")


def molecule_list(items, what: str = "molecules") -> list:
    """``items`` as a list, refusing a lone string (a common slip: ``"CCO"`` is not three
    molecules).

    >>> molecule_list(("CCO", "CCN"))
    ['CCO', 'CCN']
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ChemError(f"{what} must be a sequence of SMILES strings or molecules")
    return list(items)


def valid_molecules(items) -> list:
    """RDKit molecules of the valid items (SMILES strings or molecules), in order.

    >>> [m.GetNumAtoms() for m in valid_molecules(["CCO", "C1CC", "c1ccccc1"])]
    [3, 6]
    """
    mols = [as_mol(x) for x in molecule_list(items)]
    return [m for m in mols if m is not None]


def is_valid_smiles(smiles: str) -> bool:
    """True when RDKit parses and sanitises ``smiles`` into a non-empty molecule.

    >>> is_valid_smiles("CC(=O)O"), is_valid_smiles("CC(=O"), is_valid_smiles("C(C)(C)(C)(C)C")
    (True, False, False)
    """
    return mol_from_smiles(smiles) is not None


def canonical_smiles(smiles_or_mol: Any, *, isomeric: bool = True) -> str | None:
    """RDKit's canonical SMILES of a molecule, or None when it is not valid.

    Two SMILES of one molecule give one canonical SMILES: use it as the key for
    uniqueness, novelty and de-duplication.

    Examples
    --------
    >>> canonical_smiles("OCC") == canonical_smiles("C(O)C") == "CCO"
    True
    >>> canonical_smiles("C[C@H](N)C(=O)O"), canonical_smiles("C[C@H](N)C(=O)O", isomeric=False)
    ('C[C@H](N)C(=O)O', 'CC(N)C(=O)O')
    >>> canonical_smiles("not a molecule") is None
    True
    """
    mol = as_mol(smiles_or_mol)
    if mol is None:
        return None
    Chem = require_rdkit()
    try:
        text = Chem.MolToSmiles(mol, isomericSmiles=bool(isomeric))
    except Exception:  # noqa: BLE001 - a molecule RDKit cannot write is not usable
        return None
    return text or None


def _canonical_chunk(items: list, isomeric: bool) -> list[str | None]:
    return [canonical_smiles(x, isomeric=isomeric) for x in items]


def canonical_smiles_many(items: Iterable[Any], *, isomeric: bool = True, n_jobs: int = 1,
                          chunk_size: int = 20000,
                          progress: Callable[[int, int], None] | None = None
                          ) -> list[str | None]:
    """:func:`canonical_smiles` of each item (None for invalid ones), in order.

    With ``n_jobs`` other than 1 the items are cut into chunks of ``chunk_size``
    (a few seconds of work each, so that shipping a chunk to a worker costs little)
    and spread over joblib workers; ``-1`` uses every core. A million SMILES take
    a few minutes on one core. ``progress(done, total)`` is called after each chunk.

    >>> canonical_smiles_many(["OC", "C1CC1", "C1CC"])
    ['CO', 'C1CC1', None]
    """
    items = list(items)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ChemError(f"n_jobs must be a non-zero integer, got {n_jobs!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ChemError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    chunks = [items[i:i + chunk_size] for i in range(0, len(items), chunk_size)]
    if n_jobs == 1 or len(chunks) <= 1:
        parts = (_canonical_chunk(c, bool(isomeric)) for c in chunks)
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_canonical_chunk)(c, bool(isomeric)) for c in chunks)
    keys: list[str | None] = []
    for part in parts:
        keys.extend(part)
        if progress is not None:
            progress(len(keys), len(items))
    return keys
