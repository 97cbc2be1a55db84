#!/usr/bin/env bash
# Reproduce the stateright 0.31.0 two-phase-commit model-checking baseline of
# `commitlab explore --protocol tla-two-phase` (README, "Exhaustive exploration", Speed).
#
# Uses the 2pc example that ships inside the stateright crate, straight from
# cargo's registry copy (nothing is vendored or copied here). The tiny package
# in this folder exists only so that `cargo fetch` puts stateright-0.31.0 into
# ~/.cargo/registry/src/. Build output goes to $CARGO_TARGET_DIR (default
# ${TMPDIR:-/tmp}/stateright-2pc-target) so the registry copy is not written to.
#
# Usage: bench/stateright-2pc/run.sh [N ...]        (default: 5 6 7 8)
# Each run prints stateright's summary lines (states, unique, depth, sec=
# whole seconds) plus, measured here with /usr/bin/time around the built
# example binary (no cargo start-up): wall_s, states_per_sec = unique /
# wall_s, cpu_s (user+sys, all threads), states_per_cpu_sec (0 when cpu_s
# rounds to 0), peak RSS and
# bytes_per_state = peak RSS / unique.
#
# Caveat: the example ends with `.report(...)`, which polls the checker and
# sleeps 1 s between polls, so wall time is rounded UP to the next whole
# second: for runs of a second or less wall_s is ~1 s whatever the work, and
# states_per_sec is a lower bound. cpu_s does not have this artefact.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# 1. Make sure stateright-0.31.0 is in the registry (Cargo.toml pins "0.31", Cargo.lock 0.31.0).
cargo fetch --locked

# 2. Locate its source.
src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/stateright-0.31.0 | head -n1)"
test -f "$src/examples/2pc.rs" || { echo "examples/2pc.rs is not shipped in $src" >&2; exit 1; }
echo "# stateright source: $src" >&2
echo "# cores: $(nproc) (the example uses num_cpus::get() checker threads)" >&2

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${TMPDIR:-/tmp}/stateright-2pc-target}"

# 3. Build once (the crate ships its Cargo.lock; --locked keeps its dependency versions).
(cd "$src" && cargo build -q --locked --release --example 2pc 2>/dev/null || cargo build --locked --release --example 2pc)

# 4. Run the built example binary (`examples/2pc check N`) directly.
bin="$CARGO_TARGET_DIR/release/examples/2pc"
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(5 6 7 8)
for n in "${ns[@]}"; do
    echo "== 2pc check $n =="
    out="$(mktemp)"; tm="$(mktemp)"
    if ! /usr/bin/time -f '%e %U %S %M' -o "$tm" "$bin" check "$n" >"$out" 2>&1; then
        cat "$out" >&2; exit 1
    fi
    read -r wall user sys rss_kb <"$tm"; rm -f "$tm"
    # The report also lists counterexample/example paths; print just the summary lines.
    grep -E '^(Checking|Done)' "$out"
    unique=$(grep -o 'unique=[0-9]*' "$out" | tail -n1 | cut -d= -f2)
    rm -f "$out"
    awk -v n="$n" -v u="$unique" -v w="$wall" -v c="$(awk -v a="$user" -v b="$sys" 'BEGIN { print a + b }')" -v r="$rss_kb" \
        'BEGIN { printf "RESULT n=%s unique_states=%s wall_s=%.2f states_per_sec=%.0f cpu_s=%.2f states_per_cpu_sec=%.0f peak_rss_kb=%s bytes_per_state=%.0f\n", n, u, w, u / w, c, (c > 0 ? u / c : 0), r, r * 1024 / u }'
done
