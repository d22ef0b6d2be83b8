#!/usr/bin/env bash
# What seqvae does, on built-in defaults, in about six minutes on two cores:
#   1. exact automata work: shortest reset words, heuristic bounds, a census, a drawing;
#   2. the VAE: train on 7-state automata, its honest figures, an interpolation figure,
#      and one line on how its latent search fares against plain evolution;
#   3. the hunt that works: at n = 8, boost with surrogate-ranked lifts of the slow
#      7-state automata that the pruned census finds.
# Called by `make demo` (which installs .venv first). Output lands in demo_out/ (or $DEMO_OUT).
# Resumable: a finished step is skipped (its saved output is shown again), an interrupted
# training or search continues from its checkpoint. `rm -rf demo_out` starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
SEQVAE=".venv/bin/seqvae"
PY=".venv/bin/python"
OUT="${DEMO_OUT:-demo_out}"
mkdir -p "$OUT"
START=$SECONDS

step() { printf '\n\033[1m== %s\033[0m  (%d s)\n' "$*" $((SECONDS - START)) >&2; }

# saved FILE CMD...: run CMD once with its stdout kept in FILE (written only when CMD
# succeeds, so an interrupted step runs again); show FILE.
saved() {
  local file="$1"; shift
  if [ ! -f "$file" ]; then
    "$@" > "$file.part"
    mv "$file.part" "$file"
  fi
  cat "$file"
}

# search DIR ARGS...: search-extreme into DIR, resumed from its checkpoint when it was
# interrupted, skipped when it finished (an interrupted search writes its leaderboard too,
# marked "stopped": "interrupted").
search() {
  local dir="$1"; shift
  if [ -f "$dir/leaderboard.json" ] && ! grep -q '"stopped": "interrupted"' "$dir/leaderboard.json"; then
    echo "(finished earlier: $dir)"
  elif [ -f "$dir/checkpoint.npz" ]; then
    $SEQVAE search-extreme "$@" --out "$dir" --resume
  else
    $SEQVAE search-extreme "$@" --out "$dir"
  fi
}

# ---------------------------------------------------------------------------------------
step "1. Exact shortest reset words: Černý's C_8 and Kari's automaton"
if [ ! -f "$OUT/exact.txt" ]; then
  $SEQVAE automata family cerny -n 8 -o "$OUT/c8.txt"
  $SEQVAE automata family kari -o "$OUT/kari.txt"
  cat "$OUT/c8.txt" "$OUT/kari.txt" > "$OUT/exact.txt"
fi
saved "$OUT/exact_info.txt" $SEQVAE automata info "$OUT/exact.txt"
saved "$OUT/exact.json" $SEQVAE automata info "$OUT/exact.txt" --json > /dev/null

step "2. Heuristic upper bounds against the exact length 49 (C_8)"
saved "$OUT/c8_eppstein.txt" $SEQVAE automata reset-word "$OUT/c8.txt" --method eppstein
saved "$OUT/c8_beam.txt" $SEQVAE automata reset-word "$OUT/c8.txt" --method beam

step "3. Census: every binary 5-state automaton up to isomorphism"
saved "$OUT/census5.txt" $SEQVAE automata census -n 5 -k 2 --top 3
saved "$OUT/census5.json" $SEQVAE automata census -n 5 -k 2 --top 3 --json > /dev/null

step "4. A drawing of C_5"
[ -f "$OUT/c5.txt" ] || $SEQVAE automata family cerny -n 5 -o "$OUT/c5.txt"
[ -f "$OUT/c5.png" ] || $SEQVAE automata draw "$OUT/c5.txt" -o "$OUT/c5.png"
echo "drawing: $OUT/c5.png"

# ---------------------------------------------------------------------------------------
# The default model (7 states, 2 letters, the default architecture and schedule: 5 epochs)
# on 40k generated automata instead of the 50k of a bare `seqvae train automata`, so that the
# whole demo fits in six minutes on two cores. Every figure below is what this run measures.
step "5. Train the default VAE on 40,000 random synchronizing 7-state automata (resumes if interrupted)"
if [ -f "$OUT/run/checkpoint.pt" ]; then
  $SEQVAE train automata --out "$OUT/run" --resume   # a finished run returns at once
else
  $SEQVAE train automata --count 40000 --out "$OUT/run"
fi

step "6. The model's figures: reconstruction and prior quality (seqvae eval --json)"
saved "$OUT/eval.json" $SEQVAE eval "$OUT/run" --json --max-items 1000 > /dev/null
$PY scripts/demo_summary.py "$OUT" --only model

step "7. Interpolation between held-out automata: linear, polar and slerp paths"
saved "$OUT/interp.txt" $SEQVAE interpolate "$OUT/run" --all --pairs 10 --steps 8 --refine 1 \
  --seed 0 --out "$OUT/interp"

step "8. The VAE's latent search against plain evolution at n = 7 (5,000 evaluations each)"
search "$OUT/search7_evolve" -n 7 -k 2 --method evolve --budget 5000 --seed 0
search "$OUT/search7_vae" -n 7 -k 2 --method vae --model "$OUT/run" --budget 5000 --seed 0
$PY scripts/demo_summary.py "$OUT" --only verdict

# ---------------------------------------------------------------------------------------
step "9. Pruned census at n = 7: every class with rt >= 27 (the sources of the lifts)"
if [ ! -f "$OUT/census7.json" ]; then
  resume=(); [ -f "$OUT/census7/census.json" ] && resume=(--resume)
  $SEQVAE automata census -n 7 -k 2 --min-rt 27 --jobs 2 --out "$OUT/census7" "${resume[@]}" \
    --save "$OUT/slow7.txt" --json > "$OUT/census7.json.part"
  mv "$OUT/census7.json.part" "$OUT/census7.json"
fi
echo "$(wc -l < "$OUT/slow7.txt") slow 7-state classes in $OUT/slow7.txt"

step "10. The hunt at n = 8: boost with surrogate-ranked lifts of the slow 7-state classes"
search "$OUT/hunt8" -n 8 -k 2 --method boost --lift-from "$OUT/slow7.txt" --budget 100000 \
  --seed 0 --top 10

# ---------------------------------------------------------------------------------------
$PY scripts/demo_summary.py "$OUT" --seconds $((SECONDS - START))
