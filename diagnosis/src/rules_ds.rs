//! Family `ds`: verdicts for a replication-server mesh from its logs, its
//! topology and probes. One verdict per subject; the current state wins over
//! history; absence of a connect line is evidence only where the file that
//! would hold it exists.

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use crate::case::{Case, TopoServer};
use crate::catalog::{self, DS_CAUSES};
use crate::dslog::{Kind, ServerLog};
use crate::guidance::{connectivity, reinit};
use crate::model::{Evidence, Verdict};
use crate::probes::Probe;

/// Thresholds of the `ds` rules.
#[derive(Debug, Clone)]
pub struct DsOptions {
    /// Losses-and-reconnects of one link that make it flapping.
    pub flap_count: usize,
    pub flap_window: Duration,
}

impl Default for DsOptions {
    fn default() -> Self {
        Self { flap_count: 3, flap_window: Duration::hours(24) }
    }
}

/// What the rules know of every server, by name.
struct World<'a> {
    srv: BTreeMap<String, TopoServer>,
    logs: BTreeMap<String, &'a ServerLog>,
    /// Server id (RS or DS) → server name.
    by_id: BTreeMap<String, String>,
    probes: &'a [Probe],
}

impl World<'_> {
    fn name_of(&self, id: &str) -> String {
        self.by_id.get(id).cloned().unwrap_or_else(|| format!("RS({id})"))
    }

    fn srv(&self, name: &str) -> TopoServer {
        self.srv.get(name).cloned().unwrap_or_else(|| TopoServer { name: name.to_owned(), ..TopoServer::default() })
    }

    fn targets(&self, p: &Probe, name: &str) -> bool {
        let s = self.srv(name);
        p.target == name || s.host.as_deref() == Some(p.target.as_str()) || s.addresses.contains(&p.target)
    }

    /// Some TCP or TLS probe reached a port of `name`.
    fn reached(&self, name: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.reached() && self.targets(p, name))
    }

    /// Is `name` running, judged at `since` (a failure time) or at the end?
    fn alive(&self, name: &str, since: Option<OffsetDateTime>) -> bool {
        if self.reached(name).is_some() {
            return true;
        }
        match self.logs.get(name) {
            None => false,
            Some(l) if l.stopped_at_end() => false,
            Some(l) => match since {
                Some(t) => l.events.iter().any(|e| e.at >= t),
                None => l
                    .events
                    .iter()
                    .any(|e| matches!(e.kind, Kind::Listening { .. } | Kind::AcceptedDs { .. } | Kind::Started)),
            },
        }
    }
}

#[derive(Debug, Clone)]
struct LinkEvent {
    at: OffsetDateTime,
    up: bool,
    side: String,
    initiator: Option<String>,
    evidence: Evidence,
}

fn world<'a>(case: &Case, logs: &'a [ServerLog], probes: &'a [Probe]) -> World<'a> {
    let mut w = World { srv: BTreeMap::new(), logs: BTreeMap::new(), by_id: BTreeMap::new(), probes };
    if let Some(t) = &case.topology {
        for s in t.servers.iter().filter(|s| s.flavor.as_deref().is_none_or(|f| f == "ds")) {
            w.srv.insert(s.name.clone(), s.clone());
        }
    }
    for l in logs.iter().filter(|l| l.has_logs()) {
        w.logs.insert(l.name.clone(), l);
        let entry =
            w.srv.entry(l.name.clone()).or_insert_with(|| TopoServer { name: l.name.clone(), ..TopoServer::default() });
        if entry.server_id.is_none() {
            entry.server_id = l.own_rs_id().or_else(|| l.own_ds_id());
        }
        for e in &l.events {
            if let Kind::Listening { port, .. } = &e.kind {
                if entry.replication_port.is_none() {
                    entry.replication_port = port.parse().ok();
                }
            }
        }
    }
    for (name, s) in &w.srv {
        if let Some(id) = &s.server_id {
            w.by_id.insert(id.clone(), name.clone());
        }
    }
    // A DS id that differs from its RS id maps to the same server.
    for l in logs {
        if let Some(ds) = l.own_ds_id() {
            w.by_id.entry(ds).or_insert_with(|| l.name.clone());
        }
    }
    w
}

