# The faults, each followed by its recovery; every one leaves two case folders, FAULT and
# FAULT-recovered. Network faults go through fault-proxy's API; the others are configuration.
# The status only moves when there is something to send, so each fault writes to the supplier.
# Sourced by run.sh; the list and the verdicts expected are in cases.tsv beside this file.

# Statuses the supplier writes (../shared/reference/real-389ds.md, "Observed status strings").
ST_CONNECT='^Error \(-?[0-9]+\) Problem connecting to replica'
ST_BIND='^Error \(49\) Problem connecting to replica - LDAP error: Invalid credentials'
ST_PERM='^Error \(3\) Replication error acquiring replica: Unable to acquire replica: permission denied'
ST_GEN='^Error \(19\) Replication error acquiring replica: Replica has different database generation ID'
ST_OK='Incremental update succeeded'

# recover NAME: the entry written during the fault (or a new one) arrives; case NAME-recovered.
recover() {
  wait_for 40 "$1: recovery (cn=$PROBE on the consumer)" healthy_now
  collect_case "$1-recovered"
}

fault_healthy() {
  wait_healthy 20
  collect_case healthy
}

# A firewall that rejects: connect() refused, the live connection reset.
fault_firewall_reject() {
  add_toxic '{"name":"firewall","type":"reject","attributes":{"reset_existing":true}}'
  add_probe
  wait_for 30 "firewall-reject: status 'Problem connecting to replica'" agmt_status_is "$ST_CONNECT"
  collect_case firewall-reject
  remove_toxic firewall
  recover firewall-reject
}

# A firewall that drops new connections: SYNs get no answer. The supplier's cached connection
# (it lingers 60 s after a session) is closed first, or the session would stall on it instead.
fault_firewall_drop() {
  close_live_connections
  add_toxic '{"name":"firewall","type":"drop","stream":"both"}'
  add_probe
  # The connect times out after nsds5ReplicaTimeout ($CONN_TIMEOUT s).
  wait_for 40 "firewall-drop: a failed connect after the timeout" drop_seen
  collect_case firewall-drop
  remove_toxic firewall
  recover firewall-drop
}
drop_seen() {
  agmt_status_is "$ST_CONNECT" &&
    grep -Eq 'network error 110|timeout after \[' "$(errors_log "$SUP")"
}

# Packets dropped in the middle of a session: the supplier sends its startReplication request
# on the connection it cached and waits for the answer forever; the status stays green.
fault_stall() {
  wait_healthy 30
  [ "$(live_connections)" -ge 1 ] || die "stall: no cached replication connection through the proxy to stall"
  local sent_probe=$PROBE t0
  t0=$(now_ms)
  add_toxic '{"name":"midsession","type":"drop","stream":"both","attributes":{"new_connections":false}}'
  add_probe
  local stalled_probe=$PROBE
  # The lag the diagnosis measures: the supplier's newest change against the last one sent.
  while (($(now_ms) - t0 < STALL_LAG * 1000)); do
    sleep 1
    on_consumer "$stalled_probe" && die "stall: cn=$stalled_probe reached the consumer through a dropped link"
  done
  add_probe
  agmt_status_is "$ST_OK" || die "stall: the status left green ($(agmt_status)); the real server keeps it green"
  on_consumer "$sent_probe" || die "stall: cn=$sent_probe vanished from the consumer"
  collect_case stall
  remove_toxic midsession
  recover stall
}

# The consumer stopped (dsctl stop: a clean shutdown); the proxy still listens before it.
fault_consumer_stopped() {
  stop_instance "$CON"
  add_probe
  wait_for 30 "consumer-stopped: status 'Problem connecting to replica'" agmt_status_is "$ST_CONNECT"
  collect_case consumer-stopped
  start_instance "$CON"
  recover consumer-stopped
}

# A wrong password on the agreement (a change of the agreement restarts its session at once).
fault_wrong_password() {
  set_agmt_password WrongPass999
  add_probe
  wait_for 30 "wrong-password: status Error (49)" agmt_status_is "$ST_BIND"
  collect_case wrong-password
  set_agmt_password "$REPL_PW"
  recover wrong-password
}
set_agmt_password() {
  ldm "$SUP_PORT" <<EOF || die "could not set the agreement's password"
dn: $AGMT_DN
changetype: modify
replace: nsDS5ReplicaCredentials
nsDS5ReplicaCredentials: $1
EOF
}

# The agreement's bind DN loses its replication rights on the consumer (no longer a replica
# bind DN there); it still binds, but acquiring the replica is refused.
fault_no_rights() {
  consumer_bind_dn delete
  add_probe
  wait_for 30 "no-rights: status Error (3)" agmt_status_is "$ST_PERM"
  collect_case no-rights
  consumer_bind_dn add
  recover no-rights
}
consumer_bind_dn() {
  ldm "$CON_PORT" <<EOF || die "could not $1 the consumer's replica bind DN"
dn: $REPLICA_DN
changetype: modify
$1: nsDS5ReplicaBindDN
nsDS5ReplicaBindDN: $REPL_DN
EOF
}

# The consumer re-imported from an LDIF without replication data: a new database generation.
fault_generation() {
  local ldif="/var/lib/dirsrv/slapd-$SUP/ldif/replharness-noreplication.ldif"
  rm -f "$ldif"
  dsconf "$SUP" backend export userroot -l "$ldif" >>"$OUT/dsconf.log" 2>&1 ||
    die "generation: dsconf backend export failed (see $OUT/dsconf.log)"
  [ -s "$ldif" ] || die "generation: the export wrote no $ldif"
  local copy="/var/lib/dirsrv/slapd-$CON/ldif/replharness-noreplication.ldif"
  install -o dirsrv -g dirsrv -m 0600 "$ldif" "$copy"
  stop_instance "$CON"
  dsctl "$CON" ldif2db userroot "$copy" >>"$OUT/dsctl.log" 2>&1 || die "generation: dsctl ldif2db failed (see $OUT/dsctl.log)"
  start_instance "$CON"
  add_probe
  wait_for 30 "generation: status Error (19)" agmt_status_is "$ST_GEN"
  collect_case generation-mismatch
  init_consumer
  # The entry written during the fault came with the total update; a new one shows the
  # incremental protocol running again.
  wait_healthy 30
  collect_case generation-mismatch-recovered
}
