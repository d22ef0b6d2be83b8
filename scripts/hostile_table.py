"""Attack the command line the way a careless user or an attacker would, and print what happened.

Each scenario builds its hostile input in a scratch directory, runs one ``seqvae`` command
in a child process and records its exit code, wall time, the child's peak resident size
(``ru_maxrss`` of that child, from ``os.wait4``; Linux carries the harness's own peak
into a child across ``exec``, so the harness imports nothing heavy) and the line that tells the outcome
(the last line the command wrote on stderr, or a scenario's own check). A scenario *holds*
when the outcome is the one a user should get: a one-line error and a non-zero exit for
bad input, a warning and the true result for a forged census chunk, the second writer
refused, and so on. The table is Markdown; ``--json`` prints the rows instead.

    .venv/bin/python scripts/hostile_table.py                 # every scenario (about 2 minutes)
    .venv/bin/python scripts/hostile_table.py --only bomb     # names containing 'bomb'
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEQVAE = [sys.executable, "-m", "seqvae.cli"]
DRUGS = ROOT / "data" / "examples" / "drugs.smi"
TINY_MODEL = json.dumps(dict(d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16, dec_layers=1,
                             embed_dim=8, conv_channels=[8], conv_kernels=[3]))
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "MPLBACKEND": "Agg",
       # A scheduler that does not answer must not hold the table for Dask's default 30 s.
       "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}


@dataclass
class Row:
    item: str
    name: str
    tried: str
    rc: int
    seconds: float
    peak_mb: float
    outcome: str
    holds: bool


@dataclass
class Child:
    rc: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run(args: list[str], *, cwd: Path, timeout: float = 300, interrupt_after: float | None = None,
        stdin=None) -> Child:
    """Run ``args`` as a child; its own peak RSS through wait4 (not the harness's)."""
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=out, stderr=err, stdin=stdin,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            start = time.perf_counter()   # the time that counts is from Ctrl-C to exit
            proc.send_signal(signal.SIGINT)
        deadline = time.perf_counter() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Child(proc.returncode, seconds, usage.ru_maxrss / 1024, out_path.read_text(),
                 err_path.read_text())


# ---------------------------------------------------------------- fixtures built once

class Scratch:
    """The scratch directory and the runs the scenarios attack, built on first use."""

    def __init__(self, base: Path):
        self.base = base
        self._smiles_run: Path | None = None
        self._search: Path | None = None
        self._census: Path | None = None

    def fresh_copy(self, src: Path, name: str) -> Path:
        dst = self.base / name
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)
        for lock in dst.glob(".lock"):
            lock.unlink()
        return dst

    def smiles_run(self) -> Path:
        if self._smiles_run is None:
            data = self.base / "drugs.parquet"
            check(run(SEQVAE + ["data", "smiles", str(DRUGS), "-o", str(data)], cwd=self.base))
            run_dir = self.base / "smiles_run"
            check(run(SEQVAE + ["train", "smiles", "--data", str(data), "--out", str(run_dir),
                                "--epochs", "1", "--model-config", TINY_MODEL, "--threads", "1",
                                "--device", "cpu", "--quiet"], cwd=self.base))
            self._smiles_run = run_dir
        return self._smiles_run

    def search(self) -> Path:
        if self._search is None:
            out = self.base / "search"
            check(run(SEQVAE + ["search-extreme", "-n", "5", "--method", "random", "--budget",
                                "300", "--seed", "0", "--out", str(out)], cwd=self.base))
            self._search = out
        return self._search

    def census(self) -> Path:
        if self._census is None:
            out = self.base / "census"
            check(run(SEQVAE + CENSUS_5 + ["--out", str(out)], cwd=self.base))
            self._census = out
        return self._census


CENSUS_5 = ["automata", "census", "-n", "5", "-k", "2", "--min-rt", "13"]


def check(child: Child) -> None:
    if child.rc != 0:
        raise SystemExit(f"setting up failed (rc {child.rc}): {child.last_line}")


def one_line_error(child: Child) -> bool:
    """Non-zero exit, an ``error:`` line, and no traceback."""
    return child.rc not in (0,) and child.last_line.startswith("error:") \
        and "Traceback" not in child.stderr


# ---------------------------------------------------------------- the scenarios

def _smi(scratch: Scratch, name: str, line: str) -> Path:
    path = scratch.base / name
    path.write_text("CCO ethanol\n" + line + "\nc1ccccc1 benzene\n")
    return path


