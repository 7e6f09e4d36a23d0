//! The verdict catalog of `spec/verdicts.md`: every id, its severity and what
//! it means. Ids are a public contract: never rename one, add new ones.

use serde::Serialize;

use crate::model::Severity;

/// One catalog entry.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct VerdictDef {
    pub id: &'static str,
    pub family: &'static str,
    pub severity: Severity,
    pub when: &'static str,
}

macro_rules! defs {
    ($($id:literal $fam:literal $sev:ident $when:literal;)*) => {
        /// Every verdict, in the catalog's order.
        pub static CATALOG: &[VerdictDef] = &[$(VerdictDef { id: $id, family: $fam, severity: Severity::$sev, when: $when }),*];
    };
}

defs! {
    "ds.healthy" "ds" Ok "every expected RS-RS and DS-RS connection was accepted and none failed since";
    "ds.rs-peer-unreachable" "ds" Error "an expected RS-RS link is not up at the end of the case while the local RS runs";
    "ds.ds-to-rs-unreachable" "ds" Error "a DS never gets its connection to its local RS accepted";
    "ds.rs-not-listening" "ds" Error "the RS failed to start listening (port in use, bind refused)";
    "ds.admin-port-unreachable" "ds" Warning "replication connects, but probes show the admin port of the target blocked";
    "ds.connection-flapping" "ds" Warning "the same RS-RS link is lost and connected again 3 or more times within 24 hours";
    "ds.generation-id-mismatch" "ds" Error "an RS reports that a peer or DS has a different generation id for a domain";
    "389.healthy" "389" Ok "Replica acquired successfully: Incremental update succeeded (or started, or succeeded and yielded)";
    "389.protocol-stopped" "389" Info "Replica acquired successfully: Protocol stopped";
    "389.agreement-disabled" "389" Info "agreement disabled, or No replication sessions started since server startup with nsds5ReplicaEnabled off";
    "389.no-session-yet" "389" Info "No replication sessions started since server startup on an enabled agreement: nothing sent since a restart";
    "389.replica-disabled" "389" Error "Error (12): the agreement can not be updated while the consumer's replica is disabled";
    "389.connection-error" "389" Error "Problem connecting to replica; no response to startReplication; incremental update connection error";
    "389.bind-failed" "389" Error "Problem connecting to replica with LDAP error 49 (Invalid credentials)";
    "389.ssl-not-enabled" "389" Error "Problem connecting to replica (SSL not enabled)";
    "389.timeout" "389" Warning "Incremental update timeout error. Backing off";
    "389.transient-error" "389" Warning "Incremental update transient error. Backing off";
    "389.remote-internal-error" "389" Error "Failed to acquire replica: Internal error occurred on the remote replica";
    "389.permission-denied" "389" Error "Unable to acquire replica: permission denied";
    "389.no-replicated-area" "389" Error "there is no replicated area on the consumer server";
    "389.decode-error" "389" Error "the consumer could not decode startReplicationRequest, or the response could not be parsed";
    "389.replica-busy" "389" Warning "the replica is currently being updated by another supplier";
    "389.legacy-supplier" "389" Error "the replica is supplied by a legacy supplier";
    "389.duplicate-replica-id" "389" Error "the replica has the same Replica ID as this one";
    "389.backoff" "389" Warning "the replica instructed us to go into backoff mode";
    "389.acquire-failed" "389" Error "bare Unable to acquire replica";
    "389.csn-unavailable" "389" Error "Unable to obtain current CSN";
    "389.consumer-not-initialized" "389" Error "Error (19) : Replica is not initialized";
    "389.generation-id-mismatch" "389" Error "Replica has different database generation ID";
    "389.needs-reinit" "389" Error "Error (19) : Replica needs to be reinitialized";
    "389.time-skew" "389" Error "fatal error - too much time skew between replicas";
    "389.csn-generator-error" "389" Error "fatal internal error updating the CSN generator";
    "389.changelog-error" "389" Error "changelog invalid parameter, unexpected format, incorrect state, incorrect dbversion, database error, memory allocation";
    "389.changelog-purged" "389" Error "Data required to update replica has been purged from the changelog";
    "389.changelog-missing" "389" Error "Changelog data is missing";
    "389.send-failed" "389" Error "Failed to create result thread, or the cl5GetNextOperationToReplay errors";
    "389.agreement-corrupted" "389" Error "Agreement is corrupted: missing suffix";
    "389.stalled" "389" Error "the status says success but the agreement's last sent change lags the supplier's newest by more than the threshold";
    "exchange.healthy" "exchange" Ok "every request (1068/1100) is answered (1099 back, 1058) within its schedule interval";
    "exchange.bridgehead-overloaded" "exchange" Error "the backlog of unanswered requests grows across activations, or the schedule demands more than the bridgehead handles";
    "exchange.no-reply" "exchange" Error "a request was submitted (1100) and no reply came back for longer than the schedule interval";
    "exchange.paging-stalled" "exchange" Warning "a reply announced more objects than the 512 it carried and no follow-up request came";
    "exchange.schedule-quadrupled" "exchange" Warning "a connector schedule activates 4 times in an hour where one activation an hour was meant";
}

/// The catalog entry of an id.
pub fn def(id: &str) -> Option<&'static VerdictDef> {
    CATALOG.iter().find(|d| d.id == id)
}

/// Its severity (every id the engine emits is in the catalog).
pub fn severity(id: &str) -> Severity {
    def(id).map_or(Severity::Error, |d| d.severity)
}

/// The causes `ds.rs-peer-unreachable` can carry, in precedence order.
pub const DS_CAUSES: &[&str] = &[
    "dns-unresolvable",
    "dns-wrong-address",
    "tls-handshake",
    "remote-down",
    "firewall-reject",
    "firewall-drop",
    "unknown",
];

/// The causes `389.connection-error` can carry.
pub const CONNECTION_CAUSES: &[&str] = &["refused", "timeout"];
