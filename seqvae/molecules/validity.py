"""The ``"smiles"`` validator: RDKit parses the string; canonical form: RDKit canonical SMILES.

Registered with :mod:`seqvae.validators` under ``"smiles"``; RDKit is imported
when the name is first resolved, not when this module is.
"""
from __future__ import annotations

from seqvae.validators import Validator, register_validator_factory

__all__ = ["smiles_validator"]


def smiles_validator() -> Validator:
    # Imported here: RDKit is an optional extra, and naming "smiles" is the first
    # moment it is needed. require_rdkit raises the typed error naming the extra.
    from seqvae.molecules.chem.rdkit_support import canonical_smiles, is_valid_smiles, require_rdkit

    require_rdkit()

    def canonical(text: str) -> str:
        # An invalid string keeps its own text as key (novelty still counts it once).
        return canonical_smiles(text) or text

    return Validator("smiles", is_valid_smiles, canonical)


register_validator_factory("smiles", smiles_validator)
