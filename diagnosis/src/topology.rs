//! `topology.toml` (`spec/cli.md`): servers, their flavor, version, host
//! names, own addresses, ports, domains; Exchange connectors; when the case
//! was collected. Read with serde derive, tolerant as the contract asks: keys
//! it does not know are ignored (files come from many tools), a version or
//! server id may be written as a number or a string, and a connector schedule
//! it cannot read (a weekly grid) counts as none. A wrong type elsewhere (a
//! port of `"abc"`) makes the file unreadable, with its line and column.

use serde::{Deserialize, Deserializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One server as `topology.toml` describes it (every field optional but the name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopoServer {
    pub name: String,
    pub flavor: Option<String>,
    pub version: Option<String>,
    pub host: Option<String>,
    pub addresses: Vec<String>,
    pub server_id: Option<String>,
    pub domains: Vec<String>,
    pub replication_port: Option<u16>,
    pub admin_port: Option<u16>,
    pub ldap_port: Option<u16>,
    pub truststore: Option<String>,
    pub site: Option<String>,
}

/// An Exchange directory replication connector.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Connector {
    pub site: String,
    #[serde(default)]
    pub bridgehead: Option<String>,
    #[serde(default)]
    pub inbound_sites: Vec<String>,
    /// Activations a day (`None` for a weekly grid, which is not read yet).
    #[serde(default, deserialize_with = "activations")]
    pub schedule: Option<u32>,
    #[serde(default)]
    pub detail_view: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Topology {
    pub collected_at: Option<OffsetDateTime>,
    pub servers: Vec<TopoServer>,
    pub connectors: Vec<Connector>,
}

/// The file as written; turned into [`Topology`] after.
#[derive(Deserialize)]
struct File {
    #[serde(default)]
    collected_at: Option<When>,
    #[serde(default)]
    servers: Vec<ServerEntry>,
    #[serde(default)]
    connectors: Vec<Connector>,
}

#[derive(Deserialize)]
struct ServerEntry {
    name: String,
    #[serde(default)]
    flavor: Option<String>,
    #[serde(default)]
    version: Option<Scalar>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    server_id: Option<Scalar>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    ports: Ports,
    #[serde(default)]
    truststore: Option<String>,
    #[serde(default)]
    site: Option<String>,
}

#[derive(Deserialize, Default)]
struct Ports {
    #[serde(default)]
    replication: Option<u16>,
    #[serde(default)]
    admin: Option<u16>,
    #[serde(default)]
    ldap: Option<u16>,
}

/// `version = "7.1.2"` or `version = 7.1`; `server_id = "ds-1"` or `= 1234`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
        }
    }
}

/// `collected_at = "2026-11-22T09:45:00Z"` or an unquoted TOML date-time.
#[derive(Deserialize)]
#[serde(untagged)]
enum When {
    Text(String),
    Toml(toml::value::Datetime),
}

/// A schedule is activations a day; any other shape (a weekly grid) is not read.
fn activations<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Schedule {
        PerDay(u32),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Schedule::deserialize(d)? {
        Schedule::PerDay(n) => Some(n),
        Schedule::Other(_) => None,
    })
}

