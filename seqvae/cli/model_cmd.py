"""``seqvae train`` / ``sample`` / ``encode`` / ``decode`` / ``eval`` / ``fit-prior``: the
model on the command line.

Thin: parse options, call :mod:`seqvae.runs` and
:mod:`seqvae.evaluate`, draw progress on stderr, print results on stdout.
Under ``torchrun`` (WORLD_SIZE > 1) ``seqvae train`` trains with DDP and only
rank 0 writes and prints.

Most of the length is typer option declarations (two training commands share
a dozen options each); the bodies are short.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
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
    try:
        if text.endswith("s"):
            seconds = float(text[:-1])
            if not 0 < seconds < float("inf"):
                raise ValueError
            return {"checkpoint_seconds": seconds}
        steps = int(text)
        if steps < 0:
            raise ValueError
        return {"checkpoint_every": steps}
    except ValueError:
        raise InputError(f"--checkpoint-every must be steps (500) or seconds (30s), got "
                         f"{text[:40]!r}") from None


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
                  device=None, properties=None) -> None:
    from seqvae.rundir import RunDir
    from seqvae.runs import train
    from seqvae.train import init_distributed

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
                        split=split, device=device, properties=properties)
        except KeyboardInterrupt:
            if rank == 0:
                err_console.print(f"interrupted: checkpoint written to {store.checkpoint_path}; "
                                  "continue with --resume", style="yellow")
            raise typer.Exit(130) from None
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
                      quiet, command, device=dev)
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
                  device=dev)


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

    set_threads(threads)
    dev = resolve_device(device)
    out = out or Path(f"runs/strings-{file.stem}")
    if resume:
        cfg = _read_run_config(out)
        _run_training(None, domain_from_dict(cfg["domain"]), out, {},
                      _resume_overrides(epochs, max_steps, checkpoint_every, patience), True, {},
                      quiet, command, device=dev)
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
                  device=dev)


def _read_run_config(out: Path) -> dict:
    from seqvae.rundir import RunDir

    store = RunDir(out)
    if not store.has_config():
        raise InputError(f"nothing to resume in {out} (no run config)")
    return store.read_config()


NO_VALIDITY_HELP = ("Strings runs: load without the validity and canonical functions the run "
                    "names (e.g. one that is not registered in this process).")


PRIOR_HELP = ("Where latent points come from: 'standard' is z ~ N(0, I); 'fitted' is the "
              "Gaussian mixture fitted to the run's encoded training items by `seqvae "
              "fit-prior RUN` (it lands where encoded molecules lie, so more samples decode "
              "to valid items; check novelty beside validity).")
PRIOR_SCALE_HELP = ("Standard deviations of the prior times this (1: the prior itself; below 1 "
                    "samples nearer its mode(s): more valid, fewer new and less diverse items).")
DECODE_HELP = ("Point decoder of the reconstruction, prior-sample and MOSES metrics: 'greedy' "
               "(the default) or 'beam' (--beam-width beams, the best-scoring one wins).")
BEAM_WIDTH_HELP = "Beams per latent point of beam search."
GRAMMAR_HELP = ("Decode under the tokenizer's grammar (SMILES runs: branches and ring labels "
                "always closed, within the length limit) instead of the plain constraint.")
VALID_FIRST_HELP = ("Beam search only: return the best finished beam that is a valid item "
                    "(RDKit for molecules), the best beam when none is. A decode-time filter: "
                    "check diversity and novelty beside validity.")


def _check_method(method: str, grammar: bool, unconstrained: bool) -> None:
    """``--method`` of sample/decode, and ``--grammar`` only on constrained decodes."""
    from seqvae.decode import METHODS

    if method not in METHODS:
        raise InputError(f"--method must be {', '.join(METHODS[:-1])} or {METHODS[-1]}, "
                         f"got {method!r}")
    if grammar and unconstrained:
        raise InputError("--grammar is a decode constraint: drop --unconstrained")


def _use_decoding(run, method: str, beam_width: int, grammar: bool, valid_first: bool):
    """Set the run's point decoder from the command line; returns the run."""
    if valid_first and method != "beam":
        raise InputError("--valid-first needs beam search (--method beam / --decode beam)")
    if beam_width < 1:
        raise InputError("--beam-width must be >= 1")
    point = "beam" if method == "beam" else "greedy"
    return run.use_decoding(point, beam_width, grammar=grammar, valid_first=valid_first)


def _load(run_dir: Path, no_validity: bool = False):
    from seqvae.runs import STORED, load_run

    return load_run(run_dir, validity=None if no_validity else STORED)


def _item_text(run, parsed) -> Optional[str]:
    return run.domain.item_to_text(parsed.item) if parsed.item is not None else None


def _read_items(run, path: Path) -> list:
    """Items to encode: data sets (.parquet) or the domain's own files."""
    if not path.exists():
        raise FileNotFoundError(path)
    return run.domain.read_items(path)


