//! What an API request can get wrong, each with its HTTP status: 400 for a
//! request that makes no sense, 404 for a name that names nothing, 409 for
//! an action the server's state refuses (starting a running server).

/// A refused or failed lab request.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no server named {name:?} (servers: {known})")]
    UnknownServer { name: String, known: String },
    #[error("no fault with id {0}")]
    UnknownFault(String),
    #[error("no link {link} goes through the fault proxy (proxied links: {known})")]
    UnknownLink { link: String, known: String },
    #[error("unknown action {0:?}: expected stop, kill, start, break-dns or restore-dns")]
    UnknownAction(String),
    #[error("no such route: {0} (docs/lab.md lists them)")]
    NoRoute(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Failed(String),
}

impl LabError {
    /// The HTTP status it answers with.
    pub fn status(&self) -> u16 {
        match self {
            LabError::BadRequest(_) => 400,
            LabError::UnknownServer { .. }
            | LabError::UnknownFault(_)
            | LabError::UnknownLink { .. }
            | LabError::UnknownAction(_)
            | LabError::NoRoute(_) => 404,
            LabError::Conflict(_) => 409,
            LabError::Failed(_) => 500,
        }
    }
}
