"""Figures for latent-space experiments (matplotlib, Agg backend, PNG, written atomically).

Every function takes plain data (arrays, lists of summary rows, a points
DataFrame) and a target path; none of them trains or decodes anything.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from automata.atomic import atomic_path
from seqvae.errors import SeqVAEError
from seqvae.latent import chi_mean, chi_pdf

__all__ = ["save_figure", "plot_path_items", "plot_path_grid", "plot_validity_along_path",
           "plot_norm_histogram", "plot_attribute_walk", "plot_refinement"]

_COLORS = {"linear": "tab:red", "polar": "tab:blue", "slerp": "tab:green"}


def _subplots(nrows: int, ncols: int, figsize: tuple[float, float]):
    # Agg canvas on a bare Figure: no display, no pyplot global state to leak figures into.
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` as PNG, atomically."""
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return target


def draw_text(item, ax) -> None:
    ax.text(0.5, 0.5, str(item), ha="center", va="center", fontsize=8, wrap=True,
            family="monospace", transform=ax.transAxes)
    ax.set_axis_off()


def plot_path_items(items: Sequence[Any], positions: Sequence[float], path: str | os.PathLike, *,
                    labels: Sequence[str] | None = None, title: str | None = None,
                    draw_item: Callable[[Any, Any], None] | None = None) -> Path:
    """One path as a row of small panels: each decoded item drawn by ``draw_item`` (a domain's own drawer; text by default).

    ``items[i]`` is the decode at position ``positions[i]``; None marks a malformed
    decode (drawn as an empty, labelled panel). ``labels`` adds a line under each
    panel (e.g. the reset length).
    """
    if len(items) != len(positions):
        raise SeqVAEError("items and positions differ in length")
    return plot_path_grid({"": (items, labels)}, positions, path, title=title, draw_item=draw_item)


def plot_path_grid(rows: dict[str, tuple[Sequence[Any], Sequence[str] | None]],
                   positions: Sequence[float], path: str | os.PathLike, *,
                   title: str | None = None, max_columns: int | None = None,
                   draw_item: Callable[[Any, Any], None] | None = None) -> Path:
    """Several paths, one row each (``rows[name] = (items, labels)``), as small drawn panels.

    With ``max_columns`` a long path is thinned to that many evenly spaced
    positions (both endpoints kept): graph drawing is the slow part.
    """
    positions = list(positions)
    for name, (items, labels) in rows.items():
        if len(items) != len(positions) or (labels is not None and len(labels) != len(positions)):
            raise SeqVAEError(f"row {name!r}: items, labels and positions differ in length")
    columns = list(range(len(positions)))
    if max_columns is not None and len(columns) > max_columns >= 2:
        columns = sorted({int(round(c)) for c in np.linspace(0, len(positions) - 1, max_columns)})
    drawer = draw_item or draw_text
    n_rows, n_cols = max(len(rows), 1), max(len(columns), 1)
    fig, axes = _subplots(n_rows, n_cols, figsize=(2.1 * n_cols, 2.5 * n_rows))
    for r, (name, (items, labels)) in enumerate(rows.items()):
        for c, i in enumerate(columns):
            ax, item = axes[r, c], items[i]
            if item is None:
                ax.text(0.5, 0.5, "malformed", ha="center", va="center", color="tab:red",
                        transform=ax.transAxes)
                ax.set_axis_off()
            else:
                try:
                    drawer(item, ax)
                except Exception as exc:  # noqa: BLE001 - a figure must not sink the experiment
                    ax.clear()
                    draw_text(f"(cannot draw: {type(exc).__name__})", ax)
            caption = f"{name}  t={positions[i]:.2f}" if name and c == 0 else f"t={positions[i]:.2f}"
            if labels is not None and labels[i]:
                caption += f"\n{labels[i]}"
            ax.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def plot_validity_along_path(points, path: str | os.PathLike, *, refine: int | None = None) -> Path:
    """Share of well-formed, synchronizing and novel decodes against path position, per method,
    and the mean latent norm along the path (left: validity, right: ‖z‖).

    ``points`` is :attr:`seqvae.interpolate.InterpolationResult.points`; ``refine``
    picks the refinement round (default: 0 solid, the last one dashed).
    """
    rounds = sorted(points["refine"].unique())
    shown = [refine] if refine is not None else sorted({rounds[0], rounds[-1]})
    measures = [("well_formed", "well-formed")]
    if points["synchronizing"].notna().any():
        measures.append(("synchronizing", "synchronizing"))
    measures.append(("novel", "novel"))
    fig, axes = _subplots(1, len(measures) + 1, figsize=(4.2 * (len(measures) + 1), 3.4))
    for m, method in enumerate(points["method"].unique()):
        color = _COLORS.get(method, f"C{m}")
        for k in shown:
            sel = points[(points["method"] == method) & (points["refine"] == k)]
            style = "-" if k == shown[0] else "--"
            label = f"{method}" + (f" (refine {k})" if len(shown) > 1 or k else "")
            for col, (column, name) in enumerate(measures):
                if column == "novel":
                    value = sel["novel"].astype(bool) & sel["well_formed"].astype(bool)
                else:
                    value = sel[column].fillna(False).astype(bool)
                share = value.groupby(sel["t"]).mean()
                axes[0, col].plot(share.index, share.values, style, color=color, marker="o",
                                  markersize=3, label=label)
                axes[0, col].set_title(name)
                axes[0, col].set_ylim(-0.03, 1.03)
                axes[0, col].set_xlabel("path position t")
            norm = sel.groupby("t")["z_norm"].mean()
            axes[0, -1].plot(norm.index, norm.values, style, color=color, marker="o", markersize=3,
                             label=label)
    axes[0, 0].set_ylabel("share of decodes")
    axes[0, -1].set_title("mean ‖z‖ along the path")
    axes[0, -1].set_xlabel("path position t")
    axes[0, 0].legend(fontsize=7)
    return save_figure(fig, path)


