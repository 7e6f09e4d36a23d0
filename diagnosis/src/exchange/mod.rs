//! Family `exchange` (Exchange 5.5 intersite directory replication): from
//! the directory-service event records (`events.log`) and the connectors
//! of `topology.toml`.
//!
//! Files, by job (new event ids are rows in [`events::classify`]; new rules
//! files here, called from [`run`]):
//! - [`events`]: the event records and what each says.
//! - [`schedule`]: connector schedules, weekly grids and detail views read.
//! - [`rules`]: what the rules share: sites, intervals, the messages-a-day figure.
//! - [`backlog`]: overloaded bridgeheads and missing replies.
//! - [`paging`]: a full reply whose follow-up never came.
//! - [`quadrupled`]: four activations an hour where one was meant.

pub mod backlog;
pub mod events;
pub mod paging;
pub mod quadrupled;
pub mod rules;
pub mod schedule;

use std::collections::BTreeMap;

use crate::case::{Case, Flavor};
use crate::catalog;
use crate::family::{Family, Input};
use crate::model::Verdict;
use crate::Options;
use events::Ev;
use rules::Ctx;

/// The `exchange` family for the engine.
pub const FAMILY: Family = Family { name: "exchange", present, diagnose: run };

/// A server folder of the exchange flavor (or of none) holds `events.log`.
pub fn present(case: &Case) -> bool {
    case.any_file(Flavor::Exchange, &[events::FILE])
}

fn run(case: &Case, input: &mut Input, _opts: &Options) -> Vec<Verdict> {
    let recs = events::read(case, &mut input.stats);
    let now = case.topology.as_ref().and_then(|t| t.collected_at).or_else(|| recs.last().map(|r| r.at));
    let Some(now) = now else { return Vec::new() };
    let ctx = Ctx::new(case, now, &recs);
    let mut out = Vec::new();
    backlog::overloaded_and_no_reply(&ctx, &recs, &mut out);
    paging::paging(&ctx, &recs, &mut out);
    quadrupled::quadrupled(&ctx, &recs, &mut out);
    if out.is_empty() {
        out.extend(healthy(&recs));
    }
    out
}

/// `exchange.healthy`, with the last reply each requester got back from
/// each partner as evidence; `None` when no reply shows health.
fn healthy(recs: &[events::Rec]) -> Option<Verdict> {
    let mut last: BTreeMap<(&str, &str), &events::Rec> = BTreeMap::new();
    for r in recs {
        if let Ev::ReplyBack { partner, .. } = &r.ev {
            last.insert((&r.computer, partner), r);
        }
    }
    if last.is_empty() {
        return None;
    }
    let mut v = Verdict::new("exchange.healthy", catalog::severity("exchange.healthy"));
    v.evidence = last.values().map(|r| r.evidence.clone()).collect();
    Some(v)
}
