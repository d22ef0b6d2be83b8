"""Validity (and canonical-form) functions for string items, registered by name.

A run directory or a data-set sidecar is data: it may *name* a validator, and
the name is looked up here, in a dictionary filled only by code inside the
process. Nothing read from a file is ever imported or called by a dotted path,
so editing ``"validity"`` in a ``config.json`` to ``"os:system"`` gives an
:class:`UnknownValidatorError` and never a shell.

A user's own function is registered in Python before a run is loaded::

    register_validator("even_length", lambda s: len(s) % 2 == 0)

or handed over directly (``load_run(path, validity=func)``); on the command
line only registered names are accepted (``--validity smiles``).

Built-in names:

* ``smiles`` — RDKit parses the string (:func:`seqvae.molecules.chem.is_valid_smiles`);
  canonical form: RDKit canonical SMILES. RDKit is imported when the name is
  first resolved; without it :class:`~seqvae.molecules.chem.errors.ChemistryUnavailableError`
  names the ``chem`` extra.
* ``nonblank`` — the string has a character that is not white space.

>>> register_validator("upper_only", str.isupper)
>>> get_validator("upper_only").validity("AB")
True
>>> "upper_only" in validator_names()
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from seqvae.applications import BUILTIN, load_builtin
from seqvae.errors import DomainError

__all__ = ["Validator", "UnknownValidatorError", "register_validator", "register_validator_factory", "get_validator",
           "validator_names", "name_of"]

#: A validator name: a short identifier (letters, digits, ``_ - .``), never a path.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}\Z")


class UnknownValidatorError(DomainError):
    """A name that no validator was registered under (from a file or the command line)."""


@dataclass(frozen=True)
class Validator:
    """A registered validity function ``str -> bool`` and, optionally, a canonical-form
    function ``str -> str`` (the key for uniqueness and novelty)."""

    name: str
    validity: Callable[[str], bool]
    canonical: Callable[[str], str] | None = None


# name -> Validator, or name -> zero-argument factory for built-ins whose
# dependencies are imported only when first asked for.
_REGISTRY: dict[str, Validator | Callable[[], Validator]] = {}


def _check_name(name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DomainError(f"a validator name is a short identifier (letters, digits, _ - .), "
                          f"got {str(name)[:80]!r}")
    return name


def register_validator(name: str, validity: Callable[[str], bool],
                       canonical: Callable[[str], str] | None = None, *,
                       replace: bool = False) -> None:
    """Register ``validity`` (and optionally ``canonical``) under ``name``.

    Parameters
    ----------
    name
        A short identifier; it is what a run's ``config.json`` stores.
    validity
        ``str -> bool``; a string it rejects, or makes it raise, is invalid.
    canonical
        Optional ``str -> str``; the canonical form used as an item's key.
    replace
        Allow replacing an existing registration (otherwise a DomainError).

    >>> register_validator("has_digit", lambda s: any(c.isdigit() for c in s))
    >>> get_validator("has_digit").validity("a1")
    True
    """
    _check_name(name)
    if not callable(validity) or (canonical is not None and not callable(canonical)):
        raise DomainError(f"validator {name!r}: validity and canonical must be callables")
    if name in _REGISTRY and not replace:
        raise DomainError(f"a validator named {name!r} is already registered "
                          "(pass replace=True to replace it)")
    _REGISTRY[name] = Validator(name, validity, canonical)


def get_validator(name: str) -> Validator:
    """The validator registered under ``name``.

    Raises
    ------
    UnknownValidatorError
        When no validator has that name (nothing is imported to look for one).
    ChemistryUnavailableError
        For ``smiles`` when RDKit is missing.

    >>> get_validator("nonblank").validity("  ")
    False
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownValidatorError(
            f"no validator named {str(name)[:80]!r} is registered (known: {known}); register "
            "it with seqvae.validators.register_validator before loading, or load without it "
            "(--no-validity, or validity=None)")
    entry = _REGISTRY[name]
    if not isinstance(entry, Validator):
        entry = entry()
        _REGISTRY[name] = entry
    return entry


def validator_names() -> list[str]:
    """The registered names, sorted.

    >>> "smiles" in validator_names()
    True
    """
    return sorted(_REGISTRY)


def name_of(func: Callable | None, part: str = "validity") -> str | None:
    """The name ``func`` is registered under as ``part`` ("validity" or "canonical"), or None.

    A function that is not registered has no name a file could store.

    >>> name_of(get_validator("nonblank").validity)
    'nonblank'
    >>> name_of(len) is None
    True
    """
    if func is None:
        return None
    for name, entry in _REGISTRY.items():
        if isinstance(entry, Validator) and getattr(entry, part) is func:
            return name
    return None


def _nonblank(text: str) -> bool:
    return bool(str(text).strip())


def register_validator_factory(name: str, factory: Callable[[], Validator]) -> None:
    """Register ``factory``, called once when ``name`` is first looked up (an application
    whose validator needs an optional package imports it only then)."""
    _REGISTRY[_check_name(name)] = factory


def _application_entry(name: str) -> Callable[[], Validator]:
    """A placeholder for a built-in validator of an application: importing the application
    module replaces it with the real factory (:mod:`seqvae.applications`)."""
    def load() -> Validator:
        load_builtin("validator", name)
        factory = _REGISTRY[name]
        return factory() if factory is not load else Validator(name, _nonblank)
    return load


_REGISTRY["nonblank"] = Validator("nonblank", _nonblank)
for _name in BUILTIN["validator"]:
    _REGISTRY[_name] = _application_entry(_name)
