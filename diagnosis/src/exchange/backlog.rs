//! Overloaded bridgeheads and missing replies, from who handed what to whom
//! and who took it from their queue.
//!
//! A message for bridgehead X is handed over by its sender (a request: 1100
//! naming X; a reply: 1101 naming X) and taken from X's queue by X (1099).
//! With both ends' logs in the case, X's backlog is what was handed to it and
//! not yet taken. A flow from one sender that delivered nothing since its
//! oldest waiting message, for longer than the schedule interval, is dead (a
//! broken path, not a slow bridgehead) and is left out of X's backlog.
//!
//! - `exchange.bridgehead-overloaded`: X's backlog, sampled at each
//!   activation, grows (at least twice) and has not drained, while X still
//!   takes messages. Without X's own log, the same is read from one
//!   requester's unanswered requests to X (replies still arriving, late).
//! - `exchange.no-reply`: a requester's oldest unanswered request to a
//!   partner is older than the interval and no reply came since; not given
//!   for a partner found overloaded (the cause, not its symptom).

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use super::events::{Ev, Rec};
use super::rules::{hhmm, messages_a_day, schedule_name, Ctx, DEFAULT_ACTIVATIONS, SCHEDULES};
use crate::catalog;
use crate::model::Verdict;

/// Messages from one sender to one receiver: handed over, and taken.
#[derive(Debug, Default)]
struct Flow<'r> {
    handed: Vec<&'r Rec>,
    taken: Vec<&'r Rec>,
}

impl Flow<'_> {
    fn pending_at(&self, t: OffsetDateTime) -> usize {
        let handed = self.handed.iter().filter(|r| r.at < t).count();
        handed.saturating_sub(self.taken.iter().filter(|r| r.at <= t).count())
    }

    /// Nothing taken since the oldest message still waiting, for longer than `interval`.
    fn dead(&self, now: OffsetDateTime, interval: Duration) -> bool {
        let Some(oldest) = self.handed.get(self.taken.len()) else { return false };
        now - oldest.at > interval && self.taken.last().is_none_or(|t| t.at <= oldest.at)
    }
}

fn key(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// (sender, receiver, requests or replies) → flow, names lower case; only
/// what the logs show. Requests and replies are apart: one kind can be lost
/// while the other passes (a reply too large for a connector's size limit).
type Flows<'r> = BTreeMap<(String, String, bool), Flow<'r>>;

fn flows(recs: &[Rec]) -> Flows<'_> {
    let mut out: Flows = BTreeMap::new();
    for r in recs {
        let me = key(&r.computer);
        match &r.ev {
            Ev::Submitted { partner, .. } => out.entry((me, key(partner), true)).or_default().handed.push(r),
            Ev::Answered { requester } => out.entry((me, key(requester), false)).or_default().handed.push(r),
            Ev::Request { requester, .. } => out.entry((key(requester), me, true)).or_default().taken.push(r),
            Ev::ReplyBack { partner, .. } => out.entry((key(partner), me, false)).or_default().taken.push(r),
            _ => {}
        }
    }
    out
}

/// Grows at least twice from sample to sample and ends above where it began.
fn grows(series: &[usize]) -> bool {
    series.windows(2).filter(|w| w[1] > w[0]).count() >= 2
        && series.last().zip(series.first()).is_some_and(|(l, f)| l > f)
}

/// Per hour over `span`, when the span is long enough to tell.
fn per_hour(count: usize, span: Duration) -> Option<u64> {
    (span >= Duration::minutes(10)).then(|| (count as f64 * 3600.0 / span.as_seconds_f64()).round() as u64)
}

/// What the logs show of X's inbox.
struct Inbox<'r> {
    name: String,
    /// The bridgeheads whose messages wait: their schedules drive the load.
    senders: Vec<String>,
    backlog: Vec<usize>,
    waiting: Vec<&'r Rec>,
    /// Messages handed to it an hour, and taken by it an hour.
    demand: Option<u64>,
    handled: Option<u64>,
}

pub fn overloaded_and_no_reply(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    let flows = flows(recs);
    let names: BTreeMap<String, String> = recs.iter().map(|r| (key(&r.computer), r.computer.clone())).collect();
    let name = |k: &str| names.get(k).cloned().unwrap_or_else(|| k.to_ascii_uppercase());
    let mut overloaded = BTreeSet::new();
    for inbox in inboxes(ctx, &flows, &name).into_iter().chain(pair_inboxes(ctx, recs)) {
        if overloaded.insert(key(&inbox.name)) {
            out.push(overloaded_verdict(ctx, recs, &inbox));
        }
    }
    no_reply(ctx, recs, &flows, &overloaded, out);
}

