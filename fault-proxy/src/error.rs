//! The proxy's error type; each variant knows its HTTP status and the message
//! Toxiproxy would give.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing required field: {0}")]
    MissingField(&'static str),
    #[error("proxy not found")]
    ProxyNotFound,
    #[error("toxic not found")]
    ToxicNotFound,
    #[error("proxy already exists")]
    ProxyExists,
    #[error("toxic already exists")]
    ToxicExists,
    #[error("listen {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("{addr} is not a loopback address: pass --allow-remote to listen on it")]
    NotLoopback { addr: SocketAddr },
    #[error("User agent not allowed")]
    UserAgent,
    #[error("cannot read {path}: {reason}")]
    Config { path: String, reason: String },
}

impl ProxyError {
    /// The HTTP status Toxiproxy answers with.
    pub fn status(&self) -> u16 {
        match self {
            ProxyError::BadRequest(_) | ProxyError::MissingField(_) | ProxyError::Config { .. } => 400,
            ProxyError::ProxyNotFound | ProxyError::ToxicNotFound => 404,
            ProxyError::ProxyExists | ProxyError::ToxicExists => 409,
            ProxyError::UserAgent => 403,
            ProxyError::Listen { .. } | ProxyError::NotLoopback { .. } => 500,
        }
    }
}
