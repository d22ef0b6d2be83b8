"""`seqvae interpolate` end to end on tiny trained runs (automata and strings)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from automata import DFA
from automata.formats import write_automata
from seqvae.cli import app
from seqvae.scoring import SUMMARY_KEYS
from seqvae.validators import register_validator

register_validator("test_alpha", str.isalpha, replace=True)
register_validator("test_upper", str.isupper, str.upper, replace=True)
register_validator("test_lower", str.islower, replace=True)

runner = CliRunner()

# Every size named, so the fixture does not depend on the model's defaults.
TINY_MODEL = dict(d_z=8, embed_dim=8, conv_channels=(16,), conv_kernels=(3,), enc_hidden=32,
                  dec_z_dim=16, dec_hidden=32, dec_layers=1)
TINY_TRAIN = dict(epochs=2, batch_size=32, val_fraction=0.1, test_fraction=0.2, warmup_steps=5,
                  kl_warmup_steps=20, seed=0)


@pytest.fixture(scope="session")
def automata_run(tmp_path_factory):
    from seqvae.hunt.datasets import build_automata_dataset
    from seqvae.hunt.domain import AutomataDomain
    from seqvae.hunt.tokenizer import AutomatonTokenizer
    from seqvae.runs import train

    torch.set_num_threads(1)
    torch.manual_seed(0)
    df = build_automata_dataset(4, 2, 250, seed=0)
    out = tmp_path_factory.mktemp("interp") / "run"
    train(list(df["item"]), AutomataDomain(AutomatonTokenizer(4, 2)), out_dir=out,
          model_config=TINY_MODEL, train_config=TINY_TRAIN)
    return out


@pytest.fixture(scope="session")
def strings_run(tmp_path_factory):
    from seqvae.runs import train
    from seqvae.strings import StringDomain
    from seqvae.tokenizers import CharTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    words = sorted({"".join(rng.choice(list("abcd"), size=rng.integers(2, 6))) for _ in range(300)})
    out = tmp_path_factory.mktemp("interp") / "strings"
    train(words, StringDomain(CharTokenizer.fit(words)), out_dir=out,
          model_config=TINY_MODEL, train_config=TINY_TRAIN)
    return out


def _one_line_error(result):
    assert result.exit_code == 2, (result.exit_code, result.output)
    # One message; rich may soft-wrap a long path in an 80-column test terminal.
    text = " ".join(result.stderr.split())
    assert text.startswith("error:") and text.count("error:") == 1, text
    assert "Traceback" not in result.output
    return text.replace(" ", "")


def test_interpolate_writes_table_data_and_figures(automata_run, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["interpolate", str(automata_run), "--pairs", "3", "--steps", "3",
                                 "--refine", "1", "--seed", "1", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 * 2
    assert [(r["method"], r["refine"]) for r in rows] == [
        (m, k) for m in ("linear", "polar", "slerp") for k in (0, 1)]
    for row in rows:
        assert set(SUMMARY_KEYS) <= set(row)
        assert row["well_formed"] == 1.0          # constrained decoding of automata
        assert 0.0 <= row["synchronizing"] <= 1.0 and 0.0 <= row["novel"] <= 1.0
        assert row["points"] == 3                 # 3 pairs × 1 interior point
    assert "valid %" in result.stderr             # the human table
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 3 * 3 * 3 * 2           # methods × pairs × steps × rounds
    assert len(pd.read_csv(out / "points.csv")) == len(points)
    # The table agrees with the data file.
    inner = points[(points["method"] == "polar") & (points["refine"] == 1) & ~points["is_endpoint"]]
    polar1 = next(r for r in rows if r["method"] == "polar" and r["refine"] == 1)
    assert polar1["synchronizing"] == pytest.approx(inner["synchronizing"].astype(bool).mean())
    assert polar1["distinct"] == inner["key"].nunique()
    for name in ("summary.csv", "summary.json", "paths.png", "paths_refine1.png",
                 "validity.png", "norms.png", "refinement.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "norms.png").read_bytes()[:4] == b"\x89PNG"


def test_interpolate_between_two_files(automata_run, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    write_automata(a, [DFA([[1, 2, 3, 0], [1, 1, 2, 3]])], fmt="text")
    write_automata(b, [DFA([[1, 0, 3, 2], [0, 0, 2, 3]])], fmt="compact")
    result = runner.invoke(app, ["interpolate", str(automata_run), "--between", str(a), str(b),
                                 "--polar", "--steps", "5", "--out", str(tmp_path / "o"),
                                 "--no-figures", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["method"], r["refine"]) for r in rows] == [("polar", 0)]
    points = pd.read_parquet(tmp_path / "o" / "points.parquet")
    assert len(points) == 5
    assert points["endpoint_a"].iloc[0] == "a:0120 b:1230"   # canonical key of Černý C_4
    assert not list(tmp_path.joinpath("o").glob("*.png"))


def test_attribute_walk(automata_run, tmp_path):
    result = runner.invoke(app, ["interpolate", str(automata_run), "--attribute", "reset_length",
                                 "--steps", "3", "--starts", "5", "--out", str(tmp_path / "w"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert [r["alpha"] for r in rows] == [-2.0, 0.0, 2.0]
    assert all("mean_reset_length" in r and r["points"] == 5 for r in rows)
    assert (tmp_path / "w" / "attribute_reset_length.png").exists()
    assert len(pd.read_parquet(tmp_path / "w" / "attribute_reset_length_points.parquet")) == 15


def test_strings_run_with_validity_function(strings_run, tmp_path):
    result = runner.invoke(app, ["interpolate", str(strings_run), "--slerp", "--pairs", "2",
                                 "--steps", "4", "--validity", "test_alpha",
                                 "--out", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["method"] == "slerp" and row["synchronizing"] is None
    assert row["mean_reset_length"] is None
    points = pd.read_parquet(tmp_path / "s" / "points.parquet")
    ok = points[points["well_formed"]]
    assert ok["key"].map(str.isalpha).all()
    assert (tmp_path / "s" / "paths.png").exists()


def test_bad_input_exits_2_with_one_line(automata_run, tmp_path):
    text = _one_line_error(runner.invoke(app, ["interpolate", str(tmp_path / "nope")]))
    assert "nope" in text
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("2 4\n0 1 x 3\n")
    good = tmp_path / "good.txt"
    write_automata(good, [DFA([[1, 2, 3, 0], [1, 1, 2, 3]])])
    text = _one_line_error(runner.invoke(app, ["interpolate", str(automata_run), "--between",
                                               str(garbage), str(good), "--no-figures"]))
    assert "garbage.txt" in text
    text = _one_line_error(runner.invoke(app, ["interpolate", str(automata_run), "--between",
                                               str(tmp_path / "missing.txt"), str(good)]))
    assert "missing.txt" in text
    _one_line_error(runner.invoke(app, ["interpolate", str(automata_run), "--attribute", "colour",
                                        "--out", str(tmp_path / "x")]))
    _one_line_error(runner.invoke(app, ["interpolate", str(automata_run), "--validity",
                                        "test_alpha"]))
    not_a_run = tmp_path / "empty_dir"
    not_a_run.mkdir()
    _one_line_error(runner.invoke(app, ["interpolate", str(not_a_run)]))
