#!/usr/bin/env bash
# Runs the bundled suite 20 times in a row (or N: scripts/soak.sh N) and counts failures.
# Not part of the default run: it takes a few minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --locked --bin replharness >/dev/null || exit 2
failed=0
for i in $(seq 1 "$runs"); do
  if ./target/release/replharness run --seed "$i" > "target/soak-$i.log" 2>&1; then
    printf 'run %2d: pass\n' "$i"
  else
    failed=$((failed + 1))
    printf 'run %2d: FAIL (target/soak-%d.log)\n' "$i" "$i"
  fi
done
echo "$((runs - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
