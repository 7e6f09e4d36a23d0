#!/usr/bin/env bash
# Runs fuzz targets for a while each (default: all, 600 s), one process per
# target, two at a time; what each run printed last goes to results/TARGET.log.
# Not part of CI. Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). Usage: fuzz/run.sh [-t SECONDS] [-j JOBS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=600 jobs=2
while getopts "t:j:" o; do
  case $o in t) secs=$OPTARG ;; j) jobs=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -s none
mkdir -p results
run() {
  local t=$1
  mkdir -p "corpus/$t"
  # -timeout: an input that takes 10 s is a hang and is reported as one.
  cargo +nightly fuzz run -s none "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"results/$t.log" 2>&1
  echo "$t: exit $? ($(grep -c '' "results/$t.log") lines of output)"
}
export -f run
export secs
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run {}'
