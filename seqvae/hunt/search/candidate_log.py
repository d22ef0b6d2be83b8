"""The candidate log: every evaluated automaton of a run, appended to ``DIR/candidate_log/`` in chunks.

Each chunk is one Parquet file ``part-<first>-<last>.parquet`` holding the
evaluations ``first+1 .. last`` (1-based, evaluation order) with the columns
``evaluation``, ``automaton`` (compact form of the canonical table) and
``reset_length`` (-1: not synchronizing). Chunks are written atomically when
the search saves a checkpoint, *before* the checkpoint itself; so after a
crash the log may run ahead of the checkpoint, never behind it, and
:func:`repair_candidate_log` (called on resume) cuts it back to the
checkpoint. The resumed run then appends exactly what an uninterrupted run
would have: no row lost, none twice. ``pandas.read_parquet`` of the folder,
or :func:`read_candidate_log`, gives the whole table.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

__all__ = ["LOG_DIR", "append_candidate_log", "repair_candidate_log", "read_candidate_log",
           "logged_count"]

LOG_DIR = "candidate_log"
_PART = re.compile(r"^part-(\d{10})-(\d{10})\.parquet$")


def _parts(out_dir: str | Path) -> list[tuple[int, int, Path]]:
    folder = Path(out_dir) / LOG_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = _PART.match(path.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2)), path))
    return sorted(found)


def logged_count(out_dir: str | Path) -> int:
    """Number of evaluations the log of ``out_dir`` covers (0 when there is none).

    >>> logged_count("/nonexistent")
    0
    """
    parts = _parts(out_dir)
    return parts[-1][1] if parts else 0


def _write_part(out_dir: Path, tables: np.ndarray, rts: np.ndarray, first: int) -> None:
    import pandas as pd

    from automata.atomic import atomic_path
    from automata.dfa import DFA
    from automata.formats import format_compact

    last = first + len(tables)
    frame = pd.DataFrame({
        "evaluation": np.arange(first + 1, last + 1, dtype=np.int64),
        "automaton": [format_compact(DFA(t)) for t in tables],
        "reset_length": np.asarray(rts, dtype=np.int64),
    })
    folder = out_dir / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"part-{first:010d}-{last:010d}.parquet", within=out_dir) as tmp:
        frame.to_parquet(tmp, index=False)


def append_candidate_log(out_dir: str | Path, tables: np.ndarray, rts: np.ndarray,
                         upto: int) -> int:
    """Append the evaluations the log lacks among the first ``upto`` of ``tables``/``rts``.

    ``tables``/``rts`` are the archive in evaluation order. Returns the
    number of rows written.
    """
    out_dir = Path(out_dir)
    start = logged_count(out_dir)
    if upto <= start:
        return 0
    _write_part(out_dir, tables[start:upto], rts[start:upto], start)
    return upto - start


def repair_candidate_log(out_dir: str | Path, tables: np.ndarray, rts: np.ndarray) -> int:
    """Make the log cover exactly the archive ``tables``/``rts`` (in evaluation order, e.g.
    restored from a checkpoint); returns the number of rows rewritten.

    Parts beyond the archive are removed, a part straddling its end is cut, a part that
    overlaps the one before is replaced, rows missing between parts (a deleted part
    file) are written again from the archive, and rows it lacks at the end are appended.
    """
    out_dir = Path(out_dir)
    size = len(rts)
    covered = rewritten = 0
    for first, last, path in _parts(out_dir):
        if first >= size or first < covered or last <= first:
            path.unlink()  # beyond the archive, overlapping, or empty
            continue
        if first > covered:  # a gap: the rows of a lost part
            _write_part(out_dir, tables[covered:first], rts[covered:first], covered)
            rewritten += first - covered
        if last > size:
            path.unlink()
            _write_part(out_dir, tables[first:size], rts[first:size], first)
            last = size
        covered = last
    if covered < size:
        _write_part(out_dir, tables[covered:size], rts[covered:size], covered)
        rewritten += size - covered
    return rewritten


def read_candidate_log(out_dir: str | Path):
    """The whole log of ``out_dir`` as one pandas DataFrame, in evaluation order."""
    import pandas as pd

    parts = _parts(out_dir)
    if not parts:
        return pd.DataFrame({"evaluation": np.zeros(0, dtype=np.int64), "automaton": [],
                             "reset_length": np.zeros(0, dtype=np.int64)})
    return pd.concat([pd.read_parquet(p) for _, _, p in parts], ignore_index=True)
