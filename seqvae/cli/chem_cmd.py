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
from seqvae.cli.model_cmd import TIME_LIMIT_HELP

__all__ = ["register"]

#: The syntax of --objective (parsed by seqvae.molecules.chem.goals.parse_goal).
GOAL_HELP = ("NAME, or a weighted sum NAME:WEIGHT,NAME:WEIGHT,... (maximised; a negative "
             "weight pulls a term down, e.g. qed:0.7,sas:-0.3). NAME: qed, logp, sas "
             "(minimised when alone), plogp, plogp_zinc, similarity (Tanimoto to "
             "--target, Morgan radius 2, 2048 bits), or a column of --properties FILE.")


#: --split of `data smiles`.
SPLIT_HELP = ("auto: keep the file's 'split' column when it has one (values train, "
              "valid/validation/val, test/test_scaffolds, any case; MOSES's test_scaffolds "
              "goes to test), else random. random: a seeded shuffle cut by --fractions. "
              "scaffold: Bemis-Murcko scaffolds never shared between parts. keep: the split "
              "column, an error when there is none.")
STANDARDIZE_HELP = ("Clean up structures with RDKit's rdMolStandardize before "
                    "canonicalising: keep the largest fragment (drops salts and solvents) "
                    "and neutralise charges. The report counts the molecules each step "
                    "changed.")
REMOVE_STEREO_HELP = ("Also drop stereochemistry (@, @@, / and \\), so a model never meets "
                      "a stereo token missing from its vocabulary.")
_SOURCE_HELP = ("Molecules: .smi/.txt (SMILES first on each line), a table with a header "
                ".csv/.tsv (delimiter , ; tab or | sniffed), or .sdf (RDKit reads the "
                "records; the title is the name); optionally gzipped.")


def _standardize_steps(standardize: bool, remove_stereo: bool) -> tuple[str, ...]:
    return (("fragment", "charge") if standardize else ()) + (("stereo",) if remove_stereo
                                                             else ())


@handle_errors
def data_smiles(
    source: Path = typer.Argument(..., help=_SOURCE_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="Parquet file to write "
                                "(the report goes to OUTPUT.json beside it)."),
    column: Optional[str] = typer.Option(None, "--column", help="Column holding the SMILES "
                                         "(default: a header like 'smiles', else one that "
                                         "contains 'smiles' such as mol_smiles, else the "
                                         "only column)."),
    split: str = typer.Option("auto", "--split", help=SPLIT_HELP),
    fractions: Optional[str] = typer.Option(None, "--fractions", help="Train,valid,test "
                                            "shares of a random or scaffold split: three "
                                            "numbers >= 0 summing to 1, train > 0 (default "
                                            "0.8,0.1,0.1)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
    standardize: bool = typer.Option(False, "--standardize", help=STANDARDIZE_HELP),
    remove_stereo: bool = typer.Option(False, "--remove-stereo", help=REMOVE_STEREO_HELP),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Processes that canonicalise the "
                             "molecules (-1: every core; MOSES's 1.6 M take minutes on one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report as JSON."),
):
    """Read, canonicalise and de-duplicate molecules, split them and describe them.

    Invalid molecules (RDKit cannot parse or sanitise them, or cannot read an SD
    record) and repeated ones (same canonical SMILES) are dropped and counted. The
    split is the file's own when it has a 'split' column, else a random 80/10/10
    (see --split, --fractions). Prints a summary (or, with --json, the report: lines
    read, invalid, duplicates, kept, standardisation counts, the split, length and
    vocabulary statistics).

    Examples: seqvae data smiles mols.sdf -o mols.parquet --standardize;
    seqvae data smiles moses.csv -o moses.parquet (keeps MOSES's split column)."""
    from seqvae.data import save_dataset
    from seqvae.molecules.chem.splits import parse_fractions
    from seqvae.molecules.domain import molecule_dataset

    if split not in ("auto", "random", "scaffold", "keep"):
        raise InputError(f"--split must be auto, random, scaffold or keep, got {split!r}")
    if jobs == 0 or jobs < -1:
        raise InputError(f"--jobs must be a positive number of processes or -1, got {jobs}")
    shares = None
    if fractions is not None:
        try:
            shares = parse_fractions(fractions)
        except ValueError as exc:
            raise InputError(f"--fractions: {exc}") from None
        if split == "keep":
            raise InputError("--fractions applies to a random or scaffold split, not to "
                             "--split keep")
    steps = _standardize_steps(standardize, remove_stereo)
    with progress_bar(transient=True) as bar:
        task = bar.add_task("canonicalising", total=None, status="")
        df, meta = molecule_dataset(source, column=column, split=split, seed=seed, n_jobs=jobs,
                                    fractions=shares, standardize=steps,
                                    progress=lambda done, total: bar.update(task, completed=done,
                                                                            total=total))
    sidecar = save_dataset(df, output, meta)
    report = meta["report"]
    if as_json:
        print_json({"path": str(output), "sidecar": str(sidecar), **report})
        return
    stats = report.get("statistics", {})
    summary = {"path": str(output), "sidecar": str(sidecar), "format": report["format"],
               **{k: report[k] for k in ("lines_read", "bad_lines", "invalid", "duplicates",
                                         "kept")}}
    if "standardized" in report:
        summary["standardized"] = report["standardized"]["changed"]
    summary["split"] = report["split"]["sizes"]
    summary["split_method"] = ("kept from the file's split column" if
                               report["split"]["method"] == "keep" else report["split"]["method"])
    summary["vocabulary"] = stats.get("vocabulary_size")
    print_json(summary)


