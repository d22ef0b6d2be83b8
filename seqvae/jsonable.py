"""JSON for numpy scalars and arrays: the one ``default=`` hook every writer shares."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["json_default"]


def json_default(obj):
    """``json.dumps(..., default=json_default)``: numpy numbers, arrays and paths as plain JSON.

    >>> import json
    >>> json.dumps({"n": np.int64(3), "x": np.array([0.5])}, default=json_default)
    '{"n": 3, "x": [0.5]}'
    """
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")
