"""``seqvae hunt``: a catalogue of slowly synchronizing automata, one size after another.

The size ladder needs no file from the user:

1. At the first size, the pruned census (:func:`automata.census_pruned.pruned_census`)
   lists *every* class with ``rt >= n² − 4n + 6`` (the level of the H_n series, the
   lowest of the known slow series): the ground truth.
2. At each next size, a search lifts the previous size's list: each slow automaton
   gets one more state, which takes over arrows and copies images of a twin; a
   learned reset-length surrogate ranks the lifts before any is solved, and evolve
   climbs from the best (``boost`` with ranked lifts, the generative prior and the
   VAE off: the combination that measured best on the census sizes, see the
   search results page). Every automaton it evaluates at or above the level joins
   the catalogue, and the list of that size seeds the next.

Each size is kept under ``DIR/n{n}/`` (the census chunks or the search's
checkpoint and candidate log, the slow list ``slow.txt`` and ``size.json``), so
a killed ladder resumes with the size it was on; finished sizes are read back,
never recomputed. :mod:`seqvae.hunt.catalogue` writes the catalogue.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from automata.atomic import atomic_write_text
from automata.census_files import claim_manifest, read_json_file
from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.formats import format_compact, parse_compact, write_automata
from seqvae.errors import SearchError

__all__ = ["slow_level", "SizeResult", "hunt", "DEFAULT_BUDGET", "MAX_HUNT_STATES"]

#: Evaluations per searched size (the census size costs none).
DEFAULT_BUDGET = 200_000
#: The census's reach: binary n = 9 in about an hour of CPU, ternary n = 6.
MAX_CENSUS_STATES = 10
#: Largest size the ladder climbs to (the search's own limit is 64).
MAX_HUNT_STATES = 32


def slow_level(n_states: int) -> int:
    """``n² − 4n + 6``: the reset length of H_n, the lowest known slow series.

    >>> [slow_level(n) for n in (7, 8, 9, 10)]
    [27, 38, 51, 66]
    """
    return n_states * n_states - 4 * n_states + 6


@dataclass
class SizeResult:
    """The slow classes of one size: how they were found and each one's facts."""

    n_states: int
    threshold: int
    method: str                     # "census" or "lifts"
    evaluations: int
    seconds: float
    classes: list[dict] = field(default_factory=list)   # automaton, reset_length, found_at

    def to_dict(self) -> dict:
        return {"n": self.n_states, "threshold": self.threshold, "method": self.method,
                "evaluations": self.evaluations, "seconds": round(self.seconds, 3),
                "classes": self.classes}

    @classmethod
    def from_dict(cls, d: dict) -> "SizeResult":
        return cls(int(d["n"]), int(d["threshold"]), str(d["method"]), int(d["evaluations"]),
                   float(d["seconds"]), [dict(c) for c in d["classes"]])


def _check(n_letters: int, first: int, last: int, budget: int) -> None:
    if not 1 <= n_letters <= 3:
        raise SearchError(f"the hunt runs on 1 to 3 letters, got {n_letters}")
    if not 3 <= first <= MAX_CENSUS_STATES:
        raise SearchError(f"--from must be between 3 and {MAX_CENSUS_STATES} (the census "
                          f"starts the ladder), got {first}")
    if not first <= last <= MAX_HUNT_STATES:
        raise SearchError(f"--to must be between --from ({first}) and {MAX_HUNT_STATES}, got {last}")
    if budget < 1:
        raise SearchError(f"the budget per size must be positive, got {budget}")


def _census_size(n: int, k: int, folder: Path, resume: bool, jobs: int,
                 progress: Callable[[str, int, int], None] | None) -> SizeResult:
    from automata.census_pruned import pruned_census

    started = time.perf_counter()
    level = slow_level(n)
    result = pruned_census(
        n, k, level, n_jobs=jobs, out_dir=folder / "census", resume=resume,
        progress=None if progress is None else (lambda c, done, total: progress("census", done,
                                                                                total)))
    classes = [{"automaton": format_compact(dfa), "reset_length": int(rt), "found_at": 0}
               for dfa, rt in result.ranked()]
    return SizeResult(n, level, "census", 0, time.perf_counter() - started, classes)


