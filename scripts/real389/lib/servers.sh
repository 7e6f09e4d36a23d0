# The two real 389-DS instances: creation, start/stop, LDAP helpers, the agreement.
# Sourced by run.sh. Every server listens on 127.0.0.1 only.

SUFFIX="dc=example,dc=com"
DM="cn=Directory Manager"
DM_PW="Real389-DM-Pass"
REPL_DN="cn=replication manager,cn=config"
REPL_PW="ReplPass123"
SUP=rh-supplier
CON=rh-consumer
AGMT=supplier-to-consumer
REPLICA_DN='cn=replica,cn=dc\3Dexample\2Cdc\3Dcom,cn=mapping tree,cn=config'
AGMT_DN="cn=$AGMT,$REPLICA_DN"
# Lowered so a fault shows in seconds (defaults: backoff 3..300 s, timeout 120 s).
BACKOFF_MIN=1
BACKOFF_MAX=3
CONN_TIMEOUT=5

inst_dir() { printf '/etc/dirsrv/slapd-%s' "$1"; }
errors_log() { printf '/var/log/dirsrv/slapd-%s/errors' "$1"; }
pid_file() { printf '/run/dirsrv/slapd-%s.pid' "$1"; }

# The ns-slapd of instance NAME is alive (by its pid file, not by process name).
slapd_alive() {
  local pid
  pid=$(cat "$(pid_file "$1")" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# dsctl NAME status exits 0 even when the server is down: read its words.
running() { dsctl "$1" status 2>/dev/null | grep -q 'is running'; }

# Removes an instance of ours left by an earlier run (a crash, a kill -9 of the run).
remove_instance() {
  local name=$1
  [ -d "$(inst_dir "$name")" ] || return 0
  dsctl "$name" remove --do-it >>"$OUT/dsctl.log" 2>&1 || true
  if slapd_alive "$name"; then
    kill "$(cat "$(pid_file "$name")")" 2>/dev/null || true
  fi
  [ ! -d "$(inst_dir "$name")" ] || die "could not remove the instance $name left by an earlier run (see $OUT/dsctl.log)"
}

# create_instance NAME PORT SECURE_PORT ROLE
create_instance() {
  local name=$1 port=$2 sport=$3 role=$4 inf="$OUT/$1.inf"
  cat >"$inf" <<EOF
[general]
full_machine_name = localhost
strict_host_checking = False
systemd = False
selinux = False
start = False

[slapd]
instance_name = $name
port = $port
secure_port = $sport
self_sign_cert = False
root_password = $DM_PW

[backend-userroot]
suffix = $SUFFIX
create_suffix_entry = True
sample_entries = no
enable_replication = True
replica_role = $role
replica_id = 1
replica_binddn = $REPL_DN
replica_bindpw = $REPL_PW
EOF
  dscreate from-file "$inf" >"$OUT/dscreate-$name.log" 2>&1 || return 1
  # Loopback only: nsslapd-listenhost, set while the server is stopped (dscreate stops it).
  local dse
  dse="$(inst_dir "$name")/dse.ldif"
  grep -q '^nsslapd-listenhost:' "$dse" ||
    sed -i '0,/^dn: cn=config$/s//dn: cn=config\nnsslapd-listenhost: 127.0.0.1/' "$dse"
  grep -q '^nsslapd-listenhost: 127.0.0.1$' "$dse"
}

start_instance() {
  dsctl "$1" start >>"$OUT/dsctl.log" 2>&1 || die "dsctl $1 start failed (see $OUT/dsctl.log and $(errors_log "$1"))"
  running "$1" || die "$1 did not start (see $(errors_log "$1"))"
}

stop_instance() {
  dsctl "$1" stop >>"$OUT/dsctl.log" 2>&1 || die "dsctl $1 stop failed (see $OUT/dsctl.log)"
  ! running "$1" || die "$1 still runs after dsctl stop"
}

# LDAP as Directory Manager over loopback TCP.
lds() {
  local port=$1
  shift
  ldapsearch -x -LLL -H "ldap://127.0.0.1:$port" -D "$DM" -w "$DM_PW" "$@"
}
ldm() {
  local port=$1
  shift
  ldapmodify -x -H "ldap://127.0.0.1:$port" -D "$DM" -w "$DM_PW" "$@" >>"$OUT/ldapmodify.log" 2>&1
}

# One attribute's value of one entry (unfolded; empty when absent).
attr_of() {
  local port=$1 dn=$2 attr=$3
  lds "$port" -o ldif-wrap=no -b "$dn" -s base "$attr" 2>/dev/null |
    sed -n "s/^$attr: //Ip" | head -n 1
}

agmt_status() { attr_of "$SUP_PORT" "$AGMT_DN" nsds5replicaLastUpdateStatus; }

# agmt_status_is REGEX: the agreement's status matches (grep -E).
agmt_status_is() { agmt_status | grep -Eq -- "$1"; }

# The JSON twin's date, which moves on every attempt.
agmt_status_date() {
  attr_of "$SUP_PORT" "$AGMT_DN" nsds5replicaLastUpdateStatusJSON | sed -n 's/.*"date": "\([^"]*\)".*/\1/p'
}

PROBE_N=0
# add_probe: adds one entry on the supplier; its cn is in $PROBE.
add_probe() {
  PROBE_N=$((PROBE_N + 1))
  PROBE="probe-$PROBE_N"
  ldm "$SUP_PORT" -a <<EOF || die "could not add cn=$PROBE on the supplier"
dn: cn=$PROBE,$SUFFIX
objectClass: top
objectClass: person
cn: $PROBE
sn: replharness real389 probe $PROBE_N
EOF
}

# on_consumer CN: the entry cn=CN has reached the consumer.
on_consumer() { lds "$CON_PORT" -b "cn=$1,$SUFFIX" -s base 1.1 >/dev/null 2>&1; }

healthy_now() { agmt_status_is 'Incremental update succeeded' && on_consumer "$PROBE"; }

# wait_healthy SECONDS: a new entry reaches the consumer and the status says success.
wait_healthy() {
  add_probe
  wait_for "$1" "cn=$PROBE to reach the consumer with the status 'Incremental update succeeded'" healthy_now
}

create_agreement() {
  # The backoff lives on the replica entry; it applies to backoff timers made after the change.
  ldm "$SUP_PORT" <<EOF || die "could not set the supplier's backoff"
dn: $REPLICA_DN
changetype: modify
replace: nsds5ReplicaBackoffMin
nsds5ReplicaBackoffMin: $BACKOFF_MIN
-
replace: nsds5ReplicaBackoffMax
nsds5ReplicaBackoffMax: $BACKOFF_MAX
EOF
  dsconf "$SUP" repl-agmt create --suffix "$SUFFIX" --host 127.0.0.1 --port "$PROXY_PORT" \
    --conn-protocol LDAP --bind-dn "$REPL_DN" --bind-passwd "$REPL_PW" --bind-method SIMPLE \
    "$AGMT" >>"$OUT/dsconf.log" 2>&1 || die "dsconf repl-agmt create failed (see $OUT/dsconf.log)"
  # dsconf 2.3.1's repl-agmt create takes --conn-timeout but does not set it: set it here.
  ldm "$SUP_PORT" <<EOF || die "could not set the agreement's nsds5ReplicaTimeout"
dn: $AGMT_DN
changetype: modify
replace: nsds5ReplicaTimeout
nsds5ReplicaTimeout: $CONN_TIMEOUT
EOF
  [ "$(attr_of "$SUP_PORT" "$AGMT_DN" nsds5ReplicaTimeout)" = "$CONN_TIMEOUT" ] ||
    die "the agreement's nsds5ReplicaTimeout is not $CONN_TIMEOUT after setting it"
}

init_done() {
  local s
  [ -z "$(attr_of "$SUP_PORT" "$AGMT_DN" nsds5BeginReplicaRefresh)" ] || return 1
  [ "$(attr_of "$SUP_PORT" "$AGMT_DN" nsds5replicaLastInitEnd)" != "$INIT_END_BEFORE" ] || return 1
  s=$(attr_of "$SUP_PORT" "$AGMT_DN" nsds5replicaLastInitStatus)
  case "$s" in
  *"Total update succeeded"*) return 0 ;;
  "" | *"in progress"*) return 1 ;;
  *) die "total init failed: $s" ;;
  esac
}

# init_consumer: a total update of the consumer from the supplier, waited for.
init_consumer() {
  INIT_END_BEFORE=$(attr_of "$SUP_PORT" "$AGMT_DN" nsds5replicaLastInitEnd)
  ldm "$SUP_PORT" <<EOF || die "could not start the total init"
dn: $AGMT_DN
changetype: modify
replace: nsds5BeginReplicaRefresh
nsds5BeginReplicaRefresh: start
EOF
  sleep 0.5
  wait_for 60 "the total init to finish (nsds5replicaLastInitStatus)" init_done
}
