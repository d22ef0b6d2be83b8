import pandas as pd
import pytest

from automata.canon import canonical_key
from automata.formats import parse_compact
from automata.generate import is_strongly_connected
from automata.reference import bfs_reset_word
from seqvae.data import encode_items, load_dataset, load_strings, save_dataset, sidecar_path
from seqvae.domains import domain_for_dataset
from seqvae.errors import DataError
from seqvae.hunt.datasets import build_automata_dataset
from seqvae.hunt.domain import AutomataDomain
from seqvae.strings import StringDomain, strings_dataset

COLUMNS = {"item", "n_states", "n_letters", "reset_length", "strongly_connected"}


@pytest.fixture(scope="module")
def small_set():
    return build_automata_dataset(6, 2, 600, seed=5)


def test_build_rows_are_canonical_distinct_and_exact(small_set):
    df = small_set
    assert COLUMNS <= set(df.columns) and len(df) == 600
    assert (df["n_states"] == 6).all() and (df["n_letters"] == 2).all()
    dfas = [parse_compact(s) for s in df["item"]]
    keys = [canonical_key(d) for d in dfas]
    assert keys == df["item"].tolist()  # stored in canonical form
    assert len(set(keys)) == len(keys)  # no two rows isomorphic
    for d, rt, sc in list(zip(dfas, df["reset_length"], df["strongly_connected"]))[:60]:
        assert len(bfs_reset_word(d)) == rt
        assert is_strongly_connected(d) == sc
    assert (df["reset_length"] >= 1).all()
    assert (df["source"] == "random").all()


def test_build_is_deterministic():
    a = build_automata_dataset(5, 2, 100, seed=3)
    b = build_automata_dataset(5, 2, 100, seed=3)
    c = build_automata_dataset(5, 2, 100, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert a["item"].tolist() != c["item"].tolist()


def test_mixed_sizes_give_way_when_a_shape_runs_out():
    df = build_automata_dataset((2, 5), 2, 400, seed=0)
    counts = df.groupby("n_states").size().to_dict()
    assert len(df) == 400 and df.attrs["shortfall"] == 0
    # two-state binary automata: only a handful exist up to isomorphism
    assert counts[2] < 10 and sum(counts.values()) == 400
    assert len(set(df["item"])) == 400


def test_shortfall_is_reported():
    df = build_automata_dataset(2, 2, 50, seed=0)
    assert len(df) < 50 and df.attrs["shortfall"] == 50 - len(df)


@pytest.mark.parametrize("enrich", ["quantile:0.8", "mutate:0.5", ["quantile:0.5", "mutate:0.3"]])
def test_enrichment_raises_mean_reset_length(enrich):
    plain = build_automata_dataset(7, 2, 400, seed=1)
    rich = build_automata_dataset(7, 2, 400, seed=1, enrich=enrich)
    assert len(rich) == 400
    assert rich["reset_length"].mean() > plain["reset_length"].mean() + 0.5
    assert len(set(rich["item"])) == 400
    head = rich["item"][:50].tolist()
    assert [canonical_key(parse_compact(s)) for s in head] == head
    if "mutate" in str(enrich):
        mutated = rich[rich["source"] == "mutate"]
        assert len(mutated) > 0
        for s, rt in zip(mutated["item"][:20], mutated["reset_length"][:20]):
            assert len(bfs_reset_word(parse_compact(s))) == rt


def test_build_rejects_bad_arguments():
    with pytest.raises(DataError):
        build_automata_dataset((5, 3), 2, 10)
    with pytest.raises(DataError):
        build_automata_dataset(5, 2, 0)
    with pytest.raises(DataError):
        build_automata_dataset(65, 2, 10)


def test_save_load_round_trip(tmp_path, small_set):
    path = tmp_path / "sub" / "set.parquet"
    side = save_dataset(small_set, path, {"seed": 5, "generator": "test"})
    assert side == sidecar_path(path) == tmp_path / "sub" / "set.parquet.json"
    df, meta = load_dataset(path)
    pd.testing.assert_frame_equal(df, small_set)
    assert meta["seed"] == 5 and meta["n_rows"] == 600 and "seqvae_version" in meta
    assert meta["columns"] == list(small_set.columns)
    assert not list(tmp_path.glob("sub/*.tmp"))  # atomic writes leave no temp files


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_dataset(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataError, match="Parquet"):
        load_dataset(bad)
    save_dataset(pd.DataFrame({"item": ["a"]}), tmp_path / "ok.parquet", {})
    sidecar_path(tmp_path / "ok.parquet").write_text("{broken")
    with pytest.raises(DataError, match="sidecar"):
        load_dataset(tmp_path / "ok.parquet")
    with pytest.raises(DataError, match="JSON"):
        save_dataset(pd.DataFrame({"item": ["a"]}), tmp_path / "x.parquet", {"f": object()})


def test_load_strings_formats(tmp_path):
    txt = tmp_path / "s.smi"
    txt.write_text("CCO\n  c1ccccc1  \n\nClCBr\n")
    assert load_strings(txt) == ["CCO", "c1ccccc1", "ClCBr"]
    csv = tmp_path / "s.csv"
    pd.DataFrame({"name": ["x", "y"], "smiles": ["CCO", "CN"]}).to_csv(csv, index=False)
    assert load_strings(csv) == ["CCO", "CN"]  # picks the smiles column
    assert load_strings(csv, column="name") == ["x", "y"]
    with pytest.raises(DataError, match="no column 'zzz'"):
        load_strings(csv, column="zzz")
    pq = tmp_path / "s.parquet"
    pd.DataFrame({"a": ["1", "2"], "b": ["3", "4"]}).to_parquet(pq)
    with pytest.raises(DataError, match="several columns"):
        load_strings(pq)
    assert load_strings(pq, column="b") == ["3", "4"]
    plain = tmp_path / "plain.txt"
    plain.write_text("a\n")
    with pytest.raises(DataError, match="files only"):
        load_strings(plain, column="x")
    with pytest.raises(FileNotFoundError):
        load_strings(tmp_path / "nope.txt")
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match="UTF-8"):
        load_strings(binary)


def test_domain_for_dataset_and_encoding(small_set):
    dom = domain_for_dataset(small_set)
    assert isinstance(dom, AutomataDomain)
    assert dom.tokenizer.max_states == 6 and dom.tokenizer.max_letters == 2
    ids = encode_items(dom, small_set["item"][:30])
    for s, seq in zip(small_set["item"][:30], ids):
        assert len(seq) == 6 * 2 + 4
        assert dom.parse(seq).item == parse_compact(s)
    sdf = strings_dataset(["CCO", "CCO", "ClCBr"])
    assert sdf["item"].tolist() == ["CCO", "ClCBr"]
    sdom = domain_for_dataset(sdf, {"domain": "strings"})
    assert isinstance(sdom, StringDomain) and "Cl" in sdom.tokenizer.vocab
    assert sdom.parse(sdom.encode("ClCBr")).item == "ClCBr"


@pytest.mark.parametrize("enrich", [None, "quantile:0.7", "mutate:1.0"])
def test_progress_counts_every_row_once(enrich):
    seen = []
    df = build_automata_dataset((3, 6), 2, 500, seed=2, enrich=enrich, progress=seen.append)
    assert sum(seen) == len(df) == 500
