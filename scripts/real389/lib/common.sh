# Shared helpers of scripts/real389/run.sh: messages, step timings, bounded waits.
# Sourced, not run. Every wait here has a deadline; nothing loops forever.

# The python that can import lib389: never the pyenv shim on PATH.
PY=/usr/bin/python3

say() { printf '%s real389: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Fails loudly, naming what could not be done. The EXIT trap cleans up.
die() {
  printf '%s real389: FAILED: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

# step NAME: starts timing a step; step_end closes it and records "NAME<TAB>seconds".
step() {
  STEP_NAME=$1
  STEP_T0=$(now_ms)
  say "== $STEP_NAME"
}
step_end() {
  local ms=$(($(now_ms) - STEP_T0))
  printf '%s\t%d.%03d\n' "$STEP_NAME" $((ms / 1000)) $((ms % 1000)) >>"$OUT/timings.tsv"
  say "   $STEP_NAME: $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
}

# wait_for SECONDS WHAT CMD...: runs CMD every 0.3 s until it succeeds; dies after SECONDS.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$(($(now_ms) + limit * 1000))
  while true; do
    if "$@"; then return 0; fi
    if (($(now_ms) > deadline)); then
      local st=""
      [ -n "${SUP_PORT:-}" ] && st="; agreement status now: $(agmt_status 2>/dev/null)"
      die "timed out after ${limit}s waiting for $what$st"
    fi
    sleep 0.3
  done
}

# free_port: a TCP port free on 127.0.0.1 right now (the kernel picks it).
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
