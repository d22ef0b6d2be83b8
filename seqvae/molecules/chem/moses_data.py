"""The MOSES benchmark data, fetched the way a user would: from the ``molsets`` wheel on PyPI.

The MOSES data sets (about 1.6 M training and 176 k test SMILES, plus a scaffold
test set) and the MCF filter SMARTS ship inside ``molsets`` 0.3.1. :func:`fetch_moses`
runs ``pip download --no-deps molsets==0.3.1`` into a temporary folder, unpacks
the few files that matter into a cache folder and discards the wheel; nothing
is fetched at import time, and the files are never part of this project.

The cache folder is ``$SEQVAE_CACHE/moses`` (default ``~/.cache/seqvae/moses``).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from automata.atomic import atomic_write_bytes
from seqvae.molecules.chem.errors import ChemError

__all__ = ["MOSES_PACKAGE", "MOSES_FILES", "MOSES_SPLITS", "moses_cache_dir", "moses_file",
           "fetch_moses", "moses_smiles", "moses_reference_set",
           "moses_chemnet_statistics"]

#: The pip requirement that carries the data.
MOSES_PACKAGE = "molsets==0.3.1"
#: SHA-256 of ``molsets-0.3.1-py3-none-any.whl`` as PyPI serves it (51,584,291 bytes):
#: any other file is refused, whatever index or mirror pip reached.
MOSES_WHEEL_SHA256 = "7f4450e3ebecebe79c3a2a55950c93daddee071120daf64a163d03481e811d34"
#: Files taken from the wheel: cache name -> path inside the wheel.
MOSES_FILES = {
    "train.csv.gz": "moses/dataset/data/train.csv.gz",
    "test.csv.gz": "moses/dataset/data/test.csv.gz",
    "test_scaffolds.csv.gz": "moses/dataset/data/test_scaffolds.csv.gz",
    "mcf.csv": "moses/metrics/mcf.csv",
    "wehi_pains.csv": "moses/metrics/wehi_pains.csv",
}


#: The MOSES data splits.
MOSES_SPLITS = ("train", "test", "test_scaffolds")


def moses_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the MOSES files live: ``cache_dir``, else ``$SEQVAE_CACHE/moses``, else
    ``~/.cache/seqvae/moses``.

    >>> moses_cache_dir("/tmp/x").as_posix()
    '/tmp/x'
    """
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get("SEQVAE_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "seqvae"
    return base / "moses"


def moses_file(name: str, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """Path of one cached MOSES file (a key of :data:`MOSES_FILES`), or None if not fetched.

    >>> moses_file("mcf.csv", "/nonexistent") is None
    True
    """
    if name not in MOSES_FILES:
        raise ChemError(f"unknown MOSES file {name!r}; known: {sorted(MOSES_FILES)}")
    path = moses_cache_dir(cache_dir) / name
    return path if path.is_file() else None


def fetch_moses(cache_dir: str | os.PathLike | None = None, *, python: str | None = None,
                timeout: float = 600.0, sha256: str = MOSES_WHEEL_SHA256) -> dict[str, Path]:
    """Download the ``molsets`` wheel with pip and unpack the MOSES files into the cache.

    Files already in the cache are kept. Returns ``{name: path}`` for every file of
    :data:`MOSES_FILES`.

    The wheel must have the pinned SHA-256 (:data:`MOSES_WHEEL_SHA256`; ``sha256``
    exists for tests that stand a small wheel in for it).

    Raises
    ------
    ChemError
        pip cannot fetch the wheel (no network, no package index), the wheel is not
        the pinned one, or it lacks a file.
    """
    target = moses_cache_dir(cache_dir)
    missing = [name for name in MOSES_FILES if not (target / name).is_file()]
    if missing:
        with tempfile.TemporaryDirectory(prefix="seqvae-moses-") as tmp:
            wheel = _download_wheel(Path(tmp), python or sys.executable, timeout)
            _check_digest(wheel, sha256)
            _unpack(wheel, target, missing)
    return {name: target / name for name in MOSES_FILES}


def _download_wheel(folder: Path, python: str, timeout: float) -> Path:
    cmd = [python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(folder), MOSES_PACKAGE]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChemError(f"could not run pip to fetch {MOSES_PACKAGE}: {exc}") from None
    wheels = sorted(folder.glob("molsets-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr or done.stdout or "").strip().splitlines()
        reason = last[-1] if last else f"pip exited with {done.returncode}"
        raise ChemError(f"could not download {MOSES_PACKAGE} with pip (offline, or no package "
                        f"index reachable?): {reason}")
    return wheels[0]


def _check_digest(wheel: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with open(wheel, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ChemError(f"the downloaded {wheel.name} has SHA-256 {digest.hexdigest()}, not the "
                        f"pinned {expected}: refused (a changed package or a tampered mirror)")


def _unpack(wheel: Path, target: Path, names: list[str]) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            inside = set(archive.namelist())
            for name in names:
                member = MOSES_FILES[name]
                if member not in inside:
                    raise ChemError(f"{wheel.name} has no {member}")
                atomic_write_bytes(target / name, archive.read(member))
    except zipfile.BadZipFile as exc:
        raise ChemError(f"{wheel.name} is not a readable wheel: {exc}") from None


def _split_path(split: str, cache_dir) -> Path:
    if split not in MOSES_SPLITS:
        raise ChemError(f"unknown MOSES split {split!r}; choose from {list(MOSES_SPLITS)}")
    path = moses_file(f"{split}.csv.gz", cache_dir)
    if path is None:
        raise ChemError(f"the MOSES data is not in {moses_cache_dir(cache_dir)}; fetch it with "
                        "python scripts/fetch_moses.py")
    return path


def moses_smiles(split: str, cache_dir: str | os.PathLike | None = None) -> list[str]:
    """The SMILES of one MOSES split (``train``, ``test``, ``test_scaffolds``), as written.

    Raises :class:`ChemError` when the data has not been fetched.
    """
    from seqvae.molecules.chem.molfile import read_molecule_file

    return read_molecule_file(_split_path(split, cache_dir)).smiles


def moses_reference_set(split: str = "test", cache_dir: str | os.PathLike | None = None):
    """The :class:`~seqvae.molecules.chem.reference.ReferenceSet` of a MOSES test split, computed on
    first use (minutes for 176 000 molecules) and kept beside the data as
    ``<split>_reference.npz``.
    """
    from seqvae.molecules.chem.reference import ReferenceSet

    source = _split_path(split, cache_dir)
    cached = source.parent / f"{split}_reference.npz"
    if cached.is_file() and cached.stat().st_mtime >= source.stat().st_mtime:
        return ReferenceSet.load(cached)
    reference = ReferenceSet.from_smiles(moses_smiles(split, cache_dir))
    reference.save(cached)
    return reference


def moses_chemnet_statistics(split: str = "test", cache_dir: str | os.PathLike | None = None
                             ) -> tuple:
    """``(mean, covariance, molecules)`` of the ChemNet activations of a MOSES test split,
    computed on first use (one ChemNet pass over 176,000 molecules: many minutes on a
    CPU) and kept beside the data as ``<split>_chemnet.npz``, so that every later FCD
    against it costs only the generated side.
    """
    from seqvae.molecules.chem.chemnet import (
        chemnet_statistics,
        load_statistics,
        save_statistics,
    )

    source = _split_path(split, cache_dir)
    cached = source.parent / f"{split}_chemnet.npz"
    if cached.is_file() and cached.stat().st_mtime >= source.stat().st_mtime:
        return load_statistics(cached)
    mu, sigma, molecules = chemnet_statistics(moses_smiles(split, cache_dir))
    save_statistics(cached, mu, sigma, molecules)
    return mu, sigma, molecules
