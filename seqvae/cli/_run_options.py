"""What the commands that load a run share: loading it, its point decoder, its input items.

``seqvae sample``, ``encode``, ``decode``, ``eval`` and ``fit-prior`` load a run
the same way and set its decoder from the same options; the help texts of those
options live here so that every command describes them alike.
"""
from __future__ import annotations

from pathlib import Path

from seqvae.cli._common import InputError, err_console

__all__ = [
    "BEAM_WIDTH_HELP", "DECODE_HELP", "DEFAULTS_NOTE", "METHOD_HELP", "GRAMMAR_HELP", "NO_VALIDITY_HELP", "PRIOR_HELP",
    "PRIOR_SCALE_HELP", "STRICT_HELP", "VALID_FIRST_HELP",
]


NO_VALIDITY_HELP = ("Strings runs: load without the validity and canonical functions the run "
                    "names (e.g. one that is not registered in this process).")
PRIOR_HELP = ("Where latent points come from: 'standard' is z ~ N(0, I); 'fitted' is the "
              "Gaussian mixture fitted to the run's encoded training items by `seqvae "
              "fit-prior RUN` (it lands where encoded molecules lie, so more samples decode "
              "to valid items; check novelty beside validity).")
PRIOR_SCALE_HELP = ("Standard deviations of the prior times this (1: the prior itself; below 1 "
                    "samples nearer its mode(s): more valid, fewer new and less diverse items).")
DEFAULTS_NOTE = ("Default: beam search (8 beams) with --grammar and --valid-first for SMILES "
                 "runs, greedy otherwise.")
DECODE_HELP = ("Point decoder of the reconstruction, prior-sample and MOSES metrics: 'greedy' "
               "or 'beam' (--beam-width beams, the best-scoring one wins). " + DEFAULTS_NOTE)
METHOD_HELP = "greedy, sample or beam. " + DEFAULTS_NOTE
BEAM_WIDTH_HELP = "Beams per latent point of beam search (default 8)."
GRAMMAR_HELP = ("Decode under the tokenizer's grammar (SMILES runs: branches and ring labels "
                "always closed, within the length limit) instead of the plain constraint "
                "(default: on for SMILES runs, off otherwise).")
VALID_FIRST_HELP = ("Beam search only: return the best finished beam that is a valid item "
                    "(RDKit for molecules), the best beam when none is. A decode-time filter: "
                    "check diversity and novelty beside validity (default: on for SMILES runs "
                    "decoding by beam search).")


def _check_method(method: str | None, grammar: bool | None, unconstrained: bool) -> None:
    """``--method`` of sample/decode, and ``--grammar`` only on constrained decodes."""
    from seqvae.decode import METHODS

    if method is not None and method not in METHODS:
        raise InputError(f"--method must be {', '.join(METHODS[:-1])} or {METHODS[-1]}, "
                         f"got {method!r}")
    if grammar and unconstrained:
        raise InputError("--grammar is a decode constraint: drop --unconstrained")


def _domain_decoding(run) -> dict:
    """The decoder a run's domain asks for when the user names none (molecules: valid-first
    beam under the SMILES grammar); greedy for domains that ask for nothing."""
    plain = {"method": "greedy", "beam_width": 8, "grammar": False, "valid_first": False}
    ask = getattr(run.domain, "default_decoding", None)
    return {**plain, **(ask() if callable(ask) else {})}


def _use_decoding(run, method: str | None, beam_width: int | None, grammar: bool | None,
                  valid_first: bool | None, unconstrained: bool = False) -> str:
    """Set the run's point decoder from the command line; returns the decoding method.

    An option left out (None) takes the domain's default: a SMILES run decodes by beam
    search under the grammar, valid-first; naming another method drops valid-first
    (beam only) unless it is asked for, and ``--unconstrained`` drops the grammar."""
    defaults = _domain_decoding(run)
    method = defaults["method"] if method is None else method
    if beam_width is None:
        beam_width = defaults["beam_width"]
    if grammar is None:
        grammar = defaults["grammar"] and not unconstrained
    if valid_first is None:
        valid_first = defaults["valid_first"] and method == "beam"
    if valid_first and method != "beam":
        raise InputError("--valid-first needs beam search (--method beam / --decode beam)")
    if beam_width < 1:
        raise InputError("--beam-width must be >= 1")
    point = "beam" if method == "beam" else "greedy"
    run.use_decoding(point, beam_width, grammar=grammar, valid_first=valid_first)
    return method


def _load(run_dir: Path, no_validity: bool = False):
    from seqvae.runs import STORED, load_run

    return load_run(run_dir, validity=None if no_validity else STORED)


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
