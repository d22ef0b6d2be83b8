"""Check distributed training: two CPU processes (gloo on localhost) train one model.

On CUDA the trainer picks NCCL and one GPU per rank (``cuda:LOCAL_RANK``, see
:func:`seqvae.train.rank_device`); this check is the CPU half of that choice.

Each process runs the same :class:`seqvae.train.Trainer` that ``torchrun`` would
start; the script checks that

* both ranks end with identical weights (gradients were averaged),
* each rank took half the batches of an epoch (batches were sharded),
* only rank 0 wrote the run directory (checkpoint and metrics).

    python scripts/ddp_check.py          # exit 0 and "ok" when all holds
    python scripts/ddp_check.py --cuda   # the same over NCCL, one GPU per rank (needs two)

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


def _worker(rank: int, world: int, port: int, out: str, device: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from automata.generate import random_tables
    from seqvae.config import ModelConfig, TrainConfig
    from seqvae.hunt.tokenizer import AutomatonTokenizer
    from seqvae.train import Trainer
    from seqvae.train_distributed import finish_distributed

    tok = AutomatonTokenizer(5, 2)
    ids = [tok.encode(t) for t in random_tables(256, 5, 2, np.random.default_rng(0))]
    mcfg = ModelConfig.for_tokenizer(tok, tok.max_seq_len, d_z=8, enc_hidden=32, dec_hidden=32,
                                     dec_layers=1, dec_z_dim=16)
    tcfg = TrainConfig(epochs=2, batch_size=32, patience=0, seed=1)
    trainer = Trainer(mcfg, tcfg, ids[:224], ids[224:], out_dir=Path(out) / "run",
                      device=device)
    trainer.fit()
    torch.save({"weights": {k: v.cpu() for k, v in trainer.model.state_dict().items()},
                "step": trainer.step, "device": str(trainer.device),
                "world": trainer.world, "backend": torch.distributed.get_backend()},
               Path(out) / f"rank{rank}.pt")
    del trainer  # the DDP model must not outlive the process group
    finish_distributed()
    assert not torch.distributed.is_initialized(), "the process group outlived the run"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cuda = "--cuda" in argv
    world = 2
    if cuda and torch.cuda.device_count() < world:
        print(f"no check: --cuda needs {world} GPUs, torch sees {torch.cuda.device_count()}")
        return 0
    backend, device = ("nccl", "cuda") if cuda else ("gloo", "cpu")
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(_worker, args=(world, _free_port(), out, device), nprocs=world, join=True)
        states = [torch.load(Path(out) / f"rank{r}.pt", weights_only=True) for r in range(world)]
        problems = []
        if any(s["world"] != world for s in states):
            problems.append("a rank did not join the process group")
        if any(s["backend"] != backend for s in states):  # NCCL on CUDA, gloo on the CPU
            problems.append(f"backend {states[0]['backend']!r} on {device}, expected {backend}")
        if cuda and [s["device"] for s in states] != ["cuda:0", "cuda:1"]:
            problems.append(f"ranks trained on {[s['device'] for s in states]}, expected one GPU "
                            "each")
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
    print(f"ok: {world} processes ({backend}), identical weights after {expected} steps each, "
          "only rank 0 wrote")
    return 0


if __name__ == "__main__":
    sys.exit(main())
