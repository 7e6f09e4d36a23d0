# Writes a case folder as the harness writes one (../shared/spec/cli.md, "Case folder"):
#   CASE/topology.toml                      flavor = "389", collected_at, ports
#   CASE/servers/NAME/agreements.ldif       the agreement entries, as ldapsearch -LLL prints them
#   CASE/servers/NAME/replica.ldif          the replica entry with nsds50ruv (and nsds5AgmtMaxCSN)
#   CASE/servers/NAME/errors                the errors log, copied as the server wrote it
#   CASE/probes.jsonl                       a TCP probe from the supplier to the agreement's host:port
# Sourced by run.sh.

# Drops nsDS5ReplicaCredentials (the encrypted agreement password) and its folded lines:
# a support engineer redacts it before a case leaves the machine.
redact_credentials() {
  awk 'BEGIN { skip = 0 }
       /^ / { if (!skip) print; next }
       { skip = (tolower($0) ~ /^nsds5replicacredentials::? /); if (!skip) print }'
}

# ldapsearch with its default wrap (78 columns), as a person would run it.
dump_agreements() {
  lds "$1" -b cn=config '(objectClass=nsds5replicationagreement)' '*' \
    nsds5replicaLastUpdateStatusJSON nsds5replicaLastInitStatusJSON | redact_credentials
}
dump_replica() {
  lds "$1" -b "$REPLICA_DN" -s base '*' nsds50ruv nsds5AgmtMaxCSN nsruvReplicaLastModified
}

# collect_case NAME: the case folder $OUT/cases/NAME, from both servers as they are now.
collect_case() {
  local name=$1 dir="$OUT/cases/$1" s port
  rm -rf "$dir"
  for s in "$SUP" "$CON"; do
    mkdir -p "$dir/servers/$s"
    port=$SUP_PORT
    [ "$s" = "$CON" ] && port=$CON_PORT
    if running "$s"; then
      if [ "$s" = "$SUP" ]; then
        dump_agreements "$port" >"$dir/servers/$s/agreements.ldif" || die "$name: cannot read the agreements of $s"
      fi
      dump_replica "$port" >"$dir/servers/$s/replica.ldif" || die "$name: cannot read the replica entry of $s"
    fi
    cp "$(errors_log "$s")" "$dir/servers/$s/errors" || die "$name: cannot copy the errors log of $s"
  done
  write_topology "$dir/topology.toml"
  probe_line >"$dir/probes.jsonl" || die "$name: the TCP probe failed to run"
  say "   case $name: $(agmt_status)"
}

# One TCP probe, as the harness's probes run (scenarios/src/probe.rs): connect from the
# supplier's host (this one) to the agreement's host and port (the proxy) within 500 ms, then
# read for 30 ms. A connect that fails, or a reset right after the accept (what the proxy does
# when its upstream refuses), is `refused`; no answer to the SYN is `timeout`.
probe_line() {
  "$PY" - "$SUP" 127.0.0.1 "$PROXY_PORT" <<'PY'
import json, socket, sys, time
frm, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = time.monotonic()
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect((host, port))
    s.settimeout(0.03)
    try:
        s.recv(1)
        outcome = "ok"
    except ConnectionResetError:
        outcome = "refused"
    except OSError:
        outcome = "ok"
except socket.timeout:
    outcome = "timeout"
except OSError:
    outcome = "refused"
finally:
    s.close()
ms = int((time.monotonic() - t0) * 1000)
print(json.dumps({"from": frm, "target": host, "port": port, "kind": "tcp", "outcome": outcome,
                  "elapsed_ms": ms}, separators=(",", ":")))
PY
}

write_topology() {
  local version=${VERSION_389%%+*}
  cat >"$1" <<EOF
# Two real 389-DS instances on this machine, taken by scripts/real389/run.sh. The agreement
# reaches $CON through a fault-proxy listener on 127.0.0.1:$PROXY_PORT.
collected_at = "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

[[servers]]
name = "$SUP"
flavor = "389"
version = "$version"
host = "localhost"
addresses = ["127.0.0.1"]
server_id = "1"
ports = { ldap = $SUP_PORT }
domains = ["$SUFFIX"]

[[servers]]
name = "$CON"
flavor = "389"
version = "$version"
host = "localhost"
addresses = ["127.0.0.1"]
server_id = "65535"
ports = { ldap = $CON_PORT }
domains = ["$SUFFIX"]
EOF
}
