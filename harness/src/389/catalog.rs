//! The errors-log lines the 389 mock writes, as 389-DS 2.3.1 writes them
//! (`slapi_log_err(level, subsystem, "function - text")` calls of
//! `389ds/389-ds-base`; file and line in each doc comment). `%s` marks each
//! argument, in order.
//!
//! A line is `[TIMESTAMP] - LEVEL - SUBSYSTEM - FUNCTION - TEXT`, or without
//! `FUNCTION - ` where the caller names no function (the subsystem is then
//! often the function: `slapi_ldap_bind`, `main`). Before 1.3.6.1 there was
//! no level and no function: `[TIMESTAMP] SUBSYSTEM - TEXT`, or `[TIMESTAMP]
//! TEXT` for the server's own start-up lines ([`LogMsg::legacy`] holds the
//! older wording where it differs).

use std::fmt::Display;

/// Severity names, upper-cased from glibc's `prioritynames` (never `WARNING`, `ERROR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sev {
    Err,
    Warn,
    Notice,
    Info,
}

impl Sev {
    pub fn name(self) -> &'static str {
        match self {
            Sev::Err => "ERR",
            Sev::Warn => "WARN",
            Sev::Notice => "NOTICE",
            Sev::Info => "INFO",
        }
    }
}

/// `repl_plugin_name`.
pub const REPL: &str = "NSMMReplicationPlugin";

/// One message definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogMsg {
    /// A stable key (for waits and tests).
    pub key: &'static str,
    pub sev: Sev,
    pub subsystem: &'static str,
    /// The `function - ` prefix of the text ("" when the caller gives none).
    pub func: &'static str,
    pub text: &'static str,
    /// The 1.3.5 wording where it differs.
    pub legacy: Option<&'static str>,
    /// Before 1.3.6.1 the line had no subsystem (`LDAPDebug`).
    pub legacy_bare: bool,
}

impl crate::logbook::Keyed for LogMsg {
    fn key(&self) -> &'static str {
        self.key
    }
}

