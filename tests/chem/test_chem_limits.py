"""SMILES that crash or stall RDKit never reach it: measured first, skipped and counted as invalid.

The commands run in child processes: RDKit's crash on a deeply branched string is a
segmentation fault, which would take the test runner down with it.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("rdkit")

from seqvae.molecules.chem.errors import ChemError  # noqa: E402
from seqvae.molecules.chem.invalid import invalid_reason  # noqa: E402
from seqvae.molecules.chem.limits import SmilesLimits, smiles_limit_reason  # noqa: E402
from seqvae.molecules.chem.rdkit_support import canonical_smiles_many, mol_from_smiles  # noqa: E402
from seqvae.molecules.chem.selfies_codec import smiles_to_selfies  # noqa: E402
from tests.seqvae.mol_helpers import DRUGS, train_tiny_smiles_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BRANCHES = "C(" * 20_000 + "C" + ")" * 20_000          # 40 kB, depth 20,000: RDKit segfaults
CHAIN = "C" * 100_000                                   # RDKit takes minutes (quadratic)
RINGS = "C" + "".join(f"C{d}C{d}" for d in "123456789" * 12)   # 216 ring labels in 433 characters


@pytest.mark.parametrize("smiles, phrase", [
    (BRANCHES, "length"), (CHAIN, "length"), ("C(" * 70 + "C" + ")" * 70, "branch depth"),
    (RINGS, "ring-closure"),
])
def test_over_limit_strings_are_invalid_without_rdkit(smiles, phrase):
    assert phrase in smiles_limit_reason(smiles)
    started = time.perf_counter()
    assert mol_from_smiles(smiles) is None
    assert canonical_smiles_many([smiles, "CCO"]) == [None, "CCO"]
    assert invalid_reason(smiles) == "too_large"
    with pytest.raises(ChemError, match="SELFIES"):
        smiles_to_selfies(smiles)
    assert time.perf_counter() - started < 1.0


def test_drug_like_molecules_pass_and_limits_are_configurable():
    for line in DRUGS.read_text().splitlines():
        smiles = line.split()[0] if line.strip() else ""
        if smiles:
            assert smiles_limit_reason(smiles) is None, smiles
    wide = SmilesLimits(max_length=200_000, max_branch_depth=30_000)
    assert smiles_limit_reason(CHAIN, wide) is None
    assert smiles_limit_reason("[13CH3]C%12CC%12", SmilesLimits(max_ring_closures=2)) is None
    with pytest.raises(ChemError):
        SmilesLimits(max_length=0)


def _cli(*args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqvae.cli", *args], cwd=cwd, timeout=timeout,
                          capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg",
                               "OMP_NUM_THREADS": "1", "HOME": str(cwd)})


def test_data_smiles_skips_the_crashing_lines(tmp_path):
    lines = DRUGS.read_text().splitlines()
    (tmp_path / "hostile.smi").write_text("\n".join([BRANCHES, *lines, CHAIN]) + "\n")
    out = _cli("data", "smiles", "hostile.smi", "-o", "d.parquet", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    import pandas as pd

    items = pd.read_parquet(tmp_path / "d.parquet")["item"].tolist()
    assert items and max(map(len, items)) < 1000


def test_eval_survives_a_crashing_line_stored_in_the_run(tmp_path):
    run = train_tiny_smiles_run(tmp_path)
    heldout = run / "items" / "heldout.txt"
    heldout.write_text(BRANCHES + "\n" + heldout.read_text())
    out = _cli("eval", str(run), "--json", "--samples", "20", "--max-items", "20", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]   # before the bounds: -11 (SIGSEGV)
    report = json.loads(out.stdout)
    assert report["reconstruction_exact"] is not None
    if len(heldout.read_text().splitlines()) <= 20:   # the sample holds every stored item
        assert report["eval_items_skipped"] == 1
    train_txt = run / "items" / "train.txt"
    train_txt.write_text(BRANCHES + "\n" + train_txt.read_text())
    out = _cli("optimize", str(run), "--budget", "40", "--json", "--threads", "1", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)

