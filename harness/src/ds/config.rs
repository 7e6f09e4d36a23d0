//! Server configuration: identity, version, domains, ports and product timings.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use time::UtcOffset;

use super::catalog::Dialect;
use crate::error::HarnessError;

/// A product version such as `2.6`, `6.5.3` or `7.1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub fn parse(text: &str) -> Result<Self, HarnessError> {
        let bad = || HarnessError::Config(format!("version {text:?} is not MAJOR.MINOR[.PATCH]"));
        let mut parts = text.trim().split('.');
        let mut next = |required: bool| -> Result<u32, HarnessError> {
            match parts.next() {
                Some(p) => p.parse().map_err(|_| bad()),
                None if required => Err(bad()),
                None => Ok(0),
            }
        };
        let v = Version { major: next(true)?, minor: next(true)?, patch: next(false)? };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(v)
    }

    /// Below 3: the 2.x dialect; OpenDJ 3.0 to 3.4: the 3.0 dialect (dotted
    /// msgIDs, OPENDJ-1288); from 3.5 on (OpenDJ 4, ForgeRock DS 5 to 7.x):
    /// the latest public source's (OPENDJ-2725 came in June 2016, before
    /// 3.5 and 4.0; there is no public 3.5 tag to check).
    pub fn dialect(&self) -> Dialect {
        match (self.major, self.minor) {
            (0..=2, _) => Dialect::Legacy,
            (3, 0..=4) => Dialect::Dotted,
            _ => Dialect::Modern,
        }
    }

    /// The Java the version typically runs on, which words some exception
    /// texts (JSSE's, `NumberFormatException`'s) and the last stack frame:
    /// OpenDJ 2.x to 4.x on Java 8, ForgeRock DS 5 on on Java 11.
    pub fn java(&self) -> super::java::Jdk {
        use super::java::Jdk;
        match self.major {
            0..=2 => Jdk::Eight,
            3 => Jdk::EightEarly,
            4 => Jdk::Eight,
            _ => Jdk::Eleven,
        }
    }

    /// Server ids are strings from DS 7 on, whole numbers before.
    pub fn string_server_ids(&self) -> bool {
        self.major >= 7
    }

    /// `cn=admin data` is replicated only before version 7.
    pub fn replicates_admin_data(&self) -> bool {
        self.major < 7
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.patch == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
        }
    }
}

/// Product intervals and timeouts, in product (virtual) time.
///
/// The harness divides each by the clock's `time_scale` before it waits.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// RS→RS connect loop period (the real product: 1000 ms + 0..100 ms).
    pub connect_retry: Duration,
    /// Connect and handshake reads (`connection-timeout`, 5 s).
    pub handshake_timeout: Duration,
    /// DS heartbeat interval the DS asks for (10 s).
    pub heartbeat_interval: Duration,
    /// DS change-time heartbeats (1 s).
    pub changetime_heartbeat_interval: Duration,
    /// How long written data may stay unacknowledged before the link is
    /// declared failed: it stands for TCP giving up (Linux: about 15 min).
    pub link_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            connect_retry: Duration::from_millis(1000),
            handshake_timeout: Duration::from_secs(5),
            heartbeat_interval: Duration::from_secs(10),
            changetime_heartbeat_interval: Duration::from_secs(1),
            link_timeout: Duration::from_secs(900),
        }
    }
}

/// One replicated domain of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainConfig {
    pub base_dn: String,
    /// The generation id of the server's data for this domain.
    pub generation_id: i64,
}

impl DomainConfig {
    /// A domain with the generation id every server starts with for it.
    pub fn new(base_dn: &str) -> Self {
        Self { base_dn: base_dn.to_owned(), generation_id: default_generation_id(base_dn) }
    }
}

/// A stable, product-looking generation id for a base DN (a checksum in the
/// real product; any positive number works for the mock).
pub fn default_generation_id(base_dn: &str) -> i64 {
    let mut h: u32 = 2166136261;
    for b in base_dn.to_ascii_lowercase().bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16777619);
    }
    i64::from(h % 90_000) + 1_000
}

