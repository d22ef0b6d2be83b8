#!/usr/bin/env python
"""Exhaustive census of small automata up to isomorphism, from the command line.

Examples::

    python scripts/census.py 6 2 --check            # binary n=6, assert the published facts
    python scripts/census.py 7 2 --state census7.json --jobs 2 --check
    python scripts/census.py 4 3 --json > census_4_3.json
    python scripts/census.py 7 2 --state census7.json --cache   # reused by the library
    python scripts/census.py --bench                # canonical-form throughput table

The histogram table and the slowest automata go to stderr; ``--json`` writes the
result (``Census.to_dict()``) to stdout. With ``--state FILE`` the partial census
is saved atomically after every finished class of first letters, and a rerun
with the same file picks up where it stopped.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

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

from automata import DFA, AutomatonError, ResourceLimitError
from automata.atomic import atomic_write_text
from automata.canon import canonical_tables, is_isomorphic
from automata.census import (
    EXTREME_BUDGET,
    CensusPart,
    _to_census,
    cache_census,
    census_part,
    functional_graph_classes,
    merge_parts,
)
from automata.formats import format_compact
from automata.sync import reset_lengths

err = Console(stderr=True)


# Published exhaustive results (Trahtman; Kisielewicz and Szykuła), checked by --check.
def _cerny(n: int) -> DFA:
    return DFA([[(q + 1) % n for q in range(n)], [0 if q == n - 1 else q for q in range(n)]])


KARI = DFA([[1, 2, 0, 5, 3, 4], [0, 1, 3, 2, 2, 5]])


def check_facts(result) -> tuple[list[str], list[str]]:
    """(facts checked, problems found) for this size; both empty when nothing is known."""
    n, k, hist = result.n_states, result.n_letters, result.histogram
    checked, problems = [], []
    if k >= 2 and n >= 2 and ((k == 2 and n <= 12) or (k == 3 and n <= 8)):
        # Černý's conjecture is verified for these sizes, and C_n (with any
        # extra letters) reaches the bound.
        bound = (n - 1) ** 2
        checked.append(f"largest reset length is (n-1)^2 = {bound}")
        if max(hist) != bound:
            problems.append(f"largest reset length {max(hist)} != (n-1)^2 = {bound}")
    if k == 2 and 2 <= n <= 12:
        checked.append(f"C_{n} is among the slowest")
        if not any(rt == (n - 1) ** 2 and is_isomorphic(d, _cerny(n)) for d, rt in result.top):
            problems.append(f"C_{n} is not among the slowest automata")
    if (n, k) == (6, 2):
        checked.append("exactly two automata at 25 (C_6 and Kari), none at 24")
        if hist.get(25) != 2:
            problems.append(f"{hist.get(25, 0)} automata at 25, expected 2 (C_6 and Kari)")
        if 24 in hist:
            problems.append("automata at 24, expected none")
        if not any(rt == 25 and is_isomorphic(d, KARI) for d, rt in result.top):
            problems.append("Kari's automaton is missing at 25")
    if (n, k) == (7, 2):
        checked.append("only C_7 at 36, none at 33-35")
        if hist.get(36) != 1:
            problems.append(f"{hist.get(36, 0)} automata at 36, expected only C_7")
        for rt in (33, 34, 35):
            if rt in hist:
                problems.append(f"{hist[rt]} automata at {rt}, expected none")
    return checked, problems


def _load_state(path: Path | None, n: int, k: int) -> CensusPart | None:
    if path is None or not path.exists():
        return None
    part = CensusPart.from_json_obj(json.loads(path.read_text()))
    if (part.n_states, part.n_letters) != (n, k):
        raise AutomatonError(f"{path} holds a census of {part.n_states} states and "
                             f"{part.n_letters} letters, not {n} and {k}")
    return part


def _one_class(n: int, k: int, i: int, keep_count: int) -> CensusPart:
    return census_part(n, k, [i], keep_count=keep_count)


def run_census(n: int, k: int, *, top: int, jobs: int, state: Path | None):
    n_classes = len(functional_graph_classes(n))
    keep_count = max(top, EXTREME_BUDGET)
    done = _load_state(state, n, k)
    todo = [i for i in range(n_classes) if done is None or i not in done.classes]
    if done is not None:
        err.print(f"resuming from {state}: {len(done.classes)}/{n_classes} classes done")
    columns = (TextColumn("[bold]census[/] n={task.fields[n]} k={task.fields[k]}"), BarColumn(),
               MofNCompleteColumn(), TextColumn("classes"), TimeElapsedColumn(),
               TimeRemainingColumn())
    started = time.perf_counter()
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("census", total=n_classes, completed=n_classes - len(todo), n=n, k=k)
        if jobs == 1:
            results = (_one_class(n, k, i, keep_count) for i in todo)
        else:
            from joblib import Parallel, delayed
            results = Parallel(n_jobs=jobs, return_as="generator_unordered")(
                delayed(_one_class)(n, k, i, keep_count) for i in todo)
        last_save = time.perf_counter()
        last_line = time.perf_counter()
        finished = n_classes - len(todo)
        for part in results:
            done = part if done is None else merge_parts([done, part], keep_count=keep_count)
            bar.advance(task)
            finished += 1
            # Without a terminal the bar is not drawn: log a line now and then.
            if not err.is_terminal and time.perf_counter() - last_line > 10:
                elapsed = time.perf_counter() - started
                err.print(f"{finished}/{n_classes} classes, {done.total:,} automata, "
                          f"{elapsed:.0f} s elapsed", highlight=False)
                last_line = time.perf_counter()
            # Save at most every few seconds: the state file of n = 7 is not tiny.
            if state is not None and time.perf_counter() - last_save > 5:
                atomic_write_text(state, json.dumps(done.to_json_obj()))
                last_save = time.perf_counter()
    if state is not None and done is not None:
        atomic_write_text(state, json.dumps(done.to_json_obj()))
    return done, time.perf_counter() - started


def print_result(result, seconds: float) -> None:
    table = Table(title=f"census: {result.n_states} states, {result.n_letters} letters "
                        f"({seconds:.1f} s)")
    table.add_column("reset length", justify="right")
    table.add_column("automata", justify="right")
    for rt, count in sorted(result.histogram.items()):
        table.add_row(str(rt), f"{count:,}")
    table.add_row("non-synchronizing", f"{result.non_synchronizing:,}")
    table.add_row("total", f"{result.total:,}", style="bold")
    err.print(table)
    top = Table(title="slowest synchronizing automata (canonical forms)")
    top.add_column("reset length", justify="right")
    top.add_column("automaton")
    for dfa, rt in result.top:
        top.add_row(str(rt), format_compact(dfa))
    err.print(top)


def bench(count: int) -> None:
    """Throughput of canonical_tables (and reset_lengths) on uniform random tables."""
    rng = np.random.default_rng(0)
    canonical_tables(rng.integers(0, 4, size=(10, 2, 4)))  # compile / load the cache
    table = Table(title=f"canonical_tables on {count:,} random automata")
    for col in ("n_states", "n_letters", "canonical s", "µs each", "reset_lengths s"):
        table.add_column(col, justify="right")
    for n, k in ((6, 2), (8, 2), (8, 3), (16, 2), (16, 3), (32, 2), (64, 2)):
        tables = rng.integers(0, n, size=(count, k, n))
        start = time.perf_counter()
        canonical_tables(tables)
        canon_s = time.perf_counter() - start
        start = time.perf_counter()
        reset_lengths(tables) if n <= 16 else None
        rt_s = time.perf_counter() - start
        table.add_row(str(n), str(k), f"{canon_s:.2f}", f"{canon_s / count * 1e6:.2f}",
                      f"{rt_s:.2f}" if n <= 16 else "-")
    err.print(table)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_states", type=int, nargs="?", help="number of states")
    parser.add_argument("n_letters", type=int, nargs="?", default=2, help="number of letters")
    parser.add_argument("--top", type=int, default=10, help="slowest automata to list")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--state", type=Path, default=None, help="resumable state file")
    parser.add_argument("--json", action="store_true", help="write the result as JSON to stdout")
    parser.add_argument("--cache", action="store_true",
                        help="store the result where census(..., cache=True) finds it")
    parser.add_argument("--check", action="store_true",
                        help="fail unless the published facts for this size hold")
    parser.add_argument("--bench", action="store_true", help="print a throughput table and exit")
    parser.add_argument("--bench-count", type=int, default=100_000)
    args = parser.parse_args(argv)
    if args.bench:
        bench(args.bench_count)
        return 0
    if args.n_states is None:
        parser.error("n_states is required (or --bench)")
    try:
        part, seconds = run_census(args.n_states, args.n_letters, top=args.top,
                                   jobs=max(1, args.jobs), state=args.state)
        if args.cache:
            # Same format as the library's cache: census(..., cache=True) and
            # automata_with_reset_at_least then reuse this run.
            err.print(f"cached in {cache_census(part)}")
    except (AutomatonError, ResourceLimitError, OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        return 2 if isinstance(exc, (AutomatonError, ValueError)) else 1
    result = _to_census(part, args.top)
    print_result(result, seconds)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    if args.check:
        checked, problems = check_facts(result)
        for problem in problems:
            err.print(f"[bold red]check failed:[/] {problem}")
        if problems:
            return 1
        if checked:
            err.print("[green]published facts hold:[/] " + "; ".join(checked))
        else:
            err.print("no published facts recorded for this size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
