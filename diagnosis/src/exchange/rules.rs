//! The exchange rules: a bridgehead that falls behind, a request without
//! reply, a full reply without a follow-up, a schedule that runs four times
//! an hour where once was meant.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::events::{Ev, Rec};
use crate::case::Case;
use crate::catalog;
use crate::model::Verdict;

/// Activations a day when nothing says otherwise (every 3 hours).
const DEFAULT_ACTIVATIONS: u64 = 8;

/// Messages a day across an Exchange 5.5 organization: N × ((N−1) × 2 × F × 2).
pub fn messages_a_day(sites: u64, activations: u64) -> u64 {
    sites * (sites.saturating_sub(1) * 2 * activations * 2)
}

#[derive(Debug)]
pub struct Ctx<'a> {
    pub case: &'a Case,
    pub now: OffsetDateTime,
}

impl Ctx<'_> {
    fn site(&self, computer: &str) -> String {
        let t = self.case.topology.as_ref();
        t.and_then(|t| t.servers.iter().find(|s| s.name.eq_ignore_ascii_case(computer)).and_then(|s| s.site.clone()))
            .or_else(|| {
                t.and_then(|t| {
                    t.connectors
                        .iter()
                        .find(|c| c.bridgehead.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(computer)))
                        .map(|c| c.site.clone())
                })
            })
            .unwrap_or_else(|| computer.trim_start_matches("BH-").to_owned())
    }

    /// Activations a day of the connector whose bridgehead is `computer`.
    fn activations(&self, computer: &str) -> Option<u64> {
        let t = self.case.topology.as_ref()?;
        let c =
            t.connectors.iter().find(|c| c.bridgehead.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(computer)))?;
        c.schedule.map(u64::from)
    }

    fn interval(&self, computer: &str) -> Duration {
        Duration::minutes(24 * 60 / self.activations(computer).unwrap_or(DEFAULT_ACTIVATIONS).max(1) as i64)
    }

    fn sites(&self, recs: &[Rec]) -> u64 {
        let mut sites = std::collections::BTreeSet::new();
        if let Some(t) = &self.case.topology {
            sites.extend(t.servers.iter().filter_map(|s| s.site.clone()));
            sites.extend(t.connectors.iter().map(|c| c.site.clone()));
            for c in &t.connectors {
                sites.extend(c.inbound_sites.iter().cloned());
            }
        }
        if sites.is_empty() {
            sites.extend(recs.iter().map(|r| self.site(&r.computer)));
        }
        sites.len() as u64
    }
}

pub fn overloaded_and_no_reply(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    // Requests submitted by each requester to each partner, and their replies, in order.
    // (requester, partner) → (requests, replies).
    type Exchanges<'r> = (Vec<&'r Rec>, Vec<&'r Rec>);
    let mut pairs: BTreeMap<(String, String), Exchanges> = BTreeMap::new();
    for r in recs {
        match &r.ev {
            Ev::Submitted { partner, .. } => pairs.entry((r.computer.clone(), partner.clone())).or_default().0.push(r),
            Ev::ReplyBack { partner, .. } => pairs.entry((r.computer.clone(), partner.clone())).or_default().1.push(r),
            _ => {}
        }
    }
    for ((requester, partner), (asked, answered)) in pairs {
        let interval = ctx.interval(&requester);
        // Backlog (asked − answered) at the start of each activation (the
        // requests of one activation share a minute): growing across three
        // or more activations means the partner cannot keep up.
        let mut activations: Vec<OffsetDateTime> = asked.iter().map(|a| a.at).collect();
        activations.dedup_by_key(|t| t.unix_timestamp() / 60);
        let backlog_at: Vec<usize> = activations
            .iter()
            .map(|t| {
                let before = asked.iter().filter(|a| a.at < *t).count();
                before.saturating_sub(answered.iter().filter(|b| b.at <= *t).count())
            })
            .collect();
        let growing =
            backlog_at.windows(2).filter(|w| w[1] > w[0]).count() >= 2 && backlog_at.last().is_some_and(|b| *b > 0);
        let unanswered: Vec<&&Rec> = asked.iter().skip(answered.len()).collect();
        let overdue = unanswered.first().is_some_and(|r| ctx.now - r.at > interval);
        if growing {
            let f = ctx.activations(&requester).unwrap_or(DEFAULT_ACTIVATIONS);
            let n = ctx.sites(recs);
            let proposed = if f > DEFAULT_ACTIVATIONS { DEFAULT_ACTIVATIONS } else { (f / 2).max(1) };
            let mut v =
                Verdict::new("exchange.bridgehead-overloaded", catalog::severity("exchange.bridgehead-overloaded"))
                    .with_subject(&[("server", &partner), ("site", &ctx.site(&partner)), ("peer", &requester)]);
            v.evidence = unanswered.iter().take(5).map(|r| r.evidence.clone()).collect();
            v.guidance = vec![
                format!(
                    "The bridgehead {partner} falls behind: requests from {requester} pile up across activations ({} unanswered at the last one)",
                    backlog_at.last().copied().unwrap_or(0)
                ),
                format!(
                    "Make the connector schedule less frequent (the default is every 3 hours; the most is 4 an hour): with {n} sites the organization sends {} messages a day at {f} activations a day, {} at {proposed}",
                    messages_a_day(n, f),
                    messages_a_day(n, proposed)
                ),
                format!("Or move the connector to a less loaded bridgehead than {partner}"),
            ];
            out.push(v);
        } else if overdue {
            let mut v = Verdict::new("exchange.no-reply", catalog::severity("exchange.no-reply")).with_subject(&[
                ("server", &requester),
                ("site", &ctx.site(&requester)),
                ("peer", &partner),
            ]);
            v.evidence = unanswered.iter().take(5).map(|r| r.evidence.clone()).collect();
            v.guidance = vec![
                format!(
                    "{requester} asked {partner} for updates {} time(s) without a reply for longer than the schedule interval ({} minutes): check the messaging path (MTA, site connector) to {partner}",
                    unanswered.len(),
                    interval.whole_minutes()
                ),
                format!("Check that the directory service on {partner} runs and that its message queues move"),
            ];
            out.push(v);
        }
    }
}

