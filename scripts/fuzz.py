"""Fuzz the file parsers: generated and mutated inputs, only typed errors allowed.

Each parser of :data:`PARSERS` gets ``--count`` inputs (10^5 by default), half
generated from its alphabet and half made by mutating valid files (inserted,
deleted and repeated bytes, bit flips, splices, huge integers, deep nesting,
byte order marks, truncation). An input may parse or raise one of the
parser's typed errors; anything else is a finding:

* **other exceptions**: any other exception, ``MemoryError`` included (each
  worker runs under an address-space limit of ``--memory-mb`` above what it
  holds at start) and a worker that dies;
* **hangs**: an input still running after ``--timeout`` seconds (2 s); the
  worker is killed and restarted at the next input.

Input ``i`` of a parser depends only on ``--seed``, the parser and ``i``, so
``--replay PARSER INDEX`` shows it and reruns it here with the traceback.

Adding a parser is one :func:`register` call (see the end of this file): a
name, the valid files to mutate, the alphabet to generate from, the function
that parses one input (given as bytes and as a file path), and its typed
errors. Parsers are imported lazily, inside the worker.

Usage::

    python scripts/fuzz.py                      # every parser, 10^5 inputs each
    python scripts/fuzz.py --count 2000 --parsers automata-text,automata-json
    python scripts/fuzz.py --replay automata-json 1234

The table lists, per parser: inputs, parsed, typed errors, other exceptions,
hangs and seconds; then one line per distinct finding. Exit code 1 when there
is any finding.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import random
import re
import resource
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["Parser", "PARSERS", "register", "make_input", "main"]

# Outcome codes kept per input in shared memory, so a killed worker loses nothing.
PENDING, PARSED, TYPED, OTHER, HANG = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Parser:
    """One parser under test.

    Attributes
    ----------
    name : str
        Name on the command line and in the table.
    seeds : callable
        ``seeds(rng) -> list[bytes]``: valid inputs to mutate.
    parse : callable
        ``parse(data, path)``: parse one input, given both as bytes and as the
        file ``path`` that holds them (for parsers that read files).
    typed : callable
        ``typed() -> tuple of exception classes``: the errors the parser is
        allowed to raise (a callable, so that imports wait for the worker).
    alphabet : bytes
        Bytes that generated inputs are drawn from (plus a few random bytes).
    suffix : str
        Suffix of the input file (some readers choose by suffix).
    setup : callable, optional
        ``setup(workdir)``, run once per worker before the first input
        (e.g. to write the fixed files an input is read beside).
    """

    name: str
    seeds: Callable[[random.Random], list[bytes]]
    parse: Callable[[bytes, Path], object]
    typed: Callable[[], tuple[type[BaseException], ...]]
    alphabet: bytes = b"0123456789 \n"
    suffix: str = ".txt"
    setup: Callable[[Path], None] | None = None
    notes: str = field(default="")


#: Every registered parser, by name, in registration order.
PARSERS: dict[str, Parser] = {}


def register(parser: Parser) -> Parser:
    """Add ``parser`` to :data:`PARSERS` (names are unique)."""
    if parser.name in PARSERS:
        raise ValueError(f"parser {parser.name!r} is registered twice")
    PARSERS[parser.name] = parser
    return parser


# --------------------------------------------------------------------------- inputs
_BIG_NUMBERS = [b"9" * 19, b"1" * 400, b"7" * 5000, b"-" + b"3" * 5000, b"1e999", b"0" * 30 + b"1",
                b"99999999 99999999", b"2147483648", b"-1"]
_ODD_BYTES = [b"\xef\xbb\xbf", b"\x00", b"\xff\xfe", b"\xc3", b"\xd9\xa0", b"\r", b"\r\n",
              b"\xe2\x80\xa8", b"\t", b"\\", b'"', b"NaN", b"Infinity", b"true", b"null"]


#: Largest input made (the harness must not be what runs out of memory).
MAX_INPUT_BYTES = 1 << 20


def _mutate(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    """One to five edits of the kinds that break parsers."""
    for _ in range(rng.randint(1, 5)):
        data = data[:MAX_INPUT_BYTES]
        at = rng.randint(0, len(data))
        kind = rng.randrange(11)
        if kind == 0:  # insert random bytes
            noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
            data = data[:at] + noise + data[at:]
        elif kind == 1:  # delete a run
            data = data[:at] + data[at + rng.randint(1, 16):]
        elif kind == 2 and data:  # flip a bit
            i = rng.randrange(len(data))
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif kind == 3:  # huge or boundary number
            data = data[:at] + rng.choice(_BIG_NUMBERS) + data[at:]
        elif kind == 4:  # nesting
            depth = rng.choice([2, 50, 1000, 100_000])
            opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
            data = data[:at] + opener * depth + data[at:] + closer * rng.choice([0, depth])
        elif kind == 5:  # repeat a chunk
            chunk = data[max(0, at - rng.randint(1, 40)):at]
            data = data[:at] + chunk * rng.choice([2, 10, 1000]) + data[at:]
        elif kind == 6:  # splice with another valid input
            other = rng.choice(corpus)
            data = data[:at] + other[rng.randint(0, len(other)):]
        elif kind == 7:  # truncate
            data = data[:at]
        elif kind == 8:  # odd bytes: BOM, NUL, broken UTF-8, other scripts' digits, JSON words
            data = data[:at] + rng.choice(_ODD_BYTES) + data[at:]
        elif kind == 9:  # swap two bytes
            if len(data) > 1:
                i, j = rng.randrange(len(data)), rng.randrange(len(data))
                b = bytearray(data)
                b[i], b[j] = b[j], b[i]
                data = bytes(b)
        else:  # replace one byte by one of the same kind of file
            if data:
                i = rng.randrange(len(data))
                data = data[:i] + bytes([rng.choice(corpus[0] or b"0")]) + data[i + 1:]
    return data[:MAX_INPUT_BYTES]


def _generate(alphabet: bytes, rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 2, 5, 20, 100, 1000])
    out = bytearray(rng.choice(alphabet) for _ in range(size))
    if rng.random() < 0.1:  # a few bytes from outside the alphabet
        for _ in range(rng.randint(1, 3)):
            out.insert(rng.randint(0, len(out)), rng.randrange(256))
    return bytes(out)


def make_input(parser: Parser, seed: int, index: int, corpus: list[bytes]) -> bytes:
    """Input ``index`` of ``parser``: reproducible from ``seed`` alone."""
    rng = random.Random(f"{seed}:{parser.name}:{index}")
    if rng.random() < 0.5:
        return _generate(parser.alphabet, rng)
    return _mutate(rng.choice(corpus), rng, corpus)


def _corpus(parser: Parser, seed: int) -> list[bytes]:
    corpus = parser.seeds(random.Random(f"{seed}:{parser.name}:corpus"))
    if not corpus:
        raise ValueError(f"parser {parser.name!r} has no seed inputs")
    return corpus


# --------------------------------------------------------------------------- worker
def _limit_memory(extra_mb: int) -> None:
    """Cap the address space at what the process holds now plus ``extra_mb``."""
    with open("/proc/self/status") as status:
        vm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    limit = vm_kb * 1024 + extra_mb * (1 << 20)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker(name: str, seed: int, start: int, stop: int, outcomes, current, started,
            findings, memory_mb: int, workdir: str) -> None:
    parser = PARSERS[name]
    typed = parser.typed()
    corpus = _corpus(parser, seed)
    work = Path(workdir)
    if parser.setup is not None:
        parser.setup(work)
    path = work / f"input{parser.suffix}"
    # Warm up on a valid input: first-call costs (imports, compilation) are not hangs.
    path.write_bytes(corpus[0])
    try:
        parser.parse(corpus[0], path)
    except Exception:  # noqa: BLE001 - only warming up; the loop judges every input
        pass
    _limit_memory(memory_mb)
    for index in range(start, stop):
        current.value = index
        started.value = time.monotonic()
        data = make_input(parser, seed, index, corpus)
        path.write_bytes(data)
        try:
            parser.parse(data, path)
        except typed:
            outcomes[index] = TYPED
        except BaseException as exc:  # noqa: BLE001 - every other exception is the finding
            outcomes[index] = OTHER
            findings.put((index, type(exc).__name__, " ".join(str(exc).split())[:160]))
        else:
            outcomes[index] = PARSED
        started.value = 0.0


@dataclass
class Result:
    parser: str
    inputs: int
    counts: Counter
    seconds: float
    findings: list[tuple[int, str, str]]


def fuzz_parser(name: str, count: int, seed: int, timeout: float, memory_mb: int,
                progress: bool = True) -> Result:
    """Run ``count`` inputs through parser ``name`` in watched worker processes."""
    ctx = mp.get_context("fork")
    outcomes = ctx.RawArray("b", count)
    current = ctx.RawValue("q", -1)
    started = ctx.RawValue("d", 0.0)
    findings_queue = ctx.Queue()
    findings: list[tuple[int, str, str]] = []
    workdir = tempfile.mkdtemp(prefix=f"fuzz-{name}-")
    t0 = time.monotonic()
    start = 0
    try:
        while start < count:
            current.value, started.value = start - 1, 0.0
            proc = ctx.Process(target=_worker, args=(name, seed, start, count, outcomes, current,
                                                     started, findings_queue, memory_mb, workdir),
                               daemon=True)
            proc.start()
            while proc.is_alive():
                proc.join(0.05)
                while not findings_queue.empty():
                    findings.append(findings_queue.get())
                began = started.value
                if began and time.monotonic() - began > timeout:
                    proc.kill()
                    proc.join()
                    break
            while not findings_queue.empty():
                findings.append(findings_queue.get())
            if proc.exitcode == 0:
                break
            index = current.value
            if index < start:  # died before its first input: setup is broken
                raise RuntimeError(f"{name}: worker failed to start (exit code {proc.exitcode})")
            if outcomes[index] == PENDING:
                killed = started.value and time.monotonic() - started.value > timeout
                outcomes[index] = HANG if killed else OTHER
                if not killed:
                    findings.append((index, "WorkerDied", f"exit code {proc.exitcode}"))
            start = index + 1
            if progress:
                print(f"  {name}: restarted after input {index}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    counts = Counter(bytes(outcomes))
    hangs = [i for i in range(count) if outcomes[i] == HANG]
    findings += [(i, "Hang", f"still running after {timeout:g} s") for i in hangs]
    return Result(name, count, counts, time.monotonic() - t0, sorted(findings))


# --------------------------------------------------------------------------- report
def print_table(results: list[Result], out=sys.stdout) -> None:
    head = ("parser", "inputs", "parsed", "typed errors", "other exceptions", "hangs", "seconds")
    rows = [(r.parser, r.inputs, r.counts[PARSED], r.counts[TYPED], r.counts[OTHER],
             r.counts[HANG], f"{r.seconds:.1f}") for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    cells = [f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths)]
    line = "| " + " | ".join(cells) + " |"
    print(line.format(*head), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for row in rows:
        print(line.format(*row), file=out)


def print_findings(results: list[Result], out=sys.stdout) -> None:
    for r in results:
        groups: dict[tuple[str, str], list[int]] = {}
        for index, kind, message in r.findings:
            # One line per kind of failure, not per byte offset or value.
            shape = re.sub(r"0x[0-9a-f]+|\d+", "#", message)[:70]
            groups.setdefault((kind, shape), []).append(index)
        for (kind, message), indices in sorted(groups.items(), key=lambda g: -len(g[1])):
            print(f"{r.parser}: {len(indices)}x {kind}: {message}  "
                  f"(e.g. --replay {r.parser} {indices[0]})", file=out)


def replay(name: str, index: int, seed: int) -> int:
    """Print input ``index`` of parser ``name`` and run it here, with the traceback."""
    parser = PARSERS[name]
    data = make_input(parser, seed, index, _corpus(parser, seed))
    preview = data if len(data) <= 400 else data[:200] + b"..." + data[-100:]
    print(f"input {index} of {name} (seed {seed}, {len(data)} bytes): {preview!r}")
    workdir = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    try:
        if parser.setup is not None:
            parser.setup(workdir)
        path = workdir / f"input{parser.suffix}"
        path.write_bytes(data)
        try:
            result = parser.parse(data, path)
        except parser.typed() as exc:
            print(f"typed error {type(exc).__name__}: {exc}")
            return 0
        except Exception:  # noqa: BLE001 - show it
            traceback.print_exc()
            return 1
        print(f"parsed: {result!r}"[:400])
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100_000, help="inputs per parser")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parsers", default="all",
                    help=f"comma-separated names or 'all': {', '.join(PARSERS)}")
    ap.add_argument("--timeout", type=float, default=2.0,
                    help="seconds after which an input counts as a hang")
    ap.add_argument("--memory-mb", type=int, default=1024,
                    help="address space a worker may add to what it holds at start")
    ap.add_argument("--replay", nargs=2, metavar=("PARSER", "INDEX"),
                    help="show one input and run it here")
    args = ap.parse_args(argv)
    if args.replay:
        name, index = args.replay
        if name not in PARSERS:
            ap.error(f"unknown parser {name!r}; known: {', '.join(PARSERS)}")
        return replay(name, int(index), args.seed)
    names = list(PARSERS) if args.parsers == "all" else args.parsers.split(",")
    unknown = [n for n in names if n not in PARSERS]
    if unknown:
        ap.error(f"unknown parser(s) {', '.join(unknown)}; known: {', '.join(PARSERS)}")
    if args.count < 1 or args.timeout <= 0 or args.memory_mb < 16:
        ap.error("--count must be >= 1, --timeout > 0 and --memory-mb >= 16")
    results = []
    for name in names:
        print(f"fuzzing {name}: {args.count} inputs, seed {args.seed}", file=sys.stderr)
        results.append(fuzz_parser(name, args.count, args.seed, args.timeout, args.memory_mb))
    print(f"seed {args.seed}, timeout {args.timeout:g} s, memory +{args.memory_mb} MiB per worker")
    print_table(results)
    print_findings(results)
    return 1 if any(r.counts[OTHER] or r.counts[HANG] for r in results) else 0


# ===================================================================== the parsers
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
    register(Parser(f"automata-{_fmt}", _automata_seeds(_fmt), _parse_automata_as(_fmt),
                    _automata_typed, alphabet=_alphabet))
register(Parser("automata-detect", _automata_seeds(None), _detect, _automata_typed,
                alphabet=_TEXT + _COMPACT + _JSON))
register(Parser("automata-file", _automata_seeds(None), _read_automata_file, _automata_typed,
                alphabet=_TEXT + _COMPACT + _JSON))


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


register(Parser("seqvae-strings-text", _strings_seeds, _load_strings, _seqvae_typed,
                alphabet=b"CNOc1()=#[]+-\n \r\t"))
register(Parser("seqvae-strings-csv", _csv_seeds, _load_strings, _seqvae_typed,
                alphabet=b'CNOc1()=#,"\n.0123456789smile', suffix=".csv"))


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


register(Parser("seqvae-dataset-sidecar", _sidecar_seeds, _load_dataset_sidecar, _seqvae_typed,
                alphabet=_JSON, suffix=".json", setup=_dataset_setup))


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


register(Parser("seqvae-search-checkpoint", _checkpoint_seeds, _load_search_checkpoint,
                _seqvae_typed, alphabet=bytes(range(256)), suffix=".npz"))


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


register(Parser("seqvae-search-checkpoint-doc", _checkpoint_doc_seeds,
                _load_search_checkpoint_doc, _seqvae_typed, alphabet=_JSON, suffix=".npz"))


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


register(Parser("seqvae-run-config", _run_seeds, _load_run_config, _seqvae_typed,
                alphabet=_JSON, suffix=".json", setup=_run_setup))


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


register(Parser("seqvae-latents-json", _latent_json_seeds, _decode_latents, _cli_typed,
                alphabet=_JSON, suffix=".json", setup=_run_setup))
register(Parser("seqvae-latents-npy", _latent_npy_seeds, _decode_latents, _cli_typed,
                alphabet=bytes(range(256)), suffix=".npy", setup=_run_setup))


if __name__ == "__main__":
    sys.exit(main())
