"""``seqvae eval`` and ``seqvae fit-prior``: a trained run's figures, and its fitted prior.

``eval`` measures reconstruction, prior-sample quality, IWAE NLL, KL and
active units (and the domain's own metrics); ``fit-prior`` fits the Gaussian
mixture that ``--prior fitted`` draws from.
"""
from __future__ import annotations

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
from seqvae.cli._run_options import (
    BEAM_WIDTH_HELP,
    DECODE_HELP,
    GRAMMAR_HELP,
    NO_VALIDITY_HELP,
    PRIOR_HELP,
    PRIOR_SCALE_HELP,
    STRICT_HELP,
    VALID_FIRST_HELP,
    _load,
    _screened_items,
    _use_decoding,
)

__all__ = ["eval_command", "fit_prior_command"]


@handle_errors
def eval_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    data: Optional[Path] = typer.Option(None, "--data", help="Evaluate on these items instead "
                                        "of the run's held-out split."),
    max_items: int = typer.Option(2000, "--max-items", help="Evaluation items at most."),
    prior_count: int = typer.Option(1000, "--prior-count", help="Prior samples."),
    iwae_samples: int = typer.Option(50, "--iwae-samples"),
    seed: int = typer.Option(0, "--seed", help="Seed of the evaluation sample and decodes."),
    samples: int = typer.Option(10000, "--samples", help="Prior decodes for the domain's own "
                                "metrics (MOSES metrics for molecules; 0 skips them)."),
    fcd: bool = typer.Option(True, "--fcd/--no-fcd", help="Molecules: the Fréchet ChemNet "
                             "Distance to the evaluation molecules (needs the fcd package; "
                             "its wheel carries the ChemNet weights, nothing is downloaded)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    strict: bool = typer.Option(False, "--strict", help=STRICT_HELP),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    prior: str = typer.Option("standard", "--prior", help=PRIOR_HELP + " The prior-sample "
                              "and MOSES metrics use it; the JSON's 'prior' says which."),
    prior_scale: float = typer.Option(1.0, "--prior-scale", help=PRIOR_SCALE_HELP),
    decode: Optional[str] = typer.Option(None, "--decode", "--method", help=DECODE_HELP),
    beam_width: Optional[int] = typer.Option(None, "--beam-width", help=BEAM_WIDTH_HELP),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar", help=GRAMMAR_HELP),
    valid_first: Optional[bool] = typer.Option(None, "--valid-first/--no-valid-first",
                                               help=VALID_FIRST_HELP),
):
    """Reconstruction, prior-sample quality, IWAE NLL, KL and active units (and the MOSES
    metrics for molecules), on a seeded random sample of --max-items evaluation items.
    The JSON's 'decoding' says which point decoder they used (SMILES runs: valid-first
    beam search under the grammar unless --decode says otherwise); 'reconstruction_sampled'
    always samples the decoder."""
    from seqvae.evaluate import evaluate

    set_threads(threads)
    if samples < 0:
        raise InputError("--samples must be >= 0")
    if decode is not None and decode not in ("greedy", "beam"):
        raise InputError(f"--decode must be greedy or beam, got {decode!r}")
    run = use_device(_load(run_dir, no_validity), device).use_prior(prior, prior_scale)
    _use_decoding(run, decode, beam_width, grammar, valid_first)
    screened = _screened_items(run, data, strict) if data is not None else None
    items = screened.items if screened is not None else None
    with progress_bar(transient=True) as bar:
        task = bar.add_task("evaluating", total=5, status="")
        result = evaluate(run, items, max_items=max_items, prior_count=prior_count,
                          iwae_samples=iwae_samples, seed=seed, metric_samples=samples,
                          metric_options=None if fcd else {"fcd": False},
                          progress=lambda k: bar.update(task, completed=k))
    result["run_dir"] = str(run_dir)
    if result.get("filters_pains_only") is not None:
        err_console.print("warning: the MCF filters need the MOSES data (python "
                          "scripts/fetch_moses.py): 'filters_pains_only' is not the MOSES "
                          "'filters' figure", style="yellow", markup=False)
    if screened is not None:
        result["items_skipped"] = screened.n_skipped
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table(title=f"seqvae eval {escape(str(run_dir))}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if isinstance(value, (dict, list)):
            continue
        table.add_row(escape(key), f"{value:.4f}" if isinstance(value, float)
                      else escape(str(value)))
    err_console.print(table)
    print_json({k: v for k, v in result.items() if not isinstance(v, (dict, list))})


@handle_errors
def fit_prior_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    components: int = typer.Option(10, "--components", "-k", help="Gaussians in the mixture "
                                   "(1: one full-covariance Gaussian; more follow the encoded "
                                   "items more closely, so check novelty beside validity)."),
    items: int = typer.Option(20000, "--items", help="Training items encoded (a seeded random "
                              "sample of them when the run has more)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the item sample and of EM's start."),
    max_iter: int = typer.Option(200, "--max-iter", help="EM iterations at most."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
):
    """Fit a Gaussian mixture (full covariances, EM) to the encoder means of the run's
    training items and save it as RUN/latent_prior.npz; then `seqvae sample RUN --prior
    fitted` and `seqvae eval RUN --prior fitted` draw latent points from it instead of
    N(0, I) (an ex-post density: Ghosh et al. 2020)."""
    import time

    from seqvae.latent_prior import fit_run_prior

    set_threads(threads)
    if components < 1:
        raise InputError("--components must be >= 1")
    if items < 1:
        raise InputError("--items must be >= 1")
    if max_iter < 1:
        raise InputError("--max-iter must be >= 1")
    run = use_device(_load(run_dir, no_validity), device)
    t0 = time.perf_counter()
    gmm, path = fit_run_prior(run, n_components=components, items=items, seed=seed,
                              max_iter=max_iter)
    result = {"path": str(path), "components": gmm.n_components, "d_z": gmm.dim,
              "items": min(items, len(run.train_items)), "seed": seed,
              "seconds": round(time.perf_counter() - t0, 2)}
    if as_json:
        print_json(result)
    else:
        err_console.print(f"fitted prior: {gmm.n_components} components over "
                          f"{result['items']} encoded items -> {escape(str(path))}",
                          highlight=False)
