"""The fuzz targets of the automata formats and the first seqvae readers (strings files,
data-set sidecars, search checkpoints, run configs, latent files).

Each target is recorded with :func:`_add` as the arguments of ``fuzz.Parser``; ``scripts/fuzz.py``
registers them. The readers are imported lazily, inside the worker.
"""
from __future__ import annotations

import io
import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Callable

#: ``(args, kwargs)`` of each target's ``Parser``, in registration order.
SPECS: list[tuple[tuple, dict]] = []


def _add(*args, **kwargs) -> None:
    SPECS.append((args, kwargs))


# --- automata: the three formats and their detection --------------------------------
def _automata_seeds(fmt: str | None) -> Callable[[random.Random], list[bytes]]:
    def seeds(rng: random.Random) -> list[bytes]:
        import numpy as np

        from automata import DFA
        from automata.formats import format_automata

        out = []
        for _ in range(60):
            items = []
            for _ in range(rng.randint(1, 3)):
                n, k = rng.choice([1, 2, 3, 5, 9, 10, 11, 14]), rng.randint(1, 3)
                items.append(DFA(np.array([rng.randrange(n) for _ in range(n * k)]).reshape(k, n)))
            out.append(format_automata(items, fmt or rng.choice(["text", "compact", "json"]))
                       .encode())
        return out
    return seeds


def _automata_typed():
    from automata.errors import AutomatonError

    return (AutomatonError,)


#: A typed error longer than this is a finding too: errors are one readable line.
MAX_MESSAGE = 400


def _short_messages(parse: Callable[[bytes, Path], object]) -> Callable[[bytes, Path], object]:
    """``parse``, with typed errors whose message is too long turned into findings."""
    def checked(data: bytes, path: Path) -> object:
        from automata.errors import AutomatonError

        try:
            return parse(data, path)
        except AutomatonError as exc:
            if len(str(exc)) > MAX_MESSAGE:
                raise AssertionError(f"error message of {len(str(exc))} characters") from exc
            raise
    return checked


def _decoded(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _parse_automata_as(fmt: str) -> Callable[[bytes, Path], object]:
    def parse(data: bytes, path: Path) -> object:
        from automata.formats import format_automata, parse_automata

        result = parse_automata(_decoded(data), fmt)
        # Whatever parses must come back exactly through its own format.
        if parse_automata(format_automata(result, fmt), fmt) != result:
            raise AssertionError("round trip changed the automata")
        return result
    return _short_messages(parse)


@_short_messages
def _detect(data: bytes, path: Path) -> object:
    from automata.formats import detect_format

    return detect_format(_decoded(data))


@_short_messages
def _read_automata_file(data: bytes, path: Path) -> object:
    from automata.formats import read_automata

    return read_automata(path)


_TEXT = b"0123456789 \n#\t-+"
_COMPACT = b"abcxz:,0123456789 \n#"
_JSON = b'[]{}",:0123456789 -.eE\ndeltan_statesletrufl'
for _fmt, _alphabet in (("text", _TEXT), ("compact", _COMPACT), ("json", _JSON)):
    _add(f"automata-{_fmt}", _automata_seeds(_fmt), _parse_automata_as(_fmt),
                    _automata_typed, alphabet=_alphabet)
_add("automata-detect", _automata_seeds(None), _detect, _automata_typed,
                alphabet=_TEXT + _COMPACT + _JSON)
_add("automata-file", _automata_seeds(None), _read_automata_file, _automata_typed,
                alphabet=_TEXT + _COMPACT + _JSON)


# --- seqvae: data files, data-set sidecars, search checkpoints, run configs -----------
def _seqvae_typed():
    from automata.errors import AutomatonError
    from seqvae.data import DataError
    from seqvae.errors import SeqVAEError
    from seqvae.tokenizers import TokenizerError

    return (SeqVAEError, DataError, TokenizerError, AutomatonError)


def _strings_seeds(rng: random.Random) -> list[bytes]:
    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "N#N", "C1CC1Cl", "O=C=O", "[NH4+]", "CC(C)(C)Br"]
    return ["\n".join(rng.choice(smiles) for _ in range(rng.randint(1, 8))).encode() + b"\n"
            for _ in range(30)]


