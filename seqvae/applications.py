"""The applications built into seqvae, and which module of each registers what.

The engine keeps registries by name (domains, tokenizers, validators, decoding
grammars, readers of string files). A run directory or a data set names the
entries it needs (``"automata"``, ``"automaton"``, ``"smiles"``); when a name is
not registered yet, the registry asks :func:`load_builtin`, which imports the one
module that registers it: an application's, or the engine's own string domain
(:mod:`seqvae.strings`, which builds on the registry it fills). The table below is fixed in code: a name
read from a file only selects among these modules, it never chooses what is
imported. The engine therefore never imports an application, and an
application is loaded only when something names it.
"""
from __future__ import annotations

import importlib

__all__ = ["APPLICATIONS", "BUILTIN", "load_builtin"]

#: The application packages: the automata hunt and molecules.
APPLICATIONS = ("seqvae.hunt", "seqvae.molecules")

#: kind -> registered name -> the module whose import registers it.
BUILTIN: dict[str, dict[str, str]] = {
    "domain": {"strings": "seqvae.strings", "automata": "seqvae.hunt.domain",
               "smiles": "seqvae.molecules.domain"},
    "tokenizer": {"automaton": "seqvae.hunt.tokenizer"},
    "validator": {"smiles": "seqvae.molecules.validity"},
    "grammar": {"smiles": "seqvae.molecules.grammar"},
    "strings_reader": {".smi": "seqvae.molecules.files", ".csv": "seqvae.molecules.files",
                       ".tsv": "seqvae.molecules.files"},
}


def load_builtin(kind: str, name: str) -> bool:
    """Import the application module that registers ``name`` among ``kind``; False when
    no built-in application has such an entry.

    >>> load_builtin("tokenizer", "automaton"), load_builtin("tokenizer", "nope")
    (True, False)
    """
    module = BUILTIN.get(kind, {}).get(name)
    if module is None:
        return False
    importlib.import_module(module)
    return True
