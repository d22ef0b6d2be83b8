"""``seqvae search-extreme``: look for automata with the longest shortest reset words.

Parallel exact evaluation runs on joblib: ``--jobs J`` local worker
processes by default. ``--backend`` selects another joblib backend for the
same work: ``threading``, ``multiprocessing``, ``dask`` (with ``--scheduler
ADDRESS`` of a running ``dask.distributed`` scheduler, or a local cluster
when omitted; needs the ``distributed`` package) or ``ray`` (needs ``ray``;
connects with ``ray.init(address=...)`` taken from ``--scheduler``, default
``auto``).
"""
from __future__ import annotations

import contextlib
from typing import Optional

import typer

from seqvae.cli._common import InputError, err_console, handle_errors, print_json, progress_bar, set_threads
from seqvae.cli._device import DEVICE_HELP

__all__ = ["register"]

_BACKENDS = ("loky", "threading", "multiprocessing", "sequential", "dask", "ray")


@contextlib.contextmanager
def _backend(name: str | None, scheduler: str | None):
    if name is None:
        yield
        return
    if name not in _BACKENDS:
        raise InputError(f"unknown joblib backend {name!r}; choose one of {', '.join(_BACKENDS)}")
    import joblib

    client = None
    if name == "dask":
        try:
            from dask.distributed import Client
        except ImportError:
            raise InputError("--backend dask needs the 'distributed' package") from None
        client = Client(scheduler) if scheduler else Client(processes=True)
    elif name == "ray":
        try:
            import ray
            from ray.util.joblib import register_ray
        except ImportError:
            raise InputError("--backend ray needs the 'ray' package") from None
        ray.init(address=scheduler or "auto", ignore_reinit_error=True)
        register_ray()
    try:
        with joblib.parallel_config(backend=name):
            yield
    finally:
        if client is not None:
            client.close()


def _leaderboard_table(result):
    from rich.table import Table

    table = Table(title=(f"search-extreme {result.method}: n={result.n_states}, "
                         f"k={result.n_letters}, {result.evaluations} distinct automata evaluated "
                         f"(stopped: {result.stopped})"))
    table.add_column("#", justify="right")
    table.add_column("automaton")
    table.add_column("rt", justify="right")
    table.add_column("rt/(n-1)²", justify="right")
    table.add_column("family")
    table.add_column("found at", justify="right")
    for i, row in enumerate(result.top, 1):
        table.add_row(str(i), row["automaton"], str(row["reset_length"]), f"{row['ratio']:.3f}",
                      row["family"], str(row["evaluation"]))
    return table


def _checkpoint_interval(text: str) -> dict:
    """``--checkpoint-every`` as search_extreme keywords (seconds, or steps with the
    30-second default kept as well)."""
    from seqvae.cli.model_cmd import parse_checkpoint_every

    parsed = parse_checkpoint_every(text)
    if "checkpoint_seconds" in parsed:
        return parsed
    return {"checkpoint_steps": parsed["checkpoint_every"]}


def _evolve_options(method: str, closure_margin: int | None, copy_moves: bool | None,
                    restarts: str | None, lift_from: list[str] | None = None,
                    lift_share: float | None = None, lift_arrows: int | None = None,
                    lift_any_images: bool | None = None) -> dict:
    """The local-search options given on the command line, checked, as evolve's keywords."""
    from pathlib import Path

    from seqvae.hunt.search.baselines import RESTART_KINDS

    given = {"--closure-margin": closure_margin, "--copy-moves": copy_moves,
             "--restarts": restarts, "--lift-from": lift_from or None,
             "--lift-share": lift_share, "--lift-arrows": lift_arrows,
             "--lift-free": lift_any_images}
    named = [flag for flag, value in given.items() if value is not None]
    if named and method not in ("evolve", "hybrid", "boost"):
        raise InputError(f"{named[0]} only applies to --method evolve, hybrid or boost")
    options: dict = {}
    if closure_margin is not None:
        if closure_margin < -1:
            raise InputError(f"--closure-margin must be -1 (off) or >= 0, got {closure_margin}")
        options["closure_margin"] = None if closure_margin == -1 else closure_margin
    if copy_moves is not None:
        options["copy_moves"] = copy_moves
    if restarts is not None:
        if restarts not in RESTART_KINDS:
            raise InputError(f"--restarts must be one of {', '.join(RESTART_KINDS)}, "
                             f"got {restarts[:40]!r}")
        options["restart_kind"] = restarts
    for flag in ("--lift-share", "--lift-arrows", "--lift-free"):
        if given[flag] is not None and not lift_from:
            raise InputError(f"{flag} only applies with --lift-from")
    if lift_from:
        for path in lift_from:
            if not Path(path).is_file():
                raise InputError(f"--lift-from: no such file: {path}")
        options["lift_from"] = list(lift_from)
    if lift_share is not None:
        if not 0.0 < lift_share <= 1.0:
            raise InputError(f"--lift-share must be in (0, 1], got {lift_share}")
        options["lift_share"] = lift_share
    if lift_arrows is not None:
        if not 1 <= lift_arrows <= 4:
            raise InputError(f"--lift-arrows must be from 1 to 4, got {lift_arrows}")
        options["lift_arrows"] = lift_arrows
    if lift_any_images is not None:
        options["lift_any_images"] = lift_any_images
    return options


