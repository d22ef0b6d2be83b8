"""Many exact reset-length evaluations at once, spread over processes with joblib.

The work is cut into chunks worth about a second each, so the cost of
shipping a chunk to a worker stays small next to the work in it. Which
processes (or machines) run the chunks is joblib's choice of backend: the
default is local processes (``loky``); a Dask or Ray cluster is used by
wrapping the call in ``joblib.parallel_config``::

    # Dask: a distributed.Client must exist in this process.
    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")
    with joblib.parallel_config(backend="dask"):
        evaluate_many(dfas, n_jobs=-1)

    # Ray: register the backend once, then select it.
    from ray.util.joblib import register_ray
    register_ray()
    with joblib.parallel_config(backend="ray"):
        evaluate_many(dfas, n_jobs=-1)
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from automata.dfa import DFA, check_tables
from automata.errors import AutomatonError

__all__ = ["evaluate_many", "evaluate_tables", "DEFAULT_CHUNK_SECONDS"]

#: Target amount of work per chunk sent to a worker.
DEFAULT_CHUNK_SECONDS = 1.0
#: The batch kernel of automata.sync handles at most this many states.
_BATCH_MAX_STATES = 64


def _batch_kernel(tables: np.ndarray) -> np.ndarray:
    from automata.sync import reset_lengths

    return np.asarray(reset_lengths(tables), dtype=np.int64)


def _single_kernel(tables: np.ndarray) -> np.ndarray:
    # Beyond the batch kernel's 64 states, one exact search per automaton.
    from automata.sync import reset_length

    out = np.empty(len(tables), dtype=np.int64)
    for i, table in enumerate(tables):
        # One thread: the workers already run side by side, one automaton each.
        rt = reset_length(DFA(table), threads=1)
        out[i] = -1 if rt is None else rt
    return out


def _evaluate_chunk(tables: np.ndarray) -> np.ndarray:
    """Reset lengths of a stack of same-shape tables; -1 where not synchronizing."""
    if tables.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    if tables.shape[2] <= _BATCH_MAX_STATES:
        return _batch_kernel(tables)
    return _single_kernel(tables)


def evaluate_tables(deltas, *, n_jobs: int = 1, chunk_size: int | None = None,
                    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
                    kernel: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Exact reset lengths of a stack of transition tables, optionally in parallel.

    Parameters
    ----------
    deltas : int array, shape (m, n_letters, n_states)
        The automata, ``deltas[i, a, q]`` = image of state ``q`` under letter ``a``.
    n_jobs : int
        Worker count for joblib (``-1``: all cores). ``1`` runs in this process.
    chunk_size : int, optional
        Automata per chunk. By default it is measured: a small first chunk is
        timed here and the rest is cut into chunks of about ``chunk_seconds``.
    chunk_seconds : float
        Target work per chunk when ``chunk_size`` is not given.
    kernel : callable, optional
        ``tables -> int64 reset lengths`` (-1 when not synchronizing); the
        default is :func:`automata.sync.reset_lengths` (or one exact search
        per automaton above 64 states). Must be picklable for other backends.

    Returns
    -------
    numpy.ndarray of int64, shape (m,)
        Reset length per automaton, ``-1`` where it is not synchronizing.

    Examples
    --------
    >>> tables = np.array([[[1, 2, 0], [0, 1, 0]], [[1, 0, 2], [0, 1, 2]]])
    >>> evaluate_tables(tables).tolist()
    [4, -1]
    """
    tables = check_tables(deltas)
    kernel = kernel or _evaluate_chunk
    m = tables.shape[0]
    if m == 0:
        return np.empty(0, dtype=np.int64)
    if n_jobs == 1:
        return np.asarray(kernel(tables), dtype=np.int64)
    if chunk_size is not None and chunk_size < 1:
        raise AutomatonError(f"chunk_size must be positive, got {chunk_size}")
    from joblib import Parallel, delayed

    out = np.empty(m, dtype=np.int64)
    start = 0
    if chunk_size is None:
        # Time a small probe here: it sizes the chunks and is work done anyway.
        probe = min(m, 64)
        t0 = time.perf_counter()
        out[:probe] = kernel(tables[:probe])
        per_item = max((time.perf_counter() - t0) / probe, 1e-7)
        chunk_size = max(1, int(chunk_seconds / per_item))
        start = probe
    if start < m:
        bounds = [(lo, min(lo + chunk_size, m)) for lo in range(start, m, chunk_size)]
        if len(bounds) == 1:
            lo, hi = bounds[0]
            out[lo:hi] = kernel(tables[lo:hi])
        else:
            results = Parallel(n_jobs=n_jobs)(delayed(kernel)(tables[lo:hi]) for lo, hi in bounds)
            for (lo, hi), res in zip(bounds, results):
                out[lo:hi] = res
    return out


def evaluate_many(dfas: Sequence[DFA], *, n_jobs: int = 1, chunk_size: int | None = None,
                  chunk_seconds: float = DEFAULT_CHUNK_SECONDS) -> list[int | None]:
    """Exact reset length of every automaton, in parallel with joblib.

    Automata of different sizes may be mixed; each shape is batched apart.

    Parameters
    ----------
    dfas : sequence of DFA
    n_jobs : int
        joblib worker count (``-1``: all cores); the backend comes from the
        surrounding ``joblib.parallel_config`` (loky, dask, ray, ...).
    chunk_size, chunk_seconds
        See :func:`evaluate_tables`.

    Returns
    -------
    list of (int or None)
        Reset lengths in input order; None for a non-synchronizing automaton.

    Examples
    --------
    >>> from automata import DFA
    >>> evaluate_many([DFA([[1, 2, 0], [0, 1, 0]]), DFA([[1, 0], [0, 1]])])
    [4, None]
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for i, dfa in enumerate(dfas):
        if not isinstance(dfa, DFA):
            raise AutomatonError(f"expected an automata.DFA, got {type(dfa).__name__}")
        groups.setdefault(dfa.delta.shape, []).append(i)
    result: list[int | None] = [None] * len(dfas)
    for shape, indices in groups.items():
        tables = np.stack([dfas[i].delta for i in indices])
        rts = evaluate_tables(tables, n_jobs=n_jobs, chunk_size=chunk_size,
                              chunk_seconds=chunk_seconds)
        for i, rt in zip(indices, rts.tolist()):
            result[i] = None if rt < 0 else int(rt)
    return result
