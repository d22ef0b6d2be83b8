"""``seqvae automata expected``: the shortest reset length of random automata, estimated.

Exact reset lengths of sampled automata (:mod:`automata.expected`), locally or on a
Dask cluster, resumable from ``--out``; compared with the published fit
2.5·√(n − 5) for binary automata. Registered on the ``seqvae automata`` app by
:mod:`seqvae.cli.automata_cmd`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._cluster import SCHEDULER_HELP, TLS_CA_HELP, TLS_CERT_HELP, TLS_KEY_HELP, dask_security
from seqvae.cli._common import InputError, err_console, handle_errors, out_console, print_json, progress_bar
from seqvae.cli.census_cmd import CensusBackend, _census_client

__all__ = ["expected_command"]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise InputError(f"-n takes sizes separated by commas (100,200,300), got {text!r}") from None
    if not sizes:
        raise InputError("-n needs at least one size")
    return sizes


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@handle_errors
def expected_command(
    sizes: str = typer.Option(..., "-n", "--n-states", help="Sizes, comma-separated: 100,200,300."),
    k: int = typer.Option(2, "-k", "--n-letters", help="Number of letters."),
    samples: int = typer.Option(100, "--samples", help="Random automata per size."),
    seed: int = typer.Option(0, "--seed", help="Sample i of size n is the same in every run with "
                             "this seed, however the work is cut."),
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Parallel workers (default 1; with "
                                       "--backend dask all the cluster's)."),
    backend: CensusBackend = typer.Option(CensusBackend.loky, "--backend", help="Local processes "
                                          "(loky) or a Dask cluster."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    tls_ca_file: Optional[Path] = typer.Option(None, "--tls-ca-file", help=TLS_CA_HELP),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help=TLS_CERT_HELP),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", help=TLS_KEY_HELP),
    out: Optional[Path] = typer.Option(None, "--out", help="Keep every finished chunk of "
                                       "samples here (resumable)."),
    resume: bool = typer.Option(False, "--resume", help="With --out: reuse its finished chunks."),
    chunk: int = typer.Option(25, "--chunk", help="Samples per chunk (the unit of work and of "
                              "resuming)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON record per size."),
):
    """Mean and distribution of the shortest reset length of random automata, exactly solved.

    Each size gets SAMPLES uniformly random automata; the ones that synchronize are solved
    exactly. The table gives the share that synchronizes, the mean with a 95 % confidence
    interval, quantiles, and for binary automata the published fit 2.5·sqrt(n - 5)
    (Kisielewicz, Kowalski, Szykuła) and the ratio of the mean to it.
    """
    from automata.expected import expected_reset_lengths

    n_list = _sizes(sizes)
    if jobs is not None and (jobs == 0 or jobs < -1):
        raise InputError(f"--jobs must be positive or -1, got {jobs}")
    if resume and out is None:
        raise InputError("--resume needs --out DIR")
    if scheduler is not None and backend is not CensusBackend.dask:
        raise InputError("--scheduler needs --backend dask")
    if samples < 1 or chunk < 1:
        raise InputError("--samples and --chunk must be positive")
    security = dask_security(scheduler, tls_ca_file, tls_cert, tls_key)
    client = _census_client(backend, scheduler, jobs, security)
    n_jobs = jobs if jobs is not None else (-1 if client is not None else 1)
    try:
        with progress_bar(transient=True) as bar:
            tasks = {n: bar.add_task(f"n={n}", total=samples, status="") for n in n_list}

            def advance(n, done, _total):
                bar.update(tasks[n], completed=done)

            estimates = expected_reset_lengths(
                n_list, k, samples, seed=seed, n_jobs=n_jobs,
                backend="dask" if client is not None else None, out_dir=out, resume=resume,
                chunk=chunk, progress=advance)
    finally:
        if client is not None:
            client.close()
    rows = [e.to_dict() for e in estimates]
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"shortest reset length of random automata, k={k}, {samples} samples "
                        f"per size, seed {seed}")
    for column in ("n", "synchronizing", "mean", "95% CI", "median", "q05-q95", "min-max",
                   "2.5*sqrt(n-5)", "mean/fit", "seconds"):
        table.add_column(column, justify="right")
    for r in rows:
        ci = f"{r['ci95'][0]:.2f}-{r['ci95'][1]:.2f}" if r["ci95"] else "-"
        table.add_row(str(r["n_states"]), f"{r['synchronizing']}/{r['samples']}", _fmt(r["mean"]),
                      ci, _fmt(r.get("median"), 1),
                      f"{_fmt(r.get('q05'), 0)}-{_fmt(r.get('q95'), 0)}",
                      f"{r['min']}-{r['max']}" if r["min"] is not None else "-",
                      _fmt(r["published_fit"]), _fmt(r["mean_over_fit"], 3), f"{r['seconds']:.1f}")
    out_console.print(table)
    if out is not None:
        err_console.print(f"chunks kept in {out}", highlight=False)
