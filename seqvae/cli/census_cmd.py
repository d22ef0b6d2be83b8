"""``seqvae automata census``: reset lengths over every automaton of a size.

The full census (every class up to isomorphism, :mod:`automata.census`) and the
pruned one (only the classes at or above a reset length,
:mod:`automata.census_pruned`), locally or on a Dask cluster. Registered on the
``seqvae automata`` app by :mod:`seqvae.cli.automata_cmd`.
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._cluster import (
    SCHEDULER_HELP,
    TLS_CA_HELP,
    TLS_CERT_HELP,
    TLS_KEY_HELP,
    dask_client,
    dask_security,
)
from seqvae.cli._common import (
    InputError,
    err_console,
    handle_errors,
    out_console,
    print_json,
    progress_bar,
)

__all__ = ["CensusBackend", "census_command"]


class CensusBackend(str, Enum):
    loky = "loky"
    dask = "dask"


def _census_client(backend: "CensusBackend", scheduler: Optional[str], jobs: Optional[int],
                   security=None):
    """The Dask client the census chunks run on (None for loky): the cluster at
    ``scheduler`` (through :func:`seqvae.cli._cluster.dask_client`, with its warning and
    TLS), or a local cluster of ``jobs`` single-threaded processes."""
    if backend is not CensusBackend.dask:
        return None
    return dask_client(scheduler, security=security, jobs=jobs)


def _save_automata(path: Path, dfas: list) -> None:
    """The automata found, one compact line each (slowest first): a file that
    ``search-extreme --lift-from`` and ``--transfer-from`` read as it is."""
    from automata.formats import write_automata

    write_automata(path, dfas, "compact")
    err_console.print(f"{len(dfas)} automata written to {path}", highlight=False)


def _pruned_census(n: int, k: int, min_rt: int, top: int, json_out: bool, out: Optional[Path],
                   jobs: Optional[int], resume: bool, backend: "CensusBackend",
                   scheduler: Optional[str], save: Optional[Path], security=None) -> None:
    import time

    from automata.census_pruned import chunk_count, pruned_census

    total = chunk_count(n)  # validates n before any cluster starts
    client = _census_client(backend, scheduler, jobs, security)
    # joblib's dask backend spreads over every worker of the cluster with -1.
    n_jobs = jobs if jobs is not None else (-1 if client is not None else 1)
    started = time.perf_counter()
    try:
        with progress_bar(transient=True) as bar:
            task = bar.add_task(f"census n={n} k={k} rt>={min_rt}", total=total, status="")
            found = [0]

            def advance(chunk, done, _total):
                found[0] += len(chunk.automata)
                bar.update(task, completed=done, status=f"{found[0]} hits")

            def rejected(path, why):
                err_console.print(f"warning: {path}: {why}; recomputing it", highlight=False)

            result = pruned_census(n, k, min_rt, n_jobs=n_jobs,
                                   backend="dask" if client is not None else None,
                                   out_dir=out, resume=resume, progress=advance,
                                   on_rejected=rejected)
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - started
    if save is not None:
        _save_automata(save, [dfa for dfa, _ in result.ranked()])
    data = result.to_dict()
    err_console.print(f"{len(result.automata)} classes with rt >= {min_rt} in {total} chunks; "
                      f"{result.nodes:,} search nodes, {seconds:.1f} s wall, "
                      f"{result.cpu_seconds:.1f} CPU s in chunks"
                      + (f"; chunks kept in {out}" if out is not None else ""), highlight=False)
    if json_out:
        print_json({"histogram": data["histogram"], "automata": data["automata"]})
        return
    from rich.table import Table

    hist = Table(title=f"reset lengths >= {min_rt}, n={n}, k={k} (classes up to isomorphism)")
    hist.add_column("reset length", justify="right")
    hist.add_column("automata", justify="right")
    for rt, number in data["histogram"].items():
        hist.add_row(rt, str(number))
    out_console.print(hist)
    if data["automata"]:
        best = Table(title=f"slowest {min(top, len(data['automata']))}")
        for column in ("reset length", "automaton (canonical, compact)", "family"):
            best.add_column(column)
        for item in data["automata"][:top]:
            best.add_row(str(item["reset_length"]), item["automaton"], item["family"] or "-")
        out_console.print(best)


def _census_status(n: int, k: int, min_rt: int, out: Path, top: int, json_out: bool) -> None:
    """Print how far the census kept in ``out`` has come (nothing is run or locked)."""
    from automata.census_pruned import census_status

    result = census_status(n, k, min_rt, out)
    data = result.to_dict()
    rows = result.by_rank()
    total = sum(row["chunks"] for row in rows)
    for index, why in sorted(result.rejected.items()):
        err_console.print(f"warning: chunk {index}: {why}; it will be recomputed", highlight=False)
    if json_out:
        print_json({"chunks": total, "done": len(result.chunks_done),
                    "cpu_seconds": round(result.cpu_seconds, 3), "nodes": result.nodes,
                    "by_rank": [{**row, "cpu_seconds": round(row["cpu_seconds"], 3)} for row in rows],
                    "rejected": {str(i): why for i, why in sorted(result.rejected.items())},
                    "histogram": data["histogram"], "automata": data["automata"]})
        return
    from rich.table import Table

    table = Table(title=f"census n={n} k={k} rt>={min_rt} in {out}: {len(result.chunks_done):,} "
                        f"of {total:,} chunks done")
    for column in ("rank of letter a", "chunks", "done", "CPU s", "search nodes", "hits"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row["rank"]), f"{row['chunks']:,}", f"{row['done']:,}",
                      f"{row['cpu_seconds']:,.0f}", f"{row['nodes']:,}", str(row["classes"]))
    table.add_row("all", f"{total:,}", f"{len(result.chunks_done):,}", f"{result.cpu_seconds:,.0f}",
                  f"{result.nodes:,}", str(len(result.automata)))
    out_console.print(table)
    if data["automata"]:
        best = Table(title=f"found so far: {len(data['automata'])} classes (slowest "
                           f"{min(top, len(data['automata']))} listed)")
        for column in ("reset length", "automaton (canonical, compact)", "family"):
            best.add_column(column)
        for item in data["automata"][:top]:
            best.add_row(str(item["reset_length"]), item["automaton"], item["family"] or "-")
        out_console.print(best)


@handle_errors
def census_command(
    n: int = typer.Option(..., "-n", "--n-states", help="Number of states."),
    k: int = typer.Option(2, "-k", "--n-letters", help="Number of letters."),
    top: int = typer.Option(10, "--top", help="How many of the slowest automata to list."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (full census: n_states, "
                                  "n_letters, total, non_synchronizing, histogram, top; with "
                                  "--min-rt: histogram and every automaton found, with family)."),
    min_rt: Optional[int] = typer.Option(None, "--min-rt", help="Only the automata with reset "
                                         "length >= this, by a pruned exhaustive search (reaches "
                                         "n = 8, 9 for binary automata)."),
    out: Optional[Path] = typer.Option(None, "--out", help="With --min-rt: keep every finished "
                                       "chunk in this directory (resumable)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="With --min-rt: parallel workers "
                                       "(default 1; with --backend dask all the cluster's)."),
    resume: bool = typer.Option(False, "--resume", help="With --out: reuse its finished chunks "
                                "(each re-verified: a damaged or edited one is recomputed, "
                                "with a warning)."),
    status: bool = typer.Option(False, "--status", help="With --min-rt and --out: show how far "
                                "the census kept there has come (chunks done per rank of letter "
                                "a, CPU time, the classes found so far, each re-verified) and "
                                "run nothing; safe while the census runs."),
    save: Optional[Path] = typer.Option(None, "--save", help="Write the automata found (with "
                                        "--min-rt: every class; else the --top slowest) to this "
                                        "file, one compact line each, slowest first: the input "
                                        "of search-extreme --lift-from / --transfer-from."),
    backend: CensusBackend = typer.Option(CensusBackend.loky, "--backend", help="With --min-rt: "
                                          "local processes (loky) or a Dask cluster."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    tls_ca_file: Optional[Path] = typer.Option(None, "--tls-ca-file", help=TLS_CA_HELP),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help=TLS_CERT_HELP),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", help=TLS_KEY_HELP),
):
    """Histogram of reset lengths over all automata of a size, up to isomorphism.

    Isomorphism relabels states and permutes letters. Also lists the slowest automata.
    With --min-rt, only the automata with reset length >= MIN_RT are searched for
    (a pruned search over the tables, far beyond the reach of the full census).
    """
    if top < 0:
        raise InputError(f"--top must be non-negative, got {top}")
    if min_rt is None:
        extra = [name for name, given in (("--out", out is not None), ("--jobs", jobs is not None),
                                          ("--resume", resume), ("--status", status),
                                          ("--backend", backend is not CensusBackend.loky),
                                          ("--scheduler", scheduler is not None),
                                          ("--tls-ca-file", tls_ca_file is not None),
                                          ("--tls-cert", tls_cert is not None),
                                          ("--tls-key", tls_key is not None)) if given]
        if extra:
            raise InputError(f"{', '.join(extra)} only apply with --min-rt")
    else:
        if jobs is not None and (jobs == 0 or jobs < -1):
            raise InputError(f"--jobs must be positive or -1, got {jobs}")
        if resume and out is None:
            raise InputError("--resume needs --out DIR")
        if status:
            if out is None:
                raise InputError("--status needs --out DIR")
            if not out.is_dir():
                raise InputError(f"--out {out} is not a directory")
            _census_status(n, k, min_rt, out, top, json_out)
            return
        if scheduler is not None and backend is not CensusBackend.dask:
            raise InputError("--scheduler needs --backend dask")
        security = dask_security(scheduler, tls_ca_file, tls_cert, tls_key)
        if out is not None and out.exists() and not out.is_dir():
            raise InputError(f"--out {out} is not a directory")
        _pruned_census(n, k, min_rt, top, json_out, out, jobs, resume, backend, scheduler, save,
                       security)
        return
    from automata.census import census, census_size

    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"census n={n} k={k}", total=census_size(n, k), status="")
        result = census(n, k, top=top, progress=lambda done: bar.advance(task, done))
    if save is not None:
        _save_automata(save, [dfa for dfa, _ in result.top])
    data = result.to_dict()
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    hist = Table(title=f"reset lengths, n={n}, k={k}: {data['total']} automata up to isomorphism, "
                       f"{data['non_synchronizing']} not synchronizing")
    hist.add_column("reset length", justify="right")
    hist.add_column("automata", justify="right")
    for rt, number in data["histogram"].items():
        hist.add_row(str(rt), str(number))
    out_console.print(hist)
    if data["top"]:
        best = Table(title=f"slowest {len(data['top'])}")
        best.add_column("reset length", justify="right")
        best.add_column("automaton (canonical, compact)")
        for item in data["top"]:
            best.add_row(str(item["reset_length"]), item["automaton"])
        out_console.print(best)
