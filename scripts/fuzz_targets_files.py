"""Fuzz targets of the files a run, a search, a census and a data set keep on disk.

* census chunk files (``automata.census_files.load_chunk``), as found and with the
  SHA-256 recomputed after the mutation (a forged chunk), and ``census.json``
  (``read_json_file`` and ``prepare_dir``);
* ``latent_prior.npz`` (``seqvae.latent_prior.GaussianMixture.load``) and the search
  ``checkpoint.npz`` (``seqvae.hunt.search.checkpoint.load_checkpoint``), mutated inside
  their members;
* Parquet data sets (``seqvae.data.load_dataset`` and ``load_strings_report``);
* the JSON and text of a run directory (``seqvae.rundir.RunDir``: ``read_config``,
  ``read_items``, ``truncate_metrics``).

Each target is recorded with :func:`_add` as the arguments of ``fuzz.Parser``.
"""
from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

#: ``(args, kwargs)`` of each target's ``Parser``, in registration order.
SPECS: list[tuple[tuple, dict]] = []

_JSON = b'[]{}",:0123456789 -.eE\ndeltan_statesletrufl'
_ANY = bytes(range(256))


def _add(*args, **kwargs) -> None:
    SPECS.append((args, kwargs))


def _automata_typed():
    from automata.errors import AutomatonError

    return (AutomatonError,)


def _seqvae_typed():
    from automata.errors import AutomatonError
    from seqvae.errors import SeqVAEError

    return (SeqVAEError, AutomatonError)


# --- census: chunk files and the manifest --------------------------------------------
#: The census the chunks belong to: n = 5, two letters, reset length at least 10
#: (47 chunks, 32 of them empty; verifying a chunk takes milliseconds).
_CENSUS = (5, 2, 10)


def _census_seeds(rng: random.Random) -> list[bytes]:
    import tempfile

    from automata.census_files import save_chunk
    from automata.census_pruned import census_chunk, chunk_count

    out = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(chunk_count(_CENSUS[0])):
            chunk = census_chunk(*_CENSUS, index)
            save_chunk(Path(folder), chunk)
            out.append((Path(folder) / "chunks" / f"chunk_{index:06d}.json").read_bytes())
    rng.shuffle(out)
    return out


def _claimed_index(data: bytes) -> int:
    """The chunk index the input claims (so that mutated chunks reach the verification)."""
    from automata.census_pruned import chunk_count

    found = re.search(rb'"index": *(\d{1,3})\b', data)
    index = int(found.group(1)) if found else 0
    return index if index < chunk_count(_CENSUS[0]) else 0


def _load_chunk(data: bytes, path: Path) -> object:
    from automata.census_files import load_chunk
    from automata.census_maps import map_classes

    index = _claimed_index(data)
    chunk, why = load_chunk(path, index, map_classes(_CENSUS[0])[index].tolist(), *_CENSUS)
    if (chunk is None) == (not why):
        raise AssertionError(f"load_chunk returned {chunk!r} with reason {why!r}")
    return chunk


def _load_resummed_chunk(data: bytes, path: Path) -> object:
    """The chunk with a SHA-256 that matches its (mutated) body: only the verification
    stands between it and the census."""
    from automata.census_files import _digest

    try:
        obj = json.loads(data)
        obj["sha256"] = _digest(obj["chunk"])
        path.write_text(json.dumps(obj))
    except Exception:  # noqa: BLE001 - not a chunk-shaped JSON: read as it is
        pass
    chunk = _load_chunk(data, path)
    if chunk is not None:
        from automata.census_pruned import census_chunk

        truth = census_chunk(*_CENSUS, chunk.index).automata
        if any(truth.get(key) != rt for key, rt in chunk.automata.items()):
            raise AssertionError(f"a forged chunk {chunk.index} was accepted")
    return chunk


_CHUNK_ALPHABET = b'{}[]",:0123456789 abcdefhiknorstuvlmp'
_add("census-chunk", _census_seeds, _load_chunk, _automata_typed, alphabet=_CHUNK_ALPHABET,
     suffix=".json")
_add("census-chunk-resummed", _census_seeds, _load_resummed_chunk, _automata_typed,
     alphabet=_CHUNK_ALPHABET, suffix=".json")


def _manifest_seeds(rng: random.Random) -> list[bytes]:
    from automata.census_files import manifest

    out = [json.dumps(manifest(*_CENSUS)).encode()]
    for n in (3, 4, 6):
        out.append(json.dumps(manifest(n, 2, rng.randint(1, 9))).encode())
    return out


def _census_dir_setup(work: Path) -> None:
    (work / "census").mkdir(exist_ok=True)


def _prepare_census(data: bytes, path: Path) -> object:
    from automata.census_files import manifest, prepare_dir, read_json_file

    out = path.parent / "census"
    (out / "census.json").write_bytes(data)
    value = read_json_file(out / "census.json")
    prepare_dir(out, manifest(*_CENSUS), resume=True)
    return value


_add("census-manifest", _manifest_seeds, _prepare_census, _automata_typed, alphabet=_JSON,
     suffix=".json", setup=_census_dir_setup)


# --- archives: the fitted latent prior and the search checkpoint ---------------------
def _prior_seeds(rng: random.Random) -> list[bytes]:
    import numpy as np

    from seqvae.latent_prior import GaussianMixture

    out = []
    for _ in range(8):
        k, d = rng.randint(1, 4), rng.randint(1, 6)
        w = np.array([rng.random() + 0.1 for _ in range(k)])
        chols = np.stack([np.tril(np.eye(d) * (1 + rng.random())) for _ in range(k)])
        means = np.array([[rng.gauss(0, 1) for _ in range(d)] for _ in range(k)])
        out.append(GaussianMixture(w / w.sum(), means, chols).to_bytes())
    return out


