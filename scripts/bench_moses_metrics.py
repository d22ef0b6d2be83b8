"""Check the MOSES metrics of seqvae.molecules.chem against the published MOSES table.

A random sample of the MOSES *training* molecules stands in for a generated set
(as the "Train" row of the MOSES paper does with the whole training set), so the
figures must land close to that row: validity, uniqueness and filters 1, novelty
0, Frag about 1, Scaf about 0.99, SNN about 0.64, IntDiv about 0.857. The MOSES
VAE row is printed beside it for reference (what a trained model is compared to).

Needs the MOSES data: ``python scripts/fetch_moses.py`` first.

    python scripts/bench_moses_metrics.py --sample 10000 --seed 0
    python scripts/bench_moses_metrics.py --sample 30000 --fcd --fcd-size 10000

Prints a table and the time each step took (the machine may be shared: timings
are indicative only).
"""
from __future__ import annotations

import argparse
import random
import sys
import time

#: MOSES paper (Polykovskiy et al. 2020, Table 2, three-decimal means): the "Train" row
#: (the training set scored as if generated) and the VAE row, transcribed by hand; check
#: them against the paper before quoting. Keys follow seqvae.molecules.chem.metrics.moses_metrics.
MOSES_TRAIN = {"validity": 1.0, "unique@1000": 1.0, "unique@10000": 1.0, "novelty": 0.0,
               "intdiv1": 0.857, "intdiv2": 0.851, "filters": 1.0,
               "frag": 1.000, "frag_testsf": 0.999, "scaf": 0.991, "scaf_testsf": 0.0,
               "snn": 0.642, "snn_testsf": 0.586, "fcd": 0.008, "fcd_testsf": 0.476}
MOSES_VAE = {"validity": 0.977, "unique@1000": 1.0, "unique@10000": 0.998, "novelty": 0.695,
             "intdiv1": 0.856, "intdiv2": 0.850, "filters": 0.997,
             "frag": 0.999, "frag_testsf": 0.998, "scaf": 0.939, "scaf_testsf": 0.059,
             "snn": 0.626, "snn_testsf": 0.578, "fcd": 0.099, "fcd_testsf": 0.567}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=10000, help="training molecules scored")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--ref-size", type=int, default=None,
                        help="use a random subset of each test set (default: all of it)")
    parser.add_argument("--fcd", action="store_true", help="also compute FCD (slow on a CPU)")
    parser.add_argument("--fcd-size", type=int, default=10000,
                        help="molecules of each set fed to ChemNet for FCD")
    args = parser.parse_args(argv)

    from seqvae.molecules.chem.chemnet import frechet_chemnet_distance
    from seqvae.molecules.chem.errors import ChemError
    from seqvae.molecules.chem.filters import load_moses_filters
    from seqvae.molecules.chem.metrics import moses_metrics
    from seqvae.molecules.chem.moses_data import moses_file, moses_reference_set, moses_smiles
    from seqvae.molecules.chem.reference import ReferenceSet

    paths = {name: moses_file(f"{name}.csv.gz", args.cache_dir)
             for name in ("train", "test", "test_scaffolds")}
    if any(p is None for p in paths.values()):
        print("error: MOSES data not found; run python scripts/fetch_moses.py", file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    times = {}
    t0 = time.perf_counter()
    sets = {name: moses_smiles(name, args.cache_dir) for name in paths}
    times["read files"] = time.perf_counter() - t0
    if args.ref_size:
        for name in ("test", "test_scaffolds"):
            sets[name] = rng.sample(sets[name], min(args.ref_size, len(sets[name])))
    sample = rng.sample(sets["train"], args.sample)

    refs = {}
    for name in ("test", "test_scaffolds"):
        t0 = time.perf_counter()
        # The whole test sets' statistics are cached beside the data after the first run.
        refs[name] = (ReferenceSet.from_smiles(sets[name]) if args.ref_size
                      else moses_reference_set(name, args.cache_dir))
        times[f"reference {name} ({len(sets[name])})"] = time.perf_counter() - t0
    filters = load_moses_filters(cache_dir=args.cache_dir)
    t0 = time.perf_counter()
    try:
        # The MOSES files hold canonical SMILES (of the RDKit of their day): novelty is
        # checked against them as written, so canonical-form drift would show as novelty > 0.
        ours = moses_metrics(sample, train=sets["train"], train_is_canonical=True,
                             test=refs["test"],
                             test_scaffolds=refs["test_scaffolds"], filters=filters)
    except ChemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    times[f"metrics of {args.sample} molecules"] = time.perf_counter() - t0
    if args.fcd:
        t0 = time.perf_counter()
        gen = sample[:args.fcd_size]
        ours["fcd"] = frechet_chemnet_distance(gen, rng.sample(sets["test"], args.fcd_size))
        ours["fcd_testsf"] = frechet_chemnet_distance(
            gen, rng.sample(sets["test_scaffolds"], args.fcd_size))
        times[f"fcd ({args.fcd_size} per set)"] = time.perf_counter() - t0

    print(f"MOSES training sample of {args.sample} (seed {args.seed}) scored as a generated set; "
          f"test {len(sets['test'])}, test_scaffolds {len(sets['test_scaffolds'])} molecules; "
          f"MCF filters {'on' if ours.get('filters_mcf') else 'OFF'}")
    print()
    print(f"| {'metric':<13} | {'ours (train sample)':>19} | {'MOSES Train':>11} | "
          f"{'MOSES VAE':>9} |")
    print(f"|{'-' * 15}|{'-' * 21}|{'-' * 13}|{'-' * 11}|")
    for key in MOSES_TRAIN:
        value = ours.get(key)
        shown = f"{value:.4f}" if isinstance(value, float) else "-"
        print(f"| {key:<13} | {shown:>19} | {MOSES_TRAIN[key]:>11.3f} | {MOSES_VAE[key]:>9.3f} |")
    print()
    for step, seconds in times.items():
        print(f"{step}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
