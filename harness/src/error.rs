//! The harness's error types: one for the wire, one for everything else.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What can be wrong with bytes read from a replication connection.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("frame length prefix is not 8 hex digits: {prefix:?}")]
    BadLengthPrefix { prefix: String },
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge { len: usize, max: usize },
    #[error("frame has an empty payload")]
    EmptyPayload,
    #[error("unknown message type {0}")]
    UnknownType(u8),
    #[error("{msg}: field {field} is missing or not NUL-terminated")]
    MissingField { msg: &'static str, field: &'static str },
    #[error("{msg}: field {field} is not valid UTF-8")]
    BadText { msg: &'static str, field: &'static str },
    #[error("{msg}: field {field} has a bad value {text:?}")]
    BadNumber { msg: &'static str, field: &'static str, text: String },
    #[error("{msg}: {extra} unexpected bytes after the last field")]
    TrailingBytes { msg: &'static str, extra: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl WireError {
    /// True when the error is the transport's, not the bytes'.
    pub fn is_io(&self) -> bool {
        matches!(self, WireError::Io(_))
    }
}

/// Errors of the harness API.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("server {server}: cannot bind {what} on {addr}: {source}")]
    Bind { server: String, what: &'static str, addr: SocketAddr, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("unknown server {0:?}")]
    UnknownServer(String),
    #[error("server {0} is already running")]
    AlreadyRunning(String),
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout { what: String, waited: std::time::Duration },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}
