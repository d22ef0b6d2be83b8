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

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from seqvae.errors import LatentError
from seqvae.latent import (
    PATH_METHODS,
    attribute_direction,
    attribute_walk,
    latent_path,
    path_positions,
    refine,
)
from seqvae.scoring import ScoreCache, score_decodes, share_of, summarize_points, typed_points, whole

__all__ = [
    "DECODINGS", "choose_pairs", "InterpolationResult", "run_interpolation", "AttributeResult",
    "run_attribute", "encoded_norms", "item_values",
]

#: Decoding modes: with the domain's constraint (well-formed by construction for
#: automata) or free.
DECODINGS = ("constrained", "unconstrained")

# --------------------------------------------------------------------------- pairs
def _size_key(domain, item) -> tuple:
    """A hashable form of ``domain.item_size(item)`` (``()`` without a domain)."""
    return tuple(sorted(domain.item_size(item).items())) if domain is not None else ()


def choose_pairs(items: Sequence, n_pairs: int, rng: np.random.Generator, *,
                 same_size: bool = True, domain=None) -> list[tuple[int, int]]:
    """Draw ``n_pairs`` index pairs ``(i, j)``, ``i != j``, from ``items`` without repeats.

    With ``same_size`` (the default) and a ``domain``, both members of a pair have
    the same size (``domain.item_size``: states and letters of automata), so a
    constrained decode along the path has one well-defined size.

    >>> choose_pairs(["a", "b"], 1, np.random.default_rng(0)) in ([(0, 1)], [(1, 0)])
    True
    """
    if n_pairs < 1:
        raise LatentError(f"the number of pairs must be >= 1, got {n_pairs}")
    groups: dict[Any, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(_size_key(domain, item) if same_size else None, []).append(index)
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
                   progress: Callable[[int], None] | None, refine_options: dict | None = None):
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
        traj = refine(run, z[members], rounds, progress=None, **(refine_options or {}),
                      **kwargs)
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
                      temperature: float = 1.0, seed=0, refine_jitter: float = 0.0,
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
    refine_jitter : float
        Refinement moves a point with an invalid decode by Gaussian noise of this
        scale (:func:`seqvae.latent.refine`); 0 keeps it where it is.
    progress : callable, optional
        Called with the number of points decoded (all rounds) as work completes.

    Returns
    -------
    InterpolationResult
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    methods = list(methods)
    _check_experiment(methods, decodings, rounds)
    positions = path_positions(steps)
    pairs = _endpoint_pairs(run, pairs, n_pairs, rng)
    mu, _ = run.encode([item for pair in pairs for item in pair])
    mu = np.asarray(mu, dtype=np.float64).reshape(len(pairs), 2, -1)
    endpoint_keys = [tuple(run.domain.canonical_keys(pair)) for pair in pairs]
    meta, z, specs = _lay_out_paths(run.domain, mu, pairs, methods, decodings, positions)
    # the noise is seeded by refine's own seed (the sampling seed when decodes are sampled)
    refine_options = {"jitter": float(refine_jitter)} if refine_jitter else {}
    latents, decodes = _decode_paths(run, z, meta, specs, decodings, rounds,
                                     _decode_kwargs(decode_method, temperature, rng), progress,
                                     refine_options)
    rows, items = _score_paths(run, meta, latents, decodes, endpoint_keys, len(positions))
    points = typed_points(pd.DataFrame(rows))
    summary = summarize_points(points)
    order = {name: i for i, name in enumerate(methods)}
    summary.sort(key=lambda r: (list(decodings).index(r["decoding"]), order[r["method"]], r["refine"]))
    return InterpolationResult(points=points, summary=summary, endpoints=pairs, methods=methods,
                               steps=steps, rounds=rounds, items=items)


def _check_experiment(methods: Sequence[str], decodings: Sequence[str], rounds: int) -> None:
    for method in methods:
        if method not in PATH_METHODS:
            raise LatentError(f"unknown path method {method!r}; choose from {', '.join(PATH_METHODS)}")
    for decoding in decodings:
        if decoding not in DECODINGS:
            raise LatentError(f"unknown decoding {decoding!r}; choose from {', '.join(DECODINGS)}")
    if rounds < 0:
        raise LatentError(f"refinement rounds must be >= 0, got {rounds}")


