"""A property the user measured, as an objective of ``seqvae optimize``.

RDKit can score QED or logP for any molecule; an assay value, a solubility or a
docking score exists only for the molecules the user measured. To optimise one,
``optimize --properties FILE --objective COLUMN`` reads the molecules of FILE
(any molecule file the project reads: .smi with a header, .csv/.tsv, .sdf data
fields) with the numbers of COLUMN, encodes each molecule to its latent mean,
and fits a :class:`~seqvae.proposals.PropertyHead` (an MLP z -> value) on them.
A new molecule's value is that head's *prediction* at the latent mean of its
canonical SMILES: the search then treats it as any other term (alone, or in a
weighted sum with ``qed``, ``similarity``...).

A prediction is only as good as the head, so before the final fit on every
labelled molecule the head is fitted on a random 80 % and scored on the other
20 %: the Spearman correlation and R² on those held-out molecules go into the
result, and a reader sees at once whether the leaderboard's values mean anything.
Rows whose value is not a finite number, whose molecule is invalid, or which the
run cannot encode (a token outside its vocabulary, longer than its maximum) are
skipped and counted; a molecule measured twice keeps the mean of its values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from seqvae.errors import SearchError

__all__ = ["UserProperty", "read_property_values", "fit_user_property",
           "MIN_LABELLED", "HELDOUT_FRACTION"]

#: Fewer labelled molecules than this cannot give a head and a held-out check.
MIN_LABELLED = 10
#: The share of the labelled molecules kept out of the first fit to measure it.
HELDOUT_FRACTION = 0.2


def read_property_values(path: str | Path, column: str, *,
                         smiles_column: str | None = None) -> tuple[list[str], np.ndarray, dict]:
    """The canonical SMILES and values of ``column`` in a molecule file.

    Returns ``(smiles, values, report)``: one entry per distinct valid molecule with a
    finite value (repeats averaged); ``report`` counts ``rows``, ``no_value`` (empty or
    not a finite number), ``invalid`` molecules and ``repeated`` ones.

    Raises
    ------
    SearchError
        The file cannot be read, has no such column (the message lists the columns),
        or no row has both a valid molecule and a number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "assay.csv"
    >>> _ = path.write_text("smiles;pic50\\nOCC;5.0\\nCCO;6.0\\nc1ccccc1;n/a\\nC1C;7\\n")
    >>> smiles, values, report = read_property_values(path, "pic50")
    >>> smiles, values.tolist(), report["no_value"], report["invalid"], report["repeated"]
    (['CCO'], [5.5], 1, 1, 1)
    """
    from seqvae.molecules.chem.errors import ChemError
    from seqvae.molecules.chem.molfile import read_molecule_file
    from seqvae.molecules.chem.rdkit_support import canonical_smiles_many

    try:
        records = read_molecule_file(path, column=smiles_column, value_columns=(column,))
    except (ChemError, OSError) as exc:
        raise SearchError(f"--properties: {exc}") from None
    raw = records.values[column]
    if raw and all(v is None for v in raw) and records.format == "sdf":
        raise SearchError(f"--properties {path}: no record has a data field {column!r}")
    numbers = [_number(v) for v in raw]
    canonical = canonical_smiles_many(records.smiles)
    sums: dict[str, list[float]] = {}
    no_value = invalid = 0
    for smiles, value in zip(canonical, numbers):
        if value is None:
            no_value += 1
        elif smiles is None:
            invalid += 1
        else:
            sums.setdefault(smiles, []).append(value)
    report = {"file": str(path), "column": column, "rows": len(raw) + records.bad_lines
              + len(records.invalid_records), "bad_lines": records.bad_lines,
              "no_value": no_value, "invalid": invalid + len(records.invalid_records),
              "repeated": sum(len(v) - 1 for v in sums.values())}
    if not sums:
        raise SearchError(f"--properties {path}: no row has both a valid molecule and a "
                          f"number in column {column!r}")
    smiles = list(sums)
    return smiles, np.array([float(np.mean(sums[s])) for s in smiles]), report


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@dataclass
class UserProperty:
    """A measured property predicted for any molecule the run can encode.

    Call it on RDKit molecules (a goal term's signature) to get the head's
    predictions; a molecule the run cannot encode gets NaN, which the search treats
    as a molecule it may not keep.
    """

    name: str
    run: object
    head: object
    report: dict = field(default_factory=dict)

    def predict_smiles(self, smiles: Sequence[str]) -> np.ndarray:
        """The predicted values of canonical SMILES (NaN where the run cannot encode one)."""
        from seqvae.screening import screen_items

        out = np.full(len(smiles), np.nan)
        screened = screen_items(self.run.domain, list(smiles),
                                max_tokens=self.run.model_config.max_len)
        if screened.items:
            z, _ = self.run.encode(screened.items)
            predicted = dict(zip(screened.items, self.head.predict(z).astype(np.float64)))
            out[:] = [predicted.get(s, np.nan) for s in smiles]
        return out

    def __call__(self, mols: list) -> np.ndarray:
        from rdkit import Chem

        return self.predict_smiles([Chem.MolToSmiles(m) for m in mols])


def fit_user_property(run, smiles: Sequence[str], values: np.ndarray, name: str, *,
                      seed: int = 0, steps: int = 400, report: dict | None = None
                      ) -> UserProperty:
    """A head fitted on ``run``'s latent means of ``smiles`` to ``values``, with its
    held-out quality measured first (see the module docstring).

    Raises
    ------
    SearchError
        Fewer than :data:`MIN_LABELLED` molecules the run can encode, or values that
        are all equal (nothing to learn).
    """
    from seqvae.proposals import PropertyHead
    from seqvae.screening import screen_items

    screened = screen_items(run.domain, list(smiles), max_tokens=run.model_config.max_len)
    keep = set(screened.items)
    pairs = [(s, float(v)) for s, v in zip(smiles, values) if s in keep]
    report = dict(report or {})
    report["not_encodable"] = len(smiles) - len(pairs)
    if len(pairs) < MIN_LABELLED:
        raise SearchError(f"property {name!r}: {len(pairs)} labelled molecules the run can "
                          f"encode; at least {MIN_LABELLED} are needed to fit and check a head")
    y = np.array([v for _, v in pairs])
    if float(y.std()) == 0.0:
        raise SearchError(f"property {name!r}: every labelled molecule has the value {y[0]:g}; "
                          "there is nothing to learn")
    z, _ = run.encode([s for s, _ in pairs])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    n_test = max(2, int(round(HELDOUT_FRACTION * len(pairs))))
    test, train = order[:n_test], order[n_test:]
    check = PropertyHead(run.d_z, seed=seed)
    check.fit(z[train], y[train], steps=steps, seed=seed)
    predicted = check.predict(z[test]).astype(np.float64)
    report.update(labelled=len(pairs), heldout=int(n_test),
                  heldout_spearman=_spearman(predicted, y[test]),
                  heldout_r2=_r2(predicted, y[test]))
    head = PropertyHead(run.d_z, seed=seed)
    head.fit(z, y, steps=steps, seed=seed)
    return UserProperty(name, run, head, report)


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation (tied values share their mean rank); None when either
    side is constant."""
    import pandas as pd

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    value = pd.Series(a).corr(pd.Series(b), method="spearman")
    return None if not math.isfinite(value) else round(float(value), 4)


def _r2(predicted: np.ndarray, actual: np.ndarray) -> float | None:
    spread = float(((actual - actual.mean()) ** 2).sum())
    if spread == 0:
        return None
    return round(1.0 - float(((actual - predicted) ** 2).sum()) / spread, 4)
