"""``search_extreme``: run one search method under a budget, with checkpoints and results."""
from __future__ import annotations

import contextlib
import copy
import importlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from automata.atomic import atomic_path, atomic_write_text, remove_stale_temps
from automata.dfa import DFA
from automata.dirlock import DirectoryLock
from automata.errors import AutomatonError
from seqvae.errors import SearchError
from seqvae.hunt.search.candidate_log import logged_count, repair_candidate_log
from seqvae.hunt.search.core import (
    CHECKPOINT_NAME,
    Canonicaliser,
    Evaluator,
    SearchContext,
    Snapshot,
    Verifier,
    cerny_bound,
    compact,
    h_level,
    load_checkpoint,
    make_evaluator,
    save_checkpoint,
)
from seqvae.hunt.search.discoveries import unnamed_slow_automata
from seqvae.signals import sigterm_as_interrupt

__all__ = [
    "METHODS", "METHOD_CLASSES", "SearchResult", "search_extreme", "check_arguments",
    "load_start_automata", "method_class", "method_config",
]

#: The search methods: name -> (module of this package, class). A new method is a
#: :class:`~seqvae.hunt.search.baselines.SearchMethod` subclass with its config class
#: (:mod:`.config`), added here. Imported on first use, so that the baselines never
#: import torch.
METHOD_CLASSES = {
    "random": ("baselines", "RandomSearch"),
    "evolve": ("evolve", "EvolutionarySearch"),
    "vae": ("latent_search", "LatentSearch"),
    "hybrid": ("latent_search", "HybridSearch"),
    "boost": ("boost", "BoostSearch"),
}
#: Method names accepted by :func:`search_extreme`.
METHODS = tuple(METHOD_CLASSES)
#: Stop after this many consecutive steps that found nothing new (tiny spaces).
MAX_IDLE_STEPS = 200


def method_class(name: str):
    """The :class:`~seqvae.hunt.search.baselines.SearchMethod` subclass of a method name."""
    if name not in METHOD_CLASSES:
        raise SearchError(f"unknown search method {name!r}; choose one of {', '.join(METHODS)}")
    module, cls = METHOD_CLASSES[name]
    return getattr(importlib.import_module(f".{module}", __package__), cls)


def method_config(name: str, options: dict | None = None):
    """The config of method ``name`` from its keyword options (validated).

    >>> method_config("evolve", {"population": 64}).population
    64
    """
    return method_class(name).config_class.from_options(options)


@dataclass
class SearchResult:
    """Outcome of :func:`search_extreme`.

    ``top`` holds dicts ``{automaton, reset_length, ratio, family}``
    (automaton in compact form, family from :func:`automata.families.identify_family`
    or ``"new"``); ``tables``/``rts`` every distinct automaton evaluated, in
    evaluation order (canonical forms).
    """

    method: str
    n_states: int
    n_letters: int
    budget: int
    seed: int
    evaluations: int
    best_reset_length: int
    evaluations_to_best: int
    first_cerny_at: int | None
    slow_found: int
    top: list[dict]
    counterexamples: list[dict]
    stopped: str
    steps: int
    elapsed: float
    proposed: int
    duplicates: int
    tables: np.ndarray = field(repr=False)
    rts: np.ndarray = field(repr=False)
    out_dir: str | None = None
    #: Automata at rt >= n²-4n+6 in no known family, with a shortest reset word each.
    new_slow: list[dict] = field(default_factory=list)

    @property
    def cerny_bound(self) -> int:
        return cerny_bound(self.n_states)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("tables", "rts")}
        d["cerny_bound"] = self.cerny_bound
        d["best_ratio"] = (self.best_reset_length / self.cerny_bound
                           if self.cerny_bound and self.best_reset_length >= 0 else None)
        d["slow_threshold"] = h_level(self.n_states)
        return d

    def frame(self):
        """All distinct candidates as a pandas DataFrame (evaluation order)."""
        import pandas as pd

        bound = self.cerny_bound or 1
        return pd.DataFrame({
            "order": np.arange(1, len(self.rts) + 1),
            "automaton": [compact(t) for t in self.tables],
            "reset_length": self.rts.astype(np.int64),
            "ratio": np.where(self.rts >= 0, self.rts / bound, np.nan),
        })


