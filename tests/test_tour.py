"""The tour: every command of the README and of the tutorials runs, as a reader would type it.

Each page runs as one script in a fresh directory, its ```bash lines and its
```python blocks in the order a reader meets them (so a later line can use a file
an earlier one wrote), with the project's ``seqvae`` on the PATH. A command that
breaks turns this test red, whatever the unit tests say. The pages run two at a
time (this machine kind has two cores and most commands use one).

The pages give their long jobs small, documented sizes. Lines that set up the
machine rather than use the tool are not run: ``make`` (``make test`` would run
this suite inside itself, ``make demo`` is the demo's own job), ``pip``,
``git clone``, ``cd`` into the checkout, and activating the virtual environment.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "tutorials").glob("*.md"))]
SETUP = re.compile(r"^(make|pip|python -m pip|git clone|source |\. |cd |mkdocs serve)")
FENCE = re.compile(r"^```(\w*)\s*$")
#: A page's whole tour, commands and training included, must end within this.
PAGE_TIMEOUT_S = 420


def code_blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced blocks of ``language``, in order."""
    blocks, current, inside = [], [], None
    for line in text.splitlines():
        match = FENCE.match(line.strip())
        if match and inside is None:
            inside, current = match.group(1), []
        elif line.strip() == "```" and inside is not None:
            if inside == language:
                blocks.append("\n".join(current))
            inside = None
        elif inside is not None:
            current.append(line)
    return blocks


def commands(text: str) -> list[str]:
    """The shell commands of a page's bash blocks: comments, blank and set-up lines dropped."""
    out = []
    for block in code_blocks(text, "bash"):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and not SETUP.match(line):
                out.append(line)
    return out


def test_the_tour_reader_finds_commands_and_skips_setup():
    page = ("text\n```bash\nmake demo\n# a comment\nseqvae --help   # inline\n```\n"
            "```python\nprint(1)\n```\n```bash\nsource .venv/bin/activate\nseqvae sample x\n```\n")
    assert commands(page) == ["seqvae --help   # inline", "seqvae sample x"]
    assert code_blocks(page, "python") == ["print(1)"]


def page_script(text: str) -> str:
    """The page as one bash script: its commands, and each Python block fed to python."""
    lines = ["set -euo pipefail", "set -x"]  # each command echoed first: a failure names it
    blocks, inside, current = [], None, []
    for line in text.splitlines():
        match = FENCE.match(line.strip())
        if match and inside is None:
            inside, current = match.group(1), []
        elif line.strip() == "```" and inside is not None:
            blocks.append((inside, current))
            inside = None
        elif inside is not None:
            current.append(line)
    for language, body in blocks:
        if language == "bash":
            lines += commands("```bash\n" + "\n".join(body) + "\n```")
        elif language == "python":
            lines += ["python - <<'PYTHON_BLOCK'", *body, "PYTHON_BLOCK"]
    return "\n".join(lines) + "\n"


def _env(home: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
               PYTHONPATH=str(ROOT), HOME=str(home))
    return env


def _run_page(page: Path, workdir: Path) -> tuple[int, str, float]:
    workdir.mkdir(parents=True)
    # A reader runs the pages in the checkout, whose data/examples/ the pages may name;
    # a copy keeps the checkout's own files out of reach of the commands.
    shutil.copytree(ROOT / "data" / "examples", workdir / "data" / "examples")
    (workdir / "tour.sh").write_text(page_script(page.read_text(encoding="utf-8")))
    start = time.perf_counter()
    try:
        proc = subprocess.run(["bash", "tour.sh"], cwd=workdir, env=_env(workdir),
                              capture_output=True, text=True, timeout=PAGE_TIMEOUT_S)
        code, output = proc.returncode, proc.stdout[-3000:] + "\n" + proc.stderr[-4000:]
    except subprocess.TimeoutExpired:
        code, output = -1, f"timed out after {PAGE_TIMEOUT_S} s"
    return code, output, time.perf_counter() - start


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """Every page started at once on two workers; each test then reads its page's outcome."""
    base = tmp_path_factory.mktemp("tour")
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {page: pool.submit(_run_page, page, base / f"page{i}")
               for i, page in enumerate(PAGES)}
    yield futures
    pool.shutdown(wait=True)


def test_the_page_script_keeps_the_reading_order():
    page = "```bash\nseqvae a\n```\n```python\nprint(1)\n```\n```bash\nseqvae b\n```\n"
    assert page_script(page).splitlines()[2:] == [
        "seqvae a", "python - <<'PYTHON_BLOCK'", "print(1)", "PYTHON_BLOCK", "seqvae b"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_command_runs(page, tour):
    code, output, seconds = tour[page].result()
    assert code == 0, f"{page.name} failed after {seconds:.0f} s (exit {code}):\n{output}"
