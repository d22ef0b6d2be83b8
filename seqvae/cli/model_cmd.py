"""``seqvae train``, and the registration of every model command.

Thin: parse options, call :mod:`seqvae.runs`, draw progress on stderr, print
results on stdout. Under ``torchrun`` (WORLD_SIZE > 1) ``seqvae train`` trains
with DDP and only rank 0 writes and prints. The run's other commands live
beside it: ``sample`` / ``encode`` / ``decode`` in :mod:`seqvae.cli.latents_cmd`,
``eval`` / ``fit-prior`` in :mod:`seqvae.cli.eval_cmd`; :func:`register` attaches
them all.

Most of the length is typer option declarations (two training commands share
a dozen options each); the bodies are short.
"""
from __future__ import annotations

import json
import os
import shlex
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
from seqvae.cli._device import DEVICE_HELP
from seqvae.cli.eval_cmd import eval_command, fit_prior_command
from seqvae.cli.latents_cmd import decode_command, encode_command, sample_command

__all__ = ["train_app", "register"]

train_app = typer.Typer(
    name="train",
    help="Train a sequence VAE on automata or strings (writes a run directory).",
    no_args_is_help=True,
    add_completion=False,
)


def _command_line(command: str, params: dict) -> str:
    """The effective command line (every option, defaults included), for command.txt."""
    parts = ["seqvae", *command.split()]
    for key, value in params.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            parts.append(flag)
        elif key in ("file",):
            parts.append(shlex.quote(str(value)))
        else:
            parts += [flag, shlex.quote(str(value))]
    return " ".join(parts)


def _parse_json_option(text: Optional[str], what: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a JSON object")
    return value


CHECKPOINT_EVERY_HELP = "Also checkpoint every N steps ('500') or seconds ('30s')."


def parse_checkpoint_every(text: Optional[str]) -> dict:
    """``--checkpoint-every``: ``"500"`` (steps) or ``"30s"`` (seconds) as TrainConfig keys.

    >>> parse_checkpoint_every("30s"), parse_checkpoint_every("500")
    ({'checkpoint_seconds': 30.0}, {'checkpoint_every': 500})
    """
    if text is None:
        return {}
    text = str(text).strip()
    bad = InputError(f"--checkpoint-every must be steps (500) or seconds (30s), got "
                     f"{text[:40]!r}")
    seconds = text.endswith("s")
    try:
        value = float(text[:-1]) if seconds else int(text)
    except ValueError:
        raise bad from None
    if seconds:
        if not 0 < value < float("inf"):  # NaN fails this too
            raise bad
        return {"checkpoint_seconds": value}
    if value < 0:
        raise bad
    return {"checkpoint_every": value}


TIME_LIMIT_HELP = ("Stop training after this long: seconds ('600') or with a unit ('90s', "
                   "'30m', '2h'). The run stops at the step boundary after the limit and ends "
                   "as with --max-steps (checkpoint written, result says stopped_on: "
                   "time_limit); --resume continues it. Counts training only, not reading "
                   "the data.")
_TIME_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_time_limit(text: Optional[str]) -> Optional[float]:
    """``--time-limit``: seconds (``"600"``, ``"90s"``) or minutes/hours (``"30m"``, ``"2h"``).

    >>> parse_time_limit("90s"), parse_time_limit("30m"), parse_time_limit("2h"), parse_time_limit("1.5")
    (90.0, 1800.0, 7200.0, 1.5)
    """
    if text is None:
        return None
    raw = str(text).strip().lower()
    scale = _TIME_UNITS.get(raw[-1:], None) if raw else None
    try:
        value = float(raw[:-1] if scale else raw) * (scale or 1.0)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):  # NaN, zero, negative and infinite all fail this
        raise InputError(f"--time-limit must be a positive duration like 600, 90s, 30m or "
                         f"2h, got {str(text)[:40]!r}")
    return value