def _family(table: np.ndarray) -> str:
    from automata.families import identify_family

    try:
        name = identify_family(DFA(table))
    except AutomatonError:
        name = None
    return name or "new"


def _leaderboard(ctx: SearchContext, count: int) -> list[dict]:
    bound = cerny_bound(ctx.n_states) or 1
    rows = []
    for i in ctx.archive.top(count):
        rt = int(ctx.archive.rts[i])
        if rt < 0:
            break
        table = ctx.archive.tables[i].astype(np.int32)
        rows.append({"automaton": compact(table), "reset_length": rt,
                     "ratio": round(rt / bound, 4), "family": _family(table),
                     "evaluation": int(i) + 1})
    return rows


def load_start_automata(start_from, n_states: int, n_letters: int) -> list[DFA]:
    """Read (or check) the automata a search starts from; SearchError on a size mismatch."""
    if isinstance(start_from, (str, os.PathLike)):
        from automata.formats import read_automata

        dfas = read_automata(start_from)
    else:
        dfas = list(start_from)
    for dfa in dfas:
        if not isinstance(dfa, DFA):
            raise SearchError(f"start automata must be DFAs, got {type(dfa).__name__}")
        if (dfa.n_states, dfa.n_letters) != (n_states, n_letters):
            raise SearchError(
                f"start automaton has {dfa.n_states} states and {dfa.n_letters} letters; "
                f"the search is over {n_states} states and {n_letters} letters")
    if not dfas:
        raise SearchError("no automata in the start file")
    return dfas


def holds_a_search(out_dir) -> bool:
    """Whether ``out_dir`` holds (part of) a search: a checkpoint, a candidate log or results."""
    out = Path(out_dir)
    return any((out / name).exists() for name in (CHECKPOINT_NAME, "leaderboard.json")) or \
        logged_count(out) > 0


def check_arguments(n_states: int, n_letters: int, method: str, budget: int, *,
                    time_limit: float | None = None, resume: bool = False,
                    out_dir=None, overwrite: bool = False) -> None:
    """Raise SearchError on arguments :func:`search_extreme` would refuse."""
    if not isinstance(n_states, (int, np.integer)) or not 2 <= n_states <= 64:
        raise SearchError(f"n_states must be between 2 and 64, got {n_states}")
    if not isinstance(n_letters, (int, np.integer)) or not 1 <= n_letters <= 8:
        raise SearchError(f"n_letters must be between 1 and 8, got {n_letters}")
    if budget < 1:
        raise SearchError(f"budget must be positive, got {budget}")
    if method not in METHODS:
        raise SearchError(f"unknown search method {method!r}; choose one of {', '.join(METHODS)}")
    if time_limit is not None and time_limit <= 0:
        raise SearchError(f"time limit must be positive, got {time_limit}")
    if resume and out_dir is None:
        raise SearchError("resuming needs the output directory of the run to continue")
    if resume and overwrite:
        raise SearchError("resume and overwrite exclude each other")
    if out_dir is not None and not resume and not overwrite and holds_a_search(out_dir):
        raise SearchError(f"{out_dir} holds a search: continue it (--resume) or replace it "
                          "(--overwrite)")


def check_model_run(model) -> None:
    """SearchError unless ``model`` is a run directory trained on automata (the latent
    search decodes automata; a strings run has no automaton tokenizer)."""
    from seqvae.errors import RunError
    from seqvae.rundir import RunDir

    try:
        config = RunDir(model).read_config()
    except RunError as exc:
        raise SearchError(f"--model: {exc}") from None
    domain = config.get("domain") if isinstance(config, dict) else None
    name = domain.get("name") if isinstance(domain, dict) else None
    if name != "automata":
        raise SearchError(f"--model {model} is a run of the {str(name)[:40]!r} domain; "
                          "search-extreme needs a run trained on automata")


