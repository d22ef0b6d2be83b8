#!/usr/bin/env python
"""Benchmark of the exact shortest-reset-word solver, optionally side by side
with an external solver (synchrowords) given by path.

The default instance set: Černý C_n (n = 100..300), W_100, H_100, random
binary automata n = 200 and 300 (5 seeds each) and n = 400 (3 seeds), random
ternary n = 200 (3 seeds). Random automata come from
``random.Random(1000 * n + seed)``, drawn state by state and letter by letter
in the order of the "K N" text format, so they are the same instances
for both solvers and across runs.

Each instance of ours runs in its own fresh worker process (warmed on a tiny
automaton first, so compilation is not timed); its peak memory is the
worker's maximum resident set (and its growth over the warmed worker), next
to the search's own estimate of its arrays. With ``--peer``, the external
solver runs on the same instance right after ours (interleaved, so machine
load hits both alike), 1 thread each; its peak memory is its maximum
resident set (``wait4``). The table gives the time ratio ours / peer per
instance and the geometric mean per class; a ratio below 1 means we are
faster. The peer compiles itself per (n, k) on first use: run it once on the
sizes beforehand (``--peer-warm``) so that compile time is not measured.

Examples
--------
    python scripts/bench_reset.py --quick
    python scripts/bench_reset.py --peer /path/to/synchrowords/synchro \\
        --peer-config configs/exact.json --peer-config-slow /path/to/exact_without_beam.json
    python scripts/bench_reset.py --only rand2_200 --seeds 2
    python scripts/bench_reset.py --only rand2_300_s0 --profile --threads2
    python scripts/bench_reset.py --dump-text /tmp/instances   # "K N" text files
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

CERNY_SIZES = [100, 150, 200, 250, 300]


def cerny_table(n: int) -> np.ndarray:
    """Černý C_n: a = cycle q -> q+1 mod n, b = n-1 -> 0, other states fixed."""
    a = [(q + 1) % n for q in range(n)]
    b = [0 if q == n - 1 else q for q in range(n)]
    return np.array([a, b], dtype=np.int32)


def random_table(n: int, k: int, seed: int) -> np.ndarray:
    """Random automaton from ``random.Random(1000 * n + seed)``, drawn in text-format order."""
    rng = random.Random(1000 * n + seed)
    table = np.empty((k, n), dtype=np.int32)
    for q in range(n):
        for a in range(k):
            table[a, q] = rng.randrange(n)
    return table


def family_table(name: str, n: int) -> np.ndarray:
    from automata.families import build_family
    return np.asarray(build_family(name, n).delta, dtype=np.int32)


def instance_set(args) -> list[tuple[str, str, np.ndarray]]:
    """(class, name, table) of every instance, in run order."""
    out = []
    if args.quick:
        out += [("C_n", f"C_{n}", cerny_table(n)) for n in (50, 100)]
        out += [("rand2_100", f"rand2_100_s{s}", random_table(100, 2, s)) for s in range(3)]
        out += [("rand2_150", f"rand2_150_s{s}", random_table(150, 2, s)) for s in range(2)]
    else:
        seeds = {200: args.seeds, 300: args.seeds, 400: min(args.seeds, 3)}
        out += [("C_n", f"C_{n}", cerny_table(n)) for n in CERNY_SIZES]
        out += [("W_100", "W_100", family_table("wielandt", 100)),
                ("H_100", "H_100", family_table("h_series", 100))]
        # The largest class last: a run cut short still covers the others.
        out += [("rand2_200", f"rand2_200_s{s}", random_table(200, 2, s)) for s in range(seeds[200])]
        out += [("rand3_200", f"rand3_200_s{s}", random_table(200, 3, s))
                for s in range(min(args.seeds, 3))]
        for n in (300, 400):
            out += [(f"rand2_{n}", f"rand2_{n}_s{s}", random_table(n, 2, s)) for s in range(seeds[n])]
    if args.only:
        out = [row for row in out if any(row[0] == o or row[1] == o for o in args.only)]
    return out


def fmt_text(table: np.ndarray) -> str:
    """The "K N" text format: K N, then each state's K successors."""
    k, n = table.shape
    return f"{k} {n}\n" + " ".join(str(int(table[a, q])) for q in range(n) for a in range(k)) + "\n"