fn key(a: &str, b: &str, domain: &str) -> (String, String, String) {
    if a <= b {
        (a.to_owned(), b.to_owned(), domain.to_owned())
    } else {
        (b.to_owned(), a.to_owned(), domain.to_owned())
    }
}

/// All `ds` verdicts, healthy included when nothing is wrong.
pub fn diagnose(case: &Case, logs: &[ServerLog], probes: &[Probe], opts: &DsOptions) -> Vec<Verdict> {
    let w = world(case, logs, probes);
    let mut out = Vec::new();
    let mut links: BTreeMap<(String, String, String), Vec<LinkEvent>> = BTreeMap::new();
    for (name, l) in &w.logs {
        for e in &l.events {
            let (peer, domain, up, initiator) = match &e.kind {
                Kind::ConnectedToRs { peer, domain, .. } => (peer, domain, true, Some(name.clone())),
                Kind::AcceptedRs { peer, domain, .. } => (peer, domain, true, Some(w.name_of(peer))),
                Kind::RsLinkLost { peer, domain, .. } => (peer, domain, false, None),
                _ => continue,
            };
            let peer = w.name_of(peer);
            links.entry(key(name, &peer, domain)).or_default().push(LinkEvent {
                at: e.at,
                up,
                side: name.clone(),
                initiator,
                evidence: e.evidence.clone(),
            });
        }
    }
    // Links the topology expects, even if never seen.
    if let Some(t) = &case.topology {
        let ds: Vec<_> = t.servers.iter().filter(|s| s.flavor.as_deref().is_none_or(|f| f == "ds")).collect();
        for (i, a) in ds.iter().enumerate() {
            for b in ds.iter().skip(i + 1) {
                for d in a.domains.iter().filter(|d| b.domains.contains(d)) {
                    links.entry(key(&a.name, &b.name, d)).or_default();
                }
            }
        }
    }
    for ((a, b, domain), mut events) in links {
        events.sort_by_key(|e| e.at);
        flapping(&w, &a, &b, &domain, &events, opts, &mut out);
        if events.last().is_some_and(|e| e.up) {
            continue;
        }
        unreachable(&w, &a, &b, &domain, &events, &mut out);
    }
    ds_to_rs(&w, &mut out);
    not_listening(&w, &mut out);
    generation(&w, &mut out);
    admin_port(&w, &mut out);
    if !w.logs.is_empty() && out.is_empty() {
        out.push(Verdict::new("ds.healthy", catalog::severity("ds.healthy")));
    }
    out
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
    let (alive_a, alive_b) = (w.alive(a, failed_at), w.alive(b, failed_at));
    let (server, peer) = match (alive_a, alive_b) {
        (false, false) => return,
        (true, false) => (a, b),
        (false, true) => (b, a),
        (true, true) => {
            let init = events.iter().find_map(|e| e.initiator.clone());
            let logged = losses.first().map(|e| e.side.clone());
            // The side whose own probes towards the other explain the most.
            let rank = |from: &str, to: &str| {
                let (c, ..) = cause(w, from, to, &w.srv(to), true, true);
                DS_CAUSES.iter().position(|x| *x == c).unwrap_or(DS_CAUSES.len())
            };
            let prober = match (rank(a, b), rank(b, a)) {
                (ra, rb) if ra.min(rb) >= DS_CAUSES.len() - 1 => None,
                (ra, rb) if rb < ra => Some(b.to_owned()),
                _ => Some(a.to_owned()),
            };
            let s = init.or(logged).or(prober).unwrap_or_else(|| a.to_owned());
            if s == b {
                (b, a)
            } else {
                (a, b)
            }
        }
    };
    let (s, p) = (w.srv(server), w.srv(peer));
    let peer_alive = if peer == a { alive_a } else { alive_b };
    let peer_logged = w.logs.contains_key(peer);
    let (cause, probe_evidence, detail) = cause(w, server, peer, &p, peer_alive, peer_logged);
    let mut v = Verdict::new("ds.rs-peer-unreachable", catalog::severity("ds.rs-peer-unreachable")).with_subject(&[
        ("server", server),
        ("peer", peer),
        ("domain", domain),
    ]);
    v.cause = Some(cause.to_owned());
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
    v.evidence.extend(probe_evidence);
    let port = p.repl_port();
    let host = p.host();
    let first = match cause {
        "remote-down" => format!(
            "Start the replication server on {} and check that it listens on port {port}: nothing answers there and its log shows no listener running{}",
            p.shown(),
            failed_at.map(|t| format!(" since {}", crate::fmt_time(t))).unwrap_or_default()
        ),
        "firewall-reject" => format!(
            "Open TCP port {port} from {} to {host} in the firewall between the two hosts: connections are refused while the replication server on {} runs",
            s.shown(),
            p.name
        ),
        "firewall-drop" => format!(
            "Open TCP port {port} from {} to {host} in the firewall between the two hosts: connections get no answer (a firewall drops them)",
            s.shown()
        ),
        "dns-unresolvable" => format!(
            "Fix name resolution: {host} does not resolve from {}; add its DNS record (or a hosts entry) with {}'s own address {}",
            s.name,
            p.name,
            addresses(&p)
        ),
        "dns-wrong-address" => format!(
            "Fix the DNS record of {host}: from {} it resolves to {}, which is not an address of {} ({})",
            s.name,
            detail.as_deref().unwrap_or("another address"),
            p.name,
            addresses(&p)
        ),
        "tls-handshake" => format!(
            "Fix the certificate or the truststore: the TLS handshake from {} with {host}:{port} fails ({}); check it with openssl s_client -connect {host}:{port} -showcerts",
            s.name,
            detail.as_deref().unwrap_or("see the probe")
        ),
        _ => format!(
            "Confirm the replication server on {} runs; check the firewalls between {} and {} for the replication port {port} and the admin port {}; check that {host} resolves, from {}, to an address of {}",
            p.shown(),
            s.name,
            p.name,
            p.admin(),
            s.name,
            p.name
        ),
    };
    v.guidance.push(first);
    if cause.starts_with("firewall") {
        v.guidance.push(format!("Open the admin port {} as well: the reinitialize command below uses it", p.admin()));
    }
    v.guidance.push(connectivity(&host, &port));
    for c in reinit(domain, &s, &p) {
        v.guidance.push(format!("Once connected, reinitialize {domain} on {} from {}: {c}", p.name, s.name));
    }
    out.push(v);
}

