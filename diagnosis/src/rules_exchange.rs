//! Family `exchange`: intersite directory replication from the
//! directory-service event records (`events.log`, as Event Viewer saves them:
//! tab-delimited Date, Time, Source, Type, Category, Event, User, Computer,
//! Description) and the connectors of `topology.toml`.

use std::collections::BTreeMap;

use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::case::{for_each_line, Case};
use crate::catalog;
use crate::guidance::exchange_messages_a_day;
use crate::model::{Evidence, ReadStats, Verdict};
use crate::textmatch::captures;

/// Activations a day when nothing says otherwise (every 3 hours).
const DEFAULT_ACTIVATIONS: u64 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    /// 1068 at the requester.
    Ask { nc: String, partner: String },
    /// 1100 at the requester.
    Submitted { partner: String, nc: String },
    /// 1099 back at the requester.
    ReplyBack { partner: String, nc: String },
    /// 1099 at the responder.
    Request { requester: String, nc: String },
    /// 1071 at the responder.
    Retrieved { more: bool },
    /// 1101 at the responder.
    Answered { requester: String },
}

#[derive(Debug, Clone)]
struct Rec {
    at: OffsetDateTime,
    computer: String,
    ev: Ev,
    evidence: Evidence,
}

fn parse_when(date: &str, time_of_day: &str) -> Option<OffsetDateTime> {
    let mut d = date.split('/');
    let (m, day, y) = (d.next()?.parse::<u8>().ok()?, d.next()?.parse::<u8>().ok()?, d.next()?.parse::<i32>().ok()?);
    let mut t = time_of_day.split(':');
    let (h, mi, s) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?, t.next().unwrap_or("0").parse().ok()?);
    Some(
        Date::from_calendar_date(y, Month::try_from(m).ok()?, day)
            .ok()?
            .with_time(Time::from_hms(h, mi, s).ok()?)
            .assume_utc(),
    )
}

fn classify(id: &str, text: &str) -> Option<Ev> {
    let t = text.trim();
    let c = |tpl: &str| captures(tpl, t);
    match id {
        "1068" => c("Ask for updates for naming context %s from %s (options %s).")
            .map(|v| Ev::Ask { nc: v[0].into(), partner: v[1].into() }),
        "1100" => c("-> Message submitted to %s requesting updates for %s.")
            .map(|v| Ev::Submitted { partner: v[0].into(), nc: v[1].into() }),
        "1099" => c("<- Message received back from the remote directory %s for %s.")
            .map(|v| Ev::ReplyBack { partner: v[0].into(), nc: v[1].into() })
            .or_else(|| {
                c("<- Message received from requesting directory %s for %s.")
                    .map(|v| Ev::Request { requester: v[0].into(), nc: v[1].into() })
            }),
        "1071" => Some(Ev::Retrieved { more: t.contains("More objects remain") }),
        "1101" => c("-> Message submitted back to the requesting connector %s.")
            .map(|v| Ev::Answered { requester: v[0].into() }),
        _ => None,
    }
}

fn read(case: &Case, stats: &mut ReadStats) -> Vec<Rec> {
    let mut out = Vec::new();
    for server in &case.servers {
        let rel = Case::rel(server, "events.log");
        for_each_line(case, &rel, stats, |n, line, stats| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 9 {
                if !line.trim().is_empty() {
                    stats.unknown(&rel);
                }
                return;
            }
            let Some(at) = parse_when(f[0], f[1]) else {
                if f[0] != "Date" {
                    stats.unknown(&rel);
                }
                return;
            };
            if let Some(ev) = classify(f[5].trim(), f[8]) {
                out.push(Rec {
                    at,
                    computer: f[7].trim().to_owned(),
                    ev,
                    evidence: Evidence { file: rel.clone(), line: n, text: line.to_owned() },
                });
            }
        });
    }
    out.sort_by_key(|r| r.at);
    out
}

struct Ctx<'a> {
    case: &'a Case,
    now: OffsetDateTime,
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

pub fn diagnose(case: &Case, stats: &mut ReadStats) -> Vec<Verdict> {
    let recs = read(case, stats);
    let any_log = case.servers.iter().any(|s| case.exists(&Case::rel(s, "events.log")));
    if !any_log {
        return Vec::new();
    }
    let now = case.topology.as_ref().and_then(|t| t.collected_at).or_else(|| recs.last().map(|r| r.at));
    let Some(now) = now else {
        return vec![Verdict::new("exchange.healthy", catalog::severity("exchange.healthy"))];
    };
    let ctx = Ctx { case, now };
    let mut out = Vec::new();
    overloaded_and_no_reply(&ctx, &recs, &mut out);
    paging(&ctx, &recs, &mut out);
    quadrupled(&ctx, &recs, &mut out);
    if out.is_empty() {
        out.push(Verdict::new("exchange.healthy", catalog::severity("exchange.healthy")));
    }
    out
}

fn overloaded_and_no_reply(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
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
                    exchange_messages_a_day(n, f),
                    exchange_messages_a_day(n, proposed)
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

fn paging(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
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

fn quadrupled(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
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
                    exchange_messages_a_day(n, meant * 4),
                    exchange_messages_a_day(n, meant)
                ),
            ];
            out.push(v);
        }
    }
}
