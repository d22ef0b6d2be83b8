"""seqvae: sequence VAEs over discrete structures, aimed at synchronizing automata.

The public surface, importable from here::

    from seqvae import AutomataDomain, AutomatonTokenizer, train, load_run, evaluate

The engine lives in the top-level modules; the automata application in
:mod:`seqvae.hunt`, the molecules application in :mod:`seqvae.molecules`.

Everything that pulls in torch or pandas is imported on first use, so that
``import seqvae`` (and every command-line start) stays fast.
"""
__version__ = "0.2.0"

from seqvae.errors import (
    ConfigError,
    DataError,
    DecodeError,
    DecodingError,
    DomainError,
    EncodeError,
    LatentError,
    RunError,
    SearchError,
    SeqVAEError,
    TokenizerError,
    TrainingError,
)

_LAZY = {
    # the engine
    "ModelConfig": "config", "TrainConfig": "config",
    "CharTokenizer": "tokenizers", "RegexTokenizer": "tokenizers",
    "tokenizer_from_dict": "tokenizers",
    "Domain": "domains", "Parsed": "domains", "register_domain": "domains",
    "domain_from_dict": "domains", "domain_for_dataset": "domains",
    "StringDomain": "strings",
    "save_dataset": "data", "load_dataset": "data", "load_strings": "data",
    "SeqVAE": "model", "decode": "decode", "Trainer": "train", "RunDir": "rundir",
    "Run": "runs", "load_run": "runs", "train": "runs", "fine_tune": "runs",
    "evaluate": "evaluate", "latent_path": "latent", "refine": "latent",
    "run_interpolation": "interpolate", "run_attribute": "interpolate",
    "resolve_device": "device",
    # the automata application
    "AutomataDomain": "hunt.domain", "AutomatonTokenizer": "hunt.tokenizer",
    "build_automata_dataset": "hunt.datasets", "search_extreme": "hunt.search",
    # the molecules application
    "MoleculeDomain": "molecules.domain",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seqvae' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "__version__",
    "SeqVAEError", "ConfigError", "DataError", "TokenizerError", "EncodeError", "DecodeError",
    "DecodingError", "DomainError", "LatentError", "RunError", "TrainingError", "SearchError",
    *_LAZY,
]
