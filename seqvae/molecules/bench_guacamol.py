"""The GuacaMol benchmarks (Brown et al. 2019) of a trained molecule run (``seqvae bench guacamol``).

Two suites, both run by the ``guacamol`` package's own benchmark classes:

* **distribution learning** (validity, uniqueness, novelty, KL divergence of
  physico-chemical descriptors, FCD): the run's prior sampler wrapped as a
  ``DistributionMatchingGenerator``. GuacaMol compares with ChEMBL, which is not
  shipped here; the reference is the run's own training molecules (or a file the
  caller gives), and the result names it under ``reference``, so the figures are
  never mistaken for the published ChEMBL ones.
* **goal-directed** (the 20 tasks of suite v2): the latent optimiser
  (:func:`seqvae.molecules.optimize.optimize_molecules`) wrapped as a
  ``GoalDirectedGenerator``: each task's scoring function is handed to it as a
  callable objective (never a name read from a file), under ``budget`` decoded
  latent points per task.

``guacamol`` 0.5.5 is installed without its dependencies (``pip install --no-deps
guacamol==0.5.5 tqdm``): it requires ``rdkit-pypi``, an old RDKit build for
NumPy 1.x that would replace the installed RDKit and then fail to import. Two
more mismatches with today's packages are bridged here: it imports
``scipy.histogram``, which SciPy 1.12 dropped (it was NumPy's histogram,
re-exported), and its FCD benchmark loads the Keras ``.h5`` ChemNet of fcd 1.1,
where fcd 1.2 ships the same weights as ``.pt`` for PyTorch.
"""
from __future__ import annotations

import time
from typing import Callable, Sequence

from seqvae.errors import DataError, SearchError

__all__ = ["SUITES", "goal_tasks", "select_tasks", "RunSampler", "LatentOptimizer",
           "distribution_benchmark", "goal_directed_benchmark", "require_guacamol"]

#: Names ``--suite`` accepts.
SUITES = ("distribution", "goal", "all")
#: The goal-directed suite run: v2, the one of the paper's Table 2.
GOAL_SUITE_VERSION = "v2"
INSTALL_HINT = ("pip install --no-deps guacamol==0.5.5 tqdm (--no-deps: its rdkit-pypi "
                "requirement would replace the installed RDKit)")


def require_guacamol():
    """The ``guacamol`` package, importable with today's SciPy; a typed error without it.

    Raises
    ------
    ChemistryUnavailableError
        guacamol (or tqdm, which it imports) is not installed.
    """
    import numpy
    import scipy

    from seqvae.molecules.chem.errors import ChemistryUnavailableError

    if not hasattr(scipy, "histogram"):
        # guacamol.utils.chemistry does `from scipy import histogram`; SciPy < 1.12 exported
        # numpy.histogram under that name, so restoring the alias changes no result.
        scipy.histogram = numpy.histogram
    try:
        import guacamol
        import guacamol.utils.chemistry  # noqa: F401  (where the scipy import lives)
    except ImportError as exc:
        raise ChemistryUnavailableError(f"the GuacaMol benchmarks need the guacamol package "
                                        f"({exc}); install it with: {INSTALL_HINT}") from None
    return guacamol


class RunSampler:
    """A run's prior sampler as a GuacaMol ``DistributionMatchingGenerator``.

    Each :meth:`generate` call draws fresh prior samples (seed ``seed + call``), decoded
    by the run's point decoder; an undecodable sample is returned as ``""``, which
    GuacaMol counts as invalid.
    """

    def __init__(self, run, seed: int = 0):
        self.run = run
        self.seed = int(seed)
        self.calls = 0
        self.drawn = 0

    def generate(self, number_samples: int) -> list[str]:
        parsed = self.run.sample(int(number_samples), seed=self.seed + self.calls)
        self.calls += 1
        self.drawn += int(number_samples)
        return [p.item if p.item is not None else "" for p in parsed]


