//! The case folder a scenario writes and the engine (or analyzer) reads: a
//! `tempfile` directory removed when the scenario ends, or `--keep DIR/NAME`.

use std::path::{Path, PathBuf};

use harness::Mesh;

use crate::error::Error;
use crate::probe::ProbeLine;

pub(crate) enum CaseDir {
    Kept(PathBuf),
    Temporary(tempfile::TempDir),
}

/// A folder name from a scenario name: letters, digits and `-`.
fn folder_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

impl CaseDir {
    pub fn new(keep: Option<&Path>, name: &str) -> Result<CaseDir, Error> {
        let safe = folder_name(name);
        match keep {
            Some(root) => {
                let dir = root.join(safe);
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).map_err(|source| Error::CaseFolder { path: dir.clone(), source })?;
                }
                std::fs::create_dir_all(&dir).map_err(|source| Error::CaseFolder { path: dir.clone(), source })?;
                Ok(CaseDir::Kept(dir))
            }
            None => tempfile::Builder::new()
                .prefix(&format!("replharness-{safe}-"))
                .tempdir()
                .map(CaseDir::Temporary)
                .map_err(|source| Error::CaseFolder { path: std::env::temp_dir(), source }),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            CaseDir::Kept(p) => p,
            CaseDir::Temporary(t) => t.path(),
        }
    }

    /// The kept folder, if any.
    pub fn kept(&self) -> Option<PathBuf> {
        match self {
            CaseDir::Kept(p) => Some(p.clone()),
            CaseDir::Temporary(_) => None,
        }
    }

    /// The mesh's case files and `probes.jsonl`.
    pub fn write(&self, mesh: &Mesh, probes: &[ProbeLine]) -> Result<(), Error> {
        harness::casefile::write_case(mesh, self.path())?;
        let mut lines = String::new();
        for p in probes {
            // A probe line is plain strings and numbers: it always serializes.
            if let Ok(l) = serde_json::to_string(p) {
                lines.push_str(&l);
                lines.push('\n');
            }
        }
        let file = self.path().join("probes.jsonl");
        std::fs::write(&file, lines).map_err(|source| Error::CaseFolder { path: file, source })
    }
}

impl CaseDir {
    /// Appends the `[network]` table to `topology.toml`: which network the
    /// case ran on and, for test hosts, their namespaces, addresses and TCP
    /// counters (readers ignore keys they do not know).
    pub fn note_network(&self, network: &toml::Table) -> Result<(), Error> {
        let mut wrapper = toml::Table::new();
        wrapper.insert("network".into(), toml::Value::Table(network.clone()));
        let text = toml::to_string(&wrapper).unwrap_or_default();
        let file = self.path().join("topology.toml");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .map_err(|source| Error::CaseFolder { path: file.clone(), source })?;
        std::io::Write::write_all(&mut f, format!("\n{text}").as_bytes())
            .map_err(|source| Error::CaseFolder { path: file, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_case_folder_goes_when_dropped_and_a_kept_one_stays() {
        let t = CaseDir::new(None, "a b/c").expect("temp");
        let p = t.path().to_owned();
        assert!(
            p.is_dir() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("replharness-a-b-c-"))
        );
        assert_eq!(t.kept(), None);
        drop(t);
        assert!(!p.exists());
        let root = tempfile::tempdir().expect("root");
        let k = CaseDir::new(Some(root.path()), "x").expect("kept");
        std::fs::write(k.path().join("old"), "").expect("write");
        let again = CaseDir::new(Some(root.path()), "x").expect("kept again");
        assert!(!again.path().join("old").exists(), "a kept folder starts empty");
        assert_eq!(again.kept(), Some(root.path().join("x")));
    }
}
