# The fault proxy in front of the consumer, driven through its Toxiproxy-compatible HTTP API
# (docs/fault-proxy.md), as any Toxiproxy user would drive it. Sourced by run.sh.

PROXY_NAME=consumer

start_fault_proxy() {
  local bin=$1
  [ -x "$bin" ] || die "no fault-proxy binary at $bin (cargo build --release --bin fault-proxy)"
  "$bin" --api 127.0.0.1:0 --seed 389 >"$OUT/fault-proxy.out" 2>"$OUT/fault-proxy.log" &
  FP_PID=$!
  wait_for 10 "fault-proxy to print its API address" grep -q 'API on http://' "$OUT/fault-proxy.out"
  API=$(sed -n 's/.*API on \(http:\/\/[0-9.:]*\).*/\1/p' "$OUT/fault-proxy.out")
  [ -n "$API" ] || die "cannot read fault-proxy's API address from $OUT/fault-proxy.out"
}

stop_fault_proxy() {
  [ -n "${FP_PID:-}" ] || return 0
  kill "$FP_PID" 2>/dev/null || true
  wait "$FP_PID" 2>/dev/null || true
  FP_PID=
}

# api METHOD PATH [BODY]: one API call; dies on an HTTP error, naming it.
api() {
  local method=$1 path=$2 body=${3:-}
  local out code
  out=$(curl -sS -X "$method" -w '\n%{http_code}' ${body:+-H 'Content-Type: application/json' -d "$body"} "$API$path") ||
    die "fault-proxy API $method $path: curl failed"
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  case "$code" in
  2??) printf '%s' "$out" ;;
  *) die "fault-proxy API $method $path $body: HTTP $code $out" ;;
  esac
}

# create_consumer_proxy CONSUMER_PORT: a listener on 127.0.0.1 (port chosen by the kernel)
# in front of the consumer; its port is in $PROXY_PORT.
create_consumer_proxy() {
  local resp
  resp=$(api POST /proxies "{\"name\":\"$PROXY_NAME\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:$1\"}")
  PROXY_PORT=$(printf '%s' "$resp" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')
  [ -n "$PROXY_PORT" ] || die "no listen port in fault-proxy's answer: $resp"
}

# add_toxic JSON / remove_toxic NAME
add_toxic() { api POST "/proxies/$PROXY_NAME/toxics" "$1" >/dev/null; }
remove_toxic() { api DELETE "/proxies/$PROXY_NAME/toxics/$1" >/dev/null; }

# Live connections through the proxy (the supplier's cached replication connection).
live_connections() {
  api GET "/proxies/$PROXY_NAME/connections" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# Closes every live connection (enabled false, then true): a new session has to connect anew.
close_live_connections() {
  api POST "/proxies/$PROXY_NAME" '{"enabled":false}' >/dev/null
  api POST "/proxies/$PROXY_NAME" '{"enabled":true}' >/dev/null
}
