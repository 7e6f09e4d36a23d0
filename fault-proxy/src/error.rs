//! The proxy's error type; each variant knows its HTTP status and the message
//! Toxiproxy would give. [`FieldError`] names the field of a toxic that is
//! refused, so the API, the config file and the scenario files that embed
//! toxics all say the same thing.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("{0}")]
    BadRequest(String),
    /// A field of a toxic is out of its bounds, unknown or malformed.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// A toxic's `type` is none this proxy knows (Toxiproxy's message).
    #[error("invalid toxic type")]
    InvalidToxicType,
    /// A toxic's `stream` is not one it takes (Toxiproxy's message).
    #[error("stream was invalid, can be either upstream or downstream")]
    InvalidStream,
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
            ProxyError::BadRequest(_)
            | ProxyError::Invalid(_)
            | ProxyError::InvalidToxicType
            | ProxyError::InvalidStream
            | ProxyError::MissingField(_)
            | ProxyError::Config { .. } => 400,
            ProxyError::ProxyNotFound | ProxyError::ToxicNotFound => 404,
            ProxyError::ProxyExists | ProxyError::ToxicExists => 409,
            ProxyError::UserAgent => 403,
            ProxyError::Listen { .. } | ProxyError::NotLoopback { .. } => 500,
        }
    }
}

impl ProxyError {
    /// The path of the toxic's field this error is about, if it is about
    /// one (`type`, `stream`, `attributes.latency`, …): where a scenario
    /// file points its line and column.
    pub fn field(&self) -> Option<&str> {
        match self {
            ProxyError::Invalid(e) => Some(e.field()),
            ProxyError::InvalidToxicType => Some("type"),
            ProxyError::InvalidStream => Some("stream"),
            _ => None,
        }
    }
}

/// A refused field of a toxic. `field` is its path in the toxic's JSON
/// (`attributes.latency`, `schedule.flap.on_ms`, `target.client`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A number above the field's bound (see [`crate::bounds`]).
    #[error("{field}: {value} is out of range: at most {max} ({what})")]
    TooLarge { field: String, value: String, max: u64, what: &'static str },
    /// A negative number where only 0 or more makes sense.
    #[error("{field}: {value} is negative: it must be 0 or more")]
    Negative { field: String, value: String },
    /// A value of the wrong JSON type (a string for a number, a fraction for a whole number …).
    #[error("{field}: expected {expected}, got {got}")]
    WrongType { field: String, expected: &'static str, got: String },
    /// A key the object does not have (a misspelt attribute, say).
    #[error("{field}: unknown key ({known})")]
    UnknownKey { field: String, known: String },
    /// A value of the right type that still makes no sense.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl FieldError {
    /// The path of the refused field.
    pub fn field(&self) -> &str {
        match self {
            FieldError::TooLarge { field, .. }
            | FieldError::Negative { field, .. }
            | FieldError::WrongType { field, .. }
            | FieldError::UnknownKey { field, .. }
            | FieldError::Invalid { field, .. } => field,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
        FieldError::Invalid { field: field.into(), reason: reason.into() }
    }
}