def _endpoint_pairs(run, pairs, n_pairs: int, rng: np.random.Generator) -> list[tuple[Any, Any]]:
    """The given endpoint pairs, or ``n_pairs`` pairs of held-out items of one size."""
    if pairs is None:
        held = list(run.heldout_items)
        pairs = [(held[i], held[j]) for i, j in choose_pairs(held, n_pairs, rng, domain=run.domain)]
    pairs = list(pairs)
    if not pairs:
        raise LatentError("no endpoint pairs to interpolate between")
    return pairs


def _lay_out_paths(domain, mu: np.ndarray, pairs: list, methods: list[str],
                   decodings: Sequence[str], positions: np.ndarray):
    """Every point of every path in one batch, so that decoding is batched per size:
    ``(meta, z, specs)`` with ``meta[i] = (decoding, method, pair, step, t)``."""
    meta, zs, specs = [], [], []
    for decoding in decodings:
        for method in methods:
            for p, (a, b) in enumerate(pairs):
                path = latent_path(method, mu[p, 0], mu[p, 1], len(positions))
                sizes = (domain.item_size(a), domain.item_size(b))
                for s, t in enumerate(positions):
                    # Constrained decodes need one size; between automata of different
                    # sizes each half of the path takes its nearer endpoint's size.
                    size = sizes[0] if t < 0.5 else sizes[1]
                    meta.append((decoding, method, p, s, float(t)))
                    zs.append(path[s])
                    specs.append(dict(size) if decoding == "constrained" else {})
    return meta, np.asarray(zs, dtype=np.float32), specs


def _decode_paths(run, z: np.ndarray, meta: list, specs: list[dict], decodings: Sequence[str],
                  rounds: int, decode_kwargs: dict, progress, refine_options: dict | None = None):
    """Decode and refine every point, per decoding mode: per-round latents and decodes."""
    latents_by_round: list[np.ndarray] = [np.zeros_like(z) for _ in range(rounds + 1)]
    decodes_by_round: list[list] = [[None] * len(z) for _ in range(rounds + 1)]
    for decoding in decodings:
        idx = [i for i, m in enumerate(meta) if m[0] == decoding]
        kw = dict(decode_kwargs, constrained=(decoding == "constrained"))
        lat, dec = _decode_groups(run, z[idx], [specs[i] for i in idx], rounds=rounds,
                                  decode_kwargs=kw, progress=progress,
                                  refine_options=refine_options)
        for k in range(rounds + 1):
            latents_by_round[k][idx] = lat[k]
            for slot, record in zip(idx, dec[k]):
                decodes_by_round[k][slot] = record
    return latents_by_round, decodes_by_round


def _score_paths(run, meta: list, latents: list, decodes: list, endpoint_keys: list,
                 n_steps: int) -> tuple[list[dict], dict]:
    """One record per decoded point (all rounds), and the decoded items per path."""
    domain = run.domain
    scorer = ScoreCache(domain)
    scorer.prefill([rec.item for round_ in decodes for rec in round_ if rec.ok])
    train_keys = run.train_keys if isinstance(run.train_keys, (set, frozenset)) else set(run.train_keys)
    rows: list[dict] = []
    items: dict = {}
    path_slots: dict[tuple, list[int]] = {}
    for i, (decoding, method, p, s, t) in enumerate(meta):
        path_slots.setdefault((decoding, method, p), []).append(i)
    for k in range(len(decodes)):
        for (decoding, method, p), slots in path_slots.items():
            parsed = [decodes[k][i] for i in slots]
            scored = score_decodes(parsed, domain, train_keys=train_keys,
                                   endpoint_keys=endpoint_keys[p], scorer=scorer)
            items[(method, decoding, k, p)] = [rec.item if rec.ok else None for rec in parsed]
            for i, record in zip(slots, scored):
                _, _, _, s, t = meta[i]
                is_end = s == 0 or s == n_steps - 1
                if is_end:
                    # An endpoint point is "reconstructed" only if it decodes to its own endpoint.
                    record["same_as_endpoint"] = record["key"] == endpoint_keys[p][0 if s == 0 else 1]
                rows.append({"method": method, "decoding": decoding, "refine": k, "pair": p,
                             "step": s, "t": t, "is_endpoint": is_end,
                             "z_norm": float(np.linalg.norm(latents[k][i])),
                             "endpoint_a": endpoint_keys[p][0], "endpoint_b": endpoint_keys[p][1],
                             **record})
    return rows, items


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
    sizes = [_size_key(domain, item) for item in pool]
    ranks = _ranks_within_sizes(values, sizes)
    direction = attribute_direction(mu, ranks, quantile=quantile)
    lo_cut, hi_cut = np.nanquantile(ranks, [quantile, 1 - quantile])
    high_mean = float(np.nanmean(values[ranks >= hi_cut]))
    low_mean = float(np.nanmean(values[ranks <= lo_cut]))
    n_starts = min(n_starts, len(pool))
    starts = rng.choice(len(pool), size=n_starts, replace=False)
    alphas = np.linspace(-alpha_max, alpha_max, steps)
    walk = attribute_walk(mu[starts], direction, alphas)  # (n_starts, steps, d_z)
    flat = walk.reshape(-1, walk.shape[-1]).astype(np.float32)
    specs = [domain.item_size(pool[s]) if constrained else {} for s in starts for _ in alphas]
    kwargs = dict(_decode_kwargs(decode_method, temperature, rng), constrained=constrained)
    _, decodes = _decode_groups(run, flat, specs, rounds=0, decode_kwargs=kwargs,
                                progress=progress)
    points = _score_walks(run, pool, starts, alphas, decodes[0], values, attribute)
    rows = _attribute_rows(points, alphas, attribute)
    vals = pd.to_numeric(points["value"], errors="coerce")
    have = vals.notna() & points["alpha"].notna()
    slope = None
    if have.sum() >= 2 and points.loc[have, "alpha"].nunique() >= 2:
        slope = float(np.polyfit(points.loc[have, "alpha"].astype(float), vals[have].astype(float), 1)[0])
    return AttributeResult(attribute=attribute, direction=direction, alphas=alphas, rows=rows,
                           points=points, high_mean=high_mean, low_mean=low_mean, slope=slope)


