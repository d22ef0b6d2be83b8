"""``seqvae automata census --min-rt``: JSON, chunk directory, resume, one-line errors."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from automata.census_pruned import pruned_census
from seqvae.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_stderr(monkeypatch):
    from seqvae.cli import _common

    monkeypatch.setattr(_common.err_console, "_width", 10_000)


def run(*args):
    return runner.invoke(app, ["automata", "census", *map(str, args)])


def test_json_lists_every_class_with_family():
    result = run("-n", 5, "-k", 2, "--min-rt", 13, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = pruned_census(5, 2, 13)
    assert data["histogram"] == {str(rt): c for rt, c in expected.histogram.items()}
    assert {row["automaton"]: row["reset_length"] for row in data["automata"]} == expected.automata
    assert data["automata"][0] == {"reset_length": 16, "automaton": "a:01230 b:12340",
                                   "family": "cerny"}
    assert {row["family"] for row in data["automata"]} >= {"cerny", "d_prime", "wielandt",
                                                           "f_series", None}


def test_out_dir_and_resume(tmp_path):
    out = tmp_path / "census"
    first = run("-n", 4, "--min-rt", 7, "--out", out, "--jobs", 2)
    assert first.exit_code == 0, first.output
    assert "reset lengths >= 7" in first.stdout and "cerny" in first.stdout
    assert len(list((out / "chunks").iterdir())) == 19
    again = run("-n", 4, "--min-rt", 7, "--out", out)
    assert again.exit_code == 2 and "--resume" in again.stderr
    resumed = run("-n", 4, "--min-rt", 7, "--out", out, "--resume", "--json")
    assert resumed.exit_code == 0
    assert json.loads(resumed.stdout)["histogram"] == \
        json.loads((out / "result.json").read_text())["histogram"]


def test_full_census_unchanged_without_min_rt():
    result = run("-n", 3, "-k", 2, "--json", "--top", 2)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total"] == 74 and len(data["top"]) == 2


@pytest.mark.parametrize("args,message", [
    (("-n", 5, "--jobs", 2), "only apply with --min-rt"),
    (("-n", 5, "--min-rt", 3, "--resume"), "--resume needs --out"),
    (("-n", 5, "--min-rt", 3, "--scheduler", "tcp://x:1"), "--scheduler needs --backend dask"),
    (("-n", 13, "--min-rt", 3), "n_states must be between 1 and 12"),
    (("-n", 5, "-k", 4, "--min-rt", 3), "n_letters must be between 1 and 3"),
    (("-n", 5, "--min-rt", 3, "--jobs", -3), "--jobs must be positive or -1"),
])
def test_bad_arguments_one_line_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_dask_backend_local_cluster():
    pytest.importorskip("distributed")
    result = run("-n", 4, "--min-rt", 8, "--backend", "dask", "--jobs", 2, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["histogram"] == {"8": 5, "9": 2}


def test_save_writes_an_automata_file_that_lifts_read(tmp_path):
    from automata.formats import read_automata
    from seqvae.hunt.search.sources import load_transfer_tables

    result = run("-n", 5, "-k", 2, "--min-rt", 13, "--save", tmp_path / "slow5.txt")
    assert result.exit_code == 0, result.output
    saved = read_automata(tmp_path / "slow5.txt")
    expected = pruned_census(5, 2, 13)
    assert [d for d, _ in expected.ranked()] == saved
    assert len(load_transfer_tables([tmp_path / "slow5.txt"], 2)[0]) == len(expected.automata)
    full = run("-n", 4, "-k", 2, "--top", 2, "--save", tmp_path / "top4.txt")
    assert full.exit_code == 0, full.output
    assert len(read_automata(tmp_path / "top4.txt")) == 2


def test_resume_warns_about_a_forged_chunk_and_recomputes_it(tmp_path):
    import hashlib

    out = tmp_path / "census"
    assert run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out).exit_code == 0
    path = next(p for p in sorted((out / "chunks").iterdir())
                if json.loads(p.read_text())["chunk"]["automata"])
    obj = json.loads(path.read_text())
    obj["chunk"]["automata"] = {key: rt + 1 for key, rt in obj["chunk"]["automata"].items()}
    obj["sha256"] = hashlib.sha256(json.dumps(obj["chunk"], sort_keys=True,
                                              separators=(",", ":")).encode()).hexdigest()
    path.write_text(json.dumps(obj))
    result = run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out, "--resume", "--json")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and path.name in warnings[0] and "exact reset length" in warnings[0]
    data = json.loads(result.stdout)
    assert {row["automaton"]: row["reset_length"] for row in data["automata"]} == \
        pruned_census(5, 2, 13).automata


def test_resume_replaces_a_fifo_found_in_place_of_a_chunk(tmp_path):
    # Reading refuses the FIFO; the recomputed chunk must then replace it, not be written
    # into it (a write into a FIFO nobody reads blocks for ever).
    import os
    import threading

    out = tmp_path / "census"
    assert run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out, "--json").exit_code == 0
    chunk = sorted((out / "chunks").iterdir())[0]
    chunk.unlink()
    os.mkfifo(chunk)
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault(
        "result", run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out, "--resume", "--json")),
        daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():   # unblock the writer so the test process can end
        with open(chunk, "rb") as fifo:
            fifo.read()
        worker.join(10)
        pytest.fail("resume blocked writing into the FIFO")
    result = done["result"]
    assert result.exit_code == 0, result.output
    assert chunk.is_file() and not chunk.is_symlink()
    assert {row["automaton"]: row["reset_length"] for row in json.loads(result.stdout)["automata"]} \
        == pruned_census(5, 2, 13).automata


def test_status_reports_a_partial_census_per_rank_of_letter_a(tmp_path):
    from automata.census_maps import map_classes

    out = tmp_path / "census"
    reps = map_classes(5)
    part = [i for i, rep in enumerate(reps) if len(set(rep.tolist())) == 4]  # the rank-4 chunks
    partial = pruned_census(5, 2, 13, out_dir=out, chunks=part)
    result = run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out, "--status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["chunks"], data["done"]) == (len(reps), len(part))
    assert {row["automaton"]: row["reset_length"] for row in data["automata"]} == partial.automata
    by_rank = {row["rank"]: row for row in data["by_rank"]}
    assert by_rank[4]["done"] == by_rank[4]["chunks"] == len(part)
    assert all(row["done"] == 0 for rank, row in by_rank.items() if rank != 4)
    assert sum(row["chunks"] for row in data["by_rank"]) == len(reps)
    assert by_rank[4]["nodes"] == data["nodes"] == partial.nodes > 0
    table = run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out, "--status")
    assert table.exit_code == 0 and f"{len(part)} of {len(reps)} chunks done" in table.stdout
    # Status runs nothing: the census directory is unchanged, and still resumable.
    assert len(list((out / "chunks").iterdir())) == len(part)
    # A damaged chunk is said aloud and not counted.
    damaged = sorted((out / "chunks").iterdir())[0]
    damaged.write_text(damaged.read_text().replace('"nodes": ', '"nodes": 1'))
    result = run("-n", 5, "-k", 2, "--min-rt", 13, "--out", out, "--status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == len(part) - 1
    assert any(line.startswith("warning: chunk") and "checksum" in line
               for line in result.stderr.splitlines())


@pytest.mark.parametrize("args, message", [
    (("--status",), "--status needs --out DIR"),
    (("--status", "--out", "OTHER"), "holds a census of other parameters"),
    (("--status", "--out", "MISSING"), "is not a directory"),
])
def test_status_errors_are_one_line(tmp_path, args, message):
    other = tmp_path / "other"
    pruned_census(5, 2, 12, out_dir=other, chunks=[0])
    args = [str(other) if a == "OTHER" else str(tmp_path / "nope") if a == "MISSING" else a
            for a in args]
    result = run("-n", 5, "-k", 2, "--min-rt", 13, *args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


def test_the_shipped_n10_census_is_complete_and_every_class_re_verifies(tmp_path):
    """data/census: the finished binary n = 10 census at rt >= 66. Resuming it reuses all
    7,318 chunks (each re-verified, none recomputed) and gives the 8 classes; each class's
    reset length is checked again here by the plain BFS."""
    import tarfile
    from pathlib import Path

    from automata.formats import parse_compact
    from automata.reference import bfs_reset_word

    shipped = Path(__file__).resolve().parents[2] / "data" / "census" / "binary_n10_rt66.tar.gz"
    with tarfile.open(shipped) as archive:
        archive.extractall(tmp_path, filter="data")
    out = tmp_path / "c10_66"
    status = json.loads(run("-n", 10, "--min-rt", 66, "--out", out, "--status", "--json").stdout)
    assert status["done"] == status["chunks"] == 7318 and status["rejected"] == {}
    result = run("-n", 10, "--min-rt", 66, "--out", out, "--resume", "--json", "--jobs", 1)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["histogram"] == {"66": 3, "72": 2, "73": 1, "74": 1, "81": 1}
    families = sorted((row["reset_length"], row["family"] or "") for row in data["automata"])
    assert families == [(66, ""), (66, ""), (66, "h_series"), (72, "d_double_prime"),
                        (72, "e_series"), (73, "wielandt"), (74, "d_prime"), (81, "cerny")]
    for row in data["automata"]:
        assert len(bfs_reset_word(parse_compact(row["automaton"]))) == row["reset_length"]
