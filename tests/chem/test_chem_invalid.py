"""Why a SMILES string is invalid: one reason per string, in the documented order."""
from __future__ import annotations

import pytest

pytest.importorskip("rdkit")

from seqvae.molecules.chem.invalid import INVALID_REASONS, invalid_reason, invalid_reason_counts  # noqa: E402


@pytest.mark.parametrize("smiles,reason", [
    ("C1CC1", None), ("c1ccc[nH]1", None), ("[13CH3]C", None),
    ("CC)", "parentheses"), ("C(C", "parentheses"),
    ("C1CC", "ring_open"), ("[13CH3]1CC", "ring_open"),   # digits in brackets are no labels
    ("CC=", "syntax"), ("C1C1", "syntax"), ("C12CC12", "syntax"), ("[Xx]", "syntax"),
    ("c1cccc1", "kekulize"), ("c1cccn1", "kekulize"),
    ("N(C)(C)(C)C", "valence"), ("  ", "empty"),
])
def test_each_string_gets_its_reason(smiles, reason):
    assert invalid_reason(smiles) == reason


def test_counts_follow_the_reason_order_and_skip_valid_strings():
    counts = invalid_reason_counts(["CCO", "c1cccc1", "C1CC", "CC)", "C1CC"])
    assert counts == {"parentheses": 1, "ring_open": 2, "kekulize": 1}
    assert list(counts) == [r for r in INVALID_REASONS if r in counts]
