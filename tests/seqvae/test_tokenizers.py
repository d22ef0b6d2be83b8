import json
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from automata.dfa import DFA
from seqvae.constraints import StringConstraint
from seqvae.hunt.constraint import AutomatonConstraint
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.tokenizers import (
    SMILES_PATTERN,
    CharTokenizer,
    DecodeError,
    EncodeError,
    RegexTokenizer,
    tokenizer_from_dict,
)


@st.composite
def dfas(draw, max_states=8, max_letters=3):
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(1, max_letters))
    table = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=n, max_size=n),
                          min_size=k, max_size=k))
    return DFA(table)


TOK = AutomatonTokenizer(max_states=8, max_letters=3)


# --------------------------------------------------------------------- automata
def test_layout_of_a_known_automaton():
    tok = AutomatonTokenizer(5, 2)
    assert tok.vocab_size == 3 + 5 + 5 + 2
    ids = tok.encode(DFA([[1, 2, 0], [0, 0, 2]]))
    # state-major: delta(0,a) delta(0,b) delta(1,a) delta(1,b) ...
    assert tok.tokens(ids) == ["<bos>", "<n3>", "<k2>", "1", "0", "2", "0", "0", "2", "<eos>"]
    assert len(ids) == tok.seq_len(3, 2) == 10
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
    assert tok.pad_id not in ids
    assert tok.max_seq_len == 5 * 2 + 4


@settings(max_examples=150, deadline=None)
@given(st.lists(dfas(), min_size=1, max_size=6))
def test_round_trip_mixed_sizes(batch):
    encoded = [TOK.encode(d) for d in batch]
    for d, ids in zip(batch, encoded):
        assert len(ids) == d.n_states * d.n_letters + 4
        assert TOK.decode(ids) == d
        # decoders give arrays, tensors, sequences without BOS, padded rows
        assert TOK.decode(np.array(ids)) == d
        assert TOK.decode(torch.tensor(ids)) == d
        assert TOK.decode(ids[1:]) == d
        assert TOK.decode(ids + [TOK.pad_id] * 3) == d


def test_encode_rejects_too_large():
    with pytest.raises(EncodeError, match="exceeds"):
        AutomatonTokenizer(3, 2).encode(DFA([[1, 2, 3, 0], [0, 0, 0, 0]]))
    with pytest.raises(EncodeError, match="exceeds"):
        AutomatonTokenizer(4, 1).encode(DFA([[1, 2, 3, 0], [0, 0, 0, 0]]))


def _ids(tok, *names):
    index = {name: i for i, name in enumerate(tok.vocab)}
    return [index[n] for n in names]


@pytest.mark.parametrize("names, message", [
    (("<bos>", "<n2>", "<k1>", "1", "0"), "missing EOS"),
    (("<bos>", "<n2>", "<k1>", "1", "<eos>"), "wrong number of transitions: 1 for n=2, k=1"),
    (("<bos>", "<n2>", "<k1>", "1", "0", "1", "<eos>"), "wrong number of transitions: 3"),
    (("<bos>", "<n2>", "<k1>", "1", "3", "<eos>"), "state 3 out of range for n=2"),
    (("<bos>", "<k1>", "<n2>", "1", "0", "<eos>"), "expected an <n> header"),
    (("<bos>", "<n2>", "1", "1", "0", "<eos>"), "expected a <k> header"),
    (("<bos>", "<n2>", "<k1>", "1", "<n2>", "<eos>"), "wrong place (position 4)"),
    (("<n2>", "<k1>", "1", "<n2>", "<eos>"), "wrong place (position 3)"),
    (("<bos>", "<n2>", "<k1>", "1", "<bos>", "<eos>"), "BOS in the wrong place"),
    (("<bos>", "<n2>", "<k1>", "1", "<pad>", "<eos>"), "PAD before EOS"),
    (("<bos>", "<eos>"), "missing the <n> header"),
    (("<bos>", "<n2>", "<eos>"), "missing the <k> header"),
    ((), "missing EOS"),
])
def test_malformed_messages(names, message):
    tok = AutomatonTokenizer(4, 2)
    with pytest.raises(DecodeError, match=re.escape(message)):
        tok.decode(_ids(tok, *names))


