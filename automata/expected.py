"""The shortest reset length of random automata: its mean and distribution, by exact solving.

For uniformly random binary automata Kisielewicz, Kowalski and Szykuła (2013)
fitted the mean shortest reset length as about ``2.5·√(n − 5)``. This module
estimates it, for any size and alphabet, from exact reset lengths of sampled
automata: the mean with a 95 % confidence interval (normal approximation,
``mean ± 1.96·sd/√m``), quantiles and the histogram, beside the published fit.

Sampling: automaton ``i`` of size ``(n, k)`` under seed ``s`` has every
transition drawn uniformly from its own generator
``numpy.random.default_rng([s, n, k, i])``, so a sample does not depend on how
the work was cut or ordered, and a resumed or distributed run draws exactly
the automata a single run would. Automata that do not synchronize (a share
that shrinks like 1/n for binary ones) are counted and left out of the
statistics of reset lengths.

The work is cut into chunks of samples; chunks run through joblib (any joblib
backend: local processes, or a Dask cluster) and, with an output directory,
each finished chunk is kept (atomically, with a SHA-256), so that a killed run
resumes where it stopped. A kept chunk is data: it is reused only when its
checksum holds and every value is a possible reset length of its size;
anything else is recomputed.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from automata.atomic import atomic_write_text
from automata.census_files import claim_manifest, read_json_file
from automata.dirlock import DirectoryLock
from automata.errors import AutomatonError

__all__ = ["SizeEstimate", "expected_reset_lengths", "sample_tables", "published_fit",
           "chunk_lengths"]

_FORMAT = 1
#: Samples per chunk: a few seconds of work at n = 200, so a killed run loses little.
DEFAULT_CHUNK = 25


def published_fit(n_states: int) -> float:
    """Kisielewicz–Kowalski–Szykuła's fit of the mean for random binary automata, 2.5·√(n − 5).

    >>> round(published_fit(100), 1)
    24.4
    """
    return 2.5 * math.sqrt(max(n_states - 5, 0))


def sample_tables(n_states: int, n_letters: int, seed: int, first: int, count: int) -> np.ndarray:
    """Tables ``(count, n_letters, n_states)`` of samples ``first .. first + count - 1``.

    >>> a = sample_tables(6, 2, 0, 0, 3)
    >>> bool((sample_tables(6, 2, 0, 1, 1)[0] == a[1]).all())
    True
    """
    out = np.empty((count, n_letters, n_states), dtype=np.int64)
    for j in range(count):
        rng = np.random.default_rng([seed, n_states, n_letters, first + j])
        out[j] = rng.integers(0, n_states, size=(n_letters, n_states))
    return out


def chunk_lengths(n_states: int, n_letters: int, seed: int, first: int, count: int) -> list[int]:
    """Exact reset lengths (-1: not synchronizing) of one chunk of samples."""
    from automata.dfa import DFA
    from automata.sync import reset_length, reset_lengths

    tables = sample_tables(n_states, n_letters, seed, first, count)
    if n_states <= 64:
        return [int(v) for v in reset_lengths(tables)]
    out = []
    for table in tables:
        # One thread: the workers already run side by side, one automaton each.
        rt = reset_length(DFA(table), threads=1)
        out.append(-1 if rt is None else int(rt))
    return out


@dataclass
class SizeEstimate:
    """What the samples of one size say: counts, the lengths, and their summary."""

    n_states: int
    n_letters: int
    samples: int
    lengths: np.ndarray        # reset lengths of the synchronizing samples
    seconds: float = 0.0

    @property
    def synchronizing(self) -> int:
        return int(len(self.lengths))

    @property
    def mean(self) -> float | None:
        return float(self.lengths.mean()) if len(self.lengths) else None

    @property
    def ci95(self) -> tuple[float, float] | None:
        m = len(self.lengths)
        if m < 2:
            return None
        half = 1.96 * float(self.lengths.std(ddof=1)) / math.sqrt(m)
        return (self.mean - half, self.mean + half)

    def quantiles(self) -> dict[str, float]:
        if not len(self.lengths):
            return {}
        qs = np.quantile(self.lengths, [0.05, 0.25, 0.5, 0.75, 0.95])
        return dict(zip(("q05", "q25", "median", "q75", "q95"), (float(q) for q in qs)))

    def to_dict(self) -> dict:
        fit = published_fit(self.n_states) if self.n_letters == 2 else None
        ci = self.ci95
        values, counts = np.unique(self.lengths, return_counts=True)
        return {
            "n_states": self.n_states, "n_letters": self.n_letters, "samples": self.samples,
            "synchronizing": self.synchronizing,
            "mean": self.mean, "sd": float(self.lengths.std(ddof=1)) if len(self.lengths) > 1
            else None, "ci95": list(ci) if ci else None, **self.quantiles(),
            "min": int(self.lengths.min()) if len(self.lengths) else None,
            "max": int(self.lengths.max()) if len(self.lengths) else None,
            "histogram": {str(int(v)): int(c) for v, c in zip(values, counts)},
            "published_fit": fit,
            "mean_over_fit": (self.mean / fit) if fit and self.mean is not None else None,
            "seconds": round(self.seconds, 3),
        }


def _check(sizes, n_letters, samples, chunk) -> list[int]:
    sizes = sorted(set(int(n) for n in sizes))
    if not sizes or sizes[0] < 2 or sizes[-1] > 2048:
        raise AutomatonError(f"sizes must be between 2 and 2048 states, got {sizes}")
    if not 1 <= int(n_letters) <= 16:
        raise AutomatonError(f"n_letters must be between 1 and 16, got {n_letters}")
    if int(samples) < 1 or int(chunk) < 1:
        raise AutomatonError(f"samples and chunk must be positive, got {samples} and {chunk}")
    return sizes


def _digest(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _chunk_file(folder: Path, n: int, first: int) -> Path:
    return folder / f"n{n}" / f"chunk_{first:09d}.json"


def _load_chunk(path: Path, n: int, count: int) -> list[int] | None:
    """A kept chunk's lengths, or None (damaged, edited, or impossible values)."""
    try:
        obj = read_json_file(path)
        body = obj["lengths"]
        if obj["sha256"] != _digest(body) or len(body) != count:
            return None
        if not all(isinstance(v, int) and -1 <= v <= (n - 1) ** 2 for v in body):
            return None
        return list(body)
    except (AutomatonError, KeyError, TypeError):
        return None


