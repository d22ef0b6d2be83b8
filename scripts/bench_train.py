"""Training throughput of the sequence VAE: sequences/s and tokens/s per training step.

Two models:

(a) the default automata model (7-state binary automata, 18 tokens each);
(b) a chemical-VAE-sized model (one-hot input, Conv1d 9/9/10 filters with kernels
    9/9/11, latent 196, three GRU layers of 488; about 4.5 M parameters) on
    synthetic SMILES-like strings of up to 120 tokens (ZINC-like lengths), trained
    (i) padded to the full length 120 (what fixed-shape implementations do),
    (ii) bucketed by length, each batch padded only to its own longest string, and
    (iii) bucketed with bfloat16 autocast (``TrainConfig(precision="bf16")``).

tokens/s counts real tokens (BOS..EOS), never padding. Use ``--threads 1`` to
compare per core.

    python scripts/bench_train.py --threads 1
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from automata.generate import random_tables
from seqvae.config import CHEMICAL_VAE, ModelConfig, TrainConfig
from seqvae.hunt.tokenizer import AutomatonTokenizer
from seqvae.model import count_parameters
from seqvae.tokenizers import RegexTokenizer
from seqvae.train import Trainer, epoch_batches

ATOMS = ["C", "C", "C", "C", "c", "c", "c", "N", "O", "n", "S", "F", "Cl", "Br", "[nH]", "[C@@H]",
         "[C@H]", "[O-]", "[NH+]"]
BONDS = ["", "=", "#"]


def smiles_like(rng: np.random.Generator, n_tokens: int) -> str:
    """A random SMILES-looking string of ``n_tokens`` tokens (atoms, bonds, branches, rings)."""
    out: list[str] = []
    open_branches = 0
    ring = 1
    while len(out) < n_tokens - open_branches:
        r = rng.random()
        if r < 0.10 and open_branches < 3 and out:
            out.append("(")
            open_branches += 1
        elif r < 0.18 and open_branches and out[-1] != "(":
            out.append(")")
            open_branches -= 1
        elif r < 0.26 and out:
            out.append(str(ring))
            ring = ring % 9 + 1
        elif r < 0.32 and out and out[-1] not in BONDS:
            out.append(BONDS[1 + rng.integers(len(BONDS) - 1)])
        else:
            out.append(ATOMS[rng.integers(len(ATOMS))])
    out.extend(")" * open_branches)
    return "".join(out)


def synthetic_corpus(count: int, seed: int = 0) -> list[str]:
    """Strings with ZINC-like token counts (mean about 44, at most 120 tokens)."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.normal(44, 14, count), 12, 120).astype(int)
    return [smiles_like(rng, int(n)) for n in lengths]


def bench(trainer: Trainer, batches, warmup: int, steps: int) -> tuple[float, float, float]:
    """Seconds per step, sequences/s, real tokens/s over ``steps`` timed steps."""
    for b in batches[:warmup]:
        trainer.train_step(b)
    timed = batches[warmup:warmup + steps]
    seqs = sum(len(b) for b in timed)
    toks = sum(int(trainer.train_len[b].sum()) for b in timed)
    t0 = time.perf_counter()
    for b in timed:
        trainer.train_step(b)
    dt = time.perf_counter() - t0
    return dt / len(timed), seqs / dt, toks / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--steps", type=int, default=4, help="timed steps per configuration")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--chem-batch", type=int, default=250, help="batch of the chemical model")
    ap.add_argument("--only", choices=["automata", "chemical"], default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    need = args.warmup + args.steps

    if args.only in (None, "automata"):
        tok = AutomatonTokenizer(7, 2)
        mcfg = ModelConfig.for_tokenizer(tok, tok.seq_len(7, 2))
        tcfg = TrainConfig()
        ids = [tok.encode(t) for t in random_tables(tcfg.batch_size * need, 7, 2,
                                                    np.random.default_rng(0))]
        tr = Trainer(mcfg, tcfg, ids)
        batches = epoch_batches(tr.train_len, tcfg.batch_size, 0, 0)
        step, sps, tps = bench(tr, batches, args.warmup, args.steps)
        rows.append(("automata default (7x2, batch %d)" % tcfg.batch_size,
                     count_parameters(tr.model), step, sps, tps))

    if args.only in (None, "chemical"):
        corpus = synthetic_corpus(args.chem_batch * need * 4)
        tok = RegexTokenizer.fit(corpus)
        lengths = np.array([len(tok.split(s)) for s in corpus])
        print(f"synthetic strings: {len(corpus)}, tokens mean {lengths.mean():.1f}, "
              f"max {lengths.max()}; e.g. {corpus[0]}")
        ids = [tok.encode(s) for s in corpus]
        # 120 tokens at most, plus BOS and EOS: the fixed shape of the original model
        max_len = 122
        assert max(len(s) for s in ids) <= max_len
        mcfg = ModelConfig.for_tokenizer(tok, max_len, **CHEMICAL_VAE)
        for bucket, precision in ((False, "fp32"), (True, "fp32"), (True, "bf16")):
            tcfg = TrainConfig(batch_size=args.chem_batch, bucket=bucket, precision=precision)
            tr = Trainer(mcfg, tcfg, ids)
            if bucket:
                batches = epoch_batches(tr.train_len, tcfg.batch_size, 0, 0, bucket=True)
            else:
                # fixed shape: every batch padded to the full length (120 + BOS/EOS)
                tr.train_len = tr.train_len.clone()
                real = tr.train_len.clone()
                batches = epoch_batches(real, tcfg.batch_size, 0, 0, bucket=False)
                full = torch.full_like(tr.train_len, max_len)
                tr.train_len, saved = full, real
            step, sps, tps = bench(tr, batches, args.warmup, args.steps)
            if not bucket:
                # tokens/s must count real tokens only
                toks = sum(int(saved[b].sum()) for b in batches[args.warmup:need])
                tps = toks / (step * args.steps)
            name = ("chemical-VAE size, %s, %s (batch %d, vocab %d)"
                    % ("bucketed" if bucket else "padded to 122", precision, args.chem_batch,
                       tok.vocab_size))
            rows.append((name, count_parameters(tr.model), step, sps, tps))

    print(f"threads: {args.threads}")
    print(f"{'model':<68} {'params':>10} {'s/step':>8} {'seq/s':>9} {'tok/s':>10}")
    for name, params, step, sps, tps in rows:
        print(f"{name:<68} {params:>10,d} {step:>8.3f} {sps:>9.1f} {tps:>10.0f}")


if __name__ == "__main__":
    main()