/// Receivers whose log is in the case, from every logged sender's flow to them.
fn inboxes<'r>(ctx: &Ctx, flows: &Flows<'r>, name: &dyn Fn(&str) -> String) -> Vec<Inbox<'r>> {
    let receivers: BTreeSet<&String> = flows.keys().map(|(_, x, _)| x).filter(|x| ctx.has_log(x)).collect();
    let mut out = Vec::new();
    for x in receivers {
        let (senders, live): (Vec<String>, Vec<&Flow>) = flows
            .iter()
            .filter(|((s, r, _), f)| {
                let interval = ctx.interval(s).max(ctx.interval(r));
                r == x && ctx.has_log(s) && !f.dead(ctx.now, interval)
            })
            .map(|((s, _, _), f)| (name(s), f))
            .unzip();
        // Sample at each activation that asks X (the minutes of the 1100s naming it).
        let mut samples: Vec<OffsetDateTime> = live
            .iter()
            .flat_map(|f| f.handed.iter().filter(|r| matches!(r.ev, Ev::Submitted { .. })).map(|r| r.at))
            .collect();
        samples.sort();
        samples.dedup_by_key(|t| t.unix_timestamp() / 60);
        let backlog: Vec<usize> = samples.iter().map(|t| live.iter().map(|f| f.pending_at(*t)).sum()).collect();
        let waiting: Vec<&Rec> = live.iter().flat_map(|f| f.handed.iter().skip(f.taken.len()).copied()).collect();
        if !grows(&backlog) || waiting.is_empty() {
            continue;
        }
        // Rates over the later half of the samples, where the backlog grows
        // (a schedule raised mid-way brings its load from then on).
        let (first, last) = (samples[samples.len() / 2], samples[samples.len() - 1]);
        let handed = live.iter().map(|f| f.handed.iter().filter(|r| r.at >= first && r.at < last).count()).sum();
        let taken = live.iter().map(|f| f.taken.iter().filter(|r| r.at >= first).count()).sum();
        out.push(Inbox {
            name: name(x),
            senders,
            backlog,
            waiting,
            demand: per_hour(handed, last - first),
            handled: per_hour(taken, ctx.now - first),
        });
    }
    out
}