fn addresses(s: &TopoServer) -> String {
    if s.addresses.is_empty() {
        "<its address>".into()
    } else {
        s.addresses.join(", ")
    }
}

/// The cause told apart by probes (and the remote's own log), in precedence order.
fn cause(
    w: &World,
    server: &str,
    peer: &str,
    p: &TopoServer,
    peer_alive: bool,
    peer_logged: bool,
) -> (&'static str, Vec<Evidence>, Option<String>) {
    let mut found: Vec<(usize, &Probe, Option<String>)> = Vec::new();
    for probe in w.probes.iter().filter(|x| x.from == server && w.targets(x, peer)) {
        let on_repl = probe.port.is_none() || p.replication_port.is_none() || probe.port == p.replication_port;
        let c = match (probe.kind.as_str(), probe.outcome.as_str()) {
            ("dns", "nxdomain") => Some(("dns-unresolvable", None)),
            ("dns", "resolved") => match &probe.address {
                Some(a) if !p.addresses.is_empty() && !p.addresses.contains(a) => {
                    Some(("dns-wrong-address", Some(a.clone())))
                }
                _ => None,
            },
            ("tls", "tls-error") if on_repl => Some(("tls-handshake", probe.detail.clone())),
            ("tcp" | "tls", "refused") if on_repl => {
                Some((if peer_alive { "firewall-reject" } else { "remote-down" }, None))
            }
            ("tcp" | "tls", "timeout") if on_repl => Some(("firewall-drop", None)),
            _ => None,
        };
        if let Some((c, detail)) = c {
            let rank = DS_CAUSES.iter().position(|x| *x == c).unwrap_or(DS_CAUSES.len());
            found.push((rank, probe, detail));
        }
    }
    found.sort_by_key(|(r, _, _)| *r);
    if let Some((rank, _, detail)) = found.first() {
        let ev = found.iter().filter(|(r, _, _)| r == rank).filter_map(|(_, pr, _)| pr.evidence.clone()).collect();
        return (DS_CAUSES[*rank], ev, detail.clone());
    }
    // No probe tells. The accepting side's 105 lines can: a failed TLS
    // handshake from the other server's address, with the error.
    let tls = tls_failures(w, server, peer);
    match tls.first() {
        Some((_, e)) => {
            let detail = Some(e.clone());
            ("tls-handshake", tls.into_iter().map(|(ev, _)| ev).take(4).collect(), detail)
        }
        // The remote's own log can still say it is down (stopped, or silent
        // since the failure); with no log of it, nothing does.
        None if !peer_alive && peer_logged => ("remote-down", Vec::new(), None),
        None => ("unknown", Vec::new(), None),
    }
}

