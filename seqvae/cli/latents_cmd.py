"""``seqvae sample`` / ``encode`` / ``decode``: between items and latent points.

``sample`` decodes draws of the prior, ``encode`` maps items to their latent
means, ``decode`` maps latent points (.npy or JSON) back to items. Invalid
decodes are printed marked, never hidden.
"""
from __future__ import annotations

import json
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
    set_threads,
)
from seqvae.cli._device import DEVICE_HELP, use_device
from seqvae.cli._run_options import (
    BEAM_WIDTH_HELP,
    GRAMMAR_HELP,
    METHOD_HELP,
    NO_VALIDITY_HELP,
    PRIOR_HELP,
    PRIOR_SCALE_HELP,
    STRICT_HELP,
    VALID_FIRST_HELP,
    _check_method,
    _load,
    _screened_items,
    _use_decoding,
)

__all__ = ["sample_command", "encode_command", "decode_command"]


def _item_text(run, parsed) -> Optional[str]:
    return run.domain.item_to_text(parsed.item) if parsed.item is not None else None


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
    """InputError unless the .npy header asks for no more bytes than the file holds."""
    import numpy as np

    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(fh)
        need = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if need > path.stat().st_size - fh.tell():
            raise InputError(f"{path}: not a numeric .npy file (the header declares {need} "
                             f"bytes, more than the file holds)")


def _read_latents(path: Path, d_z: int):
    import numpy as np

    if not path.exists():
        raise FileNotFoundError(path)
    if path.suffix == ".npy":
        try:
            _check_npy_size(path)
            z = np.load(path, allow_pickle=False)
        except InputError:
            raise
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
    if output.suffix.lower() in (".csv", ".sdf"):
        written = run.domain.write_decodes(rows, output)
        err_console.print(f"wrote {written} of {len(rows)} decodes "
                          f"({sum(r['ok'] for r in rows)} valid) to {escape(str(output))}",
                          highlight=False)
        return
    from automata.atomic import atomic_write_text

    atomic_write_text(output, "".join(line + "\n" for line in lines))
    err_console.print(f"wrote {len(lines)} items ({sum(r['ok'] for r in rows)} valid) to "
                      f"{escape(str(output))}", highlight=False)


def _plain_row(row: dict) -> str:
    """One line of plain-text output: the item, or ``# invalid: REASON: TEXT`` for an
    invalid decode (never hidden, never mistaken for a valid item: it starts with '#').

    >>> _plain_row({"ok": False, "item": "C1CC", "error": "ring_open"})
    '# invalid: ring_open: C1CC'
    >>> _plain_row({"ok": False, "item": None, "error": "no tokens"})
    '# invalid: no tokens'
    """
    if row["ok"]:
        return row["item"]
    reason = " ".join(str(row["error"] or "invalid").split())
    text = f": {' '.join(str(row['item']).split())}" if row["item"] is not None else ""
    return f"# invalid: {reason}{text}"


