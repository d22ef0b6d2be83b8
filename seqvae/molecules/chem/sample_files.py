"""Decoded molecules as files a chemist opens: a CSV table with properties, or an SDF.

:func:`sample_table` turns decodes into rows (``index``, ``ok``, ``smiles`` as decoded,
``canonical`` SMILES, ``error`` and, for each valid molecule, QED, logP, SA score and molecular weight computed by
RDKit); :func:`write_sample_csv` writes every row, :func:`write_sample_sdf` the valid
molecules with 2-D coordinates and the properties as SD tags. Both write atomically.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Sequence

from seqvae.molecules.chem.leaderboard import PROPERTY_COLUMNS, molecule_properties

__all__ = ["SAMPLE_COLUMNS", "sample_table", "write_sample_csv", "write_sample_sdf"]

#: The columns of a sample table, in order.
SAMPLE_COLUMNS = ("index", "ok", "smiles", "canonical", "error", *PROPERTY_COLUMNS)


def sample_table(smiles: Sequence[str | None], ok: Sequence[bool],
                 errors: Sequence[str | None]) -> list[dict]:
    """One row per decode; properties only for the valid ones (empty otherwise).

    >>> rows = sample_table(["OCC", "C1CC"], [True, False], [None, "ring_open"])
    >>> rows[0]["canonical"], round(rows[0]["weight"], 2), rows[1]["error"], rows[1]["qed"]
    ('CCO', 46.07, 'ring_open', None)
    """
    from seqvae.molecules.chem.rdkit_support import canonical_smiles

    rows = []
    for i, (text, valid, error) in enumerate(zip(smiles, ok, errors, strict=True)):
        # The decoded text is kept as written: a chemist comparing runs reads the
        # canonical column, one debugging the decoder the raw one.
        row = {"index": i, "ok": bool(valid), "smiles": text or "",
               "canonical": (canonical_smiles(text) or "") if valid else "",
               "error": error or ""}
        props = molecule_properties(text) if valid else {}
        row.update({key: props.get(key) for key in PROPERTY_COLUMNS})
        rows.append(row)
    return rows


def write_sample_csv(rows: Sequence[dict], path: str | os.PathLike) -> int:
    """Write every row as CSV (:data:`SAMPLE_COLUMNS`); returns the rows written."""
    from automata.atomic import atomic_write_text

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SAMPLE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if row.get(k) is None else row.get(k)) for k in SAMPLE_COLUMNS}
                     for row in rows)
    atomic_write_text(path, buf.getvalue())
    return len(rows)


def write_sample_sdf(rows: Sequence[dict], path: str | os.PathLike) -> int:
    """Write the valid rows' molecules as an SDF (2-D coordinates; the index and the
    properties as SD tags, the SMILES as the title); returns the molecules written."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    from automata.atomic import atomic_path
    from seqvae.molecules.chem.rdkit_support import mol_from_smiles

    written = 0
    with atomic_path(Path(path)) as tmp:
        writer = Chem.SDWriter(str(tmp))
        try:
            for row in rows:
                mol = mol_from_smiles(row["smiles"]) if row["ok"] else None
                if mol is None:
                    continue
                AllChem.Compute2DCoords(mol)
                mol.SetProp("_Name", row["smiles"])
                mol.SetIntProp("index", int(row["index"]))
                for key in PROPERTY_COLUMNS:
                    if row.get(key) is not None:
                        mol.SetDoubleProp(key, float(row[key]))
                writer.write(mol)
                written += 1
        finally:
            writer.close()
    return written
