//! A case folder (`spec/cli.md`): optional `topology.toml`, `servers/NAME/…`
//! files and `probes.jsonl`; which family each server folder belongs to.

use std::path::{Path, PathBuf};

use crate::error::DiagnosisError;
use crate::input::ReadStats;
pub use crate::lines::for_each_line;
pub use crate::topology::{Connector, TopoServer, Topology};

/// The three families of `spec/verdicts.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flavor {
    Ds,
    R389,
    Exchange,
}

impl Flavor {
    /// As `topology.toml` and verdict ids write it.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Ds => "ds",
            Flavor::R389 => "389",
            Flavor::Exchange => "exchange",
        }
    }

    pub fn parse(s: &str) -> Option<Flavor> {
        [Flavor::Ds, Flavor::R389, Flavor::Exchange].into_iter().find(|f| s.eq_ignore_ascii_case(f.name()))
    }
}

/// Files that only one family's servers have: they tell a server folder's
/// flavor when `topology.toml` does not (`errors` is in both ds and 389).
const MARKERS: &[(&str, Flavor)] =
    &[("agreements.ldif", Flavor::R389), ("replica.ldif", Flavor::R389), ("events.log", Flavor::Exchange)];

/// What a case folder holds.
#[derive(Debug, Clone)]
pub struct Case {
    pub root: PathBuf,
    pub topology: Option<Topology>,
    /// Server folder names under `servers/`, sorted.
    pub servers: Vec<String>,
    /// Every regular file of the case, relative (`topology.toml`,
    /// `servers/ds-1/errors`), sorted; sub-folders of a server (`certs/`)
    /// are not case files.
    pub files: Vec<String>,
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
            Ok(text) => {
                let lines = text.lines().count() as u64;
                stats.read.entry("topology.toml".into()).or_default().lines = lines;
                match Topology::parse(&text) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        stats.unreadable.insert("topology.toml".into(), e);
                        None
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                stats.unreadable.insert("topology.toml".into(), e.to_string());
                None
            }
        };
        let mut files = regular_files(root, "", stats);
        let mut servers = Vec::new();
        match std::fs::read_dir(root.join("servers")) {
            Ok(rd) => {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        files.extend(regular_files(&e.path(), &format!("servers/{name}/"), stats));
                        servers.push(name);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                stats.unreadable.insert("servers".into(), e.to_string());
            }
        }
        servers.sort();
        files.sort();
        if servers.is_empty() && topology.is_none() && !root.join("probes.jsonl").exists() {
            return Err(DiagnosisError::Unreadable {
                path: root.to_owned(),
                reason: "no servers/ folder, topology.toml or probes.jsonl: not a case folder".into(),
            });
        }
        Ok(Case { root: root.to_owned(), topology, servers, files })
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

    /// A server folder's flavor: `topology.toml`'s, else a file only that
    /// family has, else an `errors` log in 389's format; `None` when nothing tells.
    pub fn flavor(&self, server: &str) -> Option<Flavor> {
        if let Some(f) = self.topo_server(server).and_then(|s| s.flavor.as_deref()).and_then(Flavor::parse) {
            return Some(f);
        }
        MARKERS.iter().find(|(file, _)| self.exists(&Case::rel(server, file))).map(|(_, f)| *f).or_else(|| {
            // An `errors` log in 389's own format (title block, `- LEVEL -` lines).
            crate::r389::errlog::sniff(&self.path(&Case::rel(server, "errors"))).then_some(Flavor::R389)
        })
    }

    /// The server folders a family reads: its own, and those nothing assigns.
    pub fn servers_of(&self, flavor: Flavor) -> impl Iterator<Item = &String> + '_ {
        self.servers.iter().filter(move |s| self.flavor(s).is_none_or(|f| f == flavor))
    }

    /// Does any of `flavor`'s server folders hold one of `files`?
    pub fn any_file(&self, flavor: Flavor, files: &[&str]) -> bool {
        self.servers_of(flavor).any(|s| files.iter().any(|f| self.exists(&Case::rel(s, f))))
    }
}

/// The regular files directly in `dir`, as `prefix` + name.
fn regular_files(dir: &Path, prefix: &str, stats: &mut ReadStats) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| format!("{prefix}{}", e.file_name().to_string_lossy()))
            .collect(),
        Err(e) => {
            let at = if prefix.is_empty() { "." } else { prefix.trim_end_matches('/') };
            stats.unreadable.insert(at.to_owned(), e.to_string());
            Vec::new()
        }
    }
}
