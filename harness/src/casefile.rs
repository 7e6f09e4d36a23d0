//! The case folder, as `spec/cli.md` defines it: `topology.toml` with
//! `collected_at` and one `[[servers]]` entry per server, and each server's
//! files under `servers/NAME/`.
//!
//! Family-neutral: a family describes each of its servers as a
//! [`CaseServer`] (its entry and the files a support engineer would copy off
//! it: DS `errors` and `replication`, 389 `errors` and `agreements.ldif`,
//! Exchange `events.log`, public certificates), and puts any top-level table
//! of its own (Exchange `[[connectors]]`) in [`Case::extra`].

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::HarnessError;

/// A whole case folder, in memory.
#[derive(Debug, Clone)]
pub struct Case {
    /// When the case was taken (virtual time).
    pub collected_at: OffsetDateTime,
    pub servers: Vec<CaseServer>,
    /// Further top-level tables of `topology.toml`, written after `servers`.
    pub extra: toml::Table,
}

/// One server: its `topology.toml` entry and its files.
#[derive(Debug, Clone)]
pub struct CaseServer {
    pub entry: ServerEntry,
    /// Written under `servers/NAME/`.
    pub files: Vec<CaseFile>,
}

/// A `[[servers]]` entry; empty fields are left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerEntry {
    pub name: String,
    /// `ds`, `389` or `exchange`.
    pub flavor: String,
    pub version: String,
    pub host: String,
    pub addresses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// Exchange servers carry their site instead of ports and domains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Ports::is_empty")]
    pub ports: Ports,
}

/// The ports a server listens on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ports {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ldap: Option<u16>,
}

impl Ports {
    fn is_empty(&self) -> bool {
        self.replication.is_none() && self.admin.is_none() && self.ldap.is_none()
    }
}

/// One file of a server, by its path under `servers/NAME/` (`errors`, `certs/ca.pem`).
#[derive(Debug, Clone)]
pub struct CaseFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

impl CaseFile {
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        Self { path: path.into(), contents: contents.into() }
    }
}

/// Anything that can say what its case folder holds now (a topology).
pub trait CaseSource {
    fn case(&self) -> Case;
}

#[derive(Serialize)]
struct TopologyToml<'a> {
    collected_at: String,
    servers: Vec<&'a ServerEntry>,
    #[serde(flatten)]
    extra: &'a toml::Table,
}

fn write(path: &Path, contents: &[u8]) -> Result<(), HarnessError> {
    std::fs::write(path, contents).map_err(|source| HarnessError::Write { path: path.to_owned(), source })
}

fn mkdir(path: &Path) -> Result<(), HarnessError> {
    std::fs::create_dir_all(path).map_err(|source| HarnessError::Write { path: path.to_owned(), source })
}

/// A relative path that stays inside its server's folder.
fn inside(path: &Path) -> bool {
    path.components().all(|c| matches!(c, std::path::Component::Normal(_))) && path.components().next().is_some()
}

impl Case {
    /// The `topology.toml` text.
    pub fn topology_toml(&self) -> Result<String, HarnessError> {
        let collected_at = self
            .collected_at
            .format(&Rfc3339)
            .map_err(|e| HarnessError::Config(format!("topology.toml: collected_at {}: {e}", self.collected_at)))?;
        let topo =
            TopologyToml { collected_at, servers: self.servers.iter().map(|s| &s.entry).collect(), extra: &self.extra };
        toml::to_string(&topo).map_err(|e| HarnessError::Config(format!("topology.toml: {e}")))
    }

    /// Writes the folder into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> Result<(), HarnessError> {
        let text = self.topology_toml()?;
        mkdir(dir)?;
        for s in &self.servers {
            let sdir = dir.join("servers").join(&s.entry.name);
            if !inside(Path::new(&s.entry.name)) || s.entry.name.contains(['/', '\\']) {
                return Err(HarnessError::Config(format!("server name {:?} cannot be a folder name", s.entry.name)));
            }
            mkdir(&sdir)?;
            for f in &s.files {
                if !inside(&f.path) {
                    return Err(HarnessError::Config(format!(
                        "server {}: case file {} is not a path inside its folder",
                        s.entry.name,
                        f.path.display()
                    )));
                }
                let path = sdir.join(&f.path);
                if let Some(parent) = path.parent() {
                    mkdir(parent)?;
                }
                write(&path, &f.contents)?;
            }
        }
        write(&dir.join("topology.toml"), text.as_bytes())
    }
}

