//! `[topology]`, `[timings]` and `[probes]`: the servers, which links go
//! through the fault proxy, product timings, and the closing probes.

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_version() -> String {
    "7.1".into()
}

fn default_backends() -> Vec<String> {
    vec!["dc=example,dc=com".into()]
}

/// The product family a topology runs (`[topology] flavor`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flavor {
    /// ForgeRock DS / OpenDJ (the default).
    #[default]
    #[serde(rename = "ds")]
    Ds,
    /// 389 Directory Server (docs/389.md).
    #[serde(rename = "389")]
    R389,
    /// Exchange 5.5.
    #[serde(rename = "exchange")]
    Exchange,
}

/// `[topology]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// `ds` (default), `389`, `exchange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Flavor>,
    /// Default version of every server.
    #[serde(default = "default_version")]
    pub version: String,
    /// Replicated backends (cn=schema, and cn=admin data before 7, are added).
    #[serde(default = "default_backends")]
    pub backends: Vec<String>,
    pub servers: Vec<ServerSpec>,
    /// 389: the suppliers' agreements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agreements: Vec<crate::r389::format::AgreementSpec>,
    #[serde(default)]
    pub proxy: ProxyLinks,
    /// The network: `proxy` (the default) or `netns` (kernel test hosts);
    /// `--network` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::network::Network>,
}

/// One `[[topology.servers]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Default `NAME.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Default 127.0.0.N for the N-th server (loopback only); on the netns
    /// network a server's address is its test host's (not to be given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<String>>,
    /// Default the name (7+) or N (before 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    /// Fixed ports (default: any free port, kept across restarts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_port: Option<u16>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub rs: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ds: bool,
    /// The RS servers this server's DS uses, in order (default: its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates_through: Option<Vec<String>>,
    /// Mutual TLS on its replication connections.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
    /// With TLS: stay encrypted after the start messages (default); false
    /// drops to clear text once they are exchanged, as the product does.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ssl_encryption: bool,
    /// A defect of its certificate: expired, not-yet-valid, foreign-ca, missing-name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// 389: the server's replica (role, replica id, backoff …) and knobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<crate::r389::format::ReplicaSpec>,
}

/// Which connections go through the fault proxy, one listener per directed link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyLinks {
    #[serde(default = "yes")]
    pub rs_links: bool,
    #[serde(default)]
    pub ds_links: bool,
    #[serde(default)]
    pub admin_ports: bool,
    /// An external Toxiproxy-compatible API to create the link proxies on
    /// (`http://127.0.0.1:8474`); absent: the in-process proxy. `--proxy-api` wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

impl Default for ProxyLinks {
    fn default() -> Self {
        Self { rs_links: true, ds_links: false, admin_ports: false, api: None }
    }
}

/// `[timings]`: product (virtual) durations; absent ones keep the product's
/// defaults, except `link_timeout`, which defaults to 120s so outages show
/// in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_retry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changetime_heartbeat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_timeout: Option<String>,
}

/// `[probes]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbesSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Real time a TCP probe waits for an answer (default 500ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

impl Default for ProbesSpec {
    fn default() -> Self {
        Self { enabled: true, timeout: None }
    }
}
