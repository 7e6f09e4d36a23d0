//! The harness's name service: where a host name leads, per connecting server.
//!
//! Every connection a mock server opens goes through here. A host name maps
//! to the server's own addresses; a route can send one server's connections
//! to one `host:port` somewhere else (the scenario runner points routes at
//! fault-proxy listeners, one per directed link); an entry can be made
//! unresolvable, or pointed at a wrong address.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::RwLock;

/// What a lookup of a host name gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEntry {
    Addresses(Vec<IpAddr>),
    /// NXDOMAIN.
    Unresolvable,
}

/// Why a host name could not be turned into an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("{0}: Name or service not known")]
    NoSuchHost(String),
}

#[derive(Debug, Default)]
struct Inner {
    hosts: BTreeMap<String, HostEntry>,
    /// (from server, host, port) → where that server's connections really go.
    routes: BTreeMap<(String, String, u16), SocketAddr>,
    /// (from server, host) → what that server's own lookups give (its DNS view).
    views: BTreeMap<(String, String), HostEntry>,
}

#[derive(Debug, Default)]
pub struct HostMap {
    inner: RwLock<Inner>,
}

fn key(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl HostMap {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets what `host` resolves to.
    pub fn set(&self, host: &str, entry: HostEntry) {
        self.write().hosts.insert(key(host), entry);
    }

    /// Sends `from`'s connections to `host:port` to `to` instead.
    pub fn route(&self, from: &str, host: &str, port: u16, to: SocketAddr) {
        self.write().routes.insert((from.to_owned(), key(host), port), to);
    }

    /// Sets what `host` resolves to for `from` only (a server's own DNS view:
    /// a missing or wrong record). It overrides routes for that name.
    pub fn set_for(&self, from: &str, host: &str, entry: HostEntry) {
        self.write().views.insert((from.to_owned(), key(host)), entry);
    }

    /// Removes a route set with [`HostMap::route`].
    pub fn unroute(&self, from: &str, host: &str, port: u16) {
        self.write().routes.remove(&(from.to_owned(), key(host), port));
    }

    /// What a DNS lookup of `host` gives.
    pub fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        match self.read().hosts.get(&key(host)) {
            Some(HostEntry::Addresses(a)) if !a.is_empty() => Ok(a.clone()),
            _ => Err(ResolveError::NoSuchHost(host.to_owned())),
        }
    }

    /// What a lookup of `host` gives on server `from` (its view, else the global one).
    pub fn lookup_from(&self, from: &str, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let view = self.read().views.get(&(from.to_owned(), key(host))).cloned();
        match view {
            Some(HostEntry::Addresses(a)) if !a.is_empty() => Ok(a),
            Some(_) => Err(ResolveError::NoSuchHost(host.to_owned())),
            None => self.lookup(host),
        }
    }

    /// Where `from` really connects when it dials `host:port`.
    ///
    /// An unresolvable name fails even when a route exists: the name is
    /// looked up before anything is dialled.
    pub fn resolve(&self, from: &str, host: &str, port: u16) -> Result<SocketAddr, ResolveError> {
        let inner = self.read();
        // A server's own view of the name wins: a wrong record leads off the route.
        match inner.views.get(&(from.to_owned(), key(host))) {
            Some(HostEntry::Addresses(a)) if !a.is_empty() => return Ok(SocketAddr::new(a[0], port)),
            Some(_) => return Err(ResolveError::NoSuchHost(host.to_owned())),
            None => {}
        }
        let addresses = match inner.hosts.get(&key(host)) {
            Some(HostEntry::Addresses(a)) if !a.is_empty() => a,
            _ => return Err(ResolveError::NoSuchHost(host.to_owned())),
        };
        if let Some(to) = inner.routes.get(&(from.to_owned(), key(host), port)) {
            return Ok(*to);
        }
        Ok(SocketAddr::new(addresses[0], port))
    }
}

/// Splits `host:port` (or `[v6]:port`).
pub fn split_host_port(url: &str) -> Option<(&str, u16)> {
    let (host, port) = url.rsplit_once(':')?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    Some((host, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn routes_apply_per_connecting_server() {
        let m = HostMap::new();
        m.set("ds-2.example.com", HostEntry::Addresses(vec![ip("127.0.0.2")]));
        let proxy: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        m.route("ds-1", "DS-2.example.com.", 8989, proxy);
        assert_eq!(m.resolve("ds-1", "ds-2.example.com", 8989), Ok(proxy));
        assert_eq!(m.resolve("ds-3", "ds-2.example.com", 8989), Ok("127.0.0.2:8989".parse().expect("a")));
        m.unroute("ds-1", "ds-2.example.com", 8989);
        assert_eq!(m.resolve("ds-1", "ds-2.example.com", 8989), Ok("127.0.0.2:8989".parse().expect("a")));
    }

    #[test]
    fn unresolvable_wins_over_routes() {
        let m = HostMap::new();
        m.set("ds-2.example.com", HostEntry::Unresolvable);
        m.route("ds-1", "ds-2.example.com", 8989, "127.0.0.1:1".parse().expect("a"));
        assert!(m.resolve("ds-1", "ds-2.example.com", 8989).is_err());
        assert!(m.lookup("nowhere.example.com").is_err());
    }

    #[test]
    fn a_servers_own_view_overrides_names_and_routes() {
        let m = HostMap::new();
        m.set("ds-2.example.com", HostEntry::Addresses(vec![ip("127.0.0.2")]));
        m.route("ds-1", "ds-2.example.com", 8989, "127.0.0.1:40000".parse().expect("a"));
        m.set_for("ds-1", "ds-2.example.com", HostEntry::Addresses(vec![ip("127.0.0.99")]));
        assert_eq!(m.resolve("ds-1", "ds-2.example.com", 8989), Ok("127.0.0.99:8989".parse().expect("a")));
        assert_eq!(m.lookup_from("ds-1", "ds-2.example.com"), Ok(vec![ip("127.0.0.99")]));
        assert_eq!(m.lookup_from("ds-3", "ds-2.example.com"), Ok(vec![ip("127.0.0.2")]));
        m.set_for("ds-1", "ds-2.example.com", HostEntry::Unresolvable);
        assert!(m.resolve("ds-1", "ds-2.example.com", 8989).is_err());
    }

    #[test]
    fn host_port_splits() {
        assert_eq!(split_host_port("ds-1.example.com:8989"), Some(("ds-1.example.com", 8989)));
        assert_eq!(split_host_port("[::1]:4444"), Some(("::1", 4444)));
        assert_eq!(split_host_port("nope"), None);
    }
}
