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
from pathlib import Path
from typing import Optional

import typer

from seqvae.cli._cluster import (
    SCHEDULER_HELP,
    TLS_CA_HELP,
    TLS_CERT_HELP,
    TLS_KEY_HELP,
    dask_client,
    dask_security,
)
from seqvae.cli._common import InputError, err_console, handle_errors, print_json, progress_bar, set_threads
from seqvae.cli._device import DEVICE_HELP

__all__ = ["register"]

_BACKENDS = ("loky", "threading", "multiprocessing", "sequential", "dask", "ray")


@contextlib.contextmanager
def _backend(name: str | None, scheduler: str | None, security=None):
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
        # a remote scheduler through the one shared function: its warning, TLS, exit code
        client = (dask_client(scheduler, security=security) if scheduler
                  else Client(processes=True))
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


#: The method options the command line sets: flag -> config field, and the methods
#: whose config has it (evolve's options are those of the local search inside hybrid
#: and boost too).
_OPTION_FLAGS = {
    "--closure-margin": ("closure_margin", ("evolve", "hybrid", "boost")),
    "--copy-moves": ("copy_moves", ("evolve", "hybrid", "boost")),
    "--restarts": ("restart_kind", ("evolve", "hybrid", "boost")),
    "--lift-from": ("lift_from", ("evolve", "hybrid", "boost")),
    "--lift-share": ("lift_share", ("evolve", "hybrid", "boost")),
    "--lift-arrows": ("lift_arrows", ("evolve", "hybrid", "boost")),
    "--lift-free": ("lift_any_images", ("evolve", "hybrid", "boost")),
    "--transfer-from": ("transfer_from", ("boost",)),
    "--rank-lifts": ("rank_lifts", ("boost",)),
}


def _flag_names(message: str) -> str:
    """A library message about config fields, in the command line's flag names."""
    import re

    for flag, (name, _) in _OPTION_FLAGS.items():
        message = re.sub(rf"\b{name}\b", flag, message)
    return message


def _method_config(method: str, given: dict):
    """The method's config from the flags given (flag -> value, None: not given).

    Only maps: each value is checked once, by the config itself, and a bad one is
    reported with the flag's name.
    """
    from seqvae.hunt.search.config import OptionError
    from seqvae.hunt.search.runner import METHODS, method_config

    fields: dict = {}
    local: dict = {}
    for flag, value in given.items():
        if value is None or value == []:
            continue
        name, methods = _OPTION_FLAGS[flag]
        if method not in methods:
            either = " or ".join([", ".join(methods[:-1]), methods[-1]] if len(methods) > 1
                                 else methods)
            raise InputError(f"{flag} only applies to --method {either}")
        if name == "closure_margin" and value == -1:
            value = None  # the flag's way of saying "off"
        (fields if methods == ("boost",) else local)[name] = value
    if method not in METHODS:
        return None  # check_arguments names the methods
    if local:
        fields.update(local if method == "evolve" else {"evolve_options": local})
    try:
        return method_config(method, fields)
    except OptionError as exc:
        raise InputError(_flag_names(str(exc))) from None


