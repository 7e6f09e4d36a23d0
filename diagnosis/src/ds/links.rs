//! RS-RS links, one per pair of servers and domain: their history from both
//! sides' lines, and the verdicts about them (`ds.connection-flapping`,
//! `ds.rs-peer-unreachable`). The current state wins over history; absence
//! of a connect line is evidence only where the file that would hold it
//! exists. A server that stopped cleanly (its 139 carrying 141, then 203)
//! ends its links with that line: its peers write nothing for it.
//! Only servers that run an RS are expected to link: a server whose
//! topology entry gives ports but no replication port, or whose lines show
//! only a DS, has none.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::cause::{cause, initiator_from_attempts, link_attempt_lines};
use super::guidance::reinit;
use super::messages::Kind;
use super::world::World;
use super::DsOptions;
use crate::case::{Case, Flavor, TopoServer};
use crate::catalog::{self, DS_CAUSES};
use crate::guidance::connectivity;
use crate::model::{Evidence, Verdict};

/// One line about a link.
#[derive(Debug, Clone)]
pub struct LinkEvent {
    pub at: OffsetDateTime,
    pub up: bool,
    /// An accept (206) rather than a connect (205) or a loss.
    pub accept: bool,
    /// The server whose log holds the line.
    pub side: String,
    /// Who opened the link, when the line tells.
    pub initiator: Option<String>,
    /// The side's own stop line (139 carrying 141, 203), standing for the
    /// loss its peers never wrote.
    pub stop: bool,
    pub evidence: Evidence,
}

/// (server, server, domain), the two names in order.
pub type LinkKey = (String, String, String);

/// Every link's events in time order, with the links the topology expects
/// (empty when never seen).
pub fn collect(w: &World, case: &Case) -> BTreeMap<LinkKey, Vec<LinkEvent>> {
    let mut links: BTreeMap<LinkKey, Vec<LinkEvent>> = BTreeMap::new();
    for (name, l) in &w.logs {
        for e in &l.events {
            let (peer, domain, up, accept, initiator) = match &e.kind {
                Kind::ConnectedToRs { peer, domain, .. } => (peer, domain, true, false, Some(name.clone())),
                Kind::AcceptedRs { peer, domain, .. } => (peer, domain, true, true, Some(w.name_of(peer))),
                Kind::RsLinkLost { peer, domain, .. } => (peer, domain, false, false, None),
                _ => continue,
            };
            let peer = w.name_of(peer);
            links.entry(key(name, &peer, domain)).or_default().push(LinkEvent {
                at: e.at,
                up,
                accept,
                side: name.clone(),
                initiator,
                stop: false,
                evidence: e.evidence.clone(),
            });
        }
    }
    if let Some(t) = &case.topology {
        let ds: Vec<&TopoServer> = t
            .servers
            .iter()
            .filter(|s| s.flavor.as_deref().and_then(Flavor::parse).is_none_or(|f| f == Flavor::Ds))
            .filter(|s| runs_rs(w, s))
            .collect();
        for (i, a) in ds.iter().enumerate() {
            for b in ds.iter().skip(i + 1) {
                for d in a.domains.iter().filter(|d| b.domains.contains(d)) {
                    links.entry(key(&a.name, &b.name, d)).or_default();
                }
            }
        }
    }
    for ((a, b, _), events) in links.iter_mut() {
        events.sort_by_key(|e| e.at);
        for side in [a, b] {
            let Some(stop) = w.logs.get(side.as_str()).and_then(|l| l.stop_event()) else { continue };
            if events.last().is_some_and(|e| e.up && e.at <= stop.at) {
                events.push(LinkEvent {
                    at: stop.at,
                    up: false,
                    accept: false,
                    side: side.clone(),
                    initiator: None,
                    stop: true,
                    evidence: stop.evidence.clone(),
                });
            }
        }
    }
    links
}

