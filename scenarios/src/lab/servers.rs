//! Servers: `POST /api/servers/NAME/ACTION` (stop, kill, start, break-dns,
//! restore-dns), their views and their logs.
//!
//! `break-dns` makes the server's host name unresolvable for every server
//! (the record is gone); `restore-dns` puts its addresses back. Connections
//! already open do not care, as with a real resolver: only new connects
//! (and probes) see it.

use std::sync::Arc;

use harness::hostmap::HostEntry;
use harness::Server;

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
        let server = self.server(name)?.clone();
        let name = server.name();
        let cfg = server.config();
        let hosts = self.world.mesh.hosts();
        let what = match action {
            ServerAction::Stop | ServerAction::Kill => {
                if !server.is_running().await {
                    return Err(LabError::Conflict(format!("{name} is not running")));
                }
                if action == ServerAction::Stop {
                    server.stop().await;
                    self.inner().killed.remove(&name);
                    format!("stopped {name} (a clean stop)")
                } else {
                    server.kill().await;
                    self.inner().killed.insert(name.clone());
                    format!("killed {name}")
                }
            }
            ServerAction::Start => {
                // Checked first: a start binds the ports before it looks.
                if server.is_running().await {
                    return Err(LabError::Conflict(format!("{name} is already running")));
                }
                server.start().await.map_err(|e| match e {
                    harness::HarnessError::AlreadyRunning(_) => {
                        LabError::Conflict(format!("{name} is already running"))
                    }
                    e => LabError::Failed(format!("{name} could not start: {e}")),
                })?;
                self.inner().killed.remove(&name);
                format!("started {name}")
            }
            ServerAction::BreakDns => {
                hosts.set(&cfg.host, HostEntry::Unresolvable);
                format!("broke the DNS record of {} ({name})", cfg.host)
            }
            ServerAction::RestoreDns => {
                hosts.set(&cfg.host, HostEntry::Addresses(cfg.addresses.clone()));
                format!("restored the DNS record of {} ({name})", cfg.host)
            }
        };
        let view = self.server_view(&server).await;
        self.emit("server", &view);
        self.note("trainer", what);
        self.acted();
        Ok(view)
    }

    pub(super) async fn server_views(&self) -> Vec<ServerView> {
        let mut out = Vec::new();
        for s in self.world.mesh.servers() {
            out.push(self.server_view(s).await);
        }
        out
    }

    pub(super) async fn server_view(&self, server: &Arc<Server>) -> ServerView {
        let cfg = server.config();
        let state = if server.is_running().await {
            "running"
        } else if self.inner().killed.contains(&cfg.name) {
            "killed"
        } else {
            "stopped"
        };
        let hosts = self.world.mesh.hosts();
        // Who cannot reach it by name: the record is gone, or a peer's own view differs.
        let mut not_resolved = Vec::new();
        for peer in self.world.mesh.servers().iter().map(|s| s.name()).filter(|p| *p != cfg.name) {
            match hosts.lookup_from(&peer, &cfg.host) {
                Ok(a) if a == cfg.addresses => {}
                Ok(a) => not_resolved.push(format!(
                    "{peer} resolves it to {}",
                    a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
                )),
                Err(_) => not_resolved.push(format!("{peer} cannot resolve it")),
            }
        }
        let dns_detail = match hosts.lookup(&cfg.host) {
            Err(_) => Some(format!("{} does not resolve", cfg.host)),
            Ok(_) if !not_resolved.is_empty() => Some(format!("{}: {}", cfg.host, not_resolved.join("; "))),
            Ok(_) => None,
        };
        ServerView {
            name: cfg.name.clone(),
            flavor: "ds",
            version: cfg.version.to_string(),
            host: cfg.host.clone(),
            address: cfg.bind_ip().to_string(),
            replication_port: cfg.rs.then_some(cfg.replication_port),
            admin_port: cfg.admin_port,
            state,
            dns: if dns_detail.is_some() { "broken" } else { "ok" },
            dns_detail,
            log_files: server.log().files().to_vec(),
        }
    }

    /// `GET /api/servers/NAME/logs?lines=N`: the newest `lines` records.
    pub fn logs(&self, name: &str, lines: usize) -> Result<LogsView, LabError> {
        if lines > MAX_LOG_LINES {
            return Err(LabError::BadRequest(format!("lines must be at most {MAX_LOG_LINES}, not {lines}")));
        }
        let server = self.server(name)?;
        let records = server.log().records();
        let skip = records.len().saturating_sub(lines);
        Ok(LogsView {
            server: server.name(),
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
