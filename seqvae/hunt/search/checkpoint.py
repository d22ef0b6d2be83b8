"""Checkpoints of a search: the whole state in one ``.npz``, written atomically.

The archive's tables and reset lengths and the method's arrays go in as arrays;
the rest (counters, the random generator's state, the method's scalars) as one
JSON document inside the same file, with a SHA-256 of the arrays. Written at step
boundaries, so that a resumed run ends exactly where an uninterrupted one with
the same seed would; read back without pickles and within a size limit, so that
a crafted file cannot run code or exhaust memory.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from automata.atomic import atomic_write_bytes
from seqvae.errors import SearchError
from seqvae.npzfiles import check_npz

__all__ = ["CHECKPOINT_NAME", "CHECKPOINT_VERSION", "MAX_CHECKPOINT_BYTES", "Snapshot",
           "save_checkpoint", "load_checkpoint"]

CHECKPOINT_NAME = "checkpoint.npz"
CHECKPOINT_VERSION = 1


def _split_state(state: dict, prefix: str, arrays: dict) -> dict:
    """Move numpy arrays out of a (nested) state dict into ``arrays``; return the JSON part."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, np.ndarray):
            arrays[name] = value
            out[key] = {"__array__": name}
        elif isinstance(value, dict):
            out[key] = _split_state(value, name + ".", arrays)
        elif isinstance(value, (bytes, bytearray)):
            arrays[name] = np.frombuffer(bytes(value), dtype=np.uint8)
            out[key] = {"__bytes__": name}
        else:
            out[key] = value
    return out


def _join_state(doc: dict, arrays) -> dict:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict) and "__array__" in value:
            out[key] = np.array(arrays[value["__array__"]])
        elif isinstance(value, dict) and "__bytes__" in value:
            out[key] = np.array(arrays[value["__bytes__"]]).tobytes()
        elif isinstance(value, dict):
            out[key] = _join_state(value, arrays)
        else:
            out[key] = value
    return out


@dataclass
class Snapshot:
    """The state at a step boundary: enough to continue exactly from there."""

    archive_size: int
    counters: dict
    rng_state: dict
    method_state: dict
    steps: int
    elapsed: float
    meta: dict = field(default_factory=dict)


#: Largest checkpoint content read back (bytes, uncompressed): checked in the zip
#: directory and in every array header before anything is decompressed, so a small
#: crafted file (a zip bomb) cannot make ``--resume`` allocate gigabytes.
MAX_CHECKPOINT_BYTES = 2 << 30


def _arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the arrays' names, dtypes, shapes and bytes (in name order)."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def save_checkpoint(path: str | Path, ctx, snap: Snapshot) -> None:
    """Write the search state atomically; the JSON part carries a SHA-256 of the arrays.

    ``ctx`` is the :class:`~seqvae.hunt.search.core.SearchContext` whose archive is saved
    (its first ``snap.archive_size`` rows).
    """
    arrays: dict[str, np.ndarray] = {
        "archive_tables": np.array(ctx.archive.tables[: snap.archive_size]),
        "archive_rts": np.array(ctx.archive.rts[: snap.archive_size]),
    }
    doc = {
        "version": CHECKPOINT_VERSION,
        "archive_size": snap.archive_size,
        "counters": snap.counters,
        "rng_state": snap.rng_state,
        "steps": snap.steps,
        "elapsed": snap.elapsed,
        "meta": snap.meta,
        "method_state": _split_state(snap.method_state, "m.", arrays),
    }
    doc["sha256"] = _arrays_digest(arrays)
    arrays["__doc__"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    # The candidate log is written first: it may run ahead of the checkpoint, never behind.
    from seqvae.hunt.search.candidate_log import append_candidate_log

    append_candidate_log(Path(path).parent, arrays["archive_tables"], arrays["archive_rts"],
                         snap.archive_size)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    try:
        atomic_write_bytes(path, buffer.getvalue(), within=Path(path).parent)
    except OSError as exc:
        raise SearchError(f"cannot save the search checkpoint {path}: "
                          f"{exc.strerror or exc}") from None


def _check_sizes(path: Path) -> None:
    """SearchError unless every member of the archive declares a size within
    :data:`MAX_CHECKPOINT_BYTES` and holds an array no larger than it declares."""
    check_npz(path, MAX_CHECKPOINT_BYTES, SearchError, "readable search checkpoint")


def load_checkpoint(path: str | Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """Returns ``(doc, archive_tables, archive_rts)`` with the method state re-joined.

    Raises
    ------
    SearchError
        When the file is not a readable search checkpoint of this version, asks for
        more memory than :data:`MAX_CHECKPOINT_BYTES`, or fails its SHA-256.
    """
    import zipfile
    import zlib

    path = Path(path)
    try:
        _check_sizes(path)
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}   # each read once, no copy
        doc = json.loads(bytes(arrays.pop("__doc__")).decode())
        if not isinstance(doc, dict):
            raise SearchError(f"{path}: not a search checkpoint")
        if doc.get("version") != CHECKPOINT_VERSION:
            raise SearchError(f"{path}: unsupported checkpoint version "
                              f"{str(doc.get('version'))[:40]}")
        if "sha256" in doc and doc["sha256"] != _arrays_digest(arrays):
            raise SearchError(f"{path} is corrupt or was changed: its arrays do not match "
                              "the SHA-256 recorded in it")
        tables = np.asarray(arrays["archive_tables"])
        rts = np.asarray(arrays["archive_rts"])
        doc["method_state"] = _join_state(doc["method_state"], arrays)
    except SearchError:
        raise
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            zipfile.BadZipFile, zipfile.LargeZipFile, RecursionError, OverflowError,
            zlib.error, NotImplementedError, RuntimeError) as exc:
        # zipfile: NotImplementedError for an unsupported method or version,
        # RuntimeError for a member marked as encrypted
        raise SearchError(f"{path}: not a readable search checkpoint "
                          f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None
    return doc, tables, rts
