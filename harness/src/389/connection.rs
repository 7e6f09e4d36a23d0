//! The supplier's connection to a consumer (`repl5_connection.c`): connect
//! and bind with the agreement's credentials (`conn_connect`,
//! `bind_and_check_pwp`, `slapi_ldap_bind`), send operations, read results
//! with or without a timeout, linger after a session so the next one reuses
//! it, and remember the last LDAP error, which decides which bind lines are
//! written:
//!
//! - `slapi_ldap_bind` writes its ERR line on every failed attempt;
//! - `bind_and_check_pwp` writes "… auth failed" only when the error differs
//!   from the last one, and "… auth resumed" on the first success after one.
//!
//! A refused connect prints errno 107 (`Transport endpoint is not
//! connected`), as measured on 2.3.1; a connect that gets no answer within
//! `nsds5ReplicaTimeout` prints 110.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio_util::codec::Framed;

use super::catalog;
use super::codec::LdapCodec;
use super::config::{AgreementConfig, Transport as AgmtTransport};
use super::ldaprc::{self, errno};
use super::node::Node389;
use super::wire::Msg;
use crate::transport::{self, Transport};

type Conn = Framed<Transport, LdapCodec>;

/// How `conn_connect` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connected {
    Ok,
    /// `CONN_OPERATION_FAILED` with this LDAP error.
    Failed(i32),
    /// `CONN_SSL_NOT_ENABLED`.
    SslNotEnabled,
}

/// Why a read gave no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadFail {
    /// `CONN_NOT_CONNECTED`: the connection is gone (its LDAP error).
    Lost(i32),
    /// `CONN_TIMEOUT`.
    Timeout,
}

/// One agreement's connection.
#[derive(Debug)]
pub(crate) struct Connection {
    node: Arc<Node389>,
    long_name: String,
    conn: Option<Conn>,
    /// `conn->last_ldap_error`.
    pub last_error: i32,
    /// When the lingering connection is closed (virtual offset).
    linger_until: Option<Duration>,
    next_id: u32,
}

impl Connection {
    pub fn new(node: Arc<Node389>, long_name: String) -> Self {
        Self { node, long_name, conn: None, last_error: 0, linger_until: None, next_id: 1 }
    }

    pub fn next_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// `conn_disconnect`: unbind and close.
    pub async fn disconnect(&mut self) {
        self.linger_until = None;
        if let Some(mut c) = self.conn.take() {
            let id = self.next_id;
            let limit = self.node.real(Duration::from_secs(1));
            let _ = tokio::time::timeout(limit, async {
                let _ = c.send(Msg::Unbind { id }).await;
                let _ = c.close().await;
            })
            .await;
        }
    }

    /// Drops the connection at once (it is already broken).
    fn lost(&mut self, rc: i32) {
        self.conn = None;
        self.linger_until = None;
        self.last_error = rc;
    }

    /// `conn_start_linger`: keep it for the next session, until `LINGER` passes.
    pub fn start_linger(&mut self) {
        if self.conn.is_some() {
            self.linger_until = Some(self.node.elapsed() + super::config::LINGER);
        }
    }

    pub fn cancel_linger(&mut self) {
        self.linger_until = None;
    }

    /// When the linger timer closes the connection (virtual offset).
    pub fn linger_deadline(&self) -> Option<Duration> {
        self.linger_until
    }

    fn bind_failed(&mut self, rc: i32) {
        if rc != self.last_error {
            let text = ldaprc::text(rc);
            self.node.log.emit(&catalog::BIND_FAILED, &[&self.long_name, &"SIMPLE", &rc, &text, &""]);
        }
        self.last_error = rc;
        self.conn = None;
    }

