"""The MOSES benchmark of a trained molecule run (``seqvae bench moses``).

Prior samples of the run, decoded by its point decoder (the command line sets the
domain's default: valid-first beam search under the SMILES grammar), are scored
with :func:`seqvae.molecules.chem.metrics.moses_metrics` against the two MOSES
reference sets, **test** and **scaffold test** (:mod:`.chem.moses_data`; fetched by
``python scripts/fetch_moses.py``), as in Table 2 of the MOSES paper (Polykovskiy
et al. 2020): validity, unique@1k / @10k, FCD, SNN, Frag and Scaf against each
set, IntDiv1/2, Filters and Novelty.

Two choices differ from the MOSES scripts and are written into the result:
novelty is measured against the run's own training molecules (``novelty_reference``)
rather than the 1.6 M MOSES training set, which is what the model learnt from
only when the run was trained on all of it; and ``fcd_reference`` may cap the
reference molecules of the FCD (a seeded random subset). Without that cap, the
ChemNet statistics of each whole split are computed by the first benchmark and kept
beside the data (``<split>_chemnet.npz``), so a later benchmark pays only for its
own samples.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np

from seqvae.errors import DataError

__all__ = ["MOSES_TABLE", "moses_benchmark", "moses_rows"]

#: The paper's columns, in its order: (column title, key of the result).
MOSES_TABLE = (
    ("Valid", "validity"), ("Unique@1k", "unique@1000"), ("Unique@10k", "unique@10000"),
    ("FCD/Test", "fcd"), ("FCD/TestSF", "fcd_testsf"),
    ("SNN/Test", "snn"), ("SNN/TestSF", "snn_testsf"),
    ("Frag/Test", "frag"), ("Frag/TestSF", "frag_testsf"),
    ("Scaf/Test", "scaf"), ("Scaf/TestSF", "scaf_testsf"),
    ("IntDiv", "intdiv1"), ("IntDiv2", "intdiv2"), ("Filters", "filters"),
    ("Novelty", "novelty"),
)

#: Steps reported to ``progress`` by :func:`moses_benchmark`.
MOSES_STEPS = ("reference sets", "sampling", "metrics", "FCD/Test", "FCD/TestSF")


def _finite(value):
    """JSON has no NaN: a NaN or infinite float becomes None (Scaf of ring-free samples)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fcd_subset(smiles: list[str], cap: int | None, seed: int) -> list[str]:
    """A seeded random subset of at most ``cap`` reference molecules (all when None)."""
    if cap is None or cap >= len(smiles):
        return smiles
    pick = np.random.default_rng(seed).choice(len(smiles), size=cap, replace=False)
    return [smiles[i] for i in sorted(pick)]


