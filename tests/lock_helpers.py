"""A live process that holds an output directory's lock, as a running job would."""
from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["held_lock"]


@contextlib.contextmanager
def held_lock(directory: Path, what: str):
    """Yield the pid of a child process holding ``directory``'s lock; on exit the child is
    killed with SIGKILL, the way a crashed job leaves its lock file behind."""
    code = ("import sys, time; from automata.dirlock import DirectoryLock; "
            "DirectoryLock(sys.argv[1], what=sys.argv[2]).acquire(); print('held', flush=True); "
            "time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(directory), what], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