@pytest.mark.parametrize("bad", [[1, 99, 2], [[1, 2]], np.array([1.5, 2.0]), "abc", None, object(),
                                 [-1, 2]])
def test_garbage_input_is_decode_error(bad):
    with pytest.raises(DecodeError):
        TOK.decode(bad)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-2, TOK.vocab_size + 2), max_size=30))
def test_random_ids_only_raise_decode_error(ids):
    try:
        d = TOK.decode(ids)
    except DecodeError:
        return
    assert TOK.decode(TOK.encode(d)) == d


def test_tokens_names_invalid_ids():
    assert TOK.tokens([1, 10_000]) == ["<bos>", "<invalid:10000>"]


def test_automaton_to_dict_is_json_safe():
    tok = AutomatonTokenizer(12, 3)
    back = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert back == tok and back.vocab == tok.vocab
    d = DFA([list(range(1, 12)) + [0], [0] * 12, [5] * 12])
    assert back.decode(tok.encode(d)) == d


# ---------------------------------------------------------------------- strings
SMILES = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "ClC(Cl)Cl", "BrCCBr", "c1cc[nH]c1",
          "C[C@@H](N)C(=O)O", "C%10CCCCC%10", "O=C=O", "[Na+].[Cl-]"]


def test_regex_tokens_keep_smiles_atoms_whole():
    tok = RegexTokenizer.fit(SMILES)
    assert tok.split("c1cc[nH]c1") == ["c", "1", "c", "c", "[nH]", "c", "1"]
    assert tok.split("ClCBr") == ["Cl", "C", "Br"]
    assert tok.split("C%10CC%10") == ["C", "%10", "C", "C", "%10"]
    assert tok.split("C[C@@H](N)") == ["C", "[C@@H]", "(", "N", ")"]
    for token in ("Cl", "Br", "[nH]", "%10", "[C@@H]", "[Na+]"):
        assert token in tok.vocab
    assert "l" not in tok.vocab  # Cl is one token, never C + l
    for s in SMILES:
        ids = tok.encode(s)
        assert tok.decode(ids) == s
        assert len(ids) == len(tok.split(s)) + 2


def test_char_tokenizer_round_trip_and_unknown():
    tok = CharTokenizer.fit(SMILES)
    for s in SMILES:
        assert tok.decode(tok.encode(s)) == s
    with pytest.raises(EncodeError, match="'Z'"):
        tok.encode("CZ")
    lenient = CharTokenizer.fit(SMILES, unk=True)
    ids = lenient.encode("CZ")
    assert ids[2] == lenient.unk_id
    with pytest.raises(DecodeError, match="<unk>"):
        lenient.decode(ids)


def test_regex_unknown_token():
    tok = RegexTokenizer.fit(["CCO"])
    with pytest.raises(EncodeError, match="Cl"):
        tok.encode("CCl")


def test_regex_pattern_that_skips_text_is_an_error():
    with pytest.raises(EncodeError, match="skips"):
        RegexTokenizer.fit(["ab1"], pattern=r"[a-z]")


def test_corpus_token_cannot_collide_with_specials():
    with pytest.raises(ValueError, match="collide"):
        RegexTokenizer.fit(["<pad>x"], pattern=r"<pad>|.")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=20), min_size=1, max_size=8))
def test_string_round_trips(strings):
    for cls in (CharTokenizer, RegexTokenizer):
        tok = cls.fit(strings)
        back = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
        assert back == tok
        for s in strings:
            assert back.decode(tok.encode(s)) == s


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-1, 12), max_size=15))
def test_string_decode_only_raises_decode_error(ids):
    tok = RegexTokenizer.fit(SMILES)
    try:
        tok.decode(ids)
    except DecodeError:
        pass


def test_tokenizer_from_dict_rejects_unknown():
    with pytest.raises(ValueError):
        tokenizer_from_dict({"type": "nope"})
    with pytest.raises(ValueError):
        tokenizer_from_dict("automaton")


