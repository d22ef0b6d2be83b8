"""Scoring of decodes, summaries, pair choice and the experiment on a transparent stand-in run."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automata import DFA
from automata.reference import bfs_reset_word
from seqvae.domains import Parsed
from seqvae.hunt.domain import AutomataDomain
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.interpolate import choose_pairs, run_attribute, run_interpolation
from seqvae.scoring import SUMMARY_KEYS, score_decodes, summarize_points
from seqvae.strings import StringDomain
from seqvae.tokenizers import CharTokenizer
from seqvae.validators import register_validator

register_validator("test_alpha", str.isalpha, replace=True)
register_validator("test_upper", str.isupper, str.upper, replace=True)
register_validator("test_lower", str.islower, replace=True)

CERNY4 = DFA([[1, 2, 3, 0], [1, 1, 2, 3]])            # rt 9
CERNY4_RELABELLED = CERNY4.relabel([2, 0, 3, 1], [1, 0])
PERMS = DFA([[1, 2, 3, 0], [1, 0, 2, 3]])              # two permutations: not synchronizing
CONST = DFA([[0, 0, 0, 0], [0, 2, 3, 1]])              # rt 1, state 0 a sink
OTHER = DFA([[1, 2, 3, 0], [0, 0, 2, 3]])


@pytest.fixture(scope="module")
def domain():
    return AutomataDomain(AutomatonTokenizer(max_states=6, max_letters=2))


def _ok(dfa):
    return Parsed(True, dfa, None)


def test_scoring_hand_made_decodes(domain):
    key = domain.canonical_key
    parsed = [_ok(CERNY4), Parsed(False, None, "missing EOS"), _ok(PERMS), _ok(CONST),
              _ok(CERNY4_RELABELLED), _ok(OTHER)]
    rows = score_decodes(parsed, domain, train_keys={key(CONST)},
                         endpoint_keys=[key(CERNY4), key(OTHER)])
    c4, bad, perms, const, dup, other = rows
    assert c4["well_formed"] and c4["synchronizing"] and c4["reset_length"] == 9
    assert c4["cerny_ratio"] == pytest.approx(1.0) and c4["strongly_connected"]
    assert c4["same_as_endpoint"] and c4["novel"] and c4["first_in_path"]
    assert c4["n_states"] == 4 and c4["n_letters"] == 2
    assert not bad["well_formed"] and bad["error"] == "missing EOS"
    assert not bad["novel"] and bad["reset_length"] is None and bad["key"] is None
    assert perms["well_formed"] and perms["synchronizing"] is False
    assert perms["reset_length"] is None and perms["cerny_ratio"] is None
    assert perms["novel"] and not perms["same_as_endpoint"]
    assert const["reset_length"] == 1 and not const["novel"]          # a training member
    assert not const["strongly_connected"]
    # An isomorphic copy of an earlier decode is a duplicate along the path.
    assert dup["key"] == c4["key"] and not dup["first_in_path"] and dup["same_as_endpoint"]
    assert other["same_as_endpoint"] and other["first_in_path"]


def test_scoring_strings_has_no_automaton_fields():
    dom = StringDomain(CharTokenizer.fit(["abc", "cab"]), validity="test_lower")
    parsed = [dom.parse(dom.encode("abc")), dom.parse(dom.encode("ab")),
              Parsed(False, "ABC", "rejected")]
    rows = score_decodes(parsed, dom, train_keys={"abc"}, endpoint_keys=["cab"])
    assert [r["well_formed"] for r in rows] == [True, True, False]
    assert [r["novel"] for r in rows] == [False, True, False]
    assert rows[0]["synchronizing"] is None and rows[0]["n_states"] is None


def _points(rows_by_path):
    records = []
    for (method, refine, pair), records_ in rows_by_path.items():
        for step, rec in enumerate(records_):
            records.append({"method": method, "decoding": "constrained", "refine": refine,
                            "pair": pair, "step": step, "t": step / (len(records_) - 1),
                            "is_endpoint": step in (0, len(records_) - 1), "z_norm": 1.0, **rec})
    return pd.DataFrame(records)


def test_summary_counts_interior_points_only(domain):
    key = domain.canonical_key
    ends = [key(CERNY4), key(OTHER)]
    path = [_ok(CERNY4), _ok(PERMS), Parsed(False, None, "x"), _ok(CONST), _ok(CERNY4), _ok(OTHER)]
    rows = score_decodes(path, domain, train_keys={key(CONST)}, endpoint_keys=ends)
    rows[0]["same_as_endpoint"] = True
    rows[-1]["same_as_endpoint"] = True
    (summary,) = summarize_points(_points({("polar", 0, 0): rows}))
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["method"] == "polar" and summary["refine"] == 0
    # Interior: PERMS, malformed, CONST (training), CERNY4 (endpoint copy).
    assert summary["points"] == 4
    assert summary["well_formed"] == pytest.approx(3 / 4)
    assert summary["synchronizing"] == pytest.approx(2 / 4)
    assert summary["novel"] == pytest.approx(2 / 4)          # PERMS and the endpoint copy
    assert summary["new"] == pytest.approx(1 / 4)            # only PERMS
    assert summary["mean_reset_length"] == pytest.approx((1 + 9) / 2)
    assert summary["max_reset_length"] == 9
    assert summary["distinct"] == 3 and summary["distinct_new"] == 1
    assert summary["endpoint_recon"] == 1.0


def test_choose_pairs_same_size_and_distinct():
    items = [CERNY4, OTHER, PERMS, DFA([[1, 2, 0], [0, 0, 2]]), DFA([[1, 0, 0], [2, 0, 1]])]
    dom = AutomataDomain(AutomatonTokenizer(max_states=4, max_letters=2))
    pairs = choose_pairs(items, 50, np.random.default_rng(0), domain=dom)
    assert len(pairs) == len({frozenset(p) for p in pairs})
    for i, j in pairs:
        assert i != j and items[i].n_states == items[j].n_states
    # 3 four-state items give 3 unordered pairs, 2 three-state ones give 1.
    assert len(pairs) <= 4
    with pytest.raises(ValueError):
        choose_pairs([CERNY4, DFA([[0, 1, 2], [1, 2, 0]])], 1, np.random.default_rng(0),
                     domain=dom)


class TableRun:
    """A transparent stand-in for a trained run: the latent of an automaton is its transition
    table (flattened, as floats), and decoding rounds each entry to the nearest state.
    Unconstrained decodes with an entry out of range are malformed; constrained ones clip."""

    def __init__(self, n_states, train, heldout):
        self.n = n_states
        self.domain = AutomataDomain(AutomatonTokenizer(max_states=6, max_letters=2))
        self.train_keys = {self.domain.canonical_key(a) for a in train}
        self.heldout_items = list(heldout)
        self.d_z = 2 * n_states
        self.encode_calls = 0

    def encode(self, items):
        self.encode_calls += 1
        mu = np.array([np.asarray(a.delta, dtype=np.float32).ravel() for a in items])
        return mu, np.zeros_like(mu)

    def decode_parsed(self, z, *, method="greedy", constrained=True, temperature=1.0,
                      n_states=None, n_letters=None):
        assert method == "greedy"
        out = []
        for point in np.asarray(z):
            table = np.rint(point).astype(int)
            if constrained:
                assert n_states == self.n and n_letters == 2
                table = np.clip(table, 0, self.n - 1)
            elif table.min() < 0 or table.max() >= self.n:
                out.append(Parsed(False, None, "state out of range"))
                continue
            out.append(self.domain.parse(self.domain.encode(DFA(table.reshape(2, self.n)))))
        return out


def test_experiment_on_table_run():
    rng = np.random.default_rng(1)
    tables = {DFA(rng.integers(0, 4, size=(2, 4))) for _ in range(60)}
    tables = sorted(tables, key=lambda a: a.delta.tobytes())
    run = TableRun(4, tables[:30], tables[30:])
    result = run_interpolation(run, n_pairs=5, steps=6, rounds=2,
                               decodings=("constrained", "unconstrained"), seed=3)
    pts = result.points
    assert len(pts) == 3 * 2 * 5 * 6 * 3            # methods × decodings × pairs × steps × rounds
    assert len(result.summary) == 3 * 2 * 3
    assert {(r["method"], r["decoding"], r["refine"]) for r in result.summary} == {
        (m, d, k) for m in ("linear", "polar", "slerp") for d in ("constrained", "unconstrained")
        for k in range(3)}
    # The stand-in decodes its own encodings exactly: every endpoint is reconstructed.
    assert all(r["endpoint_recon"] == 1.0 for r in result.summary)
    # Linear paths between valid tables stay in range: all unconstrained decodes well-formed.
    lin = pts[(pts["method"] == "linear") & (pts["decoding"] == "unconstrained")]
    assert lin["well_formed"].all()
    # Constrained decodes are always well-formed.
    assert pts[pts["decoding"] == "constrained"]["well_formed"].all()
    # Exact scores agree with the plain-Python reference BFS.
    for _, row in pts[pts["well_formed"]].drop_duplicates("key").head(12).iterrows():
        word = bfs_reset_word(run.domain.item_from_text(row["key"]))
        assert row["synchronizing"] == (word is not None)
        if word is not None:
            assert row["reset_length"] == len(word)
    # Refinement is a fixed point for this stand-in: round 1 equals round 2.
    r1 = pts[pts["refine"] == 1].reset_index(drop=True)
    r2 = pts[pts["refine"] == 2].reset_index(drop=True)
    assert list(r1["key"]) == list(r2["key"])
    # Training members are never novel.
    assert not pts[pts["key"].isin(run.train_keys)]["novel"].any()
    assert len(result.path_items("polar", 0, 0)) == 6


def test_experiment_between_given_pair_and_bad_options():
    run = TableRun(4, [CONST], [CERNY4, OTHER])
    res = run_interpolation(run, methods=["slerp"], pairs=[(CERNY4, OTHER)], steps=3, seed=0)
    assert res.points["endpoint_a"].iloc[0] == run.domain.canonical_key(CERNY4)
    assert len(res.summary) == 1 and res.summary[0]["points"] == 1
    with pytest.raises(ValueError):
        run_interpolation(run, methods=["spline"], pairs=[(CERNY4, OTHER)])
    with pytest.raises(ValueError):
        run_interpolation(run, decodings=["free"], pairs=[(CERNY4, OTHER)])


def test_attribute_walk_on_table_run():
    rng = np.random.default_rng(2)
    pool = sorted({DFA(rng.integers(0, 5, size=(2, 5))) for _ in range(80)},
                  key=lambda a: a.delta.tobytes())
    run = TableRun(5, [], pool)
    res = run_attribute(run, attribute="reset_length", steps=5, alpha_max=1.0, n_starts=10, seed=0)
    assert [r["step"] for r in res.rows] == list(range(5))
    assert res.rows[2]["alpha"] == pytest.approx(0.0)
    assert all("mean_reset_length" in r for r in res.rows)
    assert res.high_mean > res.low_mean
    assert res.slope is not None and np.isfinite(res.slope)
    # At α = 0 every start decodes to itself.
    assert res.rows[2]["same_as_start"] == 1.0
    assert len(res.points) == 5 * 10
    with pytest.raises(ValueError):
        run_attribute(run, attribute="colour", steps=3)
