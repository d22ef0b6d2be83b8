import json

import numpy as np
import pytest

from automata.canon import canonical_form, canonical_key
from automata.dfa import DFA
from automata.generate import is_strongly_connected, random_tables, strongly_connected_tables
from seqvae.domains import Parsed, domain_from_dict
from seqvae.hunt.domain import AutomataDomain
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.strings import StringDomain
from seqvae.tokenizers import CharTokenizer, RegexTokenizer
from seqvae.validators import register_validator

register_validator("test_alpha", str.isalpha, replace=True)
register_validator("test_upper", str.isupper, str.upper, replace=True)
register_validator("test_lower", str.islower, replace=True)


def cerny(n):
    return DFA([[(q + 1) % n for q in range(n)], [0 if q == n - 1 else q for q in range(n)]])


DOM = AutomataDomain(AutomatonTokenizer(max_states=8, max_letters=3))


def test_parse_canonicalises():
    a = cerny(5)
    b = a.relabel([3, 0, 4, 1, 2], [1, 0])
    pa, pb = DOM.parse(DOM.tokenizer.encode(a)), DOM.parse(DOM.tokenizer.encode(b))
    assert pa.ok and pb.ok and pa.error is None
    assert pa.item == pb.item == canonical_form(a)
    assert DOM.canonical_key(pa.item) == DOM.canonical_key(b) == canonical_key(a)
    # Domain.encode canonicalises, so isomorphic automata share one sequence
    assert DOM.encode(a) == DOM.encode(b)


def test_parse_failure_carries_reason():
    p = DOM.parse([DOM.tokenizer.bos_id, DOM.tokenizer.n_id(2)])
    assert p == Parsed(False, None, "missing EOS")


def test_parse_many_matches_parse():
    rng = np.random.default_rng(3)
    batch = [DOM.tokenizer.encode(DFA(t)) for t in random_tables(20, 6, 2, rng)]
    batch += [DOM.tokenizer.encode(DFA(t)) for t in random_tables(5, 3, 3, rng)]
    batch.append([1, 2])
    many = DOM.parse_many(batch)
    assert many == [DOM.parse(ids) for ids in batch]
    assert not many[-1].ok


@pytest.mark.parametrize("n", [2, 4, 7])
def test_score_of_cerny_automata(n):
    s = DOM.score(cerny(n))
    assert s == {"synchronizing": True, "reset_length": (n - 1) ** 2,
                 "strongly_connected": True, "cerny_ratio": 1.0}


def test_score_non_synchronizing_and_one_state():
    perm = DFA([[1, 2, 0], [0, 2, 1]])
    assert DOM.score(perm) == {"synchronizing": False, "reset_length": None,
                               "strongly_connected": True, "cerny_ratio": None}
    assert DOM.score(DFA([[0]]))["cerny_ratio"] == 0.0


def test_score_many_matches_score():
    rng = np.random.default_rng(7)
    items = [DFA(t) for t in random_tables(40, 5, 2, rng)] + [cerny(6), DFA([[1, 0], [1, 0]])]
    assert DOM.score_many(items) == [DOM.score(d) for d in items]


def test_strongly_connected_tables_matches_reference():
    rng = np.random.default_rng(11)
    for n, k in ((1, 1), (4, 1), (6, 2), (9, 3)):
        tables = random_tables(200, n, k, rng)
        expected = [is_strongly_connected(DFA(t)) for t in tables]
        assert strongly_connected_tables(tables).tolist() == expected


def test_constraint_from_domain_yields_valid_items():
    c = DOM.constraint(n_states=4, n_letters=2, temperature=0.5)  # extra keys ignored
    rng = np.random.default_rng(0)
    state = c.start(16)
    seq = [np.full(16, DOM.tokenizer.bos_id)]
    while not c.done(state).all():
        allowed = c.allowed(state)
        tok = np.array([rng.choice(np.flatnonzero(a)) for a in allowed])
        seq.append(tok)
        state = c.advance(state, tok)
    for row in np.stack(seq, axis=1):
        p = DOM.parse(row)
        assert p.ok and p.item.n_states == 4 and p.item.n_letters == 2
        assert p.item == canonical_form(p.item)


def test_automata_domain_dict_round_trip():
    back = domain_from_dict(json.loads(json.dumps(DOM.to_dict())))
    assert isinstance(back, AutomataDomain) and back.tokenizer == DOM.tokenizer


def test_item_text_round_trip():
    d = canonical_form(cerny(5))
    text = DOM.item_to_text(d)
    assert DOM.item_from_text(text) == d
    assert DOM.encode_text(text) == DOM.encode(d)


# ---------------------------------------------------------------------- strings
def is_short(s: str) -> bool:
    return len(s) <= 3


def explode(s: str) -> bool:
    raise RuntimeError("boom")


def test_string_domain_validity_by_name_survives_to_dict():
    register_validator("test_is_short", is_short, replace=True)
    tok = CharTokenizer.fit(["ab", "abcd"])
    dom = StringDomain(tok, validity="test_is_short")
    assert dom.parse(tok.encode("ab")) == Parsed(True, "ab", None)
    p = dom.parse(tok.encode("abcd"))
    assert not p.ok and p.item == "abcd" and "is_short" in p.error
    back = domain_from_dict(json.loads(json.dumps(dom.to_dict())))
    assert back.validity_name == "test_is_short"
    assert not back.parse(tok.encode("abcd")).ok
    # a registered function given as an object gets its registered name too
    assert StringDomain(tok, validity=is_short).validity_name == "test_is_short"