def _csv_seeds(rng: random.Random) -> list[bytes]:
    return [b"smiles,score\n" + b"".join(f"{s},{rng.random():.3f}\n".encode()
                                        for s in (b.decode().split()))
            for b in _strings_seeds(rng)]


def _load_strings(data: bytes, path: Path) -> object:
    from seqvae.data import load_strings

    return load_strings(path)


_add("seqvae-strings-text", _strings_seeds, _load_strings, _seqvae_typed,
                alphabet=b"CNOc1()=#[]+-\n \r\t")
_add("seqvae-strings-csv", _csv_seeds, _load_strings, _seqvae_typed,
                alphabet=b'CNOc1()=#,"\n.0123456789smile', suffix=".csv")


def _sidecar_seeds(rng: random.Random) -> list[bytes]:
    from seqvae.data import DATASET_FORMAT

    return [json.dumps({"format": DATASET_FORMAT, "domain": "strings", "rows": rng.randint(1, 9),
                        "source": "x.smi", "column": None}).encode() for _ in range(20)]


def _dataset_setup(work: Path) -> None:
    import pandas as pd

    pd.DataFrame({"item": ["CCO", "c1ccccc1"], "length": [3, 8]}).to_parquet(work / "set.parquet")


def _load_dataset_sidecar(data: bytes, path: Path) -> object:
    from seqvae.data import load_dataset, sidecar_path

    table = path.parent / "set.parquet"
    sidecar_path(table).write_bytes(data)
    return load_dataset(table)


_add("seqvae-dataset-sidecar", _sidecar_seeds, _load_dataset_sidecar, _seqvae_typed,
                alphabet=_JSON, suffix=".json", setup=_dataset_setup)


def _checkpoint_seeds(rng: random.Random) -> list[bytes]:
    import numpy as np

    from seqvae.hunt.search.core import CHECKPOINT_VERSION

    out = []
    for _ in range(8):
        m = rng.randint(0, 4)
        doc = {"version": CHECKPOINT_VERSION, "archive_size": m, "counters": {"evaluated": m},
               "rng_state": {"state": rng.randrange(2 ** 32)}, "steps": m, "elapsed": 0.5,
               "meta": {"method": "ga"}, "method_state": {"pop": {"__array__": "m.pop"}}}
        arrays = {"archive_tables": np.zeros((m, 2, 3), dtype=np.int32),
                  "archive_rts": np.arange(m, dtype=np.int64),
                  "m.pop": np.ones((2, 3), dtype=np.int32),
                  "__doc__": np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)}
        buffer = io.BytesIO()
        (np.savez_compressed if rng.random() < 0.5 else np.savez)(buffer, **arrays)
        out.append(buffer.getvalue())
    return out


def _load_search_checkpoint(data: bytes, path: Path) -> object:
    from seqvae.hunt.search.core import load_checkpoint

    return load_checkpoint(path)


_add("seqvae-search-checkpoint", _checkpoint_seeds, _load_search_checkpoint,
                _seqvae_typed, alphabet=bytes(range(256)), suffix=".npz")


def _checkpoint_doc_seeds(rng: random.Random) -> list[bytes]:
    import numpy as np

    out = []
    for blob in _checkpoint_seeds(rng):
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            out.append(bytes(data["__doc__"]))
    return out


def _load_search_checkpoint_doc(data: bytes, path: Path) -> object:
    """A well-formed archive around a fuzzed ``__doc__`` (the JSON part of a checkpoint)."""
    import numpy as np

    from seqvae.hunt.search.core import load_checkpoint

    arrays = {"archive_tables": np.zeros((2, 2, 3), dtype=np.int32),
              "archive_rts": np.arange(2, dtype=np.int64), "m.pop": np.ones((2, 3), np.int32),
              "__doc__": np.frombuffer(data, dtype=np.uint8)}
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return load_checkpoint(path)


_add("seqvae-search-checkpoint-doc", _checkpoint_doc_seeds,
                _load_search_checkpoint_doc, _seqvae_typed, alphabet=_JSON, suffix=".npz")


