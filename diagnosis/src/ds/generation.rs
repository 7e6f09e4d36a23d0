//! `ds.generation-id-mismatch`: an RS reports that a peer or a DS holds
//! another generation id for a domain (77, and the peer's 79 carrying it;
//! 146, 135, 136, 80, 81; 96 on the DS; 131 "Bad generation id"). A data problem:
//! the guidance is to reinitialize, never to open a firewall. A later DS
//! handshake with matching ids clears it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::guidance::reinit;
use super::messages::Kind;
use super::world::World;
use crate::case::TopoServer;
use crate::catalog;
use crate::model::{Evidence, Verdict};

pub fn verdicts(w: &World, out: &mut Vec<Verdict>) {
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
                Kind::DsStatus { ds, domain, status } if status == "Bad generation id" => {
                    found.entry((w.ds_name_of(ds), domain.clone())).or_default().push((e.at, e.evidence.clone()));
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
