"""scripts/bench_refine.py and scripts/bench_optimize.py on stand-in runs (their tables'
numbers come from these functions)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tests.script_helpers import load_script


@dataclass
class _Parsed:
    ok: bool
    item: str | None


class _Run:
    """Decodes z to a valid 'molecule' when z[0] > 0; re-encoding any molecule lands at
    z[0] = -1, where the decode is invalid: the case where unguarded refinement loses
    validity."""

    d_z = 2

    def decode_parsed(self, z, **kwargs):
        return [_Parsed(bool(v[0] > 0), f"m{round(float(v[1]), 2)}") for v in np.asarray(z)]

    def encode(self, items):
        mu = np.array([[-1.0, float(str(s)[1:])] for s in items], dtype=np.float32)
        return mu, np.zeros_like(mu)


def test_refinement_rows_show_plain_losing_and_guarded_keeping_validity():
    bench = load_script("bench_refine")
    z = np.array([[1.0, 0.1], [1.0, 0.2], [-1.0, 0.3], [-1.0, 0.4]], dtype=np.float32)
    rows = bench.refinement_rows(_Run(), {"linear": z}, rounds=2, jitter=0.0, seed=0)
    by_variant = {r["variant"]: r for r in rows}
    assert by_variant["plain"]["validity"] == [0.5, 0.0, 0.0]
    assert by_variant["plain"]["change"] == -0.5 and by_variant["plain"]["distinct"] == 0
    assert by_variant["guarded"]["validity"] == [0.5, 0.5, 0.5]
    assert by_variant["guarded"]["distinct"] == 2
    assert all(r["points"] == 4 for r in rows)


def test_optimize_benchmark_takes_the_top_three_over_seeds(monkeypatch):
    bench = load_script("bench_optimize")
    boards = {0: [("A", 3.0), ("B", 1.0)], 1: [("C", 2.0), ("A", 3.0), ("D", 0.5)]}

    def fake(run, objective, budget, seed, **kwargs):
        assert budget == 500 and kwargs["top"] == 3
        return {"maximize": objective != "sas", "head": "joint", "valid": 0.5 + 0.1 * seed,
                "start_best": 1.5 + seed,
                "leaderboard": [{"smiles": s, "score": v, "novel": s != "B"}
                                for s, v in boards[seed]]}

    monkeypatch.setattr(bench, "optimize_molecules", fake)
    row = bench.benchmark(None, "plogp_zinc", 500, 2, 100)
    assert row["top"] == [("A", 3.0, True), ("C", 2.0, True), ("B", 1.0, False)]
    assert row["mean_best"] == pytest.approx(2.5) and row["valid"] == pytest.approx(0.55)
    assert row["start_best"] == 2.5
    low = bench.benchmark(None, "sas", 500, 2, 100)  # minimised: smallest first
    assert [s for s, _, _ in low["top"]] == ["D", "B", "C"] and low["start_best"] == 1.5


def test_bench_scripts_refuse_bad_arguments(capsys):
    assert load_script("bench_refine").main(["x", "--rounds", "-1"]) == 2
    assert load_script("bench_optimize").main(["x", "--budget", "0"]) == 2
    assert capsys.readouterr().err.count("error:") == 2


def test_bench_scripts_refuse_a_missing_run_in_one_line_before_any_table(capsys, tmp_path):
    missing = str(tmp_path / "nope")
    for name in ("bench_refine", "bench_optimize", "bench_smiles"):
        assert load_script(name).main([missing]) == 2
        out = capsys.readouterr()
        assert out.out == ""  # refused before the table's header
        assert out.err.strip().splitlines() == [f"error: not a run directory: {missing}"]
