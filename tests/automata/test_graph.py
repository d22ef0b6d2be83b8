"""Graph export and drawing."""
from __future__ import annotations

import networkx as nx
import pytest

from automata import DFA
from automata.errors import AutomatonError
from automata.families import cerny, roman
from automata.graph import draw, edge_labels, to_dot, to_networkx, write_dot, write_graphml

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_multigraph_has_one_edge_per_transition():
    dfa = roman()
    graph = to_networkx(dfa)
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == 5
    assert graph.number_of_edges() == dfa.n_states * dfa.n_letters
    for q, r, data in graph.edges(data=True):
        a = data["letter_index"]
        assert dfa.delta[a, q] == r and data["letter"] == "abc"[a]
    # Letters a and b both fix state 3: two parallel self-loops.
    assert sorted(d["letter"] for d in graph.get_edge_data(3, 3).values()) == ["a", "b"]


def test_edge_labels_merge_parallel_edges():
    labels = edge_labels(cerny(4))
    assert labels == {(0, 1): "a", (0, 0): "b", (1, 2): "a", (1, 1): "b", (2, 3): "a",
                      (2, 2): "b", (3, 0): "a,b"}


def test_dot_and_graphml(tmp_path):
    dfa = cerny(4)
    text = to_dot(dfa)
    assert '3 -> 0 [label="a,b"];' in text and text.count("->") == 7
    write_dot(dfa, tmp_path / "c4.dot")
    assert (tmp_path / "c4.dot").read_text() == text
    write_graphml(dfa, tmp_path / "c4.graphml")
    back = nx.read_graphml(tmp_path / "c4.graphml")
    assert back.number_of_edges() == 8
    assert sorted(d["letter"] for _, _, d in back.edges(data=True)) == ["a"] * 4 + ["b"] * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c4.dot", "c4.graphml"]


def test_draw_png_and_axes(tmp_path):
    out = draw(roman(), tmp_path / "roman.png", title="Roman")
    assert out.read_bytes()[:8] == PNG_MAGIC
    draw(DFA([[0]]), tmp_path / "one.png")
    assert (tmp_path / "one.png").read_bytes()[:8] == PNG_MAGIC

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    assert draw(cerny(4), ax, layout="spring") is ax
    texts = {t.get_text() for t in ax.texts}
    assert {"0", "1", "2", "3", "a", "b", "a,b"} <= texts
    # one arrow per distinct (source, target) pair, self-loops included
    from matplotlib.patches import FancyArrowPatch
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == 7


def test_bad_input():
    with pytest.raises(AutomatonError):
        to_networkx([[0]])
    with pytest.raises(AutomatonError, match="layout"):
        from matplotlib.figure import Figure
        draw(cerny(3), Figure().add_subplot(), layout="hexagonal")