# -- ours ---------------------------------------------------------------------------------
def _worker(args):
    table, memory_gib, time_limit, threads = args
    import resource

    from automata import DFA, _bidir
    from automata.errors import ResourceLimitError
    from automata.sync import shortest_reset_word
    shortest_reset_word(DFA(cerny_table(70)))  # warm: compiled kernels loaded before timing
    dfa = DFA(table)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    try:
        word = shortest_reset_word(dfa, memory_gib=memory_gib, time_limit=time_limit, threads=threads)
        status = "ok" if dfa.is_reset_word(word) else "WRONG"
        rt = len(word)
    except ResourceLimitError as exc:
        status, rt = type(exc).__name__, None
    except Exception as exc:  # noqa: BLE001 - reported in the table
        status, rt = type(exc).__name__, None
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = dict(_bidir.LAST_RUN)
    return rt, wall, peak / 1024.0, max(0, peak - base) / 1024.0, status, stats


def run_ours(ctx, table, memory_gib, time_limit, threads=1):
    """One run in a fresh worker on ``threads`` threads (its numba started
    with ``NUMBA_NUM_THREADS`` = ``threads``, read when it imports numba)."""
    saved = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    try:
        with ctx.Pool(1, maxtasksperchild=1) as pool:
            return pool.apply(_worker, ((table, memory_gib, time_limit, threads),))
    finally:
        if saved is None:
            del os.environ["NUMBA_NUM_THREADS"]
        else:
            os.environ["NUMBA_NUM_THREADS"] = saved


# -- the peer -----------------------------------------------------------------------------
_BOUNDS = re.compile(r"^\d+:\s*\[(\d+),\s*(\d+)\]")


def run_peer(peer: str, config: str, text_path: str, time_limit: float):
    """(rt, wall s, peak MiB, status) of one run of the external solver."""
    root = os.path.dirname(os.path.abspath(peer))
    with tempfile.NamedTemporaryFile("r", suffix=".txt", delete=True) as out:
        cmd = [os.path.abspath(peer), "-c", config, "-f", os.path.abspath(text_path),
               "-o", out.name, "-q"]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        status = "ok"
        deadline = t0 + time_limit
        while True:
            pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, code, usage = os.wait4(proc.pid, 0)
                status = "timeout"
                break
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        proc.returncode = code
        peak = usage.ru_maxrss / 1024.0
        rt = None
        if status == "ok":
            text = open(out.name).read()
            m = _BOUNDS.search(text.strip().splitlines()[0]) if text.strip() else None
            if m and m.group(1) == m.group(2):
                rt = int(m.group(1))
            else:
                status = "no answer" if code == 0 else f"exit {os.waitstatus_to_exitcode(code)}"
    return rt, wall, peak, status