/// Partners without a log of their own: a requester's unanswered requests
/// to them grow across its activations while late replies still come.
fn pair_inboxes<'r>(ctx: &Ctx, recs: &'r [Rec]) -> Vec<Inbox<'r>> {
    type Pair<'r> = (Vec<&'r Rec>, Vec<&'r Rec>);
    let mut pairs: BTreeMap<(String, String), Pair> = BTreeMap::new();
    for r in recs {
        match &r.ev {
            Ev::Submitted { partner, .. } => pairs.entry((r.computer.clone(), partner.clone())).or_default().0.push(r),
            Ev::ReplyBack { partner, .. } => pairs.entry((r.computer.clone(), partner.clone())).or_default().1.push(r),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for ((requester, partner), (asked, answered)) in pairs {
        if ctx.has_log(&partner) {
            continue;
        }
        let mut activations: Vec<OffsetDateTime> = asked.iter().map(|a| a.at).collect();
        activations.dedup_by_key(|t| t.unix_timestamp() / 60);
        let backlog: Vec<usize> = activations
            .iter()
            .map(|t| {
                let before = asked.iter().filter(|a| a.at < *t).count();
                before.saturating_sub(answered.iter().filter(|b| b.at <= *t).count())
            })
            .collect();
        let waiting: Vec<&Rec> = asked.iter().skip(answered.len()).copied().collect();
        let still_answering = match (waiting.first(), answered.last()) {
            (Some(oldest), Some(last)) => last.at > oldest.at || ctx.now - oldest.at <= ctx.interval(&partner),
            _ => false,
        };
        if grows(&backlog) && backlog.last().is_some_and(|b| *b > 0) && still_answering {
            out.push(Inbox { name: partner, senders: vec![requester], backlog, waiting, demand: None, handled: None });
        }
    }
    out
}

fn overloaded_verdict(ctx: &Ctx, recs: &[Rec], inbox: &Inbox) -> Verdict {
    let x = &inbox.name;
    // The most frequent schedule among it and those sending to it.
    let f = std::iter::once(x)
        .chain(&inbox.senders)
        .filter_map(|b| ctx.activations(b))
        .max()
        .unwrap_or(DEFAULT_ACTIVATIONS);
    let n = ctx.sites(recs);
    let proposed = match (inbox.demand, inbox.handled) {
        // The most frequent schedule whose demand fits what X handled.
        (Some(d), Some(h)) if d > 0 => {
            SCHEDULES.iter().map(|(p, _)| *p).find(|p| *p < f && d * p <= h * f).unwrap_or(1)
        }
        _ if f > DEFAULT_ACTIVATIONS => DEFAULT_ACTIVATIONS,
        _ => (f / 2).max(1),
    };
    let mut v = Verdict::new("exchange.bridgehead-overloaded", catalog::severity("exchange.bridgehead-overloaded"))
        .with_subject(&[("server", x), ("site", &ctx.site(x))]);
    v.evidence = inbox.waiting.iter().rev().take(5).rev().map(|r| r.evidence.clone()).collect();
    let first = inbox.backlog.first().copied().unwrap_or(0);
    let last = inbox.backlog.last().copied().unwrap_or(0);
    let mut why = format!(
        "The bridgehead {x} falls behind: messages for it pile up across activations ({first} waiting at the first of {} activations, {last} at the last, {} still waiting now)",
        inbox.backlog.len(),
        inbox.waiting.len()
    );
    if let (Some(d), Some(h)) = (inbox.demand, inbox.handled) {
        why.push_str(&format!("; the schedule brings it {d} messages an hour and it took in {h} an hour"));
    }
    v.guidance = vec![
        why,
        format!(
            "Make the connector schedule less frequent (the default is every 3 hours; the most is 4 an hour): with {n} sites the organization sends {} messages a day at {}, {} at {}",
            messages_a_day(n, f),
            schedule_name(f),
            messages_a_day(n, proposed),
            schedule_name(proposed)
        ),
        format!("Or move directory replication to a less loaded bridgehead than {x}, or give {x} more capacity"),
    ];
    v
}

fn no_reply(ctx: &Ctx, recs: &[Rec], flows: &Flows, overloaded: &BTreeSet<String>, out: &mut Vec<Verdict>) {
    type Pair<'r> = (Vec<&'r Rec>, Vec<&'r Rec>);
    let mut pairs: BTreeMap<(String, String), Pair> = BTreeMap::new();
    for r in recs {
        match &r.ev {
            Ev::Submitted { partner, .. } => pairs.entry((r.computer.clone(), partner.clone())).or_default().0.push(r),
            Ev::ReplyBack { partner, .. } => pairs.entry((r.computer.clone(), partner.clone())).or_default().1.push(r),
            _ => {}
        }
    }
    for ((requester, partner), (asked, answered)) in pairs {
        if overloaded.contains(&key(&partner)) {
            continue;
        }
        let interval = ctx.interval(&requester);
        let unanswered: Vec<&Rec> = asked.iter().skip(answered.len()).copied().collect();
        let Some(oldest) = unanswered.first() else { continue };
        let silent = answered.last().is_none_or(|a| a.at <= oldest.at);
        if ctx.now - oldest.at <= interval || !silent {
            continue;
        }
        let mut v = Verdict::new("exchange.no-reply", catalog::severity("exchange.no-reply")).with_subject(&[
            ("server", &requester),
            ("site", &ctx.site(&requester)),
            ("peer", &partner),
        ]);
        v.evidence = unanswered.iter().take(5).map(|r| r.evidence.clone()).collect();
        v.guidance = vec![format!(
            "{requester} asked {partner} for updates {} time(s) since {} without a reply for longer than the schedule interval ({} minutes): check the messaging path (MTA, site connector) to {partner}",
            unanswered.len(),
            hhmm(oldest.at),
            interval.whole_minutes()
        )];
        if ctx.has_log(&partner) {
            v.guidance.push(direction(flows, &requester, &partner, oldest.at));
        }
        v.guidance.push(format!("Check that the directory service on {partner} runs and that its message queues move"));
        out.push(v);
    }
}

/// Which way the messages are lost, from the partner's own log.
fn direction(flows: &Flows, requester: &str, partner: &str, since: OffsetDateTime) -> String {
    let to_partner = flows.get(&(key(requester), key(partner), true));
    let arrived = to_partner.is_some_and(|f| f.taken.iter().any(|t| t.at >= since));
    let back = flows.get(&(key(partner), key(requester), false));
    let answered = back.is_some_and(|f| f.handed.iter().any(|h| h.at >= since));
    match (arrived, answered) {
        (true, true) => format!(
            "{partner}'s log shows the requests arriving and answered (1099, 1101): the replies are lost on the way back, from {partner} to {requester}"
        ),
        (true, false) => format!("{partner}'s log shows the requests arriving (1099) but no reply submitted (1101): look at {partner}'s directory service"),
        _ => format!(
            "{partner}'s log shows none of these requests arriving (no 1099 from {requester} since {}): they are lost on the way from {requester} to {partner}",
            hhmm(since)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_needs_two_rises_and_an_end_above_the_start() {
        assert!(grows(&[0, 3, 6]));
        assert!(!grows(&[0, 0, 0, 0]));
        assert!(!grows(&[0, 2, 0, 2, 0]), "ends where it began");
        assert!(!grows(&[0, 5]));
    }
}
