//! The cause of `ds.rs-peer-unreachable`, told apart by the probes the
//! `server` ran towards the peer's replication port, first in the order of
//! [`DS_CAUSES`]; without a probe, by the accepting side's own lines (105: a
//! failed TLS handshake from the other's address, read as JSSE words it:
//! [`super::tls`]) and the remote's log.

use time::OffsetDateTime;

use super::messages::Kind;
use super::tls;
use super::world::World;
use crate::case::TopoServer;
use crate::catalog::DS_CAUSES;
use crate::model::Evidence;
use crate::probes::{Outcome, Probe, ProbeKind};

/// A cause, the lines that show it, and what the guidance names (the
/// address a name wrongly resolves to, the TLS defect).
#[derive(Debug)]
pub struct Found {
    pub cause: &'static str,
    pub evidence: Vec<Evidence>,
    pub detail: Option<String>,
}

pub fn cause(w: &World, server: &str, peer: &str, p: &TopoServer, peer_alive: bool, peer_logged: bool) -> Found {
    let mut found: Vec<(usize, &Probe, Option<String>)> = Vec::new();
    for probe in w.probes.iter().filter(|x| x.from == server && w.targets(x, peer)) {
        let on_repl = probe.port.is_none() || p.replication_port.is_none() || probe.port == p.replication_port;
        let c = match (probe.kind, probe.outcome) {
            (ProbeKind::Dns, Outcome::Nxdomain) => Some(("dns-unresolvable", None)),
            (ProbeKind::Dns, Outcome::Resolved) => match &probe.address {
                Some(a) if !p.addresses.is_empty() && !p.addresses.contains(a) => {
                    Some(("dns-wrong-address", Some(a.clone())))
                }
                _ => None,
            },
            (ProbeKind::Tls, Outcome::TlsError) if on_repl => Some(("tls-handshake", probe.detail.clone())),
            (ProbeKind::Tcp | ProbeKind::Tls, Outcome::Refused) if on_repl => {
                Some((if peer_alive { "firewall-reject" } else { "remote-down" }, None))
            }
            (ProbeKind::Tcp | ProbeKind::Tls, Outcome::Timeout) if on_repl => Some(("firewall-drop", None)),
            _ => None,
        };
        if let Some((c, detail)) = c {
            let rank = DS_CAUSES.iter().position(|x| *x == c).unwrap_or(DS_CAUSES.len());
            found.push((rank, probe, detail));
        }
    }
    found.sort_by_key(|(r, _, _)| *r);
    if let Some((rank, _, detail)) = found.first() {
        let evidence =
            found.iter().filter(|(r, _, _)| r == rank).filter_map(|(_, pr, _)| pr.evidence.clone()).collect();
        return Found { cause: DS_CAUSES[*rank], evidence, detail: detail.clone() };
    }
    let tls = tls_failures(w, server, peer);
    match tls.first() {
        Some((_, detail)) => {
            let detail = Some(detail.clone());
            Found { cause: "tls-handshake", evidence: tls.into_iter().map(|(ev, _)| ev).take(4).collect(), detail }
        }
        // The remote's own log can still say it is down (stopped, or silent
        // since the failure); with no log of it, nothing does.
        None if !peer_alive && peer_logged => Found { cause: "remote-down", evidence: Vec::new(), detail: None },
        None => Found { cause: "unknown", evidence: Vec::new(), detail: None },
    }
}

/// 105 lines on either side naming the other's address: (line, what it
/// means), the rejecting side's own reasons first (they say what to fix),
/// then the alerts it sent back; a client that only hung up (a port probe)
/// is no TLS failure.
fn tls_failures(w: &World, a: &str, b: &str) -> Vec<(Evidence, String)> {
    let mut out = Vec::new();
    for (logger, other) in [(b, a), (a, b)] {
        let Some(l) = w.logs.get(logger) else { continue };
        for e in &l.events {
            if let Kind::TlsFailed { from, error } = &e.kind {
                let why = tls::reason(error);
                if let (Some(rank), true) = (why.rank(), w.is_address_of(from, other)) {
                    out.push((rank, e.evidence.clone(), why.describe(logger, other)));
                }
            }
        }
    }
    out.sort_by_key(|(rank, _, _)| *rank);
    out.into_iter().map(|(_, ev, d)| (ev, d)).collect()
}

/// Connections between `a` and `b` that broke before they carried
/// replication, from either side's log: 179 (the acceptor's, naming the
/// other's RS id; the initiator's, naming the other's address), 145 and 300
/// naming the other. Evidence, not a cause: the link was tried and reached
/// the accepting server.
pub fn link_attempt_lines(w: &World, a: &str, b: &str) -> Vec<(OffsetDateTime, Evidence)> {
    let mut out = Vec::new();
    for (logger, other) in [(a, b), (b, a)] {
        let Some(l) = w.logs.get(logger) else { continue };
        for e in &l.events {
            let from_other = match &e.kind {
                Kind::HandshakeAborted { acceptor, from_ds: false, by_initiator: true, .. } => {
                    w.is_address_of(acceptor, other)
                }
                Kind::HandshakeAborted { initiator, from_ds: false, .. } => w.name_of(initiator) == other,
                Kind::CrossConnectTimeout { peer, .. } => w.name_of(peer) == other,
                Kind::BadConnection { from } => w.is_address_of(from, other),
                _ => false,
            };
            if from_other {
                out.push((e.at, e.evidence.clone()));
            }
        }
    }
    out.sort_by_key(|(t, _)| *t);
    out
}

/// Who opened the link between `a` and `b`, from a handshake that broke:
/// the initiator writes 179 itself naming the other's address, the acceptor
/// writes it naming the initiator's id, and 145 names the initiator too.
pub fn initiator_from_attempts(w: &World, a: &str, b: &str) -> Option<String> {
    for (logger, other) in [(a, b), (b, a)] {
        let Some(l) = w.logs.get(logger) else { continue };
        for e in &l.events {
            match &e.kind {
                Kind::HandshakeAborted { acceptor, from_ds: false, by_initiator: true, .. }
                    if w.is_address_of(acceptor, other) =>
                {
                    return Some(logger.to_owned())
                }
                Kind::HandshakeAborted { initiator, from_ds: false, by_initiator: false, .. }
                | Kind::CrossConnectTimeout { peer: initiator, .. }
                    if w.name_of(initiator) == other =>
                {
                    return Some(other.to_owned())
                }
                _ => {}
            }
        }
    }
    None
}
