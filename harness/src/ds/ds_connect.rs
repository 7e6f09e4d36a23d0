//! How a directory server finds its replication server
//! (`ReplicationBroker.connectAsDataServer`), and the lines it writes when
//! it cannot.
//!
//! 1. Phase 1 with every configured RS (`performPhaseOneHandshake`,
//!    `keepSession=false`): ServerStartMsg out, the RS's start message in,
//!    StopMsg. A failure here goes to the debug log only.
//! 2. The best RS of those that answered (here: one whose generation id is
//!    ours, or unset, first; then the configured order) gets phase 1 again,
//!    kept (`keepSession=true`). Its failure is logged, once per outage
//!    (`connectionError`): 17 for a `ConnectException`, 212 for a
//!    `SocketTimeoutException`, 119 with the exception's one-line trace for
//!    anything else.
//! 3. Phase 2 on that session (StartSessionMsg out, TopologyMsg in). Its
//!    failure logs 119, every time.
//! 4. Not connected: once per outage, 23 naming the server ids of the RSs
//!    that answered phase 1, or 208 when none did.
//!
//! The RS is named by its configured URL (`ds-2.example.com:8989`) in 17,
//! 212 and 119; 62 and 96 name the connected socket's address, as
//! `host/1.2.3.4:8989` before 4.0 and `1.2.3.4:8989` from 4.0 on
//! (`HostPort`, 2016).

use super::catalog::{self, Dialect};
use super::java::{JavaException, Site};
use super::jsse::{self, ClientFailure};
use super::node::{Node, BAD_GEN_ID_STATUS, NORMAL_STATUS};
use super::session::{self, host_port, readable_address, Conn, RecvError};
use crate::hostmap::split_host_port;
use crate::transport;
use crate::wire::{self, ReplMsg, ServerStart, StartHeader, StartSession};

/// A connected session to an RS.
pub(crate) struct Connected {
    pub conn: Conn,
    pub rs_id: String,
    /// `host/1.2.3.4:8989`: 97 prints this in every version.
    pub readable: String,
    /// What 62, 96, 63 and 180 print.
    pub shown: String,
}

/// What phase 1 learnt of an RS.
#[derive(Debug, Clone)]
struct RsInfo {
    url: String,
    rs_id: String,
    generation_id: i64,
}

/// Why a connection attempt failed, in the product's terms.
#[derive(Debug)]
enum Failure {
    /// `ConnectException`: 17.
    Refused(String),
    /// `SocketTimeoutException`: 212.
    TimedOut(String),
    /// Anything else: 119 with its trace.
    Exception(JavaException),
    /// The server is stopping: nothing to log.
    Stopping,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(why) => write!(f, "ConnectException ({why})"),
            Failure::TimedOut(why) => write!(f, "SocketTimeoutException ({why})"),
            Failure::Exception(e) => write!(f, "{}: {}", e.class, e.message()),
            Failure::Stopping => f.write_str("stopping"),
        }
    }
}

