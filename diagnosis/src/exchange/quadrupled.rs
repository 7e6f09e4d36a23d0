//! `exchange.schedule-quadrupled`: a connector that activates four times in
//! an hour where once was meant, the seed's trap: an hour block chosen in
//! the 1-hour detail view is four 15-minute activations.
//!
//! Suspect connectors: those set in the 1-hour view, and those whose
//! schedule says at most 24 a day. Their activations are read from the
//! requester's 1068 records: records less than [`GAP`] apart make one burst,
//! and a burst that asks for both contexts of a site (`/o=O/ou=S` and
//! `/o=O/ou=S/cn=Configuration`) is an activation (a follow-up for the next
//! 512 objects asks for one context). Four activations within an hour give
//! the verdict: a window from each activation, not the clock hour, so a
//! bridgehead that logs its 09:00 activation a little late still counts.

use std::collections::BTreeSet;

use time::Duration;

use super::events::{Ev, Rec};
use super::rules::{messages_a_day, Ctx};
use crate::catalog;
use crate::model::Verdict;

/// Records of one burst are less than this apart.
const GAP: Duration = Duration::minutes(2);

/// The first record of each activation of `bh`, in time order.
fn activations<'r>(recs: &'r [Rec], bh: &str) -> Vec<&'r Rec> {
    let mut out = Vec::new();
    let mut burst: Vec<&Rec> = Vec::new();
    let asks = recs.iter().filter(|r| r.computer.eq_ignore_ascii_case(bh) && matches!(r.ev, Ev::Ask { .. }));
    for r in asks {
        if burst.last().is_some_and(|last| r.at - last.at >= GAP) {
            out.extend(activation(&burst));
            burst.clear();
        }
        burst.push(r);
    }
    out.extend(activation(&burst));
    out
}

/// A burst's first record, when it asked for both contexts of a site.
fn activation<'r>(burst: &[&'r Rec]) -> Option<&'r Rec> {
    let asked: BTreeSet<&str> =
        burst.iter().filter_map(|r| if let Ev::Ask { nc, .. } = &r.ev { Some(nc.as_str()) } else { None }).collect();
    let both = asked.iter().any(|nc| asked.contains(format!("{nc}/cn=Configuration").as_str()));
    both.then(|| burst.first().copied()).flatten()
}

pub fn quadrupled(ctx: &Ctx, recs: &[Rec], out: &mut Vec<Verdict>) {
    let Some(t) = &ctx.case.topology else { return };
    for c in &t.connectors {
        let Some(bh) = &c.bridgehead else { continue };
        let schedule = ctx.schedule(bh);
        let one_hour_view = c.detail_view.as_deref() == Some("1h");
        let meant_hourly = one_hour_view || c.schedule.is_some_and(|s| s <= 24);
        if !meant_hourly {
            continue;
        }
        let activations = activations(recs, bh);
        let Some(hour) = activations.windows(4).find(|w| w[3].at - w[0].at < Duration::HOUR).map(|w| w.to_vec()) else {
            continue;
        };
        let day = hour[0].at.weekday();
        let meant = match schedule {
            Some(s) if one_hour_view => u64::from(s.meant_on(day)),
            _ => u64::from(c.schedule.unwrap_or(24)),
        };
        let n = ctx.sites(recs);
        let mut v = Verdict::new("exchange.schedule-quadrupled", catalog::severity("exchange.schedule-quadrupled"))
            .with_subject(&[("server", bh), ("site", &c.site)]);
        v.evidence = hour.iter().take(4).map(|r| r.evidence.clone()).collect();
        v.guidance = vec![
            format!(
                "The connector of site {} activates 4 times an hour at {bh}: an hour block chosen in the 1-hour detail view means every 15 minutes. Set the schedule in the 15-minute detail view",
                c.site
            ),
            format!(
                "With {n} sites that is {} messages a day instead of {} ({} activations a day instead of {meant})",
                messages_a_day(n, meant * 4),
                messages_a_day(n, meant),
                meant * 4
            ),
        ];
        out.push(v);
    }
}
