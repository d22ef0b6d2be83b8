"""Reading text files of items: bounded, gzip-aware, line by line.

The one reader of strings files (:mod:`seqvae.data`) and molecule files
(:mod:`seqvae.molecules.chem.molfile`): a gzipped file is told by its magic
bytes whatever its name, and no file, compressed or not, is read past
:data:`MAX_DECOMPRESSED_BYTES`.
"""
from __future__ import annotations

import gzip
import os
import stat
import zlib
from pathlib import Path
from typing import Iterator

from seqvae.errors import DataError

__all__ = ["MAX_DECOMPRESSED_BYTES", "read_file_bytes", "decoded_lines"]

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
#: Largest decompressed text file read (bytes): a small .gz must not expand without bound.
MAX_DECOMPRESSED_BYTES = 512 << 20
#: Most lines a file of items may hold: each becomes a Python string (about 60 bytes
#: even when short), so 50 M one-character lines, 100 MB of text, would take gigabytes.
#: MOSES holds 1.9 M molecules, ZINC-250k a quarter million, ChEMBL about 2.4 M.
MAX_LINES = 10_000_000


def read_file_bytes(path: Path, max_bytes: int = MAX_DECOMPRESSED_BYTES, *,
                    error: type[Exception] = DataError, max_lines: int = MAX_LINES) -> bytes:
    """The bytes of a text file, gunzipped when it starts with gzip's magic bytes (whatever
    its name). ``error`` (a :class:`DataError` by default) when it is not a regular file,
    cannot be read, holds more than ``max_bytes`` once decompressed or more than
    ``max_lines`` lines. The one reader of strings and molecule files."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path):
            raise error(f"{path} is not a regular file (a device, a FIFO or a socket)")
        with open(path, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head == _GZIP_MAGIC:
                with gzip.open(handle) as gz:
                    data = gz.read(max_bytes + 1)
            elif os.fstat(handle.fileno()).st_size > max_bytes:
                raise error(f"{path}: holds more than {max_bytes} bytes")
            else:
                # read() with a size would allocate that size up front: the size is known.
                data = handle.read()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a file") from None
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise error(f"{path}: cannot read: {exc}") from None
    if len(data) > max_bytes:
        raise error(f"{path}: decompresses to more than {max_bytes} bytes")
    lines = data.count(b"\n")
    if lines > max_lines:
        raise error(f"{path}: holds {lines:,} lines, more than the {max_lines:,} a file of "
                    "items may hold")
    return data


def decoded_lines(data: bytes, bad: list) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of each non-blank line; undecodable lines go to ``bad``."""
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((number, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