def search_extreme(n_states: int, n_letters: int = 2, method: str = "evolve", budget: int = 10_000,
                   *, seed: int = 0, time_limit: float | None = None, model: str | None = None,
                   jobs: int = 1, out_dir: str | os.PathLike | None = None, resume: bool = False,
                   start_from: str | os.PathLike | Sequence[DFA] | None = None,
                   evaluator: Evaluator | None = None, canonicaliser: Canonicaliser | None = None,
                   verifier: Verifier | None = None,
                   progress: Callable[[int], None] | None = None,
                   status: Callable[[dict], None] | None = None,
                   log: Callable[[str], None] | None = None,
                   checkpoint_seconds: float = 30.0, checkpoint_steps: int = 0, top: int = 10,
                   method_options: dict | None = None, write_results: bool = True,
                   config=None, device=None, overwrite: bool = False) -> SearchResult:
    """Search for automata with the longest shortest reset words.

    Parameters
    ----------
    n_states, n_letters : int
        Size of the automata searched (2 <= n_states <= 64, 1 <= n_letters <= 8).
    method : {"random", "evolve", "vae", "hybrid", "boost"}
    budget : int
        Number of exact evaluations of DISTINCT automata (up to isomorphism).
        Candidates already seen are not re-evaluated and cost nothing.
    seed : int
        Seed of the one random generator driving the search.
    time_limit : float, optional
        Wall-clock seconds; the search stops at the next step boundary
        (with a checkpoint when ``out_dir`` is given, so it can be resumed).
    model : path, optional
        Run directory of a trained model (``vae``/``hybrid``/``boost``); without
        it those methods train a small starting model first.
    jobs : int
        Worker processes for exact evaluation (joblib, see :mod:`automata.parallel`).
    out_dir : path, optional
        Where ``checkpoint.npz``, ``candidates.parquet``/``.csv``,
        ``leaderboard.json``, ``top.txt`` and any ``counterexample_*.txt`` go;
        ``candidate_log/`` receives every evaluated candidate in Parquet
        chunks while the search runs (:mod:`.candidate_log`).
    resume : bool
        Continue from ``out_dir/checkpoint.npz``; the final result equals
        that of an uninterrupted run with the same seed and budget.
    start_from : path or list of DFA, optional
        Automata evaluated first and handed to the method as a starting population.
    evaluator, canonicaliser, verifier : callables, optional
        Replace the exact batch evaluator, the canonical form or the
        independent BFS re-check (tests inject fakes here).
    progress : callable, optional
        Called with the number of new distinct evaluations after each batch.
    status : callable, optional
        Called after each step with ``{"evaluations", "best_reset_length", "steps"}``.
    log : callable, optional
        Receives human-readable messages (model training, restarts).
    checkpoint_seconds, checkpoint_steps : optional
        With ``out_dir``: write ``checkpoint.npz`` when this many seconds have passed
        since the last one (30), and also every so many steps (0: off). SIGTERM
        stops the search like Ctrl-C: back to the last step boundary, checkpoint
        written, KeyboardInterrupt raised.
    method_options : dict, optional
        The method's options as keywords (``{"population": 64}``; ``boost`` and
        ``hybrid`` take evolve's under ``"evolve_options"``), applied over ``config``.
    config : optional
        The method's options as its config (:class:`~.config.EvolveConfig`,
        :class:`~.config.BoostConfig`, ... see :func:`method_config`).
    device : torch.device, optional
        Where the VAE of ``vae``, ``hybrid`` and ``boost`` runs (default: the CPU).

    Returns
    -------
    SearchResult

    Raises
    ------
    SearchError
        On bad sizes, an unknown method, a bad method option
        (:class:`~.config.OptionError`), a bad start file or a checkpoint of another
        search.

    Examples
    --------
    >>> r = search_extreme(4, 2, "evolve", budget=200, seed=1, write_results=False)
    >>> r.best_reset_length
    9
    """
    check_arguments(n_states, n_letters, method, budget, time_limit=time_limit, resume=resume,
                    out_dir=out_dir, overwrite=overwrite)
    if model is not None and method in ("vae", "hybrid"):
        check_model_run(model)
    out = Path(out_dir) if out_dir is not None else None
    with contextlib.ExitStack() as held:
        if out is not None:  # one search writes a directory at a time
            held.enter_context(DirectoryLock(out, what=f"search-extreme n={n_states} {method}"))
            # checked again under the lock: another search may have started meanwhile
            check_arguments(n_states, n_letters, method, budget, resume=resume, out_dir=out,
                            overwrite=overwrite)
            if not resume:  # a fresh run starts a fresh candidate log and results
                repair_candidate_log(out, np.zeros((0, n_letters, n_states), np.int8),
                                     np.zeros(0))
                for name in (CHECKPOINT_NAME, "leaderboard.json"):
                    (out / name).unlink(missing_ok=True)
            remove_stale_temps(out)  # what a killed save left behind
        return _search(n_states, n_letters, method, budget, seed, time_limit, model, jobs, out,
                       resume, start_from, evaluator, canonicaliser, verifier, progress, status,
                       log, checkpoint_seconds, checkpoint_steps, top, method_options,
                       write_results, config, device)


