//! Link proxies on an external, Toxiproxy-compatible fault proxy (our
//! `fault-proxy` binary or a real Toxiproxy), driven over its HTTP API
//! instead of the in-process proxy: `--proxy-api URL`, or
//! `[topology.proxy] api = "URL"` in a scenario (the command line wins).
//!
//! - [`ApiUrl`]: the URL as people write it (`http://127.0.0.1:8474`, or
//!   `127.0.0.1:8474`), with the loopback policy: loopback addresses and
//!   `localhost` only, unless `--allow-remote-proxy-api`.
//! - [`client`]: a small HTTP/1.1 client over hyper (already in the tree
//!   through axum), every request bounded by [`Settings::timeout`], bodies
//!   capped before they are read.
//! - [`detect`]: which server answers: `GET /version`, then a capability
//!   probe on a disabled throwaway proxy.
//! - [`translate`]: a scenario fault as that server can do it, or a refusal
//!   naming what it cannot do.
//! - [`links`]: the run's link proxies on the server: created, faulted,
//!   removed at the end (also on failure).
//!
//! This module knows nothing of plans or the harness: it is given proxy
//! names and upstream addresses, and hands back listen addresses.

pub mod client;
pub mod detect;
pub mod links;
pub mod translate;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

pub use detect::{Flavor, Server};
pub use links::ExternalLinks;

/// How long one API request may take unless `--proxy-api-timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response body read (a listing of many proxies fits easily).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Where the API is: `http://HOST:PORT[/BASE]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiUrl {
    host: String,
    port: u16,
    /// A path prefix without its trailing slash (`""` for none).
    base: String,
}

/// The host, as it is dialed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl ApiUrl {
    /// Reads `http://HOST:PORT[/BASE]` or `HOST:PORT`. The port is required
    /// (Toxiproxy's default is 8474); https, user names, queries and
    /// fragments are refused.
    pub fn parse(text: &str) -> Result<ApiUrl, ApiError> {
        let bad = |reason: &str| ApiError::BadUrl { given: text.to_owned(), reason: reason.to_owned() };
        let trimmed = text.trim();
        let rest = match trimmed.split_once("://") {
            Some(("http", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!("scheme {scheme:?}: only http:// is spoken (as Toxiproxy serves its API)")))
            }
            None => trimmed,
        };
        if rest.contains(['?', '#']) {
            return Err(bad("a query or fragment has no place in the API's address"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("user names and passwords are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("an IPv6 address needs its closing ]"))?;
            (h, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = port.ok_or_else(|| bad("no port: give it, such as http://127.0.0.1:8474 (Toxiproxy's default)"))?;
        let port: u16 = port.parse().map_err(|_| bad(&format!("port {port:?} is not a number from 1 to 65535")))?;
        if port == 0 {
            return Err(bad("port 0 names no server"));
        }
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b)) {
            return Err(bad(&format!("{host:?} is not a host name or an address")));
        }
        let base = path.trim_end_matches('/').to_owned();
        Ok(ApiUrl { host: host.to_ascii_lowercase(), port, base })
    }

    pub fn host(&self) -> Host {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(self.host.clone()),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `HOST:PORT`, as the `Host` header says it.
    pub fn authority(&self) -> String {
        match self.host() {
            Host::Ip(IpAddr::V6(v6)) => format!("[{v6}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }

    /// The request path of an API path (`/proxies` under the base).
    pub fn path(&self, api_path: &str) -> String {
        format!("{}{api_path}", self.base)
    }

    /// A loopback address, or `localhost` (dialed as 127.0.0.1).
    pub fn is_loopback(&self) -> bool {
        match self.host() {
            Host::Ip(ip) => ip.is_loopback(),
            Host::Name(n) => n == "localhost",
        }
    }

    /// The loopback policy: refused unless loopback or allowed.
    pub fn check_policy(&self, allow_remote: bool) -> Result<(), ApiError> {
        if self.is_loopback() || allow_remote {
            Ok(())
        } else {
            Err(ApiError::NotLoopback { url: self.to_string() })
        }
    }

    /// What to dial: `localhost` is 127.0.0.1 (no name lookup); other names
    /// (allowed remote only) are looked up.
    pub async fn socket_addrs(&self) -> Result<Vec<std::net::SocketAddr>, ApiError> {
        match self.host() {
            Host::Ip(ip) => Ok(vec![(ip, self.port).into()]),
            Host::Name(n) if n == "localhost" => Ok(vec![(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port).into()]),
            Host::Name(n) => tokio::net::lookup_host((n.as_str(), self.port))
                .await
                .map(Iterator::collect)
                .map_err(|source| ApiError::Connect { url: self.to_string(), source }),
        }
    }
}

impl fmt::Display for ApiUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.base)
    }
}

impl std::str::FromStr for ApiUrl {
    type Err = ApiError;

    fn from_str(s: &str) -> Result<ApiUrl, ApiError> {
        ApiUrl::parse(s)
    }
}

/// The run's settings for external proxies.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--proxy-api`: every scenario's link proxies go there.
    pub url: Option<ApiUrl>,
    /// `--allow-remote-proxy-api`: an API off loopback may be used.
    pub allow_remote: bool,
    /// How long one API request may take.
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self { url: None, allow_remote: false, timeout: DEFAULT_TIMEOUT }
    }
}

