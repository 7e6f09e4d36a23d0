//! `exchange.paging-stalled`: a reply announced more objects than the 512 it
//! carried (1071 `… More objects remain.` at the responder) and the
//! requester never asked for the next set: no further request for that
//! context reached the responder, and the requester's own log (when in the
//! case) submitted none. A reply the requester never received is left to
//! `exchange.no-reply`. One verdict per requester and responder.

use std::collections::BTreeMap;

use time::Duration;

use super::events::{Ev, Rec};
use super::rules::{hhmm, Ctx};
use crate::catalog;
use crate::model::{Evidence, Verdict};

/// A follow-up may still be on its way this soon after the reply.
const GRACE: Duration = Duration::minutes(1);

pub fn paging(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    // (requester, responder) → stalled contexts and their evidence.
    let mut stalled: BTreeMap<(String, String), (Vec<String>, Vec<Evidence>)> = BTreeMap::new();
    // At a responder, the request a 1071 answers is its last 1099 from a requester before it.
    let mut last_request: BTreeMap<&str, (&str, &str, usize)> = BTreeMap::new();
    let mut asked_so_far: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    for r in recs {
        match &r.ev {
            Ev::Request { requester, nc } => {
                let k = asked_so_far.entry((&r.computer, requester, nc)).or_default();
                *k += 1;
                last_request.insert(&r.computer, (requester, nc, *k));
            }
            Ev::Retrieved { more: true, .. } => {
                let Some((requester, nc, k)) = last_request.get(r.computer.as_str()).copied() else { continue };
                if ctx.now - r.at < GRACE {
                    continue;
                }
                let responder = r.computer.as_str();
                // A later request from the requester reached the responder.
                let reached = recs.iter().filter(|x| {
                    same(&x.computer, responder)
                        && matches!(&x.ev, Ev::Request { requester: q, nc: n } if same(q, requester) && n == nc)
                });
                if reached.count() > k {
                    continue;
                }
                let mut received_at = None;
                if ctx.has_log(requester) {
                    let at_requester = |x: &&Rec| same(&x.computer, requester);
                    let submitted = recs
                        .iter()
                        .filter(at_requester)
                        .filter(|x| matches!(&x.ev, Ev::Submitted { partner, nc: n } if same(partner, responder) && n == nc))
                        .count();
                    if submitted > k {
                        continue;
                    }
                    let replies: Vec<&Rec> = recs
                        .iter()
                        .filter(at_requester)
                        .filter(|x| matches!(&x.ev, Ev::ReplyBack { partner, nc: n } if same(partner, responder) && n == nc))
                        .collect();
                    match replies.get(k - 1) {
                        Some(got) => received_at = Some(*got),
                        // The reply never arrived: no paging to stall.
                        None => continue,
                    }
                }
                let entry = stalled.entry((requester.to_owned(), responder.to_owned())).or_default();
                entry.0.push(match received_at {
                    Some(got) => format!(
                        "{responder} announced more than the 512 objects of its reply for {nc} ({}); {requester} received it (1099 at {}) and has not asked for the rest since",
                        hhmm(r.at),
                        hhmm(got.at)
                    ),
                    None => format!(
                        "{responder} announced more than the 512 objects of its reply for {nc} ({}), and {requester} never asked for the rest",
                        hhmm(r.at)
                    ),
                });
                entry.1.push(r.evidence.clone());
                if let Some(got) = received_at {
                    entry.1.push(got.evidence.clone());
                }
            }
            _ => {}
        }
    }
    for ((requester, responder), (steps, evidence)) in stalled {
        let mut v = Verdict::new("exchange.paging-stalled", catalog::severity("exchange.paging-stalled"))
            .with_subject(&[("server", &requester), ("site", &ctx.site(&requester)), ("peer", &responder)]);
        v.evidence = evidence.into_iter().take(6).collect();
        v.guidance = steps;
        v.guidance.push(format!(
            "Check the requesting bridgehead {requester}'s queue: it asks for the next set only once it has applied the last one (a large refresh can keep it busy); if it stays stuck, restart its directory service and Request Now from {responder}'s site"
        ));
        out.push(v);
    }
}
