"""Data-set files: a Parquet table plus a JSON sidecar, and plain string files.

* :func:`save_dataset` / :func:`load_dataset`: a Parquet file plus a JSON
  sidecar named ``<file>.json`` (e.g. ``train.parquet`` → ``train.parquet.json``)
  holding the generator, parameters, seed and package version. Both writes are
  atomic.
* :func:`load_strings` reads strings from a text file (one per line, gzip and a
  byte-order mark handled), a file of a registered reader (.smi/.csv/.tsv: the
  molecules application's), or a column of a Parquet file; lines it
  cannot use (undecodable, malformed, longer than :data:`MAX_STRING_LENGTH`) are
  skipped and counted by :func:`load_strings_report`.
* :func:`encode_items` tokenizes a data set's ``item`` column under a domain.

Building data sets (random automata, strings with provenance) is
:mod:`seqvae.hunt.datasets`.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from automata.atomic import FileTooLargeError, atomic_path, atomic_write_text, read_bytes_limited
from automata.dirlock import DirectoryLock
from seqvae.applications import load_builtin
from seqvae.errors import DataError
from seqvae.jsonable import json_default
from seqvae.textfiles import decoded_lines, read_file_bytes

__all__ = ["DATASET_FORMAT", "MAX_STRING_LENGTH", "save_dataset", "load_dataset", "sidecar_path",
           "load_strings", "load_strings_report", "encode_items", "STRINGS_READERS",
           "register_strings_reader"]

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
    from seqvae import __version__

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
    side = sidecar_path(path)
    # Two writers of one data set would leave one's table beside the other's sidecar.
    with DirectoryLock(path.parent, what=f"data set {path.name}", name=f".{path.name}.lock"):
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        atomic_write_text(side, text + "\n")
    return side


#: Bounds of a Parquet data set, read from its footer before any row is decoded: a few
#: hundred kB of well-compressed rows can expand to gigabytes. MOSES (1.9 M SMILES) is
#: about 100 MB uncompressed.
MAX_PARQUET_ROWS = 20_000_000
MAX_PARQUET_BYTES = 1 << 30


def _decoded_bytes(batch) -> int:
    """Bytes ``batch`` takes once every dictionary-encoded value is spelled out on its row.

    ``batch.nbytes`` counts a dictionary once: 12,000 rows of one 100 kB string read as
    a 100 kB batch and become 1.2 GB of Python strings downstream.

    >>> import pyarrow as pa
    >>> column = pa.DictionaryArray.from_arrays(pa.array([0, 0, 0], pa.int32()), pa.array(["CCCC"]))
    >>> _decoded_bytes(pa.record_batch([column], names=["item"]))
    36
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    total = 0
    for column in batch.columns:
        if not pa.types.is_dictionary(column.type):
            total += column.nbytes
            continue
        values = column.dictionary
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type) \
                or pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
            lengths = pc.binary_length(values).take(column.indices)
            total += int(pc.sum(lengths).as_py() or 0) + 8 * len(column)   # text + offsets
        else:
            total += int(values.nbytes / max(len(values), 1) * len(column))
    return total