impl Topology {
    pub fn server(&self, name: &str) -> Option<&TopoServer> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// Reads `topology.toml`; keys it does not know are ignored.
    pub fn parse(text: &str) -> Result<Topology, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        let collected_at = match file.collected_at {
            None => None,
            Some(When::Text(t)) => {
                Some(OffsetDateTime::parse(&t, &Rfc3339).map_err(|e| format!("collected_at {t:?}: {e}"))?)
            }
            Some(When::Toml(d)) => {
                let t = d.to_string();
                Some(
                    OffsetDateTime::parse(&t, &Rfc3339)
                        .map_err(|e| format!("collected_at {t}: {e} (an RFC 3339 date-time with its offset)"))?,
                )
            }
        };
        let servers = file
            .servers
            .into_iter()
            .map(|s| TopoServer {
                name: s.name,
                flavor: s.flavor,
                version: s.version.map(Scalar::text),
                host: s.host,
                addresses: s.addresses,
                server_id: s.server_id.map(Scalar::text),
                domains: s.domains,
                replication_port: s.ports.replication,
                admin_port: s.ports.admin,
                ldap_port: s.ports.ldap,
                truststore: s.truststore,
                site: s.site,
            })
            .collect();
        Ok(Topology { collected_at, servers, connectors: file.connectors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = r#"
collected_at = "2026-11-22T09:45:00Z"

[[servers]]
name = "ds-paris"
flavor = "ds"
version = "7.1.2"
host = "ds-paris.example.com"
addresses = ["192.0.2.10"]
server_id = "ds-paris"
domains = ["cn=schema", "dc=example,dc=com"]
ports = { replication = 8989, admin = 4444, ldap = 1389 }
truststore = "/opt/ds/config/keystore"   # optional, used in reinit guidance

[[servers]]
name = "BH-LONDON"
flavor = "exchange"
version = "5.5"
host = "bh-london.contoso.example"
site = "LONDON"

[[connectors]]
site = "LONDON"
bridgehead = "BH-LONDON"
inbound_sites = ["PARIS", "NEWYORK"]
schedule = 8            # activations a day (every 3 hours)
detail_view = "15m"
"#;

    #[test]
    fn the_spec_example_reads_whole() {
        let t = Topology::parse(SPEC_EXAMPLE).expect("parses");
        assert_eq!(t.collected_at, Some(time::macros::datetime!(2026-11-22 09:45:00 UTC)));
        let p = t.server("ds-paris").expect("ds-paris");
        assert_eq!((p.replication_port, p.admin_port, p.ldap_port), (Some(8989), Some(4444), Some(1389)));
        assert_eq!(p.domains, ["cn=schema", "dc=example,dc=com"]);
        assert_eq!(p.truststore.as_deref(), Some("/opt/ds/config/keystore"));
        assert_eq!(t.server("BH-LONDON").and_then(|s| s.site.as_deref()), Some("LONDON"));
        assert_eq!(t.connectors[0].schedule, Some(8));
        assert_eq!(t.connectors[0].inbound_sites, ["PARIS", "NEWYORK"]);
    }

    #[test]
    fn unknown_keys_numbers_for_strings_and_toml_datetimes_are_tolerated() {
        let t = Topology::parse(
            "collected_at = 2026-11-22T09:45:00Z\nmade_by = \"other-tool\"\n[[servers]]\nname = \"a\"\nversion = 6.5\nserver_id = 1234\ncolour = \"blue\"\nports = { replication = 8989, jmx = 1689 }\n[[connectors]]\nsite = \"X\"\nschedule = [[1, 0], [2, 3]]\n",
        )
        .expect("parses");
        assert_eq!(t.collected_at, Some(time::macros::datetime!(2026-11-22 09:45:00 UTC)));
        let a = t.server("a").expect("a");
        assert_eq!((a.version.as_deref(), a.server_id.as_deref()), (Some("6.5"), Some("1234")));
        assert_eq!(a.replication_port, Some(8989));
        assert_eq!(t.connectors[0].schedule, None, "a weekly grid is not read");
    }

    #[test]
    fn a_wrong_type_names_its_place() {
        let err = Topology::parse("[[servers]]\nname = \"a\"\nports = { replication = \"abc\" }\n").expect_err("bad");
        assert!(err.contains("line 3"), "{err}");
        let err = Topology::parse("[[servers]]\nname = \"a\"\nports = { admin = 70000 }\n").expect_err("bad");
        assert!(err.contains("line 3"), "{err}");
        let err = Topology::parse("collected_at = \"yesterday\"\n").expect_err("bad");
        assert!(err.contains("collected_at \"yesterday\""), "{err}");
    }
}