@handle_errors
def train_smiles(
    data: Path = typer.Option(..., "--data", help="Data set from `seqvae data smiles` (its "
                              "split is kept), or a molecule file (.smi, .csv, .sdf...; "
                              "a 'split' column is kept, else a random split is drawn)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to write."),
    representation: str = typer.Option("smiles", "--representation",
                                       help="smiles or selfies (every SELFIES decode is a "
                                       "valid molecule)."),
    preset: str = typer.Option("default", "--preset", help="Training recipe: default, "
                               "recon (held-out reconstruction) or recon-lowkl (recon with "
                               "tighter posteriors; see seqvae.molecules.presets)."),
    column: Optional[str] = typer.Option(None, "--column", help="SMILES column of a CSV file."),
    standardize: bool = typer.Option(False, "--standardize", help="With a molecule file: "
                                     + STANDARDIZE_HELP),
    remove_stereo: bool = typer.Option(False, "--remove-stereo", help="With a molecule file: "
                                       + REMOVE_STEREO_HELP),
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
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help=TIME_LIMIT_HELP),
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
        parse_time_limit,
    )
    from seqvae.device import resolve_device
    from seqvae.molecules.domain import MoleculeDomain
    from seqvae.molecules.presets import get_preset

    command = _command_line("train smiles", params)
    limit = parse_time_limit(time_limit)
    steps = _standardize_steps(standardize, remove_stereo)
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
        if steps:
            raise InputError("a resumed run keeps its molecules; drop --standardize and "
                             "--remove-stereo")
        cfg = _read_run_config(out)
        # As for `train strings`: a resumed run may be given more epochs or steps.
        _run_training(None, domain_from_dict(cfg["domain"]), out, {},
                      _resume_overrides(epochs, max_steps, None, None), True, {}, quiet,
                      command, device=dev, time_limit=limit)
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
    if steps and data.suffix == ".parquet":
        raise InputError("--standardize and --remove-stereo apply to a molecule file; a data "
                         "set is standardised when made (seqvae data smiles --standardize)")
    domain, items, info = MoleculeDomain.training_set(data, representation=representation,
                                                      column=column, standardize=steps)
    split = info.pop("splits", None)
    info["preset"] = preset
    info["device"] = str(dev)
    _run_training(items, domain, out, model_over, train_over, False, info, quiet, command,
                  split=split, device=dev, properties=names, time_limit=limit)


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
    properties: Optional[Path] = typer.Option(
        None, "--properties", help="A molecule file (.csv, .tsv, .smi with a header, .sdf "
        "data fields) of values you measured: each column the objective names becomes a "
        "term, predicted for new molecules by a head fitted on the file's molecules (its "
        "held-out Spearman and R² are reported)."),
    smiles_column: Optional[str] = typer.Option(None, "--smiles-column", help="The SMILES "
                                                "column of --properties (default: found "
                                                "by its name)."),
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

    A property you measured (--properties assay.csv --objective pIC50) has no RDKit
    score: its values are a head's predictions, and the JSON's predicted_terms says how
    well that head ranks held-out measured molecules.

    Examples: --objective qed:0.7,sas:-0.3; --objective similarity --target
    'CC(=O)Nc1ccc(O)cc1' --keep 'c1ccccc1' --avoid '[N+](=O)[O-]'; --properties
    assay.csv --objective pIC50:1,qed:0.5."""
    from rich.markup import escape

    from seqvae.molecules.chem.goals import make_goal
    from seqvae.molecules.optimize import optimize_molecules
    from seqvae.molecules.user_property import fit_user_property
    from seqvae.runs import load_run

    set_threads(threads)
    if decode is not None and decode not in ("greedy", "beam"):
        raise InputError(f"--decode must be greedy or beam, got {decode!r}")
    tables = _measured_tables(objective, properties, smiles_column)
    # Every check that needs no run, before loading one (the measured terms stand in).
    make_goal(objective, target=target, keep=keep, avoid=avoid,
              extra={name: list for name in tables})
    starts = _start_smiles(start) if start else None
    run = use_device(load_run(run_dir), device)
    _use_decoding(run, decode, beam_width, grammar, valid_first)
    measured = {name: fit_user_property(run, smiles, values, name, seed=seed, report=report)
                for name, (smiles, values, report) in tables.items()}
    goal = make_goal(objective, target=target, keep=keep, avoid=avoid, extra=measured)
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
    for name, info in result["predicted_terms"].items():
        err_console.print(f"{escape(name)}: predicted by a head fitted on {info['labelled']} "
                          f"measured molecules (held-out Spearman {info['heldout_spearman']}, "
                          f"R² {info['heldout_r2']}, on {info['heldout']})", highlight=False)
    print_json({k: v for k, v in result.items() if k != "leaderboard"})


def _measured_tables(objective: str, properties: Optional[Path],
                     smiles_column: Optional[str]) -> dict:
    """``{column: (smiles, values, report)}`` for each term of the objective that is not a
    built-in name, read from --properties (none without it: make_goal names the
    unknown term)."""
    from seqvae.molecules.chem.objectives import OBJECTIVES
    from seqvae.molecules.user_property import read_property_values

    names = [part.partition(":")[0].strip() for part in objective.split(",")]
    measured = [n for n in dict.fromkeys(names) if n and n not in {*OBJECTIVES, "similarity"}]
    if properties is None:
        if smiles_column is not None:
            raise InputError("--smiles-column names the SMILES column of --properties FILE")
        return {}
    if not measured:
        raise InputError(f"--properties {properties}: the objective names none of its "
                         "columns; name one, e.g. --objective COLUMN or COLUMN:1,qed:0.5")
    return {name: read_property_values(properties, name, smiles_column=smiles_column)
            for name in measured}


def register(app: typer.Typer) -> None:
    """Attach ``data smiles``, ``train smiles`` and ``optimize``."""
    from seqvae.cli.data_cmd import data_app
    from seqvae.cli.model_cmd import train_app

    data_app.command("smiles")(data_smiles)
    train_app.command("smiles")(train_smiles)
    app.command("optimize")(optimize_command)
