"""Data sets: build, save, load, and feed them to torch.

* :func:`build_automata_dataset` draws random synchronizing automata in bulk,
  canonicalises them, removes isomorphic duplicates and records the exact
  reset length of each, optionally enriched toward long reset words.
* :func:`save_dataset` / :func:`load_dataset`: a Parquet file plus a JSON
  sidecar named ``<file>.json`` (e.g. ``train.parquet`` → ``train.parquet.json``)
  holding the generator, parameters, seed and package version. Both writes are
  atomic.
* :func:`load_strings` reads strings from a text file (one per line), or from
  a column of a CSV or Parquet file.
* :class:`SequenceDataset`, :func:`collate`, :class:`BucketBatchSampler` and
  :func:`split_indices` feed token sequences to a torch ``DataLoader``.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset, Sampler

from automata.atomic import atomic_path, atomic_write_text
from automata.dfa import DFA
from seqvae.jsonable import json_default

from automata.generate import strongly_connected_tables
from .errors import DataError

__all__ = [
    "DataError", "DATASET_FORMAT", "ENRICH_HELP",
    "build_automata_dataset", "parse_enrich", "save_dataset", "load_dataset", "sidecar_path",
    "load_strings", "strings_dataset", "encode_items",
    "SequenceDataset", "collate", "BucketBatchSampler", "split_indices",
]

#: Written into every sidecar so that readers can recognise the layout.
DATASET_FORMAT = "seqvae-dataset/1"


# ---------------------------------------------------------------------------
# enrichment
# ---------------------------------------------------------------------------
ENRICH_HELP = (
    "Enrichment toward long reset words (repeatable). "
    "'quantile:Q' draws a pool of count/(1-Q) distinct automata per size and keeps "
    "its top (1-Q) share by reset length (0 <= Q < 1, e.g. quantile:0.9). "
    "'mutate:R' replaces a share R (0 < R <= 1) of the set by local-search offspring: "
    "one transition of a long-reset parent is redirected at random and the child is "
    "kept when it is synchronizing, new up to isomorphism, and its reset length is "
    "longer than its parent's; kept children become parents (hill climbing). Both may "
    "be combined."
)


def parse_enrich(spec: str | Iterable[str] | None) -> dict:
    """Parse enrichment specs into ``{"quantile": Q, "mutate": R}`` (missing keys unused).

    >>> parse_enrich(["quantile:0.9", "mutate:0.25"])
    {'quantile': 0.9, 'mutate': 0.25}
    >>> parse_enrich(None)
    {}
    """
    if spec is None:
        return {}
    specs = [spec] if isinstance(spec, str) else list(spec)
    out: dict = {}
    for item in specs:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition(":")
            name = name.strip().lower()
            if not sep or name not in ("quantile", "mutate"):
                raise DataError(f"bad enrichment {part!r}: expected 'quantile:Q' or 'mutate:R'")
            try:
                x = float(value)
            except ValueError:
                raise DataError(f"bad enrichment {part!r}: {value!r} is not a number") from None
            if name == "quantile" and not 0.0 <= x < 1.0:
                raise DataError(f"bad enrichment {part!r}: Q must be in [0, 1)")
            if name == "mutate" and not 0.0 < x <= 1.0:
                raise DataError(f"bad enrichment {part!r}: R must be in (0, 1]")
            if name in out:
                raise DataError(f"enrichment {name!r} given twice")
            out[name] = x
    return out


# ---------------------------------------------------------------------------
# building automata data sets
# ---------------------------------------------------------------------------
class _Pool:
    """Distinct canonical synchronizing automata of one shape, with their reset lengths."""

    def __init__(self, n_states: int, n_letters: int):
        self.n_states, self.n_letters = n_states, n_letters
        self.seen: set[bytes] = set()  # canonical tables already examined (any rt)
        self.tables: list[np.ndarray] = []
        self.rts: list[np.ndarray] = []
        self.sources: list[np.ndarray] = []
        self.size = 0

    def add(self, tables: np.ndarray, source: int) -> tuple[np.ndarray, np.ndarray]:
        """Canonicalise ``tables``, drop duplicates and non-synchronizing ones, store the rest.

        Returns the stored new tables and their reset lengths.
        """
        from automata.canon import canonical_tables
        from automata.sync import reset_lengths

        if len(tables) == 0:
            return tables, np.zeros(0, dtype=np.int64)
        canon = np.ascontiguousarray(canonical_tables(np.ascontiguousarray(tables, dtype=np.int32)),
                                     dtype=np.int32)
        flat = canon.reshape(len(canon), -1)
        # first occurrence of each distinct row inside the batch, in batch order
        _, first = np.unique(flat, axis=0, return_index=True)
        first.sort()
        keep = []
        for i in first:
            key = flat[i].tobytes()
            if key not in self.seen:
                self.seen.add(key)
                keep.append(i)
        new = canon[np.asarray(keep, dtype=np.int64)]
        rts = np.asarray(reset_lengths(new), dtype=np.int64) if len(new) else np.zeros(0, np.int64)
        sync = rts >= 0
        new, rts = new[sync], rts[sync]
        if len(new):
            self.tables.append(new)
            self.rts.append(rts)
            self.sources.append(np.full(len(new), source, dtype=np.int8))
            self.size += len(new)
        return new, rts

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.tables:
            return (np.zeros((0, self.n_letters, self.n_states), np.int32),
                    np.zeros(0, np.int64), np.zeros(0, np.int8))
        return (np.concatenate(self.tables), np.concatenate(self.rts),
                np.concatenate(self.sources))


_RANDOM, _MUTATE = 0, 1
_SOURCE_NAMES = {_RANDOM: "random", _MUTATE: "mutate"}
# Stop drawing when this many batches in a row bring nothing new: the shape has
# (almost) no more distinct synchronizing automata to offer.
_STALL_ROUNDS = 4


def _fill_random(pool: _Pool, target: int, rng: np.random.Generator,
                 progress: Callable[[int], None] | None, max_batch: int) -> None:
    """Draw uniform random automata until the pool holds ``target`` of them (or stalls)."""
    from automata.generate import random_tables

    stalls = 0
    rate = 0.5  # running estimate of new-and-synchronizing per draw
    while pool.size < target and stalls < _STALL_ROUNDS:
        need = target - pool.size
        batch = int(min(max_batch, max(256, math.ceil(1.2 * need / max(rate, 1e-3)))))
        before = pool.size
        pool.add(random_tables(batch, pool.n_states, pool.n_letters, rng), _RANDOM)
        gained = pool.size - before
        rate = 0.5 * rate + 0.5 * gained / batch
        stalls = stalls + 1 if gained == 0 else 0
        if progress is not None and gained:
            progress(min(gained, max(0, target - before)))


def _mutate_offspring(pool: _Pool, wanted: int, rng: np.random.Generator,
                      max_batch: int, max_rounds: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Local search toward long reset words; returns up to ``wanted`` new automata.

    Parents are drawn from the longest-reset quarter of (pool + offspring so
    far); a child redirects one random transition of its parent and is kept if
    it is synchronizing, new up to isomorphism and strictly slower to
    synchronize than its parent. Kept children become parents, so rounds of
    about ``wanted`` children climb step by step.
    """
    tables, rts, _ = pool.arrays()
    if len(tables) == 0 or wanted <= 0:
        return tables[:0], rts[:0]
    par_tables, par_rts = tables, rts
    got_t: list[np.ndarray] = []
    got_r: list[np.ndarray] = []
    total, stalls = 0, 0
    n, k = pool.n_states, pool.n_letters
    for _ in range(max_rounds):
        if total >= wanted or stalls >= 3 * _STALL_ROUNDS:
            break
        order = np.argsort(-par_rts, kind="stable")
        elite = order[:max(1, len(order) // 4)]
        batch = int(min(max_batch, max(256, wanted - total)))
        pick = elite[rng.integers(0, len(elite), size=batch)]
        children = par_tables[pick].copy()
        letters = rng.integers(0, k, size=batch)
        states = rng.integers(0, n, size=batch)
        targets = rng.integers(0, n, size=batch)
        children[np.arange(batch), letters, states] = targets
        parent_rt = par_rts[pick]
        new_t, new_r = _add_children(pool, children, parent_rt)
        if len(new_t):
            got_t.append(new_t)
            got_r.append(new_r)
            total += len(new_t)
            par_tables = np.concatenate([par_tables, new_t])
            par_rts = np.concatenate([par_rts, new_r])
            stalls = 0
        else:
            stalls += 1
    if not got_t:
        return tables[:0], rts[:0]
    out_t, out_r = np.concatenate(got_t), np.concatenate(got_r)
    return out_t[:wanted], out_r[:wanted]


def _add_children(pool: _Pool, children: np.ndarray, parent_rt: np.ndarray):
    """Keep the children that are new, synchronizing and slower than their parent."""
    from automata.canon import canonical_tables
    from automata.sync import reset_lengths

    canon = np.ascontiguousarray(canonical_tables(children), dtype=np.int32)
    rts = np.asarray(reset_lengths(canon), dtype=np.int64)
    good = (rts >= 0) & (rts > parent_rt)
    idx = np.flatnonzero(good)
    keep = []
    flat = canon.reshape(len(canon), -1)
    for i in idx:
        key = flat[i].tobytes()
        if key not in pool.seen:
            pool.seen.add(key)
            keep.append(i)
    keep_arr = np.asarray(keep, dtype=np.int64)
    return canon[keep_arr], rts[keep_arr]


def build_automata_dataset(n_states: int | tuple[int, int], n_letters: int, count: int,
                           seed: int | np.random.Generator | None = 0,
                           enrich: str | Iterable[str] | dict | None = None,
                           progress: Callable[[int], None] | None = None,
                           *, max_batch: int = 200_000) -> pd.DataFrame:
    """Random synchronizing automata, distinct up to isomorphism, with exact reset lengths.

    Parameters
    ----------
    n_states : int or (lo, hi)
        One size, or every size ``lo..hi`` inclusive (``count`` split evenly;
        what a small size cannot supply goes to the larger ones).
    n_letters : int
    count : int
        Number of rows wanted. Small shapes may have fewer distinct
        synchronizing automata: then all that were found are returned
        (``df.attrs["shortfall"]`` says how many are missing).
    seed : int or numpy Generator
    enrich : see :data:`ENRICH_HELP` (``"quantile:0.9"``, ``["mutate:0.5"]``,
        or the dict from :func:`parse_enrich`).
    progress : callable, optional
        Called with the number of new rows as the set grows.

    Returns
    -------
    DataFrame with columns ``item`` (canonical compact string), ``n_states``,
    ``n_letters``, ``reset_length``, ``strongly_connected``, ``cerny_ratio``,
    ``source`` ("random" or "mutate"); rows shuffled with the seed.
    No two rows are isomorphic; every row is synchronizing.

    Examples
    --------
    >>> df = build_automata_dataset(5, 2, 50, seed=1)
    >>> len(df), int(df["n_states"].iloc[0]), bool((df["reset_length"] >= 0).all())
    (50, 5, True)
    """
    from automata.formats import format_compact
    from automata.generate import as_rng

    if isinstance(n_states, (tuple, list)):
        if len(n_states) != 2:
            raise DataError("n_states range must be (lo, hi)")
        lo, hi = int(n_states[0]), int(n_states[1])
    else:
        lo = hi = int(n_states)
    if lo < 1 or hi < lo:
        raise DataError(f"bad n_states range {lo}..{hi}")
    if hi > 64:
        raise DataError("n_states above 64 is not supported by the batch reset-length kernel")
    if int(n_letters) < 1:
        raise DataError("n_letters must be at least 1")
    if int(count) < 1:
        raise DataError("count must be at least 1")
    n_letters, count = int(n_letters), int(count)
    opts = enrich if isinstance(enrich, dict) else parse_enrich(enrich)
    q = float(opts.get("quantile", 0.0))
    r = float(opts.get("mutate", 0.0))
    rng = as_rng(seed)

    sizes = list(range(lo, hi + 1))
    parts = []
    remaining = count
    for pos, n in enumerate(sizes):
        # an even share of what is still missing: rows a small shape cannot
        # supply (too few distinct automata) move on to the larger ones
        want = math.ceil(remaining / (len(sizes) - pos))
        if want == 0:
            continue
        n_mut = int(round(r * want))
        n_plain = want - n_mut
        pool = _Pool(n, n_letters)
        pool_target = max(n_plain, 1)
        if q > 0:
            pool_target = int(math.ceil(pool_target / (1.0 - q)))
        # progress counts final rows: report the plain part while drawing when
        # no quantile oversampling hides how many will stay
        _fill_random(pool, pool_target, rng, progress if q == 0 and n_plain else None,
                     max_batch)
        all_t, all_r, all_s = pool.arrays()
        if q > 0:
            # rank by reset length, longest first, ties broken at random;
            # keep the n_plain best, the next ones are spares for the top-up
            ranked = np.lexsort((rng.random(len(all_t)), -all_r))
        else:
            ranked = np.arange(len(all_t))
        chosen = np.sort(ranked[:n_plain])
        spares = ranked[n_plain:]
        tables, rts, sources = all_t[chosen], all_r[chosen], all_s[chosen]
        if progress is not None and q > 0 and len(tables):
            progress(len(tables))
        if n_mut:
            # seed the search with what we keep (it is the enriched set when q > 0)
            seed_pool = _Pool(n, n_letters)
            seed_pool.seen = pool.seen
            seed_pool.tables, seed_pool.rts = [tables], [rts]
            seed_pool.sources, seed_pool.size = [sources], len(tables)
            if len(tables) == 0:
                _fill_random(seed_pool, max(16, n_mut), rng, None, max_batch)
            mt, mr = _mutate_offspring(seed_pool, n_mut, rng, max_batch)
            if progress is not None and len(mt):
                progress(len(mt))
            # too few offspring (tiny shapes, or the climb stalled): top up with
            # the best unused random ones
            missing = n_mut - len(mt)
            if missing > 0:
                extra_t, extra_r = all_t[spares[:missing]], all_r[spares[:missing]]
                if len(extra_t) < missing:  # no spares left: draw fresh ones
                    before = pool.size
                    _fill_random(pool, before + missing - len(extra_t), rng, None, max_batch)
                    new_t, new_r, _ = pool.arrays()
                    extra_t = np.concatenate([extra_t, new_t[before:]])[:missing]
                    extra_r = np.concatenate([extra_r, new_r[before:]])[:missing]
                tables = np.concatenate([tables, extra_t])
                rts = np.concatenate([rts, extra_r])
                sources = np.concatenate([sources, np.full(len(extra_t), _RANDOM, np.int8)])
                if progress is not None and len(extra_t):
                    progress(len(extra_t))
            tables = np.concatenate([tables, mt])
            rts = np.concatenate([rts, mr])
            sources = np.concatenate([sources, np.full(len(mt), _MUTATE, np.int8)])
        remaining -= len(tables)
        sc = _strongly_connected_chunked(tables)
        denom = float((n - 1) ** 2) if n > 1 else 0.0
        ratio = rts / denom if denom else np.zeros(len(rts))
        parts.append(pd.DataFrame({
            "item": [format_compact(DFA(t)) for t in tables],
            "n_states": np.full(len(tables), n, dtype=np.int64),
            "n_letters": np.full(len(tables), n_letters, dtype=np.int64),
            "reset_length": rts.astype(np.int64),
            "strongly_connected": sc,
            "cerny_ratio": ratio.astype(np.float64),
            "source": [_SOURCE_NAMES[int(s)] for s in sources],
        }))
    df = pd.concat(parts, ignore_index=True)
    perm = rng.permutation(len(df))
    df = df.iloc[perm].reset_index(drop=True)
    df.attrs["shortfall"] = int(remaining)
    return df


def _strongly_connected_chunked(tables: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    if len(tables) == 0:
        return np.zeros(0, dtype=bool)
    return np.concatenate([strongly_connected_tables(tables[i:i + chunk])
                           for i in range(0, len(tables), chunk)])


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------
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
                    raise DataError(f"{path}: several columns ({', '.join(map(str, df.columns))}); "
                                    "choose one with --column")
        if column not in df.columns:
            raise DataError(f"{path}: no column {column!r} (columns: "
                            f"{', '.join(map(str, df.columns))})")
        values = df[column]
        if values.isna().any():
            raise DataError(f"{path}: column {column!r} has missing values")
        out = [str(v).strip() for v in values]
        return [s for s in out if s]
    if column is not None:
        raise DataError(f"{path}: --column only applies to CSV, TSV and Parquet files")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def strings_dataset(strings: Sequence[str], *, dedup: bool = True) -> pd.DataFrame:
    """A strings data set: columns ``item`` and ``length`` (in characters), optionally deduplicated
    keeping first occurrences."""
    items = list(dict.fromkeys(strings)) if dedup else list(strings)
    return pd.DataFrame({"item": items, "length": [len(s) for s in items]})


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


# ---------------------------------------------------------------------------
# torch
# ---------------------------------------------------------------------------
class SequenceDataset(Dataset):
    """Token sequences (lists or 1-D arrays of ints) as a torch Dataset.

    ``dataset[i]`` is a 1-D LongTensor; with ``targets`` (e.g. reset lengths
    for a property head) it is ``(ids, target)`` with ``target`` a float tensor.

    >>> ds = SequenceDataset([[1, 5, 2], [1, 2]])
    >>> len(ds), ds.lengths.tolist(), ds[1].tolist()
    (2, [3, 2], [1, 2])
    """

    def __init__(self, ids_list: Sequence[Sequence[int]], targets=None):
        self._seqs = [torch.as_tensor(np.asarray(ids, dtype=np.int64)) for ids in ids_list]
        for i, s in enumerate(self._seqs):
            if s.ndim != 1 or s.numel() == 0:
                raise DataError(f"sequence {i} is not a non-empty 1-D id sequence")
        self.lengths = np.array([len(s) for s in self._seqs], dtype=np.int64)
        if targets is not None:
            t = torch.as_tensor(np.asarray(targets, dtype=np.float32))
            if t.shape[0] != len(self._seqs):
                raise DataError(f"{t.shape[0]} targets for {len(self._seqs)} sequences")
            self.targets = t
        else:
            self.targets = None

    def __len__(self) -> int:
        return len(self._seqs)

    def __getitem__(self, i):
        if self.targets is None:
            return self._seqs[i]
        return self._seqs[i], self.targets[i]

    @property
    def max_len(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 0


def collate(batch, pad_id: int):
    """Pad a batch to its longest sequence.

    Returns ``(ids, lengths)``: LongTensor ``(B, T)`` right-padded with
    ``pad_id`` and LongTensor ``(B,)``; for ``(ids, target)`` items a third
    element, the stacked targets. Use with ``functools.partial(collate,
    pad_id=tokenizer.pad_id)``.

    >>> ids, lengths = collate([[1, 4, 2], [1, 2]], pad_id=0)
    >>> ids.tolist(), lengths.tolist()
    ([[1, 4, 2], [1, 2, 0]], [3, 2])
    """
    if len(batch) == 0:
        raise DataError("empty batch")
    targets = None
    if isinstance(batch[0], tuple):
        seqs = [b[0] for b in batch]
        targets = torch.stack([torch.as_tensor(b[1]) for b in batch])
    else:
        seqs = list(batch)
    seqs = [s if isinstance(s, torch.Tensor) else torch.as_tensor(np.asarray(s, dtype=np.int64))
            for s in seqs]
    lengths = torch.tensor([int(s.shape[0]) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), int(pad_id), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :s.shape[0]] = s.to(torch.long)
    if targets is None:
        return out, lengths
    return out, lengths, targets


class BucketBatchSampler(Sampler):
    """Batches of indices whose sequences have similar lengths.

    Indices are sorted by length (ties in random order), cut into batches of
    ``batch_size``, and the batch order is shuffled: little padding, random
    order. Deterministic for a given ``seed`` and epoch (:meth:`set_epoch`).
    With ``num_replicas > 1`` each rank gets every ``num_replicas``-th batch
    (all ranks the same number), for distributed training.

    >>> s = BucketBatchSampler([5, 3, 5, 3, 9], batch_size=2, shuffle=False)
    >>> list(s)
    [[1, 3], [0, 2], [4]]
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False, num_replicas: int = 1, rank: int = 0):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not 0 <= rank < num_replicas:
            raise ValueError("rank must be in 0..num_replicas-1")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _batches(self) -> list[list[int]]:
        n = len(self.lengths)
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = rng.permutation(n)
            order = order[np.argsort(self.lengths[order], kind="stable")]
        else:
            rng = None
            order = np.argsort(self.lengths, kind="stable")
        batches = [order[i:i + self.batch_size].tolist() for i in range(0, n, self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        if rng is not None:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        if self.num_replicas > 1:
            per_rank = len(batches) // self.num_replicas
            batches = batches[self.rank:per_rank * self.num_replicas:self.num_replicas]
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        n = len(self.lengths)
        full, rest = divmod(n, self.batch_size)
        count = full + (1 if rest and not self.drop_last else 0)
        return count // self.num_replicas if self.num_replicas > 1 else count


def split_indices(n: int, val_fraction: float, seed: int | np.random.Generator = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Random train / validation split of ``range(n)``: ``(train_idx, val_idx)``, both sorted.

    The validation part has ``round(n * val_fraction)`` indices (at least 1 when
    ``0 < val_fraction`` and ``n > 1``).

    >>> tr, va = split_indices(10, 0.2, seed=0)
    >>> len(tr), len(va), sorted(set(tr) | set(va)) == list(range(10))
    (8, 2, True)
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError("val_fraction must be in [0, 1)")
    n = int(n)
    n_val = int(round(n * val_fraction))
    if val_fraction > 0 and n > 1:
        n_val = max(1, n_val)
    n_val = min(n_val, max(n - 1, 0))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    perm = rng.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])
