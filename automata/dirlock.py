"""One writer per output directory: an exclusive lock held for as long as a job writes there.

Two jobs writing into one directory (two trainings into one run, two searches
into one ``--out``) interleave their files and both report success. Every
command that writes a directory (runs, searches, censuses, data sets) takes
:class:`DirectoryLock` first; the second writer gets one clear line naming the
holder's pid and exits.

The lock is ``fcntl.flock`` on a file ``.lock`` inside the directory, which also
records the holder's pid and host. The kernel drops a flock when its process
ends, however it ends (``kill -9`` included), so a lock left by a dead process
is simply taken over: there is no stale-lock timeout to guess. Where ``flock``
does not exist (not POSIX), the lock is an exclusive create of the same file,
and a file whose recorded pid is no longer running on this host is taken over.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from automata.errors import AutomatonError

__all__ = ["DirectoryLock", "DirectoryLockedError", "LOCK_NAME"]

LOCK_NAME = ".lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None


class DirectoryLockedError(AutomatonError):
    """Another live process writes into the directory."""


def _holder(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(4096) or b"{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DirectoryLock:
    """Hold ``directory/.lock`` exclusively (the directory is created if needed).

    Use as a context manager, or :meth:`acquire` / :meth:`release`.

    Raises
    ------
    DirectoryLockedError
        Another live process holds the lock.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> with DirectoryLock(d):
    ...     try:
    ...         DirectoryLock(d).acquire()
    ...     except DirectoryLockedError as exc:
    ...         print("refused")
    refused
    >>> with DirectoryLock(d):   # released: taken again
    ...     pass
    """

    def __init__(self, directory: str | os.PathLike, *, what: str = "job", name: str = LOCK_NAME):
        # ``name``: a data set is a file pair in a shared folder, so it locks a file of its
        # own there (``.NAME.lock``) rather than the whole folder.
        self.directory = Path(directory)
        self.path = self.directory / name
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> "DirectoryLock":
        if self._fd is not None:
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644) if fcntl else self._create()
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                self._refuse(_holder(self.path))
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "what": self.what}).encode())
        self._fd = fd
        return self

    def _create(self) -> int:  # pragma: no cover - not POSIX
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(self.path)
            if holder.get("host") == socket.gethostname() and not _alive(holder.get("pid")):
                os.unlink(self.path)  # the holder died without releasing: take over
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            self._refuse(holder)

    def _refuse(self, holder: dict):
        who = f"process {holder['pid']}" if isinstance(holder.get("pid"), int) else "another process"
        what = holder.get("what") if isinstance(holder.get("what"), str) else "a job"
        raise DirectoryLockedError(f"{self.directory} is in use by {who} ({what[:40]}); wait "
                                   "for it to finish, or choose another directory")

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is None:  # pragma: no cover - not POSIX
            os.close(fd)
            self.path.unlink(missing_ok=True)
            return
        # The file stays (unlinking a flocked file races with a waiting locker);
        # the lock itself ends with the descriptor.
        os.close(fd)

    def __enter__(self) -> "DirectoryLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
