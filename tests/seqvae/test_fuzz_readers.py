"""scripts/fuzz.py covers every reader: a seeded smoke run of each target added for census
files, archives (mutated inside their members), Parquet data sets, run directories, molecule
files, SELFIES and SMILES; the harness tells crashes and memory bombs apart; and each finding
of the long run is fixed in its reader (the tests at the end)."""
from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.script_helpers import load_script

ROOT = Path(__file__).resolve().parents[2]

NEW_TARGETS = ["census-chunk", "census-chunk-resummed", "census-manifest", "latent-prior",
               "search-checkpoint-members", "dataset-parquet", "run-config-json", "run-items",
               "run-metrics", "molfile-smi", "molfile-csv", "molfile-tsv", "molfile-gz", "molfile-sdf",
               "selfies-string", "selfies-tokens", "smiles-rdkit"]


@pytest.fixture(scope="module")
def fuzz():
    return load_script("fuzz", "fuzz_script_readers", register=True)


def test_every_reader_is_a_target(fuzz):
    assert set(NEW_TARGETS) <= set(fuzz.PARSERS)
    assert fuzz.PARSERS["latent-prior"].container == "zip"
    assert fuzz.PARSERS["search-checkpoint-members"].container == "zip"
    assert fuzz.PARSERS["molfile-gz"].container == "gzip"


@pytest.mark.parametrize("name", NEW_TARGETS)
def test_a_seeded_smoke_run_finds_nothing(fuzz, name):
    count = 200
    result = fuzz.fuzz_parser(name, count, seed=5, timeout=10.0, memory_mb=1024, progress=False)
    bad = {k: result.counts[k] for k in (fuzz.UNTYPED, fuzz.CRASH, fuzz.OVERMEM, fuzz.HANG)}
    assert not any(bad.values()), result.findings
    assert result.counts[fuzz.OK] + result.counts[fuzz.TYPED] == count
    assert 0 < result.peak_mb < 1500


def test_archive_mutations_happen_inside_the_members(fuzz):
    parser = fuzz.PARSERS["latent-prior"]
    corpus = fuzz._corpus(parser, 0)
    inside = 0
    for index in range(200):
        data = fuzz.make_input(parser, 0, index, corpus)
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                # a well-formed archive (every CRC right) around mutated members
                inside += archive.testzip() is None and corpus.count(data) == 0
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            pass  # a mutation of the raw archive bytes
    assert inside > 50


def _segfault(data: bytes, path: Path) -> object:
    if data[:1] == b"s":
        import faulthandler

        faulthandler.disable()  # pytest's handler would print the worker's stack
        os.kill(os.getpid(), signal.SIGSEGV)
    if data[:1] == b"m":
        return bytearray(3 << 30)  # 3 GiB for a one-byte input
    raise ValueError("typed")


def test_the_harness_counts_crashes_and_memory_bombs(fuzz):
    fuzz.register(fuzz.Parser("test-crashy", lambda rng: [b"x"], _segfault,
                              lambda: (ValueError,), alphabet=b"smx"))
    result = fuzz.fuzz_parser("test-crashy", 60, seed=1, timeout=5.0, memory_mb=512,
                              progress=False)
    corpus = fuzz._corpus(fuzz.PARSERS["test-crashy"], 1)
    inputs = [fuzz.make_input(fuzz.PARSERS["test-crashy"], 1, i, corpus) for i in range(60)]
    crashes = sum(d[:1] == b"s" for d in inputs)
    bombs = sum(d[:1] == b"m" for d in inputs)
    assert crashes and bombs
    assert result.counts[fuzz.CRASH] == crashes and result.counts[fuzz.OVERMEM] == bombs
    assert result.counts[fuzz.TYPED] + result.counts[fuzz.OK] == 60 - crashes - bombs
    assert {kind for _, kind, _ in result.findings} == {"Crash", "MemoryError"}


