//! What a 389 topology is made of: servers (instances), their replica,
//! their agreements, the knobs that stand for faults no network can make,
//! and the product's timings.
//!
//! Every product interval is virtual time; the harness divides it by the
//! clock's `time_scale` before it waits.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use time::UtcOffset;

use super::backoff;
use super::csn::CONSUMER_RID;
use super::version::Version389;
use crate::error::HarnessError;

/// The replication manager's DN every `dsconf replication enable` sets up.
pub const REPLICATION_MANAGER: &str = "cn=replication manager,cn=config";
/// `DEFAULT_TIMEOUT` of an agreement (`nsds5ReplicaTimeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// `DEFAULT_LINGER_TIME`: a released connection is kept this long for the next session.
pub const LINGER: Duration = Duration::from_secs(60);
/// `MAX_WAIT_BETWEEN_SESSIONS`: an idle agreement starts over this often.
pub const MAX_WAIT_BETWEEN_SESSIONS: Duration = Duration::from_secs(300);
/// The keep-alive update runs this long after a start (2.2.3 on).
pub const KEEPALIVE_FIRST: Duration = Duration::from_secs(30);
/// `DEFAULT_REPLICA_KEEPALIVE_UPDATE_INTERVAL`.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(3600);
/// `MAX_CHANGES_PER_SESSION`: a session yields after this many changes.
pub const MAX_CHANGES_PER_SESSION: usize = 10_000;
/// `repl5_inc_waitfor_async_results` gives up after 300 loops of 100 ms.
pub const ASYNC_RESULTS_WAIT: Duration = Duration::from_secs(30);

/// What the server's replica of the suffix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An updatable replica with its own replica id (`--role supplier --replica-id N`).
    Supplier { rid: u16 },
    /// A read-only consumer (replica id 65535).
    Consumer,
}

impl Role {
    pub fn rid(self) -> u16 {
        match self {
            Role::Supplier { rid } => rid,
            Role::Consumer => CONSUMER_RID,
        }
    }
}

/// A server's replica (`cn=replica,cn=SUFFIX,cn=mapping tree,cn=config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaConfig {
    pub suffix: String,
    pub role: Role,
    /// `nsDS5ReplicaBindDN`: who may supply updates.
    pub bind_dns: Vec<String>,
    /// `nsds5ReplicaBackoffMin` / `Max`.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// `nsds5ReplicaBusyWaitTime` (zero: the backoff minimum).
    pub busy_wait: Duration,
    /// `nsds5ReplicaKeepAliveUpdateInterval` (at least 60 s).
    pub keepalive_interval: Duration,
    /// `nsslapd-changelogmaxentries` (none: no trimming).
    pub changelog_max_entries: Option<usize>,
    /// The consumer holds data for the suffix from a total update (false:
    /// its replica has never been initialized and has no RUV).
    pub initialized: bool,
}

impl ReplicaConfig {
    pub fn new(suffix: &str, role: Role) -> Self {
        Self {
            suffix: suffix.to_owned(),
            role,
            bind_dns: vec![REPLICATION_MANAGER.to_owned()],
            backoff_min: backoff::DEFAULT_MIN,
            backoff_max: backoff::DEFAULT_MAX,
            busy_wait: Duration::ZERO,
            keepalive_interval: KEEPALIVE_INTERVAL,
            changelog_max_entries: None,
            initialized: true,
        }
    }
}

/// How an agreement connects (`nsDS5ReplicaTransportInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    #[default]
    Ldap,
    Ldaps,
    StartTls,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Ldap => "LDAP",
            Transport::Ldaps => "SSL",
            Transport::StartTls => "TLS",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "LDAP" => Some(Transport::Ldap),
            "SSL" | "LDAPS" => Some(Transport::Ldaps),
            "TLS" | "STARTTLS" => Some(Transport::StartTls),
            _ => None,
        }
    }
}

/// One replication agreement of a supplier (`dsconf repl-agmt create`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementConfig {
    /// Its `cn` (`a-to-b`).
    pub name: String,
    /// The server (of the topology) it sends to.
    pub consumer: String,
    /// `nsDS5ReplicaHost` and `Port`; default the consumer's host and port.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub bind_dn: String,
    /// `nsDS5ReplicaCredentials`: the password it binds with.
    pub credentials: String,
    pub transport: Transport,
    /// `nsds5ReplicaTimeout`.
    pub timeout: Duration,
    /// `nsds5ReplicaEnabled` (`None`: never set, enabled).
    pub enabled: Option<bool>,
}