@handle_errors
def sample_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    count: int = typer.Option(10, "--count", "-n", help="Samples from the prior."),
    method: Optional[str] = typer.Option(None, "--method", "--decode", help=METHOD_HELP),
    temperature: float = typer.Option(1.0, "--temperature"),
    unconstrained: bool = typer.Option(False, "--unconstrained",
                                       help="Decode without the well-formedness constraint."),
    n_states: Optional[int] = typer.Option(None, "--n-states", help="Force this size."),
    n_letters: Optional[int] = typer.Option(None, "--n-letters"),
    seed: int = typer.Option(0, "--seed"),
    score: bool = typer.Option(False, "--score", help="Add exact scores (automata)."),
    as_json: bool = typer.Option(False, "--json", help="JSON on stdout."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the items to "
                                          "this file instead of stdout: FILE.csv is a table "
                                          "(molecules: with QED, logP, SA score and weight), "
                                          "FILE.sdf the valid molecules with those as SD "
                                          "tags, any other name one item a line (invalid "
                                          "ones marked)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    prior: str = typer.Option("standard", "--prior", help=PRIOR_HELP),
    prior_scale: float = typer.Option(1.0, "--prior-scale", help=PRIOR_SCALE_HELP),
    beam_width: Optional[int] = typer.Option(None, "--beam-width", help=BEAM_WIDTH_HELP),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar", help=GRAMMAR_HELP),
    valid_first: Optional[bool] = typer.Option(None, "--valid-first/--no-valid-first",
                                               help=VALID_FIRST_HELP),
):
    """Decode samples of the prior (z ~ N(0, I), or the run's fitted prior with --prior
    fitted) and print the items (one per line, or JSON); an invalid decode is shown as
    '# invalid: REASON: TEXT', never hidden (molecules: REASON is parentheses, ring_open,
    syntax, kekulize, valence, too_large...).

    SMILES runs decode by valid-first beam search under the SMILES grammar unless
    --method/--decode says otherwise (e.g. --decode greedy)."""
    set_threads(threads)
    if count < 1:
        raise InputError("--count must be >= 1")
    _check_method(method, grammar, unconstrained)
    run = use_device(_load(run_dir, no_validity), device).use_prior(prior, prior_scale)
    method = _use_decoding(run, method, beam_width, grammar, valid_first, unconstrained)
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
    file: Optional[Path] = typer.Argument(None, help="Items: automata file (text, compact, "
                                          "JSON), data set (.parquet), molecule file or "
                                          "strings (one per line)."),
    smiles: list[str] = typer.Option([], "--smiles", help="Molecule runs: encode this SMILES "
                                     "(repeatable) instead of a file."),
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
    if (file is None) == (not smiles):
        raise InputError("give a file of items or --smiles SMILES, not both"
                         if smiles else "give a file of items (or --smiles SMILES)")
    run = _load(run_dir, no_validity)
    if smiles:
        screened = _screened_smiles(run, smiles)
    else:
        screened = _screened_items(run, file, strict)
    mu, logvar = run.encode(screened.items)
    extra = {"logvar": logvar.tolist()} if (as_json or out is None or out.suffix != ".npy") \
        else {}
    if screened.n_skipped and extra:
        extra.update(index=screened.index, skipped=screened.skipped,
                     n_skipped=screened.n_skipped)
    _write_latents(mu, out, as_json, extra)


def _screened_smiles(run, smiles: list[str]):
    """``--smiles`` values as the run's items; every one must be a molecule the run encodes."""
    from seqvae.screening import screen_items

    if not getattr(run.domain, "molecular", False):
        raise InputError(f"--smiles needs a molecule run; this one is a "
                         f"{run.domain.name!r} run (give a file of items)")
    screened = screen_items(run.domain, smiles, max_tokens=run.model_config.max_len)
    if screened.n_skipped:
        raise InputError(f"--smiles: {screened.summary()}")
    return screened


@handle_errors
def decode_command(
    run_dir: Path = typer.Argument(..., help="Run directory."),
    latents: Path = typer.Argument(..., help="Latent points: .npy (B, d_z) or JSON "
                                   "(a list of lists, or {\"z\": ...})."),
    method: Optional[str] = typer.Option(None, "--method", "--decode", help=METHOD_HELP),
    temperature: float = typer.Option(1.0, "--temperature"),
    beam_width: Optional[int] = typer.Option(None, "--beam-width", help=BEAM_WIDTH_HELP),
    unconstrained: bool = typer.Option(False, "--unconstrained"),
    n_states: Optional[int] = typer.Option(None, "--n-states"),
    n_letters: Optional[int] = typer.Option(None, "--n-letters"),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
    no_validity: bool = typer.Option(False, "--no-validity", help=NO_VALIDITY_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help=THREADS_HELP),
    grammar: Optional[bool] = typer.Option(None, "--grammar/--no-grammar", help=GRAMMAR_HELP),
    valid_first: Optional[bool] = typer.Option(None, "--valid-first/--no-valid-first",
                                               help=VALID_FIRST_HELP),
):
    """Decode latent points into items (invalid ones as '# invalid: REASON: TEXT')."""
    set_threads(threads)
    _check_method(method, grammar, unconstrained)
    run = _load(run_dir, no_validity)
    method = _use_decoding(run, method, beam_width, grammar, valid_first, unconstrained)
    z = _read_latents(latents, run.d_z)
    parsed = run.decode_parsed(z, method=method, temperature=temperature,
                               seed=seed, constrained=not unconstrained,
                               **_size_spec(n_states, n_letters))
    _print_parsed(run, parsed, as_json)
