//! The 389 flavor's pieces of a scenario file, as strict serde types
//! (`deny_unknown_fields`): a server's replica (`[[topology.servers]]`
//! `replica = { … }`), the agreements (`[[topology.agreements]]`), and the
//! steps only 389 topologies take (`write`, `agreement`, `init`, `poke`,
//! `replica`). Durations stay text; [`crate::plan`] checks what they mean.
//! The format is documented in `docs/389.md`.

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// A 389 server's replica of the suffix, and the knobs of that server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaSpec {
    /// `supplier` (an updatable replica) or `consumer` (read-only, replica id 65535).
    pub role: String,
    /// A supplier's replica id (default: its place among the suppliers, from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
    /// Default the topology's first backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// `nsds5ReplicaBackoffMin` / `Max` (3s / 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_max: Option<String>,
    /// `nsds5ReplicaBusyWaitTime` (default: the backoff minimum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_wait: Option<String>,
    /// `nsds5ReplicaKeepAliveUpdateInterval` (1h, at least 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_interval: Option<String>,
    /// `nsds5ReplicaReleaseTimeout`: a supplier asked to end its session yields after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_timeout: Option<String>,
    /// `nsslapd-changelogmaxentries` (default: no trimming).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changelog_max_entries: Option<u64>,
    /// `nsds5ReplicaFlowControlWindow`: updates sent ahead of their results (1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_control_window: Option<u64>,
    /// False: the consumer was never initialized (no RUV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initialized: Option<bool>,
    /// `nsDS5ReplicaBindDN` (default: the replication manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dns: Option<Vec<String>>,
    /// The replication manager's password on this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// How far the server's clock is off: `+25h`, `-2h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset: Option<String>,
    /// TLS (NSS) set up on this server: what agreements over LDAPS/StartTLS need.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
    /// Consumer knob: the answer to start-replication requests (`busy`, `backoff`,
    /// `internal-error`, `decoding-error`, `disabled`, `legacy-supplier`,
    /// `unknown-protocol`, `below-purge-point`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Consumer knob: the start-replication response cannot be decoded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub garble_response: bool,
    /// Consumer knob: every replayed update fails with this LDAP result (51: busy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_error: Option<i32>,
    /// Consumer knob: update results ask the supplier to end its session.
    #[serde(default, skip_serializing_if = "is_false")]
    pub abort_session: bool,
    /// Supplier knob: an internal failure (`no-current-csn`, `csn-generator`,
    /// `changelog-db-error` …, `result-thread`, `next-operation-db-error` …,
    /// `missing-suffix`, `ruv-too-old`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

impl ReplicaSpec {
    /// A supplier with every default (a server given no `replica`).
    pub fn supplier() -> Self {
        Self {
            role: "supplier".into(),
            id: None,
            suffix: None,
            backoff_min: None,
            backoff_max: None,
            busy_wait: None,
            keepalive_interval: None,
            release_timeout: None,
            changelog_max_entries: None,
            flow_control_window: None,
            initialized: None,
            bind_dns: None,
            password: None,
            clock_offset: None,
            tls: false,
            answer: None,
            garble_response: false,
            replay_error: None,
            abort_session: false,
            fault: None,
        }
    }
}

/// One `[[topology.agreements]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementSpec {
    /// Its `cn` (default `FROM-to-TO` without `slapd-`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The supplier.
    pub from: String,
    /// The consumer.
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    /// `nsDS5ReplicaCredentials` (default the replication manager's password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// `LDAP` (default), `SSL` or `TLS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// `nsds5ReplicaTimeout` (120s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `nsds5ReplicaEnabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// `action = "write"`: changes made on a supplier (an LDAP client's modifies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub server: String,
    /// How many (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// `action = "agreement"`: `dsconf repl-agmt set|enable|disable` (the session starts over).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub agreement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
}

/// `action = "init"` (`dsconf repl-agmt init`) and `action = "poke"` (`dsconf repl-agmt poke`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub agreement: String,
}

/// `action = "replica"`: a change on a server's replica or its knobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicaStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub server: String,
    /// `nsDS5ReplicaBindDN` (`[]`: no one may supply updates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dns: Option<Vec<String>>,
    /// The replication manager's password on this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Replication of the suffix enabled (false: no replicated area).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `ldif2db` of an export made without replication data: a new generation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub import: bool,
    /// The changelog database is lost and recreated empty (data and RUV kept).
    #[serde(default, skip_serializing_if = "is_false")]
    pub lose_changelog: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset: Option<String>,
    /// The consumer's answer (`none` to clear it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub garble_response: Option<bool>,
    /// `0` clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_error: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_session: Option<bool>,
    /// The supplier fault (`none` to clear it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}
