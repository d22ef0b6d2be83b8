"""Chemistry for seqvae: molecules as SMILES or SELFIES (optional extra ``seqvae[chem]``).

Importing this package never imports RDKit or selfies; the functions that need
them import them on first use and raise
:class:`~seqvae.chem.errors.ChemistryUnavailableError` when they are missing.
"""
from .errors import CHEM_EXTRA_HINT, ChemError, ChemistryUnavailableError, MoleculeFileError
from .rdkit_support import (as_mol, canonical_smiles, canonical_smiles_many, is_valid_smiles,
                            mol_from_smiles, rdkit_available, require_rdkit, require_selfies)

__all__ = [
    "CHEM_EXTRA_HINT", "ChemError", "ChemistryUnavailableError", "MoleculeFileError",
    "as_mol", "canonical_smiles", "canonical_smiles_many", "is_valid_smiles", "mol_from_smiles",
    "rdkit_available", "require_rdkit", "require_selfies",
]
