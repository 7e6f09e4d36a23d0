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
# Record the result in its section of BENCHMARKS.md.
python3 - "$runs" "$failed" <<'PY'
import datetime, pathlib, sys
runs, failed = int(sys.argv[1]), int(sys.argv[2])
path = pathlib.Path("BENCHMARKS.md")
old = path.read_text() if path.exists() else "# Benchmarks\n"
body = (f"## soak (`scripts/soak.sh {runs}`)\n\n"
        f"{runs} consecutive runs of the bundled suite (seeds 1 to {runs}), {datetime.date.today()}: "
        f"{runs - failed} passed, {failed} failed (goal: 0 failed; {'met' if failed == 0 else '**not met**'}).\n")
start, end = "<!-- soak:start -->", "<!-- soak:end -->"
block = f"{start}\n{body}{end}"
if start in old and end in old:
    new = old[:old.index(start)] + block + old[old.index(end) + len(end):]
else:
    new = old.rstrip() + "\n\n" + block + "\n"
path.write_text(new)
PY
[ "$failed" -eq 0 ]
