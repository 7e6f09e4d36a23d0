//! `nsds5replicaLastUpdateStatus` (or its JSON twin) → verdict id, for every string the 389-DS
//! design page documents, bare or in the shapes real servers wrap them in:
//! `Error (N) ` in front, ` - LDAP error: TEXT (connection error)` or a
//! replication error name in parentheses behind, `Replication error acquiring
//! replica: ` around acquisition failures. Most specific wins.

/// What a status value says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: &'static str,
    /// For `389.connection-error`: `refused` or `timeout` when the LDAP error tells.
    pub cause: Option<&'static str>,
    /// The LDAP result code in `Error (N)`, when numeric.
    pub rc: Option<i64>,
    /// The text after `LDAP error:`, when present.
    pub ldap_error: Option<String>,
}

/// Phrases and their verdicts, most specific first.
const PHRASES: &[(&str, &str)] = &[
    ("Replica acquired successfully: Protocol stopped", "389.protocol-stopped"),
    ("Replica acquired successfully: agreement disabled", "389.agreement-disabled"),
    // With `nsds5ReplicaEnabled: off` the agreement rule reads it as 389.agreement-disabled.
    ("No replication sessions started since server startup", "389.no-session-yet"),
    ("Replica acquired successfully: Incremental update succeeded", "389.healthy"),
    ("Replica acquired successfully: Incremental update started", "389.healthy"),
    ("Replication session successful", "389.healthy"),
    ("can not be updated while the replica is disabled", "389.replica-disabled"),
    ("Incremental update has failed and requires administrator action", "389.acquire-failed"),
    ("Internal error occurred on the remote replica", "389.remote-internal-error"),
    ("permission denied", "389.permission-denied"),
    ("there is no replicated area on the consumer server", "389.no-replicated-area"),
    ("unable to decode the startReplicationRequest", "389.decode-error"),
    ("Unable to parse the response to the startReplication", "389.decode-error"),
    ("currently being updated by another supplier", "389.replica-busy"),
    ("Can't acquire busy replica", "389.replica-busy"),
    ("supplied by a legacy supplier", "389.legacy-supplier"),
    // The code's name (NSDS50_REPL_LEGACY_CONSUMER) where no case of acquire_replica names it.
    ("(replica is a legacy consumer)", "389.legacy-supplier"),
    ("has the same Replica ID as this one", "389.duplicate-replica-id"),
    ("instructed us to go into backoff mode", "389.backoff"),
    ("Unable to receive the response for a startReplication extended operation", "389.connection-error"),
    ("Unable to obtain current CSN", "389.csn-unavailable"),
    ("Replica is not initialized", "389.consumer-not-initialized"),
    ("different database generation ID", "389.generation-id-mismatch"),
    ("Replica needs to be reinitialized", "389.needs-reinit"),
    ("too much time skew between replicas", "389.time-skew"),
    ("fatal internal error updating the CSN generator", "389.csn-generator-error"),
    ("Data required to update replica has been purged from the changelog", "389.changelog-purged"),
    ("Changelog data is missing", "389.changelog-missing"),
    ("Invalid parameter passed to cl5CreateReplayIterator", "389.changelog-error"),
    ("Unexpected format encountered in changelog database", "389.changelog-error"),
    ("Changelog database was in an incorrect state", "389.changelog-error"),
    ("Incorrect dbversion found in changelog database", "389.changelog-error"),
    ("Changelog database error was encountered", "389.changelog-error"),
    ("changelog memory allocation error occurred", "389.changelog-error"),
    ("Failed to create result thread", "389.send-failed"),
    ("Invalid parameter passed to cl5GetNextOperationToReplay", "389.send-failed"),
    ("Database error occurred while getting the next operation to replay", "389.send-failed"),
    ("Memory allocation error occurred (cl5GetNextOperationToReplay)", "389.send-failed"),
    ("Agreement is corrupted: missing suffix", "389.agreement-corrupted"),
    ("Incremental update transient error", "389.transient-error"),
    ("Incremental update transient warning", "389.transient-error"),
    ("Incremental update connection error", "389.connection-error"),
    ("Incremental update timeout error", "389.timeout"),
    // Up to 1.3.5.13 an acquisition failure names the replication error (`3 Replication
    // error acquiring replica: permission denied - Unable to acquire replica`).
    ("acquiring replica: no such replica", "389.no-replicated-area"),
    ("acquiring replica: excessive clock skew", "389.time-skew"),
    ("acquiring replica: decoding error", "389.decode-error"),
    ("acquiring replica: duplicate replica ID detected", "389.duplicate-replica-id"),
    ("acquiring replica: replica is a legacy consumer", "389.legacy-supplier"),
    ("acquiring replica: internal error", "389.remote-internal-error"),
    ("Unable to acquire replica", "389.acquire-failed"),
    ("Unable to aquire replica", "389.acquire-failed"),
];