def _device_options(method: str, device, transfer_from) -> dict | None:
    """The method options that carry ``--device`` to the methods with a VAE (boost hands
    it to its latent proposals); the others run no network on it."""
    options: dict = {"transfer_from": transfer_from} if transfer_from else {}
    if method in ("vae", "hybrid"):
        options["device"] = device
    elif method == "boost":
        options["latent_options"] = {"device": device}
    return options or None


def register(app: typer.Typer) -> None:
    """Attach ``search-extreme`` to the root app."""

    @app.command("search-extreme")
    @handle_errors
    def search_extreme_cmd(
        n_states: int = typer.Option(..., "--n-states", "-n", help="Number of states (2..64)."),
        n_letters: int = typer.Option(2, "--n-letters", "-k", help="Number of letters."),
        method: str = typer.Option("evolve", "--method", "-m",
                                   help="random | evolve | vae | hybrid | boost."),
        budget: int = typer.Option(20_000, "--budget", "-b",
                                   help="Exact evaluations of distinct automata (up to isomorphism)."),
        time_limit: Optional[float] = typer.Option(None, "--time-limit",
                                                   help="Stop after this many seconds."),
        model: Optional[str] = typer.Option(None, "--model",
                                            help="Trained run directory (vae, hybrid, boost)."),
        transfer_from: Optional[list[str]] = typer.Option(
            None, "--transfer-from",
            help="boost: automata files (any sizes) that pre-train its models; repeatable."),
        jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel evaluation workers (joblib)."),
        backend: Optional[str] = typer.Option(
            None, "--backend", help="joblib backend: loky, threading, multiprocessing, dask, ray."),
        scheduler: Optional[str] = typer.Option(
            None, "--scheduler", help="Dask scheduler / Ray cluster address for --backend."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
        out: Optional[str] = typer.Option(None, "--out", "-o",
                                          help="Output directory (results, checkpoint)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
        resume: bool = typer.Option(False, "--resume", help="Continue the run saved in --out."),
        start_from: Optional[str] = typer.Option(
            None, "--start-from", help="File of automata to start from (any automata format)."),
        top: int = typer.Option(10, "--top", help="Leaderboard size."),
        checkpoint_every: str = typer.Option(
            "30s", "--checkpoint-every", help="With --out: checkpoint every N steps ('50') or "
                                              "seconds ('30s')."),
        closure_margin: Optional[int] = typer.Option(
            None, "--closure-margin",
            help="evolve, hybrid, boost: enumerate the whole neighbourhood of every automaton "
                 "found with rt >= n²-4n+6 - M, recursively (default 4; -1: off)."),
        copy_moves: Optional[bool] = typer.Option(
            None, "--copy-moves/--no-copy-moves",
            help="evolve, hybrid, boost: the move copying one letter onto another with one "
                 "arrow moved (default on)."),
        restarts: Optional[str] = typer.Option(
            None, "--restarts",
            help="evolve, hybrid, boost: fresh populations 'uniform' or 'high-rank' (letters "
                 "of rank >= n-2; default high-rank)."),
        lift_from: Optional[list[str]] = typer.Option(
            None, "--lift-from",
            help="evolve, hybrid, boost: automata files; those with one state fewer are "
                 "lifted, slowest first: every way of adding a state that takes over one "
                 "arrow is evaluated (repeatable)."),
        lift_share: Optional[float] = typer.Option(
            None, "--lift-share",
            help="With --lift-from: the most lifts may take of the evaluations so far "
                 "(default 0.5; boost 1)."),
        lift_arrows: Optional[int] = typer.Option(
            None, "--lift-arrows",
            help="With --lift-from: the new state takes over up to this many arrows of one "
                 "state (default 1; boost 2)."),
        lift_any_images: Optional[bool] = typer.Option(
            None, "--lift-free/--no-lift-free",
            help="With --lift-from: the new state goes anywhere under every letter (otherwise "
                 "under one letter it goes where the state it splits from goes); a pool about "
                 "4x larger. Default: off for evolve and hybrid, on for boost, whose surrogate "
                 "ranks the pool (boost also defaults to --lift-arrows 2, --lift-share 1)."),
        rank_lifts: Optional[bool] = typer.Option(
            None, "--rank-lifts/--no-rank-lifts",
            help="boost with --lift-from: a learned reset-length surrogate chooses which lifts "
                 "are evaluated first (default on); off: the sources' order, as in evolve."),
        threads: Optional[int] = typer.Option(
            None, "--threads", help="torch threads of the latent methods (default 1: their "
                                    "networks are small, the exact evaluations dominate)."),
        device: str = typer.Option("auto", "--device",
                                   help="Where the VAE of vae, hybrid and boost runs: "
                                        + DEVICE_HELP),
    ):
        """Search for automata with the longest reset words; the budget counts distinct automata."""
        from seqvae.device import resolve_device
        from seqvae.hunt.search import search_extreme
        from seqvae.hunt.search.runner import check_arguments, load_start_automata

        # Everything cheap to check is checked before the progress bar starts.
        if jobs == 0 or jobs < -1:
            raise InputError(f"--jobs must be positive or -1, got {jobs}")
        if top < 1:
            raise InputError(f"--top must be positive, got {top}")
        if model is not None and method not in ("vae", "hybrid", "boost"):
            raise InputError("--model only applies to --method vae, hybrid or boost")
        if transfer_from and method != "boost":
            raise InputError("--transfer-from only applies to --method boost")
        for path in transfer_from or []:
            from pathlib import Path

            if not Path(path).is_file():
                raise InputError(f"--transfer-from: no such file: {path}")
        options = _device_options(method, resolve_device(device), transfer_from) or {}
        evolve_options = _evolve_options(method, closure_margin, copy_moves, restarts,
                                         lift_from, lift_share, lift_arrows, lift_any_images)
        if rank_lifts is not None:
            if method != "boost":
                raise InputError("--rank-lifts only applies to --method boost")
            if not lift_from:
                raise InputError("--rank-lifts only applies with --lift-from")
            options["rank_lifts"] = rank_lifts
        if evolve_options:
            if method == "evolve":
                options.update(evolve_options)
            else:
                options["evolve_options"] = evolve_options
        options = options or None
        check_arguments(n_states, n_letters, method, budget, time_limit=time_limit,
                        resume=resume, out_dir=out)
        if backend is not None and backend not in _BACKENDS:
            raise InputError(
                f"unknown joblib backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
        if model is not None:
            from seqvae.hunt.search.runner import check_model_run
            from seqvae.rundir import RunDir

            if not RunDir(model).has_config():
                raise InputError(f"not a trained run directory: {model}")
            check_model_run(model)
        every = _checkpoint_interval(checkpoint_every)
        if method in ("vae", "hybrid"):
            set_threads(threads, default=1)
        start = (load_start_automata(start_from, n_states, n_letters)
                 if start_from is not None and not resume else None)

        with progress_bar() as bar, _backend(backend, scheduler):
            task = bar.add_task(f"search {method} n={n_states}", total=budget, status="best rt -")

            def on_status(info):
                bar.update(task, status=f"best rt {info['best_reset_length']}")

            def on_log(message: str):
                bar.console.print(message, highlight=False)

            try:
                result = search_extreme(
                    n_states, n_letters, method, budget, seed=seed, time_limit=time_limit,
                    model=model, jobs=jobs, out_dir=out, resume=resume, start_from=start,
                    progress=lambda k: bar.advance(task, k), status=on_status, log=on_log,
                    top=top, method_options=options, **every)
            except KeyboardInterrupt:
                bar.stop()
                hint = f"; state saved, continue with --resume --out {out}" if out else ""
                err_console.print(f"interrupted{hint}", style="yellow")
                raise typer.Exit(130) from None
        for c in result.counterexamples:
            style = "bold white on red" if c["confirmed"] else "bold red"
            err_console.print(
                f"CANDIDATE COUNTEREXAMPLE to Černý's conjecture: {c['automaton']} claimed "
                f"rt={c['claimed']} > {result.cerny_bound}; plain BFS: {c['verified']} "
                f"({'CONFIRMED' if c['confirmed'] else 'not confirmed'})"
                + (f"; saved to {c['path']}" if c.get("path") else ""), style=style)
        err_console.print(_leaderboard_table(result))
        if result.first_cerny_at is not None:
            err_console.print(f"first automaton at (n-1)² after {result.first_cerny_at} evaluations")
        if as_json:
            print_json(result.to_dict())
        elif out:
            err_console.print(f"results in {out}")
