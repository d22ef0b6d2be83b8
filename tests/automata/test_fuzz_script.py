"""scripts/fuzz.py: the harness counts what it should, and the automata parsers pass a short run."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.script_helpers import load_script


@pytest.fixture(scope="module")
def fuzz():
    return load_script("fuzz", "fuzz_script", register=True)


def _picky(data: bytes, path: Path) -> object:
    """Parses the empty input, raises the typed error on most, misbehaves on a few."""
    if not data:
        return None
    if data[0] % 10 == 0:
        raise KeyError("untyped")
    if data[0] % 10 == 1:
        time.sleep(30)
    raise ValueError("typed")


def test_the_harness_counts_parsed_typed_other_and_hangs(fuzz):
    fuzz.register(fuzz.Parser("test-picky", lambda rng: [b"abc", b"\x00\x01", b"\x0b"], _picky,
                              lambda: (ValueError,), alphabet=bytes(range(256))))
    result = fuzz.fuzz_parser("test-picky", 80, seed=3, timeout=0.5, memory_mb=256,
                              progress=False)
    expected = {fuzz.PARSED: 0, fuzz.TYPED: 0, fuzz.OTHER: 0, fuzz.HANG: 0}
    corpus = fuzz._corpus(fuzz.PARSERS["test-picky"], 3)
    for index in range(80):
        data = fuzz.make_input(fuzz.PARSERS["test-picky"], 3, index, corpus)
        kind = (fuzz.PARSED if not data else fuzz.OTHER if data[0] % 10 == 0
                else fuzz.HANG if data[0] % 10 == 1 else fuzz.TYPED)
        expected[kind] += 1
    assert expected[fuzz.OTHER] and expected[fuzz.HANG] and expected[fuzz.PARSED]
    assert {k: result.counts[k] for k in expected} == expected
    kinds = {kind for _, kind, _ in result.findings}
    assert kinds == {"KeyError", "Hang"}


def test_inputs_are_reproducible_and_bounded(fuzz):
    parser = fuzz.PARSERS["automata-json"]
    corpus = fuzz._corpus(parser, 0)
    first = [fuzz.make_input(parser, 0, i, corpus) for i in range(300)]
    assert first == [fuzz.make_input(parser, 0, i, corpus) for i in range(300)]
    assert len(set(first)) > 250
    assert max(map(len, first)) <= fuzz.MAX_INPUT_BYTES


@pytest.mark.parametrize("name", ["automata-text", "automata-compact", "automata-json",
                                  "automata-detect", "automata-file"])
def test_automata_parsers_raise_only_typed_errors(fuzz, name):
    result = fuzz.fuzz_parser(name, 200, seed=1, timeout=2.0, memory_mb=1024, progress=False)
    assert result.counts[fuzz.OTHER] == 0 and result.counts[fuzz.HANG] == 0, result.findings
    assert result.counts[fuzz.PARSED] + result.counts[fuzz.TYPED] == 200