def _train_overrides(epochs, batch_size, lr, seed, max_steps, kl_schedule, free_bits,
                     checkpoint_every, patience, extra) -> dict:
    out = dict(_parse_json_option(extra, "--train-config"))
    for key, value in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr),
                       ("seed", seed), ("max_steps", max_steps), ("kl_schedule", kl_schedule),
                       ("free_bits", free_bits), ("patience", patience)):
        if value is not None:
            out[key] = value
    out.update(parse_checkpoint_every(checkpoint_every))
    return out


def _resume_overrides(epochs, max_steps, checkpoint_every, patience) -> dict:
    """What ``--resume`` may change: the limits (a finished run is extended by them)."""
    out = {key: value for key, value in (("epochs", epochs), ("max_steps", max_steps),
                                         ("patience", patience)) if value is not None}
    out.update(parse_checkpoint_every(checkpoint_every))
    return out


def _run_training(items, domain, out: Path, model_over: dict, train_over: dict, resume: bool,
                  data_info: dict, quiet: bool, command: str, *, split: dict | None = None,
                  device=None, properties=None, time_limit: float | None = None) -> None:
    from seqvae.rundir import RunDir
    from seqvae.runs import train
    from seqvae.train_distributed import finish_distributed, init_distributed

    store = RunDir(out)
    rank, world = init_distributed(device)
    if resume and not store.has_checkpoint():
        raise InputError(f"nothing to resume in {out} (no checkpoint)")
    if not resume and store.has_checkpoint():
        raise InputError(f"{out} already holds a run; use --resume or another --out")
    last: dict = {}
    show = rank == 0 and not quiet

    with progress_bar() as bar:
        task = bar.add_task("training", total=None, status="", visible=show)

        def on_start(total: int) -> None:
            bar.update(task, total=total)

        def on_log(rec: dict) -> None:
            last.update(rec)
            if rec["kind"] == "epoch":
                bits = [f"epoch {rec['epoch'] + 1}"]
                if "val_elbo" in rec:
                    bits.append(f"val ELBO {rec['val_elbo']:.2f} exact {rec['val_exact']:.3f} "
                                f"AU {rec['val_active_units']}")
                if "val_prop_mse" in rec:
                    bits.append(f"property MSE {rec['val_prop_mse']:.3f} (mean predictor "
                                f"{rec['val_prop_mse_mean_predictor']:.3f})")
                if show:
                    err_console.print(" ".join(bits), highlight=False)
            elif rec["kind"] == "step" and rec["step"] % 10 == 0:
                bar.update(task, status=f"loss {rec['loss']:.2f} rec {rec['rec']:.2f} "
                                        f"KL {rec['kl']:.1f} β {rec['beta']:.2f}")

        try:
            run = train(items, domain, out_dir=out, model_config=model_over or None,
                        train_config=train_over or None, resume=resume,
                        progress=lambda s: bar.update(task, completed=s), on_log=on_log,
                        on_start=on_start, command=command, data_info=data_info,
                        split=split, device=device, properties=properties,
                        time_limit=time_limit)
        except KeyboardInterrupt:
            if rank == 0:
                err_console.print(f"interrupted: checkpoint written to {store.checkpoint_path}; "
                                  "continue with --resume", style="yellow")
            raise typer.Exit(130) from None
    if rank == 0 and run.config.get("result", {}).get("stopped_on") == "time_limit":
        err_console.print(f"stopped on the time limit: checkpoint written to "
                          f"{store.checkpoint_path}; continue with --resume", style="yellow")
    if rank == 0:
        import torch

        summary = {"run_dir": str(out), "d_z": run.d_z, **run.config.get("result", {}),
                   "counts": run.config.get("counts", {}), "world_size": world,
                   "torch_threads": torch.get_num_threads()}
        history = run.trainer.history
        if history:
            summary["last_epoch"] = {k: v for k, v in history[-1].items()
                                     if k not in ("val_kl_per_dim", "kind")}
        print_json(summary)
    del run  # its trainer holds the DDP model, whose reducer must not outlive the group
    finish_distributed()