def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small instances only (about a minute)")
    p.add_argument("--only", nargs="*", help="classes or instance names to run (e.g. rand2_300)")
    p.add_argument("--seeds", type=int, default=5, help="random automata per size (n=400: at most 3)")
    p.add_argument("--time-limit", type=float, default=600.0, help="seconds per instance and solver")
    p.add_argument("--memory-gib", type=float, default=4.0, help="our memory budget per instance")
    p.add_argument("--peer", metavar="PATH", help="the external solver's executable (synchrowords' synchro)")
    p.add_argument("--peer-config", nargs="*", default=["configs/exact.json"],
                   help="peer configuration(s), relative to the executable's folder; with several, "
                        "the fastest per instance is compared")
    p.add_argument("--peer-config-slow", nargs="*", default=None,
                   help="peer configuration(s) for the slowly synchronizing classes (C_n, W_100, "
                        "H_100) instead of --peer-config: synchrowords' beam stage is slow on them, "
                        "so its best configuration there has no beam")
    p.add_argument("--peer-warm", action="store_true",
                   help="run the peer once per instance before measuring (its compile-on-first-use)")
    p.add_argument("--threads2", action="store_true",
                   help="also run ours on 2 threads and add its time and ratio (the main columns "
                        "stay 1 thread each)")
    p.add_argument("--profile", action="store_true",
                   help="print our step log under each instance: side, depth, level size, "
                        "seconds of the step and of the meet test after it")
    p.add_argument("--dump-text", metavar="DIR", help="write the instances in 'K N' text format and exit")
    args = p.parse_args(argv)
    instances = instance_set(args)

    if args.dump_text:
        os.makedirs(args.dump_text, exist_ok=True)
        for _, name, table in instances:
            with open(os.path.join(args.dump_text, name + ".txt"), "w") as fh:
                fh.write(fmt_text(table))
        print(f"wrote {len(instances)} instances to {args.dump_text}")
        return 0

    ctx = mp.get_context("spawn")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; ours on 1 thread"
          f"{' (and 2: 2t columns)' if args.threads2 else ''}, peer on 1; memory_gib={args.memory_gib}; "
          f"peer={args.peer or '-'} {' '.join(args.peer_config) if args.peer else ''}"
          + (f" (C_n, W, H: {' '.join(args.peer_config_slow)})" if args.peer_config_slow else ""),
          flush=True)
    head = (f"{'instance':<16} {'rt':>5} {'ours s':>8} {'RSS MiB':>8} {'+MiB':>7} {'est MiB':>8} "
            f"{'phase':>9}  {'status':<10}")
    if args.peer:
        head += f" {'peer rt':>7} {'peer s':>8} {'peer MiB':>8} {'ratio':>6}"
    if args.threads2:
        head += f" {'2t s':>8} {'2t MiB':>8} {'speed-up':>8}" + (f" {'2t ratio':>8}" if args.peer else "")
    print(head, flush=True)
    ratios: dict[str, list[float]] = {}
    ratios2: dict[str, list[float]] = {}
    speedups: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cls, name, table in instances:
            rt, wall, rss, grow, status, stats = run_ours(ctx, table, args.memory_gib, args.time_limit)
            est = stats.get("peak_estimate", 0) / 2 ** 20
            line = (f"{name:<16} {'-' if rt is None else rt:>5} {wall:>8.2f} {rss:>8.0f} {grow:>7.0f} "
                    f"{est:>8.0f} {stats.get('phase', '-'):>9}  {status:<10}")
            if args.peer:
                path = os.path.join(tmp, name + ".txt")
                with open(path, "w") as fh:
                    fh.write(fmt_text(table))
                best = None
                slow = cls in ("C_n", "W_100", "H_100")
                configs = args.peer_config_slow if slow and args.peer_config_slow else args.peer_config
                for config in configs:
                    if args.peer_warm:
                        run_peer(args.peer, config, path, args.time_limit)
                    res = run_peer(args.peer, config, path, args.time_limit)
                    if best is None or (res[3] == "ok" and (best[3] != "ok" or res[1] < best[1])):
                        best = res
                prt, pwall, ppeak, pstatus = best
                if prt is not None and rt is not None and prt != rt:
                    status = "DISAGREE"
                ratio = wall / pwall if status == "ok" and pstatus == "ok" else float("nan")
                if not math.isnan(ratio):
                    ratios.setdefault(cls, []).append(ratio)
                line += (f" {'-' if prt is None else prt:>7} {pwall:>8.2f} {ppeak:>8.0f} "
                         f"{ratio:>6.2f}")
            if args.threads2:
                rt2, wall2, rss2, _, status2, _ = run_ours(ctx, table, args.memory_gib, args.time_limit, 2)
                ok2 = status2 == "ok" and rt2 == rt
                if ok2 and status == "ok":
                    speedups.setdefault(cls, []).append(wall / wall2)
                    line += f" {wall2:>8.2f} {rss2:>8.0f} {wall / wall2:>8.2f}"
                else:
                    line += f" {status2:>8} {'-':>8} {'-':>8}"
                if args.peer:
                    ratio2 = wall2 / pwall if ok2 and pstatus == "ok" else float("nan")
                    line += f" {ratio2:>8.2f}"
                    if not math.isnan(ratio2):
                        ratios2.setdefault(cls, []).append(ratio2)
            if args.peer and pstatus != "ok":
                line += f" peer: {pstatus}"
            print(line, flush=True)
            if args.profile:
                for side, depth, size, t_step, t_meet in stats.get("steps", []):
                    print(f"    {side} depth {depth:>3} size {size:>9}  step {t_step:7.2f} s  "
                          f"meet {t_meet:7.2f} s", flush=True)
    if speedups:
        print("\ngeometric mean of the speed-up of 2 threads over 1 (ours), per class")
        for cls, values in speedups.items():
            print(f"{cls:<12} {geomean(values):>6.2f}  ({len(values)} instances)")
    if ratios:
        print("\ngeometric mean of the time ratio ours / peer, per class (below 1: ours faster)")
        for cls, values in ratios.items():
            two = f"   2 threads: {geomean(ratios2[cls]):.2f}" if cls in ratios2 else ""
            print(f"{cls:<12} {geomean(values):>6.2f}  ({len(values)} instances){two}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
