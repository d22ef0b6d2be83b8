"""Do a VAE's cross-size samples find slow automata that the lifts miss?

The hunt (``seqvae hunt``) reaches each size n by lifting the slow list of n − 1
states. This script measures the other way a VAE could propose candidates at n:
train it on the slow automata of the *smaller* sizes of a hunt catalogue and
decode its prior samples at n states (the tokenizer covers n; the decoder's
well-formedness constraint forces the size). Each sample is one evaluation of
the exact solver, as each lift is in the hunt.

Steps:

1. the training items: every class of the catalogue with ``n_from <= size < n``
   (the slow lists the ladder kept, rt >= size² − 4·size + 6), optionally with
   ``--random R`` random synchronizing automata *of n states* added (they teach
   the decoder the state tokens of size n, which the slow lists never use);
2. a VAE trained on them (``seqvae.train_runs.train``; the default model, the
   epochs and seed given here), its vocabulary covering n states;
3. ``--samples`` prior samples decoded at n states by sampling
   (``--temperature``), each parsed, canonicalised and solved exactly;
4. counted: valid decodes, synchronizing ones, distinct classes, slow ones
   (rt >= n² − 4n + 6), distinct slow classes, and of those the ones the
   catalogue does not hold (found by the VAE and not by the lifts);
5. beside them, the hunt's own rate at n from the catalogue: classes it had found
   within the same number of evaluations (``found_at``), and in all.

Example (a hunt catalogue to n = 12 first)::

    seqvae hunt --from 7 --to 12 --out hunt --seed 0
    python scripts/bench_cross_size.py --catalogue hunt/catalogue.parquet --n 10 \\
        --out xs10 --samples 5000 --threads 1

Prints a Markdown table on stdout and writes ``OUT/result.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from seqvae.hunt.ladder import slow_level


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def training_items(catalogue, n: int, n_from: int, random_count: int, seed: int) -> list[str]:
    """Compact forms of the catalogue's classes of sizes ``n_from .. n − 1``, plus
    ``random_count`` random synchronizing automata of n states."""
    from seqvae.hunt.datasets import build_automata_dataset

    rows = catalogue[(catalogue["n"] >= n_from) & (catalogue["n"] < n)]
    items = [str(a) for a in rows["automaton"]]
    if random_count:
        frame = build_automata_dataset(n, 2, random_count, seed)
        items += [str(a) for a in frame["item"]]
    return items


def canonical_keys(automata) -> set[str]:
    """Canonical compact forms (the form the VAE's parsed decodes take)."""
    from automata.canon import canonical_form
    from automata.formats import format_compact, parse_compact

    return {format_compact(canonical_form(parse_compact(str(a)))) for a in automata}


def evaluate(parsed, n: int, known: set[str]) -> dict:
    """Exact reset lengths of the valid decodes; counts of slow and new classes."""
    from automata.formats import format_compact
    from automata.sync import reset_lengths

    valid = [p.item for p in parsed if p.ok]
    right_size = [d for d in valid if d.n_states == n]
    out = {"samples": len(parsed), "valid": len(valid), "at_size": len(right_size)}
    if not right_size:
        out.update(synchronizing=0, distinct=0, slow=0, slow_classes=[], new_slow_classes=[],
                   max_rt=None, rt_mean=None, rt_p99=None)
        return out
    tables = np.stack([np.asarray(d.delta, dtype=np.int64) for d in right_size])
    rts = reset_lengths(tables)
    keys = [format_compact(d) for d in right_size]
    slow = {key: int(rt) for key, rt in zip(keys, rts.tolist()) if rt >= slow_level(n)}
    synced = rts[rts >= 0]
    out.update(synchronizing=int((rts >= 0).sum()), distinct=len(set(keys)),
               rt_mean=round(float(synced.mean()), 2) if synced.size else None,
               rt_p99=float(np.percentile(synced, 99)) if synced.size else None,
               slow=int(sum(rt >= slow_level(n) for rt in rts.tolist())),
               slow_classes=sorted(slow.items(), key=lambda kv: (-kv[1], kv[0])),
               new_slow_classes=sorted(k for k in slow if k not in known),
               max_rt=int(rts.max()))
    return out


def random_baseline(n: int, count: int, seed: int) -> dict:
    """Reset lengths of ``count`` uniformly random binary automata of n states: what the
    samples are to be told apart from."""
    from automata.sync import reset_lengths

    rng = np.random.default_rng(seed)
    rts = reset_lengths(rng.integers(0, n, size=(count, 2, n)))
    synced = rts[rts >= 0]
    return {"samples": count, "synchronizing": int(synced.size),
            "rt_mean": round(float(synced.mean()), 2), "rt_p99": float(np.percentile(synced, 99)),
            "max_rt": int(synced.max()), "slow": int((synced >= slow_level(n)).sum())}


def lifts_rate(catalogue, n: int, evaluations: int) -> dict:
    """The hunt's classes at n within ``evaluations`` evaluations, and in all."""
    rows = catalogue[catalogue["n"] == n]
    found_at = rows["found_at"].to_numpy()
    return {"classes": int(len(rows)), "within": int((found_at <= evaluations).sum()),
            "last_found_at": int(found_at.max()) if len(rows) else None}


def run(args) -> dict:
    import pandas as pd
    import torch

    from seqvae.hunt.domain import AutomataDomain
    from seqvae.hunt.tokenizer import AutomatonTokenizer
    from seqvae.train_runs import train

    torch.set_num_threads(args.threads)
    catalogue = pd.read_parquet(args.catalogue)
    n = args.n
    known = canonical_keys(catalogue[catalogue["n"] == n]["automaton"])
    items = training_items(catalogue, n, args.n_from, args.random, args.seed)
    sizes = catalogue[(catalogue["n"] >= args.n_from) & (catalogue["n"] < n)]["n"]
    log(f"training items: {len(items)} ({sizes.value_counts().sort_index().to_dict()} slow "
        f"by size, {args.random} random at n = {n})")
    domain = AutomataDomain(AutomatonTokenizer(n, 2))
    start = time.perf_counter()
    vae = train(items, domain, out_dir=Path(args.out) / "vae",
                train_config={"epochs": args.epochs, "seed": args.seed})
    train_seconds = time.perf_counter() - start
    log(f"trained in {train_seconds:.0f} s")
    start = time.perf_counter()
    parsed = vae.sample(args.samples, seed=args.seed, method="sample",
                        temperature=args.temperature, n_states=n, n_letters=2)
    result = evaluate(parsed, n, known)
    result.update(n=n, level=slow_level(n), n_from=args.n_from, random=args.random,
                  epochs=args.epochs, seed=args.seed, temperature=args.temperature,
                  training_items=len(items), train_seconds=round(train_seconds, 1),
                  sample_seconds=round(time.perf_counter() - start, 1),
                  lifts=lifts_rate(catalogue, n, args.samples),
                  uniform=random_baseline(n, args.samples, args.seed))
    per_k = 1000.0 / max(result["samples"], 1)
    result["slow_classes_per_1000"] = round(len(result["slow_classes"]) * per_k, 2)
    result["new_slow_classes_per_1000"] = round(len(result["new_slow_classes"]) * per_k, 2)
    lifts = result["lifts"]
    result["lifts"]["classes_per_1000"] = round(lifts["within"] * per_k, 2)
    return result


def markdown(result: dict) -> str:
    lifts = result["lifts"]
    head = ("| n | rt ≥ | trained on | T | samples | valid | synchronizing | distinct | "
            "mean rt (uniform) | max rt (uniform) | slow | slow classes | not in the catalogue "
            "| slow classes / 1,000 | lifts: classes within as many evaluations "
            "| lifts: classes / 1,000 |")
    sep = "|" + "---:|" * 16
    uniform = result["uniform"]
    trained = (f"{result['training_items']} items (sizes {result['n_from']}–{result['n'] - 1}"
               + (f", {result['random']} random at n" if result["random"] else "") + ")")
    row = (f"| {result['n']} | {result['level']} | {trained} | {result['temperature']} | "
           f"{result['samples']:,} | "
           f"{result['valid']:,} | {result['synchronizing']:,} | {result['distinct']:,} | "
           f"{result['rt_mean']} ({uniform['rt_mean']}) | {result['max_rt']} "
           f"({uniform['max_rt']}) | "
           f"{result['slow']:,} | {len(result['slow_classes'])} | "
           f"{len(result['new_slow_classes'])} | {result['slow_classes_per_1000']} | "
           f"{lifts['within']} of {lifts['classes']} | {lifts['classes_per_1000']} |")
    return "\n".join([head, sep, row])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue", required=True, help="a hunt's catalogue.parquet")
    parser.add_argument("--n", type=int, required=True, help="the size decoded")
    parser.add_argument("--n-from", type=int, default=7, help="smallest training size")
    parser.add_argument("--out", required=True, help="directory for the VAE and result.json")
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--random", type=int, default=0,
                        help="random synchronizing automata of n states added to training")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.n <= args.n_from:
        parser.error("--n must be larger than --n-from")
    if args.samples < 1 or args.epochs < 1:
        parser.error("--samples and --epochs must be at least 1")
    result = run(args)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
