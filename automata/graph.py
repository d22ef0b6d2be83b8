"""Automata as graphs: networkx, DOT and GraphML export, and matplotlib drawings.

The transition graph has one node per state and one edge ``q → δ(q, a)`` per
state and letter, so it is a multigraph: two letters with the same effect on a
state give parallel edges, and fixed points give self-loops. Exports and
drawings merge the parallel edges into one arrow labelled ``"a,b"``.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from automata.atomic import atomic_path, atomic_write_text
from automata.dfa import DFA, letter_name
from automata.errors import AutomatonError

__all__ = ["to_networkx", "edge_labels", "to_dot", "write_dot", "write_graphml", "draw"]


def _check(dfa) -> DFA:
    if not isinstance(dfa, DFA):
        raise AutomatonError(f"expected a DFA, got {type(dfa).__name__}")
    return dfa


def to_networkx(dfa: DFA) -> nx.MultiDiGraph:
    """The transition graph as a ``MultiDiGraph``.

    Nodes are the states ``0..n-1``; each transition is an edge with key and
    attribute ``letter_index`` equal to the letter's index and attribute
    ``letter`` equal to its name (``"a"``, ``"b"``, …).

    >>> G = to_networkx(DFA([[1, 0], [1, 1]]))
    >>> sorted(G.edges(data="letter"))
    [(0, 1, 'a'), (0, 1, 'b'), (1, 0, 'a'), (1, 1, 'b')]
    """
    dfa = _check(dfa)
    graph = nx.MultiDiGraph(n_states=dfa.n_states, n_letters=dfa.n_letters)
    graph.add_nodes_from(range(dfa.n_states))
    for a in range(dfa.n_letters):
        name = letter_name(a)
        for q, r in enumerate(dfa.delta[a].tolist()):
            graph.add_edge(q, r, key=a, letter=name, letter_index=a)
    return graph


def edge_labels(dfa: DFA) -> dict[tuple[int, int], str]:
    """One label per arrow ``(q, r)``: the names of all letters taking ``q`` to ``r``.

    >>> edge_labels(DFA([[1, 0], [1, 1]]))
    {(0, 1): 'a,b', (1, 0): 'a', (1, 1): 'b'}
    """
    dfa = _check(dfa)
    letters: dict[tuple[int, int], list[str]] = defaultdict(list)
    for q in range(dfa.n_states):
        for a in range(dfa.n_letters):
            letters[(q, int(dfa.delta[a, q]))].append(letter_name(a))
    return {edge: ",".join(names) for edge, names in letters.items()}


def to_dot(dfa: DFA, *, name: str = "automaton") -> str:
    """Graphviz DOT text with merged parallel edges.

    >>> print(to_dot(DFA([[1, 0], [1, 1]])), end="")
    digraph automaton {
      node [shape=circle];
      0;
      1;
      0 -> 1 [label="a,b"];
      1 -> 0 [label="a"];
      1 -> 1 [label="b"];
    }
    """
    dfa = _check(dfa)
    safe = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name) or "automaton"
    lines = [f"digraph {safe} {{", "  node [shape=circle];"]
    lines += [f"  {q};" for q in range(dfa.n_states)]
    lines += [f'  {q} -> {r} [label="{label}"];' for (q, r), label in edge_labels(dfa).items()]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_dot(dfa: DFA, path: str | os.PathLike) -> None:
    """Write :func:`to_dot` to ``path`` atomically."""
    atomic_write_text(path, to_dot(dfa))


def write_graphml(dfa: DFA, path: str | os.PathLike) -> None:
    """Write the multigraph of :func:`to_networkx` as GraphML, atomically."""
    graph = to_networkx(dfa)
    with atomic_path(path) as tmp:
        nx.write_graphml(graph, tmp)


def draw(dfa: DFA, path_or_ax: Any, *, layout: str = "circular", title: str | None = None,
         seed: int = 0, dpi: int = 120) -> Any:
    """Draw the automaton with letters on the arrows; self-loops as small loops.

    Parameters
    ----------
    dfa : DFA
        The automaton.
    path_or_ax : str, path-like or matplotlib Axes
        A file name (written atomically; the suffix picks the format, PNG when
        there is none) or an Axes to draw on.
    layout : {"circular", "spring", "kamada_kawai"}
        Placement of the states.
    title : str, optional
        Title above the drawing.
    seed : int
        Seed of the spring layout.
    dpi : int
        Resolution when writing a file.

    Returns
    -------
    pathlib.Path or matplotlib.axes.Axes
        The written path, or the Axes drawn on.
    """
    dfa = _check(dfa)
    if hasattr(path_or_ax, "add_patch"):
        _draw_on(path_or_ax, dfa, layout, title, seed)
        return path_or_ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    target = Path(path_or_ax)
    fmt = target.suffix.lstrip(".").lower() or "png"
    size = min(12.0, 4.0 + 0.25 * dfa.n_states)
    fig = Figure(figsize=(size, size))
    FigureCanvasAgg(fig)  # Agg canvas: no display needed, no global pyplot state
    ax = fig.add_subplot(1, 1, 1)
    _draw_on(ax, dfa, layout, title, seed)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi)
    return target


def _positions(dfa: DFA, layout: str, seed: int) -> np.ndarray:
    n = dfa.n_states
    if n == 1:
        return np.zeros((1, 2))
    if layout == "circular":
        # State 0 on top, clockwise: reads like the usual pictures of C_n.
        angles = math.pi / 2 - 2 * math.pi * np.arange(n) / n
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    simple = nx.Graph(to_networkx(dfa))
    simple.remove_edges_from(nx.selfloop_edges(simple))
    if layout == "spring":
        pos = nx.spring_layout(simple, seed=seed)
    elif layout == "kamada_kawai":
        pos = nx.kamada_kawai_layout(simple)
    else:
        raise AutomatonError(f"unknown layout {layout!r}; expected circular, spring or kamada_kawai")
    points = np.array([pos[q] for q in range(n)], dtype=float)
    points -= points.mean(axis=0)
    scale = np.abs(points).max()
    return points / scale if scale > 0 else points


def _rotate(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _draw_on(ax, dfa: DFA, layout: str, title: str | None, seed: int) -> None:
    from matplotlib.patches import Circle, FancyArrowPatch
    from matplotlib.path import Path as MplPath

    n = dfa.n_states
    pos = _positions(dfa, layout, seed)
    if n > 1:
        nearest = min(np.linalg.norm(pos[i] - pos[j]) for i in range(n) for j in range(i))
    else:
        nearest = 1.0
    radius = max(0.02, min(0.12, 0.3 * nearest))
    font = max(6, min(11, int(200 * radius)))
    nodes = []
    for q in range(n):
        circle = Circle(pos[q], radius, facecolor="#dbe9f6", edgecolor="#1f3b57", lw=1.2, zorder=3)
        ax.add_patch(circle)
        nodes.append(circle)
        ax.text(pos[q][0], pos[q][1], str(q), ha="center", va="center", fontsize=font, zorder=4)
    labels = edge_labels(dfa)
    centre = pos.mean(axis=0)
    arrow_kw = dict(arrowstyle="-|>", mutation_scale=10 + 40 * radius, lw=1.0,
                    color="#333333", zorder=2)
    text_kw = dict(ha="center", va="center", fontsize=font, zorder=5,
                   bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    for (q, r), label in labels.items():
        if q == r:
            out = pos[q] - centre
            norm = np.linalg.norm(out)
            out = out / norm if norm > 1e-9 else np.array([0.0, 1.0])
            p = pos[q]
            start = p + radius * _rotate(out, 0.45)
            end = p + radius * _rotate(out, -0.45)
            c1 = p + 3.2 * radius * _rotate(out, 0.7)
            c2 = p + 3.2 * radius * _rotate(out, -0.7)
            loop = MplPath([start, c1, c2, end],
                           [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4])
            ax.add_patch(FancyArrowPatch(path=loop, **arrow_kw))
            spot = p + 2.9 * radius * out
            ax.text(spot[0], spot[1], label, **text_kw)
        else:
            # Bend both arrows of a 2-cycle so they do not overlap.
            rad = 0.2 if (r, q) in labels else 0.0
            ax.add_patch(FancyArrowPatch(pos[q], pos[r], patchA=nodes[q], patchB=nodes[r],
                                         connectionstyle=f"arc3,rad={rad}", **arrow_kw))
            dx, dy = pos[r] - pos[q]
            mid = (pos[q] + pos[r]) / 2 + 0.5 * rad * np.array([dy, -dx])
            ax.text(mid[0], mid[1], label, **text_kw)
    margin = 4.0 * radius
    lo, hi = pos.min(axis=0) - margin, pos.max(axis=0) + margin
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
