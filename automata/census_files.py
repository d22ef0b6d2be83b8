"""A pruned census's directory: the manifest, one file per finished chunk, verified on reuse.

``census.json`` names the parameters (``n_states``, ``n_letters``, ``min_rt``, the
number of chunks); ``chunks/chunk_NNNNNN.json`` holds one finished chunk with a
SHA-256 of its body, written atomically. The checksum only catches accidents
(a torn or edited file): a file edited *and* re-summed passes it. So a chunk is
data, never trusted: before a resumed census reuses it, every entry must be the
canonical form of an automaton of the census's size, one of whose letters of
smallest rank is conjugate to the chunk's map class, with a reset length that
the exact solver (:func:`automata.sync.reset_lengths`) confirms and that is at
least the threshold. The lists are short (a few hundred classes per census), so
re-solving them costs little next to the search. Every file is read within a
size bound and only if it is a regular file (a FIFO or a device never blocks or
floods the reader).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from automata.atomic import atomic_write_text, read_bytes_limited
from automata.canon import canonical_tables
from automata.errors import AutomatonError, FormatError
from automata.formats import format_compact, parse_compact

__all__ = ["PrunedChunk", "manifest", "chunk_path", "save_chunk", "load_chunk", "prepare_dir",
           "read_json_file", "verify_chunk", "claim_manifest", "MAX_CENSUS_FILE_BYTES"]

_FORMAT_VERSION = 1
#: Largest census file read (bytes): a chunk of the slowest classes of n = 10 is a few kB.
MAX_CENSUS_FILE_BYTES = 64 << 20


@dataclass
class PrunedChunk:
    """Result of one chunk: the classes found with letter ``a`` = ``rep``.

    ``automata`` maps the compact canonical form to the exact reset length.
    ``nodes`` counts the search nodes (partial tables) visited. ``seconds`` is the
    chunk's elapsed time, ``cpu_seconds`` the processor time it used (the two part
    when other work shares the cores; a chunk file written before ``cpu_seconds``
    was kept reads its elapsed time there, an upper bound).
    """

    index: int
    rep: list[int]
    automata: dict[str, int]
    nodes: int = 0
    cuts: int = 0
    leaves: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_json_obj(self) -> dict:
        """JSON-ready dict (the body of a chunk file)."""
        return {"index": self.index, "rep": self.rep, "automata": dict(sorted(self.automata.items())),
                "nodes": self.nodes, "cuts": self.cuts, "leaves": self.leaves,
                "seconds": self.seconds, "cpu_seconds": self.cpu_seconds}

    @classmethod
    def from_json_obj(cls, obj: dict) -> "PrunedChunk":
        """Inverse of :meth:`to_json_obj`."""
        return cls(index=int(obj["index"]), rep=[int(v) for v in obj["rep"]],
                   automata={str(key): int(rt) for key, rt in obj["automata"].items()},
                   nodes=int(obj["nodes"]), cuts=int(obj["cuts"]), leaves=int(obj["leaves"]),
                   seconds=float(obj["seconds"]),
                   cpu_seconds=float(obj.get("cpu_seconds", obj["seconds"])))


def read_json_file(path: Path, limit: int = MAX_CENSUS_FILE_BYTES):
    """The JSON value of a regular file of at most ``limit`` bytes.

    Raises
    ------
    AutomatonError
        Not a regular file, too large, unreadable, or not JSON (nesting too deep included).
    """
    try:
        return json.loads(read_bytes_limited(path, limit))
    except AutomatonError:
        raise
    except (OSError, ValueError, RecursionError) as exc:
        raise AutomatonError(f"{path} is unreadable: {type(exc).__name__}: {str(exc)[:200]}") from None


def _digest(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def manifest(n: int, k: int, min_rt: int) -> dict:
    """What ``census.json`` records: the parameters and the number of chunks."""
    from automata.census_maps import map_classes

    return {"version": _FORMAT_VERSION, "n_states": n, "n_letters": k, "min_rt": min_rt,
            "chunks": len(map_classes(n))}


def chunk_path(out_dir: Path, index: int) -> Path:
    """Where chunk ``index`` is kept."""
    return out_dir / "chunks" / f"chunk_{index:06d}.json"


def save_chunk(out_dir: Path, chunk: PrunedChunk) -> None:
    """Write a finished chunk atomically, with the SHA-256 of its body."""
    body = chunk.to_json_obj()
    atomic_write_text(chunk_path(out_dir, chunk.index),
                      json.dumps({"chunk": body, "sha256": _digest(body)}), within=out_dir)


def verify_chunk(chunk: PrunedChunk, n: int, k: int, min_rt: int) -> str | None:
    """Why ``chunk`` cannot be a result of the census ``(n, k, min_rt)``, or None.

    >>> verify_chunk(PrunedChunk(2, [0, 1, 1], {"a:010 b:120": 4}), 3, 2, 4) is None
    True
    >>> print(verify_chunk(PrunedChunk(2, [0, 1, 1], {"a:010 b:120": 9}), 3, 2, 4))
    a:010 b:120: the exact reset length is 4, the file says 9
    """
    from automata.census_maps import map_classes
    from automata.sync import reset_lengths

    if not 0 <= chunk.index < len(map_classes(n)) or \
            chunk.rep != map_classes(n)[chunk.index].tolist():
        return f"letter a {chunk.rep} is not map class {chunk.index} of {n} states"
    if not chunk.automata:
        return None
    try:
        dfas = {key: parse_compact(key) for key in chunk.automata}
    except (AutomatonError, FormatError) as exc:
        return f"an entry is not an automaton ({str(exc)[:120]})"
    for key, dfa in dfas.items():
        if (dfa.n_states, dfa.n_letters) != (n, k):
            return f"{key[:80]}: {dfa.n_states} states and {dfa.n_letters} letters, not {n} and {k}"
        if key != format_compact(dfa):
            # another spelling (spaces, a letter order) of an automaton would count it twice
            return f"{key[:80]}: not written as the census writes it ({format_compact(dfa)})"
    keys = list(dfas)
    tables = np.stack([np.asarray(dfas[key].delta, dtype=np.int64) for key in keys])
    canon = canonical_tables(tables)
    rep = np.asarray(chunk.rep, dtype=np.int64)
    for key, table, form in zip(keys, tables, canon):
        if not np.array_equal(form, table):
            return f"{key[:80]}: not in canonical form"
        ranks = [len(set(letter.tolist())) for letter in table]
        smallest = [letter for letter, r in zip(table, ranks) if r == min(ranks)]
        classes = canonical_tables(np.stack(smallest)[:, None, :])[:, 0, :]
        if not any(np.array_equal(c, rep) for c in classes):
            return f"{key[:80]}: no letter of smallest rank is conjugate to letter a {chunk.rep}"
    exact = reset_lengths(tables)
    for key, rt in zip(keys, exact.tolist()):
        stored = chunk.automata[key]
        if rt < 0:
            return f"{key[:80]}: not synchronizing (the file says {stored})"
        if rt != stored:
            return f"{key[:80]}: the exact reset length is {rt}, the file says {stored}"
        if rt < min_rt:
            return f"{key[:80]}: reset length {rt} is below the threshold {min_rt}"
    return None


def load_chunk(path: Path, index: int, rep: list[int], n: int, k: int, min_rt: int
               ) -> tuple[PrunedChunk | None, str]:
    """A saved chunk that passes its checksum and :func:`verify_chunk`, or ``(None, why)``."""
    try:
        obj = read_json_file(path)
        body = obj["chunk"]
        if obj["sha256"] != _digest(body):
            return None, "checksum mismatch (damaged or edited)"
        chunk = PrunedChunk.from_json_obj(body)
    except AutomatonError as exc:
        return None, str(exc)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OverflowError) as exc:
        # OverflowError: int() of an infinite number (1e999 in the JSON)
        return None, f"malformed ({type(exc).__name__})"
    if chunk.index != index or chunk.rep != rep:
        return None, f"belongs to chunk {chunk.index}, not {index}"
    reason = verify_chunk(chunk, n, k, min_rt)
    return (chunk, "") if reason is None else (None, reason)


def claim_manifest(path: Path, params: dict, resume: bool, what: str,
                   error: type[Exception] = AutomatonError) -> None:
    """Write the manifest ``path`` of a resumable job (a census, an estimate, a hunt), or, when
    it is there, check it: refused unless ``resume`` and the same ``params``. ``what`` names
    the job in the message ("a census")."""
    if path.exists():
        old = read_json_file(path, 1 << 20)
        if not resume:
            raise error(f"{path.parent} already holds {what}: resume it (--resume) or choose "
                        "another directory")
        if old != params:
            raise error(f"{path.parent} holds {what} of other parameters: {str(old)[:200]}")
        return
    atomic_write_text(path, json.dumps(params), within=path.parent)


def prepare_dir(out_dir: Path, expected: dict, resume: bool) -> None:
    """Check (resume) or write (new census) ``census.json``; refuse a directory of another
    census, or one that holds chunks without a manifest."""
    path = out_dir / "census.json"
    if not path.exists() and (out_dir / "chunks").exists() and any((out_dir / "chunks").iterdir()):
        raise AutomatonError(f"{out_dir}/chunks holds files but no census.json")
    claim_manifest(path, expected, resume, "a census")
