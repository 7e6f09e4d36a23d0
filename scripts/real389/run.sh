#!/usr/bin/env bash
# Real 389 Directory Servers behind the fault proxy: the faults of the emulated 389 flavor on
# the real thing, each case diagnosed, and the parity table against the emulated scenarios.
#
#   scripts/real389/run.sh [--out DIR] [--no-install] [--no-build] [--record]
#                          [--stall-lag SECONDS] [--faults LIST]
#   scripts/real389/run.sh --parity-only [CASES_DIR] [--no-build] [--record]
#
# It installs 389-ds-base when missing (Debian, --no-install-recommends), creates a supplier and
# a consumer on 127.0.0.1 (their agreement reaches the consumer through a fault-proxy listener),
# initializes, checks that an entry replicates, then runs every fault of lib/faults.sh with its
# recovery and writes a case folder for each under OUT/cases/ (default target/real389). It
# stops and removes both instances and the proxy on the way out, also on failure.
#
#   --out DIR        where cases, timings and logs go (default: target/real389)
#   --no-install     fail instead of installing missing packages
#   --no-build       use target/release/{fault-proxy,replharness} as they are
#   --record         copy the cases to diagnosis/tests/fixtures/389-real/ and write the parity
#                    table to docs/real389.md and the timings to BENCHMARKS.md
#   --stall-lag N    seconds between the last change sent and the newest one in the stall case
#                    (default 20)
#   --faults LIST    comma-separated subset of: healthy,firewall_reject,firewall_drop,stall,
#                    consumer_stopped,wrong_password,no_rights,generation (default: all)
#   --parity-only    no servers: the parity table of case folders taken before (default: the
#                    fixtures, diagnosis/tests/fixtures/389-real); needs no root. With --record
#                    it rewrites only the table of docs/real389.md
#
# Needs root (CI runs as root). Exit 0: every case got its expected verdict and every parity
# row says yes; 1 otherwise, or when it cannot run, saying why.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIB=$HERE/lib
OUT=$ROOT/target/real389
NO_INSTALL=0
BUILD=1
RECORD=0
STALL_LAG=20
PARITY_ONLY=
FAULTS=healthy,firewall_reject,firewall_drop,stall,consumer_stopped,wrong_password,no_rights,generation

while [ $# -gt 0 ]; do
  case "$1" in
  --out) OUT=$(realpath -m "${2:?--out needs a directory}"); shift 2 ;;
  --no-install) NO_INSTALL=1; shift ;;
  --no-build) BUILD=0; shift ;;
  --record) RECORD=1; shift ;;
  --stall-lag) STALL_LAG=${2:?--stall-lag needs seconds}; shift 2 ;;
  --faults) FAULTS=${2:?--faults needs a list}; shift 2 ;;
  --parity-only)
    PARITY_ONLY=$ROOT/diagnosis/tests/fixtures/389-real
    if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then PARITY_ONLY=$(realpath -m "$2"); shift; fi
    shift
    ;;
  -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "real389: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$STALL_LAG" =~ ^[0-9]+$ ]] || [ "$STALL_LAG" -lt 5 ] || [ "$STALL_LAG" -gt 600 ]; then
  echo "real389: --stall-lag must be a whole number of seconds from 5 to 600, not $STALL_LAG" >&2
  exit 2
fi

# shellcheck source=lib/common.sh
. "$LIB/common.sh"
# shellcheck source=lib/install.sh
. "$LIB/install.sh"
# shellcheck source=lib/servers.sh
. "$LIB/servers.sh"
# shellcheck source=lib/proxy.sh
. "$LIB/proxy.sh"
# shellcheck source=lib/collect.sh
. "$LIB/collect.sh"
# shellcheck source=lib/faults.sh
. "$LIB/faults.sh"

