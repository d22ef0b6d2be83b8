"""SeqVAE modules: shapes, convolution over positions, padding, clamping, config JSON."""
from __future__ import annotations

import json

import pytest
import torch

from seqvae.config import CHEMICAL_VAE, ConfigError, ModelConfig, TrainConfig
from seqvae.model import ConvEncoder, GRUDecoder, SeqVAE, count_parameters, iwae_nll

# Tests share two cores with other work: more threads only fight.
torch.set_num_threads(1)

V = 12


def _cfg(**kw) -> ModelConfig:
    base = dict(vocab_size=V, max_len=12, embed_dim=8, conv_channels=(6, 5), conv_kernels=(3, 3),
                enc_hidden=16, d_z=4, dec_z_dim=8, dec_hidden=16, dec_layers=2)
    base.update(kw)
    return ModelConfig(**base)


def _batch(b=3, t=10, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, V, (b, t), generator=g)
    ids[:, 0] = 1
    ids[:, -1] = 2
    return ids


@pytest.mark.parametrize("kw", [{}, {"pool": "meanmax"}, {"conv_padding": "valid"},
                                {"embed_dim": 0}, {"teacher_forcing": False, "z_to_hidden": False}])
def test_shapes(kw):
    torch.manual_seed(0)
    cfg = _cfg(**kw)
    vae = SeqVAE(cfg)
    ids = _batch()
    out = vae(ids)
    assert out["mu"].shape == (3, 4) and out["logvar"].shape == (3, 4)
    assert out["logits"].shape == (3, 9, V)
    assert out["rec"].shape == (3,) and out["kl"].shape == (3, 4)
    assert torch.all(out["kl"] >= 0)
    assert vae(ids, mc_samples=3)["rec"].shape == (3,)


def test_convolution_runs_over_positions():
    torch.manual_seed(0)
    cfg = _cfg()
    enc = ConvEncoder(cfg)
    seen = []
    enc.convs[0].register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape))
    ids = _batch(b=2, t=10)
    mu, _ = enc(ids)
    # (B, C, T): channels are the embedding features, the last axis the (padded) positions.
    assert seen[0] == (2, cfg.embed_dim, cfg.max_len)
    assert enc.convs[0].in_channels == cfg.embed_dim
    # Reordering positions (same multiset of tokens) changes the code.
    perm = ids.clone()
    perm[:, 1:-1] = ids[:, 1:-1].flip(1)
    assert not torch.allclose(enc(perm)[0], mu)


def test_one_hot_input_has_vocabulary_channels():
    enc = ConvEncoder(_cfg(embed_dim=0))
    seen = []
    enc.convs[0].register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape))
    enc(_batch(b=2, t=7))
    assert seen[0] == (2, V, 12)


@pytest.mark.parametrize("pool", ["flatten", "meanmax"])
def test_padding_does_not_change_the_code(pool):
    torch.manual_seed(1)
    cfg = _cfg(pool=pool)
    vae = SeqVAE(cfg).eval()
    ids = _batch(b=1, t=6)
    padded = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], 1)
    mu1, lv1 = vae.encode(ids)
    mu2, lv2 = vae.encode(padded)
    assert torch.allclose(mu1, mu2, atol=1e-6) and torch.allclose(lv1, lv2, atol=1e-6)
    # ... and the loss ignores padded targets.
    r1 = vae(ids, sample=False)["rec"]
    r2 = vae(padded, sample=False)["rec"]
    assert torch.allclose(r1, r2, atol=1e-5)


def test_logvar_is_clamped():
    cfg = _cfg(logvar_min=-3.0, logvar_max=2.0)
    enc = ConvEncoder(cfg)
    with torch.no_grad():
        enc.to_logvar.bias.fill_(100.0)
        _, lv = enc(_batch())
    assert float(lv.max()) == 2.0
    with torch.no_grad():
        enc.to_logvar.bias.fill_(-100.0)
        _, lv = enc(_batch())
    assert float(lv.min()) == -3.0


def test_z_only_decoder_ignores_previous_tokens():
    torch.manual_seed(0)
    dec = GRUDecoder(_cfg(teacher_forcing=False))
    z = torch.randn(2, 4)
    a, _ = dec(z, _batch(b=2, t=6, seed=1))
    b, _ = dec(z, _batch(b=2, t=6, seed=2))
    assert torch.allclose(a, b)
    # with teacher forcing the previous tokens matter
    dec = GRUDecoder(_cfg())
    a, _ = dec(z, _batch(b=2, t=6, seed=1))
    b, _ = dec(z, _batch(b=2, t=6, seed=2))
    assert not torch.allclose(a, b)


def test_word_dropout_only_in_training():
    torch.manual_seed(0)
    dec = GRUDecoder(_cfg(word_dropout=0.9))
    z = torch.randn(2, 4)
    ids = _batch(b=2, t=8)
    dec.eval()
    a, _ = dec(z, ids)
    b, _ = dec(z, ids)
    assert torch.allclose(a, b)
    dec.train()
    c, _ = dec(z, ids)
    assert not torch.allclose(a, c)


def test_iwae_is_finite_and_tighter_than_the_elbo_on_average():
    torch.manual_seed(0)
    vae = SeqVAE(_cfg()).eval()
    ids = _batch(b=8, t=10)
    with torch.no_grad():
        nll = iwae_nll(vae, ids, k=64)
        out = vae(ids, mc_samples=64)
        neg_elbo = out["rec"] + out["kl"].sum(1)
    assert torch.isfinite(nll).all()
    assert float(nll.mean()) <= float(neg_elbo.mean()) + 1e-3


def test_config_json_round_trip_and_validation():
    cfg = _cfg(conv_channels=(4, 4, 4), conv_kernels=(3, 5, 3))
    again = ModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg and isinstance(again.conv_channels, tuple)
    tc = TrainConfig(kl_schedule="cyclical", free_bits=0.1)
    assert TrainConfig.from_dict(json.loads(json.dumps(tc.to_dict()))) == tc
    with pytest.raises(ConfigError):
        _cfg(conv_channels=(4,), conv_kernels=(3, 3))
    with pytest.raises(ConfigError):
        TrainConfig(kl_schedule="nope")
    with pytest.raises(ConfigError):
        ModelConfig.from_dict({"vocab_size": 10, "bogus": 1})
    with pytest.raises(ConfigError):
        _cfg(conv_padding="valid", conv_kernels=(9, 9), max_len=12)


def test_chemical_vae_size():
    cfg = ModelConfig(vocab_size=35, max_len=120, **CHEMICAL_VAE)
    n = count_parameters(SeqVAE(cfg))
    assert 4_000_000 < n < 5_000_000
