//! The consumer side of a 389 server: its LDAP port, one task per
//! connection. It answers binds from its accounts, start-replication
//! requests as `multisupplier_extop_StartNSDS50ReplicationRequest`
//! (`repl_extop.c`) decides, in its order (decode, protocol, replica,
//! bind DN, clock skew, replica id, exclusive access), replays updates into
//! its replica, releases at end-replication or when the connection goes,
//! and installs a total update.
//!
//! Every refusal but busy and backoff writes the generic ERR line; a
//! successful session writes nothing at the default log level, as on the
//! real server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

use super::catalog;
use super::codec::LdapCodec;
use super::csn::{Csn, Ruv};
use super::extop::{self, code, EntryRequest, Response, StartRequest};
use super::ldaprc;
use super::node::Node389;
use super::replica::{Change, EntryData};
use super::wire::{Msg, UpdateKind};
use crate::transport::Transport;

type Conn = Framed<Transport, LdapCodec>;

/// Accepts connections until the node stops.
pub(crate) async fn accept_loop(node: Arc<Node389>, listener: TcpListener) {
    loop {
        tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let span = node.core.conn_span(&peer);
                    node.core.spawn_in(span, serve(node.clone(), stream, peer));
                }
                Err(e) => {
                    tracing::warn!("LDAP port: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// A total update being received.
#[derive(Debug, Default)]
struct TotalRecv {
    entries: Vec<(String, EntryData)>,
    supplier_ruv: Option<Ruv>,
}

/// One client connection's state (the connection extension of the real server).
struct Session {
    node: Arc<Node389>,
    conn_id: u64,
    /// The next operation number (the bind is op 0).
    op: u32,
    bound: Option<String>,
    /// Holds the replica's exclusive access.
    acquired: bool,
    total: Option<TotalRecv>,
    /// Replica id → URL, from the supplier's RUV.
    purls: BTreeMap<u16, String>,
}

async fn serve(node: Arc<Node389>, stream: TcpStream, _peer: SocketAddr) {
    let conn_id = node.next_conn_id();
    let mut conn: Conn = Framed::new(Transport::Plain(stream), LdapCodec::new(node.max_frame_len));
    let mut s = Session {
        node: node.clone(),
        conn_id,
        op: 0,
        bound: None,
        acquired: false,
        total: None,
        purls: BTreeMap::new(),
    };
    loop {
        let next = tokio::select! {
            _ = node.core.cancel.cancelled() => break,
            n = conn.next() => n,
        };
        let msg = match next {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                tracing::debug!("conn={conn_id}: closing: {e}");
                break;
            }
            None => break,
        };
        let op = s.op;
        s.op += 1;
        let reply = match msg {
            Msg::Unbind { .. } => break,
            m => s.handle(m, op),
        };
        if let Some(r) = reply {
            if conn.send(r).await.is_err() {
                break;
            }
        }
    }
    s.release();
    // A clean stop and a kill both close with a FIN (a killed process's
    // kernel closes its sockets); only a stop flushes what was queued.
    if !node.core.killed() {
        let _ = conn.close().await;
    }
}

impl Session {
    fn handle(&mut self, msg: Msg, op: u32) -> Option<Msg> {
        match msg {
            Msg::Bind { id, dn, credentials, .. } => {
                let ok = dn.is_empty()
                    || self.node.data().accounts.get(&dn.to_ascii_lowercase()).is_some_and(|p| *p == credentials);
                self.bound = if ok && !dn.is_empty() { Some(dn.to_ascii_lowercase()) } else { None };
                let rc = if ok { ldaprc::SUCCESS } else { ldaprc::INVALID_CREDENTIALS };
                Some(Msg::BindResult { id, rc, matched: String::new(), diagnostic: String::new() })
            }
            Msg::Extended { id, oid, value } => Some(match oid.as_str() {
                extop::START_REQUEST => self.start(id, op, &value),
                extop::END_REQUEST => self.end(id, &value),
                extop::ENTRY_REQUEST => self.entry(id, &value),
                _ => Msg::ExtendedResult { id, rc: ldaprc::PROTOCOL_ERROR, oid: String::new(), value: Vec::new() },
            }),
            Msg::Update { id, kind, dn, uniqueid, csn, changes } => {
                Some(self.update(id, kind, dn, uniqueid, &csn, changes))
            }
            // Responses are not requests: a confused peer gets a protocol error.
            other => Some(Msg::ExtendedResult {
                id: other.id(),
                rc: ldaprc::PROTOCOL_ERROR,
                oid: String::new(),
                value: Vec::new(),
            }),
        }
    }

    fn response(&self, id: u32, code: i32, ruv: Vec<String>) -> Msg {
        let garble = self.node.data().knobs.garble_response && code == extop::code::READY;
        let value = if garble { vec![0xff, 0x00, 0x13] } else { Response { code, ruv }.encode() };
        Msg::ExtendedResult { id, rc: ldaprc::SUCCESS, oid: extop::RESPONSE.to_owned(), value }
    }

    /// `multisupplier_extop_StartNSDS50ReplicationRequest`.
    fn start(&mut self, id: u32, op: u32, value: &[u8]) -> Msg {
        let (code, ruv, locked_by, root) = self.decide(op, value);
        if code != code::READY && code != code::BUSY && code != code::BACKOFF {
            let name = extop::response_name_for(code, &self.node.version);
            let root = root.as_deref().unwrap_or("unknown");
            self.node.log.emit(&catalog::EXTOP_REFUSED, &[&self.conn_id, &op, &root, &name, &locked_by]);
        }
        self.response(id, code, ruv)
    }

    /// The answer: (code, RUV values, " locked by …", the replica's root).
    fn decide(&mut self, op: u32, value: &[u8]) -> (i32, Vec<String>, String, Option<String>) {
        let node = self.node.clone();
        let Ok(req) = StartRequest::decode(value) else { return (code::DECODING_ERROR, vec![], String::new(), None) };
        let now = node.local_secs();
        let mut data = node.data();
        let knob = data.knobs.answer;
        let root = data.replica.as_ref().map(|r| r.cfg.suffix.clone());
        if let Some(a) = knob {
            if a != super::config::Answer::Legacy || node.version.legacy_consumer_answer() {
                let root = if a.code() == code::DECODING_ERROR { None } else { root };
                return (a.code(), vec![], String::new(), root);
            }
        }
        let total = match req.protocol.as_str() {
            extop::INCREMENTAL_PROTOCOL => false,
            extop::TOTAL_PROTOCOL => true,
            _ => return (code::UNKNOWN_UPDATE_PROTOCOL, vec![], String::new(), None),
        };
        let Some(replica) = data.replica.as_mut().filter(|r| r.enabled && r.cfg.suffix.eq_ignore_ascii_case(&req.root))
        else {
            return (code::NO_SUCH_REPLICA, vec![], String::new(), None);
        };
        let root = Some(replica.cfg.suffix.clone());
        let allowed =
            self.bound.as_ref().is_some_and(|b| replica.cfg.bind_dns.iter().any(|d| d.eq_ignore_ascii_case(b)));
        if !allowed {
            return (code::PERMISSION_DENIED, vec![], String::new(), root);
        }
        let Some(csn) = Csn::parse(&req.csn) else { return (code::INTERNAL_ERROR, vec![], String::new(), root) };
        if replica.gen.adjust(now, &csn).is_err() {
            node.log.emit(&catalog::EXTOP_CLOCK_SKEW, &[&self.conn_id, &op, &req.root]);
            return (code::EXCESSIVE_CLOCK_SKEW, vec![], String::new(), root);
        }
        let supplier_ruv = Ruv::parse(&req.ruv);
        if replica.is_supplier() && csn.rid == replica.rid() {
            return (code::REPLICAID_ERROR, vec![], String::new(), root);
        }
        if let Some((c, o)) = replica.holder {
            if c != self.conn_id {
                return (code::BUSY, vec![], format!(" locked by conn={c} id={o} for incremental update"), root);
            }
        }
        replica.holder = Some((self.conn_id, op));
        self.acquired = true;
        if let Some(r) = &supplier_ruv {
            for e in &r.elements {
                if let Some(p) = &e.purl {
                    self.purls.insert(e.rid, p.clone());
                }
            }
        }
        if total {
            self.total = Some(TotalRecv { entries: Vec::new(), supplier_ruv });
            let suffix = replica.cfg.suffix.clone();
            drop(data);
            node.log.emit(&catalog::BE_OFFLINE, &[&suffix]);
            return (code::READY, vec![], String::new(), root);
        }
        let ruv = replica.ruv.as_ref().map(Ruv::values).unwrap_or_default();
        (code::READY, ruv, String::new(), root)
    }

    fn update(&mut self, id: u32, kind: UpdateKind, dn: String, uniqueid: String, csn: &str, changes: String) -> Msg {
        let node = self.node.clone();
        let now = node.local_secs();
        let mut data = node.data();
        let knobs = data.knobs;
        let rc = match (self.acquired, Csn::parse(csn), knobs.replay_error) {
            (false, _, _) => ldaprc::UNWILLING_TO_PERFORM,
            (true, None, _) => ldaprc::PROTOCOL_ERROR,
            (true, Some(_), Some(rc)) => rc,
            (true, Some(csn), None) => match data.replica.as_mut() {
                Some(r) => {
                    let purl = self.purls.get(&csn.rid).cloned();
                    r.apply_replicated(Change { csn, kind, dn, uniqueid, changes }, purl.as_deref(), now);
                    ldaprc::SUCCESS
                }
                None => ldaprc::UNWILLING_TO_PERFORM,
            },
        };
        Msg::UpdateResult { id, rc, diagnostic: String::new(), abort_session: knobs.abort_session }
    }

    fn entry(&mut self, id: u32, value: &[u8]) -> Msg {
        let rc = match (&mut self.total, EntryRequest::decode(value)) {
            (Some(t), Ok(e)) => {
                t.entries.push((e.dn, EntryData { uniqueid: e.uniqueid, csn: Csn::parse(&e.csn) }));
                ldaprc::SUCCESS
            }
            (None, _) => ldaprc::UNWILLING_TO_PERFORM,
            (_, Err(_)) => ldaprc::PROTOCOL_ERROR,
        };
        Msg::ExtendedResult { id, rc, oid: extop::RESPONSE.to_owned(), value: Vec::new() }
    }

    /// `multisupplier_extop_EndNSDS50ReplicationRequest`: installs a total
    /// update, releases the replica.
    fn end(&mut self, id: u32, value: &[u8]) -> Msg {
        if extop::decode_end(value).is_err() {
            return self.response(id, code::DECODING_ERROR, vec![]);
        }
        if let Some(t) = self.total.take() {
            let node = self.node.clone();
            let suffix = {
                let mut data = node.data();
                data.replica.as_mut().map(|r| {
                    if let Some(ruv) = t.supplier_ruv {
                        r.install(t.entries, ruv);
                    }
                    r.cfg.suffix.clone()
                })
            };
            if let Some(s) = suffix {
                node.log.emit(&catalog::BE_ONLINE, &[&s]);
            }
        }
        self.release();
        Msg::ExtendedResult {
            id,
            rc: ldaprc::SUCCESS,
            oid: extop::RESPONSE.to_owned(),
            value: Response { code: code::RELEASE_SUCCEEDED, ruv: vec![] }.encode(),
        }
    }

    fn release(&mut self) {
        if self.acquired {
            if let Some(r) = self.node.data().replica.as_mut() {
                if r.holder.is_some_and(|(c, _)| c == self.conn_id) {
                    r.holder = None;
                }
            }
            self.acquired = false;
        }
    }
}
