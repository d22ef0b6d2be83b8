"""A trained molecule run beside the published figures, and training speed on CPU.

Prints three tables:

1. the MOSES metrics of ``--samples`` prior decodes of RUN beside the published
   MOSES VAE row (Polykovskiy et al. 2020, Table 2: validity 0.977, unique@10k
   0.998, novelty 0.695; IntDiv1 0.856, IntDiv2 0.850, filters 0.997, test-set
   Frag 0.999, Scaf 0.939, SNN 0.626, FCD 0.099; ours against the run's held-out
   molecules, FCD through the ``fcd`` package when installed);
2. held-out reconstruction (greedy exact match, and the encode x decode protocol)
   beside the published ZINC table (Kusner et al. 2017; Dai et al. 2018; Jin et
   al. 2018: character VAE 44.6 %, Grammar VAE 53.7 %, SD-VAE 76.2 %, JT-VAE
   76.7 %, all encode 10 x decode 100 on ZINC; ours is on the run's own held-out
   split and a stated smaller count, so the numbers are indicative, not comparable
   one to one);
3. training throughput (sequences/s) of RUN's model on its own training molecules
   with 1 and 2 torch threads (``--speed-threads``).

It also prints the run's command line and training budget (steps, epochs, wall
time). The machine may be shared: timings are noisy.

With ``--prior fitted`` the prior samples come from the run's fitted latent
prior (``seqvae fit-prior RUN``) instead of N(0, I); reconstruction does not
depend on the prior.

    python scripts/bench_smiles.py RUN [--samples 10000] [--items 1000] [--decodes 10]
                                   [--prior standard|fitted]
                                   [--decode greedy|beam] [--beam-width W] [--grammar]
                                   [--valid-first]

``--decode``, ``--beam-width``, ``--grammar`` and ``--valid-first`` choose the point
decoder of the prior samples and of the exact reconstruction (greedy by default;
see ``scripts/bench_smiles_decoding.py`` for the decoders side by side).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from seqvae.errors import SeqVAEError
from seqvae.evaluate import evaluate
from seqvae.rundir import RunDir
from seqvae.runs import load_molecule_runs
from seqvae.train import Trainer

MOSES_VAE = {"validity": 0.977, "unique@1000": 1.0, "unique@10000": 0.998, "novelty": 0.695,
             "intdiv1": 0.856, "intdiv2": 0.850, "filters": 0.997, "frag": 0.999,
             "scaf": 0.939, "snn": 0.626, "fcd": 0.099}
#: Published ZINC reconstruction and how each was decoded: the string VAEs
#: sample their decoders (10 encodes x 100 decodes); JT-VAE's public code
#: (icml18-jtnn, ``reconstruct``) draws z from q(z|x) and decodes it by argmax
#: (``prob_decode=False``), which is our "encodes x 1 point decode" row.
ZINC_RECONSTRUCTION = [("character VAE", 0.446, "10 x 100 sampled"),
                       ("Grammar VAE", 0.537, "10 x 100 sampled"),
                       ("SD-VAE", 0.762, "10 x 100 sampled"),
                       ("JT-VAE", 0.767, "posterior draws, argmax decode")]


def _fmt(value) -> str:
    return "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def training_budget(run_dir: str) -> dict:
    """Steps, epochs and summed epoch time of a run, from its config and metrics."""
    store = RunDir(run_dir)
    config = store.read_config()
    result = config.get("result", {})
    seconds = 0.0
    logged_steps = 0
    path = store.path / "metrics.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("kind") == "epoch":
                seconds += float(rec.get("seconds", 0.0))
            elif rec.get("kind") == "step":
                logged_steps = max(logged_steps, int(rec.get("step", 0)))
    command = (store.path / "command.txt")
    # a run stopped by --max-steps inside its first epoch has no epoch record
    return {"steps": result.get("steps", logged_steps), "epochs": result.get("epochs"),
            "train_items": config.get("counts", {}).get("train"),
            "epoch_seconds": round(seconds, 1),
            "command": command.read_text().strip() if command.exists() else None}


def throughput(run, threads: int, steps: int = 20, batch_size: int = 64) -> float:
    """Training sequences per second of ``run``'s model on its training molecules."""
    torch.set_num_threads(threads)
    items = list(run.train_items)[:steps * batch_size]
    ids = [run.tokenizer.encode(s) for s in items]
    cfg = run.train_config.replace(epochs=1, max_steps=steps + 3, batch_size=batch_size,
                                   checkpoint_every=0, patience=0, val_fraction=0.0)
    trainer = Trainer(run.model_config, cfg, ids, ())
    batches = trainer._batches(0)
    trainer.train_step(batches[0])  # warm-up
    t0 = time.perf_counter()
    done = 0
    for idx in batches[1:steps + 1]:
        trainer.train_step(idx)
        done += len(idx)
    return done / (time.perf_counter() - t0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory of `seqvae train smiles`")
    parser.add_argument("--samples", type=int, default=10000, help="prior decodes")
    parser.add_argument("--items", type=int, default=1000, help="held-out items (random)")
    parser.add_argument("--sampled-items", type=int, default=100)
    parser.add_argument("--encodes", type=int, default=10)
    parser.add_argument("--decodes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="threads of the evaluation")
    parser.add_argument("--speed-steps", type=int, default=20)
    parser.add_argument("--speed-threads", default="1,2",
                        help="thread counts of the throughput table (e.g. 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior", default="standard", choices=["standard", "fitted"],
                        help="N(0, I), or the run's fitted prior (seqvae fit-prior RUN)")
    parser.add_argument("--prior-scale", type=float, default=1.0,
                        help="the prior's standard deviations times this (below 1: nearer "
                             "its modes)")
    parser.add_argument("--decode", default="greedy", choices=["greedy", "beam"],
                        help="point decoder of the prior samples and reconstruction")
    parser.add_argument("--beam-width", type=int, default=8, help="beams of --decode beam")
    parser.add_argument("--grammar", action="store_true",
                        help="decode under the SMILES grammar constraint")
    parser.add_argument("--valid-first", action="store_true",
                        help="--decode beam only: the best finished beam RDKit accepts "
                             "(a decode-time filter)")
    args = parser.parse_args(argv)

    try:
        run, = load_molecule_runs([args.run], "the chemistry benchmark")
        run.use_prior(args.prior, args.prior_scale)
        run.use_decoding(args.decode, args.beam_width, grammar=args.grammar,
                         valid_first=args.valid_first)
    except SeqVAEError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    budget = training_budget(args.run)
    t0 = time.perf_counter()
    out = evaluate(run, max_items=args.items, prior_count=200, sampled_items=args.sampled_items,
                   encodes=args.encodes, decodes=args.decodes, iwae_samples=10,
                   iwae_items=200, seed=args.seed, metric_samples=args.samples)
    eval_seconds = time.perf_counter() - t0
    print(f"run: {args.run} ({run.domain.representation}, d_z {run.d_z})")
    print(f"trained with: {budget['command']}")
    print(f"training budget: {budget['steps']} steps, {budget['epochs']} epochs, "
          f"{budget['train_items']} training molecules, {budget['epoch_seconds']} s of epochs")
    prior = ("N(0, I)" if args.prior == "standard" else
             f"fitted, {run.latent_prior.n_components} components")
    if args.prior_scale != 1.0:
        prior += f", scale {args.prior_scale:g}"
    print(f"evaluation: {args.samples} prior samples ({run.decoding.label()}; prior {prior}), "
          f"{out['eval_items']} random "
          f"held-out molecules, {eval_seconds:.0f} s\n")
    print(f"{'metric':<14}{'ours':>10}{'MOSES VAE':>12}")
    for key, ref in MOSES_VAE.items():
        print(f"{key:<14}{_fmt(out.get(key)):>10}{ref:>12.3f}")
    print("(ours: Frag/Scaf/SNN/FCD against the run's held-out molecules; MOSES: against its "
          "test set)")
    if out.get("fcd") is None and out.get("fcd_reason"):
        print(f"fcd: {out['fcd_reason']}")
    print()
    rec = out["reconstruction"]
    mine = f"ours, {run.decoding.label()} exact (z = mu)"
    width = max(34, len(mine) + 2, len(rec["protocol"]) + 8, len(run.decoding.label()) + 30,
                *(len(f"{name} (ZINC, {how})") + 2 for name, _, how in ZINC_RECONSTRUCTION))
    print(f"{'reconstruction':<{width}}{'share':>8}")
    print(f"{mine:<{width}}{_fmt(rec['greedy_exact']):>8}")
    print(f"{'ours, ' + rec['protocol']:<{width}}{_fmt(rec['sampled']):>8}")
    posterior = f"ours, {args.encodes} encodes x 1 {run.decoding.label()} decode"
    print(f"{posterior:<{width}}{_fmt(rec['posterior']):>8}")
    for name, value, how in ZINC_RECONSTRUCTION:
        print(f"{name + f' (ZINC, {how})':<{width}}{value:>8.3f}")
    print(f"active units {out['active_units']} of {run.d_z}, KL {out['kl']:.2f} nats\n")
    print(f"{'threads':<10}{'train seq/s':>12}")
    for threads in [int(t) for t in args.speed_threads.split(",") if t.strip()]:
        print(f"{threads:<10}{throughput(run, threads, args.speed_steps):>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
