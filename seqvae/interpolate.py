"""The interpolation experiment: latent paths → decode → score → summary.

It tests three claims about a trained sequence VAE on any domain:

1. points on a path between the latents of two held-out items decode to valid
   items that are not in the training set;
2. polar interpolation (and slerp), which stays near the prior's shell, does
   better than the straight line;
3. encode–decode refinement (decode, re-encode with μ, decode again, ``k`` times)
   raises the share of valid decodes.

Nothing is assumed: every decoded point is scored through the run's Domain
(well-formed, synchronizing, strongly connected, reset length and its ratio to
``(n−1)²``, novel = canonical key not among the training keys, same as an
endpoint, first occurrence along its path) and the summary has one row per
path method × decoding × refinement round.

The summary is taken over the *interior* points of each path (``0 < t < 1``):
the endpoints decode (if the model reconstructs well) to the held-out items
themselves, which says nothing about interpolation. How well the endpoints
are reconstructed is reported separately (``endpoint_recon``).

A run is duck-typed: ``encode(items) -> (mu, logvar)``, ``decode_parsed(z, *,
method, constrained, temperature, **constraint_spec) -> list[Parsed]``,
``train_keys``, ``heldout_items``, ``d_z``, ``domain``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import LatentError
from .latent import (PATH_METHODS, attribute_direction, attribute_walk, latent_path,
                     path_positions, refine)

__all__ = [
    "SUMMARY_KEYS", "DECODINGS", "score_decodes", "summarize_points", "choose_pairs",
    "InterpolationResult", "run_interpolation", "AttributeResult", "run_attribute",
    "encoded_norms", "item_size", "item_values",
]

#: Keys every summary row has (more may follow).
SUMMARY_KEYS = ("method", "refine", "well_formed", "synchronizing", "novel",
                "mean_reset_length", "max_reset_length", "distinct")

#: Decoding modes: with the domain's constraint (well-formed by construction for
#: automata) or free.
DECODINGS = ("constrained", "unconstrained")

# Score fields copied from Domain.score into every point record.
_SCORE_FIELDS = ("synchronizing", "reset_length", "strongly_connected", "cerny_ratio")


# --------------------------------------------------------------------------- scoring
def item_size(item) -> tuple[int, int] | None:
    """``(n_states, n_letters)`` of an automaton-like item, None for anything else."""
    n, k = getattr(item, "n_states", None), getattr(item, "n_letters", None)
    if n is None or k is None:
        return None
    return int(n), int(k)


class _ScoreCache:
    """Domain.score per canonical key: exact reset lengths are not free, paths repeat items."""

    def __init__(self, domain):
        self.domain = domain
        self._cache: dict[str, dict] = {}

    def prefill(self, items: Sequence) -> None:
        """Score many items at once (``Domain.score_many`` batches them by shape)."""
        todo: dict[str, Any] = {}
        for item in items:
            key = self.domain.canonical_key(item)
            if key not in self._cache and key not in todo:
                todo[key] = item
        if not todo:
            return
        many = getattr(self.domain, "score_many", None)
        scores = (many(list(todo.values())) if many is not None
                  else [self.domain.score(item) for item in todo.values()])
        for key, score in zip(todo, scores):
            self._cache[key] = dict(score or {})

    def __call__(self, key: str, item) -> dict:
        hit = self._cache.get(key)
        if hit is None:
            many = getattr(self.domain, "score_many", None)
            hit = dict((many([item])[0] if many is not None else self.domain.score(item)) or {})
            self._cache[key] = hit
        return hit


def score_decodes(parsed: Sequence, domain, *, train_keys: Iterable[str] = (),
                  endpoint_keys: Iterable[str] = (), scorer: Callable | None = None) -> list[dict]:
    """Score the decodes of the points of one path, in path order.

    Parameters
    ----------
    parsed : sequence of Parsed-like records
        Each with ``ok`` (bool), ``item`` and ``error``.
    domain : Domain
        Supplies ``canonical_key(item)`` and ``score(item) -> dict``.
    train_keys : iterable of str
        Canonical keys of the training items; a decode among them is not novel.
    endpoint_keys : iterable of str
        Canonical keys of the path's endpoints.

    Returns
    -------
    list of dict
        One record per decode: ``well_formed``, ``error``, ``key``, ``novel``,
        ``same_as_endpoint``, ``first_in_path`` (well-formed and not seen earlier
        on this path), ``n_states``/``n_letters`` (automata) and the score fields
        ``synchronizing``, ``reset_length``, ``strongly_connected``, ``cerny_ratio``
        (None where the domain does not score them or the decode is malformed).
    """
    train = train_keys if isinstance(train_keys, (set, frozenset)) else set(train_keys)
    ends = set(endpoint_keys)
    score = scorer if scorer is not None else _ScoreCache(domain)
    seen: set[str] = set()
    records = []
    for record in parsed:
        ok = bool(record.ok)
        row: dict[str, Any] = {
            "well_formed": ok, "error": None if ok else (record.error or "malformed"),
            "key": None, "novel": False, "same_as_endpoint": False, "first_in_path": False,
            "n_states": None, "n_letters": None,
        }
        row.update({name: None for name in _SCORE_FIELDS})
        if ok:
            key = domain.canonical_key(record.item)
            row["key"] = key
            row["novel"] = key not in train
            row["same_as_endpoint"] = key in ends
            row["first_in_path"] = key not in seen
            seen.add(key)
            size = item_size(record.item)
            if size is not None:
                row["n_states"], row["n_letters"] = size
            for name, value in score(key, record.item).items():
                row[name] = _plain(value)
        records.append(row)
    return records


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _whole(value):
    """A float that holds a whole number as int (reset lengths, lengths), else the float."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _typed(points: pd.DataFrame) -> pd.DataFrame:
    """Nullable dtypes: integer columns stay integers and flags stay flags next to missing values."""
    for column in ("n_states", "n_letters", "reset_length"):
        if column in points:
            points[column] = pd.to_numeric(points[column], errors="coerce").astype("Int64")
    for column in ("synchronizing", "strongly_connected"):
        if column in points:
            points[column] = points[column].astype("boolean")
    if "cerny_ratio" in points:
        points["cerny_ratio"] = pd.to_numeric(points["cerny_ratio"], errors="coerce")
    return points