/// One phase-1 exchange; the session, the RS's answer and its addresses.
async fn phase1(node: &Node, base_dn: &str, url: &str) -> Result<(Conn, RsInfo, String, String), Failure> {
    let (host, port) = split_host_port(url).ok_or_else(|| Failure::Exception(JavaException::unknown_host(url)))?;
    let to = node.core.hosts.resolve(&node.cfg.name, host, port).map_err(|e| {
        tracing::debug!("{url}: {e}");
        Failure::Exception(JavaException::unknown_host(host))
    })?;
    let timeout = node.handshake_timeout();
    let stream = tokio::select! {
        _ = node.core.cancel.cancelled() => return Err(Failure::Stopping),
        r = transport::dial(node.cfg.bind_ip(), to, timeout) => r.map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => Failure::TimedOut(e.to_string()),
            _ => Failure::Refused(e.to_string()),
        })?,
    };
    let peer = stream.peer_addr().unwrap_or(to);
    let readable = readable_address(Some(host), peer);
    let shown = if node.dialect() == Dialect::Modern { host_port(peer) } else { readable.clone() };
    let secured = tokio::select! {
        _ = node.core.cancel.cancelled() => return Err(Failure::Stopping),
        r = transport::secure_client(node.tls.as_ref(), host, stream, timeout) => r.map_err(|e| {
            match jsse::client_side(&e, node.jdk()) {
                ClientFailure::Timeout => Failure::TimedOut(e.to_string()),
                ClientFailure::Reset => Failure::Exception(JavaException::reset_in_tls()),
                ClientFailure::Handshake(text) => Failure::Exception(JavaException::tls(text)),
            }
        })?,
    };
    let mut conn = session::framed(secured, node.max_frame_len);
    let start = ReplMsg::ServerStart(ServerStart {
        header: StartHeader {
            protocol_version: wire::PROTOCOL_VERSION,
            generation_id: node.ds_generation(base_dn),
            group_id: 1,
        },
        base_dn: base_dn.to_owned(),
        server_id: node.id().to_owned(),
        server_url: format!("{}:{}", node.cfg.host, node.cfg.admin_port),
        max_receive_delay: 0,
        max_receive_queue: 0,
        max_send_delay: 0,
        max_send_queue: 0,
        window_size: 100_000,
        heartbeat_interval_ms: u64::try_from(node.timings.heartbeat_interval.as_millis()).unwrap_or(u64::MAX),
        ssl_encryption: node.tls.is_some() && node.cfg.ssl_encryption,
        server_state: Vec::new(),
    });
    let exchange = async {
        session::send(&mut conn, start, timeout)
            .await
            .map_err(|e| Failure::Exception(JavaException::from_wire(&e, node.jdk()).on_write()))?;
        match session::recv(&mut conn, timeout).await {
            Ok(ReplMsg::ReplServerStartDs(r)) => Ok(r),
            Ok(other) => Err(Failure::Exception(JavaException::not_a_start_message(&format!(
                "org.opends.server.replication.protocol.{}",
                other.name()
            )))),
            Err(RecvError::Timeout) => Err(Failure::TimedOut("Read timed out".into())),
            Err(e) => Err(Failure::Exception(e.java(node.jdk()))),
        }
    };
    let reply = tokio::select! {
        _ = node.core.cancel.cancelled() => return Err(Failure::Stopping),
        r = exchange => r?,
    };
    if node.tls.is_some() && !node.cfg.ssl_encryption {
        session::stop_encryption(&mut conn);
    }
    let info = RsInfo { url: url.to_owned(), rs_id: reply.server_id, generation_id: reply.header.generation_id };
    Ok((conn, info, readable, shown))
}

/// Phase 2: StartSessionMsg (with the status the generation ids give), TopologyMsg.
async fn phase2(node: &Node, conn: &mut Conn, status: u8) -> Result<(), JavaException> {
    let timeout = node.handshake_timeout();
    let msg = ReplMsg::StartSession(StartSession {
        status,
        assured_flag: 0,
        assured_mode: 1,
        safe_data_level: 1,
        referral_urls: Vec::new(),
    });
    session::send(conn, msg, timeout).await.map_err(|e| JavaException::from_wire(&e, node.jdk()).on_write())?;
    match session::recv(conn, timeout).await {
        Ok(ReplMsg::Topology(_)) => Ok(()),
        Ok(other) => Err(JavaException::not_a_topology(
            &format!("org.opends.server.replication.protocol.{}", other.name()),
            node.jdk(),
        )),
        Err(e) => Err(e.java(node.jdk())),
    }
}

/// The domain's "connection error" state: lines are written once per outage.
#[derive(Debug, Default)]
pub(crate) struct Selector {
    connection_error: bool,
}

