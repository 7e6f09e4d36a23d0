//! Servers: `POST /api/servers/NAME/ACTION` (stop, kill, start, break-dns,
//! restore-dns), their views and their logs.
//!
//! `break-dns` makes the server's host name unresolvable for every server
//! (the record is gone); `restore-dns` puts its addresses back. Connections
//! already open do not care, as with a real resolver: only new connects
//! (and probes) see it.

use harness::hostmap::HostEntry;

use super::error::LabError;
use super::state::Lab;
use super::view::{LogLine, LogsView, ServerView};

/// What a server can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerAction {
    Stop,
    Kill,
    Start,
    BreakDns,
    RestoreDns,
}

impl ServerAction {
    pub fn parse(text: &str) -> Result<ServerAction, LabError> {
        Ok(match text {
            "stop" => ServerAction::Stop,
            "kill" => ServerAction::Kill,
            "start" => ServerAction::Start,
            "break-dns" => ServerAction::BreakDns,
            "restore-dns" => ServerAction::RestoreDns,
            other => return Err(LabError::UnknownAction(other.to_owned())),
        })
    }
}

/// The most log records one request returns.
pub const MAX_LOG_LINES: usize = 5000;

impl Lab {
    /// `POST /api/servers/NAME/ACTION`.
    pub async fn server_action(&self, name: &str, action: ServerAction) -> Result<ServerView, LabError> {
        let name = self.server(name)?;
        let facts = self.net.facts(&name).ok_or_else(|| LabError::Failed(format!("{name} has no configuration")))?;
        let hosts = self.net.hosts();
        let what = match action {
            ServerAction::Stop | ServerAction::Kill => {
                if !self.net.is_running(&name).await {
                    return Err(LabError::Conflict(format!("{name} is not running")));
                }
                if action == ServerAction::Stop {
                    self.net.stop(&name).await;
                    self.inner().killed.remove(&name);
                    format!("stopped {name} (a clean stop)")
                } else {
                    self.net.kill(&name).await;
                    self.inner().killed.insert(name.clone());
                    format!("killed {name}")
                }
            }
            ServerAction::Start => {
                // Checked first: a start binds the ports before it looks.
                if self.net.is_running(&name).await {
                    return Err(LabError::Conflict(format!("{name} is already running")));
                }
                self.net.start(&name).await.map_err(|e| match e {
                    harness::HarnessError::AlreadyRunning(_) => {
                        LabError::Conflict(format!("{name} is already running"))
                    }
                    e => LabError::Failed(format!("{name} could not start: {e}")),
                })?;
                self.inner().killed.remove(&name);
                format!("started {name}")
            }
            ServerAction::BreakDns => {
                hosts.set(&facts.host, HostEntry::Unresolvable);
                format!("broke the DNS record of {} ({name})", facts.host)
            }
            ServerAction::RestoreDns => {
                hosts.set(&facts.host, HostEntry::Addresses(facts.addresses.clone()));
                format!("restored the DNS record of {} ({name})", facts.host)
            }
        };
        let view = self.server_view(&name).await;
        self.emit("server", &view);
        self.note("trainer", what);
        self.acted();
        Ok(view)
    }

    pub(super) async fn server_views(&self) -> Vec<ServerView> {
        let mut out = Vec::new();
        for name in self.net.names() {
            out.push(self.server_view(&name).await);
        }
        out
    }

    pub(super) async fn server_view(&self, name: &str) -> ServerView {
        let facts = self.net.facts(name);
        let state = if self.net.is_running(name).await {
            "running"
        } else if self.inner().killed.contains(name) {
            "killed"
        } else {
            "stopped"
        };
        let (host, addresses) = facts.as_ref().map(|f| (f.host.clone(), f.addresses.clone())).unwrap_or_default();
        let hosts = self.net.hosts();
        // Who cannot reach it by name: the record is gone, or a peer's own view differs.
        let mut not_resolved = Vec::new();
        for peer in self.net.names().into_iter().filter(|p| p != name) {
            match hosts.lookup_from(&peer, &host) {
                Ok(a) if a == addresses => {}
                Ok(a) => not_resolved.push(format!(
                    "{peer} resolves it to {}",
                    a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
                )),
                Err(_) => not_resolved.push(format!("{peer} cannot resolve it")),
            }
        }
        let dns_detail = match hosts.lookup(&host) {
            Err(_) => Some(format!("{host} does not resolve")),
            Ok(_) if !not_resolved.is_empty() => Some(format!("{host}: {}", not_resolved.join("; "))),
            Ok(_) => None,
        };
        ServerView {
            name: name.to_owned(),
            flavor: facts.as_ref().map_or("", |f| f.flavor),
            version: facts.as_ref().map(|f| f.version.clone()).unwrap_or_default(),
            host,
            address: facts.as_ref().map(|f| f.address.to_string()).unwrap_or_default(),
            replication_port: facts.as_ref().and_then(|f| f.replication_port),
            admin_port: facts.as_ref().and_then(|f| f.admin_port),
            site: facts.as_ref().and_then(|f| f.site.clone()),
            state,
            dns: if dns_detail.is_some() { "broken" } else { "ok" },
            dns_detail,
            log_files: self.net.log(name).map(|l| l.files().to_vec()).unwrap_or_default(),
        }
    }

    /// `GET /api/servers/NAME/logs?lines=N`: the newest `lines` records.
    pub fn logs(&self, name: &str, lines: usize) -> Result<LogsView, LabError> {
        if lines > MAX_LOG_LINES {
            return Err(LabError::BadRequest(format!("lines must be at most {MAX_LOG_LINES}, not {lines}")));
        }
        let name = self.server(name)?;
        let records = self.net.log(&name).map(|l| l.records()).unwrap_or_default();
        let skip = records.len().saturating_sub(lines);
        Ok(LogsView {
            server: name,
            total: records.len(),
            lines: records
                .iter()
                .enumerate()
                .skip(skip)
                .map(|(i, r)| LogLine { n: i + 1, files: r.files, line: r.line.clone() })
                .collect(),
        })
    }
}