def read_parquet_checked(path: Path) -> pd.DataFrame:
    """A Parquet file as a table, after its footer shows it within :data:`MAX_PARQUET_ROWS`
    rows and :data:`MAX_PARQUET_BYTES` uncompressed bytes (and it is a regular file).

    Raises
    ------
    DataError
        Not Parquet, over a bound, or unreadable.
    """
    import pyarrow.parquet as pq

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{path} is not a regular file")
        meta = pq.ParquetFile(path).metadata
        rows = meta.num_rows
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        raise DataError(f"{path}: not a readable Parquet file "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from None
    if rows > MAX_PARQUET_ROWS or size > MAX_PARQUET_BYTES:
        raise DataError(f"{path}: {rows:,} rows and {size:,} bytes uncompressed, over the "
                        f"{MAX_PARQUET_ROWS:,} rows or {MAX_PARQUET_BYTES:,} bytes a data set "
                        "may hold")
    # Dictionary-encoded columns decode to more than the footer counts (one long value
    # repeated on every row): read in small batches and stop at the bound.
    try:
        batches, decoded = [], 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            decoded += _decoded_bytes(batch)
            if decoded > MAX_PARQUET_BYTES:
                raise DataError(f"{path}: decodes to more than {MAX_PARQUET_BYTES:,} bytes "
                                "uncompressed, over the bound a data set may hold")
            batches.append(batch)
        import pyarrow as pa

        table = (pa.Table.from_batches(batches) if batches
                 else pq.ParquetFile(path).schema_arrow.empty_table())
        return table.to_pandas()
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds
        raise DataError(f"{path}: not a readable Parquet file "
                        f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from None


def load_dataset(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a data set written by :func:`save_dataset`: ``(df, meta)``.

    A Parquet file without sidecar loads with ``meta == {}``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    df = read_parquet_checked(path)
    side = sidecar_path(path)
    meta: dict = {}
    if side.exists():
        try:
            meta = json.loads(read_bytes_limited(side, 64 << 20))
        except (UnicodeDecodeError, RecursionError, ValueError, FileTooLargeError) as exc:
            # ValueError: broken JSON, or an integer literal past Python's digit limit
            raise DataError(f"{side}: broken JSON sidecar "
                            f"({' '.join(str(exc).split())[:120]})") from None
        if not isinstance(meta, dict):
            raise DataError(f"{side}: a sidecar holds a JSON object")
    return df, meta


#: Longest string (characters) read for training: a longer line is skipped and counted,
#: since one 20,000-character line would make every batch that holds it pad to that length.
MAX_STRING_LENGTH = 1000


#: Readers of string files by suffix (``.smi``, ``.csv``, ``.tsv``, gzipped or not):
#: ``reader(path, column, report) -> strings``, counting skipped lines in
#: ``report["bad_lines"]``. Applications register theirs (:func:`register_strings_reader`).
STRINGS_READERS: dict[str, Callable[[Path, str | None, dict], list[str]]] = {}


def register_strings_reader(suffix: str, reader: Callable[[Path, str | None, dict], list[str]]
                            ) -> None:
    """Read files ending in ``suffix`` (or ``suffix + ".gz"``) with ``reader``."""
    STRINGS_READERS[suffix.lower()] = reader


def _strings_reader(path: Path):
    """The registered reader of ``path``'s suffix (``.gz`` looked through), or None."""
    name = path.name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    suffix = Path(name).suffix
    if suffix and suffix not in STRINGS_READERS:
        load_builtin("strings_reader", suffix)
    return STRINGS_READERS.get(suffix)


def _text_lines(path: Path, report: dict) -> list[str]:
    """Non-blank lines of a text file, gzipped or not (told by its magic bytes), BOM dropped;
    undecodable lines are counted in ``report["bad_lines"]``."""
    data = read_file_bytes(path)
    bad: list = []
    out = [text.strip() for _, text in decoded_lines(data, bad)]
    report["bad_lines"] += len(bad)
    out = [line for line in out if line]
    if not out and bad:
        raise DataError(f"{path}: not UTF-8 text")
    return out


def load_strings_report(path: str | Path, column: str | None = None, *,
                        max_length: int | None = MAX_STRING_LENGTH) -> tuple[list[str], dict]:
    """Strings from a file and what was skipped: ``(strings, report)``.

    * ``.parquet``: the values of ``column`` (default: the only column, else a
      column named ``item``, ``smiles`` or ``string``);
    * a suffix with a registered reader (:data:`STRINGS_READERS`; ``.smi``, ``.csv``,
      ``.tsv``, gzipped or not, by the molecules application's file reader: a .smi
      line's name is not part of its SMILES; CSV columns as above);
    * anything else: one string per line (gzip detected by its magic bytes, a
      UTF-8 byte-order mark dropped), surrounding whitespace stripped, empty lines
      skipped.

    ``report`` counts ``bad_lines`` (undecodable or malformed, skipped) and
    ``too_long`` (strings over ``max_length`` characters, skipped; None: no limit).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.txt"
    >>> _ = p.write_bytes(b"\\xef\\xbb\\xbfCCO\\n" + b"C" * 2000 + b"\\nc1ccccc1\\n")
    >>> load_strings_report(p)
    (['CCO', 'c1ccccc1'], {'bad_lines': 0, 'too_long': 1})
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    report = {"bad_lines": 0, "too_long": 0}
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        out = _parquet_column(path, column)
    elif (reader := _strings_reader(path)) is not None:
        out = reader(path, column, report)
    else:
        if column is not None:
            raise DataError(f"{path}: a column can be chosen in CSV, TSV, .smi and Parquet files only")
        out = _text_lines(path, report)
    if max_length is not None:
        kept = [s for s in out if len(s) <= max_length]
        report["too_long"] = len(out) - len(kept)
        out = kept
    return out, report


def load_strings(path: str | Path, column: str | None = None, *,
                 max_length: int | None = MAX_STRING_LENGTH) -> list[str]:
    """The strings of :func:`load_strings_report`, without the report.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.txt"
    >>> _ = p.write_text("CCO\\n\\nc1ccccc1\\n")
    >>> load_strings(p)
    ['CCO', 'c1ccccc1']
    """
    return load_strings_report(path, column, max_length=max_length)[0]


def _parquet_column(path: Path, column: str | None) -> list[str]:
    df = read_parquet_checked(path)
    if column is None:
        if len(df.columns) == 1:
            column = str(df.columns[0])
        else:
            lower = {str(c).lower(): str(c) for c in df.columns}
            column = next((lower[c] for c in ("item", "smiles", "string") if c in lower), None)
            if column is None:
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
