"""Bounds a SMILES string must keep before RDKit (or selfies) sees it.

RDKit parses branches recursively and its time grows with the square of the
chain length: one 40 KB line ``C(C(C(...`` (branch depth 20,000) kills the
process with a segmentation fault, and a 100 KB chain of ``C`` takes minutes.
No Python code can catch either. So every string is measured first, in one
linear pass over its characters, and a string over a bound is treated as an
invalid molecule (skipped and counted like any other), never parsed.

The defaults cover drug-like molecules with a wide margin: MOSES and ZINC
SMILES are under 120 characters with branch depth under 10 and at most a few
ring closures; ChEMBL's largest drug-like entries stay within a few hundred
characters. Peptides and polymers beyond them need larger bounds: pass a
:class:`SmilesLimits` of your own, or set :data:`DEFAULT_LIMITS` with
:func:`set_default_limits` in your program.
"""
from __future__ import annotations

from dataclasses import dataclass

from seqvae.molecules.chem.errors import ChemError

__all__ = ["SmilesLimits", "DEFAULT_LIMITS", "set_default_limits", "smiles_limit_reason"]


@dataclass(frozen=True)
class SmilesLimits:
    """Largest SMILES accepted: characters, branch nesting depth, ring-closure labels."""

    max_length: int = 1000
    max_branch_depth: int = 64
    max_ring_closures: int = 200

    def __post_init__(self):
        for name in ("max_length", "max_branch_depth", "max_ring_closures"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ChemError(f"{name} must be a positive integer, got {value!r}")


#: The bounds every parser of this package applies unless given others.
DEFAULT_LIMITS = SmilesLimits()


def set_default_limits(limits: SmilesLimits) -> None:
    """Make ``limits`` the bounds of every later parse in this process."""
    global DEFAULT_LIMITS
    if not isinstance(limits, SmilesLimits):
        raise ChemError("expected a SmilesLimits")
    DEFAULT_LIMITS = limits


def smiles_limit_reason(smiles: str, limits: SmilesLimits | None = None) -> str | None:
    """Why ``smiles`` is over a bound (one short phrase), or None when it is within all.

    Ring closures are counted outside bracket atoms (``[13CH3]`` holds no label);
    ``%nn`` counts once.

    >>> smiles_limit_reason("CC(C)C1CC1") is None
    True
    >>> smiles_limit_reason("C" * 2000)
    'over the length limit (2000 > 1000 characters)'
    >>> smiles_limit_reason("C(" * 100 + "C" + ")" * 100)
    'over the branch depth limit (100 > 64)'
    """
    limits = DEFAULT_LIMITS if limits is None else limits
    if len(smiles) > limits.max_length:
        return f"over the length limit ({len(smiles)} > {limits.max_length} characters)"
    depth = deepest = closures = 0
    in_bracket = False
    skip_digits = 0
    for ch in smiles:
        if in_bracket:
            in_bracket = ch != "]"
        elif skip_digits:
            skip_digits -= 1
        elif ch == "[":
            in_bracket = True
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
        elif ch == "%":
            closures += 1
            skip_digits = 2
        elif ch.isdigit():
            closures += 1
    if deepest > limits.max_branch_depth:
        return f"over the branch depth limit ({deepest} > {limits.max_branch_depth})"
    if closures > limits.max_ring_closures:
        return f"over the ring-closure limit ({closures} > {limits.max_ring_closures})"
    return None
