"""The last screen of ``make demo``: what each step measured, read from its files.

Usage: ``python scripts/demo_summary.py DEMO_OUT [--seconds S]``. It computes nothing:
every figure is read from a file a ``seqvae`` command wrote (``--json`` outputs, search
leaderboards and candidate tables), so the screen shows exactly what the run measured.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

#: Classes with rt >= n^2 - 4n + 6 = 38 among binary 8-state automata (the pruned census,
#: `seqvae automata census -n 8 -k 2 --min-rt 38`, lists 63).
SLOW8_CLASSES = 63


def _json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _share(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _upper_bound(path: Path) -> str:
    match = re.search(r"length (\d+)", path.read_text()) if path.is_file() else None
    return match.group(1) if match else "?"


def _slow_rows(search_dir: Path, threshold: int) -> list[dict]:
    """Every evaluated class with rt >= threshold (the candidate table holds them all)."""
    table = search_dir / "candidates.csv"
    if not table.is_file():
        return []
    with table.open() as handle:
        return [row for row in csv.DictReader(handle) if int(row["reset_length"]) >= threshold]


def exact_lines(out: Path) -> list[str]:
    lines = []
    for row in _json(out / "exact.json") or []:
        lines.append(f"  {row['automaton']:<22} rt {row['reset_length']:>2} "
                     f"(bound (n-1)^2 = {row['cerny_bound']}, {row['family'] or 'no family'})")
    lines.append(f"  heuristic upper bounds on C_8: Eppstein {_upper_bound(out / 'c8_eppstein.txt')}, "
                 f"beam {_upper_bound(out / 'c8_beam.txt')} (exact 49)")
    census = _json(out / "census5.json")
    if census:
        top = census["top"][0] if census.get("top") else None
        lines.append(f"  census n = 5: {census['total']:,} classes, {census['non_synchronizing']:,} "
                     f"not synchronizing" + (f", slowest rt {top['reset_length']}" if top else ""))
    lines.append(f"  drawing: {out / 'c5.png'}")
    return lines


def model_lines(out: Path) -> list[str]:
    ev = _json(out / "eval.json")
    config = _json(out / "run" / "config.json") or {}
    data, result = config.get("data") or {}, config.get("result") or {}
    lines = []
    if data and result:
        lines.append(f"  trained on {data.get('rows', 0):,} random synchronizing automata "
                     f"({result.get('epochs')} epochs, {result.get('steps'):,} steps)")
    if ev:
        rec = ev.get("reconstruction") or {}
        lines.append(f"  reconstruction of {ev.get('eval_items')} held-out automata: "
                     f"{_share(ev.get('reconstruction_exact'))} exact from the mean code, "
                     f"{_share(rec.get('posterior'))} from posterior draws, "
                     f"{_share(rec.get('sampled'))} with sampled decodes")
        lines.append(f"  {ev.get('prior_samples')} prior samples z ~ N(0, I): well-formed "
                     f"{_share(ev.get('prior_well_formed'))} (constrained decode), "
                     f"{_share(ev.get('prior_well_formed_unconstrained'))} unconstrained; "
                     f"synchronizing {_share(ev.get('prior_synchronizing'))}")
        lines.append(f"  prior samples unique {_share(ev.get('prior_unique'))}, novel "
                     f"{_share(ev.get('prior_novel'))}; reset lengths vs training: total variation "
                     f"{_share(ev.get('reset_length_tv'))}; active units {ev.get('active_units')} "
                     f"of {ev.get('d_z')}; IWAE NLL {ev.get('iwae_nll', 0):.1f} nats")
    figures = sorted((out / "interp").glob("*.png"))
    if figures:
        lines.append(f"  interpolation figures in {out / 'interp'}/: "
                     + ", ".join(p.name for p in figures))
    return lines


def verdict_lines(out: Path) -> list[str]:
    """One line: the VAE's latent search against evolve on the same budget at n = 7."""
    evolve = _json(out / "search7_evolve" / "leaderboard.json")
    vae = _json(out / "search7_vae" / "leaderboard.json")
    if not (evolve and vae):
        return []
    e, v, budget = evolve["best_reset_length"], vae["best_reset_length"], f"{vae['budget']:,}"
    if v < e:
        return [f"  The VAE loses: at n = 7 its latent search reached rt {v}, plain evolve rt {e} "
                f"({budget} evaluations each; C_7 has 36)."]
    if v == e:
        return [f"  The VAE ties: at n = 7 its latent search and plain evolve both reached rt {v} "
                f"({budget} evaluations each; C_7 has 36)."]
    return [f"  The VAE wins here: at n = 7 its latent search reached rt {v}, plain evolve rt {e} "
            f"({budget} evaluations each; C_7 has 36)."]


def hunt_lines(out: Path) -> list[str]:
    hunt = out / "hunt8"
    board = _json(hunt / "leaderboard.json")
    if not board:
        return ["  (the hunt did not finish)"]
    sources = out / "slow7.txt"
    n_sources = sum(1 for _ in sources.open()) if sources.is_file() else 0
    threshold = board["slow_threshold"]
    slow = _slow_rows(hunt, threshold)
    cerny = [r for r in slow if int(r["reset_length"]) == board["cerny_bound"]]
    lines = [f"  boost, lifts of the {n_sources} slow 7-state classes ranked by a learned surrogate, "
             f"{board['evaluations']:,} evaluations, {board['elapsed']:.0f} s:",
             f"  slow classes found (rt >= {threshold}): {len(slow)} of the {SLOW8_CLASSES} "
             f"the census lists",
             "  C_8 (rt 49): " + (f"found, at evaluation {cerny[0]['order']}" if cerny
                                  else "not found")]
    sporadic = board.get("new_slow") or []
    lines.append(f"  sporadic slow classes (outside the known series), each with a shortest reset "
                 f"word: {len(sporadic)}")
    for item in sporadic:
        lines.append(f"    {item['automaton']}  rt {item['reset_length']}  {item['reset_word']}")
    return lines


SECTIONS = {"exact": ("Exact work on synchronizing automata", exact_lines),
            "model": ("The VAE on 7-state binary automata", model_lines),
            "verdict": (None, verdict_lines),
            "hunt": ("The hunt that works, n = 8", hunt_lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--only", choices=sorted(SECTIONS), help="print one section, no frame")
    parser.add_argument("--seconds", type=int, default=None, help="wall time of this demo run")
    args = parser.parse_args()
    out = args.out
    if args.only:
        print("\n".join(SECTIONS[args.only][1](out)))
        return
    rule = "=" * 78
    took = ("" if args.seconds is None
            else f" (this invocation: {args.seconds // 60} min {args.seconds % 60} s)")
    print(f"\n{rule}\nseqvae demo: summary{took}; everything is under {out}/\n{rule}")
    for title, lines in SECTIONS.values():
        if title:
            print(title)
        print("\n".join(lines(out)))
    print(rule)


if __name__ == "__main__":
    main()
