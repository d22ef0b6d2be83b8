"""Reading SD files (``.sdf``, ``.sd``, ``.mol``, gzipped or not) into SMILES.

The bytes come through :func:`seqvae.textfiles.read_file_bytes`, so an SD file
obeys the same bounds as every other molecule file (a gzip bomb stops with one
typed line, never fills the memory), and RDKit's ``ForwardSDMolSupplier`` reads
the records from those bytes one at a time.

A record RDKit cannot read (a broken connection table, a valence it will not
sanitise) is *invalid*, counted like an invalid SMILES line, never a format
error. So is a record with more atoms than :class:`~seqvae.molecules.chem.limits.SmilesLimits`
allows characters: each atom takes at least one character of SMILES, and the
SMILES written for it would be refused downstream anyway. The record's title
line (RDKit's ``_Name``) is its name; a ``split`` data field, when present, is
kept like the ``split`` column of a CSV file.
"""
from __future__ import annotations

import io
from pathlib import Path

from seqvae.molecules.chem.errors import MoleculeFileError
from seqvae.molecules.chem.limits import smiles_limit_reason
from seqvae.molecules.chem.rdkit_support import quiet_rdkit, require_rdkit
from seqvae.textfiles import read_file_bytes

__all__ = ["SDF_SUFFIXES", "read_sdf_records"]

#: Names (after an optional ``.gz``) read as SD files.
SDF_SUFFIXES = (".sdf", ".sd", ".mol")


def _atom_limit() -> int:
    # Read at call time: set_default_limits may have changed the bounds since import.
    from seqvae.molecules.chem import limits

    return limits.DEFAULT_LIMITS.max_length


def _split_field(mol) -> str | None:
    for name in mol.GetPropNames():
        if name.strip().lower() == "split":
            return mol.GetProp(name).strip() or None
    return None


def read_sdf_records(path: Path, fields: tuple[str, ...] = ()) -> dict:
    """The molecules of an SD file as SMILES, with names, record numbers and the records
    that could not be used.

    Returns a dict with ``smiles``, ``names``, ``numbers`` (1-based record numbers),
    ``splits`` (the ``split`` data field of each record, or None when no record has
    one), ``fields`` (for each name of ``fields``, that data field of each record, None
    where a record lacks it) and ``invalid`` (``(record number, reason)`` pairs).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> block = "ethanol\\n  x\\n\\n  3  2  0  0  0  0  0  0  0  0999 V2000\\n" + "".join(
    ...     f"    0.0000    0.0000    0.0000 {a}   0  0  0  0  0  0  0  0  0  0  0  0\\n"
    ...     for a in "CCO") + "  1  2  1  0\\n  2  3  1  0\\nM  END\\n$$$$\\n"
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.sdf"
    >>> _ = path.write_text(block + "broken\\n\\n\\n  garbage\\n$$$$\\n")
    >>> out = read_sdf_records(path)
    >>> out["smiles"], out["names"], len(out["invalid"])
    (['CCO'], ['ethanol'], 1)
    """
    data = read_file_bytes(Path(path), error=MoleculeFileError)
    Chem = require_rdkit()
    limit = _atom_limit()
    smiles: list[str] = []
    names: list[str | None] = []
    numbers: list[int] = []
    splits: list[str | None] = []
    values: dict[str, list[str | None]] = {name: [] for name in fields}
    invalid: list[tuple[int, str]] = []
    with quiet_rdkit():
        supplier = Chem.ForwardSDMolSupplier(io.BytesIO(data), sanitize=True, removeHs=True)
        number = 0
        while True:
            number += 1
            try:
                mol = next(supplier)
            except StopIteration:
                break
            except Exception:  # noqa: BLE001 - RDKit raises odd types on a broken record
                mol = None
            if mol is None:
                invalid.append((number, "RDKit cannot read this record"))
                continue
            atoms = mol.GetNumAtoms()
            if atoms == 0:
                invalid.append((number, "no atoms"))
                continue
            if atoms > limit:
                invalid.append((number, f"over the atom limit ({atoms} > {limit} atoms)"))
                continue
            try:
                text = Chem.MolToSmiles(mol)
            except Exception:  # noqa: BLE001 - a molecule RDKit cannot write is not usable
                text = ""
            reason = "RDKit cannot write its SMILES" if not text else smiles_limit_reason(text)
            if reason is not None:
                invalid.append((number, reason))
                continue
            try:
                name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
                split = _split_field(mol)
                wanted = {name: mol.GetProp(name).strip() if mol.HasProp(name) else None
                          for name in fields}
            except UnicodeDecodeError:   # RDKit hands back the bytes; its str() conversion fails
                invalid.append((number, "a title or data field that is not UTF-8"))
                continue
            smiles.append(text)
            names.append(name or None)
            numbers.append(number)
            splits.append(split)
            for name in fields:
                values[name].append(wanted[name])
    return {"smiles": smiles, "names": names, "numbers": numbers,
            "splits": splits if any(s is not None for s in splits) else None,
            "fields": values, "invalid": invalid}
