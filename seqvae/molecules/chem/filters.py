"""The MOSES medicinal-chemistry filters: allowed atoms, no charges, no large rings, MCF, PAINS.

A molecule passes when

* every atom is one of C, N, S, O, F, Cl, Br, H (:data:`MOSES_ALLOWED_ATOMS`);
* no atom carries a formal charge;
* no ring has 8 or more atoms;
* it matches no PAINS pattern (RDKit's ``FilterCatalog`` PAINS A/B/C set, the
  same 480 Baell–Holloway patterns MOSES lists);
* it matches no MCF pattern (the 22 "medicinal chemistry filters" SMARTS of
  MOSES, matched on the molecule with explicit hydrogens as some patterns need).

RDKit does not ship the MCF patterns. They are read from the ``mcf.csv`` that
:func:`~seqvae.molecules.chem.moses_data.fetch_moses` unpacks from the MOSES wheel, or from
a file passed as ``mcf_path``. Without them the filter still applies the other
rules and says so: :attr:`MosesFilters.has_mcf` is False and
:func:`~seqvae.molecules.chem.metrics.moses_metrics` reports ``filters_mcf: false``, so a
figure computed without MCF is never mistaken for the MOSES one.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Sequence

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.moses_data import moses_file
from seqvae.molecules.chem.rdkit_support import as_mol, require_rdkit

__all__ = ["MOSES_ALLOWED_ATOMS", "MosesFilters", "read_smarts_csv", "load_moses_filters"]

MOSES_ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
_MAX_RING = 7


def read_smarts_csv(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``(name, smarts)`` pairs of a CSV with a ``smarts`` column (and optionally ``names``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"
    >>> _ = p.write_text('names,smarts\\nepoxide,[#6]1-[#8]-[#6]-1\\n')
    >>> read_smarts_csv(p)
    [('epoxide', '[#6]1-[#8]-[#6]-1')]
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ChemError(f"cannot read SMARTS file {path}: {exc}") from None
    if not rows or "smarts" not in rows[0]:
        raise ChemError(f"{path}: expected a CSV with a 'smarts' column")
    return [((row.get("names") or row.get("name") or f"pattern{i}").strip(), row["smarts"].strip())
            for i, row in enumerate(rows, start=1)]


class MosesFilters:
    """The MOSES filter set, compiled once.

    Parameters
    ----------
    mcf
        ``(name, smarts)`` pairs of the MCF patterns, or None for none.
    allowed_atoms
        Element symbols allowed.

    Examples
    --------
    >>> f = MosesFilters(mcf=[("epoxide", "[#6]1-[#8]-[#6]-1")])
    >>> f.passes("CCO"), f.passes("C1OC1C"), f.passes("C[N+](C)(C)C"), f.passes("CCI")
    (True, False, False, False)
    >>> f.reasons("C1OC1CI")
    ['atom I', 'MCF epoxide']
    """

    def __init__(self, mcf: Sequence[tuple[str, str]] | None = None, *,
                 allowed_atoms=MOSES_ALLOWED_ATOMS):
        Chem = require_rdkit()
        from rdkit.Chem import FilterCatalog

        self.allowed_atoms = frozenset(allowed_atoms)
        self._mcf = []
        for name, smarts in mcf or ():
            pattern = Chem.MolFromSmarts(smarts)
            if pattern is None:
                raise ChemError(f"MCF pattern {name!r} is not valid SMARTS: {smarts!r}")
            self._mcf.append((name, pattern))
        self.has_mcf = bool(self._mcf)
        params = FilterCatalog.FilterCatalogParams()
        params.AddCatalog(FilterCatalog.FilterCatalogParams.FilterCatalogs.PAINS)
        self._pains = FilterCatalog.FilterCatalog(params)

    def reasons(self, smiles_or_mol) -> list[str]:
        """Why a molecule fails (empty when it passes; ``["invalid"]`` for an invalid one)."""
        mol = as_mol(smiles_or_mol)
        if mol is None:
            return ["invalid"]
        out = []
        symbols = sorted({a.GetSymbol() for a in mol.GetAtoms()} - self.allowed_atoms)
        out += [f"atom {s}" for s in symbols]
        if any(a.GetFormalCharge() != 0 for a in mol.GetAtoms()):
            out.append("charged")
        if any(len(ring) > _MAX_RING for ring in mol.GetRingInfo().AtomRings()):
            out.append("ring of 8 or more atoms")
        if self._mcf:
            with_h = require_rdkit().AddHs(mol)
            out += [f"MCF {name}" for name, pat in self._mcf if with_h.HasSubstructMatch(pat)]
        match = self._pains.GetFirstMatch(mol)
        if match is not None:
            out.append(f"PAINS {match.GetDescription()}")
        return out

    def passes(self, smiles_or_mol) -> bool:
        """True when a valid molecule passes every rule (cheap rules first)."""
        mol = as_mol(smiles_or_mol)
        if mol is None:
            return False
        atoms = mol.GetAtoms()
        if any(a.GetSymbol() not in self.allowed_atoms or a.GetFormalCharge() != 0 for a in atoms):
            return False
        if any(len(ring) > _MAX_RING for ring in mol.GetRingInfo().AtomRings()):
            return False
        if self._mcf:
            with_h = require_rdkit().AddHs(mol)
            if any(with_h.HasSubstructMatch(pat) for _, pat in self._mcf):
                return False
        return not self._pains.HasMatch(mol)


def load_moses_filters(mcf_path: str | os.PathLike | None = None, *,
                       cache_dir: str | os.PathLike | None = None) -> MosesFilters:
    """The MOSES filters with MCF patterns from ``mcf_path``, else from the MOSES cache, else
    without MCF (check :attr:`MosesFilters.has_mcf`).

    >>> load_moses_filters(cache_dir="/nonexistent").has_mcf
    False
    """
    path = Path(mcf_path) if mcf_path is not None else moses_file("mcf.csv", cache_dir)
    return MosesFilters(read_smarts_csv(path) if path is not None else None)
