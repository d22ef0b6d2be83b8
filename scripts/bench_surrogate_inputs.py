"""Does a VAE's latent space help the reset-length surrogate that ranks the lift pool?

``boost`` with lifts (the hunt ladder's search at every size after the census)
evaluates a fixed pool of one-state lifts of the slow automata of n − 1 states,
in the order a learned surrogate (:class:`~seqvae.hunt.search.surrogate.RtSurrogate`)
chooses. Today the surrogate reads isomorphism-invariant image-size profiles
(:func:`~seqvae.hunt.search.surrogate.word_rank_features`). This script measures,
offline on the whole pool, whether the latent means μ of a trained VAE run are a
better input, alone or beside the profiles.

Steps (each timed):

1. the sources: the slow automata of n − 1 states (``rt >= (n−1)² − 4(n−1) + 6``,
   the hunt ladder's level) from the pruned census, or from ``--sources``;
2. the pool: :class:`~seqvae.hunt.search.boost.BoostSearch` is built with the
   hunt ladder's options (ranked lifts, prior and VAE off) and its own
   :class:`~seqvae.hunt.search.lifts.LiftPool` is built, so the pool is exactly
   the one the search ranks (``lift_arrows=2, lift_any_images=True``);
3. the exact reset length of every pool member (the search's evaluator); a lift
   is slow when ``rt >= n² − 4n + 6``;
4. the inputs: (a) the profile features, (b) the VAE's latent means, its active
   dimensions (``--latent-dims``) each standardised over the pool (no reset length
   is used), (c) both side by side;
5. per seed: a random training set of ``--train`` lifts (the rest held out), and
   one surrogate per input with the ranker's options of ``boost`` (its first fit:
   ``first_steps`` steps); for (b) and (c) only the first layer is widened to the
   input.

Reported per input (held-out lifts only, reset length −1 counted as 0 as the
surrogate does): Spearman correlation of prediction and reset length; precision
of the top 1 % of predictions (share slow); recall of the held-out slow lifts
within that top 1 %; and evaluations to 90 % recall: the training lifts plus the
position, in predicted order, of the held-out lift at which 90 % of *all* slow
lifts of the pool (training ones included) have been seen. The same numbers are
given for the pool's own order (the sources' order, what an unranked search
evaluates) and for a random order (its evaluations to 90 % count from the start
of the pool, no training set).

Example::

    seqvae train automata --n-states 9 --count 50000 --out vae9 --threads 1 --seed 0
    python scripts/bench_surrogate_inputs.py --n 9 --vae vae9 --seeds 3 > table.md
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

#: Rows of the pool whose features are computed at once (word_rank_features keeps
#: every word's image of every state: about 2^L arrays of the chunk's size).
FEATURE_CHUNK = 20_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the data -------------------------------------------------------------------------------
def slow_sources(n: int, k: int, sources: str | None, census_jobs: int):
    """The automata the pool lifts (``lift_sources`` order) and what they were read from."""
    from seqvae.hunt.ladder import slow_level
    from seqvae.hunt.search.lifts import lift_sources

    if sources is not None:
        return lift_sources(sources, n, k), sources
    from automata.census_pruned import pruned_census

    level = slow_level(n - 1)
    census = pruned_census(n - 1, k, level, n_jobs=census_jobs)
    dfas = [dfa for dfa, _ in census.ranked()]
    return lift_sources(dfas, n, k), dfas


def boost_search(n: int, k: int, lift_from, seed: int = 0):
    """``boost`` as the hunt ladder runs it at a searched size (ranked lifts, no prior, no
    VAE), on a context that evaluates nothing by itself."""
    from seqvae.hunt.search.boost import BoostSearch
    from seqvae.hunt.search.core import SearchContext
    from seqvae.hunt.search.runner import method_config

    if not isinstance(lift_from, str):
        lift_from = list(lift_from)
    config = method_config("boost", {"vae_samples": 0, "prior_samples": 0,
                                     "evolve": {"lift_from": lift_from}})
    ctx = SearchContext(n, k, budget=1, rng=np.random.default_rng(seed))
    return BoostSearch(ctx, config), config


def profile_features(tables: np.ndarray, surrogate_options: dict) -> np.ndarray:
    """The surrogate's own features of every table, in chunks."""
    from seqvae.hunt.search.surrogate import RtSurrogate

    model = RtSurrogate(**surrogate_options)
    parts = [model.features(tables[i:i + FEATURE_CHUNK])
             for i in range(0, len(tables), FEATURE_CHUNK)]
    return np.concatenate(parts) if parts else np.zeros((0, 3 * model.max_length), np.float32)