impl Selector {
    /// One `connectAsDataServer`: the session, or `None` (lines written as the
    /// product writes them).
    pub(crate) async fn connect(&mut self, node: &Node, base_dn: &str) -> Option<Connected> {
        let ours = node.ds_generation(base_dn);
        let mut infos: Vec<RsInfo> = Vec::new();
        for url in &node.cfg.ds_replication_servers {
            match phase1(node, base_dn, url).await {
                Ok((conn, info, _, _)) => {
                    // keepSession=false: the probe's session is closed (StopMsg).
                    session::close_cleanly(conn, node.handshake_timeout()).await;
                    infos.push(info);
                }
                Err(Failure::Stopping) => return None,
                Err(why) => tracing::debug!(domain = %base_dn, "phase 1 with {url} failed: {why}"),
            }
        }
        let connected = match best(&infos, ours) {
            Some(best) => self.final_connection(node, base_dn, best, ours).await,
            None => None,
        };
        match connected {
            Some(c) => {
                self.connection_error = false;
                Some(c)
            }
            None if node.core.cancel.is_cancelled() => None,
            None => {
                if !self.connection_error {
                    self.connection_error = true;
                    if infos.is_empty() {
                        node.log.emit(&catalog::NO_AVAILABLE_CHANGELOGS, &[&node.id(), &base_dn]);
                    } else {
                        let ids: Vec<&str> = infos.iter().map(|i| i.rs_id.as_str()).collect();
                        node.log.emit(&catalog::COULD_NOT_FIND_CHANGELOG, &[&node.id(), &base_dn, &ids.join(", ")]);
                    }
                }
                None
            }
        }
    }

    /// Phase 1 kept, then phase 2, with the elected RS.
    async fn final_connection(&self, node: &Node, base_dn: &str, best: &RsInfo, ours: i64) -> Option<Connected> {
        let url = best.url.as_str();
        let (mut conn, info, readable, shown) = match phase1(node, base_dn, url).await {
            Ok(x) => x,
            Err(Failure::Stopping) => return None,
            Err(why) => {
                tracing::debug!(domain = %base_dn, "final connection to {url} failed: {why}");
                if !self.connection_error {
                    match why {
                        Failure::Refused(_) => {
                            node.log.emit(&catalog::NO_CHANGELOG_SERVER_LISTENING, &[&node.id(), &url, &base_dn])
                        }
                        Failure::TimedOut(_) => {
                            node.log.emit(&catalog::TIMEOUT_CONNECTING_TO_RS, &[&node.id(), &url, &base_dn])
                        }
                        Failure::Exception(e) => {
                            let trace = e.single_line(node.dialect(), Site::Phase1, node.jdk());
                            node.log.emit(
                                &catalog::EXCEPTION_STARTING_SESSION_PHASE,
                                &[&node.id(), &url, &base_dn, &trace],
                            );
                        }
                        Failure::Stopping => {}
                    }
                }
                return None;
            }
        };
        let status =
            if info.generation_id != -1 && info.generation_id != ours { BAD_GEN_ID_STATUS } else { NORMAL_STATUS };
        let phase2 = tokio::select! {
            _ = node.core.cancel.cancelled() => return None,
            r = phase2(node, &mut conn, status) => r,
        };
        if let Err(e) = phase2 {
            let trace = e.single_line(node.dialect(), Site::Phase2, node.jdk());
            node.log.emit(&catalog::EXCEPTION_STARTING_SESSION_PHASE, &[&node.id(), &url, &base_dn, &trace]);
            return None;
        }
        let rs_gen = info.generation_id;
        if rs_gen == ours || rs_gen == -1 {
            node.log.emit(&catalog::NOW_FOUND_SAME_GENERATION, &[&node.id(), &info.rs_id, &base_dn, &shown, &ours]);
        } else {
            node.log
                .emit(&catalog::NOW_FOUND_BAD_GENERATION, &[&node.id(), &info.rs_id, &base_dn, &shown, &ours, &rs_gen]);
        }
        Some(Connected { conn, rs_id: info.rs_id, readable, shown })
    }
}

/// The RS to connect to: one with our generation id (or none set) first,
/// then the configured order.
fn best(infos: &[RsInfo], ours: i64) -> Option<&RsInfo> {
    infos.iter().find(|i| i.generation_id == ours || i.generation_id == -1).or_else(|| infos.first())
}
