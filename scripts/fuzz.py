"""Fuzz every file reader: generated and mutated inputs, only typed errors allowed.

Each parser of :data:`PARSERS` gets ``--count`` inputs (10^5 by default), half
generated from its alphabet and half made by mutating valid files (inserted,
deleted and repeated bytes, bit flips, splices, huge integers, deep nesting,
long lines, byte order marks, truncation). Archives are also mutated inside:
for a ``.npz`` (zip) the members are unpacked, one member's bytes (its ``.npy``
header in particular) are mutated and the archive is packed again; a ``.gz`` is
decompressed, mutated and compressed again. An input may parse (``ok``) or
raise one of the parser's typed errors; anything else is a finding:

* **untyped**: any other exception;
* **crashes**: the worker process died (a signal such as SIGSEGV, or an exit);
* **over memory**: a ``MemoryError`` (each worker runs under an address-space
  limit of ``--memory-mb`` above what it holds at start, 1 GiB by default), or
  a peak resident size (``VmHWM``) grown by more than that over one input;
* **hangs**: an input still running after ``--timeout`` seconds (2 s); the
  worker is killed and restarted at the next input.

Every input runs in a worker process, never in this one, so a reader that
crashes (RDKit on a pathological SMILES) costs one worker, not the run.

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

The table lists, per parser: inputs, ok, typed errors, untyped, crashes, over
memory, hangs, the worker's peak resident memory (MB) and seconds; then one line
per distinct finding. Exit code 1 when there is any finding.
"""
from __future__ import annotations

import argparse
import gzip
import io
import multiprocessing as mp
import random
import re
import resource
import shutil
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["Parser", "PARSERS", "register", "make_input", "main"]

# Outcome codes kept per input in shared memory, so a killed worker loses nothing.
PENDING, PARSED, TYPED, OTHER, HANG, CRASH, OVERMEM = 0, 1, 2, 3, 4, 5, 6
OK, UNTYPED = PARSED, OTHER


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
    container : {None, "zip", "gzip"}
        The inputs are archives: three mutated inputs in four are made by
        mutating inside a member (see :func:`_mutate_zip`, :func:`_mutate_gzip`).
    """

    name: str
    seeds: Callable[[random.Random], list[bytes]]
    parse: Callable[[bytes, Path], object]
    typed: Callable[[], tuple[type[BaseException], ...]]
    alphabet: bytes = b"0123456789 \n"
    suffix: str = ".txt"
    setup: Callable[[Path], None] | None = None
    notes: str = field(default="")
    container: str | None = None


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
        kind = rng.randrange(12)
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
        elif kind == 11:  # a long line: a piece of the input repeated up to 900 kB, no newline
            unit = data[max(0, at - rng.randint(1, 4)):at].replace(b"\n", b"") or b"C"
            size = rng.choice([1000, 20_000, 100_000, 900_000])
            data = data[:at] + unit * (size // len(unit)) + data[at:]
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


def _mutate_npy(body: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    """Mutate an ``.npy`` member: half the time only its header (dtype, shape, order)."""
    end = body.find(b"\n") + 1
    if body.startswith(b"\x93NUMPY") and end > 0 and rng.random() < 0.5:
        headers = [c[:c.find(b"\n") + 1] for c in corpus if c.startswith(b"\x93NUMPY")]
        return _mutate(body[:end], rng, headers or [body[:end]]) + body[end:]
    return _mutate(body, rng, corpus)


def _mutate_zip(data: bytes, rng: random.Random) -> bytes:
    """Unpack a zip, mutate one member (or drop, duplicate or rename one), pack it again."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [[info.filename, archive.read(info)] for info in archive.infolist()]
    bodies = [body for _, body in members] or [b""]
    op = rng.random()
    if members and op < 0.8:
        member = rng.choice(members)
        member[1] = _mutate_npy(member[1], rng, bodies)
    elif members and op < 0.87:
        members.pop(rng.randrange(len(members)))
    elif members and op < 0.94:
        members.append(list(rng.choice(members)))
    elif members:
        member = rng.choice(members)
        member[0] = _mutate(member[0].encode(), rng, [member[0].encode()]).decode("latin-1")
    out = io.BytesIO()
    method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", method) as archive:
        warnings.simplefilter("ignore")  # duplicated member names are meant
        for name, body in members:
            # zipfile cuts a name at its first NUL; an empty name has no member to write
            archive.writestr(name.split("\x00")[0][:200] or "x", body[:MAX_INPUT_BYTES])
    return out.getvalue()


