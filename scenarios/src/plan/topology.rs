//! `[topology]` and `[timings]` → server configs, product timings, and the
//! directed links that get their own proxy listener.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use harness::mesh::loopback_for;
use harness::pki::CertDefect;
use harness::{domains_for, DomainConfig, ServerConfig, Timings, Version};

use super::Ctx;
use crate::error::{Error, Problem};
use crate::format::{Port, Scenario};
use crate::path;

/// A directed link: the connections `from` opens to `to`'s replication
/// (or admin) port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkRef {
    pub from: String,
    pub to: String,
    pub port: Port,
}

impl LinkRef {
    /// The proxy's name: `A->B`, `A->B:admin`.
    pub fn proxy_name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for LinkRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = if self.port == Port::Admin { ":admin" } else { "" };
        write!(f, "{}->{}{suffix}", self.from, self.to)
    }
}

pub(super) struct World {
    pub servers: Vec<ServerConfig>,
    pub timings: Timings,
    pub proxied: Vec<LinkRef>,
    pub expect_all_up: bool,
    /// Where the file gives a server's addresses.
    pub fixed_addresses: Vec<crate::error::Place>,
}

/// A loopback address (the harness never dials anything else).
pub(super) fn loopback(ctx: &Ctx<'_>, text: &str, path: &[crate::format::Seg<'_>]) -> Result<IpAddr, Error> {
    match text.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(ip),
        _ => Err(ctx.err(path, Problem::NotLoopback(text.to_owned()))),
    }
}

pub(super) fn plan(sc: &Scenario, ctx: &Ctx<'_>) -> Result<World, Error> {
    let t = &sc.topology;
    if t.servers.is_empty() {
        return Err(ctx.err(&path!["topology"], Problem::NoServers));
    }
    let backends: Vec<&str> = t.backends.iter().map(String::as_str).collect();
    let mut servers: Vec<ServerConfig> = Vec::new();
    let mut expect_all_up = true;
    let mut fixed_addresses = Vec::new();
    for (i, s) in t.servers.iter().enumerate() {
        let at = |field| path!["topology", "servers", i, field];
        if servers.iter().any(|c| c.name == s.name) {
            return Err(ctx.err(&at("name"), Problem::DuplicateServer(s.name.clone())));
        }
        let version_text = s.version.as_deref().unwrap_or(&t.version);
        let version = Version::parse(version_text).map_err(|e| {
            let place =
                if s.version.is_some() { ctx.place(&at("version")) } else { ctx.place(&path!["topology", "version"]) };
            Error::invalid(place, Problem::BadVersion(e.to_string()))
        })?;
        let id = s.server_id.clone().unwrap_or_else(|| {
            if version.string_server_ids() {
                s.name.clone()
            } else {
                (i + 1).to_string()
            }
        });
        let host = s.host.clone().unwrap_or_else(|| format!("{}.example.com", s.name));
        let mut c = ServerConfig::new(&s.name, &host, loopback_for(i + 1), version.clone(), &id);
        if let Some(addrs) = &s.addresses {
            fixed_addresses.push(ctx.place(&at("addresses")));
            c.addresses = addrs
                .iter()
                .enumerate()
                .map(|(j, a)| loopback(ctx, a, &path!["topology", "servers", i, "addresses", j]))
                .collect::<Result<_, _>>()?;
        }
        c.domains = match &s.domains {
            Some(d) => d.iter().map(|b| DomainConfig::new(b)).collect(),
            None => domains_for(&version, &backends),
        };
        c.replication_port = s.replication_port.unwrap_or(0);
        c.admin_port = s.admin_port.unwrap_or(0);
        c.rs = s.rs;
        c.ds = s.ds;
        c.tls = s.tls;
        c.ssl_encryption = s.ssl_encryption;
        if let Some(cert) = &s.cert {
            c.cert_defect =
                CertDefect::parse(cert).ok_or_else(|| ctx.err(&at("cert"), Problem::BadCert(cert.clone())))?;
            if !s.tls {
                return Err(ctx.err(&at("cert"), Problem::CertWithoutTls));
            }
            expect_all_up &= c.cert_defect == CertDefect::None;
        }
        for (j, n) in s.replicates_through.iter().flatten().enumerate() {
            c.ds_replication_servers.push(ctx.server(n, &path!["topology", "servers", i, "replicates_through", j])?);
        }
        servers.push(c);
    }
    let timings = timings(sc, ctx)?;
    let proxied = proxied(sc, &servers);
    Ok(World { servers, timings, proxied, expect_all_up, fixed_addresses })
}

fn timings(sc: &Scenario, ctx: &Ctx<'_>) -> Result<Timings, Error> {
    let base = Timings::default();
    let t = &sc.timings;
    let d = |text: &Option<String>, field, default: Duration| {
        ctx.duration_or(text.as_deref(), &path!["timings", field], default)
    };
    Ok(Timings {
        connect_retry: d(&t.connect_retry, "connect_retry", base.connect_retry)?,
        handshake_timeout: d(&t.handshake_timeout, "handshake_timeout", base.handshake_timeout)?,
        heartbeat_interval: d(&t.heartbeat, "heartbeat", base.heartbeat_interval)?,
        changetime_heartbeat_interval: d(
            &t.changetime_heartbeat,
            "changetime_heartbeat",
            base.changetime_heartbeat_interval,
        )?,
        link_timeout: d(&t.link_timeout, "link_timeout", Duration::from_secs(120))?,
    })
}

/// One listener per directed link: RS→RS links (`rs_links`), a DS to the
/// RSs it uses (`ds_links`: its own, or `replicates_through`), admin ports
/// (`admin_ports`).
fn proxied(sc: &Scenario, servers: &[ServerConfig]) -> Vec<LinkRef> {
    let p = &sc.topology.proxy;
    let mut out = Vec::new();
    for a in servers {
        for b in servers {
            let own = a.name == b.name;
            let rs_link = !own && a.rs && b.rs && p.rs_links;
            let ds_link = p.ds_links && a.ds && b.rs && (own || a.ds_replication_servers.contains(&b.name));
            let link = |port| LinkRef { from: a.name.clone(), to: b.name.clone(), port };
            if rs_link || ds_link {
                out.push(link(Port::Replication));
            }
            if p.admin_ports && !own {
                out.push(link(Port::Admin));
            }
        }
    }
    out
}

/// Why a directed link has no proxy, for the error.
pub(super) fn why_not_proxied(sc: &Scenario, link: &LinkRef) -> &'static str {
    let p = &sc.topology.proxy;
    match link.port {
        Port::Admin if !p.admin_ports => "admin ports need admin_ports = true",
        Port::Admin => "a server's admin port is not proxied to itself",
        Port::Replication if link.from == link.to && !p.ds_links => "a DS's own link needs ds_links = true",
        Port::Replication if link.from == link.to => "that server runs no DS or no RS",
        Port::Replication if !p.rs_links && !p.ds_links => "rs_links is false",
        Port::Replication => "one side runs no RS, or the DS does not replicate through it",
    }
}