/// Everything one server instance needs to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Name in the topology and the case folder (`ds-1`).
    pub name: String,
    /// Host name peers use to reach it (`ds-1.example.com`).
    pub host: String,
    /// The server's own addresses; the first is bound.
    pub addresses: Vec<IpAddr>,
    pub version: Version,
    pub server_id: String,
    /// 0: any free port, kept across restarts.
    pub replication_port: u16,
    pub admin_port: u16,
    pub domains: Vec<DomainConfig>,
    /// Runs a replication server.
    pub rs: bool,
    /// Runs a directory server.
    pub ds: bool,
    /// Peer replication servers, `host:port`.
    pub peers: Vec<String>,
    /// Replication servers the DS tries, in order: `host:port`, or the name of
    /// a server of the same mesh (default: its own RS, or every RS without one).
    pub ds_replication_servers: Vec<String>,
    /// The zone log timestamps are written in.
    pub utc_offset: UtcOffset,
    /// Mutual TLS on every replication connection it opens or accepts.
    pub tls: bool,
    /// With TLS: stay encrypted after the start messages (the product's
    /// `ssl-encryption`); false drops to clear text on the same connection
    /// once the start messages are exchanged, as the initiator decides.
    pub ssl_encryption: bool,
    /// What is wrong with its certificate, if anything.
    pub cert_defect: crate::pki::CertDefect,
}

impl ServerConfig {
    /// A DS+RS server named `name` with its defaults.
    pub fn new(name: &str, host: &str, address: IpAddr, version: Version, server_id: &str) -> Self {
        Self {
            name: name.to_owned(),
            host: host.to_owned(),
            addresses: vec![address],
            version,
            server_id: server_id.to_owned(),
            replication_port: 0,
            admin_port: 0,
            domains: Vec::new(),
            rs: true,
            ds: true,
            peers: Vec::new(),
            ds_replication_servers: Vec::new(),
            utc_offset: UtcOffset::UTC,
            tls: false,
            ssl_encryption: true,
            cert_defect: crate::pki::CertDefect::None,
        }
    }

    /// Checks what the real product would refuse.
    pub fn validate(&self) -> Result<(), HarnessError> {
        let err = |m: String| Err(HarnessError::Config(format!("server {}: {m}", self.name)));
        if self.addresses.is_empty() {
            return err("has no address".into());
        }
        if self.server_id.is_empty() {
            return err("has an empty server id".into());
        }
        if !self.version.string_server_ids() && self.server_id.parse::<u16>().is_err() {
            return err(format!(
                "version {} needs a whole-number server id (1 to 65535), not {:?}",
                self.version, self.server_id
            ));
        }
        if self.domains.is_empty() {
            return err("replicates no domain".into());
        }
        Ok(())
    }

    pub fn bind_ip(&self) -> IpAddr {
        self.addresses.first().copied().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// The domains a server of `version` replicates for the given backends.
pub fn domains_for(version: &Version, backends: &[&str]) -> Vec<DomainConfig> {
    let mut out = vec![DomainConfig::new("cn=schema")];
    if version.replicates_admin_data() {
        out.push(DomainConfig::new("cn=admin data"));
    }
    out.extend(backends.iter().map(|b| DomainConfig::new(b)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_pick_their_dialect() {
        assert_eq!(Version::parse("2.6").expect("v").dialect(), Dialect::Legacy);
        assert_eq!(Version::parse("3.0").expect("v").dialect(), Dialect::Dotted);
        assert_eq!(Version::parse("3.0.0").expect("v").dialect(), Dialect::Dotted);
        assert_eq!(Version::parse("4.0.1").expect("v").dialect(), Dialect::Modern);
        assert_eq!(Version::parse("6.5").expect("v").dialect(), Dialect::Modern);
        assert_eq!(Version::parse("7.1.2").expect("v").dialect(), Dialect::Modern);
        assert_eq!(Version::parse("6.5").expect("v").to_string(), "6.5");
        assert!(Version::parse("seven").is_err());
        assert!(Version::parse("7").is_err());
        assert!(Version::parse("7.1.2.3").is_err());
    }

    #[test]
    fn admin_data_only_before_7() {
        let names = |v: &str| {
            domains_for(&Version::parse(v).expect("v"), &["dc=example,dc=com"])
                .into_iter()
                .map(|d| d.base_dn)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("6.5"), ["cn=schema", "cn=admin data", "dc=example,dc=com"]);
        assert_eq!(names("7.0"), ["cn=schema", "dc=example,dc=com"]);
    }

    #[test]
    fn numeric_ids_are_required_before_7() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut c = ServerConfig::new("a", "a.example.com", ip, Version::parse("6.5").expect("v"), "ds-1");
        c.domains = domains_for(&c.version, &[]);
        assert!(c.validate().is_err());
        c.server_id = "1234".into();
        assert!(c.validate().is_ok());
    }
}
