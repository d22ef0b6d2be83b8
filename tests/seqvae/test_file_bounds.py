"""Every reader of a file checks its size before it allocates: bombs and endless files are
refused in one line, within a small fraction of the memory they would take."""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automata.atomic import FileTooLargeError, read_bytes_limited
from automata.formats import read_automata
from seqvae.data import MAX_PARQUET_BYTES, load_dataset, load_strings_report
from seqvae.errors import DataError, LatentError, RunError
from seqvae.latent_prior import GaussianMixture
from seqvae.rundir import RunDir
from seqvae.textfiles import MAX_LINES

ROOT = Path(__file__).resolve().parents[2]


def test_a_gzip_of_too_many_lines_is_refused_before_they_become_strings(tmp_path):
    bomb = tmp_path / "lines.smi.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz:
        for _ in range(MAX_LINES // 1_000_000 + 1):
            gz.write(b"C\n" * 1_000_000)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(DataError, match="more than the 10,000,000"):
        load_strings_report(bomb)
    plain = tmp_path / "lines.txt.gz"
    plain.write_bytes(bomb.read_bytes())
    with pytest.raises(DataError, match="lines, more than"):
        load_strings_report(plain)


@pytest.mark.parametrize("reader", ["automata", "strings", "items", "config", "metrics",
                                    "sidecar"])
def test_dev_zero_and_fifos_are_refused_at_once(tmp_path, reader):
    target = Path("/dev/zero")
    if reader == "automata":
        with pytest.raises(FileTooLargeError, match="not a regular file"):
            read_automata(target)
    elif reader == "strings":
        with pytest.raises(DataError, match="not a regular file"):
            load_strings_report(target)
    elif reader in ("items", "config", "metrics"):
        run = tmp_path / "run"
        (run / "items").mkdir(parents=True)
        name = {"items": "items/heldout.txt", "config": "config.json",
                "metrics": "metrics.jsonl"}[reader]
        (run / name).symlink_to(target)
        store = RunDir(run)
        with pytest.raises(RunError, match="not a regular file|not a run directory"):
            if reader == "items":
                store.read_items("heldout")
            elif reader == "config":
                store.read_config()
            else:
                store.truncate_metrics(0, 0)
    else:
        data = tmp_path / "d.parquet"
        pd.DataFrame({"item": ["a:10 b:00"]}).to_parquet(data)
        (tmp_path / "d.parquet.json").symlink_to(target)
        with pytest.raises(DataError, match="not a regular file"):
            load_dataset(data)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(FileTooLargeError, match="not a regular file"):
        read_bytes_limited(fifo, 1 << 20)
    with pytest.raises(DataError, match="not a regular file"):
        load_strings_report(fifo)


def test_a_parquet_bomb_is_refused_from_its_footer(tmp_path, monkeypatch):
    import seqvae.data as data

    path = tmp_path / "bomb.parquet"
    pd.DataFrame({"item": ["C" * 10_000] * 2_000}).to_parquet(path, compression="zstd")
    assert path.stat().st_size < 100_000          # 20 MB of text in a few kB
    monkeypatch.setattr(data, "MAX_PARQUET_BYTES", 1 << 20)
    with pytest.raises(DataError, match="uncompressed, over the"):
        load_dataset(path)
    with pytest.raises(DataError, match="uncompressed, over the"):
        load_strings_report(path)
    assert MAX_PARQUET_BYTES >= 1 << 30


def _zip_bomb(path: Path, mb: int) -> None:
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (mb << 17,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("weights.npy", header.getvalue() + bytes(mb << 20))


def test_a_zip_bomb_prior_is_refused_before_inflating(tmp_path):
    bomb = tmp_path / "latent_prior.npz"
    _zip_bomb(bomb, 300)                      # 300 MB of zeros
    assert bomb.stat().st_size < 1_000_000
    # VmHWM, not ru_maxrss: the latter keeps the forking test runner's peak across exec.
    code = ("import sys\nfrom seqvae.latent_prior import GaussianMixture\n"
            "try:\n    GaussianMixture.load(sys.argv[1])\nexcept Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n")
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("LatentError") and "more than the" in lines[0], out.stderr
    assert int(lines[-1]) < 200_000   # kB: the 300 MB were never inflated


@pytest.mark.parametrize("payload", [b"PK\x03\x04garbage", b"\x93NUMPY\x01\x00{'descr'",
                                     b"", b"\x00" * 1000])
def test_malformed_priors_give_one_typed_error(tmp_path, payload):
    path = tmp_path / "latent_prior.npz"
    path.write_bytes(payload)
    with pytest.raises(LatentError, match="not a fitted prior file"):
        GaussianMixture.load(path)
    weird = tmp_path / "weird.npz"
    import zipfile

    with zipfile.ZipFile(weird, "w") as z:
        z.writestr("weights.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': (((\n" + b" " * 8)
    with pytest.raises(LatentError):
        GaussianMixture.load(weird)


def test_a_large_honest_strings_file_still_loads(tmp_path):
    path = tmp_path / "many.smi.gz"
    with gzip.open(path, "wt") as gz:
        gz.write("".join(f"C{'C' * (i % 30)}O\n" for i in range(300_000)))
    strings, report = load_strings_report(path)
    assert len(strings) == 300_000 and report == {"bad_lines": 0, "too_long": 0}


def test_a_dictionary_encoded_parquet_bomb_is_refused_while_decoding(tmp_path, monkeypatch):
    # One 10 kB value on 2,000 rows, stored as an Arrow dictionary: each batch reports the
    # dictionary once (a few kB), yet it becomes 20 MB of strings downstream.
    import pyarrow as pa
    import pyarrow.parquet as pq

    import seqvae.data as data

    path = tmp_path / "dict_bomb.parquet"
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(2_000, dtype=np.int32)),
                                            pa.array(["C" * 10_000]))
    pq.write_table(pa.table({"item": column}), path)
    monkeypatch.setattr(data, "MAX_PARQUET_BYTES", 1 << 20)
    with pytest.raises(DataError, match="decodes to more than"):
        load_strings_report(path)


def test_an_npz_member_that_inflates_a_thousandfold_is_refused_unopened(tmp_path):
    from seqvae.errors import SearchError
    from seqvae.hunt.search.checkpoint import load_checkpoint

    bomb = tmp_path / "checkpoint.npz"
    _zip_bomb(bomb, 50)             # 50 MB of zeros in about 50 kB: under the size bound
    with pytest.raises(SearchError, match="more than 100 times"):
        load_checkpoint(bomb)
    with pytest.raises(LatentError, match="more than 100 times"):
        GaussianMixture.load(bomb)
    honest = tmp_path / "honest.npz"     # random tables compress a few times, and load
    np.savez_compressed(honest, x=np.random.default_rng(0).integers(0, 9, 4 << 20, np.uint8))
    from seqvae.npzfiles import check_npz

    check_npz(honest, 1 << 30, ValueError)