STRICT_HELP = "Fail on the first item the run cannot encode (default: skip and count it)."


def _screened_items(run, path: Path, strict: bool):
    """The items of ``path`` the run can encode; the skipped ones are counted on stderr."""
    from seqvae.screening import screen_items

    screened = screen_items(run.domain, _read_items(run, path), strict=strict)
    if screened.n_skipped:
        err_console.print(f"{path}: {screened.summary()}", style="yellow", highlight=False)
    if not screened.items:
        raise InputError(f"{path}: no items the run can encode"
                         + (f" ({screened.summary()})" if screened.n_skipped else ""))
    return screened


def _write_latents(z, out: Optional[Path], as_json: bool, extra: dict) -> None:
    import numpy as np

    if out is not None:
        if out.suffix == ".npy":
            from automata.atomic import atomic_path

            with atomic_path(out) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, np.asarray(z, dtype=np.float32))
        else:
            from automata.atomic import atomic_write_text

            atomic_write_text(out, json.dumps({"z": np.asarray(z).tolist(), **extra}) + "\n")
        err_console.print(f"wrote {len(z)} latent points to {out}")
    if as_json or out is None:
        print_json({"z": np.asarray(z).tolist(), **extra})


def _check_npy_size(path: Path) -> None:
    """ValueError unless the .npy header asks for no more bytes than the file holds."""
    import numpy as np

    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(fh)
        need = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if need > path.stat().st_size - fh.tell():
            raise ValueError(f"the header declares {need} bytes, more than the file holds")


def _read_latents(path: Path, d_z: int):
    import numpy as np

    if not path.exists():
        raise FileNotFoundError(path)
    if path.suffix == ".npy":
        try:
            _check_npy_size(path)
            z = np.load(path, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - numpy's header parser raises many kinds
            raise InputError(f"{path}: not a numeric .npy file "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
                             ) from None
    else:
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, RecursionError, ValueError) as exc:
            raise InputError(f"{path}: not a JSON list of latent points "
                             f"({' '.join(str(exc).split())[:120]})") from None
        z = obj["z"] if isinstance(obj, dict) and "z" in obj else obj
        try:
            z = np.asarray(z, dtype=np.float32)
        except (TypeError, ValueError):
            raise InputError(f"{path}: latent points must be a list of number lists") from None
    z = np.asarray(z, dtype=np.float32)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != d_z:
        raise InputError(f"{path}: latent points must have shape (B, {d_z}), got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise InputError(f"{path}: latent points must be finite")
    return z


def _size_spec(n_states, n_letters) -> dict:
    spec = {}
    if n_states is not None:
        spec["n_states"] = n_states
    if n_letters is not None:
        spec["n_letters"] = n_letters
    return spec


def _print_parsed(run, parsed, as_json: bool, extra_rows=None,
                  output: Optional[Path] = None) -> None:
    rows = []
    for i, p in enumerate(parsed):
        row = {"ok": p.ok, "item": _item_text(run, p), "error": p.error}
        if extra_rows is not None:
            row.update(extra_rows[i])
        rows.append(row)
    if as_json and output is None:
        print_json(rows)
        return
    lines = [_plain_row(row) for row in rows]
    if output is None:
        sys.stdout.write("".join(line + "\n" for line in lines))
        return
    from automata.atomic import atomic_write_text

    atomic_write_text(output, "".join(line + "\n" for line in lines))
    err_console.print(f"wrote {len(lines)} items ({sum(r['ok'] for r in rows)} valid) to "
                      f"{escape(str(output))}", highlight=False)


def _plain_row(row: dict) -> str:
    """One line of plain-text output: the item, or a marked invalid decode with its text
    (never hidden, never mistaken for a valid item: it starts with '#')."""
    if row["ok"]:
        return row["item"]
    text = f" {row['item']}" if row["item"] is not None else ""
    return f"# invalid ({' '.join(str(row['error']).split())}):{text}"


@handle_errors
def sample_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    count: int = typer.Option(10, "--count", "-n", help="Samples from the prior."),
    method: str = typer.Option("greedy", "--method", help="greedy, sample or beam."),
    temperature: float = typer.Option(1.0, "--temperature"),
    unconstrained: bool = typer.Option(False, "--unconstrained",
                                       help="Decode without the well-formedness constraint."),
    n_states: Optional[int] = typer.Option(None, "--n-states", help="Force this size."),
    n_letters: Optional[int] = typer.Option(None, "--n-letters"),
    seed: int = typer.Option(0, "--seed"),
    score: bool = typer.Option(False, "--score", help="Add exact scores (automata)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the items to "
                                          "this file (one a line, invalid ones marked) "
                                          "instead of stdout."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    prior: str = typer.Option("standard", "--prior", help=PRIOR_HELP),
    prior_scale: float = typer.Option(1.0, "--prior-scale", help=PRIOR_SCALE_HELP),
    beam_width: int = typer.Option(8, "--beam-width", help=BEAM_WIDTH_HELP),
    grammar: bool = typer.Option(False, "--grammar", help=GRAMMAR_HELP),
    valid_first: bool = typer.Option(False, "--valid-first", help=VALID_FIRST_HELP),
):
    """Decode samples of the prior (z ~ N(0, I), or the run's fitted prior with --prior
    fitted) and print the items (one per line, or JSON); an invalid decode is shown as
    '# invalid: REASON: TEXT', never hidden."""
    set_threads(threads)
    if count < 1:
        raise InputError("--count must be >= 1")
    _check_method(method, grammar, unconstrained)
    run = use_device(_load(run_dir, no_validity), device).use_prior(prior, prior_scale)
    _use_decoding(run, method, beam_width, grammar, valid_first)
    parsed = run.sample(count, seed=seed, method=method, temperature=temperature,
                        constrained=not unconstrained, **_size_spec(n_states, n_letters))
    extra = None
    if score:
        scores = iter(run.domain.score_many([p.item for p in parsed if p.ok]))
        extra = [next(scores) if p.ok else {} for p in parsed]
    _print_parsed(run, parsed, as_json, extra, output)


@handle_errors
def encode_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    file: Path = typer.Argument(..., help="Items: automata file (text, compact, JSON), "
                                "data set (.parquet) or strings (one per line)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write latents (.npy or .json)."),
    as_json: bool = typer.Option(False, "--json", help="Also print JSON on stdout."),
    strict: bool = typer.Option(False, "--strict", help=STRICT_HELP),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
):
    """Encode items to their latent means (and log-variances in JSON).

    An item the run cannot encode (an unknown token, say) is skipped and counted on
    stderr; JSON output lists it under ``skipped`` and gives the input position of
    every row under ``index``. ``--strict`` fails on it instead."""
    set_threads(threads)
    run = _load(run_dir, no_validity)
    screened = _screened_items(run, file, strict)
    mu, logvar = run.encode(screened.items)
    extra = {"logvar": logvar.tolist()} if (as_json or out is None or out.suffix != ".npy") \
        else {}
    if screened.n_skipped and extra:
        extra.update(index=screened.index, skipped=screened.skipped,
                     n_skipped=screened.n_skipped)
    _write_latents(mu, out, as_json, extra)


