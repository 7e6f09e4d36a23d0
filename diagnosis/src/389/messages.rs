//! The 389 errors-log messages a rule can use, by their text (the
//! `slapi_log_err` templates of 389-ds-base 2.3.1, `%s` for each argument),
//! and the agreement each names (`agmt="cn=NAME" (HOST:PORT)`, the host cut
//! at its first dot, the port of when the server started).
//!
//! Every other well-formed line is read and classified [`Kind::Other`].

use super::errlog::LogLine;
use crate::textmatch::captures;

/// What a message says, for the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    // ---- binding to the consumer (repl5_connection.c, slapd/ldaputil.c)
    /// `bind_and_check_pwp … auth failed: LDAP error N`.
    BindFailed {
        rc: i64,
    },
    /// `bind_and_check_pwp … auth resumed`.
    BindResumed,
    /// `slapi_ldap_bind - Could not send bind request … network error N (…, host "H:P")`.
    ConnectFailed {
        errno: i64,
        host: String,
    },
    /// `slapi_ldap_bind - Error: timeout after [N] seconds reading bind response …`.
    BindTimeout,
    /// `slapi_ldap_bind - Error: could not bind id … error N (…)`.
    BindRefused {
        rc: i64,
    },
    /// `slapi_ldap_bind - Error reading bind response …`.
    BindReadFailed,
    /// `conn_connect … SSL Not Initialized, Replication over SSL FAILED`.
    SslNotInitialized,
    /// `perform_operation … Failed to send … operation`.
    SendOperationFailed,
    // ---- acquiring the replica (acquire_replica)
    /// `Unable to receive the response for a startReplication … (TEXT)` or `Unable to send …`.
    NoStartResponse {
        text: String,
    },
    PermissionDenied,
    NoReplicatedArea,
    RemoteInternalError,
    DecodeError,
    DuplicateReplicaId,
    Backoff,
    LegacySupplier,
    NoCurrentCsn,
    /// The consumer said the clock skew is excessive.
    ConsumerClockSkew,
    /// `Incremental update aborted … can not be updated while the replica is disabled`.
    ReplicaDisabled,
    // ---- sending updates (repl5_inc_protocol.c)
    NotInitialized,
    GenerationMismatch,
    NeedsReinit,
    TimeSkew,
    CsnGeneratorError,
    ChangelogError,
    ChangelogPurged,
    ChangelogMissing,
    SendFailed,
    MissingSuffix,
    /// An update could not be sent, or its connection went.
    ConnectionLost,
    /// An update or its result timed out.
    Timeout,
    /// The consumer failed to replay a change (TEXT, CODE): retried later.
    ReplayFailed {
        text: String,
    },
    /// `repl5_inc_run … Incremental update failed and requires administrator action`.
    Fatal,
    TotalUpdateFinished,
    TotalUpdateFailed,
    // ---- the consumer side (repl_extop.c)
    /// `multisupplier_extop_StartNSDS50ReplicationRequest … Unable to acquire replica: error: NAME`.
    ConsumerRefused {
        error: String,
    },
    /// Any other well-formed line.
    Other,
}

impl Kind {
    /// A failure the "… auth resumed" line ends (it comes with the next good bind).
    pub fn ended_by_resumed(&self) -> bool {
        matches!(
            self,
            Kind::BindFailed { .. }
                | Kind::ConnectFailed { .. }
                | Kind::BindTimeout
                | Kind::BindRefused { .. }
                | Kind::BindReadFailed
                | Kind::NoStartResponse { .. }
                | Kind::SendOperationFailed
        )
    }
}

/// A classified message: its kind and the agreement it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    /// The agreement's name (`cn=NAME` of the tag), when the line names one.
    pub agreement: Option<String>,
    /// `HOST:PORT` of the tag (host cut at its first dot).
    pub tag_host: Option<String>,
}

/// `agmt="cn=NAME" (HOST:PORT)` at the start of `text`: (name, host:port, the rest after `: ` or ` - `).
pub fn agreement_tag(text: &str) -> Option<(String, String, &str)> {
    let rest = text.strip_prefix("agmt=\"")?;
    let (rdn, rest) = rest.split_once("\" (")?;
    let (hostport, rest) = rest.split_once(')')?;
    let name = rdn.strip_prefix("cn=").unwrap_or(rdn).to_owned();
    let rest = rest.strip_prefix(": ").or_else(|| rest.strip_prefix(" - ")).unwrap_or(rest);
    Some((name, hostport.to_owned(), rest))
}