impl AgreementConfig {
    pub fn new(name: &str, consumer: &str) -> Self {
        Self {
            name: name.to_owned(),
            consumer: consumer.to_owned(),
            host: None,
            port: None,
            bind_dn: REPLICATION_MANAGER.to_owned(),
            credentials: DEFAULT_PASSWORD.to_owned(),
            transport: Transport::Ldap,
            timeout: DEFAULT_TIMEOUT,
            enabled: None,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }
}

/// The password of the replication manager unless a scenario says otherwise.
pub const DEFAULT_PASSWORD: &str = "ReplPass123";

/// How a consumer answers start-replication requests, where no network
/// fault or configuration of the stock server makes the answer: each
/// stands for what the real server would answer in that state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Busy, as while another supplier holds the replica (code 1).
    Busy,
    /// A session plugin asks for backoff (14).
    Backoff,
    /// Something failed on the consumer (8).
    InternalError,
    /// The request could not be decoded (4).
    DecodingError,
    /// A session plugin refuses while the replica is disabled (12).
    Disabled,
    /// The replica is supplied by a legacy supplier (10, 1.3.5.14 to 1.3.7.1).
    Legacy,
    /// The supplier speaks an update protocol the consumer does not know (5).
    UnknownProtocol,
    /// The supplier's CSN is below the consumer's purge point (7).
    BelowPurgePoint,
}

impl Answer {
    pub fn code(self) -> i32 {
        use super::extop::code;
        match self {
            Answer::Busy => code::BUSY,
            Answer::Backoff => code::BACKOFF,
            Answer::InternalError => code::INTERNAL_ERROR,
            Answer::DecodingError => code::DECODING_ERROR,
            Answer::Disabled => code::DISABLED,
            Answer::Legacy => code::LEGACY_CONSUMER,
            Answer::UnknownProtocol => code::UNKNOWN_UPDATE_PROTOCOL,
            Answer::BelowPurgePoint => code::BELOW_PURGEPOINT,
        }
    }

    /// The knob's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Answer::Busy => "busy",
            Answer::Backoff => "backoff",
            Answer::InternalError => "internal-error",
            Answer::DecodingError => "decoding-error",
            Answer::Disabled => "disabled",
            Answer::Legacy => "legacy-supplier",
            Answer::UnknownProtocol => "unknown-protocol",
            Answer::BelowPurgePoint => "below-purge-point",
        }
    }

    pub const ALL: [Answer; 8] = [
        Answer::Busy,
        Answer::Backoff,
        Answer::InternalError,
        Answer::DecodingError,
        Answer::Disabled,
        Answer::Legacy,
        Answer::UnknownProtocol,
        Answer::BelowPurgePoint,
    ];

    pub fn parse(s: &str) -> Option<Answer> {
        Answer::ALL.into_iter().find(|a| a.name() == s)
    }
}

/// Consumer knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsumerKnobs {
    /// The start-replication answer, when not the one its state gives.
    pub answer: Option<Answer>,
    /// The start-replication response's value is not decodable.
    pub garble_response: bool,
    /// Every replayed update fails with this LDAP result (51: busy).
    pub replay_error: Option<i32>,
    /// Update results carry the abort-session control, as a consumer with
    /// `nsds5ReplicaReleaseTimeout` sends while another supplier waits.
    pub abort_session: bool,
}

/// A fault inside the supplier that no network can make: each stands for
/// the real server's internal failure of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupplierFault {
    /// `get_current_csn` fails.
    NoCurrentCsn,
    /// Updating the CSN generator from the consumer's RUV fails.
    CsnGenerator,
    /// `cl5CreateReplayIterator` fails with the given changelog error.
    Changelog(ChangelogError),
    /// The result thread cannot be created.
    ResultThread,
    /// `cl5GetNextOperationToReplay` fails.
    NextOperation(NextOpError),
    /// The agreement's suffix is gone (before 2.2.3).
    MissingSuffix,
    /// The consumer's RUV is too old for the incremental protocol.
    RuvTooOld,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangelogError {
    BadData,
    BadFormat,
    BadState,
    BadDbVersion,
    DbError,
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextOpError {
    BadData,
    DbError,
    Memory,
}

impl SupplierFault {
    /// Every fault and its name in scenario files.
    pub const NAMES: &'static [(&'static str, SupplierFault)] = &[
        ("no-current-csn", SupplierFault::NoCurrentCsn),
        ("csn-generator", SupplierFault::CsnGenerator),
        ("changelog-bad-data", SupplierFault::Changelog(ChangelogError::BadData)),
        ("changelog-bad-format", SupplierFault::Changelog(ChangelogError::BadFormat)),
        ("changelog-bad-state", SupplierFault::Changelog(ChangelogError::BadState)),
        ("changelog-bad-dbversion", SupplierFault::Changelog(ChangelogError::BadDbVersion)),
        ("changelog-db-error", SupplierFault::Changelog(ChangelogError::DbError)),
        ("changelog-memory", SupplierFault::Changelog(ChangelogError::Memory)),
        ("result-thread", SupplierFault::ResultThread),
        ("next-operation-bad-data", SupplierFault::NextOperation(NextOpError::BadData)),
        ("next-operation-db-error", SupplierFault::NextOperation(NextOpError::DbError)),
        ("next-operation-memory", SupplierFault::NextOperation(NextOpError::Memory)),
        ("missing-suffix", SupplierFault::MissingSuffix),
        ("ruv-too-old", SupplierFault::RuvTooOld),
    ];

    pub fn parse(s: &str) -> Option<SupplierFault> {
        Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, f)| *f == self).map_or("?", |(n, _)| n)
    }
}

