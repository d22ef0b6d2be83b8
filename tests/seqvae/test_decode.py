"""Decoding: greedy, sampling, beam; constrained decodes are always well formed."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqvae.config import ModelConfig
from seqvae.decode import DecodingError, decode
from seqvae.hunt.domain import AutomataDomain
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.model import SeqVAE

torch.set_num_threads(1)

TOK = AutomatonTokenizer(max_states=6, max_letters=3)
DOM = AutomataDomain(TOK)


def _model(seed=0, **kw) -> SeqVAE:
    torch.manual_seed(seed)
    cfg = ModelConfig.for_tokenizer(TOK, TOK.max_seq_len, d_z=4, enc_hidden=16, dec_z_dim=8,
                                    dec_hidden=16, embed_dim=8, conv_channels=(8,),
                                    conv_kernels=(3,), **kw)
    model = SeqVAE(cfg).eval()
    with torch.no_grad():  # sharpen the untrained decoder and make it depend on its history
        model.decoder.out.weight.mul_(4.0)
        if model.decoder.embedding is not None:
            model.decoder.embedding.weight.mul_(3.0)
        for name, p in model.decoder.gru.named_parameters():
            if name.startswith("weight"):
                p.mul_(3.0)
    return model


def _logprob(model: SeqVAE, z: np.ndarray, seqs, constraint=None) -> np.ndarray:
    """log p(seq | z) under the model, with the constraint's masking applied."""
    out = []
    with torch.no_grad():
        for row, seq in zip(torch.as_tensor(z, dtype=torch.float32), seqs):
            ids = torch.tensor([seq])
            logits, _ = model.decoder(row[None], ids[:, :-1])
            logits = logits[0]
            if constraint is not None:
                state = constraint.start(1)
                for t, tok in enumerate(seq[1:]):
                    allowed = torch.from_numpy(constraint.allowed(state)[0])
                    logits[t] = logits[t].masked_fill(~allowed, float("-inf"))
                    state = constraint.advance(state, [tok])
            lp = F.log_softmax(logits, -1).gather(1, ids[0, 1:, None]).sum()
            out.append(float(lp))
    return np.array(out)


@pytest.mark.parametrize("method", ["greedy", "sample", "beam"])
@pytest.mark.parametrize("spec", [dict(n_states=5, n_letters=2), dict(n_states=[2, 3, 6]),
                                  dict()])
def test_constrained_decodes_are_always_well_formed(method, spec):
    con = DOM.constraint(**spec)
    for seed in range(2):
        model = _model(seed)
        z = np.random.default_rng(seed).standard_normal((12, 4)) * 3
        seqs = decode(model, z, method=method, constraint=con, seed=seed, beam_width=3)
        parsed = DOM.parse_many(seqs)
        assert all(p.ok for p in parsed), [p.error for p in parsed if not p.ok]
        for p in parsed:
            if "n_states" in spec:
                allowed = spec["n_states"] if isinstance(spec["n_states"], list) \
                    else [spec["n_states"]]
                assert p.item.n_states in allowed
            if "n_letters" in spec:
                assert p.item.n_letters == spec["n_letters"]


def test_unconstrained_decodes_mostly_fail_on_an_untrained_model():
    # The constraint is what makes them well formed (compare with the test above).
    model = _model(0)
    z = np.random.default_rng(0).standard_normal((20, 4))
    seqs = decode(model, z, method="sample", seed=0)
    assert all(s[0] == TOK.bos_id for s in seqs)
    assert all(len(s) <= model.config.max_len for s in seqs)
    assert sum(p.ok for p in DOM.parse_many(seqs)) < 20


def test_greedy_is_deterministic_and_sampling_follows_the_seed():
    model = _model(1)
    z = np.random.default_rng(3).standard_normal((6, 4))
    con = DOM.constraint(n_states=4, n_letters=2)
    assert decode(model, z, constraint=con) == decode(model, z, constraint=con)
    a = decode(model, z, method="sample", constraint=con, seed=5)
    assert a == decode(model, z, method="sample", constraint=con, seed=5)
    many = [decode(model, z, method="sample", constraint=con, seed=s, temperature=3.0)
            for s in range(4)]
    assert any(m != many[0] for m in many[1:])