def _run_setup(work: Path) -> None:
    """A tiny trained-run directory; each input replaces its config.json."""
    from seqvae.config import ModelConfig
    from seqvae.model import SeqVAE
    from seqvae.runs import Run
    from seqvae.strings import StringDomain
    from seqvae.tokenizers import CharTokenizer

    tokenizer = CharTokenizer.fit(["CCO", "c1ccccc1"])
    config = ModelConfig(vocab_size=tokenizer.vocab_size, max_len=12, embed_dim=4,
                         conv_channels=(4,), conv_kernels=(3,), enc_hidden=8, d_z=2, dec_z_dim=4,
                         dec_hidden=8, dec_position_dim=2)
    domain = StringDomain(tokenizer)
    run = Run(SeqVAE(config), domain, {"domain": domain.to_dict(), "model": config.to_dict()},
              train_keys=set(), heldout_items=[], train_items=[])
    run.save(work / "run")
    # The seed is the run's JSON without the checkpoint digests: each worker saves its own
    # run (other random weights), and a stale digest would refuse every input at once.
    from seqvae.rundir import DIGEST_KEY, PREVIOUS_DIGEST_KEY

    seed = json.loads((work / "run" / "config.json").read_text())
    for key in (DIGEST_KEY, PREVIOUS_DIGEST_KEY):
        seed.pop(key, None)
    (work / "run.seed.json").write_text(json.dumps(seed, indent=2) + "\n")


def _run_seeds(rng: random.Random) -> list[bytes]:
    work = Path(tempfile.mkdtemp(prefix="fuzz-run-seed-"))
    try:
        _run_setup(work)
        return [(work / "run.seed.json").read_bytes()]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load_run_config(data: bytes, path: Path) -> object:
    from seqvae.runs import load_run

    # A validity or canonical name in the file is only looked up in seqvae.validators,
    # never imported, so every input runs.
    (path.parent / "run" / "config.json").write_bytes(data)
    return load_run(path.parent / "run")


_add("seqvae-run-config", _run_seeds, _load_run_config, _seqvae_typed,
                alphabet=_JSON, suffix=".json", setup=_run_setup)


# Latent files are read by the command line only (``seqvae decode RUN FILE``): fuzzed through
# it, where exit code 2 is the typed outcome and exit code 1 an unexpected exception.
class CommandRefused(Exception):
    """The command line answered exit code 2: one line naming the bad input."""


class CommandFailed(Exception):
    """The command line answered anything but 0 or 2 (an unexpected exception inside)."""


def _decode_latents(data: bytes, path: Path) -> object:
    from typer.testing import CliRunner

    from seqvae.cli import app

    result = CliRunner().invoke(app, ["decode", str(path.parent / "run"), str(path)])
    last = (result.stderr.strip().splitlines() or [""])[-1]
    if result.exit_code == 2 and "Traceback" not in result.output:
        raise CommandRefused(last)
    if result.exit_code != 0:
        raise CommandFailed(f"exit {result.exit_code}: {last}")
    return result.stdout


def _latent_json_seeds(rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(20):
        z = [[round(rng.gauss(0, 1), 3) for _ in range(2)] for _ in range(rng.randint(1, 3))]
        out.append(json.dumps({"z": z} if rng.random() < 0.5 else z).encode())
    return out


def _latent_npy_seeds(rng: random.Random) -> list[bytes]:
    import numpy as np

    out = []
    for _ in range(10):
        buffer = io.BytesIO()
        np.save(buffer, np.array([[rng.gauss(0, 1) for _ in range(2)]
                                  for _ in range(rng.randint(1, 3))], dtype=np.float32))
        out.append(buffer.getvalue())
    return out


def _cli_typed():
    return (CommandRefused,)


_add("seqvae-latents-json", _latent_json_seeds, _decode_latents, _cli_typed,
                alphabet=_JSON, suffix=".json", setup=_run_setup)
_add("seqvae-latents-npy", _latent_npy_seeds, _decode_latents, _cli_typed,
                alphabet=bytes(range(256)), suffix=".npy", setup=_run_setup)