/// Writes `source`'s case folder into `dir` (created if missing) as it is now.
pub fn write_case(source: &impl CaseSource, dir: &Path) -> Result<(), HarnessError> {
    source.case().write(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds_entry() -> ServerEntry {
        ServerEntry {
            name: "ds-1".into(),
            flavor: "ds".into(),
            version: "7.1".into(),
            host: "ds-1.example.com".into(),
            addresses: vec!["127.0.0.1".into()],
            server_id: Some("ds-1".into()),
            domains: vec!["cn=schema".into(), "dc=example,dc=com".into()],
            site: None,
            ports: Ports { replication: Some(8989), admin: Some(4444), ldap: None },
        }
    }

    #[test]
    fn topology_toml_has_the_spec_shape_and_leaves_out_empty_fields() {
        let mut extra = toml::Table::new();
        let mut connector = toml::Table::new();
        connector.insert("site".into(), "LONDON".into());
        extra.insert("connectors".into(), toml::Value::Array(vec![connector.into()]));
        let exchange = ServerEntry {
            name: "BH-LONDON".into(),
            flavor: "exchange".into(),
            version: "5.5".into(),
            host: "bh-london.contoso.example".into(),
            site: Some("LONDON".into()),
            ..ServerEntry::default()
        };
        let case = Case {
            collected_at: time::macros::datetime!(2026-11-22 09:45:00 UTC),
            servers: vec![
                CaseServer { entry: ds_entry(), files: vec![] },
                CaseServer { entry: exchange, files: vec![] },
            ],
            extra,
        };
        let text = case.topology_toml().expect("toml");
        let back: toml::Table = text.parse().expect("parses");
        assert_eq!(back["collected_at"].as_str(), Some("2026-11-22T09:45:00Z"));
        let servers = back["servers"].as_array().expect("servers");
        assert_eq!(servers[0]["ports"]["replication"].as_integer(), Some(8989));
        assert_eq!(servers[0]["server_id"].as_str(), Some("ds-1"));
        assert!(servers[0]["ports"].get("ldap").is_none());
        assert!(servers[1].get("ports").is_none() && servers[1].get("domains").is_none());
        assert_eq!(servers[1]["site"].as_str(), Some("LONDON"));
        assert_eq!(back["connectors"][0]["site"].as_str(), Some("LONDON"));
    }

    #[test]
    fn files_land_under_their_server_and_may_not_leave_it() {
        let dir = tempfile::tempdir().expect("dir");
        let mut case = Case {
            collected_at: time::macros::datetime!(2026-11-22 09:45:00 UTC),
            servers: vec![CaseServer {
                entry: ds_entry(),
                files: vec![CaseFile::new("errors", "a line\n"), CaseFile::new("certs/ca.pem", "PEM")],
            }],
            extra: toml::Table::new(),
        };
        case.write(dir.path()).expect("written");
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).expect(p);
        assert_eq!(read("servers/ds-1/errors"), "a line\n");
        assert_eq!(read("servers/ds-1/certs/ca.pem"), "PEM");
        assert!(read("topology.toml").contains("name = \"ds-1\""));
        case.servers[0].files = vec![CaseFile::new("../escape", "x")];
        let err = case.write(dir.path()).expect_err("outside");
        assert!(err.to_string().contains("../escape"), "{err}");
        assert!(!dir.path().join("servers/escape").exists());
    }

    #[test]
    fn a_start_time_rfc_3339_cannot_write_is_an_error_not_an_empty_stamp() {
        // Regression: collected_at was written as "" when formatting failed.
        let case = Case {
            collected_at: time::macros::datetime!(-0001-01-01 00:00:00 UTC),
            servers: vec![],
            extra: toml::Table::new(),
        };
        let err = case.topology_toml().expect_err("year -1 has no RFC 3339 form");
        assert!(err.to_string().contains("collected_at"), "{err}");
    }
}