/// Maps a status value; `None` for a string no documentation knows.
pub fn classify(value: &str) -> Option<Status> {
    let v = value.trim();
    let rc = v.strip_prefix("Error (").and_then(|r| r.split_once(')')).and_then(|(n, _)| n.trim().parse::<i64>().ok());
    let ldap_error = v.find("LDAP error:").map(|i| {
        let t = v[i + "LDAP error:".len()..].trim();
        t.strip_suffix("(connection error)").unwrap_or(t).trim().to_owned()
    });
    let st = |id| Some(Status { id, cause: None, rc, ldap_error: ldap_error.clone() });
    // Up to 1.3.5.13 a failed connect or bind reads `-1 Unable to acquire replicaLDAP error: …`.
    let old_generic = v.contains("Unable to acquire replicaLDAP error:");
    if v.contains("Problem connecting to replica") || old_generic {
        if v.contains("(SSL not enabled)") {
            return st("389.ssl-not-enabled");
        }
        let invalid = ldap_error.as_deref().is_some_and(|t| t.contains("Invalid credentials"))
            || v.contains("Invalid credentials");
        if rc == Some(49) || invalid {
            return st("389.bind-failed");
        }
        return Some(Status { cause: connection_cause(rc, ldap_error.as_deref()), ..st("389.connection-error")? });
    }
    for (phrase, id) in PHRASES {
        if v.contains(phrase) {
            let cause = if *id == "389.connection-error" { connection_cause(rc, ldap_error.as_deref()) } else { None };
            return Some(Status { cause, ..st(id)? });
        }
    }
    None
}

fn connection_cause(rc: Option<i64>, text: Option<&str>) -> Option<&'static str> {
    match (rc, text) {
        (_, Some(t)) if t.contains("Can't contact LDAP server") => Some("refused"),
        (_, Some(t)) if t.contains("Timed out") || t.contains("Timeout") => Some("timeout"),
        (Some(-1), _) => Some("refused"),
        (Some(-5), _) => Some("timeout"),
        _ => None,
    }
}

/// The JSON twin of the status (`nsds5replicaLastUpdateStatusJSON`); keys it
/// does not know are ignored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct StatusJson {
    pub message: String,
    #[serde(default)]
    pub state: Option<String>,
}

/// The JSON twin's `message` and `state` (or `None` when the value is not that JSON).
pub fn json_message(value: &str) -> Option<(String, Option<String>)> {
    let j: StatusJson = serde_json::from_str(value).ok()?;
    Some((j.message, j.state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_twin_reads_with_keys_it_does_not_know() {
        let v = r#"{"state": "red", "ldap_rc": "49", "ldap_rc_text": "Invalid credentials", "repl_rc": "16", "repl_rc_text": "connection error", "date": "2026-11-22T03:02:51Z", "message": "Error (49) Problem connecting to replica - LDAP error: Invalid credentials (connection error)"}"#;
        let (m, state) = json_message(v).expect("the twin");
        assert!(m.starts_with("Error (49) Problem connecting"));
        assert_eq!(state.as_deref(), Some("red"));
        assert_eq!(json_message("Error (0) not json"), None);
        assert_eq!(json_message(r#"{"state": "green"}"#), None, "no message, nothing to classify");
    }
}