def moses_benchmark(run, *, samples: int = 30000, seed: int = 0, cache_dir=None,
                    fcd: bool = True, fcd_reference: int | None = None,
                    progress: Callable[[int, str], None] | None = None) -> dict:
    """The MOSES metrics of ``samples`` prior decodes of a molecule run.

    Parameters
    ----------
    run : seqvae.runs.Run
        A molecule run, its point decoder already chosen (:meth:`~seqvae.runs.Run.use_decoding`).
    samples : int
        Prior samples (the MOSES paper uses 30,000; unique@10k needs 10,000).
    seed : int
        Seed of the prior samples and of the FCD reference subset.
    cache_dir : path or None
        Where the MOSES files are (:func:`~seqvae.molecules.chem.moses_data.moses_cache_dir`).
    fcd : bool
        Compute the Fréchet ChemNet Distances (needs the ``fcd`` package).
    fcd_reference : int or None
        At most this many reference molecules for each FCD (None: all of them).
    progress : callable or None
        ``progress(step, label)`` after each of the :data:`MOSES_STEPS`.

    Returns
    -------
    dict
        Every key of :data:`MOSES_TABLE` (None where not computable), the
        ``*_n`` counts and filter notes of :func:`moses_metrics`, ``fcd_reason``
        / ``fcd_testsf_reason`` when an FCD is missing, and the provenance:
        ``samples``, ``seed``, ``decoding``, ``reference`` (molecules per split),
        ``fcd_reference``, ``novelty_reference``, ``seconds``.

    Raises
    ------
    ChemError
        The MOSES data is not in the cache (the message names the fetch script).
    DataError
        ``samples`` or ``fcd_reference`` below 1, or the run is not a molecule run.
    """
    from seqvae.molecules.chem import moses_metrics
    from seqvae.molecules.chem.filters import load_moses_filters
    from seqvae.molecules.chem.moses_data import moses_reference_set, moses_smiles
    from seqvae.molecules.evaluation import fcd_entry

    run.domain.require_molecular("bench moses", DataError)
    if isinstance(samples, bool) or int(samples) < 1:
        raise DataError(f"samples must be >= 1, got {samples!r}")
    if fcd_reference is not None and int(fcd_reference) < 1:
        raise DataError(f"fcd_reference must be >= 1, got {fcd_reference!r}")
    report = progress or (lambda step, label: None)
    t0 = time.perf_counter()
    # The references first: a missing download fails before minutes of sampling.
    splits = {}
    for split in ("test", "test_scaffolds"):
        splits[split] = (moses_smiles(split, cache_dir), moses_reference_set(split, cache_dir))
    report(1, MOSES_STEPS[0])
    parsed = run.sample(int(samples), seed=seed)
    # An undecodable sequence counts as an invalid molecule ("" is never valid).
    texts = [p.item if p.item is not None else "" for p in parsed]
    report(2, MOSES_STEPS[1])
    metrics = moses_metrics(texts, train=run.train_items, train_is_canonical=True,
                            test=splits["test"][1], test_scaffolds=splits["test_scaffolds"][1],
                            # the MCF and PAINS lists of the same MOSES folder as the test sets
                            filters=load_moses_filters(cache_dir=cache_dir))
    report(3, MOSES_STEPS[2])
    out = {key: _finite(metrics.get(key)) for _, key in MOSES_TABLE}
    for key in ("n_valid", "unique@1000_n", "unique@10000_n", "filters_mcf", "filters_pains",
                "filters_pains_only"):
        if key in metrics:
            out[key] = metrics[key]
    for step, (suffix, split) in enumerate((("", "test"), ("_testsf", "test_scaffolds")), 4):
        if fcd and fcd_reference is None:
            entry = _fcd_to_split(texts, split, cache_dir)
        elif fcd:
            entry = fcd_entry(texts, _fcd_subset(splits[split][0], fcd_reference, seed))
        else:
            entry = {"fcd": None, "fcd_reason": "not computed (--no-fcd)"}
        out[f"fcd{suffix}"] = _finite(entry["fcd"])
        if "fcd_reason" in entry:
            out[f"fcd{suffix}_reason"] = entry["fcd_reason"]
        report(step, MOSES_STEPS[step - 1])
    out.update({
        "samples": int(samples), "seed": int(seed), "decoding": run.decoding.to_dict(),
        "reference": {split: len(smiles) for split, (smiles, _) in splits.items()},
        "fcd_reference": None if fcd_reference is None else int(fcd_reference),
        "novelty_reference": f"the run's training molecules ({len(run.train_items)})",
        "seconds": round(time.perf_counter() - t0, 2),
    })
    return out


def _fcd_to_split(texts: list[str], split: str, cache_dir) -> dict:
    """The FCD entry of the samples against a whole MOSES split, through its ChemNet
    statistics cached beside the data (computed by the first benchmark that needs them)."""
    from seqvae.molecules.chem.chemnet import frechet_to_statistics
    from seqvae.molecules.chem.errors import ChemError
    from seqvae.molecules.chem.moses_data import moses_chemnet_statistics

    try:
        mu, sigma, molecules = moses_chemnet_statistics(split, cache_dir)
        value = frechet_to_statistics(texts, mu, sigma)
    except ChemError as exc:  # no fcd package, too few valid samples
        return {"fcd": None, "fcd_reason": " ".join(str(exc).split())}
    return {"fcd": _finite(value), "fcd_reference": molecules}


def moses_rows(result: dict, columns: Sequence[tuple[str, str]] = MOSES_TABLE
               ) -> list[tuple[str, str]]:
    """``(column, value)`` pairs of a result as the paper prints them (3 decimals, "-" for
    a missing value; FCD is a distance, lower is better, the others higher).

    >>> moses_rows({"validity": 0.5, "fcd": None}, (("Valid", "validity"), ("FCD/Test", "fcd")))
    [('Valid', '0.500'), ('FCD/Test', '-')]
    """
    rows = []
    for title, key in columns:
        value = result.get(key)
        rows.append((title, "-" if value is None else f"{float(value):.3f}"))
    return rows