def _search(n_states, n_letters, method, budget, seed, time_limit, model, jobs, out, resume,
            start_from, evaluator, canonicaliser, verifier, progress, status, log,
            checkpoint_seconds, checkpoint_steps, top, method_options, write_results, config,
            device) -> SearchResult:
    start_tables = None
    if start_from is not None:
        dfas = load_start_automata(start_from, n_states, n_letters)
        start_tables = np.stack([d.delta for d in dfas]).astype(np.int32)

    rng = np.random.default_rng(seed)
    ctx = SearchContext(n_states, n_letters, budget, rng,
                        evaluator=evaluator or make_evaluator(jobs),
                        canonicaliser=canonicaliser, verifier=verifier, out_dir=out,
                        progress=progress)
    options = dict(method_options or {})
    if method in ("vae", "hybrid", "boost"):
        options.setdefault("model", model)
        options.setdefault("log", log)
        if device is not None:
            options.setdefault("device", device)
    driver = _Driver(ctx, method_class(method)(ctx, config, **options), rng,
                     {"method": method, "n_states": n_states, "n_letters": n_letters,
                      "seed": seed},
                     out / CHECKPOINT_NAME if out is not None else None)
    if resume:
        driver.resume(progress)
    elif start_tables is not None:
        driver.seed(start_tables)
    try:
        with sigterm_as_interrupt():
            stopped = driver.run(time_limit, status, checkpoint_seconds, checkpoint_steps)
    except KeyboardInterrupt:
        snap = driver.roll_back()
        if driver.checkpoint is not None and write_results:
            _write_results(out, _result(ctx, method, budget, seed, "interrupted", snap.steps,
                                        snap.elapsed, top, out))
        raise
    driver.save()
    if out is not None:  # the log must hold every evaluation, whatever happened to its files
        repair_candidate_log(out, ctx.archive.tables, ctx.archive.rts)
    result = _result(ctx, method, budget, seed, stopped, driver.steps, driver.elapsed(), top, out)
    if out is not None and write_results:
        _write_results(out, result)
    return result


