//! A case folder (`spec/cli.md`): optional `topology.toml`, `servers/NAME/…`
//! files and `probes.jsonl`. Files are read line by line, never whole.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::DiagnosisError;
use crate::model::ReadStats;

/// One server as `topology.toml` describes it (every field optional).
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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Connector {
    pub site: String,
    pub bridgehead: Option<String>,
    pub inbound_sites: Vec<String>,
    /// Activations a day.
    pub schedule: Option<u32>,
    pub detail_view: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Topology {
    pub collected_at: Option<OffsetDateTime>,
    pub servers: Vec<TopoServer>,
    pub connectors: Vec<Connector>,
}

impl Topology {
    pub fn server(&self, name: &str) -> Option<&TopoServer> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// Reads `topology.toml`; keys it does not know are ignored.
    pub fn parse(text: &str) -> Result<Topology, String> {
        let v: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
        let s = |t: &toml::Value, k: &str| t.get(k).and_then(|x| x.as_str()).map(str::to_owned);
        let list = |t: &toml::Value, k: &str| -> Vec<String> {
            t.get(k)
                .and_then(|x| x.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let port = |t: &toml::Value, k: &str| {
            t.get("ports").and_then(|p| p.get(k)).and_then(|x| x.as_integer()).and_then(|n| u16::try_from(n).ok())
        };
        let collected_at = match v.get("collected_at") {
            Some(toml::Value::String(t)) => {
                Some(OffsetDateTime::parse(t, &Rfc3339).map_err(|e| format!("collected_at {t:?}: {e}"))?)
            }
            Some(toml::Value::Datetime(d)) => OffsetDateTime::parse(&d.to_string(), &Rfc3339).ok(),
            _ => None,
        };
        let servers = v
            .get("servers")
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        Some(TopoServer {
                            name: s(t, "name")?,
                            flavor: s(t, "flavor"),
                            version: s(t, "version").or_else(|| t.get("version").map(|x| x.to_string())),
                            host: s(t, "host"),
                            addresses: list(t, "addresses"),
                            server_id: s(t, "server_id")
                                .or_else(|| t.get("server_id").and_then(|x| x.as_integer()).map(|n| n.to_string())),
                            domains: list(t, "domains"),
                            replication_port: port(t, "replication"),
                            admin_port: port(t, "admin"),
                            ldap_port: port(t, "ldap"),
                            truststore: s(t, "truststore"),
                            site: s(t, "site"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let connectors = v
            .get("connectors")
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        Some(Connector {
                            site: s(t, "site")?,
                            bridgehead: s(t, "bridgehead"),
                            inbound_sites: list(t, "inbound_sites"),
                            schedule: t
                                .get("schedule")
                                .and_then(|x| x.as_integer())
                                .and_then(|n| u32::try_from(n).ok()),
                            detail_view: s(t, "detail_view"),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Topology { collected_at, servers, connectors })
    }
}

/// What a case folder holds.
#[derive(Debug, Clone)]
pub struct Case {
    pub root: PathBuf,
    pub topology: Option<Topology>,
    /// Server folder names under `servers/`, sorted.
    pub servers: Vec<String>,
}

impl Case {
    /// Opens a case folder. Fails only when the folder itself cannot be read;
    /// a bad file inside is reported in the read statistics.
    pub fn open(root: &Path, stats: &mut ReadStats) -> Result<Case, DiagnosisError> {
        let meta = std::fs::metadata(root)
            .map_err(|e| DiagnosisError::Unreadable { path: root.to_owned(), reason: e.to_string() })?;
        if !meta.is_dir() {
            return Err(DiagnosisError::Unreadable { path: root.to_owned(), reason: "not a folder".into() });
        }
        let topology = match std::fs::read_to_string(root.join("topology.toml")) {
            Ok(text) => match Topology::parse(&text) {
                Ok(t) => Some(t),
                Err(e) => {
                    stats.unreadable.insert("topology.toml".into(), e);
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                stats.unreadable.insert("topology.toml".into(), e.to_string());
                None
            }
        };
        let mut servers = Vec::new();
        match std::fs::read_dir(root.join("servers")) {
            Ok(rd) => {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        servers.push(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                stats.unreadable.insert("servers".into(), e.to_string());
            }
        }
        servers.sort();
        if servers.is_empty() && topology.is_none() && !root.join("probes.jsonl").exists() {
            return Err(DiagnosisError::Unreadable {
                path: root.to_owned(),
                reason: "no servers/ folder, topology.toml or probes.jsonl: not a case folder".into(),
            });
        }
        Ok(Case { root: root.to_owned(), topology, servers })
    }

    /// `servers/NAME/FILE` relative to the case, as evidence names it.
    pub fn rel(server: &str, file: &str) -> String {
        format!("servers/{server}/{file}")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).is_file()
    }

    pub fn topo_server(&self, name: &str) -> Option<&TopoServer> {
        self.topology.as_ref().and_then(|t| t.server(name))
    }
}

/// Calls `f(line_number, line, stats)` for every line of a file, streaming. Bytes
/// that are not UTF-8 are replaced and counted; an unreadable file is recorded.
/// Returns false when the file is missing or unreadable.
pub fn for_each_line(
    case: &Case,
    rel: &str,
    stats: &mut ReadStats,
    mut f: impl FnMut(u64, &str, &mut ReadStats),
) -> bool {
    let file = match File::open(case.path(rel)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
        Err(e) => {
            stats.unreadable.insert(rel.to_owned(), e.to_string());
            return false;
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(512);
    let mut n = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                stats.unreadable.insert(rel.to_owned(), format!("after line {n}: {e}"));
                break;
            }
        }
        n += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        match std::str::from_utf8(&buf) {
            Ok(line) => f(n, line, stats),
            Err(_) => {
                stats.non_utf8(rel);
                f(n, &String::from_utf8_lossy(&buf), stats);
            }
        }
    }
    true
}
