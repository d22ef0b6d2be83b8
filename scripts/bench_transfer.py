"""Cross-size transfer of the boost prior: learn slow automata of small n, sample at larger n.

The autoregressive table prior of ``search-extreme --method boost``
(:class:`seqvae.hunt.search.boost.TablePrior`) is trained on the automata of the
given files (e.g. every binary automaton with rt >= n²-4n+6 at n = 7 and 8,
from the census), then samples ``--samples`` tables at each target size. No
search runs: the table says what the samples alone contain — distinct
automata, how many reach the slow level n²-4n+6 of the target size, the
longest reset length, and which members of the known series they hit — for
the offset coding ``(δ(q,a) - q) mod n`` and for plain state numbers.

Example::

    python scripts/bench_transfer.py --train slow7.txt slow8.txt --n 9 10
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def series_keys(n: int) -> dict[str, str]:
    from automata.canon import canonical_key
    from automata.errors import AutomatonError
    from automata.families import FAMILIES

    keys = {}
    for name, family in FAMILIES.items():
        if family.fixed_n is None and family.n_letters == 2 and family.valid_n(n):
            try:
                keys[canonical_key(family.build(n))] = name
            except AutomatonError:
                continue
    return keys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", nargs="+", required=True, help="automata files (any sizes)")
    parser.add_argument("--n", type=int, nargs="+", default=[9, 10])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from automata import DFA
    from automata.canon import canonical_key
    from automata.sync import reset_lengths
    from seqvae.hunt.search.boost import TablePrior, load_transfer_tables
    from seqvae.hunt.search.core import h_level

    groups = load_transfer_tables(args.train, 2)
    max_n = max([g.shape[2] for g in groups] + args.n)
    print("trained on " + ", ".join(f"{len(g)} automata at n={g.shape[2]}" for g in groups))
    cols = ["coding", "n", "samples", "distinct", "slow", "max_rt", "series", "seconds"]
    rows = []
    for offsets in (True, False):
        t0 = time.perf_counter()
        prior = TablePrior(max_n, 2, hidden=64, offsets=offsets, seed=args.seed)
        prior.fit(groups, steps=args.steps, seed=args.seed)
        for n in args.n:
            tables = prior.sample(args.samples, n, 2, temperature=args.temperature,
                                  seed=args.seed + 1)
            distinct = {canonical_key(DFA(t)): t for t in tables}
            rts = reset_lengths(np.stack(list(distinct.values())))
            named = series_keys(n)
            hit = sorted({named[k] for k in distinct if k in named})
            rows.append({"coding": "offsets" if offsets else "states", "n": n,
                         "samples": args.samples, "distinct": len(distinct),
                         "slow": int(np.sum(rts >= h_level(n))), "max_rt": int(rts.max()),
                         "series": f"{len(hit)}/{len(named)} " + ",".join(hit),
                         "seconds": f"{time.perf_counter() - t0:.0f}"})
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