def expected_reset_lengths(sizes: Iterable[int], n_letters: int = 2, samples: int = 100, *,
                           seed: int = 0, n_jobs: int = 1, backend: str | None = None,
                           out_dir: str | Path | None = None, resume: bool = False,
                           chunk: int = DEFAULT_CHUNK,
                           progress: Callable[[int, int, int], None] | None = None
                           ) -> list[SizeEstimate]:
    """Estimate the shortest reset length of random automata of each size.

    Parameters
    ----------
    sizes : iterable of int
        Numbers of states.
    n_letters : int
    samples : int
        Automata drawn per size.
    seed : int
        Sample ``i`` of size ``n`` is the same for every run with this seed.
    n_jobs, backend
        joblib workers and backend (``"dask"`` with a ``distributed.Client`` open).
    out_dir, resume
        Keep each finished chunk under ``out_dir`` (resumable with ``resume``).
    chunk : int
        Samples per chunk.
    progress : callable, optional
        ``progress(n, done, total)`` after each chunk (``done`` samples of size ``n``).

    Returns
    -------
    list of SizeEstimate, one per size in increasing order

    Examples
    --------
    >>> est = expected_reset_lengths([8], samples=40, chunk=10)[0]
    >>> est.samples, est.synchronizing <= 40, est.mean > 2
    (40, True, True)
    """
    sizes = _check(sizes, n_letters, samples, chunk)
    k, samples, chunk = int(n_letters), int(samples), int(chunk)
    folder = None if out_dir is None else Path(out_dir)
    with contextlib.ExitStack() as held:
        if folder is not None:
            held.enter_context(DirectoryLock(folder, what="automata expected"))
            claim_manifest(folder / "expected.json", {"format": _FORMAT, "n_letters": k,
                                                      "seed": int(seed), "chunk": chunk},
                           resume, "an estimate")
        return [_one_size(n, k, samples, int(seed), chunk, n_jobs, backend, folder, resume,
                          progress) for n in sizes]


def _one_size(n, k, samples, seed, chunk, n_jobs, backend, folder, resume, progress
              ) -> SizeEstimate:
    started = time.perf_counter()
    starts = list(range(0, samples, chunk))
    found: dict[int, list[int]] = {}
    if folder is not None and resume:
        for first in starts:
            path = _chunk_file(folder, n, first)
            if path.exists():
                values = _load_chunk(path, n, min(chunk, samples - first))
                if values is not None:
                    found[first] = values
    todo = [first for first in starts if first not in found]
    done = sum(len(v) for v in found.values())
    with contextlib.ExitStack() as stack:
        if n_jobs == 1 and backend is None:
            stream = ((first, chunk_lengths(n, k, seed, first, min(chunk, samples - first)))
                      for first in todo)
        else:
            import joblib

            if backend is not None:
                stack.enter_context(joblib.parallel_config(backend=backend))
            stream = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                joblib.delayed(_tagged)(n, k, seed, first, min(chunk, samples - first))
                for first in todo)
        for first, values in stream:
            if folder is not None:
                atomic_write_text(_chunk_file(folder, n, first),
                                  json.dumps({"lengths": values, "sha256": _digest(values)}),
                                  within=folder)
            found[first] = values
            done += len(values)
            if progress is not None:
                progress(n, done, samples)
    lengths = np.array([v for first in starts for v in found[first] if v >= 0], dtype=np.int64)
    return SizeEstimate(n, k, samples, lengths, time.perf_counter() - started)


def _tagged(n, k, seed, first, count) -> tuple[int, list[int]]:
    return first, chunk_lengths(n, k, seed, first, count)
