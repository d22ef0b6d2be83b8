"""Scoring decoded items: one record per decode, and summaries of many.

:func:`score_decodes` turns a sequence of parsed decodes into records
(well-formed, canonical key, novel, same as an endpoint, first occurrence, the
item's size and the domain's score fields); :func:`summarize_points` reduces a
table of such records to one row per group. The interpolation and attribute
experiments (:mod:`seqvae.interpolate`) and the prior-sample metrics of
:mod:`seqvae.evaluate` read decodes through these functions.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["SUMMARY_KEYS", "SCORE_FIELDS", "ScoreCache", "score_decodes", "summarize_points",
           "typed_points", "share_of", "whole"]

#: Keys every summary row has (more may follow).
SUMMARY_KEYS = ("method", "refine", "well_formed", "synchronizing", "novel",
                "mean_reset_length", "max_reset_length", "distinct")

#: Score fields copied from ``Domain.score`` into every point record (None where the
#: domain does not score them), so that tables of every domain have the same columns.
SCORE_FIELDS = ("synchronizing", "reset_length", "strongly_connected", "cerny_ratio")


class ScoreCache:
    """``Domain.score`` per canonical key: exact reset lengths are not free, and decodes
    repeat items (along a path, across prior samples)."""

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
    score = scorer if scorer is not None else ScoreCache(domain)
    seen: set[str] = set()
    records = []
    for record in parsed:
        ok = bool(record.ok)
        row: dict[str, Any] = {
            "well_formed": ok, "error": None if ok else (record.error or "malformed"),
            "key": None, "novel": False, "same_as_endpoint": False, "first_in_path": False,
            "n_states": None, "n_letters": None,
        }
        row.update({name: None for name in SCORE_FIELDS})
        if ok:
            key = domain.canonical_key(record.item)
            row["key"] = key
            row["novel"] = key not in train
            row["same_as_endpoint"] = key in ends
            row["first_in_path"] = key not in seen
            seen.add(key)
            row.update(domain.item_size(record.item))
            for name, value in score(key, record.item).items():
                row[name] = _plain(value)
        records.append(row)
    return records


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def whole(value):
    """A float that holds a whole number as int (reset lengths, lengths), else the float."""
    value = float(value)
    return int(value) if value.is_integer() else value


def typed_points(points: pd.DataFrame) -> pd.DataFrame:
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


def share_of(points: pd.DataFrame, column: str, scored: bool | None = None) -> float | None:
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
            "synchronizing": share_of(inner, "synchronizing", scored["synchronizing"]),
            "strongly_connected": share_of(inner, "strongly_connected",
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
