"""The ``seqvae`` command line: a thin typer layer over the library.

Each command group lives in its own module and registers itself on the app,
so the CLI grows one file per capability.
"""
from __future__ import annotations

import os

import typer

from seqvae.cli._common import machine_busy

if machine_busy():
    # Before torch starts its OpenMP threads: idle threads sleep instead of spinning on
    # cores other processes need. It changes no number, only how waiting threads wait.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from seqvae.cli import (
    automata_cmd,
    bench_cmd,
    chem_cmd,
    data_cmd,
    hunt_cmd,
    interpolate_cmd,
    model_cmd,
    search_cmd,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="seqvae",
    help="Sequence VAEs over discrete structures, and exact algorithms on synchronizing automata.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (automata_cmd, data_cmd, model_cmd, interpolate_cmd, search_cmd, hunt_cmd, chem_cmd,
               bench_cmd):
    module.register(app)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the package version and exit.",
                                 is_eager=True),
    allow_unverified_runs: bool = typer.Option(
        False, "--allow-unverified-runs", help="Load run directories whose config.json records "
        "no SHA-256 of the weights (older runs, or an edited config). Only for runs you trust: "
        "without the digest a changed checkpoint cannot be detected."),
):
    if allow_unverified_runs:
        from seqvae.rundir import ALLOW_UNVERIFIED_ENV

        # The command line owns the process: every run this command loads may skip the check.
        os.environ[ALLOW_UNVERIFIED_ENV] = "1"
    if version:
        from seqvae import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main() -> None:
    app()