def _lift_size(n: int, k: int, folder: Path, previous: Path, budget: int, seed: int,
               jobs: int, resume: bool, progress) -> SizeResult:
    from seqvae.hunt.search.runner import search_extreme

    started = time.perf_counter()
    level = slow_level(n)
    out = folder / "search"
    options = {"vae_samples": 0, "prior_samples": 0,
               "evolve": {"lift_from": str(previous), "lift_share": 1.0,
                          "lift_any_images": True, "lift_arrows": 2}}
    # A size killed mid-search continues from its checkpoint; one killed before its first
    # checkpoint starts again.
    resuming = resume and (out / "checkpoint.npz").exists()
    result = search_extreme(
        n, k, "boost", budget, seed=seed, jobs=jobs, out_dir=out,
        resume=resuming, overwrite=not resuming,
        method_options=options,
        progress=None if progress is None else (lambda done: progress("lifts", done, budget)))
    rts = np.asarray(result.rts)
    idx = np.flatnonzero(rts >= level)
    idx = idx[np.lexsort((idx, -rts[idx]))]
    classes = [{"automaton": format_compact(DFA(np.asarray(result.tables[i], dtype=np.int32))),
                "reset_length": int(rts[i]), "found_at": int(i) + 1} for i in idx.tolist()]
    return SizeResult(n, level, "lifts", int(result.evaluations), time.perf_counter() - started,
                      classes)


def _finished(folder: Path) -> SizeResult | None:
    path = folder / "size.json"
    if not path.exists():
        return None
    try:
        return SizeResult.from_dict(read_json_file(path))
    except (AutomatonError, KeyError, TypeError, ValueError) as exc:
        raise SearchError(f"{path} is not a finished size of a hunt: {exc}") from None


def hunt(n_letters: int, first: int, last: int, out_dir: str | Path, *,
         budget: int = DEFAULT_BUDGET, seed: int = 0, jobs: int = 1, resume: bool = False,
         progress: Callable[[int, str, int, int], None] | None = None,
         on_size: Callable[[SizeResult], None] | None = None) -> list[SizeResult]:
    """Climb from ``first`` to ``last`` states; returns one :class:`SizeResult` per size.

    Parameters
    ----------
    n_letters : int
    first, last : int
        The census size and the largest size searched.
    out_dir : path
        Where every size is kept (``DIR/n{n}/``); a directory of a hunt is refused
        unless ``resume``.
    budget : int
        Evaluations per searched size.
    seed, jobs : int
        The searches' seed; workers of the census and of the exact evaluations.
    progress : callable, optional
        ``progress(n, stage, done, total)`` with ``stage`` ``"census"`` or ``"lifts"``.
    on_size : callable, optional
        Called with each size's result as soon as it is known (finished sizes too).

    Examples
    --------
    >>> import tempfile
    >>> sizes = hunt(2, 4, 5, tempfile.mkdtemp(), budget=300)
    >>> [(s.n_states, s.threshold, len(s.classes)) for s in sizes]
    [(4, 6, 39), (5, 11, 16)]
    """
    from automata.dirlock import DirectoryLock

    _check(n_letters, first, last, budget)
    root = Path(out_dir)
    manifest = {"format": 1, "n_letters": n_letters, "from": first, "budget": budget,
                "seed": seed}
    with DirectoryLock(root, what=f"hunt k={n_letters} from n={first}"):
        claim_manifest(root / "hunt.json", manifest, resume, "a hunt", SearchError)
        results: list[SizeResult] = []
        previous: Path | None = None
        for n in range(first, last + 1):
            folder = root / f"n{n}"
            done = _finished(folder) if resume else None
            if done is None:
                size_progress = None if progress is None else (
                    lambda stage, d, t, n=n: progress(n, stage, d, t))
                if n == first:
                    done = _census_size(n, n_letters, folder, resume, jobs, size_progress)
                else:
                    done = _lift_size(n, n_letters, folder, previous, budget, seed, jobs,
                                      resume, size_progress)
                write_automata(folder / "slow.txt",
                               [parse_compact(c["automaton"]) for c in done.classes], "compact")
                atomic_write_text(folder / "size.json", json.dumps(done.to_dict(), indent=1),
                                  within=folder)
            results.append(done)
            if on_size is not None:
                on_size(done)
            previous = folder / "slow.txt"
            if not done.classes:
                break  # nothing slow to lift: the ladder ends here
        return results
