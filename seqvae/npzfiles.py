"""Checking an ``.npz`` archive's headers before any array is decompressed.

An ``.npz`` is a zip of ``.npy`` members. A few kilobytes can declare an 80 GB
array, or hold gigabytes of zeros that compress a thousandfold: ``np.load`` would
allocate or inflate them before any check of the values could run. So the zip
directory (each member's declared size) and each ``.npy`` header (its shape and
dtype) are read first, and the file is refused when it promises more than its
reader allows or holds Python objects. Used by the fitted latent prior and the
search checkpoint.
"""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["MAX_COMPRESSION_RATIO", "RATIO_FREE_BYTES", "check_npz"]


#: The most a member over :data:`RATIO_FREE_BYTES` may inflate its stored bytes. Arrays
#: written by this package compress a few times at most (random automata tables, floats);
#: a thousandfold is a zip bomb, refused before it is inflated.
MAX_COMPRESSION_RATIO = 100
#: Members up to this size may compress any amount (tiny arrays of zeros are honest).
RATIO_FREE_BYTES = 1 << 20


def check_npz(path: str | os.PathLike, max_bytes: int, error: type[Exception],
              what: str = "readable .npz archive") -> None:
    """Raise ``error`` (one line naming ``path``) unless ``path`` is a regular file holding
    an ``.npz`` whose members declare at most ``max_bytes`` in all, each an object-free
    array no larger than its member, and none over :data:`RATIO_FREE_BYTES` inflating
    more than :data:`MAX_COMPRESSION_RATIO` times; ``what`` names the file in the message
    ("not a WHAT").

    >>> import io, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> np.savez(p, x=np.zeros(10))
    >>> check_npz(p, 1 << 20, ValueError)
    >>> check_npz(p, 100, ValueError)
    Traceback (most recent call last):
    ...
    ValueError: ... declares 208 bytes of content, more than the 100 it may hold
    """
    path = Path(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{path} is not a regular file")
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = sum(info.file_size for info in members)
            if total > max_bytes:
                raise error(f"{path}: declares {total} bytes of content, more than the "
                            f"{max_bytes} it may hold")
            for info in members:
                if info.file_size > RATIO_FREE_BYTES and \
                        info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                    raise error(f"{path}: {info.filename} inflates {info.compress_size} bytes "
                                f"to {info.file_size}, more than {MAX_COMPRESSION_RATIO} times "
                                "(a zip bomb?)")
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
                if dtype.hasobject:
                    raise error(f"{path}: not a {what}: {info.filename} holds Python objects")
                need = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if need > info.file_size:
                    raise error(f"{path}: {info.filename} declares a {need}-byte array in "
                                f"{info.file_size} bytes")
    except error:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile and numpy's header parser raise many kinds
        raise error(f"{path}: not a {what} ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:120]})") from None