/// 105 lines on either side naming the other's address: (line, error).
fn tls_failures(w: &World, a: &str, b: &str) -> Vec<(Evidence, String)> {
    let mut out = Vec::new();
    for (logger, other) in [(b, a), (a, b)] {
        let Some(l) = w.logs.get(logger) else { continue };
        let addrs = w.srv(other).addresses;
        for e in &l.events {
            if let Kind::TlsFailed { from, error } = &e.kind {
                let ip = from.trim_start_matches('/').rsplit_once(':').map_or(from.as_str(), |(ip, _)| ip);
                let ip = ip.rsplit('/').next().unwrap_or(ip);
                if addrs.iter().any(|x| x == ip) {
                    out.push((e.evidence.clone(), error.clone()));
                }
            }
        }
    }
    // Lines that name a certificate defect first: they say what to fix.
    out.sort_by_key(|(_, err)| !err.starts_with("certificate"));
    out
}

fn ds_to_rs(w: &World, out: &mut Vec<Verdict>) {
    for (name, l) in &w.logs {
        let mut last: BTreeMap<&str, (bool, &Evidence)> = BTreeMap::new();
        for e in &l.events {
            match &e.kind {
                Kind::DsConnected { domain, .. } => {
                    last.insert(domain, (true, &e.evidence));
                }
                Kind::DsNoRs { domain, .. } => {
                    last.insert(domain, (false, &e.evidence));
                }
                _ => {}
            }
        }
        for (domain, (ok, ev)) in last {
            if ok || l.stopped_at_end() {
                continue;
            }
            let s = w.srv(name);
            let mut v = Verdict::new("ds.ds-to-rs-unreachable", catalog::severity("ds.ds-to-rs-unreachable"))
                .with_subject(&[("server", name), ("domain", domain)]);
            v.evidence.push(ev.clone());
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
}

fn not_listening(w: &World, out: &mut Vec<Verdict>) {
    for (name, l) in &w.logs {
        let mut failed: Option<(&str, &Evidence)> = None;
        for e in &l.events {
            match &e.kind {
                Kind::CannotBind { port } => failed = Some((port, &e.evidence)),
                Kind::Listening { .. } => failed = None,
                _ => {}
            }
        }
        if let Some((port, ev)) = failed {
            let mut v = Verdict::new("ds.rs-not-listening", catalog::severity("ds.rs-not-listening"))
                .with_subject(&[("server", name)]);
            v.evidence.push(ev.clone());
            v.guidance = vec![
                format!("Free or change the replication port {port} on {}: another process holds it (ss -ltnp 'sport = :{port}')", w.srv(name).shown()),
                format!("Restart the server on {name}"),
            ];
            out.push(v);
        }
    }
}

fn generation(w: &World, out: &mut Vec<Verdict>) {
    // (target server, domain) → the lines reporting a mismatch.
    let mut found: BTreeMap<(String, String), Vec<(OffsetDateTime, Evidence)>> = BTreeMap::new();
    // The latest DS handshake per (server, domain): when, and whether ids differed.
    let mut latest: BTreeMap<(String, String), (OffsetDateTime, bool)> = BTreeMap::new();
    for (name, l) in &w.logs {
        for e in &l.events {
            match &e.kind {
                Kind::DsConnected { domain, mismatch, .. } => {
                    latest.insert((name.clone(), domain.clone()), (e.at, *mismatch));
                    if *mismatch {
                        found.entry((name.clone(), domain.clone())).or_default().push((e.at, e.evidence.clone()));
                    }
                }
                Kind::GenerationMismatch { other, domain, from_ds, .. } => {
                    // The DS whose id differs is the target; between two RSs, the reporter.
                    let target = if *from_ds { w.name_of(other) } else { name.clone() };
                    found.entry((target, domain.clone())).or_default().push((e.at, e.evidence.clone()));
                }
                _ => {}
            }
        }
    }
    for ((target, domain), lines) in found {
        let last_report = lines.iter().map(|(t, _)| *t).max();
        // The current state wins: a later handshake with matching ids clears it.
        if latest.get(&(target.clone(), domain.clone())).is_some_and(|(t, bad)| !bad && Some(*t) >= last_report) {
            continue;
        }
        let t = w.srv(&target);
        let source = TopoServer {
            name: "<a server with good data>".into(),
            host: Some("<host of a server with good data>".into()),
            version: t.version.clone(),
            ..TopoServer::default()
        };
        let mut v = Verdict::new("ds.generation-id-mismatch", catalog::severity("ds.generation-id-mismatch"))
            .with_subject(&[("server", &target), ("domain", &domain)]);
        v.evidence = lines.into_iter().map(|(_, e)| e).collect();
        v.guidance.push(format!(
            "This is a data problem, not a network one: {} holds data for \"{domain}\" with another generation id than its replication partners. Reinitialize \"{domain}\" on {} from a server with good data; which one holds good data the logs cannot tell: choose it yourself",
            t.shown(),
            t.name
        ));
        for c in reinit(&domain, &source, &t) {
            v.guidance.push(format!("Run against the server with good data: {c}"));
        }
        out.push(v);
    }
}

fn admin_port(w: &World, out: &mut Vec<Verdict>) {
    let mut seen = BTreeSet::new();
    for p in w.probes.iter().filter(|p| p.kind == "tcp" && (p.outcome == "refused" || p.outcome == "timeout")) {
        let Some((target, t)) = w.srv.iter().find(|(n, _)| w.targets(p, n)) else { continue };
        if t.admin_port.is_none() || p.port != t.admin_port || !seen.insert((p.from.clone(), target.clone())) {
            continue;
        }
        // Only where replication itself connects (else the link's verdict says it all).
        let repl_ok = w
            .probes
            .iter()
            .any(|q| q.from == p.from && w.targets(q, target) && q.reached() && q.port == t.replication_port)
            || w.probes
                .iter()
                .all(|q| !(q.from == p.from && w.targets(q, target) && q.port == t.replication_port && !q.reached()));
        if !repl_ok {
            continue;
        }
        let mut v = Verdict::new("ds.admin-port-unreachable", catalog::severity("ds.admin-port-unreachable"))
            .with_subject(&[("server", &p.from), ("peer", target)]);
        v.evidence.extend(p.evidence.clone());
        v.guidance = vec![
            format!(
                "Open the admin port {} of {} to {} before running the reinitialize command, which uses it (the probe got: {})",
                t.admin(),
                t.shown(),
                p.from,
                p.outcome
            ),
            connectivity(&t.host(), &t.admin()),
        ];
        out.push(v);
    }
}
