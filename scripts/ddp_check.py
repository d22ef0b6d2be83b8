"""Check distributed training: two CPU processes (gloo on localhost) train one model.

Each process runs the same :class:`seqvae.train.Trainer` that ``torchrun`` would
start; the script checks that

* both ranks end with identical weights (gradients were averaged),
* each rank took half the batches of an epoch (batches were sharded),
* only rank 0 wrote the run directory (checkpoint and metrics).

    python scripts/ddp_check.py          # exit 0 and "ok" when all holds

The same trainer runs under torchrun, e.g.
``torchrun --nproc_per_node 2 $(which seqvae) train automata --count 2000 --epochs 1``.
"""
from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from automata.generate import random_tables
    from seqvae.config import ModelConfig, TrainConfig
    from seqvae.tokenizers import AutomatonTokenizer
    from seqvae.train import Trainer

    tok = AutomatonTokenizer(5, 2)
    ids = [tok.encode(t) for t in random_tables(256, 5, 2, np.random.default_rng(0))]
    mcfg = ModelConfig.for_tokenizer(tok, tok.max_seq_len, d_z=8, enc_hidden=32, dec_hidden=32,
                                     dec_layers=1, dec_z_dim=16)
    tcfg = TrainConfig(epochs=2, batch_size=32, patience=0, seed=1)
    trainer = Trainer(mcfg, tcfg, ids[:224], ids[224:], out_dir=Path(out) / "run")
    trainer.fit()
    torch.save({"weights": trainer.model.state_dict(), "step": trainer.step,
                "world": trainer.world}, Path(out) / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def main() -> int:
    world = 2
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(_worker, args=(world, _free_port(), out), nprocs=world, join=True)
        states = [torch.load(Path(out) / f"rank{r}.pt", weights_only=True) for r in range(world)]
        problems = []
        if any(s["world"] != world for s in states):
            problems.append("a rank did not join the process group")
        for key, value in states[0]["weights"].items():
            if not torch.equal(value, states[1]["weights"][key]):
                problems.append(f"ranks differ in {key}")
                break
        batches_per_epoch = 224 // 32
        expected = 2 * (batches_per_epoch // world)
        if states[0]["step"] != expected:
            problems.append(f"rank 0 took {states[0]['step']} steps, expected {expected}")
        run = Path(out) / "run"
        if not (run / "checkpoint.pt").exists() or not (run / "metrics.jsonl").exists():
            problems.append("rank 0 did not write the run directory")
        steps_logged = sum(1 for line in (run / "metrics.jsonl").read_text().splitlines()
                           if '"kind": "step"' in line)
        if steps_logged != expected:
            problems.append(f"metrics.jsonl has {steps_logged} step records, expected {expected} "
                            "(only rank 0 may write)")
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print(f"ok: {world} processes, identical weights after {expected} steps each, "
          "only rank 0 wrote")
    return 0


if __name__ == "__main__":
    sys.exit(main())
