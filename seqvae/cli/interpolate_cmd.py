"""``seqvae interpolate``: latent paths between automata (or strings), refinement, attribute walks.

Thin layer: parse options, call :mod:`seqvae.interpolate`, write files, print tables.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from seqvae.cli._common import InputError, err_console, handle_errors, print_json, progress_bar, set_threads
from seqvae.cli._device import DEVICE_HELP, use_device

__all__ = ["register"]

_PERCENT = ("well_formed", "synchronizing", "strongly_connected", "novel", "new", "unique",
            "endpoint_recon", "same_as_start")


#: Most items encoded to find an attribute direction (held-out first, then training items).
_ATTRIBUTE_POOL = 5000


def register(app: typer.Typer) -> None:
    """Attach ``seqvae interpolate`` to the root app."""
    app.command("interpolate")(interpolate)


def _fmt(key: str, value) -> str:
    if value is None:
        return "–"
    if key in _PERCENT:
        return f"{100 * value:.1f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    # escape: items such as c1cc[nH]c1 hold what rich would read as markup
    return escape(str(value))


def _show(renderable) -> None:
    # Piped stderr defaults to 80 columns, which crushes a wide table into ellipses.
    if err_console.is_terminal:
        err_console.print(renderable)
        return
    from rich.console import Console

    Console(stderr=True, width=200).print(renderable)


def _table(rows: list[dict], columns: list[tuple[str, str]], title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    # A column no row fills (automata facts in a strings or molecule run) is left out.
    columns = [(key, header) for key, header in columns
               if any(row.get(key) is not None for row in rows)] or columns
    for _, header in columns:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(_fmt(key, row.get(key)) for key, _ in columns))
    return table


def _load(run_dir: Path, validity: Optional[str]):
    from seqvae.errors import DomainError
    from seqvae.runs import load_run

    if validity is None:
        return load_run(run_dir)
    try:
        # The given validator replaces the one the run names, so a run naming one
        # that is not registered here still loads.
        return load_run(run_dir, validity=validity)
    except (DomainError, TypeError) as exc:
        raise InputError(f"--validity: {exc}") from None


def _smiles_endpoint(run, text: str):
    """A ``--between`` value of a molecule run that names no file: a SMILES string."""
    from seqvae.errors import SeqVAEError

    try:
        item = run.domain.canonicalize_many([text])[0]
        run.domain.encode(item)
    except SeqVAEError as exc:
        raise InputError(f"--between {text!r}: neither a file nor a SMILES the run can "
                         f"encode ({' '.join(str(exc).split())[:160]})") from None
    except Exception as exc:  # noqa: BLE001 - any tokenizer failure is bad input
        raise InputError(f"--between {text!r}: the model's tokenizer cannot encode it: "
                         f"{' '.join(str(exc).split())[:160]}") from None
    return item


def _read_endpoint(run, value: str):
    """The first item of a ``--between`` file, in the run's domain; for a molecule run, a
    value that names no file is read as a SMILES string."""
    path = Path(value)
    if not path.is_file() and getattr(run.domain, "molecular", False):
        return _smiles_endpoint(run, value)
    if not path.is_file():
        raise InputError(f"cannot read --between file {path}: no such file")
    from automata.errors import AutomatonError
    from seqvae.errors import SeqVAEError

    try:
        found = run.domain.read_items(path)
    except (AutomatonError, SeqVAEError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"cannot read --between file {path}: {exc}") from None
    if not found:
        raise InputError(f"--between file {path} holds no item")
    try:
        run.domain.encode(found[0])
    except Exception as exc:  # noqa: BLE001 - any tokenizer failure is bad input
        raise InputError(f"{path}: the model's tokenizer cannot encode "
                         f"{run.domain.item_to_text(found[0])!r}: {exc}") from None
    return found[0]


def _write_frame(df, out: Path, stem: str) -> list[Path]:
    from automata.atomic import atomic_path

    written = []
    with atomic_path(out / f"{stem}.parquet") as tmp:
        df.to_parquet(tmp, index=False)
    written.append(out / f"{stem}.parquet")
    with atomic_path(out / f"{stem}.csv") as tmp:
        df.to_csv(tmp, index=False)
    written.append(out / f"{stem}.csv")
    return written


def _label(rt) -> str:
    import pandas as pd

    return "" if rt is None or pd.isna(rt) else f"rt={int(rt)}"


@handle_errors
def interpolate(
    run_dir: Path = typer.Argument(..., help="A trained run directory."),
    linear: bool = typer.Option(False, "--linear", help="Straight-line paths."),
    polar: bool = typer.Option(False, "--polar", help="Polar paths √(1−t)·z1 + √t·z2."),
    slerp: bool = typer.Option(False, "--slerp", help="Spherical linear interpolation."),
    all_methods: bool = typer.Option(False, "--all", help="All three (the default when none is named)."),
    pairs: int = typer.Option(20, "--pairs", "-p", min=1, help="Endpoint pairs drawn from held-out items."),
    steps: int = typer.Option(10, "--steps", "-s", min=2,
                              help="Points per path, endpoints included (attribute walk: α values)."),
    refine: int = typer.Option(0, "--refine", "-k", min=0,
                               help="Encode–decode refinement rounds K (rounds 0..K all reported)."),
    refine_jitter: float = typer.Option(
        0.0, "--refine-jitter", min=0.0,
        help="Refinement: move a point whose decode is invalid by Gaussian noise of this scale "
             "(z units) so a later round may decode it validly (0: it stays put)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the pairs, starting points and sampling."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Output directory (default: RUN_DIR/interpolate)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the summary rows as JSON on stdout (shares as fractions 0..1)."),
    between: Optional[tuple[str, str]] = typer.Option(
        None, "--between", help="Interpolate between the automata (or strings) in these two "
        "files; for a molecule run, each may also be a SMILES string (--between CCO "
        "'c1ccccc1O'), and the figures show the input molecules at both ends."),
    unconstrained: bool = typer.Option(False, "--unconstrained",
                                       help="Decode without the well-formedness constraint."),
    both: bool = typer.Option(False, "--both-decodings",
                              help="Decode both constrained and unconstrained and compare."),
    method: str = typer.Option("greedy", "--decode", help="Decoding: greedy, sample or beam."),
    temperature: float = typer.Option(1.0, "--temperature", min=1e-6, help="Sampling temperature."),
    attribute: Optional[str] = typer.Option(
        None, "--attribute",
        help="Walk along the direction of this attribute (reset_length, cerny_ratio, length) "
             "instead of interpolating."),
    alpha_max: float = typer.Option(
        2.0, "--alpha-max", min=0.0,
        help="Attribute walk: α runs from −alpha_max to alpha_max, in units of the difference "
             "of the group means."),
    starts: int = typer.Option(20, "--starts", min=1, help="Attribute walk: starting points."),
    validity: Optional[str] = typer.Option(
        None, "--validity", help="Strings runs: a registered validator name (e.g. smiles)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="Write PNG figures."),
    threads: Optional[int] = typer.Option(
        None, "--threads", help="torch threads (default 1: decoding many small batches gains "
                                "nothing from more)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
):
    """Interpolate in latent space between held-out items; decode, refine and score every point.

    Reports, per path method × refinement round, the share of decodes that are
    well-formed, synchronizing and novel (not in the training set), reset lengths
    and distinct items found. Every decoded point goes to OUT/points.parquet and .csv.
    """
    set_threads(threads, default=1)
    if method not in ("greedy", "sample", "beam"):
        raise InputError(f"--decode must be greedy, sample or beam, not {method!r}")
    if unconstrained and both:
        raise InputError("--unconstrained and --both-decodings exclude each other")
    if not run_dir.exists():
        raise InputError(f"no such run directory: {run_dir}")
    run = use_device(_load(run_dir, validity), device)
    out_dir = out if out is not None else run_dir / "interpolate"
    out_dir.mkdir(parents=True, exist_ok=True)

    if attribute is not None:
        if between is not None:
            raise InputError("--attribute walks from held-out items; it does not take --between")
        return _attribute(run, attribute, steps, alpha_max, starts, not unconstrained, method,
                          temperature, seed, out_dir, as_json, figures)

    methods = [name for name, on in (("linear", linear), ("polar", polar), ("slerp", slerp)) if on]
    if all_methods or not methods:
        methods = ["linear", "polar", "slerp"]
    decodings = (["constrained", "unconstrained"] if both
                 else ["unconstrained"] if unconstrained else ["constrained"])
    endpoint_pairs = None
    if between is not None:
        endpoint_pairs = [(_read_endpoint(run, between[0]), _read_endpoint(run, between[1]))]
    elif len(run.heldout_items) < 2:
        raise InputError(f"run {run_dir} has fewer than 2 held-out items; use --between A B")

    from seqvae.interpolate import run_interpolation

    n_pairs = 1 if endpoint_pairs is not None else pairs
    total = len(methods) * len(decodings) * n_pairs * steps
    with progress_bar(transient=True) as bar:
        task = bar.add_task("decoding paths", total=total, status="")
        try:
            result = run_interpolation(
                run, methods=methods, n_pairs=pairs, steps=steps, rounds=refine,
                pairs=endpoint_pairs, decodings=decodings, decode_method=method,
                temperature=temperature, seed=seed, refine_jitter=refine_jitter,
                progress=lambda n: bar.advance(task, n))
        except ValueError as exc:
            raise InputError(str(exc)) from None

    written = _write_frame(result.points, out_dir, "points")
    import pandas as pd

    written += _write_frame(pd.DataFrame(result.summary), out_dir, "summary")
    from automata.atomic import atomic_write_text

    atomic_write_text(out_dir / "summary.json", json.dumps(result.summary, indent=2) + "\n")
    written.append(out_dir / "summary.json")
    if figures:
        ends = endpoint_pairs[0] if endpoint_pairs and getattr(run.domain, "molecular",
                                                                False) else None
        written += _interpolation_figures(run, result, out_dir, seed, ends)

    columns = [("method", "method"), ("refine", "k"), ("points", "points"),
               ("well_formed", "valid %"), ("synchronizing", "sync %"), ("novel", "novel %"),
               ("new", "new %"), ("unique", "unique %"), ("mean_reset_length", "mean rt"),
               ("max_reset_length", "max rt"), ("mean_cerny_ratio", "rt/(n-1)²"),
               ("distinct", "distinct"), ("distinct_new", "dist. new"),
               ("endpoint_recon", "ends ok %"), ("mean_z_norm", "‖z‖")]
    if len(decodings) > 1:
        columns.insert(1, ("decoding", "decoding"))
    what = "between the two given items" if endpoint_pairs else f"{len(result.endpoints)} held-out pairs"
    _show(_table(result.summary, columns,
                             f"interpolation, {what}, {steps} points per path (interior scored)"))
    err_console.print(f"wrote {len(written)} files to {out_dir}", highlight=False)
    if as_json:
        print_json(result.summary)


def _interpolation_figures(run, result, out_dir: Path, seed: int, ends=None) -> list[Path]:
    """The figures of an interpolation; ``ends`` (the input items of --between, molecule
    runs) replace the decoded endpoints of the path grid, labelled "input"."""
    import numpy as np

    from seqvae import plots
    from seqvae.interpolate import encoded_norms
    from seqvae.latent import path_positions

    written = []
    positions = path_positions(result.steps)
    pts = result.points
    rounds = sorted({0, result.rounds})
    decoding = pts["decoding"].iloc[0]
    for k in rounds:
        grid = {}
        for method in result.methods:
            sel = pts[(pts["method"] == method) & (pts["refine"] == k) & (pts["pair"] == 0)
                      & (pts["decoding"] == decoding)].sort_values("step")
            items = list(result.path_items(method, 0, k, decoding))
            labels = [_label(v) for v in sel["reset_length"]]
            if ends is not None and len(items) >= 2:
                # what the user gave, not its decode (which need not be the same molecule)
                items[0], items[-1] = ends
                labels[0] = labels[-1] = "input"
            grid[method] = (items, labels)
        name = "paths.png" if k == 0 else f"paths_refine{k}.png"
        written.append(plots.plot_path_grid(
            grid, positions, out_dir / name, max_columns=8,
            draw_item=getattr(run.domain, "draw_item", None),  # molecules: RDKit depictions
            title=f"decodes along the paths of pair 0 ({decoding}), refinement round {k}"))
    written.append(plots.plot_validity_along_path(pts, out_dir / "validity.png"))
    if result.rounds > 0:
        written.append(plots.plot_refinement(result.summary, out_dir / "refinement.png"))
    data = list(run.heldout_items)
    train_items = getattr(run, "train_items", None)
    if train_items:
        rng = np.random.default_rng(seed)
        take = rng.choice(len(train_items), size=min(len(train_items), 2000), replace=False)
        data += [train_items[i] for i in take]
    enc = encoded_norms(run, data) if data else np.zeros(0)
    prior = np.linalg.norm(np.random.default_rng(seed).standard_normal((max(len(enc), 1000), run.d_z)),
                           axis=1)
    written.append(plots.plot_norm_histogram(enc, prior, run.d_z, out_dir / "norms.png"))
    return written


def _attribute(run, attribute, steps, alpha_max, starts, constrained, method, temperature, seed,
               out_dir: Path, as_json: bool, figures: bool) -> None:
    import numpy as np
    import pandas as pd

    from automata.atomic import atomic_write_text
    from seqvae.interpolate import run_attribute

    # The direction needs a few thousand encodings at most; a large training set is subsampled.
    pool = list(run.heldout_items)
    train_items = list(getattr(run, "train_items", None) or [])
    room = max(0, _ATTRIBUTE_POOL - len(pool))
    if len(train_items) > room:
        take = np.random.default_rng(seed).choice(len(train_items), size=room, replace=False)
        train_items = [train_items[i] for i in sorted(take)]
    pool += train_items
    with progress_bar(transient=True) as bar:
        task = bar.add_task("decoding walk", total=min(starts, len(pool)) * steps, status="")
        try:
            result = run_attribute(run, attribute=attribute, steps=steps, alpha_max=alpha_max,
                                   n_starts=starts, constrained=constrained, decode_method=method,
                                   temperature=temperature, seed=seed, items=pool,
                                   progress=lambda n: bar.advance(task, n))
        except ValueError as exc:
            raise InputError(str(exc)) from None
    written = _write_frame(result.points, out_dir, f"attribute_{attribute}_points")
    written += _write_frame(pd.DataFrame(result.rows), out_dir, f"attribute_{attribute}")
    atomic_write_text(out_dir / f"attribute_{attribute}.json", json.dumps(result.rows, indent=2) + "\n")
    if figures:
        from seqvae import plots

        written.append(plots.plot_attribute_walk(result.rows, attribute,
                                                 out_dir / f"attribute_{attribute}.png"))
    columns = [("step", "step"), ("alpha", "α"), ("points", "points"), ("well_formed", "valid %"),
               ("synchronizing", "sync %"), ("novel", "novel %"), ("same_as_start", "= start %"),
               (f"mean_{attribute}", f"mean {attribute}"), (f"max_{attribute}", f"max {attribute}"),
               ("distinct", "distinct")]
    _show(_table(
        result.rows, columns,
        f"walk along the {attribute} direction (top vs bottom quartile: "
        f"{result.high_mean:.2f} vs {result.low_mean:.2f}; ‖direction‖ = "
        f"{float((result.direction ** 2).sum() ** 0.5):.3f}; slope d{attribute}/dα = "
        f"{'–' if result.slope is None else f'{result.slope:.3f}'})"))
    err_console.print(f"wrote {len(written)} files to {out_dir}", highlight=False)
    if as_json:
        print_json(result.rows)