    /// `conn_connect`: reuses a live connection, else dials `host:port` and
    /// binds as the agreement says.
    pub async fn connect(&mut self, cfg: &AgreementConfig, host: &str, port: u16) -> Connected {
        if self.conn.is_some() {
            return Connected::Ok;
        }
        if cfg.transport != AgmtTransport::Ldap && !self.node.tls {
            self.node.log.emit(&catalog::CONN_SSL_NOT_INITIALIZED, &[&self.long_name]);
            self.last_error = ldaprc::INAPPROPRIATE_AUTH;
            return Connected::SslNotEnabled;
        }
        self.next_id = 1;
        let node = self.node.clone();
        let timeout = node.real(cfg.timeout);
        let dialled = match node.core.hosts.resolve(&node.name, host, port) {
            Err(e) => {
                tracing::debug!("{}: {e}", self.long_name);
                Err(errno::ENOTCONN)
            }
            Ok(to) => {
                tokio::select! {
                    _ = node.core.cancel.cancelled() => return Connected::Failed(ldaprc::SERVER_DOWN),
                    r = transport::dial(node.bind_ip, to, timeout) => r.map_err(|e| match e.kind() {
                        std::io::ErrorKind::TimedOut => errno::ETIMEDOUT,
                        _ => errno::ENOTCONN,
                    }),
                }
            }
        };
        let tcp = match dialled {
            Ok(t) => t,
            Err(err) => {
                let rc = ldaprc::SERVER_DOWN;
                let (nspr, nspr_text) = ldaprc::NSPR_ERROR;
                let at = format!("{host}:{port}");
                node.log.emit(
                    &catalog::LDAP_BIND_SEND_FAILED,
                    &[&cfg.bind_dn, &"SIMPLE", &rc, &ldaprc::text(rc), &nspr, &nspr_text, &err, &errno::text(err), &at],
                );
                self.bind_failed(rc);
                return Connected::Failed(rc);
            }
        };
        let mut conn: Conn = Framed::new(Transport::Plain(tcp), LdapCodec::new(node.max_frame_len));
        let id = self.next_id();
        let bind =
            Msg::Bind { id, dn: cfg.bind_dn.clone(), mechanism: "SIMPLE".into(), credentials: cfg.credentials.clone() };
        let sent = tokio::time::timeout(timeout, conn.send(bind)).await;
        let result = match sent {
            Ok(Ok(())) => {
                tokio::select! {
                    _ = node.core.cancel.cancelled() => return Connected::Failed(ldaprc::SERVER_DOWN),
                    r = tokio::time::timeout(timeout, conn.next()) => r,
                }
            }
            _ => Ok(None),
        };
        let rc = match result {
            Err(_) => {
                let secs = cfg.timeout.as_secs();
                node.log.emit(&catalog::LDAP_BIND_TIMEOUT, &[&secs, &0, &cfg.bind_dn, &"SIMPLE"]);
                ldaprc::TIMEOUT
            }
            Ok(Some(Ok(Msg::BindResult { rc: 0, .. }))) => ldaprc::SUCCESS,
            Ok(Some(Ok(Msg::BindResult { rc, .. }))) => {
                node.log.emit(&catalog::LDAP_BIND_REFUSED, &[&cfg.bind_dn, &"SIMPLE", &rc, &ldaprc::text(rc)]);
                rc
            }
            Ok(_) => {
                // Reset or closed before any answer (a proxy whose upstream refuses):
                // OpenLDAP's non-blocking connect reads it as not connected, as
                // measured through a proxy in front of a stopped 2.3.1 consumer.
                let rc = ldaprc::SERVER_DOWN;
                let (nspr, nspr_text) = ldaprc::NSPR_ERROR;
                let at = format!("{host}:{port}");
                let e = errno::ENOTCONN;
                node.log.emit(
                    &catalog::LDAP_BIND_SEND_FAILED,
                    &[&cfg.bind_dn, &"SIMPLE", &rc, &ldaprc::text(rc), &nspr, &nspr_text, &e, &errno::text(e), &at],
                );
                rc
            }
        };
        if rc != ldaprc::SUCCESS {
            drop(conn);
            self.bind_failed(rc);
            return Connected::Failed(rc);
        }
        if self.last_error != ldaprc::SUCCESS && self.last_error != ldaprc::LOCAL_ERROR {
            node.log.emit(&catalog::BIND_RESUMED, &[&self.long_name, &"SIMPLE"]);
        }
        self.last_error = ldaprc::SUCCESS;
        self.conn = Some(conn);
        Connected::Ok
    }

    /// Sends one operation; a broken connection is dropped (`Lost`) and
    /// `perform_operation` logs it.
    pub async fn send(&mut self, msg: Msg) -> Result<(), ReadFail> {
        let Some(c) = self.conn.as_mut() else { return Err(ReadFail::Lost(self.last_error)) };
        let op = match &msg {
            Msg::Extended { .. } => "extended",
            Msg::Update { kind: super::wire::UpdateKind::Add, .. } => "add",
            Msg::Update { kind: super::wire::UpdateKind::Delete, .. } => "delete",
            Msg::Update { .. } => "modify",
            _ => "NULL",
        };
        let limit = self.node.real(Duration::from_secs(300));
        match tokio::time::timeout(limit, c.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::debug!("{}: send failed: {e}", self.long_name);
                let rc = ldaprc::SERVER_DOWN;
                self.node.log.emit(&catalog::PERFORM_OP_FAILED, &[&self.long_name, &op, &rc, &ldaprc::text(rc)]);
                self.lost(rc);
                Err(ReadFail::Lost(rc))
            }
            Err(_) => {
                self.lost(ldaprc::TIMEOUT);
                Err(ReadFail::Timeout)
            }
        }
    }

    /// Reads the next message; `timeout` `None` waits until it comes or the
    /// server stops (the 2.x start/end-replication wait, which never times out).
    pub async fn recv(&mut self, timeout: Option<Duration>) -> Result<Msg, ReadFail> {
        let node = self.node.clone();
        let Some(c) = self.conn.as_mut() else { return Err(ReadFail::Lost(self.last_error)) };
        let next = async {
            match timeout {
                Some(t) => tokio::time::timeout(t, c.next()).await.map_err(|_| ()),
                None => Ok(c.next().await),
            }
        };
        let got = tokio::select! {
            _ = node.core.cancel.cancelled() => Ok(None),
            r = next => r,
        };
        match got {
            Ok(Some(Ok(m))) => Ok(m),
            Ok(_) => {
                self.lost(ldaprc::SERVER_DOWN);
                Err(ReadFail::Lost(ldaprc::SERVER_DOWN))
            }
            Err(()) => {
                self.last_error = ldaprc::TIMEOUT;
                Err(ReadFail::Timeout)
            }
        }
    }

    /// A message already received, without waiting.
    pub fn try_recv(&mut self) -> Option<Result<Msg, ReadFail>> {
        let c = self.conn.as_mut()?;
        match c.next().now_or_never()? {
            Some(Ok(m)) => Some(Ok(m)),
            _ => {
                self.lost(ldaprc::SERVER_DOWN);
                Some(Err(ReadFail::Lost(ldaprc::SERVER_DOWN)))
            }
        }
    }

    /// `conn_disconnect` from the result path: closed without waiting.
    pub fn drop_now(&mut self) {
        self.conn = None;
        self.linger_until = None;
    }

    /// After a kill of this server: its kernel closes the socket (a FIN, no unbind).
    pub fn drop_killed(&mut self) {
        self.conn = None;
    }
}
