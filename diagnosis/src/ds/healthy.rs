//! `ds.healthy`, given only with evidence of health: every link and every
//! DS connection the case shows is up at its end, and there is at least one
//! accepted connection to name. Its evidence is the last accept of each
//! link (206, else the 205 of its initiator) and of each DS (207, else the
//! DS's 62).

use std::collections::BTreeMap;

use super::ds_links::DsLinks;
use super::links::{is_up, LinkEvent, LinkKey};
use crate::catalog;
use crate::model::Verdict;

/// The healthy verdict, or `None` when nothing shows health (or something
/// expected never came up).
pub fn verdict(links: &BTreeMap<LinkKey, Vec<LinkEvent>>, ds: &DsLinks) -> Option<Verdict> {
    let mut evidence = Vec::new();
    for events in links.values() {
        if !is_up(events) {
            // Expected but never seen, where nothing can tell it failed: not evidence of health.
            return None;
        }
        let run = events.iter().rposition(|e| !e.up).map_or(0, |i| i + 1);
        let up = &events[run..];
        let best = up.iter().rev().find(|e| e.accept).or_else(|| up.last());
        evidence.extend(best.map(|e| e.evidence.clone()));
    }
    for events in ds.values() {
        let run = events.iter().rposition(|e| !e.up).map_or(0, |i| i + 1);
        // (An ended DS link with no verdict belongs to a stopped server.)
        let accepted = events[run..].iter().rev().find(|e| e.accept);
        evidence.extend(accepted.or(events[run..].last()).map(|e| e.evidence.clone()));
    }
    if evidence.is_empty() {
        return None;
    }
    let mut v = Verdict::new("ds.healthy", catalog::severity("ds.healthy"));
    v.evidence = evidence;
    Some(v)
}