/// Makes a kind from a template's captures.
type Make = fn(&[&str]) -> Kind;

/// (function or subsystem, template, kind).
type Row = (&'static str, &'static str, Make);

/// (function, text after the tag, kind) templates of messages that name an agreement.
const TAGGED: &[Row] = &[
    ("bind_and_check_pwp", "Replication bind with %s auth failed: LDAP error %s (%s) (%s)", |c| Kind::BindFailed {
        rc: c[1].trim().parse().unwrap_or(0),
    }),
    ("bind_and_check_pwp", "Replication bind with %s auth resumed", |_| Kind::BindResumed),
    ("conn_connect", "SSL Not Initialized, Replication over SSL FAILED", |_| Kind::SslNotInitialized),
    ("perform_operation", "Failed to send %s operation: LDAP error %s (%s)", |_| Kind::SendOperationFailed),
    (
        "acquire_replica",
        "Unable to receive the response for a startReplication extended operation to consumer (%s). Will retry later.",
        |c| Kind::NoStartResponse { text: c[0].to_owned() },
    ),
    (
        "acquire_replica",
        "Unable to send a startReplication extended operation to consumer (%s). Will retry later.",
        |c| Kind::NoStartResponse { text: c[0].to_owned() },
    ),
    ("acquire_replica", "Unable to acquire replica: permission denied.%s", |_| Kind::PermissionDenied),
    ("acquire_replica", "Unable to acquire replica: there is no replicated area%s", |_| Kind::NoReplicatedArea),
    ("acquire_replica", "Unable to acquire replica: an internal error occurred on the remote replica.%s", |_| {
        Kind::RemoteInternalError
    }),
    (
        "acquire_replica",
        "Unable to acquire replica: the consumer was unable to decode the startReplicationRequest%s",
        |_| Kind::DecodeError,
    ),
    ("acquire_replica", "Unable to parse the response to the startReplication extended operation.%s", |_| {
        Kind::DecodeError
    }),
    ("acquire_replica", "Unable to aquire replica: the replica has the same Replica ID as this one.%s", |_| {
        Kind::DuplicateReplicaId
    }),
    ("acquire_replica", "Unable to acquire replica: the replica has the same Replica ID as this one.%s", |_| {
        Kind::DuplicateReplicaId
    }),
    ("acquire_replica", "Unable to acquire replica: the replica instructed us to go into backoff mode.%s", |_| {
        Kind::Backoff
    }),
    ("acquire_replica", "Unable to acquire replica: the replica is supplied by a legacy supplier.%s", |_| {
        Kind::LegacySupplier
    }),
    ("acquire_replica", "Unable to obtain current CSN.%s", |_| Kind::NoCurrentCsn),
    (
        "acquire_replica",
        "Unable to acquire replica: Excessive clock skew between the supplier and the consumer.%s",
        |_| Kind::ConsumerClockSkew,
    ),
    ("repl5_inc_run", "Replica has no update vector. It has never been initialized.", |_| Kind::NotInitialized),
    ("repl5_inc_run", "The remote replica has a different database generation ID than the local database.%s", |_| {
        Kind::GenerationMismatch
    }),
    ("repl5_inc_run", "Replica update vector is too out of date to bring into sync%s", |_| Kind::NeedsReinit),
    ("repl5_inc_run", "Fatal error - too much time skew between replicas!", |_| Kind::TimeSkew),
    ("repl5_inc_run", "Fatal internal error updating the CSN generator!", |_| Kind::CsnGeneratorError),
    ("repl5_inc_run", "Incremental update failed and requires administrator action", |_| Kind::Fatal),
    ("send_updates", "Invalid parameter passed to cl5CreateReplayIterator", |_| Kind::ChangelogError),
    ("send_updates", "Unexpected format encountered in changelog database", |_| Kind::ChangelogError),
    ("send_updates", "Changelog database was in an incorrect state", |_| Kind::ChangelogError),
    ("send_updates", "Incorrect dbversion found in changelog database", |_| Kind::ChangelogError),
    ("send_updates", "A changelog database error was encountered", |_| Kind::ChangelogError),
    ("send_updates", "Memory allocation error occurred", |_| Kind::ChangelogError),
    ("send_updates", "Data required to update replica has been purged from the changelog.%s", |_| {
        Kind::ChangelogPurged
    }),
    ("send_updates", "Missing data encountered.%s", |_| Kind::ChangelogMissing),
    ("send_updates", "repl5_inc_create_async_result_thread failed; error - %s", |_| Kind::SendFailed),
    ("send_updates", "Invalid parameter passed to cl5GetNextOperationToReplay", |_| Kind::SendFailed),
    ("send_updates", "A database error occurred (cl5GetNextOperationToReplay)", |_| Kind::SendFailed),
    ("send_updates", "A memory allocation error occurred (cl5GetNextOperationToReplay)", |_| Kind::SendFailed),
    (
        "send_updates",
        "Failed to send update operation to receiver (uniqueid %s, CSN %s): %s. Will retry later.",
        |_| Kind::ConnectionLost,
    ),
    ("send_updates", "Timed out sending update operation to receiver (uniqueid %s, CSN %s): %s.", |_| Kind::Timeout),
    (
        "repl5_inc_update_from_op_result",
        "Receiver failed to replay change (uniqueid %s, CSN %s): %s (%s). Will retry later.",
        |c| Kind::ReplayFailed { text: c[2].to_owned() },
    ),
    (
        "repl5_inc_update_from_op_result",
        "Receiver failed to replay change (uniqueid %s, CSN %s): %s(%s). Will retry later.",
        |_| Kind::ConnectionLost,
    ),
    ("repl5_inc_update_from_op_result", "Receiver timed out to replay change (uniqueid %s, CSN %s): %s.", |_| {
        Kind::Timeout
    }),
];

