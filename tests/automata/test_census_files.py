"""A resumed census reuses a chunk file only when its contents prove right, whatever its checksum.

Each test damages a saved chunk as an accident or a forger would: an edit without
a new checksum, an injected fast automaton or a non-synchronizing one with a
recomputed checksum, an entry of another chunk's class, a deeply nested file, a
FIFO. The resumed census recomputes the chunk, says so, and gives exactly the
census of an uninterrupted run.
"""
from __future__ import annotations

import json
import os

import pytest

from automata.census_files import PrunedChunk, _digest, chunk_path, load_chunk, read_json_file, verify_chunk
from automata.census_maps import map_classes
from automata.census_pruned import pruned_census
from automata.errors import AutomatonError

N, K, L = 5, 2, 12


@pytest.fixture(scope="module")
def whole():
    return pruned_census(N, K, L)


def _saved(tmp_path):
    out = tmp_path / "census"
    pruned_census(N, K, L, out_dir=out)
    with_entries = [i for i in range(len(map_classes(N)))
                    if json.loads(chunk_path(out, i).read_text())["chunk"]["automata"]]
    return out, with_entries


def _rewrite(path, edit, *, resum: bool):
    obj = json.loads(path.read_text())
    edit(obj["chunk"])
    if resum:  # a forger recomputes the checksum
        obj["sha256"] = _digest(obj["chunk"])
    path.write_text(json.dumps(obj))


def _resume(out):
    rejected = []
    result = pruned_census(N, K, L, out_dir=out, resume=True,
                           on_rejected=lambda path, why: rejected.append((path.name, why)))
    return result, rejected


def test_an_edit_without_a_new_checksum_is_recomputed_and_reported(tmp_path, whole):
    out, full = _saved(tmp_path)
    i = full[0]
    _rewrite(chunk_path(out, i), lambda c: c["automata"].update({"a:00000 b:00000": 99}),
             resum=False)
    result, rejected = _resume(out)
    assert result.automata == whole.automata and result.histogram == whole.histogram
    assert rejected == [(chunk_path(out, i).name, "checksum mismatch (damaged or edited)")]
    assert result.rejected == {i: "checksum mismatch (damaged or edited)"}


def _canonical_entry(table) -> tuple[int, str]:
    """The chunk (map class of the smallest-rank letter) and compact canonical form of a table."""
    import numpy as np

    from automata.canon import canonical_tables
    from automata.dfa import DFA
    from automata.formats import format_compact

    canon = canonical_tables(np.asarray([table]))[0]
    ranks = [len(set(row.tolist())) for row in canon]
    letter = canon[ranks.index(min(ranks))]
    cls = canonical_tables(letter[None, None, :])[0, 0]
    index = next(i for i, rep in enumerate(map_classes(N)) if (rep == cls).all())
    return index, format_compact(DFA(canon))


@pytest.mark.parametrize("table, reason", [
    ([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]], "the exact reset length is 1, the file says 99"),
    ([[0, 1, 0, 1, 0], [0, 1, 2, 3, 4]], "not synchronizing (the file says 99)"),
])
def test_a_forged_entry_with_a_recomputed_checksum_is_refused(tmp_path, whole, table, reason):
    out, _ = _saved(tmp_path)
    i, forged = _canonical_entry(table)
    _rewrite(chunk_path(out, i), lambda c: c["automata"].update({forged: 99}), resum=True)
    result, rejected = _resume(out)
    assert forged not in result.automata and 99 not in result.histogram
    assert result.automata == whole.automata and result.histogram == whole.histogram
    assert rejected == [(chunk_path(out, i).name, f"{forged}: {reason}")]


def test_a_wrong_reset_length_with_a_recomputed_checksum_is_refused(tmp_path, whole):
    out, full = _saved(tmp_path)
    i = full[0]
    _rewrite(chunk_path(out, i), lambda c: c["automata"].update(
        {key: rt + 3 for key, rt in c["automata"].items()}), resum=True)
    result, rejected = _resume(out)
    assert result.automata == whole.automata
    assert "exact reset length" in rejected[0][1]


def test_an_entry_of_another_class_of_letter_a_is_refused(tmp_path, whole):
    out, full = _saved(tmp_path)
    first, second = full[0], full[1]
    other = json.loads(chunk_path(out, second).read_text())["chunk"]["automata"]
    _rewrite(chunk_path(out, first), lambda c: c["automata"].update(other), resum=True)
    result, rejected = _resume(out)
    assert result.automata == whole.automata
    assert "conjugate" in rejected[0][1]


def test_dropping_entries_is_not_caught_by_verification_but_resume_is_exact_otherwise(tmp_path):
    # An entry deleted from a chunk with a new checksum leaves a chunk whose every entry is
    # right: the verification cannot know it is incomplete. What it guarantees is that no
    # wrong automaton enters the census; this documents the limit.
    out, full = _saved(tmp_path)
    i = full[0]
    obj = json.loads(chunk_path(out, i).read_text())["chunk"]
    chunk = PrunedChunk.from_json_obj(obj)
    chunk.automata = dict(list(chunk.automata.items())[:-1])
    assert verify_chunk(chunk, N, K, L) is None


def test_a_deeply_nested_chunk_is_malformed_not_a_crash(tmp_path):
    out, _ = _saved(tmp_path)
    chunk_path(out, 0).write_text("[" * 100_000 + "]" * 100_000)
    chunk, why = load_chunk(chunk_path(out, 0), 0, map_classes(N)[0].tolist(), N, K, L)
    assert chunk is None and "RecursionError" in why
    result, rejected = _resume(out)
    assert [name for name, _ in rejected] == [chunk_path(out, 0).name]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_chunk_or_manifest_never_blocks(tmp_path):
    out, _ = _saved(tmp_path)
    path = chunk_path(out, 0)
    path.unlink()
    os.mkfifo(path)
    chunk, why = load_chunk(path, 0, map_classes(N)[0].tolist(), N, K, L)
    assert chunk is None and "not a regular file" in why
    fifo = tmp_path / "census.json"
    os.mkfifo(fifo)
    with pytest.raises(AutomatonError, match="not a regular file"):
        read_json_file(fifo)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(AutomatonError, match="more than the 1024"):
        read_json_file(big, limit=1024)


def test_chunks_keep_processor_time_and_older_files_read_their_elapsed_time(tmp_path):
    out, with_entries = _saved(tmp_path)
    i = with_entries[0]
    path = chunk_path(out, i)
    body = json.loads(path.read_text())["chunk"]
    assert 0.0 < body["cpu_seconds"] <= body["seconds"] + 0.05
    # A chunk file from before processor time was kept: its elapsed time stands in.
    _rewrite(path, lambda chunk: (chunk.pop("cpu_seconds"), chunk.update(seconds=123.0)), resum=True)
    result, rejected = _resume(out)
    assert not rejected
    assert result.chunk_seconds[i] == 123.0
    assert result.cpu_seconds >= 123.0


def test_processor_time_of_a_chunk_excludes_other_threads_off_the_main_thread():
    import threading
    import time

    from automata.census_pruned import _cpu_clock

    assert _cpu_clock() is time.process_time
    seen = []
    worker = threading.Thread(target=lambda: seen.append(_cpu_clock()))
    worker.start()
    worker.join()
    assert seen == [time.thread_time]
