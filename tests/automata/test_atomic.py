"""Atomic writes: all or nothing, and never at the expense of what is at the target."""
import hashlib
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from automata.atomic import (
    UnsafeTargetError,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    file_sha256,
    remove_stale_temps,
)


def test_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "precious")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half writ")
            raise RuntimeError("crash in the middle of a write")
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_result_has_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        target = tmp_path / "out.txt"
        atomic_write_text(target, "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


# ------------------------------------------------------------ what is at the target
def test_a_symlink_stays_a_link_and_its_target_is_written(tmp_path):
    real = tmp_path / "data" / "real.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(Path("data") / "real.txt")  # relative, as users make them
    atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "real.txt")
    assert real.read_text() == "new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.txt"]


def test_a_chain_of_links_and_a_dangling_link(tmp_path):
    real = tmp_path / "real.txt"
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(real)  # dangling until written
    with atomic_path(tmp_path / "a") as tmp:
        tmp.write_text("through two links")
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()
    assert real.read_text() == "through two links"


def test_a_symlink_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(UnsafeTargetError, match="loop"):
        atomic_write_text(tmp_path / "a", "x")
    assert (tmp_path / "a").is_symlink()


def test_dev_null_is_written_through_not_replaced():
    before = os.stat("/dev/null")
    atomic_write_text("/dev/null", "discarded")
    with atomic_path("/dev/null") as tmp:
        tmp.write_bytes(b"also discarded")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


@pytest.mark.parametrize("through_atomic_path", [False, True])
def test_a_fifo_receives_the_data_and_stays_a_fifo(tmp_path, through_atomic_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    if through_atomic_path:
        with atomic_path(fifo) as tmp:
            tmp.write_bytes(b"line one\nline two\n")
    else:
        atomic_write_bytes(fifo, b"line one\nline two\n")
    reader.join(timeout=10)
    assert received == [b"line one\nline two\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_socket_is_refused(tmp_path):
    short = Path(tempfile.mkdtemp(prefix="s"))  # socket paths are limited to ~100 bytes
    path = short / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(UnsafeTargetError, match="socket"):
            atomic_write_text(path, "x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()
        path.unlink()
        short.rmdir()


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path, "x")


def test_a_read_only_file_is_refused_unless_forced(tmp_path):
    target = tmp_path / "frozen.txt"
    target.write_text("keep me")
    target.chmod(0o444)
    with pytest.raises(UnsafeTargetError, match="read-only"):
        atomic_write_text(target, "overwrite")
    with pytest.raises(UnsafeTargetError):
        with atomic_path(target) as tmp:  # refused before the block runs
            tmp.write_text("overwrite")
    assert target.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["frozen.txt"]
    atomic_write_text(target, "forced", force=True)
    assert target.read_text() == "forced"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def test_an_existing_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "script.sh"
    target.write_text("#!/bin/sh\n")
    target.chmod(0o751)
    atomic_write_text(target, "#!/bin/sh\necho hi\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o751


# ------------------------------------------------------------ leftovers and checksums
def test_remove_stale_temps_removes_only_leftovers_of_killed_saves(tmp_path):
    for name in (".checkpoint.pt.ab12_xyz.tmp", ".metrics.jsonl.00000000.tmp",
                 "checkpoint.pt", ".checkpoint.pt.tmp", ".checkpoint.pt.toolongname.tmp",
                 "notes.tmp"):
        (tmp_path / name).write_text(name)
    (tmp_path / ".link.txt.abcdefgh.tmp").symlink_to(tmp_path / "checkpoint.pt")
    removed = remove_stale_temps(tmp_path, "checkpoint.pt")
    assert [p.name for p in removed] == [".checkpoint.pt.ab12_xyz.tmp"]
    removed = remove_stale_temps(tmp_path)
    assert [p.name for p in removed] == [".metrics.jsonl.00000000.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".checkpoint.pt.tmp", ".checkpoint.pt.toolongname.tmp", ".link.txt.abcdefgh.tmp",
        "checkpoint.pt", "notes.tmp"]
    assert remove_stale_temps(tmp_path / "missing") == []


def test_remove_stale_temps_spares_a_save_in_progress(tmp_path):
    old = tmp_path / ".run.json.aaaaaaaa.tmp"
    fresh = tmp_path / ".run.json.bbbbbbbb.tmp"
    old.write_text("old")
    fresh.write_text("fresh")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert remove_stale_temps(tmp_path, "run.json", min_age_s=60) == [old]
    assert fresh.exists()


def test_the_temp_file_of_a_killed_save_is_found(tmp_path):
    target = tmp_path / "weights.bin"
    target.write_bytes(b"previous")
    killed = subprocess.run(
        [sys.executable, "-c",
         "import os, sys\n"
         "from automata.atomic import atomic_path\n"
         "with atomic_path(sys.argv[1]) as tmp:\n"
         "    tmp.write_bytes(b'partial')\n"
         "    os.kill(os.getpid(), 9)\n", str(target)])
    assert killed.returncode == -9
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1
    assert remove_stale_temps(tmp_path, "weights.bin") == leftovers
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]
    assert target.read_bytes() == b"previous"


def test_file_sha256_matches_hashlib_and_notices_one_flipped_bit(tmp_path):
    data = bytes(range(256)) * 5000  # more than one chunk
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    digest = file_sha256(path, chunk_size=4096)
    assert digest == hashlib.sha256(data).hexdigest() == file_sha256(path)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    assert file_sha256(path) != digest
    with pytest.raises(ValueError):
        file_sha256(path, chunk_size=0)


def test_in_a_directory_being_written_a_fifo_is_replaced_not_written_into(tmp_path):
    from automata.atomic import atomic_path, atomic_write_text

    for name, write in [("a.json", lambda p: atomic_write_text(p, "{}", within=tmp_path)),
                        ("b.bin", lambda p: _write_via_path(atomic_path, p, tmp_path))]:
        target = tmp_path / name
        os.mkfifo(target)
        write(target)           # would block for ever if it opened the FIFO
        assert stat.S_ISREG(os.stat(target).st_mode)
        assert target.read_text() == "{}"


def _write_via_path(atomic_path, target, within):
    with atomic_path(target, within=within) as tmp:
        tmp.write_text("{}")