def _load_prior(data: bytes, path: Path) -> object:
    from seqvae.latent_prior import GaussianMixture

    return GaussianMixture.load(path)


_add("latent-prior", _prior_seeds, _load_prior, _seqvae_typed, alphabet=_ANY, suffix=".npz",
     container="zip")


def _checkpoint_seeds(rng: random.Random) -> list[bytes]:
    """Checkpoints as the search writes them: the JSON part carries the arrays' SHA-256."""
    import numpy as np

    from seqvae.hunt.search.checkpoint import CHECKPOINT_VERSION, _arrays_digest

    out = []
    for _ in range(8):
        m = rng.randint(0, 4)
        arrays = {"archive_tables": np.zeros((m, 2, 3), dtype=np.int32),
                  "archive_rts": np.arange(m, dtype=np.int64),
                  "m.pop": np.ones((2, 3), dtype=np.int32)}
        doc = {"version": CHECKPOINT_VERSION, "archive_size": m, "counters": {"evaluated": m},
               "rng_state": {"state": rng.randrange(2 ** 32)}, "steps": m, "elapsed": 0.5,
               "meta": {"method": "ga"}, "method_state": {"pop": {"__array__": "m.pop"}}}
        if rng.random() < 0.5:
            doc["sha256"] = _arrays_digest(arrays)
        arrays["__doc__"] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        (np.savez_compressed if rng.random() < 0.5 else np.savez)(buffer, **arrays)
        out.append(buffer.getvalue())
    return out


def _load_checkpoint(data: bytes, path: Path) -> object:
    from seqvae.hunt.search.checkpoint import load_checkpoint

    return load_checkpoint(path)


_add("search-checkpoint-members", _checkpoint_seeds, _load_checkpoint, _seqvae_typed,
     alphabet=_ANY, suffix=".npz", container="zip")


# --- Parquet data sets ------------------------------------------------------------------
def _parquet_seeds(rng: random.Random) -> list[bytes]:
    import pandas as pd

    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "N#N", "C1CC1Cl", "O=C=O", "[NH4+]"]
    out = []
    for i in range(10):
        rows = rng.randint(1, 30)
        items = [rng.choice(smiles) for _ in range(rows)]
        frame = pd.DataFrame({["item", "smiles", "string", "x"][i % 4]: items})
        if i % 3 == 0:
            frame["length"] = [len(s) for s in items]
        if i % 5 == 0:
            frame["score"] = [rng.random() if rng.random() < 0.8 else None for _ in items]
        buffer = io.BytesIO()
        frame.to_parquet(buffer, row_group_size=rng.choice([1, 4, 100]),
                         compression=rng.choice(["snappy", "gzip", None]))
        out.append(buffer.getvalue())
    return out


def _load_parquet(data: bytes, path: Path) -> object:
    from seqvae.data import load_dataset, load_strings_report
    from seqvae.errors import SeqVAEError

    frame, _ = load_dataset(path)
    try:
        strings, _ = load_strings_report(path)
    except SeqVAEError:  # e.g. no column to take the strings from: the table itself loaded
        strings = []
    return len(frame), len(strings)


_add("dataset-parquet", _parquet_seeds, _load_parquet, _seqvae_typed, alphabet=_ANY,
     suffix=".parquet")


# --- a run directory's JSON and text files -------------------------------------------
def _run_config_seeds(rng: random.Random) -> list[bytes]:
    from fuzz_targets import _run_seeds

    return _run_seeds(rng)


def _read_config(data: bytes, path: Path) -> object:
    from seqvae.rundir import RunDir

    run = path.parent / "rundir"
    run.mkdir(exist_ok=True)
    (run / "config.json").write_bytes(data)
    return RunDir(run).read_config()


_add("run-config-json", _run_config_seeds, _read_config, _seqvae_typed, alphabet=_JSON,
     suffix=".json")


def _items_seeds(rng: random.Random) -> list[bytes]:
    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "a:0120 b:1200", "N#N", "x" * 40]
    return ["\n".join(rng.choice(smiles) for _ in range(rng.randint(0, 20))).encode() + b"\n"
            for _ in range(20)]


def _read_items(data: bytes, path: Path) -> object:
    from seqvae.rundir import RunDir

    run = path.parent / "rundir"
    (run / "items").mkdir(parents=True, exist_ok=True)
    (run / "items" / "heldout.txt").write_bytes(data)
    return RunDir(run).read_items("heldout")


_add("run-items", _items_seeds, _read_items, _seqvae_typed, alphabet=b"CNOc1()=#ab: \n\r\t",
     suffix=".txt")


def _metrics_seeds(rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(20):
        lines = []
        for step in range(rng.randint(0, 12)):
            kind = rng.choice(["train", "val", "epoch", "final"])
            lines.append(json.dumps({"kind": kind, "step": step, "epoch": step // 4,
                                     "loss": round(rng.random(), 4)}))
        out.append(("\n".join(lines) + "\n").encode())
    return out


def _truncate_metrics(data: bytes, path: Path) -> object:
    from seqvae.rundir import RunDir

    run = path.parent / "rundir"
    run.mkdir(exist_ok=True)
    (run / "metrics.jsonl").write_bytes(data)
    RunDir(run).truncate_metrics(step=5, epoch=1)
    return (run / "metrics.jsonl").stat().st_size


_add("run-metrics", _metrics_seeds, _truncate_metrics, _seqvae_typed, alphabet=_JSON,
     suffix=".jsonl")
