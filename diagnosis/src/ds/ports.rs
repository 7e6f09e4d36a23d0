//! The ports a DS server needs: its replication port bound
//! (`ds.rs-not-listening`) and its admin port open to its peers
//! (`ds.admin-port-unreachable`, from probes, where replication itself connects).

use std::collections::BTreeSet;

use super::messages::Kind;
use super::world::World;
use crate::catalog;
use crate::guidance::connectivity;
use crate::model::{Evidence, Verdict};
use crate::probes::{Outcome, Probe, ProbeKind};

pub fn not_listening(w: &World, out: &mut Vec<Verdict>) {
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
                format!(
                    "Free or change the replication port {port} on {}: another process holds it (ss -ltnp 'sport = :{port}')",
                    w.srv(name).shown()
                ),
                format!("Restart the server on {name}"),
            ];
            out.push(v);
        }
    }
}

pub fn admin_port(w: &World, out: &mut Vec<Verdict>) {
    let mut seen = BTreeSet::new();
    let blocked = |p: &&Probe| p.kind == ProbeKind::Tcp && matches!(p.outcome, Outcome::Refused | Outcome::Timeout);
    for p in w.probes.iter().filter(blocked) {
        let Some((target, t)) = w.srv.iter().find(|(n, _)| w.targets(p, n)) else { continue };
        if t.admin_port.is_none() || p.port != t.admin_port || !seen.insert((p.from.clone(), target.clone())) {
            continue;
        }
        // Only where replication itself connects (else the link's verdict says it all).
        let towards =
            |q: &&crate::probes::Probe| q.from == p.from && w.targets(q, target) && q.port == t.replication_port;
        let repl_ok = w.probes.iter().filter(towards).any(|q| q.reached())
            || w.probes.iter().filter(towards).all(|q| q.reached());
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
                p.outcome.name()
            ),
            connectivity(&t.host(), &t.admin()),
        ];
        out.push(v);
    }
}
