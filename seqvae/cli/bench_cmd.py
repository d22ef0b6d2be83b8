"""``seqvae bench moses`` and ``seqvae bench guacamol``: standard molecule benchmarks of a run.

The computing lives in :mod:`seqvae.molecules.bench_moses` and
:mod:`seqvae.molecules.bench_guacamol`; this module reads the options, frames
each benchmark with a progress bar and prints the tables.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

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
from seqvae.cli._run_options import PRIOR_HELP, PRIOR_SCALE_HELP, _load, _use_decoding

__all__ = ["bench_app", "moses_command", "guacamol_command", "register"]

bench_app = typer.Typer(
    help="Standard molecule benchmarks of a trained SMILES run: MOSES and GuacaMol. Samples "
         "are decoded as `seqvae sample` decodes them by default (valid-first beam search "
         "under the SMILES grammar).",
    no_args_is_help=True)

RUN_HELP = "Run directory of a molecule run (`seqvae train smiles`)."
SEED_HELP = "Seed of the prior samples (and of the searches): same seed, same figures."


def _molecule_run(run_dir: Path, device: str, threads: Optional[int], prior: str,
                  prior_scale: float):
    set_threads(threads)
    if not run_dir.is_dir():
        raise InputError(f"no run directory at {run_dir}")
    run = use_device(_load(run_dir), device)
    run.domain.require_molecular("seqvae bench", InputError)
    run.use_prior(prior, prior_scale)
    # The domain's default point decoder, as `seqvae sample` and `seqvae eval` use it.
    _use_decoding(run, None, None, None, None)
    return run


def _write_json(path: Path, obj) -> None:
    from automata.atomic import atomic_write_text
    from seqvae.jsonable import json_default

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, indent=2, default=json_default) + "\n")


@handle_errors
def moses_command(
    run_dir: Path = typer.Argument(..., help=RUN_HELP),
    samples: int = typer.Option(30000, "--samples", "-n", help="Prior samples scored (the "
                                "MOSES paper: 30,000; unique@10k needs 10,000)."),
    seed: int = typer.Option(0, "--seed", help=SEED_HELP),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder of the MOSES "
                                            "files (default: $SEQVAE_CACHE/moses, else "
                                            "~/.cache/seqvae/moses, where python "
                                            "scripts/fetch_moses.py puts them)."),
    fcd: bool = typer.Option(True, "--fcd/--no-fcd", help="Compute FCD/Test and FCD/TestSF "
                             "(ChemNet from the fcd package; the slowest part on a CPU)."),
    fcd_reference: Optional[int] = typer.Option(None, "--fcd-reference", help="At most this "
                                                "many reference molecules per FCD, a seeded "
                                                "random subset (default: all, as MOSES)."),
    prior: str = typer.Option("standard", "--prior", help=PRIOR_HELP + " The JSON's 'prior' "
                              "and 'prior_scale' say which."),
    prior_scale: float = typer.Option(1.0, "--prior-scale", help=PRIOR_SCALE_HELP),
    as_json: bool = typer.Option(False, "--json", help="The full result as JSON on stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
):
    """The MOSES metrics of a run's prior samples against MOSES test and scaffold test
    (Polykovskiy et al. 2020, Table 2): Valid, Unique@1k/10k, FCD, SNN, Frag and Scaf to
    each test set, IntDiv1/2, Filters, Novelty (against the run's training molecules).
    Needs the MOSES data: python scripts/fetch_moses.py. Without --json: the table on
    stderr and one tab-separated header line and value line on stdout."""
    from seqvae.molecules.bench_moses import MOSES_STEPS, MOSES_TABLE, moses_benchmark, moses_rows

    if samples < 1:
        raise InputError("--samples must be >= 1")
    if fcd_reference is not None and fcd_reference < 1:
        raise InputError("--fcd-reference must be >= 1")
    if data_dir is not None and not data_dir.is_dir():
        raise InputError(f"--data-dir {data_dir} is not a folder")
    run = _molecule_run(run_dir, device, threads, prior, prior_scale)
    with progress_bar(transient=True) as bar:
        task = bar.add_task("moses", total=len(MOSES_STEPS), status="")
        result = moses_benchmark(run, samples=samples, seed=seed, cache_dir=data_dir, fcd=fcd,
                                 fcd_reference=fcd_reference,
                                 progress=lambda k, label: bar.update(task, completed=k,
                                                                      status=label))
    result.update(run_dir=str(run_dir), prior=run.prior_name, prior_scale=run.prior_scale)
    if result.get("filters") is None and result.get("filters_pains_only") is not None:
        err_console.print("warning: no MCF patterns in the MOSES folder: 'Filters' left out, "
                          "'filters_pains_only' is in the JSON", style="yellow", markup=False)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    rows = moses_rows(result)
    table = Table(title=f"MOSES, {samples} samples of {escape(str(run_dir))} "
                  f"({escape(result['decoding']['label'])}, {run.prior_name} prior)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for title, value in rows:
        table.add_row(title, value)
    err_console.print(table)
    for key in ("fcd_reason", "fcd_testsf_reason"):
        if key in result:
            err_console.print(f"{key}: {result[key]}", style="yellow", markup=False)
    print("\t".join(title for title, _ in MOSES_TABLE))
    print("\t".join(value for _, value in rows))


def _parse_tasks(tasks: list[str]) -> list[str]:
    """``--tasks 1,3 --tasks 'C11H24'`` -> ['1', '3', 'C11H24'] (commas split, blanks dropped)."""
    out = [part.strip() for entry in tasks for part in entry.split(",")]
    return [part for part in out if part]


def _result_line(row: dict) -> str:
    """What a result row adds to its score: the FCD, the goal search's counts, or the counts
    of the distribution benchmark."""
    meta = row["metadata"]
    if "FCD" in meta:
        return f"FCD {meta['FCD']:.3f}"
    if "number_scoring_function_calls" in row:
        return (f"{len(row['optimized_molecules'])} molecules, "
                f"{row['number_scoring_function_calls']} scoring calls")
    return ", ".join(f"{k} {v}" for k, v in meta.items() if isinstance(v, (int, float)))


@handle_errors
def guacamol_command(
    run_dir: Path = typer.Argument(..., help=RUN_HELP),
    suite: str = typer.Option("all", "--suite", help="distribution (validity, uniqueness, "
                              "novelty, KL divergence, FCD), goal (the 20 goal-directed tasks "
                              "of suite v2) or all."),
    samples: int = typer.Option(10000, "--samples", "-n", help="Distribution suite: molecules "
                                "per benchmark (GuacaMol: 10,000)."),
    reference: Optional[Path] = typer.Option(None, "--reference", help="Distribution suite: "
                                             "molecule file standing in for GuacaMol's ChEMBL "
                                             "training set (default: the run's training "
                                             "molecules); the output names it."),
    budget: int = typer.Option(1000, "--budget", help="Goal suite: latent points decoded per "
                               "task by the latent optimiser (as `seqvae optimize --budget`)."),
    tasks: list[str] = typer.Option([], "--tasks", help="Goal suite: tasks to run, 1-based "
                                    "indices or names, comma-separated or repeated (e.g. "
                                    "--tasks 1,'Osimertinib MPO'); default all 20."),
    start_items: int = typer.Option(1000, "--start-items", help="Goal suite: training "
                                    "molecules encoded and scored to start each search "
                                    "(their scoring calls are counted)."),
    seed: int = typer.Option(0, "--seed", help=SEED_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for GuacaMol's result "
                                       "files (output_distribution_learning.json, "
                                       "output_goal_directed.json)."),
    prior: str = typer.Option("standard", "--prior", help=PRIOR_HELP + " The JSON's 'prior' "
                              "and 'prior_scale' say which."),
    prior_scale: float = typer.Option(1.0, "--prior-scale", help=PRIOR_SCALE_HELP),
    as_json: bool = typer.Option(False, "--json", help="The full results as JSON on stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
):
    """GuacaMol (Brown et al. 2019) on a molecule run: the distribution-learning suite on
    its prior samples, against its own training molecules (or --reference) instead of
    ChEMBL, and the goal-directed suite v2 with the latent optimiser as the generator,
    --budget decoded points per task. Needs guacamol: pip install --no-deps
    guacamol==0.5.5 tqdm. Without --json: a table on stderr and 'suite, benchmark,
    score' lines on stdout."""
    from seqvae.molecules import bench_guacamol as gb

    if suite not in gb.SUITES:
        raise InputError(f"--suite must be {', '.join(gb.SUITES[:-1])} or {gb.SUITES[-1]}, "
                         f"got {suite!r}")
    chosen = _parse_tasks(tasks)
    if chosen and suite == "distribution":
        raise InputError("--tasks chooses goal-directed tasks: use --suite goal or all")
    for name, value, low in (("--samples", samples, 1), ("--budget", budget, 1),
                             ("--start-items", start_items, 2)):
        if value < low:
            raise InputError(f"{name} must be >= {low}")
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is not a folder")
    gb.require_guacamol()
    if chosen:  # bad names fail now, not after the distribution suite
        gb.select_tasks(gb.goal_tasks(), chosen)
    ref_smiles = None
    if reference is not None:
        if suite == "goal":
            raise InputError("--reference belongs to the distribution suite: use --suite "
                             "distribution or all")
        from seqvae.molecules.chem.molfile import read_molecule_file

        ref_smiles = read_molecule_file(reference).smiles
    run = _molecule_run(run_dir, device, threads, prior, prior_scale)
    results: dict = {}
    with progress_bar() as bar:
        lines: dict = {}

        def start(i, n, name):
            lines[i] = bar.add_task(f"{i}/{n} {escape(name)}", total=1, status="")

        def done(i, n, result):
            bar.update(lines[i], completed=1, status=f"score {result.score:.3f}")

        if suite in ("distribution", "all"):
            results["distribution"] = gb.distribution_benchmark(
                run, samples=samples, seed=seed, reference=ref_smiles,
                reference_label=None if reference is None else str(reference),
                on_start=start, on_done=done)
            lines.clear()
        if suite in ("goal", "all"):
            results["goal"] = gb.goal_directed_benchmark(
                run, budget=budget, seed=seed, tasks=chosen or None, start_items=start_items,
                on_start=start, on_done=done)
    where = {"run_dir": str(run_dir), "prior": run.prior_name, "prior_scale": run.prior_scale}
    names = {"distribution": "output_distribution_learning.json",
             "goal": "output_goal_directed.json"}
    if out is not None:
        for key, value in results.items():
            _write_json(out / names[key], {**value, **where})
    if as_json:
        print_json({**results, **where})
        return
    _print_tables(results, run_dir)


def _print_tables(results: dict, run_dir: Path) -> None:
    from rich.table import Table

    for key, value in results.items():
        if key == "distribution":
            ref = value["reference"]
            title = (f"GuacaMol distribution learning, {value['number_samples']} samples of "
                     f"{run_dir}; reference: {ref['label']} ({ref['molecules']}), not ChEMBL")
        else:
            title = (f"GuacaMol goal-directed (suite v2), budget {value['budget']} per task, "
                     f"{run_dir}; total score {value['total_score']:.3f}")
        table = Table(title=escape(title))
        table.add_column("benchmark")
        table.add_column("score", justify="right")
        table.add_column("detail")
        for row in value["results"]:
            detail = _result_line(row)
            table.add_row(escape(row["benchmark_name"]), f"{row['score']:.3f}", escape(detail))
        err_console.print(table)
        for row in value["results"]:
            print(f"{key}\t{row['benchmark_name']}\t{row['score']:.4f}")
        if key == "goal":
            print(f"goal\ttotal\t{value['total_score']:.4f}")


def register(app: typer.Typer) -> None:
    """Attach ``bench moses`` and ``bench guacamol`` to the root app."""
    bench_app.command("moses")(moses_command)
    bench_app.command("guacamol")(guacamol_command)
    app.add_typer(bench_app, name="bench")
