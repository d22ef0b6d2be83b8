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

from seqvae.cli import automata_cmd, chem_cmd, data_cmd, interpolate_cmd, model_cmd, search_cmd

__all__ = ["app", "main"]

app = typer.Typer(
    name="seqvae",
    help="Sequence VAEs over discrete structures, and exact algorithms on synchronizing automata.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (automata_cmd, data_cmd, model_cmd, interpolate_cmd, search_cmd, chem_cmd):
    module.register(app)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the package version and exit.",
                                 is_eager=True),
):
    if version:
        from seqvae import __version__

        typer.echo(__version__)
        raise typer.Exit()


def main() -> None:
    app()
