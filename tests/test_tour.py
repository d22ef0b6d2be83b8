"""The tour: every command of the README and of the tutorials runs, as a reader would type it.

Each page runs as one script in a fresh directory, its ```bash lines and its
```python blocks in the order a reader meets them (so a later line can use a file
an earlier one wrote), with the project's ``seqvae`` on the PATH. A command that
breaks turns this test red, whatever the unit tests say.

The tour is the longest part of the suite, and the rest of the suite keeps one of
the two cores busy most of the time. So the pages start as soon as the suite is
collected (``tests/conftest.py``) and run two at a time, at the lowest priority,
beside the other tests, in the time they leave idle. Each test of a page then
reads its outcome.

The pages give their long jobs small, documented sizes. Lines that set up the
machine rather than use the tool are not run: ``make`` (``make test`` would run
this suite inside itself, ``make demo`` is the demo's own job), ``pip``,
``git clone``, ``cd`` into the checkout, and activating the virtual environment.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "tutorials").glob("*.md"))]
SETUP = re.compile(r"^(make|pip|python -m pip|git clone|source |\. |cd |mkdocs serve)")
FENCE = re.compile(r"^```(\w*)\s*$")
#: A page's whole tour, commands and training included, must end within this.
PAGE_TIMEOUT_S = 420
#: The time limit of a page run at low priority beside the rest of the suite is this many times longer.
BESIDE_SUITE_STRETCH = 3


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


#: Runs its page directories one after another: each page's exit code lands in
#: ``rc`` once it ends, its start time in ``started`` (read to enforce the limit).
_LANE = r"""
for dir in "$@"; do
    cd "$dir" || exit 1
    date +%s > started
    HOME="$dir" bash tour.sh > stdout.txt 2> stderr.txt
    echo $? > rc.tmp && mv rc.tmp rc
done
"""


class TourRunner:
    """The pages, split over ``workers`` lanes: a lane is one bash process that
    runs its pages one after another, in its own process group (so that it can
    be killed whole) but in the test's session: a new session is a new
    scheduling autogroup on Linux, which gets its half of the cores whatever
    its nice value, and then the suite's two-thread kernels ran twenty times slower.
    :meth:`result` polls for a page's exit code and enforces its time limit;
    :meth:`stop` kills what still runs."""

    def __init__(self, pages: list[Path], workers: int, beside_suite: bool = False):
        self._base = Path(tempfile.mkdtemp(prefix="seqvae-tour-"))
        # Beside the suite a page waits for idle time, so its time limit stretches.
        self._timeout = PAGE_TIMEOUT_S * (BESIDE_SUITE_STRETCH if beside_suite else 1)
        self._dirs: dict[Path, Path] = {}
        for i, page in enumerate(pages):
            workdir = self._base / f"page{i}"
            workdir.mkdir()
            # A reader runs the pages in the checkout, whose data/examples/ the pages may
            # name; a copy keeps the checkout's own files out of reach of the commands.
            shutil.copytree(ROOT / "data" / "examples", workdir / "data" / "examples")
            (workdir / "tour.sh").write_text(page_script(page.read_text(encoding="utf-8")))
            self._dirs[page] = workdir
        # At the lowest priority the pages only take the time the other tests leave idle.
        nice = ["nice", "-n", "19"] if beside_suite and shutil.which("nice") else []
        self._lanes: dict[Path, subprocess.Popen] = {}
        dirs = list(self._dirs.items())
        for lane in range(min(workers, len(dirs))):
            mine = dirs[lane::workers]
            proc = subprocess.Popen([*nice, "bash", "-c", _LANE, "lane", *(str(d) for _, d in mine)],
                                    env=_env(self._base), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    preexec_fn=os.setpgrp)
            for page, _ in mine:
                self._lanes[page] = proc

    def result(self, page: Path) -> tuple[int, str, float]:
        """The page's exit code, the tail of its output and its seconds (waits for it)."""
        workdir, lane = self._dirs[page], self._lanes[page]
        while not (workdir / "rc").exists():
            started = workdir / "started"
            since = started.read_text().strip() if started.exists() else ""
            if since and time.time() - int(since) > self._timeout:
                _kill_group(lane)
                return -1, f"timed out after {self._timeout} s", time.time() - int(since)
            if lane.poll() is not None and not (workdir / "rc").exists():
                return -1, "not run: an earlier page of its lane was stopped", 0.0
            time.sleep(0.5)
        code = int((workdir / "rc").read_text())
        out = (workdir / "stdout.txt").read_text(errors="replace")
        err = (workdir / "stderr.txt").read_text(errors="replace")
        seconds = (workdir / "rc").stat().st_mtime - int((workdir / "started").read_text())
        return code, out[-3000:] + "\n" + err[-4000:], seconds

    def stop(self):
        """Kill the lanes still running and remove the directory."""
        for lane in set(self._lanes.values()):
            if lane.poll() is None:
                _kill_group(lane)
                lane.wait()
        shutil.rmtree(self._base, ignore_errors=True)


def _kill_group(proc: subprocess.Popen):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


#: The runner of this session, started by tests/conftest.py once the suite is collected.
RUNNER: TourRunner | None = None


def start_tour(pages: list[Path], workers: int, beside_suite: bool = False) -> TourRunner:
    """The session's runner of ``pages``, started on first call."""
    global RUNNER
    if RUNNER is None:
        RUNNER = TourRunner(pages, workers, beside_suite)
    return RUNNER


def stop_tour():
    if RUNNER is not None:
        RUNNER.stop()


def test_the_page_script_keeps_the_reading_order():
    page = "```bash\nseqvae a\n```\n```python\nprint(1)\n```\n```bash\nseqvae b\n```\n"
    assert page_script(page).splitlines()[2:] == [
        "seqvae a", "python - <<'PYTHON_BLOCK'", "print(1)", "PYTHON_BLOCK", "seqvae b"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_documented_command_runs(page):
    # Started at collection; the fallback serves a run that bypassed tests/conftest.py.
    code, output, seconds = start_tour(PAGES, workers=2).result(page)
    assert code == 0, f"{page.name} failed after {seconds:.0f} s (exit {code}):\n{output}"


def test_the_runner_reports_exit_codes_output_and_time_limits(tmp_path, monkeypatch):
    ok, fails, hangs = (tmp_path / f"{name}.md" for name in ("ok", "fails", "hangs"))
    ok.write_text("```bash\necho from-the-page\n```\n")
    fails.write_text("```bash\necho before\nexit 3\necho never\n```\n")
    hangs.write_text("```bash\nsleep 60\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "PAGE_TIMEOUT_S", 2)
    runner = TourRunner([ok, fails, hangs], workers=2)
    try:
        code, output, _ = runner.result(ok)
        assert code == 0 and "from-the-page" in output
        code, output, _ = runner.result(fails)
        assert code == 3 and "before" in output and "never" not in output.replace("echo never", "")
        code, output, seconds = runner.result(hangs)
        assert code == -1 and "timed out" in output and seconds < 30
    finally:
        runner.stop()
