"""Hostile files through the command line: one line on stderr, exit code 2, never a traceback."""
from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from automata import DFA
from automata.formats import format_automata
from seqvae.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_stderr(monkeypatch):
    # Rich wraps at 80 columns when stderr is not a terminal; an error is one logical line.
    from seqvae.cli import _common

    monkeypatch.setattr(_common.err_console, "_width", 10_000)


def _one_line_error(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    return lines[0]


HOSTILE = {
    "huge_header.txt": ("99999999 99999999\n0 0\n", "more than the 268435456 supported"),
    "long_integer.txt": ("2 " + "9" * 5000 + "\n", "more than 18 digits"),
    "long_image.txt": ("a:0," + "1" * 5000 + "\n", "more than 18 digits"),
    "long_integer.json": ('{"delta": [[' + "7" * 5000 + "]]}", "more than 18 digits"),
    "deep.json": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "not_utf8.txt": (b"2 1\n\xff\xfe\n", "not a UTF-8 text file"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_info_on_a_hostile_file_is_one_line_exit_2(tmp_path, name):
    content, words = HOSTILE[name]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    line = _one_line_error(runner.invoke(app, ["automata", "info", str(path)]))
    assert words in line
    assert len(line) < 300  # a 5000-digit token is not echoed back


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + format_automata(DFA([[1, 0], [0, 0]]), "json").encode())
    result = runner.invoke(app, ["automata", "convert", str(path), "--format", "compact"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "a:10 b:00\n"


def test_output_to_a_read_only_file_is_refused(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("a:10 b:00\n")
    target = tmp_path / "out.txt"
    target.write_text("precious\n")
    target.chmod(0o444)
    line = _one_line_error(runner.invoke(app, ["automata", "convert", str(source), "-o",
                                               str(target)]))
    assert "read-only" in line
    assert target.read_text() == "precious\n"


def test_output_to_dev_null_leaves_dev_null_alone(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("a:10 b:00\n")
    before = os.stat("/dev/null")
    result = runner.invoke(app, ["automata", "convert", str(source), "-o", "/dev/null"])
    assert result.exit_code == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_output_through_a_symlink_keeps_the_link(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("a:10 b:00\n")
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = runner.invoke(app, ["automata", "convert", str(source), "--format", "json",
                                 "-o", str(link)])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink()
    assert '"delta": [[1, 0], [0, 0]]' in real.read_text()