/// Does the server run an RS? Its topology entry's replication port says
/// so; ports without one say it does not; else its lines tell, and a
/// server that left no lines is given the benefit of the doubt.
fn runs_rs(w: &World, s: &TopoServer) -> bool {
    if s.replication_port.is_some() {
        return true;
    }
    if s.admin_port.is_some() || s.ldap_port.is_some() {
        return false;
    }
    w.logs.get(&s.name).is_none_or(|l| l.has_rs_lines() || l.events.is_empty())
}

fn key(a: &str, b: &str, domain: &str) -> LinkKey {
    if a <= b {
        (a.to_owned(), b.to_owned(), domain.to_owned())
    } else {
        (b.to_owned(), a.to_owned(), domain.to_owned())
    }
}

/// Is the link up at the end of the case?
pub fn is_up(events: &[LinkEvent]) -> bool {
    events.last().is_some_and(|e| e.up)
}

/// The verdicts about every link.
pub fn verdicts(w: &World, links: &BTreeMap<LinkKey, Vec<LinkEvent>>, opts: &DsOptions, out: &mut Vec<Verdict>) {
    for ((a, b, domain), events) in links {
        flapping(w, a, b, domain, events, opts, out);
        if !is_up(events) {
            unreachable(w, a, b, domain, events, out);
        }
    }
}

fn flapping(w: &World, a: &str, b: &str, domain: &str, events: &[LinkEvent], opts: &DsOptions, out: &mut Vec<Verdict>) {
    // Runs: both sides log each loss and each connect; a run is one event.
    let mut losses: Vec<(OffsetDateTime, Evidence)> = Vec::new();
    let mut prev_up: Option<bool> = None;
    let mut pending_loss: Option<(OffsetDateTime, Evidence)> = None;
    for e in events {
        if prev_up == Some(e.up) {
            continue;
        }
        if !e.up {
            pending_loss = Some((e.at, e.evidence.clone()));
        } else if let Some(l) = pending_loss.take() {
            losses.push(l);
        }
        prev_up = Some(e.up);
    }
    let mut best: &[(OffsetDateTime, Evidence)] = &[];
    for i in 0..losses.len() {
        let j = losses[i..].iter().take_while(|(t, _)| *t - losses[i].0 <= opts.flap_window).count();
        if j > best.len() {
            best = &losses[i..i + j];
        }
    }
    if best.len() < opts.flap_count {
        return;
    }
    let server = events.iter().find_map(|e| e.initiator.clone()).unwrap_or_else(|| a.to_owned());
    let peer = if server == a { b } else { a };
    let mut v = Verdict::new("ds.connection-flapping", catalog::severity("ds.connection-flapping")).with_subject(&[
        ("server", &server),
        ("peer", peer),
        ("domain", domain),
    ]);
    v.evidence = best.iter().map(|(_, e)| e.clone()).collect();
    let (s, p) = (w.srv(&server), w.srv(peer));
    v.guidance = vec![
        format!(
            "The link {} <-> {} for \"{domain}\" was lost and connected again {} times within {} hours: look for devices that reset or time out long-lived connections between the sites (stateful firewalls, load balancers, VPN re-keys)",
            s.shown(),
            p.shown(),
            best.len(),
            opts.flap_window.whole_hours()
        ),
        "Check the network path between the two hosts for unstable links".to_owned(),
        connectivity(&p.host(), &p.repl_port()),
    ];
    out.push(v);
}