def deep_branches(s: Scratch) -> tuple[Child, str, bool]:
    src = _smi(s, "deep.smi", "C(" * 20_000 + "C" + ")" * 20_000)
    child = run(SEQVAE + ["data", "smiles", str(src), "-o", str(s.base / "deep.parquet"),
                          "--json"], cwd=s.base)
    report = json.loads(child.stdout) if child.rc == 0 else {}
    outcome = f"rc 0, kept {report.get('kept')}, invalid {report.get('invalid')}"
    return child, outcome, child.rc == 0 and report.get("invalid") == 1


def long_chain(s: Scratch) -> tuple[Child, str, bool]:
    src = _smi(s, "chain.smi", "C" * 100_000)
    child = run(SEQVAE + ["data", "smiles", str(src), "-o", str(s.base / "chain.parquet"),
                          "--json"], cwd=s.base)
    report = json.loads(child.stdout) if child.rc == 0 else {}
    outcome = f"rc 0, kept {report.get('kept')}, invalid {report.get('invalid')}"
    return child, outcome, child.rc == 0 and report.get("invalid") == 1


def deep_item_in_run(s: Scratch) -> tuple[Child, str, bool]:
    run_dir = s.fresh_copy(s.smiles_run(), "run_deep_item")
    with open(run_dir / "items" / "heldout.txt", "a") as f:
        f.write("C(" * 20_000 + "C" + ")" * 20_000 + "\n")
    child = run(SEQVAE + ["eval", str(run_dir), "--samples", "20", "--max-items", "50",
                          "--json", "--threads", "1"], cwd=s.base)
    if child.rc == 0:
        report = json.loads(child.stdout)
        skipped = report.get("eval_items_skipped")
        return child, f"rc 0, eval_items_skipped {skipped}", bool(skipped)
    return child, child.last_line, one_line_error(child)


def gzip_lines_bomb(s: Scratch) -> tuple[Child, str, bool]:
    bomb = s.base / "lines.smi.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz:
        block = b"C\n" * 1_000_000
        for _ in range(50):
            gz.write(block)
    child = run(SEQVAE + ["data", "smiles", str(bomb), "-o", str(s.base / "b.parquet")],
                cwd=s.base)
    return child, child.last_line, one_line_error(child)


def sdf_gzip_bomb(s: Scratch) -> tuple[Child, str, bool]:
    bomb = s.base / "records.sdf.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz:
        block = b"\n  x\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n" * 100_000
        for _ in range(130):                    # about 600 MB of empty records
            gz.write(block)
    child = run(SEQVAE + ["data", "smiles", str(bomb), "-o", str(s.base / "sdf.parquet")],
                cwd=s.base)
    return child, child.last_line, one_line_error(child)


def parquet_bomb(s: Scratch) -> tuple[Child, str, bool]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    bomb = s.base / "bomb.parquet"
    # 1.2 GB of text that dictionary encoding keeps in a few hundred kB; built as a
    # dictionary array, so the harness never holds the 1.2 GB itself.
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(12_000, dtype=np.int32)),
                                            pa.array(["C" * 100_000]))
    pq.write_table(pa.table({"item": column}), bomb, compression="zstd")
    child = run(SEQVAE + ["train", "strings", str(bomb), "--out", str(s.base / "pq_run"),
                          "--epochs", "1", "--threads", "1", "--quiet"], cwd=s.base)
    return child, child.last_line, one_line_error(child)


