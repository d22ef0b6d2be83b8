#!/usr/bin/env bash
# The main job on built-in defaults: exact automata work, then train -> eval -> interpolate -> search.
# Called by `make demo` (which installs .venv first). Output lands in demo_out/.
set -euo pipefail
cd "$(dirname "$0")/.."
SEQVAE=".venv/bin/seqvae"
OUT="${DEMO_OUT:-demo_out}"
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "Černý C_8 and Kari's automaton: exact shortest reset words"
$SEQVAE automata family cerny -n 8 -o "$OUT/c8.txt"
$SEQVAE automata family kari -o "$OUT/kari.txt"
$SEQVAE automata info "$OUT/c8.txt"
$SEQVAE automata info "$OUT/kari.txt"

step "Heuristic upper bounds against the exact length (C_8)"
$SEQVAE automata reset-word "$OUT/c8.txt" --method eppstein
$SEQVAE automata reset-word "$OUT/c8.txt" --method beam

step "Census: all binary 5-state automata up to isomorphism"
$SEQVAE automata census -n 5 -k 2 --top 3

step "A drawing of C_5"
$SEQVAE automata family cerny -n 5 -o "$OUT/c5.txt"
$SEQVAE automata draw "$OUT/c5.txt" -o "$OUT/c5.png"

step "Train the default model: 7-state binary automata (resumes if interrupted)"
if [ -f "$OUT/run/checkpoint.pt" ]; then
  $SEQVAE train automata --out "$OUT/run" --resume   # a finished run returns at once
else
  $SEQVAE train automata --out "$OUT/run"
fi

step "Evaluate the model"
$SEQVAE eval "$OUT/run" --json | tee "$OUT/eval.json"

step "Interpolate: linear, polar and slerp paths with encode-decode refinement"
$SEQVAE interpolate "$OUT/run" --all --pairs 20 --steps 10 --refine 2 --seed 0 --out "$OUT/interp"

step "Search for 7-state automata with long reset words (evolve, then the latent search)"
$SEQVAE search-extreme -n 7 -k 2 --method evolve --budget 5000 --seed 0 --out "$OUT/search_evolve"
$SEQVAE search-extreme -n 7 -k 2 --method vae --model "$OUT/run" --budget 5000 --seed 0 --out "$OUT/search_vae"
