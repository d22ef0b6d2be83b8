"""``seqvae data smiles``, ``seqvae train smiles`` and ``seqvae optimize``: molecules.

Thin: parse options, call :mod:`seqvae.molecules.domain` and :mod:`seqvae.molecules.optimize`,
print JSON on stdout. RDKit and selfies come with ``pip install 'seqvae[chem]'``;
without them every command here stops with one line naming that extra.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._common import THREADS_HELP, InputError, err_console, handle_errors, print_json, set_threads
from seqvae.cli._device import DEVICE_HELP, use_device

__all__ = ["register"]


@handle_errors
def data_smiles(
    source: Path = typer.Argument(..., help="Molecules: .smi/.txt (SMILES first on each line), "
                                  ".csv/.tsv with a header, optionally gzipped."),
    output: Path = typer.Option(..., "-o", "--output", help="Parquet file to write "
                                "(the report goes to OUTPUT.json beside it)."),
    column: Optional[str] = typer.Option(None, "--column", help="Column holding the SMILES "
                                         "(default: a header like 'smiles', else the first)."),
    split: str = typer.Option("random", "--split", help="random or scaffold (Bemis-Murcko "
                              "scaffolds never shared between parts)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report as JSON."),
):
    """Read, canonicalise and de-duplicate molecules, split them 80/10/10 and describe them.

    Invalid molecules (RDKit cannot parse or sanitise them) and repeated ones (same
    canonical SMILES) are dropped and counted. Prints a summary (or, with --json, the
    report: lines read, invalid, duplicates, kept, length and vocabulary statistics)."""
    from seqvae.data import save_dataset
    from seqvae.molecules.domain import molecule_dataset

    if split not in ("random", "scaffold"):
        raise InputError(f"--split must be 'random' or 'scaffold', got {split!r}")
    df, meta = molecule_dataset(source, column=column, split=split, seed=seed)
    sidecar = save_dataset(df, output, meta)
    report = meta["report"]
    if as_json:
        print_json({"path": str(output), "sidecar": str(sidecar), **report})
        return
    stats = report.get("statistics", {})
    print_json({"path": str(output), "sidecar": str(sidecar),
                **{k: report[k] for k in ("lines_read", "bad_lines", "invalid", "duplicates",
                                          "kept")},
                "split": report["split"]["sizes"],
                "vocabulary": stats.get("vocabulary_size")})


@handle_errors
def train_smiles(
    data: Path = typer.Option(..., "--data", help="Data set from `seqvae data smiles` (its "
                              "split is kept), or a molecule file (.smi, .csv...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to write."),
    representation: str = typer.Option("smiles", "--representation",
                                       help="smiles or selfies (every SELFIES decode is a "
                                       "valid molecule)."),
    preset: str = typer.Option("default", "--preset", help="Training recipe: default, "
                               "recon (held-out reconstruction) or recon-lowkl (recon with "
                               "tighter posteriors; see seqvae.molecules.presets)."),
    column: Optional[str] = typer.Option(None, "--column", help="SMILES column of a CSV file."),
    properties: Optional[str] = typer.Option(None, "--properties", help="Train a property head "
                                             "on z jointly with the VAE, e.g. qed,logp,sas "
                                             "(RDKit values, standardised); optimize uses it."),
    property_weight: Optional[float] = typer.Option(None, "--property-weight",
                                                    help="Weight of the head's squared error "
                                                    "in the loss (default 1)."),
    epochs: Optional[int] = typer.Option(None, "--epochs"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    lr: Optional[float] = typer.Option(None, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps"),
    d_z: Optional[int] = typer.Option(None, "--d-z"),
    model_config: Optional[str] = typer.Option(None, "--model-config",
                                               help="JSON object of ModelConfig overrides."),
    train_config: Optional[str] = typer.Option(None, "--train-config",
                                               help="JSON object of TrainConfig overrides."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Train on molecules written as SMILES or SELFIES."""
    params = dict(locals())  # the options only, before any name is imported here
    from seqvae.cli.model_cmd import (
        _command_line,
        _parse_json_option,
        _read_run_config,
        _resume_overrides,
        _run_training,
        _train_overrides,
    )
    from seqvae.device import resolve_device
    from seqvae.molecules.domain import MoleculeDomain
    from seqvae.molecules.presets import get_preset

    command = _command_line("train smiles", params)
    set_threads(threads)
    dev = resolve_device(device)
    if representation not in ("smiles", "selfies"):
        raise InputError(f"--representation must be smiles or selfies, got {representation!r}")
    if property_weight is not None and not properties:
        raise InputError("--property-weight needs --properties")
    if resume:
        from seqvae.domains import domain_from_dict

        if properties or property_weight is not None:
            raise InputError("a resumed run keeps its properties; drop --properties")
        cfg = _read_run_config(out)
        # As for `train strings`: a resumed run may be given more epochs or steps.
        _run_training(None, domain_from_dict(cfg["domain"]), out, {},
                      _resume_overrides(epochs, max_steps, None, None), True, {}, quiet,
                      command, device=dev)
        return
    recipe = get_preset(preset)
    model_over = {**recipe["model"], **_parse_json_option(model_config, "--model-config")}
    if d_z is not None:
        model_over["d_z"] = d_z
    train_over = {**recipe["train"],
                  **_train_overrides(epochs, batch_size, lr, seed, max_steps, None, None, None,
                                     None, train_config)}
    if property_weight is not None:
        train_over["property_weight"] = property_weight
    names = None
    if properties is not None:
        from seqvae.molecules.properties import parse_property_names

        names = parse_property_names(properties)  # before the data is read: fail fast
    domain, items, info = MoleculeDomain.training_set(data, representation=representation,
                                                      column=column)
    split = info.pop("splits", None)
    info["preset"] = preset
    info["device"] = str(dev)
    _run_training(items, domain, out, model_over, train_over, False, info, quiet, command,
                  split=split, device=dev, properties=names)