def test_batched_equals_one_by_one():
    model = _model(2)
    z = np.random.default_rng(4).standard_normal((5, 4))
    con = DOM.constraint(n_states=3, n_letters=2)
    whole = decode(model, z, constraint=con, method="beam", beam_width=4)
    single = [decode(model, z[i:i + 1], constraint=con, method="beam", beam_width=4)[0]
              for i in range(5)]
    assert whole == single
    assert decode(model, z, constraint=con, batch_size=2) == decode(model, z, constraint=con)


def test_beam_finds_sequences_at_least_as_likely_as_greedy():
    model = _model(3)
    z = np.random.default_rng(5).standard_normal((8, 4))
    con = DOM.constraint(n_states=4, n_letters=2)
    greedy = decode(model, z, constraint=con)
    beam1 = decode(model, z, constraint=con, method="beam", beam_width=1)
    assert beam1 == greedy
    beam = decode(model, z, constraint=con, method="beam", beam_width=6)
    lg = _logprob(model, z, greedy, DOM.constraint(n_states=4, n_letters=2))
    lb = _logprob(model, z, beam, DOM.constraint(n_states=4, n_letters=2))
    assert np.all(lb >= lg - 1e-4)
    assert np.any(lb > lg + 1e-4)


def test_z_only_decoder_decodes():
    model = _model(0, teacher_forcing=False, z_to_hidden=False)
    seqs = decode(model, np.zeros((3, 4)), method="beam",
                  constraint=DOM.constraint(n_states=3, n_letters=2))
    assert all(p.ok for p in DOM.parse_many(seqs))


def test_bad_arguments():
    model = _model(0)
    with pytest.raises(DecodingError):
        decode(model, np.zeros((2, 4)), method="nope")
    with pytest.raises(DecodingError):
        decode(model, np.zeros((2, 5)))
    with pytest.raises(DecodingError):
        decode(model, np.zeros((2, 4)), method="sample", temperature=0)


@pytest.mark.parametrize("kw", [{}, {"dec_position_dim": 6}, {"dec_layers": 2}])
def test_step_by_step_decoding_matches_the_teacher_forced_pass(kw):
    model = _model(4, **kw)
    z = torch.as_tensor(np.random.default_rng(6).standard_normal((4, 4)), dtype=torch.float32)
    seqs = decode(model, z, max_steps=9)
    with torch.no_grad():
        for row, seq in zip(z, seqs):
            ids = torch.tensor([seq])
            logits, _ = model.decoder(row[None], ids[:, :-1])
            # greedy picked the argmax of the very logits a full pass computes
            assert logits[0].argmax(-1).tolist() == seq[1:]


@pytest.mark.parametrize("method", ["greedy", "sample", "beam"])
def test_string_decodes_under_the_sequence_constraint_always_decode(method):
    from seqvae.constraints import StringConstraint
    from seqvae.tokenizers import CharTokenizer

    tok = CharTokenizer.fit(["abcde", "edcba"], unk=True)
    cfg = ModelConfig.for_tokenizer(tok, 9, d_z=4, enc_hidden=16, dec_z_dim=8, dec_hidden=16,
                                    embed_dim=8, conv_channels=(8,), conv_kernels=(3,))
    torch.manual_seed(0)
    model = SeqVAE(cfg).eval()
    con = StringConstraint(tok, max_len=7, min_len=1)  # 8 steps: at most 7 characters and EOS
    z = np.random.default_rng(0).standard_normal((16, 4)) * 3
    for seq in decode(model, z, method=method, constraint=con, seed=1, beam_width=3):
        text = tok.decode(seq)  # raises DecodeError when malformed
        assert 1 <= len(text) <= 7
