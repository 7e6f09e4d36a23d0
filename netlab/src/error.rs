//! The crate's error type: what failed, on which test host, with the
//! command's own words.

use std::io;

/// Why a lab, a host or a rule could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The machine cannot make test hosts (not root, no `ip` or `nft`, no
    /// namespaces): the reason says which.
    #[error("the netns network cannot run here: {0}")]
    Unavailable(String),
    /// A command (`ip …`, `nft …`) could not start, or ended with an error.
    #[error("{what}: {detail}")]
    Command { what: String, detail: String },
    /// A command took longer than its bound and was killed.
    #[error("{what}: no answer within {seconds:.1}s (killed)")]
    CommandTimeout { what: String, seconds: f64 },
    /// A host's worker thread (the one that entered its namespace) failed.
    #[error("test host {host}: {what}: {source}")]
    Host {
        host: String,
        what: &'static str,
        #[source]
        source: io::Error,
    },
    /// 198.18.0.0/15 is used up by this process's live labs.
    #[error("no free address left in 198.18.0.0/15 for {wanted} more test hosts")]
    NoAddress { wanted: usize },
    /// A name or a number this crate refuses (a chain name, an empty lab).
    #[error("{0}")]
    Invalid(String),
}
