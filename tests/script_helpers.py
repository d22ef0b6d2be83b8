"""The scripts under ``scripts/`` loaded as modules, for the tests that run them."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str, module_name: str | None = None, *, register: bool = False) -> ModuleType:
    """A fresh module from ``scripts/NAME.py``, named ``module_name`` (default
    ``NAME_script``); with ``register`` it is put in ``sys.modules`` before it runs
    (dataclasses defined in it look their module up there)."""
    spec = importlib.util.spec_from_file_location(module_name or f"{name}_script",
                                                  SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