pub fn paging(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    // At a responder: the request a 1071 answers is the last 1099 from a requester before it.
    let mut last_request: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (i, r) in recs.iter().enumerate() {
        match &r.ev {
            Ev::Request { requester, nc } => {
                last_request.insert(&r.computer, (requester, nc));
            }
            Ev::Retrieved { more: true } => {
                let Some((requester, nc)) = last_request.get(r.computer.as_str()).copied() else { continue };
                let followed = recs[i + 1..].iter().any(|x| {
                    (x.computer == r.computer
                        && matches!(&x.ev, Ev::Request { requester: q, nc: n } if q == requester && n == nc))
                        || (x.computer == requester
                            && matches!(&x.ev, Ev::Submitted { partner, nc: n } if *partner == r.computer && n == nc))
                });
                if followed || ctx.now - r.at < Duration::minutes(1) {
                    continue;
                }
                let mut v = Verdict::new("exchange.paging-stalled", catalog::severity("exchange.paging-stalled"))
                    .with_subject(&[("server", requester), ("site", &ctx.site(requester)), ("peer", &r.computer)]);
                v.evidence.push(r.evidence.clone());
                v.guidance = vec![format!(
                    "{} announced more than the 512 objects of its reply for {nc}, and {requester} never asked for the rest: check the requesting bridgehead {requester}'s queue",
                    r.computer
                )];
                out.push(v);
            }
            _ => {}
        }
    }
}

pub fn quadrupled(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    let Some(t) = &ctx.case.topology else { return };
    for c in &t.connectors {
        let Some(bh) = &c.bridgehead else { continue };
        let meant_hourly = c.detail_view.as_deref() == Some("1h") || c.schedule.is_some_and(|s| s <= 24);
        if !meant_hourly {
            continue;
        }
        // Distinct activation minutes per hour at this bridgehead.
        let mut per_hour: BTreeMap<i64, std::collections::BTreeSet<i64>> = BTreeMap::new();
        let mut evidence = Vec::new();
        for r in recs.iter().filter(|r| r.computer.eq_ignore_ascii_case(bh) && matches!(r.ev, Ev::Ask { .. })) {
            let minute = r.at.unix_timestamp() / 60;
            if per_hour.entry(minute / 60).or_default().insert(minute) && evidence.len() < 4 {
                evidence.push(r.evidence.clone());
            }
        }
        if per_hour.values().any(|m| m.len() >= 4) {
            let n = ctx.sites(recs);
            let meant = c.schedule.map(u64::from).unwrap_or(24);
            let mut v = Verdict::new("exchange.schedule-quadrupled", catalog::severity("exchange.schedule-quadrupled"))
                .with_subject(&[("server", bh), ("site", &c.site)]);
            v.evidence = evidence;
            v.guidance = vec![
                format!(
                    "The connector of site {} activates 4 times an hour at {bh}: an hour block chosen in the 1-hour detail view means every 15 minutes. Set the schedule in the 15-minute detail view",
                    c.site
                ),
                format!(
                    "With {n} sites that is {} messages a day instead of {}",
                    messages_a_day(n, meant * 4),
                    messages_a_day(n, meant)
                ),
            ];
            out.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_messages_a_day_table() {
        assert_eq!(messages_a_day(10, 8), 2880);
        assert_eq!(messages_a_day(20, 8), 12160);
        assert_eq!(messages_a_day(30, 8), 27840);
    }
}
