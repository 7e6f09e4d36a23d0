//! DS-RS connections, per directory server and domain: connected (62, 96;
//! 207 on the RS), lost (180, 97, 63 on the DS; 211, 53 on the RS) or never
//! made (208 and the other "unable to connect" lines). A DS whose last word
//! for a domain is a loss or a failure, and that is not stopped, is
//! `ds.ds-to-rs-unreachable`; the loss that began it is its first evidence.
//!
//! Its first step follows what the DS's own lines say of its RS selection:
//! 17 (refused), 212 (timed out) and 119 (an exception) name the RS of the
//! final connection, 23 the RS ids that answered its first handshake, 208
//! that none did; an RS's 54 naming the DS's id (another DS with the same
//! server id is connected there) says what to fix.

use std::collections::BTreeMap;

use super::messages::{Kind, NoRs};
use super::world::World;
use crate::catalog;
use crate::guidance::connectivity;
use crate::model::{Evidence, Verdict};

/// One line about a DS's connection to an RS.
#[derive(Debug, Clone)]
pub struct DsEvent {
    pub up: bool,
    /// The RS's accept (207), rather than the DS's own word.
    pub accept: bool,
    /// Why it had no RS, when the DS's line says (and which RSs it names).
    pub no_rs: Option<(NoRs, Vec<String>)>,
    pub evidence: Evidence,
}

/// (DS server name, domain) → its events in time order.
pub type DsLinks = BTreeMap<(String, String), Vec<DsEvent>>;

pub fn collect(w: &World) -> DsLinks {
    let mut at: BTreeMap<(String, String), Vec<(time::OffsetDateTime, DsEvent)>> = BTreeMap::new();
    for (name, l) in &w.logs {
        for e in &l.events {
            let (ds, domain, up, accept) = match &e.kind {
                Kind::DsConnected { domain, .. } => (name.clone(), domain, true, false),
                Kind::DsNoRs { domain, .. } | Kind::DsLinkLost { domain, on_ds: true, .. } => {
                    (name.clone(), domain, false, false)
                }
                Kind::DsLinkLost { ds, rs, domain, on_ds: false } => {
                    (w.ds_name_at(ds, &own_rs(l, rs)), domain, false, false)
                }
                Kind::AcceptedDs { ds, rs, domain } => (w.ds_name_at(ds, rs), domain, true, true),
                _ => continue,
            };
            let no_rs = match &e.kind {
                Kind::DsNoRs { why, rs, .. } => Some((why.clone(), rs.clone())),
                _ => None,
            };
            let ev = DsEvent { up, accept, no_rs, evidence: e.evidence.clone() };
            at.entry((ds, domain.clone())).or_default().push((e.at, ev));
        }
    }
    at.into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|(t, _)| *t);
            (k, v.into_iter().map(|(_, e)| e).collect())
        })
        .collect()
}

/// The RS id of a line about a DS, or its logger's own where the line does not say (53).
fn own_rs(l: &super::server_log::ServerLog, rs: &str) -> String {
    if rs.is_empty() {
        l.own_rs_id().unwrap_or_default()
    } else {
        rs.to_owned()
    }
}

/// 54 lines of any RS naming the DS id of `name` for `domain`: another DS
/// with the same server id holds the RS.
fn duplicate_lines(w: &World, name: &str, domain: &str) -> Vec<(String, Evidence)> {
    let own = w.logs.get(name).and_then(|l| l.own_ds_id()).or_else(|| w.srv(name).server_id);
    let Some(own) = own else { return Vec::new() };
    let mut out = Vec::new();
    for l in w.logs.values() {
        for e in &l.events {
            if let Kind::DuplicateServerId { rs, id, domain: d } = &e.kind {
                if *id == own && d == domain && out.len() < 2 {
                    out.push((rs.clone(), e.evidence.clone()));
                }
            }
        }
    }
    out
}

