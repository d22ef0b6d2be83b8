#!/usr/bin/env python
"""Benchmark of the pruned census (every automaton with rt >= L, up to isomorphism).

Examples::

    python scripts/bench_census.py --check-n7              # n=7, L=30 against the published facts
    python scripts/bench_census.py -n 8 --min-rt 38 --jobs 2 --out runs/census8
    python scripts/bench_census.py -n 9 --min-rt 51 --sample 40   # time 40 chunks, extrapolate

Target: binary n = 8 with L = n^2-4n+6 = 38 within 10 minutes on 2 cores.
Tables go to stderr, ``--json`` writes the result to stdout. CPU seconds are
the sum over chunks of the processor time they used (the workers' time, which
stays honest when other work shares the cores), wall seconds the elapsed time
of the whole run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from automata import AutomatonError
from automata.census_maps import map_classes, map_rank
from automata.census_pruned import chunk_count, pruned_census
from automata.families import FAMILIES, identify_family

err = Console(stderr=True)


def _run(n: int, k: int, min_rt: int, jobs: int, chunks=None, out=None, resume=False):
    columns = (TextColumn(f"[bold]census[/] n={n} k={k} rt>={min_rt}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("chunks"), TimeElapsedColumn(),
               TimeRemainingColumn())
    total = chunk_count(n) if chunks is None else len(chunks)
    started = time.perf_counter()
    last_line = [started]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("census", total=total)

        def advance(chunk, done, _total):
            bar.update(task, completed=done)
            if not err.is_terminal and time.perf_counter() - last_line[0] > 30:
                err.print(f"{done}/{total} chunks, {time.perf_counter() - started:.0f} s",
                          highlight=False)
                last_line[0] = time.perf_counter()

        result = pruned_census(n, k, min_rt, n_jobs=jobs, chunks=chunks, out_dir=out,
                               resume=resume, progress=advance,
                               on_rejected=lambda path, why: err.print(
                                   f"warning: {path}: {why}; recomputing", highlight=False))
    return result, time.perf_counter() - started


def _print_result(result, wall: float, jobs: int, top: int) -> None:
    table = Table(title="bench_census")
    for col in ("n", "k", "L", "chunks", "classes", "search nodes", "wall s", "CPU s", "jobs"):
        table.add_column(col, justify="right")
    table.add_row(str(result.n_states), str(result.n_letters), str(result.min_rt),
                  str(len(result.chunks_done)), str(len(result.automata)), f"{result.nodes:,}",
                  f"{wall:.1f}", f"{result.cpu_seconds:.1f}", str(jobs))
    err.print(table)
    hist = Table(title=f"histogram, rt >= {result.min_rt} (classes up to isomorphism)")
    hist.add_column("reset length", justify="right")
    hist.add_column("classes", justify="right")
    hist.add_column("of them in a known series", justify="right")
    named = defaultdict(int)
    ranked = result.ranked()
    names = [identify_family(dfa) for dfa, _ in ranked]
    for (_, rt), name in zip(ranked, names):
        if name is not None:
            named[rt] += 1
    for rt, count in sorted(result.histogram.items(), reverse=True):
        hist.add_row(str(rt), str(count), str(named[rt]))
    err.print(hist)
    best = Table(title=f"the {min(top, len(ranked))} slowest")
    for col in ("rt", "automaton (canonical)", "family"):
        best.add_column(col)
    for (dfa, rt), name in list(zip(ranked, names))[:top]:
        from automata.formats import format_compact
        best.add_row(str(rt), format_compact(dfa), name or "no known series")
    err.print(best)


def check_n7(jobs: int) -> int:
    """Pruned census of binary n = 7 at L = 30 against the published facts."""
    result, wall = _run(7, 2, 30, jobs)
    _print_result(result, wall, jobs, top=20)
    hist = result.histogram
    names = [identify_family(dfa) for dfa, _ in result.ranked()]
    series = [name for name in names if name is not None and FAMILIES[name].fixed_n is None]
    checks = [
        ("20 classes with rt >= 30", len(result.automata) == 20),
        ("only C_7 at 36", hist.get(36) == 1 and names[0] == "cerny"),
        ("none at 33-35", not any(rt in hist for rt in (33, 34, 35))),
        ("none above 36 (Cerny's conjecture)", max(hist) == 36),
        ("7 of the 20 in a known series", len(series) == 7),
    ]
    table = Table(title="n = 7, L = 30 against the full census facts")
    table.add_column("fact")
    table.add_column("holds")
    for fact, ok in checks:
        table.add_row(fact, "yes" if ok else "[bold red]NO[/]")
    err.print(table)
    err.print(f"series found: {sorted(series)}", highlight=False)
    return 0 if all(ok for _, ok in checks) else 1


def sample(n: int, k: int, min_rt: int, count: int, jobs: int) -> None:
    """Time ``count`` chunks spread over the ranks of letter a; extrapolate per rank."""
    reps = map_classes(n)
    by_rank = defaultdict(list)
    for i, rep in enumerate(reps):
        by_rank[map_rank(rep)].append(i)
    rng = np.random.default_rng(0)
    searched = {r: idx for r, idx in by_rank.items() if r < n}  # permutations are skipped
    n_search = sum(len(v) for v in searched.values())
    chosen = []
    for rank, idx in sorted(searched.items()):
        # At least a few per rank: the costs differ by orders of magnitude between ranks.
        share = max(10, round(count * len(idx) / n_search))
        chosen += sorted(rng.choice(idx, size=min(share, len(idx)), replace=False).tolist())
    result, wall = _run(n, k, min_rt, jobs, chunks=chosen)
    per_rank = {rank: [i for i in idx if i in result.chunks_done] for rank, idx in searched.items()}
    table = Table(title=f"sample of {len(chosen)} of {len(reps)} chunks, n={n}, L={min_rt}")
    for col in ("rank of a", "chunks", "sampled", "CPU s sampled", "est. CPU s"):
        table.add_column(col, justify="right")
    times = result.chunk_seconds
    estimate = 0.0
    for rank in sorted(searched):
        got = [times[i] for i in per_rank[rank]]
        est = float(np.mean(got)) * len(searched[rank]) if got else float("nan")
        estimate += est
        table.add_row(str(rank), str(len(searched[rank])), str(len(got)), f"{sum(got):.1f}",
                      f"{est:.0f}")
    err.print(table)
    err.print(f"sample: {wall:.1f} s wall on {jobs} job(s), {result.cpu_seconds:.1f} CPU s; "
              f"estimate for all chunks: {estimate:.0f} CPU s = {estimate / 3600:.2f} h on one "
              f"core, {estimate / 7200:.2f} h on two; classes found in the sample: "
              f"{len(result.automata)} {result.histogram}", highlight=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--n-states", type=int, default=8)
    parser.add_argument("-k", "--n-letters", type=int, default=2)
    parser.add_argument("--min-rt", type=int, default=None, help="default n^2-4n+6 (H_n)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", default=None, help="chunk directory (resumable)")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--sample", type=int, default=None,
                        help="time this many chunks and extrapolate instead of a full run")
    parser.add_argument("--check-n7", action="store_true",
                        help="n=7, L=30 against the published facts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.check_n7:
            return check_n7(args.jobs)
        n = args.n_states
        min_rt = args.min_rt if args.min_rt is not None else n * n - 4 * n + 6
        if args.sample is not None:
            sample(n, args.n_letters, min_rt, args.sample, args.jobs)
            return 0
        result, wall = _run(n, args.n_letters, min_rt, args.jobs, out=args.out,
                            resume=args.resume)
    except AutomatonError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2
    _print_result(result, wall, args.jobs, args.top)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