/// Messages without a tag (`%s` placeholders).
const UNTAGGED: &[Row] = &[
    (
        "slapi_ldap_bind",
        "Could not send bind request for id [%s] authentication mechanism [%s]: error %s (%s), system error %s (%s), network error %s (%s, host \"%s\")",
        |c| Kind::ConnectFailed { errno: c[6].trim().parse().unwrap_or(0), host: c[8].to_owned() },
    ),
    ("slapi_ldap_bind", "Error: timeout after [%s] seconds reading bind response for [%s] authentication mechanism [%s]", |_| {
        Kind::BindTimeout
    }),
    ("slapi_ldap_bind", "Error: could not bind id [%s] authentication mechanism [%s]: error %s (%s)%s", |c| {
        Kind::BindRefused { rc: c[2].trim().parse().unwrap_or(0) }
    }),
    ("slapi_ldap_bind", "Error reading bind response for id [%s] authentication mechanism [%s]: error %s (%s)%s", |_| {
        Kind::BindReadFailed
    }),
    ("csngen_adjust_time", "Adjustment limit exceeded; value - %s, limit - %s", |_| Kind::TimeSkew),
];

/// Classifies one message of the log.
pub fn classify(l: &LogLine) -> Message {
    let plain = |kind| Message { kind, agreement: None, tag_host: None };
    let repl = l.subsystem == "NSMMReplicationPlugin" || l.subsystem.is_empty();
    if repl {
        // Before 1.3.6.1 there is no function prefix: the text starts with the tag.
        let text = l.text.as_str();
        if let Some((name, hostport, rest)) = agreement_tag(text) {
            for (func, tpl, make) in TAGGED {
                if l.function.as_deref().is_some_and(|f| f != *func) {
                    continue;
                }
                if let Some(c) = captures(tpl, rest) {
                    return Message { kind: make(&c), agreement: Some(name), tag_host: Some(hostport) };
                }
            }
            return Message { kind: Kind::Other, agreement: Some(name), tag_host: Some(hostport) };
        }
        if let Some(rest) = text.strip_prefix("Incremental update aborted: Replication agreement for \"") {
            if let Some((tag, _)) = rest.split_once("\" can not be updated while the replica is disabled") {
                let (name, host) = agreement_tag(tag).map_or((None, None), |(n, h, _)| (Some(n), Some(h)));
                return Message { kind: Kind::ReplicaDisabled, agreement: name, tag_host: host };
            }
        }
        if text.starts_with("Unknown replication area due to agreement not found.") {
            return plain(Kind::MissingSuffix);
        }
        if text.starts_with("Timed out waiting for responses:") {
            return plain(Kind::Other);
        }
        if let Some(rest) = text.strip_prefix("Total update failed for replica \"") {
            let (name, host) = agreement_tag(rest).map_or((None, None), |(n, h, _)| (Some(n), Some(h)));
            return Message { kind: Kind::TotalUpdateFailed, agreement: name, tag_host: host };
        }
        if let Some(rest) = text.strip_prefix("Finished total update of replica \"") {
            let (name, host) = agreement_tag(rest).map_or((None, None), |(n, h, _)| (Some(n), Some(h)));
            return Message { kind: Kind::TotalUpdateFinished, agreement: name, tag_host: host };
        }
        // `multimaster_…` before 2.0.5; no function before 1.3.6.1 (the text starts `conn=`).
        let extop = match l.function.as_deref() {
            Some(f) => {
                f == "multisupplier_extop_StartNSDS50ReplicationRequest"
                    || f == "multimaster_extop_StartNSDS50ReplicationRequest"
            }
            None => text.starts_with("conn="),
        };
        if extop {
            if let Some((_, err)) = text.split_once("Unable to acquire replica: error: ") {
                let error = err.split(" locked by ").next().unwrap_or(err).to_owned();
                return plain(Kind::ConsumerRefused { error });
            }
        }
    }
    for (sub, tpl, make) in UNTAGGED {
        if l.subsystem == *sub || (l.subsystem.is_empty() && l.function.as_deref() == Some(sub)) {
            if let Some(c) = captures(tpl, &l.text) {
                return plain(make(&c));
            }
        }
    }
    plain(Kind::Other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::r389::errlog;

    fn line(text: &str) -> Message {
        let raw = format!("[22/Nov/2026:03:02:51.563286875 +0000] {text}");
        classify(&errlog::parse_line(1, &raw).expect("a log line")[0])
    }

    #[test]
    fn the_measured_lines_read_as_their_kinds() {
        let m = line("- WARN - NSMMReplicationPlugin - acquire_replica - agmt=\"cn=a-to-b\" (127:3892): Unable to receive the response for a startReplication extended operation to consumer (Can't contact LDAP server). Will retry later.");
        assert_eq!(m.kind, Kind::NoStartResponse { text: "Can't contact LDAP server".into() });
        assert_eq!((m.agreement.as_deref(), m.tag_host.as_deref()), (Some("a-to-b"), Some("127:3892")));
        let m = line("- ERR - slapi_ldap_bind - Could not send bind request for id [cn=replication manager,cn=config] authentication mechanism [SIMPLE]: error -1 (Can't contact LDAP server), system error -5950 (File not found.), network error 110 (Connection timed out, host \"127.0.0.1:4892\")");
        assert_eq!(m.kind, Kind::ConnectFailed { errno: 110, host: "127.0.0.1:4892".into() });
        let m = line("- ERR - NSMMReplicationPlugin - bind_and_check_pwp - agmt=\"cn=a-to-b\" (127:3892) - Replication bind with SIMPLE auth failed: LDAP error 49 (Invalid credentials) ()");
        assert_eq!(m.kind, Kind::BindFailed { rc: 49 });
        let m = line("NSMMReplicationPlugin - agmt=\"cn=a-to-b\" (b:389): Unable to acquire replica: permission denied. The bind dn \"cn=rm\" does not have permission to supply replication updates to the replica. Will retry later.");
        assert_eq!(m.kind, Kind::PermissionDenied, "1.3.5 shape");
        let m = line("- ERR - NSMMReplicationPlugin - multisupplier_extop_StartNSDS50ReplicationRequest - conn=8 op=5 replica=\"dc=example,dc=com\": Unable to acquire replica: error: permission denied");
        assert_eq!(m.kind, Kind::ConsumerRefused { error: "permission denied".into() });
        let m = line("- ERR - NSMMReplicationPlugin - multimaster_extop_StartNSDS50ReplicationRequest - conn=8 op=5 replica=\"dc=example,dc=com\": Unable to acquire replica: error: permission denied");
        assert_eq!(m.kind, Kind::ConsumerRefused { error: "permission denied".into() }, "before 2.0.5");
        let m = line("NSMMReplicationPlugin - conn=8 op=5 replica=\"dc=example,dc=com\": Unable to acquire replica: error: replica busy locked by conn=3 op=4");
        assert_eq!(m.kind, Kind::ConsumerRefused { error: "replica busy".into() }, "before 1.3.6.1");
        assert_eq!(line("- INFO - main - slapd stopped.").kind, Kind::Other);
    }
}
