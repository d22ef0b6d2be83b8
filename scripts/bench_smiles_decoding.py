"""Decoders of a SMILES run side by side: validity, diversity, novelty, reconstruction, time.

For every prior (``--priors``) and point decoder (``--decoders``) it decodes
``--samples`` prior points and prints one row: validity, unique@10000 (over what
there is when fewer samples), novelty against the training molecules, IntDiv1,
FCD against ``--items`` random held-out molecules (the ``fcd`` package;
``--no-fcd`` skips it), held-out reconstruction with the same decoder (exact
token match of the decode of the encoder mean, on ``--items`` random held-out
molecules; it does not depend on the prior, so it is measured once per decoder),
seconds per 1,000 decodes (prior and reconstruction), and why the invalid ones
fail (:mod:`seqvae.molecules.chem.invalid`).

A decoder is written ``greedy`` or ``beamW`` (W beams), then any of ``+grammar``
(the SMILES grammar constraint, :mod:`seqvae.molecules.grammar`) and
``+valid-first`` (beam only: the best finished beam RDKit accepts; a decode-time
filter, which is why diversity and novelty are printed beside validity).

    python scripts/bench_smiles_decoding.py RUN [--samples 2000] [--items 1000]
        [--decoders greedy,greedy+grammar,beam5,beam5+grammar+valid-first]
        [--priors standard:1,fitted:1,fitted:0.5] [--json FILE]

The machine may be shared: timings are noisy.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from automata.atomic import atomic_write_text
from seqvae.errors import SeqVAEError
from seqvae.evaluate import _reconstruction, _token_ids, sample_items
from seqvae.runs import load_molecule_runs

DEFAULT_DECODERS = ("greedy,greedy+grammar,beam5,beam10,beam5+grammar,beam5+valid-first,"
                    "beam5+grammar+valid-first,beam10+grammar+valid-first")


class UsageError(Exception):
    """A bad command-line value (one line on stderr, exit 2)."""


def parse_decoder(text: str) -> dict:
    """Keyword arguments of ``Run.use_decoding`` for ``greedy`` / ``beamW`` + flags.

    >>> parse_decoder("beam10+grammar+valid-first")
    {'method': 'beam', 'beam_width': 10, 'grammar': True, 'valid_first': True}
    >>> parse_decoder("greedy")
    {'method': 'greedy', 'beam_width': 8, 'grammar': False, 'valid_first': False}
    """
    head, *flags = text.strip().split("+")
    if head == "greedy":
        out = {"method": "greedy", "beam_width": 8}
    elif head.startswith("beam") and head[4:].isdigit():
        out = {"method": "beam", "beam_width": int(head[4:])}
    else:
        raise UsageError(f"bad decoder {text!r}: start with greedy or beamW (e.g. beam5)")
    unknown = set(flags) - {"grammar", "valid-first"}
    if unknown:
        raise UsageError(f"bad decoder {text!r}: unknown flag {sorted(unknown)[0]!r} "
                         "(grammar, valid-first)")
    out["grammar"] = "grammar" in flags
    out["valid_first"] = "valid-first" in flags
    return out


def parse_prior(text: str) -> tuple[str, float]:
    """``name:scale`` (``standard:1``, ``fitted:0.5``).

    >>> parse_prior("fitted:0.5")
    ('fitted', 0.5)
    """
    name, _, scale = text.strip().partition(":")
    try:
        return name, float(scale or 1.0)
    except ValueError:
        raise UsageError(f"bad prior {text!r}: write NAME:SCALE, e.g. fitted:0.5") from None


def measure(run, settings: dict, *, samples: int, seed: int, reference: list[str],
            fcd: bool) -> dict:
    """One row: the prior decodes' metrics under ``settings`` (the run's prior as set)."""
    from seqvae.molecules.chem import moses_metrics
    from seqvae.molecules.chem.invalid import invalid_reason_counts
    from seqvae.molecules.evaluation import fcd_entry

    run.use_decoding(**settings)
    z = run.sample_prior(samples, seed=seed)
    t0 = time.perf_counter()
    parsed = run.decode_parsed(z, seed=seed)
    seconds = time.perf_counter() - t0
    texts = [p.item if p.item is not None else "" for p in parsed]
    m = moses_metrics(texts, train=run.train_items, train_is_canonical=True, ks=(10000,))
    row = {"validity": m["validity"], "unique@10000": m.get("unique@10000"),
           "unique_n": m.get("unique@10000_n", samples), "novelty": m.get("novelty"),
           "intdiv1": m.get("intdiv1"), "seconds_per_1000": 1000 * seconds / samples,
           "invalid": invalid_reason_counts([t for t, p in zip(texts, parsed) if not p.ok])}
    row.update(fcd_entry(texts, reference) if fcd else {"fcd": None})
    return row


def reconstruction_row(run, settings: dict, ref_ids: list) -> dict:
    run.use_decoding(**settings)
    t0 = time.perf_counter()
    exact = _reconstruction(run, ref_ids)
    return {"reconstruction": exact,
            "recon_seconds_per_1000": 1000 * (time.perf_counter() - t0) / max(len(ref_ids), 1)}


def _fmt(v, width: int) -> str:
    text = "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
    return f"{text:>{width}}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory of `seqvae train smiles` (SMILES tokens)")
    parser.add_argument("--samples", type=int, default=2000, help="prior decodes per row")
    parser.add_argument("--items", type=int, default=1000,
                        help="random held-out molecules (reconstruction, FCD reference)")
    parser.add_argument("--decoders", default=DEFAULT_DECODERS,
                        help="comma-separated: greedy or beamW, then +grammar, +valid-first")
    parser.add_argument("--priors", default="standard:1",
                        help="comma-separated NAME:SCALE (standard or fitted; fitted needs "
                             "`seqvae fit-prior RUN`)")
    parser.add_argument("--no-fcd", action="store_true", help="skip the FCD column")
    parser.add_argument("--no-reconstruction", action="store_true",
                        help="skip the reconstruction columns")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_out", default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    try:
        if args.samples < 1 or args.items < 1 or args.threads < 1:
            raise UsageError("--samples, --items and --threads must be >= 1")
        decoders = [(d.strip(), parse_decoder(d)) for d in args.decoders.split(",") if d.strip()]
        priors = [parse_prior(p) for p in args.priors.split(",") if p.strip()]
        if not decoders or not priors:
            raise UsageError("give at least one decoder and one prior")
        run, = load_molecule_runs([args.run], "the decoding benchmark")
        for name, settings in decoders:
            run.use_decoding(**settings)  # fails early on a grammar the run has none of
        for name, scale in priors:
            run.use_prior(name, scale)
    except (UsageError, SeqVAEError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    heldout = sample_items(list(run.heldout_items), args.items, args.seed)
    reference = [str(s) for s in heldout]
    ref_ids = _token_ids(run, heldout)  # canonicalised and tokenized once for every decoder
    recon = {}
    rows = []
    print(f"run: {args.run}; {args.samples} prior samples a row, {len(heldout)} random held-out "
          f"molecules (reconstruction, FCD reference), {args.threads} thread(s), seed {args.seed}")
    head = (f"{'prior':<12}{'decoder':<28}{'valid':>7}{'uniq':>7}{'novel':>7}{'IntDiv1':>8}"
            f"{'FCD':>7}{'recon':>7}{'s/1k':>7}{'rec s/1k':>9}  invalid (why)")
    print(head)
    for prior, scale in priors:
        run.use_prior(prior, scale)
        for name, settings in decoders:
            if name not in recon and not args.no_reconstruction:
                recon[name] = reconstruction_row(run, settings, ref_ids)
            row = {"prior": f"{prior}:{scale:g}", "decoder": name,
                   **measure(run, settings, samples=args.samples, seed=args.seed,
                             reference=reference, fcd=not args.no_fcd),
                   **recon.get(name, {})}
            rows.append(row)
            why = ", ".join(f"{k} {v}" for k, v in row["invalid"].items())
            print(f"{row['prior']:<12}{name:<28}{_fmt(row['validity'], 7)}"
                  f"{_fmt(row['unique@10000'], 7)}{_fmt(row['novelty'], 7)}"
                  f"{_fmt(row['intdiv1'], 8)}{_fmt(row['fcd'], 7)}"
                  f"{_fmt(row.get('reconstruction'), 7)}{_fmt(row['seconds_per_1000'], 7)}"
                  f"{_fmt(row.get('recon_seconds_per_1000'), 9)}  {why}", flush=True)
    if args.json_out:
        atomic_write_text(args.json_out, json.dumps(
            {"run": args.run, "samples": args.samples, "items": len(heldout),
             "seed": args.seed, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
