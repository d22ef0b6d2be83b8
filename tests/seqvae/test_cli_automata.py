"""``seqvae automata`` through typer's CliRunner."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from automata import DFA
from automata.families import cerny, kari
from automata.formats import format_automata, parse_automata
from seqvae.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_stderr(monkeypatch):
    # Rich wraps at 80 columns when stderr is not a terminal; an error is one logical line.
    from seqvae.cli import _common

    monkeypatch.setattr(_common.err_console, "_width", 10_000)


def run(*args, input=None):
    return runner.invoke(app, ["automata", *map(str, args)], input=input)


def _assert_one_line_error(result, code=2):
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("info", "reset-word", "family", "random", "census", "draw", "convert"):
        assert command in result.stdout


def test_info_json_for_cerny5(tmp_path):
    path = tmp_path / "c5.txt"
    path.write_text(format_automata([cerny(5)], "text"))
    result = run("info", path, "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["n_states"] == 5 and row["n_letters"] == 2
    assert row["synchronizing"] is True
    assert row["reset_length"] == 16 == row["cerny_bound"] and row["ratio"] == 1.0
    assert row["family"] == "cerny" and row["strongly_connected"] is True
    assert len(row["reset_word"]) == 16 and cerny(5).is_reset_word(row["reset_word"])


def test_info_table_stdin_and_non_synchronizing():
    text = "a:120 b:201\n" + format_automata([kari()], "compact")
    result = run("info", "-", "--json", input=text)
    assert result.exit_code == 0, result.output
    perm, k = json.loads(result.stdout)
    assert perm["synchronizing"] is False and perm["reset_length"] is None
    assert perm["reset_word"] is None and perm["family"] is None
    assert k["reset_length"] == 25 and k["family"] == "kari"
    table = run("info", "-", input=text)
    assert table.exit_code == 0 and "kari" in table.stdout and "25" in table.stdout


@pytest.mark.parametrize("text, words", [
    ("2 5\n1 0\n2 1\n3 x\n", "token 'x'"),
    ("2 5\n1 0\n2 1\n3 7\n4 3\n0 0\n", "token '7'"),
    ("", "empty"),
    ("a:0123 b:01\n", "line 1"),
])
def test_malformed_input_exits_2_with_one_line(tmp_path, text, words):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    for command in ("info", "reset-word", "convert"):
        line = _assert_one_line_error(run(command, path))
        assert words in line


def test_missing_file_and_bad_options(tmp_path):
    assert "no such file" in _assert_one_line_error(run("info", tmp_path / "nope.txt"))
    _assert_one_line_error(run("family", "nope", "-n", "5"))
    _assert_one_line_error(run("family", "h_series", "-n", "3"))
    _assert_one_line_error(run("info", "-", "--time-limit", "-1", input="a:0"))


def test_reset_word_exact(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(format_automata([cerny(4), cerny(6)], "compact"))
    result = run("reset-word", path, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["length"] for r in rows] == [9, 25]
    assert all(r["exact"] and not r["upper_bound"] for r in rows)
    assert cerny(6).is_reset_word(rows[1]["reset_word"])
    plain = run("reset-word", path)
    assert "length 25 (shortest)" in plain.stdout


@pytest.mark.parametrize("method", ["eppstein", "beam"])
def test_reset_word_heuristics_are_upper_bounds(tmp_path, method):
    pytest.importorskip("automata.heuristics")
    path = tmp_path / "c.txt"
    path.write_text(format_automata([cerny(5), DFA([[1, 0], [1, 0]])], "compact"))
    result = run("reset-word", path, "--method", method, "--json")
    assert result.exit_code == 0, result.output
    good, perm = json.loads(result.stdout)
    assert good["upper_bound"] and not good["exact"] and good["length"] >= 16
    assert cerny(5).is_reset_word(good["reset_word"])
    assert perm["synchronizing"] is False and perm["length"] is None


@pytest.mark.parametrize("fmt", ["text", "compact", "json"])
def test_family_output_parses_back(tmp_path, fmt):
    result = run("family", "wielandt", "-n", 7, "--format", fmt)
    assert result.exit_code == 0, result.output
    from automata.families import wielandt
    assert parse_automata(result.stdout) == [wielandt(7)]
    out = tmp_path / f"k.{fmt}"
    assert run("family", "kari", "-o", out, "--format", fmt).exit_code == 0
    assert parse_automata(out.read_text()) == [kari()]


def test_family_list():
    result = run("family")
    assert result.exit_code == 0
    assert "d_double_prime" in result.stdout and "n^2-4n+6" in result.stdout


def test_random_reproducible_and_filtered(tmp_path):
    from automata.generate import is_strongly_connected
    from automata.sync import is_synchronizing

    args = ("random", "-n", 9, "-k", 2, "--count", 5, "--seed", 3)
    first, second = run(*args), run(*args)
    assert first.exit_code == 0 and first.stdout == second.stdout
    dfas = parse_automata(first.stdout)
    assert len(dfas) == 5 and all(d.n_states == 9 and d.n_letters == 2 for d in dfas)
    out = tmp_path / "r.json"
    result = run(*args, "--synchronizing", "--strongly-connected", "--format", "json", "-o", out)
    assert result.exit_code == 0, result.output
    dfas = parse_automata(out.read_text())
    assert len(dfas) == 5
    assert all(is_synchronizing(d) and is_strongly_connected(d) for d in dfas)
    unseeded = run("random", "-n", 4)
    assert unseeded.exit_code == 0 and "seed:" in unseeded.stderr


def test_census_json_small():
    result = run("census", "-n", 3, "-k", 2, "--json", "--top", 3)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 74 and data["non_synchronizing"] == 23
    assert sum(data["histogram"].values()) + data["non_synchronizing"] == data["total"]
    assert max(int(rt) for rt in data["histogram"]) == 4
    assert len(data["top"]) == 3 and data["top"][0]["reset_length"] == 4
    table = run("census", "-n", 2, "-k", 2)
    assert table.exit_code == 0 and "reset length" in table.stdout


def test_draw_png_dot_graphml(tmp_path):
    src = tmp_path / "two.txt"
    src.write_text(format_automata([cerny(4), kari()], "text"))
    png, dot, gml = tmp_path / "k.png", tmp_path / "k.dot", tmp_path / "k.graphml"
    result = run("draw", src, "-o", png, "--index", 1, "--dot", dot, "--graphml", gml)
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dot.read_text().startswith("digraph") and "graphml" in gml.read_text()
    assert "out of range" in _assert_one_line_error(run("draw", src, "-o", png, "--index", 2))
    _assert_one_line_error(run("draw", src))


def test_convert(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text(format_automata([cerny(12), kari()], "text"))
    result = run("convert", src, "--format", "compact")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("a:1,2,3")
    assert parse_automata(result.stdout) == [cerny(12), kari()]


def test_resource_limit_exits_1_with_one_line():
    text = format_automata([cerny(14)], "compact")
    line = _assert_one_line_error(run("reset-word", "-", "--memory", "0.000001", input=text), 1)
    assert "memory" in line
    line = _assert_one_line_error(run("info", "-", "--memory", "0.000001", input=text), 1)
    assert "memory" in line