def plot_norm_histogram(encoded: np.ndarray, prior: np.ndarray, d_z: int, path: str | os.PathLike,
                        *, extra: dict[str, np.ndarray] | None = None) -> Path:
    """The "soap bubble": histograms of ‖z‖ for encoded data (μ) and for prior samples,
    against the chi density with ``d_z`` degrees of freedom (‖z‖ of ``z ~ N(0, I)``)."""
    encoded = np.asarray(encoded, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    fig, axes = _subplots(1, 1, figsize=(6.0, 3.8))
    ax = axes[0, 0]
    series = [("prior samples", prior, "tab:gray"), ("encoded data (μ)", encoded, "tab:blue")]
    for name, values in (extra or {}).items():
        series.append((name, np.asarray(values, dtype=np.float64), None))
    everything = np.concatenate([s[1] for s in series if len(s[1])] + [np.zeros(1)])
    hi = max(float(everything.max()), chi_mean(d_z) + 4.0) * 1.05
    bins = np.linspace(0.0, hi, 60)
    for name, values, color in series:
        if len(values):
            ax.hist(values, bins=bins, density=True, alpha=0.45, label=f"{name} (n={len(values)})",
                    color=color)
    grid = np.linspace(0.0, hi, 400)
    ax.plot(grid, chi_pdf(grid, d_z), color="black", lw=1.5, label=f"χ density, d={d_z}")
    ax.axvline(np.sqrt(d_z), color="black", ls=":", lw=1)
    ax.set_xlabel("‖z‖")
    ax.set_ylabel("density")
    ax.set_title("latent norms: the prior's shell")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_attribute_walk(rows: Sequence[dict], attribute: str, path: str | os.PathLike) -> Path:
    """Mean decoded ``attribute`` (and well-formed share) against the step α along the direction."""
    alphas = [row["alpha"] for row in rows]
    means = [row.get(f"mean_{attribute}") for row in rows]
    fig, axes = _subplots(1, 1, figsize=(5.5, 3.6))
    ax = axes[0, 0]
    ax.plot(alphas, [np.nan if v is None else v for v in means], "o-", color="tab:blue")
    ax.set_xlabel("α (step along the attribute direction)")
    ax.set_ylabel(f"mean decoded {attribute}", color="tab:blue")
    twin = ax.twinx()
    twin.plot(alphas, [row["well_formed"] for row in rows], "s--", color="tab:gray", markersize=3)
    if all(row.get("synchronizing") is not None for row in rows):
        twin.plot(alphas, [row["synchronizing"] for row in rows], "^--", color="tab:green",
                  markersize=3)
    twin.set_ylim(-0.03, 1.03)
    twin.set_ylabel("share well-formed (grey) / synchronizing (green)")
    ax.set_title(f"walking along the {attribute} direction")
    return save_figure(fig, path)


def plot_refinement(summary: Sequence[dict], path: str | os.PathLike) -> Path:
    """Summary shares (well-formed, synchronizing, novel) against the refinement round, per method."""
    measures = [m for m in ("well_formed", "synchronizing", "novel")
                if any(row.get(m) is not None for row in summary)]
    fig, axes = _subplots(1, len(measures), figsize=(4.0 * len(measures), 3.2))
    keys = []
    for row in summary:
        key = (row["method"], row.get("decoding", "constrained"))
        if key not in keys:
            keys.append(key)
    for m, (method, decoding) in enumerate(keys):
        sel = sorted((r for r in summary if r["method"] == method
                      and r.get("decoding", "constrained") == decoding), key=lambda r: r["refine"])
        for col, measure in enumerate(measures):
            axes[0, col].plot([r["refine"] for r in sel],
                              [np.nan if r.get(measure) is None else r[measure] for r in sel],
                              marker="o", color=_COLORS.get(method, f"C{m}"),
                              ls="-" if decoding == "constrained" else "--",
                              label=f"{method} ({decoding})")
            axes[0, col].set_title(measure.replace("_", "-"))
            axes[0, col].set_xlabel("refinement round k")
            axes[0, col].set_ylim(-0.03, 1.03)
    axes[0, 0].legend(fontsize=7)
    return save_figure(fig, path)