/// `text` with each `%s` replaced by the next argument (missing ones stay `%s`).
pub fn fill(text: &str, args: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(text.len() + 32 * args.len());
    let mut rest = text;
    let mut args = args.iter();
    while let Some(i) = rest.find("%s") {
        out.push_str(&rest[..i]);
        match args.next() {
            Some(a) => out.push_str(&a.to_string()),
            None => out.push_str("%s"),
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

/// The `multimaster_` name a function had before 2.0.5 (`multisupplier_` since).
pub fn multimaster_name(func: &'static str) -> &'static str {
    match func {
        "multisupplier_extop_StartNSDS50ReplicationRequest" => "multimaster_extop_StartNSDS50ReplicationRequest",
        "multisupplier_be_state_change" => "multimaster_be_state_change",
        other => other,
    }
}

impl LogMsg {
    /// How many arguments the text takes.
    pub fn arity(&self) -> usize {
        self.text.matches("%s").count()
    }

    /// The line after the timestamp, in the 2.x shape (`true`) or the pre-1.3.6.1 one.
    pub fn render(&self, severities: bool, args: &[&dyn Display]) -> String {
        if severities {
            let body = fill(self.text, args);
            if self.func.is_empty() {
                format!("- {} - {} - {body}", self.sev.name(), self.subsystem)
            } else {
                format!("- {} - {} - {} - {body}", self.sev.name(), self.subsystem, self.func)
            }
        } else {
            let body = fill(self.legacy.unwrap_or(self.text), args);
            if self.legacy_bare {
                body
            } else {
                format!("{} - {body}", self.subsystem)
            }
        }
    }
}

macro_rules! msgs {
    ($($(#[$doc:meta])* $name:ident = $sev:ident, $sub:expr, $func:literal, $text:literal $(, legacy $leg:literal)? $(, bare = $bare:literal)?;)*) => {
        $( $(#[$doc])* pub const $name: LogMsg = LogMsg {
            key: stringify!($name), sev: Sev::$sev, subsystem: $sub, func: $func, text: $text,
            legacy: msgs!(@leg $($leg)?), legacy_bare: msgs!(@bare $($bare)?),
        }; )*
        /// Every message, for the round-trip tests.
        pub const ALL: &[LogMsg] = &[$($name),*];
    };
    (@leg) => { None };
    (@leg $l:literal) => { Some($l) };
    (@bare) => { false };
    (@bare $b:literal) => { $b };
}

msgs! {
    // ---- start-up and shutdown (slapd/main.c, daemon.c, connection.c, bdb)
    /// `slapd/fips.c`: the first line of every 2.3.1 start where `/proc` has no FIPS flag.
    FIPS_OFF = Notice, "slapd_system_isFIPS", "", "Can not access /proc/sys/crypto/fips_enabled - assuming FIPS is OFF";
    /// `main.c:988`: PRODUCT BUILD starting up.
    STARTING_UP = Info, "main", "", "%s %s starting up", bare = true;
    /// `main.c:996`.
    FD_LIMIT = Info, "main", "", "Setting the maximum file descriptor limit to: %s", bare = true;
    /// `pbkdf2_pwd.c:361`.
    PBKDF2_ROUNDS = Info, "PBKDF2_SHA256", "", "Based on CPU performance, chose %s rounds";
    /// `bdb_misc.c:291`.
    AUTOTUNE_PHYSICAL = Notice, "bdb_start_autotune", "", "found %sk physical memory";
    /// `bdb_misc.c:292`.
    AUTOTUNE_AVAILABLE = Notice, "bdb_start_autotune", "", "found %sk available";
    /// `bdb_misc.c:307`.
    AUTOTUNE_DB_CACHE = Notice, "bdb_start_autotune", "", "cache autosizing: db cache: %sk";
    /// `bdb_misc.c:337`.
    AUTOTUNE_ENTRY_CACHE = Notice, "bdb_start_autotune", "", "cache autosizing: %s entry cache (%s total): %sk";
    /// `bdb_misc.c:342`.
    AUTOTUNE_DN_CACHE = Notice, "bdb_start_autotune", "", "cache autosizing: %s dn cache (%s total): %sk";
    /// `bdb_misc.c:376`: the line ends with `; `.
    AUTOTUNE_TOTAL = Notice, "bdb_start_autotune", "", "total cache size: %s B; ";
    /// `conntable.c`.
    CONNTABLE_SIZE = Info, "connection_table_new", "", "conntablesize:%s";
    /// `daemon.c:2049`: two spaces after `started.`.
    SLAPD_STARTED = Info, "slapd_daemon", "", "slapd started.  Listening on %s port %s for LDAP requests", bare = true;
    /// `connection.c:2025`.
    SHUTDOWN_SIGNAL_OPS = Info, "op_thread_cleanup", "", "slapd shutting down - signaling operation threads - op stack size %s max work q size %s max work q stack size %s", bare = true;
    /// `daemon.c:1161`.
    /// `daemon.c:2086`.
    LDAPI_LISTENING = Info, "slapd_daemon", "", "Listening on %s for LDAPI requests", bare = true;
    /// `daemon.c:1275`.
    SHUTDOWN_CT_THREADS = Info, "ct_thread_cleanup", "", "slapd shutting down - signaling connection table threads", bare = true;
    /// `daemon.c:1161`: `thread` (singular) for one, `threads` otherwise.
    SHUTDOWN_WAIT_THREADS = Info, "slapd_daemon", "", "slapd shutting down - waiting for %s to terminate", bare = true;
    /// `daemon.c:1206`.
    SHUTDOWN_PLUGINS = Info, "slapd_daemon", "", "slapd shutting down - closing down internal subsystems and plugins", bare = true;
    /// `bdb_layer.c:2049`.
    BDB_WAITING = Info, "bdb_pre_close", "", "Waiting for %s database threads to stop";
    /// `bdb_layer.c:2092`.
    BDB_STOPPED = Info, "bdb_pre_close", "", "All database threads now stopped";
    /// `back-ldbm/close.c:51`.
    BACKENDS_DESTROYED = Info, "ldbm_back_instance_set_destructor", "", "Set of instances destroyed";
    /// `connection.c:2065`.
    SHUTDOWN_FREED = Info, "connection_post_shutdown_cleanup", "", "slapd shutting down - freed %s work q stack objects - freed %s op stack objects", bare = true;
    /// `main.c:1134`.
    SLAPD_STOPPED = Info, "main", "", "slapd stopped.", bare = true;

    // ---- keep-alive entry (repl5_replica.c)
    /// `replica_subentry_check`, on a supplier's first start.
    KEEPALIVE_NEEDED = Notice, REPL, "replica_subentry_check", "Need to create replication keep alive entry <cn=repl keep alive %s,%s>";
    /// `replica_subentry_create:453`: a multi-line message (the entry).
    KEEPALIVE_ADD = Info, REPL, "replica_subentry_create", "add dn: cn=repl keep alive %s,%s\nobjectclass: top\nobjectclass: ldapsubentry\nobjectclass: extensibleObject\nkeepalivetimestamp: 0\ncn: repl keep alive %s";

    // ---- acquiring the replica (repl5_protocol_util.c acquire_replica)
    ACQ_SEND_FAILED = Warn, REPL, "acquire_replica", "%s: Unable to send a startReplication extended operation to consumer (%s). Will retry later.";
    ACQ_NO_RESPONSE = Warn, REPL, "acquire_replica", "%s: Unable to receive the response for a startReplication extended operation to consumer (%s). Will retry later.";
    ACQ_INTERNAL_ERROR = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: an internal error occurred on the remote replica. Replication is aborting.";
    ACQ_PERMISSION_DENIED = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: permission denied. The bind dn \"%s\" does not have permission to supply replication updates to the replica. Will retry later.";
    ACQ_NO_SUCH_REPLICA = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: there is no replicated area \"%s\" on the consumer server. Replication is aborting.";
    ACQ_CLOCK_SKEW = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: Excessive clock skew between the supplier and the consumer. Replication is aborting.";
    ACQ_DECODING_ERROR = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: the consumer was unable to decode the startReplicationRequest extended operation sent by the supplier. Replication is aborting.";
    /// A total update's busy consumer: NOTICE, and the source's missing space (`updatedby`).
    ACQ_BUSY_TOTAL = Notice, REPL, "acquire_replica", "%s: Unable to acquire replica: the replica is currently being updatedby another supplier.";
    /// The log keeps the source's `aquire` typo.
    ACQ_DUPLICATE_RID = Err, REPL, "acquire_replica", "%s: Unable to aquire replica: the replica has the same Replica ID as this one. Replication is aborting.";
    ACQ_BACKOFF = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: the replica instructed us to go into backoff mode. Will retry later.";
    /// 1.3.5.14 to 1.3.7.1 only.
    ACQ_LEGACY = Err, REPL, "acquire_replica", "%s: Unable to acquire replica: the replica is supplied by a legacy supplier. Replication is aborting.";
    ACQ_PARSE_FAILED = Err, REPL, "acquire_replica", "%s: Unable to parse the response to the startReplication extended operation. Replication is aborting.";
    ACQ_NO_CSN = Err, REPL, "acquire_replica", "%s: Unable to obtain current CSN. Replication is aborting.";
    /// `repl5_agmt.c:2688`: no function prefix; the tag is quoted, so the quotes nest.
    DISABLED_ABORTED = Err, REPL, "", "Incremental update aborted: Replication agreement for \"%s\" can not be updated while the replica is disabled";
    /// `repl5_agmt.c:2692`.
    DISABLED_ENABLE_IT = Err, REPL, "", "(If the suffix is disabled you must enable it then restart the server for replication to take place).";

    // ---- connection and bind (repl5_connection.c, slapd/ldaputil.c)
    /// `bind_and_check_pwp:1907`: after a failed bind; separator `: `.
    BIND_RESUMED = Info, REPL, "bind_and_check_pwp", "%s: Replication bind with %s auth resumed";
    /// `bind_and_check_pwp:1947`: only when the error differs from the last one; separator ` - `.
    BIND_FAILED = Err, REPL, "bind_and_check_pwp", "%s - Replication bind with %s auth failed: LDAP error %s (%s) (%s)",
        legacy "%s: Replication bind with %s auth failed: LDAP error %s (%s) (%s)";
    /// `ldaputil.c:1022`, on every attempt.
    LDAP_BIND_SEND_FAILED = Err, "slapi_ldap_bind", "", "Could not send bind request for id [%s] authentication mechanism [%s]: error %s (%s), system error %s (%s), network error %s (%s, host \"%s\")";
    /// `ldaputil.c:1076`.
    LDAP_BIND_TIMEOUT = Err, "slapi_ldap_bind", "", "Error: timeout after [%s.%s] seconds reading bind response for [%s] authentication mechanism [%s]";
    /// `ldaputil.c:1058`: the connection went while the bind response was awaited.
    LDAP_BIND_READ_FAILED = Err, "slapi_ldap_bind", "", "Error reading bind response for id [%s] authentication mechanism [%s]: error %s (%s)";
    /// `ldaputil.c:1116`.
    LDAP_BIND_REFUSED = Err, "slapi_ldap_bind", "", "Error: could not bind id [%s] authentication mechanism [%s]: error %s (%s)";
    /// `perform_operation:803`: an operation could not be written (a dead cached connection).
    PERFORM_OP_FAILED = Err, REPL, "perform_operation", "%s: Failed to send %s operation: LDAP error %s (%s)";
    /// `repl5_connection.c:1172`.
    CONN_SSL_NOT_INITIALIZED = Err, REPL, "conn_connect", "%s - SSL Not Initialized, Replication over SSL FAILED";

    // ---- sending updates (repl5_inc_protocol.c)
    INC_NO_RUV = Warn, REPL, "repl5_inc_run", "%s: Replica has no update vector. It has never been initialized.";
    /// Two spaces before `You may`.
    INC_GENERATION_MISMATCH = Warn, REPL, "repl5_inc_run", "%s: The remote replica has a different database generation ID than the local database.  You may have to reinitialize the remote replica, or the local replica.";
    INC_RUV_TOO_OLD = Warn, REPL, "repl5_inc_run", "%s: Replica update vector is too out of date to bring into sync using the incremental protocol. The replica must be reinitialized.";
    INC_TIME_SKEW = Err, REPL, "repl5_inc_run", "%s: Fatal error - too much time skew between replicas!";
    INC_CSNGEN_FAILED = Err, REPL, "repl5_inc_run", "%s: Fatal internal error updating the CSN generator!";
    INC_FATAL = Err, REPL, "repl5_inc_run", "%s: Incremental update failed and requires administrator action";
    /// `slapd/csngen.c:307`: the subsystem is the function.
    CSNGEN_LIMIT = Err, "csngen_adjust_time", "", "Adjustment limit exceeded; value - %s, limit - %s";
    SEND_CL_BAD_DATA = Err, REPL, "send_updates", "%s: Invalid parameter passed to cl5CreateReplayIterator";
    SEND_CL_BAD_FORMAT = Err, REPL, "send_updates", "%s: Unexpected format encountered in changelog database";
    SEND_CL_BAD_STATE = Err, REPL, "send_updates", "%s: Changelog database was in an incorrect state";
    SEND_CL_BAD_DBVERSION = Err, REPL, "send_updates", "%s: Incorrect dbversion found in changelog database";
    SEND_CL_DB_ERROR = Err, REPL, "send_updates", "%s: A changelog database error was encountered";
    SEND_CL_MEMORY = Err, REPL, "send_updates", "%s: Memory allocation error occurred";
    SEND_PURGED = Err, REPL, "send_updates", "%s: Data required to update replica has been purged from the changelog. If the error persists the replica must be reinitialized.";
    SEND_MISSING = Err, REPL, "send_updates", "%s: Missing data encountered. If the error persists the replica must be reinitialized.";
    RESULT_THREAD_NSPR = Err, REPL, "repl5_inc_create_async_result_thread", "Failed. Netscape Portable Runtime error %s (%s)";
    SEND_RESULT_THREAD = Err, REPL, "send_updates", "%s: repl5_inc_create_async_result_thread failed; error - %s";
    SEND_NEXT_BAD_DATA = Err, REPL, "send_updates", "%s: Invalid parameter passed to cl5GetNextOperationToReplay";
    SEND_NEXT_DB_ERROR = Err, REPL, "send_updates", "%s: A database error occurred (cl5GetNextOperationToReplay)";
    SEND_NEXT_MEMORY = Err, REPL, "send_updates", "%s: A memory allocation error occurred (cl5GetNextOperationToReplay)";
    /// Before 2.2.3; the source gives it no newline, so the next line is
    /// glued on (the mock writes the fatal line that follows into the same line).
    SEND_MISSING_SUFFIX = Err, REPL, "send_updates", "Unknown replication area due to agreement not found.";
    SEND_FAILED = Warn, REPL, "send_updates", "%s: Failed to send update operation to receiver (uniqueid %s, CSN %s): %s. Will retry later.";
    SEND_TIMED_OUT = Warn, REPL, "send_updates", "%s: Timed out sending update operation to receiver (uniqueid %s, CSN %s): %s.";
    /// The result thread, for an LDAP error: `TEXT (CODE)`.
    REPLAY_FAILED = Warn, REPL, "repl5_inc_update_from_op_result", "%s: Receiver failed to replay change (uniqueid %s, CSN %s): %s (%s). Will retry later.";
    /// The result thread, for a lost connection: no space before `(`.
    REPLAY_CONNECTION_LOST = Warn, REPL, "repl5_inc_update_from_op_result", "%s: Receiver failed to replay change (uniqueid %s, CSN %s): %s(%s). Will retry later.";
    REPLAY_TIMED_OUT = Warn, REPL, "repl5_inc_update_from_op_result", "%s: Receiver timed out to replay change (uniqueid %s, CSN %s): %s.";
    RELEASE_SEND_FAILED = Err, REPL, "release_replica", "%s: Unable to send endReplication extended operation (%s)";
    RELEASE_NO_RESPONSE = Err, REPL, "release_replica", "%s: Attempting to release replica, but unable to receive endReplication extended operation response from the replica. Error %s (%s)";
    RELEASE_REFUSED = Err, REPL, "release_replica", "%s: Unable to release consumer: response code %s";
    /// `repl5_inc_protocol.c:507`: two spaces before the dash (the function name in the source ends with one).
    WAITFOR_TIMED_OUT = Err, REPL, "repl5_inc_waitfor_async_results ", "Timed out waiting for responses: %s %s";

    // ---- total update (repl5_tot_protocol.c)
    TOTAL_BEGIN = Info, REPL, "repl5_tot_run", "Beginning total update of replica \"%s\".";
    TOTAL_FINISHED = Info, REPL, "repl5_tot_run", "Finished total update of replica \"%s\". Sent %s entries.";
    TOTAL_FAILED = Err, REPL, "repl5_tot_run", "Total update failed for replica \"%s\", error (%s)";

    // ---- the consumer side (repl_extop.c, repl5_plugins.c)
    /// `repl_extop.c:1064`: ERR for every refusal but busy and backoff (those are DEBUG, not written).
    EXTOP_REFUSED = Err, REPL, "multisupplier_extop_StartNSDS50ReplicationRequest", "conn=%s op=%s replica=\"%s\": Unable to acquire replica: error: %s%s";
    EXTOP_CLOCK_SKEW = Err, REPL, "multisupplier_extop_StartNSDS50ReplicationRequest", "conn=%s op=%s repl=\"%s\": Excessive clock skew from supplier RUV";
    BE_OFFLINE = Notice, REPL, "multisupplier_be_state_change", "Replica %s is going offline; disabling replication", legacy "multimaster_be_state_change: replica %s is going offline; disabling replication";
    BE_ONLINE = Notice, REPL, "multisupplier_be_state_change", "Replica %s is coming online; enabling replication", legacy "multimaster_be_state_change: replica %s is coming online; enabling replication";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_render_in_both_shapes() {
        let tag = "agmt=\"cn=a-to-b\" (127:3892)";
        assert_eq!(
            ACQ_NO_RESPONSE.render(true, &[&tag, &"Can't contact LDAP server"]),
            "- WARN - NSMMReplicationPlugin - acquire_replica - agmt=\"cn=a-to-b\" (127:3892): Unable to receive the response for a startReplication extended operation to consumer (Can't contact LDAP server). Will retry later."
        );
        assert_eq!(
            LDAP_BIND_REFUSED.render(true, &[&"cn=replication manager,cn=config", &"SIMPLE", &49, &"Invalid credentials"]),
            "- ERR - slapi_ldap_bind - Error: could not bind id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error 49 (Invalid credentials)"
        );
        assert_eq!(
            ACQ_PERMISSION_DENIED.render(false, &[&tag, &"cn=rm"]),
            "NSMMReplicationPlugin - agmt=\"cn=a-to-b\" (127:3892): Unable to acquire replica: permission denied. The bind dn \"cn=rm\" does not have permission to supply replication updates to the replica. Will retry later."
        );
        assert_eq!(
            STARTING_UP.render(false, &[&"389-Directory/1.3.5.19", &"B2017.1"]),
            "389-Directory/1.3.5.19 B2017.1 starting up"
        );
        assert_eq!(
            BIND_FAILED
                .render(false, &[&tag, &"SIMPLE", &49, &"Invalid credentials", &""])
                .split_once(": Repl")
                .map(|x| x.0),
            Some("NSMMReplicationPlugin - agmt=\"cn=a-to-b\" (127:3892)")
        );
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<&str> = ALL.iter().map(|m| m.key).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }
}