def latent_means(run_dir: str, tables: np.ndarray, n: int, k: int, *,
                 active_only: bool = True) -> tuple[np.ndarray, int]:
    """The run's latent means μ of every table (``Run.encode``), standardised per dimension
    over the tables, and the run's latent size. With ``active_only``, only the active
    dimensions are kept (variance of μ over the tables above 0.01, the active-unit test of
    ``seqvae eval``): an inactive one is noise around 0 that standardising would blow up."""
    from automata.dfa import DFA
    from seqvae.errors import SearchError
    from seqvae.runs import load_run

    run = load_run(run_dir)
    tok = run.tokenizer
    if getattr(tok, "max_states", 0) < n or getattr(tok, "max_letters", 0) < k:
        raise SearchError(f"the run {run_dir} does not cover automata of {n} states and "
                          f"{k} letters")
    run.model.eval()
    mus = []
    step = 8192
    for start in range(0, len(tables), step):
        mu, _ = run.encode([DFA(t) for t in tables[start:start + step]])
        mus.append(mu)
        log(f"  encoded {min(start + step, len(tables))}/{len(tables)}")
    z = np.concatenate(mus).astype(np.float64)
    d_z = z.shape[1]
    if active_only:
        z = z[:, z.var(axis=0) > 0.01]
        if z.shape[1] == 0:
            raise SearchError(f"the run {run_dir} has no active latent dimension on the pool "
                              "(try --latent-dims all)")
    z = (z - z.mean(axis=0)) / np.maximum(z.std(axis=0), 1e-6)
    return z.astype(np.float32), d_z


def make_surrogate(width: int, options: dict, seed: int):
    """:class:`RtSurrogate` with ``options``, init ``seed`` and ``width`` inputs."""
    from seqvae.hunt.search.surrogate import RtSurrogate

    return RtSurrogate(**{**options, "seed": seed}, n_features=width)


# -- the metrics ----------------------------------------------------------------------------
def evals_to_recall(slow_in_order: np.ndarray, already: int, total_slow: int,
                    offset: int, share: float = 0.9) -> int:
    """``offset`` + the 1-based position in ``slow_in_order`` at which ``already`` plus the
    slow ones seen reach ``share`` of ``total_slow`` (``offset`` when already reached)."""
    need = math.ceil(share * total_slow)
    if already >= need:
        return offset
    seen = already + np.cumsum(slow_in_order)
    return offset + int(np.searchsorted(seen, need)) + 1


def held_out_metrics(score: np.ndarray, rt: np.ndarray, slow: np.ndarray,
                     train_slow: int, total_slow: int, offset: int) -> dict:
    """Spearman, top-1 % precision and recall, evaluations to 90 % recall of one ranking
    of the held-out lifts (larger score first)."""
    import pandas as pd

    order = np.argsort(-score, kind="stable")
    top = max(1, math.ceil(0.01 * len(score)))
    hits = int(slow[order[:top]].sum())
    held_slow = int(slow.sum())
    # Tied values share their mean rank (pandas, as for a measured property's head).
    rho = pd.Series(score).corr(pd.Series(np.maximum(rt, 0)), method="spearman")
    return {"spearman": float(rho), "hits": hits, "precision": hits / top,
            "recall": hits / held_slow if held_slow else float("nan"),
            "evals90": evals_to_recall(slow[order], train_slow, total_slow, offset)}