/// One 389 instance.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig389 {
    /// Its folder name in the case (`slapd-a`); `dsconf` names it so too.
    pub name: String,
    pub host: String,
    pub addresses: Vec<IpAddr>,
    /// The LDAP port (0: any free port, kept across restarts).
    pub port: u16,
    pub version: Version389,
    /// The zone its logs are stamped in.
    pub utc_offset: UtcOffset,
    /// How far its clock is off (ahead when positive): CSNs carry it.
    pub clock_offset: time::Duration,
    /// TLS (NSS) initialized on this server: agreements over LDAPS or StartTLS need it.
    pub tls: bool,
    pub replica: Option<ReplicaConfig>,
    pub agreements: Vec<AgreementConfig>,
    /// Bind DN → password of the accounts it holds (the replication manager).
    pub accounts: BTreeMap<String, String>,
    /// Entries under the suffix besides the suffix entry itself.
    pub entries: usize,
    pub knobs: ConsumerKnobs,
    pub fault: Option<SupplierFault>,
}

impl ServerConfig389 {
    pub fn new(name: &str, host: &str, address: IpAddr, replica: Option<ReplicaConfig>) -> Self {
        let mut accounts = BTreeMap::new();
        accounts.insert(REPLICATION_MANAGER.to_owned(), DEFAULT_PASSWORD.to_owned());
        Self {
            name: name.to_owned(),
            host: host.to_owned(),
            addresses: vec![address],
            port: 0,
            version: Version389::default(),
            utc_offset: UtcOffset::UTC,
            clock_offset: time::Duration::ZERO,
            tls: false,
            replica,
            agreements: Vec::new(),
            accounts,
            entries: 10,
            knobs: ConsumerKnobs::default(),
            fault: None,
        }
    }

    /// Where its configuration lives (the title line names it): `/etc/dirsrv/slapd-NAME`.
    pub fn instance_dir_name(&self) -> String {
        if self.name.starts_with("slapd-") {
            self.name.clone()
        } else {
            format!("slapd-{}", self.name)
        }
    }

    pub fn bind_ip(&self) -> IpAddr {
        self.addresses.first().copied().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }

    /// Checks what cannot run: addresses off loopback, bad intervals, agreements without a replica.
    pub fn validate(&self) -> Result<(), HarnessError> {
        let bad = |m: String| Err(HarnessError::Config(format!("server {}: {m}", self.name)));
        if self.addresses.is_empty()
            || self.addresses.iter().any(|a| !a.is_loopback() && crate::testnet::network_of(*a).is_none())
        {
            return bad("addresses must be loopback (or the server's test host)".into());
        }
        if let Some(r) = &self.replica {
            if r.backoff_min.is_zero() || r.backoff_min > r.backoff_max {
                return bad(format!(
                    "Backoff minimum ({}) can not be greater than the backoff maximum ({}).",
                    r.backoff_min.as_secs(),
                    r.backoff_max.as_secs()
                ));
            }
            if r.keepalive_interval < Duration::from_secs(60) {
                return bad("the keep-alive interval is at least 60 s".into());
            }
            if let Role::Supplier { rid } = r.role {
                if rid == 0 || rid == CONSUMER_RID {
                    return bad(format!("replica id {rid} is not between 1 and 65534"));
                }
            }
        } else if !self.agreements.is_empty() {
            return bad("agreements need a replica".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for a in &self.agreements {
            if !names.insert(&a.name) {
                return bad(format!("two agreements are named {:?}", a.name));
            }
            if a.timeout.is_zero() {
                return bad(format!("agreement {}: the timeout must be positive", a.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_what_is_wrong() {
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let mut c = ServerConfig389::new(
            "slapd-a",
            "a.example.com",
            ip,
            Some(ReplicaConfig::new("dc=x", Role::Supplier { rid: 1 })),
        );
        assert!(c.validate().is_ok());
        assert_eq!(c.instance_dir_name(), "slapd-a");
        if let Some(r) = c.replica.as_mut() {
            r.backoff_min = Duration::from_secs(10);
            r.backoff_max = Duration::from_secs(5);
        }
        let e = c.validate().expect_err("min > max").to_string();
        assert!(e.contains("Backoff minimum (10) can not be greater than the backoff maximum (5)."), "{e}");
        let mut d = ServerConfig389::new("b", "b.example.com", "192.0.2.1".parse().expect("ip"), None);
        assert!(d.validate().is_err());
        d.addresses = vec![ip];
        d.agreements.push(AgreementConfig::new("b-to-a", "slapd-a"));
        assert!(d.validate().expect_err("no replica").to_string().contains("agreements need a replica"));
        assert_eq!(SupplierFault::parse("changelog-db-error"), Some(SupplierFault::Changelog(ChangelogError::DbError)));
        assert_eq!(SupplierFault::ResultThread.name(), "result-thread");
        assert_eq!(Answer::parse("legacy-supplier"), Some(Answer::Legacy));
    }
}