# --- the findings, fixed in their readers ------------------------------------------------
def test_a_small_file_is_read_without_allocating_its_bound(tmp_path):
    """read(limit + 1) allocated the whole bound (2 GiB for run items) for a 3-byte file."""
    path = tmp_path / "items.txt"
    path.write_bytes(b"CC\n")
    code = ("import resource, sys\n"
            "from automata.atomic import read_bytes_limited\n"
            "vm = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmSize'))\n"
            "resource.setrlimit(resource.RLIMIT_AS, (vm * 1024 + (256 << 20), resource.RLIM_INFINITY))\n"
            f"print(read_bytes_limited({str(path)!r}, 4 << 30))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "b'CC\\n'"


def test_metrics_lines_that_are_not_records_are_dropped_on_resume(tmp_path):
    from seqvae.rundir import RunDir

    lines = ['{"kind": "train", "step": 1}', "[1, 2]", '{"kind": "train", "step": "a"}',
             "[" * 100_000, '"text"', '{"kind": "train", "step": 9}', '{"kind": "val", "step": 2}']
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    RunDir(tmp_path).truncate_metrics(step=5, epoch=1)
    kept = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert kept == ['{"kind": "train", "step": 1}', '{"kind": "val", "step": 2}']


def test_a_corrupt_gzip_molecule_file_is_a_typed_error(tmp_path):
    from seqvae.molecules.chem.errors import MoleculeFileError
    from seqvae.molecules.chem.molfile import read_molecule_file

    packed = bytearray(gzip.compress(b"CCO ethanol\n" * 200))
    packed[12:20] = b"\xff" * 8  # inside the deflate stream: zlib.error before
    path = tmp_path / "m.smi.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(MoleculeFileError, match="cannot read"):
        read_molecule_file(path)


def test_a_csv_header_over_the_field_limit_is_a_typed_error(tmp_path):
    from seqvae.molecules.chem.errors import MoleculeFileError
    from seqvae.molecules.chem.molfile import read_molecule_file

    path = tmp_path / "m.csv"
    path.write_text('"' + "x" * 200_000 + "\nCCO\n")
    with pytest.raises(MoleculeFileError, match="header"):
        read_molecule_file(path)


def test_selfies_over_the_bound_or_with_a_huge_charge_are_typed_errors():
    import time

    from seqvae.molecules.chem.errors import ChemError
    from seqvae.molecules.chem.selfies_codec import MAX_SELFIES_SYMBOLS, selfies_to_smiles

    started = time.perf_counter()
    with pytest.raises(ChemError, match="over the limit"):
        selfies_to_smiles("[C]" * (MAX_SELFIES_SYMBOLS + 1))
    assert time.perf_counter() - started < 0.5  # refused before the quadratic decoder
    assert selfies_to_smiles("[C]" * MAX_SELFIES_SYMBOLS).startswith("CCC")
    with pytest.raises(ChemError):
        selfies_to_smiles("[C+" + "1" * 5000 + "]")


def test_the_selfies_tokenizer_turns_the_bound_into_a_decode_error():
    from seqvae.molecules.chem.selfies_codec import MAX_SELFIES_SYMBOLS, SelfiesTokenizer
    from seqvae.tokenizers import DecodeError

    tok = SelfiesTokenizer.fit(["CCO", "c1ccccc1"])
    ids = tok.encode("CCO")
    body = [i for i in ids if i not in (tok.bos_id, tok.eos_id, tok.pad_id)][:1]
    with pytest.raises(DecodeError, match="over the limit"):
        tok.decode([tok.bos_id] + body * (MAX_SELFIES_SYMBOLS + 1) + [tok.eos_id])


def test_the_chunk_forger_target_would_catch_an_accepted_forgery(fuzz, tmp_path):
    """The resummed-chunk target re-solves what was accepted: a forged entry that passed
    verification would be an AssertionError, a finding (here load_chunk refuses it)."""
    import fuzz_targets_files as targets

    from automata.census_files import _digest

    seed = json.loads(targets._census_seeds(__import__("random").Random(0))[0])
    body = seed["chunk"]
    body["automata"]["a:00000 b:00000"] = 99
    seed["sha256"] = _digest(body)
    data = json.dumps(seed).encode()
    path = tmp_path / "chunk.json"
    path.write_bytes(data)
    assert targets._load_resummed_chunk(data, path) is None


def test_a_resummed_chunk_with_an_infinite_number_is_malformed(tmp_path):
    """int(1e999) raised OverflowError out of load_chunk."""
    from automata.census_files import PrunedChunk, _digest, load_chunk

    body = PrunedChunk(0, [0, 0, 0, 0, 0], {}).to_json_obj()
    body["nodes"] = float("inf")
    path = tmp_path / "chunk.json"
    path.write_text(json.dumps({"chunk": body, "sha256": _digest(body)}).replace("Infinity", "1e999"))
    chunk, why = load_chunk(path, 0, [0, 0, 0, 0, 0], 5, 2, 10)
    assert chunk is None and why == "malformed (OverflowError)"


def test_a_chunk_may_not_spell_an_automaton_another_way(tmp_path):
    """The same automaton under a second spelling (extra spaces) passed verification and
    counted twice in the histogram."""
    from automata.census_files import _digest, load_chunk
    from automata.census_maps import map_classes
    from automata.census_pruned import census_chunk

    chunk = census_chunk(5, 2, 10, 15)
    key, rt = next(iter(chunk.automata.items()))
    body = chunk.to_json_obj()
    body["automata"][key.replace(" ", "   ")] = rt
    path = tmp_path / "chunk_000015.json"
    path.write_text(json.dumps({"chunk": body, "sha256": _digest(body)}))
    loaded, why = load_chunk(path, 15, map_classes(5)[15].tolist(), 5, 2, 10)
    assert loaded is None and "not written as the census writes it" in why
    body["automata"].pop(key.replace(" ", "   "))
    path.write_text(json.dumps({"chunk": body, "sha256": _digest(body)}))
    assert load_chunk(path, 15, map_classes(5)[15].tolist(), 5, 2, 10)[0] is not None


def test_metrics_of_vertical_tabs_are_not_a_million_lines(tmp_path, monkeypatch):
    # Fuzz finding (run-metrics, seed 1, inputs 8253 and 60225): 900 kB of \x0b, which
    # str.splitlines() cuts into 900,000 lines, each a failed JSON parse: over 2 s.
    import json

    import seqvae.rundir
    from seqvae.rundir import RunDir

    parses = []
    monkeypatch.setattr(seqvae.rundir.json, "loads", lambda text: parses.append(text) or
                        json.JSONDecoder().decode(text))

    (tmp_path / "metrics.jsonl").write_bytes(b'{"kind": "train", "step": 1}\n' + b"\x0b" * 900_000
                                             + b'\n{"kind": "val", "step": 2}\n')
    RunDir(tmp_path).truncate_metrics(step=5, epoch=1)
    assert len(parses) <= 3
    kept = (tmp_path / "metrics.jsonl").read_text().split("\n")
    assert kept == ['{"kind": "train", "step": 1}', '{"kind": "val", "step": 2}', ""]


def test_an_sd_record_with_a_title_that_is_not_utf8_is_an_invalid_record(tmp_path):
    # Fuzz finding (molfile-sdf, seed 5, inputs 562 and 672): RDKit reads the record, then
    # its title or a data field fails to decode: UnicodeDecodeError escaped the reader.
    pytest.importorskip("rdkit")
    from rdkit import Chem

    from seqvae.molecules.chem.molfile import read_molecule_file

    block = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO")).encode()
    good = b"ethanol" + block[block.index(b"\n"):] + b"$$$$\n"
    bad = b"\xb1\xff" + block[block.index(b"\n"):] + b"> <split>\ntrain\n\n$$$$\n"
    path = tmp_path / "m.sdf"
    path.write_bytes(good + bad)
    records = read_molecule_file(path)
    assert records.smiles == ["CCO"] and records.names == ["ethanol"]
    assert [reason for _, reason in records.invalid_records] == \
        ["a title or data field that is not UTF-8"]