def _mutate_gzip(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    """Decompress, mutate the text, compress again."""
    plain = [gzip.decompress(c) for c in corpus[:20]]
    return gzip.compress(_mutate(gzip.decompress(data), rng, plain), compresslevel=1)


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
    base = rng.choice(corpus)
    if parser.container == "zip" and rng.random() < 0.75:
        return _mutate_zip(base, rng)
    if parser.container == "gzip" and rng.random() < 0.75:
        return _mutate_gzip(base, rng, corpus)
    return _mutate(base, rng, corpus)


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


def _hwm_kb() -> int:
    """The peak resident size of this process so far (``VmHWM``, kB)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _worker(name: str, seed: int, start: int, stop: int, outcomes, current, started,
            findings, memory_mb: int, workdir: str, peak_kb) -> None:
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
    base_kb = _hwm_kb()
    peak_kb.value = max(peak_kb.value, base_kb)
    for index in range(start, stop):
        current.value = index
        started.value = time.monotonic()
        data = make_input(parser, seed, index, corpus)
        path.write_bytes(data)
        try:
            parser.parse(data, path)
        except typed:
            outcomes[index] = TYPED
        except MemoryError as exc:
            outcomes[index] = OVERMEM
            findings.put((index, "MemoryError", " ".join(str(exc).split())[:160]))
        except BaseException as exc:  # noqa: BLE001 - every other exception is the finding
            outcomes[index] = OTHER
            findings.put((index, type(exc).__name__, " ".join(str(exc).split())[:160]))
        else:
            outcomes[index] = PARSED
        hwm = _hwm_kb()
        peak_kb.value = max(peak_kb.value, hwm)
        if hwm - base_kb > memory_mb * 1024:
            outcomes[index] = OVERMEM
            findings.put((index, "OverMemory", f"peak resident size {hwm // 1024} MB"))
            started.value = 0.0
            sys.exit(3)  # a fresh worker starts with a fresh peak
        started.value = 0.0


@dataclass
class Result:
    parser: str
    inputs: int
    counts: Counter
    seconds: float
    findings: list[tuple[int, str, str]]
    peak_mb: float = 0.0


def fuzz_parser(name: str, count: int, seed: int, timeout: float, memory_mb: int,
                progress: bool = True) -> Result:
    """Run ``count`` inputs through parser ``name`` in watched worker processes."""
    ctx = mp.get_context("fork")
    outcomes = ctx.RawArray("b", count)
    current = ctx.RawValue("q", -1)
    started = ctx.RawValue("d", 0.0)
    peak_kb = ctx.RawValue("q", 0)
    findings_queue = ctx.Queue()
    findings: list[tuple[int, str, str]] = []
    workdir = tempfile.mkdtemp(prefix=f"fuzz-{name}-")
    t0 = time.monotonic()
    start = 0
    try:
        while start < count:
            current.value, started.value = start - 1, 0.0
            proc = ctx.Process(target=_worker, args=(name, seed, start, count, outcomes, current,
                                                     started, findings_queue, memory_mb, workdir,
                                                     peak_kb),
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
            if index >= count:
                break
            if outcomes[index] == PENDING:
                killed = started.value and time.monotonic() - started.value > timeout
                outcomes[index] = HANG if killed else CRASH
                if not killed:
                    code = proc.exitcode
                    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    findings.append((index, "Crash", f"worker died: {how}"))
            start = index + 1
            if progress:
                print(f"  {name}: restarted after input {index}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    counts = Counter(bytes(outcomes))
    hangs = [i for i in range(count) if outcomes[i] == HANG]
    findings += [(i, "Hang", f"still running after {timeout:g} s") for i in hangs]
    return Result(name, count, counts, time.monotonic() - t0, sorted(findings),
                  peak_kb.value / 1024)


# --------------------------------------------------------------------------- report
def print_table(results: list[Result], out=sys.stdout) -> None:
    head = ("parser", "inputs", "ok", "typed errors", "untyped", "crashes", "over memory",
            "hangs", "peak MB", "seconds")
    rows = [(r.parser, r.inputs, r.counts[OK], r.counts[TYPED], r.counts[UNTYPED],
             r.counts[CRASH], r.counts[OVERMEM], r.counts[HANG], f"{r.peak_mb:.0f}",
             f"{r.seconds:.1f}") for r in results]
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
    return 1 if any(r.counts[k] for r in results for k in (UNTYPED, CRASH, OVERMEM, HANG)) else 0


# ===================================================================== the parsers
# The targets live beside this file; each module lists its parsers in SPECS.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz_targets  # noqa: E402
import fuzz_targets_chem  # noqa: E402
import fuzz_targets_files  # noqa: E402
from fuzz_targets import _run_setup  # noqa: E402,F401 - the tests build a run with it

for _module in (fuzz_targets, fuzz_targets_files, fuzz_targets_chem):
    for _args, _kwargs in _module.SPECS:
        register(Parser(*_args, **_kwargs))


if __name__ == "__main__":
    sys.exit(main())
