"""One writer per directory: a second writer is refused in one line; a dead holder's lock is taken."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from automata.census_pruned import pruned_census
from automata.dirlock import LOCK_NAME, DirectoryLock, DirectoryLockedError
from tests.lock_helpers import held_lock

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_process_is_refused_and_a_killed_holder_releases(tmp_path):
    out = tmp_path / "census"
    with held_lock(out, "test holder") as pid:
        with pytest.raises(DirectoryLockedError, match=rf"in use by process {pid} \(test holder\)"):
            pruned_census(5, 2, 12, out_dir=out)
        assert json.loads((out / LOCK_NAME).read_text())["pid"] == pid
        assert not (out / "census.json").exists()  # nothing was written by the refused run
    # kill -9 left the lock file behind; the lock itself died with its process
    assert (out / LOCK_NAME).exists()
    result = pruned_census(5, 2, 12, out_dir=out)
    assert result.histogram == pruned_census(5, 2, 12).histogram


def test_the_lock_is_released_after_the_job_even_on_error(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with DirectoryLock(tmp_path):
            1 / 0
    started = time.perf_counter()
    with DirectoryLock(tmp_path):
        pass
    assert time.perf_counter() - started < 1


def test_the_lock_is_reentrant_for_its_holder_object(tmp_path):
    lock = DirectoryLock(tmp_path)
    assert lock.acquire() is lock.acquire()
    lock.release()
    lock.release()


def test_a_data_set_write_waits_for_no_one_but_refuses_a_live_writer(tmp_path):
    import pandas as pd

    from seqvae.data import load_dataset, save_dataset

    target = tmp_path / "d.parquet"
    with DirectoryLock(tmp_path, what="data set d.parquet", name=".d.parquet.lock"):
        holder = subprocess.run(
            [sys.executable, "-c", "import sys, pandas as pd; from seqvae.data import save_dataset; "
             "save_dataset(pd.DataFrame({'item': ['x']}), sys.argv[1])", str(target)],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert holder.returncode != 0 and "in use by process" in holder.stderr
    save_dataset(pd.DataFrame({"item": ["a", "b"]}), target, {"note": "mine"})
    df, meta = load_dataset(target)
    assert df["item"].tolist() == ["a", "b"] and meta["note"] == "mine"
    save_dataset(pd.DataFrame({"item": ["c"]}), tmp_path / "other.parquet")  # another set: free
