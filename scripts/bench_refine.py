"""Encode–decode refinement on molecule runs: validity per round, SMILES vs SELFIES × linear
vs polar paths, and whether refinement helps.

For each run (one SMILES and one SELFIES run, say), ``--pairs`` random pairs of held-out
molecules are encoded; the interior points of the linear and the polar path between them
(``--steps`` points per path, endpoints excluded) are decoded greedily and refined for
``--rounds`` rounds three ways:

* ``plain``: every valid decode is re-encoded (μ) and decoded again; an invalid one keeps
  its latent. A move to an invalid decode is kept (what refinement did before it was
  guarded, when SMILES validity fell every round);
* ``guarded``: the same, but a move whose new decode is invalid is undone (the default of
  :func:`seqvae.latent.refine`, so validity never falls);
* ``guarded+jitter``: guarded, and an invalid point is moved by Gaussian noise (scale
  ``--jitter``) so that a later round may find a valid decode nearby.

The table has validity at every round, the change from round 0 to the last ("helps" when
it is positive) and the distinct valid molecules at the last round. SELFIES decodes are
valid by construction, so their rows show what refinement does to a path that cannot
become more valid (its distinct molecules).

    python scripts/bench_refine.py RUN [RUN ...] [--pairs 20] [--steps 10] [--rounds 3]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from seqvae.errors import SeqVAEError
from seqvae.interpolate import choose_pairs
from seqvae.latent import latent_path, refine
from seqvae.runs import load_molecule_runs

VARIANTS = {"plain": dict(keep_valid=False, jitter=0.0),
            "guarded": dict(keep_valid=True, jitter=0.0),
            "guarded+jitter": dict(keep_valid=True, jitter=None)}  # None: --jitter


def path_points(run, n_pairs: int, steps: int, seed: int) -> dict[str, np.ndarray]:
    """Interior points of the linear and polar paths between random held-out pairs."""
    held = list(run.heldout_items)
    rng = np.random.default_rng(seed)
    pairs = choose_pairs(held, n_pairs, rng, domain=run.domain)
    mu, _ = run.encode([held[i] for pair in pairs for i in pair])
    mu = np.asarray(mu, dtype=np.float64).reshape(len(pairs), 2, -1)
    return {method: np.concatenate([latent_path(method, a, b, steps)[1:-1] for a, b in mu])
            .astype(np.float32) for method in ("linear", "polar")}


def refinement_rows(run, points: dict[str, np.ndarray], rounds: int, jitter: float,
                    seed: int) -> list[dict]:
    """One row per path method × refinement variant: validity per round and the last
    round's distinct valid molecules."""
    rows = []
    for method, z in points.items():
        for name, options in VARIANTS.items():
            options = dict(options, jitter=jitter if options["jitter"] is None
                           else options["jitter"])
            traj = refine(run, z, rounds, seed=seed, method="greedy", constrained=True,
                          **options)
            validity = [float(np.mean([p.ok for p in decodes])) for decodes in traj.decodes]
            last = {p.item for p in traj.decodes[-1] if p.ok}
            rows.append({"method": method, "variant": name, "points": len(z),
                         "validity": validity, "change": validity[-1] - validity[0],
                         "distinct": len(last)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="molecule run directories")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=10, help="points per path (with ends)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jitter", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.steps < 3 or args.rounds < 0 or not args.jitter >= 0:
        print("error: need --pairs >= 1, --steps >= 3, --rounds >= 0, --jitter >= 0",
              file=sys.stderr)
        return 2
    try:
        runs = load_molecule_runs(args.runs, "the refinement benchmark")
    except SeqVAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    print(f"encode-decode refinement: {args.pairs} random held-out pairs x {args.steps - 2} "
          f"interior points per path, greedy decodes, {args.rounds} rounds, jitter "
          f"{args.jitter}, seed {args.seed}\n")
    rounds = "  ".join(f"{'r' + str(k):>5}" for k in range(args.rounds + 1))
    print(f"{'representation':<15}{'path':<8}{'refinement':<16}{rounds}  {'change':>7}  "
          f"{'helps':<6}{'distinct':>8}")
    for run_dir, run in zip(args.runs, runs):
        t0 = time.perf_counter()
        points = path_points(run, args.pairs, args.steps, args.seed)
        for row in refinement_rows(run, points, args.rounds, args.jitter, args.seed):
            values = "  ".join(f"{v:>5.3f}" for v in row["validity"])
            helps = "yes" if row["change"] > 0 else ("same" if row["change"] == 0 else "no")
            print(f"{run.domain.representation:<15}{row['method']:<8}{row['variant']:<16}"
                  f"{values}  {row['change']:>+7.3f}  {helps:<6}{row['distinct']:>8}")
        print(f"  ({run_dir}: {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