/// Which side is the subject's `server`: the running one; when both run,
/// the side that first opened the link, else the one that logged the
/// failure, else the one whose own probes towards the other explain most,
/// else the initiator of a handshake that broke.
fn sides<'s>(
    w: &World,
    (a, b): (&'s str, &'s str),
    events: &[LinkEvent],
    losses: &[&LinkEvent],
    alive: (bool, bool),
) -> Option<(&'s str, &'s str)> {
    match alive {
        (false, false) => None,
        (true, false) => Some((a, b)),
        (false, true) => Some((b, a)),
        (true, true) => {
            let init = events.iter().find_map(|e| e.initiator.clone());
            let logged = losses.first().map(|e| e.side.clone());
            let rank = |from: &str, to: &str| {
                let found = cause(w, from, to, &w.srv(to), true, true);
                DS_CAUSES.iter().position(|x| *x == found.cause).unwrap_or(DS_CAUSES.len())
            };
            let prober = match (rank(a, b), rank(b, a)) {
                (ra, rb) if ra.min(rb) >= DS_CAUSES.len() - 1 => None,
                (ra, rb) if rb < ra => Some(b.to_owned()),
                _ => Some(a.to_owned()),
            };
            // Both RSs dial each other: a handshake that broke (179, 145) tells
            // who opened that one attempt only, so it decides last.
            let s =
                init.or(logged).or(prober).or_else(|| initiator_from_attempts(w, a, b)).unwrap_or_else(|| a.to_owned());
            Some(if s == b { (b, a) } else { (a, b) })
        }
    }
}

fn unreachable(w: &World, a: &str, b: &str, domain: &str, events: &[LinkEvent], out: &mut Vec<Verdict>) {
    // The last run of losses, if the link was ever up.
    let last_up = events.iter().rposition(|e| e.up);
    let losses: Vec<&LinkEvent> = match last_up {
        Some(i) => events[i + 1..].iter().collect(),
        None => events.iter().collect(),
    };
    let failed_at = losses.first().map(|e| e.at);
    if losses.is_empty() {
        // Never connected: silence is evidence only where the replication
        // log that would hold 205/206 exists, on both sides.
        let has = |n: &str| w.logs.get(n).is_some_and(|l| l.has_replication);
        if !(has(a) && has(b)) || last_up.is_some() {
            return;
        }
    }
    let (alive_a, alive_b) = match losses.first() {
        // A clean stop: the stopped side is down, the other runs unless its
        // own log says it stopped too (a quiet log after a peer's stop is normal).
        Some(e) if e.stop => {
            let running = |n: &str| n != e.side && w.logs.get(n).is_some_and(|l| !l.stopped_at_end());
            (running(a), running(b))
        }
        _ => (w.alive(a, failed_at), w.alive(b, failed_at)),
    };
    let Some((server, peer)) = sides(w, (a, b), events, &losses, (alive_a, alive_b)) else { return };
    let (s, p) = (w.srv(server), w.srv(peer));
    let peer_alive = if peer == a { alive_a } else { alive_b };
    let found = cause(w, server, peer, &p, peer_alive, w.logs.contains_key(peer));
    let mut v = Verdict::new("ds.rs-peer-unreachable", catalog::severity("ds.rs-peer-unreachable")).with_subject(&[
        ("server", server),
        ("peer", peer),
        ("domain", domain),
    ]);
    v.cause = Some(found.cause.to_owned());
    v.evidence = losses.iter().map(|e| e.evidence.clone()).collect();
    if v.evidence.is_empty() {
        // Absence: show that the local RS runs (its listener and DS accepts).
        if let Some(l) = w.logs.get(server) {
            v.evidence.extend(
                l.events
                    .iter()
                    .filter(|e| matches!(e.kind, Kind::Listening { .. } | Kind::AcceptedDs { .. }))
                    .take(2)
                    .map(|e| e.evidence.clone()),
            );
        }
    }
    v.evidence.extend(found.evidence);
    // Attempts that broke before the link came up (179, 300, 86), since the failure.
    for e in link_attempt_lines(w, server, peer) {
        if failed_at.is_none_or(|t| e.0 >= t) && !v.evidence.contains(&e.1) && v.evidence.len() < 8 {
            v.evidence.push(e.1);
        }
    }
    v.guidance = super::guidance::unreachable_steps(found.cause, found.detail.as_deref(), &s, &p, failed_at);
    v.guidance.push(connectivity(&p.host(), &p.repl_port()));
    for c in reinit(domain, &s, &p) {
        v.guidance.push(format!("Once connected, reinitialize {domain} on {} from {}: {c}", p.name, s.name));
    }
    out.push(v);
}