# ------------------------------------------------------------------ constraints
def _walk(constraint, batch, rng):
    state = constraint.start(batch)
    rows = []
    for _ in range(constraint.max_steps() + 2):
        allowed = constraint.allowed(state)
        assert allowed.any(axis=1).all(), "a row with no allowed token"
        choice = np.array([rng.choice(np.flatnonzero(a)) for a in allowed])
        rows.append(choice)
        state = constraint.advance(state, choice)
    assert constraint.done(state).all()
    return np.stack(rows, axis=1)


@pytest.mark.parametrize("spec", [dict(n_states=5, n_letters=2), dict(n_states=1, n_letters=3),
                                  dict(), dict(n_states=[2, 7]), dict(n_letters=1)])
def test_random_walks_through_constraint_decode(spec):
    tok = AutomatonTokenizer(8, 3)
    constraint = tok.constraint(**spec)
    rng = np.random.default_rng(0)
    seqs = _walk(constraint, 64, rng)
    sizes = set()
    for row in seqs:
        d = tok.decode(np.concatenate([[tok.bos_id], row]))
        sizes.add((d.n_states, d.n_letters))
        if "n_states" in spec:
            allowed_n = [spec["n_states"]] if np.isscalar(spec["n_states"]) else spec["n_states"]
            assert d.n_states in allowed_n
        if "n_letters" in spec:
            assert d.n_letters == spec["n_letters"]
        # after EOS only PAD
        end = list(row).index(tok.eos_id)
        assert all(t == tok.pad_id for t in row[end + 1:])
    if not spec:
        assert len(sizes) > 5  # the model really chooses the header


def test_constraint_rejects_disallowed_token_and_bad_spec():
    tok = AutomatonTokenizer(4, 2)
    c = tok.constraint(n_states=3, n_letters=2)
    state = c.start(2)
    with pytest.raises(ValueError, match="not allowed"):
        c.advance(state, [tok.n_id(3), tok.n_id(2)])
    state = c.advance(c.advance(state, [tok.n_id(3)] * 2), [tok.k_id(2)] * 2)
    allowed = c.allowed(state)
    assert allowed[:, tok.state_id(2)].all() and not allowed[:, tok.state_id(3)].any()
    with pytest.raises(ValueError):
        tok.constraint(n_states=5)
    with pytest.raises(ValueError):
        tok.constraint(n_letters=0)


def test_constraint_state_index_reorders_rows():
    tok = AutomatonTokenizer(4, 2)
    c = AutomatonConstraint(tok)
    s = c.advance(c.start(2), [tok.n_id(1), tok.n_id(4)])
    s2 = s.index([1, 1, 0])
    assert s2.n_states.tolist() == [4, 4, 1]
    assert len(s2) == 3


def test_default_pattern_is_exported():
    assert "Cl" in SMILES_PATTERN


def test_string_constraint_walks_always_decode():
    tok = RegexTokenizer.fit(SMILES, unk=True)
    c = StringConstraint(tok, max_len=6)
    seqs = _walk(c, 64, np.random.default_rng(2))
    lengths = set()
    for row in seqs:
        text = tok.decode(row)  # no BOS given: optional
        n_tokens = list(row).index(tok.eos_id)
        assert n_tokens <= 6 and len(tok.split(text)) <= n_tokens
        lengths.add(n_tokens)
    assert len(lengths) > 1


def test_string_constraint_holds_eos_back_until_min_len():
    from seqvae.constraints import StringConstraint
    from seqvae.tokenizers import CharTokenizer

    tok = CharTokenizer.fit(["ab"])
    con = StringConstraint(tok, max_len=3, min_len=2)
    a = tok.encode("a")[1]
    state = con.start(1)
    eos_allowed = []
    for _ in range(3):
        row = con.allowed(state)[0]
        eos_allowed.append(bool(row[tok.eos_id]))
        state = con.advance(state, [a])
    assert eos_allowed == [False, False, True]
    assert np.flatnonzero(con.allowed(state)[0]).tolist() == [tok.eos_id]  # max_len reached
    with pytest.raises(ValueError):
        StringConstraint(tok, max_len=2, min_len=3)