def _zip_bomb(path: Path, name: str, mb: int) -> None:
    """An .npz whose one member inflates to ``mb`` MB of zeros (written in 1 MB pieces, so the
    harness itself stays small: its peak would show in every later child's figure)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (mb << 17,)})
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open(name, "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(mb):
                member.write(zeros)


def prior_zip_bomb(s: Scratch) -> tuple[Child, str, bool]:
    run_dir = s.fresh_copy(s.smiles_run(), "run_prior_bomb")
    _zip_bomb(run_dir / "latent_prior.npz", "weights.npy", 2000)
    child = run(SEQVAE + ["sample", str(run_dir), "--prior", "fitted", "-n", "5"], cwd=s.base)
    return child, child.last_line, one_line_error(child)


def checkpoint_zip_bomb(s: Scratch) -> tuple[Child, str, bool]:
    out = s.fresh_copy(s.search(), "search_bomb")
    _zip_bomb(out / "checkpoint.npz", "tables.npy", 2000)
    child = run(SEQVAE + ["search-extreme", "-n", "5", "--method", "random", "--budget", "600",
                          "--seed", "0", "--out", str(out), "--resume"], cwd=s.base)
    return child, child.last_line, one_line_error(child)


def dev_zero_automata(s: Scratch) -> tuple[Child, str, bool]:
    child = run(SEQVAE + ["automata", "info", "/dev/zero"], cwd=s.base, timeout=60)
    return child, child.last_line, one_line_error(child)


def fifo_census_chunk(s: Scratch) -> tuple[Child, str, bool]:
    out = s.fresh_copy(s.census(), "census_fifo")
    chunk = sorted((out / "chunks").iterdir())[0]
    chunk.unlink()
    os.mkfifo(chunk)
    child = run(SEQVAE + CENSUS_5 + ["--out", str(out), "--resume"], cwd=s.base, timeout=60)
    holds = child.seconds < 30 and (one_line_error(child) or child.rc == 0)
    outcome = child.last_line if child.rc else f"rc 0: {child.last_line or 'resumed'}"
    return child, outcome, holds


def forged_census_chunk(s: Scratch) -> tuple[Child, str, bool]:
    out = s.fresh_copy(s.census(), "census_forged")
    path = next(p for p in sorted((out / "chunks").iterdir())
                if json.loads(p.read_text())["chunk"]["automata"])
    obj = json.loads(path.read_text())
    obj["chunk"]["automata"]["a:00000 b:00000"] = 99          # real reset length: 1
    obj["sha256"] = hashlib.sha256(json.dumps(obj["chunk"], sort_keys=True,
                                              separators=(",", ":")).encode()).hexdigest()
    path.write_text(json.dumps(obj))
    child = run(SEQVAE + CENSUS_5 + ["--out", str(out), "--resume", "--json"], cwd=s.base)
    warnings = [line for line in child.stderr.splitlines() if line.startswith("warning:")]
    true = run(SEQVAE + CENSUS_5 + ["--json"], cwd=s.base)
    same = child.rc == 0 and json.loads(child.stdout).get("histogram") == \
        json.loads(true.stdout).get("histogram")
    outcome = f"rc {child.rc}, {len(warnings)} warning naming {path.name}: " \
              f"{'true histogram' if same else 'histogram differs'}"
    return child, outcome, same and len(warnings) == 1 and path.name in warnings[0]


def search_over_search(s: Scratch) -> tuple[Child, str, bool]:
    out = s.fresh_copy(s.search(), "search_again")
    before = sorted(p.name for p in out.rglob("*"))
    child = run(SEQVAE + ["search-extreme", "-n", "5", "--method", "random", "--budget", "300",
                          "--seed", "1", "--out", str(out)], cwd=s.base)
    untouched = sorted(p.name for p in out.rglob("*")) == before
    return child, child.last_line, one_line_error(child) and untouched


def two_trainings(s: Scratch) -> tuple[Child, str, bool]:
    out = s.base / "twice"
    shutil.rmtree(out, ignore_errors=True)
    data = s.base / "drugs.parquet"
    s.smiles_run()
    args = SEQVAE + ["train", "smiles", "--data", str(data), "--out", str(out), "--epochs", "30",
                     "--model-config", TINY_MODEL, "--threads", "1", "--device", "cpu", "--quiet"]
    first = subprocess.Popen(args, cwd=s.base, env=ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):        # until the first has taken the directory
            if (out / ".lock").exists():
                break
            time.sleep(0.05)
        child = run(args + ["--seed", "2"], cwd=s.base)
    finally:
        first.kill()
        first.wait()
    return child, child.last_line, one_line_error(child)


def remote_tcp_scheduler(s: Scratch) -> tuple[Child, str, bool]:
    # 192.0.2.1 is TEST-NET-1: nothing answers, so only the warning and the failure show.
    child = run(SEQVAE + CENSUS_5 + ["--backend", "dask", "--scheduler", "tcp://192.0.2.1:8786"],
                cwd=s.base, timeout=120)
    warned = any(line.startswith("warning:") and "tcp://" in line
                 for line in child.stderr.splitlines())
    return child, ("warned; " if warned else "no warning; ") + child.last_line, \
        warned and one_line_error(child)


def digest_removed(s: Scratch) -> tuple[Child, str, bool]:
    run_dir = s.fresh_copy(s.smiles_run(), "run_no_digest")
    config_path = run_dir / "config.json"
    config = json.loads(config_path.read_text())
    removed = [key for key in list(config) if "digest" in key or "sha256" in key]
    for key in removed:
        del config[key]
    config_path.write_text(json.dumps(config))
    child = run(SEQVAE + ["sample", str(run_dir), "-n", "3"], cwd=s.base)
    return child, child.last_line, bool(removed) and one_line_error(child)


def symlinked_prior(s: Scratch) -> tuple[Child, str, bool]:
    run_dir = s.fresh_copy(s.smiles_run(), "run_link")
    outside = s.base / "outside.npz"
    outside.unlink(missing_ok=True)
    (run_dir / "latent_prior.npz").symlink_to(outside)
    child = run(SEQVAE + ["fit-prior", str(run_dir), "-k", "2", "--threads", "1"], cwd=s.base)
    return child, child.last_line, one_line_error(child) and not outside.exists()


def ctrl_c_exact_solver(s: Scratch) -> tuple[Child, str, bool]:
    path = s.base / "rand2_400.txt"
    check(run(SEQVAE + ["automata", "random", "-n", "400", "-k", "2", "--count", "1", "--seed",
                        "3", "--synchronizing", "-o", str(path)], cwd=s.base))
    child = run(SEQVAE + ["automata", "reset-word", str(path)], cwd=s.base, interrupt_after=12)
    outcome = f"exit {child.seconds:.2f} s after SIGINT: {child.last_line}"
    return child, outcome, child.rc == 130 and child.seconds < 2


def ctrl_c_census_chunk(s: Scratch) -> tuple[Child, str, bool]:
    child = run(SEQVAE + ["automata", "census", "-n", "9", "-k", "2", "--min-rt", "51"],
                cwd=s.base, interrupt_after=8)
    outcome = f"exit {child.seconds:.2f} s after SIGINT: {child.last_line}"
    return child, outcome, child.rc == 130 and child.seconds < 2


#: (item of the issue, name, what was tried, scenario)
SCENARIOS: list[tuple[str, str, str, Callable]] = [
    ("1", "deep-branches", "data smiles: one 40 kB line C(C(C(... (branch depth 20,000)",
     deep_branches),
    ("1", "long-chain", "data smiles: one 100 kB chain of C", long_chain),
    ("1", "deep-item-in-run", "eval: the 40 kB line appended to RUN/items/heldout.txt",
     deep_item_in_run),
    ("2", "gzip-lines-bomb", "data smiles: 50 M lines in a .smi.gz", gzip_lines_bomb),
    ("2", "sdf-gzip-bomb", "data smiles: 600 MB of SD records in a 600 kB .sdf.gz",
     sdf_gzip_bomb),
    ("2", "parquet-bomb", "train strings: 1.2 GB of text in a Parquet file", parquet_bomb),
    ("2", "prior-zip-bomb", "sample --prior fitted: a 2 GB member in latent_prior.npz",
     prior_zip_bomb),
    ("2", "checkpoint-zip-bomb", "search-extreme --resume: a 2 GB member in checkpoint.npz",
     checkpoint_zip_bomb),
    ("2", "dev-zero", "automata info /dev/zero", dev_zero_automata),
    ("2", "fifo-chunk", "census --resume: a FIFO in place of a chunk", fifo_census_chunk),
    ("3", "forged-chunk", "census --resume: a chunk with an injected entry (rt 99, true 1) "
     "and its SHA-256 recomputed", forged_census_chunk),
    ("4", "search-over-search", "search-extreme --out on a finished search, no --resume",
     search_over_search),
    ("4", "two-trainings", "a second train into the --out of a running one", two_trainings),
    ("5", "remote-tcp", "census --backend dask --scheduler tcp://192.0.2.1:8786",
     remote_tcp_scheduler),
    ("6", "digest-removed", "sample: a run whose config.json lost its checkpoint digest",
     digest_removed),
    ("6", "symlinked-prior", "fit-prior: RUN/latent_prior.npz a link out of the run",
     symlinked_prior),
    ("6", "ctrl-c-solver", "Ctrl-C 12 s into the exact solver (random binary n = 400)",
     ctrl_c_exact_solver),
    ("6", "ctrl-c-census", "Ctrl-C 8 s into the census of binary n = 9", ctrl_c_census_chunk),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if args.only in s[1]]
    if not chosen:
        parser.error(f"no scenario name contains {args.only!r}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        scratch = Scratch(Path(tmp))
        for item, name, tried, scenario in chosen:
            child, outcome, holds = scenario(scratch)
            rows.append(Row(item, name, tried, child.rc, round(child.seconds, 2),
                            round(child.peak_mb), outcome[:160], bool(holds)))
            print(f"{name}: {'holds' if holds else 'FAILS'} ({outcome[:100]})", file=sys.stderr)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    else:
        print("| item | scenario | what was tried | rc | seconds | peak MB | outcome | holds |")
        print("|---|---|---|---:|---:|---:|---|---|")
        for r in rows:
            outcome = r.outcome.replace("|", "\\|")
            print(f"| {r.item} | {r.name} | {r.tried} | {r.rc} | {r.seconds} | {r.peak_mb} | "
                  f"{outcome} | {'yes' if r.holds else 'NO'} |")
    return 0 if all(r.holds for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