/// What can go wrong with an external proxy API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("proxy API {given:?}: {reason}")]
    BadUrl { given: String, reason: String },
    #[error(
        "proxy API {url} is not on loopback: the harness drives loopback only; pass --allow-remote-proxy-api to use it"
    )]
    NotLoopback { url: String },
    #[error("proxy API {url}: cannot connect: {source}")]
    Connect { url: String, source: std::io::Error },
    #[error("proxy API {url}: {request} got no answer within {}s", after.as_secs_f64())]
    Timeout { url: String, request: String, after: Duration },
    #[error("proxy API {url}: {request}: {detail}")]
    Http { url: String, request: String, detail: String },
    #[error("proxy API {url}: {request} answered {status}: {body}")]
    Status { url: String, request: String, status: u16, body: String },
    #[error("proxy API {url} does not answer like a Toxiproxy API: {detail}")]
    NotAnApi { url: String, detail: String },
    /// A fault the server cannot do.
    #[error("{server} cannot do fault {fault:?} ({kind}): {why}")]
    Unsupported { server: String, fault: String, kind: &'static str, why: String },
    #[error(
        "proxy API {url}: proxy {proxy} listens on {listen:?}, not a loopback address and port the harness can dial"
    )]
    BadListen { url: String, proxy: String, listen: String },
    #[error("proxy API {url}: no fault named {fault:?} on proxy {proxy}")]
    NoSuchFault { url: String, proxy: String, fault: String },
}

impl ApiError {
    /// Bad input (exit 2) rather than a failure while a scenario runs.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, ApiError::BadUrl { .. } | ApiError::NotLoopback { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ApiUrl {
        ApiUrl::parse(s).expect(s)
    }

    #[test]
    fn urls_as_people_write_them() {
        assert_eq!(url("http://127.0.0.1:8474").to_string(), "http://127.0.0.1:8474");
        assert_eq!(url("127.0.0.1:8474/").to_string(), "http://127.0.0.1:8474");
        assert_eq!(url("http://LocalHost:8474/toxiproxy/").to_string(), "http://localhost:8474/toxiproxy");
        assert_eq!(url("http://[::1]:8474").authority(), "[::1]:8474");
        assert_eq!(url("http://127.0.0.1:8474/tp").path("/proxies"), "/tp/proxies");
        assert_eq!(url("http://127.0.0.1:8474").path("/version"), "/version");
    }

    #[test]
    fn bad_urls_say_why() {
        for (given, says) in [
            ("https://127.0.0.1:8474", "only http://"),
            ("http://127.0.0.1", "no port"),
            ("http://127.0.0.1:0", "port 0"),
            ("http://127.0.0.1:99999", "not a number from 1 to 65535"),
            ("http://:8474", "no host"),
            ("http://u:p@127.0.0.1:8474", "user names"),
            ("http://127.0.0.1:8474/?x=1", "query"),
            ("http://[::1:8474", "closing ]"),
            ("http://a b:8474", "not a host name"),
        ] {
            let e = ApiUrl::parse(given).expect_err(given).to_string();
            assert!(e.contains(says), "{given}: {e}");
            assert!(e.starts_with(&format!("proxy API {given:?}")), "{e}");
        }
    }

    #[test]
    fn only_loopback_unless_allowed() {
        for ok in ["http://127.0.0.1:8474", "http://127.9.9.9:1", "http://[::1]:8474", "http://localhost:8474"] {
            assert!(url(ok).check_policy(false).is_ok(), "{ok}");
        }
        for remote in ["http://192.0.2.10:8474", "http://toxiproxy.example.com:8474", "http://10.0.0.1:8474"] {
            let e = url(remote).check_policy(false).expect_err(remote);
            assert!(e.is_bad_input() && e.to_string().contains("--allow-remote-proxy-api"), "{e}");
            assert!(url(remote).check_policy(true).is_ok());
        }
    }
}