# -- the measurement ------------------------------------------------------------------------
def measure(args) -> dict:
    import torch

    from seqvae.errors import SearchError
    from seqvae.hunt.ladder import slow_level
    from seqvae.hunt.search.core import make_evaluator

    torch.set_num_threads(args.threads)
    n, k = args.n, args.letters
    times: dict[str, float] = {}

    t = time.perf_counter()
    sources, lift_from = slow_sources(n, k, args.sources, args.census_jobs)
    times["sources (census)" if args.sources is None else "sources (file)"] = \
        time.perf_counter() - t
    log(f"{len(sources)} slow sources of {n - 1} states")

    t = time.perf_counter()
    search, config = boost_search(n, k, lift_from)
    lift_pool = search.evolve.lifts
    pool = lift_pool.build()
    times["pool"] = time.perf_counter() - t
    log(f"pool: {len(pool)} distinct lifts (arrows={lift_pool.arrows}, "
        f"any_images={lift_pool.any_images})")

    t = time.perf_counter()
    rt = np.asarray(make_evaluator(args.jobs)(pool), dtype=np.int64)
    times["exact lengths"] = time.perf_counter() - t
    level = slow_level(n)
    slow = rt >= level
    total_slow = int(slow.sum())
    log(f"exact lengths: {total_slow} slow (rt >= {level}), longest {int(rt.max())}")
    if not 0 < args.train < len(pool) or total_slow == 0:
        raise SearchError(f"need 0 < --train < pool size ({len(pool)}) and a slow lift "
                          f"(found {total_slow})")

    options = config.ranker.surrogate_options()
    if args.first_steps is not None:
        options["first_steps"] = args.first_steps
    t = time.perf_counter()
    inputs = {"profile": profile_features(pool, options)}
    times["profile features"] = time.perf_counter() - t
    if args.vae is not None:
        t = time.perf_counter()
        z, d_z = latent_means(args.vae, pool, n, k, active_only=args.latent_dims == "active")
        times["VAE encoding"] = time.perf_counter() - t
        log(f"latent: {z.shape[1]} of {d_z} dimensions kept ({args.latent_dims})")
        inputs["latent"] = z
        inputs["profile+latent"] = np.concatenate([inputs["profile"], z], axis=1)

    per_seed: dict[str, list[dict]] = {name: [] for name in [*inputs, "source order",
                                                              "random order"]}
    for name in inputs:
        times[f"surrogate fit + predict, all seeds: {name}"] = 0.0
    train_slows: list[int] = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(pool))
        train, held = np.sort(perm[:args.train]), np.sort(perm[args.train:])
        train_slow = int(slow[train].sum())
        train_slows.append(train_slow)
        for name, x in inputs.items():
            t = time.perf_counter()
            model = make_surrogate(x.shape[1], options, seed)
            model.fit(None, rt[train], features=x[train], seed=seed)
            score = model.predict(None, features=x[held])
            times[f"surrogate fit + predict, all seeds: {name}"] += time.perf_counter() - t
            m = held_out_metrics(score, rt[held], slow[held], train_slow, total_slow,
                                 args.train)
            per_seed[name].append(m)
            log(f"seed {seed} {name}: " + ", ".join(f"{a} {b:.4g}" for a, b in m.items()))
        # The pool's own order and a random one: Spearman and top 1 % on the same held-out
        # lifts; evaluations to 90 % recall over the whole pool, without a training set.
        source = held_out_metrics(-held.astype(np.float64), rt[held], slow[held], 0, 1, 0)
        source["evals90"] = evals_to_recall(slow, 0, total_slow, 0)
        per_seed["source order"].append(source)
        shuffled = rng.permutation(len(pool))
        rand = held_out_metrics(rng.random(len(held)), rt[held], slow[held], 0, 1, 0)
        rand["evals90"] = evals_to_recall(slow[shuffled], 0, total_slow, 0)
        per_seed["random order"].append(rand)
    return {"n": n, "k": k, "sources": len(sources), "pool": len(pool), "slow": total_slow,
            "level": level, "longest": int(rt.max()), "train": args.train,
            "held_out": len(pool) - args.train, "seeds": args.seeds, "times": times,
            "train_slow": train_slows,
            "per_seed": per_seed, "rt": rt, "pool_tables": pool,
            "width": {name: x.shape[1] for name, x in inputs.items()},
            "surrogate": options}


