"""An optimisation's leaderboard as files a chemist opens: a CSV table and a picture grid.

:func:`write_leaderboard` writes, into a directory, ``leaderboard.csv`` (rank,
SMILES, score, each objective term, then QED, logP, SA score and molecular weight
computed by RDKit, novelty and the round that found it), ``leaderboard.png`` (the
top molecules drawn with their rank and score) and ``optimize.json`` (the whole
result). Every file is written atomically.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

__all__ = ["leaderboard_rows", "write_leaderboard", "molecule_properties", "PROPERTY_COLUMNS"]

#: The properties every row carries, whatever the objective.
PROPERTY_COLUMNS = ("qed", "logp", "sas", "weight")


def molecule_properties(smiles: str) -> dict:
    """QED, logP, SA score and molecular weight of one valid molecule (RDKit)."""
    from seqvae.molecules.chem.objectives import logp, qed, sa_score
    from seqvae.molecules.chem.rdkit_support import mol_from_smiles, require_rdkit

    require_rdkit()
    from rdkit.Chem import Descriptors

    mol = mol_from_smiles(smiles)
    return {"qed": qed(mol), "logp": logp(mol), "sas": sa_score(mol),
            "weight": float(Descriptors.MolWt(mol))}


def leaderboard_rows(result: dict) -> list[dict]:
    """The leaderboard of an :func:`~seqvae.molecules.optimize.optimize_molecules` result
    as flat rows: ``rank``, ``smiles``, ``score``, one column per term, the
    :data:`PROPERTY_COLUMNS`, ``novel`` and ``round``.

    >>> rows = leaderboard_rows({"leaderboard": [{"smiles": "CCO", "score": 0.4,
    ...     "terms": {"qed": 0.4}, "novel": True, "round": 2}]})
    >>> sorted(rows[0]), round(rows[0]["weight"], 2)
    (['logp', 'novel', 'qed', 'rank', 'round', 'sas', 'score', 'smiles', 'term_qed', 'weight'], 46.07)
    """
    rows = []
    for rank, entry in enumerate(result["leaderboard"], 1):
        row = {"rank": rank, "smiles": entry["smiles"], "score": entry["score"]}
        row.update({f"term_{k}": v for k, v in (entry.get("terms") or {}).items()})
        row.update(molecule_properties(entry["smiles"]))
        row.update(novel=bool(entry.get("novel")), round=entry.get("round"))
        rows.append(row)
    return rows


def write_leaderboard(result: dict, out_dir: str | os.PathLike, *, grid: int = 20,
                      per_row: int = 5) -> list[Path]:
    """Write ``leaderboard.csv``, ``leaderboard.png`` (the best ``grid`` molecules, when
    there are any) and ``optimize.json`` into ``out_dir``; returns the paths written."""
    from automata.atomic import atomic_write_text
    from seqvae.jsonable import json_default
    from seqvae.molecules.chem.depict import draw_molecule_grid

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = leaderboard_rows(result)
    columns = ["rank", "smiles", "score",
               *[f"term_{k}" for k in result.get("terms") or {}], *PROPERTY_COLUMNS,
               "novel", "round"]
    for row in rows:  # a callable's term is named after it: keep every column a row has
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    written = [out / "leaderboard.csv"]
    atomic_write_text(written[0], buf.getvalue())
    if rows:
        best = rows[:grid]
        written.append(draw_molecule_grid(
            [r["smiles"] for r in best], out / "leaderboard.png", per_row=per_row,
            captions=[f"#{r['rank']}  {r['score']:.3f}" for r in best]))
    atomic_write_text(out / "optimize.json",
                      json.dumps(result, indent=2, default=json_default) + "\n")
    written.append(out / "optimize.json")
    return written