/// The first step for what the DS's lines say, if they say something
/// more than "no RS".
fn first_step(name: &str, domain: &str, id: &str, down: &[DsEvent], dup: &[(String, Evidence)]) -> Option<String> {
    if let Some((rs, _)) = dup.first() {
        return Some(format!(
            "Give {name} a server id of its own: {rs} already has another directory server with server id {id} connected for \"{domain}\" and refuses this one (54). Two servers of one topology must never share an id"
        ));
    }
    let mut said = down.iter().rev().filter_map(|e| e.no_rs.as_ref());
    let (why, rs) = said.next()?;
    let failure = |why: &NoRs, rs_list: &str| -> Option<String> {
        Some(match why {
            NoRs::Refused => format!(
                "nothing accepts connections at {rs_list} for {name} (connection refused): start the replication server there, or open its replication port to {name}"
            ),
            NoRs::TimedOut => format!(
                "{name}'s connection to {rs_list} timed out: check the firewalls between them, and that the replication server answers"
            ),
            NoRs::Error(text) if text.contains("SSL") || text.contains("PKIX") => format!(
                "the TLS handshake of {name} with {rs_list} fails ({text}): fix the certificate or the truststore"
            ),
            NoRs::Error(text) => format!("{name}'s connection to {rs_list} fails: {text}"),
            NoRs::FinalFailed | NoRs::NoneAnswered => return None,
        })
    };
    let upper = |s: String| {
        let mut c = s.chars();
        c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
    };
    match why {
        // 23 comes right after the line of the final connection's failure (17, 212, 119).
        NoRs::FinalFailed => {
            let ids = rs.join(", ");
            let then = said
                .next()
                .and_then(|(w2, rs2)| failure(w2, &rs2.join(", ")))
                .unwrap_or_else(|| "its connection to the one it chose failed".to_owned());
            Some(format!(
                "The replication servers with ids {ids} answered {name}'s first handshake for \"{domain}\"; then {then}"
            ))
        }
        NoRs::NoneAnswered => None,
        other => failure(other, &rs.join(", ")).map(upper),
    }
}

/// Connections that broke in their handshake (178), logged by the RS, for
/// the DS `name`: evidence beside its verdicts (the line names no domain).
fn handshake_lines(w: &World, name: &str) -> Vec<Evidence> {
    let mut out = Vec::new();
    for l in w.logs.values() {
        for e in &l.events {
            if let Kind::HandshakeAborted { initiator, from_ds: true, .. } = &e.kind {
                if w.ds_name_of(initiator) == name && out.len() < 2 {
                    out.push(e.evidence.clone());
                }
            }
        }
    }
    out
}

pub fn verdicts(w: &World, links: &DsLinks, out: &mut Vec<Verdict>) {
    for ((name, domain), events) in links {
        let Some(l) = w.logs.get(name) else { continue };
        if events.last().is_none_or(|e| e.up) || l.stopped_at_end() {
            continue;
        }
        let since = events.iter().rposition(|e| e.up).map_or(0, |i| i + 1);
        let down = &events[since..];
        let mut v = Verdict::new("ds.ds-to-rs-unreachable", catalog::severity("ds.ds-to-rs-unreachable"))
            .with_subject(&[("server", name), ("domain", domain)]);
        // The first lines say how it began, the last that it still holds.
        v.evidence = down.iter().take(3).map(|e| e.evidence.clone()).collect();
        if down.len() > 3 {
            v.evidence.extend(down.last().map(|e| e.evidence.clone()));
        }
        v.evidence.extend(handshake_lines(w, name));
        let dup = duplicate_lines(w, name, domain);
        v.evidence.extend(dup.iter().map(|(_, e)| e.clone()));
        let s = w.srv(name);
        let id = l.own_ds_id().unwrap_or_else(|| s.id());
        v.guidance.extend(first_step(name, domain, &id, down, &dup));
        v.guidance.extend([
            format!(
                "Check that the replication server on {} started and listens on port {} ({}:{})",
                s.shown(),
                s.repl_port(),
                s.host(),
                s.repl_port()
            ),
            format!("Check that no other process holds the port: ss -ltnp 'sport = :{}'", s.repl_port()),
            connectivity(&s.host(), &s.repl_port()),
        ]);
        out.push(v);
    }
}
