//! Which scenarios a run takes: files and folders given, or the bundled
//! library (embedded in the binary, so `replharness run` works from anywhere).

use std::path::Path;

use crate::format::{self, FormatError, Scenario};

/// The bundled library, `scenarios/library/*.toml`.
pub const LIBRARY: &[(&str, &str)] = &[
    ("library/healthy-mesh.toml", include_str!("../library/healthy-mesh.toml")),
    ("library/firewall-drop.toml", include_str!("../library/firewall-drop.toml")),
    ("library/firewall-reject.toml", include_str!("../library/firewall-reject.toml")),
    ("library/remote-killed.toml", include_str!("../library/remote-killed.toml")),
    ("library/dns-unresolvable.toml", include_str!("../library/dns-unresolvable.toml")),
    ("library/dns-wrong-address.toml", include_str!("../library/dns-wrong-address.toml")),
    ("library/admin-port-blocked.toml", include_str!("../library/admin-port-blocked.toml")),
    ("library/connection-flapping.toml", include_str!("../library/connection-flapping.toml")),
    ("library/generation-id-restore.toml", include_str!("../library/generation-id-restore.toml")),
    ("library/ds-cannot-reach-local-rs.toml", include_str!("../library/ds-cannot-reach-local-rs.toml")),
    ("library/tls-untrusted-issuer.toml", include_str!("../library/tls-untrusted-issuer.toml")),
    ("library/tls-expired-certificate.toml", include_str!("../library/tls-expired-certificate.toml")),
    ("library/tls-name-mismatch.toml", include_str!("../library/tls-name-mismatch.toml")),
    ("library/tls-firewall-drop.toml", include_str!("../library/tls-firewall-drop.toml")),
];

/// One loaded scenario with its source.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: String,
    pub text: String,
    pub scenario: Scenario,
}

/// Why a suite cannot be loaded (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{0}")]
    Format(#[from] FormatError),
    #[error("{path}: {reason}")]
    Read { path: String, reason: String },
}

fn load_text(file: &str, text: String) -> Result<Loaded, SuiteError> {
    let scenario = format::parse(file, &text)?;
    Ok(Loaded { file: file.to_owned(), text, scenario })
}

/// Loads the given files and folders (`*.toml` inside, sorted), or the library.
pub fn load(paths: &[std::path::PathBuf]) -> Result<Vec<Loaded>, SuiteError> {
    if paths.is_empty() {
        return LIBRARY.iter().map(|(f, t)| load_text(f, (*t).to_owned())).collect();
    }
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| SuiteError::Read { path: p.display().to_string(), reason: e.to_string() })?;
        if meta.is_dir() {
            let mut inside: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| SuiteError::Read { path: p.display().to_string(), reason: e.to_string() })?
                .flatten()
                .map(|e| e.path())
                .filter(|x| x.extension().is_some_and(|e| e == "toml"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    files
        .iter()
        .map(|f: &std::path::PathBuf| {
            let text = std::fs::read_to_string(f)
                .map_err(|e| SuiteError::Read { path: f.display().to_string(), reason: e.to_string() })?;
            load_text(&display(f), text)
        })
        .collect()
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
