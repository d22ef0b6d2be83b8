"""Figures are written as real PNG files from plain data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automata import DFA
from seqvae import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    return width, height


def test_path_items_draws_automata_and_malformed_panels(tmp_path):
    items = [DFA([[1, 2, 0], [0, 0, 2]]), None, DFA([[1, 0, 0], [2, 0, 1]]), "not an automaton"]
    out = plots.plot_path_items(items, [0.0, 0.33, 0.67, 1.0], tmp_path / "path.png",
                                labels=["rt=2", "", "rt=4", ""], title="a path")
    w, h = _png_size(out)
    assert w > 2 * h  # a row of panels is wide
    five = plots.plot_path_items(items + items[:1], [0, 0.25, 0.5, 0.75, 1.0], tmp_path / "p5.png")
    assert _png_size(five)[0] > w
    with pytest.raises(ValueError):
        plots.plot_path_items(items, [0.0], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_path_grid_thins_long_paths(tmp_path):
    seen = []
    items = [f"s{i}" for i in range(10)]
    out = plots.plot_path_grid({"linear": (items, None), "polar": (items, [""] * 10)},
                               np.linspace(0, 1, 10), tmp_path / "grid.png", max_columns=4,
                               draw_item=lambda item, ax: seen.append(item))
    assert seen == ["s0", "s3", "s6", "s9"] * 2
    w, h = _png_size(out)
    assert h > 300
    with pytest.raises(ValueError):
        plots.plot_path_grid({"x": (items[:3], None)}, [0.0, 1.0], tmp_path / "bad.png")


def test_path_items_uses_a_custom_drawer(tmp_path):
    seen = []
    plots.plot_path_items(["ab", "ba"], [0.0, 1.0], tmp_path / "s.png",
                          draw_item=lambda item, ax: seen.append(item))
    assert seen == ["ab", "ba"]


def _points():
    rows = []
    rng = np.random.default_rng(0)
    for method in ("linear", "polar"):
        for k in (0, 2):
            for step, t in enumerate(np.linspace(0, 1, 5)):
                rows.append({"method": method, "refine": k, "t": t, "step": step,
                             "well_formed": bool(rng.random() < 0.7),
                             "synchronizing": bool(rng.random() < 0.5),
                             "novel": bool(rng.random() < 0.5), "z_norm": float(rng.random())})
    return pd.DataFrame(rows)


def test_validity_and_refinement_figures(tmp_path):
    out = plots.plot_validity_along_path(_points(), tmp_path / "validity.png")
    assert _png_size(out)[0] > 500
    summary = [{"method": m, "refine": k, "well_formed": 0.5 + 0.1 * k, "synchronizing": 0.4,
                "novel": None} for m in ("linear", "slerp") for k in range(3)]
    out = plots.plot_refinement(summary, tmp_path / "refine.png")
    assert _png_size(out)[0] > 300


def test_validity_figure_for_strings_without_sync_column(tmp_path):
    pts = _points()
    pts["synchronizing"] = None
    assert _png_size(plots.plot_validity_along_path(pts, tmp_path / "v.png"))[0] > 300


def test_norm_histogram_and_attribute_walk(tmp_path):
    rng = np.random.default_rng(1)
    prior = np.linalg.norm(rng.standard_normal((500, 16)), axis=1)
    enc = prior * 0.3
    out = plots.plot_norm_histogram(enc, prior, 16, tmp_path / "norms.png",
                                    extra={"midpoints": prior * 0.7})
    assert _png_size(out)[1] > 200
    rows = [{"alpha": a, "well_formed": 1.0, "synchronizing": 0.9, "mean_reset_length": 3 + a}
            for a in (-1.0, 0.0, 1.0)]
    assert _png_size(plots.plot_attribute_walk(rows, "reset_length", tmp_path / "a.png"))[0] > 200
    # No temporary files are left behind by the atomic writes.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "norms.png"]
