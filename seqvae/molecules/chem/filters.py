"""The MOSES medicinal-chemistry filters: allowed atoms, no charges, no large rings, MCF, PAINS.

A molecule passes when

* every atom is one of C, N, S, O, F, Cl, Br, H (:data:`MOSES_ALLOWED_ATOMS`);
* no atom carries a formal charge;
* no ring has 8 or more atoms;
* it matches no PAINS pattern: MOSES's own list (``wehi_pains.csv``, 479 SMARTS
  matched on the molecule with explicit hydrogens, as MOSES does) when the MOSES
  data are fetched, else RDKit's ``FilterCatalog`` PAINS A/B/C set (the same
  Baell–Holloway families in RDKit's spelling; 1 training molecule in 10,000
  is judged differently);
* it matches no MCF pattern (the 22 "medicinal chemistry filters" SMARTS of
  MOSES, matched on the molecule with explicit hydrogens as some patterns need).

RDKit does not ship the MCF patterns. They are read from the ``mcf.csv`` that
:func:`~seqvae.molecules.chem.moses_data.fetch_moses` unpacks from the MOSES wheel, or from
a file passed as ``mcf_path``. Without them the filter still applies the other
rules and says so: :attr:`MosesFilters.has_mcf` is False and
:func:`~seqvae.molecules.chem.metrics.moses_metrics` reports the share under
``filters_pains_only`` instead of ``filters``, so a figure computed without MCF is
never mistaken for the MOSES one.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Sequence

from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.moses_data import moses_file
from seqvae.molecules.chem.rdkit_support import as_mol, require_rdkit

__all__ = ["MOSES_ALLOWED_ATOMS", "MosesFilters", "read_smarts_csv", "read_pains_csv",
           "load_moses_filters"]

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


def read_pains_csv(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``(name, smarts)`` pairs of MOSES's ``wehi_pains.csv``: no header, each row the SMARTS
    then the name (``<regId=...>``), both padded with spaces.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "p.csv"
    >>> _ = p.write_text('"[#6]=[#6]-[#6]=[#8]   ","<regId=ene_one(1)>"\\n')
    >>> read_pains_csv(p)
    [('<regId=ene_one(1)>', '[#6]=[#6]-[#6]=[#8]')]
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row and row[0].strip()]
    except (OSError, csv.Error) as exc:
        raise ChemError(f"cannot read PAINS file {path}: {exc}") from None
    if not rows:
        raise ChemError(f"{path}: no PAINS patterns")
    return [((row[1].strip() if len(row) > 1 else f"pains{i}"), row[0].strip())
            for i, row in enumerate(rows, start=1)]


class MosesFilters:
    """The MOSES filter set, compiled once.

    Parameters
    ----------
    mcf
        ``(name, smarts)`` pairs of the MCF patterns, or None for none.
    pains
        ``(name, smarts)`` pairs of the PAINS patterns (MOSES's list), or None for
        RDKit's PAINS catalogue (:attr:`pains_source` says which).
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
                 pains: Sequence[tuple[str, str]] | None = None,
                 allowed_atoms=MOSES_ALLOWED_ATOMS):
        from rdkit.Chem import FilterCatalog

        self.allowed_atoms = frozenset(allowed_atoms)
        self._mcf = _compile("MCF", mcf)
        self.has_mcf = bool(self._mcf)
        # MOSES's PAINS SMARTS are matched with explicit hydrogens, like the MCF ones.
        self._pains_smarts = _compile("PAINS", pains)
        self.pains_source = "moses" if self._pains_smarts else "rdkit"
        params = FilterCatalog.FilterCatalogParams()
        params.AddCatalog(FilterCatalog.FilterCatalogParams.FilterCatalogs.PAINS)
        self._pains = None if self._pains_smarts else FilterCatalog.FilterCatalog(params)

    def _h_patterns(self):
        """The patterns matched on the molecule with explicit hydrogens: MCF, then MOSES PAINS."""
        return [(f"MCF {n}", p) for n, p in self._mcf] + \
            [(f"PAINS {n}", p) for n, p in self._pains_smarts]

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
        patterns = self._h_patterns()
        if patterns:
            with_h = require_rdkit().AddHs(mol)
            out += [name for name, pat in patterns if with_h.HasSubstructMatch(pat)]
        if self._pains is not None:
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
        patterns = self._h_patterns()
        if patterns:
            with_h = require_rdkit().AddHs(mol)
            if any(with_h.HasSubstructMatch(pat) for _, pat in patterns):
                return False
        return self._pains is None or not self._pains.HasMatch(mol)


def load_moses_filters(mcf_path: str | os.PathLike | None = None, *,
                       cache_dir: str | os.PathLike | None = None,
                       pains_path: str | os.PathLike | None = None) -> MosesFilters:
    """The MOSES filters with MCF patterns from ``mcf_path``, else from the MOSES cache, else
    without MCF (check :attr:`MosesFilters.has_mcf`); PAINS from ``pains_path``, else the
    cache's ``wehi_pains.csv``, else RDKit's catalogue (:attr:`MosesFilters.pains_source`).

    >>> f = load_moses_filters(cache_dir="/nonexistent")
    >>> f.has_mcf, f.pains_source
    (False, 'rdkit')
    """
    path = Path(mcf_path) if mcf_path is not None else moses_file("mcf.csv", cache_dir)
    pains = Path(pains_path) if pains_path is not None else moses_file("wehi_pains.csv", cache_dir)
    return MosesFilters(read_smarts_csv(path) if path is not None else None,
                        pains=read_pains_csv(pains) if pains is not None else None)


def _compile(kind: str, patterns: Sequence[tuple[str, str]] | None) -> list:
    """``(name, compiled SMARTS)`` pairs; ChemError naming the first invalid pattern."""
    Chem = require_rdkit()
    out = []
    for name, smarts in patterns or ():
        pattern = Chem.MolFromSmarts(smarts)
        if pattern is None:
            raise ChemError(f"{kind} pattern {name!r} is not valid SMARTS: {smarts!r}")
        out.append((name, pattern))
    return out