# -- the report -----------------------------------------------------------------------------
#: key, column, format of the mean, format of one seed's value.
METRICS = [("spearman", "Spearman ρ (held-out)", "{:.3f}", "{:.3f}"),
           ("hits", "slow in top 1 %", "{:.1f}", "{:.0f}"),
           ("precision", "precision top 1 %", "{:.4f}", "{:.4f}"),
           ("recall", "recall top 1 %", "{:.3f}", "{:.3f}"),
           ("evals90", "evaluations to 90 % recall", "{:.0f}", "{:.0f}")]


def report(r: dict) -> str:
    lines = [f"# Surrogate inputs for ranking the lift pool, n = {r['n']} (k = {r['k']})", "",
             "| quantity | value |", "|---|---|"]
    facts = [("slow sources (n − 1)", r["sources"]), ("pool (distinct lifts)", r["pool"]),
             (f"slow lifts (rt >= {r['level']})", r["slow"]), ("longest rt", r["longest"]),
             ("training lifts T", r["train"]), ("held-out lifts", r["held_out"]),
             ("top 1 % of held-out", math.ceil(0.01 * r["held_out"])),
             ("seeds", r["seeds"]),
             ("slow lifts in the training set, per seed", ", ".join(map(str, r["train_slow"]))),
             ("surrogate", ", ".join(f"{a}={b}" for a, b in r["surrogate"].items()
                                     if a != "seed")),
             ("input widths", ", ".join(f"{a} {b}" for a, b in r["width"].items()))]
    lines += [f"| {a} | {b} |" for a, b in facts]
    lines += ["", "| part | seconds |", "|---|---|"]
    lines += [f"| {a} | {b:.1f} |" for a, b in r["times"].items()]
    lines += ["", "Mean over seeds (held-out lifts; evaluations to 90 % recall count the "
              "training lifts):", "", "| input | " + " | ".join(m[1] for m in METRICS) + " |",
              "|---|" + "---|" * len(METRICS)]
    for name, rows in r["per_seed"].items():
        cells = [fmt.format(float(np.mean([row[key] for row in rows])))
                 for key, _, fmt, _ in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Per seed:", "", "| input | seed | " + " | ".join(m[1] for m in METRICS)
              + " |", "|---|---|" + "---|" * len(METRICS)]
    for name, rows in r["per_seed"].items():
        for seed, row in enumerate(rows):
            cells = [fmt.format(row[key]) for key, _, _, fmt in METRICS]
            lines.append(f"| {name} | {seed} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Rank the lift pool of boost with the reset-length surrogate on three "
                    "inputs (image-size profiles, a VAE's latent means, both) and compare "
                    "how early each finds the slow lifts. Markdown table on stdout, progress "
                    "on stderr.", epilog=__doc__.split("Steps (each timed):")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=9, help="target number of states (default 9); the "
                   "sources have n − 1")
    p.add_argument("--letters", type=int, default=2, help="alphabet size (default 2)")
    p.add_argument("--sources", default=None, help="automata file (compact, one per line, or "
                   "any automata format) of the slow automata of n − 1 states; default: the "
                   "pruned census at the hunt ladder's level")
    p.add_argument("--census-jobs", type=int, default=1, help="census workers (default 1)")
    p.add_argument("--jobs", type=int, default=1, help="workers of the exact reset lengths")
    p.add_argument("--vae", default=None, help="VAE run directory trained on n-state "
                   "automata; without it only the profile features are measured")
    p.add_argument("--latent-dims", choices=["active", "all"], default="active",
                   help="latent dimensions used: those with var(μ) > 0.01 over the pool "
                        "(default) or all")
    p.add_argument("--train", type=int, default=3000, help="training lifts T (default 3000)")
    p.add_argument("--seeds", type=int, default=3, help="seeds of split and init (default 3)")
    p.add_argument("--first-steps", type=int, default=None, help="surrogate training steps "
                   "(default: the boost ranker's first fit)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    if args.n < 3 or args.seeds < 1 or args.train < 1:
        p.error("--n must be >= 3, --seeds and --train >= 1")
    return args


def main(argv=None) -> dict:
    """Run the measurement, print the table; returns the measured numbers."""
    args = parse_args(argv)
    result = measure(args)
    print(report(result), end="")
    return result


if __name__ == "__main__":
    main()
