import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from seqvae.constraints import StringConstraint
from seqvae.molecules.chem import canonical_smiles, is_valid_smiles
from seqvae.molecules.chem.errors import ChemError
from seqvae.molecules.chem.molfile import load_molecules
from seqvae.molecules.chem.selfies_codec import (
    SelfiesTokenizer,
    selfies_to_smiles,
    smiles_to_selfies,
    split_selfies,
)
from seqvae.tokenizers import DecodeError, EncodeError

DRUGS = Path(__file__).resolve().parents[2] / "data" / "examples" / "drugs.smi"


@pytest.fixture(scope="module")
def drugs():
    return load_molecules(DRUGS)[0]


@pytest.fixture(scope="module")
def tok(drugs):
    return SelfiesTokenizer.fit(drugs)


def test_string_round_trip_keeps_every_molecule(drugs):
    for smiles in drugs:
        back = selfies_to_smiles(smiles_to_selfies(smiles))
        assert canonical_smiles(back) == smiles, smiles


def test_tokenizer_round_trip(drugs, tok):
    for smiles in drugs:
        ids = tok.encode(smiles)
        assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id
        assert canonical_smiles(tok.decode(ids)) == smiles
        assert "".join(tok.tokens(ids)[1:-1]) == smiles_to_selfies(smiles)


def test_tokenizer_is_json_data(tok):
    d = json.loads(json.dumps(tok.to_dict()))
    assert d["type"] == "selfies" and all(s.startswith("[") for s in d["vocab"])
    again = SelfiesTokenizer.from_dict(d)
    assert again == tok and again.vocab == tok.vocab
    assert again.encode("c1ccccc1O") == tok.encode("c1ccccc1O")


def test_vocabulary_layout(tok):
    assert tok.vocab[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert tok.vocab[4:] == sorted(tok.vocab[4:])
    assert tok.vocab_size == len(tok.vocab)


def test_encode_errors():
    tok = SelfiesTokenizer.fit(["CCO"])
    with pytest.raises(EncodeError, match="not in the vocabulary"):
        tok.encode("CCN")
    with pytest.raises(EncodeError):
        tok.encode(7)
    with_unk = SelfiesTokenizer.fit(["CCO"], unk=True)
    ids = with_unk.encode("CCN")
    assert ids[-2] == with_unk.unk_id
    with pytest.raises(DecodeError, match="<unk>"):
        with_unk.decode(ids)


def test_bad_vocabulary():
    with pytest.raises(ValueError, match="SELFIES symbol"):
        SelfiesTokenizer(["C", "[O]"])
    with pytest.raises(ValueError):
        SelfiesTokenizer(["[C]", "[C]"])


def test_decode_errors(tok):
    assert "missing EOS" in str(pytest.raises(DecodeError, tok.decode, [tok.bos_id]).value)
    with pytest.raises(DecodeError, match="empty"):
        tok.decode([tok.bos_id, tok.eos_id])
    ring = tok.vocab.index("[Ring1]")
    with pytest.raises(DecodeError, match="no atom"):
        tok.decode([tok.bos_id, ring, tok.eos_id])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_symbol_string_decodes_to_a_valid_molecule(tok, data):
    # What SELFIES is for: whatever a decoder writes between BOS and EOS is a molecule.
    body = data.draw(st.lists(st.integers(4, tok.vocab_size - 1), min_size=1, max_size=40))
    try:
        smiles = tok.decode([tok.bos_id, *body, tok.eos_id])
    except DecodeError as exc:
        assert "no atom" in str(exc)
        return
    assert is_valid_smiles(smiles), smiles


def test_string_constraint_applies(tok):
    c = StringConstraint(tok, max_len=3)
    state = c.start(2)
    allowed = c.allowed(state)
    assert not allowed[:, [tok.pad_id, tok.bos_id, tok.unk_id]].any()
    carbon = tok.vocab.index("[C]")
    for _ in range(3):
        state = c.advance(state, np.array([carbon, carbon]))
    assert c.allowed(state)[0].tolist() == [i == tok.eos_id for i in range(tok.vocab_size)]


def test_conversion_errors():
    with pytest.raises(ChemError):
        smiles_to_selfies("")
    with pytest.raises(ChemError, match="cannot write"):
        smiles_to_selfies("C1CC")
    with pytest.raises(ChemError, match="cannot read"):
        selfies_to_smiles("[Xyz]")
    with pytest.raises(ChemError):
        split_selfies("[C]x")
    assert split_selfies("") == []


def test_missing_selfies_names_the_extra():
    import subprocess
    import sys

    code = ("import sys\nsys.modules['selfies'] = None\n"
            "from seqvae.molecules.chem import SelfiesTokenizer, ChemistryUnavailableError\n"
            "try:\n    SelfiesTokenizer.fit(['CCO'])\nexcept ChemistryUnavailableError as e:\n"
            "    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "selfies" in done.stdout and "seqvae[chem]" in done.stdout