@handle_errors
def decode_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    latents: Path = typer.Argument(..., help="Latent points: .npy (B, d_z) or JSON "
                                   "(a list of lists, or {\"z\": ...})."),
    method: str = typer.Option("greedy", "--method", help="greedy, sample or beam."),
    temperature: float = typer.Option(1.0, "--temperature"),
    beam_width: int = typer.Option(8, "--beam-width"),
    unconstrained: bool = typer.Option(False, "--unconstrained"),
    n_states: Optional[int] = typer.Option(None, "--n-states"),
    n_letters: Optional[int] = typer.Option(None, "--n-letters"),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    grammar: bool = typer.Option(False, "--grammar", help=GRAMMAR_HELP),
    valid_first: bool = typer.Option(False, "--valid-first", help=VALID_FIRST_HELP),
):
    """Decode latent points into items."""
    set_threads(threads)
    _check_method(method, grammar, unconstrained)
    run = _load(run_dir, no_validity)
    _use_decoding(run, method, beam_width, grammar, valid_first)
    z = _read_latents(latents, run.d_z)
    parsed = run.decode_parsed(z, method=method, temperature=temperature, beam_width=beam_width,
                               seed=seed, constrained=not unconstrained,
                               **_size_spec(n_states, n_letters))
    _print_parsed(run, parsed, as_json)


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
    decode: str = typer.Option("greedy", "--decode", help=DECODE_HELP),
    beam_width: int = typer.Option(8, "--beam-width", help=BEAM_WIDTH_HELP),
    grammar: bool = typer.Option(False, "--grammar", help=GRAMMAR_HELP),
    valid_first: bool = typer.Option(False, "--valid-first", help=VALID_FIRST_HELP),
):
    """Reconstruction, prior-sample quality, IWAE NLL, KL and active units (and the MOSES
    metrics for molecules), on a seeded random sample of --max-items evaluation items.
    The JSON's 'decoding' says which point decoder they used."""
    from seqvae.evaluate import evaluate

    set_threads(threads)
    if samples < 0:
        raise InputError("--samples must be >= 0")
    if decode not in ("greedy", "beam"):
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


def register(app: typer.Typer) -> None:
    """Attach ``train``, ``sample``, ``encode``, ``decode``, ``eval`` and ``fit-prior`` to the root app."""
    app.add_typer(train_app, name="train")
    app.command("sample")(sample_command)
    app.command("encode")(encode_command)
    app.command("decode")(decode_command)
    app.command("eval")(eval_command)
    app.command("fit-prior")(fit_prior_command)
