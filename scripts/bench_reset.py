#!/usr/bin/env python
"""Benchmark of the exact shortest-reset-word solver.

Prints a table of wall time, peak memory and reset length for Černý automata
C_n and for random binary automata (fixed seeds), plus the cold numba compile
time measured apart in a fresh process with an empty cache. Each instance runs
in its own worker process, so its peak memory (growth of the maximum resident
set over the warmed-up worker) is its own; a per-instance time limit keeps
the whole run bounded.

Examples
--------
    python scripts/bench_reset.py --quick
    python scripts/bench_reset.py --cerny 100 200 --random 200 300 --seeds 5 --time-limit 120
    python scripts/bench_reset.py --dump-text /tmp/instances   # same instances, "K N" text format
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def cerny_table(n: int) -> np.ndarray:
    """Černý C_n: a = cycle q -> q+1 mod n, b = n-1 -> 0, other states fixed."""
    a = [(q + 1) % n for q in range(n)]
    b = [0 if q == n - 1 else q for q in range(n)]
    return np.array([a, b], dtype=np.int32)


def random_table(n: int, seed: int) -> np.ndarray:
    """Uniformly random binary automaton; the stream depends on (n, seed) only."""
    rng = np.random.default_rng([n, seed])
    return rng.integers(0, n, size=(2, n)).astype(np.int32)


def _worker(args):
    table, memory_gib, time_limit = args
    import resource

    from automata import DFA
    from automata.errors import ResourceLimitError
    from automata.sync import reset_length, shortest_reset_word
    reset_length(DFA(cerny_table(5)))  # warm: numba cache loaded before measuring
    dfa = DFA(table)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        word = shortest_reset_word(dfa, memory_gib=memory_gib, time_limit=time_limit)
        status = "ok" if dfa.is_reset_word(word) else "WRONG"
        rt = len(word)
    except ResourceLimitError as exc:
        status, rt = type(exc).__name__, None
    except Exception as exc:  # noqa: BLE001 - reported in the table
        status, rt = type(exc).__name__, None
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rt, wall, max(0, peak - base) / 1024.0, status


def run_instance(ctx, table, memory_gib, time_limit):
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_worker, ((table, memory_gib, time_limit),))


def cold_compile_seconds() -> float:
    """First call in a fresh interpreter with an empty numba cache."""
    code = ("import time; t=time.perf_counter();"
            "from automata import DFA; from automata.sync import shortest_reset_word, reset_lengths;"
            "import numpy as np;"
            "shortest_reset_word(DFA([[1,2,0],[0,1,0]]));"
            "shortest_reset_word(DFA(np.random.default_rng(0).integers(0,70,size=(2,70))));"
            "reset_lengths(np.zeros((1,2,3),dtype=np.int32));"
            "print(time.perf_counter()-t)")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def fmt_text(table: np.ndarray) -> str:
    k, n = table.shape
    return f"{k} {n}\n" + " ".join(str(int(table[a, q])) for q in range(n) for a in range(k)) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes only (about a minute)")
    p.add_argument("--cerny", type=int, nargs="*", default=None, help="Černý sizes")
    p.add_argument("--random", type=int, nargs="*", default=None, help="random binary sizes")
    p.add_argument("--seeds", type=int, default=5, help="random automata per size")
    p.add_argument("--time-limit", type=float, default=120.0, help="seconds per instance")
    p.add_argument("--memory-gib", type=float, default=4.0, help="memory budget per instance")
    p.add_argument("--no-cold", action="store_true", help="skip the cold compile measurement")
    p.add_argument("--dump-text", metavar="DIR", help="write the instances in 'K N' text format and exit")
    args = p.parse_args(argv)

    if args.quick:
        cerny_sizes = args.cerny if args.cerny is not None else [10, 20, 30, 50]
        random_sizes = args.random if args.random is not None else [50, 100]
        seeds = min(args.seeds, 3)
    else:
        cerny_sizes = args.cerny if args.cerny is not None else [10, 20, 30, 50, 100, 200]
        random_sizes = args.random if args.random is not None else [50, 100, 200, 300]
        seeds = args.seeds

    instances = [(f"C_{n}", n, cerny_table(n), (n - 1) ** 2) for n in cerny_sizes]
    for n in random_sizes:
        for s in range(seeds):
            instances.append((f"random n={n} seed={s}", n, random_table(n, s), None))

    if args.dump_text:
        os.makedirs(args.dump_text, exist_ok=True)
        for name, n, table, _ in instances:
            fname = name.replace(" ", "_").replace("=", "")
            with open(os.path.join(args.dump_text, fname + ".txt"), "w") as fh:
                fh.write(fmt_text(table))
        print(f"wrote {len(instances)} instances to {args.dump_text}")
        return 0

    if not args.no_cold:
        print(f"numba cold compile (fresh process, empty cache): {cold_compile_seconds():.1f} s",
              flush=True)

    ctx = mp.get_context("spawn")
    print(f"{'instance':<24} {'n':>4} {'rt':>7} {'expected':>9} {'wall s':>9} {'peak MiB':>9}  status",
          flush=True)
    by_size: dict[int, list] = {}
    for name, n, table, expected in instances:
        rt, wall, peak, status = run_instance(ctx, table, args.memory_gib, args.time_limit)
        if expected is not None and rt is not None and rt != expected:
            status = "WRONG"
        exp = "" if expected is None else str(expected)
        if expected is None and n > 5:
            exp = f"~{2.5 * math.sqrt(n - 5):.0f}"
        print(f"{name:<24} {n:>4} {'-' if rt is None else rt:>7} {exp:>9} {wall:>9.3f} "
              f"{peak:>9.1f}  {status}", flush=True)
        if name.startswith("random"):
            by_size.setdefault(n, []).append((rt, wall, peak, status))
    if by_size:
        print("\nrandom binary automata, per size:")
        print(f"{'n':>4} {'solved':>7} {'median s':>9} {'max s':>8} {'mean rt':>8} {'2.5*sqrt(n-5)':>14} {'max MiB':>8}")
        for n, rows in by_size.items():
            ok = [r for r in rows if r[3] == "ok"]
            walls = [r[1] for r in ok]
            rts = [r[0] for r in ok]
            print(f"{n:>4} {len(ok):>4}/{len(rows):<2} "
                  f"{statistics.median(walls) if walls else float('nan'):>9.3f} "
                  f"{max(walls) if walls else float('nan'):>8.3f} "
                  f"{statistics.mean(rts) if rts else float('nan'):>8.1f} "
                  f"{2.5 * math.sqrt(n - 5):>14.1f} "
                  f"{max(r[2] for r in rows):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
