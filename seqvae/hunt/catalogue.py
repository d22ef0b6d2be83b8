"""The catalogue of a hunt: every slow class found, with its family and a shortest reset word.

Written as ``catalogue.parquet`` (one row per class: ``n``, ``automaton`` in
compact form, ``reset_length``, ``family`` or empty, ``reset_word`` in letters
``a, b, …``, ``found_at``: the evaluation that found it, 0 for the census), a
Markdown table a researcher can cite (``catalogue.md``), and a figure of
``rt / (n − 1)²`` against ``n``, one mark per family, the sporadic classes (in
no known series) marked apart (``catalogue.png``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from automata.atomic import atomic_path, atomic_write_text
from automata.dfa import DFA
from automata.errors import AutomatonError
from automata.families import identify_family
from automata.formats import parse_compact
from automata.sync import cerny_bound, shortest_reset_word
from seqvae.hunt.search.discoveries import word_text

__all__ = ["catalogue_rows", "write_catalogue", "gaps"]


def _family(dfa: DFA) -> str:
    try:
        return identify_family(dfa) or ""
    except AutomatonError:
        return ""


def catalogue_rows(sizes) -> pd.DataFrame:
    """One row per class of every size (:class:`seqvae.hunt.ladder.SizeResult`), each
    with its family and one shortest reset word (solved again, so every word is checked)."""
    rows = []
    for size in sizes:
        for c in size.classes:
            dfa = parse_compact(c["automaton"])
            word = shortest_reset_word(dfa)
            if len(word) != int(c["reset_length"]):
                raise AutomatonError(f"{c['automaton']}: the exact solver finds {len(word)}, "
                                     f"the hunt recorded {c['reset_length']}")
            rows.append({"n": size.n_states, "automaton": c["automaton"],
                         "reset_length": int(c["reset_length"]), "family": _family(dfa),
                         "reset_word": word_text(word), "found_at": int(c["found_at"])})
    columns = ["n", "automaton", "reset_length", "family", "reset_word", "found_at"]
    return pd.DataFrame(rows, columns=columns)


def gaps(size) -> list[int]:
    """Reset lengths between the slow level and (n − 1)² that no class of ``size`` has."""
    found = {int(c["reset_length"]) for c in size.classes}
    return [rt for rt in range(size.threshold, cerny_bound(size.n_states) + 1) if rt not in found]


def _markdown(frame: pd.DataFrame, sizes) -> str:
    lines = ["# Slowly synchronizing automata", "",
             "Every class found, up to isomorphism (states relabelled, letters permuted), with "
             "rt ≥ n² − 4n + 6; family empty: in no known series.", ""]
    for size in sizes:
        part = frame[frame["n"] == size.n_states]
        how = ("complete: pruned census" if size.method == "census"
               else f"search: ranked lifts, {size.evaluations:,} evaluations")
        lines += [f"## n = {size.n_states} (rt ≥ {size.threshold}; {how}; "
                  f"{len(part)} classes, {int((part['family'] == '').sum())} sporadic)", "",
                  f"Reset lengths with no class found: {gaps(size) or 'none'}", "",
                  "| rt | automaton | family | shortest reset word |", "|---:|---|---|---|"]
        lines += [f"| {r.reset_length} | `{r.automaton}` | {r.family or '—'} | `{r.reset_word}` |"
                  for r in part.itertuples()]
        lines.append("")
    return "\n".join(lines)


def _figure(frame: pd.DataFrame, path: Path) -> None:
    # A bare Figure draws without pyplot's global state or any display backend.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    ratio = frame["reset_length"] / (frame["n"] - 1) ** 2
    for family, part in frame.groupby("family"):
        r = ratio[part.index]
        if family:
            ax.plot(part["n"], r, "o", ms=6, label=family, alpha=0.8)
        else:
            ax.plot(part["n"], r, "x", ms=7, color="black", label="sporadic (no known series)")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("n (states)")
    ax.set_ylabel("rt / (n − 1)²")
    ax.set_title("slowly synchronizing automata found")
    ax.legend(fontsize=7, ncol=2)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")


def write_catalogue(sizes, out_dir: str | Path) -> pd.DataFrame:
    """Write ``catalogue.parquet``, ``catalogue.md`` and ``catalogue.png``; returns the rows."""
    out = Path(out_dir)
    frame = catalogue_rows(sizes)
    with atomic_path(out / "catalogue.parquet", within=out) as tmp:
        frame.to_parquet(tmp, index=False)
    atomic_write_text(out / "catalogue.md", _markdown(frame, sizes), within=out)
    if len(frame):
        _figure(frame, out / "catalogue.png")
    return frame
