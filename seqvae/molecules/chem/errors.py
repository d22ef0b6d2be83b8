"""Errors of the chemistry package; all derive from :class:`seqvae.errors.SeqVAEError`.

* :class:`ChemError` — bad chemistry input (unreadable molecule file, empty set,
  unknown objective...).
* :class:`ChemistryUnavailableError` — RDKit or selfies is not installed; the
  message names the extra that brings them (``pip install 'seqvae[chem]'``).
* :class:`MoleculeFileError` — a molecule file cannot be read (or, in strict
  mode, has a malformed line).
"""
from __future__ import annotations

# The single place that ties this package to the seqvae error root.
from seqvae.errors import SeqVAEError

__all__ = ["ChemError", "ChemistryUnavailableError", "MoleculeFileError", "CHEM_EXTRA_HINT"]

#: What to install when a chemistry dependency is missing.
CHEM_EXTRA_HINT = "pip install 'seqvae[chem]'"


class ChemError(SeqVAEError):
    """Bad input to a chemistry function."""


class ChemistryUnavailableError(ChemError, ImportError):
    """A chemistry dependency (RDKit, selfies, fcd) is missing.

    It is an :class:`ImportError` too, so code that probes for optional
    packages with ``except ImportError`` keeps working.
    """


class MoleculeFileError(ChemError):
    """A molecule file cannot be read, or (strict mode) has a malformed line."""
