"""Data-set files: a Parquet table plus a JSON sidecar, and plain string files.

* :func:`save_dataset` / :func:`load_dataset`: a Parquet file plus a JSON
  sidecar named ``<file>.json`` (e.g. ``train.parquet`` → ``train.parquet.json``)
  holding the generator, parameters, seed and package version. Both writes are
  atomic.
* :func:`load_strings` reads strings from a text file (one per line), or from
  a column of a CSV or Parquet file.
* :func:`encode_items` tokenizes a data set's ``item`` column under a domain.

Building data sets (random automata, strings with provenance) is
:mod:`seqvae.datasets`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from automata.atomic import atomic_path, atomic_write_text

from .errors import DataError
from .jsonable import json_default

__all__ = ["DATASET_FORMAT", "save_dataset", "load_dataset", "sidecar_path", "load_strings",
           "encode_items"]

#: Written into every sidecar so that readers can recognise the layout.
DATASET_FORMAT = "seqvae-dataset/1"


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar of a data file: ``data.parquet`` → ``data.parquet.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def save_dataset(df: pd.DataFrame, path: str | Path, meta: dict | None = None) -> Path:
    """Write ``df`` as Parquet and ``meta`` (plus format, version, rows, columns) beside it.

    Both files are written atomically; the sidecar is ``<path>.json``.
    Returns the sidecar path.
    """
    from . import __version__

    path = Path(path)
    info = dict(meta or {})
    info.setdefault("format", DATASET_FORMAT)
    info.setdefault("seqvae_version", __version__)
    info["n_rows"] = int(len(df))
    info["columns"] = [str(c) for c in df.columns]
    try:
        text = json.dumps(info, indent=2, sort_keys=True, default=json_default)
    except TypeError as exc:
        raise DataError(f"metadata is not JSON-serializable: {exc}") from None
    frame = df.copy()
    frame.attrs = {}  # pyarrow would store attrs in the schema; the sidecar holds metadata
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    side = sidecar_path(path)
    atomic_write_text(side, text + "\n")
    return side


def load_dataset(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a data set written by :func:`save_dataset`: ``(df, meta)``.

    A Parquet file without sidecar loads with ``meta == {}``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        raise DataError(f"{path}: not a readable Parquet file "
                        f"({type(exc).__name__}: {exc})") from None
    side = sidecar_path(path)
    meta: dict = {}
    if side.exists():
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{side}: broken JSON sidecar ({exc})") from None
    return df, meta


def load_strings(path: str | Path, column: str | None = None) -> list[str]:
    """Strings from a file.

    * ``.parquet`` / ``.csv`` / ``.tsv``: the values of ``column`` (default: the
      only column, else a column named ``item``, ``smiles`` or ``string``);
    * anything else: one string per line, line ends and surrounding whitespace
      stripped, empty lines skipped.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.txt"
    >>> _ = p.write_text("CCO\\n\\nc1ccccc1\\n")
    >>> load_strings(p)
    ['CCO', 'c1ccccc1']
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq", ".csv", ".tsv"):
        try:
            if suffix in (".parquet", ".pq"):
                df = pd.read_parquet(path)
            else:
                df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str,
                                 keep_default_na=False)
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
        if column is None:
            if len(df.columns) == 1:
                column = str(df.columns[0])
            else:
                lower = {str(c).lower(): str(c) for c in df.columns}
                column = next((lower[c] for c in ("item", "smiles", "string") if c in lower), None)
                if column is None:
                    # No option name here: not every command that reads strings has one.
                    raise DataError(f"{path}: several columns ({', '.join(map(str, df.columns))})"
                                    " and none called item, smiles or string; keep only the "
                                    "column to read, or name it where the command allows")
        if column not in df.columns:
            raise DataError(f"{path}: no column {column!r} (columns: "
                            f"{', '.join(map(str, df.columns))})")
        values = df[column]
        if values.isna().any():
            raise DataError(f"{path}: column {column!r} has missing values")
        out = [str(v).strip() for v in values]
        return [s for s in out if s]
    if column is not None:
        raise DataError(f"{path}: a column can be chosen in CSV, TSV and Parquet files only")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def encode_items(domain, texts: Iterable[str],
                 progress: Callable[[int], None] | None = None) -> list[list[int]]:
    """Token ids of data-set texts (the ``item`` column) under ``domain``."""
    out = []
    for i, text in enumerate(texts, start=1):
        out.append(domain.encode_text(text))
        if progress is not None and i % 1000 == 0:
            progress(1000)
    if progress is not None and len(out) % 1000:
        progress(len(out) % 1000)
    return out
