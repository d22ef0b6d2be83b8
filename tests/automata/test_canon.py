"""Canonical forms: invariance under relabelling, and separation checked by brute force."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automata import DFA, AutomatonError
from automata.canon import canonical_form, canonical_key, canonical_labelling, canonical_tables, is_isomorphic
from automata.formats import format_compact


def brute_canonical(delta: np.ndarray) -> tuple[int, ...]:
    """Smallest state-major table over all n!·k! relabellings."""
    k, n = delta.shape
    best = None
    for sp in itertools.permutations(range(n)):
        sp = np.array(sp)
        inv = np.empty(n, dtype=int)
        inv[sp] = np.arange(n)
        renamed = sp[delta[:, inv]]
        for lp in itertools.permutations(range(k)):
            key = tuple(renamed[list(lp)].T.ravel().tolist())
            if best is None or key < best:
                best = key
    return best


def random_tables(rng, count, n, k):
    """Uniform tables mixed with degenerate ones (small images, many fixed points)
    where ties between roots and restarts are common."""
    out = rng.integers(0, n, size=(count, k, n))
    low = rng.random(count) < 0.4
    out[low] = np.minimum(out[low], rng.integers(0, max(1, n // 2), size=(int(low.sum()), k, n)))
    ident = rng.random(count) < 0.15
    mask = rng.random((count, k, n)) < 0.6
    out[ident] = np.where(mask[ident], np.arange(n), out[ident])
    return out


@st.composite
def dfa_and_relabelling(draw, max_states=9, max_letters=3):
    n = draw(st.integers(1, max_states))
    k = draw(st.integers(1, max_letters))
    table = draw(st.lists(st.lists(st.integers(0, n - 1), min_size=n, max_size=n),
                          min_size=k, max_size=k))
    state_perm = draw(st.permutations(range(n)))
    letter_perm = draw(st.permutations(range(k)))
    return DFA(table), list(state_perm), list(letter_perm)


@settings(max_examples=300, deadline=None)
@given(dfa_and_relabelling())
def test_canonical_form_is_invariant_under_relabelling(case):
    dfa, state_perm, letter_perm = case
    other = dfa.relabel(state_perm, letter_perm)
    canon = canonical_form(dfa)
    assert canonical_form(other) == canon
    assert canonical_key(other) == canonical_key(dfa) == format_compact(canon)
    assert is_isomorphic(dfa, other)
    # The canonical form is a relabelling of the automaton itself, and a fixed point.
    s, l = canonical_labelling(dfa)
    assert dfa.relabel(s, l) == canon
    assert canonical_form(canon) == canon


@pytest.mark.parametrize("n,k,count", [(2, 2, 60), (3, 2, 300), (4, 2, 300), (5, 2, 200),
                                       (6, 2, 25), (3, 3, 150), (4, 3, 60), (5, 1, 150),
                                       (6, 1, 40)])
def test_keys_agree_with_brute_force(n, k, count):
    rng = np.random.default_rng(1000 * n + k)
    tables = random_tables(rng, count, n, k)
    canon = canonical_tables(tables)
    seen: dict[tuple, bytes] = {}
    for table, c in zip(tables, canon):
        brute = brute_canonical(table)
        key = c.tobytes()
        # isomorphic (same brute form) -> same canonical table
        assert seen.setdefault(brute, key) == key
    # non-isomorphic -> different canonical tables
    assert len(set(seen.values())) == len(seen)
    # the canonical table is a relabelling of the input: same brute form
    for table, c in zip(tables[:20], canon[:20]):
        assert brute_canonical(np.asarray(c)) == brute_canonical(table)


def test_all_binary_three_state_automata():
    # Every one of the 3^6 tables: the classes must match brute force exactly.
    tables = np.array([np.array(t).reshape(2, 3) for t in itertools.product(range(3), repeat=6)])
    canon = canonical_tables(tables)
    classes: dict[tuple, set] = {}
    for table, c in zip(tables, canon):
        classes.setdefault(brute_canonical(table), set()).add(c.tobytes())
    assert all(len(v) == 1 for v in classes.values())
    assert len({next(iter(v)) for v in classes.values()}) == len(classes) == 74


def test_batch_matches_single_and_relabelled_batch():
    rng = np.random.default_rng(7)
    for n in (8, 13, 20):
        tables = random_tables(rng, 200, n, 2)
        canon = canonical_tables(tables)
        relabelled = np.stack([DFA(t).relabel(rng.permutation(n), rng.permutation(2)).delta
                               for t in tables])
        assert np.array_equal(canonical_tables(relabelled), canon)
        for t, c in zip(tables[:10], canon[:10]):
            assert canonical_form(DFA(t)) == DFA(c)


def test_highly_symmetric_automata_are_handled():
    # Many identical components: the search must not try every ordering of them.
    n = 24
    identity = DFA([list(range(n))] * 2)
    assert canonical_form(identity) == identity
    star = DFA([[0] * n, [0] * n])
    assert canonical_form(star.relabel(list(range(n))[::-1])) == canonical_form(star)
    pairs = DFA([[q ^ 1 for q in range(n)], list(range(n))])
    assert canonical_form(pairs.relabel(np.random.default_rng(0).permutation(n))) == \
        canonical_form(pairs)
    # Binary tree towards a root: tied leaves under each parent.
    parent = [0] + [(q - 1) // 2 for q in range(1, 15)]
    tree = DFA([parent, parent])
    perm = np.random.default_rng(1).permutation(15)
    assert canonical_form(tree.relabel(perm, [1, 0])) == canonical_form(tree)


def test_distinguishes_close_automata():
    cerny = DFA([[1, 2, 3, 0], [0, 1, 2, 0]])
    other = DFA([[1, 2, 3, 0], [0, 1, 2, 1]])
    assert not is_isomorphic(cerny, other)
    assert canonical_key(cerny) != canonical_key(other)
    assert not is_isomorphic(cerny, DFA([[1, 2, 0], [0, 1, 0]]))  # different sizes
    assert not is_isomorphic(DFA([[0, 1]]), DFA([[0, 1], [0, 1]]))


def test_known_canonical_forms():
    # C_3: a cycles, b sends 2 to 0; its canonical table is the smallest relabelling.
    assert canonical_key(DFA([[1, 2, 0], [0, 1, 0]])) == format_compact(
        DFA(np.array(brute_canonical(np.array([[1, 2, 0], [0, 1, 0]]))).reshape(3, 2).T))
    assert canonical_key(DFA([[0]])) == "a:0"
    big = canonical_key(DFA([list(range(1, 12)) + [0], [0] * 12]))
    assert "," in big and big.startswith("a:")


def test_empty_batch_and_dtype():
    out = canonical_tables(np.zeros((0, 2, 5), dtype=np.int64))
    assert out.shape == (0, 2, 5)
    out = canonical_tables(np.array([[[1, 0], [0, 0]]], dtype=np.uint8))
    assert out.dtype == np.int32 and out.shape == (1, 2, 2)


@pytest.mark.parametrize("bad", [
    np.zeros((2, 3)),                      # not 3-D
    np.zeros((1, 2, 3), dtype=float),      # not integer
    np.full((1, 2, 3), 3),                 # out of range
    np.full((1, 2, 3), -1),                # negative
    np.zeros((1, 0, 3), dtype=int),        # no letters
    np.zeros((1, 9, 2), dtype=int),        # too many letters
])
def test_bad_tables_raise(bad):
    with pytest.raises(AutomatonError):
        canonical_tables(bad)


def test_bad_arguments_raise():
    with pytest.raises(AutomatonError):
        canonical_form([[0, 1], [1, 0]])
    with pytest.raises(AutomatonError):
        is_isomorphic(DFA([[0]]), "a:0")


def _structured(rng, n):
    """Automata with many ties between roots: forests, shared sinks, repeated
    components, equal letters."""
    f = rng.integers(0, n, size=n)
    parent = np.array([0] + [int(rng.integers(0, q)) for q in range(1, n)])
    base = rng.integers(0, 4, size=(2, 4))
    copies = np.concatenate([base + 4 * i for i in range(n // 4)], axis=1)
    shared = np.where(copies % 4 == 0, 0, copies)
    return [
        np.array([f, f]), np.array([f, np.arange(n)]), np.array([parent, parent]),
        np.array([parent, np.zeros(n, int)]), copies, shared,
        np.array([np.arange(n) ^ 1, np.arange(n) ^ 2]),
        rng.integers(0, 3, size=(2, n)),
    ]


@pytest.mark.parametrize("n", [16, 28])
def test_structured_automata(n):
    # Equal keys imply isomorphism because the canonical form is a relabelling of
    # the input (checked here); isomorphic inputs must give equal keys.
    rng = np.random.default_rng(n)
    for table in _structured(rng, n):
        dfa = DFA(table)
        canon = canonical_form(dfa)
        s, l = canonical_labelling(dfa)
        assert dfa.relabel(s, l) == canon
        for _ in range(3):
            other = dfa.relabel(rng.permutation(dfa.n_states), rng.permutation(dfa.n_letters))
            assert canonical_form(other) == canon
