"""``seqvae data``: build training sets (random automata, or strings from a file)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional, Tuple

import typer

from seqvae.cli._common import InputError, err_console, handle_errors, print_json, progress_bar

__all__ = ["data_app", "register"]

data_app = typer.Typer(
    name="data",
    help="Build data sets: random synchronizing automata, or strings from a file.",
    no_args_is_help=True,
    add_completion=False,
)

# Kept literal here (not imported) so that `--help` does not import torch.
_ENRICH_HELP = (
    "Enrichment toward long reset words; repeatable, combinable. "
    "'quantile:Q' draws a pool of count/(1-Q) distinct automata per size and keeps its "
    "top (1-Q) share by reset length (0 <= Q < 1, e.g. quantile:0.9). "
    "'mutate:R' replaces a share R (0 < R <= 1) of the set by local-search offspring: one "
    "transition of a long-reset parent is redirected at random and the child is kept when it "
    "is synchronizing, new up to isomorphism and slower to synchronize than its parent; "
    "kept children become parents (column 'source' = mutate)."
)


@data_app.command("automata")
@handle_errors
def automata_command(
    output: Path = typer.Option(..., "-o", "--output", help="Parquet file to write "
                                "(metadata goes to OUTPUT.json beside it, e.g. set.parquet.json)."),
    n_states: Optional[int] = typer.Option(None, "--n-states", help="Number of states."),
    n_states_range: Optional[Tuple[int, int]] = typer.Option(
        None, "--n-states-range", help="Every size A..B inclusive (rows split evenly).",
        metavar="A B"),
    n_letters: int = typer.Option(2, "--n-letters", help="Number of letters."),
    count: int = typer.Option(10_000, "--count", help="Number of automata (distinct up to "
                              "isomorphism) to produce."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    enrich: Optional[List[str]] = typer.Option(None, "--enrich", help=_ENRICH_HELP,
                                               metavar="quantile:Q|mutate:R"),
):
    """Random synchronizing automata, canonical and distinct up to isomorphism, with exact
    reset lengths.

    Columns: item (canonical compact form, e.g. 'a:0120 b:3012'), n_states, n_letters,
    reset_length, strongly_connected, cerny_ratio, source. Prints a JSON summary on stdout.
    """
    from seqvae.data import save_dataset
    from seqvae.hunt.datasets import automata_dataset

    if (n_states is None) == (n_states_range is None):
        raise InputError("give exactly one of --n-states and --n-states-range")
    sizes = int(n_states) if n_states is not None else (int(n_states_range[0]),
                                                         int(n_states_range[1]))
    started = time.perf_counter()
    with progress_bar(transient=True) as bar:
        task = bar.add_task("automata", total=count, status="")
        df, meta = automata_dataset(sizes, n_letters, count, seed, enrich=enrich,
                                    progress=lambda k: bar.advance(task, k))
    elapsed = time.perf_counter() - started
    shortfall = meta["shortfall"]
    sidecar = save_dataset(df, output, meta)
    if shortfall:
        err_console.print(f"[yellow]warning:[/] only {len(df)} distinct synchronizing automata "
                          f"of this size exist or were found; {shortfall} fewer than asked",
                          highlight=False)
    rt = df["reset_length"]
    print_json({
        "path": str(output), "sidecar": str(sidecar), "rows": int(len(df)),
        "seconds": round(elapsed, 3),
        "reset_length": {"mean": round(float(rt.mean()), 4), "max": int(rt.max()),
                         "min": int(rt.min())},
        "strongly_connected": int(df["strongly_connected"].sum()),
        "by_source": {str(k): int(v) for k, v in df["source"].value_counts().items()},
        "shortfall": shortfall,
    })


@data_app.command("strings")
@handle_errors
def strings_command(
    source: Path = typer.Argument(..., help="Text file (one string per line), or CSV/TSV/Parquet."),
    output: Path = typer.Option(..., "-o", "--output", help="Parquet file to write "
                                "(metadata goes to OUTPUT.json beside it)."),
    column: Optional[str] = typer.Option(None, "--column", help="Column to read from a "
                                         "CSV/TSV/Parquet file (default: the only one, or "
                                         "item/smiles/string)."),
    # "\\[" : help text is rich markup, which would swallow a bare [nH] as a tag.
    tokenizer: str = typer.Option("regex", "--tokenizer", help="'regex' (SMILES-like tokens: "
                                  "Cl, Br, \\[nH], %10) or 'char' (one token per character)."),
    validity: Optional[str] = typer.Option(None, "--validity", help="A registered validator "
                                           "name (e.g. smiles); strings it rejects are dropped and "
                                           "the name is kept for decoding."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Drop repeated strings."),
):
    """Strings from a file as a data set (columns item, length), with a fitted tokenizer in
    the metadata. Prints a JSON summary on stdout."""
    from seqvae.data import save_dataset
    from seqvae.strings import strings_dataset_from_file

    if tokenizer not in ("regex", "char"):
        raise InputError(f"--tokenizer must be 'regex' or 'char', got {tokenizer!r}")
    df, meta, domain = strings_dataset_from_file(source, column=column, tokenizer=tokenizer,
                                                 validity=validity, dedup=dedup)
    tok = domain.tokenizer
    seq_lens = [len(tok.encode(s)) for s in df["item"]]
    dropped = meta["dropped_invalid"]
    sidecar = save_dataset(df, output, meta)
    print_json({"path": str(output), "sidecar": str(sidecar), "rows": int(len(df)),
                "vocab_size": tok.vocab_size, "max_seq_len": max(seq_lens),
                "dropped_invalid": dropped})


def register(app: typer.Typer) -> None:
    """Attach ``seqvae data`` to the root app."""
    app.add_typer(data_app, name="data")