def _device_options(method: str, device, transfer_from) -> dict | None:
    """The method options that carry ``--device`` to the methods with a VAE (boost hands
    it to its latent proposals); the others run no network on it."""
    options: dict = {"transfer_from": transfer_from} if transfer_from else {}
    if method in ("vae", "hybrid"):
        options["device"] = device
    elif method == "boost":
        options["latent_options"] = {"device": device}
    return options or None


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
        None, "--scheduler", help="Ray: the cluster address (default auto). " + SCHEDULER_HELP),
    tls_ca_file: Optional[Path] = typer.Option(None, "--tls-ca-file", help=TLS_CA_HELP),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help=TLS_CERT_HELP),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", help=TLS_KEY_HELP),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    out: Optional[str] = typer.Option(None, "--out", "-o",
                                      help="Output directory (results, checkpoint)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run saved in --out."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the search saved in --out "
                                   "(without it, a directory that holds a search is refused)."),
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
    from seqvae.hunt.search.runner import check_arguments, load_start_automata

    # Everything cheap to check is checked before the progress bar starts.
    config = _method_config(method, {
        "--closure-margin": closure_margin, "--copy-moves": copy_moves, "--restarts": restarts,
        "--lift-from": lift_from, "--lift-share": lift_share, "--lift-arrows": lift_arrows,
        "--lift-free": lift_any_images, "--transfer-from": transfer_from,
        "--rank-lifts": rank_lifts})
    check_arguments(n_states, n_letters, method, budget, time_limit=time_limit, resume=resume,
                    out_dir=out, overwrite=overwrite)
    _check_resources(method, model, jobs, top, backend)
    security = dask_security(scheduler, tls_ca_file, tls_cert, tls_key)
    if security is not None and backend != "dask":
        raise InputError("--tls-ca-file, --tls-cert and --tls-key need --backend dask")
    if method in _LATENT_METHODS:
        set_threads(threads, default=1)
    start = (load_start_automata(start_from, n_states, n_letters)
             if start_from is not None and not resume else None)
    result = _run(dict(
        n_states=n_states, n_letters=n_letters, method=method, budget=budget, seed=seed,
        time_limit=time_limit, model=model, jobs=jobs, out_dir=out, resume=resume,
        overwrite=overwrite, start_from=start, top=top, config=config,
        method_options=_device_options(method, resolve_device(device), None),
        **_checkpoint_interval(checkpoint_every)), backend, scheduler, security)
    _report(result, as_json, out)


#: The methods with networks: they run on --device and --threads.
_LATENT_METHODS = ("vae", "hybrid", "boost")


def _check_resources(method: str, model: str | None, jobs: int, top: int,
                     backend: str | None) -> None:
    """The options that are the command line's own: workers, leaderboard, backend, model."""
    if jobs == 0 or jobs < -1:
        raise InputError(f"--jobs must be positive or -1, got {jobs}")
    if top < 1:
        raise InputError(f"--top must be positive, got {top}")
    if backend is not None and backend not in _BACKENDS:
        raise InputError(f"unknown joblib backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    if model is not None:
        from seqvae.hunt.search.runner import check_model_run
        from seqvae.rundir import RunDir

        if method not in _LATENT_METHODS:
            raise InputError("--model only applies to --method vae, hybrid or boost")
        if not RunDir(model).has_config():
            raise InputError(f"not a trained run directory: {model}")
        check_model_run(model)


def _run(arguments: dict, backend: str | None, scheduler: str | None, security=None):
    """:func:`~seqvae.hunt.search.search_extreme` under a progress bar and the backend."""
    from seqvae.hunt.search import search_extreme

    out, method, n_states = arguments["out_dir"], arguments["method"], arguments["n_states"]
    with progress_bar() as bar, _backend(backend, scheduler, security):
        task = bar.add_task(f"search {method} n={n_states}", total=arguments["budget"],
                            status="best rt -")

        def on_status(info):
            bar.update(task, status=f"best rt {info['best_reset_length']}")

        def on_log(message: str):
            bar.console.print(message, highlight=False)

        try:
            return search_extreme(progress=lambda k: bar.advance(task, k), status=on_status,
                                  log=on_log, **arguments)
        except KeyboardInterrupt:
            bar.stop()
            hint = f"; state saved, continue with --resume --out {out}" if out else ""
            err_console.print(f"interrupted{hint}", style="yellow")
            raise typer.Exit(130) from None


def _report(result, as_json: bool, out: str | None) -> None:
    """Counterexamples and the leaderboard on stderr; the result on stdout with --json."""
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


def register(app: typer.Typer) -> None:
    """Attach ``search-extreme`` to the root app."""
    app.command("search-extreme")(handle_errors(search_extreme_cmd))
