"""Why a SMILES string is not a molecule: one reason per string, for decode diagnostics.

The reasons, checked in this order:

``empty``
    Nothing to parse.
``parentheses``
    A ``)`` without its ``(``, or a branch left open.
``ring_open``
    A ring-closure label used an odd number of times (a ring opened, never closed).
``syntax``
    Any other string RDKit's SMILES parser refuses.
``kekulize``
    Parsed, but an aromatic system has no Kekulé structure.
``valence``
    Parsed, but an atom has more bonds than its valence allows.
``other``
    Parsed, but another sanitisation step fails.

A valid molecule gives None.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from seqvae.molecules.chem.limits import smiles_limit_reason
from seqvae.molecules.chem.rdkit_support import quiet_rdkit, require_rdkit
from seqvae.tokenizers import SMILES_PATTERN

__all__ = ["INVALID_REASONS", "invalid_reason", "invalid_reason_counts"]

INVALID_REASONS = ("empty", "too_large", "parentheses", "ring_open", "syntax", "kekulize", "valence",
                   "other")

# The SMILES tokens: bracket atoms come whole, so that digits inside them ([13C],
# [nH2]) are not ring labels.
_TOKENS = re.compile(SMILES_PATTERN)


def _syntax_reason(smiles: str) -> str:
    depth = 0
    labels: Counter = Counter()
    for tok in _TOKENS.findall(smiles):
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                return "parentheses"
        elif tok[0] == "%" or tok.isdigit():
            labels[tok] += 1
    if depth:
        return "parentheses"
    if any(n % 2 for n in labels.values()):
        return "ring_open"
    return "syntax"


def invalid_reason(smiles: str) -> str | None:
    """The reason ``smiles`` is not a valid molecule (:data:`INVALID_REASONS`), or None.

    >>> [invalid_reason(s) for s in ["CCO", "CC(C", "C1CC", "c1cccc1", "C(C)(C)(C)(C)C", ""]]
    [None, 'parentheses', 'ring_open', 'kekulize', 'valence', 'empty']
    """
    Chem = require_rdkit()
    if not smiles.strip():
        return "empty"
    if smiles_limit_reason(smiles) is not None:
        return "too_large"  # never handed to RDKit (chem.limits)
    with quiet_rdkit():
        try:
            mol = Chem.MolFromSmiles(smiles, sanitize=False)
        except Exception:  # noqa: BLE001 - RDKit raises odd types on pathological input
            mol = None
        if mol is None:
            return _syntax_reason(smiles)
        problems = [p.GetType() for p in Chem.DetectChemistryProblems(mol)]
        if not problems:
            return None if Chem.MolFromSmiles(smiles) is not None else "other"
    if any("Kekulize" in p for p in problems):
        return "kekulize"
    if any("Valence" in p for p in problems):
        return "valence"
    return "other"


def invalid_reason_counts(smiles: Iterable[str]) -> dict[str, int]:
    """How many of ``smiles`` fail for each reason (valid ones are not counted).

    >>> invalid_reason_counts(["CCO", "C1CC", "C1CC"])
    {'ring_open': 2}
    """
    counts = Counter(invalid_reason(s) for s in smiles)
    return {r: counts[r] for r in INVALID_REASONS if counts[r]}
