"""Atomic file writes: a crash or Ctrl-C never leaves a half-written file behind.

The data goes to a temporary file ``.NAME.XXXXXXXX.tmp`` in the target's
directory, is flushed to disk, and is then renamed over the target (rename is
atomic on POSIX). What is at the target path is respected:

* a symbolic link stays a link: its final target is written (atomically);
* a character device or a FIFO (``/dev/null``, a named pipe) cannot be
  renamed over, and must not be: the data is written through to it, which is
  not atomic (there is no file to keep);
* a block device, a socket, a symlink loop and a read-only file are refused
  with :class:`UnsafeTargetError` (a read-only file is replaced when
  ``force=True``); a directory raises :class:`IsADirectoryError`;
* a replaced file keeps its permission bits (and, where allowed, its owner).

A save killed between creating its temporary file and the rename leaves the
temporary file behind: :func:`remove_stale_temps` clears them at the next
start. :func:`file_sha256` gives the checksum recorded beside saved files.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator

from automata.errors import AutomatonError

__all__ = ["UnsafeTargetError", "atomic_path", "atomic_write_bytes", "atomic_write_text",
           "remove_stale_temps", "file_sha256", "FileTooLargeError", "read_bytes_limited"]

# tempfile.mkstemp draws 8 characters from this alphabet between our prefix and suffix.
_TEMP_NAME = r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp"


class UnsafeTargetError(PermissionError):
    """The target of a write is not something a write may replace.

    A read-only file (without ``force=True``), a block device, a socket or a
    symlink loop. A subclass of :class:`PermissionError`, so callers that
    already report permission problems report this one too.
    """


def _resolve(path: str | os.PathLike, within: str | os.PathLike | None = None) -> Path:
    """The path a write must land on: symlinks followed to their final target, which must
    stay inside ``within`` when it is given (a link planted in a run directory must not
    send the run's files elsewhere)."""
    given = Path(path)
    if not given.is_symlink():
        return given
    real = Path(os.path.realpath(given))
    if real.is_symlink():  # realpath gives up on a loop and returns a link
        raise UnsafeTargetError(f"{given}: symbolic link loop; refusing to write")
    if within is not None:
        home = Path(os.path.realpath(within))
        if home != real and home not in real.parents:
            raise UnsafeTargetError(f"{given} is a link to {real}, outside {within}; "
                                    "refusing to write through it")
    return real


def _kind(target: Path, force: bool) -> tuple[str, os.stat_result | None]:
    """``('new' | 'file' | 'stream', stat)`` for a resolved target, or raise if unsafe."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return "new", None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        read_only = not (mode & 0o222) or not os.access(target, os.W_OK)
        if read_only and not force:
            raise UnsafeTargetError(f"{target} is read-only; refusing to overwrite it")
        return "file", st
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream", st
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{target} is a directory; cannot write a file there")
    what = ("a block device" if stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise UnsafeTargetError(f"{target} is {what}; refusing to write to it")


def _target_kind(target: Path, force: bool, within) -> tuple[str, os.stat_result | None]:
    """:func:`_kind`, except in a directory the toolkit writes (``within`` given).

    There every name is the toolkit's own file (a chunk, a checkpoint, a log part),
    never an output the user pointed at a FIFO or a device on purpose: a special file
    found in its place is junk, removed and written as a regular file (writing into a
    FIFO that nobody reads would block for ever)."""
    kind, st = _kind(target, force)
    if kind == "stream" and within is not None:
        target.unlink()
        return "new", None
    return kind, st


def _usual_mode() -> int:
    """Permission bits a plain ``open(path, 'w')`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable; some file systems cannot open a directory, which is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, force: bool = False,
                within: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield a temporary path; when the block succeeds, its content lands on ``path``.

    Use it for writers that insist on a file name (pandas, torch.save,
    matplotlib). See the module notes for symlinks, devices, FIFOs and
    read-only files; on an exception the target is untouched and the
    temporary file removed.

    Parameters
    ----------
    path : path-like
        The file to write. Missing parent directories are created.
    force : bool
        Replace a read-only file (it stays read-only).
    within : path-like, optional
        The directory being written: a symlink at ``path`` may only lead inside it,
        and a FIFO or device found at ``path`` is replaced by a regular file.

    Raises
    ------
    UnsafeTargetError
        If ``path`` is read-only (and ``force`` is false), a block device, a
        socket, a symlink loop, or a link out of ``within``; raised before the
        block runs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text()
    'hello'
    """
    target = _resolve(path, within)
    kind, st = _target_kind(target, force, within)
    if kind == "stream":
        with _staged_stream(target) as tmp:
            yield tmp
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600: give it the mode of the file it replaces, or the
        # mode a plain open() would give. Set last, since it may be read-only.
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else _usual_mode())
        if st is not None and (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_directory(target.parent)


@contextlib.contextmanager
def _staged_stream(target: Path) -> Iterator[Path]:
    """A temporary file in the system temp directory, copied into ``target`` on success.

    A device's directory (``/dev``) is no place for a temporary file.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, force: bool = False,
                       within: str | os.PathLike | None = None) -> None:
    """Write ``data`` to ``path`` atomically (written through to a device or FIFO).

    Raises :class:`UnsafeTargetError` as :func:`atomic_path` does (``within`` as there).

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write_bytes(target, b"\\x00\\x01")
    >>> target.read_bytes()
    b'\\x00\\x01'
    """
    target = _resolve(path, within)
    if _target_kind(target, force, within)[0] == "stream":
        with open(target, "wb") as sink:
            sink.write(data)
        return
    with atomic_path(target, force=force) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str, *, force: bool = False,
                      within: str | os.PathLike | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write_bytes`.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> atomic_write_text(target, "é")
    >>> target.read_text(encoding="utf-8")
    'é'
    """
    atomic_write_bytes(path, text.encode("utf-8"), force=force, within=within)


def remove_stale_temps(directory: str | os.PathLike, name: str | None = None, *,
                       min_age_s: float = 0.0) -> list[Path]:
    """Delete the temporary files that killed saves left in ``directory``; return them.

    Only files named like the temporaries of :func:`atomic_path`
    (``.NAME.XXXXXXXX.tmp``) are touched, and only regular files (never a
    link). Call it at start-up, when no other process is saving into the
    directory, or give ``min_age_s`` to spare files modified more recently
    than that (a save in progress).

    Parameters
    ----------
    directory : path-like
        Where to look (not recursive). A missing directory has nothing to clean.
    name : str, optional
        Only the temporaries of this file name (e.g. ``"checkpoint.pt"``);
        all of them when omitted.
    min_age_s : float
        Spare files modified less than this many seconds ago.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / ".checkpoint.pt.k3j9_x0a.tmp").write_bytes(b"half")
    >>> _ = (folder / "checkpoint.pt").write_bytes(b"whole")
    >>> [p.name for p in remove_stale_temps(folder, "checkpoint.pt")]
    ['.checkpoint.pt.k3j9_x0a.tmp']
    >>> sorted(p.name for p in folder.iterdir())
    ['checkpoint.pt']
    """
    pattern = re.compile(_TEMP_NAME.replace("(?P<name>.+)", f"(?P<name>{re.escape(name)})")
                         if name is not None else _TEMP_NAME)
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    newest = time.time() - min_age_s
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        if not pattern.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        if min_age_s > 0 and entry.stat(follow_symlinks=False).st_mtime > newest:
            continue
        with contextlib.suppress(FileNotFoundError):  # another cleaner was quicker
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def file_sha256(path: str | os.PathLike, *, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's content, as 64 lowercase hex digits (read in chunks).

    Record it beside a saved file and compare at load time to catch corruption.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = target.write_bytes(b"abc")
    >>> file_sha256(target)
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    if chunk_size < 1:
        raise AutomatonError(f"chunk_size must be positive, got {chunk_size}")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileTooLargeError(AutomatonError):
    """A file is larger than its reader allows, or not a regular file (a device, a FIFO)."""


def read_bytes_limited(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked before reading.

    ``/dev/zero``, a FIFO or a device given as a data file would otherwise be read until
    memory runs out (or block forever): they are refused, and so is a regular file over
    ``limit``, with one line naming the file.

    Raises
    ------
    FileTooLargeError
        Not a regular file, or larger than ``limit``.
    FileNotFoundError, IsADirectoryError, PermissionError
        As ``open`` does.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> read_bytes_limited(p, 3)
    b'abc'
    >>> read_bytes_limited(p, 2)
    Traceback (most recent call last):
    ...
    automata.atomic.FileTooLargeError: ... holds 3 bytes, more than the 2 its reader allows
    """
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise FileTooLargeError(f"{path} is not a regular file (a device, a FIFO or a socket); "
                                "refusing to read it")
    if st.st_size > limit:
        raise FileTooLargeError(f"{path} holds {st.st_size} bytes, more than the {limit} its "
                                "reader allows")
    with open(path, "rb") as handle:
        # read(limit + 1) would allocate the whole bound (GiBs) for a file of a few bytes
        data = handle.read(st.st_size + 1)
        if len(data) > st.st_size:  # it grew after the stat: read on, within the bound
            parts = [data]
            while len(data) <= limit and (part := handle.read(min(1 << 20, limit + 1 - len(data)))):
                parts.append(part)
                data = b"".join(parts)
    if len(data) > limit:  # it grew while being read
        raise FileTooLargeError(f"{path} holds more than the {limit} bytes its reader allows")
    return data