def test_string_domain_validity_that_raises():
    tok = RegexTokenizer.fit(["CCO"])
    p = StringDomain(tok, validity=explode).parse(tok.encode("CCO"))
    assert not p.ok and "RuntimeError" in p.error


def test_string_domain_lambda_is_not_serialised_but_works():
    tok = CharTokenizer.fit(["xy"])
    dom = StringDomain(tok, validity=lambda s: s == "xy")
    assert dom.validity_name is None and dom.to_dict()["validity"] is None
    assert dom.parse(tok.encode("xy")).ok and not dom.parse(tok.encode("yx")).ok


def test_string_domain_basics():
    tok = CharTokenizer.fit(["ab"])
    dom = StringDomain(tok)
    assert dom.constraint() is None
    c = dom.constraint(max_len=3)
    assert c.max_steps() == 4 and c.allowed(c.start(2)).shape == (2, tok.vocab_size)
    assert dom.score("ab") == {}
    assert dom.canonical_key("ab") == "ab"
    assert StringDomain(tok, canonical="test_upper").canonical_key("ab") == "AB"
    assert not dom.parse([1, 4]).ok


def test_only_molecular_domains_offer_the_molecule_tools():
    from seqvae.errors import DomainError, SearchError

    for dom in (DOM, StringDomain(CharTokenizer.fit(["CCO"]), validity="test_alpha")):
        assert dom.molecular is False
        with pytest.raises(DomainError, match=f"optimize needs a molecule run, not the "
                                              f"'{dom.name}' domain"):
            dom.require_molecular("optimize")
        with pytest.raises(SearchError, match="molecule run"):  # the caller's error type
            dom.require_molecular("optimize", SearchError)
        with pytest.raises(DomainError, match="a property head needs a molecule run"):
            dom.property_values(["CCO"], ["qed"])


def test_unknown_validator_names_are_errors_not_imports():
    from seqvae.validators import UnknownValidatorError

    tok = CharTokenizer.fit(["ab"])
    for name in ("nocolon", "no_such_module_xyz:f", "os:system", "os.path:basename"):
        with pytest.raises(UnknownValidatorError, match="no validator named"):
            StringDomain(tok, validity=name)


def test_domain_from_dict_errors():
    with pytest.raises(ValueError):
        domain_from_dict({"name": "proteins", "tokenizer": {"type": "char", "vocab": ["a"]}})
    with pytest.raises(ValueError):
        domain_from_dict({"tokenizer": {}})


def test_parse_never_raises_beyond_canonical_form_limits():
    # canonical forms handle at most 8 letters; a 9-letter decode is reported, not raised
    dom = AutomataDomain(AutomatonTokenizer(3, 9))
    ids = dom.tokenizer.encode(DFA([[0, 1, 2]] * 9))
    p = dom.parse(ids)
    assert not p.ok and p.item is None and "letters" in p.error
    assert dom.parse_many([ids])[0] == p


def test_batch_methods_agree_with_the_single_ones(tmp_path):
    rng = np.random.default_rng(5)
    items = [DFA(t) for t in random_tables(15, 5, 2, rng)] + \
        [DFA(t) for t in random_tables(5, 3, 2, rng)]
    assert DOM.canonical_keys(items) == [DOM.canonical_key(d) for d in items]
    assert DOM.canonicalize_many(items) == [canonical_form(d) for d in items]
    texts = [DOM.item_to_text(d) for d in items]
    assert DOM.prepare(texts) == [canonical_form(d) for d in items]
    assert DOM.constraint_spec(items) == {"n_states": [3, 5], "n_letters": 2}
    assert DOM.constraint_spec(items[:3]) == {"n_states": 5, "n_letters": 2}
    path = tmp_path / "a.txt"
    path.write_text("\n".join(texts[:4]) + "\n")
    assert DOM.read_items(path) == items[:4]
    dom, read, info = AutomataDomain.training_set(path)
    assert dom.tokenizer == AutomatonTokenizer(5, 2) and read == texts[:4] and info["rows"] == 4
    sdom = StringDomain(CharTokenizer.fit(["ab", "ba"]))
    assert sdom.canonical_keys(["ab", "ba"]) == ["ab", "ba"] and sdom.constraint_spec(["ab"]) == {}


def test_registry_rebuilds_registered_domains_and_refuses_clashes():
    from seqvae.domains import DOMAINS, Domain, register_domain
    from seqvae.errors import DomainError

    assert DOMAINS["automata"] is AutomataDomain and DOMAINS["strings"] is StringDomain
    with pytest.raises(DomainError):
        register_domain(type("Other", (Domain,), {"name": "automata"}))
    with pytest.raises(DomainError):
        register_domain(type("Nameless", (Domain,), {}))
    with pytest.raises(DomainError, match="unknown domain"):
        domain_from_dict({"name": "no-such-domain", "tokenizer": {}})
    with pytest.raises(DomainError, match="exact validity"):
        DOM.with_validity("test_alpha")
