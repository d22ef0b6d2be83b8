"""The MOSES metrics of a trained molecule run (what ``seqvae eval`` adds for molecules).

Prior samples z ~ N(0, I) (or the run's fitted prior) are decoded by the run's point
decoder (greedy unless :meth:`~seqvae.runs.Run.use_decoding` chose beam search;
constrained to well-formed token sequences) and handed, invalid ones included, to
:func:`seqvae.molecules.chem.metrics.moses_metrics`: validity, unique@1000 / @10000,
novelty against the run's training molecules, IntDiv1/2, the MCF/PAINS
filters, and Frag / Scaf / SNN against the evaluation molecules (the run's
held-out split or ``--data``), and the Fréchet ChemNet Distance (``fcd``) against
the same molecules when the ``fcd`` package is installed: its wheel carries the
ChemNet weights, so nothing is downloaded. Without it (or with ``fcd=False``)
``fcd`` is None and ``fcd_reason`` says why.
"""
from __future__ import annotations

import math
from typing import Sequence

from seqvae.errors import DataError

__all__ = ["MOSES_KEYS", "run_moses_metrics", "fcd_entry"]

#: The keys always present in :func:`run_moses_metrics` (None where not computable).
MOSES_KEYS = ("validity", "unique@1000", "unique@10000", "novelty", "intdiv1", "intdiv2",
              "filters", "frag", "scaf", "snn", "fcd")


def _finite_or_none(value):
    """``value`` unless it is a float NaN or infinity (then None).

    >>> _finite_or_none(float("nan")) is None, _finite_or_none(0.5)
    (True, 0.5)
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fcd_entry(generated: Sequence[str], reference: Sequence[str]) -> dict:
    """``{"fcd": value, "fcd_reference": n}``, or ``{"fcd": None, "fcd_reason": why}``.

    FCD is computed by the ``fcd`` package on the valid molecules of both sets;
    a missing package, no reference or too few valid molecules give None and the
    reason instead of an error, so the other metrics are still reported.

    >>> fcd_entry(["CCO", "CCN"], [])
    {'fcd': None, 'fcd_reason': 'no reference molecules'}
    """
    from seqvae.molecules.chem.chemnet import frechet_chemnet_distance
    from seqvae.molecules.chem.errors import ChemError

    if not reference:
        return {"fcd": None, "fcd_reason": "no reference molecules"}
    try:
        value = frechet_chemnet_distance(generated, reference)
    except ChemError as exc:  # ChemistryUnavailableError (no fcd package) is a ChemError
        return {"fcd": None, "fcd_reason": " ".join(str(exc).split())}
    return {"fcd": _finite_or_none(value), "fcd_reference": len(reference)}


def run_moses_metrics(run, reference: Sequence[str], *, samples: int = 10000,
                      seed: int = 0, fcd: bool = True) -> dict:
    """MOSES metrics of ``samples`` prior decodes of ``run`` (a molecule run).

    Parameters
    ----------
    run : seqvae.runs.Run
    reference : sequence of str
        Molecules (SMILES) for Frag, Scaf and SNN; empty: those are None.
    samples : int
        Prior samples (unique@10000 needs 10,000; fewer give ``unique@10000`` over
        what there is, with ``unique@10000_n`` saying how many).
    seed : int
    fcd : bool
        Compute the Fréchet ChemNet Distance to ``reference`` (:func:`fcd_entry`);
        False leaves ``fcd`` None with the reason.

    Returns
    -------
    dict
        :data:`MOSES_KEYS` plus ``moses_samples`` and ``moses_reference``
        (how many reference molecules), and ``fcd_reference`` or ``fcd_reason``.
    """
    from seqvae.molecules.chem import moses_metrics

    if samples < 1:
        raise DataError(f"samples must be >= 1, got {samples}")
    # The run's point decoder (greedy unless Run.use_decoding chose beam search).
    parsed = run.sample(int(samples), seed=seed)
    # An undecodable sequence counts as an invalid molecule ("" is never valid).
    texts = [p.item if p.item is not None else "" for p in parsed]
    reference = [str(s) for s in reference]
    metrics = moses_metrics(texts, train=run.train_items, train_is_canonical=True,
                            test=reference or None)
    # NaN (e.g. Scaf when no sample has a ring scaffold) becomes None: JSON has no NaN.
    out = {key: _finite_or_none(metrics.get(key)) for key in MOSES_KEYS}
    out.update(fcd_entry(texts, reference) if fcd
               else {"fcd": None, "fcd_reason": "not computed (--no-fcd)"})
    for key in ("unique@1000_n", "unique@10000_n", "filters_mcf", "filters_pains",
                "filters_pains_only"):
        if key in metrics:
            out[key] = metrics[key]
    out["moses_samples"] = int(samples)
    out["moses_reference"] = len(reference)
    return out
