"""Read molecules from the files chemists keep them in, then canonicalise and de-duplicate.

Formats (the name decides, after an optional ``.gz``; compression is detected by
the gzip magic bytes, not the name):

* ``.sdf`` / ``.sd`` / ``.mol``: SD records read by RDKit (:mod:`.sdfile`); a record
  RDKit cannot read counts as an invalid molecule, its title line is its name.
* ``.csv`` / ``.tsv``: a header row; the SMILES column is ``column`` when given,
  else the first header that looks like SMILES (:data:`SMILES_HEADERS`, any case),
  else a header that contains ``smiles`` (``mol_smiles``, ``SMILES_std``), else the
  only column. The delimiter is sniffed among ``,`` ``;`` tab and ``|`` from the
  first few KB (:func:`sniff_delimiter`), so a semicolon "CSV" or a comma ".tsv"
  is read right; the extension's delimiter is the fallback.
* anything else (``.smi``, ``.txt``...): one molecule a line, fields split on
  spaces or tabs, the SMILES first and the rest its name (so names are never
  swallowed into the SMILES); ``#`` lines are comments. A first line with a
  field called ``smiles`` (or ``canonical_smiles``, ``smi``...) is a header, and
  the SMILES are read from that field (or from ``column``). A first line split
  by ``,`` ``;`` or ``|`` into fields one of which names the SMILES (as for a CSV
  header) makes the file a delimited table, read like a CSV.

A ``split`` column (header ``split``, any case) is kept per molecule
(:attr:`MoleculeRecords.splits`) for a data set that keeps a given split.

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
from seqvae.molecules.chem.sdfile import SDF_SUFFIXES, read_sdf_records
from seqvae.textfiles import MAX_DECOMPRESSED_BYTES, decoded_lines, read_file_bytes

__all__ = ["SMILES_HEADERS", "MAX_DECOMPRESSED_BYTES", "MoleculeRecords", "read_file_bytes",
           "decoded_lines", "sniff_delimiter", "read_molecule_file", "clean_molecules",
           "CleanedMolecules", "load_molecule_set", "load_molecules"]

#: Header names taken for the SMILES column, in order of preference (compared in lower case).
SMILES_HEADERS = ("smiles", "canonical_smiles", "isomeric_smiles", "smi", "smiles_string",
                  "canonical smiles", "molecule", "mol", "structure")

#: Header names that mark the first line of a .smi/.txt file as a header.
_SMI_HEADERS = ("smiles", "canonical_smiles", "isomeric_smiles", "smiles_string", "smi")
_FIELD_SPLIT = re.compile(r"[ \t]+")
#: Delimiters a table of molecules may use; SMILES never hold any of them.
_DELIMITERS = ",;\t|"
#: Bytes of the file's start given to the delimiter sniffer.
_SNIFF_BYTES = 8192
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
    #: The delimiter a table was read with (None: whitespace-separated fields, or SDF).
    delimiter: str | None = None
    #: The ``split`` value of each record (None when the file has no split column).
    splits: list[str | None] | None = None
    #: Records read but unusable as molecules (SD records RDKit cannot read):
    #: ``(number, reason)``, counted with the invalid molecules.
    invalid_records: list[tuple[int, str]] = field(default_factory=list)
    #: The raw text of each requested value column (``value_columns``), one per record
    #: (None where a record leaves the field empty or an SD record lacks it).
    values: dict[str, list[str | None]] = field(default_factory=dict)


def _file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(SDF_SUFFIXES):
        return "sdf"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".tsv"):
        return "tsv"
    return "smi"


def _smiles_index(header: list[str]) -> int | None:
    """The SMILES column of a header, or None: a known name first, then a name that
    contains ``smiles``."""
    lowered = [h.strip().lower() for h in header]
    for wanted in SMILES_HEADERS:
        if wanted in lowered:
            return lowered.index(wanted)
    return next((i for i, h in enumerate(lowered) if "smiles" in h), None)


def _pick_column(header: list[str], column: str | None, path: Path) -> int:
    shown = ", ".join(repr(h) for h in header[:20]) + (" ..." if len(header) > 20 else "")
    if column is not None:
        if column in header:
            return header.index(column)
        raise MoleculeFileError(f"{path}: no column {column!r}; the columns are {shown} "
                                "(choose one with --column NAME)")
    index = _smiles_index(header)
    if index is not None:
        return index
    if len(header) == 1:
        return 0
    raise MoleculeFileError(f"{path}: cannot tell which column holds the SMILES among "
                            f"{shown}; name it with --column NAME")


def _value_indices(header: list[str], wanted: tuple[str, ...], path: Path) -> list[int]:
    """The positions of the requested value columns (an error names the columns there are)."""
    missing = [name for name in wanted if name not in header]
    if missing:
        shown = ", ".join(repr(h) for h in header[:20]) + (" ..." if len(header) > 20 else "")
        raise MoleculeFileError(f"{path}: no column {missing[0]!r}; the columns are {shown}")
    return [header.index(name) for name in wanted]


def _split_index(header: list[str], taken: int) -> int | None:
    return next((i for i, h in enumerate(header)
                 if h.strip().lower() == "split" and i != taken), None)


def sniff_delimiter(sample: str, fallback: str) -> str:
    """The delimiter of a table's first lines, one of ``,`` ``;`` tab ``|`` (Python's
    :class:`csv.Sniffer` restricted to them), or ``fallback`` when the sniffer cannot
    tell or its choice leaves the header one field wide.

    >>> sniff_delimiter("id;smiles\\n1;CCO\\n2;CCN\\n", ",")
    ';'
    >>> sniff_delimiter("smiles\\nCCO\\n", ",")
    ','
    """
    lines = [line for line in sample.splitlines() if line.strip()]
    if not lines:
        return fallback
    # The last line of a sample may be cut mid-record: leave it out when there are others.
    text = "\n".join(lines[:-1] if len(lines) > 2 else lines)
    try:
        found = csv.Sniffer().sniff(text, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return fallback
    try:
        width = len(next(csv.reader([lines[0]], delimiter=found)))
    except csv.Error:
        return fallback
    return found if width > 1 else fallback


def _records_csv(lines, path: Path, column: str | None, delimiter: str, bad: list,
                 value_columns: tuple[str, ...] = ()):
    lines = iter(lines)
    try:
        _, first = next(lines)
    except StopIteration:
        return None, [], False
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error as exc:  # a header field over csv's field size limit (128 kB)
        raise MoleculeFileError(f"{path}: the header line is not CSV ({exc})") from None
    index = _pick_column(header, column, path)
    split_index = _split_index(header, index)
    value_indices = _value_indices(header, value_columns, path)
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
        tag = row[split_index].strip() or None if split_index is not None else None
        values = tuple(row[i].strip() or None for i in value_indices)
        rows.append((number, smiles, name or None, tag, values))
    return header[index], rows, split_index is not None


def _records_smi(lines, column: str | None, path: Path, bad: list,
                 value_columns: tuple[str, ...] = ()):
    rows = []
    first = True
    index = 0
    picked = None
    split_index = None
    value_indices: list[int] = []
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
                                            f"naming it; the first line is {text[:200]!r}")
                index, picked = fields.index(column), column
                split_index = _split_index(fields, index)
                value_indices = _value_indices(fields, value_columns, path)
                continue
            # Only the unmistakable names mark a header here: a first molecule named
            # "structure" (or "my_smiles") must not be taken for one.
            named = [h for h in _SMI_HEADERS if h in lowered]
            if named:
                index = lowered.index(named[0])
                picked = fields[index]
                split_index = _split_index(fields, index)
                value_indices = _value_indices(fields, value_columns, path)
                continue
            if value_columns:
                raise MoleculeFileError(f"{path}: column {value_columns[0]!r} needs a header "
                                        f"line naming it; the first line is {text[:200]!r}")
        last = max([index, split_index or 0, *value_indices])
        if last >= len(fields):
            bad.append((number, f"no field {last + 1} on this line"))
            continue
        smiles = fields[index]
        taken = (index, split_index, *value_indices)
        rest = [f for i, f in enumerate(fields) if i not in taken]
        tag = fields[split_index] if split_index is not None else None
        values = tuple(fields[i] for i in value_indices)
        rows.append((number, smiles, " ".join(rest) or None, tag, values))
    return picked, rows, split_index is not None


def _first_data_line(lines) -> str | None:
    return next((text for _, text in lines if not text.lstrip().startswith("#")), None)


def _table_delimiter(lines, fmt: str, column: str | None) -> str | None:
    """The delimiter to read the file as a table with, or None for the whitespace format.

    A .csv/.tsv is a table whatever its delimiter; a .smi/.txt becomes one only
    when its first line, split by a sniffed ``,`` ``;`` or ``|``, names the SMILES
    column (a data line such as ``CCO ethanol,95%`` must stay a data line).
    """
    sample = "\n".join(text for _, text in lines[:200])[:_SNIFF_BYTES]
    if fmt in ("csv", "tsv"):
        return sniff_delimiter(sample, "," if fmt == "csv" else "\t")
    first = _first_data_line(lines)
    if first is None or not any(d in first for d in ",;|"):
        return None
    found = sniff_delimiter(sample, "")
    if found not in (",", ";", "|"):
        return None
    header = [h.strip() for h in first.split(found)]
    if column is not None:
        return found if column in header else None
    return found if _smiles_index(header) is not None else None


def read_molecule_file(path: str | os.PathLike, *, column: str | None = None,
                       strict: bool = False,
                       value_columns: Sequence[str] = ()) -> MoleculeRecords:
    """Read the raw SMILES (not yet checked by RDKit) of a molecule file:
    .smi/.txt/.csv/.tsv (delimiter sniffed) or .sdf, gzipped or not.

    Parameters
    ----------
    path
        The file.
    column
        Header of the SMILES column (CSV/TSV, or a .smi file with a header line).
        Default: picked from :data:`SMILES_HEADERS`, else a header containing
        ``smiles``. Not used by SD files (their molecules are connection tables).
    strict
        Raise :class:`MoleculeFileError` at the first bad line instead of counting it.
    value_columns
        Further columns (of a table, a .smi file's header line, or SD data fields) whose
        raw text is kept per record in :attr:`MoleculeRecords.values`.

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
    >>> _ = path.write_text("id;mol_smiles;split\\n1;CCO;train\\n2;CCN;test\\n")
    >>> rec = read_molecule_file(path)
    >>> rec.smiles, rec.column, rec.splits
    (['CCO', 'CCN'], 'mol_smiles', ['train', 'test'])
    """
    if column is not None and (not isinstance(column, str) or not column):
        raise ChemError(f"column must be a non-empty string, got {column!r}")
    value_columns = tuple(value_columns)
    path = Path(path)
    fmt = _file_format(path)
    if fmt == "sdf":
        return _read_sdf(path, column, strict, value_columns)
    bad: list = []
    lines = list(decoded_lines(read_file_bytes(path, error=MoleculeFileError), bad))
    delimiter = _table_delimiter(lines, fmt, column)
    if delimiter is not None:
        picked, rows, has_split = _records_csv(lines, path, column, delimiter, bad,
                                               value_columns)
    else:
        picked, rows, has_split = _records_smi(lines, column, path, bad, value_columns)
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
        column=picked, format=fmt, delimiter=delimiter,
        splits=[r[3] for r in rows] if has_split else None,
        values={name: [r[4][i] for r in rows] for i, name in enumerate(value_columns)})


def _read_sdf(path: Path, column: str | None, strict: bool,
              value_columns: tuple[str, ...] = ()) -> MoleculeRecords:
    if column is not None:
        raise MoleculeFileError(f"{path}: --column does not apply to an SD file (its "
                                "molecules are read from the connection tables)")
    found = read_sdf_records(path, value_columns)
    if strict and found["invalid"]:
        number, reason = found["invalid"][0]
        raise MoleculeFileError(f"{path}, record {number}: {reason}")
    return MoleculeRecords(
        smiles=found["smiles"], names=found["names"], line_numbers=found["numbers"],
        lines_read=len(found["smiles"]) + len(found["invalid"]), bad_lines=0,
        column=None, format="sdf", splits=found["splits"],
        invalid_records=found["invalid"], values=found["fields"])


@dataclass
class CleanedMolecules:
    """Canonical, unique, valid molecules, in the order they were first met."""

    smiles: list[str]
    names: list[str | None]
    invalid: int
    duplicates: int
    invalid_examples: list[dict] = field(default_factory=list)
    #: The split value of each kept molecule (that of its first occurrence), or None.
    splits: list[str | None] | None = None


def clean_molecules(smiles: Sequence[str], names: Sequence[str | None] | None = None, *,
                    line_numbers: Sequence[int] | None = None,
                    isomeric: bool = True, n_jobs: int = 1,
                    progress=None, splits: Sequence[str | None] | None = None
                    ) -> CleanedMolecules:
    """Canonicalise, drop invalid molecules and duplicates (by canonical SMILES); count both.

    The first occurrence of a molecule is kept, with its name (and its ``splits``
    value, when given). ``n_jobs`` spreads the canonicalisation over processes
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
    tags = list(splits) if splits is not None else [None] * len(smiles)
    if len(tags) != len(smiles):
        raise ChemError(f"{len(tags)} split values for {len(smiles)} molecules")
    seen: set[str] = set()
    kept, kept_names, kept_tags, examples = [], [], [], []
    invalid = duplicates = 0
    keys = canonical_smiles_many([s if s is not None else "" for s in smiles],
                                 isomeric=isomeric, n_jobs=n_jobs, progress=progress)
    for text, name, number, tag, key in zip(smiles, names, numbers, tags, keys, strict=True):
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
        kept_tags.append(tag)
    return CleanedMolecules(kept, kept_names, invalid, duplicates, examples,
                            kept_tags if splits is not None else None)


def load_molecule_set(path: str | os.PathLike, *, column: str | None = None,
                      strict: bool = False, isomeric: bool = True, n_jobs: int = 1,
                      progress=None, standardize: Sequence[str] = ()
                      ) -> tuple[CleanedMolecules, dict]:
    """Read a molecule file, optionally standardise its structures
    (:mod:`.standardize`: ``standardize`` names the steps, e.g. ``("fragment",
    "charge")``), and clean it: the :class:`CleanedMolecules` (with the split
    column's values when the file has one) and the report of :func:`load_molecules`.
    """
    records = read_molecule_file(path, column=column, strict=strict)
    smiles = records.smiles
    counts = None
    if standardize:
        from seqvae.molecules.chem.standardize import standardize_many

        smiles, counts = standardize_many(smiles, tuple(standardize), n_jobs=n_jobs)
    cleaned = clean_molecules(smiles, records.names, line_numbers=records.line_numbers,
                              isomeric=isomeric, n_jobs=n_jobs, progress=progress,
                              splits=records.splits)
    # Unreadable SD records are invalid molecules, reported with the invalid SMILES.
    unreadable = [{"record": n, "reason": r} for n, r in records.invalid_records]
    report = {
        "path": str(path), "format": records.format, "column": records.column,
        "delimiter": records.delimiter,
        "lines_read": records.lines_read, "bad_lines": records.bad_lines,
        "invalid": cleaned.invalid + len(unreadable), "duplicates": cleaned.duplicates,
        "kept": len(cleaned.smiles), "isomeric": bool(isomeric),
        "bad_line_examples": records.bad_line_examples,
        "invalid_examples": (unreadable + cleaned.invalid_examples)[:_EXAMPLES],
        "split_column": records.splits is not None,
    }
    if counts is not None:
        report["standardized"] = {"steps": list(standardize), "changed": counts}
    return cleaned, report


def load_molecules(path: str | os.PathLike, *, column: str | None = None, strict: bool = False,
                   isomeric: bool = True, n_jobs: int = 1, progress=None,
                   standardize: Sequence[str] = ()) -> tuple[list[str], dict]:
    """Read a molecule file and clean it: canonical unique valid SMILES and a report.

    The report (JSON-safe) counts ``lines_read`` (records, for an SD file),
    ``bad_lines``, ``invalid`` molecules (SD records RDKit cannot read among them),
    ``duplicates`` (by canonical SMILES) and molecules ``kept``
    (``kept = lines_read - bad_lines - invalid - duplicates``), and names the
    ``column``, ``delimiter`` and ``format`` used, with a few examples of bad lines
    and invalid molecules. With ``standardize`` steps it also counts the molecules
    each step changed (``standardized``).
    """
    cleaned, report = load_molecule_set(path, column=column, strict=strict, isomeric=isomeric,
                                        n_jobs=n_jobs, progress=progress,
                                        standardize=standardize)
    return cleaned.smiles, report
