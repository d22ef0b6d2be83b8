"""The documentation: the site builds with ``mkdocs build --strict`` (a broken link, anchor or
API reference fails it), and the README stays a landing page whose links into docs/ exist."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 250


def test_site_builds_strict(tmp_path):
    env = dict(os.environ, NO_COLOR="1", NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    # The CLI page is generated from the typer app: every command group must be on it.
    cli = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("search-extreme", "automata census", "train strings", "data smiles"):
        assert command in cli, command
    assert "\x1b[" not in cli


def test_readme_is_a_landing_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"
    text = "\n".join(lines)
    for command in ("make demo", "make test", "make docs"):
        assert command in text, command


def test_readme_links_into_docs_exist():
    text = README.read_text(encoding="utf-8")
    # Links live in prose: code blocks and code spans (SMILES such as N[C@@H](C) included) are not links.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    relative = [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert any(t.startswith("docs/") for t in relative)
    missing = [t for t in relative if not (ROOT / t.split("#", 1)[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
