"""A short training run on the GPU, when there is one; "no GPU" otherwise.

    python scripts/gpu_check.py [--steps 200] [--data FILE]

Builds a molecule data set from FILE (default: the shipped data/examples/drugs.smi),
trains a small SMILES model for ``--steps`` steps with ``--device cuda`` (bfloat16
autocast), then decodes prior samples on the GPU and prints steps/s, sequences/s and
the share of valid molecules. With two GPUs or more it also runs ``ddp_check.py --cuda``
(DDP over NCCL, one GPU per rank). Exit 0 after a run or "no GPU", 1 when a run fails.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data" / "examples" / "drugs.smi"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no GPU: torch sees no CUDA device; nothing to check")
        return 0
    from seqvae.device import resolve_device
    from seqvae.molecules.domain import MoleculeDomain
    from seqvae.runs import train

    device = resolve_device("cuda")
    print(f"GPU: {torch.cuda.get_device_name(device)}")
    domain, items, _ = MoleculeDomain.training_set(args.data)
    steps = int(args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run = train(items, domain, out_dir=Path(tmp) / "run", device=device,
                    train_config=dict(epochs=10_000, max_steps=steps,
                                      batch_size=args.batch_size, patience=0,
                                      val_fraction=0.05, test_fraction=0.05))
        seconds = time.perf_counter() - t0
        run.to(device)
        parsed = run.sample(1000, seed=0)
    valid = sum(p.ok for p in parsed) / len(parsed)
    print(f"trained {steps} steps in {seconds:.1f} s: {steps / seconds:.1f} steps/s, "
          f"{steps * args.batch_size / seconds:.0f} sequences/s (bf16 autocast)")
    print(f"prior samples decoded on the GPU: {valid:.3f} valid molecules")
    if torch.cuda.device_count() >= 2:
        import subprocess

        check = Path(__file__).resolve().parent / "ddp_check.py"
        return subprocess.run([sys.executable, str(check), "--cuda"]).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