_COMMON_HELP = {
    "out": "Run directory to write (config.json, checkpoint.pt, metrics.jsonl, ...).",
    "model_config": "JSON object of ModelConfig overrides, e.g. '{\"d_z\": 16}'.",
    "train_config": "JSON object of TrainConfig overrides.",
}


@train_app.command("automata")
@handle_errors
def train_automata(
    n_states: int = typer.Option(7, "--n-states", help="States of the generated automata."),
    n_letters: int = typer.Option(2, "--n-letters", help="Letters of the generated automata."),
    data: Optional[Path] = typer.Option(None, "--data", help="Data set (Parquet from "
                                        "`seqvae data automata`, or an automata file: text, "
                                        "compact or JSON) instead of generating one."),
    count: int = typer.Option(50_000, "--count", help="Automata to generate (without --data)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help=_COMMON_HELP["out"]),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Training epochs."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    lr: Optional[float] = typer.Option(None, "--lr", help="Peak learning rate."),
    seed: int = typer.Option(0, "--seed", help="Seed of data, split, init and batches."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after this many steps."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help=TIME_LIMIT_HELP),
    kl_schedule: Optional[str] = typer.Option(None, "--kl-schedule",
                                              help="constant, linear, sigmoid or cyclical."),
    free_bits: Optional[float] = typer.Option(None, "--free-bits", help="Nats per dimension."),
    checkpoint_every: Optional[str] = typer.Option(None, "--checkpoint-every",
                                                   help=CHECKPOINT_EVERY_HELP),
    patience: Optional[int] = typer.Option(None, "--patience", help="Early-stopping patience "
                                           "(epochs; 0 = off)."),
    d_z: Optional[int] = typer.Option(None, "--d-z", help="Latent dimension."),
    model_config: Optional[str] = typer.Option(None, "--model-config",
                                               help=_COMMON_HELP["model_config"]),
    train_config: Optional[str] = typer.Option(None, "--train-config",
                                               help=_COMMON_HELP["train_config"]),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
):
    """Train on automata: a generated set of random synchronizing automata (default:
    50k 7-state binary ones) or a data set file."""
    command = _command_line("train automata", dict(locals()))
    from seqvae.device import resolve_device
    from seqvae.hunt.datasets import build_automata_dataset
    from seqvae.hunt.domain import AutomataDomain
    from seqvae.hunt.tokenizer import AutomatonTokenizer

    limit = parse_time_limit(time_limit)
    set_threads(threads)
    dev = resolve_device(device)
    out = out or Path(f"runs/automata-{n_states}x{n_letters}")
    model_over = _parse_json_option(model_config, "--model-config")
    if d_z is not None:
        model_over["d_z"] = d_z
    train_over = _train_overrides(epochs, batch_size, lr, seed, max_steps, kl_schedule,
                                  free_bits, checkpoint_every, patience, train_config)
    if resume:
        cfg = _read_run_config(out)
        from seqvae.domains import domain_from_dict

        _run_training(None, domain_from_dict(cfg["domain"]), out, {},
                      _resume_overrides(epochs, max_steps, checkpoint_every, patience), True, {},
                      quiet, command, device=dev, time_limit=limit)
        return
    if data is not None:
        domain, items, info = AutomataDomain.training_set(data)
    else:
        if count < 10:
            raise InputError("--count must be at least 10")
        with progress_bar(transient=True) as bar:
            # under torchrun every rank builds the same set; only rank 0 shows it
            task = bar.add_task("data set", total=count, status="",
                                visible=os.environ.get("RANK", "0") == "0" and not quiet)
            df = build_automata_dataset(n_states, n_letters, count, seed,
                                        progress=lambda k: bar.advance(task, k))
        domain = AutomataDomain(AutomatonTokenizer(n_states, n_letters))
        items = list(df["item"])
        info = {"source": "generated", "n_states": n_states, "n_letters": n_letters,
                "rows": len(df), "seed": seed}
    info["device"] = str(dev)
    _run_training(items, domain, out, model_over, train_over, False, info, quiet, command,
                  device=dev, time_limit=limit)


@train_app.command("strings")
@handle_errors
def train_strings(
    file: Path = typer.Argument(..., help="Strings: text (one per line), CSV or Parquet."),
    column: Optional[str] = typer.Option(None, "--column", help="Column of a CSV/Parquet file."),
    tokenizer: Optional[str] = typer.Option(None, "--tokenizer", help="regex (SMILES-like) or "
                                            "char (default: the data set's, else regex)."),
    validity: Optional[str] = typer.Option(None, "--validity",
                                           help="A registered validator name (e.g. smiles)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help=_COMMON_HELP["out"]),
    epochs: Optional[int] = typer.Option(None, "--epochs"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size"),
    lr: Optional[float] = typer.Option(None, "--lr"),
    seed: int = typer.Option(0, "--seed"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps"),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help=TIME_LIMIT_HELP),
    kl_schedule: Optional[str] = typer.Option(None, "--kl-schedule"),
    free_bits: Optional[float] = typer.Option(None, "--free-bits"),
    checkpoint_every: Optional[str] = typer.Option(None, "--checkpoint-every",
                                                   help=CHECKPOINT_EVERY_HELP),
    patience: Optional[int] = typer.Option(None, "--patience"),
    d_z: Optional[int] = typer.Option(None, "--d-z"),
    model_config: Optional[str] = typer.Option(None, "--model-config",
                                               help=_COMMON_HELP["model_config"]),
    train_config: Optional[str] = typer.Option(None, "--train-config",
                                               help=_COMMON_HELP["train_config"]),
    resume: bool = typer.Option(False, "--resume"),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Train on strings (e.g. SMILES), one item per line or a table column."""
    command = _command_line("train strings", dict(locals()))
    from seqvae.device import resolve_device
    from seqvae.domains import domain_from_dict
    from seqvae.strings import StringDomain

    limit = parse_time_limit(time_limit)
    set_threads(threads)
    dev = resolve_device(device)
    out = out or Path(f"runs/strings-{file.stem}")
    if resume:
        cfg = _read_run_config(out)
        _run_training(None, domain_from_dict(cfg["domain"]), out, {},
                      _resume_overrides(epochs, max_steps, checkpoint_every, patience), True, {},
                      quiet, command, device=dev, time_limit=limit)
        return
    if tokenizer not in (None, "regex", "char"):
        raise InputError(f"--tokenizer must be 'regex' or 'char', got {tokenizer!r}")
    domain, strings, info = StringDomain.training_set(file, column=column, tokenizer=tokenizer,
                                                      validity=validity)
    model_over = _parse_json_option(model_config, "--model-config")
    if d_z is not None:
        model_over["d_z"] = d_z
    train_over = _train_overrides(epochs, batch_size, lr, seed, max_steps, kl_schedule,
                                  free_bits, checkpoint_every, patience, train_config)
    info["device"] = str(dev)
    _run_training(strings, domain, out, model_over, train_over, False, info, quiet, command,
                  device=dev, time_limit=limit)


def _read_run_config(out: Path) -> dict:
    from seqvae.rundir import RunDir

    store = RunDir(out)
    if not store.has_config():
        raise InputError(f"nothing to resume in {out} (no run config)")
    return store.read_config()


def register(app: typer.Typer) -> None:
    """Attach ``train``, ``sample``, ``encode``, ``decode``, ``eval`` and ``fit-prior`` to the root app."""
    app.add_typer(train_app, name="train")
    app.command("sample")(sample_command)
    app.command("encode")(encode_command)
    app.command("decode")(decode_command)
    app.command("eval")(eval_command)
    app.command("fit-prior")(fit_prior_command)
