"""``seqvae data smiles``, ``seqvae train smiles`` and ``seqvae optimize``: molecules.

Thin: parse options, call :mod:`seqvae.molecules.domain` and :mod:`seqvae.molecules.optimize`,
print JSON on stdout. RDKit and selfies come with ``pip install 'seqvae[chem]'``;
without them every command here stops with one line naming that extra.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._common import (
    THREADS_HELP,
    InputError,
    err_console,
    handle_errors,
    print_json,
    progress_bar,
    set_threads,
)
from seqvae.cli._device import DEVICE_HELP, use_device
from seqvae.cli._run_options import (
    BEAM_WIDTH_HELP,
    DEFAULTS_NOTE,
    GRAMMAR_HELP,
    VALID_FIRST_HELP,
    _use_decoding,
)

__all__ = ["register"]

#: The syntax of --objective (parsed by seqvae.molecules.chem.goals.parse_goal).
GOAL_HELP = ("NAME, or a weighted sum NAME:WEIGHT,NAME:WEIGHT,... (maximised; a negative "
             "weight pulls a term down, e.g. qed:0.7,sas:-0.3). NAME: qed, logp, sas "
             "(minimised when alone), plogp, plogp_zinc, or similarity (Tanimoto to "
             "--target, Morgan radius 2, 2048 bits).")


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
    jobs: int = typer.Option(1, "--jobs", "-j", help="Processes that canonicalise the "
                             "molecules (-1: every core; MOSES's 1.6 M take minutes on one)."),
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
    if jobs == 0 or jobs < -1:
        raise InputError(f"--jobs must be a positive number of processes or -1, got {jobs}")
    with progress_bar(transient=True) as bar:
        task = bar.add_task("canonicalising", total=None, status="")
        df, meta = molecule_dataset(source, column=column, split=split, seed=seed, n_jobs=jobs,
                                    progress=lambda done, total: bar.update(task, completed=done,
                                                                            total=total))
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


def _start_smiles(values: list[str]) -> list[str]:
    """``--start`` values: each a molecule file (.smi, .csv...; every molecule in it) or
    one SMILES string."""
    from seqvae.molecules.chem import ChemError, load_molecules, mol_from_smiles

    out: list[str] = []
    for value in values:
        path = Path(value)
        if path.is_file():
            try:
                found, _ = load_molecules(path)
            except ChemError as exc:
                raise InputError(f"--start {value}: {exc}") from None
            if not found:
                raise InputError(f"--start {value}: the file holds no valid molecule")
            out += found
        elif mol_from_smiles(value) is not None:
            out.append(value)
        else:
            raise InputError(f"--start {value!r} is neither a molecule file nor a valid SMILES")
    return out


@handle_errors
def optimize_command(
    run_dir: Path = typer.Argument(..., help="Run directory of a molecule run."),
    objective: str = typer.Option("qed", "--objective", help=GOAL_HELP),
    target: Optional[str] = typer.Option(None, "--target", help="SMILES of the similarity "
                                         "objective's target molecule."),
    keep: list[str] = typer.Option([], "--keep", help="SMARTS every molecule must contain "
                                   "(repeatable); one that does not is excluded and counted."),
    avoid: list[str] = typer.Option([], "--avoid", help="SMARTS no molecule may contain "
                                    "(repeatable); one that does is excluded and counted."),
    start: list[str] = typer.Option([], "--start", help="Start molecules: a SMILES or a "
                                    "molecule file (.smi, .csv...), repeatable (default: a "
                                    "random sample of the training molecules)."),
    budget: int = typer.Option(1000, "--budget", help="Latent points decoded in all."),
    seed: int = typer.Option(0, "--seed"),
    top: int = typer.Option(20, "--top", help="Leaderboard length."),
    head: str = typer.Option("auto", "--head", help="auto (the run's joint property head "
                             "when it predicts the objective, else one fitted on z), joint "
                             "or fitted."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for "
                                       "leaderboard.csv (SMILES, score, each term, QED, logP, "
                                       "SA, weight), leaderboard.png (the top molecules) and "
                                       "optimize.json."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    decode: Optional[str] = typer.Option(None, "--decode", help="How proposals are decoded: "
                                         "greedy or beam. " + DEFAULTS_NOTE),
    beam_width: Optional[int] = typer.Option(None, "--beam-width", help=BEAM_WIDTH_HELP),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar", help=GRAMMAR_HELP),
    valid_first: Optional[bool] = typer.Option(None, "--valid-first/--no-valid-first",
                                               help=VALID_FIRST_HELP),
):
    """Search the latent space for molecules that score high on an objective (a lone sas:
    low), within substructure constraints.

    A property head on z chooses where to look (elite steps, CEM, gradient ascent);
    every score shown is RDKit's, computed on the molecule's canonical SMILES. SMILES
    runs decode proposals by valid-first beam search under the grammar unless --decode
    says otherwise; the JSON's 'decoding' says which.

    Examples: --objective qed:0.7,sas:-0.3; --objective similarity --target
    'CC(=O)Nc1ccc(O)cc1' --keep 'c1ccccc1' --avoid '[N+](=O)[O-]'."""
    from rich.markup import escape

    from seqvae.molecules.chem.goals import make_goal
    from seqvae.molecules.optimize import optimize_molecules
    from seqvae.runs import load_run

    set_threads(threads)
    if decode is not None and decode not in ("greedy", "beam"):
        raise InputError(f"--decode must be greedy or beam, got {decode!r}")
    goal = make_goal(objective, target=target, keep=keep, avoid=avoid)  # fail before loading
    starts = _start_smiles(start) if start else None
    run = use_device(load_run(run_dir), device)
    _use_decoding(run, decode, beam_width, grammar, valid_first)
    result = optimize_molecules(run, goal, budget, seed, top=top, head=head, start=starts)
    if out is not None:
        from seqvae.molecules.chem.leaderboard import write_leaderboard

        written = write_leaderboard(result, out)
        err_console.print(f"wrote {', '.join(escape(str(p)) for p in written)}",
                          highlight=False)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table(title=f"seqvae optimize {escape(str(run_dir))}: {escape(result['objective'])}")
    terms = list(result["terms"]) if len(result["terms"]) > 1 else []
    for col in ("rank", "score", *terms, "novel", "smiles"):
        table.add_column(escape(col))
    for i, row in enumerate(result["leaderboard"], 1):
        # escape: SMILES such as c1cc[nH]c1 hold what rich would read as markup
        table.add_row(str(i), f"{row['score']:.4f}", *(f"{row['terms'][t]:.4f}" for t in terms),
                      "yes" if row["novel"] else "no", escape(row["smiles"]))
    err_console.print(table)
    print_json({k: v for k, v in result.items() if k != "leaderboard"})


def register(app: typer.Typer) -> None:
    """Attach ``data smiles``, ``train smiles`` and ``optimize``."""
    from seqvae.cli.data_cmd import data_app
    from seqvae.cli.model_cmd import train_app

    data_app.command("smiles")(data_smiles)
    train_app.command("smiles")(train_smiles)
    app.command("optimize")(optimize_command)