for f in ${FAULTS//,/ }; do
  declare -F "fault_$f" >/dev/null || { echo "real389: unknown fault $f (see --help)" >&2; exit 2; }
done

mkdir -p "$OUT"
rm -rf "$OUT/emulated"
: >"$OUT/timings.tsv"
FP_PID=
CLEANED=0

# Stops and removes what this run started: the proxy (by its pid), both instances (dsctl,
# then the pid file's process if it survived). Runs on every exit.
cleanup() {
  local rc=$? s
  [ "$CLEANED" = 1 ] && return
  CLEANED=1
  set +e
  if [ "$rc" != 0 ] && [ -n "${REAL389_HOLD_ON_FAILURE:-}" ]; then
    say "holding the servers for ${REAL389_HOLD_ON_FAILURE}s to look at (REAL389_HOLD_ON_FAILURE)"
    sleep "$REAL389_HOLD_ON_FAILURE"
  fi
  [ "$rc" = 0 ] || say "cleaning up after a failure (exit $rc)"
  stop_fault_proxy
  for s in "$SUP" "$CON"; do
    [ -d "$(inst_dir "$s")" ] || continue
    keep_logs "$s"
    dsctl "$s" remove --do-it >>"$OUT/dsctl.log" 2>&1
    if slapd_alive "$s"; then kill "$(cat "$(pid_file "$s")")"; fi
  done
  for s in "$SUP" "$CON"; do
    if slapd_alive "$s" || [ -d "$(inst_dir "$s")" ]; then
      printf 'real389: FAILED to clean up %s (ns-slapd or /etc/dirsrv/slapd-%s remains)\n' "$s" "$s" >&2
      rc=1
    fi
  done
  exit "$rc"
}
# The servers' logs outlive the instances, under OUT/logs/NAME/.
keep_logs() {
  mkdir -p "$OUT/logs/$1"
  cp /var/log/dirsrv/slapd-"$1"/{errors,access} "$OUT/logs/$1/" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One run at a time on a machine: the instance names are fixed.
exec 9>"$OUT/.lock"
flock -n 9 || die "another scripts/real389/run.sh holds $OUT/.lock"

T_ALL=$(now_ms)

# parity PYTHON_ARGS...: the table of OUT/parity.md; its exit code in parity_rc.
parity() {
  set +e
  "$PY" "$LIB/parity.py" --table "$LIB/cases.tsv" --replharness "$REPLHARNESS" \
    --library "$ROOT/scenarios/library" --work "$OUT/emulated" --json "$OUT/parity.json" \
    --stall-lag "$STALL_LAG" "$@" >"$OUT/parity.md"
  parity_rc=$?
  set -e
}

if [ -n "$PARITY_ONLY" ]; then
  [ -d "$PARITY_ONLY" ] || die "--parity-only: no folder $PARITY_ONLY"
  if [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && cargo build --release --locked --bin replharness) >"$OUT/build.log" 2>&1 ||
      die "cargo build of replharness failed (see $OUT/build.log)"
  fi
  REPLHARNESS=$ROOT/target/release/replharness
  [ -x "$REPLHARNESS" ] || die "no replharness binary at $REPLHARNESS"
  parity --cases "$PARITY_ONLY"
  cat "$OUT/parity.md"
  if [ "$RECORD" = 1 ]; then
    "$PY" "$LIB/record.py" --root "$ROOT" --out "$OUT" --table-only
  fi
  [ "$parity_rc" = 0 ] || die "parity: see the table above ($OUT/parity.md)"
  say "done: every case got its verdict and every row says yes"
  exit 0
fi

rm -rf "$OUT/cases" "$OUT/logs"
step install
install_packages
patch_defaults_inf
step_end

step build
if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && cargo build --release --locked --bin fault-proxy --bin replharness) >"$OUT/build.log" 2>&1 ||
    die "cargo build of fault-proxy and replharness failed (see $OUT/build.log)"
fi
FAULT_PROXY=$ROOT/target/release/fault-proxy
REPLHARNESS=$ROOT/target/release/replharness
[ -x "$REPLHARNESS" ] || die "no replharness binary at $REPLHARNESS"
step_end

step setup
remove_instance "$SUP"
remove_instance "$CON"
SUP_PORT=$(free_port)
CON_PORT=$(free_port)
while [ "$CON_PORT" = "$SUP_PORT" ]; do CON_PORT=$(free_port); done
start_fault_proxy "$FAULT_PROXY"
create_consumer_proxy "$CON_PORT"
# Each instance's secure port is set but unused (no TLS).
create_instance "$SUP" "$SUP_PORT" "$(free_port)" supplier &
p1=$!
create_instance "$CON" "$CON_PORT" "$(free_port)" consumer &
p2=$!
wait "$p1" || die "dscreate $SUP failed (see $OUT/dscreate-$SUP.log)"
wait "$p2" || die "dscreate $CON failed (see $OUT/dscreate-$CON.log)"
start_instance "$SUP"
start_instance "$CON"
create_agreement
init_consumer
wait_healthy 30
say "   supplier 127.0.0.1:$SUP_PORT, consumer 127.0.0.1:$CON_PORT, agreement via fault-proxy 127.0.0.1:$PROXY_PORT"
step_end

for f in ${FAULTS//,/ }; do
  step "fault $f"
  "fault_$f"
  step_end
done

step teardown
stop_fault_proxy
keep_logs "$SUP"
keep_logs "$CON"
# Both at once: each waits about 7 s for its server to stop.
dsctl "$SUP" remove --do-it >>"$OUT/dsctl.log" 2>&1 &
p1=$!
dsctl "$CON" remove --do-it >>"$OUT/dsctl.log" 2>&1 &
p2=$!
wait "$p1" || die "dsctl $SUP remove failed (see $OUT/dsctl.log)"
wait "$p2" || die "dsctl $CON remove failed (see $OUT/dsctl.log)"
step_end

step parity
parity --cases "$OUT/cases"
step_end
cat "$OUT/parity.md"

ms=$(($(now_ms) - T_ALL))
printf 'total\t%d.%03d\n' $((ms / 1000)) $((ms % 1000)) >>"$OUT/timings.tsv"
say "timings (s):"
sed 's/^/    /' "$OUT/timings.tsv" >&2

if [ "$RECORD" = 1 ]; then
  "$PY" "$LIB/record.py" --root "$ROOT" --out "$OUT" --version "${VERSION_389%%+*}"
fi
[ "$parity_rc" = 0 ] || die "parity: see the table above ($OUT/parity.md)"
say "done: every case got its verdict and every row says yes"