@handle_errors
def optimize_command(
    run_dir: Path = typer.Argument(..., help="Run directory of a molecule run."),
    objective: str = typer.Option("qed", "--objective", help="qed, logp, sas (minimised), "
                                  "plogp or plogp_zinc."),
    budget: int = typer.Option(1000, "--budget", help="Latent points decoded in all."),
    seed: int = typer.Option(0, "--seed"),
    top: int = typer.Option(20, "--top", help="Leaderboard length."),
    head: str = typer.Option("auto", "--head", help="auto (the run's joint property head "
                             "when it predicts the objective, else one fitted on z), joint "
                             "or fitted."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
):
    """Search the latent space for molecules with a high (sas: low) objective.

    A property head on z chooses where to look (elite steps, CEM, gradient ascent);
    every score shown is RDKit's, computed on the molecule's canonical SMILES."""
    from rich.markup import escape

    from seqvae.molecules.optimize import optimize_molecules
    from seqvae.runs import load_run

    set_threads(threads)
    run = use_device(load_run(run_dir), device)
    result = optimize_molecules(run, objective, budget, seed, top=top, head=head)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table(title=f"seqvae optimize {escape(str(run_dir))}: {objective}")
    for col in ("rank", "score", "novel", "smiles"):
        table.add_column(col)
    for i, row in enumerate(result["leaderboard"], 1):
        # escape: SMILES such as c1cc[nH]c1 hold what rich would read as markup
        table.add_row(str(i), f"{row['score']:.4f}", "yes" if row["novel"] else "no",
                      escape(row["smiles"]))
    err_console.print(table)
    print_json({k: v for k, v in result.items() if k != "leaderboard"})


def register(app: typer.Typer) -> None:
    """Attach ``data smiles``, ``train smiles`` and ``optimize``."""
    from seqvae.cli.data_cmd import data_app
    from seqvae.cli.model_cmd import train_app

    data_app.command("smiles")(data_smiles)
    train_app.command("smiles")(train_smiles)
    app.command("optimize")(optimize_command)
