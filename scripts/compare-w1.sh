#!/usr/bin/env bash
# Runs the raw loop (bench/raw-loop) and `commitlab bench w1` alternately and prints the
# median events/s ratio commitlab / raw loop.
# Usage (from the repository root): scripts/compare-w1.sh [TXNS=1000000] [extra bench flags...]
set -euo pipefail
txns=${1:-1000000}; shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
raw_target=${TMPDIR:-/tmp}/commitlab-raw-loop-target
CARGO_TARGET_DIR=$raw_target cargo build -q --release --locked --manifest-path bench/raw-loop/Cargo.toml
cargo build -q --release --locked
raw=$raw_target/release/raw-loop
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/commitlab
eps() { sed -n 's/.*events_per_sec=\([0-9.]*\).*/\1/p' | head -1; }
ratios=()
for i in 1 2 3 4 5; do
  r=$("$raw" "$txns" 42 | eps)
  c=$("$bin" bench w1 --txns "$txns" --seed 42 "$@" | eps)
  ratios+=("$(python3 -c "print(f'{$c/$r:.3f}')")")
  echo "pair $i: raw=$r commitlab=$c ratio=${ratios[-1]}"
done
printf '%s\n' "${ratios[@]}" | sort -n | sed -n 3p | sed 's/^/median ratio commitlab\/raw = /'
