"""The SMILES grammar constraint: real molecules always pass, broken prefixes never do,
and a random walk under it always ends in a string RDKit can parse."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqvae.constraints import ConstraintState, StringConstraint, grammar_constraint
from seqvae.errors import DecodingError, TokenizerError
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.molecules.grammar import SmilesGrammarConstraint
from seqvae.tokenizers import CharTokenizer, RegexTokenizer

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


def _example_smiles() -> list[str]:
    """The shipped molecules: as written, canonical, and ten random spellings of each
    (other atom orders, other ring labels and branches)."""
    Chem = pytest.importorskip("rdkit.Chem")
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    texts = []
    for name in ("drugs.smi", "smiles_tiny.txt"):
        for line in (EXAMPLES / name).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                texts.append(line.split()[0])
    out = []
    for text in texts:
        mol = Chem.MolFromSmiles(text)
        if mol is None:
            continue
        out += [text, Chem.MolToSmiles(mol)]
        out += [Chem.MolToSmiles(mol, doRandom=True, canonical=False) for _ in range(10)]
        out += [Chem.MolToSmiles(mol, kekuleSmiles=True)]
    return out


@pytest.fixture(scope="module")
def corpus():
    smiles = _example_smiles()
    return smiles, RegexTokenizer.fit(smiles)


def _walk(constraint, tok, text):
    """Teacher-force ``text``; the state before EOS, or the first refused token."""
    state = constraint.start(1)
    for t in tok.encode(text)[1:-1]:
        if not constraint.allowed(state)[0, t]:
            return None, tok.tokens([t])[0]
        state = constraint.advance(state, [t])
    return state, None


def test_every_shipped_molecule_passes_even_at_its_exact_length(corpus):
    smiles, tok = corpus
    assert len(smiles) > 2000
    lengths = {s: len(tok.encode(s)) - 2 for s in smiles}
    longest = max(lengths.values())
    # A generous limit and the tightest one (max_len = the string's own length): the
    # reserve for closing branches and rings must never refuse a real molecule.
    for max_len in sorted({longest} | set(lengths.values())):
        c = SmilesGrammarConstraint(tok, max_len)
        batch = [s for s in smiles if lengths[s] == max_len or max_len == longest]
        ids = [tok.encode(s)[1:] for s in batch]  # tokens, then EOS
        width = max(len(i) for i in ids)
        mat = np.full((len(ids), width), tok.pad_id)
        for i, row in enumerate(ids):
            mat[i, :len(row)] = row
        state = c.start(len(ids))
        for t in range(width):
            ok = c.allowed(state)[np.arange(len(ids)), mat[:, t]]
            assert ok.all(), (max_len, [batch[i] for i in np.flatnonzero(~ok)][:3], t)
            state = c.advance(state, mat[:, t])
        assert state.finished.all()


BAD = [
    (")", ""), ("(", ""), ("1", ""), ("=", ""),            # (token, after this prefix)
    (")", "C("), ("(", "C("), ("(", "C="), (")", "C="), ("<eos>", "C="),
    ("<eos>", "C(C"), ("<eos>", "C1CC"), ("<eos>", "C("), ("1", "C1"),
    ("1", "C1C"), ("1", "C(C)"), ("1", "C("), (")", "CC"), ("1", "C(="),
]


@pytest.mark.parametrize("token,prefix", BAD)
def test_broken_prefixes_are_refused(corpus, token, prefix):
    _, tok = corpus
    c = SmilesGrammarConstraint(tok, 40)
    state, refused = _walk(c, tok, prefix) if prefix else (c.start(1), None)
    assert refused is None
    tid = tok.eos_id if token == "<eos>" else tok.vocab.index(token)
    assert not c.allowed(state)[0, tid]


def test_a_second_ring_bond_between_the_same_two_atoms_is_refused(corpus):
    _, tok = corpus
    c = SmilesGrammarConstraint(tok, 40)
    state, _ = _walk(c, tok, "C12CCC1")   # ring 1 closed C0-C3 here; ring 2 is also C0's
    assert not c.allowed(state)[0, tok.vocab.index("2")]
    state, _ = _walk(c, tok, "C12CCC")
    assert c.allowed(state)[0, tok.vocab.index("2")]


def test_well_formed_prefixes_keep_their_continuations(corpus):
    _, tok = corpus
    c = SmilesGrammarConstraint(tok, 40)
    for prefix, token in [("C(", "="), ("C(", "C"), ("C1CC", "1"), ("C=", "1"),
                          ("C(C)", "("), ("C(C)", "="), ("CC1", "("), ("C1CC(C1", ")")]:
        state, refused = _walk(c, tok, prefix)
        assert refused is None, prefix
        assert c.allowed(state)[0, tok.vocab.index(token)], (prefix, token)
    state, _ = _walk(c, tok, "C1CCC1")
    assert c.allowed(state)[0, tok.eos_id]


def test_the_last_steps_are_reserved_for_closing(corpus):
    _, tok = corpus
    # "C(C1CC" leaves ring 1 and one branch open: 2 more tokens at least ("1)").
    c = SmilesGrammarConstraint(tok, 8)
    state, _ = _walk(c, tok, "C(C1CC")
    allowed = tok.tokens(np.flatnonzero(c.allowed(state)[0]))
    assert allowed == ["1"]
    state = c.advance(state, [tok.vocab.index("1")])
    assert tok.tokens(np.flatnonzero(c.allowed(state)[0])) == [")"]


def test_random_walks_always_end_in_parsable_smiles(corpus):
    Chem = pytest.importorskip("rdkit.Chem")
    _, tok = corpus
    rng = np.random.default_rng(0)
    for max_len in (1, 2, 5, 9, 20):
        c = SmilesGrammarConstraint(tok, max_len)
        state = c.start(300)
        rows = [[] for _ in range(300)]
        for _ in range(c.max_steps()):
            allowed = c.allowed(state)
            assert allowed.any(1).all()   # never a dead end
            picks = np.array([rng.choice(np.flatnonzero(a)) for a in allowed])
            for i, t in enumerate(picks):
                if not state.finished[i] and t != tok.eos_id:
                    rows[i].append(t)
            state = c.advance(state, picks)
        assert state.finished.all()
        for row in rows:
            text = "".join(tok.tokens(row))
            assert 1 <= len(row) <= max_len
            # Syntax only: valences and aromaticity are RDKit's business, not the grammar's.
            assert Chem.MolFromSmiles(text, sanitize=False) is not None, text


def test_state_rows_move_with_beam_reordering(corpus):
    _, tok = corpus
    c = SmilesGrammarConstraint(tok, 20)
    a, _ = _walk(c, tok, "C(C1")
    b, _ = _walk(c, tok, "CC")
    both = ConstraintState(*(np.concatenate([getattr(a, f), getattr(b, f)])
                             for f in ("pos", "n_states", "n_letters", "finished", "extra")))
    moved = both.index([1, 0, 0])
    assert np.array_equal(c.allowed(moved), c.allowed(both)[[1, 0, 0]])
    moved.extra[0, 0] = 99
    assert both.extra[1, 0] != 99   # index copies


def test_plain_constraints_keep_an_empty_extra():
    tok = AutomatonTokenizer(4, 2)
    state = tok.constraint().start(3)
    assert state.extra.shape == (3, 0) and state.index([2, 2]).extra.shape == (2, 0)
    s = StringConstraint(CharTokenizer.fit(["ab"]), 3).start(2)
    assert s.extra.shape == (2, 0)


def test_grammar_is_chosen_by_tokenizer_and_refused_elsewhere():
    assert isinstance(grammar_constraint(RegexTokenizer.fit(["CCO"]), 5), SmilesGrammarConstraint)
    with pytest.raises(DecodingError, match="grammar"):
        grammar_constraint(CharTokenizer.fit(["CCO"]), 5)
    with pytest.raises(DecodingError, match="grammar"):
        grammar_constraint(RegexTokenizer.fit(["ab"], pattern="."), 5)
    with pytest.raises(TokenizerError):
        SmilesGrammarConstraint(RegexTokenizer.fit(["CCO"]), 0)
    with pytest.raises(TokenizerError, match="atom"):
        SmilesGrammarConstraint(RegexTokenizer.fit(["()"]), 5)


def _shortest_completion(c, state, limit):
    """Fewest tokens after which ``c`` (a constraint whose length limit never binds here)
    allows EOS, by breadth-first search over every token it allows; None past ``limit``."""
    eos, pad = c.tokenizer.eos_id, c.tokenizer.pad_id
    frontier = state
    for depth in range(limit + 1):
        allowed = c.allowed(frontier)
        if allowed[:, eos].any():
            return depth
        allowed[:, [eos, pad]] = False
        rows, toks = np.nonzero(allowed)
        frontier = c.advance(frontier.index(rows), toks)
    return None


def test_the_reserve_is_exactly_the_shortest_completion():
    # Small vocabulary, so that the search over every continuation stays small.
    tok = RegexTokenizer.fit(["C1CC2CC12", "C(=O)O", "c1ccccc1"])
    free = SmilesGrammarConstraint(tok, 60)
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(60):
        # a random prefix of up to 7 tokens under the grammar alone
        state, prefix = free.start(1), []
        for _ in range(int(rng.integers(0, 8))):
            allowed = free.allowed(state)[0]
            allowed[[tok.eos_id, tok.pad_id]] = False
            t = int(rng.choice(np.flatnonzero(allowed)))
            prefix.append(t)
            state = free.advance(state, [t])
        # the fewest tokens each continuation needs before EOS
        need = {}
        allowed = free.allowed(state)[0]
        for t in np.flatnonzero(allowed):
            if t != tok.eos_id:
                need[int(t)] = _shortest_completion(free, free.advance(state, [t]), 4)
        for max_len in range(len(prefix) + 1, len(prefix) + 5):
            tight = SmilesGrammarConstraint(tok, max_len)
            s = tight.start(1)
            for t in prefix:
                if not tight.allowed(s)[0, t]:
                    break
                s = tight.advance(s, [t])
            else:
                left = max_len - len(prefix) - 1   # tokens after the next one, before EOS
                got = tight.allowed(s)[0]
                for t, n in need.items():
                    expected = n is not None and n <= left
                    assert got[t] == expected, (tok.tokens(prefix), tok.tokens([t]), max_len)
                    checked += 1
    assert checked > 500
