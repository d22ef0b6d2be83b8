"""Molecule files as string files: the engine reads .smi, .csv and .tsv files (gzipped or
not) through the one molecule-file reader (:func:`seqvae.molecules.chem.molfile.read_molecule_file`).
"""
from __future__ import annotations

import csv
from pathlib import Path

from seqvae.data import register_strings_reader
from seqvae.errors import DataError
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.molfile import read_molecule_file

__all__ = ["molecule_lines"]


def molecule_lines(path: Path, column: str | None, report: dict) -> list[str]:
    """The SMILES field of a .smi/.csv/.tsv file (names are not part of it), through the
    one molecule-file reader; bad lines are counted."""
    tries = [column] if column is not None else [None, "item", "string"]
    first_error = None
    for name in tries:
        try:
            records = read_molecule_file(path, column=name)
        except ChemError as exc:
            first_error = first_error or exc
            continue
        except csv.Error as exc:  # the header line itself is malformed CSV
            raise DataError(f"{path}: malformed CSV header ({exc})") from None
        report["bad_lines"] += records.bad_lines
        return records.smiles
    message = str(first_error)
    if "cannot tell which column" in message:
        # No option name here: not every command that reads strings has one.
        columns = message.rsplit(" among ", 1)[-1].split(";", 1)[0]
        message = (f"{path}: several columns {columns} and none clearly holds the strings; "
                   "keep only the column to read, or name it where the command allows")
    raise DataError(message) from None


for _suffix in (".smi", ".csv", ".tsv"):
    register_strings_reader(_suffix, molecule_lines)