class _Driver:
    """Runs a search method step by step: resume, time and idle limits, checkpoints, and
    the snapshot of the last step boundary that an interrupted search rolls back to."""

    def __init__(self, ctx: SearchContext, strategy, rng: np.random.Generator, meta: dict,
                 checkpoint: Path | None):
        self.ctx, self.strategy, self.rng, self.meta = ctx, strategy, rng, meta
        self.checkpoint = checkpoint
        self.steps, self.elapsed_before = 0, 0.0
        self.t0 = time.perf_counter()
        self.snap: Snapshot | None = None

    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self.t0)

    def resume(self, progress: Callable[[int], None] | None) -> None:
        """Continue from the checkpoint (of the same search)."""
        if self.checkpoint is None or not self.checkpoint.exists():
            where = self.checkpoint.parent if self.checkpoint is not None else None
            raise SearchError(f"nothing to resume: no {CHECKPOINT_NAME} in {where}")
        doc, tables, rts = load_checkpoint(self.checkpoint)
        for key, value in self.meta.items():
            if doc["meta"].get(key) != value:
                raise SearchError(f"checkpoint in {self.checkpoint.parent} is for "
                                  f"{key}={doc['meta'].get(key)!r}, not {value!r}")
        self.ctx.archive.add(tables, rts)
        repair_candidate_log(self.checkpoint.parent, tables, rts)
        self.ctx.load_counters(doc["counters"])
        self.rng.bit_generator.state = doc["rng_state"]
        self.strategy.load_state_dict(doc["method_state"])
        self.steps, self.elapsed_before = int(doc["steps"]), float(doc["elapsed"])
        if progress is not None and len(tables):
            progress(len(tables))

    def seed(self, start_tables: np.ndarray) -> None:
        """Evaluate the start automata and hand them to the method."""
        canon, rts = self.ctx.evaluate(start_tables)
        keep = rts >= -1
        self.strategy.seed(canon[keep], rts[keep])

    def snapshot(self) -> Snapshot:
        return Snapshot(self.ctx.archive.size, copy.deepcopy(self.ctx.counters()),
                        copy.deepcopy(self.rng.bit_generator.state),
                        copy.deepcopy(self.strategy.state_dict()), self.steps, self.elapsed(),
                        self.meta)

    def run(self, time_limit: float | None, status: Callable[[dict], None] | None,
            checkpoint_seconds: float, checkpoint_steps: int = 0) -> str:
        """Step until the budget, the time limit or the supply of new automata runs out;
        returns why it stopped."""
        ctx = self.ctx
        self.t0 = time.perf_counter()
        last_checkpoint = self.t0
        self.snap = self.snapshot()
        idle = 0
        while not ctx.exhausted:
            if time_limit is not None and self.elapsed() >= time_limit:
                return "time limit"
            if idle >= MAX_IDLE_STEPS:
                return "no new automata"
            before = ctx.evaluations
            self.strategy.step()
            self.steps += 1
            idle = idle + 1 if ctx.evaluations == before else 0
            self.snap = self.snapshot()
            if status is not None:
                status({"evaluations": ctx.evaluations, "best_reset_length": ctx.best_rt,
                        "steps": self.steps})
            if self.checkpoint is not None and (
                    time.perf_counter() - last_checkpoint >= checkpoint_seconds
                    or (checkpoint_steps and self.steps % checkpoint_steps == 0)):
                save_checkpoint(self.checkpoint, ctx, self.snap)
                last_checkpoint = time.perf_counter()
        return "budget"

    def roll_back(self) -> Snapshot:
        """Back to the last step boundary (Ctrl-C mid-step), saved so --resume replays exactly."""
        snap = self.snap if self.snap is not None else self.snapshot()
        self.ctx.archive.truncate(snap.archive_size)
        self.ctx.load_counters(snap.counters)
        if self.checkpoint is not None:
            save_checkpoint(self.checkpoint, self.ctx, snap)
        return snap

    def save(self) -> None:
        if self.checkpoint is not None:
            save_checkpoint(self.checkpoint, self.ctx, self.snap or self.snapshot())


def _result(ctx: SearchContext, method: str, budget: int, seed: int, stopped: str, steps: int,
            elapsed: float, top: int, out: Path | None) -> SearchResult:
    rts = ctx.archive.rts.copy()
    return SearchResult(
        method=method, n_states=ctx.n_states, n_letters=ctx.n_letters, budget=budget, seed=seed,
        evaluations=ctx.evaluations, best_reset_length=int(ctx.best_rt),
        evaluations_to_best=int(ctx.evaluations_to_best), first_cerny_at=ctx.first_cerny_at,
        slow_found=int(np.sum(rts >= h_level(ctx.n_states))),
        top=_leaderboard(ctx, top), counterexamples=[c.to_dict() for c in ctx.counterexamples],
        stopped=stopped, steps=steps, elapsed=round(elapsed, 3), proposed=ctx.proposed,
        duplicates=ctx.duplicates, tables=ctx.archive.tables.astype(np.int32), rts=rts,
        out_dir=str(out) if out is not None else None,
        new_slow=unnamed_slow_automata(ctx.archive.tables, rts, h_level(ctx.n_states)))


def _write_results(out: Path, result: SearchResult) -> None:
    from automata.formats import format_text

    frame = result.frame()
    with atomic_path(out / "candidates.parquet", within=out) as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(out / "candidates.csv", within=out) as tmp:
        frame.to_csv(tmp, index=False)
    atomic_write_text(out / "leaderboard.json", json.dumps(result.to_dict(), indent=2) + "\n",
                      within=out)
    from automata.formats import parse_compact

    best = [parse_compact(row["automaton"]) for row in result.top]
    if best:
        atomic_write_text(out / "top.txt", format_text(best), within=out)