def _ranks_within_sizes(values: np.ndarray, sizes: list) -> np.ndarray:
    """Ranks of ``values`` in [0, 1] within each size group (NaN where no value): the
    direction then follows the attribute, not the size."""
    ranks = np.full(len(values), np.nan)
    for size in set(sizes):
        members = np.array([i for i, sz in enumerate(sizes) if sz == size])
        finite = members[np.isfinite(values[members])]
        if len(finite) >= 2:
            order = values[finite].argsort(kind="stable").argsort(kind="stable")
            # Average ranks of ties so equal values share a rank.
            v = values[finite]
            avg = np.array([order[v == x].mean() for x in v])
            ranks[finite] = avg / max(len(finite) - 1, 1)
    return ranks


def _score_walks(run, pool: list, starts: np.ndarray, alphas: np.ndarray, decodes: list,
                 values: np.ndarray, attribute: str) -> pd.DataFrame:
    """One record per decoded point of every walk, with the attribute's value."""
    domain = run.domain
    scorer = ScoreCache(domain)
    scorer.prefill([rec.item for rec in decodes if rec.ok])
    steps = len(alphas)
    records = []
    for a, start in enumerate(starts):
        parsed = decodes[a * steps:(a + 1) * steps]
        start_key = domain.canonical_key(pool[start])
        scored = score_decodes(parsed, domain, train_keys=run.train_keys,
                               endpoint_keys=[start_key], scorer=scorer)
        for s, record in enumerate(scored):
            value = record.get(attribute)
            if attribute == "length" and record["well_formed"]:
                value = len(parsed[s].item)
            records.append({"start": int(start), "step": s, "alpha": float(alphas[s]),
                            "start_value": float(values[start]), "value": value, **record})
    return typed_points(pd.DataFrame(records))


def _attribute_rows(points: pd.DataFrame, alphas: np.ndarray, attribute: str) -> list[dict]:
    """One summary row per step of the walk."""
    sync_scored = bool(points["synchronizing"].notna().any())
    rows = []
    for s, alpha in enumerate(alphas):
        group = points[points["step"] == s]
        ok = group["well_formed"].astype(bool)
        vals = pd.to_numeric(group["value"], errors="coerce")
        rows.append({
            "step": s, "alpha": float(alpha), "points": int(len(group)),
            "well_formed": float(ok.mean()),
            "synchronizing": share_of(group, "synchronizing", sync_scored),
            "novel": float((ok & group["novel"].astype(bool)).mean()),
            "same_as_start": float(group["same_as_endpoint"].astype(bool).mean()),
            f"mean_{attribute}": float(vals.mean()) if vals.notna().any() else None,
            f"max_{attribute}": whole(vals.max()) if vals.notna().any() else None,
            "distinct": int(group.loc[ok, "key"].nunique()),
        })
    return rows
