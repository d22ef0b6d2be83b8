"""Benchmark of ``search-extreme``: every method on the same budgets of distinct evaluations.

For binary automata with n states it reports, per method, budget and seed:

* ``best``       — the longest reset length found,
* ``to_cerny``   — evaluations until the first automaton with rt = (n-1)² (``-`` if none),
* ``slow``       — distinct automata found with rt >= n²-4n+6 (the H_n level),
* ``recall``     — for n <= 7, the share of ALL automata with rt >= n²-4n+6 (from the
  exhaustive census, :func:`automata.census.automata_with_reset_at_least`) that were found,
* ``to_r90``     — evaluations until that recall reached 90% (``-`` if never).
  Beyond n = 7 the ground truth is read from ``--census FILE`` (the JSON of
  ``seqvae automata census --json``, or any automata file), or computed by the
  pruned census when the ``automata`` package has one (``--census-compute``);
* ``series``     — members of the known binary series at this n found / existing,
* ``unnamed``    — distinct automata found at rt >= n²-4n+6 that belong to no known family,
* ``repeats``    — share of the run's proposed candidates that were isomorphic to one
  already evaluated: they are answered from the archive and cost no evaluation (the
  budget counts distinct automata for every method alike).

The summary gives means over seeds and, per method, the ratio of its mean
``to_r90`` to that of ``evolve`` (below 1: fewer evaluations than evolve).

One run per (n, method, seed) is made with the largest budget: the first B
evaluations of a run are exactly what a run with budget B evaluates (the budget
only stops the search), so smaller budgets are read off its prefix.

Examples::

    python scripts/bench_search.py --n 6 7 --methods random evolve
    python scripts/bench_search.py --n 10 --budgets 20000 100000 --seeds 0 1 2 --csv out.csv
    python scripts/bench_search.py --n 7 --methods vae hybrid --budgets 20000 --seeds 0
    python scripts/bench_search.py --n 8 --methods evolve boost --budgets 100000 200000 \
        --census census_n8_rt38.json --csv n8.csv
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _canonical_keys(tables) -> list[str]:
    from automata import DFA
    from automata.canon import canonical_key

    return [canonical_key(DFA(t)) for t in tables]


def census_keys(n: int, threshold: int, files=(), compute: bool = False) -> set[str] | None:
    """Canonical keys of every binary automaton with ``rt >= threshold`` (None: unknown)."""
    for path in files:
        keys = census_file_keys(path, n, threshold)
        if keys is not None:
            return keys
    if n > 7:
        if not compute:
            return None
        try:  # the pruned census, where the automata package provides one
            from automata.census_pruned import pruned_census
        except ImportError:
            return None
        from automata.canon import canonical_key
        from automata.formats import parse_compact

        found = pruned_census(n, 2, threshold)
        return {canonical_key(parse_compact(a)) for a, rt in found.automata.items()
                if rt >= threshold}
    from automata.canon import canonical_key
    from automata.census import automata_with_reset_at_least

    return {canonical_key(d) for d in automata_with_reset_at_least(n, 2, threshold)}


def census_file_keys(path: str, n: int, threshold: int) -> set[str] | None:
    """Keys of the automata of size ``n`` at ``rt >= threshold`` in a census file (None: none there).

    A JSON file lists ``{"automata": [{"automaton", "reset_length"}, ...]}``
    and must cover the threshold (its ``min_rt``); any other file is read as
    automata and their reset lengths computed.
    """
    import json

    from automata import DFA
    from automata.canon import canonical_key
    from automata.formats import parse_compact, read_automata
    from automata.sync import reset_length

    text = open(path).read()
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        if doc.get("n_states", n) != n:
            return None
        if doc.get("min_rt", threshold) > threshold:
            raise SystemExit(f"{path} lists rt >= {doc['min_rt']} only; recall needs rt >= "
                             f"{threshold}")
        rows = [(parse_compact(r["automaton"]), int(r["reset_length"])) for r in doc["automata"]]
    else:
        rows = [(d, reset_length(d)) for d in read_automata(path)]
    rows = [(d, rt) for d, rt in rows if d.n_states == n and d.n_letters == 2]
    if not rows:
        return None
    return {canonical_key(DFA(d.delta)) for d, rt in rows if rt >= threshold}


def series_keys(n: int) -> dict[str, str]:
    """Canonical key -> name of every member of the known binary series with n states."""
    from automata.canon import canonical_key
    from automata.errors import AutomatonError
    from automata.families import FAMILIES

    keys = {}
    for name, family in FAMILIES.items():
        if family.fixed_n is not None or family.n_letters != 2 or not family.valid_n(n):
            continue
        try:
            keys[canonical_key(family.build(n))] = name
        except AutomatonError:
            continue
    return keys


def measure(result, budgets, census: set[str] | None) -> list[dict]:
    from automata.sync import cerny_bound
    from seqvae.hunt.search import h_level

    n = result.n_states
    rts = result.rts
    slow_level = h_level(n)
    bound = cerny_bound(n)
    slow_idx = np.flatnonzero(rts >= slow_level)
    slow_keys = _canonical_keys(result.tables[slow_idx]) if len(slow_idx) else []
    hits = np.flatnonzero(rts >= bound)
    first_cerny = int(hits[0]) + 1 if len(hits) else None
    named = series_keys(n)
    slow_named = np.asarray([k in named for k in slow_keys], dtype=bool)
    rows = []
    for budget in budgets:
        used = min(budget, len(rts))
        prefix = rts[:used]
        row = {"n": n, "method": result.method, "budget": budget, "seed": result.seed,
               "evaluations": used, "best": int(prefix.max()) if used else -1,
               "cerny_bound": bound,
               "to_cerny": first_cerny if first_cerny is not None and first_cerny <= used else None,
               "slow": int(np.sum(prefix >= slow_level)),
               "series": f"{int(np.sum(slow_named & (slow_idx < used)))}/{len(named)}",
               "unnamed": len(_unnamed(result.tables[slow_idx[slow_idx < used]])),
               # Share of the whole run's proposals that were already-seen classes
               # (answered from the archive, not charged to the budget).
               "repeats": round(result.duplicates / result.proposed, 3) if result.proposed
               else 0.0}
        if census is not None:
            found = [k for i, k in zip(slow_idx, slow_keys) if i < used and k in census]
            row["census_slow"] = len(census)
            row["recall"] = len(set(found)) / len(census) if census else 1.0
            # Evaluations until 90% of the census set had been found.
            need = int(np.ceil(0.9 * len(census)))
            order = sorted(i for i, k in zip(slow_idx, slow_keys) if k in census)
            row["to_r90"] = (int(order[need - 1]) + 1
                             if need and len(order) >= need and order[need - 1] < used else None)
        rows.append(row)
    return rows


def _unnamed(tables) -> list[int]:
    from automata import DFA
    from automata.families import identify_family

    return [i for i, t in enumerate(tables) if identify_family(DFA(t)) is None]


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def print_table(rows: list[dict], file=sys.stdout) -> None:
    cols = ["n", "method", "budget", "seed", "best", "cerny_bound", "to_cerny", "slow", "series",
            "unnamed", "recall", "to_r90", "repeats", "seconds"]
    cols = [c for c in cols if any(c in r for r in rows)]
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in cols}
    print("  ".join(c.rjust(widths[c]) for c in cols), file=file)
    for r in rows:
        print("  ".join(_fmt(r.get(c)).rjust(widths[c]) for c in cols), file=file)


def summarise(rows: list[dict]) -> list[dict]:
    """Mean over seeds per (n, method, budget); counts how many seeds reached (n-1)²."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["n"], r["method"], r["budget"]), []).append(r)
    out = []
    for (n, method, budget), rs in groups.items():
        s = {"n": n, "method": method, "budget": budget, "seeds": len(rs),
             "best_mean": float(np.mean([r["best"] for r in rs])),
             "best_max": max(r["best"] for r in rs),
             "cerny_hits": sum(r["to_cerny"] is not None for r in rs),
             "to_cerny_mean": (float(np.mean([r["to_cerny"] for r in rs if r["to_cerny"]]))
                               if any(r["to_cerny"] for r in rs) else None),
             "slow_mean": float(np.mean([r["slow"] for r in rs])),
             "unnamed_mean": float(np.mean([r["unnamed"] for r in rs])),
             "all_series": sum(r["series"].split("/")[0] == r["series"].split("/")[1]
                               for r in rs),
             "repeats_mean": float(np.mean([r.get("repeats", 0.0) for r in rs])),
             "seconds_mean": float(np.mean([r.get("seconds", 0.0) for r in rs]))}
        if "recall" in rs[0]:
            s["recall_mean"] = float(np.mean([r["recall"] for r in rs]))
            s["to_r90_mean"] = (float(np.mean([r["to_r90"] for r in rs if r["to_r90"]]))
                                if all(r["to_r90"] for r in rs) else None)
        out.append(s)
    # Evaluations to 90% recall relative to evolve on the same (n, budget).
    base = {(s["n"], s["budget"]): s.get("to_r90_mean") for s in out if s["method"] == "evolve"}
    for s in out:
        ref = base.get((s["n"], s["budget"]))
        if "to_r90_mean" in s:
            s["r90_vs_evolve"] = (s["to_r90_mean"] / ref if ref and s["to_r90_mean"] else None)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[6, 7, 8, 9, 10])
    parser.add_argument("--budgets", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+",
                        default=["random", "evolve", "vae", "hybrid", "boost"])
    parser.add_argument("--model", default=None,
                        help="run directory for vae/hybrid; '{n}' is replaced by the size "
                             "(default: each run trains its own small starting model)")
    parser.add_argument("--census", nargs="+", default=[],
                        help="ground truth for recall beyond n = 7: census JSON or automata file(s)")
    parser.add_argument("--census-compute", action="store_true",
                        help="beyond n = 7 without --census: run the pruned census when available")
    parser.add_argument("--transfer-from", nargs="+", default=None,
                        help="boost: automata files (any sizes) that pre-train its models")
    parser.add_argument("--boost-options", default=None,
                        help="boost: JSON object of method options, e.g. '{\"vae_samples\": 0}'")
    parser.add_argument("--method-options", default=None,
                        help="JSON object of method options for every method run, e.g. the "
                             "evolve of before the closure: '{\"copy_moves\": false, "
                             "\"closure_margin\": null, \"restart_kind\": \"uniform\"}' "
                             "(boost and hybrid take evolve's under \"evolve_options\")")
    parser.add_argument("--missed", action="store_true",
                        help="list the census automata each method missed, with their reset "
                             "length, family and in how many seeds")
    parser.add_argument("--tag", default="",
                        help="appended to the method names in the tables (tells variants apart)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--csv", default=None, help="write the per-run rows here")
    parser.add_argument("--quiet", action="store_true", help="no per-run lines on stderr")
    parser.add_argument("--no-recall", action="store_true",
                        help="skip the census recall (the n=7 census takes a while the first time)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from seqvae.hunt.search import h_level, search_extreme

    rows: list[dict] = []
    missed: dict[tuple, list[set]] = {}
    top_budget = max(args.budgets)
    for n in args.n:
        census = None if args.no_recall else census_keys(n, h_level(n), args.census,
                                                         args.census_compute)
        for method in args.methods:
            for seed in args.seeds:
                t0 = time.perf_counter()
                model = args.model.replace("{n}", str(n)) if args.model else None
                import json

                options = json.loads(args.method_options) if args.method_options else None
                if method == "boost":
                    options = dict(options or {})
                    options.update(json.loads(args.boost_options) if args.boost_options else {})
                    if args.transfer_from:
                        options["transfer_from"] = args.transfer_from
                result = search_extreme(
                    n, 2, method, top_budget, seed=seed, jobs=args.jobs, write_results=False,
                    model=model if method in ("vae", "hybrid", "boost") else None,
                    method_options=options,
                    log=None if args.quiet else (lambda m: print(m, file=sys.stderr)))
                seconds = time.perf_counter() - t0
                if args.missed and census:
                    slow = result.tables[result.rts >= h_level(n)]
                    found = set(_canonical_keys(slow)) & census
                    missed.setdefault((n, method + args.tag), []).append(census - found)
                for row in measure(result, sorted(args.budgets), census):
                    row["method"] += args.tag
                    row["seconds"] = round(seconds, 1)
                    rows.append(row)
                if not args.quiet:
                    r = rows[-1]
                    print(f"n={n} {method} seed={seed}: best {r['best']}, to_cerny "
                          f"{_fmt(r['to_cerny'])}, slow {r['slow']}, series {r['series']}, "
                          f"unnamed {r['unnamed']}, recall {_fmt(r.get('recall'))}, to_r90 "
                          f"{_fmt(r.get('to_r90'))}, {seconds:.0f}s", file=sys.stderr, flush=True)
                if args.csv:  # after every run: a long benchmark keeps what it measured
                    _write_csv(args.csv, rows)
    print_table(rows)
    print()
    summary = summarise(rows)
    cols = list(summary[0].keys()) if summary else []
    if summary:
        widths = {c: max(len(c), *(len(_fmt(s.get(c))) for s in summary)) for c in cols}
        print("  ".join(c.rjust(widths[c]) for c in cols))
        for s in summary:
            print("  ".join(_fmt(s.get(c)).rjust(widths[c]) for c in cols))
    if args.csv:
        _write_csv(args.csv, rows)
    if missed:
        print_missed(missed)
    return 0


def print_missed(missed: dict[tuple, list[set]], file=sys.stdout) -> None:
    """Per (n, method): the census automata some seed missed, slowest first."""
    from automata.families import identify_family
    from automata.formats import parse_compact
    from automata.sync import reset_length

    for (n, method), runs in missed.items():
        counts: dict[str, int] = {}
        for keys in runs:
            for key in keys:
                counts[key] = counts.get(key, 0) + 1
        print(f"\nn={n} {method}: {len(counts)} census automata missed by at least one of "
              f"{len(runs)} seeds", file=file)
        rows = []
        for key, count in counts.items():
            dfa = parse_compact(key)
            rows.append((reset_length(dfa), key, identify_family(dfa) or "-", count))
        for rt, key, family, count in sorted(rows, key=lambda r: (-r[0], r[1])):
            print(f"  rt={rt}  {key}  {family}  missed in {count}/{len(runs)}", file=file)


def _write_csv(path: str, rows: list[dict]) -> None:
    import pandas as pd

    from automata.atomic import atomic_path

    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)


if __name__ == "__main__":
    sys.exit(main())