def _share_of(points: pd.DataFrame, column: str, scored: bool | None = None) -> float | None:
    """Share of all points with ``column`` true; None when the domain never scores it
    (``scored`` says whether it does; by default: whether any point has a value)."""
    if scored is None:
        scored = column in points and points[column].notna().any()
    if not scored or points.empty:
        return None
    return float(points[column].astype(object).fillna(False).astype(bool).mean())


def summarize_points(points: pd.DataFrame, *, by: Sequence[str] = ("method", "decoding", "refine"),
                     interior_only: bool = True) -> list[dict]:
    """One summary row per group of ``points`` (as built by :func:`run_interpolation`).

    Shares are fractions in ``[0, 1]`` of all points of the group (a malformed decode
    counts as neither synchronizing nor novel); ``mean_reset_length`` and
    ``max_reset_length`` are over synchronizing decodes; ``distinct`` counts
    distinct well-formed decodes in the group, ``distinct_new`` those that are
    novel and no endpoint. ``endpoint_recon`` is the share of endpoint points
    (``t`` = 0 or 1) that decode to their own endpoint.
    """
    rows = []
    if points.empty:
        return rows
    # A field the domain scores at all is a share in every group, 0 where nothing parsed.
    scored = {name: bool(name in points and points[name].notna().any())
              for name in ("synchronizing", "strongly_connected")}
    for group_key, group in points.groupby(list(by), sort=False, dropna=False):
        group_key = group_key if isinstance(group_key, tuple) else (group_key,)
        ends = group[group["is_endpoint"]]
        inner = group[~group["is_endpoint"]] if interior_only else group
        row: dict[str, Any] = {name: _plain(value) for name, value in zip(by, group_key)}
        ok = inner["well_formed"].astype(bool)
        rl = pd.to_numeric(inner["reset_length"], errors="coerce")
        ratio = pd.to_numeric(inner["cerny_ratio"], errors="coerce")
        new = ok & inner["novel"].astype(bool) & ~inner["same_as_endpoint"].astype(bool)
        row.update({
            "points": int(len(inner)),
            "well_formed": float(ok.mean()) if len(inner) else None,
            "synchronizing": _share_of(inner, "synchronizing", scored["synchronizing"]),
            "strongly_connected": _share_of(inner, "strongly_connected",
                                            scored["strongly_connected"]),
            "novel": float((ok & inner["novel"].astype(bool)).mean()) if len(inner) else None,
            "new": float(new.mean()) if len(inner) else None,
            "unique": (float(inner.loc[ok, "first_in_path"].astype(bool).mean())
                       if ok.any() else None),
            "mean_reset_length": float(rl.mean()) if rl.notna().any() else None,
            "max_reset_length": int(rl.max()) if rl.notna().any() else None,
            "mean_cerny_ratio": float(ratio.mean()) if ratio.notna().any() else None,
            "distinct": int(inner.loc[ok, "key"].nunique()),
            "distinct_new": int(inner.loc[new, "key"].nunique()),
            "endpoint_recon": (float(ends["same_as_endpoint"].astype(bool).mean())
                               if len(ends) else None),
            "mean_z_norm": float(inner["z_norm"].mean()) if "z_norm" in inner and len(inner) else None,
        })
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- pairs
def choose_pairs(items: Sequence, n_pairs: int, rng: np.random.Generator, *,
                 same_size: bool = True) -> list[tuple[int, int]]:
    """Draw ``n_pairs`` index pairs ``(i, j)``, ``i != j``, from ``items`` without repeats.

    With ``same_size`` (the default) both members of a pair have the same
    ``(n_states, n_letters)`` when the items are automata, so a constrained
    decode along the path has one well-defined size.

    >>> choose_pairs(["a", "b"], 1, np.random.default_rng(0)) in ([(0, 1)], [(1, 0)])
    True
    """
    if n_pairs < 1:
        raise LatentError(f"the number of pairs must be >= 1, got {n_pairs}")
    groups: dict[Any, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item_size(item) if same_size else None, []).append(index)
    usable = [members for members in groups.values() if len(members) >= 2]
    if not usable:
        raise LatentError("need at least two items (of the same size) to form a pair")
    # Weight groups by their number of pairs so every pair is equally likely.
    weights = np.array([len(m) * (len(m) - 1) for m in usable], dtype=np.float64)
    capacity = int(weights.sum())
    n_pairs = min(n_pairs, capacity // 2 if capacity >= 2 else 1)
    chosen: list[tuple[int, int]] = []
    seen: set[frozenset] = set()
    tries = 0
    while len(chosen) < n_pairs and tries < 100 * n_pairs:
        tries += 1
        members = usable[rng.choice(len(usable), p=weights / weights.sum())]
        i, j = rng.choice(len(members), size=2, replace=False)
        pair = frozenset((members[i], members[j]))
        if pair in seen:
            continue
        seen.add(pair)
        chosen.append((members[i], members[j]))
    return chosen


# --------------------------------------------------------------------------- decoding
def _decode_groups(run, z: np.ndarray, specs: list[dict], *, rounds: int, decode_kwargs: dict,
                   progress: Callable[[int], None] | None):
    """Refine all points, batched by constraint spec; returns per-round (latents, decodes)."""
    m = len(z)
    latents = [np.zeros_like(z, dtype=np.float32) for _ in range(rounds + 1)]
    decodes: list[list] = [[None] * m for _ in range(rounds + 1)]
    groups: dict[tuple, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(tuple(sorted(spec.items())), []).append(index)
    for spec_key, members in groups.items():
        kwargs = dict(decode_kwargs)
        kwargs.update(dict(spec_key))
        traj = refine(run, z[members], rounds, progress=None, **kwargs)
        for k in range(rounds + 1):
            latents[k][members] = traj.latents[k]
            for slot, record in zip(members, traj.decodes[k]):
                decodes[k][slot] = record
        if progress is not None:
            progress(len(members))
    return latents, decodes


def _decode_kwargs(decode_method: str, temperature: float, rng: np.random.Generator) -> dict:
    kwargs: dict[str, Any] = {"method": decode_method, "temperature": temperature}
    if decode_method == "sample":
        # Sampled decodes are reproducible from the experiment's seed.
        kwargs["seed"] = int(rng.integers(2 ** 31 - 1))
    return kwargs


def _constraint_spec(size: tuple[int, int] | None, constrained: bool) -> dict:
    if not constrained or size is None:
        return {}
    return {"n_states": size[0], "n_letters": size[1]}


@dataclass
class InterpolationResult:
    """Everything one interpolation experiment measured.

    ``points`` has one row per decoded point (method, decoding, refine, pair, step,
    t, is_endpoint, z_norm, and the fields of :func:`score_decodes`); ``summary``
    one row per method × decoding × refinement round; ``endpoints`` the item pairs.
    """

    points: pd.DataFrame
    summary: list[dict]
    endpoints: list[tuple[Any, Any]]
    methods: list[str]
    steps: int
    rounds: int
    items: dict = field(default_factory=dict)  # (method, decoding, refine, pair) -> decoded items

    def path_items(self, method: str, pair: int = 0, refine: int = 0,
                   decoding: str = "constrained") -> list:
        """The decoded items (None where malformed) along one path, for drawing."""
        return self.items.get((method, decoding, refine, pair), [])


def run_interpolation(run, *, methods: Sequence[str] = tuple(PATH_METHODS), n_pairs: int = 20,
                      steps: int = 10, rounds: int = 0, pairs: Sequence[tuple[Any, Any]] | None = None,
                      decodings: Sequence[str] = ("constrained",), decode_method: str = "greedy",
                      temperature: float = 1.0, seed=0,
                      progress: Callable[[int], None] | None = None) -> InterpolationResult:
    """Interpolate between endpoint pairs along each path method, decode, refine, score.

    Parameters
    ----------
    run : Run
        A trained run (see the module docstring).
    methods : sequence of str
        Path methods from :data:`seqvae.latent.PATH_METHODS`.
    n_pairs : int
        Number of endpoint pairs drawn from ``run.heldout_items`` when ``pairs`` is None.
    steps : int
        Points per path, endpoints included (``>= 2``).
    rounds : int
        Refinement rounds ``K``; rounds ``0..K`` are all scored.
    pairs : sequence of (item, item), optional
        Explicit endpoints instead of held-out pairs.
    decodings : sequence of str
        Any of ``"constrained"``, ``"unconstrained"``.
    decode_method, temperature :
        Passed to ``run.decode_parsed`` (``"greedy"``, ``"sample"``, ``"beam"``).
    seed : int or numpy.random.Generator
        Chooses the pairs (and seeds sampling decodes).
    progress : callable, optional
        Called with the number of points decoded (all rounds) as work completes.

    Returns
    -------
    InterpolationResult
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    methods = list(methods)
    for method in methods:
        if method not in PATH_METHODS:
            raise LatentError(f"unknown path method {method!r}; choose from {', '.join(PATH_METHODS)}")
    for decoding in decodings:
        if decoding not in DECODINGS:
            raise LatentError(f"unknown decoding {decoding!r}; choose from {', '.join(DECODINGS)}")
    if rounds < 0:
        raise LatentError(f"refinement rounds must be >= 0, got {rounds}")
    positions = path_positions(steps)
    domain = run.domain
    if pairs is None:
        held = list(run.heldout_items)
        index_pairs = choose_pairs(held, n_pairs, rng)
        pairs = [(held[i], held[j]) for i, j in index_pairs]
    pairs = list(pairs)
    if not pairs:
        raise LatentError("no endpoint pairs to interpolate between")
    flat_items = [item for pair in pairs for item in pair]
    mu, _ = run.encode(flat_items)
    mu = np.asarray(mu, dtype=np.float64).reshape(len(pairs), 2, -1)
    endpoint_keys = [(domain.canonical_key(a), domain.canonical_key(b)) for a, b in pairs]

    # Lay every point of every path out in one batch so decoding is batched per size.
    meta, zs, specs = [], [], []
    for decoding in decodings:
        for method in methods:
            for p, (a, b) in enumerate(pairs):
                path = latent_path(method, mu[p, 0], mu[p, 1], steps)
                sizes = (item_size(a), item_size(b))
                for s, t in enumerate(positions):
                    # Constrained decodes need one size; between automata of different
                    # sizes each half of the path takes its nearer endpoint's size.
                    size = sizes[0] if t < 0.5 else sizes[1]
                    meta.append((decoding, method, p, s, float(t)))
                    zs.append(path[s])
                    specs.append(_constraint_spec(size, decoding == "constrained"))
    z = np.asarray(zs, dtype=np.float32)
    decode_kwargs = _decode_kwargs(decode_method, temperature, rng)
    latents_by_round: list[np.ndarray] = [np.zeros_like(z) for _ in range(rounds + 1)]
    decodes_by_round: list[list] = [[None] * len(z) for _ in range(rounds + 1)]
    for decoding in decodings:
        idx = [i for i, m in enumerate(meta) if m[0] == decoding]
        kw = dict(decode_kwargs, constrained=(decoding == "constrained"))
        lat, dec = _decode_groups(run, z[idx], [specs[i] for i in idx], rounds=rounds,
                                  decode_kwargs=kw, progress=progress)
        for k in range(rounds + 1):
            latents_by_round[k][idx] = lat[k]
            for slot, record in zip(idx, dec[k]):
                decodes_by_round[k][slot] = record

    scorer = _ScoreCache(domain)
    scorer.prefill([rec.item for round_ in decodes_by_round for rec in round_ if rec.ok])
    train_keys = run.train_keys if isinstance(run.train_keys, (set, frozenset)) else set(run.train_keys)
    rows: list[dict] = []
    items: dict = {}
    path_slots: dict[tuple, list[int]] = {}
    for i, (decoding, method, p, s, t) in enumerate(meta):
        path_slots.setdefault((decoding, method, p), []).append(i)
    for k in range(rounds + 1):
        for (decoding, method, p), slots in path_slots.items():
            parsed = [decodes_by_round[k][i] for i in slots]
            scored = score_decodes(parsed, domain, train_keys=train_keys,
                                   endpoint_keys=endpoint_keys[p], scorer=scorer)
            items[(method, decoding, k, p)] = [rec.item if rec.ok else None for rec in parsed]
            for i, record in zip(slots, scored):
                _, _, _, s, t = meta[i]
                is_end = s == 0 or s == len(positions) - 1
                if is_end:
                    # An endpoint point is "reconstructed" only if it decodes to its own endpoint.
                    record["same_as_endpoint"] = record["key"] == endpoint_keys[p][0 if s == 0 else 1]
                rows.append({"method": method, "decoding": decoding, "refine": k, "pair": p,
                             "step": s, "t": t, "is_endpoint": is_end,
                             "z_norm": float(np.linalg.norm(latents_by_round[k][i])),
                             "endpoint_a": endpoint_keys[p][0], "endpoint_b": endpoint_keys[p][1],
                             **record})
    points = _typed(pd.DataFrame(rows))
    summary = summarize_points(points)
    order = {name: i for i, name in enumerate(methods)}
    summary.sort(key=lambda r: (list(decodings).index(r["decoding"]), order[r["method"]], r["refine"]))
    return InterpolationResult(points=points, summary=summary, endpoints=pairs, methods=methods,
                               steps=steps, rounds=rounds, items=items)


# --------------------------------------------------------------------------- norms
def encoded_norms(run, items: Sequence, *, batch_size: int = 256) -> np.ndarray:
    """‖μ‖ of the encodings of ``items`` (for the soap-bubble histogram)."""
    norms = []
    items = list(items)
    for start in range(0, len(items), batch_size):
        mu, _ = run.encode(items[start:start + batch_size])
        norms.append(np.linalg.norm(np.asarray(mu, dtype=np.float64), axis=1))
    return np.concatenate(norms) if norms else np.zeros(0)


# --------------------------------------------------------------------------- attribute
def item_values(domain, items: Sequence, attribute: str) -> np.ndarray:
    """The value of ``attribute`` for each item: a field of ``domain.score`` (e.g.
    ``reset_length``, ``cerny_ratio``) or ``length`` (length of the item's text); NaN
    where the score has no value (a non-synchronizing automaton has no reset length)."""
    values = np.full(len(items), np.nan)
    if attribute == "length":
        for i, item in enumerate(items):
            values[i] = len(item) if hasattr(item, "__len__") else np.nan
        return values
    many = getattr(domain, "score_many", None)
    scores = many(list(items)) if many is not None else [domain.score(item) for item in items]
    for i, score in enumerate(scores):
        score = score or {}
        if attribute not in score:
            raise LatentError(f"the {getattr(domain, 'name', 'run')} domain does not score "
                             f"{attribute!r}; it scores: {', '.join(score) or 'nothing'}")
        value = score[attribute]
        if value is not None:
            values[i] = float(value)
    return values


@dataclass
class AttributeResult:
    """An attribute-direction walk: ``rows`` has one summary per step, ``points`` every decode."""

    attribute: str
    direction: np.ndarray
    alphas: np.ndarray
    rows: list[dict]
    points: pd.DataFrame
    high_mean: float
    low_mean: float
    slope: float | None = None  # least-squares d(value)/dα over all decodes that have a value


def run_attribute(run, *, attribute: str = "reset_length", steps: int = 9, alpha_max: float = 2.0,
                  n_starts: int = 20, quantile: float = 0.25, constrained: bool = True,
                  decode_method: str = "greedy", temperature: float = 1.0, seed=0,
                  items: Sequence | None = None,
                  progress: Callable[[int], None] | None = None) -> AttributeResult:
    """Walk from held-out starting points along the direction of ``attribute`` and measure it.

    The direction is ``mean μ(top quantile) − mean μ(bottom quantile)`` of the items'
    ``attribute``; the quantiles are taken within each ``(n_states, n_letters)``
    group so that the direction is not just "more states". Each of ``n_starts``
    starting points is moved to ``μ + α·direction`` for ``steps`` values of ``α``
    in ``[−alpha_max, alpha_max]`` and decoded (constrained to the start's size).
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if steps < 2:
        raise LatentError(f"steps must be >= 2, got {steps}")
    domain = run.domain
    pool = list(run.heldout_items if items is None else items)
    if len(pool) < 4:
        raise LatentError(f"need at least 4 items to find an attribute direction, got {len(pool)}")
    values = item_values(domain, pool, attribute)
    mu = np.concatenate([np.asarray(run.encode(pool[s:s + 256])[0], dtype=np.float64)
                         for s in range(0, len(pool), 256)])
    sizes = [item_size(item) for item in pool]
    # Per-size standardisation: quantiles within each size group.
    ranks = np.full(len(pool), np.nan)
    for size in set(sizes):
        members = np.array([i for i, sz in enumerate(sizes) if sz == size])
        finite = members[np.isfinite(values[members])]
        if len(finite) >= 2:
            order = values[finite].argsort(kind="stable").argsort(kind="stable")
            # Average ranks of ties so equal values share a rank.
            v = values[finite]
            avg = np.array([order[v == x].mean() for x in v])
            ranks[finite] = avg / max(len(finite) - 1, 1)
    direction = attribute_direction(mu, ranks, quantile=quantile)
    lo_cut, hi_cut = np.nanquantile(ranks, [quantile, 1 - quantile])
    high_mean = float(np.nanmean(values[ranks >= hi_cut]))
    low_mean = float(np.nanmean(values[ranks <= lo_cut]))
    n_starts = min(n_starts, len(pool))
    starts = rng.choice(len(pool), size=n_starts, replace=False)
    alphas = np.linspace(-alpha_max, alpha_max, steps)
    walk = attribute_walk(mu[starts], direction, alphas)  # (n_starts, steps, d_z)
    flat = walk.reshape(-1, walk.shape[-1]).astype(np.float32)
    specs = [_constraint_spec(sizes[s], constrained) for s in starts for _ in alphas]
    kwargs = dict(_decode_kwargs(decode_method, temperature, rng), constrained=constrained)
    _, decodes = _decode_groups(run, flat, specs, rounds=0, decode_kwargs=kwargs,
                                progress=progress)
    scorer = _ScoreCache(domain)
    scorer.prefill([rec.item for rec in decodes[0] if rec.ok])
    train_keys = run.train_keys
    records = []
    for a, start in enumerate(starts):
        parsed = decodes[0][a * steps:(a + 1) * steps]
        start_key = domain.canonical_key(pool[start])
        scored = score_decodes(parsed, domain, train_keys=train_keys, endpoint_keys=[start_key],
                               scorer=scorer)
        for s, record in enumerate(scored):
            value = record.get(attribute)
            if attribute == "length" and record["well_formed"]:
                value = len(parsed[s].item)
            records.append({"start": int(start), "step": s, "alpha": float(alphas[s]),
                            "start_value": float(values[start]), "value": value, **record})
    points = _typed(pd.DataFrame(records))
    sync_scored = bool(points["synchronizing"].notna().any())
    rows = []
    for s, alpha in enumerate(alphas):
        group = points[points["step"] == s]
        ok = group["well_formed"].astype(bool)
        vals = pd.to_numeric(group["value"], errors="coerce")
        rows.append({
            "step": s, "alpha": float(alpha), "points": int(len(group)),
            "well_formed": float(ok.mean()),
            "synchronizing": _share_of(group, "synchronizing", sync_scored),
            "novel": float((ok & group["novel"].astype(bool)).mean()),
            "same_as_start": float(group["same_as_endpoint"].astype(bool).mean()),
            f"mean_{attribute}": float(vals.mean()) if vals.notna().any() else None,
            f"max_{attribute}": _whole(vals.max()) if vals.notna().any() else None,
            "distinct": int(group.loc[ok, "key"].nunique()),
        })
    vals = pd.to_numeric(points["value"], errors="coerce")
    have = vals.notna() & points["alpha"].notna()
    slope = None
    if have.sum() >= 2 and points.loc[have, "alpha"].nunique() >= 2:
        slope = float(np.polyfit(points.loc[have, "alpha"].astype(float), vals[have].astype(float), 1)[0])
    return AttributeResult(attribute=attribute, direction=direction, alphas=alphas, rows=rows,
                           points=points, high_mean=high_mean, low_mean=low_mean, slope=slope)
