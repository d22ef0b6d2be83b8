"""Data sets of random synchronizing automata, distinct up to isomorphism.

:func:`draw_distinct_synchronizing` draws random automata in bulk, canonicalises
them, removes isomorphic duplicates and keeps the synchronizing ones with their
exact reset lengths, optionally enriched toward long reset words (see
:data:`ENRICH_HELP`). Pure numpy and this package: ``seqvae.data`` turns the
result into a table file.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from automata.canon import canonical_tables
from automata.errors import AutomatonError
from automata.generate import as_rng, random_tables
from automata.sync import reset_lengths

__all__ = ["ENRICH_HELP", "SOURCES", "SizedSet", "DistinctSet", "parse_enrich",
           "draw_distinct_synchronizing"]

#: What each row's ``source`` code means: drawn at random, or a local-search offspring.
SOURCES = ("random", "mutate")

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
                raise AutomatonError(f"bad enrichment {part!r}: expected 'quantile:Q' or 'mutate:R'")
            try:
                x = float(value)
            except ValueError:
                raise AutomatonError(f"bad enrichment {part!r}: {value!r} is not a number") from None
            if name == "quantile" and not 0.0 <= x < 1.0:
                raise AutomatonError(f"bad enrichment {part!r}: Q must be in [0, 1)")
            if name == "mutate" and not 0.0 < x <= 1.0:
                raise AutomatonError(f"bad enrichment {part!r}: R must be in (0, 1]")
            if name in out:
                raise AutomatonError(f"enrichment {name!r} given twice")
            out[name] = x
    return out


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


_RANDOM, _MUTATE = SOURCES.index("random"), SOURCES.index("mutate")
# Stop drawing when this many batches in a row bring nothing new: the shape has
# (almost) no more distinct synchronizing automata to offer.
_STALL_ROUNDS = 4


def _fill_random(pool: _Pool, target: int, rng: np.random.Generator,
                 progress: Callable[[int], None] | None, max_batch: int) -> None:
    """Draw uniform random automata until the pool holds ``target`` of them (or stalls)."""
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


@dataclass
class SizedSet:
    """The automata of one size: canonical ``tables`` (m, n_letters, n_states), their
    ``reset_lengths`` (m,) and ``sources`` (m,), indices into :data:`SOURCES`."""

    n_states: int
    n_letters: int
    tables: np.ndarray
    reset_lengths: np.ndarray
    sources: np.ndarray


@dataclass
class DistinctSet:
    """What :func:`draw_distinct_synchronizing` found: one :class:`SizedSet` per size and
    how many rows are missing (a small shape may have too few distinct automata)."""

    parts: list
    shortfall: int

    def __len__(self) -> int:
        return sum(len(p.tables) for p in self.parts)


def _size_range(n_states) -> tuple[int, int]:
    if isinstance(n_states, (tuple, list)):
        if len(n_states) != 2:
            raise AutomatonError("n_states range must be (lo, hi)")
        lo, hi = int(n_states[0]), int(n_states[1])
    else:
        lo = hi = int(n_states)
    if lo < 1 or hi < lo:
        raise AutomatonError(f"bad n_states range {lo}..{hi}")
    if hi > 64:
        raise AutomatonError("n_states above 64 is not supported by the batch reset-length kernel")
    return lo, hi


def draw_distinct_synchronizing(n_states: int | tuple[int, int], n_letters: int, count: int,
                                seed: int | np.random.Generator | None = 0,
                                enrich: str | Iterable[str] | dict | None = None,
                                progress: Callable[[int], None] | None = None,
                                *, max_batch: int = 200_000) -> DistinctSet:
    """Random synchronizing automata, distinct up to isomorphism, with exact reset lengths.

    Parameters
    ----------
    n_states : int or (lo, hi)
        One size, or every size ``lo..hi`` inclusive (``count`` split evenly;
        what a small size cannot supply goes to the larger ones).
    n_letters : int
    count : int
        Number of automata wanted.
    seed : int or numpy Generator
        A Generator is used as is (the caller may keep drawing from it).
    enrich : see :data:`ENRICH_HELP` (``"quantile:0.9"``, ``["mutate:0.5"]``,
        or the dict from :func:`parse_enrich`).
    progress : callable, optional
        Called with the number of new automata as the set grows.

    Examples
    --------
    >>> found = draw_distinct_synchronizing(5, 2, 50, seed=1)
    >>> len(found), found.shortfall, bool((found.parts[0].reset_lengths >= 0).all())
    (50, 0, True)
    """
    lo, hi = _size_range(n_states)
    if int(n_letters) < 1:
        raise AutomatonError("n_letters must be at least 1")
    if int(count) < 1:
        raise AutomatonError("count must be at least 1")
    n_letters, count = int(n_letters), int(count)
    opts = enrich if isinstance(enrich, dict) else parse_enrich(enrich)
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
        part = _draw_one_size(n, n_letters, want, float(opts.get("quantile", 0.0)),
                              float(opts.get("mutate", 0.0)), rng, progress, max_batch)
        remaining -= len(part.tables)
        parts.append(part)
    return DistinctSet(parts, int(remaining))


def _draw_one_size(n: int, n_letters: int, want: int, q: float, r: float,
                   rng: np.random.Generator, progress, max_batch: int) -> SizedSet:
    """``want`` automata of one size: the best of a random pool (top ``1 - q`` share by
    reset length), then a share ``r`` of local-search offspring."""
    n_mut = int(round(r * want))
    n_plain = want - n_mut
    pool = _Pool(n, n_letters)
    pool_target = max(n_plain, 1)
    if q > 0:
        pool_target = int(math.ceil(pool_target / (1.0 - q)))
    # progress counts final rows: report the plain part while drawing when
    # no quantile oversampling hides how many will stay
    _fill_random(pool, pool_target, rng, progress if q == 0 and n_plain else None, max_batch)
    all_t, all_r, all_s = pool.arrays()
    if q > 0:
        # rank by reset length, longest first, ties broken at random;
        # keep the n_plain best, the next ones are spares for the top-up
        ranked = np.lexsort((rng.random(len(all_t)), -all_r))
    else:
        ranked = np.arange(len(all_t))
    chosen = np.sort(ranked[:n_plain])
    tables, rts, sources = all_t[chosen], all_r[chosen], all_s[chosen]
    if progress is not None and q > 0 and len(tables):
        progress(len(tables))
    if n_mut:
        tables, rts, sources = _add_offspring(pool, (tables, rts, sources), ranked[n_plain:],
                                              n_mut, rng, progress, max_batch)
    return SizedSet(n, n_letters, tables, rts, sources)


def _add_offspring(pool: _Pool, kept: tuple, spares: np.ndarray, n_mut: int,
                   rng: np.random.Generator, progress, max_batch: int) -> tuple:
    """``kept`` plus ``n_mut`` local-search offspring of it (topped up with the best unused
    random automata when the climb brings too few)."""
    tables, rts, sources = kept
    all_t, all_r, _ = pool.arrays()
    # seed the search with what we keep (it is the enriched set when q > 0)
    seed_pool = _Pool(pool.n_states, pool.n_letters)
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
    return tables, rts, sources
