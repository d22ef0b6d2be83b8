"""Read molecules from the files chemists keep them in, then canonicalise and de-duplicate.

Formats (the name decides, after an optional ``.gz``; compression is detected by
the gzip magic bytes, not the name):

* ``.csv`` / ``.tsv``: a header row; the SMILES column is ``column`` when given,
  else the first header that looks like SMILES (:data:`SMILES_HEADERS`, any case),
  else the only column.
* anything else (``.smi``, ``.txt``...): one molecule a line, fields split on
  spaces or tabs, the SMILES first and the rest its name (so names are never
  swallowed into the SMILES); ``#`` lines are comments. A first line with a
  field called ``smiles`` (or ``canonical_smiles``, ``smi``...) is a header, and
  the SMILES are read from that field (or from ``column``).

A UTF-8 byte-order mark is dropped. Blank lines are skipped. A *bad line*
(undecodable bytes, wrong number of CSV fields, empty SMILES field) is counted
and skipped, or raises :class:`~seqvae.molecules.chem.errors.MoleculeFileError` with
``strict=True``. Invalid molecules are never a format error: they are counted
by :func:`clean_molecules`.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "mols.smi"
>>> _ = path.write_text("OCC ethanol\\nCCO again\\nC1CC broken\\nc1ccccc1 benzene\\n")
>>> smiles, report = load_molecules(path)
>>> smiles
['CCO', 'c1ccccc1']
>>> {k: report[k] for k in ("lines_read", "invalid", "duplicates", "kept")}
{'lines_read': 4, 'invalid': 1, 'duplicates': 1, 'kept': 2}
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from seqvae.molecules.chem.errors import ChemError, MoleculeFileError
from seqvae.molecules.chem.rdkit_support import canonical_smiles_many
from seqvae.textfiles import MAX_DECOMPRESSED_BYTES, decoded_lines, read_file_bytes

__all__ = ["SMILES_HEADERS", "MAX_DECOMPRESSED_BYTES", "MoleculeRecords", "read_file_bytes",
           "decoded_lines", "read_molecule_file", "clean_molecules", "CleanedMolecules",
           "load_molecules"]

#: Header names taken for the SMILES column, in order of preference (compared in lower case).
SMILES_HEADERS = ("smiles", "canonical_smiles", "isomeric_smiles", "smi", "smiles_string",
                  "canonical smiles", "molecule", "mol", "structure")

#: Header names that mark the first line of a .smi/.txt file as a header.
_SMI_HEADERS = ("smiles", "canonical_smiles", "isomeric_smiles", "smiles_string", "smi")
_FIELD_SPLIT = re.compile(r"[ \t]+")
#: How many examples of bad lines / invalid molecules a report keeps.
_EXAMPLES = 5


@dataclass
class MoleculeRecords:
    """What :func:`read_molecule_file` found: raw SMILES with their names and line numbers."""

    smiles: list[str]
    names: list[str | None]
    line_numbers: list[int]
    lines_read: int
    bad_lines: int
    bad_line_examples: list[dict] = field(default_factory=list)
    column: str | None = None
    format: str = "smi"


def _file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".tsv"):
        return "tsv"
    return "smi"


def _pick_column(header: list[str], column: str | None, path: Path) -> int:
    if column is not None:
        if column in header:
            return header.index(column)
        raise MoleculeFileError(f"{path}: no column {column!r}; columns are {header}")
    lowered = [h.strip().lower() for h in header]
    for wanted in SMILES_HEADERS:
        if wanted in lowered:
            return lowered.index(wanted)
    if len(header) == 1:
        return 0
    raise MoleculeFileError(f"{path}: cannot tell which column holds the SMILES among "
                            f"{header}; name it (column=...)")


def _records_csv(lines, path: Path, column: str | None, delimiter: str, bad: list):
    lines = iter(lines)
    try:
        _, first = next(lines)
    except StopIteration:
        return None, []
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error as exc:  # a header field over csv's field size limit (128 kB)
        raise MoleculeFileError(f"{path}: the header line is not CSV ({exc})") from None
    index = _pick_column(header, column, path)
    # Each physical line is one record: SMILES never span lines, and a broken quote
    # then costs one line instead of swallowing the rest of the file.
    name_index = next((i for i, h in enumerate(header)
                       if h.strip().lower() in ("name", "id", "title", "zinc_id", "chembl_id")
                       and i != index), None)
    rows = []
    for number, text in lines:
        try:
            row = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            bad.append((number, f"malformed CSV ({exc})"))
            continue
        if len(row) != len(header):
            bad.append((number, f"{len(row)} fields where the header has {len(header)}"))
            continue
        smiles = row[index].strip()
        if not smiles:
            bad.append((number, "empty SMILES field"))
            continue
        name = row[name_index].strip() if name_index is not None else None
        rows.append((number, smiles, name or None))
    return header[index], rows


def _records_smi(lines, column: str | None, path: Path, bad: list):
    rows = []
    first = True
    index = 0
    picked = None
    for number, text in lines:
        if text.lstrip().startswith("#"):
            continue
        fields = _FIELD_SPLIT.split(text.strip())
        if first:
            first = False
            lowered = [f.lower() for f in fields]
            if column is not None:
                if column not in fields:
                    raise MoleculeFileError(f"{path}: column {column!r} needs a header line "
                                            f"naming it; the first line is {text!r}")
                index, picked = fields.index(column), column
                continue
            # Only the unmistakable names mark a header here: a first molecule named
            # "structure" must not be taken for one.
            named = [h for h in _SMI_HEADERS if h in lowered]
            if named:
                index = lowered.index(named[0])
                picked = fields[index]
                continue
        if index >= len(fields):
            bad.append((number, f"no field {index + 1} on this line"))
            continue
        smiles = fields[index]
        rest = [f for i, f in enumerate(fields) if i != index]
        rows.append((number, smiles, " ".join(rest) or None))
    return picked, rows


def read_molecule_file(path: str | os.PathLike, *, column: str | None = None,
                       strict: bool = False) -> MoleculeRecords:
    """Read the raw SMILES (not yet checked by RDKit) of a .smi/.txt/.csv/.tsv file, gzipped or not.

    Parameters
    ----------
    path
        The file.
    column
        Header of the SMILES column (CSV/TSV, or a .smi file with a header line).
        Default: picked from :data:`SMILES_HEADERS`.
    strict
        Raise :class:`MoleculeFileError` at the first bad line instead of counting it.

    Returns
    -------
    MoleculeRecords

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = path.write_text("id,SMILES,logp\\n1,CCO,-0.1\\n2,c1ccccc1\\n3,CCN,0.2\\n")
    >>> rec = read_molecule_file(path)
    >>> rec.smiles, rec.names, rec.column, rec.bad_lines
    (['CCO', 'CCN'], ['1', '3'], 'SMILES', 1)
    """
    if column is not None and (not isinstance(column, str) or not column):
        raise ChemError(f"column must be a non-empty string, got {column!r}")
    path = Path(path)
    fmt = _file_format(path)
    bad: list = []
    lines = list(decoded_lines(read_file_bytes(path, error=MoleculeFileError), bad))
    if fmt in ("csv", "tsv"):
        picked, rows = _records_csv(lines, path, column, "," if fmt == "csv" else "\t", bad)
    else:
        picked, rows = _records_smi(lines, column, path, bad)
    bad.sort()
    if strict and bad:
        number, reason = bad[0]
        raise MoleculeFileError(f"{path}, line {number}: {reason}")
    return MoleculeRecords(
        smiles=[r[1] for r in rows], names=[r[2] for r in rows],
        line_numbers=[r[0] for r in rows],
        # Every data line (not blank, header or comment) ends up either a record or bad.
        lines_read=len(rows) + len(bad),
        bad_lines=len(bad),
        bad_line_examples=[{"line": n, "reason": r} for n, r in bad[:_EXAMPLES]],
        column=picked, format=fmt)


@dataclass
class CleanedMolecules:
    """Canonical, unique, valid molecules, in the order they were first met."""

    smiles: list[str]
    names: list[str | None]
    invalid: int
    duplicates: int
    invalid_examples: list[dict] = field(default_factory=list)


def clean_molecules(smiles: Sequence[str], names: Sequence[str | None] | None = None, *,
                    line_numbers: Sequence[int] | None = None,
                    isomeric: bool = True, n_jobs: int = 1,
                    progress=None) -> CleanedMolecules:
    """Canonicalise, drop invalid molecules and duplicates (by canonical SMILES); count both.

    The first occurrence of a molecule is kept, with its name. ``n_jobs`` spreads the
    canonicalisation over processes
    (:func:`~seqvae.molecules.chem.rdkit_support.canonical_smiles_many`, which also calls
    ``progress(done, total)``).

    Examples
    --------
    >>> out = clean_molecules(["OCC", "CCO", "C1CC", "c1ccccc1"])
    >>> out.smiles, out.invalid, out.duplicates
    (['CCO', 'c1ccccc1'], 1, 1)
    """
    if isinstance(smiles, str):
        raise ChemError("clean_molecules expects a sequence of SMILES, not one string")
    names = list(names) if names is not None else [None] * len(smiles)
    if len(names) != len(smiles):
        raise ChemError(f"{len(names)} names for {len(smiles)} molecules")
    numbers = list(line_numbers) if line_numbers is not None else list(range(1, len(smiles) + 1))
    if len(numbers) != len(smiles):
        raise ChemError(f"{len(numbers)} line numbers for {len(smiles)} molecules")
    seen: set[str] = set()
    kept, kept_names, examples = [], [], []
    invalid = duplicates = 0
    keys = canonical_smiles_many(smiles, isomeric=isomeric, n_jobs=n_jobs, progress=progress)
    for text, name, number, key in zip(smiles, names, numbers, keys, strict=True):
        if key is None:
            invalid += 1
            if len(examples) < _EXAMPLES:
                examples.append({"line": number, "smiles": text})
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        kept.append(key)
        kept_names.append(name)
    return CleanedMolecules(kept, kept_names, invalid, duplicates, examples)


def load_molecules(path: str | os.PathLike, *, column: str | None = None, strict: bool = False,
                   isomeric: bool = True, n_jobs: int = 1,
                   progress=None) -> tuple[list[str], dict]:
    """Read a molecule file and clean it: canonical unique valid SMILES and a report.

    The report (JSON-safe) counts ``lines_read``, ``bad_lines``, ``invalid``
    molecules, ``duplicates`` (by canonical SMILES) and molecules ``kept``
    (``kept = lines_read - bad_lines - invalid - duplicates``), and names the
    ``column`` and ``format`` used, with a few examples of bad lines and invalid
    molecules.
    """
    records = read_molecule_file(path, column=column, strict=strict)
    cleaned = clean_molecules(records.smiles, records.names, line_numbers=records.line_numbers,
                              isomeric=isomeric, n_jobs=n_jobs, progress=progress)
    report = {
        "path": str(path), "format": records.format, "column": records.column,
        "lines_read": records.lines_read, "bad_lines": records.bad_lines,
        "invalid": cleaned.invalid, "duplicates": cleaned.duplicates,
        "kept": len(cleaned.smiles), "isomeric": bool(isomeric),
        "bad_line_examples": records.bad_line_examples,
        "invalid_examples": cleaned.invalid_examples,
    }
    return cleaned.smiles, report