class LatentOptimizer:
    """The latent optimiser as a GuacaMol ``GoalDirectedGenerator``.

    :meth:`generate_optimized_molecules` runs :func:`optimize_molecules` with the
    task's scoring function as the objective, ``budget`` decoded latent points, and
    returns the best distinct molecules found (fewer than asked when the budget
    found fewer: GuacaMol scores the missing ones 0). The start molecules (the
    task's starting population when it has one, else ``start_items`` random training
    molecules) are scored too, so GuacaMol's count of scoring calls includes them.
    """

    def __init__(self, run, budget: int, seed: int = 0, *, start_items: int = 1000,
                 batch: int = 64):
        for name, value, low in (("budget", budget, 1), ("start_items", start_items, 2),
                                 ("batch", batch, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SearchError(f"{name} must be an integer >= {low}, got {value!r}")
        self.run = run
        self.budget = budget
        self.seed = int(seed)
        self.start_items = start_items
        self.batch = batch
        #: The optimiser's summary of the last task (leaderboard left out).
        self.last: dict = {}

    def generate_optimized_molecules(self, scoring_function, number_molecules: int,
                                     starting_population: Sequence[str] | None = None
                                     ) -> list[str]:
        from seqvae.molecules.optimize import optimize_molecules
        from seqvae.screening import screen_items

        def guacamol_score(mols):
            from rdkit import Chem

            return scoring_function.score_list([Chem.MolToSmiles(m) for m in mols])

        start = None
        if starting_population:
            start = screen_items(self.run.domain, list(starting_population),
                                 max_tokens=self.run.model_config.max_len).items or None
        result = optimize_molecules(self.run, guacamol_score, self.budget, self.seed,
                                    batch=self.batch, top=max(1, int(number_molecules)),
                                    start_items=self.start_items, start=start)
        molecules = [row["smiles"] for row in result["leaderboard"]]
        self.last = {**{k: v for k, v in result.items() if k != "leaderboard"},
                     "returned": len(molecules)}
        return molecules


def goal_tasks() -> list:
    """The goal-directed benchmarks of GuacaMol suite v2 (20 tasks, in the paper's order)."""
    require_guacamol()
    from guacamol.benchmark_suites import goal_directed_benchmark_suite

    return goal_directed_benchmark_suite(GOAL_SUITE_VERSION)


def select_tasks(tasks: list, chosen: Sequence[str] | None) -> list:
    """The tasks named in ``chosen``: 1-based indices or names (case-insensitive), in the
    order given; all of them when ``chosen`` is None or empty.

    >>> class T:
    ...     def __init__(self, name): self.name = name
    >>> [t.name for t in select_tasks([T("Celecoxib rediscovery"), T("C11H24")], ["c11h24", "1"])]
    ['C11H24', 'Celecoxib rediscovery']
    """
    if not chosen:
        return list(tasks)
    by_name = {t.name.lower(): t for t in tasks}
    out = []
    for entry in chosen:
        key = str(entry).strip()
        if key.isdigit() and 1 <= int(key) <= len(tasks):
            task = tasks[int(key) - 1]
        elif key.lower() in by_name:
            task = by_name[key.lower()]
        else:
            names = ", ".join(f"{i} {t.name!r}" for i, t in enumerate(tasks, 1))
            raise DataError(f"unknown GuacaMol task {key!r}; the tasks are: {names}")
        if task not in out:
            out.append(task)
    return out


def _fcd_benchmark(reference: list[str], samples: int):
    """GuacaMol's FCD benchmark on the ChemNet weights fcd 1.2 ships (``.pt``), with the
    ChemNet activations computed in this process (fcd's default spreads the SMILES
    canonicalisation over one process per core)."""
    from guacamol.frechet_benchmark import FrechetBenchmark

    class Frechet(FrechetBenchmark):
        def _load_chemnet(self):
            import fcd

            return fcd.load_ref_model()

        def _calculate_distribution_statistics(self, model, molecules):
            import fcd
            import numpy as np

            from seqvae.molecules.chem.rdkit_support import canonical_smiles

            canon = [c for c in (canonical_smiles(s) for s in molecules) if c is not None]
            act = fcd.get_predictions(model, canon, n_jobs=0, device="cpu")
            return np.mean(act, axis=0), np.cov(act.T)

    return Frechet(reference, chemnet_model_filename="ChemNet_v0.13_pretrained.pt",
                   sample_size=samples)


def _run_all(benchmarks: list, model, on_start, on_done, assess=None) -> list:
    import warnings

    import numpy as np

    results = []
    for i, bench in enumerate(benchmarks, 1):
        on_start(i, len(benchmarks), bench.name)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # guacamol's histograms of a handful of molecules divide by zero (a NaN density in
            # the metadata, not in the score), and RDKit's old fingerprint calls warn.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            result = (assess or _assess)(bench, model)
        results.append(result)
        on_done(i, len(benchmarks), result)
    return results


def _assess(bench, model):
    return bench.assess_model(model)


def _assess_goal(bench, model: "LatentOptimizer"):
    """``bench.assess_model(model)``; a search that found no valid molecule scores 0 (guacamol
    itself fails on an empty list when it measures the molecules' internal similarity)."""
    from guacamol.goal_directed_benchmark import GoalDirectedBenchmarkResult

    t0 = time.time()
    before = bench.wrapped_objective.evaluations
    try:
        return bench.assess_model(model)
    except ValueError:
        if model.last.get("returned", 1) != 0:
            raise
    return GoalDirectedBenchmarkResult(
        benchmark_name=bench.name, score=0.0, optimized_molecules=[],
        execution_time=time.time() - t0,
        number_scoring_function_calls=bench.wrapped_objective.evaluations - before,
        metadata={"note": "no valid molecule decoded within the budget"})


def _noop(*_args) -> None:
    return None


def distribution_benchmark(run, *, samples: int = 10000, seed: int = 0,
                           reference: Sequence[str] | None = None,
                           reference_label: str | None = None,
                           on_start: Callable = _noop, on_done: Callable = _noop) -> dict:
    """GuacaMol's distribution-learning suite v1 on ``run``'s prior samples.

    ``reference`` (default: the run's training molecules) stands in for GuacaMol's
    ChEMBL training set in novelty, KL divergence and FCD; it needs at least
    ``samples`` molecules (KL and FCD take a random subset of that size).
    ``on_start(i, n, name)`` and ``on_done(i, n, result)`` frame each benchmark.

    Returns
    -------
    dict
        GuacaMol's result file (``guacamol_version``, ``benchmark_suite_version``,
        ``timestamp``, ``samples``: 100 example molecules, ``results``: one dict per
        benchmark with ``benchmark_name``, ``score``, ``sampling_time``,
        ``metadata``) plus ``reference`` (what stood in for ChEMBL), ``number_samples``,
        ``seed``, ``decoding`` and ``seconds``.
    """
    guacamol = require_guacamol()
    from guacamol.distribution_learning_benchmark import (
        KLDivBenchmark,
        NoveltyBenchmark,
        UniquenessBenchmark,
        ValidityBenchmark,
    )
    from guacamol.distribution_matching_generator import DistributionMatchingGenerator
    from guacamol.utils.data import get_time_string

    run.domain.require_molecular("bench guacamol", DataError)
    if isinstance(samples, bool) or int(samples) < 1:
        raise DataError(f"samples must be >= 1, got {samples!r}")
    own = reference is None
    reference = list(run.train_items) if own else [str(s) for s in reference]
    label = reference_label or ("the run's training molecules" if own else "given molecules")
    if len(reference) < samples:
        raise DataError(f"the reference ({label}) has {len(reference)} molecules, fewer than "
                        f"--samples {samples}: KL divergence and FCD draw that many from it")
    # Virtual subclass: guacamol's base classes are abstract interfaces, and the sampler
    # exists without guacamol installed.
    DistributionMatchingGenerator.register(RunSampler)
    t0 = time.perf_counter()
    benchmarks = [ValidityBenchmark(samples), UniquenessBenchmark(samples),
                  NoveltyBenchmark(samples, reference), KLDivBenchmark(samples, reference),
                  _fcd_benchmark(reference, samples)]
    sampler = RunSampler(run, seed)
    results = _run_all(benchmarks, sampler, on_start, on_done)
    return {"guacamol_version": guacamol.__version__, "benchmark_suite_version": "v1",
            "timestamp": get_time_string(), "samples": sampler.generate(100),
            "results": [vars(r) for r in results],
            "reference": {"label": label, "molecules": len(reference)},
            "number_samples": int(samples), "seed": int(seed),
            "decoding": run.decoding.to_dict(), "seconds": round(time.perf_counter() - t0, 2)}


def goal_directed_benchmark(run, *, budget: int = 1000, seed: int = 0,
                            tasks: Sequence[str] | None = None, start_items: int = 1000,
                            batch: int = 64, on_start: Callable = _noop,
                            on_done: Callable = _noop) -> dict:
    """GuacaMol's goal-directed suite v2 (or the ``tasks`` chosen from it) on ``run``.

    Each task runs :class:`LatentOptimizer` with ``budget`` decoded latent points.

    Returns
    -------
    dict
        GuacaMol's result file (``results``: one dict per task with ``benchmark_name``,
        ``score``, ``optimized_molecules``, ``execution_time``,
        ``number_scoring_function_calls``, ``metadata``, and here also
        ``optimizer``: the optimiser's summary) plus ``total_score`` (sum over the
        tasks run), ``budget``, ``start_items``, ``seed``, ``decoding``, ``seconds``.
    """
    guacamol = require_guacamol()
    from guacamol.goal_directed_generator import GoalDirectedGenerator
    from guacamol.utils.data import get_time_string

    run.domain.require_molecular("bench guacamol", DataError)
    chosen = select_tasks(goal_tasks(), tasks)
    GoalDirectedGenerator.register(LatentOptimizer)
    model = LatentOptimizer(run, budget, seed, start_items=start_items, batch=batch)
    t0 = time.perf_counter()
    rows = []

    def done(i, n, result):
        rows.append({**vars(result), "optimizer": dict(model.last)})
        on_done(i, n, result)

    _run_all(chosen, model, on_start, done, assess=_assess_goal)
    return {"guacamol_version": guacamol.__version__,
            "benchmark_suite_version": GOAL_SUITE_VERSION, "timestamp": get_time_string(),
            "results": rows, "total_score": float(sum(r["score"] for r in rows)),
            "budget": int(budget), "start_items": int(start_items), "seed": int(seed),
            "decoding": run.decoding.to_dict(), "seconds": round(time.perf_counter() - t0, 2)}
