//! The diagnosis crate's error: only a case that cannot be read at all is
//! fatal; everything inside it is counted and reported instead.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DiagnosisError {
    #[error("cannot read case {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
}
