//! DS-RS connections, per directory server and domain: connected (62, 96;
//! 207 on the RS), lost (180, 97, 63 on the DS; 211, 53 on the RS) or never
//! made (208 and the other "unable to connect" lines). A DS whose last word
//! for a domain is a loss or a failure, and that is not stopped, is
//! `ds.ds-to-rs-unreachable`; the loss that began it is its first evidence.

use std::collections::BTreeMap;

use super::messages::Kind;
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
                Kind::DsLinkLost { ds, domain, on_ds: false, .. } => (w.ds_name_of(ds), domain, false, false),
                Kind::AcceptedDs { ds, domain, .. } => (w.ds_name_of(ds), domain, true, true),
                _ => continue,
            };
            let ev = DsEvent { up, accept, evidence: e.evidence.clone() };
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
        let s = w.srv(name);
        v.guidance = vec![
            format!(
                "Check that the replication server on {} started and listens on port {} ({}:{})",
                s.shown(),
                s.repl_port(),
                s.host(),
                s.repl_port()
            ),
            format!("Check that no other process holds the port: ss -ltnp 'sport = :{}'", s.repl_port()),
            connectivity(&s.host(), &s.repl_port()),
        ];
        out.push(v);
    }
}
