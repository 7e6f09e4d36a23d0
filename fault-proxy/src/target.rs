//! Which connections a toxic touches: a client address or CIDR block, a
//! range of client ports, one listed connection.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Which connections a toxic touches (all given criteria must match).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A client address, or a CIDR block such as `127.0.0.0/24`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Inclusive range of client ports, `[from, to]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ports: Option<[u16; 2]>,
    /// One listed connection, by the id `GET /proxies/{p}/connections` shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<u64>,
}

impl Target {
    pub fn is_empty(&self) -> bool {
        self.client.is_none() && self.client_ports.is_none() && self.connection.is_none()
    }

    /// Checks the target and returns its address matcher. A bad address is
    /// an error naming it, never a target that matches everyone.
    pub fn compile(&self) -> Result<Option<Cidr>, FieldError> {
        if let Some([a, b]) = self.client_ports {
            if a > b {
                return Err(FieldError::invalid("target.client_ports", format!("[{a}, {b}] is not a range")));
            }
        }
        if let Some(c) = self.connection {
            crate::bounds::check_value("target.connection", &c.into(), crate::bounds::Bound::Count)?;
        }
        self.client.as_deref().map(Cidr::parse).transpose()
    }

    /// True when a connection from `client` with id `id` is targeted.
    pub fn matches(&self, cidr: Option<&Cidr>, client: SocketAddr, id: u64) -> bool {
        cidr.is_none_or(|c| c.contains(client.ip()))
            && self.client_ports.is_none_or(|[a, b]| (a..=b).contains(&client.port()))
            && self.connection.is_none_or(|c| c == id)
    }
}

/// An address block (a bare address is a block of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, FieldError> {
        let net = match text.parse::<IpAddr>() {
            Ok(addr) => Ok(IpNet::from(addr)),
            Err(_) => text.parse::<IpNet>(),
        };
        net.map(Cidr)
            .map_err(|_| FieldError::invalid("target.client", format!("{text:?} is not an address or CIDR block")))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    #[test]
    fn cidr_targets() {
        let c = Cidr::parse("127.0.0.0/24").expect("cidr");
        assert!(c.contains("127.0.0.9".parse().expect("ip")));
        assert!(!c.contains("127.0.1.9".parse().expect("ip")));
        assert!(Cidr::parse("::1").expect("v6").contains("::1".parse().expect("ip")));
        assert!(Cidr::parse("0.0.0.0/0").expect("all").contains("10.1.2.3".parse().expect("ip")));
        let t = Target { client: Some("127.0.0.2".into()), client_ports: Some([1000, 2000]), connection: None };
        let cidr = t.compile().expect("ok");
        assert!(t.matches(cidr.as_ref(), a("127.0.0.2:1500"), 1));
        assert!(!t.matches(cidr.as_ref(), a("127.0.0.2:2500"), 1));
        assert!(!t.matches(cidr.as_ref(), a("127.0.0.3:1500"), 1));
    }

    #[test]
    fn bad_targets_name_the_field() {
        for bad in ["nope", "127.0.0.1/33", "::1/129", "127.0.0.1/x"] {
            let t = Target { client: Some(bad.into()), ..Target::default() };
            assert_eq!(t.compile().expect_err(bad).field(), "target.client");
        }
        let t = Target { client_ports: Some([9, 1]), ..Target::default() };
        assert!(t.compile().expect_err("reversed").to_string().contains("not a range"));
        let t = Target { connection: Some(u64::MAX), ..Target::default() };
        assert_eq!(t.compile().expect_err("huge id").field(), "target.connection");
    }
}
