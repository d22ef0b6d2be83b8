"""``seqvae hunt``: from a census to a catalogue of slow automata, one size after another."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._common import (
    InputError,
    err_console,
    handle_errors,
    out_console,
    print_json,
    progress_bar,
    set_threads,
)

__all__ = ["register"]


@handle_errors
def hunt_command(
    k: int = typer.Option(2, "-k", "--n-letters", help="Number of letters."),
    first: int = typer.Option(7, "--from", help="The first size: its slow classes come from the "
                              "pruned census (complete)."),
    last: int = typer.Option(12, "--to", help="The last size searched."),
    out: Path = typer.Option(..., "--out", help="Directory of the hunt: one folder per size, "
                             "the catalogue (catalogue.parquet, .md, .png)."),
    budget: int = typer.Option(200_000, "--budget-per-size", help="Evaluations (distinct "
                               "automata solved exactly) per searched size."),
    seed: int = typer.Option(0, "--seed", help="Seed of the searches."),
    jobs: int = typer.Option(1, "--jobs", help="Workers for the census and the exact "
                             "evaluations."),
    resume: bool = typer.Option(False, "--resume", help="Continue the hunt in --out: finished "
                                "sizes are read back, the size in progress resumes."),
    threads: Optional[int] = typer.Option(
        None, "--threads", help="torch threads of the lift ranking's surrogate (default 1: "
                                "its network is small, and a second thread beside other work "
                                "on the machine made its training 10x slower)."),
    json_out: bool = typer.Option(False, "--json", help='Print {"sizes": [{"n", "threshold", '
                                  '"evaluations", "seconds", "classes": [{"automaton", '
                                  '"reset_length", "family", "reset_word"}]}]}.'),
):
    """Climb from a census to a catalogue: every class with rt >= n^2 - 4n + 6, size by size.

    At --from the pruned census lists every slow class (rt >= n^2 - 4n + 6, the level of
    the H_n series). Each next size lifts the previous size's slow list (one more state),
    ranks the lifts with a learned reset-length surrogate and climbs from the best with
    evolve; every automaton it meets at or above the level joins the catalogue. No file
    is needed. The catalogue gives each class's family (or none: sporadic) and a shortest
    reset word; the table per size lists the reset lengths no class was found at.
    """
    from seqvae.hunt.catalogue import gaps, write_catalogue
    from seqvae.hunt.ladder import hunt

    if jobs == 0 or jobs < -1:
        raise InputError(f"--jobs must be positive or -1, got {jobs}")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is not a directory")
    set_threads(threads, default=1)
    with progress_bar(transient=True) as bar:
        tasks: dict[int, int] = {}

        def advance(n, stage, done, total):
            if n not in tasks:
                tasks[n] = bar.add_task(f"n={n} {stage}", total=total, status="")
            bar.update(tasks[n], completed=done, total=total)

        def finished(size):
            err_console.print(f"n={size.n_states}: {len(size.classes)} classes with rt >= "
                              f"{size.threshold} ({size.method}, {size.evaluations:,} "
                              f"evaluations, {size.seconds:.0f} s)", highlight=False)

        sizes = hunt(k, first, last, out, budget=budget, seed=seed, jobs=jobs, resume=resume,
                     progress=advance, on_size=finished)
    frame = write_catalogue(sizes, out)
    if json_out:
        print_json({"sizes": [{
            "n": s.n_states, "threshold": s.threshold, "evaluations": s.evaluations,
            "seconds": round(s.seconds, 3),
            "classes": [{"automaton": r.automaton, "reset_length": int(r.reset_length),
                         "family": r.family or None, "reset_word": r.reset_word}
                        for r in frame[frame["n"] == s.n_states].itertuples()]}
            for s in sizes]})
        return
    from rich.table import Table

    table = Table(title=f"slow automata, k={k}: catalogue in {out}")
    for column in ("n", "rt >=", "how", "evaluations", "classes", "in series", "sporadic",
                   "slowest", "no class at rt"):
        table.add_column(column, justify="right")
    for s in sizes:
        part = frame[frame["n"] == s.n_states]
        sporadic = int((part["family"] == "").sum())
        empty = gaps(s)
        table.add_row(str(s.n_states), str(s.threshold), s.method, f"{s.evaluations:,}",
                      str(len(part)), str(len(part) - sporadic), str(sporadic),
                      str(int(part["reset_length"].max())) if len(part) else "-",
                      ", ".join(map(str, empty[:12])) + (" ..." if len(empty) > 12 else ""))
    out_console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``seqvae hunt`` to the root app."""
    app.command("hunt")(hunt_command)
